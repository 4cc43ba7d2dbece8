/*
 * provmark trace: from an output to what its model was trained on. One pass
 * over each file feeds the watermark detector and the fingerprint extractor;
 * the dataset ID (through the registry) or --dataset names a manifest, whose
 * fingerprint index is then searched for training items the output reproduces.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dsmanifest.h"
#include "analyse.h"
#include "fingerprint.h"
#include "registry.h"
#include "report.h"
#include "result.h"

static const char usage_trace[] =
    "usage: provmark trace [--json] [--key FILE]... [--registry REG] [--dataset MANIFEST]\n"
    "                      [--no-detect] [--report FILE] [--decoder D] [--false-rate R]\n"
    "                      [--catalogue-hours H] FILE...\n"
    "\n"
    "Detect the watermark in each file, resolve its model and dataset through the\n"
    "registry (a dataset entry's \"manifest\" names its manifest), and report every\n"
    "training item of that dataset the file reproduces: the item, the time range in the\n"
    "file and in the item, the matched duration and a score. --dataset checks against\n"
    "the given manifest instead (also for unmarked files); with --no-detect only that\n"
    "check is made, without looking for a watermark. The dataset's fingerprint index\n"
    "(provmark dataset fingerprint) must be beside its manifest. --report writes the\n"
    "HTML report of 'provmark report' with the reproduced items on each timeline.\n"
    "A match is reported when its E-value (the number of alignments as strong that\n"
    "unrelated music would give) is at most --false-rate R (default 1e-6) for an index\n"
    "of --catalogue-hours H (default 1e5) hours, or of the real index where larger.\n"
    "Exit status, as detect's: 0 every file is marked (with --no-detect: checked), 1\n"
    "some file is not, 2 an error occurred (the other files are still traced).\n"
    "\n"
    AUDIO_DECODER_HELP;

/* The training sets a trace checks against: --dataset, or the last one a registry led to. */
typedef struct training_sets {
    trainingset fixed, cached;
    const json_t *registry;
    const char *registry_path;
} training_sets;

/*
 * The dataset a file is checked against (*d), or why none is (*why). -1 when the
 * registry names a manifest that cannot be used (after one line on stderr).
 */
static int training_set(training_sets *s, const pm_result *r, const trainingset **d, const char **why)
{
    *d = s->fixed.path ? &s->fixed : NULL;
    *why = NULL;
    if (*d)
        return 0;
    if (!r->found) {
        *why = "no mark, and no --dataset given";
        return 0;
    }
    char *mp = registry_manifest_path(s->registry, s->registry_path ? s->registry_path : "", r->dataset_id);
    int rc = 0;
    if (!mp) {
        *why = s->registry ? "the registry names no manifest for this dataset" : "no --registry given";
    } else if (s->cached.path && strcmp(s->cached.path, mp) == 0) {
        *d = &s->cached;
    } else {
        trainingset_close(&s->cached);
        if (trainingset_open(&s->cached, mp) == 0) {
            *d = &s->cached;
        } else {
            *why = "the dataset's manifest or index cannot be used";
            rc = -1;
        }
    }
    free(mp);
    return rc;
}

static json_t *match_json(const trainingset *d, const fpx_match *m)
{
    json_t *item = json_array_get(json_object_get(d->manifest, "items"), m->item);
    json_t *tags = json_object_get(item, "tags");
    return json_pack("{s:o, s:s?, s:s?, s:s?, s:f, s:f, s:f, s:f, s:f, s:i, s:f, s:f, s:i}",
                     "item", json_name(fpx_item_path(d->index, m->item)), /* the index is anyone's */
                     "sha256", json_string_value(json_object_get(item, "sha256")),
                     "title", json_string_value(json_object_get(tags, "title")),
                     "artist", json_string_value(json_object_get(tags, "artist")),
                     "output_start", m->query_start, "output_end", m->query_end,
                     "item_start", m->item_start, "item_end", m->item_end,
                     "duration", m->query_end - m->query_start, "landmarks", m->landmarks,
                     "score", m->score, "log10_evalue", m->log10_evalue, "rank", m->rank);
}

typedef struct trace_opts {
    const char *key_paths[MAX_KEYS];
    int n_keys, json, detect;
    const char *registry_path, *dataset_path, *report_path;
    audio_decoder dec;
    fpx_query_opts query;
} trace_opts;

/* A finite number that is all of s, or -1. */
static int finite_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end == s || *end || !isfinite(*v) ? -1 : 0;
}

/* The options; argv[optind..] are then the files. -1 after one line. */
static int parse_options(int argc, char **argv, trace_opts *o)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'J'},          {"key", required_argument, 0, 'k'},
        {"registry", required_argument, 0, 'G'}, {"dataset", required_argument, 0, 'D'},
        {"no-detect", no_argument, 0, 'N'},     {"report", required_argument, 0, 'R'},
        {"decoder", required_argument, 0, 'd'}, {"false-rate", required_argument, 0, 'F'},
        {"catalogue-hours", required_argument, 0, 'H'}, {0, 0, 0, 0}};
    int c;
    o->detect = 1;
    o->query = (fpx_query_opts){FPX_FALSE_RATE, FPX_CATALOGUE_HOURS};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J': o->json = 1; break;
        case 'k':
            if (add_key_path(o->key_paths, &o->n_keys, optarg))
                return -1;
            break;
        case 'G': o->registry_path = optarg; break;
        case 'D': o->dataset_path = optarg; break;
        case 'N': o->detect = 0; break;
        case 'R': o->report_path = optarg; break;
        case 'd':
            if (audio_decoder_parse(optarg, &o->dec))
                return -1;
            break;
        case 'F':
            if (finite_number(optarg, &o->query.false_rate) || !(o->query.false_rate > 0.0)) {
                say("--false-rate: '%s' is not a number above 0", optarg);
                return -1;
            }
            break;
        case 'H':
            if (finite_number(optarg, &o->query.catalogue_hours) || !(o->query.catalogue_hours >= 0.0)) {
                say("--catalogue-hours: '%s' is not a number of at least 0", optarg);
                return -1;
            }
            break;
        default:
            say_bad_option("trace", argv);
            return -1;
        }
    }
    if (optind >= argc) {
        say("trace needs at least one FILE (see 'provmark trace --help')");
        return -1;
    }
    if (!o->detect && !o->dataset_path) {
        say("trace --no-detect needs --dataset");
        return -1;
    }
    return 0;
}

/* One file traced: its analysis, the training set checked (or why none was) and the items found. */
typedef struct traced {
    analysis a;
    const trainingset *set;
    const char *why;
    json_t *matches;
} traced;

/* 0, or -1 when something failed (after one line on stderr); t is then still printable. */
static int trace_file(training_sets *sets, const analysis_opts *ao, const fpx_query_opts *qo, const char *path,
                      traced *t)
{
    t->set = NULL;
    t->why = NULL;
    t->matches = json_array();
    if (analyse_file(path, ao, &t->a) != 0)
        return -1; /* in the file's own line (text or JSON); result.c says it on stderr too */
    if (t->a.truncated[0])
        say("warning: %s: truncated: %s; the result covers the %.1f s read", path, t->a.truncated, t->a.duration);
    int rc = training_set(sets, &t->a.r, &t->set, &t->why);
    fpx_match *m = NULL;
    size_t nm = 0;
    if (t->set && fpx_query(t->set->index, t->a.lm, t->a.n_lm, qo, &m, &nm) != 0) {
        say("%s: out of memory", path);
        rc = -1;
    }
    for (size_t i = 0; i < nm && rc == 0; i++)
        if (json_array_append_new(t->matches, match_json(t->set, &m[i])) != 0) {
            say("out of memory");
            rc = -1;
        }
    free(m);
    return rc;
}

/*
 * Print one file's record: JSON on stdout with --json, text otherwise, and the JSON
 * record to `records` too when not NULL (--report). 0, or -1 after one line on stderr
 * (out of memory: no record is printed without a field).
 */
static int print_traced(const result_ctx *rc, int json, FILE *records, const char *path, const traced *t)
{
    if (json || records) {
        json_t *o = result_json(rc, path, &t->a);
        int ok = o != NULL;
        if (ok && !t->a.error[0]) /* json_object_set_new refuses a NULL value (out of memory) */
            ok = json_object_set_new(o, "manifest", t->set ? json_name(t->set->path) : json_null()) == 0 &&
                 json_object_set_new(o, "dataset_check", t->why ? json_string(t->why) : json_null()) == 0 &&
                 json_object_set(o, "matches", t->matches) == 0;
        int printed = json ? result_print_json(stdout, ok ? o : NULL) : 0;
        if (records && printed == 0)
            printed = result_print_json(records, ok ? o : NULL);
        json_decref(o);
        if (json || printed != 0)
            return printed;
    }
    {
        result_print_text(rc, path, &t->a);
        if (t->why)
            printf("  training data not checked: %s\n", t->why);
        else if (t->set && !json_array_size(t->matches)) {
            fputs("  reproduces no item of ", stdout);
            put_text(stdout, t->set->path, 0);
            putchar('\n');
        }
        size_t i;
        const json_t *m;
        json_array_foreach (t->matches, i, m) {
#define NUM(k) json_number_value(json_object_get(m, k))
            fputs("  reproduces ", stdout);
            put_text(stdout, json_string_value(json_object_get(m, "item")), 0);
            const double le = NUM("log10_evalue");
            const int rank = (int)json_integer_value(json_object_get(m, "rank"));
            printf(": %.1f-%.1f s of the file = %.1f-%.1f s of the item (%.1f s, %d landmarks, E ",
                   NUM("output_start"), NUM("output_end"),
                   NUM("item_start"), NUM("item_end"), NUM("duration"),
                   (int)json_integer_value(json_object_get(m, "landmarks")));
            if (le > -300.0) /* printf's range; below it, the power of ten alone */
                printf("%.1e", pow(10.0, le));
            else
                printf("1e%.0f", floor(le));
            if (rank > 1)
                printf("; another statement of the passage, rank %d", rank);
            puts(")");
#undef NUM
        }
    }
    fflush(stdout);
    return 0;
}

/* The HTML report of this trace's records (report.c): its exit status, or -1. */
static int write_report(const trace_opts *o, FILE *records, int argc, char **argv)
{
    report_input in = {0};
    json_t *summary = NULL;
    char *command = report_command_line(argc, argv);
    int status = -1;
    if (!command)
        say("out of memory");
    else if (fflush(records) == 0 && fseeko(records, 0, SEEK_SET) == 0 && report_read(&in, records, "this trace") == 0)
        status = report_finish(&in, o->report_path, command, o->registry_path, &summary);
    json_decref(summary);
    report_input_free(&in);
    free(command);
    return status;
}

int cmd_trace(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_trace, stdout);
        return 0;
    }
    trace_opts o = {0};
    pm_key keys[MAX_KEYS];
    int n_keys = 0, status = EXIT_ERROR;
    training_sets sets = {0};
    json_t *registry = NULL;
    FILE *records = NULL;
    if (parse_options(argc, argv, &o) || (o.report_path && report_check_path(o.report_path, NULL, 0) != 0) ||
        (o.detect && (n_keys = load_keys(o.key_paths, o.n_keys, keys)) < 0))
        goto out;
    if (o.registry_path && !(registry = registry_load(o.registry_path)))
        goto out;
    sets.registry = registry;
    sets.registry_path = o.registry_path;
    if (o.dataset_path && trainingset_open(&sets.fixed, o.dataset_path) != 0)
        goto out;
    if (o.report_path && !(records = tmpfile())) {
        say("cannot create a temporary file for the report");
        goto out;
    }
    result_ctx rc = {.registry = registry, .looked = o.detect};
    if (o.detect)
        result_name_keys(&rc, keys, n_keys);
    const analysis_opts ao = {.keys = o.detect ? keys : NULL, .n_keys = n_keys, .fingerprint = 1, .dec = o.dec};
    int any_error = 0, any_unmarked = 0;
    for (int f = optind; f < argc; f++) {
        traced t;
        if (trace_file(&sets, &ao, &o.query, argv[f], &t) != 0)
            any_error = 1;
        any_unmarked = any_unmarked || (o.detect && !t.a.error[0] && !t.a.r.found);
        if (print_traced(&rc, o.json, records, argv[f], &t) != 0)
            any_error = 1;
        json_decref(t.matches);
        analysis_free(&t.a);
    }
    /* As detect: 0 every file marked (or, with --no-detect, checked), 1 some file not marked, 2 an error. */
    status = any_error ? EXIT_ERROR : any_unmarked ? EXIT_UNMARKED : EXIT_MARKED;
    if (records && write_report(&o, records, argc, argv) < 0)
        status = EXIT_ERROR;
out:
    if (records)
        fclose(records);
    trainingset_close(&sets.fixed);
    trainingset_close(&sets.cached);
    json_decref(registry);
    return status;
}
