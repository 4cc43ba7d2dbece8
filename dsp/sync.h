/*
 * Synchronisation search over one analysis window of whitened tile values:
 * for every frequency scale, time scale and period phase, correlate the
 * window with the keyed sync chips; keep the strongest distinct candidates,
 * and read the soft value of every coded bit under each of them.
 */
#ifndef PM_SYNC_H
#define PM_SYNC_H
#include "format.h"
#include "layout.h"

#define PM_N_FSCALE 5  /* frequency scales searched: 0.98 .. 1.02 */
#define PM_N_TSCALE 13 /* time scales searched: 0.97 .. 1.03 */
#define PM_STEPS_PER_FRAME 2 /* detector positions per embed hop */
#define PM_PHASES (PM_STEPS_PER_FRAME * PMF_PERIOD_FRAMES) /* phase resolution: half a hop */
/* A tile and a unit of layout L, in detector steps (version 1: 4 and 8; version 2: 2 and 4). */
#define PM_TILE_STEPS(L) (PM_STEPS_PER_FRAME * (L)->frames_per_tile)
#define PM_UNIT_STEPS(L) (PMF_TILES_PER_UNIT * PM_TILE_STEPS(L))
#define PM_MAX_TILE_STEPS (PM_STEPS_PER_FRAME * PMF_V1_FRAMES_PER_TILE)
#define PM_MAX_UNIT_STEPS (PMF_TILES_PER_UNIT * PM_MAX_TILE_STEPS)
#define PM_TOP 4       /* candidates kept per window */
#define PM_CLIP_DB 6.0f /* chip values are clipped to this many dB */
#define PM_DETREND 0.2f /* share of the surrounding tiles' difference removed */
#define PM_COMMON_BANDS 8 /* bands either side whose mean level change is removed */
#define PM_FLOOR_SHARE 0.02f   /* a band's noise floor in a window: the level this share of its tiles fall below .. */
#define PM_FLOOR_MARGIN_DB 2.0f /* .. less this (the lowest tiles of steady noise lie below its mean power) */
#define PM_MAX_WINDOW (4 * PM_PHASES) /* longest window, in steps */
#define PM_WIN_STEPS (2 * PM_PHASES)  /* a streaming analysis window: two periods */
#define PM_PARTS 4     /* equal parts of a window whose soft bits are also read apart */

/* Scales of the local grid, relative to the grid's base (1 unless scale.h estimated another). */
double pm_fscale(int i);
double pm_tscale(int i);

/* The part of the grid a pipeline searches: frequency scales [f0, f1), time scales [t0, t1). */
typedef struct pm_grid {
    int f0, f1, t0, t1;
} pm_grid;
#define PM_GRID_FULL ((pm_grid){0, PM_N_FSCALE, 0, PM_N_TSCALE})

/*
 * Where a window's units fall at one time scale, for one geometry: the first unit at or
 * after the window start lies q = unit_steps * u0 - p steps after it (0 <= q <
 * unit_steps), and that unit and the ones after it at steps pos[q][0 .. n[q]). The
 * same for every phase, so it is worked out once per time scale, not once per alignment.
 */
typedef struct pm_unit_pos {
    int unit_steps, units; /* the geometry's (PM_UNIT_STEPS, pm_layout.units) */
    int n[PM_MAX_UNIT_STEPS];
    int16_t pos[PM_MAX_UNIT_STEPS][PM_MAX_WINDOW];
} pm_unit_pos;
void pm_unit_pos_make(pm_unit_pos *up, int len, double tau, const pm_layout *L);

/* Most units a window's alignment reads, plus one: a window of PM_MAX_WINDOW steps in
 * version 2's units at a time scale up to 1.5. */
#define PM_MAX_RUN (PM_MAX_WINDOW * 3 / (2 * PMF_TILES_PER_UNIT * PM_STEPS_PER_FRAME * PMF_V2_FRAMES_PER_TILE) + 2)

/*
 * A window's sync chips summed per unit slot (pm_sync_table), position-major so that
 * pm_sync_z_all() scores all the phases of a time scale with vector adds: the phases
 * whose first unit falls q steps into the window read the same positions, each from
 * another start slot, so each position adds its row of slots, rotated, to all of them.
 */
typedef struct pm_sync_tables {
    int units, runs; /* run_en holds runs of 0 .. runs - 1 units */
    float table[PM_MAX_WINDOW * PMF_MAX_UNITS]; /* [s * units + u]: slot u's sync correlation at step s */
    double run_en[PMF_MAX_UNITS * PM_MAX_RUN];  /* [u * runs + m]: null energy of m units from slot u */
    pm_unit_pos pos;                            /* scratch: where the units fall at one time scale */
} pm_sync_tables;

/*
 * One analysis window, len <= PM_MAX_WINDOW steps, read in one geometry (tile_steps:
 * PM_TILE_STEPS of its layouts). The caller fills val[f][s * n_bands + b] with tile
 * values (dB) for s in [0, len); pm_sync_prepare() turns them, in place, into chip
 * values: the detrended difference of the tiles one tile apart, less its neighbouring
 * bands' mean, clipped, and weighted by the share of the tiles' power above the band's
 * noise floor.
 */
typedef struct pm_window_view {
    int len, n_bands, tile_steps;
    double tbase; /* time scale of the grid's centre: tau = tbase * pm_tscale(ts) */
    pm_grid grid; /* the scales searched; val[f] is used for f in [grid.f0, grid.f1) only */
    float *val[PM_N_FSCALE];
    pm_sync_tables *tables; /* scratch for the search */
    float energy[PM_N_FSCALE][PMF_MAX_BANDS]; /* mean squared chip value per band */
} pm_window_view;

typedef struct pm_candidate {
    float z;        /* sync correlation in standard deviations */
    float mu, var;  /* mean sync value and per-tile variance (for combining) */
    short fs, ts, phase;
    float soft[PMF_CODED_BITS];
} pm_candidate;

/* Turn the tile values into chip values, in place; once per window, before any search. */
void pm_sync_prepare(pm_window_view *w);
/* The same for one frequency scale: v[s * nb + b], s < len; energy[b]: mean squared chip value. */
void pm_sync_prepare_one(float *v, int len, int nb, int tile_steps, float *energy);
/*
 * The sync correlation of every unit slot of L at every step s < len - tile of prepared
 * chip values v, and the null energies of runs of slots, into t.
 */
void pm_sync_table(const float *v, int len, int nb, const float *energy, const pm_layout *L, pm_sync_tables *t);
/* z[p] of every phase p < PM_PHASES that is a multiple of `every` (1, or 2: unit steps
 * are even) at the time scale of t->pos (pm_unit_pos_make: same geometry and len as the
 * table); NAN where no unit falls in the window, and at the phases skipped. */
void pm_sync_z_all(const pm_sync_tables *t, int every, float z[PM_PHASES]);
/* Distance between two phases on the circle of PM_PHASES. */
int pm_phase_dist(int a, int b);
/* Index of an alignment state in a score table. */
#define PM_N_STATES (PM_N_FSCALE * PM_N_TSCALE * PM_PHASES)
#define PM_STATE(fs, ts, p) (((fs) * PM_N_TSCALE + (ts)) * PM_PHASES + (p))
/*
 * Fill top[0..n) (n <= PM_TOP) with the best distinct candidates, best first: their
 * alignments and sync z only (pm_sync_read() reads those the caller keeps).
 * If `scores` is not NULL it receives the z of every state of the grid (PM_N_STATES floats).
 */
int pm_sync_search(const pm_window_view *w, const pm_layout *L, pm_candidate top[PM_TOP],
                   float *scores);
/*
 * Read the soft bits (and the sync mean and data variance) of an alignment. If
 * `parts` is not NULL, parts[j] also receives the soft bits of the units that
 * start in the j-th of PM_PARTS equal parts of the window (they sum to soft):
 * where in the window a payload is, for boundaries finer than a window.
 * Returns the alignment's sync z, as the search scores it (cand->z is left as is).
 */
float pm_sync_read(const pm_window_view *w, const pm_layout *L, pm_candidate *cand,
                   float (*parts)[PMF_CODED_BITS]);
/* The sync z of one alignment (as pm_sync_read returns it), from the sync chips alone. */
float pm_sync_score(const pm_window_view *w, const pm_layout *L, const pm_candidate *cand);
#endif
