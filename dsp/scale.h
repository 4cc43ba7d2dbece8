/*
 * Blind estimate of the frequency scale and the time scale of a stream, over
 * PM_SCALE_MIN .. PM_SCALE_MAX each (speed: both; tempo: time only; pitch:
 * frequency only), for the detector to centre its local search grid on.
 *
 * The power spectra of the stream's first PM_EST_WINDOWS analysis windows are
 * kept (in 16 bits), or fewer when the estimate is sure earlier. For each window and each coarse frequency scale, the band edges are
 * multiplied by the scale, the chip values are formed as in the sync search
 * (sync.h), and each key's sync chips are correlated at every coarse time
 * scale and every second phase (pm_sync_table, pm_sync_z_all). Each state carries
 * its z along the phase path its time scale predicts into the next window (as
 * the detector's tracker does); the best state of any key after the last window
 * is the estimate. The coarse steps are half the local grid's reach, so
 * the local search around the estimate covers the estimate's error.
 */
#ifndef PM_SCALE_H
#define PM_SCALE_H
#include "layout.h"

#define PM_SCALE_MIN 0.80
#define PM_SCALE_MAX 1.25
#define PM_EST_NF 23      /* coarse frequency scales, equal ratios (2.05 %) */
#define PM_EST_NT 46      /* coarse time scales, equal ratios (1.0 %) */
#define PM_EST_PSTEP 2    /* every second phase (half a tile) */
#define PM_EST_WINDOWS 6  /* windows of the stream's start searched at most (35.6 s) */
#define PM_EST_SURE 8.0f  /* a score that ends the search early (noise in music reaches ~8: a saving only) */

#include "sync.h"
/* The local grid searched around an estimate: +-1 % in frequency and in time, which
 * covers the estimate's error (half a coarse step) and the local search's tolerance. */
#define PM_EST_GRID ((pm_grid){PM_N_FSCALE / 2 - 1, PM_N_FSCALE / 2 + 2, PM_N_TSCALE / 2 - 2, PM_N_TSCALE / 2 + 3})

typedef struct pm_scale_est pm_scale_est;

/* For an STFT of size nfft at `rate`; NULL when out of memory. */
pm_scale_est *pm_scale_est_new(double rate, int nfft, int n_keys);
void pm_scale_est_free(pm_scale_est *e);
/* Forget the stream. */
void pm_scale_est_reset(pm_scale_est *e);
/* Free the kept spectra once the estimate is used (kept again from the next push). */
void pm_scale_est_release(pm_scale_est *e);
/* 1 if the local grid centred on (1, 1) covers an estimate (fscale, tscale) and its error. */
int pm_scale_in_grid(double fscale, double tscale);
/*
 * Keep one step's power spectrum (nfft / 2 + 1 bins) and search each window as
 * soon as it is complete. Returns 1 once the estimate is made (the span is full, or
 * the score reached PM_EST_SURE after two windows; then call pm_scale_est_result),
 * 0 before, 1 for every later call without keeping anything; -1 when out of memory.
 */
int pm_scale_est_push(pm_scale_est *e, const float *power, const pm_layout *const *layouts, int n_keys);
/* Search what is kept of a last, shorter window (at the end of a short stream). */
void pm_scale_est_flush(pm_scale_est *e, const pm_layout *const *layouts, int n_keys);
/* The estimate: scales (1, 1 before any window), and its score. */
void pm_scale_est_result(const pm_scale_est *e, double *fscale, double *tscale, float *score);
/* How many spectra are kept, of bins [*kmin, *kmax). */
int pm_scale_est_rows(const pm_scale_est *e, int *kmin, int *kmax);
/* Kept spectrum i, into out[0 .. kmax - kmin). */
void pm_scale_est_row(const pm_scale_est *e, int i, float *out);
/* Coarse scale i of n, from PM_SCALE_MIN to PM_SCALE_MAX in equal ratios. */
double pm_scale_coarse(int i, int n);
#endif
