/*
 * Perceptual shaping: how deep each band of a frame may be modulated.
 *
 * The mark in a band is the band's own content scaled by the depth d, so its
 * energy is d^2 * e. Per frame, the mark's total energy is a fixed fraction
 * (RATIO) of the frame's whole energy, spread evenly in energy over the bands
 * (d ~ (e / mean)^-1/2, so weak bands are modulated deeper): detection gains
 * as much from a weak band as from a strong one, at a fraction of the added
 * energy. Two ceilings keep it inaudible: a simple masking model over the
 * whole spectrum (1-Bark bands spread at -25 dB/Bark downwards and -10 dB/Bark
 * upwards, less a masking offset) bounds each band's mark energy relative to
 * its masking threshold (NMR), and no depth exceeds MAX. Silence carries no
 * mark.
 */
#ifndef PM_SHAPING_H
#define PM_SHAPING_H
#include "format.h"

#define PM_SHAPE_NBARK 25
/* Mark-to-signal energy ratio per frame at strength 1 (dB). */
#define PM_SHAPE_RATIO_DB (-27.8f)
/* Ceiling: mark energy in a band relative to its masking threshold (dB). */
#define PM_SHAPE_NMR_DB 0.0f
/* Masking offset below the spread masker energy (dB). */
#define PM_SHAPE_OFFSET_DB 12.0f
/* Largest relative depth of a band at strength 1. */
#define PM_SHAPE_MAX 0.7f
/* A frame in which a quarter has this many times the energy of the quietest
 * quarter before it holds an onset: its depth is scaled by sqrt(ratio / jump)
 * so the mark does not smear into the quiet before the onset (pre-echo). */
#define PM_PREECHO_RATIO 4.0
/* Hard cap whatever the strength, so a band's gain stays positive. */
#define PM_SHAPE_LIMIT 0.9f

typedef struct pm_shaper {
    int nbins, n_bands;
    unsigned char *bark_of_bin;                       /* nbins */
    float spread[PM_SHAPE_NBARK][PM_SHAPE_NBARK];     /* masker -> maskee gain */
    /* Band b spans Bark bands first_bark[b] .. first_bark[b] + 2, with these bin counts. */
    unsigned char first_bark[PMF_MAX_BANDS];
    float overlap[PMF_MAX_BANDS][3];
    float bins_in_bark[PM_SHAPE_NBARK];
} pm_shaper;

/* Tables for an FFT of size nfft at `rate` over the band plan bins lo/hi; 0 on success. */
int pm_shaper_init(pm_shaper *s, double rate, int nfft, const int *lo, const int *hi, int n_bands);
void pm_shaper_destroy(pm_shaper *s);
/*
 * power[nbins]: the frame's power spectrum (summed over channels);
 * band[n_bands]: the band energies. Writes depth[n_bands] >= 0.
 */
void pm_shaper_depths(const pm_shaper *s, const float *power, const float *band, float strength,
                      float *depth);
#endif
