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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyse.h"
#include "cli.h"
#include "paths.h"
#include "registry.h"
#include "report.h"
#include "result.h"

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
    AUDIO_DECODER_HELP
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

/* ----------------------------------------------------------- worker pool */

typedef struct pool {
    char **paths;
    analysis **out; /* out[i] set when file i is done; freed once printed */
    size_t n, next, printed;
    size_t ahead;
    analysis_opts opts;
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
        analysis *o = malloc(sizeof *o);
        if (o)
            analyse_file(p->paths[i], &p->opts, o);
        pthread_mutex_lock(&p->mu);
        p->out[i] = o ? o : (analysis *)-1;
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
    audio_decoder dec = DECODER_SNDFILE;
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
            if (audio_decoder_parse(optarg, &dec))
                goto out;
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
    const int given = n_keys;
    if ((n_keys = load_keys(key_paths, given, keys)) < 0)
        goto out;
    result_ctx rc = {.registry = registry, .looked = 1};
    result_name_keys(&rc, keys, n_keys, given);
    /* Drop what --resume says is done; what is left is scanned in order. */
    size_t kept = 0;
    for (size_t i = 0; i < paths.n; i++) {
        if (done.n && bsearch(&paths.v[i], done.v, done.n, sizeof done.v[0], strlist_cmp))
            free(paths.v[i]);
        else
            paths.v[kept++] = paths.v[i];
    }
    paths.n = kept;

    pool p = {.paths = paths.v, .n = paths.n, .ahead = (size_t)jobs * AHEAD,
              .opts = {.keys = keys, .n_keys = n_keys, .dec = dec, .max_ms = max_seconds * 1e3}};
    p.out = calloc(paths.n ? paths.n : 1, sizeof(analysis *));
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
        analysis *o = p.out[i];
        pthread_mutex_unlock(&p.mu);
        if (o == (analysis *)-1) {
            fprintf(stderr, "provmark: %s: out of memory\n", p.paths[i]);
            any_error = 1;
        } else {
            if (json) {
                json_t *j = result_json(&rc, p.paths[i], o);
                result_print_json(j);
                json_decref(j);
            } else {
                result_print_text(&rc, p.paths[i], o);
            }
            fflush(stdout);
            if (o->error[0]) {
                any_error = 1;
                if (!json)
                    fprintf(stderr, "provmark: %s: %s\n", p.paths[i], o->error);
            } else if (!o->r.found) {
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
