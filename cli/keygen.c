/* provmark keygen: a new random key in a new file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_keygen[] =
    "usage: provmark keygen FILE\n"
    "       provmark keygen --show FILE\n"
    "\n"
    "Write a new random 256-bit key to FILE (mode 0600). Never overwrites.\n"
    "--show prints the public fingerprint of the key in FILE (the \"key\" of detect's\n"
    "results): it names the key without revealing it.\n";

int cmd_keygen(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_keygen, stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--show") == 0) {
        pm_key key;
        char fp[17];
        if (load_key(argv[2], &key) != 0)
            return EXIT_ERROR;
        pm_key_fingerprint(&key, fp);
        printf("%s%s\n", fp, pm_key_is_demo(&key) ? " (the public demo key)" : "");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        say("keygen needs exactly one FILE (see 'provmark keygen --help')");
        return EXIT_ERROR;
    }
    pm_key key;
    int rc = pm_key_generate(&key);
    if (rc == PM_OK)
        rc = pm_key_save(&key, argv[1]);
    if (rc != PM_OK) {
        const int err = errno;
        if (rc == PM_ERR_IO)
            say("cannot write the key %s: %s%s", argv[1], strerror(err), err == ENOENT ? " (does its folder exist?)" : "");
        else
            say("cannot write the key %s: %s", argv[1], pm_strerror(rc));
        return EXIT_ERROR;
    }
    char fp[17];
    pm_key_fingerprint(&key, fp);
    say("wrote key %s (fingerprint %s); keep it secret", argv[1], fp);
    return 0;
}

