#include "shaping.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double bark(double f) { return 13.0 * atan(0.00076 * f) + 3.5 * atan(pow(f / 7500.0, 2)); }

int pm_shaper_init(pm_shaper *s, double rate, int nfft, const int *lo, const int *hi, int n_bands)
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
            s->spread[m][z] = (float)pow(10.0, (att - PM_SHAPE_OFFSET_DB) / 10.0);
        }
    for (int b = 0; b < n_bands; b++) {
        /* Bands are narrower than a Bark band, so at most 3 Bark bands overlap one. */
        s->first_bark[b] = lo[b] < s->nbins ? s->bark_of_bin[lo[b]] : 0;
        for (int k = lo[b]; k < hi[b] && k < s->nbins; k++) {
            int i = s->bark_of_bin[k] - s->first_bark[b];
            if (i < 3)
                s->overlap[b][i] += 1.0f;
        }
    }
    return 0;
}

void pm_shaper_destroy(pm_shaper *s)
{
    free(s->bark_of_bin);
    s->bark_of_bin = NULL;
}

void pm_shaper_depths(const pm_shaper *s, const float *power, const float *band, float strength,
                      float *depth)
{
    float ez[PM_SHAPE_NBARK] = {0}, density[PM_SHAPE_NBARK];
    double total = 0.0, mean = 0.0;
    for (int k = 0; k < s->nbins; k++) {
        ez[s->bark_of_bin[k]] += power[k];
        total += power[k];
    }
    for (int z = 0; z < PM_SHAPE_NBARK; z++) {
        float m = 0.0f;
        for (int src = 0; src < PM_SHAPE_NBARK; src++)
            m += ez[src] * s->spread[src][z];
        density[z] = s->bins_in_bark[z] > 0.0f ? m / s->bins_in_bark[z] : 0.0f;
    }
    int used = 0;
    for (int b = 0; b < s->n_bands; b++) {
        depth[b] = 0.0f;
        if (band[b] > 0.0f) {
            mean += band[b];
            used++;
        }
    }
    if (!used || !(total > 0.0))
        return;
    mean /= used;
    /* Energy-efficient shape: weak bands first, scaled to the frame's mark-to-signal ratio. */
    double cost = 0.0;
    for (int b = 0; b < s->n_bands; b++)
        if (band[b] > 0.0f) {
            depth[b] = 1.0f / sqrtf((float)(band[b] / mean));
            cost += (double)depth[b] * depth[b] * band[b];
        }
    const float scale = (float)sqrt(total * pow(10.0, PM_SHAPE_RATIO_DB / 10.0) / cost);
    const float ratio = powf(10.0f, PM_SHAPE_NMR_DB / 10.0f);
    float cap = PM_SHAPE_MAX * strength;
    if (cap > PM_SHAPE_LIMIT)
        cap = PM_SHAPE_LIMIT;
    for (int b = 0; b < s->n_bands; b++) {
        if (!(band[b] > 0.0f))
            continue;
        float mask = 0.0f;
        for (int i = 0; i < 3 && s->first_bark[b] + i < PM_SHAPE_NBARK; i++)
            mask += s->overlap[b][i] * density[s->first_bark[b] + i];
        /* ...but never deeper than the masking threshold allows. */
        float audible = sqrtf(ratio * mask / band[b]);
        float d = strength * fminf(depth[b] * scale, audible);
        depth[b] = d < cap ? d : cap;
    }
}
