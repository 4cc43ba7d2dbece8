/*
 * provmark detect: scan files, folders or a list of paths with a pool of
 * worker threads. Results are printed in input order; a worker never runs more
 * than a few files ahead of the printer, so memory stays bounded however many
 * files are scanned. --resume skips files an earlier JSONL output already holds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK 4096
#define AHEAD 4 /* files a worker may finish ahead of the printer, per worker */

static const char usage_detect[] =
    "usage: provmark detect [OPTIONS] FILE|DIR...\n"
    "\n"
    "Look for a provmark watermark in each file and print one line per file, or\n"
    "with --json one JSON object per line, in input order.\n"
    "\n"
    "  --json           JSON lines: file found model_id dataset_id p_false key sync_z\n"
    "                   speed tempo segments duration sample_rate channels elapsed_ms error\n"
    "  --key FILE       key to try (repeat for several, at most 16; default: demo key)\n"
    "  -r, --recursive  scan folders given as arguments\n"
    "  --include GLOB   in folders, scan only names matching GLOB (repeatable; default:\n"
    "                   *.wav *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff *.w64 *.rf64 *.caf)\n"
    "  --from FILE      read more paths, one per line, from FILE ('-' = stdin)\n"
    "  -j, --jobs N     worker threads (default: all cores)\n"
    "  --resume FILE    skip files already reported without error in FILE (JSON lines)\n"
    "\n"
    "'-' as a FILE reads a WAV stream from stdin. Exit status: 0 every file is\n"
    "marked, 1 some file is not, 2 an error occurred (the scan goes on).\n";

static const char *default_globs[] = {"*.wav", "*.flac", "*.ogg", "*.oga", "*.opus", "*.mp3",
                                      "*.aif", "*.aiff", "*.w64", "*.rf64", "*.caf", NULL};

/* ------------------------------------------------------------ path list */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wanted(const char *name, const strlist *globs)
{
    if (globs->n) {
        for (size_t i = 0; i < globs->n; i++)
            if (fnmatch(globs->v[i], name, FNM_CASEFOLD) == 0)
                return 1;
        return 0;
    }
    for (int i = 0; default_globs[i]; i++)
        if (fnmatch(default_globs[i], name, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}

/* Add the matching files below dir, sorted by name at every level; symlinked folders are not followed. */
static int walk(const char *dir, const strlist *globs, strlist *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "provmark: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    strlist names = {0};
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && push(&names, e->d_name))
            rc = -1;
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof names.v[0], cmp_str);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, names.v[i]) < 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(path, globs, out);
        else if (wanted(names.v[i], globs) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = push(out, path);
        free(path);
    }
    strlist_free(&names);
    return rc;
}

static int read_list(const char *from, strlist *out)
{
    FILE *f = strcmp(from, "-") == 0 ? stdin : fopen(from, "r");
    if (!f) {
        fprintf(stderr, "provmark: %s: %s\n", from, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            rc = push(out, line);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Paths reported without error in an earlier JSON-lines output, sorted for bsearch. */
static int read_resume(const char *path, strlist *done)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0; /* nothing scanned yet */
        fprintf(stderr, "provmark: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *file = j ? json_string_value(json_object_get(j, "file")) : NULL;
        json_t *err = j ? json_object_get(j, "error") : NULL;
        if (file && (!err || json_is_null(err)))
            rc = push(done, file); /* a truncated last line does not parse: it is redone */
        json_decref(j);
    }
    free(line);
    fclose(f);
    if (done->n)
        qsort(done->v, done->n, sizeof done->v[0], cmp_str);
    return rc;
}

/* -------------------------------------------------------------- detection */

typedef struct detect_out {
    int found;
    pm_result r;
    double duration;
    int rate, channels;
    long elapsed_ms;
    char error[256];
} detect_out;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static void detect_file(const char *path, const pm_key *keys, int n_keys, detect_out *o)
{
    const double t0 = now_ms();
    memset(o, 0, sizeof *o);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = strcmp(path, "-") == 0 ? sf_open_fd(0, SFM_READ, &info, 0)
                                          : sf_open(path, SFM_READ, &info);
    if (!sf) {
        snprintf(o->error, sizeof o->error, "cannot read audio: %s", sf_strerror(NULL));
        return;
    }
    o->rate = info.samplerate;
    o->channels = info.channels;
    pm_detector *d = NULL;
    int rc = pm_detector_new(&d, info.samplerate, info.channels, keys, n_keys);
    float *buf = rc == PM_OK ? malloc(sizeof(float) * CHUNK * (size_t)info.channels) : NULL;
    if (rc != PM_OK || !buf) {
        snprintf(o->error, sizeof o->error, "%s", pm_strerror(rc != PM_OK ? rc : PM_ERR_NOMEM));
        goto done;
    }
    sf_count_t n, total = 0;
    while ((n = sf_readf_float(sf, buf, CHUNK)) > 0) {
        pm_detector_push_interleaved(d, buf, (size_t)n);
        total += n;
    }
    if (sf_error(sf)) {
        snprintf(o->error, sizeof o->error, "read error: %s", sf_strerror(sf));
        goto done;
    }
    if (total == 0) {
        snprintf(o->error, sizeof o->error, "no audio in file");
        goto done;
    }
    o->duration = (double)total / info.samplerate;
    pm_detector_finish(d, &o->r);
    o->found = o->r.found;
done:
    free(buf);
    pm_detector_free(d);
    sf_close(sf);
    o->elapsed_ms = lround(now_ms() - t0);
}

static void print_json(const char *path, const detect_out *o, char fp[][17])
{
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(path));
    json_object_set_new(j, "found", json_boolean(o->found));
    if (o->error[0]) {
        json_object_set_new(j, "error", json_string(o->error));
    } else {
        json_object_set_new(j, "model_id", o->found ? json_integer(o->r.model_id) : json_null());
        json_object_set_new(j, "dataset_id",
                            o->found ? json_integer(o->r.dataset_id) : json_null());
        json_object_set_new(j, "p_false", json_real(o->r.p_false));
        json_object_set_new(j, "key", o->found ? json_string(fp[o->r.key_index]) : json_null());
        json_object_set_new(j, "sync_z", json_real(round(o->r.sync_z * 100) / 100));
        json_object_set_new(j, "speed", json_real(o->r.speed));
        json_object_set_new(j, "tempo", json_real(o->r.tempo));
        json_t *segs = json_array();
        for (int i = 0; i < o->r.n_segments; i++) {
            json_t *s = json_object();
            json_object_set_new(s, "start", json_real(round(o->r.segments[i].start * 1000) / 1000));
            json_object_set_new(s, "end", json_real(round(o->r.segments[i].end * 1000) / 1000));
            json_array_append_new(segs, s);
        }
        json_object_set_new(j, "segments", segs);
        json_object_set_new(j, "duration", json_real(round(o->duration * 1000) / 1000));
        json_object_set_new(j, "sample_rate", json_integer(o->rate));
        json_object_set_new(j, "channels", json_integer(o->channels));
        json_object_set_new(j, "error", json_null());
    }
    json_object_set_new(j, "elapsed_ms", json_integer(o->elapsed_ms));
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

static void print_human(const char *path, const detect_out *o)
{
    if (o->error[0]) {
        printf("%s: error: %s\n", path, o->error);
    } else if (!o->found) {
        printf("%s: no mark\n", path);
    } else {
        printf("%s: model %u, dataset %u (p_false %.1e", path, o->r.model_id, o->r.dataset_id,
               o->r.p_false);
        for (int i = 0; i < o->r.n_segments; i++)
            printf("%s%.1f-%.1f s", i ? ", " : "; marked ", o->r.segments[i].start,
                   o->r.segments[i].end);
        printf(")\n");
    }
}

/* ----------------------------------------------------------- worker pool */

typedef struct pool {
    char **paths;
    detect_out **out; /* out[i] set when file i is done; freed once printed */
    size_t n, next, printed;
    size_t ahead;
    const pm_key *keys;
    int n_keys;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->n && p->next >= p->printed + p->ahead)
            pthread_cond_wait(&p->cv, &p->mu);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        detect_out *o = malloc(sizeof *o);
        if (o)
            detect_file(p->paths[i], p->keys, p->n_keys, o);
        pthread_mutex_lock(&p->mu);
        p->out[i] = o ? o : (detect_out *)-1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

int cmd_detect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'J'},       {"key", required_argument, 0, 'k'},
        {"recursive", no_argument, 0, 'r'},  {"include", required_argument, 0, 'i'},
        {"from", required_argument, 0, 'f'}, {"jobs", required_argument, 0, 'j'},
        {"resume", required_argument, 0, 'R'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *key_paths[MAX_KEYS];
    const char *from = NULL, *resume = NULL;
    int n_keys = 0, json = 0, recursive = 0, c;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    strlist globs = {0}, paths = {0}, done = {0};
    int status = EXIT_ERROR;
    if (wants_help(argc, argv)) {
        fputs(usage_detect, stdout);
        return 0;
    }
    while ((c = getopt_long(argc, argv, "rj:", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'r': recursive = 1; break;
        case 'f': from = optarg; break;
        case 'R': resume = optarg; break;
        case 'i':
            if (push(&globs, optarg))
                goto out;
            break;
        case 'j': {
            char *end;
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 256) {
                fprintf(stderr, "provmark: --jobs takes a number from 1 to 256\n");
                goto out;
            }
            break;
        }
        case 'k':
            if (n_keys == MAX_KEYS) {
                fprintf(stderr, "provmark: at most %d keys\n", MAX_KEYS);
                goto out;
            }
            key_paths[n_keys++] = optarg;
            break;
        default:
            fprintf(stderr, "provmark: detect: bad option (see 'provmark detect --help')\n");
            goto out;
        }
    }
    if (jobs < 1)
        jobs = 1;
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!recursive) {
                fprintf(stderr, "provmark: %s is a folder (use -r to scan folders)\n", argv[i]);
                goto out;
            }
            if (walk(argv[i], &globs, &paths))
                goto out;
        } else if (push(&paths, argv[i])) {
            goto out;
        }
    }
    if (from && read_list(from, &paths))
        goto out;
    if (!paths.n && !from) {
        fprintf(stderr, "provmark: detect needs at least one FILE or folder\n");
        goto out;
    }
    if (resume && read_resume(resume, &done))
        goto out;

    pm_key keys[MAX_KEYS];
    char fp[MAX_KEYS][17];
    if (n_keys == 0) {
        if (load_key(NULL, &keys[0]))
            goto out;
        n_keys = 1;
        strcpy(fp[0], "demo");
    } else {
        for (int i = 0; i < n_keys; i++) {
            if (load_key(key_paths[i], &keys[i]))
                goto out;
            pm_key_fingerprint(&keys[i], fp[i]);
        }
    }
    /* Drop what --resume says is done; what is left is scanned in order. */
    size_t kept = 0;
    for (size_t i = 0; i < paths.n; i++) {
        if (done.n && bsearch(&paths.v[i], done.v, done.n, sizeof done.v[0], cmp_str))
            free(paths.v[i]);
        else
            paths.v[kept++] = paths.v[i];
    }
    paths.n = kept;

    pool p = {.paths = paths.v, .n = paths.n, .keys = keys, .n_keys = n_keys,
              .ahead = (size_t)jobs * AHEAD};
    p.out = calloc(paths.n ? paths.n : 1, sizeof(detect_out *));
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    if (!p.out || !threads) {
        fprintf(stderr, "provmark: out of memory\n");
        free(p.out);
        free(threads);
        goto out;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    long started = 0;
    for (long t = 0; t < jobs && (size_t)t < p.n; t++)
        if (pthread_create(&threads[t], NULL, worker, &p) == 0)
            started++;
    if (p.n && !started) { /* no thread could be started: scan in this one */
        worker(&p);
    }
    int any_error = 0, any_unmarked = 0;
    for (size_t i = 0; i < p.n; i++) {
        pthread_mutex_lock(&p.mu);
        while (!p.out[i])
            pthread_cond_wait(&p.cv, &p.mu);
        detect_out *o = p.out[i];
        pthread_mutex_unlock(&p.mu);
        if (o == (detect_out *)-1) {
            fprintf(stderr, "provmark: %s: out of memory\n", p.paths[i]);
            any_error = 1;
        } else {
            if (json)
                print_json(p.paths[i], o, fp);
            else
                print_human(p.paths[i], o);
            fflush(stdout);
            if (o->error[0]) {
                any_error = 1;
                if (!json)
                    fprintf(stderr, "provmark: %s: %s\n", p.paths[i], o->error);
            } else if (!o->found) {
                any_unmarked = 1;
            }
            free(o);
        }
        pthread_mutex_lock(&p.mu);
        p.out[i] = NULL;
        p.printed = i + 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    for (long t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    free(p.out);
    free(threads);
    status = any_error ? EXIT_ERROR : any_unmarked ? EXIT_UNMARKED : EXIT_MARKED;
out:
    strlist_free(&globs);
    strlist_free(&paths);
    strlist_free(&done);
    return status;
}
