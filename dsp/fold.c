#include "fold.h"

#include <math.h>
#include <string.h>

void pm_fold_init(pm_fold *f, int n_bands, double tau)
{
    memset(f, 0, sizeof *f);
    f->n_bands = n_bands;
    f->tau = tau;
}

void pm_fold_add(pm_fold *f, long step, const float *row)
{
    const long pos = (long)floor((double)step * f->tau + 0.5);
    float *dst = f->sum[((pos % PM_PHASES) + PM_PHASES) % PM_PHASES];
    for (int b = 0; b < f->n_bands; b++)
        dst[b] += row[b];
}

/*
 * Score phase p: the folded value of every chip (unit slot u is read PM_UNIT_STEPS *
 * u - p steps into the period), then the sync z and the
 * repetition z, each normalised by the folded values it is made of. Given
 * their magnitudes the keyed signs are independent fair coins where no mark
 * is: the sync sum has variance sum g^2, and a coded bit's sum S of chips
 * g_i has E[S^2] = sum g_i^2 and Var[S^2] = 2 (sum g_i^2)^2 - 2 sum g_i^4.
 */
static float score(const pm_fold *f, const pm_layout *L, int p, float soft[PMF_CODED_BITS])
{
    double sync = 0.0, sync_en = 0.0, e2[PMF_CODED_BITS] = {0}, e4[PMF_CODED_BITS] = {0};
    memset(soft, 0, sizeof(float) * PMF_CODED_BITS);
    for (int u = 0; u < L->units; u++) {
        const int r = ((PM_UNIT_STEPS(L) * u - p) % PM_PHASES + PM_PHASES) % PM_PHASES;
        const float *row = f->sum[r];
        for (int i = L->slot_start[u]; i < L->slot_start[u + 1]; i++) {
            const pm_tile *t = &L->tiles[i];
            const double g = row[t->band], g2 = g * g;
            if (t->bit < 0) {
                sync += t->chip * g;
                sync_en += g2;
            } else {
                soft[t->bit] += (float)(t->chip * g);
                e2[t->bit] += g2;
                e4[t->bit] += g2 * g2;
            }
        }
    }
    double rep = 0.0, rep_var = 0.0;
    for (int k = 0; k < PMF_CODED_BITS; k++) {
        rep += (double)soft[k] * soft[k] - e2[k];
        rep_var += 2.0 * (e2[k] * e2[k] - e4[k]);
    }
    const double zs = sync_en > 0.0 ? sync / sqrt(sync_en) : 0.0;
    const double zr = rep_var > 0.0 ? rep / sqrt(rep_var) : 0.0;
    return (float)(zs + zr);
}

int pm_fold_best(const pm_fold *f, const pm_layout *L, pm_fold_cand *out, int max)
{
    float z[PM_PHASES], soft[PMF_CODED_BITS];
    for (int p = 0; p < PM_PHASES; p++)
        z[p] = score(f, L, p, soft);
    int n = 0;
    while (n < max) {
        int best = -1;
        for (int p = 0; p < PM_PHASES; p++) {
            int near = 0;
            for (int i = 0; i < n; i++)
                near |= pm_phase_dist(p, out[i].phase) <= PM_UNIT_STEPS(L);
            if (!near && (best < 0 || z[p] > z[best]))
                best = p;
        }
        if (best < 0 || !(z[best] > 0.0f))
            break;
        out[n].tau = f->tau;
        out[n].phase = best;
        out[n].score = score(f, L, best, out[n].soft);
        n++;
    }
    return n;
}
