/*
 * Third-party libraries' chatter on stderr: libmpg123 (inside libsndfile) writes
 * its own notes and warnings about damaged MP3 frames ("[src/libmpg123/...] error:
 * dequantization failed!", "Note: Trying to resync...") straight to file descriptor
 * 2. provmark's stderr goes through a filter process that passes every line but
 * those and ends with one line saying what they were about. A process, not a
 * thread: if provmark dies, the filter still delivers everything written before
 * (a sanitizer's report included) and exits.
 */
#ifndef PM_CLI_CHATTER_H
#define PM_CLI_CHATTER_H
#include <stdio.h>

/* Put the filter in front of stderr (before any thread is started); on failure stderr stays as it is. */
void chatter_start(void);
/*
 * The real stderr, past the filter (stderr when there is none): for what must keep
 * its place among the lines on stdout (the progress line and its clearing, a file's
 * error beside its result line). Unbuffered.
 */
FILE *chatter_err(void);
/* 1 if the real stderr is a terminal (isatty(2) is false once the filter is in front of it). */
int chatter_stderr_tty(void);
/* 1 if the real stderr and stdout are the same terminal. */
int chatter_same_terminal(void);
#endif
