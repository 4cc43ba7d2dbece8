/*
 * The HTML scan report: one self-contained file (polyglot HTML5/XHTML with inline
 * SVG and CSS, no script,
 * no network) with a summary table and, per file, a timeline of where the mark
 * was found and how strongly (opacity and tooltip give the score). File sections are written as results arrive, so memory does not
 * grow with the number of files; the report appears at its path only when complete.
 */
#ifndef PM_CLI_REPORT_H
#define PM_CLI_REPORT_H
#include <jansson.h>

#include "analyse.h"
#include "provmark.h"

typedef struct report report;

/* NULL after one line on stderr. */
report *report_open(const char *path);
/*
 * One file's result and its marks (each with its own colour on the timeline and a
 * legend); error is NULL or a message; registry may be NULL; matches is
 * NULL or provmark trace's JSON array of reproduced training items (shown on the
 * timeline and as a table).
 */
void report_add(report *r, const char *file, const pm_result *res, const pm_mark *marks, int n_marks,
                double duration,
                const char *error, const json_t *registry, const json_t *matches);
/* Write the summary and move the report into place; -1 after one line on stderr. */
int report_close(report *r);
#endif
