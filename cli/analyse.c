#include "analyse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct consumers {
    pm_detector *det;
    fp_extractor *fx;
    int channels;
    double t0;
    analysis *a;
} consumers;

static int push(void *ctx, const float *buf, size_t frames)
{
    consumers *c = ctx;
    int rc = c->det ? pm_detector_push_interleaved(c->det, buf, frames) : PM_OK;
    if (rc == PM_OK && c->fx && fp_push(c->fx, buf, frames, c->channels) != 0)
        rc = PM_ERR_NOMEM;
    if (rc != PM_OK) {
        snprintf(c->a->error, sizeof c->a->error, "%s", pm_strerror(rc));
        return 1;
    }
    return 0;
}

static fp_extractor *extractor(const analysis_opts *opts, double rate)
{
    fp_extractor *x = fp_new(rate);
    if (x && opts->fingerprint == FINGERPRINT_QUERY)
        fp_probe_neighbours(x);
    return x;
}

int analyse_file(const char *path, const analysis_opts *opts, analysis *a)
{
    memset(a, 0, sizeof *a);
    consumers c = {.t0 = now_ms(), .a = a};
    audio_in in;
    if (audio_in_open_limited(&in, path, opts->dec, opts->max_ms, a->error) != 0)
        goto out;
    a->rate = in.info.samplerate;
    a->channels = c.channels = in.info.channels;
    int rc = opts->keys ? pm_detector_new(&c.det, a->rate, a->channels, opts->keys, opts->n_keys)
                        : PM_OK;
    for (int k = 0; c.det && k < opts->n_keys && rc == PM_OK; k++)
        for (size_t i = 0; i < opts->n_expect && rc == PM_OK; i++)
            rc = pm_detector_expect(c.det, k, opts->expect[i][0], opts->expect[i][1]);
    if (rc != PM_OK) {
        snprintf(a->error, sizeof a->error, "%s", pm_strerror(rc));
    } else if (opts->fingerprint && !(c.fx = extractor(opts, a->rate))) {
        snprintf(a->error, sizeof a->error, "%s",
                 "out of memory");
    } else if (audio_in_feed(&in, push, &c, a->error) == 0) {
        a->duration = (double)in.read / a->rate;
        memcpy(a->truncated, in.truncated, sizeof a->truncated);
        if (audio_in_digest(&in, a->sha256, &a->size) != 0)
            a->sha256[0] = '\0'; /* stdin: no file to name by its hash */
        rc = c.det ? pm_detector_finish(c.det, &a->r) : PM_OK;
        const int n = rc == PM_OK && c.det ? pm_detector_mark_count(c.det) : 0;
        for (int i = 0; i < n && rc == PM_OK; i++) {
            rc = pm_detector_mark(c.det, i, &a->marks[i]);
            a->recognised[i] = rc == PM_OK && pm_detector_mark_recognised(c.det, i) == 1;
            const int formats = rc == PM_OK ? pm_detector_mark_formats(c.det, i) : 0;
            a->formats[i] = formats > 0 ? (uint8_t)formats : 0;
        }
        a->n_marks = rc == PM_OK && n > 0 ? n : 0;
        if (rc == PM_OK && c.fx && fp_finish(c.fx, &a->lm, &a->n_lm) != 0)
            rc = PM_ERR_NOMEM;
        if (rc != PM_OK) {
            memset(&a->r, 0, sizeof a->r);
            snprintf(a->error, sizeof a->error, "%s", pm_strerror(rc));
        }
    }
    pm_detector_free(c.det);
    fp_free(c.fx);
    audio_in_close(&in);
out:
    a->elapsed_ms = lround(now_ms() - c.t0);
    if (!a->error[0])
        return 0;
    analysis_free(a);
    return -1;
}

void analysis_free(analysis *a)
{
    free(a->lm);
    a->lm = NULL;
    a->n_lm = 0;
}
