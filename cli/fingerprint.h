/*
 * Audio fingerprints for tier 3 of the dataset documentation (docs/DATASETS.md):
 * landmarks, i.e. pairs of spectral peaks hashed with their frequencies and
 * time gap. Frames and bins are defined in seconds and hertz (64 ms frames,
 * 32 ms apart, bins 15.625 Hz wide), so every sample rate gives the same
 * landmarks; peaks survive lossy coding, gain, resampling and moderate noise.
 */
#ifndef PM_CLI_FINGERPRINT_H
#define PM_CLI_FINGERPRINT_H
#include <stddef.h>
#include <stdint.h>

#define FP_HOP_SECONDS 0.032
#define FP_WIN_SECONDS 0.064

typedef struct fp_landmark {
    uint32_t hash; /* 8 bits first peak's bin, 8 bits second's, 6 bits frame gap */
    uint32_t t;    /* frame of the first peak */
} fp_landmark;

typedef struct fp_extractor fp_extractor;

/* NULL if out of memory or the rate is unusable (< 8 kHz). */
fp_extractor *fp_new(double rate);
void fp_free(fp_extractor *x);
/* Feed interleaved audio; 0, or -1 if out of memory. */
int fp_push(fp_extractor *x, const float *in, size_t frames, int channels);
/* Finish and hand over the landmarks, sorted by t (caller frees *out). 0 or -1. */
int fp_finish(fp_extractor *x, fp_landmark **out, size_t *n);
#endif
