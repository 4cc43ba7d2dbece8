#include "fft.h"

#include <pthread.h>

/*
 * FFTW's planner is process-wide and not thread-safe. Everything provmark plans
 * (the embedder, the detector, the fingerprint library) goes through this one
 * lock; where FFTW offers it (>= 3.3.5, libfftw3f_threads) the planner is also
 * made thread-safe for the whole process, which covers other FFTW users in the
 * same process too (e.g. other plugins in an LV2 host).
 */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef PM_FFTW_THREADS
static pthread_once_t thread_safe_once = PTHREAD_ONCE_INIT;
static void make_thread_safe(void) { fftwf_make_planner_thread_safe(); }
#endif

int pm_fft_init(pm_fft *f, int n)
{
#ifdef PM_FFTW_THREADS
    pthread_once(&thread_safe_once, make_thread_safe);
#endif
    f->n = n;
    f->time = fftwf_alloc_real((size_t)n);
    f->freq = fftwf_alloc_complex((size_t)n / 2 + 1);
    f->forward = f->inverse = NULL;
    if (!f->time || !f->freq) {
        pm_fft_destroy(f);
        return -1;
    }
    pthread_mutex_lock(&planner_lock);
    /* ESTIMATE keeps creation fast and deterministic; pm_fft_size() gives fast sizes. */
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
