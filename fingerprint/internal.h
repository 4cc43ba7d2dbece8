/*
 * libpmfp's internals, shared by the index file (index.c), the catalogue and the
 * query of pairs (query.c) and the query of triplets (transform.c). Not installed.
 */
#ifndef PM_FP_INTERNAL_H
#define PM_FP_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

/* On-disk layout (docs/FPINDEX.md), little-endian; the checksum (BLAKE2b-256) covers every byte after the header. */
typedef struct fpx_header {
    char magic[8];
    uint32_t version, n_items;
    uint64_t n_entries, items_off, strings_off, strings_size, entries_off, file_size;
    double hop_seconds;
    uint8_t checksum[32];
} fpx_header;
typedef struct fpx_item {
    uint64_t path_off;
    uint32_t path_len, reserved;
    double duration;
} fpx_item;
typedef struct fpx_entry {
    uint32_t hash, item, t;
} fpx_entry;
_Static_assert(sizeof(fpx_header) == FPX_HEADER_SIZE && offsetof(fpx_header, file_size) == FPX_FILE_SIZE_AT &&
                   offsetof(fpx_header, checksum) == FPX_CHECKSUM_AT,
               "header layout");
_Static_assert(sizeof(fpx_item) == 24, "item layout");
_Static_assert(sizeof(fpx_entry) == 12, "entry layout");

/*
 * Music agrees with music more often than independent votes would: the Poisson
 * tail's logarithm is taken at this fraction, as measured on unrelated real music
 * (bench/chance.sh, docs/FPINDEX.md "Significance").
 */
#define CLUMPING 0.8

struct fpx {
    const uint8_t *map;
    size_t size;
    const fpx_header *h;
    const fpx_item *items;
    const char *strings;
    const fpx_entry *entries;
    /* Per item: the frames its landmarks span (last - first + 1; 0 for none), the length the chance model uses. */
    uint32_t *extent;
};

typedef struct hit {
    uint32_t item;  /* in the catalogue: the items of the indexes queried, one after the other */
    int32_t offset; /* item frame - query frame */
    uint32_t qi;    /* the query landmark (its frame and hash); landmarks are sorted by frame */
    uint32_t hash;  /* the index entry's (a triplet's differs from the query's below its code) */
} hit;

/* The indexes of one query as one catalogue: item numbers run on from one index to the next. */
typedef struct catalogue {
    const fpx *const *x;
    size_t n;
    uint32_t *base; /* the catalogue number of each index's first item */
} catalogue;

/* What the chance model needs to know about one query against one catalogue. */
typedef struct chance {
    double tests;       /* alignments tried: offset cells of GROUP_WIDTH frames, over all items */
    double log10_scale; /* log10 of (the reference catalogue's tests / tests), >= 0 */
    double log10_limit; /* log10 of the false-match rate a reported match meets */
    double query_frames;
} chance;

typedef struct matches {
    fpx_match *v;
    size_t n, cap;
    uint32_t *scratch; /* the hashes of one span */
} matches;

/* The frames the landmarks of catalogue item `item` span. */
double fpq_item_frames(const catalogue *cat, uint32_t item);
/* The hits of a query's pairs (triplets 0) or triplets (1); see query.c. */
hit *fpq_hits_of(const catalogue *cat, const fp_landmark *lm, size_t n, int triplets, size_t max_hits, size_t *nh_out);
/* Room for one more match at the end of m (NULL: out of memory). */
fpx_match *fpq_new_match(matches *m);
/* qsort orders: matches most significant first (one order whatever qsort does with ties); u32 ascending. */
int fpq_by_significance(const void *a, const void *b);
int fpq_cmp_u32(const void *a, const void *b);
/* Matches from the query's triplets, appended to m after those of its pairs; 0 or -1 (out of memory). */
int fpq_transformed(const catalogue *cat, const fp_landmark *lm, size_t n, const chance *c, matches *m);
#endif
