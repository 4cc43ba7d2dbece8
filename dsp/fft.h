/* FFTW plans, created under one process-wide lock because FFTW's planner is not thread-safe. */
#ifndef PM_FFT_H
#define PM_FFT_H
#include <fftw3.h>

typedef struct pm_fft {
    int n;
    float *time;           /* n real samples */
    fftwf_complex *freq;   /* n/2+1 bins */
    fftwf_plan forward, inverse;
} pm_fft;

/* Allocate buffers and plans for size n; 0 on success. */
int pm_fft_init(pm_fft *f, int n);
void pm_fft_destroy(pm_fft *f);
#endif
