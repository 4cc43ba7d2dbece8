/*
 * provmark report: results (JSON lines of detect or trace, one file or many: a
 * resumed scan, the pieces of a multi-machine scan) merged into one set, one
 * record per file, written as the HTML report (html.h) and summarised on the
 * terminal or as one JSON object (docs/report.schema.json). detect --report and
 * trace --report go through the same path with their own results.
 */
#ifndef PM_CLI_REPORT_H
#define PM_CLI_REPORT_H
#include <jansson.h>
#include <stdio.h>

/*
 * Refuse an HTML report path that cannot be written (its folder missing or not
 * writable, the path a folder), so that a scan is not run for nothing, or that holds
 * the results (one of `results`, or the file stdout writes to), which the report
 * would replace: 0, or -1 after one line on stderr.
 */
int report_check_path(const char *path, char *const *results, int n_results);

/* Results read so far: every record, in reading order, and where they came from. */
typedef struct report_input {
    json_t *records; /* array */
    json_t *sources; /* array of {"name", "records", "modified"} */
    size_t skipped;  /* lines that are not result records (a cut-off last line) */
    char **only;     /* NULL, or the files (sorted by strcmp) whose records are kept: others are passed over */
    size_t n_only;
} report_input;

/* Read the JSON lines of f, named `name` in the report (f's time of change is shown). 0, or -1 after one line. */
int report_read(report_input *in, FILE *f, const char *name);
/*
 * Merge the records read (one per file, by its exact bytes: a record without an
 * error replaces one with, otherwise the later one wins), sorted by file name; write
 * the HTML report to html_path (NULL: none) and return the summary object in
 * *summary. `command` is the command line shown in the header, `registry` NULL or the
 * registry file used. The exit status the records call for (0 every file marked, 1
 * some file not marked, 2 some file could not be read), or -1 after one line.
 */
int report_finish(report_input *in, const char *html_path, const char *command, const char *registry,
                  json_t **summary);
void report_input_free(report_input *in);
/* The command line as one shell-quoted string (malloc'd; NULL when out of memory). */
char *report_command_line(int argc, char **argv);
/* The summary for people, a few lines on f. */
void report_print_summary(FILE *f, const json_t *summary);
#endif
