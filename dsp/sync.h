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
#define PM_SUB 4       /* detector positions per tile (hop / 2) */
#define PM_PHASES (PM_SUB * PMF_PERIOD_TILES) /* phase resolution: a quarter tile */
#define PM_TOP 4       /* candidates kept per window */
#define PM_CLIP_DB 6.0f /* chip values are clipped to this many dB */
#define PM_DETREND 0.2f /* share of the surrounding tiles' difference removed */
#define PM_COMMON_BANDS 8 /* bands either side whose mean level change is removed */
#define PM_MAX_WINDOW (4 * PMF_PERIOD_TILES * PM_SUB) /* longest window, in steps */
#define PM_WIN_STEPS (2 * PMF_PERIOD_TILES * PM_SUB)  /* a streaming analysis window: two periods */
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
 * Where a window's units fall at one time scale: the first unit at or after the window
 * start lies q = PM_SUB * PMF_TILES_PER_UNIT * u0 - p steps after it (0 <= q < 8), and
 * that unit and the ones after it at steps pos[q][0 .. n[q]). The same for every phase,
 * so it is worked out once per time scale, not once per alignment.
 */
typedef struct pm_unit_pos {
    int n[PM_SUB * PMF_TILES_PER_UNIT];
    int16_t pos[PM_SUB * PMF_TILES_PER_UNIT][PM_MAX_WINDOW];
} pm_unit_pos;
void pm_unit_pos_make(pm_unit_pos *up, int len, double tau);

/*
 * One analysis window, len <= PM_MAX_WINDOW steps. The caller fills
 * val[f][s * n_bands + b] with tile values (dB) for s in [0, len);
 * pm_sync_prepare() turns them, in place, into chip values: the detrended
 * difference of the tiles one tile apart, less its neighbouring bands' mean,
 * clipped.
 */
typedef struct pm_window_view {
    int len, n_bands;
    double tbase; /* time scale of the grid's centre: tau = tbase * pm_tscale(ts) */
    pm_grid grid; /* the scales searched; val[f] is used for f in [grid.f0, grid.f1) only */
    float *val[PM_N_FSCALE];
    float *table; /* PMF_PERIOD_UNITS * PM_MAX_WINDOW floats of scratch for the search */
    pm_unit_pos *pos; /* scratch for the search */
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
void pm_sync_prepare_one(float *v, int len, int nb, float *energy);
/*
 * The sync correlation of every unit slot u at every step s < len - PM_SUB of prepared
 * chip values v: table[u * len + s]; slot_en[u]: its expected square under the null.
 * Then pm_sync_z() scores an alignment from the table in one read per unit.
 */
void pm_sync_table(const float *v, int len, int nb, const float *energy, const pm_layout *L,
                   float *table, double slot_en[PMF_PERIOD_UNITS]);
/* z of the alignment (the time scale of up, phase p) of a window of `len` steps. */
float pm_sync_z(const float *table, int len, const double slot_en[PMF_PERIOD_UNITS], const pm_unit_pos *up, int p);
/* Distance between two phases on the circle of PM_PHASES. */
int pm_phase_dist(int a, int b);
/* Index of an alignment state in a score table. */
#define PM_N_STATES (PM_N_FSCALE * PM_N_TSCALE * PM_PHASES)
#define PM_STATE(fs, ts, p) (((fs) * PM_N_TSCALE + (ts)) * PM_PHASES + (p))
/*
 * Fill top[0..n) (n <= PM_TOP) with the best distinct candidates, best first.
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
