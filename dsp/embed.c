/*
 * Streaming embedder. The signal is cut into sine-windowed frames of two hops
 * (50 % overlap, so analysis x synthesis windows sum to one); in each frame
 * every band of the plan is scaled by (1 + chip * a), where the chip comes from
 * the keyed layout and the coded payload, and the depth a comes from a masking
 * model (shaping.h), so the mark hides under the music and vanishes in silence. Only the difference
 * (the mark) is synthesised and added to the delayed input, so unmarked parts
 * of the spectrum pass bit-exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fec.h"
#include "fft.h"
#include "key.h"
#include "layout.h"
#include "payload.h"
#include "provmark.h"
#include "shaping.h"

#define CHUNK 256 /* interleaved <-> planar conversion chunk */

struct pm_embedder {
    double rate;
    int channels;
    int hop, win, nbins, n_bands;
    int lo[PMF_MAX_BANDS], hi[PMF_MAX_BANDS];
    pm_layout layout;
    uint8_t mac_key[32];
    pm_fft fft;
    float *window;   /* win */
    float *frame;    /* channels x win: input history, newest hop in the second half */
    float *tail;     /* channels x hop: second half of the previous frame's mark */
    float *outq;     /* channels x hop: finished output being handed out */
    fftwf_complex *spec; /* channels x nbins */
    float *power;        /* nbins: power spectrum summed over channels */
    pm_shaper shaper;
    float *planar;   /* 2 x channels x CHUNK for the interleaved entry point */
    int fill;
    uint64_t frame_index;
    float coded_sign[PMF_CODED_BITS];
    float strength;
    uint32_t model, dataset;
    uint32_t next_model, next_dataset;
    float next_strength;
    double sig_energy, mark_energy, level_db;
};

static void set_payload(pm_embedder *e)
{
    uint8_t info[PMF_PAYLOAD_BITS], coded[PMF_CODED_BITS];
    pm_payload_pack(e->mac_key, e->model, e->dataset, info);
    pm_fec_encode(info, coded);
    for (int i = 0; i < PMF_CODED_BITS; i++)
        e->coded_sign[i] = coded[i] ? -1.0f : 1.0f;
}

static int check_ids(uint32_t model, uint32_t dataset)
{
    return model > PM_ID_MAX || dataset > PM_ID_MAX ? PM_ERR_ID : PM_OK;
}

static int check_strength(float s)
{
    return isfinite(s) && s >= PM_STRENGTH_MIN && s <= PM_STRENGTH_MAX ? PM_OK : PM_ERR_STRENGTH;
}

int pm_embedder_new(pm_embedder **out, double rate, int channels, const pm_key *key,
                    uint32_t model, uint32_t dataset, float strength)
{
    if (!out || !key)
        return PM_ERR_ARG;
    *out = NULL;
    if (!(rate >= PM_MIN_RATE && rate <= PM_MAX_RATE))
        return PM_ERR_RATE;
    if (channels < 1 || channels > PM_MAX_CHANNELS)
        return PM_ERR_CHANNELS;
    int rc = check_ids(model, dataset);
    if (rc == PM_OK)
        rc = check_strength(strength);
    if (rc != PM_OK)
        return rc;
    pm_embedder *e = calloc(1, sizeof *e);
    if (!e)
        return PM_ERR_NOMEM;
    e->rate = rate;
    e->channels = channels;
    e->hop = pm_hop_samples(rate);
    e->win = 2 * e->hop;
    int nfft = pm_fft_size(e->win);
    e->nbins = nfft / 2 + 1;
    e->n_bands = pm_bandplan_get()->n;
    pm_band_bins(rate, nfft, 1.0, e->lo, e->hi);
    if ((rc = pm_layout_make(&e->layout, key)) != PM_OK ||
        (rc = pm_key_derive_mac(key, e->mac_key)) != PM_OK) {
        free(e);
        return rc;
    }
    size_t ch = (size_t)channels;
    e->window = malloc(sizeof(float) * (size_t)e->win);
    e->frame = calloc(ch * (size_t)e->win, sizeof(float));
    e->tail = calloc(ch * (size_t)e->hop, sizeof(float));
    e->outq = calloc(ch * (size_t)e->hop, sizeof(float));
    e->spec = fftwf_alloc_complex(ch * (size_t)e->nbins);
    e->power = malloc(sizeof(float) * (size_t)e->nbins);
    e->planar = malloc(sizeof(float) * 2 * ch * CHUNK);
    if (!e->window || !e->frame || !e->tail || !e->outq || !e->spec || !e->planar || !e->power ||
        pm_shaper_init(&e->shaper, rate, nfft, e->lo, e->hi, e->n_bands) != 0 ||
        pm_fft_init(&e->fft, nfft) != 0) {
        pm_embedder_free(e);
        return PM_ERR_NOMEM;
    }
    for (int i = 0; i < e->win; i++)
        e->window[i] = (float)sin(M_PI * (i + 0.5) / e->win);
    e->model = e->next_model = model;
    e->dataset = e->next_dataset = dataset;
    e->strength = e->next_strength = strength;
    set_payload(e);
    e->level_db = -INFINITY;
    *out = e;
    return PM_OK;
}

void pm_embedder_free(pm_embedder *e)
{
    if (!e)
        return;
    if (e->fft.time)
        pm_fft_destroy(&e->fft);
    free(e->window);
    free(e->frame);
    free(e->tail);
    free(e->outq);
    fftwf_free(e->spec);
    free(e->planar);
    free(e->power);
    pm_shaper_destroy(&e->shaper);
    free(e);
}

int pm_embedder_set_ids(pm_embedder *e, uint32_t model, uint32_t dataset)
{
    if (!e)
        return PM_ERR_ARG;
    int rc = check_ids(model, dataset);
    if (rc != PM_OK)
        return rc;
    e->next_model = model;
    e->next_dataset = dataset;
    return PM_OK;
}

int pm_embedder_set_strength(pm_embedder *e, float strength)
{
    if (!e)
        return PM_ERR_ARG;
    int rc = check_strength(strength);
    if (rc == PM_OK)
        e->next_strength = strength;
    return rc;
}

size_t pm_embedder_latency(const pm_embedder *e) { return e ? (size_t)e->win : 0; }

double pm_embedder_mark_level_db(const pm_embedder *e) { return e ? e->level_db : -INFINITY; }

void pm_embedder_reset(pm_embedder *e)
{
    if (!e)
        return;
    size_t ch = (size_t)e->channels;
    memset(e->frame, 0, sizeof(float) * ch * (size_t)e->win);
    memset(e->tail, 0, sizeof(float) * ch * (size_t)e->hop);
    memset(e->outq, 0, sizeof(float) * ch * (size_t)e->hop);
    e->fill = 0;
    e->frame_index = 0;
    e->sig_energy = e->mark_energy = 0.0;
    e->level_db = -INFINITY;
}

/* At a payload boundary: adopt pending settings and publish the last period's level. */
static void period_boundary(pm_embedder *e)
{
    e->level_db = e->sig_energy > 0.0 && e->mark_energy > 0.0
                      ? 10.0 * log10(e->mark_energy / e->sig_energy)
                      : -INFINITY;
    e->sig_energy = e->mark_energy = 0.0;
    if (e->next_model != e->model || e->next_dataset != e->dataset) {
        e->model = e->next_model;
        e->dataset = e->next_dataset;
        set_payload(e);
    }
    e->strength = e->next_strength;
}

static void process_frame(pm_embedder *e)
{
    const int hop = e->hop, win = e->win, nbins = e->nbins;
    const uint64_t frames_per_period = (uint64_t)PMF_FRAMES_PER_TILE * PMF_PERIOD_TILES;
    if (e->frame_index % frames_per_period == 0)
        period_boundary(e);
    const int tile_no = (int)(e->frame_index / PMF_FRAMES_PER_TILE % PMF_PERIOD_TILES);
    const int slot = tile_no / PMF_TILES_PER_UNIT;
    const float half = tile_no % PMF_TILES_PER_UNIT ? -1.0f : 1.0f;
    e->frame_index++;

    float energy[PMF_MAX_BANDS] = {0};
    double early = 0.0, late = 0.0;
    memset(e->power, 0, sizeof(float) * (size_t)nbins);
    for (int c = 0; c < e->channels; c++) {
        const float *x = e->frame + (size_t)c * win;
        for (int i = 0; i < hop; i++) {
            early += (double)x[i] * x[i];
            late += (double)x[hop + i] * x[hop + i];
        }
        for (int i = 0; i < win; i++)
            e->fft.time[i] = x[i] * e->window[i];
        for (int i = win; i < e->fft.n; i++)
            e->fft.time[i] = 0.0f;
        fftwf_execute(e->fft.forward);
        memcpy(e->spec + (size_t)c * nbins, e->fft.freq, sizeof(fftwf_complex) * (size_t)nbins);
        for (int k = 0; k < nbins; k++)
            e->power[k] += e->fft.freq[k][0] * e->fft.freq[k][0] + e->fft.freq[k][1] * e->fft.freq[k][1];
    }
    for (int b = 0; b < e->n_bands; b++)
        for (int k = e->lo[b]; k < e->hi[b]; k++)
            energy[b] += e->power[k];
    float depth[PMF_MAX_BANDS];
    pm_shaper_depths(&e->shaper, e->power, energy, e->strength, depth);
    /* An onset late in the frame would smear the mark into the quiet before it (pre-echo). */
    if (late > PM_PREECHO_RATIO * early) {
        float g = (float)sqrt(PM_PREECHO_RATIO * early / late);
        for (int b = 0; b < e->n_bands; b++)
            depth[b] *= g;
    }
    const pm_layout *L = &e->layout;
    for (int t = L->slot_start[slot]; t < L->slot_start[slot + 1]; t++) {
        const pm_tile *tile = &L->tiles[t];
        float sign = half * (tile->bit < 0 ? 1.0f : e->coded_sign[tile->bit]);
        depth[tile->band] *= sign * tile->chip;
    }

    const float norm = 1.0f / (float)e->fft.n;
    for (int c = 0; c < e->channels; c++) {
        const fftwf_complex *X = e->spec + (size_t)c * nbins;
        memset(e->fft.freq, 0, sizeof(fftwf_complex) * (size_t)nbins);
        for (int b = 0; b < e->n_bands; b++)
            for (int k = e->lo[b]; k < e->hi[b]; k++) {
                e->fft.freq[k][0] = X[k][0] * depth[b];
                e->fft.freq[k][1] = X[k][1] * depth[b];
            }
        fftwf_execute(e->fft.inverse);
        float *x = e->frame + (size_t)c * win;
        float *tail = e->tail + (size_t)c * hop;
        float *outq = e->outq + (size_t)c * hop;
        for (int i = 0; i < hop; i++) {
            float m = tail[i] + e->fft.time[i] * e->window[i] * norm;
            float in = x[i];
            float y = in + m;
            /* Never push a sample past full scale; leave input that already is alone. */
            if (fabsf(in) <= 1.0f && fabsf(y) > 1.0f)
                y = copysignf(1.0f, y);
            else if (fabsf(in) > 1.0f || !isfinite(y))
                y = isfinite(in) ? in : 0.0f;
            e->sig_energy += (double)in * in;
            e->mark_energy += (double)(y - in) * (y - in);
            outq[i] = y;
            tail[i] = e->fft.time[hop + i] * e->window[hop + i] * norm;
        }
        memmove(x, x + hop, sizeof(float) * (size_t)hop);
    }
}

int pm_embedder_process_planar(pm_embedder *e, const float *const *in, float *const *out,
                               size_t frames)
{
    if (!e || (frames && (!in || !out)))
        return PM_ERR_ARG;
    size_t done = 0;
    while (done < frames) {
        size_t n = (size_t)(e->hop - e->fill);
        if (n > frames - done)
            n = frames - done;
        for (int c = 0; c < e->channels; c++) {
            const float *src = in[c] + done;
            float *dst = out[c] + done;
            float *hist = e->frame + (size_t)c * e->win + e->hop + e->fill;
            const float *q = e->outq + (size_t)c * e->hop + e->fill;
            for (size_t i = 0; i < n; i++) { /* read before write: in may alias out */
                float x = src[i];
                dst[i] = q[i];
                hist[i] = isfinite(x) ? x : 0.0f;
            }
        }
        e->fill += (int)n;
        done += n;
        if (e->fill == e->hop) {
            process_frame(e);
            e->fill = 0;
        }
    }
    return PM_OK;
}

int pm_embedder_process_interleaved(pm_embedder *e, const float *in, float *out, size_t frames)
{
    if (!e || (frames && (!in || !out)))
        return PM_ERR_ARG;
    const size_t ch = (size_t)e->channels;
    float *pin[PM_MAX_CHANNELS], *pout[PM_MAX_CHANNELS];
    for (size_t c = 0; c < ch; c++) {
        pin[c] = e->planar + c * CHUNK;
        pout[c] = e->planar + (ch + c) * CHUNK;
    }
    for (size_t done = 0; done < frames;) {
        size_t n = frames - done < CHUNK ? frames - done : CHUNK;
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < ch; c++)
                pin[c][i] = in[(done + i) * ch + c];
        pm_embedder_process_planar(e, (const float *const *)pin, pout, n);
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < ch; c++)
                out[(done + i) * ch + c] = pout[c][i];
        done += n;
    }
    return PM_OK;
}
