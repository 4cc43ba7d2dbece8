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
#include <sodium.h>

struct pm_embedder {
    double rate;
    int channels;
    int hop, win, nbins, n_bands;
    int lo[PMF_MAX_BANDS], hi[PMF_MAX_BANDS];
    pm_key_schedule key, next_key; /* in use, and to adopt at the next boundary */
    int key_pending, bypass;
    pm_fft fft;
    float *window;   /* win */
    float *frame;    /* channels x win: input history, newest hop in the second half */
    float *tail;     /* channels x hop: second half of the previous frame's mark */
    float *outq;     /* channels x hop: finished output being handed out */
    fftwf_complex *spec; /* channels x spec_stride: each channel's spectrum */
    int spec_stride;     /* nbins rounded up so every channel's spectrum stays aligned */
    float *power;        /* nbins: power spectrum summed over channels */
    pm_shaper shaper;
    int fill;
    uint64_t frame_index;
    float coded_sign[PMF_CODED_BITS];
    float strength;
    uint32_t model, dataset;
    uint32_t next_model, next_dataset;
    float next_strength;
    int format, next_format; /* format version in use, and to adopt at the next boundary */
    double sig_energy, mark_energy, level_db;
};

static void set_payload(pm_embedder *e)
{
    uint8_t info[PMF_PAYLOAD_BITS], coded[PMF_CODED_BITS];
    pm_payload_pack(e->key.mac_key, e->format, e->model, e->dataset, info);
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

pm_status pm_embedder_new(pm_embedder **out, double rate, int channels, const pm_key *key,
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
    if ((rc = pm_key_schedule_init(&e->key, key)) != PM_OK) {
        free(e);
        return rc;
    }
    size_t ch = (size_t)channels;
    e->window = malloc(sizeof(float) * (size_t)e->win);
    e->frame = calloc(ch * (size_t)e->win, sizeof(float));
    e->tail = calloc(ch * (size_t)e->hop, sizeof(float));
    e->outq = calloc(ch * (size_t)e->hop, sizeof(float));
    e->spec_stride = (e->nbins + 7) & ~7;
    e->spec = fftwf_alloc_complex(ch * (size_t)e->spec_stride);
    e->power = malloc(sizeof(float) * (size_t)e->nbins);
    if (!e->window || !e->frame || !e->tail || !e->outq || !e->spec || !e->power ||
        pm_shaper_init(&e->shaper, rate, nfft, e->win, e->lo, e->hi, e->n_bands) != 0 ||
        pm_fft_init(&e->fft, nfft) != 0) {
        pm_embedder_free(e);
        return PM_ERR_NOMEM;
    }
    for (int i = 0; i < e->win; i++)
        e->window[i] = (float)sin(M_PI * (i + 0.5) / e->win);
    e->model = e->next_model = model;
    e->dataset = e->next_dataset = dataset;
    e->strength = e->next_strength = strength;
    e->format = e->next_format = PM_FORMAT_DEFAULT;
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
    free(e->power);
    sodium_memzero(&e->key, sizeof e->key);
    sodium_memzero(&e->next_key, sizeof e->next_key);
    pm_shaper_destroy(&e->shaper);
    free(e);
}

pm_status pm_embedder_set_ids(pm_embedder *e, uint32_t model, uint32_t dataset)
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

void pm_embedder_set_bypass(pm_embedder *e, int bypass)
{
    if (e)
        e->bypass = bypass != 0;
}

pm_status pm_embedder_set_key_schedule(pm_embedder *e, const pm_key_schedule *ks)
{
    if (!e || !ks)
        return PM_ERR_ARG;
    e->next_key = *ks;
    e->key_pending = 1;
    return PM_OK;
}

/* The next frame to be processed starts a payload period. */
static int at_period_start(const pm_embedder *e)
{
    return e->frame_index % PMF_PERIOD_FRAMES == 0;
}

int pm_embedder_key_pending(const pm_embedder *e)
{
    return e && e->key_pending && !at_period_start(e);
}

pm_status pm_embedder_set_format(pm_embedder *e, int version)
{
    if (!e)
        return PM_ERR_ARG;
    if (version < PM_FORMAT_MIN || version > PM_FORMAT_MAX)
        return PM_ERR_FORMAT;
    e->next_format = version;
    return PM_OK;
}

pm_status pm_embedder_set_strength(pm_embedder *e, float strength)
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
    pm_shaper_reset(&e->shaper);
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
    if (e->key_pending) {
        e->key = e->next_key;
        e->key_pending = 0;
        e->model = ~0u; /* force a new payload under the new key */
    }
    if (e->next_model != e->model || e->next_dataset != e->dataset || e->next_format != e->format) {
        e->model = e->next_model;
        e->dataset = e->next_dataset;
        e->format = e->next_format;
        set_payload(e);
    }
    e->strength = e->next_strength;
}

/* Largest magnitude the mark may push a sample to: one 16-bit step below full scale. */
#define CEILING (32766.0f / 32768.0f)

/* y = x + m, except where that would reach full scale further out than the input: there
 * the sample keeps its input value, so the output never clips where the input did not
 * (headroom_scale() has made such cuts rare and at most a 16-bit step). */
static inline float limit(float x, float m)
{
    float y = x + m;
    return fabsf(y) < CEILING || fabsf(y) <= fabsf(x) ? y : x;
}

/*
 * The scale (0..1) of this frame's mark m = t * w that keeps every sample of its window
 * below full scale: over the hop going out, on top of the input and the last frame's
 * tail; over the next hop, on top of the input alone (the next frame scales its own
 * share the same way). Cutting the mark sample by sample where it would clip puts a
 * broadband click in the output (measured: one such frame held 58 % of a track's PEAQ
 * noise-to-mask ratio); scaling the frame as a whole lets the synthesis window fade
 * the cut in and out. Where the input itself is at full scale (a clipped master), a
 * mark pushing outwards may not exceed one 16-bit step there, which limit() may then
 * drop without a click anyone can hear; a mark pulling inwards is kept.
 */
static float headroom_scale(const float *x, const float *tail, const float *t, const float *w,
                            int hop)
{
    /* A little below limit()'s ceiling, so that rounding (limit() adds in another
     * order) never leaves a sample for it to cut. */
    const float top = CEILING - 1e-5f, step = 1.0f / 32768.0f;
    float g = 1.0f;
    for (int i = 0; i < 2 * hop; i++) {
        const float y = x[i] + (i < hop ? tail[i] : 0.0f), m = t[i] * w[i];
        if (fabsf(y + g * m) < top || !(fabsf(y) < INFINITY))
            continue;
        if (fabsf(y) < top) /* |y + g m| < top on m's side */
            g = 0.999f * (top - copysignf(1.0f, m) * y) / fabsf(m);
        else if ((m > 0.0f) == (y > 0.0f) && g * fabsf(m) > step) /* pushing a clipped sample out */
            g = step / fabsf(m);
    }
    return g;
}

/* Sum of squares with independent partial sums, so the compiler can vectorise it. */
static float sum_squares(const float *x, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[i + j] * x[i + j];
    for (; i < n; i++)
        acc[0] += x[i] * x[i];
    return acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
}

static void process_frame(pm_embedder *e)
{
    const int hop = e->hop, win = e->win, nbins = e->nbins, nfft = e->fft.n;
    if (at_period_start(e))
        period_boundary(e);
    const pm_layout *L = &e->key.layout[e->format - 1];
    const int tile_no = (int)(e->frame_index % PMF_PERIOD_FRAMES / (uint64_t)L->frames_per_tile);
    const int slot = tile_no / PMF_TILES_PER_UNIT;
    const pm_shape_params *P = pm_shape_params_of(e->format);
    const float half = tile_no % PMF_TILES_PER_UNIT ? -1.0f : 1.0f;
    e->frame_index++;

    float *restrict t = e->fft.time;
    fftwf_complex *restrict F = e->fft.freq;
    float *restrict power = e->power;
    const float *restrict w = e->window;
    float energy[PMF_MAX_BANDS] = {0};
    float quarter[4] = {0};
    memset(power, 0, sizeof(float) * (size_t)nbins);
    for (int c = 0; c < e->channels; c++) {
        const float *restrict x = e->frame + (size_t)c * win;
        for (int q = 0; q < 4; q++)
            quarter[q] += sum_squares(x + q * win / 4, win / 4);
        for (int i = 0; i < win; i++)
            t[i] = x[i] * w[i];
        for (int i = win; i < nfft; i++)
            t[i] = 0.0f;
        fftwf_complex *restrict X = e->spec + (size_t)c * e->spec_stride;
        fftwf_execute_dft_r2c(e->fft.forward, t, X); /* same alignment as the plan's arrays */
        for (int k = 0; k < nbins; k++)
            power[k] += X[k][0] * X[k][0] + X[k][1] * X[k][1];
    }
    for (int b = 0; b < e->n_bands; b++)
        for (int k = e->lo[b]; k < e->hi[b]; k++)
            energy[b] += power[k];
    float depth[PMF_MAX_BANDS];
    pm_shaper_depths(&e->shaper, power, energy, e->bypass ? 0.0f : e->strength, e->format, depth);
    /* An onset in the frame would smear the mark into the quiet before it (pre-echo):
     * compare each quarter of the frame with the quietest quarter before it. */
    float jump = 1.0f, quiet = quarter[0];
    for (int q = 1; q < 4; q++) {
        if (quarter[q] > jump * quiet)
            jump = quiet > 0.0f ? quarter[q] / quiet : (float)(P->preecho_ratio * 1e6);
        if (quarter[q] < quiet)
            quiet = quarter[q];
    }
    if (jump > P->preecho_ratio) {
        float g = sqrtf(P->preecho_ratio / jump);
        for (int b = 0; b < e->n_bands; b++)
            depth[b] *= g;
    }
    /* Mark level for monitoring, from the spectra at hand (the limiter's rare trims aside). */
    double sig = 0.0, mark = 0.0;
    for (int b = 0; b < e->n_bands; b++)
        mark += (double)depth[b] * depth[b] * energy[b];
    for (int k = 0; k < nbins; k++)
        sig += power[k];
    e->sig_energy += sig;
    e->mark_energy += mark;
    for (int i = L->slot_start[slot]; i < L->slot_start[slot + 1]; i++) {
        const pm_tile *tile = &L->tiles[i];
        float sign = half * (tile->bit < 0 ? 1.0f : e->coded_sign[tile->bit]);
        depth[tile->band] *= sign * tile->chip;
    }

    const float norm = 1.0f / (float)nfft;
    const int k0 = e->lo[0], k1 = e->hi[e->n_bands - 1];
    for (int c = 0; c < e->channels; c++) {
        const fftwf_complex *restrict X = e->spec + (size_t)c * e->spec_stride;
        memset(F, 0, sizeof(fftwf_complex) * (size_t)k0);
        memset(F + k1, 0, sizeof(fftwf_complex) * (size_t)(nbins - k1));
        for (int b = 0; b < e->n_bands; b++) {
            const float d = depth[b] * norm;
            for (int k = e->lo[b]; k < e->hi[b]; k++) {
                F[k][0] = X[k][0] * d;
                F[k][1] = X[k][1] * d;
            }
        }
        fftwf_execute(e->fft.inverse);
        float *restrict x = e->frame + (size_t)c * win;
        float *restrict tail = e->tail + (size_t)c * hop;
        float *restrict outq = e->outq + (size_t)c * hop;
        const float g = headroom_scale(x, tail, t, w, hop);
        for (int i = 0; i < hop; i++) {
            outq[i] = limit(x[i], tail[i] + g * t[i] * w[i]);
            tail[i] = g * t[hop + i] * w[hop + i];
        }
        memmove(x, x + hop, sizeof(float) * (size_t)hop);
    }
}

/*
 * The streaming core: channel c's samples are in[c][i * stride], out[c][i * stride];
 * in == NULL stands for silence (the flush at the end of a stream).
 */
static void process(pm_embedder *e, const float *const *in, float *const *out, size_t stride,
                    size_t frames)
{
    size_t done = 0;
    while (done < frames) {
        size_t n = (size_t)(e->hop - e->fill);
        if (n > frames - done)
            n = frames - done;
        for (int c = 0; c < e->channels; c++) {
            float *dst = out[c] + done * stride;
            float *hist = e->frame + (size_t)c * e->win + e->hop + e->fill;
            const float *q = e->outq + (size_t)c * e->hop + e->fill;
            if (!in) {
                for (size_t i = 0; i < n; i++) {
                    dst[i * stride] = q[i];
                    hist[i] = 0.0f;
                }
                continue;
            }
            const float *src = in[c] + done * stride;
            for (size_t i = 0; i < n; i++) { /* read before write: in may alias out */
                float x = src[i * stride];
                dst[i * stride] = q[i];
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
}

pm_status pm_embedder_process_planar(pm_embedder *e, const float *const *in, float *const *out,
                               size_t frames)
{
    if (!e || (frames && (!in || !out)))
        return PM_ERR_ARG;
    process(e, in, out, 1, frames);
    return PM_OK;
}

/* Channel pointers into an interleaved buffer; entries past the channel count go unused. */
static void split(float *buf, float *ptr[PM_MAX_CHANNELS])
{
    for (int c = 0; c < PM_MAX_CHANNELS; c++)
        ptr[c] = buf + c;
}

pm_status pm_embedder_process_interleaved(pm_embedder *e, const float *in, float *out, size_t frames)
{
    if (!e || (frames && (!in || !out)))
        return PM_ERR_ARG;
    const float *pin[PM_MAX_CHANNELS];
    float *pout[PM_MAX_CHANNELS];
    for (int c = 0; c < PM_MAX_CHANNELS; c++)
        pin[c] = in + c;
    split(out, pout);
    process(e, pin, pout, (size_t)e->channels, frames);
    return PM_OK;
}

pm_status pm_embedder_flush_planar(pm_embedder *e, float *const *out)
{
    if (!e || !out)
        return PM_ERR_ARG;
    process(e, NULL, out, 1, pm_embedder_latency(e));
    pm_embedder_reset(e);
    return PM_OK;
}

pm_status pm_embedder_flush_interleaved(pm_embedder *e, float *out)
{
    if (!e || !out)
        return PM_ERR_ARG;
    float *pout[PM_MAX_CHANNELS];
    split(out, pout);
    process(e, NULL, pout, (size_t)e->channels, pm_embedder_latency(e));
    pm_embedder_reset(e);
    return PM_OK;
}
