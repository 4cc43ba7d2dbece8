/*
 * Blind streaming detector. Audio is mixed to mono and analysed with a
 * sine-windowed STFT at half the embed hop. Every key is searched in both format
 * versions' geometries, each (key, version) a key state of its own. For each searched
 * frequency scale the band energies of the frames a tile spans (two in version 1, one
 * in version 2) form a tile value in dB; a chip is read as the difference of its two
 * tiles, so the music's slowly varying envelope cancels. Analysis windows of two payload periods are searched
 * for sync (so speed drift never accumulates within one); an alignment
 * tracker links the windows' scores along the phase path each time scale
 * predicts, and each window keeps the tracker's best few paths and its own
 * best alignments. At the end, candidates are chained into alignment lines
 * across windows; the soft bits of the strongest lines (and of those whose
 * decoded word agrees clearly with them) are combined and decoded with the
 * Viterbi decoder, and accepted only if the keyed tag checks;
 * so are single windows, pairs of windows (on a tracked path, and at the best
 * alignment of the two together) and single alignments. Every distinct
 * word that checks is a mark; each window then goes to the mark it agrees with
 * best, and boundaries are placed inside windows from their quarters.
 * Scales far from 1 (0.80 .. 1.25): the spectra of the stream's first 12-36 s are
 * kept for a blind estimate (scale.h); when the grid around 1 misses it, a second
 * pipeline with a grid around the estimate is fed the kept spectra, then the
 * stream, and both are decoded within the file's checks.
 * Memory is a fixed ring, the tracker's score tables (~200 KB per key state), the reads
 * of the 64 strongest pairs (~75 KB per key state) and a ~1.2 KB record per 6 s window
 * and key state (~1.4 MB per hour and key); for the scale estimate, 2.6 MB of spectra
 * at most and 0.5 MB per key state (both freed once it is made); a second pipeline ~2 MB
 * and its records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fec.h"
#include "fft.h"
#include "key.h"
#include "layout.h"
#include "level.h"
#include "payload.h"
#include "provmark.h"
#include "scale.h"
#include "fold.h"
#include "sync.h"

#define WIN_STEPS PM_WIN_STEPS
#define CTX 1 /* one step of look-ahead: a tile value spans two analysis frames */
_Static_assert(2 * WIN_STEPS + CTX - 1 <= PM_MAX_WINDOW, "the last window must fit pm_sync_prepare");
#define MIN_LAST_STEPS (PM_STEPS_PER_FRAME * 32) /* a trailing window shorter than 32 hops is dropped */
/*
 * Every key is searched in every format version: a key state is a (key, version) pair,
 * state s being key s / PMF_VERSIONS read in version s % PMF_VERSIONS + 1. States share
 * the band energies; each version has its own tile values, chip values and folds.
 */
#define MAX_STATES (PM_MAX_KEYS * PMF_VERSIONS)
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
/*
 * A window's best alignments (its tracked path and its own best) are also read in
 * the window before it where that window has no candidate there: a mark that
 * starts after unmarked audio (or after another key's mark) has no tracked path
 * in its first window, and its alignment there is often not among the window's
 * own few best, so the run of the mark would start a window late. These
 * read-backs say which mark a window carries and where its boundaries lie; they
 * take no part in the lines and searches that find marks (a noise alignment read
 * back would lengthen its own line), only in decode_runs, which reads a run of
 * windows at the alignments that agree best with a mark already found.
 */
#define BACK_READS 2 /* alignments read back; the stronger is kept */
#define BACK_Z 2.0f  /* sync z a read-back needs to be kept (memory: most noise ones are not) */
#define BACK_REACH 4 /* phases (quarter tiles) searched either side of a read-back's projection */
/*
 * The stream folded on the period (fold.h) at the grid's centre scales. A mark found
 * from the fold alone is too weak for any window to carry it (Z_SEGMENT); it is given
 * the run of windows whose sync z at its phase, less FOLD_DRIFT, sums highest.
 */
#define FOLD_F (PM_N_FSCALE / 2)
#define FOLD_T (PM_N_TSCALE / 2)
#define FOLD_Z_SCALE 16.0f
#define FOLD_DRIFT 0.5
/*
 * Two folds where the embedder's hop is not a whole number of samples at the stream's
 * rate (at 48 kHz: 1115 samples for 1114.56): a mark made at this rate advances with the
 * rounded hop, one made at 44.1 kHz and resampled with the exact one. Over minutes the
 * two part by more than a chip; each fold follows one.
 */
#define FOLDS 2
#define FOLD_CANDS (FOLDS * PM_FOLD_KEEP) /* fold sums per key */
#define FOLD_Z_PHASES (PM_PHASES / 2)     /* fold_z keeps every second phase (a chip spans 8) */

/* An alignment and its sync statistics, without its soft values. */
typedef struct cand_head {
    float z, mu, var;
    short fs, ts, phase;
} cand_head;

/* Soft values in 8 bits (plenty for Viterbi). */
typedef struct soft8 {
    float scale;
    int8_t v[PMF_CODED_BITS];
} soft8;

/* Soft values of one part of a window in 4 bits (they are summed before use). */
#define NIBBLE_MAX 7
typedef struct soft4 {
    float scale;
    uint8_t v[PMF_CODED_BITS / 2];
} soft4;

/* A read of a window at an alignment found elsewhere, by part: a read-back, a side of a pair. */
typedef struct extra_read {
    cand_head head;
    soft4 part[PM_PARTS];
} extra_read;

/*
 * Pairs. A mark shorter than about three windows (a piece of a splice, a short insert)
 * may be among no window's candidates: its sync evidence is split between two windows
 * and neither alone stands out of the music. For each window and the one before, the
 * alignment whose sync z summed over both (along the path its time scale predicts: the
 * tracker without its past) is highest is read in both and decoded as one (decode_pairs).
 * Where it is the best tracked path of both, their reads are used; otherwise the pair's
 * reads are kept for the MAX_PAIRS strongest pairs of a key (memory stays bounded).
 */
#define MAX_PAIRS PMF_MAX_ATTEMPTS
#define PAIR_FRESH_Z 5.0f /* a pair above the best music alone gives a window pair (about 4.5) */
#define PAIR_CHECKS 8 /* pair sums checked per key, strongest first */
#define PAIR_RUN_MAX 3 /* two pairs that share a window's alignment are also summed as one run */

typedef struct pair_slot {
    extra_read side[2]; /* the read in window w - 1, the read in window w */
    size_t w;
    float z; /* the sides' sync z, summed, over sqrt 2 */
    int fresh; /* strong (PAIR_FRESH_Z), at an alignment one of its windows has no read near */
} pair_slot;

/*
 * What a window keeps while it is among the MAX_RICH strongest of its key state: its
 * own best alternatives, and its tracked paths after the first by part, so that
 * whichever alignment reads a mark best tells where in the window the mark is (a short
 * mark at the end of a file is often read best at one of them).
 */
typedef struct rich_rec {
    extra_read alt[PM_TOP];
    soft4 path_part[PATH_KEEP - 1][PM_PARTS];
} rich_rec;

/*
 * About 1.2 KB. The best tracked path's soft values are kept per part of the
 * window (their sum is the whole window's): where in the window a payload is,
 * which places the boundaries of marks finer than a window.
 */
typedef struct window_rec {
    double t0, t1;
    float part_len;         /* seconds per part */
    float path_z;           /* tracked alignment score (past and this window) */
    int n_tracked;          /* candidates: the tracker's n_tracked best paths, */
    int n;                  /* then n - n_tracked of the window's own in `more` */
    cand_head head[PATH_KEEP];
    soft4 part[PM_PARTS];       /* path 0, by part */
    soft8 soft[PATH_KEEP - 1];  /* paths 1.. */
    rich_rec *more;         /* NULL once the window is not among the strongest */
    int n_back;             /* 1 if the window has a read-back: candidate n */
    extra_read *back;       /* or NULL */
    const extra_read *pair_side[2]; /* its sides of pairs with the window before / after (a key's slot), or NULL */
    int pair_on_path;       /* its pair with the window before is the tracked path of both */
    int8_t fold_z[FOLD_Z_PHASES]; /* sync z at every second phase of the fold's scales, times FOLD_Z_SCALE */
} window_rec;

static float peak_of(const float *v)
{
    float peak = 0.0f;
    for (int b = 0; b < PMF_CODED_BITS; b++)
        peak = fmaxf(peak, fabsf(v[b]));
    return peak;
}

static void pack8(const float *v, soft8 *p)
{
    const float peak = peak_of(v);
    p->scale = peak / 127.0f;
    for (int b = 0; b < PMF_CODED_BITS; b++)
        p->v[b] = (int8_t)(peak > 0.0f ? lrintf(v[b] / p->scale) : 0);
}

static void pack4(const float *v, soft4 *p)
{
    const float peak = peak_of(v);
    p->scale = peak / NIBBLE_MAX;
    for (int b = 0; b < PMF_CODED_BITS; b += 2) {
        long lo = peak > 0.0f ? lrintf(v[b] / p->scale) : 0;
        long hi = peak > 0.0f ? lrintf(v[b + 1] / p->scale) : 0;
        p->v[b / 2] = (uint8_t)((lo + NIBBLE_MAX) | (hi + NIBBLE_MAX) << 4);
    }
}

/* Add part j of window r's best path to acc. */
static void add_part(const soft4 *p, float acc[PMF_CODED_BITS])
{
    for (int b = 0; b < PMF_CODED_BITS; b += 2) {
        acc[b] += (float)((p->v[b / 2] & 15) - NIBBLE_MAX) * p->scale;
        acc[b + 1] += (float)((p->v[b / 2] >> 4) - NIBBLE_MAX) * p->scale;
    }
}

/* A window's extra reads (candidates n .. n + n_extra - 1): its read-back, then its sides of pairs. */
static int n_extra(const window_rec *r)
{
    return r->n_back + (r->pair_side[0] != NULL) + (r->pair_side[1] != NULL);
}

static const extra_read *extra_at(const window_rec *r, int e)
{
    if (e < r->n_back)
        return r->back;
    e -= r->n_back;
    return e == 0 && r->pair_side[0] ? r->pair_side[0] : r->pair_side[1];
}

/* Candidate i of a window (tracked paths, then alternatives, then extra reads): its
 * alignment and sync statistics. */
static const cand_head *head_at(const window_rec *r, int i)
{
    return i < r->n_tracked ? &r->head[i] : i < r->n ? &r->more->alt[i - r->n_tracked].head : &extra_at(r, i - r->n)->head;
}

/* Its soft values by part, or NULL: a tracked path after the first, in a window no longer rich. */
static const soft4 *parts_at(const window_rec *r, int i)
{
    if (i == 0)
        return r->part;
    if (i < r->n_tracked)
        return r->more ? r->more->path_part[i - 1] : NULL;
    return i < r->n ? r->more->alt[i - r->n_tracked].part : extra_at(r, i - r->n)->part;
}

static float cand_z(const window_rec *r, int i) { return head_at(r, i)->z; }

/* The alignment state (PM_STATE) of candidate i of a window. */
static int cand_state(const window_rec *r, int i)
{
    const cand_head *h = head_at(r, i);
    return PM_STATE(h->fs, h->ts, h->phase);
}

/* Candidate i of a window, expanded into *tmp (tracked paths after the first from
 * their 8-bit sums, which they keep when the window is no longer rich). */
static const pm_candidate *cand_at(const window_rec *r, int i, pm_candidate *tmp)
{
    const cand_head *h = head_at(r, i);
    tmp->z = h->z, tmp->mu = h->mu, tmp->var = h->var;
    tmp->fs = h->fs, tmp->ts = h->ts, tmp->phase = h->phase;
    if (i == 0 || i >= r->n_tracked) {
        const soft4 *parts = parts_at(r, i);
        memset(tmp->soft, 0, sizeof tmp->soft);
        for (int j = 0; j < PM_PARTS; j++)
            add_part(&parts[j], tmp->soft);
    } else {
        const soft8 *packed = &r->soft[i - 1];
        for (int b = 0; b < PMF_CODED_BITS; b++)
            tmp->soft[b] = packed->v[b] * packed->scale;
    }
    return tmp;
}

/* An ID pair the caller expects (pm_detector_expect()). */
typedef struct expected_pair {
    int key;
    uint32_t model, dataset;
} expected_pair;

/*
 * The alignment tracker: for every state (frequency scale, time scale, phase)
 * the decayed sum of the sync z of all windows so far along the path that
 * this time scale predicts (the phase advances by WIN_STEPS * (tau - 1) per
 * window, within one step). A mark's alignment accumulates evidence from
 * window to window; noise does not.
 */
typedef struct key_state {
    pm_layout layout; /* of the state's version */
    uint8_t mac_key[32];
    float *path, *path_next; /* PM_N_STATES each */
    float *last_z;           /* the last window's sync z (PM_N_STATES), for pairs */
    pair_slot *pair[MAX_PAIRS];
    int n_pairs;
    int pending;             /* the slot of the latest pair, until its earlier side is read; or -1 */
    int pending_state;       /* that side's alignment state */
    int path_windows;
    double path_norm2;
    window_rec *rec;
    size_t n_rec, cap_rec, n_rich;
} key_state;

struct pm_detector {
    double rate;
    int channels, n_users; /* keys given */
    int n_keys;            /* key states: n_users x PMF_VERSIONS */
    int step, win, nfft, nbins, n_bands;
    double fbase, tbase; /* centre of the scale grid (1, 1 unless estimated: scale.h) */
    pm_grid grid;        /* the part of it searched */
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
    float *white[PM_N_FSCALE]; /* 2 WIN_STEPS x n_bands tile values (dB), of one version at a time */
    float *scores;             /* PM_N_STATES sync z of the current window */
    pm_sync_tables *tables;    /* the sync search's scratch (pm_window_view.tables) */
    int borrowed;              /* white, scores and table are the first pipeline's */
    const pm_layout *layouts[MAX_STATES];
    pm_scale_est *est;         /* the stream's start, for the scale estimate (first pipeline only) */
    int settled;               /* the estimate is made */
    pm_detector *scaled;       /* the pipeline centred on the estimate, if this grid misses it */
    long total_frames;
    int finished;
    int failed; /* a push failed: its window is half analysed, so the stream cannot go on */
    int n_marks; /* after finish: marks[0..n_marks), strongest first */
    pm_mark marks[PM_MAX_MARKS];
    uint8_t recognised[PM_MAX_MARKS]; /* mark m was recognised as an expected pair, not decoded */
    uint8_t formats[PM_MAX_MARKS];    /* after finish: mark m's format versions, bit v - 1 for version v */
    expected_pair *expect;            /* pm_detector_expect() (first pipeline only) */
    int n_expect;
    pm_fold fold[PMF_VERSIONS][FOLDS]; /* per version, the stream folded on the period, n_folds of them */
    int n_folds;
    key_state keys[MAX_STATES];
};

/*
 * A pipeline: band energies, windows, tracker and records for one grid of scales
 * centred on (fbase, tbase); without the keys' material, the STFT and the estimator.
 * A pipeline made with `lend` shares its scratch (tile values, scores, search table):
 * the two analyse their windows one after the other.
 */
static pm_detector *pipeline_new(double rate, int channels, int n_users, double fbase, double tbase,
                                 pm_grid grid, const pm_detector *lend)
{
    const int n_keys = n_users * PMF_VERSIONS;
    pm_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->rate = rate;
    d->fbase = fbase;
    d->tbase = tbase;
    d->grid = grid;
    d->channels = channels;
    d->n_users = n_users;
    d->n_keys = n_keys;
    d->step = (int)lround(rate * PMF_HOP_SECONDS / 2.0);
    d->win = 4 * d->step;
    d->nfft = pm_fft_size(d->win);
    d->nbins = d->nfft / 2 + 1;
    d->n_bands = pm_bandplan_get()->n;
    /* The mark advances tbase * step / (exact half hop) per step (the step is rounded to samples). */
    const double exact = tbase * d->step / (rate * PMF_HOP_SECONDS / 2.0);
    const double rounded = tbase * d->step / (pm_hop_samples(rate) / 2.0);
    d->n_folds = fabs(exact - rounded) > 1e-9 ? 2 : 1;
    for (int g = 0; g < PMF_VERSIONS; g++) /* (a fold not in use is never touched) */
        for (int i = 0; i < d->n_folds; i++)
            pm_fold_init(&d->fold[g][i], d->n_bands, i ? rounded : exact);
    for (int f = 0; f < PM_N_FSCALE; f++) {
        pm_band_bins(rate, d->nfft, d->fbase * pm_fscale(f), d->lo[f], d->hi[f]);
        for (int b = 0; b < d->n_bands; b++)
            d->band_ok[f][b] = d->hi[f][b] > d->lo[f][b] && d->hi[f][b] < d->nbins;
    }
    d->cap = 3 * WIN_STEPS + 3 * CTX; /* the window before (read_back), the next, the rest */
    size_t nb = (size_t)d->n_bands;
    d->energy = malloc(sizeof(float) * (size_t)d->cap * PM_N_FSCALE * nb);
    int ok = d->energy != NULL;
    for (int k = 0; k < n_keys; k++) {
        d->keys[k].path = malloc(sizeof(float) * PM_N_STATES);
        d->keys[k].path_next = malloc(sizeof(float) * PM_N_STATES);
        d->keys[k].last_z = malloc(sizeof(float) * PM_N_STATES);
        d->keys[k].pending = -1;
        ok = ok && d->keys[k].path && d->keys[k].path_next && d->keys[k].last_z;
    }
    d->borrowed = lend != NULL;
    if (lend) {
        d->scores = lend->scores;
        d->tables = lend->tables;
        memcpy(d->white, lend->white, sizeof d->white);
    } else {
        d->scores = malloc(sizeof(float) * PM_N_STATES);
        d->tables = malloc(sizeof *d->tables);
        ok = ok && d->scores && d->tables;
        for (int f = 0; f < PM_N_FSCALE; f++)
            ok = ok && (d->white[f] = malloc(sizeof(float) * 2 * WIN_STEPS * nb)) != NULL;
    }
    if (!ok) {
        pm_detector_free(d);
        return NULL;
    }
    return d;
}

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
    pm_detector *d = pipeline_new(rate, channels, n_keys, 1.0, 1.0, PM_GRID_FULL, NULL);
    if (!d)
        return PM_ERR_NOMEM;
    for (int k = 0; k < d->n_keys; k++) {
        const pm_key *key = &keys[k / PMF_VERSIONS];
        int rc = pm_layout_make(&d->keys[k].layout, key, k % PMF_VERSIONS + 1);
        if (rc == PM_OK)
            rc = pm_key_derive_mac(key, d->keys[k].mac_key);
        if (rc != PM_OK) {
            pm_detector_free(d);
            return rc;
        }
        d->layouts[k] = &d->keys[k].layout;
    }
    d->window = malloc(sizeof(float) * (size_t)d->win);
    d->mono = calloc((size_t)d->win, sizeof(float));
    d->est = pm_scale_est_new(rate, d->nfft, d->n_keys);
    if (!d->window || !d->mono || !d->est || pm_fft_init(&d->fft, d->nfft) != 0) {
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
            free(d->keys[k].rec[w].more), free(d->keys[k].rec[w].back);
        free(d->keys[k].rec);
        free(d->keys[k].path);
        free(d->keys[k].path_next);
        free(d->keys[k].last_z);
        for (int i = 0; i < d->keys[k].n_pairs; i++)
            free(d->keys[k].pair[i]);
    }
    if (!d->borrowed) {
        free(d->scores);
        free(d->tables);
        for (int f = 0; f < PM_N_FSCALE; f++)
            free(d->white[f]);
    }
    pm_detector_free(d->scaled);
    pm_scale_est_free(d->est);
    free(d->expect);
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
    d->failed = 0;
    d->n_marks = 0;
    memset(d->recognised, 0, sizeof d->recognised);
    for (int g = 0; g < PMF_VERSIONS; g++)
        for (int i = 0; i < d->n_folds; i++)
            pm_fold_init(&d->fold[g][i], d->n_bands, d->fold[g][i].tau);
    d->settled = 0;
    pm_detector_free(d->scaled);
    d->scaled = NULL;
    pm_scale_est_reset(d->est);
    for (int k = 0; k < d->n_keys; k++) {
        for (size_t w = 0; w < d->keys[k].n_rec; w++)
            free(d->keys[k].rec[w].more), free(d->keys[k].rec[w].back);
        d->keys[k].n_rec = 0;
        d->keys[k].n_rich = 0;
        d->keys[k].pending = -1;
        for (int i = 0; i < d->keys[k].n_pairs; i++)
            free(d->keys[k].pair[i]);
        d->keys[k].n_pairs = 0;
        d->keys[k].path_windows = 0;
        d->keys[k].path_norm2 = 0.0;
    }
}

static float *energy_at(pm_detector *d, long step, int f)
{
    return d->energy + ((size_t)(step - d->base_step) * PM_N_FSCALE + (size_t)f) * d->n_bands;
}

/* The state's version, as an index (0 .. PMF_VERSIONS - 1). */
static int geo_of(const key_state *ks) { return ks->layout.version - 1; }

/*
 * Tile values (dB) of window [w0, w0+len) at frequency scale f in the geometry of version
 * g + 1 into d->white[f]: a version-1 tile (two hops) is read from two analysis frames
 * half a hop apart, a version-2 tile (one hop) from one.
 */
static void tile_values(pm_detector *d, long w0, int len, int f, int g)
{
    const int nb = d->n_bands, two = PMF_FRAMES_PER_TILE(g + 1) == PMF_V1_FRAMES_PER_TILE;
    const long end = d->base_step + d->n_steps;
    for (int s = 0; s < len; s++) {
        const float *e0 = energy_at(d, w0 + s, f);
        const float *e1 = w0 + s + 1 < end ? energy_at(d, w0 + s + 1, f) : e0;
        float *out = d->white[f] + (size_t)s * nb;
        if (two)
            for (int b = 0; b < nb; b++) /* every band, then the unmeasured ones cleared: this vectorises */
                out[b] = pm_level_db(e0[b] + e1[b]);
        else
            for (int b = 0; b < nb; b++)
                out[b] = pm_level_db(e0[b]);
        for (int b = 0; b < nb; b++)
            if (!d->band_ok[f][b])
                out[b] = 0.0f;
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
            if (x->more && (!weakest || x->head[0].z < weakest->head[0].z))
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
static void track(key_state *ks, const float *z, double tbase, const pm_grid *g, float *path_z)
{
    const float lambda = ks->path_windows ? PATH_DECAY : 0.0f;
    int best = PM_STATE(g->f0, g->t0, 0);
    for (int fs = 0; fs < PM_N_FSCALE; fs++)
        for (int ts = 0; ts < PM_N_TSCALE; ts++) {
            if (fs < g->f0 || fs >= g->f1 || ts < g->t0 || ts >= g->t1) { /* not searched */
                for (int p = 0; p < PM_PHASES; p++)
                    ks->path_next[PM_STATE(fs, ts, p)] = -INFINITY;
                continue;
            }
            const float *prev = ks->path + PM_STATE(fs, ts, 0);
            const double shift = WIN_STEPS * (tbase * pm_tscale(ts) - 1.0);
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

static int same_alignment(int a, int b)
{
    return a / PM_PHASES == b / PM_PHASES && pm_phase_dist(a % PM_PHASES, b % PM_PHASES) <= 2;
}

/* Within the reach of a read-back's search: same frequency scale, time scale within one
 * step, phase within BACK_REACH (the window before already holds this alignment). */
static int near_alignment(int a, int b)
{
    const int fa = a / (PM_N_TSCALE * PM_PHASES), fb = b / (PM_N_TSCALE * PM_PHASES);
    const int ta = a / PM_PHASES % PM_N_TSCALE, tb = b / PM_PHASES % PM_N_TSCALE;
    return fa == fb && abs(ta - tb) <= 1 && pm_phase_dist(a % PM_PHASES, b % PM_PHASES) <= BACK_REACH;
}

/* The n <= PATH_KEEP best distinct states of the tracker, best first. */
static int top_paths(const key_state *ks, int best[PATH_KEEP])
{
    int n = 0;
    for (int st = 0; st < PM_N_STATES; st++) {
        const float v = ks->path[st];
        if (v == -INFINITY)
            continue; /* outside the pipeline's grid */
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

/* The alignment of state st (PM_STATE), as a candidate without statistics. */
static pm_candidate state_cand(int st)
{
    return (pm_candidate){.fs = (short)(st / (PM_N_TSCALE * PM_PHASES)), .ts = (short)(st / PM_PHASES % PM_N_TSCALE),
                          .phase = (short)(st % PM_PHASES)};
}

/* Pack a read (c, and its soft values by part) into e. */
static void pack_read(extra_read *e, const pm_candidate *c, const float (*parts)[PMF_CODED_BITS])
{
    e->head = (cand_head){c->z, c->mu, c->var, c->fs, c->ts, c->phase};
    for (int p = 0; p < PM_PARTS; p++)
        pack4(parts[p], &e->part[p]);
}

/* Read window `view` at state st into c (z included) and its parts. */
static void read_state(const pm_window_view *view, const pm_layout *L, int st, pm_candidate *c,
                       float (*parts)[PMF_CODED_BITS])
{
    *c = state_cand(st);
    c->z = pm_sync_read(view, L, c, parts);
}

/* Chip values of the window before the latest (it starts at prev0) at frequency scale f
 * in version g + 1 into view, unless ready[f] says they are there. */
static void prepare_before(pm_detector *d, pm_window_view *view, int ready[PM_N_FSCALE], long prev0, int f, int g)
{
    if (ready[f])
        return;
    tile_values(d, prev0, WIN_STEPS, f, g);
    pm_sync_prepare_one(view->val[f], WIN_STEPS, d->n_bands, view->tile_steps, view->energy[f]);
    ready[f] = 1;
}

/* A view of a window of len steps in version g + 1's geometry, on d's tile values. */
static void make_view(pm_detector *d, pm_window_view *view, int len, int g)
{
    *view = (pm_window_view){.len = len, .n_bands = d->n_bands,
                             .tile_steps = PM_STEPS_PER_FRAME * PMF_FRAMES_PER_TILE(g + 1),
                             .tbase = d->tbase, .grid = d->grid, .tables = d->tables};
    for (int f = 0; f < PM_N_FSCALE; f++)
        view->val[f] = d->white[f];
}

/*
 * The pair of the latest window (sync z in z) with the one before (ks->last_z): the state
 * whose z plus the best of the three states its time scale projects into the window
 * before is highest; *prev: that state of the window before; *top: their sum. -1 before
 * the second window.
 */
static int best_pair(const key_state *ks, const float *z, double tbase, const pm_grid *g, int *prev, float *top)
{
    int best = -1;
    *top = -INFINITY;
    if (!ks->n_rec)
        return best;
    for (int fs = g->f0; fs < g->f1; fs++)
        for (int ts = g->t0; ts < g->t1; ts++) {
            const float *last = ks->last_z + PM_STATE(fs, ts, 0);
            const double shift = WIN_STEPS * (tbase * pm_tscale(ts) - 1.0);
            for (int p = 0; p < PM_PHASES; p++) {
                const int c = (int)lround(p - shift);
                for (int dp = -1; dp <= 1; dp++) {
                    const int q = ((c + dp) % PM_PHASES + PM_PHASES) % PM_PHASES;
                    const float v = z[PM_STATE(fs, ts, p)] + last[q];
                    if (v > *top)
                        *top = v, best = PM_STATE(fs, ts, p), *prev = PM_STATE(fs, ts, q);
                }
            }
        }
    return best;
}

/* Whether window r has a read near alignment state st. */
static int holds_near(const window_rec *r, int st)
{
    for (int i = 0; i < r->n + n_extra(r); i++)
        if (near_alignment(st, cand_state(r, i)))
            return 1;
    return 0;
}

/*
 * Slots are given up weakest first, fresh pairs last: in a long file the pairs inside
 * marks (at alignments their windows already read) would otherwise fill every slot
 * and crowd out a short piece's pair, which no window reads.
 */
static int weaker_slot(const pair_slot *a, int fresh, float z)
{
    return a->fresh != fresh ? a->fresh < fresh : a->z < z;
}

/*
 * A slot for a pair of strength z (fresh or not): a new one while fewer than MAX_PAIRS
 * are kept, else the weakest kept, if weaker (its windows forget it). -1: none (*nomem
 * set if out of memory).
 */
static int pair_slot_for(key_state *ks, int fresh, float z, int *nomem)
{
    if (ks->n_pairs < MAX_PAIRS) {
        pair_slot *sl = malloc(sizeof *sl);
        if (!sl) {
            *nomem = 1;
            return -1;
        }
        sl->w = 0;
        ks->pair[ks->n_pairs] = sl;
        return ks->n_pairs++;
    }
    int weakest = 0;
    for (int i = 1; i < MAX_PAIRS; i++)
        if (weaker_slot(ks->pair[i], ks->pair[weakest]->fresh, ks->pair[weakest]->z))
            weakest = i;
    pair_slot *sl = ks->pair[weakest];
    if (!weaker_slot(sl, fresh, z))
        return -1;
    if (sl->w < ks->n_rec && ks->rec[sl->w].pair_side[0] == &sl->side[1])
        ks->rec[sl->w].pair_side[0] = NULL;
    if (sl->w > 0 && sl->w - 1 < ks->n_rec && ks->rec[sl->w - 1].pair_side[1] == &sl->side[0])
        ks->rec[sl->w - 1].pair_side[1] = NULL;
    return weakest;
}

/* read_back() for the key states of version g + 1, which share its tile values. */
static int read_back_geometry(pm_detector *d, long prev0, int g)
{
    int ready[PM_N_FSCALE] = {0};
    pm_window_view views;
    make_view(d, &views, WIN_STEPS, g);
    pm_window_view *view = &views;
    for (int k = g; k < d->n_keys; k += PMF_VERSIONS) {
        key_state *ks = &d->keys[k];
        if (ks->n_rec < 2)
            continue;
        window_rec *cur = &ks->rec[ks->n_rec - 1];
        window_rec *prev = &ks->rec[ks->n_rec - 2];
        if (ks->pending >= 0) { /* the latest pair's side in this window */
            prepare_before(d, view, ready, prev0, state_cand(ks->pending_state).fs, g);
            pair_slot *sl = ks->pair[ks->pending];
            pm_candidate c;
            float parts[PM_PARTS][PMF_CODED_BITS];
            read_state(view, &ks->layout, ks->pending_state, &c, parts);
            pack_read(&sl->side[0], &c, parts);
            sl->w = ks->n_rec - 1;
            prev->pair_side[1] = &sl->side[0];
            cur->pair_side[0] = &sl->side[1];
            ks->pending = -1;
        }
        const int from[BACK_READS] = {0, cur->n_tracked};
        pm_candidate got[BACK_READS];
        int n_got = 0;
        for (int j = 0; j < BACK_READS && from[j] < cur->n; j++) {
            pm_candidate tmp;
            const pm_candidate *src = cand_at(cur, from[j], &tmp);
            pm_candidate c = {.fs = src->fs, .z = -INFINITY};
            prepare_before(d, view, ready, prev0, c.fs, g);
            /* A time scale one step off moves the phase a window earlier by 2.6 steps: the
             * alignment around the projection that the sync chips like best. */
            for (int ts = src->ts - 1; ts <= src->ts + 1; ts++) {
                if (ts < d->grid.t0 || ts >= d->grid.t1)
                    continue;
                const double shift = WIN_STEPS * (d->tbase * pm_tscale(ts) - 1.0);
                for (int dp = -BACK_REACH; dp <= BACK_REACH; dp++) {
                    pm_candidate t = {.fs = c.fs, .ts = (short)ts};
                    t.phase = (short)(((lround(src->phase - shift) + dp) % PM_PHASES + PM_PHASES) % PM_PHASES);
                    const float z = pm_sync_score(view, &ks->layout, &t);
                    if (z > c.z)
                        c.z = z, c.ts = t.ts, c.phase = t.phase;
                }
            }
            const int st = PM_STATE(c.fs, c.ts, c.phase);
            int seen = 0;
            for (int i = 0; i < prev->n + n_extra(prev) && !seen; i++)
                seen = near_alignment(st, cand_state(prev, i));
            for (int i = 0; i < n_got && !seen; i++)
                seen = same_alignment(st, PM_STATE(got[i].fs, got[i].ts, got[i].phase));
            if (!seen && c.z > -INFINITY)
                got[n_got++] = c;
        }
        if (n_got == 2 && got[1].z > got[0].z)
            got[0] = got[1];
        if (n_got == 0 || got[0].z < BACK_Z)
            continue;
        extra_read *b = malloc(sizeof *b);
        if (!b)
            return PM_ERR_NOMEM;
        float parts[PM_PARTS][PMF_CODED_BITS];
        pm_candidate *c = &got[0];
        c->z = pm_sync_read(view, &ks->layout, c, parts);
        pack_read(b, c, parts);
        prev->back = b;
        prev->n_back = 1;
    }
    return PM_OK;
}

/*
 * The latest window's tracked path and own best alignment (BACK_READS), read in
 * the window before it (which starts WIN_STEPS earlier and is still in the ring)
 * where that window has no candidate at the same alignment. Tile values are
 * recomputed into d->white, which the latest window no longer needs.
 */
static int read_back(pm_detector *d, long w0)
{
    const long prev0 = w0 - WIN_STEPS;
    if (prev0 < d->base_step)
        return PM_OK; /* the stream's first window */
    for (int g = 0; g < PMF_VERSIONS; g++) {
        const int rc = read_back_geometry(d, prev0, g);
        if (rc != PM_OK)
            return rc;
    }
    return PM_OK;
}

/* Search the window [w0, w0 + len) for key state ks (view: its chip values) and record it. */
static int analyse_state(pm_detector *d, key_state *ks, const pm_window_view *view, long w0, int len)
{
    const double sec = d->step / d->rate;
    window_rec r = {.t0 = w0 * sec, .t1 = (w0 + len + 3) * sec,
                    .part_len = (float)(len * sec / PM_PARTS)};
    pm_candidate own[PM_TOP];
    int n_own = pm_sync_search(view, &ks->layout, own, d->scores);
    for (int p = 0; p < FOLD_Z_PHASES; p++) {
        const float q = d->scores[PM_STATE(FOLD_F, FOLD_T, 2 * p)] * FOLD_Z_SCALE;
        r.fold_z[p] = (int8_t)(q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q);
    }
    track(ks, d->scores, d->tbase, &d->grid, &r.path_z);
    int pair_prev = -1;
    float pair_top;
    const int pair = best_pair(ks, d->scores, d->tbase, &d->grid, &pair_prev, &pair_top);
    memcpy(ks->last_z, d->scores, sizeof(float) * PM_N_STATES);
    if (ks->pending >= 0) { /* a pair whose earlier side could not be read: its slot is free */
        ks->pair[ks->pending]->z = -INFINITY;
        ks->pair[ks->pending]->fresh = 0;
        ks->pending = -1;
    }
    /* The tracker's best paths first, then the window's own best, without repeats. */
    int st[PATH_KEEP];
    r.n_tracked = r.n = top_paths(ks, st);
    r.more = malloc(sizeof *r.more);
    if (!r.more)
        return PM_ERR_NOMEM;
    for (int i = 0; i < r.n_tracked; i++) {
        pm_candidate c = state_cand(st[i]);
        c.z = d->scores[st[i]];
        float parts[PM_PARTS][PMF_CODED_BITS];
        pm_sync_read(view, &ks->layout, &c, parts);
        r.head[i] = (cand_head){c.z, c.mu, c.var, c.fs, c.ts, c.phase};
        for (int j = 0; j < PM_PARTS; j++)
            pack4(parts[j], i == 0 ? &r.part[j] : &r.more->path_part[i - 1][j]);
        if (i > 0)
            pack8(c.soft, &r.soft[i - 1]);
    }
    for (int i = 0; i < n_own; i++) {
        int own_st = PM_STATE(own[i].fs, own[i].ts, own[i].phase), seen = 0;
        for (int j = 0; j < r.n_tracked; j++)
            seen |= same_alignment(st[j], own_st);
        if (!seen) {
            float parts[PM_PARTS][PMF_CODED_BITS];
            pm_sync_read(view, &ks->layout, &own[i], parts);
            pack_read(&r.more->alt[r.n++ - r.n_tracked], &own[i], parts);
        }
    }
    if (pair >= 0 && r.n_tracked && ks->rec[ks->n_rec - 1].n && same_alignment(pair, st[0]) &&
        same_alignment(pair_prev, cand_state(&ks->rec[ks->n_rec - 1], 0))) {
        r.pair_on_path = 1;
    } else if (pair >= 0) {
        int nomem = 0;
        const float z = pair_top / sqrtf(2.0f);
        const int fresh = z >= PAIR_FRESH_Z && !(holds_near(&r, pair) && holds_near(&ks->rec[ks->n_rec - 1], pair_prev));
        const int slot = pair_slot_for(ks, fresh, z, &nomem);
        if (nomem) {
            free(r.more);
            return PM_ERR_NOMEM;
        }
        if (slot >= 0) { /* this side now, the other once the record is in (read_back) */
            pm_candidate c;
            float parts[PM_PARTS][PMF_CODED_BITS];
            read_state(view, &ks->layout, pair, &c, parts);
            pack_read(&ks->pair[slot]->side[1], &c, parts);
            ks->pair[slot]->z = z;
            ks->pair[slot]->fresh = fresh;
            ks->pending = slot;
            ks->pending_state = pair_prev;
        }
    }
    int rc = add_record(ks, &r);
    if (rc != PM_OK) {
        free(r.more);
        return rc;
    }
    return PM_OK;
}

/* Analyse the window [w0, w0 + len) for every key state, one version's geometry at a time
 * (they share the tile values' buffers), then read back into the window before it. */
static int analyse_window(pm_detector *d, long w0, int len)
{
    for (int g = 0; g < PMF_VERSIONS; g++) {
        pm_window_view view;
        make_view(d, &view, len, g);
        for (int f = d->grid.f0; f < d->grid.f1; f++)
            tile_values(d, w0, len, f, g);
        pm_sync_prepare(&view);
        for (int i = 0; i < d->n_folds; i++)
            for (int s = 0; s < len; s++)
                pm_fold_add(&d->fold[g][i], w0 + s, view.val[FOLD_F] + (size_t)s * d->n_bands);
        for (int k = g; k < d->n_keys; k += PMF_VERSIONS) {
            const int rc = analyse_state(d, &d->keys[k], &view, w0, len);
            if (rc != PM_OK)
                return rc;
        }
    }
    return read_back(d, w0);
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

/* One step's power spectrum (bins from kmin on) into the band energies; windows as they complete. */
static int add_power(pm_detector *d, const float *power, int kmin)
{
    long step = d->base_step + d->n_steps;
    d->n_steps++;
    for (int f = d->grid.f0; f < d->grid.f1; f++) {
        float *e = energy_at(d, step, f);
        for (int b = 0; b < d->n_bands; b++) {
            float s = 0.0f;
            for (int k = d->lo[f][b]; k < d->hi[f][b]; k++)
                s += power[k - kmin];
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
        trim_ring(d, d->win_start - WIN_STEPS - CTX);
    }
    return PM_OK;
}

/*
 * The scale estimate is made (scale.h): if this pipeline's grid does not cover it,
 * a second pipeline centred on it is started and given the kept spectra, so it
 * sees the stream from its start. The kept spectra are freed either way.
 */
static int settle(pm_detector *d)
{
    double fs, ts;
    float score;
    d->settled = 1;
    pm_scale_est_result(d->est, &fs, &ts, &score);
    int rc = PM_OK;
    if (!pm_scale_in_grid(fs, ts)) {
        pm_detector *c = pipeline_new(d->rate, d->channels, d->n_users, fs, ts, PM_EST_GRID, d);
        if (!c)
            return PM_ERR_NOMEM;
        for (int k = 0; k < d->n_keys; k++) {
            c->keys[k].layout = d->keys[k].layout;
            memcpy(c->keys[k].mac_key, d->keys[k].mac_key, sizeof c->keys[k].mac_key);
        }
        int kmin, kmax;
        const int n_rows = pm_scale_est_rows(d->est, &kmin, &kmax);
        float *row = d->fft.time; /* nfft >= kmax - kmin floats; its spectrum is kept already */
        for (int i = 0; i < n_rows && rc == PM_OK; i++) {
            pm_scale_est_row(d->est, i, row);
            rc = add_power(c, row, kmin);
        }
        d->scaled = c;
    }
    pm_scale_est_release(d->est);
    return rc;
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
    int rc = add_power(d, power, 0);
    if (rc == PM_OK && d->scaled)
        rc = add_power(d->scaled, power, 0);
    if (rc == PM_OK && !d->settled) {
        const int full = pm_scale_est_push(d->est, power, d->layouts, d->n_keys);
        rc = full < 0 ? PM_ERR_NOMEM : full ? settle(d) : PM_OK;
    }
    return rc;
}

pm_status pm_detector_push_interleaved(pm_detector *d, const float *in, size_t frames)
{
    if (!d || (frames && !in))
        return PM_ERR_ARG;
    if (d->finished || d->failed)
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
        if (rc != PM_OK) {
            d->failed = 1;
            return rc;
        }
        memmove(d->mono, d->mono + d->step, sizeof(float) * (size_t)(d->win - d->step));
        d->mono_fill = d->win - d->step;
    }
    d->total_frames += (long)frames;
    return PM_OK;
}

static double window_weight(const pm_candidate *c)
{
    return c->mu > 0.0f && c->var > 0.0f ? c->mu / c->var : 0.0;
}

/*
 * Alignment lines: a mark's candidates in successive windows lie on one line
 * of phase against window index, whose slope the time scale predicts (the
 * phase advances by WIN_STEPS * (tau - 1) per window). Candidates are linked
 * to the line whose last member predicts their phase within the drift the
 * time-scale grid allows. Noise scatters its candidates over many short lines;
 * a mark builds one long line even where it never wins a window on its own.
 * A line's score is the sum of its members' sync z; the strongest lines are
 * decoded, whole and by runs (a mark inside a long line is found by a run). On
 * looped music long lines of strong noise alignments outscore a short mark's
 * line, so every line whose decoded word agrees clearly with its soft sum
 * (decoded_agreement(): noise stays near 9.3) is decoded as well.
 */
#define MAX_LINES 8          /* strongest lines decoded, one attempt each */
#define CLEAR_LINES 4        /* lines decoded besides those for their clear agreement, at most */
#define CLEAR_CONF 10.5      /* such agreement (the best of 1000 noise lines on long files: 9.96) */
#define LINE_TOL 3.0         /* phase tolerance (steps) between neighbouring windows */
#define LINE_DRIFT 1.5       /* extra tolerance per window of gap */
#define LINE_MAX_GAP 8       /* windows a line may skip */

typedef struct line {
    int id; /* index in build order (what `assign` refers to) */
    short fs, ts;
    size_t last_w;
    double last_phase;
    float score;
    double conf; /* decoded_agreement() of the members' soft sum (lines of two or more) */
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
static int line_of(const line *ln, const int *live, int n_live, size_t w, const pm_candidate *c,
                   double tbase)
{
    int best = -1;
    double best_d = INFINITY;
    for (int k = 0; k < n_live; k++) {
        const line *x = &ln[live[k]];
        if (x->fs != c->fs || x->ts != c->ts)
            continue;
        double gap = (double)(w - x->last_w);
        double pred = x->last_phase + gap * WIN_STEPS * (tbase * pm_tscale(c->ts) - 1.0);
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
static int build_lines(const key_state *ks, double tbase, line *ln, int *live, int *assign)
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
            int l = line_of(ln, live, n_live, w, c, tbase);
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

/* Add a candidate's soft bits, weighted by its estimated SNR, to acc. */
static void add_weighted(float acc[PMF_CODED_BITS], const pm_candidate *c)
{
    const double wt = window_weight(c);
    for (int b = 0; b < PMF_CODED_BITS; b++)
        acc[b] += (float)(wt * c->soft[b]);
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
            add_weighted(acc, cand_at(&ks->rec[w], i, &tmp));
        }
}

/* Candidate index in window w of its side of the pair with the window before (dir 0) or after (dir 1); -1: none. */
static int pair_side_at(const key_state *ks, size_t w, int dir)
{
    const window_rec *r = &ks->rec[w];
    if (dir == 0) {
        if (w == 0)
            return -1;
        if (r->pair_on_path)
            return 0;
        return r->pair_side[0] && ks->rec[w - 1].pair_side[1] ? r->n + r->n_back : -1;
    }
    if (w + 1 >= ks->n_rec)
        return -1;
    if (ks->rec[w + 1].pair_on_path)
        return 0;
    return r->pair_side[1] && ks->rec[w + 1].pair_side[0] ? r->n + n_extra(r) - 1 : -1;
}

/*
 * The soft sum of the windows w + 1 - len .. w (len 2: the pair that ends at w; 3: two
 * pairs at one alignment, whose sides in the middle window agree), each window's side
 * weighted as in the lines, into acc; its sync z (the sides' z summed, over sqrt len)
 * into *z. Either may be NULL. Returns 0 if there is no such run.
 */
static int pair_run(const key_state *ks, size_t w, int len, float acc[PMF_CODED_BITS], float *z)
{
    if (w + 1 < (size_t)len)
        return 0;
    int idx[PAIR_RUN_MAX];
    const size_t first = w + 1 - (size_t)len;
    for (int i = 0; i < len; i++) {
        const size_t v = first + (size_t)i;
        idx[i] = pair_side_at(ks, v, i == 0);
        if (idx[i] < 0)
            return 0;
        if (i > 0 && i < len - 1) {
            const int after = pair_side_at(ks, v, 1);
            if (after < 0 || !same_alignment(cand_state(&ks->rec[v], idx[i]), cand_state(&ks->rec[v], after)))
                return 0;
        }
    }
    if (acc)
        memset(acc, 0, sizeof(float) * PMF_CODED_BITS);
    float sum = 0.0f;
    for (int i = 0; i < len; i++) {
        pm_candidate tmp;
        const pm_candidate *c = cand_at(&ks->rec[first + (size_t)i], idx[i], &tmp);
        if (acc)
            add_weighted(acc, c);
        sum += c->z;
    }
    if (z)
        *z = sum / sqrtf((float)len);
    return 1;
}

/* qsort order: larger first. */
static int descending(float x, float y)
{
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Strongest first; build order among equals, so that the order never depends on qsort. */
static int by_score(const void *a, const void *b)
{
    const line *x = a, *y = b;
    return x->score != y->score ? descending(x->score, y->score) : (x->id > y->id) - (x->id < y->id);
}

/* ------------------------------------------------------------ the marks */

/*
 * Several marks per file. Candidate words come from the lines, from all
 * well-synchronised windows together, from every window (and pair of
 * neighbouring windows) alone, and from single alignments; each distinct word
 * is checked against its key's tag once (a repeated word costs nothing), within
 * the file's budget. Once a mark is known, a window whose soft values agree
 * with its codeword is explained: decodes that draw on explained windows only
 * are not checked, except words that two windows decode alike (a payload one
 * bit away from a known one). Then every window goes to the mark whose codeword
 * it agrees with best, and each boundary is placed inside the two windows
 * around it from the parts' agreements.
 */
#define Z_ALONE 5.0f       /* a window with no neighbour of the same mark needs this agreement */
#define MIN_VOTES 2        /* windows decoding one word that make it worth a check anyway */

typedef struct checked {
    int key;
    int mark; /* index in d->marks, or -1: the tag did not match */
    uint8_t info[PMF_PAYLOAD_BITS];
} checked;

typedef struct finisher {
    pm_detector *d;
    int budget, limit, total; /* checks allowed to each key (both its states), and to all; used in all */
    int used[PM_MAX_KEYS];    /* checks used by each key, in either version */
    checked seen[PMF_MAX_ATTEMPTS];
    int n_seen;
    float sign[PM_MAX_MARKS][PMF_CODED_BITS]; /* each mark's codeword: expected sign of soft values */
    uint8_t *explained;                       /* per window */
    size_t n_win;
    pm_fold_cand *fold; /* key state k's best phases of the folds: fold[k * FOLD_CANDS ..], n_fold[k] of them */
    int n_fold[MAX_STATES];
    uint8_t *trail; /* scratch of the list decoder: PM_FEC_LIST_TRAIL(LIST_WORDS) bytes */
} finisher;

/*
 * The mean agreement of the best of a window's n candidates where no mark is: the
 * mean of the largest of n standard normal values.
 */
static double chance_best(int n)
{
    static const double mean_max[] = {0.0, 0.0, 0.5642, 0.8463, 1.0294, 1.1630,
                                      1.2672, 1.3522, 1.4236, 1.4850, 1.5388};
    enum { MOST = CANDS_PER_WINDOW + 3 }; /* and a read-back and two sides of pairs */
    _Static_assert(sizeof mean_max / sizeof mean_max[0] == MOST + 1, "one value per possible number of candidates");
    return mean_max[n < 0 ? 0 : n > MOST ? MOST : n];
}

/* Agreement of soft values with a codeword, in standard deviations. */
static double agreement(const float *soft, const float *sign, int n)
{
    double dot = 0.0, en = 0.0;
    for (int b = 0; b < n; b++) {
        dot += sign[b] * soft[b];
        en += (double)soft[b] * soft[b];
    }
    return en > 0.0 ? dot / sqrt(en) : 0.0;
}

/*
 * Agreement of the word a soft sum decodes to (into info) with the sum itself. The
 * best word of noise or of a mixture of payloads agrees at a level that hardly
 * varies (about 9.3 standard deviations, whatever the number of windows summed); a
 * word the sum really carries agrees far better, which ranks sums before checking.
 */
static double decoded_agreement(const float *acc, uint8_t info[PMF_PAYLOAD_BITS])
{
    uint8_t coded[PMF_CODED_BITS];
    float sign[PMF_CODED_BITS];
    pm_fec_decode(acc, info);
    pm_fec_encode(info, coded);
    for (int b = 0; b < PMF_CODED_BITS; b++)
        sign[b] = coded[b] ? -1.0f : 1.0f;
    return agreement(acc, sign, PMF_CODED_BITS);
}

/*
 * Two valid payloads of one key differ in their tags (a keyed hash of the IDs), so
 * their codewords differ in about half of the coded bits that follow the first tag
 * bit, however close the IDs are. A window carrying a payload near mark m's agrees
 * with m's codeword before that point and not after it; one carrying m agrees
 * alike in both. Coded bit triple j depends on info bits j-K+1 .. j.
 */
#define TAG_CODED_FROM ((PMF_VERSION_BITS + 2 * PMF_ID_BITS) * PMF_CODE_RATE) /* 156 */
#define TAG_SHARE 0.4 /* least tag-part agreement, as a share of what m would give there */
#define TAG_POOL 0.75 /* reads agreeing with m at this share of the best one's are pooled by the guard */

/* Agreement with mark m's codeword over the coded bits after the first tag bit,
 * scaled to the whole codeword's (the same as agreement() where m is carried). */
static double tag_agreement(const float *soft, const float *sign)
{
    return agreement(soft + TAG_CODED_FROM, sign + TAG_CODED_FROM, PMF_CODED_BITS - TAG_CODED_FROM) *
           sqrt((double)PMF_CODED_BITS / (PMF_CODED_BITS - TAG_CODED_FROM));
}

/* Best agreement of window w's candidates with mark m; *best: which candidate. */
static double window_agreement(const finisher *x, size_t w, int m, int *best)
{
    const window_rec *r = &x->d->keys[x->d->marks[m].key_index].rec[w];
    double top = -INFINITY;
    for (int i = 0; i < r->n + n_extra(r); i++) {
        pm_candidate tmp;
        double a = agreement(cand_at(r, i, &tmp)->soft, x->sign[m], PMF_CODED_BITS);
        if (a > top) {
            top = a;
            if (best)
                *best = i;
        }
    }
    return top;
}

/*
 * Agreement of window w with mark m (as window_agreement()), or -INFINITY where the
 * tag part of its reads says it carries another payload close to m's: that of the best
 * read, and that of every read that agrees with m nearly as well (TAG_POOL), weighed
 * together. Reads of a window at neighbouring alignments (its candidates, read-back and
 * pair sides) carry much the same audio; the best of them alone would give a near
 * payload's tag one chance per read to pass by chance, and the pool alone can be lifted
 * over the line by weaker reads that happen to agree.
 */
static double window_carries(const finisher *x, size_t w, int m, int *best)
{
    int j = 0, *i = best ? best : &j;
    const double a = window_agreement(x, w, m, i);
    const window_rec *r = &x->d->keys[x->d->marks[m].key_index].rec[w];
    pm_candidate tmp;
    if (tag_agreement(cand_at(r, *i, &tmp)->soft, x->sign[m]) < TAG_SHARE * a)
        return -INFINITY;
    double tag = 0.0, all = 0.0;
    for (int c = 0; c < r->n + n_extra(r); c++) {
        const float *soft = cand_at(r, c, &tmp)->soft;
        const double ac = agreement(soft, x->sign[m], PMF_CODED_BITS);
        if (ac >= TAG_POOL * a) {
            tag += tag_agreement(soft, x->sign[m]);
            all += ac;
        }
    }
    return tag >= TAG_SHARE * all ? a : -INFINITY;
}

/* The codeword of (model, dataset) under key state ks, as expected signs of soft values. */
static void codeword_signs(const key_state *ks, uint32_t model, uint32_t dataset, float sign[PMF_CODED_BITS])
{
    uint8_t info[PMF_PAYLOAD_BITS], coded[PMF_CODED_BITS];
    pm_payload_pack(ks->mac_key, ks->layout.version, model, dataset, info);
    pm_fec_encode(info, coded);
    for (int b = 0; b < PMF_CODED_BITS; b++)
        sign[b] = coded[b] ? -1.0f : 1.0f;
}

static int add_mark(finisher *x, int k, uint32_t model, uint32_t dataset)
{
    pm_detector *d = x->d;
    if (d->n_marks == PM_MAX_MARKS)
        return -1;
    const int m = d->n_marks++;
    d->recognised[m] = 0;
    codeword_signs(&d->keys[k], model, dataset, x->sign[m]);
    d->marks[m] = (pm_mark){.key_index = k, .model_id = model, .dataset_id = dataset,
                            .speed = 1.0, .tempo = 1.0};
    for (size_t w = 0; w < x->n_win; w++)
        if (window_carries(x, w, m, NULL) >= Z_SEGMENT)
            x->explained[w] = 1;
    return m;
}

/*
 * Check a decoded word against key k's tag, unless it was checked before (then
 * the known answer), `may_check` is 0 or the budget is spent. Returns the mark
 * it names, or -1.
 */
static int check_info(finisher *x, int k, const uint8_t info[PMF_PAYLOAD_BITS], int may_check)
{
    for (int i = 0; i < x->n_seen; i++)
        if (x->seen[i].key == k && !memcmp(x->seen[i].info, info, PMF_PAYLOAD_BITS))
            return x->seen[i].mark;
    if (!may_check || x->used[k / PMF_VERSIONS] >= x->budget || x->total >= x->limit || x->n_seen == PMF_MAX_ATTEMPTS)
        return -1;
    x->used[k / PMF_VERSIONS]++;
    x->total++;
    checked *c = &x->seen[x->n_seen++];
    c->key = k;
    memcpy(c->info, info, PMF_PAYLOAD_BITS);
    uint32_t model, dataset;
    c->mark = -1;
    const key_state *ks = &x->d->keys[k];
    if (!pm_payload_unpack(ks->mac_key, ks->layout.version, info, &model, &dataset))
        return -1;
    /* A pair already recognised (an expected pair) whose word now decodes and passes
     * the tag is the same mark, decoded: no second mark of it. */
    for (int m = 0; m < x->d->n_marks && c->mark < 0; m++)
        if (x->d->marks[m].key_index == k && x->d->marks[m].model_id == model && x->d->marks[m].dataset_id == dataset) {
            x->d->recognised[m] = 0;
            c->mark = m;
        }
    if (c->mark < 0)
        c->mark = add_mark(x, k, model, dataset);
    return c->mark;
}

/*
 * A sum whose decoded word agrees with it as few sums of noise do (LIST_CONF), but
 * fails the tag, often carries a mark whose word is the second to seventh most likely
 * (measured on clips of 2-3 s, MP3 32k and 10 dB noise: ranks 1-7 in 12 of the 28
 * sums that carried a true word below rank 0; of 2317 sums of noise, 12 agree at
 * 9.8 or more and none at 10): those words are checked too, each within the file's
 * budget of checks like any other, while no mark is known. Once one is, the checks
 * are kept for the words of other pieces (in the splice suite's four-piece files the
 * list took checks that found 2-4 pieces of 120).
 */
#define LIST_WORDS PM_FEC_MAX_LIST
#define LIST_CONF 9.75

static int check_soft(finisher *x, int k, const float *soft, int may_check)
{
    uint8_t info[PMF_PAYLOAD_BITS];
    const double conf = decoded_agreement(soft, info);
    int m = check_info(x, k, info, may_check);
    if (m >= 0 || !may_check || conf < LIST_CONF || x->d->n_marks > 0)
        return m;
    uint8_t list[LIST_WORDS][PMF_PAYLOAD_BITS];
    const int n = pm_fec_decode_list(soft, LIST_WORDS, x->trail, list);
    for (int i = 1; i < n && m < 0; i++)
        m = check_info(x, k, list[i], may_check);
    return m;
}

/* Before the first mark every decode may be checked; after it, those drawing on two unexplained windows. */
static int worth_checking(const finisher *x, int unexplained)
{
    return x->d->n_marks == 0 || unexplained >= 2;
}

/*
 * Spans of a line: a line runs through every piece of a splice that shares an
 * alignment (copies of one generation marked with other IDs), and the sum over
 * the whole line mixes their payloads. Each run of more than SPAN_MIN (pairs:
 * decode_windows) and at most SPAN_MAX consecutive members is decoded, and on
 * the PART_SPAN_LINES strongest lines each run of PART_SPAN_MIN .. PART_SPAN_MAX
 * parts; the runs whose decoded codeword agrees best
 * with their soft values (a word the run really carries agrees far better than
 * the best word of a mixture) are checked, at most SPAN_CHECKS of them.
 */
#define SPAN_MIN 2
#define SPAN_MAX 8
#define PART_SPAN_MIN 5  /* runs of parts (7.4 s ..) of the tracked path, for pieces shorter than two windows */
#define PART_SPAN_MAX 12 /* .. 17.8 s */
#define PART_SPAN_LINES 2 /* strongest lines whose runs of parts are decoded */
#define SPAN_KEEP 32     /* best-agreeing runs kept */
#define SPAN_CHECKS 8

typedef struct span {
    double conf;
    int unexplained;
    uint8_t info[PMF_PAYLOAD_BITS];
} span;

typedef struct span_list {
    span s[SPAN_KEEP];
    int n;
} span_list;

/* Decode the soft sum `acc` of a run; keep it among the SPAN_KEEP runs whose word agrees best with them. */
static void span_offer(span_list *sl, const float *acc, int unexplained)
{
    span sp = {.unexplained = unexplained};
    sp.conf = decoded_agreement(acc, sp.info);
    if (sl->n == SPAN_KEEP && sp.conf <= sl->s[SPAN_KEEP - 1].conf)
        return;
    int i = sl->n < SPAN_KEEP ? sl->n++ : SPAN_KEEP - 1;
    for (; i > 0 && sl->s[i - 1].conf < sp.conf; i--)
        sl->s[i] = sl->s[i - 1];
    sl->s[i] = sp;
}

/* Runs of PART_SPAN_MIN .. PART_SPAN_MAX parts of the line's members that are tracked paths of consecutive windows. */
static void part_spans(const finisher *x, const key_state *ks, const size_t *mw, const int *mi, size_t n,
                       span_list *sl)
{
    float ring[PART_SPAN_MAX][PMF_CODED_BITS];
    size_t ring_w[PART_SPAN_MAX];
    int have = 0, next = 0;
    for (size_t m = 0; m < n; m++) {
        if (mi[m] != 0) { /* parts are kept for tracked paths only */
            have = 0;
            continue;
        }
        if (have && mw[m] != mw[m - 1] + 1)
            have = 0; /* a gap of windows ends the run */
        const window_rec *r = &ks->rec[mw[m]];
        pm_candidate tmp;
        const double wt = window_weight(cand_at(r, 0, &tmp));
        for (int j = 0; j < PM_PARTS; j++) {
            float *slot = ring[next];
            memset(slot, 0, sizeof ring[0]);
            add_part(&r->part[j], slot);
            for (int b = 0; b < PMF_CODED_BITS; b++)
                slot[b] *= (float)wt;
            ring_w[next] = mw[m];
            next = (next + 1) % PART_SPAN_MAX;
            if (have < PART_SPAN_MAX)
                have++;
            float acc[PMF_CODED_BITS] = {0};
            int unexplained = 0;
            size_t last_w = (size_t)-1;
            for (int len = 1; len <= have; len++) {
                const int q = (next - len + PART_SPAN_MAX) % PART_SPAN_MAX;
                for (int b = 0; b < PMF_CODED_BITS; b++)
                    acc[b] += ring[q][b];
                if (ring_w[q] != last_w)
                    unexplained += !x->explained[ring_w[q]];
                last_w = ring_w[q];
                if (len >= PART_SPAN_MIN && worth_checking(x, unexplained))
                    span_offer(sl, acc, unexplained);
            }
        }
    }
}

static int decode_spans(finisher *x, int k, const line *ln, int n_lines, const int *assign)
{
    const key_state *ks = &x->d->keys[k];
    size_t *mw = malloc(sizeof *mw * (ks->n_rec ? ks->n_rec : 1));
    int *mi = malloc(sizeof *mi * (ks->n_rec ? ks->n_rec : 1));
    span_list *sl = malloc(sizeof *sl);
    int rc = PM_ERR_NOMEM;
    if (!mw || !mi || !sl)
        goto out;
    sl->n = 0;
    for (int l = 0, tried = 0; l < n_lines && tried < MAX_LINES; l++) {
        if (ln[l].members < 2)
            continue;
        tried++;
        size_t n = 0;
        for (size_t w = 0; w < ks->n_rec; w++)
            for (int i = 0; i < ks->rec[w].n; i++)
                if (assign[w * CANDS_PER_WINDOW + (size_t)i] == ln[l].id) {
                    mw[n] = w;
                    mi[n++] = i;
                }
        if (tried <= PART_SPAN_LINES)
            part_spans(x, ks, mw, mi, n, sl);
        for (size_t a = 0; a < n; a++) {
            float acc[PMF_CODED_BITS] = {0};
            int unexplained = 0;
            for (size_t b = a; b < n && b < a + SPAN_MAX; b++) {
                pm_candidate tmp;
                add_weighted(acc, cand_at(&ks->rec[mw[b]], mi[b], &tmp));
                unexplained += !x->explained[mw[b]];
                if (b + 1 - a <= SPAN_MIN || (a == 0 && b + 1 == n) || !worth_checking(x, unexplained))
                    continue; /* pairs and the whole line are decoded elsewhere; a run of known marks is not checked */
                span_offer(sl, acc, unexplained);
            }
        }
    }
    for (int i = 0, checked_now = 0; i < sl->n && checked_now < SPAN_CHECKS; i++) {
        if (!worth_checking(x, sl->s[i].unexplained))
            continue;
        const int before = x->total;
        check_info(x, k, sl->s[i].info, 1);
        checked_now += x->total > before;
    }
    rc = PM_OK;
out:
    free(sl);
    free(mi);
    free(mw);
    return rc;
}

/* Each line's conf (lines of two or more members), from chains of its slots in assign. */
static int line_confs(const key_state *ks, line *ln, int n, const int *assign)
{
    const size_t n_slots = ks->n_rec * CANDS_PER_WINDOW;
    int *first = malloc(sizeof *first * (size_t)(n ? n : 1));
    int *next = malloc(sizeof *next * n_slots);
    if (!first || !next) {
        free(first);
        free(next);
        return PM_ERR_NOMEM;
    }
    for (int l = 0; l < n; l++)
        first[l] = -1;
    for (size_t w = 0; w < ks->n_rec; w++)
        for (int i = 0; i < ks->rec[w].n; i++) {
            const size_t s = w * CANDS_PER_WINDOW + (size_t)i;
            if (assign[s] >= 0) {
                next[s] = first[assign[s]];
                first[assign[s]] = (int)s;
            }
        }
    for (int l = 0; l < n; l++) {
        ln[l].conf = 0.0;
        if (ln[l].members < 2)
            continue;
        float acc[PMF_CODED_BITS] = {0};
        for (int s = first[l]; s >= 0; s = next[s]) {
            pm_candidate tmp;
            add_weighted(acc, cand_at(&ks->rec[(size_t)s / CANDS_PER_WINDOW], s % CANDS_PER_WINDOW, &tmp));
        }
        uint8_t info[PMF_PAYLOAD_BITS];
        ln[l].conf = decoded_agreement(acc, info);
    }
    free(next);
    free(first);
    return PM_OK;
}

/* Decode line ln[i] of a key whole and check its word (if worth a check). */
static void decode_line(finisher *x, int k, const line *ln, const int *assign)
{
    const key_state *ks = &x->d->keys[k];
    float acc[PMF_CODED_BITS];
    combine_line(ks, assign, ln->id, acc);
    int unexplained = 0;
    for (size_t w = 0; w < ks->n_rec; w++)
        for (int j = 0; j < ks->rec[w].n; j++)
            unexplained += assign[w * CANDS_PER_WINDOW + (size_t)j] == ln->id && !x->explained[w];
    check_soft(x, k, acc, worth_checking(x, unexplained));
}

/*
 * The strongest multi-window lines of a key, one decode each, then the lines
 * whose word agrees clearly (CLEAR_LINES at most, best first), then runs of the
 * strongest.
 */
static int decode_lines(finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    if (ks->n_rec < 2)
        return PM_OK;
    size_t n_cand = ks->n_rec * CANDS_PER_WINDOW;
    line *ln = malloc(sizeof *ln * n_cand);
    int *live = malloc(sizeof *live * n_cand);
    int *assign = malloc(sizeof *assign * n_cand);
    int rc = PM_ERR_NOMEM;
    if (!ln || !live || !assign)
        goto out;
    int n = build_lines(ks, x->d->tbase, ln, live, assign);
    if (line_confs(ks, ln, n, assign) != PM_OK)
        goto out;
    qsort(ln, (size_t)n, sizeof *ln, by_score);
    int last = n; /* one past the last of the strongest lines decoded */
    for (int i = 0, tried = 0; i < n && tried < MAX_LINES; i++) {
        if (ln[i].members < 2)
            continue; /* a single window: tried with the single candidates */
        tried++;
        last = i + 1;
        decode_line(x, k, &ln[i], assign);
    }
    for (int c = 0; c < CLEAR_LINES; c++) {
        int best = -1;
        for (int i = last; i < n; i++)
            if (ln[i].conf >= CLEAR_CONF && (best < 0 || ln[i].conf > ln[best].conf))
                best = i;
        if (best < 0)
            break;
        decode_line(x, k, &ln[best], assign);
        ln[best].conf = 0.0; /* decoded */
    }
    rc = decode_spans(x, k, ln, n, assign);
out:
    free(assign);
    free(live);
    free(ln);
    return rc;
}

/* Every well-synchronised window of a key, weighted by its estimated SNR. */
static void decode_combined(finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    float acc[PMF_CODED_BITS] = {0};
    int combined = 0, unexplained = 0;
    for (size_t w = 0; w < ks->n_rec; w++) {
        if (!ks->rec[w].n || ks->rec[w].path_z < Z_COMBINE)
            continue;
        pm_candidate tmp;
        add_weighted(acc, cand_at(&ks->rec[w], 0, &tmp));
        combined++;
        unexplained += !x->explained[w];
    }
    if (combined > 1)
        check_soft(x, k, acc, worth_checking(x, unexplained));
}

/* (2b) The fold's best phases: the soft sums of the whole stream where its alignment holds still. */
static void decode_folds(finisher *x, int k)
{
    int unexplained = 0; /* a sum over every window: worth checking if two are unexplained */
    for (size_t w = 0; w < x->n_win && unexplained < 2; w++)
        unexplained += !x->explained[w];
    for (int i = 0; i < x->n_fold[k]; i++)
        check_soft(x, k, x->fold[k * FOLD_CANDS + i].soft, worth_checking(x, unexplained));
}

/* A word decoded from one window's paths, or from a window and the next on one alignment. */
#define WORD_BYTES ((PMF_PAYLOAD_BITS + 7) / 8)
typedef struct vote {
    uint8_t word[WORD_BYTES]; /* the decoded bits, packed (a long file has many votes) */
    uint32_t w;
    float z;
} vote;

static void vote_word(const float *soft, vote *v)
{
    uint8_t info[PMF_PAYLOAD_BITS];
    pm_fec_decode(soft, info);
    memset(v->word, 0, WORD_BYTES);
    for (int i = 0; i < PMF_PAYLOAD_BITS; i++)
        v->word[i / 8] |= (uint8_t)(info[i] << (i % 8));
}

static void vote_info(const vote *v, uint8_t info[PMF_PAYLOAD_BITS])
{
    for (int i = 0; i < PMF_PAYLOAD_BITS; i++)
        info[i] = v->word[i / 8] >> (i % 8) & 1;
}

static int by_info(const void *a, const void *b)
{
    const vote *x = a, *y = b;
    int c = memcmp(x->word, y->word, WORD_BYTES);
    return c ? c : x->w < y->w ? -1 : x->w > y->w;
}

typedef struct word_group {
    size_t first; /* index of its first vote */
    int windows;
    float z;
} word_group;

static int by_group_z(const void *a, const void *b)
{
    return descending(((const word_group *)a)->z, ((const word_group *)b)->z);
}

/*
 * Window by window: a word that several windows decode alike is checked even
 * where a known mark explains the windows (two payloads that differ in a bit
 * share most of their code bits).
 */
static int decode_windows(finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    if (!ks->n_rec)
        return PM_OK;
    vote *v = malloc(sizeof *v * ks->n_rec * (PATH_KEEP + 1));
    word_group *g = malloc(sizeof *g * ks->n_rec * (PATH_KEEP + 1));
    if (!v || !g) {
        free(v);
        free(g);
        return PM_ERR_NOMEM;
    }
    size_t nv = 0, ng = 0;
    for (size_t w = 0; w < ks->n_rec; w++) {
        const window_rec *r = &ks->rec[w];
        pm_candidate c0 = {0}, tmp;
        for (int i = 0; i < r->n_tracked; i++) {
            const pm_candidate *c = cand_at(r, i, i ? &tmp : &c0);
            vote_word(c->soft, &v[nv]);
            v[nv].w = (uint32_t)w;
            v[nv++].z = c->z;
        }
        if (!r->n_tracked || w + 1 == ks->n_rec || !ks->rec[w + 1].n_tracked)
            continue;
        const cand_head *h = &ks->rec[w + 1].head[0];
        double pred = c0.phase + WIN_STEPS * (x->d->tbase * pm_tscale(c0.ts) - 1.0);
        if (h->fs != c0.fs || h->ts != c0.ts || phase_dist(pred, h->phase) > LINE_TOL)
            continue;
        const pm_candidate *c1 = cand_at(&ks->rec[w + 1], 0, &tmp);
        float acc[PMF_CODED_BITS];
        const double w0 = window_weight(&c0), w1 = window_weight(c1);
        for (int b = 0; b < PMF_CODED_BITS; b++)
            acc[b] = (float)(w0 * c0.soft[b] + w1 * c1->soft[b]);
        vote_word(acc, &v[nv]);
        v[nv].w = (uint32_t)(w + 1); /* counted as the second window: with a vote of w, two windows */
        v[nv++].z = c0.z + c1->z;
    }
    qsort(v, nv, sizeof *v, by_info);
    for (size_t i = 0; i < nv; i++) {
        if (i && !memcmp(v[i].word, v[i - 1].word, WORD_BYTES)) {
            g[ng - 1].windows += v[i].w != v[i - 1].w;
            g[ng - 1].z += v[i].z;
        } else {
            g[ng++] = (word_group){i, 1, v[i].z};
        }
    }
    qsort(g, ng, sizeof *g, by_group_z);
    for (size_t i = 0; i < ng; i++)
        if (g[i].windows >= MIN_VOTES) {
            uint8_t info[PMF_PAYLOAD_BITS];
            vote_info(&v[g[i].first], info);
            check_info(x, k, info, 1);
        }
    free(v);
    free(g);
    return PM_OK;
}

typedef struct attempt {
    size_t window;
    int index;
    float z;
} attempt;

static int by_z(const void *a, const void *b)
{
    return descending(((const attempt *)a)->z, ((const attempt *)b)->z);
}

/* Single alignments, strongest sync first; after a first mark, in unexplained windows only. */
static int decode_singles(finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    if (!ks->n_rec)
        return PM_OK;
    attempt *att = malloc(sizeof *att * ks->n_rec * CANDS_PER_WINDOW);
    if (!att)
        return PM_ERR_NOMEM;
    size_t n_att = 0;
    for (size_t w = 0; w < ks->n_rec; w++)
        for (int i = 0; i < ks->rec[w].n; i++)
            att[n_att++] = (attempt){w, i, cand_z(&ks->rec[w], i)};
    qsort(att, n_att, sizeof *att, by_z);
    for (size_t i = 0; i < n_att && x->used[k / PMF_VERSIONS] < x->budget; i++) {
        if (!worth_checking(x, 2 * !x->explained[att[i].window]))
            continue;
        pm_candidate tmp;
        const pm_candidate *c = cand_at(&ks->rec[att[i].window], att[i].index, &tmp);
        check_soft(x, k, c->soft, 1);
    }
    free(att);
    return PM_OK;
}

/* The pairs' sums (PAIR_CHECKS at most), strongest sync first; after a first mark, those with an unexplained window. */
static int decode_pairs(finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    attempt *att = malloc(sizeof *att * (ks->n_rec ? ks->n_rec : 1) * (PAIR_RUN_MAX - 1));
    if (!att)
        return PM_ERR_NOMEM;
    size_t n_att = 0;
    for (size_t w = 0; w < ks->n_rec; w++)
        for (int len = 2; len <= PAIR_RUN_MAX; len++) {
            float z;
            if (pair_run(ks, w, len, NULL, &z))
                att[n_att++] = (attempt){w, len, z};
        }
    qsort(att, n_att, sizeof *att, by_z);
    for (size_t i = 0, checked_now = 0; i < n_att && checked_now < PAIR_CHECKS && x->used[k / PMF_VERSIONS] < x->budget; i++) {
        const size_t w = att[i].window;
        float acc[PMF_CODED_BITS];
        pair_run(ks, w, att[i].index, acc, NULL);
        int unexplained = 0;
        for (size_t v = w + 1 - (size_t)att[i].index; v <= w; v++)
            unexplained |= !x->explained[v];
        const int before = x->total;
        check_soft(x, k, acc, worth_checking(x, 2 * unexplained));
        checked_now += x->total > before;
    }
    free(att);
    return PM_OK;
}

/* Agreements of the parts of window w with mark m (its key's best path), over the mark's level. */
static void part_levels(const finisher *x, const soft4 *parts, int m, double level, double out[PM_PARTS])
{
    for (int j = 0; j < PM_PARTS; j++) {
        float soft[PMF_CODED_BITS] = {0};
        add_part(&parts[j], soft);
        /* From the tag part only: a neighbouring payload close to m's agrees elsewhere. */
        double dot = 0.0;
        for (int b = TAG_CODED_FROM; b < PMF_CODED_BITS; b++)
            dot += x->sign[m][b] * soft[b];
        dot *= (double)PMF_CODED_BITS / (PMF_CODED_BITS - TAG_CODED_FROM);
        out[j] = level > 0.0 ? dot / level : 0.0;
    }
}

#define PATH_SHARE 0.75 /* the best path's agreement, as a share of the best, that lets its parts speak */
/*
 * The parts of window w that speak for mark m: those of its best tracked path where
 * that agrees with m nearly as well as the window's best read for m (the neighbouring
 * windows' parts follow the path), else those of that best read if it carries m
 * (Z_SEGMENT: a mark found from the fold may have no read in a window that agrees
 * with it more than chance, and such a read's parts are noise), else those of a
 * read-back or pair side that agrees nearly as well; NULL where none do or the window
 * does not carry m. *a: the window's agreement with m (window_carries()).
 */
static const soft4 *parts_speak(const finisher *x, size_t w, int m, double *a)
{
    int i = 0;
    *a = window_carries(x, w, m, &i);
    if (*a == -INFINITY)
        return NULL;
    pm_candidate tmp;
    const window_rec *r = &x->d->keys[x->d->marks[m].key_index].rec[w];
    if (i == 0 || agreement(cand_at(r, 0, &tmp)->soft, x->sign[m], PMF_CODED_BITS) >= PATH_SHARE * *a)
        return r->part;
    const soft4 *own = parts_at(r, i);
    if (*a >= Z_SEGMENT && own)
        return own;
    for (int e = 0; e < n_extra(r); e++)
        if (agreement(cand_at(r, r->n + e, &tmp)->soft, x->sign[m], PMF_CODED_BITS) >= PATH_SHARE * *a)
            return extra_at(r, e)->part;
    return NULL;
}

/*
 * Parts of window w scored for mark m (1: carries it at its usual level). Where no
 * kept parts speak for m (parts_speak()), the window's agreement, as a share f of m's
 * usual one, is laid at the side where m's run lies (side -1: before this window's
 * parts, +1: after them), or spread over all parts (side 0: inside the run). A window
 * of the run laid at a side (the run's window next to a boundary) gives no part more
 * than f: a half-covered window carries about half, and spread evenly that half would
 * score every part of it above no mark.
 */
static void part_scores(const finisher *x, size_t w, int m, const double *level, const double *wlevel,
                        int side, int in_run, double out[PM_PARTS])
{
    const window_rec *r = &x->d->keys[x->d->marks[m].key_index].rec[w];
    const double chance = chance_best(r->n + n_extra(r));
    double a;
    const soft4 *parts = parts_speak(x, w, m, &a);
    if (parts && level[m] > 0.0) {
        part_levels(x, parts, m, level[m], out);
        return;
    }
    const double f = fmin(fmax((a - chance) / (wlevel[m] - chance), 0.0), 1.0);
    const double lo = side > 0 ? 1.0 - f : 0.0, hi = side > 0 ? 1.0 : f;
    for (int j = 0; j < PM_PARTS; j++) {
        const double p0 = (double)j / PM_PARTS, p1 = (double)(j + 1) / PM_PARTS;
        const double laid = fmax(0.0, fmin(hi, p1) - fmax(lo, p0)) * PM_PARTS;
        out[j] = !side ? f : in_run ? fmin(f, laid) : laid;
    }
}

#define BOUNDARY_REACH 2 /* windows searched either side: one window's agreement may be chance */
#define NONE_SCORE 0.5   /* a part's score for carrying no mark */
#define GAP_COST 1.0     /* a gap of none between two marks must be worth two parts of none: part scores are noisy */

/* An edge between parts at e (d: left-likeness of each part) moved off the part edge by the
 * share of the parts beside it that looks like the left side, between the sides' means. */
static double refine_edge(const double *d, const double *t, int lo, int e, int hi)
{
    if (e == lo || e == hi)
        return t[e];
    double dl = 0.0, dr = 0.0;
    for (int j = lo; j < hi; j++)
        *(j < e ? &dl : &dr) += d[j] / (j < e ? e - lo : hi - e);
    if (dl - dr < 0.1)
        return t[e];
    const double before = fmin(fmax((d[e - 1] - dr) / (dl - dr), 0.0), 1.0);
    const double after = fmin(fmax((d[e] - dr) / (dl - dr), 0.0), 1.0);
    return t[e - 1] + before * (t[e] - t[e - 1]) + after * (t[e + 1] - t[e]);
}

/*
 * Where mark `left` (or none: -1) ends and mark `right` (or none) starts, in seconds,
 * among the parts of windows [w0, w1] (`meet`: the first window of the right run).
 * Each part scores about 1 where it carries a mark at its usual level and 0 where
 * not; no mark scores NONE_SCORE. The edges maximise the parts' scores for what
 * they are given: left before *end, none between, right from *start on, so that
 * audio between two marks that carries neither (a piece of an unknown mark, or
 * unmarked) is given to neither.
 */
static void boundary(const finisher *x, const double *level, const double *wlevel, size_t w0,
                     size_t w1, size_t meet, int left, int right, double *end, double *start)
{
    enum { MAXP = 2 * BOUNDARY_REACH * PM_PARTS };
    double sa[MAXP], sb[MAXP], t[MAXP + 1] = {0}, ca[MAXP + 1] = {0}, cb[MAXP + 1] = {0};
    int n = 0;
    for (size_t w = w0; w <= w1; w++) {
        double a[PM_PARTS], b[PM_PARTS];
        for (int j = 0; j < PM_PARTS; j++)
            a[j] = b[j] = NONE_SCORE;
        /* A run's window next to the boundary (in a run of two or more; the file's own
         * ends are no boundary) is laid at the run's side, not spread. */
        const int left_edge = w + 1 == meet && w > w0 && meet < x->n_win;
        const int right_edge = w == meet && w < w1 && meet > 0;
        if (left >= 0)
            part_scores(x, w, left, level, wlevel, w < meet && !left_edge ? 0 : -1, w < meet, a);
        if (right >= 0)
            part_scores(x, w, right, level, wlevel, w >= meet && !right_edge ? 0 : 1, w >= meet, b);
        const window_rec *r = &x->d->keys[0].rec[w];
        for (int j = 0; j < PM_PARTS; j++) {
            t[n] = r->t0 + j * (double)r->part_len;
            sa[n] = a[j];
            sb[n++] = b[j];
        }
        t[n] = r->t0 + PM_PARTS * (double)r->part_len;
    }
    for (int j = 0; j < n; j++) { /* prefix sums */
        ca[j + 1] = ca[j] + sa[j];
        cb[j + 1] = cb[j] + sb[j];
    }
    double best = -INFINITY;
    int e1 = 0, e2 = 0;
    for (int i = 0; i <= n; i++)
        for (int k = i; k <= n; k++) {
            /* A gap of none only between two marks; ties keep the single edge. */
            if (k > i && (left < 0 || right < 0))
                break;
            const double v = ca[i] + NONE_SCORE * (k - i) + cb[n] - cb[k] - (k > i ? GAP_COST : 0.0);
            if (v > best)
                best = v, e1 = i, e2 = k;
        }
    double d[MAXP] = {0};
    if (e1 == e2) {
        for (int j = 0; j < n; j++)
            d[j] = sa[j] - sb[j];
        *end = *start = refine_edge(d, t, 0, e1, n);
        return;
    }
    for (int j = 0; j < n; j++)
        d[j] = sa[j] - NONE_SCORE;
    *end = refine_edge(d, t, 0, e1, e2);
    for (int j = 0; j < n; j++)
        d[j] = NONE_SCORE - sb[j];
    *start = refine_edge(d, t, e1, e2, n);
}

/*
 * Runs of windows given to a mark, decoded as a whole and by neighbouring pairs
 * (each window's alignment that agrees best with the mark): a payload close to a
 * known one (it agrees with that one's codeword too) but too weak for single
 * windows hides in such a run. A word other than the mark's is checked. Returns
 * the number of new marks.
 */
static int decode_runs(finisher *x, const int *label)
{
    const int before = x->d->n_marks;
    for (size_t a = 0; a < x->n_win;) {
        size_t b = a;
        while (b + 1 < x->n_win && label[b + 1] == label[a])
            b++;
        const int m = label[a];
        if (m >= 0) {
            const int k = x->d->marks[m].key_index;
            float run[PMF_CODED_BITS] = {0}, pair[PMF_CODED_BITS], prev[PMF_CODED_BITS] = {0};
            for (size_t w = a; w <= b; w++) {
                int i = 0;
                pm_candidate tmp;
                window_agreement(x, w, m, &i);
                const pm_candidate *c = cand_at(&x->d->keys[k].rec[w], i, &tmp);
                const double wt = window_weight(c);
                for (int j = 0; j < PMF_CODED_BITS; j++) {
                    const float v = (float)(wt * c->soft[j]);
                    run[j] += v;
                    pair[j] = prev[j] + v;
                    prev[j] = v;
                }
                if (w > a && b - a > 1)
                    check_soft(x, k, pair, 1);
            }
            check_soft(x, k, run, 1);
        }
        a = b + 1;
    }
    return x->d->n_marks - before;
}

#define MAX_RUN_PASSES 3 /* placements redone after decode_runs found marks */
/*
 * A mark that no window carries clearly (Z_ALONE), found from the fold (its codeword
 * agrees with one of the key's fold sums at Z_SEGMENT or more), also gets the run of
 * windows, not given to another mark, whose sync z at the fold's phase, less
 * FOLD_DRIFT each, sums highest: where in the stream a mark too weak for single
 * windows is, as far as its sync chips tell (a window already given to the mark counts
 * at least zero, so the run may join it).
 */
static void fold_windows(const finisher *x, int m, int *label, const double *z)
{
    const size_t n = x->n_win;
    for (size_t w = 0; w < n; w++)
        if (label[w] == m && z[w] >= Z_ALONE)
            return;
    const int k = x->d->marks[m].key_index;
    const pm_fold_cand *fold = NULL;
    double best = Z_SEGMENT;
    for (int i = 0; i < x->n_fold[k]; i++) {
        const pm_fold_cand *c = &x->fold[k * FOLD_CANDS + i];
        const double a = agreement(c->soft, x->sign[m], PMF_CODED_BITS);
        if (a >= best)
            best = a, fold = c;
    }
    if (!fold)
        return;
    const pm_detector *d = x->d;
    const window_rec *rec = d->keys[k].rec;
    const double steps_per_second = d->rate / d->step;
    double sum = 0.0, top = 0.0;
    size_t from = 0, top_from = 0, top_to = 0;
    for (size_t w = 0; w < n; w++) {
        if (label[w] != -1 && label[w] != m) {
            sum = 0.0;
            continue;
        }
        if (sum <= 0.0)
            sum = 0.0, from = w;
        /* The fold's phase in this window's own terms: the mark has moved by
         * (tau - 1) steps per step since the stream's start (tau: fold.h). */
        const long w0 = lround(rec[w].t0 * steps_per_second);
        const long pw = lround((fold->phase + (double)w0 * fold->tau) / 2.0);
        const double v = rec[w].fold_z[((pw % FOLD_Z_PHASES) + FOLD_Z_PHASES) % FOLD_Z_PHASES] / FOLD_Z_SCALE - FOLD_DRIFT;
        sum += label[w] == m ? fmax(v, 0.0) : v;
        if (sum > top)
            top = sum, top_from = from, top_to = w + 1;
    }
    for (size_t w = top_from; w < top_to; w++)
        label[w] = m;
}

/* Each window's mark (-1: none): the one it agrees with best, at least Z_SEGMENT (Z_ALONE alone). */
static void label_windows(const finisher *x, int *label, double *z)
{
    const size_t n = x->n_win;
    const int nm = x->d->n_marks;
    for (size_t w = 0; w < n; w++) {
        label[w] = -1;
        z[w] = Z_SEGMENT;
        for (int m = 0; m < nm; m++) {
            double a = window_carries(x, w, m, NULL);
            if (a >= z[w])
                z[w] = a, label[w] = m;
        }
    }
    for (size_t w = 0; w < n; w++) { /* a lone window needs stronger agreement */
        const int m = label[w];
        if (m >= 0 && z[w] < Z_ALONE && (w == 0 || label[w - 1] != m) && (w + 1 == n || label[w + 1] != m))
            label[w] = -2; /* decided below: kept only if its mark has no other window */
    }
    for (int m = 0; m < nm; m++) {
        size_t best = n;
        int has = 0;
        for (size_t w = 0; w < n; w++) {
            has |= label[w] == m;
            if (label[w] == -2 && window_carries(x, w, m, NULL) >= z[w] - 1e-9 &&
                (best == n || z[w] > z[best]))
                best = w;
        }
        if (!has && best < n)
            label[best] = m;
    }
    for (size_t w = 0; w < n; w++)
        if (label[w] == -2)
            label[w] = -1;
    for (int m = 0; m < nm; m++)
        fold_windows(x, m, label, z);
}

/* Give every window to the mark it agrees with best; segments with boundaries inside windows. */
static int place_marks(finisher *x)
{
    pm_detector *d = x->d;
    const size_t n = x->n_win;
    int *label = malloc(sizeof *label * (n ? n : 1));
    double *z = malloc(sizeof *z * (n ? n : 1));
    if (!label || !z) {
        free(label);
        free(z);
        return PM_ERR_NOMEM;
    }
    for (int pass = 0;; pass++) {
        label_windows(x, label, z);
        if (pass == MAX_RUN_PASSES || !decode_runs(x, label))
            break;
    }
    const int nm = d->n_marks;
    double level[PM_MAX_MARKS] = {0}, wlevel[PM_MAX_MARKS] = {0}, evidence[PM_MAX_MARKS] = {0};
    int n_parts[PM_MAX_MARKS] = {0}, n_wins[PM_MAX_MARKS] = {0};
    /* Each mark's usual agreement per window, from its windows, and per part, from
     * those whose parts speak for it (0: none do, the parts are not used). */
    for (size_t w = 0; w < n; w++) {
        if (label[w] < 0)
            continue;
        double a[PM_PARTS], unused;
        const soft4 *parts = parts_speak(x, w, label[w], &unused);
        if (parts) {
            part_levels(x, parts, label[w], 1.0, a);
            for (int j = 0; j < PM_PARTS; j++)
                level[label[w]] += a[j];
            n_parts[label[w]] += PM_PARTS;
        }
        wlevel[label[w]] += z[w];
        n_wins[label[w]]++;
    }
    for (int m = 0; m < nm; m++) {
        level[m] = n_parts[m] ? fmax(level[m] / n_parts[m], 0.0) : 0.0;
        wlevel[m] = n_wins[m] ? fmax(wlevel[m] / n_wins[m], 1e-6) : 1.0;
    }
    /* Runs of windows with one label; boundaries between neighbouring runs, searched
     * within both runs up to BOUNDARY_REACH windows from where they meet. */
    const size_t reach = BOUNDARY_REACH - 1;
    size_t a = 0;
    double start = n ? d->keys[0].rec[0].t0 : 0.0;
    pm_segment *last = NULL; /* the latest segment written: runs are visited in time order */
    while (a < n) {
        size_t b = a;
        while (b + 1 < n && label[b + 1] == label[a])
            b++;
        const int m = label[a];
        const size_t from = b - a > reach ? b - reach : a;
        double end, next = 0.0, unused;
        if (a == 0 && m >= 0)
            boundary(x, level, wlevel, 0, b < reach ? b : reach, 0, -1, m, &unused, &start);
        if (b + 1 < n) {
            size_t c = b + 1;
            while (c + 1 < n && c < b + 1 + reach && label[c + 1] == label[b + 1])
                c++;
            boundary(x, level, wlevel, from, c, b + 1, m, label[b + 1], &end, &next);
        } else if (m >= 0) {
            boundary(x, level, wlevel, from, b, b + 1, m, -1, &end, &unused);
        } else {
            end = d->keys[0].rec[b].t1;
        }
        /* Two boundaries inside one run crossed: the run keeps the middle. Its
         * neighbours meet there, never across it (the boundaries before and after
         * it were placed apart: the last segment may end, and the next start, past it).
         * A run that is the whole file (a clip whose mark was recognised from its sum)
         * has no neighbour to meet: it keeps its windows, not a point between them. */
        if (end < start && a == 0 && b + 1 == n && m >= 0) {
            start = d->keys[0].rec[0].t0;
            end = d->keys[0].rec[b].t1;
        } else if (end < start) {
            start = end = (start + end) / 2.0;
        }
        if (last && last->end > start) {
            start = fmax(start, last->start);
            end = fmax(end, start);
            last->end = start;
        }
        if (m >= 0) {
            pm_mark *mk = &d->marks[m];
            double score = 0.0;
            for (size_t w = a; w <= b; w++) {
                int i = 0;
                const double ag = window_agreement(x, w, m, &i);
                score = fmax(score, ag);
                evidence[m] += ag;
                const window_rec *r = &d->keys[mk->key_index].rec[w];
                const double sz = i == 0 ? fmax(r->path_z, r->head[0].z) : cand_z(r, i);
                if (sz > mk->sync_z) {
                    pm_candidate tmp;
                    const pm_candidate *c = cand_at(r, i, &tmp);
                    mk->sync_z = sz;
                    mk->speed = d->fbase * pm_fscale(c->fs);
                    mk->tempo = d->tbase * pm_tscale(c->ts);
                }
            }
            pm_segment *prev = mk->n_segments ? &mk->segments[mk->n_segments - 1] : NULL;
            if (prev && start <= prev->end) { /* a run of no mark between two of this one shrank to nothing */
                prev->end = fmax(prev->end, end);
                prev->score = fmax(prev->score, score);
                last = prev;
            } else if (mk->n_segments < PM_MAX_SEGMENTS) {
                mk->segments[mk->n_segments++] = (pm_segment){start, end, score};
                last = &mk->segments[mk->n_segments - 1];
            }
        }
        start = fmax(next, end);
        a = b + 1;
    }
    /* Strongest first (at most PM_MAX_MARKS: insertion sort). */
    for (int i = 1; i < nm; i++)
        for (int j = i; j > 0 && evidence[j] > evidence[j - 1]; j--) {
            const double e = evidence[j];
            evidence[j] = evidence[j - 1];
            evidence[j - 1] = e;
            const pm_mark t = d->marks[j];
            d->marks[j] = d->marks[j - 1];
            d->marks[j - 1] = t;
            const uint8_t r = d->recognised[j];
            d->recognised[j] = d->recognised[j - 1];
            d->recognised[j - 1] = r;
        }
    free(label);
    free(z);
    return PM_OK;
}

/* Analyse what is left of the stream after the last whole window. */
static int last_window(pm_detector *d)
{
    long end = d->base_step + d->n_steps;
    int rest = (int)(end - d->win_start);
    int any = d->keys[0].n_rec > 0;
    if (rest >= MIN_LAST_STEPS || (!any && rest >= PM_STEPS_PER_FRAME * 8))
        return analyse_window(d, d->win_start, rest);
    return PM_OK;
}

/* The best tracked path of a pipeline: its z and scales. */
static float best_path(const pm_detector *d, double *speed, double *tempo)
{
    float z = 0.0f;
    for (int k = 0; k < d->n_keys; k++) {
        const key_state *ks = &d->keys[k];
        for (size_t w = 0; w < ks->n_rec; w++)
            if (ks->rec[w].path_z > z) {
                z = ks->rec[w].path_z;
                *speed = d->fbase * pm_fscale(ks->rec[w].head[0].fs);
                *tempo = d->tbase * pm_tscale(ks->rec[w].head[0].ts);
            }
    }
    return z;
}

/*
 * Expected ID pairs (pm_detector_expect()): a mark too weak to be decoded blind is
 * recognised when a soft sum agrees with an expected pair's codeword beyond what
 * chance allows. Only 276 soft values are matched against a known word, instead of
 * 84 payload bits being decoded, so far less evidence is needed. The soft sums
 * tested are fixed by the sync chips alone: every window's candidates and every
 * line of two or more of them (summed as for decoding). Under the null (no mark of
 * the key) the data chips' keyed signs are independent of those sums' magnitudes,
 * so a coded bit's soft value is as likely negative as positive and the agreement
 * with any fixed word is a weighted sum of fair signs: P(agreement >= t) <=
 * exp(-t^2 / 2) (Hoeffding), whatever the audio. With N = (sums tested) x (pairs)
 * tests, the threshold sqrt(2 ln(N / EXPECT_P)) bounds this pipeline's chance of any
 * false recognition by EXPECT_P. A pair is also held to the tag part (as a window is
 * to a known mark): a file carrying another payload of the key agrees with a near
 * pair's codeword before the tag bits and not after them.
 */
#define EXPECT_P 3.4e-11 /* per pipeline: 64 * 2^-36 + 2 * 3.4e-11 = 9.99e-10 */
/*
 * Another payload of the same key (IDs the caller does not expect) is not covered by
 * that bound: its codeword shares the bits before the tag with a pair of the same
 * model or dataset, so such a pair agrees with it in part, and several such payloads
 * laid over one another (re-marked copies) add up there. Only the tag bits tell a
 * pair from its neighbours: the coded bits from TAG_ONLY_FROM on depend on the tag
 * alone, a keyed hash of the IDs, so for any payload other than the pair's they are
 * as good as fair coins. So, among the tests that pass the threshold and the guards
 * below (n_pass of them), the pair must also agree over those bits alone at
 * sqrt(2 ln(n_pass / EXPECT_OTHER_P)): with other payloads of the key present, a
 * false recognition then has a chance of about EXPECT_OTHER_P per pipeline (the tags
 * modelled as random). The guards, measured on clips, MP3 and noisy copies of marks
 * left out of registries of 1023 pairs of their model (docs/BENCHMARKS.md, session
 * 10): a decoded mark of the key that explains the sum at least as well wins; the
 * pair must agree over the tag bits at EXPECT_TAG_SHARE of its whole agreement (those
 * pairs nearest the threshold: 0.43 to 0.86; true pairs 0.80 to 1.10); the word the
 * sum decodes to itself must not beat the pair by more than EXPECT_EXCESS (those
 * pairs: 2.1 to 3.3; true pairs near the threshold: up to 2.0). Four marks of model 7
 * laid over one another, left out of such a registry, reached the tag-only test at
 * 3.6 to 4.4, below its threshold.
 */
#define EXPECT_OTHER_P 1e-5
#define TAG_ONLY_FROM ((PMF_VERSION_BITS + 2 * PMF_ID_BITS + PMF_CODE_K - 1) * PMF_CODE_RATE) /* 180 */
#define EXPECT_EXCESS 2.5
#define EXPECT_TAG_SHARE 0.7

/* Soft sums tested for key k: its windows' candidates, its lines of two or more, its fold's best phases. */
typedef struct expect_scan {
    const key_state *ks;
    line *ln;
    int *live, *assign;
    const pm_fold_cand *fold;
    int n_lines, n_fold;
} expect_scan;

static int scan_open(expect_scan *sc, const finisher *x, int k)
{
    const key_state *ks = &x->d->keys[k];
    const size_t n_cand = ks->n_rec * CANDS_PER_WINDOW;
    *sc = (expect_scan){.ks = ks, .fold = x->fold + k * FOLD_CANDS, .n_fold = x->n_fold[k]};
    if (ks->n_rec < 2)
        return PM_OK;
    sc->ln = malloc(sizeof *sc->ln * n_cand);
    sc->live = malloc(sizeof *sc->live * n_cand);
    sc->assign = malloc(sizeof *sc->assign * n_cand);
    if (!sc->ln || !sc->live || !sc->assign)
        return PM_ERR_NOMEM;
    sc->n_lines = build_lines(ks, x->d->tbase, sc->ln, sc->live, sc->assign);
    return PM_OK;
}

static void scan_close(expect_scan *sc)
{
    free(sc->ln);
    free(sc->live);
    free(sc->assign);
}

/* Number of soft sums the scan offers. */
static size_t scan_count(const expect_scan *sc)
{
    size_t n = 0;
    for (size_t w = 0; w < sc->ks->n_rec; w++)
        n += (size_t)sc->ks->rec[w].n + (size_t)n_extra(&sc->ks->rec[w]) + (size_t)pair_run(sc->ks, w, 2, NULL, NULL);
    for (int l = 0; l < sc->n_lines; l++)
        n += sc->ln[l].members >= 2;
    return n + (size_t)sc->n_fold;
}

/* Soft sum number i (i < scan_count()) into soft. */
static void scan_sum(const expect_scan *sc, size_t i, float soft[PMF_CODED_BITS])
{
    for (size_t w = 0; w < sc->ks->n_rec; w++) {
        const window_rec *r = &sc->ks->rec[w];
        const size_t here = (size_t)r->n + (size_t)n_extra(r);
        if (i < here) {
            pm_candidate tmp;
            memcpy(soft, cand_at(r, (int)i, &tmp)->soft, sizeof(float) * PMF_CODED_BITS);
            return;
        }
        i -= here;
        if (pair_run(sc->ks, w, 2, NULL, NULL) && i-- == 0) {
            pair_run(sc->ks, w, 2, soft, NULL);
            return;
        }
    }
    for (int l = 0; l < sc->n_lines; l++)
        if (sc->ln[l].members >= 2 && i-- == 0) {
            combine_line(sc->ks, sc->assign, l, soft);
            return;
        }
    memcpy(soft, sc->fold[i].soft, sizeof(float) * PMF_CODED_BITS);
}

/* The pairs expected of each key (keys as given), once per key state (n of them): the
 * codeword differs by version. */
static expected_pair *expect_states(const expected_pair *given, int n)
{
    expected_pair *ex = malloc(sizeof *ex * (size_t)n);
    if (!ex)
        return NULL;
    for (int j = 0; j < n; j++) {
        const expected_pair *p = &given[j / PMF_VERSIONS];
        ex[j] = (expected_pair){p->key * PMF_VERSIONS + j % PMF_VERSIONS, p->model, p->dataset};
    }
    return ex;
}

static int recognise(finisher *x, const expected_pair *given, int n_given, double *p_used)
{
    pm_detector *d = x->d;
    *p_used = 0.0;
    if (n_given == 0)
        return PM_OK;
    const int n_ex = n_given * PMF_VERSIONS;
    expected_pair *ex = expect_states(given, n_ex);
    expect_scan sc[MAX_STATES] = {0};
    float(*sign)[PMF_CODED_BITS] = malloc(sizeof *sign * (size_t)n_ex);
    double *best = malloc(sizeof *best * (size_t)n_ex), *tag_only = malloc(sizeof *tag_only * (size_t)n_ex);
    int rc = ex && sign && best && tag_only ? PM_OK : PM_ERR_NOMEM;
    double n_tests = 0.0;
    int pairs[MAX_STATES] = {0};
    for (int j = 0; j < n_ex && rc == PM_OK; j++) {
        codeword_signs(&d->keys[ex[j].key], ex[j].model, ex[j].dataset, sign[j]);
        best[j] = tag_only[j] = -INFINITY;
        pairs[ex[j].key]++;
    }
    for (int k = 0; k < d->n_keys && rc == PM_OK; k++)
        if (pairs[k] && (rc = scan_open(&sc[k], x, k)) == PM_OK)
            n_tests += (double)scan_count(&sc[k]) * pairs[k];
    const double threshold = n_tests > 0.0 ? sqrt(2.0 * log(n_tests / EXPECT_P)) : INFINITY;
    double n_pass = 0.0; /* (sum, pair) tests past the threshold and the guards */
    for (int k = 0; k < d->n_keys && rc == PM_OK; k++) {
        const size_t n = pairs[k] ? scan_count(&sc[k]) : 0;
        for (size_t i = 0; i < n; i++) {
            float soft[PMF_CODED_BITS];
            scan_sum(&sc[k], i, soft);
            /* What else the sum could carry: a decoded mark of the key, or the word it
             * decodes to itself (any IDs, tag unchecked). A pair must explain the sum
             * better than the first and nearly as well as the second. */
            double decoded = -INFINITY;
            for (int m = 0; m < d->n_marks; m++)
                if (d->marks[m].key_index == k && !d->recognised[m])
                    decoded = fmax(decoded, agreement(soft, x->sign[m], PMF_CODED_BITS));
            uint8_t info[PMF_PAYLOAD_BITS];
            const double own = decoded_agreement(soft, info);
            for (int j = 0; j < n_ex; j++) {
                if (ex[j].key != k)
                    continue;
                const double a = agreement(soft, sign[j], PMF_CODED_BITS);
                if (a < threshold || a <= decoded || own - a > EXPECT_EXCESS ||
                    tag_agreement(soft, sign[j]) < EXPECT_TAG_SHARE * a)
                    continue;
                n_pass += 1.0;
                best[j] = fmax(best[j], a);
                tag_only[j] = fmax(tag_only[j], agreement(soft + TAG_ONLY_FROM, sign[j] + TAG_ONLY_FROM,
                                                          PMF_CODED_BITS - TAG_ONLY_FROM));
            }
        }
    }
    if (rc == PM_OK && n_tests > 0.0) {
        *p_used = EXPECT_P;
        const double tag_threshold = sqrt(2.0 * log(fmax(n_pass, 1.0) / EXPECT_OTHER_P));
        for (;;) { /* strongest first */
            int top = -1;
            for (int j = 0; j < n_ex; j++)
                if (best[j] >= threshold && tag_only[j] >= tag_threshold && (top < 0 || best[j] > best[top]))
                    top = j;
            if (top < 0)
                break;
            best[top] = -INFINITY;
            int known = 0;
            for (int m = 0; m < d->n_marks; m++)
                known |= d->marks[m].key_index == ex[top].key && d->marks[m].model_id == ex[top].model &&
                         d->marks[m].dataset_id == ex[top].dataset;
            if (known)
                continue;
            const int m = add_mark(x, ex[top].key, ex[top].model, ex[top].dataset);
            if (m < 0)
                break;
            d->recognised[m] = 1;
        }
    }
    for (int k = 0; k < d->n_keys; k++)
        scan_close(&sc[k]);
    free(ex);
    free(sign);
    free(best);
    free(tag_only);
    return rc;
}

/* The decoding stages of decode(), in the order they run. */
static int decode_stage(finisher *x, int k, int stage)
{
    switch (stage) {
    case 0: return decode_lines(x, k);
    case 1: decode_combined(x, k); return PM_OK;
    case 2: decode_folds(x, k); return PM_OK;
    case 3: return decode_windows(x, k);
    case 4: return decode_pairs(x, k);
    default: return decode_singles(x, k);
    }
}
#define STAGES 6

/* A key state's strongest tracked path over the file. */
static float state_path_z(const key_state *ks)
{
    float z = -INFINITY;
    for (size_t w = 0; w < ks->n_rec; w++)
        z = fmaxf(z, ks->rec[w].path_z);
    return z;
}

/*
 * Decode a pipeline's marks with at most `budget` tag checks (*used: the checks made),
 * then recognise the pairs `top` expects (*p_expect: the chance they add to p_false).
 * Each key may use budget / keys of the checks, over both its versions; the stages run one
 * at a time over all key states, the state with the strongest path first, so that a
 * version holding no mark does not spend the checks before the one that does.
 */
static int decode(pm_detector *d, const pm_detector *top, int budget, int *used, double *p_expect)
{
    finisher x = {.d = d, .budget = budget / d->n_users, .limit = budget, .n_win = d->keys[0].n_rec};
    x.explained = calloc(x.n_win ? x.n_win : 1, 1);
    x.fold = calloc((size_t)FOLD_CANDS * (size_t)d->n_keys, sizeof *x.fold);
    x.trail = malloc(PM_FEC_LIST_TRAIL(LIST_WORDS));
    if (!x.explained || !x.fold || !x.trail) {
        free(x.explained);
        free(x.fold);
        free(x.trail);
        return PM_ERR_NOMEM;
    }
    int order[MAX_STATES];
    float path_z[MAX_STATES];
    for (int k = 0; k < d->n_keys; k++) {
        const key_state *ks = &d->keys[k];
        for (int i = 0; i < d->n_folds && x.n_win; i++)
            x.n_fold[k] += pm_fold_best(&d->fold[geo_of(ks)][i], &ks->layout, x.fold + k * FOLD_CANDS + x.n_fold[k],
                                        PM_FOLD_KEEP);
        path_z[k] = state_path_z(ks);
        int i = k;
        for (; i > 0 && path_z[order[i - 1]] < path_z[k]; i--)
            order[i] = order[i - 1];
        order[i] = k;
    }
    int rc = PM_OK;
    for (int stage = 0; stage < STAGES && rc == PM_OK; stage++)
        for (int i = 0; i < d->n_keys && rc == PM_OK; i++)
            rc = decode_stage(&x, order[i], stage);
    if (rc == PM_OK)
        rc = recognise(&x, top->expect, top->n_expect, p_expect);
    if (rc == PM_OK)
        rc = place_marks(&x);
    free(x.explained);
    free(x.fold);
    free(x.trail);
    *used = x.total;
    return rc;
}

/*
 * Mark `from` (the same mark, found by the other pipeline) into `into`: the union of
 * their time ranges, in time order (ranges that meet or overlap joined), and the
 * sync and scales of the stronger. A stream whose speed changes carries one mark at
 * two scales, each found by one pipeline only.
 */
static void merge_mark(pm_mark *into, const pm_mark *from)
{
    const pm_mark a = *into;
    pm_segment *out = into->segments;
    int n = 0, i = 0, j = 0;
    while (i < a.n_segments || j < from->n_segments) {
        const int left = j == from->n_segments || (i < a.n_segments && a.segments[i].start <= from->segments[j].start);
        const pm_segment s = left ? a.segments[i++] : from->segments[j++];
        if (n && s.start <= out[n - 1].end) {
            out[n - 1].end = fmax(out[n - 1].end, s.end);
            out[n - 1].score = fmax(out[n - 1].score, s.score);
        } else if (n < PM_MAX_SEGMENTS) {
            out[n++] = s;
        }
    }
    into->n_segments = n;
    if (from->sync_z > into->sync_z) {
        into->sync_z = from->sync_z;
        into->speed = from->speed;
        into->tempo = from->tempo;
    }
}

/*
 * Segment i of mark mk holds `in`, another mark's range: mk keeps what lies either side
 * of it (both parts when it has room for another segment, else the longer).
 */
static void cut_out(pm_mark *mk, int i, const pm_segment *in)
{
    pm_segment *o = &mk->segments[i];
    const pm_segment left = {o->start, in->start, o->score}, right = {in->end, o->end, o->score};
    const double l = left.end - left.start, r = right.end - right.start;
    if (l > 0.0 && r > 0.0 && mk->n_segments < PM_MAX_SEGMENTS) {
        memmove(o + 2, o + 1, sizeof(pm_segment) * (size_t)(mk->n_segments - i - 1));
        o[0] = left;
        o[1] = right;
        mk->n_segments++;
    } else if (l > 0.0 && l >= r) {
        *o = left;
    } else if (r > 0.0) {
        *o = right;
    }
}

/*
 * A second of audio goes to one mark only. Each pipeline places its marks' boundaries
 * at its own time scale, and merge_mark() joins a mark's ranges from both: after a tempo
 * change one mark's range ran a few tenths of a second into the next mark's, or over a
 * short mark the other pipeline placed inside it. Ranges that overlap get half of the
 * overlap each, cut at its middle; a range inside another's is cut out of the outer one.
 * Two marks with the very same range are left as they are.
 */
static void split_overlaps(pm_mark *marks, int n)
{
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            for (int i = 0; i < marks[a].n_segments; i++)
                for (int j = 0; j < marks[b].n_segments; j++) {
                    pm_segment *x = &marks[a].segments[i], *y = &marks[b].segments[j];
                    if (fmax(x->start, y->start) >= fmin(x->end, y->end) ||
                        (x->start == y->start && x->end == y->end))
                        continue;
                    if (x->start <= y->start && y->end <= x->end) {
                        cut_out(&marks[a], i, y);
                    } else if (y->start <= x->start && x->end <= y->end) {
                        cut_out(&marks[b], j, x);
                    } else {
                        pm_segment *first = x->start < y->start ? x : y, *second = first == x ? y : x;
                        const double mid = 0.5 * (second->start + first->end);
                        first->end = mid;
                        second->start = mid;
                    }
                }
}

/* Checks kept for the weaker of two pipelines, out of the file's PMF_MAX_ATTEMPTS. */
#define SECOND_BUDGET (PMF_MAX_ATTEMPTS / 4)
/* The scaled pipeline searches the grid the estimate found best of its PM_EST_NF x
 * PM_EST_NT scale pairs (scale.h), so on music without a mark its best path's z exceeds the
 * unscaled pipeline's by 0.4 in the median and by 2.2 or more in a tenth of files (40
 * files read with another key). It decodes first, with the larger share of the checks,
 * only when ahead by more than this: a weak mark at speed 1 (MP3 32k) lost its checks to
 * the noise of a scaled grid. */
#define SCALED_HANDICAP 2.0f

static void clear_result(pm_result *res)
{
    memset(res, 0, sizeof *res);
    res->key_index = -1;
    res->speed = res->tempo = 1.0;
}

static pm_status finish_stream(pm_detector *d, pm_result *res)
{
    int rc = PM_OK;
    if (!d->settled) {
        pm_scale_est_flush(d->est, d->layouts, d->n_keys);
        rc = settle(d);
    }
    if (rc == PM_OK)
        rc = last_window(d);
    if (rc == PM_OK && d->scaled)
        rc = last_window(d->scaled);
    if (rc != PM_OK)
        return rc;
    /* The pipeline with the stronger sync (the scaled one by SCALED_HANDICAP) decodes
     * first; the other keeps a share of the checks. Both together make at most
     * PMF_MAX_ATTEMPTS: the p_false bound holds. */
    pm_detector *first = d, *second = d->scaled;
    res->sync_z = best_path(d, &res->speed, &res->tempo);
    if (second) {
        double sp = 1.0, te = 1.0;
        const float z = best_path(second, &sp, &te);
        if (z > res->sync_z + SCALED_HANDICAP) {
            res->sync_z = z, res->speed = sp, res->tempo = te;
            first = second, second = d;
        }
    }
    int used = 0, used2 = 0;
    double p_expect = 0.0, p_expect2 = 0.0;
    rc = decode(first, d, second ? PMF_MAX_ATTEMPTS - SECOND_BUDGET : PMF_MAX_ATTEMPTS, &used, &p_expect);
    if (rc == PM_OK && second)
        rc = decode(second, d, PMF_MAX_ATTEMPTS - used, &used2, &p_expect2);
    if (rc != PM_OK)
        return rc;
    { /* The marks of both pipelines, the first pipeline's first, and of both versions of a
       * key (key states named by their key), each once with the time ranges of all. */
        pm_mark all[PM_MAX_MARKS] = {0};
        uint8_t recognised[PM_MAX_MARKS] = {0}, formats[PM_MAX_MARKS] = {0};
        int n = 0;
        for (int p = 0; p < (second ? 2 : 1); p++) {
            const pm_detector *q = p ? second : first;
            for (int m = 0; m < q->n_marks; m++) {
                pm_mark mk = q->marks[m];
                /* a reading with no range of its own says nothing of where its version is */
                const uint8_t format = mk.n_segments ? (uint8_t)(1u << (mk.key_index % PMF_VERSIONS)) : 0;
                mk.key_index /= PMF_VERSIONS;
                int dup = -1;
                for (int j = 0; j < n && dup < 0; j++)
                    if (all[j].key_index == mk.key_index && all[j].model_id == mk.model_id &&
                        all[j].dataset_id == mk.dataset_id)
                        dup = j;
                if (dup >= 0) {
                    merge_mark(&all[dup], &mk);
                    recognised[dup] &= q->recognised[m]; /* decoded by either: decoded */
                    formats[dup] |= format;
                } else if (n < PM_MAX_MARKS) {
                    recognised[n] = q->recognised[m];
                    formats[n] = format;
                    all[n++] = mk;
                }
            }
        }
        memcpy(d->marks, all, sizeof(pm_mark) * (size_t)n);
        memcpy(d->recognised, recognised, sizeof recognised);
        memcpy(d->formats, formats, sizeof formats);
        d->n_marks = n;
    }
    /* A mark that no window was given to (others explain its windows better) has no
     * time range: it is not reported, as a mark must say where it is. */
    int kept = 0;
    for (int m = 0; m < d->n_marks; m++)
        if (d->marks[m].n_segments > 0) {
            d->recognised[kept] = d->recognised[m];
            d->formats[kept] = d->formats[m];
            d->marks[kept++] = d->marks[m];
        }
    d->n_marks = kept;
    split_overlaps(d->marks, d->n_marks);
    res->attempts = used + used2;
    /* Each check passes the 4 version + 32 tag bits by chance with probability 2^-36;
     * the tests of expected pairs add at most EXPECT_P per pipeline that made them. */
    res->p_false = res->attempts * ldexp(1.0, -(PMF_VERSION_BITS + PMF_TAG_BITS)) + p_expect + p_expect2;
    for (int m = 0; m < d->n_marks; m++)
        d->marks[m].p_false = res->p_false;
    if (d->n_marks) {
        const pm_mark *top = &d->marks[0];
        res->found = 1;
        res->key_index = top->key_index;
        res->model_id = top->model_id;
        res->dataset_id = top->dataset_id;
        res->sync_z = top->sync_z;
        res->speed = top->speed;
        res->tempo = top->tempo;
        res->n_segments = top->n_segments;
        memcpy(res->segments, top->segments, sizeof(pm_segment) * (size_t)top->n_segments);
    }
    return PM_OK;
}

pm_status pm_detector_finish(pm_detector *d, pm_result *res)
{
    if (!res)
        return PM_ERR_ARG;
    /* Cleared first, so a caller that reads the result after any error finds no mark. */
    clear_result(res);
    if (!d)
        return PM_ERR_ARG;
    if (d->finished || d->failed)
        return PM_ERR_STATE;
    d->finished = 1;
    const pm_status rc = finish_stream(d, res);
    if (rc != PM_OK) {
        /* A decode that failed part way (out of memory) may have found some of the marks:
         * none is reported, so no caller reads part of the answer as the whole. */
        d->failed = 1;
        d->n_marks = 0;
        clear_result(res);
    }
    return rc;
}

int pm_detector_mark_count(const pm_detector *d)
{
    if (!d)
        return PM_ERR_ARG;
    return d->finished && !d->failed ? d->n_marks : PM_ERR_STATE;
}

/* PM_OK when mark `index` of a finished detector can be read; else the error to return. */
static pm_status mark_readable(const pm_detector *d, int index)
{
    if (!d)
        return PM_ERR_ARG;
    if (!d->finished || d->failed)
        return PM_ERR_STATE;
    return index < 0 || index >= d->n_marks ? PM_ERR_ARG : PM_OK;
}

pm_status pm_detector_mark(const pm_detector *d, int index, pm_mark *mark)
{
    const pm_status rc = mark ? mark_readable(d, index) : PM_ERR_ARG;
    if (rc == PM_OK)
        *mark = d->marks[index];
    return rc;
}

pm_status pm_detector_expect(pm_detector *d, int key_index, uint32_t model_id, uint32_t dataset_id)
{
    if (!d || key_index < 0 || key_index >= d->n_users)
        return PM_ERR_ARG;
    if (model_id > PM_ID_MAX || dataset_id > PM_ID_MAX)
        return PM_ERR_ID;
    if (d->finished || d->failed)
        return PM_ERR_STATE;
    for (int j = 0; j < d->n_expect; j++)
        if (d->expect[j].key == key_index && d->expect[j].model == model_id && d->expect[j].dataset == dataset_id)
            return PM_OK;
    if (d->n_expect == PM_MAX_EXPECTED)
        return PM_ERR_ARG;
    if (!d->expect && !(d->expect = malloc(sizeof *d->expect * PM_MAX_EXPECTED)))
        return PM_ERR_NOMEM;
    d->expect[d->n_expect++] = (expected_pair){key_index, model_id, dataset_id};
    return PM_OK;
}

int pm_detector_mark_recognised(const pm_detector *d, int index)
{
    const pm_status rc = mark_readable(d, index);
    return rc != PM_OK ? rc : d->recognised[index];
}

int pm_detector_mark_formats(const pm_detector *d, int index)
{
    const pm_status rc = mark_readable(d, index);
    return rc != PM_OK ? rc : d->formats[index];
}
