#include "sync.h"

#include <math.h>
#include <string.h>

double pm_fscale(int i) { return 0.98 + 0.01 * i; }
double pm_tscale(int i) { return 0.97 + 0.005 * i; }

/* Position (in detector steps) of tile t for phase p and time scale tau. */
static inline int tile_pos(int t, int p, double tau) { return (int)((PM_SUB * t - p) / tau + 0.5); }

/* First unit whose first tile lies at or after the window start. */
static int first_unit(int p)
{
    const int unit_steps = PM_SUB * PMF_TILES_PER_UNIT;
    return (p + unit_steps - 1) / unit_steps;
}

static inline float clip(float v) { return v > PM_CLIP_DB ? PM_CLIP_DB : v < -PM_CLIP_DB ? -PM_CLIP_DB : v; }

/* Chip value of a unit: dB of its first tile minus its second, clipped, weighted by band. */
static inline float unit_value(const float *a, const float *b, const float *wt, int band)
{
    return clip(a[band] - b[band]) * wt[band];
}

/*
 * Bands differ in how much the music itself moves their level from one tile
 * to the next; weighting each by the inverse of that variance is the
 * maximum-likelihood combination. The variance is measured on tile pairs at
 * every offset, so it does not depend on the (unknown) alignment.
 */
static void band_weights(pm_window_view *w)
{
    const int gap = PM_SUB;
    for (int f = 0; f < PM_N_FSCALE; f++) {
        double mean_w = 0.0;
        int used = 0;
        for (int b = 0; b < w->n_bands; b++) {
            double sum = 0.0;
            int n = 0;
            for (int s = 0; s + gap < w->len; s++) {
                float v = clip(w->val[f][(size_t)s * w->n_bands + b] -
                               w->val[f][(size_t)(s + gap) * w->n_bands + b]);
                sum += (double)v * v;
                n++;
            }
            double var = n ? sum / n : 0.0;
            w->weight[f][b] = var > 1e-6 ? (float)(1.0 / var) : 0.0f;
            if (var > 1e-6) {
                mean_w += w->weight[f][b];
                used++;
            }
        }
        for (int b = 0; b < w->n_bands; b++) /* normalise: weights average 1 */
            w->weight[f][b] = used ? (float)(w->weight[f][b] * used / mean_w) : 0.0f;
    }
}

static void score(const pm_window_view *w, const pm_layout *L, int fs, int ts, int p,
                  double *corr, double *energy, int *count)
{
    const float *v = w->val[fs], *wt = w->weight[fs];
    const double tau = pm_tscale(ts);
    double c = 0.0, en = 0.0;
    int n = 0;
    for (int u = first_unit(p);; u++) {
        int s0 = tile_pos(PMF_TILES_PER_UNIT * u, p, tau);
        int s1 = tile_pos(PMF_TILES_PER_UNIT * u + 1, p, tau);
        if (s1 >= w->len)
            break;
        int slot = u % PMF_PERIOD_UNITS;
        const float *r0 = v + (size_t)s0 * w->n_bands, *r1 = v + (size_t)s1 * w->n_bands;
        const pm_tile *t = &L->tiles[L->slot_start[slot]];
        for (int i = 0; i < L->slot_nsync[slot]; i++) {
            float val = unit_value(r0, r1, wt, t[i].band);
            c += t[i].chip * val;
            en += val * val;
        }
        n += L->slot_nsync[slot];
    }
    *corr = c;
    *energy = en;
    *count = n;
}

static void read_bits(const pm_window_view *w, const pm_layout *L, pm_candidate *cand)
{
    const float *v = w->val[cand->fs], *wt = w->weight[cand->fs];
    const double tau = pm_tscale(cand->ts);
    double en = 0.0;
    int n = 0;
    memset(cand->soft, 0, sizeof cand->soft);
    for (int u = first_unit(cand->phase);; u++) {
        int s0 = tile_pos(PMF_TILES_PER_UNIT * u, cand->phase, tau);
        int s1 = tile_pos(PMF_TILES_PER_UNIT * u + 1, cand->phase, tau);
        if (s1 >= w->len)
            break;
        int slot = u % PMF_PERIOD_UNITS;
        const float *r0 = v + (size_t)s0 * w->n_bands, *r1 = v + (size_t)s1 * w->n_bands;
        for (int i = L->slot_start[slot] + L->slot_nsync[slot]; i < L->slot_start[slot + 1]; i++) {
            const pm_tile *t = &L->tiles[i];
            float val = unit_value(r0, r1, wt, t->band);
            cand->soft[t->bit] += t->chip * val;
            en += val * val;
            n++;
        }
    }
    cand->var = n ? (float)(en / n) : 0.0f;
}

static int circ_dist(int a, int b)
{
    int d = a > b ? a - b : b - a;
    return d < PM_PHASES - d ? d : PM_PHASES - d;
}

int pm_sync_search(pm_window_view *w, const pm_layout *L, pm_candidate top[PM_TOP])
{
    band_weights(w);
    int n = 0;
    for (int fs = 0; fs < PM_N_FSCALE; fs++)
        for (int ts = 0; ts < PM_N_TSCALE; ts++)
            for (int p = 0; p < PM_PHASES; p++) {
                double corr, en;
                int cnt;
                score(w, L, fs, ts, p, &corr, &en, &cnt);
                if (cnt == 0 || en <= 0.0)
                    continue;
                float z = (float)(corr / sqrt(en));
                /* Candidates near the same phase are the same alignment: keep the best. */
                int slot = -1;
                for (int i = 0; i < n; i++)
                    if (circ_dist(top[i].phase, p) <= 2) {
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
                top[slot].mu = (float)(corr / cnt);
                top[slot].fs = (short)fs;
                top[slot].ts = (short)ts;
                top[slot].phase = (short)p;
            }
    for (int i = 1; i < n; i++) /* best first */
        for (int j = i; j > 0 && top[j].z > top[j - 1].z; j--) {
            pm_candidate t = top[j];
            top[j] = top[j - 1];
            top[j - 1] = t;
        }
    for (int i = 0; i < n; i++)
        read_bits(w, L, &top[i]);
    return n;
}
