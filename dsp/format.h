/*
 * The provmark v1 format constants. docs/FORMAT.md is the normative text;
 * every number it quotes is defined here and nowhere else.
 */
#ifndef PM_FORMAT_H
#define PM_FORMAT_H

/* Framing: physical units, so every sample rate is native. */
#define PMF_HOP_SECONDS (1024.0 / 44100.0) /* embed STFT hop; window = 2 hops */
#define PMF_FRAMES_PER_TILE 2              /* a tile lasts two hops (46.4 ms) */
#define PMF_TILES_PER_UNIT 2               /* a chip is a pair of tiles: +c then -c */
#define PMF_PERIOD_UNITS 32                /* payload period: 32 units = 64 tiles = 2.97 s */
#define PMF_PERIOD_TILES (PMF_PERIOD_UNITS * PMF_TILES_PER_UNIT)

/* Band plan (Hz): from F_LO, each band REL_WIDTH * f wide but within
 * [MIN_WIDTH, MAX_WIDTH], while the band ends below F_HI. */
#define PMF_F_LO 400.0
#define PMF_F_HI 7000.0
#define PMF_MIN_WIDTH 60.0
#define PMF_MAX_WIDTH 120.0
#define PMF_REL_WIDTH 0.08
#define PMF_MAX_BANDS 64

/* Share of the period's units that carry the synchronisation pattern: 1 in SYNC_DIV. */
#define PMF_SYNC_DIV 8

/* Payload: version, model ID, dataset ID, keyed tag. */
#define PMF_VERSION 1
#define PMF_VERSION_BITS 4
#define PMF_ID_BITS 24
#define PMF_TAG_BITS 32
#define PMF_PAYLOAD_BITS (PMF_VERSION_BITS + 2 * PMF_ID_BITS + PMF_TAG_BITS) /* 84 */

/* Convolutional code: rate 1/3, constraint length 9, terminated. */
#define PMF_CODE_K 9
#define PMF_CODE_RATE 3
#define PMF_INFO_BITS (PMF_PAYLOAD_BITS + PMF_CODE_K - 1) /* 92 with tail */
#define PMF_CODED_BITS (PMF_INFO_BITS * PMF_CODE_RATE)     /* 276 */

/* Decoding budget: at most this many tag checks per file, over all keys. */
#define PMF_MAX_ATTEMPTS 64

#endif
