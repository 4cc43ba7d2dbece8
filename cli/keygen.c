/* provmark keygen: a new random key in a new file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_keygen[] =
    "usage: provmark keygen FILE\n"
    "\n"
    "Write a new random 256-bit key to FILE (mode 0600). Never overwrites.\n";

int cmd_keygen(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_keygen, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "provmark: keygen needs exactly one FILE (see 'provmark keygen --help')\n");
        return EXIT_ERROR;
    }
    pm_key key;
    int rc = pm_key_generate(&key);
    if (rc == PM_OK)
        rc = pm_key_save(&key, argv[1]);
    if (rc != PM_OK) {
        say("%s: %s%s%s", argv[1], pm_strerror(rc),
                rc == PM_ERR_IO ? ": " : "", rc == PM_ERR_IO ? strerror(errno) : "");
        return EXIT_ERROR;
    }
    char fp[17];
    pm_key_fingerprint(&key, fp);
    say("wrote key %s (fingerprint %s); keep it secret", argv[1], fp);
    return 0;
}

