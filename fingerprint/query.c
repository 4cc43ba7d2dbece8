/*
 * The query of a catalogue (one index or several shards): the landmark pairs'
 * alignments and their significance (docs/FPINDEX.md, "Significance"), then the
 * triplets' (transform.c), ranked together.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_GAP 94      /* frames (3 s) without agreement end a matched span */
#define GROUP_WIDTH 2     /* an alignment: offsets within one frame of each other (timing jitter) */

static int cmp_hit(const void *a, const void *b)
{
    const hit *p = a, *q = b;
    if (p->item != q->item)
        return p->item < q->item ? -1 : 1;
    if (p->offset != q->offset)
        return p->offset < q->offset ? -1 : 1;
    return (p->qi > q->qi) - (p->qi < q->qi);
}

static int cmp_qi(const void *a, const void *b)
{
    const hit *p = a, *q = b;
    return (p->qi > q->qi) - (p->qi < q->qi);
}

int fpq_cmp_u32(const void *a, const void *b)
{
    const uint32_t p = *(const uint32_t *)a, q = *(const uint32_t *)b;
    return (p > q) - (p < q);
}

double fpx_log10_poisson_tail(double lambda, int k)
{
    if (k <= 0)
        return 0.0;
    /* P(X = k), then the series of the terms above it (each lambda / j times the last). */
    const double log_pk = -lambda + k * log(lambda) - lgamma(k + 1.0);
    double sum = 1.0, term = 1.0;
    for (int j = k + 1; j < k + 100000 && term > 1e-17 * sum; j++) {
        term *= lambda / j;
        sum += term;
    }
    const double l = (log_pk + log(sum)) / M_LN10;
    return l < 0.0 ? l : 0.0;
}

int fpx_query_opts_check(const fpx_query_opts *o)
{
    return isfinite(o->false_rate) && o->false_rate > 0.0 && o->false_rate <= 1.0 && o->catalogue_hours >= 0.0 &&
                   o->catalogue_hours <= FPX_MAX_CATALOGUE_HOURS
               ? 0
               : -1;
}

/* The index (in cat) that holds catalogue item `item`. */
static size_t index_of(const catalogue *cat, uint32_t item)
{
    size_t lo = 0, hi = cat->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (cat->base[mid] <= item)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The frames the landmarks of catalogue item `item` span. */
double fpq_item_frames(const catalogue *cat, uint32_t item)
{
    const size_t s = index_of(cat, item);
    return cat->x[s]->extent[item - cat->base[s]];
}

/* log10 E of k agreeing hashes for an item whose offset cells hold `hits` chance votes in all. */
static double log10_evalue(const chance *c, double item_frames, size_t hits, int k)
{
    /* One vote more than seen: a quiet item's rate is never taken for zero. */
    const double lambda = (hits + 1.0) / ((item_frames + c->query_frames) / GROUP_WIDTH);
    return log10(c->tests) + CLUMPING * fpx_log10_poisson_tail(lambda, k);
}

fpx_match *fpq_new_match(matches *m)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        fpx_match *p = realloc(m->v, cap * sizeof *p);
        if (!p)
            return NULL;
        m->v = p;
        m->cap = cap;
    }
    return &m->v[m->n++];
}

/* Spans of one alignment group of one item (sorted by qi in place), appended to m when significant. */
static int emit(const fp_landmark *lm, const chance *c, double frames_of_item, size_t background, hit *g, size_t n,
                matches *m)
{
    qsort(g, n, sizeof *g, cmp_qi);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && lm[g[e].qi].t - lm[g[e - 1].qi].t <= SPLIT_GAP)
            e++;
        /*
         * Votes come in clumps that are not independent: a riff repeats one hash in
         * both, one chord change gives several landmarks at one frame. What counts is
         * the smaller of the distinct hashes and the distinct query frames.
         */
        int frames = 0, hashes = 0;
        for (size_t i = s; i < e; i++) {
            frames += i == s || lm[g[i].qi].t != lm[g[i - 1].qi].t;
            m->scratch[i - s] = lm[g[i].qi].hash;
        }
        qsort(m->scratch, e - s, sizeof *m->scratch, fpq_cmp_u32);
        for (size_t i = 0; i < e - s; i++)
            hashes += i == 0 || m->scratch[i] != m->scratch[i - 1];
        const int distinct = frames < hashes ? frames : hashes;
        const double le = log10_evalue(c, frames_of_item, background, distinct);
        fpx_match *mt;
        if (le + c->log10_scale <= c->log10_limit) {
            if (!(mt = fpq_new_match(m)))
                return -1;
            const int count = (int)(e - s);
            const double q0 = lm[g[s].qi].t * FP_HOP_SECONDS, q1 = (lm[g[e - 1].qi].t + 1) * FP_HOP_SECONDS + FP_WIN_SECONDS;
            double off = 0.0;
            for (size_t i = s; i < e; i++)
                off += g[i].offset;
            off = off / count * FP_HOP_SECONDS;
            *mt = (fpx_match){.item = g[s].item, .query_start = q0, .query_end = q1, .item_start = q0 + off,
                                       .item_end = q1 + off, .landmarks = count, .score = count / (q1 - q0),
                                       .log10_evalue = le, .rank = 1, .pitch = 1.0, .tempo = 1.0};
        }
        s = e;
    }
    return 0;
}

/* The catalogue's entries of one query landmark: `count` of them over all indexes. */
typedef struct span {
    uint64_t count;
    uint32_t qi; /* the query landmark */
} span;

/* Rarest first; among equals, in query order (the same order whatever qsort does with ties). */
static int by_count(const void *a, const void *b)
{
    const span *p = a, *q = b;
    if (p->count != q->count)
        return p->count < q->count ? -1 : 1;
    return (p->qi > q->qi) - (p->qi < q->qi);
}

/* First entry with a hash >= hash (or ne). */
static uint64_t lower_bound(const fpx_entry *e, uint64_t ne, uint64_t hash)
{
    uint64_t lo = 0, hi = ne;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (e[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * The entries a query landmark meets in one index: [*lo, *lo + returned count). A
 * pair meets its own hash; a triplet every entry with its code (the bits below it
 * are the entry's own frequency and span).
 */
static uint64_t entries_of(const fpx *x, uint32_t hash, uint64_t *lo)
{
    const uint64_t below = FP_IS_TRIPLET(hash) ? (1u << FP_TRI_CODE_SHIFT) - 1 : 0;
    *lo = lower_bound(x->entries, x->h->n_entries, hash & ~below);
    return lower_bound(x->entries, x->h->n_entries, (uint64_t)(hash | below) + 1) - *lo;
}

/*
 * Most significant first; among equals, more landmarks first, then by item and
 * times: one order whatever qsort does with ties, so that the same catalogue gives
 * the same list whether it is one index or several.
 */
int fpq_by_significance(const void *a, const void *b)
{
    const fpx_match *p = a, *q = b;
    if (p->log10_evalue != q->log10_evalue)
        return p->log10_evalue < q->log10_evalue ? -1 : 1;
    if (p->landmarks != q->landmarks)
        return p->landmarks > q->landmarks ? -1 : 1;
    if (p->item != q->item)
        return p->item < q->item ? -1 : 1;
    if (p->query_start != q->query_start)
        return p->query_start < q->query_start ? -1 : 1;
    return (p->item_start > q->item_start) - (p->item_start < q->item_start);
}

/* The chance model of this query against this catalogue (docs/FPINDEX.md, "Significance"). */
static chance chance_of(const catalogue *cat, const fp_landmark *lm, size_t n, const fpx_query_opts *o)
{
    chance c = {.query_frames = n ? lm[n - 1].t - lm[0].t + 1.0 : 1.0};
    double cells = 0.0;
    for (size_t s = 0; s < cat->n; s++)
        for (uint32_t i = 0; i < cat->x[s]->h->n_items; i++) /* an item without landmarks offers no alignment */
            cells += cat->x[s]->extent[i] ? (cat->x[s]->extent[i] + c.query_frames) / GROUP_WIDTH : 0.0;
    c.tests = cells > 1.0 ? cells : 1.0;
    const double ref = o->catalogue_hours * 3600.0 / FP_HOP_SECONDS / GROUP_WIDTH;
    c.log10_scale = ref > c.tests ? log10(ref / c.tests) : 0.0;
    c.log10_limit = log10(o->false_rate);
    return c;
}

/*
 * The hits of a query's pairs (triplets 0) or triplets (1) in the catalogue, *nh of
 * them (malloc'd). The work is bounded before any is done: each landmark's entries
 * are counted over every index (two binary searches each), hashes (triplet codes)
 * more common than FPX_STOP_HASH in the catalogue are dropped (they name no item:
 * silence, clicks, a crafted index), and the hits are taken from the rarest first up
 * to max_hits in all. Memory and time are then linear in the query (plus at most
 * max_hits hits), whatever the catalogue holds; the counts are the catalogue's, so
 * its split into indexes changes nothing.
 */
hit *fpq_hits_of(const catalogue *cat, const fp_landmark *lm, size_t n, int triplets, size_t max_hits,
                    size_t *nh_out)
{
    span *sp = malloc((n ? n : 1) * sizeof *sp);
    if (!sp)
        return NULL;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (lm[i].t > FPX_MAX_FRAME || FP_IS_TRIPLET(lm[i].hash) != triplets)
            continue;
        uint64_t count = 0, lo;
        for (size_t s = 0; s < cat->n && count <= FPX_STOP_HASH; s++)
            count += entries_of(cat->x[s], lm[i].hash, &lo);
        if (count && count <= FPX_STOP_HASH)
            sp[ns++] = (span){count, (uint32_t)i};
    }
    qsort(sp, ns, sizeof *sp, by_count);
    size_t nh = 0, used = 0;
    while (used < ns && nh + sp[used].count <= max_hits)
        nh += (size_t)sp[used++].count;
    hit *h = malloc((nh ? nh : 1) * sizeof *h);
    nh = 0;
    for (size_t i = 0; i < used && h; i++)
        for (size_t s = 0; s < cat->n; s++) {
            const fpx_entry *e = cat->x[s]->entries;
            uint64_t lo;
            const uint64_t count = entries_of(cat->x[s], lm[sp[i].qi].hash, &lo);
            for (uint64_t j = lo; j < lo + count; j++)
                /* both frames are at most FPX_MAX_FRAME (checked at open, and above): no overflow */
                h[nh++] = (hit){cat->base[s] + e[j].item, (int32_t)e[j].t - (int32_t)lm[sp[i].qi].t, sp[i].qi,
                                e[j].hash};
        }
    free(sp);
    *nh_out = nh;
    return h;
}

/*
 * Music repeats itself: an excerpt of a song also agrees with the song's other
 * statements of the same phrase, and when a loop repeats exactly, one of those
 * may gather more votes than the true one. The alignments of one item that
 * cover the same part of the query are all kept, ranked by significance, up to
 * FPX_MAX_RANK of them. Returns how many are kept, at the front of v.
 */
static size_t rank(fpx_match *v, size_t n)
{
    qsort(v, n, sizeof *v, fpq_by_significance);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < FPX_MAX_MATCHES; i++) {
        fpx_match *a = &v[i];
        int r = 1;
        for (size_t k = 0; k < kept; k++) {
            const fpx_match *b = &v[k];
            const double overlap = fmin(a->query_end, b->query_end) - fmax(a->query_start, b->query_start);
            r += b->item == a->item && overlap > 0.5 * (a->query_end - a->query_start);
        }
        a->rank = r;
        if (r <= FPX_MAX_RANK)
            v[kept++] = *a;
    }
    return kept;
}

int fpx_query_set(const fpx *const *x, size_t n_x, const fp_landmark *lm, size_t n, const fpx_query_opts *opts,
                  fpx_match **out, size_t *n_out)
{
    static const fpx_query_opts defaults = {FPX_FALSE_RATE, FPX_CATALOGUE_HOURS};
    const fpx_query_opts *o = opts ? opts : &defaults;
    *out = NULL;
    *n_out = 0;
    catalogue cat = {x, n_x, malloc((n_x ? n_x : 1) * sizeof *cat.base)};
    if (!cat.base)
        return -1;
    uint64_t items = 0;
    for (size_t s = 0; s < n_x; s++) {
        cat.base[s] = (uint32_t)items;
        items += x[s]->h->n_items;
    }
    if (n_x == 0 || items > UINT32_MAX || fpx_query_opts_check(o) != 0) {
        free(cat.base);
        errno = EINVAL;
        return -1;
    }
    if (n > UINT32_MAX) /* hits name their landmark in 32 bits: 13 years of audio */
        n = UINT32_MAX;
    size_t nh;
    hit *h = fpq_hits_of(&cat, lm, n, 0, FPX_MAX_HITS, &nh);
    matches m = {.scratch = h ? malloc((nh ? nh : 1) * sizeof *m.scratch) : NULL};
    if (!h || !m.scratch) {
        free(cat.base), free(h), free(m.scratch);
        return -1;
    }
    qsort(h, nh, sizeof *h, cmp_hit);
    const chance c = chance_of(&cat, lm, n, o);
    /*
     * Groups: same item, offsets within one frame of the group's first (timing
     * jitter). A group is looked at only if all its votes, as distinct hashes, would
     * be significant: nothing of it can be otherwise.
     */
    int rc = 0;
    for (size_t is = 0; is < nh && rc == 0;) {
        size_t ie = is + 1;
        while (ie < nh && h[ie].item == h[is].item)
            ie++;
        const double frames_of_item = fpq_item_frames(&cat, h[is].item);
        for (size_t s = is; s < ie && rc == 0;) {
            size_t e2 = s + 1;
            while (e2 < ie && h[e2].offset - h[s].offset < GROUP_WIDTH)
                e2++;
            /* The background: the item's votes outside this alignment (a true match's own
             * votes would make the item look busy, the more so the shorter the item). */
            const size_t background = (ie - is) - (e2 - s);
            if (e2 - s > 1 &&
                log10_evalue(&c, frames_of_item, background, (int)(e2 - s)) + c.log10_scale <= c.log10_limit)
                rc = emit(lm, &c, frames_of_item, background, h + s, e2 - s, &m);
            s = e2;
        }
        is = ie;
    }
    free(h);
    free(m.scratch);
    if (rc == 0)
        rc = fpq_transformed(&cat, lm, n, &c, &m);
    if (rc != 0) {
        free(cat.base);
        free(m.v);
        return -1;
    }
    const size_t kept = m.n ? rank(m.v, m.n) : 0;
    for (size_t i = 0; i < kept; i++) { /* catalogue item -> (index, its item) */
        m.v[i].index = (uint32_t)index_of(&cat, m.v[i].item);
        m.v[i].item -= cat.base[m.v[i].index];
    }
    free(cat.base);
    if (!kept)
        free(m.v);
    *out = kept ? m.v : NULL;
    *n_out = kept;
    return 0;
}

int fpx_query(const fpx *x, const fp_landmark *lm, size_t n, const fpx_query_opts *opts, fpx_match **out,
              size_t *n_out)
{
    return fpx_query_set(&x, 1, lm, n, opts, out, n_out);
}
