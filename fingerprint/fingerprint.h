/*
 * libpmfp: the audio fingerprint engine of tier 3 of the dataset documentation
 * (docs/DATASETS.md), a library of its own beside libprovmark.
 *
 * Extraction: landmarks, i.e. pairs of spectral peaks hashed with their
 * frequencies and time gap (the same recording), and triplets hashed with what a
 * transposition or a re-timing leaves unchanged (a copy in another key or at
 * another tempo). Frames and bins are defined in seconds and hertz
 * (64 ms frames, 32 ms apart, bins 15.625 Hz wide), so every sample rate gives
 * the same landmarks; peaks survive lossy coding, gain, resampling and moderate
 * noise.
 *
 * The index (docs/FPINDEX.md, normative): every item's landmarks sorted by hash,
 * so that a query is a binary search per landmark; little-endian, versioned,
 * checksummed (BLAKE2b-256), used in place through mmap. A query (query.c for the
 * pairs, transform.c for the triplets) reports each match with its E-value.
 *
 * Nothing here prints or writes files: failures are returned (with a reason
 * where there is one) and the caller reports them.
 */
#ifndef PM_FINGERPRINT_H
#define PM_FINGERPRINT_H
#include <stddef.h>
#include <stdint.h>

#define FP_HOP_SECONDS 0.032
#define FP_WIN_SECONDS 0.064

/*
 * Two kinds of landmark (docs/FPINDEX.md, "Entry table"):
 * - a pair (bit 31 clear): 8 bits the first peak's bin, 8 bits the second's, 6 bits
 *   their frame gap. It matches the same recording only.
 * - a triplet (bit 31 set): three peaks, hashed by what a transposition (all
 *   frequencies times one factor) and a re-timing (all times times one factor) leave
 *   unchanged: the frequency ratios and the ratio of the time gaps, in FP_TRI_CODE_BITS
 *   (bits 16-30); below them the first peak's frequency in quarter bins (bits 6-15)
 *   and the span of the three in frames (bits 0-5), from which a query's hits estimate
 *   the transposition and the tempo. A query looks a triplet up by its code only.
 */
typedef struct fp_landmark {
    uint32_t hash;
    uint32_t t;    /* frame of the first peak */
} fp_landmark;

#define FP_TRIPLET 0x80000000u
#define FP_TRI_CODE_SHIFT 16 /* the invariant code: hash >> 16 (with bit 31) */
#define FP_TRI_FREQ(h) (((h) >> 6) & 0x3ffu) /* first peak, quarter bins (4 per 15.625 Hz) */
#define FP_TRI_SPAN(h) ((h) & 63u)           /* frames from the first peak to the third */
#define FP_IS_TRIPLET(h) (((h) & FP_TRIPLET) != 0)

typedef struct fp_extractor fp_extractor;

/* NULL if out of memory or the rate is unusable (< 8 kHz). */
fp_extractor *fp_new(double rate);
/*
 * For a query: every triplet whose invariant values lie near a quantisation step
 * also gives the code across that step, so that a transposed or re-timed copy whose
 * values moved slightly still meets the index's code. Never for an index.
 */
void fp_probe_neighbours(fp_extractor *x);
void fp_free(fp_extractor *x);
/* Feed interleaved audio; 0, or -1 if out of memory. */
int fp_push(fp_extractor *x, const float *in, size_t frames, int channels);
/* Finish and hand over the landmarks, sorted by t (caller frees *out). 0 or -1. */
int fp_finish(fp_extractor *x, fp_landmark **out, size_t *n);

/* ------------------------------------------------------------ the index */

#define FPX_MAGIC "PMFPIDX\0"
#define FPX_VERSION 2     /* written; version 1 (pairs only) is still read */
#define FPX_MIN_VERSION 1
/* Where the header's size and checksum fields lie (docs/FPINDEX.md), for tools that craft indexes. */
#define FPX_HEADER_SIZE 104
#define FPX_FILE_SIZE_AT 56
#define FPX_CHECKSUM_AT 72
/*
 * The largest landmark frame an index holds or a query uses: 2^30 frames of
 * FP_HOP_SECONDS (397 days), so that any difference of two frames fits an int32.
 * fpx_open refuses an index with a later frame or a longer item; fpx_query ignores
 * query landmarks past it.
 */
#define FPX_MAX_FRAME (1u << 30)

/* What the writer is given per item. */
typedef struct fpx_item_in {
    const char *path;      /* as in the manifest */
    double duration;
    fp_landmark *lm;
    size_t n;
} fpx_item_in;

/* The bytes of an index of these items (*buf malloc'd, *size bytes). 0, or -1 if out of memory. */
int fpx_build(const fpx_item_in *items, uint32_t n_items, uint8_t **buf, size_t *size);

typedef struct fpx fpx;
/* Map and check an index; NULL with *why (a static one-line reason) on failure. */
fpx *fpx_open(const char *path, const char **why);
void fpx_close(fpx *x);
uint32_t fpx_items(const fpx *x);
const char *fpx_item_path(const fpx *x, uint32_t item);
double fpx_item_duration(const fpx *x, uint32_t item);
uint64_t fpx_entries(const fpx *x);
/* The content checksum from the header (verified by fpx_open), as lower-case hex. */
void fpx_checksum_hex(const fpx *x, char hex[65]);

/* One excerpt of an indexed item found in a query. Times in seconds. */
typedef struct fpx_match {
    uint32_t index; /* which of the indexes queried holds the item (fpx_query_set; 0 for fpx_query) */
    uint32_t item;  /* in that index */
    double query_start, query_end, item_start, item_end;
    int landmarks;       /* landmarks agreeing on this alignment */
    double score;        /* landmarks per second of the matched span */
    /*
     * log10 of the E-value: the number of alignments at least this strong that
     * unrelated music would give against this index (docs/FPINDEX.md, "Significance").
     * As a logarithm because a real match is often below 1e-300.
     */
    double log10_evalue;
    /* 1: the item's most significant alignment for this part of the query; 2, 3, ...:
     * other statements of the same passage in the item (music repeats), in order. */
    int rank;
    /*
     * How the query differs from the item: pitch, the factor of its frequencies
     * (1.0595 = a semitone up), and tempo, the item's seconds per second of the query
     * (1.1 = played 10 % faster). 1 and 1 for a match of the same recording's
     * landmark pairs; other values come from triplets (a transposed or re-timed copy).
     */
    double pitch, tempo;
} fpx_match;

/*
 * When a match is reported: its E-value, worked out for an index of
 * catalogue_hours (or the real index where that is larger), is at most
 * false_rate, the expected number of false matches per query at that size.
 */
typedef struct fpx_query_opts {
    double false_rate, catalogue_hours;
} fpx_query_opts;
#define FPX_FALSE_RATE 1e-6
#define FPX_CATALOGUE_HOURS 1e5
/* The largest catalogue_hours taken (1e12 hours: 114 million years of audio; larger is a typing error). */
#define FPX_MAX_CATALOGUE_HOURS 1e12
/*
 * 0 when opts can be used: false_rate above 0 and at most 1 (more than one false
 * match per query is no test), catalogue_hours from 0 to FPX_MAX_CATALOGUE_HOURS; else -1.
 */
int fpx_query_opts_check(const fpx_query_opts *opts);
#define FPX_MAX_RANK 4 /* statements of one passage of one item reported at most */

/*
 * The bounds of a query, whatever the index holds: a hash with more than
 * FPX_STOP_HASH entries is ignored (it names no item); at most FPX_MAX_HITS index
 * entries are compared (12 bytes each, the rarest hashes first); at most
 * FPX_MAX_MATCHES matches are returned.
 */
#define FPX_STOP_HASH 16384u
#define FPX_MAX_HITS (1u << 21)
#define FPX_MAX_MATCHES 1000u
/*
 * Matches of a query's landmarks (sorted by t), most significant first; *out is
 * malloc'd. opts NULL: FPX_FALSE_RATE at FPX_CATALOGUE_HOURS. 0, or -1 with errno
 * ENOMEM (out of memory) or EINVAL (opts refused by fpx_query_opts_check).
 */
int fpx_query(const fpx *x, const fp_landmark *lm, size_t n, const fpx_query_opts *opts, fpx_match **out,
              size_t *n_out);
/*
 * The same over n_x indexes (shards, built separately) queried as one catalogue:
 * the matches, their E-values and their order are those of one index holding the
 * items of x[0], then x[1], ... (docs/FPINDEX.md, "Shards"); each match names its
 * index (fpx_match.index). Memory is bounded by the query, not by n_x or the
 * indexes. -1 with EINVAL also when n_x is 0 or the indexes hold 2^32 items or more.
 */
int fpx_query_set(const fpx *const *x, size_t n_x, const fp_landmark *lm, size_t n, const fpx_query_opts *opts,
                  fpx_match **out, size_t *n_out);
/* log10 of P(X >= k) for X Poisson with mean lambda (> 0): the chance model of a query. */
double fpx_log10_poisson_tail(double lambda, int k);
#endif
