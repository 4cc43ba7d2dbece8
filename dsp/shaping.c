#include "shaping.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const pm_shape_params params[PMF_VERSIONS] = {
    {.mod_db = 1.2f, .mask_gain = 1.0f, .max = 0.7f, .onset_ratio = 8.0f, .preecho_ratio = 1.5},
    {.mod_db = 2.1f, .mask_gain = 1.2374369f, .max = 1.225f, .onset_ratio = 4.0f, .preecho_ratio = 1.2},
};

const pm_shape_params *pm_shape_params_of(int version)
{
    return &params[version >= 1 && version <= PMF_VERSIONS ? version - 1 : 0];
}

static double bark(double f) { return 13.0 * atan(0.00076 * f) + 3.5 * atan(pow(f / 7500.0, 2)); }

/* Threshold in quiet, dB SPL (Terhardt's approximation); f in Hz. */
static double quiet_db(double f)
{
    double k = fmax(f, 20.0) / 1000.0;
    return 3.64 * pow(k, -0.8) - 6.5 * exp(-0.6 * (k - 3.3) * (k - 3.3)) + 1e-3 * pow(k, 4);
}

/* Frequency at the middle of Bark band z (bark() is increasing: bisect it). */
static double bark_centre(int z, double nyquist)
{
    double a = 0.0, b = nyquist;
    for (int i = 0; i < 40; i++) {
        double m = 0.5 * (a + b);
        if (bark(m) < z + 0.5)
            a = m;
        else
            b = m;
    }
    return a;
}

int pm_shaper_init(pm_shaper *s, double rate, int nfft, int win, const int *lo, const int *hi,
                   int n_bands)
{
    memset(s, 0, sizeof *s);
    s->nbins = nfft / 2 + 1;
    s->n_bands = n_bands;
    s->bark_of_bin = malloc((size_t)s->nbins);
    if (!s->bark_of_bin)
        return -1;
    for (int k = 0; k < s->nbins; k++) {
        int z = (int)bark(k * rate / nfft);
        s->bark_of_bin[k] = (unsigned char)(z < PM_SHAPE_NBARK ? z : PM_SHAPE_NBARK - 1);
        s->bins_in_bark[s->bark_of_bin[k]] += 1.0f;
    }
    for (int m = 0; m < PM_SHAPE_NBARK; m++)
        for (int z = 0; z < PM_SHAPE_NBARK; z++) {
            double dz = z - m; /* maskee z above masker m: shallow slope */
            double att = dz >= 0 ? -10.0 * dz : 25.0 * dz;
            s->spread[m][z] = (float)pow(10.0, att / 10.0);
        }
    /* A full-scale sine's energy in one channel's spectrum (Parseval, sine window). */
    const double full_scale = (double)nfft * win / 8.0;
    for (int z = 0; z < PM_SHAPE_NBARK; z++)
        s->quiet[z] = (float)(full_scale * pow(10.0, (quiet_db(bark_centre(z, rate / 2)) -
                                                      PM_SHAPE_FULL_SCALE_DB) / 10.0));
    for (int b = 0; b < n_bands; b++) {
        double centre = 0.5 * (lo[b] + hi[b]) * rate / nfft;
        for (int v = 0; v < PMF_VERSIONS; v++) /* swing of 1 +- d: 40 log10(e) d dB */
            s->mod_depth[v][b] = (float)(params[v].mod_db * pow(centre / 1000.0, PM_SHAPE_MOD_TILT) /
                                         (40.0 / log(10.0)));
        /* Bands are narrower than a Bark band, so at most 3 Bark bands overlap one. */
        s->first_bark[b] = lo[b] < s->nbins ? s->bark_of_bin[lo[b]] : 0;
        for (int k = lo[b]; k < hi[b] && k < s->nbins; k++) {
            int i = s->bark_of_bin[k] - s->first_bark[b];
            if (i < 3)
                s->overlap[b][i] += 1.0f;
        }
    }
    s->decay = powf(10.0f, -PM_SHAPE_DECAY_DB / 10.0f);
    return 0;
}

void pm_shaper_reset(pm_shaper *s)
{
    memset(s->held, 0, sizeof s->held);
    memset(s->last_band, 0, sizeof s->last_band);
}

void pm_shaper_destroy(pm_shaper *s)
{
    free(s->bark_of_bin);
    s->bark_of_bin = NULL;
}

/* Share of each Bark band's energy in spectral peaks that stand 7 dB above the
 * bins 2 and 3 away (the main lobe of a stationary partial). */
static void tonality(const pm_shaper *s, const float *power, const float *ez, float *alpha)
{
    float tonal[PM_SHAPE_NBARK] = {0};
    for (int k = 3; k + 3 < s->nbins; k++) {
        const float p = power[k], lim = 0.2f * p;
        if (p > power[k - 1] && p >= power[k + 1] && power[k - 2] < lim && power[k + 2] < lim &&
            power[k - 3] < lim && power[k + 3] < lim)
            tonal[s->bark_of_bin[k]] += p + power[k - 1] + power[k + 1];
    }
    for (int z = 0; z < PM_SHAPE_NBARK; z++)
        alpha[z] = ez[z] > 0.0f ? fminf(tonal[z] / ez[z], 1.0f) : 0.0f;
}

void pm_shaper_depths(pm_shaper *s, const float *power, const float *band, float strength,
                      int version, float *depth)
{
    const pm_shape_params *P = pm_shape_params_of(version);
    const float *mod_depth = s->mod_depth[P - params];
    float ez[PM_SHAPE_NBARK] = {0}, masker[PM_SHAPE_NBARK], alpha[PM_SHAPE_NBARK],
          density[PM_SHAPE_NBARK];
    for (int k = 0; k < s->nbins; k++)
        ez[s->bark_of_bin[k]] += power[k];
    tonality(s, power, ez, alpha);
    for (int z = 0; z < PM_SHAPE_NBARK; z++) {
        float offset_db = alpha[z] * (14.5f + (float)z) + (1.0f - alpha[z]) * 5.5f;
        masker[z] = ez[z] * powf(10.0f, -offset_db / 10.0f);
    }
    for (int z = 0; z < PM_SHAPE_NBARK; z++) {
        float m = s->quiet[z];
        for (int src = 0; src < PM_SHAPE_NBARK; src++)
            m += masker[src] * s->spread[src][z];
        m = fmaxf(m, s->held[z] * s->decay);
        s->held[z] = m;
        density[z] = s->bins_in_bark[z] > 0.0f ? m / s->bins_in_bark[z] : 0.0f;
    }
    float cap = P->max * strength;
    if (cap > PM_SHAPE_LIMIT)
        cap = PM_SHAPE_LIMIT;
    for (int b = 0; b < s->n_bands; b++) {
        depth[b] = 0.0f;
        if (!(band[b] > 0.0f))
            continue;
        float mask = 0.0f;
        for (int i = 0; i < 3 && s->first_bark[b] + i < PM_SHAPE_NBARK; i++)
            mask += s->overlap[b][i] * density[s->first_bark[b] + i];
        float d = strength * fminf(mod_depth[b], P->mask_gain * sqrtf(mask / band[b]));
        const float rise = P->onset_ratio * s->last_band[b];
        if (band[b] > rise)
            d *= sqrtf(rise / band[b]);
        depth[b] = d < cap ? d : cap;
    }
    memcpy(s->last_band, band, sizeof(float) * (size_t)s->n_bands);
}
