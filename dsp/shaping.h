/*
 * Perceptual shaping: how deep each band of a frame may be modulated.
 *
 * The mark in a band is the band's own content scaled by +-d, so it follows
 * the music's partials and its level in time; to a listener it is a slow
 * level modulation of the band (the chips flip every tile, ~11 Hz), and the
 * ear is most sensitive to exactly that. Measured with an independent model
 * (PEAQ), the modulation depth is what is heard, far more than the added
 * energy, so the depth has three ceilings, the smallest of which applies:
 *
 * 1. Modulation: a fixed level swing per band (MOD_DB at 1 kHz, rising
 *    gently with frequency, MOD_TILT), the same in loud and quiet passages.
 *    Giving weak bands more depth, or fluctuating passages more, was
 *    measured and costs more audibility than it gains detection.
 * 2. Masking: the mark's energy stays below a masking threshold computed
 *    per frame from the music: maskers per Bark band with Johnston's
 *    offsets (a tonal masker hides noise 14.5 + z dB below it, a noise-like
 *    one 5.5 dB below; tonality from spectral peaks), spread across bands
 *    (-25 dB/Bark downwards, -10 dB/Bark upwards), never below the threshold
 *    in quiet, and held after loud frames with a forward-masking decay.
 * 3. A fixed cap on d.
 *
 * Onsets: a frame's mark spans its whole window, so a note that starts late in
 * the frame would carry the mark into the quiet before it (pre-echo, which
 * backward masking barely covers). A band whose energy rose more than
 * ONSET_RATIO times since the last frame gets its depth scaled by
 * sqrt(ONSET_RATIO * last / now). Measured with PEAQ, such single frames held
 * up to half a track's noise-to-mask ratio; the embedder's own broadband
 * check (quarters of the frame) does not see an onset in one band under a
 * steady bass. Silence carries no mark.
 */
#ifndef PM_SHAPING_H
#define PM_SHAPING_H
#include "format.h"

#define PM_SHAPE_NBARK 25
/* The allowed swing scales with (f / 1 kHz)^TILT. */
#define PM_SHAPE_MOD_TILT 0.2
/* Hard cap whatever the strength, so a band's gain stays positive. */
#define PM_SHAPE_LIMIT 0.9f
/* Level of a full-scale sine, dB SPL (as PEAQ assumes), for the threshold in quiet. */
#define PM_SHAPE_FULL_SCALE_DB 92.0
/* Forward masking: the threshold falls by this much per hop after a loud frame. */
#define PM_SHAPE_DECAY_DB 4.0f

/*
 * What differs between format versions: a version-2 chip flips twice as fast, a
 * modulation the ear resolves less, so it may swing deeper (values measured with
 * PEAQ against the robustness table: docs/BENCHMARKS.md, "Format 2").
 */
typedef struct pm_shape_params {
    float mod_db;      /* level swing (peak to peak, dB) a band may carry at 1 kHz, at strength 1 */
    float mask_gain;   /* the mark's amplitude may reach this times the masking threshold's */
    float max;         /* largest relative depth of a band at strength 1 */
    /* Per-band onset: a band's energy rising more than this from one frame to the next
     * (a hop, 23 ms) scales its depth down (see above). In version 1, 8 (9 dB) keeps
     * the robustness measured at 4 and 2 with most of their PEAQ gain. */
    float onset_ratio;
    /* A frame in which a quarter has this many times the energy of the quietest quarter
     * before it holds an onset: its depth is scaled by sqrt(ratio / jump) so the mark
     * does not smear into the quiet before the onset (pre-echo). */
    double preecho_ratio;
} pm_shape_params;

/* The parameters of format `version` (1 or 2). */
const pm_shape_params *pm_shape_params_of(int version);

typedef struct pm_shaper {
    int nbins, n_bands;
    unsigned char *bark_of_bin;                       /* nbins */
    float spread[PM_SHAPE_NBARK][PM_SHAPE_NBARK];     /* masker -> maskee gain */
    /* Band b spans Bark bands first_bark[b] .. first_bark[b] + 2, with these bin counts. */
    unsigned char first_bark[PMF_MAX_BANDS];
    float overlap[PMF_MAX_BANDS][3];
    float bins_in_bark[PM_SHAPE_NBARK];
    float quiet[PM_SHAPE_NBARK];       /* threshold in quiet, as a band energy */
    float mod_depth[PMF_VERSIONS][PMF_MAX_BANDS]; /* ceiling 1 at strength 1, per version */
    float decay;                       /* forward-masking factor per hop */
    float held[PM_SHAPE_NBARK];        /* the threshold carried from the last frame */
    float last_band[PMF_MAX_BANDS];    /* each band's energy in the last frame */
} pm_shaper;

/* Tables for an FFT of size nfft over frames of `win` samples at `rate`, for the
 * band plan's bins lo/hi; 0 on success. */
int pm_shaper_init(pm_shaper *s, double rate, int nfft, int win, const int *lo, const int *hi,
                   int n_bands);
/* Forget the past (the start of a new stream). */
void pm_shaper_reset(pm_shaper *s);
void pm_shaper_destroy(pm_shaper *s);
/*
 * power[nbins]: the frame's power spectrum (summed over channels);
 * band[n_bands]: the band energies. Writes depth[n_bands] >= 0 for a mark of format
 * `version` and updates the forward-masking state, so call it once per frame, in order.
 */
void pm_shaper_depths(pm_shaper *s, const float *power, const float *band, float strength,
                      int version, float *depth);
#endif
