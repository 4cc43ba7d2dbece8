#include "scan.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define AHEAD 4 /* files a worker may finish ahead of the consumer, per worker */

typedef struct pool {
    char *const *paths;
    analysis **out; /* out[i] set when file i is done; freed once handed over */
    size_t n, next, consumed, ahead;
    const analysis_opts *opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool;

#define OUT_OF_MEMORY ((analysis *)-1)

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->n && p->next >= p->consumed + p->ahead)
            pthread_cond_wait(&p->cv, &p->mu);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        analysis *o = malloc(sizeof *o);
        if (o)
            analyse_file(p->paths[i], p->opts, o);
        pthread_mutex_lock(&p->mu);
        p->out[i] = o ? o : OUT_OF_MEMORY;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

int scan_files(char *const *paths, size_t n, long jobs, const analysis_opts *opts, scan_result fn,
               void *ctx)
{
    if (jobs < 1)
        jobs = 1;
    pool p = {.paths = paths, .n = n, .opts = opts, .ahead = (size_t)jobs * AHEAD};
    p.out = calloc(n ? n : 1, sizeof(analysis *));
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    if (!p.out || !threads) {
        say("out of memory");
        free(p.out);
        free(threads);
        return -1;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    long started = 0;
    for (long t = 0; t < jobs && (size_t)t < n; t++)
        if (pthread_create(&threads[t], NULL, worker, &p) == 0)
            started++;
    if (n && !started) /* no thread could be started: scan in this one */
        worker(&p);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&p.mu);
        while (!p.out[i])
            pthread_cond_wait(&p.cv, &p.mu);
        analysis *o = p.out[i];
        pthread_mutex_unlock(&p.mu);
        fn(ctx, i, paths[i], o == OUT_OF_MEMORY ? NULL : o);
        if (o != OUT_OF_MEMORY) {
            analysis_free(o);
            free(o);
        }
        pthread_mutex_lock(&p.mu);
        p.out[i] = NULL;
        p.consumed = i + 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    for (long t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    free(p.out);
    free(threads);
    return 0;
}
