/*
 * provmark detect: the options, the list of files (folders, --from, --resume),
 * then scan.c's worker pool, whose results are printed in input order through
 * result.c, with a progress line on a terminal; with --report or --resume the
 * records also go through report.c (the HTML report, an exit status for every file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse.h"
#include "chatter.h"
#include "cli.h"
#include "paths.h"
#include "progress.h"
#include "registry.h"
#include "report.h"
#include "result.h"
#include "scan.h"

static const char usage_detect[] =
    "usage: provmark detect [OPTIONS] FILE|DIR...\n"
    "\n"
    "Look for provmark watermarks in each file and print one line per mark found\n"
    "(a file may hold several, each with its own time ranges) or \"no mark\", or with\n"
    "--json one JSON object per file and line, in input order.\n"
    "\n"
    "  --json           JSON lines (docs/result.schema.json): file found model_id\n"
    "                   dataset_id p_false key demo_key sync_z speed tempo segments marks\n"
    "                   duration sample_rate channels elapsed_ms error (top level: the\n"
    "                   strongest mark; marks: all; no mark fields without a mark; an\n"
    "                   unreadable file: {file, error} only)\n"
    "  --key FILE       key to try (repeat for several, at most " PM_STR(PM_MAX_KEYS) "; default: demo key)\n"
    "  -r, --recursive  scan folders given as arguments\n"
    "  --include GLOB   in folders, also scan names matching GLOB (repeatable), besides\n"
    "                   *.wav *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff *.w64 *.rf64 *.caf\n"
    "  --only GLOB      in folders, scan only names matching GLOB (repeatable)\n"
    "  -v, --verbose    name each file a folder walk passes over, and why\n"
    "  --from FILE      read more paths, one per line, from FILE ('-' = stdin)\n"
    "  -j, --jobs N     worker threads (default: all cores)\n"
    "  --resume FILE    skip files already reported without error in FILE (JSON lines)\n"
    AUDIO_DECODER_HELP
    "  --report FILE    also write the HTML report of 'provmark report' (with --resume:\n"
    "                   of the files done earlier too); a bad path is refused at once\n"
    "  --registry FILE  JSON registry of models and datasets (docs/REGISTRY.md): names\n"
    "                   are printed instead of bare IDs; unknown IDs are flagged; marks of\n"
    "                   its pairs too weak to decode (short clips) are still recognised\n"
    "  --max-seconds S  give up on a file (reported as an error) after S seconds, so that\n"
    "                   one hostile or huge file cannot stall a batch scan\n"
    "\n"
    "'-' as a FILE reads a WAV stream from stdin. Exit status: 0 every file is\n"
    "marked (with --resume: also those done earlier), 1 some file is not, 2 an error\n"
    "occurred (the scan goes on) or there was no file to scan (empty folders or --from).\n";

/* Paths reported without error in an earlier JSON-lines output, sorted for bsearch. */
static int read_resume(const char *path, strlist *done)
{
    const char *why;
    FILE *f = fopen_regular(path, &why);
    if (!f) {
        if (errno == ENOENT)
            return 0; /* nothing scanned yet */
        say("%s: %s", path, why);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        char *file = j ? json_get_name(j, "file") : NULL; /* file_bytes when the name is not UTF-8 */
        json_t *err = j ? json_object_get(j, "error") : NULL;
        if (file && (!err || json_is_null(err)))
            rc = strlist_push(done, file); /* a truncated last line does not parse: it is redone */
        free(file);
        json_decref(j);
    }
    free(line);
    /*
     * Appending to the same file ("--resume scan.jsonl >> scan.jsonl") after a run
     * was killed mid-line: start on a line of our own, not glued to the fragment.
     */
    struct stat in, out;
    if (rc == 0 && fseeko(f, -1, SEEK_END) == 0 && fgetc(f) != '\n' && fstat(fileno(f), &in) == 0 &&
        fstat(STDOUT_FILENO, &out) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
        putchar('\n');
        fflush(stdout);
    }
    fclose(f);
    if (done->n)
        qsort(done->v, done->n, sizeof done->v[0], strlist_cmp);
    return rc;
}

typedef struct detect_opts {
    const char *key_paths[MAX_KEYS];
    int n_keys, json, recursive;
    const char *from, *resume, *registry_path, *report_path;
    walk_opts walk;
    long jobs;
    analysis_opts analysis;
} detect_opts;

/* The options; argv[optind..] are then the files and folders. -1 after one line. */
static int parse_options(int argc, char **argv, detect_opts *o)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'J'},       {"key", required_argument, 0, 'k'},
        {"recursive", no_argument, 0, 'r'},  {"include", required_argument, 0, 'i'},
        {"from", required_argument, 0, 'f'}, {"jobs", required_argument, 0, 'j'},
        {"resume", required_argument, 0, 'R'}, {"help", no_argument, 0, 'h'},
        {"registry", required_argument, 0, 'G'}, {"decoder", required_argument, 0, 'D'},
        {"report", required_argument, 0, 'H'}, {"max-seconds", required_argument, 0, 'T'},
        {"only", required_argument, 0, 'O'},  {"verbose", no_argument, 0, 'v'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    o->jobs = sysconf(_SC_NPROCESSORS_ONLN);
    while ((c = getopt_long(argc, argv, "rj:v", opts, NULL)) != -1) {
        switch (c) {
        case 'J': o->json = 1; break;
        case 'r': o->recursive = 1; break;
        case 'f': o->from = optarg; break;
        case 'R': o->resume = optarg; break;
        case 'G': o->registry_path = optarg; break;
        case 'H': o->report_path = optarg; break;
        case 'T':
            o->analysis.max_ms = strtod(optarg, &end) * 1e3;
            if (*end || !(o->analysis.max_ms > 0.0)) {
                say("--max-seconds needs a positive number of seconds");
                return -1;
            }
            break;
        case 'D':
            if (audio_decoder_parse(optarg, &o->analysis.dec))
                return -1;
            break;
        case 'O':
            o->walk.only = 1;
            /* fall through */
        case 'i':
            if (strlist_push(&o->walk.include, optarg))
                return -1;
            break;
        case 'v': o->walk.verbose = 1; break;
        case 'j':
            o->jobs = strtol(optarg, &end, 10);
            if (*end || o->jobs < 1 || o->jobs > 256) {
                say("--jobs takes a number from 1 to 256");
                return -1;
            }
            break;
        case 'k':
            if (add_key_path(o->key_paths, &o->n_keys, optarg))
                return -1;
            break;
        default:
            say_bad_option("detect", argv);
            return -1;
        }
    }
    return 0;
}

/*
 * The files to scan, in order: operands (folders walked with -r), --from, less
 * --resume's, which go to *skipped (sorted).
 */
static int list_files(const detect_opts *o, char **operands, int n, strlist *paths, strlist *skipped)
{
    strlist done = {0};
    int rc = -1;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(operands[i], "-") != 0 && stat(operands[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!o->recursive) {
                say("%s is a folder (use -r to scan folders)", operands[i]);
                goto out;
            }
            if (walk_audio(operands[i], &o->walk, paths))
                goto out;
        } else if (strlist_push(paths, operands[i])) {
            goto out;
        }
    }
    if (o->from && strlist_read_lines(o->from, paths))
        goto out;
    /* Nothing named at all, or only empty folders and lists: the same error (a wrong path or glob?). */
    if (!paths->n) {
        say("detect: no files to scan (%s)",
                n || o->from ? "the folders and lists given are empty" : "give a FILE, folder or --from list");
        goto out;
    }
    if (o->resume && read_resume(o->resume, &done))
        goto out;
    size_t kept = 0;
    rc = 0;
    for (size_t i = 0; i < paths->n; i++) {
        if (done.n && bsearch(&paths->v[i], done.v, done.n, sizeof done.v[0], strlist_cmp)) {
            rc = rc ? rc : strlist_push(skipped, paths->v[i]);
            free(paths->v[i]);
        } else {
            paths->v[kept++] = paths->v[i];
        }
    }
    paths->n = kept;
    if (skipped->n)
        qsort(skipped->v, skipped->n, sizeof skipped->v[0], strlist_cmp);
out:
    strlist_free(&done);
    return rc;
}

/* What is printed as results arrive, and what decides the exit status. */
typedef struct printer {
    result_ctx rc;
    int json, any_error, any_unmarked;
    FILE *records; /* with --report or --resume: every record, for the report and the exit status */
    progress bar;
    double audio_s;
} printer;

static void print_progress(printer *p, size_t done)
{
    const double wall = (now_ms() - p->bar.t0) / 1000.0;
    char detail[96];
    snprintf(detail, sizeof detail, "%.2f h of audio, %.0fx real time", p->audio_s / 3600.0,
             wall > 0 ? p->audio_s / wall : 0.0);
    progress_update(&p->bar, done, detail); /* the results are the output: the line leaves no trace */
}

static void print_result(void *ctx, size_t i, const char *path, const analysis *a)
{
    printer *p = ctx;
    progress_clear(&p->bar);
    if (!a) {
        say("%s: out of memory", path);
        p->any_error = 1;
    } else {
        json_t *j = p->json || p->records ? result_json(&p->rc, path, a) : NULL;
        if ((p->json && result_print_json(stdout, j) != 0) || (p->records && result_print_json(p->records, j) != 0))
            p->any_error = 1;
        json_decref(j);
        if (!p->json)
            result_print_text(&p->rc, path, a);
        fflush(stdout);
        if (a->error[0]) /* in the file's own line (text or JSON); result.c says it on stderr too */
            p->any_error = 1;
        else if (!a->r.found)
            p->any_unmarked = 1;
        if (a->truncated[0] && !p->json) /* JSON: the record's "truncated" */
            say("warning: %s: truncated: %s; the result covers the %.1f s read", path, a->truncated, a->duration);
        p->audio_s += a->duration;
    }
    print_progress(p, i + 1);
}

/*
 * With --resume or --report: the records of this scan merged with those --resume
 * skipped, for the HTML report and an exit status that covers every file named.
 */
static int finish_records(const detect_opts *o, printer *pr, strlist *skipped, int argc, char **argv)
{
    report_input in = {.only = skipped->v, .n_only = skipped->n};
    json_t *summary = NULL;
    char *command = report_command_line(argc, argv);
    int status = -1;
    const char *why = NULL;
    FILE *old = o->resume && skipped->n ? fopen_regular(o->resume, &why) : NULL;
    if (!command)
        say("out of memory");
    else if (o->resume && skipped->n && !old)
        say("%s: %s", o->resume, why);
    else if ((!old || report_read(&in, old, o->resume) == 0) && fflush(pr->records) == 0 && fseeko(pr->records, 0, SEEK_SET) == 0) {
        in.only = NULL; /* every record of this scan */
        if (report_read(&in, pr->records, "this scan") == 0)
            status = report_finish(&in, o->report_path, command, o->registry_path, &summary);
    }
    if (old)
        fclose(old);
    json_decref(summary);
    report_input_free(&in);
    free(command);
    return status < 0 ? EXIT_ERROR : status;
}

int cmd_detect(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_detect, stdout);
        return 0;
    }
    detect_opts o = {0};
    strlist paths = {0}, skipped = {0};
    json_t *registry = NULL;
    uint32_t(*expect)[2] = NULL;
    printer pr = {0};
    pm_key keys[MAX_KEYS];
    int status = EXIT_ERROR, n_keys;
    if (parse_options(argc, argv, &o))
        goto out;
    char *const results[1] = {(char *)o.resume}; /* what a report must not replace */
    if ((o.report_path && report_check_path(o.report_path, results, o.resume ? 1 : 0) != 0) ||
        list_files(&o, argv + optind, argc - optind, &paths, &skipped))
        goto out;
    if (o.registry_path && !(registry = registry_load(o.registry_path)))
        goto out;
    if ((o.report_path || o.resume) && !(pr.records = tmpfile())) {
        say("cannot create a temporary file: %s", strerror(errno));
        goto out;
    }
    if ((n_keys = load_keys(o.key_paths, o.n_keys, keys)) < 0)
        goto out;
    o.analysis.keys = keys;
    o.analysis.n_keys = n_keys;
    if (registry && registry_expected(registry, n_keys, &expect, &o.analysis.n_expect) != 0)
        goto out;
    o.analysis.expect = (const uint32_t(*)[2])expect;
    pr.json = o.json;
    progress_start(&pr.bar, "files", paths.n, 1);
    pr.rc = (result_ctx){.registry = registry, .looked = 1};
    result_name_keys(&pr.rc, keys, n_keys);
    if (scan_files(paths.v, paths.n, o.jobs, &o.analysis, print_result, &pr))
        goto out;
    status = pr.any_error ? EXIT_ERROR : pr.any_unmarked ? EXIT_UNMARKED : EXIT_MARKED;
    if (pr.records) {
        const int all = finish_records(&o, &pr, &skipped, argc, argv);
        status = status > all ? status : all;
    }
out:
    if (pr.records)
        fclose(pr.records);
    json_decref(registry);
    free(expect);
    strlist_free(&o.walk.include);
    strlist_free(&paths);
    strlist_free(&skipped);
    return status;
}
