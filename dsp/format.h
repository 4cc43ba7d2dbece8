/*
 * The provmark format constants, versions 1 and 2. docs/FORMAT.md is the
 * normative text; every number it quotes is defined here and nowhere else.
 */
#ifndef PM_FORMAT_H
#define PM_FORMAT_H

/* Framing: physical units, so every sample rate is native. */
#define PMF_HOP_SECONDS (1024.0 / 44100.0) /* embed STFT hop; window = 2 hops */
#define PMF_PERIOD_FRAMES 128              /* payload period: 128 hops = 2.97 s, in both versions */
#define PMF_TILES_PER_UNIT 2               /* a chip is a pair of tiles: +c then -c */
/*
 * The versions differ in the duration of a tile, so in how fast the chips flip: in
 * version 1 a tile lasts two hops (46.4 ms: 32 units per period, a level modulation
 * near 11 Hz), in version 2 one hop (64 units, near 22 Hz, which the ear resolves
 * less: docs/BENCHMARKS.md, "Chips one hop long"). Band plan, code and payload are
 * the same; the payload's version field says which geometry carried it.
 */
#define PMF_VERSIONS 2
#define PMF_V1_FRAMES_PER_TILE 2
#define PMF_V2_FRAMES_PER_TILE 1
#define PMF_FRAMES_PER_TILE(version) ((version) == 1 ? PMF_V1_FRAMES_PER_TILE : PMF_V2_FRAMES_PER_TILE)
#define PMF_UNITS(version) (PMF_PERIOD_FRAMES / (PMF_FRAMES_PER_TILE(version) * PMF_TILES_PER_UNIT))
#define PMF_MAX_UNITS PMF_UNITS(2) /* 64 */

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

/* Payload: version (1 or 2), model ID, dataset ID, keyed tag. */
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
