/*
 * The fingerprint index file of a dataset (docs/DATASETS.md, "Tier 3"): every
 * item's landmarks, sorted by hash so that a query is a binary search per
 * landmark; little-endian, versioned, checksummed (BLAKE2b-256), used in
 * place through mmap.
 */
#ifndef PM_CLI_FPINDEX_H
#define PM_CLI_FPINDEX_H
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

#define FPX_MAGIC "PMFPIDX\0"
#define FPX_VERSION 1

/* What the writer is given per item. */
typedef struct fpx_item_in {
    const char *path;      /* as in the manifest */
    double duration;
    fp_landmark *lm;
    size_t n;
} fpx_item_in;

/* Write an index atomically (temporary file, then rename). 0, or -1 after one line. */
int fpx_write(const char *path, const fpx_item_in *items, uint32_t n_items);

typedef struct fpx fpx;
/* Map and check an index; NULL after one line naming what is wrong. */
fpx *fpx_open(const char *path);
void fpx_close(fpx *x);
uint32_t fpx_items(const fpx *x);
const char *fpx_item_path(const fpx *x, uint32_t item);
double fpx_item_duration(const fpx *x, uint32_t item);
uint64_t fpx_entries(const fpx *x);
/* The content checksum from the header (verified by fpx_open), as lower-case hex. */
void fpx_checksum_hex(const fpx *x, char hex[65]);

/* One excerpt of an indexed item found in a query. Times in seconds. */
typedef struct fpx_match {
    uint32_t item;
    double query_start, query_end, item_start, item_end;
    int landmarks; /* landmarks agreeing on this alignment */
    double score;  /* landmarks per second of the matched span */
} fpx_match;

/* Matches of a query's landmarks (sorted by t), strongest first; *out is malloc'd. 0 or -1. */
int fpx_query(const fpx *x, const fp_landmark *lm, size_t n, fpx_match **out, size_t *n_out);
#endif
