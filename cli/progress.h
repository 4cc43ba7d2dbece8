/*
 * The status line of long runs over many items, on the real stderr and only when
 * it is a terminal (logs and pipes stay clean):
 * "\rprovmark: WHAT k/n[, DETAIL], ETA hh:mm:ss". Whatever else is printed while
 * it shows clears it first (progress_clear), so no line starts in its middle.
 */
#ifndef PM_CLI_PROGRESS_H
#define PM_CLI_PROGRESS_H
#include <stddef.h>

typedef struct progress {
    const char *what; /* e.g. "marked" */
    size_t n;
    double t0;
    int on;    /* the real stderr is a terminal */
    int erase; /* 1: the last update clears the line (the results are the output); 0: it ends the line */
} progress;

void progress_start(progress *p, const char *what, size_t n, int erase);
/* done items of n, with an optional detail: rewrite the line. Not thread-safe: call under a lock. */
void progress_update(progress *p, size_t done, const char *detail);
/* Clear the line (when on), so that the next line starts on a clean line. */
void progress_clear(const progress *p);
/* Clear whatever status line is showing (say() does, before its message). */
void progress_hide(void);
#endif
