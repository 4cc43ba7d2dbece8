/* provmark: the command line; each command is in the file named for it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "provmark.h"

static const char usage_main[] =
    "usage: provmark COMMAND [OPTIONS]\n"
    "\n"
    "Keyed, inaudible provenance watermark carrying a model ID and a dataset ID.\n"
    "\n"
    "commands:\n"
    "  embed [-r] IN OUT --model N --dataset N [--key FILE] [--strength S] [--no-verify]\n"
    "  detect [--json] [-r] [-j N] [--key FILE]... FILE|DIR...\n"
    "  keygen FILE\n"
    "  dataset init|add|fingerprint MANIFEST ...   document a training set in tiers\n"
    "  trace [--json] [--registry REG] [--dataset MANIFEST] FILE...\n"
    "  manifest --model N --dataset N --registry REG   C2PA-shaped provenance record\n"
    "\n"
    "'provmark COMMAND --help' describes a command.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("provmark %s\n", pm_version_string());
        return 0;
    }
    argc--;
    argv++;
    if (!strcmp(cmd, "embed"))
        return cmd_embed(argc, argv);
    if (!strcmp(cmd, "detect"))
        return cmd_detect(argc, argv);
    if (!strcmp(cmd, "keygen"))
        return cmd_keygen(argc, argv);
    if (!strcmp(cmd, "dataset"))
        return cmd_dataset(argc, argv);
    if (!strcmp(cmd, "trace"))
        return cmd_trace(argc, argv);
    if (!strcmp(cmd, "manifest"))
        return cmd_manifest(argc, argv);
    fprintf(stderr, "provmark: unknown command '%s' (see 'provmark --help')\n", cmd);
    return EXIT_ERROR;
}
