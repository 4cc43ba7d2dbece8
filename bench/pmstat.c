/*
 * Measurement helper for the benchmark and tests.
 *   pmstat compare ORIG MARKED   -> mark SNR, segmental SNR, peak, newly clipped samples
 *   pmstat noise IN OUT SNR_DB SEED -> IN plus white Gaussian noise at that SNR
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static float *load(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    SNDFILE *f = sf_open(path, SFM_READ, info);
    if (!f) {
        fprintf(stderr, "pmstat: %s: %s\n", path, sf_strerror(NULL));
        exit(2);
    }
    float *x = malloc(sizeof(float) * (size_t)info->frames * (size_t)info->channels);
    if (!x || sf_readf_float(f, x, info->frames) != info->frames) {
        fprintf(stderr, "pmstat: %s: read failed\n", path);
        free(x);
        sf_close(f);
        exit(2);
    }
    sf_close(f);
    return x;
}

static int compare(const char *a, const char *b)
{
    SF_INFO ia, ib;
    float *x = load(a, &ia), *y = load(b, &ib);
    if (ia.channels != ib.channels || ia.samplerate != ib.samplerate) {
        fprintf(stderr, "pmstat: files differ in format\n");
        free(x);
        free(y);
        return 2;
    }
    sf_count_t n = ia.frames < ib.frames ? ia.frames : ib.frames;
    const int ch = ia.channels;
    double sx = 0, sd = 0, peak = 0;
    long clipped = 0;
    for (sf_count_t i = 0; i < n * ch; i++) {
        double d = (double)y[i] - x[i];
        sx += (double)x[i] * x[i];
        sd += d * d;
        if (fabs(y[i]) > peak)
            peak = fabs(y[i]);
        clipped += fabsf(y[i]) >= 32767.0f / 32768.0f && fabsf(x[i]) < 32767.0f / 32768.0f;
    }
    /* Segmental SNR over 50 ms frames whose level is above -60 dBFS. */
    const sf_count_t seg = ia.samplerate / 20;
    double seg_sum = 0;
    int seg_n = 0;
    for (sf_count_t s = 0; s + seg <= n; s += seg) {
        double px = 0, pd = 0;
        for (sf_count_t i = s * ch; i < (s + seg) * ch; i++) {
            double d = (double)y[i] - x[i];
            px += (double)x[i] * x[i];
            pd += d * d;
        }
        if (px / (double)(seg * ch) < 1e-6 || pd <= 0)
            continue;
        seg_sum += 10 * log10(px / pd);
        seg_n++;
    }
    printf("snr %.2f segsnr %.2f peak %.4f clipped %ld\n", 10 * log10(sx / sd),
           seg_n ? seg_sum / seg_n : INFINITY, peak, clipped);
    free(x);
    free(y);
    return 0;
}

static int noise(const char *in, const char *out, double snr_db, unsigned seed)
{
    SF_INFO info;
    float *x = load(in, &info);
    size_t n = (size_t)info.frames * (size_t)info.channels;
    double p = 0;
    for (size_t i = 0; i < n; i++)
        p += (double)x[i] * x[i];
    double sigma = sqrt(p / (double)n / pow(10.0, snr_db / 10.0));
    for (size_t i = 0; i < n; i += 2) { /* Box-Muller: two normal values per pair */
        double u1 = (rand_r(&seed) + 1.0) / ((double)RAND_MAX + 2.0);
        double u2 = (rand_r(&seed) + 1.0) / ((double)RAND_MAX + 2.0);
        double r = sqrt(-2.0 * log(u1));
        x[i] += (float)(sigma * r * cos(2 * M_PI * u2));
        if (i + 1 < n)
            x[i + 1] += (float)(sigma * r * sin(2 * M_PI * u2));
    }
    SF_INFO oi = {.samplerate = info.samplerate, .channels = info.channels,
                  .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(out, SFM_WRITE, &oi);
    if (!f) {
        fprintf(stderr, "pmstat: %s: %s\n", out, sf_strerror(NULL));
        free(x);
        return 2;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_writef_float(f, x, info.frames);
    sf_close(f);
    free(x);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "compare"))
        return compare(argv[2], argv[3]);
    if (argc == 6 && !strcmp(argv[1], "noise"))
        return noise(argv[2], argv[3], atof(argv[4]), (unsigned)atoi(argv[5]));
    fprintf(stderr, "usage: pmstat compare ORIG MARKED | pmstat noise IN OUT SNR_DB SEED\n");
    return 2;
}
