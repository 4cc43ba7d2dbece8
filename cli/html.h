/*
 * The HTML report of a set of results (provmark report, detect --report, trace
 * --report): one self-contained file, valid as HTML5 and as XML (polyglot), with
 * inline CSS and SVG-free HTML timelines, a small inline script for sorting and
 * filtering the table (the page is complete without it), no external resource.
 * Layout: a header recording the scan, a demo-key banner, a summary (counts, by
 * model and dataset), a table of every file, a timeline per file with a mark or a
 * reproduced training item, then the files without a mark and the errors.
 */
#ifndef PM_CLI_HTML_H
#define PM_CLI_HTML_H
#include <jansson.h>
#include <stdio.h>

/* What the header says about where the results came from. */
typedef struct html_meta {
    const char *title;    /* "provmark scan report" or "provmark trace report" */
    const char *command;  /* the command line that made the report */
    json_t *sources;      /* array of {"name", "records", "modified"} (the JSON-lines files read) */
    const char *registry; /* NULL, or "PATH (sha256 HEX)" */
    size_t skipped;       /* lines of the sources that were not records (a cut-off last line) */
} html_meta;

/*
 * Write the report of `records` (result objects of docs/result.schema.json or
 * docs/trace.schema.json, one per file, in the order to show) to f; `summary` is
 * report.c's summary object (docs/report.schema.json). -1 on a write error.
 */
int html_write(FILE *f, const json_t *records, const json_t *summary, const html_meta *m);
#endif
