#include "sync.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "level.h"

double pm_fscale(int i) { return 0.98 + 0.01 * i; }
double pm_tscale(int i) { return 0.97 + 0.005 * i; }

/* Position (in detector steps) of unit u's first tile for phase p and time scale tau. */
static inline int unit_pos(int u, int unit_steps, int p, double tau) { return (int)((unit_steps * u - p) / tau + 0.5); }

/* First unit whose first tile lies at or after the window start. */
static int first_unit(int p, int unit_steps) { return (p + unit_steps - 1) / unit_steps; }

static inline float clip(float v) { return v > PM_CLIP_DB ? PM_CLIP_DB : v < -PM_CLIP_DB ? -PM_CLIP_DB : v; }

/* A chip value less the mean of the bands within COMMON_BANDS of band b (prefix: running sums), clipped. */
static float less_neighbours(float v, const float *prefix, int b, int nb)
{
    const int lo = b > PM_COMMON_BANDS ? b - PM_COMMON_BANDS : 0;
    const int hi = b + PM_COMMON_BANDS + 1 < nb ? b + PM_COMMON_BANDS + 1 : nb;
    return clip(v - (prefix[hi] - prefix[lo]) / (float)(hi - lo));
}

/*
 * Each band's noise floor over the window: the level PM_FLOOR_SHARE of its tiles fall
 * below (from a histogram of 128 bins between its lowest and highest level), less
 * PM_FLOOR_MARGIN_DB.
 */
#define FLOOR_BINS 128
_Static_assert(PM_MAX_WINDOW <= UINT16_MAX, "a bin counts at most a window's tiles");
static void band_floors(const float *v, int len, int nb, float *floor_db)
{
    float lo[PMF_MAX_BANDS], width[PMF_MAX_BANDS];
    for (int b = 0; b < nb; b++) {
        lo[b] = INFINITY;
        width[b] = -INFINITY; /* the highest level, until it is made the bin width */
    }
    for (int s = 0; s < len; s++) /* row by row: the loops over bands vectorise */
        for (int b = 0; b < nb; b++) {
            const float x = v[(size_t)s * nb + b];
            lo[b] = x < lo[b] ? x : lo[b];
            width[b] = x > width[b] ? x : width[b];
        }
    float per_bin[PMF_MAX_BANDS];
    for (int b = 0; b < nb; b++) {
        width[b] = (width[b] - lo[b]) / FLOOR_BINS + 1e-6f;
        per_bin[b] = 1.0f / width[b];
    }
    uint16_t hist[PMF_MAX_BANDS][FLOOR_BINS];
    memset(hist, 0, sizeof hist);
    for (int s = 0; s < len; s++) {
        int bin[PMF_MAX_BANDS];
        for (int b = 0; b < nb; b++) { /* the bins of a row first: this loop vectorises */
            const int i = (int)((v[(size_t)s * nb + b] - lo[b]) * per_bin[b]);
            bin[b] = i < FLOOR_BINS ? i : FLOOR_BINS - 1;
        }
        for (int b = 0; b < nb; b++)
            hist[b][bin[b]]++;
    }
    const int below = (int)(PM_FLOOR_SHARE * (float)len);
    for (int b = 0; b < nb; b++) {
        int i = 0;
        for (int seen = 0; i < FLOOR_BINS - 1 && seen + hist[b][i] <= below; i++)
            seen += hist[b][i];
        floor_db[b] = lo[b] + width[b] * (float)i - PM_FLOOR_MARGIN_DB;
    }
}

/*
 * Chip values, in place. A unit's value is its first tile minus its second
 * (one tile later), less DETREND times the difference of the tiles around
 * the pair, which removes the music's local slope. Then, at every step, the
 * mean of the neighbouring bands' values (within COMMON_BANDS) is subtracted:
 * the music's level changes move neighbouring bands together while the keyed
 * chips flip sign at random from band to band, so this removes most of the
 * music and almost none of the mark. Values are clipped, then
 * weighted by the share of the quieter tile's power that lies above the band's
 * noise floor (band_floors): where noise added to the file buries the music, and
 * with it the mark, a chip is mostly noise and counts for little; in music with
 * no noise floor nearly every chip keeps its whole weight. (Measured: at 10 dB
 * SNR white noise, 26 of 30 marked copies decoded instead of 21; inverse-variance
 * weights per band, tried before, decoded less of every attack.)
 */
void pm_sync_prepare_one(float *v, int len, int nb, int tile_steps, float *energy)
{
    const int T = tile_steps, n = len - T;
    float floor_db[PMF_MAX_BANDS], weight[PMF_MAX_BANDS];
    band_floors(v, len, nb, floor_db);
    /* Row by row, in place: row s needs the tile values of rows s - T (already
     * overwritten, so kept in a ring of the last T rows), s + T and s + 2 T. */
    float ring[PM_MAX_TILE_STEPS][PMF_MAX_BANDS] = {{0}};
    double var[PMF_MAX_BANDS] = {0};
    for (int s = 0; s < len; s++) {
        float *row = v + (size_t)s * nb, tile[PMF_MAX_BANDS];
        memcpy(tile, row, sizeof(float) * (size_t)nb);
        if (s >= n) {
            memset(row, 0, sizeof(float) * (size_t)nb);
            continue;
        }
        const float *later = row + (size_t)T * nb, *before = ring[s % T];
        const int detrend = s >= T && s + 2 * T < len;
        for (int b = 0; b < nb; b++) {
            float d = tile[b] - later[b];
            if (detrend)
                d -= PM_DETREND * (before[b] - later[(size_t)T * nb + b]);
            row[b] = d;
        }
        memcpy(ring[s % T], tile, sizeof(float) * (size_t)nb);
        for (int b = 0; b < nb; b++)
            weight[b] = pm_share_above((tile[b] < later[b] ? tile[b] : later[b]) - floor_db[b]);
        float prefix[PMF_MAX_BANDS + 1] = {0};
        for (int b = 0; b < nb; b++)
            prefix[b + 1] = prefix[b] + row[b];
        /* Bands whose neighbourhood an edge of the plan cuts, then the others in a loop
         * without branches (it vectorises). */
        const int inner_hi = nb - PM_COMMON_BANDS, last_lo = inner_hi > PM_COMMON_BANDS ? inner_hi : PM_COMMON_BANDS;
        for (int b = 0; b < nb && b < PM_COMMON_BANDS; b++)
            row[b] = less_neighbours(row[b], prefix, b, nb);
        for (int b = last_lo; b < nb; b++)
            row[b] = less_neighbours(row[b], prefix, b, nb);
        const float span = 2 * PM_COMMON_BANDS + 1;
        for (int b = PM_COMMON_BANDS; b < inner_hi; b++)
            row[b] = clip(row[b] - (prefix[b + PM_COMMON_BANDS + 1] - prefix[b - PM_COMMON_BANDS]) / span);
        for (int b = 0; b < nb; b++) {
            row[b] *= weight[b];
            var[b] += (double)row[b] * row[b];
        }
    }
    for (int b = 0; b < nb; b++)
        energy[b] = n > 0 ? (float)(var[b] / n) : 0.0f;
}

void pm_sync_prepare(pm_window_view *w)
{
    for (int f = w->grid.f0; f < w->grid.f1; f++)
        pm_sync_prepare_one(w->val[f], w->len, w->n_bands, w->tile_steps, w->energy[f]);
}

/* Add unit slot `slot`'s sync chips read from `row` to *sync, and their null energy to *sync_en. */
static void add_sync(const pm_layout *L, int slot, const float *row, const float *energy, double *sync,
                     double *sync_en)
{
    for (int i = L->slot_start[slot]; i < L->slot_start[slot] + L->slot_nsync[slot]; i++) {
        *sync += L->tiles[i].chip * row[L->tiles[i].band];
        *sync_en += energy[L->tiles[i].band];
    }
}

float pm_sync_read(const pm_window_view *w, const pm_layout *L, pm_candidate *cand,
                   float (*parts)[PMF_CODED_BITS])
{
    const float *v = w->val[cand->fs];
    const double tau = w->tbase * pm_tscale(cand->ts);
    const int tile = PM_TILE_STEPS(L), unit = PM_UNIT_STEPS(L);
    double en = 0.0, sync = 0.0, sync_en = 0.0;
    int n = 0, n_sync = 0;
    memset(cand->soft, 0, sizeof cand->soft);
    if (parts)
        memset(parts, 0, sizeof(float) * PM_PARTS * PMF_CODED_BITS);
    for (int u = first_unit(cand->phase, unit);; u++) {
        int s0 = unit_pos(u, unit, cand->phase, tau);
        if (s0 >= w->len - tile)
            break;
        int slot = u % L->units;
        const float *row = v + (size_t)s0 * w->n_bands;
        const int first_data = L->slot_start[slot] + L->slot_nsync[slot];
        /* A unit belongs to the part that holds its centre (half a unit after its start). */
        const int part = (s0 + tile) * PM_PARTS / w->len;
        float *dst = parts ? parts[part < PM_PARTS ? part : PM_PARTS - 1] : NULL;
        add_sync(L, slot, row, w->energy[cand->fs], &sync, &sync_en);
        n_sync += L->slot_nsync[slot];
        for (int i = first_data; i < L->slot_start[slot + 1]; i++) {
            const pm_tile *t = &L->tiles[i];
            float val = row[t->band];
            cand->soft[t->bit] += t->chip * val;
            if (dst)
                dst[t->bit] += t->chip * val;
            en += val * val;
            n++;
        }
    }
    cand->var = n ? (float)(en / n) : 0.0f;
    cand->mu = n_sync ? (float)(sync / n_sync) : 0.0f;
    return sync_en > 0.0 ? (float)(sync / sqrt(sync_en)) : 0.0f;
}

float pm_sync_score(const pm_window_view *w, const pm_layout *L, const pm_candidate *cand)
{
    const float *v = w->val[cand->fs];
    const double tau = w->tbase * pm_tscale(cand->ts);
    const int tile = PM_TILE_STEPS(L), unit = PM_UNIT_STEPS(L);
    double sync = 0.0, sync_en = 0.0;
    for (int u = first_unit(cand->phase, unit);; u++) {
        int s0 = unit_pos(u, unit, cand->phase, tau);
        if (s0 >= w->len - tile)
            break;
        int slot = u % L->units;
        add_sync(L, slot, v + (size_t)s0 * w->n_bands, w->energy[cand->fs], &sync, &sync_en);
    }
    return sync_en > 0.0 ? (float)(sync / sqrt(sync_en)) : 0.0f;
}

int pm_phase_dist(int a, int b)
{
    int d = a > b ? a - b : b - a;
    return d < PM_PHASES - d ? d : PM_PHASES - d;
}

#define SYNC_BLOCK 64 /* steps of pm_sync_table's blocks: 32 KB of the stack */
void pm_sync_table(const float *v, int len, int nb, const float *energy, const pm_layout *L, pm_sync_tables *t)
{
    const int last = len - PM_TILE_STEPS(L), units = L->units; /* a unit needs its second tile inside the window */
    const int runs = len * 3 / (2 * PM_UNIT_STEPS(L)) + 2 < PM_MAX_RUN ? len * 3 / (2 * PM_UNIT_STEPS(L)) + 2
                                                                        : PM_MAX_RUN;
    t->units = units;
    t->runs = runs;
    /* Block by block of SYNC_BLOCK steps, turned band-major, so that each sync tile adds
     * its band to its slot for all the block's steps in one vector loop (a gather per
     * tile and step took a sixth of the detector's time). The sums are formed in the same
     * order as tile by tile: the table is the same to the bit. */
    for (int s0 = 0; s0 < last; s0 += SYNC_BLOCK) {
        const int n = last - s0 < SYNC_BLOCK ? last - s0 : SYNC_BLOCK;
        float by_band[PMF_MAX_BANDS][SYNC_BLOCK], by_slot[PMF_MAX_UNITS][SYNC_BLOCK];
        for (int j = 0; j < n; j++)
            for (int b = 0; b < nb; b++)
                by_band[b][j] = v[(size_t)(s0 + j) * nb + b];
        for (int u = 0; u < units; u++) {
            const pm_tile *tl = &L->tiles[L->slot_start[u]];
            float *c = by_slot[u];
            for (int j = 0; j < n; j++)
                c[j] = 0.0f;
            for (int i = 0; i < L->slot_nsync[u]; i++) {
                const float chip = tl[i].chip, *x = by_band[tl[i].band];
                for (int j = 0; j < n; j++)
                    c[j] += chip * x[j];
            }
        }
        for (int j = 0; j < n; j++) {
            float *out = t->table + (size_t)(s0 + j) * units;
            for (int u = 0; u < units; u++)
                out[u] = by_slot[u][j];
        }
    }
    double slot_en[PMF_MAX_UNITS];
    for (int u = 0; u < units; u++) {
        const pm_tile *tl = &L->tiles[L->slot_start[u]];
        slot_en[u] = 0.0;
        for (int i = 0; i < L->slot_nsync[u]; i++)
            slot_en[u] += energy[tl[i].band];
    }
    /* Summed in the order the units are read, so each run's energy is the same double
     * whichever phase reads it. */
    for (int u = 0; u < units; u++) {
        double *r = t->run_en + (size_t)u * (size_t)runs, sum = 0.0;
        r[0] = 0.0;
        for (int m = 1, slot = u; m < runs; m++) {
            sum += slot_en[slot];
            r[m] = sum;
            slot = slot + 1 == units ? 0 : slot + 1;
        }
    }
}

void pm_unit_pos_make(pm_unit_pos *up, int len, double tau, const pm_layout *L)
{
    const int last = len - PM_TILE_STEPS(L), unit_steps = PM_UNIT_STEPS(L);
    const double step = unit_steps / tau;
    up->unit_steps = unit_steps;
    up->units = L->units;
    for (int q = 0; q < unit_steps; q++) {
        int n = 0;
        for (double x = q / tau + 0.5; n < PM_MAX_WINDOW; x += step) {
            const int s0 = (int)x;
            if (s0 >= last)
                break;
            up->pos[q][n++] = (int16_t)s0;
        }
        up->n[q] = n;
    }
}

void pm_sync_z_all(const pm_sync_tables *t, int every, float z[PM_PHASES])
{
    const pm_unit_pos *up = &t->pos;
    const int units = t->units, us = up->unit_steps;
    /* A phase's z is a sum of a few tens of chip sums: float keeps it to 1e-6 and adds
     * twice as many per vector instruction as double. */
    float acc[PMF_MAX_UNITS];
    for (int p = 0; p < PM_PHASES; p++) /* every one asked for is written below (units * us = PM_PHASES) */
        z[p] = NAN;
    /* Phase p = us * u0 - q (mod the period) has its first unit q steps into the window,
     * in slot u0 mod units: its j-th unit is at pos[q][j] in slot u0 + j. As `every`
     * divides us and the period, p is a multiple of it exactly when q is. */
    for (int q = 0; q < us; q += every) {
        /* Time scales are at most 1.3, so n < runs of pm_sync_table (the bound only guards memory). */
        const int n = up->n[q] < t->runs ? up->n[q] : t->runs - 1;
        memset(acc, 0, sizeof(float) * (size_t)units);
        for (int j = 0; j < n; j++) {
            const float *row = t->table + (size_t)up->pos[q][j] * (size_t)units;
            const int r = j % units;
            for (int u = 0; u < units - r; u++)
                acc[u] += row[u + r];
            for (int u = units - r; u < units; u++)
                acc[u] += row[u + r - units];
        }
        for (int u0 = 0; u0 < units; u0++) {
            const double en = t->run_en[(size_t)u0 * (size_t)t->runs + (size_t)n];
            const int p = ((us * u0 - q) % PM_PHASES + PM_PHASES) % PM_PHASES;
            z[p] = en > 0.0 ? (float)(acc[u0] / sqrt(en)) : NAN;
        }
    }
}

int pm_sync_search(const pm_window_view *w, const pm_layout *L, pm_candidate top[PM_TOP],
                   float *scores)
{
    int n = 0;
    float floor_z = -INFINITY; /* the weakest kept candidate's z, once PM_TOP are kept */
    pm_sync_tables *t = w->tables;
    for (int fs = w->grid.f0; fs < w->grid.f1; fs++) {
        pm_sync_table(w->val[fs], w->len, w->n_bands, w->energy[fs], L, t);
        for (int ts = w->grid.t0; ts < w->grid.t1; ts++) {
            float zs[PM_PHASES];
            pm_unit_pos_make(&t->pos, w->len, w->tbase * pm_tscale(ts), L);
            pm_sync_z_all(t, 1, zs);
            for (int p = 0; p < PM_PHASES; p++) {
                const float zn = zs[p];
                const float z = isnan(zn) ? 0.0f : zn;
                if (scores)
                    scores[PM_STATE(fs, ts, p)] = z;
                if (isnan(zn) || (n == PM_TOP && z <= floor_z))
                    continue; /* not above any kept candidate: changes nothing */
                /* Candidates near the same phase are the same alignment: keep the best. */
                int slot = -1;
                for (int i = 0; i < n; i++)
                    if (pm_phase_dist(top[i].phase, p) <= 2) {
                        slot = i;
                        break;
                    }
                if (slot >= 0) {
                    if (z <= top[slot].z)
                        continue;
                } else if (n < PM_TOP) {
                    slot = n++;
                } else {
                    slot = 0;
                    for (int i = 1; i < n; i++)
                        if (top[i].z < top[slot].z)
                            slot = i;
                    if (z <= top[slot].z)
                        continue;
                }
                top[slot].z = z;
                top[slot].fs = (short)fs;
                top[slot].ts = (short)ts;
                top[slot].phase = (short)p;
                floor_z = top[0].z;
                for (int i = 1; i < n; i++)
                    floor_z = fminf(floor_z, top[i].z);
            }
        }
    }
    for (int i = 1; i < n; i++) /* best first */
        for (int j = i; j > 0 && top[j].z > top[j - 1].z; j--) {
            pm_candidate c = top[j];
            top[j] = top[j - 1];
            top[j - 1] = c;
        }
    return n;
}
