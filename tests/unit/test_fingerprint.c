/*
 * libpmfp alone: landmark extraction, index building, reading and querying
 * (docs/FPINDEX.md), on the deterministic music-like signal of synth.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <math.h>

#include "fingerprint.h"
#include "synth.h"

#define RATE 44100.0

/* Landmarks of `seconds` of the signal from `start` s, pushed in chunks of `chunk` frames. */
static fp_landmark *landmarks(double rate, double start, double seconds, size_t chunk, size_t *n)
{
    const size_t frames = (size_t)(seconds * rate);
    float *buf = malloc(sizeof(float) * 2 * frames);
    assert_non_null(buf);
    synth_music(buf, frames, 2, rate, (size_t)(start * rate));
    fp_extractor *x = fp_new(rate);
    assert_non_null(x);
    for (size_t i = 0; i < frames; i += chunk)
        assert_int_equal(fp_push(x, buf + 2 * i, frames - i < chunk ? frames - i : chunk, 2), 0);
    fp_landmark *lm;
    assert_int_equal(fp_finish(x, &lm, n), 0);
    fp_free(x);
    free(buf);
    return lm;
}

/*
 * Landmarks of "song" k (0..2: 20 s of the signal from 1000 (k + 1) s), a malloc'd copy
 * of one extraction: the index tests build the same songs again and again, and the
 * signal's sines at such phases cost the test program most of its time.
 */
static fp_landmark *song(int k, size_t *n)
{
    static fp_landmark *made[3];
    static size_t made_n[3];
    if (!made[k])
        made[k] = landmarks(RATE, 1000.0 * (k + 1), 20.0, 4096, &made_n[k]);
    fp_landmark *copy = malloc(sizeof *copy * (made_n[k] ? made_n[k] : 1));
    assert_non_null(copy);
    memcpy(copy, made[k], sizeof *copy * made_n[k]);
    *n = made_n[k];
    return copy;
}

/* Landmarks of b found in a with the same hash at frame t + shift. */
static size_t agreeing(const fp_landmark *a, size_t n, const fp_landmark *b, size_t nb, uint32_t shift)
{
    size_t k = 0;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < n; j++)
            if (a[j].hash == b[i].hash && a[j].t == b[i].t + shift) {
                k++;
                break;
            }
    return k;
}

static void extraction(void **state)
{
    size_t n, n2, n3;
    fp_landmark *a = landmarks(RATE, 0.0, 20.0, 4096, &n);
    /* About 12 peaks per second, 4 pairs and up to 3 triplets each; sorted by time;
     * fields in range: pairs (bins, gap), triplets (code, first peak from 156 Hz in
     * quarter bins, span of 8 to 63 frames). */
    size_t pairs = 0, triplets = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t h = a[i].hash;
        if (FP_IS_TRIPLET(h)) {
            triplets++;
            assert_true((h & ~FP_TRIPLET) >> FP_TRI_CODE_SHIFT < 33 * 33 * 8 * 3);
            assert_true(FP_TRI_FREQ(h) >= 40 && FP_TRI_FREQ(h) < 1024);
            assert_true(FP_TRI_SPAN(h) >= 8 && FP_TRI_SPAN(h) <= 63);
        } else {
            pairs++;
            const uint32_t b1 = h >> 14, b2 = (h >> 6) & 0xff, dt = h & 63;
            assert_true(b1 >= 4 && b1 < 256 && b2 >= 4 && b2 < 256 && dt >= 1);
            assert_true(h >> 22 == 0);
        }
        if (i)
            assert_true(a[i].t >= a[i - 1].t);
    }
    assert_true(pairs > 20 * 20 && pairs <= 20 * 12 * 4 + 48);
    assert_true(triplets > 20 * 10 && triplets <= 20 * 12 * 3 + 36);
    /* The same whatever the chunking. */
    fp_landmark *b = landmarks(RATE, 0.0, 20.0, 77, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(a, b, n * sizeof *a);
    free(b);
    /* Another rate, the same content: many landmarks agree (frames and bins are in s and
     * Hz), against next to none with other content at the same rate. */
    fp_landmark *c = landmarks(48000.0, 0.0, 20.0, 4096, &n2);
    fp_landmark *other = landmarks(RATE, 3000.0, 20.0, 4096, &n3);
    const size_t same = agreeing(a, n, c, n2, 0), unrelated = agreeing(a, n, other, n3, 0);
    assert_true(same > n / 8);
    assert_true(unrelated < n / 50);
    free(other);
    free(c);
    free(a);
    /* Silence: no landmarks, and no error. */
    fp_extractor *x = fp_new(RATE);
    float zero[2048] = {0};
    assert_int_equal(fp_push(x, zero, 1024, 2), 0);
    fp_landmark *none;
    assert_int_equal(fp_finish(x, &none, &n), 0);
    assert_int_equal(n, 0);
    free(none);
    fp_free(x);
    assert_null(fp_new(7999.0));
}

/* An index of these items in a temporary file; its path (free it). */
static char *build_index(const fpx_item_in *in, uint32_t n)
{
    uint8_t *buf;
    size_t size;
    assert_int_equal(fpx_build(in, n, &buf, &size), 0);
    char *path = strdup("/tmp/pmfp-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, size), (ssize_t)size);
    close(fd);
    free(buf);
    return path;
}

/* An index of three "songs" (20 s each, different content) in a temporary file. */
static char *write_index(void)
{
    fpx_item_in in[3];
    static const char *const names[] = {"a/one.wav", "b/two.flac", "three.ogg"};
    for (int k = 0; k < 3; k++) {
        in[k].path = names[k];
        in[k].duration = 20.0;
        in[k].lm = song(k, &in[k].n);
    }
    char *path = build_index(in, 3);
    for (int k = 0; k < 3; k++)
        free(in[k].lm);
    return path;
}

static void index_round_trip(void **state)
{
    char *path = write_index();
    const char *why = NULL;
    fpx *x = fpx_open(path, &why);
    assert_non_null(x);
    assert_int_equal(fpx_items(x), 3);
    assert_string_equal(fpx_item_path(x, 1), "b/two.flac");
    assert_true(fpx_item_duration(x, 2) == 20.0);
    assert_true(fpx_entries(x) > 3 * 400);
    char hex[65];
    fpx_checksum_hex(x, hex);
    assert_int_equal(strlen(hex), 64);
    fpx_close(x);
    unlink(path);
    free(path);
}

static void query(void **state)
{
    char *path = write_index();
    const char *why;
    fpx *x = fpx_open(path, &why);
    assert_non_null(x);
    /* 8 s of song two from 6.4 s on (200 frames), as a query of its own. */
    size_t n;
    fp_landmark *q = landmarks(RATE, 2000.0 + 6.4, 8.0, 4096, &n);
    fpx_match *m;
    size_t nm;
    assert_int_equal(fpx_query(x, q, n, NULL, &m, &nm), 0);
    assert_true(nm >= 1);
    assert_int_equal(m[0].item, 1);
    assert_true(m[0].landmarks >= 15);
    assert_true(m[0].query_start < 1.0 && m[0].query_end > 7.0);
    /* The alignment: item time - query time = 6.4 s, within a frame. */
    assert_true(m[0].item_start - m[0].query_start > 6.4 - 0.04 &&
                m[0].item_start - m[0].query_start < 6.4 + 0.04);
    for (size_t i = 0; i < nm; i++)
        assert_int_equal(m[i].item, 1); /* nothing from the other songs */
    free(m);
    free(q);
    /* Unrelated content matches nothing. */
    q = landmarks(RATE, 5000.0, 8.0, 4096, &n);
    assert_int_equal(fpx_query(x, q, n, NULL, &m, &nm), 0);
    assert_int_equal(nm, 0);
    free(m);
    free(q);
    fpx_close(x);
    unlink(path);
    free(path);
}

/*
 * The number of matches of q in an index of these items, judged at the index's own
 * size (these crafted hashes are far commoner than music's); only_first: all of item
 * 0; *first: the first's landmarks or 0.
 */
static size_t query_built(const fpx_item_in *in, uint32_t n, const fp_landmark *q, size_t nq, int only_first, int *first)
{
    char *path = build_index(in, n);
    const char *why;
    fpx *x = fpx_open(path, &why);
    assert_non_null(x);
    fpx_match *m;
    size_t nm;
    const fpx_query_opts own_size = {FPX_FALSE_RATE, 0.0};
    assert_int_equal(fpx_query(x, q, nq, &own_size, &m, &nm), 0);
    for (size_t i = 0; i < nm && only_first; i++)
        assert_int_equal(m[i].item, 0);
    if (first)
        *first = nm ? m[0].landmarks : 0;
    free(m);
    fpx_close(x);
    unlink(path);
    free(path);
    return nm;
}

/*
 * The query bounds at the figures fingerprint.h states. Item 0 holds the one true
 * alignment: 15 landmarks, hashes A+1..A+15 at frames 1..15. Filler
 * items make each of those hashes FPX_STOP_HASH entries common (`extra` more for
 * the first), give the query's 113 decoy landmarks 16383 entries each and its one
 * odd landmark `odd` entries, all 200 frames apart so that no filler alignment
 * gathers votes. Query entries in all: 113 * 16383 + 15 * 16384 + odd, which is
 * FPX_MAX_HITS for odd = 113. The aligned hashes are the most common, so they are
 * the ones cut when the budget runs out. The landmarks of the one match.
 */
static int bounded_query(uint32_t extra, uint32_t odd)
{
    enum { A = 100, DECOY = 200, ODD = 300, ALIGNED = 15, DECOYS = 113, GAP = 200 };
    const uint32_t common = FPX_STOP_HASH;
    fp_landmark *aligned = malloc(ALIGNED * sizeof *aligned);
    fp_landmark *fill = malloc(((size_t)ALIGNED * common + extra) * sizeof *fill);
    fp_landmark *decoy = malloc((common - 1) * sizeof *decoy), *odds = malloc(odd * sizeof *odds);
    fp_landmark *q = malloc((ALIGNED + DECOYS + 1) * sizeof *q);
    assert_true(aligned && fill && decoy && odds && q);
    size_t nf = 0, nq = 0;
    for (uint32_t k = 0; k < ALIGNED; k++) {
        aligned[k] = (fp_landmark){A + 1 + k, 1 + k};
        q[nq++] = aligned[k];
        for (uint32_t i = 0; i < common - 1 + (k == 0 ? extra : 0); i++)
            fill[nf++] = (fp_landmark){A + 1 + k, GAP * (i + 1)};
    }
    for (uint32_t i = 0; i < common - 1; i++)
        decoy[i] = (fp_landmark){DECOY, GAP * (i + 1)};
    for (uint32_t i = 0; i < odd; i++)
        odds[i] = (fp_landmark){ODD, GAP * (i + 1)};
    for (uint32_t i = 0; i < DECOYS; i++)
        q[nq++] = (fp_landmark){DECOY, 1000 + i};
    q[nq++] = (fp_landmark){ODD, 2000};
    const double long_item = GAP * (common + extra + 1.0) * FP_HOP_SECONDS;
    const fpx_item_in in[] = {{"aligned.wav", 1.0, aligned, ALIGNED}, {"fill.wav", long_item, fill, nf},
                              {"decoy.wav", long_item, decoy, common - 1}, {"odd.wav", long_item, odds, odd}};
    int first;
    assert_int_equal(query_built(in, 4, q, nq, 1, &first), 1); /* no filler alignment ever matches */
    free(aligned), free(fill), free(decoy), free(odds), free(q);
    return first;
}

static void query_bounds(void **state)
{
    /* Exactly FPX_MAX_HITS entries, hashes exactly FPX_STOP_HASH common: all used. */
    assert_int_equal(bounded_query(0, 113), 15);
    /* One entry over FPX_MAX_HITS: an aligned landmark is left out, 14 agree. */
    assert_int_equal(bounded_query(0, 114), 14);
    /* One aligned hash FPX_STOP_HASH + 1 common: ignored, 14 agree. */
    assert_int_equal(bounded_query(1, 1), 14);
    /* FPX_MAX_MATCHES: 1200 items that each match return 1000 matches. */
    enum { ITEMS = 1200, LM = 20 };
    fp_landmark lm[LM];
    for (uint32_t k = 0; k < LM; k++)
        lm[k] = (fp_landmark){1 + k, k};
    fpx_item_in *in = malloc(ITEMS * sizeof *in);
    char (*names)[16] = malloc(ITEMS * sizeof *names);
    assert_true(in && names);
    for (int i = 0; i < ITEMS; i++) {
        snprintf(names[i], sizeof names[i], "%d.wav", i);
        in[i] = (fpx_item_in){names[i], 1.0, lm, LM};
    }
    assert_int_equal(query_built(in, ITEMS, lm, LM, 0, NULL), FPX_MAX_MATCHES);
    free(in);
    free(names);
}

/* Rewrite byte `at` of the file (XOR), or cut the file to `size` bytes. */
static void damage(const char *path, long at, long size)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    if (at >= 0) {
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x5a, f);
    }
    fclose(f);
    if (size >= 0)
        assert_int_equal(truncate(path, size), 0);
}

static void refusals(void **state)
{
    static const struct { long at, size; const char *why; } cases[] = {
        {0, -1, "wrong magic"},
        {8, -1, "unknown version"},
        {5000, -1, "checksum mismatch (corrupted)"},
        {-1, 3000, "truncated or extended (size differs from its header)"},
        {-1, 50, "truncated header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_index();
        damage(path, cases[i].at, cases[i].size);
        const char *why = NULL;
        assert_null(fpx_open(path, &why));
        assert_string_equal(why, cases[i].why);
        unlink(path);
        free(path);
    }
    /* Version 1 (pairs only) is still read; a version 1 index holding triplets is not. */
    fpx_item_in one = {"one.wav", 20.0, NULL, 0};
    one.lm = song(0, &one.n);
    size_t n_pairs = 0;
    for (size_t i = 0; i < one.n; i++)
        if (!FP_IS_TRIPLET(one.lm[i].hash))
            one.lm[n_pairs++] = one.lm[i];
    static const uint32_t v1 = 1;
    for (int with_triplet = 0; with_triplet < 2; with_triplet++) {
        one.n = n_pairs + (size_t)with_triplet;
        one.lm[n_pairs] = (fp_landmark){FP_TRIPLET | 7u << FP_TRI_CODE_SHIFT | 200u << 6 | 20u, 3};
        char *path = build_index(&one, 1);
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, 8, SEEK_SET), 0);
        assert_int_equal(fwrite(&v1, sizeof v1, 1, f), 1);
        fclose(f);
        const char *why = NULL;
        fpx *x = fpx_open(path, &why);
        if (with_triplet) {
            assert_null(x);
            assert_string_equal(why, "bad entry table");
        } else {
            assert_non_null(x);
            assert_int_equal(fpx_entries(x), n_pairs);
            fpx_close(x);
        }
        unlink(path);
        free(path);
    }
    free(one.lm);
    const char *why = NULL;
    assert_null(fpx_open("/nonexistent/index.pmfp", &why));
    assert_non_null(why);
    assert_null(fpx_open("/tmp", &why));
}

/* The chance model's tail against values worked out by hand. */
/*
 * Shards: the three songs as three indexes of one item each, queried as one, give the
 * matches of the one index of the three (every alignment of E <= 1 at the index's own
 * size, so that the catalogue's size counts), match for match; options out of range and
 * an empty set are refused (EINVAL).
 */
static void shards(void **state)
{
    static const char *const names[] = {"a/one.wav", "b/two.flac", "three.ogg"};
    fpx_item_in in[3];
    char *paths[3];
    fpx *part[3];
    const char *why;
    for (int k = 0; k < 3; k++) {
        in[k] = (fpx_item_in){.path = names[k], .duration = 20.0};
        in[k].lm = song(k, &in[k].n);
        paths[k] = build_index(&in[k], 1);
        part[k] = fpx_open(paths[k], &why);
        assert_non_null(part[k]);
    }
    char *whole_path = build_index(in, 3);
    fpx *whole = fpx_open(whole_path, &why);
    assert_non_null(whole);
    size_t n;
    fp_landmark *q = landmarks(RATE, 2000.0 + 6.4, 8.0, 4096, &n);
    const fpx_query_opts loose = {1.0, 0.0};
    fpx_match *a, *b;
    size_t na, nb;
    assert_int_equal(fpx_query(whole, q, n, &loose, &a, &na), 0);
    assert_int_equal(fpx_query_set((const fpx *const *)part, 3, q, n, &loose, &b, &nb), 0);
    assert_true(na >= 1);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(b[i].index, a[i].item); /* shard k holds song k as its item 0 */
        assert_int_equal(b[i].item, 0);
        assert_true(a[i].query_start == b[i].query_start && a[i].query_end == b[i].query_end &&
                    a[i].item_start == b[i].item_start && a[i].item_end == b[i].item_end &&
                    a[i].score == b[i].score && a[i].log10_evalue == b[i].log10_evalue);
        assert_int_equal(a[i].landmarks, b[i].landmarks);
        assert_int_equal(a[i].rank, b[i].rank);
    }
    free(a);
    free(b);
    const fpx_query_opts bad[] = {{0.0, 0.0}, {-1e-6, 0.0}, {2.0, 0.0}, {NAN, 0.0}, {INFINITY, 0.0},
                                  {1e-6, -1.0}, {1e-6, NAN}, {1e-6, INFINITY}, {1e-6, 1e308}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fpx_query_opts_check(&bad[i]), -1);
        errno = 0;
        assert_int_equal(fpx_query(whole, q, n, &bad[i], &a, &na), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_int_equal(fpx_query_opts_check(&loose), 0);
    errno = 0;
    assert_int_equal(fpx_query_set((const fpx *const *)part, 0, q, n, NULL, &a, &na), -1);
    assert_int_equal(errno, EINVAL);
    free(q);
    fpx_close(whole);
    unlink(whole_path);
    free(whole_path);
    for (int k = 0; k < 3; k++) {
        free(in[k].lm);
        fpx_close(part[k]);
        unlink(paths[k]);
        free(paths[k]);
    }
}

static void poisson_tail(void **state)
{
    assert_true(fpx_log10_poisson_tail(0.5, 0) == 0.0);
    /* P(X >= 1) = 1 - e^-lambda; P(X >= 2) for lambda 1: 1 - 2/e. */
    assert_float_equal(fpx_log10_poisson_tail(0.01, 1), log10(1.0 - exp(-0.01)), 1e-9);
    assert_float_equal(fpx_log10_poisson_tail(1.0, 2), log10(1.0 - 2.0 / exp(1.0)), 1e-9);
    /* Far in the tail: e^-lambda lambda^k / k! (1 + lambda / (k + 1) + ...), here for 1e-3 and 50. */
    assert_float_equal(fpx_log10_poisson_tail(1e-3, 50),
                       -150.0 - (1e-3 + lgamma(51.0)) / log(10.0) + log10(1.0 + 1e-3 / 51.0), 1e-7);
    /* More agreement is never likelier; a larger mean never makes it less likely. */
    for (int k = 1; k < 200; k++) {
        assert_true(fpx_log10_poisson_tail(0.02, k + 1) < fpx_log10_poisson_tail(0.02, k));
        assert_true(fpx_log10_poisson_tail(0.04, k) > fpx_log10_poisson_tail(0.02, k));
    }
    /* A mean above the count: close to certain, never above it. */
    assert_true(fpx_log10_poisson_tail(30.0, 3) <= 0.0 && fpx_log10_poisson_tail(30.0, 3) > -1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extraction),
        cmocka_unit_test(index_round_trip),
        cmocka_unit_test(query),
        cmocka_unit_test(refusals),
        cmocka_unit_test(query_bounds),
        cmocka_unit_test(shards),
        cmocka_unit_test(poisson_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
