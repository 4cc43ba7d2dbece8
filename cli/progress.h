/*
 * A status line for long runs over many items, on stderr only when it is a
 * terminal (logs and pipes stay clean): "\rWHAT k/n, ETA hh:mm:ss".
 */
#ifndef PM_CLI_PROGRESS_H
#define PM_CLI_PROGRESS_H
#include <stddef.h>

typedef struct progress {
    const char *what; /* e.g. "marked" */
    size_t n;
    double t0;
    int on;           /* stderr is a terminal */
} progress;

void progress_start(progress *p, const char *what, size_t n);
/* done items of n: rewrite the line; the last one ends it. Not thread-safe: call under a lock. */
void progress_update(progress *p, size_t done);
#endif
