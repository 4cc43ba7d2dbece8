#include "nmr.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>

#define N 2048
#define NBARK 25

static double bark(double f) { return 13.0 * atan(0.00076 * f) + 3.5 * atan(pow(f / 7500.0, 2)); }

double nmr_db(const float *ref, const float *test, size_t frames, int channels, int rate)
{
    float *in = fftwf_alloc_real(N);
    fftwf_complex *out = fftwf_alloc_complex(N / 2 + 1);
    fftwf_plan plan = fftwf_plan_dft_r2c_1d(N, in, out, FFTW_ESTIMATE);
    int band_of[N / 2 + 1];
    for (int k = 0; k <= N / 2; k++) {
        int b = (int)bark((double)k * rate / N);
        band_of[k] = b < NBARK ? b : NBARK - 1;
    }
    /* Noise below a 16-bit file's own rounding noise is not the mark's: it floors the mask. */
    double wsum = 0.0;
    for (int i = 0; i < N; i++) {
        double w = 0.5 - 0.5 * cos(2 * M_PI * (i + 0.5) / N);
        wsum += w * w;
    }
    const double lsb = 1.0 / 32768.0;
    const double floor_per_bin = wsum * lsb * lsb / 12.0;
    double bins_in[NBARK] = {0};
    for (int k = 1; k <= N / 2; k++)
        bins_in[band_of[k]] += 1.0;
    double sum = 0.0;
    long count = 0;
    for (int c = 0; c < channels; c++)
        for (size_t s = 0; s + N <= frames; s += N / 2) {
            double ex[NBARK] = {0}, en[NBARK] = {0};
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < N; i++) {
                    size_t j = (s + (size_t)i) * (size_t)channels + (size_t)c;
                    double w = 0.5 - 0.5 * cos(2 * M_PI * (i + 0.5) / N);
                    in[i] = (float)(w * (pass ? (double)test[j] - ref[j] : ref[j]));
                }
                fftwf_execute(plan);
                double *e = pass ? en : ex;
                for (int k = 1; k <= N / 2; k++)
                    e[band_of[k]] += (double)out[k][0] * out[k][0] + (double)out[k][1] * out[k][1];
            }
            double host = 0;
            for (int b = 0; b < NBARK; b++)
                host += ex[b];
            if (host < 1e-7 * N) /* below about -70 dBFS: not judged */
                continue;
            for (int b = 0; b < NBARK; b++) {
                double mask = 0.0;
                for (int m = 0; m < NBARK; m++) {
                    double dz = b - m; /* masker m, maskee b */
                    double att_db = dz >= 0 ? -10.0 * dz : 25.0 * dz;
                    mask += ex[m] * pow(10.0, (att_db - 12.0) / 10.0);
                }
                mask += floor_per_bin * bins_in[b];
                sum += en[b] / mask;
                count++;
            }
        }
    fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
    return count ? 10.0 * log10(sum / (double)count) : -INFINITY;
}
