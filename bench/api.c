/*
 * pmapi: cost of the C API as a generation back end sees it, on real music.
 *   embed  — pm_embedder_process_interleaved() per 20 ms chunk (wall time per call)
 *   detect — new + push + finish of a detector on a 10 s buffer (time to a result)
 * usage: pmapi FILE.wav   (48 kHz stereo expected; prints "name median p99 runs" lines,
 * microseconds for embed, milliseconds for detect)
 */
#include <provmark.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double p99(double *v, int n) /* v sorted */
{
    return v[(int)(0.99 * (n - 1))];
}

/* Embed: 20 ms chunks, as a streaming generator would hand them over (5 passes). */
static int bench_embed(const SF_INFO *info, const float *x, float *y, double *t)
{
    const int ch = info->channels;
    const size_t chunk = (size_t)(info->samplerate / 50);
    const int per_pass = (int)((size_t)info->frames / chunk);
    pm_key key;
    pm_key_demo(&key);
    pm_embedder *e;
    if (pm_embedder_new(&e, info->samplerate, ch, &key, 7, 42, PM_STRENGTH_DEFAULT) != PM_OK)
        return 2;
    int n = 0;
    for (int p = 0; p < 5; p++)
        for (int i = 0; i < per_pass; i++) {
            const size_t off = (size_t)i * chunk * (size_t)ch;
            double t0 = now();
            const pm_status rc = pm_embedder_process_interleaved(e, x + off, y + off, chunk);
            t[n++] = (now() - t0) * 1e6;
            if (rc != PM_OK) {
                pm_embedder_free(e);
                return 2;
            }
        }
    pm_embedder_free(e);
    double med = median(t, n);
    printf("embed %.2f %.2f %d\n", med, p99(t, n), n);
    return 0;
}

/* Detect: a 10 s buffer of marked audio, from a fresh detector to the result (20 runs). */
static int bench_detect(const SF_INFO *info, const float *y, double *t)
{
    const size_t frames = (size_t)info->frames, rate = (size_t)info->samplerate;
    const size_t ten = rate * 10 < frames ? rate * 10 : frames;
    pm_key key;
    pm_key_demo(&key);
    int n = 0;
    for (int r = 0; r < 20; r++) {
        pm_detector *d;
        pm_result res;
        double t0 = now();
        if (pm_detector_new(&d, info->samplerate, info->channels, &key, 1) != PM_OK)
            return 2;
        const size_t start = (size_t)r * 4800 % (frames - ten + 1); /* 0.1 s apart */
        pm_status rc = pm_detector_push_interleaved(d, y + start * (size_t)info->channels, ten);
        if (rc == PM_OK)
            rc = pm_detector_finish(d, &res);
        t[n++] = (now() - t0) * 1e3;
        pm_detector_free(d);
        if (rc != PM_OK) {
            fprintf(stderr, "pmapi: %s\n", pm_strerror(rc));
            return 2;
        }
        if (!res.found) {
            fprintf(stderr, "pmapi: the marked 10 s buffer was not detected\n");
            return 1;
        }
    }
    double med = median(t, n);
    printf("detect %.2f %.2f %d\n", med, p99(t, n), n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pmapi FILE.wav\n");
        return 2;
    }
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(argv[1], SFM_READ, &info);
    if (!sf || info.frames <= 0) {
        fprintf(stderr, "pmapi: %s: %s\n", argv[1], sf_strerror(sf));
        return 2;
    }
    const size_t samples = (size_t)info.frames * (size_t)info.channels;
    float *x = malloc(sizeof(float) * samples);
    float *y = malloc(sizeof(float) * samples);
    if (!x || !y || sf_readf_float(sf, x, info.frames) != info.frames) {
        fprintf(stderr, "pmapi: cannot read %s\n", argv[1]);
        free(x), free(y);
        return 2;
    }
    sf_close(sf);
    double *t = malloc(sizeof(double) * (5 * ((size_t)info.frames / (size_t)(info.samplerate / 50)) + 20));
    int rc = t ? bench_embed(&info, x, y, t) : 2;
    if (rc == 0)
        rc = bench_detect(&info, y, t);
    free(x), free(y), free(t);
    return rc;
}
