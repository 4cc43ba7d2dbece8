/*
 * The stream folded on the payload period. A mark repeats every period with
 * the same map, so where its alignment holds still (no speed change: codecs,
 * added noise, a quiet or weak mark) the chip values of the whole stream can
 * be summed modulo the period and read as one period: the evidence of every
 * window adds up coherently, where the sync search of single windows sees a
 * mark too weak to stand out from chance alignments.
 *
 * An alignment (phase) of the folded period is scored by its sync chips and
 * by how well the repeated chips of each coded bit agree with one another
 * (their sum's square, which needs no knowledge of the payload: the data
 * chips are seven eighths of the evidence). Both statistics are normalised by
 * the folded values themselves, given which the keyed chip signs are fair
 * coins: music that repeats with the period folds coherently too, and would
 * otherwise look like a mark.
 */
#ifndef PM_FOLD_H
#define PM_FOLD_H
#include "format.h"
#include "layout.h"
#include "sync.h"

/* Best distinct phases offered for decoding; phases within a unit (PM_UNIT_STEPS) are one
 * alignment. The sum is of one geometry's chip values, scored with a layout of it. */
#define PM_FOLD_KEEP 2

typedef struct pm_fold {
    int n_bands;
    double tau; /* the mark's position advances by tau steps per detector step */
    float sum[PM_PHASES][PMF_MAX_BANDS];
} pm_fold;

typedef struct pm_fold_cand {
    double tau;  /* the fold's */
    int phase;   /* as pm_candidate.phase, for windows starting at a multiple of the period */
    float score; /* sync z plus the repetition z */
    float soft[PMF_CODED_BITS];
} pm_fold_cand;

void pm_fold_init(pm_fold *f, int n_bands, double tau);
/* Add the prepared chip values of stream step `step` (n_bands values). */
void pm_fold_add(pm_fold *f, long step, const float *row);
/* The best distinct phases for the key's map, best first; returns how many (<= max). */
int pm_fold_best(const pm_fold *f, const pm_layout *L, pm_fold_cand *out, int max);

#endif
