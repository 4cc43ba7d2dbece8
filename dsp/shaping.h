/*
 * Perceptual shaping: how deep each band of a frame is modulated.
 *
 * The mark's energy in a frame is a fixed fraction of the frame's whole
 * energy (all frequencies, all channels): the mark-to-signal ratio is constant
 * over time, so quiet passages get a quiet mark and silence none. Within the
 * frame the energy goes preferentially to bands that are weak relative to the
 * others (depth ~ (e / mean)^-TILT), which buys the most detection per unit of
 * added energy, and no band is modulated deeper than MAX.
 */
#ifndef PM_SHAPING_H
#define PM_SHAPING_H

/* Mark-to-signal energy ratio per frame at strength 1, in dB. */
#define PM_SHAPE_RATIO_DB (-33.0f)
/* Exponent of the preference for weak bands. */
#define PM_SHAPE_TILT 0.7f
/* Largest relative depth of a band at strength 1. */
#define PM_SHAPE_MAX 0.5f
/* Hard cap whatever the strength, so a band's gain stays positive. */
#define PM_SHAPE_LIMIT 0.9f

/*
 * energy[n]: band energies; total: the frame's whole energy (>= sum of bands).
 * Writes depth[n] >= 0 for the given strength (amplitude factor).
 */
void pm_shaping_depths(const float *energy, int n, double total, float strength, float *depth);
#endif
