#include "scale.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "level.h"
#include "provmark.h"
#include "sync.h"

/* A power kept in 16 bits: a float's sign, exponent and 7 mantissa bits, rounded. */
static uint16_t pack16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (uint16_t)((u + 0x8000u) >> 16);
}

static float unpack16(uint16_t h)
{
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define SPAN (PM_EST_WINDOWS * PM_WIN_STEPS + 1) /* rows kept: a tile value spans up to two steps */
#define SURE_WINDOWS 2                           /* windows searched before a sure estimate ends the search */
#define MIN_LAST 16                              /* steps: a shorter last window is not searched */

struct pm_scale_est {
    int nbins, kmin, kmax, n_bands;
    int n_rows, n_windows, done;
    uint16_t *rows; /* SPAN x (kmax - kmin) powers, as the top 16 bits of a float (0.4 %) */
    float *pair;  /* PM_WIN_STEPS x (kmax - kmin): a window's tile powers per bin (a geometry's rows summed); with rows */
    float *v;     /* PM_WIN_STEPS x n_bands chip values */
    pm_sync_tables *tables;
    int lo[PM_EST_NF][PMF_MAX_BANDS], hi[PM_EST_NF][PMF_MAX_BANDS];
    int n_keys;
    float *acc;   /* n_keys x NF x NT x NP: z summed along each cell's phase path; while searching */
    double fscale, tscale; /* the estimate, kept once the search is over (acc freed) */
    float score;
};

#define NP (PM_PHASES / PM_EST_PSTEP)
#define ACC(e, k, f, t) ((e)->acc + (((size_t)(k) * PM_EST_NF + (size_t)(f)) * PM_EST_NT + (size_t)(t)) * NP)

double pm_scale_coarse(int i, int n)
{
    return PM_SCALE_MIN * pow(PM_SCALE_MAX / PM_SCALE_MIN, (double)i / (n - 1));
}

pm_scale_est *pm_scale_est_new(double rate, int nfft, int n_keys)
{
    pm_scale_est *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->fscale = e->tscale = 1.0;
    e->nbins = nfft / 2 + 1;
    e->n_bands = pm_bandplan_get()->n;
    /* The local grid around any estimate reaches pm_fscale(0) .. pm_fscale(N - 1) of it. */
    int lo[PMF_MAX_BANDS], hi[PMF_MAX_BANDS];
    pm_band_bins(rate, nfft, PM_SCALE_MIN * pm_fscale(0), lo, hi);
    e->kmin = lo[0];
    pm_band_bins(rate, nfft, PM_SCALE_MAX * pm_fscale(PM_N_FSCALE - 1), lo, hi);
    e->kmax = hi[e->n_bands - 1] > e->kmin ? hi[e->n_bands - 1] : e->kmin + 1;
    for (int f = 0; f < PM_EST_NF; f++) {
        pm_band_bins(rate, nfft, pm_scale_coarse(f, PM_EST_NF), e->lo[f], e->hi[f]);
        for (int b = 0; b < e->n_bands; b++)
            if (!(e->hi[f][b] > e->lo[f][b] && e->hi[f][b] < e->nbins))
                e->lo[f][b] = e->hi[f][b] = 0; /* not measured at this rate */
    }
    e->v = malloc(sizeof(float) * PM_WIN_STEPS * (size_t)e->n_bands);
    e->tables = malloc(sizeof *e->tables);
    e->n_keys = n_keys;
    if (!e->v || !e->tables) {
        pm_scale_est_free(e);
        return NULL;
    }
    return e;
}

void pm_scale_est_free(pm_scale_est *e)
{
    if (!e)
        return;
    free(e->rows);
    free(e->v);
    free(e->pair);
    free(e->tables);
    free(e->acc);
    free(e);
}

void pm_scale_est_release(pm_scale_est *e)
{
    free(e->rows);
    free(e->pair);
    e->rows = NULL;
    e->pair = NULL;
}

int pm_scale_in_grid(double fscale, double tscale)
{
    /* The estimate is within half a coarse step of the truth. */
    const double hf = pow(PM_SCALE_MAX / PM_SCALE_MIN, 0.5 / (PM_EST_NF - 1));
    const double ht = pow(PM_SCALE_MAX / PM_SCALE_MIN, 0.5 / (PM_EST_NT - 1));
    return fscale / hf >= pm_fscale(0) && fscale * hf <= pm_fscale(PM_N_FSCALE - 1) &&
           tscale / ht >= pm_tscale(0) && tscale * ht <= pm_tscale(PM_N_TSCALE - 1);
}

void pm_scale_est_reset(pm_scale_est *e)
{
    e->n_rows = e->n_windows = e->done = 0;
    free(e->acc);
    e->acc = NULL;
    e->fscale = e->tscale = 1.0;
    e->score = 0.0f;
}

/* The tile powers per bin of the window of `len` steps from row w0, in the geometry of
 * frames_per_tile: version 1 sums this step's row and the next one's, version 2 takes one. */
static void tile_powers(pm_scale_est *e, int w0, int len, int frames_per_tile)
{
    const int width = e->kmax - e->kmin;
    for (int s = 0; s < len; s++) {
        const uint16_t *r0 = e->rows + (size_t)(w0 + s) * width;
        const uint16_t *r1 = w0 + s + 1 < e->n_rows ? r0 + width : r0;
        float *out = e->pair + (size_t)s * width;
        if (frames_per_tile == PMF_V1_FRAMES_PER_TILE)
            for (int k = 0; k < width; k++)
                out[k] = unpack16(r0[k]) + unpack16(r1[k]);
        else
            for (int k = 0; k < width; k++)
                out[k] = unpack16(r0[k]);
    }
}

/* search_window() for the keys of one format version, from its tile powers (e->pair). */
static void search_geometry(pm_scale_est *e, int len, const pm_layout *const *layouts, int n_keys, int version)
{
    const int nb = e->n_bands, width = e->kmax - e->kmin;
    for (int f = 0; f < PM_EST_NF; f++) {
        for (int s = 0; s < len; s++) {
            const float *pair = e->pair + (size_t)s * width - e->kmin;
            float *out = e->v + (size_t)s * nb;
            for (int b = 0; b < nb; b++) {
                float sum = 0.0f;
                for (int k = e->lo[f][b]; k < e->hi[f][b]; k++)
                    sum += pair[k];
                out[b] = sum;
            }
            for (int b = 0; b < nb; b++) /* every band, then the unmeasured ones cleared: this vectorises */
                out[b] = pm_level_db(out[b]);
            for (int b = 0; b < nb; b++)
                if (!e->hi[f][b])
                    out[b] = 0.0f;
        }
        float energy[PMF_MAX_BANDS];
        pm_sync_prepare_one(e->v, len, nb, PM_STEPS_PER_FRAME * PMF_FRAMES_PER_TILE(version), energy);
        for (int k = 0; k < n_keys; k++) {
            if (layouts[k]->version != version)
                continue;
            pm_sync_table(e->v, len, nb, energy, layouts[k], e->tables);
            for (int t = 0; t < PM_EST_NT; t++) {
                const double tau = pm_scale_coarse(t, PM_EST_NT);
                float *acc = ACC(e, k, f, t), past[NP], zs[PM_PHASES];
                memcpy(past, acc, sizeof past);
                const int shift = (int)lround(PM_WIN_STEPS * (tau - 1.0) / PM_EST_PSTEP);
                pm_unit_pos_make(&e->tables->pos, len, tau, layouts[k]);
                pm_sync_z_all(e->tables, PM_EST_PSTEP, zs);
                for (int i = 0; i < NP; i++) {
                    const float z = zs[i * PM_EST_PSTEP];
                    float before = 0.0f;
                    if (e->n_windows) {
                        before = -INFINITY;
                        for (int d = -1; d <= 1; d++) { /* not fmaxf: gcc calls libm's for it */
                            const float x = past[((i - shift + d) % NP + NP) % NP];
                            before = x > before ? x : before;
                        }
                    }
                    acc[i] = (isnan(z) ? 0.0f : z) + before;
                }
            }
        }
    }
}

/*
 * Search the window of `len` steps from row w0 at every coarse scale, for every key.
 * Each cell carries its phase path from window to window as the detector's tracker
 * does (the phase moves by PM_WIN_STEPS * (tau - 1) steps per window, +-1 index).
 */
static void search_window(pm_scale_est *e, int w0, int len, const pm_layout *const *layouts, int n_keys)
{
    for (int v = 1; v <= PMF_VERSIONS; v++) {
        int any = 0;
        for (int k = 0; k < n_keys; k++)
            any |= layouts[k]->version == v;
        if (!any)
            continue;
        tile_powers(e, w0, len, PMF_FRAMES_PER_TILE(v));
        search_geometry(e, len, layouts, n_keys, v);
    }
    e->n_windows++;
}


/* The search is over: keep the estimate, and free what only the search needs (the spectra
 * stay, for the detector to replay into a pipeline centred on the estimate). */
static void end_search(pm_scale_est *e)
{
    pm_scale_est_result(e, &e->fscale, &e->tscale, &e->score);
    free(e->acc);
    free(e->pair);
    e->acc = NULL;
    e->pair = NULL;
}

int pm_scale_est_push(pm_scale_est *e, const float *power, const pm_layout *const *layouts, int n_keys)
{
    if (e->done)
        return 1;
    const int width = e->kmax - e->kmin;
    if (!e->rows && !(e->rows = malloc(sizeof(uint16_t) * SPAN * (size_t)width)))
        return -1;
    if (!e->acc && !(e->acc = calloc((size_t)e->n_keys * PM_EST_NF * PM_EST_NT * NP, sizeof(float))))
        return -1;
    if (!e->pair && !(e->pair = malloc(sizeof(float) * PM_WIN_STEPS * (size_t)width)))
        return -1;
    uint16_t *row = e->rows + (size_t)e->n_rows * width;
    for (int k = 0; k < width; k++)
        row[k] = pack16(power[e->kmin + k]);
    e->n_rows++;
    if (e->n_rows == (e->n_windows + 1) * PM_WIN_STEPS + 1) {
        search_window(e, e->n_windows * PM_WIN_STEPS, PM_WIN_STEPS, layouts, n_keys);
        double fs, ts;
        float score;
        pm_scale_est_result(e, &fs, &ts, &score);
        e->done = e->n_rows == SPAN || (e->n_windows >= SURE_WINDOWS && score >= PM_EST_SURE);
    }
    if (e->done)
        end_search(e);
    return e->done;
}

void pm_scale_est_flush(pm_scale_est *e, const pm_layout *const *layouts, int n_keys)
{
    const int w0 = e->n_windows * PM_WIN_STEPS, rest = e->n_rows - w0;
    if (e->n_windows < PM_EST_WINDOWS && rest >= MIN_LAST && e->pair)
        search_window(e, w0, rest, layouts, n_keys);
    end_search(e);
}

void pm_scale_est_result(const pm_scale_est *e, double *fscale, double *tscale, float *score)
{
    if (!e->acc) { /* the search is over (or never began: 1, 1, 0) */
        *fscale = e->fscale;
        *tscale = e->tscale;
        *score = e->score;
        return;
    }
    int bf = -1, bt = 0;
    float top = 0.0f;
    for (int k = 0; k < e->n_keys; k++)
        for (int f = 0; f < PM_EST_NF; f++)
            for (int t = 0; t < PM_EST_NT; t++) {
                const float *acc = ACC(e, k, f, t);
                for (int i = 0; i < NP; i++)
                    if (acc[i] > top)
                        top = acc[i], bf = f, bt = t;
            }
    *fscale = bf < 0 ? 1.0 : pm_scale_coarse(bf, PM_EST_NF);
    *tscale = bf < 0 ? 1.0 : pm_scale_coarse(bt, PM_EST_NT);
    /* In standard deviations of one window's z (the windows' scores add up). */
    *score = e->n_windows ? top / sqrtf((float)e->n_windows) : 0.0f;
}

int pm_scale_est_rows(const pm_scale_est *e, int *kmin, int *kmax)
{
    *kmin = e->kmin;
    *kmax = e->kmax;
    return e->n_rows;
}

void pm_scale_est_row(const pm_scale_est *e, int i, float *out)
{
    const int width = e->kmax - e->kmin;
    for (int k = 0; k < width; k++)
        out[k] = unpack16(e->rows[(size_t)i * width + k]);
}
