/*
 * One pass over an audio file: the watermark detector and the fingerprint
 * extractor, either or both, fed from the one audio reader. Used by detect,
 * trace and dataset fingerprint.
 */
#ifndef PM_CLI_ANALYSE_H
#define PM_CLI_ANALYSE_H
#include "audio.h"
#include "fingerprint.h"
#include "provmark.h"

/* A query's landmarks: triplets near a quantisation step also probe across it (fp_probe_neighbours). */
#define FINGERPRINT_QUERY 2

typedef struct analysis_opts {
    const pm_key *keys; /* NULL: no watermark detection */
    int n_keys;
    int fingerprint;    /* 1: extract the landmarks (for an index); FINGERPRINT_QUERY: for a query */
    audio_decoder dec;
    double max_ms;      /* > 0: give up (an error) once the file has taken that long */
    const uint32_t (*expect)[2]; /* (model, dataset) pairs expected under every key (pm_detector_expect()) */
    size_t n_expect;
} analysis_opts;

typedef struct analysis {
    pm_result r;        /* all zero when no detection was asked for or it failed */
    int n_marks;        /* every mark of the file, strongest first (marks[0] is r's) */
    pm_mark marks[PM_MAX_MARKS];
    uint8_t recognised[PM_MAX_MARKS]; /* marks[i] was recognised as an expected pair, not decoded */
    uint8_t formats[PM_MAX_MARKS];    /* marks[i]'s format versions (pm_detector_mark_formats) */
    double duration;    /* seconds of audio read */
    int rate, channels;
    fp_landmark *lm;    /* with opts.fingerprint: the landmarks (free with analysis_free) */
    size_t n_lm;
    long elapsed_ms;
    char sha256[2 * crypto_hash_sha256_BYTES + 1]; /* of the file read, in hex; empty for stdin */
    long long size;     /* its size in bytes */
    char error[AUDIO_ERR]; /* empty, or why the file could not be analysed */
    char truncated[AUDIO_ERR]; /* empty, or why the file holds less than it states (audio_in.truncated) */
} analysis;

/* 0, or -1 with the reason (one line, without the path) in a->error. */
int analyse_file(const char *path, const analysis_opts *opts, analysis *a);
void analysis_free(analysis *a);
#endif
