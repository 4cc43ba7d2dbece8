#include "fft.h"

#include <pthread.h>

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

int pm_fft_init(pm_fft *f, int n)
{
    f->n = n;
    f->time = fftwf_alloc_real((size_t)n);
    f->freq = fftwf_alloc_complex((size_t)n / 2 + 1);
    f->forward = f->inverse = NULL;
    if (!f->time || !f->freq) {
        pm_fft_destroy(f);
        return -1;
    }
    pthread_mutex_lock(&planner_lock);
    /* ESTIMATE keeps creation fast and deterministic; the sizes are 7-smooth. */
    f->forward = fftwf_plan_dft_r2c_1d(n, f->time, f->freq, FFTW_ESTIMATE);
    f->inverse = fftwf_plan_dft_c2r_1d(n, f->freq, f->time, FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    if (!f->forward || !f->inverse) {
        pm_fft_destroy(f);
        return -1;
    }
    return 0;
}

void pm_fft_destroy(pm_fft *f)
{
    pthread_mutex_lock(&planner_lock);
    if (f->forward)
        fftwf_destroy_plan(f->forward);
    if (f->inverse)
        fftwf_destroy_plan(f->inverse);
    pthread_mutex_unlock(&planner_lock);
    fftwf_free(f->time);
    fftwf_free(f->freq);
    f->time = NULL;
    f->freq = NULL;
    f->forward = f->inverse = NULL;
}
