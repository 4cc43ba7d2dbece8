/* provmark: the command line; each command is in the file named for it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chatter.h"
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
    "  keygen FILE | keygen --show FILE   new key | a key's public fingerprint\n"
    "  dataset init|add|fingerprint MANIFEST ...   document a training set in tiers\n"
    "  trace [--json] [--registry REG] [--dataset MANIFEST] FILE...\n"
    "  manifest --model N --dataset N --registry REG   C2PA-shaped provenance record\n"
    "  report [-o REPORT.html] [--json] RESULTS.jsonl...   merge results, summary, HTML\n"
    "\n"
    "'provmark help COMMAND' (or 'provmark COMMAND --help') describes a command;\n"
    "'provmark -V' (--version) prints the version.\n";

/* Run the command named cmd: 1 with its exit status in *status, or 0 when there is none of that name. */
static int dispatch(const char *cmd, int argc, char **argv, int *status)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"embed", cmd_embed},     {"detect", cmd_detect}, {"keygen", cmd_keygen},
                    {"dataset", cmd_dataset}, {"trace", cmd_trace},   {"manifest", cmd_manifest},
                    {"report", cmd_report}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) {
            *status = commands[i].run(argc, argv);
            return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    opterr = 0; /* getopt would print a bad option raw: each command names it through say() */
    int status;
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") && argc > 2) { /* provmark help CMD: CMD's own help */
        char *help_argv[] = {argv[2], "--help", NULL};
        if (strcmp(argv[2], "help") != 0 && dispatch(argv[2], 2, help_argv, &status))
            return status;
        say("unknown command '%s' (see 'provmark --help')", argv[2]);
        return EXIT_ERROR;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("provmark %s\n", pm_version_string());
        return 0;
    }
    chatter_start(); /* libmpg123's notes on stderr filtered out from here on */
    if (dispatch(cmd, argc - 1, argv + 1, &status))
        return status;
    say("unknown command '%s' (see 'provmark --help')", cmd);
    return EXIT_ERROR;
}
