/*
 * provmark embed: one file (embed.c), or a folder tree into another (embed_tree.c).
 */
#ifndef PM_CLI_EMBED_H
#define PM_CLI_EMBED_H
#include <stdint.h>

#include "audio.h"
#include "provmark.h"

typedef struct embed_opts {
    const char *in_path, *out_path, *key_path;
    uint32_t model, dataset;
    float strength;
    int mark_version;   /* format version written (PM_FORMAT_MIN .. PM_FORMAT_MAX) */
    int verify, recursive;
    long jobs;          /* -r: worker threads */
    const char *format; /* -r: the outputs' extension (NULL: each input's own) */
    audio_decoder dec;
} embed_opts;

/* What embedding a file gave: the mark level, and the verification of the output. */
typedef struct embedded {
    double level;
    pm_status verify_status; /* of decoding the output; PM_OK also when not verified */
    pm_result r;             /* the decoded output (with verification) */
    int tags;                /* string tags of the input */
    char lost[96];           /* those the output does not hold, "copyright, license" (or empty) */
    int resampled_from;      /* the input's rate when the output was resampled (Opus), else 0 */
    int truncated;           /* 1: the input held less than its header states (the output has what it held) */
} embedded;

/*
 * Mark o->in_path into o->out_path (atomically), carrying the input's string tags
 * over and resampling to 48 kHz when the output is Opus at a rate Opus cannot code;
 * then decode the output (o->verify). 0, or -1 after one line on stderr.
 */
int embed_file(const embed_opts *o, const pm_key *key, embedded *res);
/* Whether the output is known to carry the mark: verification ran and found o's IDs. */
int embed_verified(const embed_opts *o, const embedded *res);
/* embed -r: every audio file below o->in_path into the same relative path below o->out_path. */
int embed_tree(const embed_opts *o, const pm_key *key);
#endif
