/*
 * Analyse many files with a pool of worker threads and hand the results over in
 * input order. A worker never runs more than a few files ahead of the consumer,
 * so memory stays bounded however many files are scanned.
 */
#ifndef PM_CLI_SCAN_H
#define PM_CLI_SCAN_H
#include <stddef.h>

#include "analyse.h"

/* One file's result, in input order; a is NULL when its record could not be allocated. */
typedef void (*scan_result)(void *ctx, size_t i, const char *path, const analysis *a);

/* Analyse paths[0..n) with `jobs` threads (at least one is used). 0, or -1 after one line. */
int scan_files(char *const *paths, size_t n, long jobs, const analysis_opts *opts, scan_result fn,
               void *ctx);
#endif
