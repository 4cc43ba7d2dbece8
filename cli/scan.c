/*
 * provmark detect: scan files, folders or a list of paths with a pool of
 * worker threads. Results are printed in input order; a worker never runs more
 * than a few files ahead of the printer, so memory stays bounded however many
 * files are scanned. --resume skips files an earlier JSONL output already holds;
 * --decoder ffmpeg reads what libsndfile cannot through an ffmpeg subprocess; a
 * progress line goes to stderr when it is a terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"
#include "registry.h"
#include "report.h"

#define CHUNK 4096

enum decoder { DEC_SNDFILE, DEC_FFMPEG, DEC_AUTO };
extern char **environ;
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
    "  --decoder D      sndfile (default), ffmpeg (decode every file with an ffmpeg\n"
    "                   subprocess: AAC/M4A, video containers, ...) or auto (ffmpeg\n"
    "                   only for files libsndfile cannot read)\n"
    "  --report FILE    also write a self-contained HTML report with a timeline per file\n"
    "  --registry FILE  JSON registry of models and datasets (docs/REGISTRY.md): names\n"
    "                   are printed instead of bare IDs; unknown IDs are flagged\n"
    "  --max-seconds S  give up on a file (reported as an error) after S seconds, so that\n"
    "                   one hostile or huge file cannot stall a batch scan\n"
    "\n"
    "'-' as a FILE reads a WAV stream from stdin. Exit status: 0 every file is\n"
    "marked, 1 some file is not, 2 an error occurred (the scan goes on).\n";

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
            rc = strlist_push(out, line);
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
            rc = strlist_push(done, file); /* a truncated last line does not parse: it is redone */
        json_decref(j);
    }
    free(line);
    fclose(f);
    if (done->n)
        qsort(done->v, done->n, sizeof done->v[0], strlist_cmp);
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

/*
 * Start `ffmpeg -i path` writing Sun AU (float, length unknown: made for pipes) to
 * a pipe; returns the read end, or -1. No shell is involved, so any file name is safe.
 */
static int spawn_ffmpeg(const char *path, pid_t *pid)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", (char *)path, "-vn", "-f", "au",
                    "-c:a", "pcm_f32be", "-", NULL};
    int rc = posix_spawnp(pid, "ffmpeg", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    return fds[0];
}

/* max_ms > 0: give up on the file (an error) once it has taken that long. */
static void detect_file(const char *path, const pm_key *keys, int n_keys, enum decoder dec,
                        double max_ms, detect_out *o)
{
    const double t0 = now_ms();
    memset(o, 0, sizeof *o);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = NULL;
    pid_t child = -1;
    int pipe_fd = -1;
    if (dec != DEC_FFMPEG)
        sf = strcmp(path, "-") == 0 ? sf_open_fd(0, SFM_READ, &info, 0)
                                     : sf_open(path, SFM_READ, &info);
    if (!sf && dec != DEC_SNDFILE && strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            snprintf(o->error, sizeof o->error, "%s", strerror(errno));
            return;
        }
        memset(&info, 0, sizeof info);
        pipe_fd = spawn_ffmpeg(path, &child);
        if (pipe_fd < 0) {
            snprintf(o->error, sizeof o->error, "cannot run ffmpeg (is it installed?)");
            return;
        }
        sf = sf_open_fd(pipe_fd, SFM_READ, &info, 1);
        if (!sf) {
            close(pipe_fd);
            waitpid(child, NULL, 0);
            snprintf(o->error, sizeof o->error, "ffmpeg cannot decode this file");
            return;
        }
    }
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
        if (max_ms > 0 && now_ms() - t0 > max_ms) {
            snprintf(o->error, sizeof o->error, "gave up after %g s (--max-seconds)", max_ms / 1e3);
            goto done;
        }
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
    sf_close(sf); /* closes the pipe too, so ffmpeg ends if it was not finished */
    if (child > 0) {
        int ws = 0;
        waitpid(child, &ws, 0);
        if (!o->error[0] && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) && !o->duration)
            snprintf(o->error, sizeof o->error, "ffmpeg cannot decode this file");
    }
    o->elapsed_ms = lround(now_ms() - t0);
}

static void print_json(const char *path, const detect_out *o, char fp[][17], const json_t *registry)
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
        if (registry) {
            json_t *m = o->found ? registry_lookup(registry, "models", o->r.model_id) : NULL;
            json_t *d = o->found ? registry_lookup(registry, "datasets", o->r.dataset_id) : NULL;
            json_object_set_new(j, "model", m ? json_deep_copy(m) : json_null());
            json_object_set_new(j, "dataset", d ? json_deep_copy(d) : json_null());
            json_t *unknown = json_array();
            if (o->found && !m)
                json_array_append_new(unknown, json_string("model"));
            if (o->found && !d)
                json_array_append_new(unknown, json_string("dataset"));
            json_object_set_new(j, "unregistered", unknown);
        }
        json_object_set_new(j, "sync_z", json_real(round(o->r.sync_z * 100) / 100));
        json_object_set_new(j, "speed", json_real(o->r.speed));
        json_object_set_new(j, "tempo", json_real(o->r.tempo));
        json_t *segs = json_array();
        for (int i = 0; i < o->r.n_segments; i++) {
            json_t *s = json_object();
            json_object_set_new(s, "start", json_real(round(o->r.segments[i].start * 1000) / 1000));
            json_object_set_new(s, "end", json_real(round(o->r.segments[i].end * 1000) / 1000));
            json_object_set_new(s, "score", json_real(round(o->r.segments[i].score * 100) / 100));
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

static void print_name(const json_t *registry, const char *section, uint32_t id)
{
    if (!registry)
        return;
    const json_t *e = registry_lookup(registry, section, id);
    if (!e) {
        printf(" [not in registry]");
        return;
    }
    const char *version = json_string_value(json_object_get(e, "version"));
    const char *org = json_string_value(json_object_get(e, "organisation"));
    printf(" \"%s%s%s%s%s\"", json_string_value(json_object_get(e, "name")),
           version ? " " : "", version ? version : "", org ? ", " : "", org ? org : "");
}

static void print_human(const char *path, const detect_out *o, const json_t *registry)
{
    if (o->error[0]) {
        printf("%s: error: %s\n", path, o->error);
    } else if (!o->found) {
        printf("%s: no mark\n", path);
    } else {
        printf("%s: model %u", path, o->r.model_id);
        print_name(registry, "models", o->r.model_id);
        printf(", dataset %u", o->r.dataset_id);
        print_name(registry, "datasets", o->r.dataset_id);
        printf(" (p_false %.1e", o->r.p_false);
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
    enum decoder dec;
    double max_ms;
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
            detect_file(p->paths[i], p->keys, p->n_keys, p->dec, p->max_ms, o);
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
        {"registry", required_argument, 0, 'G'}, {"decoder", required_argument, 0, 'D'},
        {"report", required_argument, 0, 'H'}, {"max-seconds", required_argument, 0, 'T'},
        {0, 0, 0, 0}};
    const char *key_paths[MAX_KEYS];
    const char *from = NULL, *resume = NULL, *registry_path = NULL, *report_path = NULL;
    report *rep = NULL;
    json_t *registry = NULL;
    enum decoder dec = DEC_SNDFILE;
    double max_seconds = 0.0;
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
        case 'G': registry_path = optarg; break;
        case 'H': report_path = optarg; break;
        case 'T': {
            char *end;
            max_seconds = strtod(optarg, &end);
            if (*end || !(max_seconds > 0.0)) {
                fprintf(stderr, "provmark: --max-seconds needs a positive number of seconds\n");
                goto out;
            }
            break;
        }
        case 'D':
            if (!strcmp(optarg, "sndfile"))
                dec = DEC_SNDFILE;
            else if (!strcmp(optarg, "ffmpeg"))
                dec = DEC_FFMPEG;
            else if (!strcmp(optarg, "auto"))
                dec = DEC_AUTO;
            else {
                fprintf(stderr, "provmark: --decoder is sndfile, ffmpeg or auto\n");
                goto out;
            }
            break;
        case 'i':
            if (strlist_push(&globs, optarg))
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
            if (walk_audio(argv[i], &globs, &paths))
                goto out;
        } else if (strlist_push(&paths, argv[i])) {
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
    if (registry_path && !(registry = registry_load(registry_path)))
        goto out;
    if (report_path && !(rep = report_open(report_path)))
        goto out;

    pm_key keys[MAX_KEYS];
    char fp[MAX_KEYS][17];
    const int given = n_keys;
    if ((n_keys = load_keys(key_paths, given, keys)) < 0)
        goto out;
    for (int i = 0; i < n_keys; i++)
        if (given)
            pm_key_fingerprint(&keys[i], fp[i]);
        else
            strcpy(fp[i], "demo");
    /* Drop what --resume says is done; what is left is scanned in order. */
    size_t kept = 0;
    for (size_t i = 0; i < paths.n; i++) {
        if (done.n && bsearch(&paths.v[i], done.v, done.n, sizeof done.v[0], strlist_cmp))
            free(paths.v[i]);
        else
            paths.v[kept++] = paths.v[i];
    }
    paths.n = kept;

    pool p = {.paths = paths.v, .n = paths.n, .keys = keys, .n_keys = n_keys, .dec = dec,
              .max_ms = max_seconds * 1e3, .ahead = (size_t)jobs * AHEAD};
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
    const int progress = isatty(STDERR_FILENO);
    const double start_ms = now_ms();
    double audio_s = 0.0;
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
                print_json(p.paths[i], o, fp, registry);
            else
                print_human(p.paths[i], o, registry);
            fflush(stdout);
            if (o->error[0]) {
                any_error = 1;
                if (!json)
                    fprintf(stderr, "provmark: %s: %s\n", p.paths[i], o->error);
            } else if (!o->found) {
                any_unmarked = 1;
            }
            audio_s += o->duration;
            if (rep)
                report_add(rep, p.paths[i], &o->r, o->duration, o->error[0] ? o->error : NULL,
                           registry, NULL);
            free(o);
        }
        if (progress) { /* a status line on a terminal only: logs and pipes stay clean */
            double wall = (now_ms() - start_ms) / 1000.0;
            double eta = wall / (double)(i + 1) * (double)(p.n - i - 1);
            fprintf(stderr, "\r%zu/%zu files, %.2f h of audio, %.0fx real time, ETA %02d:%02d:%02d ",
                    i + 1, p.n, audio_s / 3600.0, wall > 0 ? audio_s / wall : 0.0,
                    (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
            if (i + 1 == p.n)
                fputc('\n', stderr);
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
    if (rep) {
        if (report_close(rep) != 0)
            status = EXIT_ERROR;
        rep = NULL;
    }
out:
    if (rep)
        report_close(rep);
    json_decref(registry);
    strlist_free(&globs);
    strlist_free(&paths);
    strlist_free(&done);
    return status;
}
