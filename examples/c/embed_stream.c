/*
 * A generation back end's loop, marked in-process through libprovmark.
 *
 * A stand-in "model" produces 48 kHz stereo audio in 20 ms chunks; every chunk
 * goes through the embedder as it is produced, the embedder's tail is flushed
 * at the end, and the result is written as a 16-bit WAV. The detector
 * API then checks the marked audio, as a platform would.
 *
 * Build against an installed provmark:
 *   cc embed_stream.c $(pkg-config --cflags --libs provmark) -lm -o embed_stream
 * usage: embed_stream [--key FILE] [OUT.wav [SECONDS]]
 */
#include <math.h>
#include <provmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define CHANNELS 2
#define CHUNK (RATE / 50) /* 20 ms */
#define MODEL_ID 7
#define DATASET_ID 42
#define TWO_PI 6.283185307179586

/* The fake model: a chord every half second, plucked, over a soft noise bed. */
typedef struct generator {
    long n;
    unsigned rng;
    double phase[4];
} generator;

static double noise(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 9) & 0xffff) / 32768.0 - 1.0;
}

static void generate(generator *g, float *out, int frames)
{
    static const double chords[4][4] = {
        {220.0, 277.2, 329.6, 440.0}, {196.0, 246.9, 293.7, 392.0},
        {174.6, 220.0, 261.6, 349.2}, {164.8, 207.7, 246.9, 329.6}};
    for (int i = 0; i < frames; i++, g->n++) {
        const double t = (double)g->n / RATE, beat = fmod(t, 0.5);
        const double *f = chords[(g->n / (RATE / 2)) % 4];
        double v = 0.0;
        for (int k = 0; k < 4; k++) {
            g->phase[k] += TWO_PI * f[k] / RATE;
            for (int h = 1; h <= 6; h++)
                v += sin(h * g->phase[k]) / (h * h);
        }
        v *= 0.08 * exp(-3.0 * beat);
        v += 0.01 * noise(&g->rng) * (1.0 + 4.0 * exp(-40.0 * beat));
        out[CHANNELS * i] = (float)v;
        out[CHANNELS * i + 1] = (float)(0.9 * v);
    }
}

/* A minimal 16-bit WAV writer: the header is rewritten with the sizes at the end. */
static void wav_header(FILE *f, unsigned long frames)
{
    unsigned long data = frames * CHANNELS * 2;
    unsigned char h[44] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' '};
    unsigned long v[] = {36 + data, 16, 1 | (CHANNELS << 16), RATE, RATE * CHANNELS * 2,
                         (CHANNELS * 2) | (16 << 16)};
    int at[] = {4, 16, 20, 24, 28, 32};
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 4; b++)
            h[at[i] + b] = (unsigned char)(v[i] >> (8 * b));
    h[36] = 'd', h[37] = 'a', h[38] = 't', h[39] = 'a';
    for (int b = 0; b < 4; b++)
        h[40 + b] = (unsigned char)(data >> (8 * b));
    fseek(f, 0, SEEK_SET);
    fwrite(h, 1, sizeof h, f);
}

static long wav_write(FILE *f, const float *x, long frames)
{
    for (long i = 0; i < frames * CHANNELS; i++) {
        long v = lrintf(x[i] * 32768.0f); /* the embedder's output never exceeds full scale */
        v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        unsigned char b[2] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff)};
        if (fwrite(b, 1, 2, f) != 2)
            return i / CHANNELS;
    }
    return frames;
}

static int fail(const char *what, int status)
{
    fprintf(stderr, "embed_stream: %s: %s\n", what, pm_strerror(status));
    return 1;
}

int main(int argc, char **argv)
{
    const char *key_path = NULL;
    if (argc > 2 && !strcmp(argv[1], "--key")) {
        key_path = argv[2];
        argc -= 2, argv += 2;
    }
    const char *out_path = argc > 1 ? argv[1] : "embed_stream.wav";
    const double seconds = argc > 2 ? atof(argv[2]) : 20.0;
    if (!(seconds > 0.0 && seconds < 3600.0)) {
        fprintf(stderr, "embed_stream: SECONDS must be between 0 and 3600\n");
        return 2;
    }
    if (pm_version() / 10000 != PM_VERSION / 10000) {
        fprintf(stderr, "embed_stream: built for provmark %s, loaded %s\n", PM_VERSION_STRING,
                pm_version_string());
        return 1;
    }
    pm_key key;
    int rc;
    if (key_path && (rc = pm_key_load(&key, key_path)) != PM_OK)
        return fail(key_path, rc);
    if (!key_path) {
        fprintf(stderr, "embed_stream: warning: public demo key (its marks prove nothing)\n");
        pm_key_demo(&key);
    }

    pm_embedder *emb;
    if ((rc = pm_embedder_new(&emb, RATE, CHANNELS, &key, MODEL_ID, DATASET_ID,
                              PM_STRENGTH_DEFAULT)) != PM_OK)
        return fail("embedder", rc);
    const size_t latency = pm_embedder_latency(emb);
    const long total = (long)(seconds * RATE);
    float *chunk = malloc(sizeof(float) * CHUNK * CHANNELS);
    float *tail = malloc(sizeof(float) * latency * CHANNELS);
    float *marked = malloc(sizeof(float) * (size_t)(total + (long)latency) * CHANNELS);
    FILE *f = fopen(out_path, "wb");
    if (!chunk || !tail || !marked || !f) {
        fprintf(stderr, "embed_stream: cannot allocate or open %s\n", out_path);
        return 1;
    }
    wav_header(f, 0);

    /* The back end's loop: generate, mark in place, keep (here: write and collect). */
    generator gen = {.rng = 1};
    long produced = 0;
    while (produced < total) {
        int n = total - produced < CHUNK ? (int)(total - produced) : CHUNK;
        generate(&gen, chunk, n);
        if ((rc = pm_embedder_process_interleaved(emb, chunk, chunk, (size_t)n)) != PM_OK)
            return fail("process", rc);
        memcpy(marked + produced * CHANNELS, chunk, sizeof(float) * (size_t)n * CHANNELS);
        produced += n;
    }
    const double level = pm_embedder_mark_level_db(emb);
    if ((rc = pm_embedder_flush_interleaved(emb, tail)) != PM_OK)
        return fail("flush", rc);
    memcpy(marked + produced * CHANNELS, tail, sizeof(float) * latency * CHANNELS);
    /* The first `latency` frames are the embedder's delay: output is aligned after them. */
    const float *aligned = marked + latency * CHANNELS;
    long written = wav_write(f, aligned, total);
    wav_header(f, (unsigned long)written);
    if (fclose(f) != 0 || written != total) {
        fprintf(stderr, "embed_stream: writing %s failed\n", out_path);
        return 1;
    }
    printf("marked %.1f s in %ld chunks of 20 ms (latency %zu frames), mark level %.1f dB -> %s\n",
           seconds, (total + CHUNK - 1) / CHUNK, latency, level, out_path);
    pm_embedder_free(emb);

    /* What a platform does with a suspected output: the detector API on the samples. */
    pm_detector *det;
    pm_result res;
    if ((rc = pm_detector_new(&det, RATE, CHANNELS, &key, 1)) != PM_OK)
        return fail("detector", rc);
    for (long i = 0; i < total; i += RATE) /* pushed a second at a time */
        if ((rc = pm_detector_push_interleaved(det, aligned + i * CHANNELS,
                                               (size_t)(total - i < RATE ? total - i : RATE))) != PM_OK)
            return fail("detect", rc);
    if ((rc = pm_detector_finish(det, &res)) != PM_OK)
        return fail("detect", rc);
    pm_detector_free(det);
    free(chunk), free(tail), free(marked);
    if (!res.found) {
        printf("detected: no mark\n");
        return 1;
    }
    printf("detected: model %u, dataset %u, p_false %.1e\n", res.model_id, res.dataset_id,
           res.p_false);
    return res.model_id == MODEL_ID && res.dataset_id == DATASET_ID ? 0 : 1;
}
