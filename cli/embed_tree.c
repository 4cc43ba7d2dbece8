/*
 * provmark embed -r: mark every audio file below a folder into the same relative
 * path below another, with worker threads, a status line and a summary. Outputs
 * appear only when complete and are verified; one that exists and carries the IDs
 * is kept, so running again after an interruption finishes the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse.h"
#include "cli.h"
#include "embed.h"
#include "paths.h"
#include "progress.h"

typedef struct tree {
    const embed_opts *o;
    const pm_key *key;
    strlist in, out;
    size_t next, done;
    size_t marked, kept, unverified, truncated, failed;
    strlist untaggable; /* output types already said to lose tags */
    int said_resample;
    progress pr;
    pthread_mutex_t mu;
} tree;

/* The output path of `in` (below o->in_path): the same relative path below o->out_path, with --format's extension. */
static char *out_path_of(const embed_opts *o, const char *in)
{
    const char *rel = in + strlen(o->in_path);
    while (*rel == '/')
        rel++;
    const char *slash = strrchr(rel, '/'), *dot = strrchr(rel, '.');
    int stem = o->format && dot && (!slash || dot > slash) ? (int)(dot - rel) : (int)strlen(rel);
    char *out = NULL;
    if (asprintf(&out, "%s/%.*s%s%s", o->out_path, stem, rel, o->format ? "." : "",
                 o->format ? o->format : "") < 0)
        return NULL;
    return out;
}

/* Create the folders above path. 0, or -1 after one line. */
static int make_parents(const char *path)
{
    char *p = strdup(path);
    if (!p) {
        say("out of memory");
        return -1;
    }
    int rc = 0;
    for (char *s = strchr(p + 1, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            say("%s: cannot create folder: %s", p, strerror(errno));
            rc = -1;
        }
        *s = '/';
    }
    free(p);
    return rc;
}

/* An output from an earlier run that is complete and carries these IDs. */
static int already_marked(const tree *t, const char *in_path, const char *out)
{
    struct stat st;
    if (stat(out, &st) != 0)
        return 0;
    /* As long as the input says it is (within 1 %, 0.5 s at least: MP3 lengths are estimates):
     * an output made from a truncated input, since made whole, is made again. */
    audio_in in;
    char err[AUDIO_ERR];
    if (audio_in_open(&in, in_path, t->o->dec, err) != 0)
        return 0;
    const int known = in.pipe_fd < 0 && in.info.samplerate > 0 && in.info.frames > 0 && in.info.frames < SF_COUNT_MAX;
    const double want = known ? (double)in.info.frames / in.info.samplerate : -1.0; /* a decoder's stream: no length */
    audio_in_close(&in);
    analysis_opts ao = {.keys = t->key, .n_keys = 1, .dec = DECODER_SNDFILE};
    analysis *a = calloc(1, sizeof *a);
    int ok = a && analyse_file(out, &ao, a) == 0 && a->r.found && a->r.model_id == t->o->model &&
             a->r.dataset_id == t->o->dataset && !a->truncated[0] &&
             (want < 0.0 || fabs(a->duration - want) <= fmax(0.5, 0.01 * want));
    if (a)
        analysis_free(a);
    free(a);
    return ok;
}

/* What one file gave, counted and said (tag losses and resampling once per run). */
static void account(tree *t, size_t i, int rc, const embedded *res)
{
    const char *out = t->out.v[i];
    if (rc == 1) {
        t->kept++;
    } else if (rc < 0) {
        t->failed++;
    } else if (res->truncated) {
        t->truncated++; /* said by embed_file; an output shorter than its input is never kept */
    } else if (t->o->verify && !embed_verified(t->o, res)) {
        t->unverified++;
        say("warning: %s: the mark could not be verified (too short, too quiet or silent, or lost by the output's "
            "encoding?)", out);
    } else {
        t->marked++;
    }
    if (rc == 0 && res->lost[0]) {
        const char *dot = strrchr(out, '.');
        int said = 0;
        for (size_t k = 0; k < t->untaggable.n; k++)
            said |= strcasecmp(t->untaggable.v[k], dot ? dot : "") == 0;
        if (!said && strlist_push(&t->untaggable, dot ? dot : "") == 0)
            say("note: %s outputs cannot hold these tags of their inputs: %s (libsndfile)", dot ? dot : "these",
                res->lost);
    }
    if (rc == 0 && res->resampled_from && !t->said_resample) {
        t->said_resample = 1;
        say("note: Opus outputs of inputs at other rates are resampled to %d Hz (libsoxr)",
                AUDIO_OPUS_RATE);
    }
    progress_update(&t->pr, ++t->done, NULL);
}

static void *worker(void *arg)
{
    tree *t = arg;
    pthread_mutex_lock(&t->mu);
    while (t->next < t->in.n) {
        size_t i = t->next++;
        pthread_mutex_unlock(&t->mu);
        embed_opts fo = *t->o;
        fo.in_path = t->in.v[i];
        fo.out_path = t->out.v[i];
        embedded res;
        memset(&res, 0, sizeof res);
        int rc = already_marked(t, fo.in_path, fo.out_path) ? 1
                 : make_parents(fo.out_path) == 0 && embed_file(&fo, t->key, &res) == 0 ? 0
                                                                                        : -1;
        pthread_mutex_lock(&t->mu);
        account(t, i, rc, &res);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

typedef struct file_id {
    dev_t dev;
    ino_t ino;
} file_id;

static int by_file_id(const void *a, const void *b)
{
    const file_id *x = a, *y = b;
    return x->dev != y->dev ? (x->dev < y->dev ? -1 : 1) : x->ino != y->ino ? (x->ino < y->ino ? -1 : 1) : 0;
}

/*
 * No output may be an input (through a link, say) nor the output of another input
 * (a.wav and a.flac with --format flac): either would lose audio. 0, or -1 after one line.
 */
static int check_outputs(const tree *t)
{
    const size_t n = t->in.n;
    file_id *ids = malloc(sizeof *ids * n);
    char **outs = malloc(sizeof *outs * n);
    int rc = ids && outs ? 0 : -1;
    if (rc)
        say("out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        if (stat(t->in.v[i], &st) == 0)
            ids[k++] = (file_id){st.st_dev, st.st_ino};
    }
    if (!rc)
        qsort(ids, k, sizeof *ids, by_file_id);
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        if (stat(t->out.v[i], &st) == 0 &&
            bsearch(&(file_id){st.st_dev, st.st_ino}, ids, k, sizeof *ids, by_file_id)) {
            say("%s: the output of %s is an input file; nothing marked", t->out.v[i], t->in.v[i]);
            rc = -1;
        }
    }
    if (!rc) {
        memcpy(outs, t->out.v, sizeof *outs * n);
        qsort(outs, n, sizeof *outs, strlist_cmp);
        for (size_t i = 1; i < n && !rc; i++)
            if (strcmp(outs[i - 1], outs[i]) == 0) {
                say("%s: two inputs would be written there (--format); nothing marked", outs[i]);
                rc = -1;
            }
    }
    free(ids);
    free(outs);
    return rc;
}

/* OUT_DIR, created; refused when it is IN_DIR, inside it (a second run would mark the
 * outputs) or holds it (outputs would land among the inputs). */
static int prepare_out_dir(const embed_opts *o)
{
    if (make_parents(o->out_path))
        return -1;
    const int made = mkdir(o->out_path, 0755) == 0;
    if (!made && errno != EEXIST) {
        say("%s: cannot create folder: %s", o->out_path, strerror(errno));
        return -1;
    }
    char in[PATH_MAX], out[PATH_MAX];
    if (!realpath(o->in_path, in) || !realpath(o->out_path, out)) {
        say("%s: %s", o->out_path, strerror(errno));
        return -1;
    }
    const size_t n = strlen(in), m = strlen(out);
    if ((strncmp(in, out, n) == 0 && (out[n] == '\0' || out[n] == '/' || n == 1)) ||
        (strncmp(out, in, m) == 0 && (in[m] == '\0' || in[m] == '/' || m == 1))) {
        say("IN_DIR and OUT_DIR must be apart (neither inside the other)");
        if (made)
            rmdir(o->out_path);
        return -1;
    }
    return 0;
}

int embed_tree(const embed_opts *o, const pm_key *key)
{
    tree t = {.o = o, .key = key};
    struct stat st;
    int status = EXIT_ERROR;
    if (stat(o->in_path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        say("%s: not a folder (-r takes IN_DIR OUT_DIR)", o->in_path);
        return EXIT_ERROR;
    }
    char probe[32];
    if (o->format && (strchr(o->format, '/') || strchr(o->format, '.') ||
                      snprintf(probe, sizeof probe, "x.%s", o->format) >= (int)sizeof probe ||
                      !audio_out_type_known(probe))) {
        say("--format takes an extension: wav flac ogg opus mp3");
        return EXIT_ERROR;
    }
    if (walk_audio(o->in_path, &(walk_opts){0}, &t.in) || prepare_out_dir(o))
        goto out;
    if (!t.in.n) {
        say("%s: no audio files", o->in_path);
        goto out;
    }
    for (size_t i = 0; i < t.in.n; i++) {
        char *p = out_path_of(o, t.in.v[i]);
        int rc = p ? strlist_push(&t.out, p) : -1;
        free(p);
        if (rc) {
            say("out of memory");
            goto out;
        }
    }
    if (check_outputs(&t))
        goto out;
    pthread_mutex_init(&t.mu, NULL);
    progress_start(&t.pr, "marked", t.in.n, 0);
    size_t n_threads = (size_t)o->jobs < t.in.n ? (size_t)o->jobs : t.in.n, started = 0;
    pthread_t th[256];
    while (started < n_threads && pthread_create(&th[started], NULL, worker, &t) == 0)
        started++;
    if (!started)
        worker(&t);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&t.mu);
    say("%zu files: %zu marked, %zu already marked (kept), %zu not verified, %zu truncated, %zu failed",
            t.in.n, t.marked, t.kept, t.unverified, t.truncated, t.failed);
    status = t.failed ? EXIT_ERROR : t.unverified || t.truncated ? EXIT_UNMARKED : EXIT_MARKED;
out:
    strlist_free(&t.in);
    strlist_free(&t.out);
    strlist_free(&t.untaggable);
    return status;
}
