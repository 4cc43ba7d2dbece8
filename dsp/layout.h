/*
 * Geometry of the mark: the band plan in hertz, the frame timing in seconds,
 * and the keyed map of one payload period (which tile carries a sync chip or
 * which coded bit, with which chip sign).
 */
#ifndef PM_LAYOUT_H
#define PM_LAYOUT_H
#include <stdint.h>

#include "format.h"
#include "provmark.h"

typedef struct pm_bandplan {
    int n;                          /* number of bands */
    double edge[PMF_MAX_BANDS + 1]; /* Hz, increasing */
} pm_bandplan;

/* The fixed v1 band plan. */
const pm_bandplan *pm_bandplan_get(void);

/* Embed hop in samples at `rate` (nearest integer to PMF_HOP_SECONDS * rate). */
int pm_hop_samples(double rate);
/* Smallest size >= n of the form 2^k, 3 * 2^k or 5 * 2^k (fast for FFTW). */
int pm_fft_size(int n);
/*
 * Bin range [lo[b], hi[b]) of each band for an FFT of size nfft at `rate`,
 * with every edge multiplied by `scale` (1 when embedding; the detector tries
 * others to follow speed changes). Bands above Nyquist get empty ranges.
 */
void pm_band_bins(double rate, int nfft, double scale, int *lo, int *hi);

typedef struct pm_tile {
    int16_t band;
    int16_t bit;  /* coded-bit index, or -1 for a sync chip */
    int8_t chip;  /* +1 or -1 */
} pm_tile;

typedef struct pm_layout {
    int version;         /* format version: 1 or 2 */
    int frames_per_tile; /* PMF_FRAMES_PER_TILE(version) */
    int units;           /* unit slots per period: PMF_UNITS(version) */
    int n_bands;
    /* Chips of unit slot u are tiles[slot_start[u] .. slot_start[u+1]), sync chips first. */
    int slot_start[PMF_MAX_UNITS + 1];
    int slot_nsync[PMF_MAX_UNITS];
    pm_tile tiles[PMF_MAX_UNITS * PMF_MAX_BANDS];
} pm_layout;

/* Derive the period map of format `version` (1 or 2) from a key. The versions'
 * maps come from one sub-key, with keystreams kept apart by a nonce. */
int pm_layout_make(pm_layout *layout, const pm_key *key, int version);

/* What a key determines: the period map of each version and the tag key (public as
 * pm_key_schedule). */
struct pm_key_schedule {
    pm_layout layout[PMF_VERSIONS]; /* version v at [v - 1] */
    uint8_t mac_key[32];
};
int pm_key_schedule_init(struct pm_key_schedule *ks, const pm_key *key);
#endif
