/*
 * Blind streaming detector. Audio is mixed to mono and analysed with a
 * sine-windowed STFT at half the embed hop. For each searched frequency scale
 * the band energies of two consecutive frames form a tile value in dB; a chip
 * is read as the difference of its two tiles, so the music's slowly varying
 * envelope cancels. Analysis windows of two payload periods are searched
 * for sync (so speed drift never accumulates within one); an alignment
 * tracker links the windows' scores along the phase path each time scale
 * predicts, and each window keeps the tracker's best few paths and its own
 * best alignments. At the end, candidates are chained into alignment lines
 * across windows; the soft bits of the strongest lines are combined and
 * decoded with the Viterbi decoder, and accepted only if the keyed tag checks.
 * Memory is a fixed ring, the tracker's score table (~130 KB per key) and a
 * ~1 KB record per 6 s window (~0.6 MB per hour).
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
#include "sync.h"

#define WIN_TILES (2 * PMF_PERIOD_TILES)
#define WIN_STEPS (WIN_TILES * PM_SUB)
#define CTX 1 /* one step of look-ahead: a tile value spans two analysis frames */
_Static_assert(2 * WIN_STEPS + CTX - 1 <= PM_MAX_WINDOW, "the last window must fit pm_sync_prepare");
#define FLOOR_POWER 1e-12f
#define MIN_LAST_STEPS (PM_SUB * 16) /* a trailing window shorter than 16 tiles is dropped */
#define Z_COMBINE 4.5f     /* windows combined across the file need this sync score */
#define PATH_DECAY 0.85f   /* weight of the past in the alignment tracker (per window) */
#define Z_SEGMENT 3.0f     /* data agreement that marks a window as carrying the mark */

/*
 * Per window: the tracked paths' candidates, and the window's own best
 * alternatives. Alternatives are kept for the MAX_RICH strongest windows only
 * (no more single decodes can be tried than that), so a record costs about
 * 1 KB whatever the file's length.
 */
#define MAX_RICH PMF_MAX_ATTEMPTS
/*
 * The tracker's best few distinct paths are kept for every window: a weak
 * mark's path is rarely the best in every window, but it is almost always
 * among the first few, and combining needs it in all of them.
 */
#define PATH_KEEP 3
#define CANDS_PER_WINDOW (PATH_KEEP + PM_TOP)

/* A candidate with its soft values in 8 bits (plenty for Viterbi): ~300 bytes. */
typedef struct packed_cand {
    float z, mu, var, scale;
    short fs, ts, phase;
    int8_t soft[PMF_CODED_BITS];
} packed_cand;

typedef struct window_rec {
    double t0, t1;
    float path_z;           /* tracked alignment score (past and this window) */
    int n_tracked;          /* candidates: the tracker's n_tracked best paths, */
    int n;                  /* then n - n_tracked of the window's own in `more` */
    packed_cand tracked[PATH_KEEP];
    pm_candidate *more;     /* up to PM_TOP alternatives, or NULL */
} window_rec;

static void pack(const pm_candidate *c, packed_cand *p)
{
    float peak = 0.0f;
    for (int b = 0; b < PMF_CODED_BITS; b++)
        peak = fmaxf(peak, fabsf(c->soft[b]));
    *p = (packed_cand){.z = c->z, .mu = c->mu, .var = c->var, .scale = peak / 127.0f,
                       .fs = c->fs, .ts = c->ts, .phase = c->phase};
    for (int b = 0; b < PMF_CODED_BITS; b++)
        p->soft[b] = (int8_t)(peak > 0.0f ? lrintf(c->soft[b] / p->scale) : 0);
}

static float cand_z(const window_rec *r, int i)
{
    return i < r->n_tracked ? r->tracked[i].z : r->more[i - r->n_tracked].z;
}

/* Candidate i of a window; a packed one is expanded into *tmp. */
static const pm_candidate *cand_at(const window_rec *r, int i, pm_candidate *tmp)
{
    if (i >= r->n_tracked)
        return &r->more[i - r->n_tracked];
    const packed_cand *p = &r->tracked[i];
    tmp->z = p->z, tmp->mu = p->mu, tmp->var = p->var;
    tmp->fs = p->fs, tmp->ts = p->ts, tmp->phase = p->phase;
    for (int b = 0; b < PMF_CODED_BITS; b++)
        tmp->soft[b] = p->soft[b] * p->scale;
    return tmp;
}

/*
 * The alignment tracker: for every state (frequency scale, time scale, phase)
 * the decayed sum of the sync z of all windows so far along the path that
 * this time scale predicts (the phase advances by WIN_STEPS * (tau - 1) per
 * window, within one step). A mark's alignment accumulates evidence from
 * window to window; noise does not.
 */
typedef struct key_state {
    pm_layout layout;
    uint8_t mac_key[32];
    float *path, *path_next; /* PM_N_STATES each */
    int path_windows;
    double path_norm2;
    window_rec *rec;
    size_t n_rec, cap_rec, n_rich;
} key_state;

struct pm_detector {
    double rate;
    int channels, n_keys;
    int step, win, nfft, nbins, n_bands;
    int lo[PM_N_FSCALE][PMF_MAX_BANDS], hi[PM_N_FSCALE][PMF_MAX_BANDS];
    int band_ok[PM_N_FSCALE][PMF_MAX_BANDS];
    pm_fft fft;
    float *window;
    float *mono;       /* win samples, newest last */
    int mono_fill;     /* samples in `mono` */
    float *energy;     /* ring: cap x PM_N_FSCALE x n_bands band energies */
    int cap, n_steps;  /* capacity and fill of the ring, in steps */
    long base_step;    /* global index of ring entry 0 */
    long win_start;    /* global step where the next window starts */
    float *white[PM_N_FSCALE]; /* 2 WIN_STEPS x n_bands tile values (dB) */
    float *scores;             /* PM_N_STATES sync z of the current window */
    long total_frames;
    int finished;
    key_state keys[PM_MAX_KEYS];
};

pm_status pm_detector_new(pm_detector **out, double rate, int channels, const pm_key *keys, int n_keys)
{
    if (!out || !keys)
        return PM_ERR_ARG;
    *out = NULL;
    if (!(rate >= PM_MIN_RATE && rate <= PM_MAX_RATE))
        return PM_ERR_RATE;
    if (channels < 1 || channels > PM_MAX_CHANNELS)
        return PM_ERR_CHANNELS;
    if (n_keys < 1 || n_keys > PM_MAX_KEYS)
        return PM_ERR_ARG;
    pm_detector *d = calloc(1, sizeof *d);
    if (!d)
        return PM_ERR_NOMEM;
    d->rate = rate;
    d->channels = channels;
    d->n_keys = n_keys;
    for (int k = 0; k < n_keys; k++) {
        int rc = pm_layout_make(&d->keys[k].layout, &keys[k]);
        if (rc == PM_OK)
            rc = pm_key_derive_mac(&keys[k], d->keys[k].mac_key);
        if (rc != PM_OK) {
            free(d);
            return rc;
        }
    }
    d->step = (int)lround(rate * PMF_HOP_SECONDS / 2.0);
    d->win = 4 * d->step;
    d->nfft = pm_fft_size(d->win);
    d->nbins = d->nfft / 2 + 1;
    d->n_bands = pm_bandplan_get()->n;
    for (int f = 0; f < PM_N_FSCALE; f++) {
        pm_band_bins(rate, d->nfft, pm_fscale(f), d->lo[f], d->hi[f]);
        for (int b = 0; b < d->n_bands; b++)
            d->band_ok[f][b] = d->hi[f][b] > d->lo[f][b] && d->hi[f][b] < d->nbins;
    }
    d->cap = 2 * WIN_STEPS + 3 * CTX;
    size_t nb = (size_t)d->n_bands;
    d->window = malloc(sizeof(float) * (size_t)d->win);
    d->mono = calloc((size_t)d->win, sizeof(float));
    d->energy = malloc(sizeof(float) * (size_t)d->cap * PM_N_FSCALE * nb);
    d->scores = malloc(sizeof(float) * PM_N_STATES);
    int ok = d->window && d->mono && d->energy && d->scores;
    for (int k = 0; k < n_keys; k++) {
        d->keys[k].path = malloc(sizeof(float) * PM_N_STATES);
        d->keys[k].path_next = malloc(sizeof(float) * PM_N_STATES);
        ok = ok && d->keys[k].path && d->keys[k].path_next;
    }
    for (int f = 0; f < PM_N_FSCALE; f++)
        ok = ok && (d->white[f] = malloc(sizeof(float) * 2 * WIN_STEPS * nb)) != NULL;
    if (!ok || pm_fft_init(&d->fft, d->nfft) != 0) {
        pm_detector_free(d);
        return PM_ERR_NOMEM;
    }
    for (int i = 0; i < d->win; i++)
        d->window[i] = (float)sin(M_PI * (i + 0.5) / d->win);
    *out = d;
    return PM_OK;
}

void pm_detector_free(pm_detector *d)
{
    if (!d)
        return;
    if (d->fft.time)
        pm_fft_destroy(&d->fft);
    for (int k = 0; k < d->n_keys; k++) {
        for (size_t w = 0; w < d->keys[k].n_rec; w++)
            free(d->keys[k].rec[w].more);
        free(d->keys[k].rec);
        free(d->keys[k].path);
        free(d->keys[k].path_next);
    }
    free(d->scores);
    for (int f = 0; f < PM_N_FSCALE; f++)
        free(d->white[f]);
    free(d->window);
    free(d->mono);
    free(d->energy);
    free(d);
}

void pm_detector_reset(pm_detector *d)
{
    if (!d)
        return;
    memset(d->mono, 0, sizeof(float) * (size_t)d->win);
    d->mono_fill = 0;
    d->n_steps = 0;
    d->base_step = d->win_start = 0;
    d->total_frames = 0;
    d->finished = 0;
    for (int k = 0; k < d->n_keys; k++) {
        for (size_t w = 0; w < d->keys[k].n_rec; w++)
            free(d->keys[k].rec[w].more);
        d->keys[k].n_rec = 0;
        d->keys[k].n_rich = 0;
        d->keys[k].path_windows = 0;
        d->keys[k].path_norm2 = 0.0;
    }
}

static float *energy_at(pm_detector *d, long step, int f)
{
    return d->energy + ((size_t)(step - d->base_step) * PM_N_FSCALE + (size_t)f) * d->n_bands;
}

/* Tile values (dB) of window [w0, w0+len) at frequency scale f into d->white[f]. */
static void tile_values(pm_detector *d, long w0, int len, int f)
{
    const int nb = d->n_bands;
    const long end = d->base_step + d->n_steps;
    for (int s = 0; s < len; s++) {
        const float *e0 = energy_at(d, w0 + s, f);
        const float *e1 = w0 + s + 1 < end ? energy_at(d, w0 + s + 1, f) : e0;
        float *out = d->white[f] + (size_t)s * nb;
        for (int b = 0; b < nb; b++)
            out[b] = d->band_ok[f][b] ? 10.0f * log10f(e0[b] + e1[b] + FLOOR_POWER) : 0.0f;
    }
}

static int add_record(key_state *ks, const window_rec *r)
{
    if (ks->n_rec == ks->cap_rec) {
        size_t cap = ks->cap_rec ? ks->cap_rec * 2 : 16;
        window_rec *p = realloc(ks->rec, cap * sizeof *p);
        if (!p)
            return PM_ERR_NOMEM;
        ks->rec = p;
        ks->cap_rec = cap;
    }
    ks->rec[ks->n_rec++] = *r;
    if (r->more && ++ks->n_rich > MAX_RICH) {
        /* Drop the alternatives of the weakest window that still has some. */
        window_rec *weakest = NULL;
        for (size_t w = 0; w < ks->n_rec; w++) {
            window_rec *x = &ks->rec[w];
            if (x->more && (!weakest || x->tracked[0].z < weakest->tracked[0].z))
                weakest = x;
        }
        if (weakest) { /* always found: n_rich counts the windows that have some */
            free(weakest->more);
            weakest->more = NULL;
            weakest->n = weakest->n_tracked;
            ks->n_rich--;
        }
    }
    return PM_OK;
}

/* Advance the tracker by one window's scores; *path_z: the best path's normalised score. */
static void track(key_state *ks, const float *z, float *path_z)
{
    const float lambda = ks->path_windows ? PATH_DECAY : 0.0f;
    int best = 0;
    for (int fs = 0; fs < PM_N_FSCALE; fs++)
        for (int ts = 0; ts < PM_N_TSCALE; ts++) {
            const float *prev = ks->path + PM_STATE(fs, ts, 0);
            const double shift = WIN_STEPS * (pm_tscale(ts) - 1.0);
            for (int p = 0; p < PM_PHASES; p++) {
                float past = 0.0f;
                if (lambda > 0.0f) {
                    int c = (int)lround(p - shift);
                    past = -INFINITY;
                    for (int dp = -1; dp <= 1; dp++) {
                        int q = ((c + dp) % PM_PHASES + PM_PHASES) % PM_PHASES;
                        if (prev[q] > past)
                            past = prev[q];
                    }
                }
                int st = PM_STATE(fs, ts, p);
                ks->path_next[st] = z[st] + lambda * past;
                if (ks->path_next[st] > ks->path_next[best])
                    best = st;
            }
        }
    float *t = ks->path;
    ks->path = ks->path_next;
    ks->path_next = t;
    ks->path_norm2 = 1.0 + (double)lambda * lambda * ks->path_norm2;
    ks->path_windows++;
    *path_z = (float)(ks->path[best] / sqrt(ks->path_norm2));
}

static int circ_phase_dist(int a, int b)
{
    int d = a > b ? a - b : b - a;
    return d < PM_PHASES - d ? d : PM_PHASES - d;
}

static int same_alignment(int a, int b)
{
    return a / PM_PHASES == b / PM_PHASES && circ_phase_dist(a % PM_PHASES, b % PM_PHASES) <= 2;
}

/* The n <= PATH_KEEP best distinct states of the tracker, best first. */
static int top_paths(const key_state *ks, int best[PATH_KEEP])
{
    int n = 0;
    for (int st = 0; st < PM_N_STATES; st++) {
        const float v = ks->path[st];
        int slot = -1;
        for (int i = 0; i < n && slot < 0; i++)
            if (same_alignment(best[i], st))
                slot = v > ks->path[best[i]] ? i : PATH_KEEP;
        if (slot == PATH_KEEP)
            continue;
        if (slot < 0) {
            if (n < PATH_KEEP)
                slot = n++;
            else if (v > ks->path[best[n - 1]])
                slot = n - 1;
            else
                continue;
        }
        best[slot] = st;
        for (int i = slot; i > 0 && ks->path[best[i]] > ks->path[best[i - 1]]; i--) {
            int t = best[i];
            best[i] = best[i - 1];
            best[i - 1] = t;
        }
    }
    return n;
}

static int analyse_window(pm_detector *d, long w0, int len)
{
    for (int f = 0; f < PM_N_FSCALE; f++)
        tile_values(d, w0, len, f);
    pm_window_view view = {.len = len, .n_bands = d->n_bands};
    for (int f = 0; f < PM_N_FSCALE; f++)
        view.val[f] = d->white[f];
    pm_sync_prepare(&view);
    const double sec = d->step / d->rate;
    for (int k = 0; k < d->n_keys; k++) {
        key_state *ks = &d->keys[k];
        window_rec r = {.t0 = w0 * sec, .t1 = (w0 + len + 3) * sec};
        pm_candidate own[PM_TOP];
        int n_own = pm_sync_search(&view, &ks->layout, own, d->scores);
        track(ks, d->scores, &r.path_z);
        /* The tracker's best paths first, then the window's own best, without repeats. */
        int st[PATH_KEEP];
        r.n_tracked = r.n = top_paths(ks, st);
        for (int i = 0; i < r.n_tracked; i++) {
            pm_candidate c = {.fs = (short)(st[i] / (PM_N_TSCALE * PM_PHASES)),
                              .ts = (short)(st[i] / PM_PHASES % PM_N_TSCALE),
                              .phase = (short)(st[i] % PM_PHASES),
                              .z = d->scores[st[i]]};
            pm_sync_read(&view, &ks->layout, &c);
            pack(&c, &r.tracked[i]);
        }
        r.more = malloc(sizeof(pm_candidate) * PM_TOP);
        if (!r.more)
            return PM_ERR_NOMEM;
        for (int i = 0; i < n_own; i++) {
            int own_st = PM_STATE(own[i].fs, own[i].ts, own[i].phase), seen = 0;
            for (int j = 0; j < r.n_tracked; j++)
                seen |= same_alignment(st[j], own_st);
            if (!seen)
                r.more[r.n++ - r.n_tracked] = own[i];
        }
        if (r.n == r.n_tracked) {
            free(r.more);
            r.more = NULL;
        }
        int rc = add_record(ks, &r);
        if (rc != PM_OK) {
            free(r.more);
            return rc;
        }
    }
    return PM_OK;
}

/* Drop ring entries no longer needed as context before `keep_from`. */
static void trim_ring(pm_detector *d, long keep_from)
{
    long drop = keep_from - d->base_step;
    if (drop <= 0)
        return;
    if (drop > d->n_steps)
        drop = d->n_steps;
    size_t row = (size_t)PM_N_FSCALE * d->n_bands;
    memmove(d->energy, d->energy + (size_t)drop * row,
            sizeof(float) * (size_t)(d->n_steps - drop) * row);
    d->n_steps -= (int)drop;
    d->base_step += drop;
}

static int add_step(pm_detector *d)
{
    for (int i = 0; i < d->win; i++)
        d->fft.time[i] = d->mono[i] * d->window[i];
    for (int i = d->win; i < d->nfft; i++)
        d->fft.time[i] = 0.0f;
    fftwf_execute(d->fft.forward);
    float *power = d->fft.time; /* reuse: the time buffer is free until the next frame */
    for (int k = 0; k < d->nbins && k < d->nfft; k++)
        power[k] = d->fft.freq[k][0] * d->fft.freq[k][0] + d->fft.freq[k][1] * d->fft.freq[k][1];
    long step = d->base_step + d->n_steps;
    d->n_steps++;
    for (int f = 0; f < PM_N_FSCALE; f++) {
        float *e = energy_at(d, step, f);
        for (int b = 0; b < d->n_bands; b++) {
            float s = 0.0f;
            for (int k = d->lo[f][b]; k < d->hi[f][b]; k++)
                s += power[k];
            e[b] = s;
        }
    }
    /* Analyse a window only when a whole window still follows it: the stream's last
     * window then takes the remainder, so a short clip is searched in one piece. */
    if (d->base_step + d->n_steps >= d->win_start + 2 * WIN_STEPS + CTX) {
        int rc = analyse_window(d, d->win_start, WIN_STEPS);
        if (rc != PM_OK)
            return rc;
        d->win_start += WIN_STEPS;
        trim_ring(d, d->win_start - CTX);
    }
    return PM_OK;
}

pm_status pm_detector_push_interleaved(pm_detector *d, const float *in, size_t frames)
{
    if (!d || (frames && !in))
        return PM_ERR_ARG;
    if (d->finished)
        return PM_ERR_STATE;
    const float gain = 1.0f / (float)d->channels;
    for (size_t i = 0; i < frames; i++) {
        float m = 0.0f;
        for (int c = 0; c < d->channels; c++)
            m += in[i * (size_t)d->channels + (size_t)c];
        m *= gain;
        d->mono[d->mono_fill++] = isfinite(m) ? m : 0.0f;
        if (d->mono_fill < d->win)
            continue;
        int rc = add_step(d);
        if (rc != PM_OK)
            return rc;
        memmove(d->mono, d->mono + d->step, sizeof(float) * (size_t)(d->win - d->step));
        d->mono_fill = d->win - d->step;
    }
    d->total_frames += (long)frames;
    return PM_OK;
}

static int try_decode(const key_state *ks, const float *soft, uint32_t *model, uint32_t *dataset)
{
    uint8_t info[PMF_PAYLOAD_BITS];
    pm_fec_decode(soft, info);
    return pm_payload_unpack(ks->mac_key, info, model, dataset);
}

static double window_weight(const pm_candidate *c)
{
    return c->mu > 0.0f && c->var > 0.0f ? c->mu / c->var : 0.0;
}

/* Windows whose best candidate agrees with the decoded codeword carry the mark. */
static void find_segments(const key_state *ks, uint32_t model, uint32_t dataset, pm_result *res)
{
    uint8_t info[PMF_PAYLOAD_BITS], coded[PMF_CODED_BITS];
    pm_payload_pack(ks->mac_key, model, dataset, info);
    pm_fec_encode(info, coded);
    res->n_segments = 0;
    for (size_t w = 0; w < ks->n_rec; w++) {
        const window_rec *r = &ks->rec[w];
        double best = -INFINITY;
        for (int i = 0; i < r->n; i++) {
            double dot = 0.0, en = 0.0;
            pm_candidate tmp;
            const pm_candidate *c = cand_at(r, i, &tmp);
            for (int b = 0; b < PMF_CODED_BITS; b++) {
                const float v = c->soft[b];
                dot += coded[b] ? -v : v;
                en += (double)v * v;
            }
            if (en > 0.0 && dot / sqrt(en) > best)
                best = dot / sqrt(en);
        }
        if (best < Z_SEGMENT)
            continue;
        pm_segment *last = res->n_segments ? &res->segments[res->n_segments - 1] : NULL;
        if (last && r->t0 <= last->end + 1e-6) {
            last->end = r->t1;
            if (best > last->score)
                last->score = best;
        } else if (res->n_segments < PM_MAX_SEGMENTS) {
            res->segments[res->n_segments++] = (pm_segment){r->t0, r->t1, best};
        }
    }
}

/*
 * Alignment lines: a mark's candidates in successive windows lie on one line
 * of phase against window index, whose slope the time scale predicts (the
 * phase advances by WIN_STEPS * (tau - 1) per window). Candidates are linked
 * to the line whose last member predicts their phase within the drift the
 * time-scale grid allows; a line's score is the sum of its members' sync z.
 * Noise scatters its candidates over many short lines; a mark builds one long
 * line even where it never wins a window on its own.
 */
#define MAX_LINES 8          /* strongest lines decoded, one attempt each */
#define LINE_TOL 3.0         /* phase tolerance (steps) between neighbouring windows */
#define LINE_DRIFT 1.5       /* extra tolerance per window of gap */
#define LINE_MAX_GAP 8       /* windows a line may skip */

typedef struct line {
    int id; /* index in build order (what `assign` refers to) */
    short fs, ts;
    size_t last_w;
    double last_phase;
    float score;
    int members;
} line;

static double phase_dist(double a, double b)
{
    double d = fmod(fabs(a - b), PM_PHASES);
    return d < PM_PHASES - d ? d : PM_PHASES - d;
}

/*
 * Index of the line (among the live ones) that candidate c of window w
 * extends; -1 if none does; -2 if a line already took a candidate of this
 * window at this alignment.
 */
static int line_of(const line *ln, const int *live, int n_live, size_t w, const pm_candidate *c)
{
    int best = -1;
    double best_d = INFINITY;
    for (int k = 0; k < n_live; k++) {
        const line *x = &ln[live[k]];
        if (x->fs != c->fs || x->ts != c->ts)
            continue;
        double gap = (double)(w - x->last_w);
        double pred = x->last_phase + gap * WIN_STEPS * (pm_tscale(c->ts) - 1.0);
        double dist = phase_dist(pred, c->phase);
        if (dist <= LINE_TOL + LINE_DRIFT * fmax(gap - 1.0, 0.0) && dist < best_d) {
            best = x->last_w == w ? -2 : live[k];
            best_d = dist;
        }
    }
    return best;
}

/*
 * Build the lines of a key's windows into ln (room for every candidate);
 * every candidate is assigned a line in assign (window-major,
 * CANDS_PER_WINDOW per window; -1: none). A window gives a line at most one
 * member, its strongest there; a line not extended for LINE_MAX_GAP windows
 * ends. Returns the number of lines.
 */
static int build_lines(const key_state *ks, line *ln, int *live, int *assign)
{
    int n = 0, n_live = 0;
    for (size_t w = 0; w < ks->n_rec; w++) {
        const window_rec *r = &ks->rec[w];
        int kept = 0;
        for (int k = 0; k < n_live; k++)
            if (ln[live[k]].last_w + LINE_MAX_GAP >= w)
                live[kept++] = live[k];
        n_live = kept;
        int order[CANDS_PER_WINDOW];
        for (int i = 0; i < r->n; i++) { /* strongest first */
            int j = i;
            for (; j > 0 && cand_z(r, order[j - 1]) < cand_z(r, i); j--)
                order[j] = order[j - 1];
            order[j] = i;
        }
        for (int k = 0; k < r->n; k++) {
            const int i = order[k];
            pm_candidate tmp;
            const pm_candidate *c = cand_at(r, i, &tmp);
            int l = line_of(ln, live, n_live, w, c);
            if (l == -1) {
                l = n++;
                live[n_live++] = l;
                ln[l] = (line){.id = l, .fs = c->fs, .ts = c->ts};
            }
            assign[w * CANDS_PER_WINDOW + (size_t)i] = l < 0 ? -1 : l;
            if (l < 0)
                continue;
            ln[l].last_w = w;
            ln[l].last_phase = c->phase;
            ln[l].score += fmaxf(c->z, 0.0f);
            ln[l].members++;
        }
    }
    return n;
}

/* Sum the soft bits of line l's members, each weighted by its estimated SNR. */
static void combine_line(const key_state *ks, const int *assign, int l, float acc[PMF_CODED_BITS])
{
    memset(acc, 0, sizeof(float) * PMF_CODED_BITS);
    for (size_t w = 0; w < ks->n_rec; w++)
        for (int i = 0; i < ks->rec[w].n; i++) {
            if (assign[w * CANDS_PER_WINDOW + (size_t)i] != l)
                continue;
            pm_candidate tmp;
            const pm_candidate *c = cand_at(&ks->rec[w], i, &tmp);
            double wt = window_weight(c);
            for (int b = 0; b < PMF_CODED_BITS; b++)
                acc[b] += (float)(wt * c->soft[b]);
        }
}

static int by_score(const void *a, const void *b)
{
    float x = ((const line *)a)->score, y = ((const line *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Decode the strongest multi-window lines of a key, one attempt each, while
 * *used < budget. Returns 1 with the IDs on success.
 */
static int decode_lines(const key_state *ks, int budget, int *used, uint32_t *model, uint32_t *dataset)
{
    if (ks->n_rec < 2)
        return 0;
    size_t n_cand = ks->n_rec * CANDS_PER_WINDOW;
    line *ln = malloc(sizeof *ln * n_cand);
    int *live = malloc(sizeof *live * n_cand);
    int *assign = malloc(sizeof *assign * n_cand);
    int found = PM_ERR_NOMEM;
    if (!ln || !live || !assign)
        goto out;
    int n = build_lines(ks, ln, live, assign);
    qsort(ln, (size_t)n, sizeof *ln, by_score);
    found = 0;
    for (int i = 0, tried = 0; i < n && tried < MAX_LINES && *used < budget && !found; i++) {
        if (ln[i].members < 2)
            continue; /* a single window: tried with the single candidates */
        float acc[PMF_CODED_BITS];
        combine_line(ks, assign, ln[i].id, acc);
        tried++;
        (*used)++;
        found = try_decode(ks, acc, model, dataset);
    }
out:
    free(assign);
    free(live);
    free(ln);
    return found;
}

typedef struct attempt {
    size_t window;
    int index;
    float z;
} attempt;

static int by_z(const void *a, const void *b)
{
    float za = ((const attempt *)a)->z, zb = ((const attempt *)b)->z;
    return za < zb ? 1 : za > zb ? -1 : 0;
}

pm_status pm_detector_finish(pm_detector *d, pm_result *res)
{
    if (!d || !res)
        return PM_ERR_ARG;
    if (d->finished)
        return PM_ERR_STATE;
    d->finished = 1;
    memset(res, 0, sizeof *res);
    res->key_index = -1;
    res->speed = res->tempo = 1.0;
    long end = d->base_step + d->n_steps;
    int rest = (int)(end - d->win_start);
    int any = d->keys[0].n_rec > 0;
    if (rest >= MIN_LAST_STEPS || (!any && rest >= PM_SUB * 4)) {
        int rc = analyse_window(d, d->win_start, rest);
        if (rc != PM_OK)
            return rc;
    }
    const int budget = PMF_MAX_ATTEMPTS / d->n_keys;
    int used = 0;
    uint32_t model = 0, dataset = 0;
    int hit = -1;
    for (int k = 0; k < d->n_keys && hit < 0; k++) {
        key_state *ks = &d->keys[k];
        int key_used = 0;
        for (size_t w = 0; w < ks->n_rec; w++)
            if (ks->rec[w].path_z > res->sync_z) {
                res->sync_z = ks->rec[w].path_z;
                res->speed = pm_fscale(ks->rec[w].tracked[0].fs);
                res->tempo = pm_tscale(ks->rec[w].tracked[0].ts);
            }
        /* 1: the strongest alignment lines across windows. */
        float acc[PMF_CODED_BITS] = {0};
        int rc = decode_lines(ks, budget, &key_used, &model, &dataset);
        if (rc < 0)
            return rc;
        if (rc > 0)
            hit = k;
        /* 2: every well-synchronised window, weighted by its estimated SNR. */
        int combined = 0;
        for (size_t w = 0; w < ks->n_rec; w++) {
            pm_candidate tmp;
            const pm_candidate *c = cand_at(&ks->rec[w], 0, &tmp);
            if (!ks->rec[w].n || ks->rec[w].path_z < Z_COMBINE)
                continue;
            double wt = window_weight(c);
            for (int b = 0; b < PMF_CODED_BITS; b++)
                acc[b] += (float)(wt * c->soft[b]);
            combined++;
        }
        if (hit < 0 && combined > 1 && key_used < budget) {
            key_used++;
            if (try_decode(ks, acc, &model, &dataset))
                hit = k;
        }
        /* 3: single candidates, strongest sync first. */
        size_t n_att = 0;
        attempt *att = NULL;
        if (hit < 0 && ks->n_rec) {
            att = malloc(sizeof *att * ks->n_rec * CANDS_PER_WINDOW);
            if (!att)
                return PM_ERR_NOMEM;
            for (size_t w = 0; w < ks->n_rec; w++)
                for (int i = 0; i < ks->rec[w].n; i++)
                    att[n_att++] = (attempt){w, i, cand_z(&ks->rec[w], i)};
            qsort(att, n_att, sizeof *att, by_z);
        }
        for (size_t i = 0; hit < 0 && i < n_att && key_used < budget; i++) {
            key_used++;
            pm_candidate tmp;
            const pm_candidate *c = cand_at(&ks->rec[att[i].window], att[i].index, &tmp);
            if (try_decode(ks, c->soft, &model, &dataset)) {
                hit = k;
                res->speed = pm_fscale(c->fs);
                res->tempo = pm_tscale(c->ts);
            }
        }
        free(att);
        used += key_used;
    }
    res->attempts = used;
    /* Each attempt passes the 4 version + 32 tag bits by chance with probability 2^-36. */
    res->p_false = used * ldexp(1.0, -(PMF_VERSION_BITS + PMF_TAG_BITS));
    if (hit >= 0) {
        res->found = 1;
        res->key_index = hit;
        res->model_id = model;
        res->dataset_id = dataset;
        find_segments(&d->keys[hit], model, dataset, res);
    }
    return PM_OK;
}
