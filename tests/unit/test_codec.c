/* Embedder and detector through the public API on a synthetic music-like signal. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "provmark.h"
#include "synth.h"

/* Allocation counter: every malloc family call in the process goes through here
 * (not under AddressSanitizer, which owns malloc; the plain build checks this). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNTS_ALLOCATIONS 0
static long allocs;
#else
#define COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static _Atomic long allocs; /* the threads test allocates concurrently */
void *malloc(size_t n) { allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocs++; return __libc_realloc(p, n); }
int posix_memalign(void **p, size_t a, size_t n)
{
    allocs++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
#endif

/*
 * The synthetic chords are sustained pure tones, which the perceptual model marks
 * lightly on purpose; these tests check the codec's mechanics on 12-30 s of them, so
 * they mark at twice the default strength (the benchmark measures the default on music).
 */
#define TEST_STRENGTH (2.0f * PM_STRENGTH_DEFAULT)

/*
 * synth_music's signal from frame 0 (malloc'd). Its values are kept per rate and made
 * once: the tests ask for the same opening many times, and its sines were half of the
 * program's time.
 */
static float *make_signal(size_t frames, int ch, double rate)
{
    static struct { double rate; size_t n; double *v; } made[16];
    size_t r = 0;
    while (made[r].v && made[r].rate != rate)
        r++;
    assert_true(r < sizeof made / sizeof made[0] - 1); /* one slot stays free as the end mark */
    if (made[r].n < frames) {
        double *v = realloc(made[r].v, sizeof(double) * frames);
        assert_non_null(v);
        for (size_t i = made[r].n; i < frames; i++)
            v[i] = synth_value(i, rate);
        made[r].rate = rate;
        made[r].v = v;
        made[r].n = frames;
    }
    float *x = malloc(sizeof(float) * frames * (size_t)ch);
    assert_non_null(x);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < ch; c++)
            x[i * (size_t)ch + (size_t)c] = synth_sample(made[r].v[i], c);
    return x;
}

/* An embedder at the tests' strength (the test fails if it cannot be made). */
static pm_embedder *new_embedder(double rate, int ch, const pm_key *key, uint32_t m, uint32_t d)
{
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, rate, ch, key, m, d, TEST_STRENGTH), PM_OK);
    return e;
}

static float *embed_all(const float *x, size_t frames, int ch, double rate, uint32_t m,
                        uint32_t d, const pm_key *key)
{
    pm_embedder *e = new_embedder(rate, ch, key, m, d);
    size_t lat = pm_embedder_latency(e);
    float *y = malloc(sizeof(float) * (frames + lat) * (size_t)ch);
    float *in = calloc((frames + lat) * (size_t)ch, sizeof(float));
    memcpy(in, x, sizeof(float) * frames * (size_t)ch);
    assert_int_equal(pm_embedder_process_interleaved(e, in, y, frames + lat), PM_OK);
    memmove(y, y + lat * (size_t)ch, sizeof(float) * frames * (size_t)ch);
    free(in);
    pm_embedder_free(e);
    return y;
}

static pm_result detect_all(const float *y, size_t frames, int ch, double rate, const pm_key *keys,
                            int n_keys)
{
    pm_detector *d;
    pm_result r;
    assert_int_equal(pm_detector_new(&d, rate, ch, keys, n_keys), PM_OK);
    assert_int_equal(pm_detector_push_interleaved(d, y, frames), PM_OK);
    assert_int_equal(pm_detector_finish(d, &r), PM_OK);
    pm_detector_free(d);
    return r;
}

static void streaming_in_random_blocks_equals_one_shot(void **state)
{
    const double rate = 48000;
    const int ch = 2;
    const size_t frames = 6 * 48000;
    pm_key key;
    pm_key_demo(&key);
    float *x = make_signal(frames, ch, rate);
    float *a = embed_all(x, frames, ch, rate, 7, 42, &key);
    pm_embedder *e = new_embedder(rate, ch, &key, 7, 42);
    size_t lat = pm_embedder_latency(e);
    float *b = malloc(sizeof(float) * (frames + lat) * ch);
    float *in = calloc((frames + lat) * ch, sizeof(float));
    memcpy(in, x, sizeof(float) * frames * ch);
    unsigned seed = 5;
    for (size_t done = 0; done < frames + lat;) {
        size_t n = 1 + (size_t)rand_r(&seed) % 8192;
        if (rand_r(&seed) % 4 == 0)
            n = 1 + (size_t)rand_r(&seed) % 3;
        if (n > frames + lat - done)
            n = frames + lat - done;
        /* in place on half the calls */
        if (rand_r(&seed) % 2) {
            memcpy(b + done * ch, in + done * ch, sizeof(float) * n * ch);
            assert_int_equal(pm_embedder_process_interleaved(e, b + done * ch, b + done * ch, n), PM_OK);
        } else {
            assert_int_equal(pm_embedder_process_interleaved(e, in + done * ch, b + done * ch, n), PM_OK);
        }
        done += n;
    }
    assert_memory_equal(a, b + lat * ch, sizeof(float) * frames * ch);
    pm_embedder_free(e);
    free(x), free(a), free(b), free(in);
}

static void flush_completes_the_stream_and_resets(void **state)
{
    const double rate = 44100;
    const int ch = 2;
    const size_t frames = 5 * 44100 + 123, chunk = 882; /* 20 ms chunks, ragged end */
    pm_key key;
    pm_key_demo(&key);
    float *x = make_signal(frames, ch, rate);
    float *want = embed_all(x, frames, ch, rate, 11, 22, &key);
    pm_embedder *e = new_embedder(rate, ch, &key, 11, 22);
    const size_t lat = pm_embedder_latency(e);
    float *y = malloc(sizeof(float) * (frames + lat) * ch);
    for (int pass = 0; pass < 2; pass++) { /* the second pass checks the reset */
        for (size_t done = 0; done < frames; done += chunk) {
            size_t n = frames - done < chunk ? frames - done : chunk;
            assert_int_equal(pm_embedder_process_interleaved(e, x + done * ch, y + done * ch, n), PM_OK);
        }
        long before = allocs;
        assert_int_equal(pm_embedder_flush_interleaved(e, y + frames * ch), PM_OK);
        if (COUNTS_ALLOCATIONS)
            assert_int_equal(allocs - before, 0);
        assert_memory_equal(want, y + lat * ch, sizeof(float) * frames * ch);
    }
    float *l = malloc(sizeof(float) * lat), *r = malloc(sizeof(float) * lat);
    float *out[2] = {l, r};
    assert_int_equal(pm_embedder_process_interleaved(e, x, y, frames), PM_OK);
    assert_int_equal(pm_embedder_flush_planar(e, out), PM_OK);
    for (size_t i = 0; i < lat; i++) {
        assert_true(l[i] == want[(frames - lat + i) * ch]);
        assert_true(r[i] == want[(frames - lat + i) * ch + 1]);
    }
    assert_int_equal(pm_embedder_flush_interleaved(NULL, y), PM_ERR_ARG);
    assert_int_equal(pm_embedder_flush_interleaved(e, NULL), PM_ERR_ARG);
    pm_embedder_free(e);
    free(x), free(want), free(y), free(l), free(r);
}

typedef struct thread_job {
    const float *x;
    size_t frames;
    float *y;
    pm_result r;
} thread_job;

/* One embedder and one detector per thread, created concurrently (FFTW planning included). */
static void *thread_work(void *arg)
{
    thread_job *j = arg;
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e;
    pm_detector *d;
    if (pm_embedder_new(&e, 44100, 2, &key, 5, 6, TEST_STRENGTH) != PM_OK)
        return NULL;
    const size_t lat = pm_embedder_latency(e);
    assert_int_equal(pm_embedder_process_interleaved(e, j->x, j->y, j->frames), PM_OK);
    pm_embedder_free(e);
    if (pm_detector_new(&d, 44100, 2, &key, 1) != PM_OK)
        return NULL;
    assert_int_equal(pm_detector_push_interleaved(d, j->y + lat * 2, j->frames - lat), PM_OK);
    assert_int_equal(pm_detector_finish(d, &j->r), PM_OK);
    pm_detector_free(d);
    return j;
}

static void one_handle_per_thread_runs_concurrently(void **state)
{
    const size_t frames = 8 * 44100;
    float *x = make_signal(frames, 2, 44100);
    thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){.x = x, .frames = frames, .y = malloc(sizeof(float) * frames * 2)};
        assert_int_equal(pthread_create(&th[i], NULL, thread_work, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_non_null(ret);
        assert_true(jobs[i].r.found);
        assert_int_equal(jobs[i].r.model_id, 5);
        assert_int_equal(jobs[i].r.dataset_id, 6);
        assert_memory_equal(jobs[0].y, jobs[i].y, sizeof(float) * frames * 2);
    }
    for (int i = 0; i < 4; i++)
        free(jobs[i].y);
    free(x);
}

static void planar_equals_interleaved(void **state)
{
    const double rate = 44100;
    const size_t frames = 3 * 44100;
    pm_key key;
    pm_key_demo(&key);
    float *x = make_signal(frames, 2, rate);
    float *y = malloc(sizeof(float) * frames * 2);
    float *l = malloc(sizeof(float) * frames), *r = malloc(sizeof(float) * frames);
    for (size_t i = 0; i < frames; i++)
        l[i] = x[2 * i], r[i] = x[2 * i + 1];
    pm_embedder *e1, *e2;
    assert_int_equal(pm_embedder_new(&e1, rate, 2, &key, 1, 2, 1.0f), PM_OK);
    assert_int_equal(pm_embedder_new(&e2, rate, 2, &key, 1, 2, 1.0f), PM_OK);
    assert_int_equal(pm_embedder_process_interleaved(e1, x, y, frames), PM_OK);
    const float *in[2] = {l, r};
    float *out[2] = {l, r};
    assert_int_equal(pm_embedder_process_planar(e2, in, out, frames), PM_OK);
    for (size_t i = 0; i < frames; i++) {
        assert_true(y[2 * i] == l[i]);
        assert_true(y[2 * i + 1] == r[i]);
    }
    pm_embedder_free(e1), pm_embedder_free(e2);
    free(x), free(y), free(l), free(r);
}

static void no_allocation_while_processing(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, 48000, 2, &key, 3, 4, 1.0f), PM_OK);
    float *buf = make_signal(8192, 2, 48000);
    long before = allocs;
    unsigned seed = 9;
    for (int call = 0; call < 5000; call++) {
        size_t n = 1 + (size_t)rand_r(&seed) % 8192;
        assert_int_equal(pm_embedder_process_interleaved(e, buf, buf, n), PM_OK);
        if (call % 100 == 0) {
            assert_int_equal(pm_embedder_set_ids(e, (uint32_t)call, 5), PM_OK);
            assert_int_equal(pm_embedder_set_strength(e, 0.5f + (call % 3) * 0.5f), PM_OK);
        }
    }
    if (COUNTS_ALLOCATIONS)
        assert_int_equal(allocs - before, 0);
    pm_embedder_free(e);
    free(buf);
}

static void silence_stays_silent_and_latency_is_exact(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, 44100, 1, &key, 3, 4, 4.0f), PM_OK);
    size_t lat = pm_embedder_latency(e);
    assert_true(lat > 0 && lat <= 4096);
    size_t n = 44100;
    float *x = calloc(n, sizeof(float)), *y = malloc(sizeof(float) * n);
    assert_int_equal(pm_embedder_process_interleaved(e, x, y, n), PM_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(y[i] == 0.0f);
    /* An impulse comes out exactly `lat` frames later. */
    pm_embedder_reset(e);
    assert_int_equal(pm_embedder_set_strength(e, 0.0f), PM_OK);
    pm_embedder_reset(e);
    memset(x, 0, sizeof(float) * n);
    x[100] = 0.5f;
    pm_embedder_free(e);
    assert_int_equal(pm_embedder_new(&e, 44100, 1, &key, 3, 4, 0.0f), PM_OK);
    assert_int_equal(pm_embedder_process_interleaved(e, x, y, n), PM_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(y[i] == (i == 100 + lat ? 0.5f : 0.0f));
    pm_embedder_free(e);
    free(x), free(y);
}

static void output_is_finite_and_never_clips(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, 44100, 2, &key, 3, 4, 4.0f), PM_OK);
    size_t n = 2 * 44100;
    float *x = make_signal(n, 2, 44100);
    for (size_t i = 0; i < 2 * n; i++)
        x[i] *= 3.3f; /* peaks right at full scale */
    for (size_t i = 0; i < 2 * n; i++)
        if (x[i] > 1.0f || x[i] < -1.0f)
            x[i] = x[i] > 0 ? 1.0f : -1.0f;
    x[1000] = NAN, x[2001] = INFINITY, x[3000] = -INFINITY, x[4000] = 1e-40f;
    float *y = malloc(sizeof(float) * 2 * n);
    assert_int_equal(pm_embedder_process_interleaved(e, x, y, n), PM_OK);
    for (size_t i = 0; i < 2 * n; i++) {
        assert_true(isfinite(y[i]));
        assert_true(fabsf(y[i]) <= 1.0f);
    }
    pm_embedder_free(e);
    free(x), free(y);
}

/* Samples of `y` (the embedder's output of `x`) that keep their input value while the
 * mark of the same sign is on both sides: a mark dropped sample by sample, a click. A
 * zero crossing of the mark itself has marks of opposite signs around it. */
static int dropped_samples(const float *x, const float *y, size_t n)
{
    int dropped = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        const float before = y[i - 1] - x[i - 1], after = y[i + 1] - x[i + 1];
        dropped += y[i] == x[i] && fabsf(before) > 1e-4f && fabsf(after) > 1e-4f &&
                   (before > 0) == (after > 0);
    }
    return dropped;
}

/* Where the mark would reach full scale it is scaled down frame by frame (the
 * synthesis window fades it), never dropped sample by sample, which clicks: on a
 * saturated signal peaking just below full scale, on one hard-clipped at 16-bit full
 * scale (32767/32768 and -1) and on float input over full scale, marked at the highest
 * strength, no sample is dropped and the output stays within full scale. */
static void headroom_cuts_fade_instead_of_clicking(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    const size_t n = 6 * 44100;
    float *x = make_signal(n, 1, 44100);
    float peak = 0.0f;
    for (size_t i = 0; i < n; i++)
        peak = fmaxf(peak, fabsf(x[i]));
    for (int kind = 0; kind < 3; kind++) {
        float *in = calloc(n + 44100, sizeof(float)), *y = malloc(sizeof(float) * (n + 44100));
        for (size_t i = 0; i < n; i++) {
            const float v = x[i] / peak;
            if (kind == 0) /* saturated like loudly mastered music, just below full scale */
                in[i] = 0.9995f * tanhf(4.0f * v) / tanhf(4.0f);
            else if (kind == 1) /* hard-clipped 16-bit */
                in[i] = fminf(fmaxf(1.3f * v, -1.0f), 32767.0f / 32768.0f);
            else /* float over full scale */
                in[i] = 1.05f * v;
        }
        pm_embedder *e;
        assert_int_equal(pm_embedder_new(&e, 44100, 1, &key, 3, 4, PM_STRENGTH_MAX), PM_OK);
        const size_t lat = pm_embedder_latency(e);
        assert_true(lat <= 44100);
        assert_int_equal(pm_embedder_process_interleaved(e, in, y, n + lat), PM_OK);
        int marked = 0;
        for (size_t i = 0; i < n; i++) {
            marked += fabsf(y[lat + i] - in[i]) > 1e-4f;
            assert_true(fabsf(y[lat + i]) <= fmaxf(fabsf(in[i]), 1.0f));
        }
        assert_true(marked > (int)n / 10); /* the mark is there */
        assert_int_equal(dropped_samples(in, y + lat, n), 0);
        pm_embedder_free(e);
        free(in), free(y);
    }
    free(x);
}

/* A note that starts in one band under a steady bass (which hides the onset from a
 * broadband look at the frame) does not carry the mark into the 20 ms before it:
 * there the mark has under a tenth of the energy it has in the 20 ms after. */
static void no_pre_echo_before_an_onset_in_one_band(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    const double rate = 44100;
    const size_t n = 4 * 44100, on = 2 * 44100 + 777, w = 882;
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * (float)sin(2 * M_PI * 110 * i / rate) +
               (i >= on ? 0.1f * (float)sin(2 * M_PI * 1600 * (i - on) / rate) : 0.0f);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, rate, 1, &key, 3, 4, PM_STRENGTH_MAX), PM_OK);
    const size_t lat = pm_embedder_latency(e);
    float *in = calloc(n + lat, sizeof(float)), *y = malloc(sizeof(float) * (n + lat));
    memcpy(in, x, sizeof(float) * n);
    assert_int_equal(pm_embedder_process_interleaved(e, in, y, n + lat), PM_OK);
    double before = 0.0, after = 0.0;
    for (size_t i = 0; i < w; i++) {
        const double b = y[lat + on - w + i] - x[on - w + i], a = y[lat + on + i] - x[on + i];
        before += b * b;
        after += a * a;
    }
    assert_true(after > 0.0);
    assert_true(before < 0.1 * after);
    pm_embedder_free(e);
    free(x), free(in), free(y);
}

static void detects_at_every_rate_and_rejects_wrong_key(void **state)
{
    static const double rates[] = {16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000};
    pm_key key, other;
    pm_key_demo(&key);
    assert_int_equal(pm_key_generate(&other), PM_OK);
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        size_t frames = (size_t)(12 * rates[i]);
        float *x = make_signal(frames, 1, rates[i]);
        float *y = embed_all(x, frames, 1, rates[i], 1000 + (uint32_t)i, 77, &key);
        pm_result r = detect_all(y, frames, 1, rates[i], &key, 1);
        assert_int_equal(r.found, 1);
        assert_int_equal(r.model_id, 1000 + i);
        assert_int_equal(r.dataset_id, 77);
        assert_true(r.p_false <= 1e-9);
        assert_true(r.n_segments >= 1);
        if (i == 3) {
            r = detect_all(y, frames, 1, rates[i], &other, 1);
            assert_int_equal(r.found, 0);
            r = detect_all(x, frames, 1, rates[i], &key, 1);
            assert_int_equal(r.found, 0);
            pm_key both[2] = {other, key};
            r = detect_all(y, frames, 1, rates[i], both, 2);
            assert_int_equal(r.found, 1);
            assert_int_equal(r.key_index, 1);
        }
        free(x), free(y);
    }
}

/* Play y (mono) `speed` times as fast: time and frequency scaled together, as a turntable does. */
static float *play_at(const float *y, size_t frames, double speed, size_t *out_frames)
{
    *out_frames = (size_t)((frames - 1) / speed);
    float *z = malloc(sizeof(float) * *out_frames);
    for (size_t i = 0; i < *out_frames; i++) {
        const double x = i * speed;
        const size_t j = (size_t)x;
        const double f = x - j;
        z[i] = (float)((1.0 - f) * y[j] + f * y[j + 1 < frames ? j + 1 : j]);
    }
    return z;
}

static void follows_speed_changes_far_from_one(void **state)
{
    (void)state;
    static const double speeds[] = {0.85, 1.2};
    const double rate = 44100;
    pm_key key;
    pm_key_demo(&key);
    const size_t frames = (size_t)(20 * rate);
    float *x = make_signal(frames, 1, rate);
    float *y = embed_all(x, frames, 1, rate, 4242, 99, &key);
    for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++) {
        size_t n;
        float *z = play_at(y, frames, speeds[i], &n);
        pm_result r = detect_all(z, n, 1, rate, &key, 1);
        assert_int_equal(r.found, 1);
        assert_int_equal(r.model_id, 4242);
        assert_int_equal(r.dataset_id, 99);
        assert_true(r.p_false <= 1e-9);
        /* The scales found are the played ones, within the local grid's step. */
        assert_true(fabs(r.speed / speeds[i] - 1.0) < 0.015);
        assert_true(fabs(r.tempo / speeds[i] - 1.0) < 0.01);
        free(z);
        z = play_at(x, frames, speeds[i], &n);
        assert_int_equal(detect_all(z, n, 1, rate, &key, 1).found, 0);
        free(z);
    }
    free(x), free(y);
}

static void ids_change_at_payload_boundary(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    const double rate = 44100;
    size_t frames = (size_t)(30 * rate);
    float *x = make_signal(frames, 1, rate);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, rate, 1, &key, 1, 1, TEST_STRENGTH), PM_OK);
    assert_int_equal(pm_embedder_process_interleaved(e, x, x, frames / 2), PM_OK);
    assert_int_equal(pm_embedder_set_ids(e, 2, 2), PM_OK);
    assert_int_equal(pm_embedder_process_interleaved(e, x + frames / 2, x + frames / 2, frames - frames / 2), PM_OK);
    pm_embedder_free(e);
    pm_result a = detect_all(x, frames / 2 - 44100, 1, rate, &key, 1);
    pm_result b = detect_all(x + frames / 2 + 3 * 44100, frames / 2 - 3 * 44100, 1, rate, &key, 1);
    assert_true(a.found && a.model_id == 1);
    assert_true(b.found && b.model_id == 2);
    /* The whole file: two marks, each with its own range; the change lands at the
     * first payload boundary after 15 s (within 2.97 s). */
    pm_detector *d;
    pm_result r;
    pm_mark m[2];
    assert_int_equal(pm_detector_new(&d, rate, 1, &key, 1), PM_OK);
    assert_int_equal(pm_detector_push_interleaved(d, x, frames), PM_OK);
    assert_int_equal(pm_detector_mark_count(d), PM_ERR_STATE);
    assert_int_equal(pm_detector_finish(d, &r), PM_OK);
    assert_int_equal(pm_detector_mark_count(d), 2);
    assert_int_equal(pm_detector_mark(d, 2, &m[0]), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark(d, -1, &m[0]), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark(d, 0, NULL), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark(d, 0, &m[0]), PM_OK);
    assert_int_equal(pm_detector_mark(d, 1, &m[1]), PM_OK);
    assert_true(r.found && r.model_id == m[0].model_id && r.n_segments == m[0].n_segments);
    const pm_mark *one = m[0].model_id == 1 ? &m[0] : &m[1], *two = m[0].model_id == 1 ? &m[1] : &m[0];
    assert_true(one->model_id == 1 && one->dataset_id == 1 && two->model_id == 2 && two->dataset_id == 2);
    assert_int_equal(one->n_segments, 1);
    assert_int_equal(two->n_segments, 1);
    assert_true(one->segments[0].start < 1.5 && two->segments[0].end > 28.5);
    assert_true(one->segments[0].end > 13.5 && one->segments[0].end < 19.5);
    assert_true(two->segments[0].start >= one->segments[0].end);
    assert_true(two->segments[0].start - one->segments[0].end < 0.01);
    assert_true(one->p_false == r.p_false && r.p_false <= 1e-9);
    assert_int_equal(pm_detector_mark_recognised(d, 0), 0); /* both decoded, none expected */
    assert_int_equal(pm_detector_mark_recognised(d, 1), 0);
    assert_int_equal(pm_detector_mark_recognised(d, 2), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark_formats(d, 0), 1 << (PM_FORMAT_DEFAULT - 1)); /* the default's only */
    assert_int_equal(pm_detector_mark_formats(d, 1), 1 << (PM_FORMAT_DEFAULT - 1));
    assert_int_equal(pm_detector_mark_formats(d, 2), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark_formats(d, -1), PM_ERR_ARG);
    assert_int_equal(pm_detector_mark_formats(NULL, 0), PM_ERR_ARG);
    /* A second finish is refused, and the result it was given then holds no mark. */
    pm_result again = r;
    assert_int_equal(pm_detector_finish(d, &again), PM_ERR_STATE);
    assert_true(!again.found && again.model_id == 0 && again.n_segments == 0);
    again = r;
    assert_int_equal(pm_detector_finish(NULL, &again), PM_ERR_ARG);
    assert_true(!again.found && again.n_segments == 0);
    pm_detector_reset(d);
    assert_int_equal(pm_detector_mark_count(d), PM_ERR_STATE);
    assert_int_equal(pm_detector_mark_recognised(d, 0), PM_ERR_STATE);
    assert_int_equal(pm_detector_mark_formats(d, 0), PM_ERR_STATE);
    pm_detector_free(d);
    free(x);
}

static void bad_arguments_are_refused(void **state)
{
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e = (pm_embedder *)&key;
    assert_int_equal(pm_embedder_new(&e, 44100, 0, &key, 1, 1, 1.0f), PM_ERR_CHANNELS);
    assert_null(e);
    assert_int_equal(pm_embedder_new(&e, 44100, 9, &key, 1, 1, 1.0f), PM_ERR_CHANNELS);
    assert_int_equal(pm_embedder_new(&e, 1000, 2, &key, 1, 1, 1.0f), PM_ERR_RATE);
    assert_int_equal(pm_embedder_new(&e, NAN, 2, &key, 1, 1, 1.0f), PM_ERR_RATE);
    assert_int_equal(pm_embedder_new(&e, 44100, 2, &key, PM_ID_MAX + 1, 1, 1.0f), PM_ERR_ID);
    assert_int_equal(pm_embedder_new(&e, 44100, 2, &key, 1, 1, -1.0f), PM_ERR_STRENGTH);
    assert_int_equal(pm_embedder_new(&e, 44100, 2, &key, 1, 1, NAN), PM_ERR_STRENGTH);
    assert_int_equal(pm_embedder_new(&e, 44100, 2, NULL, 1, 1, 1.0f), PM_ERR_ARG);
    pm_detector *d;
    assert_int_equal(pm_detector_new(&d, 44100, 2, &key, 0), PM_ERR_ARG);
    assert_int_equal(pm_detector_new(&d, 44100, 2, &key, 17), PM_ERR_ARG);
    assert_int_equal(pm_detector_new(&d, 44100, 2, &key, 1), PM_OK);
    assert_int_equal(pm_detector_expect(NULL, 0, 1, 1), PM_ERR_ARG);
    assert_int_equal(pm_detector_expect(d, 1, 1, 1), PM_ERR_ARG); /* one key: index 0 only */
    assert_int_equal(pm_detector_expect(d, -1, 1, 1), PM_ERR_ARG);
    assert_int_equal(pm_detector_expect(d, 0, PM_ID_MAX + 1, 1), PM_ERR_ID);
    assert_int_equal(pm_detector_expect(d, 0, 1, PM_ID_MAX + 1), PM_ERR_ID);
    for (uint32_t i = 0; i < PM_MAX_EXPECTED; i++)
        assert_int_equal(pm_detector_expect(d, 0, i, 7), PM_OK);
    assert_int_equal(pm_detector_expect(d, 0, 5, 7), PM_OK); /* already there */
    assert_int_equal(pm_detector_expect(d, 0, PM_MAX_EXPECTED, 7), PM_ERR_ARG);
    pm_result r;
    assert_int_equal(pm_detector_finish(d, &r), PM_OK); /* no audio: nothing, within the bound */
    assert_true(!r.found && r.p_false <= 1e-9);
    assert_int_equal(pm_detector_expect(d, 0, 1, 1), PM_ERR_STATE);
    pm_detector_free(d);
    assert_string_equal(pm_strerror(PM_ERR_ID), "ID out of range (0 to 16777215)");
    assert_int_equal(pm_version(), PM_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(streaming_in_random_blocks_equals_one_shot),
        cmocka_unit_test(flush_completes_the_stream_and_resets),
        cmocka_unit_test(one_handle_per_thread_runs_concurrently),
        cmocka_unit_test(planar_equals_interleaved),
        cmocka_unit_test(no_allocation_while_processing),
        cmocka_unit_test(silence_stays_silent_and_latency_is_exact),
        cmocka_unit_test(output_is_finite_and_never_clips),
        cmocka_unit_test(headroom_cuts_fade_instead_of_clicking),
        cmocka_unit_test(no_pre_echo_before_an_onset_in_one_band),
        cmocka_unit_test(detects_at_every_rate_and_rejects_wrong_key),
        cmocka_unit_test(follows_speed_changes_far_from_one),
        cmocka_unit_test(ids_change_at_payload_boundary),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
