#include "fingerprint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"    /* libprovmark's FFT wrapper: one planner lock for all of provmark */
#include "layout.h" /* pm_fft_size: the one FFT-size rule */

#define BIN_LO 4      /* 62 Hz */
#define BIN_HI 256    /* 4 kHz: what survives every codec and most filtering */
#define NBINS (BIN_HI - BIN_LO)
#define PEAK_DT 5     /* a peak is the largest within +-5 frames ... */
#define PEAK_DF 6     /* ... and +-6 bins */
#define RING (2 * PEAK_DT + 1)
#define PEAKS_PER_SEC 12 /* strongest peaks kept per second */
#define FANOUT 4      /* partners per anchor peak */
#define PAIR_DT 63    /* partner within 63 frames (2 s) after the anchor */
#define PAIR_DF 48    /* and within 48 bins (750 Hz) */

/*
 * Triplets (fingerprint.h): an anchor, a second peak 4-31 frames after it (the
 * first two such), a third 4 or more frames after the second and at most 63 after
 * the anchor (the first two such for each second): up to TRI_PER_ANCHOR per anchor,
 * so the index holds at most twice the landmarks of pairs alone. Peaks below
 * TRI_BIN_MIN are left out: a bin there is too coarse for a frequency ratio.
 */
#define TRI_PER_ANCHOR 3
#define TRI_GAP_MIN 4
#define TRI_SECOND_MAX 31
#define TRI_SPAN_MAX 63
#define TRI_BIN_MIN 10      /* 156 Hz */
#define TRI_STEP 1.5        /* semitones per step of a frequency ratio */
#define TRI_RATIO_STEPS 16  /* ratios from -16 to +16 steps (two octaves) */
#define TRI_TIME_STEPS 8    /* steps of (second - anchor) / (third - anchor) */
#define TRI_PROBE 0.25      /* a query value this close to a step's edge (in steps) probes across it */
_Static_assert((((2 * TRI_RATIO_STEPS) * (2 * TRI_RATIO_STEPS + 1) + 2 * TRI_RATIO_STEPS) * TRI_TIME_STEPS +
                TRI_TIME_STEPS - 1) * 3 + 2 < 1 << (31 - FP_TRI_CODE_SHIFT),
               "a triplet's code fits bits 16-30");
_Static_assert(TRI_SPAN_MAX <= 63 && BIN_HI * 4 <= 1024, "a triplet's span and frequency fit bits 0-15");

typedef struct peak {
    uint32_t t;
    uint16_t bin;
    float prominence;
    float freq; /* in bins, refined between bins (parabola through the log spectrum) */
} peak;

struct fp_extractor {
    int win, hop, nfft;
    double bin_scale;     /* FFT bins per fingerprint bin (15.625 Hz) */
    float *window, *in;
    pm_fft fft;
    int fill;             /* samples in `in` */
    float ring[RING][NBINS]; /* log spectra of the last RING frames */
    float wide[RING][NBINS]; /* each one's maximum over +-PEAK_DF bins */
    uint32_t frames;      /* spectra computed */
    int probe;            /* fp_probe_neighbours */
    peak *peaks;
    size_t n_peaks, cap_peaks;
};

fp_extractor *fp_new(double rate)
{
    if (!(rate >= PM_MIN_RATE && rate <= PM_MAX_RATE)) /* nothing sized by an absurd rate */
        return NULL;
    fp_extractor *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->win = (int)lround(rate * FP_WIN_SECONDS);
    x->hop = (int)lround(rate * FP_HOP_SECONDS);
    /* A fast FFT size; fingerprint bins are then read at k / FP_WIN_SECONDS Hz by
     * interpolation, so that they are the same at every rate. */
    x->nfft = pm_fft_size(x->win);
    x->bin_scale = (double)x->nfft / (rate * FP_WIN_SECONDS);
    x->window = malloc(sizeof(float) * (size_t)x->win);
    x->in = calloc((size_t)x->win, sizeof(float));
    if (!x->window || !x->in || pm_fft_init(&x->fft, x->nfft) != 0) {
        fp_free(x);
        return NULL;
    }
    for (int i = 0; i < x->win; i++)
        x->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (i + 0.5) / x->win));
    return x;
}

void fp_free(fp_extractor *x)
{
    if (!x)
        return;
    pm_fft_destroy(&x->fft);
    free(x->window);
    free(x->in);
    free(x->peaks);
    free(x);
}

void fp_probe_neighbours(fp_extractor *x) { x->probe = 1; }

static int add_peak(fp_extractor *x, uint32_t t, int bin, float prominence, float freq)
{
    if (x->n_peaks == x->cap_peaks) {
        size_t cap = x->cap_peaks ? 2 * x->cap_peaks : 1024;
        peak *p = realloc(x->peaks, cap * sizeof *p);
        if (!p)
            return -1;
        x->peaks = p;
        x->cap_peaks = cap;
    }
    x->peaks[x->n_peaks++] = (peak){t, (uint16_t)bin, prominence, freq};
    return 0;
}

/* Peaks of the frame PEAK_DT frames back, now that the frames around it are known. */
static int pick(fp_extractor *x)
{
    if (x->frames < RING)
        return 0;
    const uint32_t t = x->frames - 1 - PEAK_DT;
    const float *mid = x->ring[t % RING];
    double mean = 0.0;
    for (int k = 0; k < NBINS; k++)
        mean += mid[k];
    mean /= NBINS;
    const int own = (int)(t % RING);
    for (int k = 0; k < NBINS; k++) {
        const float v = mid[k];
        if (v < mean + 3.0f || v < x->wide[own][k]) /* dB: well above the frame's average */
            continue;
        /* The largest in its own frame (ties lose) and above every other frame's maximum. */
        int is_max = 1;
        for (int j = k - PEAK_DF; j <= k + PEAK_DF && is_max; j++)
            if (j != k && j >= 0 && j < NBINS && mid[j] >= v)
                is_max = 0;
        for (int r = 0; r < RING && is_max; r++)
            if (r != own && x->wide[r][k] >= v)
                is_max = 0;
        if (!is_max)
            continue;
        float freq = (float)(BIN_LO + k);
        if (k > 0 && k < NBINS - 1) { /* the vertex of the parabola through the three bins */
            const float den = mid[k - 1] - 2.0f * v + mid[k + 1];
            if (den < 0.0f)
                freq += 0.5f * (mid[k - 1] - mid[k + 1]) / den;
        }
        if (add_peak(x, t, BIN_LO + k, v - (float)mean, freq) != 0)
            return -1;
    }
    return 0;
}

static int frame(fp_extractor *x)
{
    float *time = x->fft.time;
    for (int i = 0; i < x->win; i++)
        time[i] = x->in[i] * x->window[i];
    for (int i = x->win; i < x->nfft; i++)
        time[i] = 0.0f;
    fftwf_execute(x->fft.forward);
    float *spec = x->ring[x->frames % RING];
    for (int k = 0; k < NBINS; k++) {
        const double pos = (BIN_LO + k) * x->bin_scale;
        const int i = (int)pos;
        const float f = (float)(pos - i);
        const fftwf_complex *a = &x->fft.freq[i], *b = &x->fft.freq[i + 1];
        const float pa = (*a)[0] * (*a)[0] + (*a)[1] * (*a)[1];
        const float pb = (*b)[0] * (*b)[0] + (*b)[1] * (*b)[1];
        spec[k] = 10.0f * log10f(pa + f * (pb - pa) + 1e-10f);
    }
    float *wide = x->wide[x->frames % RING];
    for (int k = 0; k < NBINS; k++) {
        float m = spec[k];
        for (int j = k - PEAK_DF > 0 ? k - PEAK_DF : 0; j <= k + PEAK_DF && j < NBINS; j++)
            m = spec[j] > m ? spec[j] : m;
        wide[k] = m;
    }
    x->frames++;
    return pick(x);
}

int fp_push(fp_extractor *x, const float *in, size_t frames, int channels)
{
    const float g = 1.0f / (float)channels;
    for (size_t i = 0; i < frames; i++) {
        float m = 0.0f;
        for (int c = 0; c < channels; c++)
            m += in[i * (size_t)channels + (size_t)c];
        m *= g;
        x->in[x->fill++] = isfinite(m) ? m : 0.0f;
        if (x->fill < x->win)
            continue;
        if (frame(x) != 0)
            return -1;
        memmove(x->in, x->in + x->hop, sizeof(float) * (size_t)(x->win - x->hop));
        x->fill = x->win - x->hop;
    }
    return 0;
}

static int by_second_then_prominence(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    uint32_t sp = (uint32_t)(p->t * FP_HOP_SECONDS), sq = (uint32_t)(q->t * FP_HOP_SECONDS);
    if (sp != sq)
        return sp < sq ? -1 : 1;
    return p->prominence > q->prominence ? -1 : p->prominence < q->prominence;
}

static int by_time(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    return (p->bin > q->bin) - (p->bin < q->bin);
}

/* The step of a frequency ratio (continuous, in TRI_STEP semitones). */
static double ratio_steps(const peak *from, const peak *to)
{
    return 12.0 * log2((double)to->freq / from->freq) / TRI_STEP;
}

/* A value's step, and the neighbouring step a query also probes (or the same). */
static void steps_of(double v, int lo, int hi, int round_it, int probe, int out[2])
{
    const double q = round_it ? floor(v + 0.5) : floor(v);
    const double edge = round_it ? v - q : v - q - 0.5; /* from the middle of the step, -0.5 .. 0.5 */
    int s = (int)q, t = s;
    if (probe && fabs(edge) > 0.5 - TRI_PROBE)
        t = s + (edge > 0 ? 1 : -1);
    out[0] = s < lo ? lo : s > hi ? hi : s;
    out[1] = t < lo ? lo : t > hi ? hi : t;
}

/* Triplet landmarks of anchor peaks[i] into lm; how many. */
static size_t triplets(const fp_extractor *x, size_t i, size_t kept, fp_landmark *lm)
{
    const peak *p = x->peaks, *a = &p[i];
    size_t m = 0;
    int made = 0, seconds = 0;
    for (size_t j = i + 1; j < kept && seconds < 2 && made < TRI_PER_ANCHOR; j++) {
        const peak *b = &p[j];
        if (b->t - a->t > TRI_SECOND_MAX)
            break;
        if (b->t - a->t < TRI_GAP_MIN || b->freq < TRI_BIN_MIN || fabs(ratio_steps(a, b)) > TRI_RATIO_STEPS)
            continue;
        seconds++;
        int thirds = 0;
        for (size_t k = j + 1; k < kept && thirds < 2 && made < TRI_PER_ANCHOR; k++) {
            const peak *c = &p[k];
            if (c->t - a->t > TRI_SPAN_MAX)
                break;
            if (c->t - b->t < TRI_GAP_MIN || c->freq < TRI_BIN_MIN || fabs(ratio_steps(a, c)) > TRI_RATIO_STEPS)
                continue;
            thirds++;
            made++;
            const uint32_t span = c->t - a->t;
            int sb[2], sc[2], st[2];
            steps_of(ratio_steps(a, b), -TRI_RATIO_STEPS, TRI_RATIO_STEPS, 1, x->probe, sb);
            steps_of(ratio_steps(a, c), -TRI_RATIO_STEPS, TRI_RATIO_STEPS, 1, x->probe, sc);
            steps_of((double)(b->t - a->t) / span * TRI_TIME_STEPS, 0, TRI_TIME_STEPS - 1, 0, x->probe, st);
            const int loud = a->prominence >= b->prominence && a->prominence >= c->prominence ? 0
                             : b->prominence >= c->prominence                                 ? 1
                                                                                              : 2;
            const uint32_t low = ((uint32_t)lroundf(a->freq * 4.0f) << 6) | span;
            for (int ub = 0; ub < 2; ub++)
                for (int uc = 0; uc < 2; uc++)
                    for (int ut = 0; ut < 2; ut++) {
                        if ((ub && sb[1] == sb[0]) || (uc && sc[1] == sc[0]) || (ut && st[1] == st[0]))
                            continue;
                        const uint32_t code =
                            (((uint32_t)(sb[ub] + TRI_RATIO_STEPS) * (2 * TRI_RATIO_STEPS + 1) +
                              (uint32_t)(sc[uc] + TRI_RATIO_STEPS)) * TRI_TIME_STEPS + (uint32_t)st[ut]) * 3 +
                            (uint32_t)loud;
                        lm[m++] = (fp_landmark){FP_TRIPLET | code << FP_TRI_CODE_SHIFT | low, a->t};
                    }
        }
    }
    return m;
}

static int by_frame_then_hash(const void *a, const void *b)
{
    const fp_landmark *p = a, *q = b;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    return (p->hash > q->hash) - (p->hash < q->hash);
}

int fp_finish(fp_extractor *x, fp_landmark **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (x->n_peaks == 0) /* silence, or too short: no landmarks */
        return (*out = malloc(sizeof **out)) ? 0 : -1;
    /* Density: the strongest PEAKS_PER_SEC peaks of every second. */
    qsort(x->peaks, x->n_peaks, sizeof *x->peaks, by_second_then_prominence);
    size_t kept = 0;
    for (size_t i = 0, in_sec = 0; i < x->n_peaks; i++) {
        if (i && (uint32_t)(x->peaks[i].t * FP_HOP_SECONDS) != (uint32_t)(x->peaks[i - 1].t * FP_HOP_SECONDS))
            in_sec = 0;
        if (in_sec++ < PEAKS_PER_SEC)
            x->peaks[kept++] = x->peaks[i];
    }
    qsort(x->peaks, kept, sizeof *x->peaks, by_time);
    const size_t per_tri = x->probe ? 8 : 1; /* codes per triplet: up to 2 per value when probing */
    fp_landmark *lm = malloc(sizeof *lm * (kept * (FANOUT + TRI_PER_ANCHOR * per_tri) + 1));
    if (!lm)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < kept; i++) {
        const peak *a = &x->peaks[i];
        int partners = 0;
        for (size_t j = i + 1; j < kept && partners < FANOUT; j++) {
            const peak *b = &x->peaks[j];
            const uint32_t dt = b->t - a->t;
            if (dt > PAIR_DT)
                break;
            if (dt == 0 || abs((int)b->bin - (int)a->bin) > PAIR_DF)
                continue;
            lm[m++] = (fp_landmark){((uint32_t)a->bin << 14) | ((uint32_t)b->bin << 6) | dt, a->t};
            partners++;
        }
        if (a->freq >= TRI_BIN_MIN)
            m += triplets(x, i, kept, lm + m);
    }
    qsort(lm, m, sizeof *lm, by_frame_then_hash);
    *out = lm;
    *n = m;
    return 0;
}
