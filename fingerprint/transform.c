/*
 * The query of triplets: transposed and re-timed copies (docs/FPINDEX.md,
 * "Transposed and re-timed copies: the triplets").
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/*
 * A triplet's hit says how the query would map onto the item: the pitch factor
 * (the ratio of the two anchors' frequencies) and roughly the tempo (the ratio of
 * the two spans, each a few frames long, so a few per cent off). The tempo is
 * found as a Hough transform would: for each tempo of a grid of 1 % steps near the
 * hits' own estimates, each hit gives the item frame its query frame maps to, and
 * a copy shows as many hits in one (tempo, pitch, offset) cell. The query is cut
 * into windows of TX_WINDOW frames (two grids, half a window apart) so that a step
 * of the tempo grid moves an offset by at most 3.7 frames. Cells are counted on four
 * lattices (pitch and offset each shifted by half a cell or not), so a copy near a
 * cell's edge is not split. Significance is that of the pairs (docs/FPINDEX.md),
 * with every cell of every lattice counted as a test.
 */
#define TX_PITCH_MIN 0.84   /* 3 semitones down */
#define TX_PITCH_MAX 1.19   /* 3 semitones up */
#define TX_TEMPO_MIN 0.85
#define TX_TEMPO_MAX 1.18
#define TX_TEMPO_STEP 0.01  /* log step of the tempo grid */
#define TX_TEMPOS 34        /* steps from TX_TEMPO_MIN to TX_TEMPO_MAX (0.85 e^0.33 = 1.182) */
#define TX_PITCH_CELL 0.04  /* log width of a pitch cell */
#define TX_OFFSET_CELL 8    /* frames */
#define TX_WINDOW 624       /* query frames (20 s) */
#define TX_SPAN_JITTER 1.0  /* frames a peak's time may move in a copy */
#define TX_PEAKS 2          /* tempo peaks of a window's histogram searched */
#define TX_MAX_HITS (1u << 17)
#define TX_FIT_SPREAD 62    /* frames (2 s) of hits that give a tempo by a fit */
#define TX_FIT_TOL 3.0      /* frames from a match's line a hit may lie */
#define TX_REFINE 0.05      /* a match's tempo is looked for within 5 % of its cell's ... */
#define TX_REFINE_STEP 0.0025 /* ... in steps of 0.25 % */
#define TX_SEN 64           /* hits a match's line is fitted through, at most */
/* The tempi a match's fit may report: the grid's, widened by twice the refinement
 * (a copy just beyond the grid is still found, and its tempo measured). */
#define TX_TEMPO_LOWEST (TX_TEMPO_MIN * 0.9048374180359595)  /* e^(-2 TX_REFINE) */
#define TX_TEMPO_HIGHEST (TX_TEMPO_MIN * 1.5372575235482815) /* e^(0.01 (TX_TEMPOS - 1) + 2 TX_REFINE) */
#define TX_SLICE_TOP 32      /* a slice's fullest offset cells (a copy and its repeats) left out of its background */
#define TX_CLUMP 4          /* query frames (0.13 s) within which hits count as one coincidence */
/*
 * The share of the false-match rate the triplets may spend: their E-values are
 * divided by it, so that one threshold serves both and the pairs keep all but this.
 * Measured, the triplets' chance alignments are rarer than E says at every level
 * there are windows for, but too few to show the shape of the tail far beyond.
 */
#define TX_SHARE 0.01
#define TX_SAME 0.01        /* a match within 1 % of pitch 1 and tempo 1 is left to the pairs ... */
#define TX_TEMPO_JITTER 2.5 /* ... or within this many frames over its hits' spread, of tempo 1 */
#define TX_EMITS 8          /* cells made matches per item window and tempo peak, the most significant */
#define TX_ITEM_MATCHES 64  /* matches kept per item, the most significant distinct copies */

typedef struct tx_vote {
    uint64_t key; /* tempo step, pitch cell and grid, offset cell and grid */
    uint32_t hit;
} tx_vote;

static int cmp_vote(const void *a, const void *b)
{
    const tx_vote *p = a, *q = b;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    return (p->hit > q->hit) - (p->hit < q->hit);
}

/* Triplet hits by item, then query landmark (so by query frame). */
static int cmp_item_qi(const void *a, const void *b)
{
    const hit *p = a, *q = b;
    if (p->item != q->item)
        return p->item < q->item ? -1 : 1;
    return (p->qi > q->qi) - (p->qi < q->qi);
}

static double tx_tempo(int g) { return TX_TEMPO_MIN * exp(g * TX_TEMPO_STEP); }

/* Query and item frame, frequencies (bins) and spans of a triplet hit. */
typedef struct tx_geom {
    double tq, ti, fq, fi, sq, si;
} tx_geom;

static tx_geom geom_of(const fp_landmark *lm, const hit *h)
{
    const fp_landmark *q = &lm[h->qi];
    return (tx_geom){q->t, (double)q->t + h->offset, FP_TRI_FREQ(q->hash) / 4.0, FP_TRI_FREQ(h->hash) / 4.0,
                     FP_TRI_SPAN(q->hash), FP_TRI_SPAN(h->hash)};
}

/* The tempo steps a hit is consistent with: [*lo, *hi]; 0 if none (or its pitch is out of range). */
static int tempo_range(const tx_geom *g, int *lo, int *hi)
{
    const double pitch = g->fq / g->fi;
    if (!(g->fi > 0.0 && g->sq > 0.0 && g->si > 0.0 && pitch >= TX_PITCH_MIN && pitch <= TX_PITCH_MAX))
        return 0;
    const double tol = TX_SPAN_JITTER / g->sq + TX_SPAN_JITTER / g->si, t = log(g->si / g->sq / TX_TEMPO_MIN);
    const double a = ceil((t - tol) / TX_TEMPO_STEP), b = floor((t + tol) / TX_TEMPO_STEP);
    *lo = a < 0 ? 0 : (int)a;
    *hi = b > TX_TEMPOS - 1 ? TX_TEMPOS - 1 : (int)b;
    return *lo <= *hi;
}

/* The query frame a window's offsets are measured from (its middle). */
static double window_origin(uint32_t window)
{
    return (window >> 1) * (double)TX_WINDOW + (window & 1 ? 0.0 : TX_WINDOW / 2.0);
}

/* What a window's cells share: tests per item window and the chance of one hit landing in a cell. */
typedef struct tx_chance {
    double log10_tests; /* every cell of every window, lattice and item, over TX_SHARE */
    double cells_pitch;
} tx_chance;

/* The smallest count a cell needs to be significant, at the lowest background there can be. */
static int k_needed(const chance *c, const tx_chance *t, double p_cell)
{
    for (int k = 1; k < 1000; k++)
        if (t->log10_tests + CLUMPING * fpx_log10_poisson_tail(p_cell, k) + c->log10_scale <= c->log10_limit)
            return k;
    return 1000;
}

/*
 * The independent coincidences of a cell's hits: the smaller of their distinct codes
 * and their query anchors counted no closer than TX_CLUMP frames apart. Triplets of
 * neighbouring anchors share peaks, so one chord that two pieces happen to share
 * gives several hits a few frames apart (measured: six hits, four of them within
 * 0.7 s, at one semitone, made a chance alignment of unrelated music of E 10^-4.8).
 */
static int distinct_of(const fp_landmark *lm, const hit *x, const tx_vote *v, size_t n, uint32_t *scratch)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = lm[x[v[i].hit].qi].t;
    qsort(scratch, n, sizeof *scratch, fpq_cmp_u32);
    int moments = 0, codes = 0;
    for (size_t i = 0, last = 0; i < n; i++)
        if (i == 0 || scratch[i] >= scratch[last] + TX_CLUMP) {
            moments++;
            last = i;
        }
    for (size_t i = 0; i < n; i++)
        scratch[i] = lm[x[v[i].hit].qi].hash >> FP_TRI_CODE_SHIFT;
    qsort(scratch, n, sizeof *scratch, fpq_cmp_u32);
    for (size_t i = 0; i < n; i++)
        codes += i == 0 || scratch[i] != scratch[i - 1];
    return moments < codes ? moments : codes;
}

static int cmp_double(const void *a, const void *b)
{
    const double p = *(const double *)a, q = *(const double *)b;
    return (p > q) - (p < q);
}

/* The median of ti - tempo tq over a cell's hits: the line's intercept at that tempo. */
static double intercept(const fp_landmark *lm, const hit *x, const tx_vote *v, size_t nv, double tempo,
                        double *scratch)
{
    for (size_t i = 0; i < nv; i++) {
        const tx_geom gm = geom_of(lm, &x[v[i].hit]);
        scratch[i] = gm.ti - tempo * gm.tq;
    }
    qsort(scratch, nv, sizeof *scratch, cmp_double);
    return scratch[nv / 2];
}

/* The hits of x within TX_FIT_TOL frames of the line and TX_PITCH_CELL of log pitch p. */
static size_t on_line(const fp_landmark *lm, const hit *x, size_t nx, double tempo, double b,
                      double p)
{
    size_t k = 0;
    for (size_t i = 0; i < nx; i++) {
        const tx_geom gm = geom_of(lm, &x[i]);
        k += fabs(gm.ti - (tempo * gm.tq + b)) <= TX_FIT_TOL && fabs(log(gm.fq / gm.fi) - p) <= TX_PITCH_CELL;
    }
    return k;
}

/*
 * The line through the hits of x on (*tempo, *b) (within TX_FIT_TOL frames, and
 * TX_PITCH_CELL of log pitch p), fitted again where they spread over TX_FIT_SPREAD
 * frames or more: the slope is the median of the slopes between pairs of them at
 * least half that far apart (Theil-Sen: a hit or two off the line, a chance
 * coincidence near an end, would tilt a least-squares fit by a per cent or two),
 * over at most TX_SEN of them taken evenly; the intercept is then the median.
 * Returns the frames they spread over.
 */
static double theil_sen(const fp_landmark *lm, const hit *x, size_t nx, double p, double *tempo,
                        double *b)
{
    size_t on = on_line(lm, x, nx, *tempo, *b, p);
    if (on < 2)
        return 0.0;
    double tq[TX_SEN], ti[TX_SEN], slope[TX_SEN * (TX_SEN - 1) / 2];
    size_t n = 0, seen = 0;
    for (size_t i = 0; i < nx && n < TX_SEN; i++) {
        const tx_geom gm = geom_of(lm, &x[i]);
        if (fabs(gm.ti - (*tempo * gm.tq + *b)) > TX_FIT_TOL || fabs(log(gm.fq / gm.fi) - p) > TX_PITCH_CELL)
            continue;
        if (seen++ * TX_SEN / on >= n) /* evenly over the hits on the line */
            tq[n] = gm.tq, ti[n] = gm.ti, n++;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        lo = fmin(lo, tq[i]), hi = fmax(hi, tq[i]);
    if (hi - lo < TX_FIT_SPREAD)
        return hi - lo;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (fabs(tq[j] - tq[i]) >= TX_FIT_SPREAD / 2.0)
                slope[ns++] = (ti[j] - ti[i]) / (tq[j] - tq[i]);
    if (ns == 0)
        return hi - lo;
    qsort(slope, ns, sizeof *slope, cmp_double);
    const double t = slope[ns / 2];
    if (!(t >= TX_TEMPO_LOWEST && t <= TX_TEMPO_HIGHEST))
        return hi - lo;
    for (size_t i = 0; i < n; i++)
        tq[i] = ti[i] - t * tq[i]; /* the intercepts, in place */
    qsort(tq, n, sizeof *tq, cmp_double);
    *tempo = t;
    *b = tq[n / 2];
    return hi - lo;
}

/*
 * A significant cell's match. The cell gives a tempo to a step or a few and an
 * offset to a few frames: the tempo within TX_REFINE of it (in steps of
 * TX_REFINE_STEP) that puts most of the item window's hits within TX_FIT_TOL frames
 * of its line is taken, and the hits on that line fit it (theil_sen()), which gives
 * the tempo to a few tenths of a per cent. The pitch is the median of theirs.
 */
static int tx_emit(const fp_landmark *lm, const hit *x, const tx_vote *v, size_t nv, size_t nx, int g,
                   double le, matches *m, double *scratch)
{
    for (size_t i = 0; i < nv; i++) {
        const tx_geom gm = geom_of(lm, &x[v[i].hit]);
        scratch[i] = log(gm.fq / gm.fi);
    }
    qsort(scratch, nv, sizeof *scratch, cmp_double);
    const double p = scratch[nv / 2];
    double tempo = tx_tempo(g), b = intercept(lm, x, v, nv, tempo, scratch);
    double *tq = scratch + nv, *ti = tq + nx; /* the window's hits at this pitch, for the tempos tried */
    size_t near = 0;
    for (size_t i = 0; i < nx; i++) {
        const tx_geom gm = geom_of(lm, &x[i]);
        if (fabs(log(gm.fq / gm.fi) - p) <= TX_PITCH_CELL)
            tq[near] = gm.tq, ti[near] = gm.ti, near++;
    }
    /* Each hit within TX_FIT_TOL of a line scores 1 - (its distance / TX_FIT_TOL)^2:
     * a plain count ties over several per cent of tempo on a match of a second or two. */
    double best = -1.0;
    const int steps = (int)lround(TX_REFINE / TX_REFINE_STEP);
    for (int j = -steps; j <= steps; j++) {
        const double tj = tx_tempo(g) * exp(j * TX_REFINE_STEP), bj = j ? intercept(lm, x, v, nv, tj, scratch) : b;
        double score = 0.0;
        for (size_t i = 0; i < near; i++) {
            const double r = (ti[i] - (tj * tq[i] + bj)) / TX_FIT_TOL;
            score += r * r < 1.0 ? 1.0 - r * r : 0.0;
        }
        if (score > best)
            best = score, tempo = tj, b = bj;
    }
    (void)theil_sen(lm, x, nx, p, &tempo, &b);
    const double spread = theil_sen(lm, x, nx, p, &tempo, &b); /* again, over the hits on the fitted line */
    size_t np = 0;
    double q0 = INFINITY, q1 = -INFINITY;
    for (size_t i = 0; i < nx; i++) { /* the hits on the line: the span and the pitch */
        const tx_geom gm = geom_of(lm, &x[i]);
        if (fabs(gm.ti - (tempo * gm.tq + b)) > TX_FIT_TOL || fabs(log(gm.fq / gm.fi) - p) > TX_PITCH_CELL)
            continue;
        scratch[np++] = log(gm.fq / gm.fi);
        q0 = fmin(q0, gm.tq);
        q1 = fmax(q1, gm.tq + gm.sq);
    }
    if (np == 0) /* the cell's own hits lie off the fitted line */
        return 0;
    qsort(scratch, np, sizeof *scratch, cmp_double);
    const double pitch = fmin(fmax(exp(np % 2 ? scratch[np / 2] : 0.5 * (scratch[np / 2 - 1] + scratch[np / 2])),
                                   TX_PITCH_MIN), TX_PITCH_MAX);
    /* Neither transposed nor re-timed, as far as the hits can tell (a peak may move a
     * frame at either end of their spread): the same recording, which is for the pairs
     * to find (a recording that repeats itself, a loop or a click train, would
     * otherwise match itself at its repeats: the pairs count those as the few hashes
     * they are). */
    if (fabs(log(pitch)) < TX_SAME && fabs(log(tempo)) < fmax(TX_SAME, TX_TEMPO_JITTER / fmax(spread, 1.0)))
        return 0;
    fpx_match *mt = fpq_new_match(m);
    if (!mt)
        return -1;
    const double qs = q0 * FP_HOP_SECONDS, qe = (q1 + 1) * FP_HOP_SECONDS + FP_WIN_SECONDS;
    *mt = (fpx_match){.item = x[v[0].hit].item, .query_start = qs, .query_end = qe,
                      .item_start = (tempo * q0 + b) * FP_HOP_SECONDS,
                      .item_end = (tempo * (q1 + 1) + b) * FP_HOP_SECONDS + FP_WIN_SECONDS,
                      .landmarks = (int)nv, .score = nv / (qe - qs), .log10_evalue = le, .rank = 1,
                      .pitch = pitch, .tempo = tempo};
    return 0;
}

/*
 * The chance votes per cell of a slice (one tempo step and pitch cell; v sorted by
 * key), its TX_SLICE_TOP fullest cells of each offset lattice left out: a copy and
 * its repeats stand in a few cells, while hits that crowd at one pitch and tempo all
 * over the item (music in one key, a loop, a crafted index) fill the whole slice,
 * where a cell then needs that much more.
 */
static double slice_background(const tx_vote *v, size_t n, double offset_cells)
{
    size_t top[2][TX_SLICE_TOP] = {{0}};
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && v[e].key == v[s].key)
            e++;
        size_t run = e - s, *lat = top[v[s].key & 1];
        for (int i = 0; i < TX_SLICE_TOP; i++) /* keep the lattice's largest runs, largest first */
            if (run > lat[i]) {
                const size_t tmp = lat[i];
                lat[i] = run;
                run = tmp;
            }
        s = e;
    }
    double rest = (double)n;
    for (int i = 0; i < TX_SLICE_TOP; i++)
        rest -= (double)(top[0][i] + top[1][i]);
    return (rest / 2.0 + 1.0) / fmax(offset_cells - TX_SLICE_TOP, 1.0);
}

/* The cells of one item window (its hits x[0..n)), at the tempo steps near its histogram's peaks. */
static int tx_window(const fp_landmark *lm, const hit *x, size_t n, uint32_t window, double frames_of_item,
                     const chance *c, const tx_chance *t, tx_vote *votes, uint32_t *scratch, double *dscratch,
                     matches *m)
{
    int hist[TX_TEMPOS] = {0}; /* the window's hits on each tempo step they span */
    double g_total = 0.0;
    for (size_t i = 0; i < n; i++) {
        const tx_geom gm = geom_of(lm, &x[i]);
        int lo, hi;
        if (!tempo_range(&gm, &lo, &hi))
            continue;
        g_total += hi - lo + 1;
        for (int g = lo; g <= hi; g++)
            hist[g]++;
    }
    if (g_total == 0.0) /* no hit within the range searched */
        return 0;
    const double offset_cells = (frames_of_item + TX_WINDOW * TX_TEMPO_MAX) / TX_OFFSET_CELL;
    /* A hit lands in one cell of its lattice per tempo step it spans, among TX_TEMPOS steps. */
    const double p_cell = g_total / n / TX_TEMPOS / t->cells_pitch / offset_cells;
    const int k_min = k_needed(c, t, p_cell);
    int peaks[TX_PEAKS] = {0}, np = 0;
    for (int r = 0; r < TX_PEAKS; r++) {
        int best = -1;
        for (int g = 0; g < TX_TEMPOS; g++) {
            int near = 0;
            for (int j = 0; j < np; j++)
                near |= abs(g - peaks[j]) <= 2;
            if (!near && hist[g] >= k_min && (best < 0 || hist[g] > hist[best]))
                best = g;
        }
        if (best < 0)
            break;
        peaks[np++] = best;
    }
    const double origin = window_origin(window);
    for (int r = 0; r < np; r++) {
        size_t nv = 0;
        for (size_t i = 0; i < n; i++) {
            const tx_geom gm = geom_of(lm, &x[i]);
            int lo, hi;
            if (!tempo_range(&gm, &lo, &hi))
                continue;
            const double lp = (log(gm.fq / gm.fi) - log(TX_PITCH_MIN)) / TX_PITCH_CELL;
            for (int g = peaks[r] - 1; g <= peaks[r] + 1; g++) {
                if (g < lo || g > hi)
                    continue;
                const double o = (gm.ti - tx_tempo(g) * (gm.tq - origin)) / TX_OFFSET_CELL + (1u << 30);
                for (int pg = 0; pg < 2; pg++)
                    for (int og = 0; og < 2; og++) {
                        const uint64_t pc = (uint64_t)floor(lp + 0.5 * pg) * 2 + (uint64_t)pg;
                        const uint64_t oc = (uint64_t)floor(o + 0.5 * og) * 2 + (uint64_t)og;
                        votes[nv++] = (tx_vote){(uint64_t)g << 56 | pc << 48 | oc, (uint32_t)i};
                    }
            }
        }
        qsort(votes, nv, sizeof *votes, cmp_vote);
        /* The TX_EMITS most significant cells of this tempo peak (a copy fills a few
         * neighbouring ones; each match costs a fit over the window's hits). */
        struct { size_t s, n; double le; } top[TX_EMITS];
        int nt = 0;
        for (size_t a = 0; a < nv;) { /* a slice: one tempo step and pitch cell, both offset lattices */
            size_t z = a + 1;
            while (z < nv && votes[z].key >> 48 == votes[a].key >> 48)
                z++;
            const double slice = slice_background(votes + a, z - a, offset_cells);
            for (size_t s = a; s < z;) {
                size_t e = s + 1;
                while (e < z && votes[e].key == votes[s].key)
                    e++;
                if (e - s >= (size_t)k_min) {
                    const int k = distinct_of(lm, x, votes + s, e - s, scratch);
                    /* The window's other hits, or the slice's where they crowd there more */
                    const double lambda = fmax((n - (e - s) + 1.0) * p_cell, slice);
                    const double le = t->log10_tests + CLUMPING * fpx_log10_poisson_tail(lambda, k);
                    if (le + c->log10_scale <= c->log10_limit && (nt < TX_EMITS || le < top[nt - 1].le)) {
                        int j = nt < TX_EMITS ? nt++ : nt - 1; /* insert, most significant first */
                        for (; j > 0 && top[j - 1].le > le; j--)
                            top[j] = top[j - 1];
                        top[j].s = s, top[j].n = e - s, top[j].le = le;
                    }
                }
                s = e;
            }
            a = z;
        }
        for (int j = 0; j < nt; j++)
            if (tx_emit(lm, x, votes + top[j].s, top[j].n, n, (int)(votes[top[j].s].key >> 56), top[j].le, m, dscratch) != 0)
                return -1;
    }
    return 0;
}

/*
 * Two matches of one item that map the same part of the query to the same part of
 * the item (cells of neighbouring grids, steps, windows) are one: keep the first.
 */
static int same_copy(const fpx_match *a, const fpx_match *b)
{
    const double overlap = fmin(a->query_end, b->query_end) - fmax(a->query_start, b->query_start);
    const double mid = 0.5 * (b->query_start + b->query_end);
    const double a_at = a->item_start + (mid - a->query_start) * a->tempo;
    const double b_at = b->item_start + (mid - b->query_start) * b->tempo;
    return a->item == b->item && overlap > 0.5 * fmin(a->query_end - a->query_start, b->query_end - b->query_start) &&
           fabs(a_at - b_at) < 1.0;
}

/*
 * An item's new matches m->v[first..): one per copy, the most significant, at most
 * TX_ITEM_MATCHES (the item's, whatever other items or shards hold). A copy the
 * pairs (m->v[0..pairs)) found too keeps the more significant of the two matches: a
 * transposed or re-timed copy keeps some pairs of low peaks (a bin is 6 % wide at
 * 250 Hz), which alone would call it untransformed, while the triplets of a short,
 * untransformed copy may read its tempo a few per cent off.
 */
static void keep_copies(matches *m, size_t pairs, size_t first)
{
    if (m->n == first)
        return; /* none (and m->v may be NULL) */
    qsort(m->v + first, m->n - first, sizeof *m->v, fpq_by_significance);
    size_t kept = first;
    for (size_t i = first; i < m->n && kept - first < TX_ITEM_MATCHES; i++) {
        int dup = 0;
        for (size_t j = 0; j < pairs && !dup; j++)
            if (same_copy(&m->v[j], &m->v[i])) {
                dup = 1;
                if (m->v[j].pitch == 1.0 && m->v[j].tempo == 1.0 && m->v[i].log10_evalue <= m->v[j].log10_evalue)
                    m->v[j] = m->v[i];
            }
        for (size_t j = first; j < kept && !dup; j++)
            dup = same_copy(&m->v[j], &m->v[i]);
        if (!dup)
            m->v[kept++] = m->v[i];
    }
    m->n = kept;
}

/* Matches from the query's triplets, appended to m after those of its pairs (m->n of them, kept). */
int fpq_transformed(const catalogue *cat, const fp_landmark *lm, size_t n, const chance *c, matches *m)
{
    size_t nh;
    hit *h = fpq_hits_of(cat, lm, n, 1, TX_MAX_HITS, &nh);
    if (!h)
        return -1;
    /* Votes of one item window: 3 tempo steps x 4 lattices per hit at most, for each peak in turn. */
    tx_vote *votes = malloc((12 * nh + 1) * sizeof *votes);
    uint32_t *scratch = malloc((12 * nh + 1) * sizeof *scratch);
    double *dscratch = malloc((12 * nh + 1) * sizeof *dscratch);
    int rc = -1;
    if (!votes || !scratch || !dscratch)
        goto out;
    qsort(h, nh, sizeof *h, cmp_item_qi);
    /* Windows of each grid a query of query_frames can touch (it need not start at a window's start). */
    const double windows = 2.0 * (floor(c->query_frames / TX_WINDOW) + 2.0);
    tx_chance t = {.cells_pitch = log(TX_PITCH_MAX / TX_PITCH_MIN) / TX_PITCH_CELL};
    double cells = 0.0;
    for (size_t s = 0; s < cat->n; s++)
        for (uint32_t i = 0; i < cat->x[s]->h->n_items; i++)
            cells += cat->x[s]->extent[i] ? (cat->x[s]->extent[i] + TX_WINDOW * TX_TEMPO_MAX) / TX_OFFSET_CELL : 0.0;
    t.log10_tests = log10(fmax(cells * windows * TX_TEMPOS * t.cells_pitch * 4.0, 1.0)) - log10(TX_SHARE);
    const size_t pairs = m->n;
    rc = 0;
    for (size_t is = 0; is < nh && rc == 0;) { /* an item's hits, in query order */
        size_t ie = is + 1;
        while (ie < nh && h[ie].item == h[is].item)
            ie++;
        const double frames_of_item = fpq_item_frames(cat, h[is].item);
        const size_t first = m->n;
        for (uint32_t grid = 0; grid < 2 && rc == 0; grid++) /* windows from frame 0, and half a window earlier */
            for (size_t s = is; s < ie && rc == 0;) {
                const uint32_t w = (lm[h[s].qi].t + grid * (TX_WINDOW / 2)) / TX_WINDOW;
                size_t e = s + 1;
                while (e < ie && (lm[h[e].qi].t + grid * (TX_WINDOW / 2)) / TX_WINDOW == w)
                    e++;
                rc = tx_window(lm, h + s, e - s, 2 * w + grid, frames_of_item, c, &t, votes, scratch, dscratch, m);
                s = e;
            }
        if (rc == 0)
            keep_copies(m, pairs, first);
        is = ie;
    }
out:
    free(h), free(votes), free(scratch), free(dscratch);
    return rc;
}
