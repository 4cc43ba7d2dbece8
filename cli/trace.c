/*
 * provmark trace: from an output to what its model was trained on. One pass
 * over each file feeds the watermark detector and the fingerprint extractor;
 * the dataset ID (through the registry) or --dataset names a manifest, whose
 * fingerprint index is then searched for training items the output reproduces.
 */
#define _GNU_SOURCE
#include <errno.h>
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
    "usage: provmark trace [--json] [--key FILE]... [--registry REG] [--dataset MANIFEST]...\n"
    "                      [--no-detect] [--report FILE] [--decoder D] [--false-rate R]\n"
    "                      [--catalogue-hours H] FILE...\n"
    "\n"
    "Detect the watermark in each file, resolve its model and dataset through the\n"
    "registry (a dataset entry's \"manifest\" names its manifest), and report every\n"
    "training item of that dataset the file reproduces: the item, the time range in the\n"
    "file and in the item, the matched duration and a score. --dataset checks against\n"
    "the given manifest instead (also for unmarked files); with --no-detect only that\n"
    "check is made, without looking for a watermark. The dataset's fingerprint index\n"
    "(provmark dataset fingerprint) must be beside its manifest. --dataset given more\n"
    "than once: the shards of one catalogue (each a manifest with its index, built\n"
    "separately), searched as one index over all their items would be, with the same\n"
    "matches and E-values. --report writes the HTML report of 'provmark report' with\n"
    "the reproduced items on each timeline.\n"
    "A match is reported when its E-value (the number of alignments as strong that\n"
    "unrelated music would give) is at most --false-rate R (default 1e-6, at most 1) for\n"
    "an index of --catalogue-hours H (default 1e5) hours, or of the real one where larger.\n"
    "Exit status, as detect's: 0 every file is marked (with --no-detect: checked), 1\n"
    "some file is not, 2 an error occurred (the other files are still traced).\n"
    "\n"
    AUDIO_DECODER_HELP;

/*
 * The training sets a trace checks against: the --dataset shards (searched as one
 * catalogue), or the last one a registry led to.
 */
typedef struct training_sets {
    trainingset *fixed, cached;
    size_t n_fixed;
    const fpx **fixed_index; /* the shards' indexes, for fpx_query_set */
    const json_t *registry;
    const char *registry_path;
} training_sets;

/*
 * Open the --dataset shards. Each is a manifest with its index; an index given twice
 * would count its items twice (double votes, a doubled catalogue), so it is refused
 * (empty ones are all alike, and harmless). -1 after one line.
 */
static int open_shards(training_sets *s, const char *const *paths, size_t n)
{
    s->fixed = calloc(n, sizeof *s->fixed);
    s->fixed_index = calloc(n, sizeof(const fpx *));
    if (!s->fixed || !s->fixed_index) {
        say("out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (trainingset_open(&s->fixed[i], paths[i]) != 0)
            return -1;
        s->n_fixed = i + 1;
        s->fixed_index[i] = s->fixed[i].index;
        char a[65], b[65];
        fpx_checksum_hex(s->fixed[i].index, a);
        for (size_t j = 0; j < i && fpx_items(s->fixed[i].index); j++) {
            fpx_checksum_hex(s->fixed[j].index, b);
            if (strcmp(a, b) == 0) {
                say("%s: the same fingerprint index as %s (a shard given twice)", paths[i], paths[j]);
                return -1;
            }
        }
    }
    return 0;
}

static void close_shards(training_sets *s)
{
    for (size_t i = 0; i < s->n_fixed; i++)
        trainingset_close(&s->fixed[i]);
    free(s->fixed);
    free(s->fixed_index);
}

/*
 * The datasets a file is checked against (*d, *n of them), or why none is (*why). -1
 * when the registry names a manifest that cannot be used (after one line on stderr).
 */
static int training_set(training_sets *s, const pm_result *r, const trainingset **d, size_t *n, const char **why)
{
    *d = s->n_fixed ? s->fixed : NULL;
    *n = s->n_fixed;
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
        *n = 1;
    } else {
        trainingset_close(&s->cached);
        if (trainingset_open(&s->cached, mp) == 0) {
            *d = &s->cached;
            *n = 1;
        } else {
            *why = "the dataset's manifest or index cannot be used";
            rc = -1;
        }
    }
    free(mp);
    return rc;
}

/* A match of shard d (its manifest named when the catalogue has several: item paths are relative to it). */
static json_t *match_json(const trainingset *d, int name_manifest, const fpx_match *m)
{
    json_t *item = json_array_get(json_object_get(d->manifest, "items"), m->item);
    json_t *tags = json_object_get(item, "tags");
    json_t *manifest = name_manifest ? json_name(d->path) : NULL;
    if (name_manifest && !manifest)
        return NULL; /* out of memory: never a match without its shard */
    return json_pack("{s:o, s:o*, s:s?, s:s?, s:s?, s:f, s:f, s:f, s:f, s:f, s:i, s:f, s:f, s:i, s:f, s:f}",
                     "item", json_name(fpx_item_path(d->index, m->item)), /* the index is anyone's */
                     "manifest", manifest,
                     "sha256", json_string_value(json_object_get(item, "sha256")),
                     "title", json_string_value(json_object_get(tags, "title")),
                     "artist", json_string_value(json_object_get(tags, "artist")),
                     "output_start", m->query_start, "output_end", m->query_end,
                     "item_start", m->item_start, "item_end", m->item_end,
                     "duration", m->query_end - m->query_start, "landmarks", m->landmarks,
                     "score", m->score, "log10_evalue", m->log10_evalue, "rank", m->rank,
                     "pitch_semitones", 12.0 * log2(m->pitch), "tempo", m->tempo);
}

typedef struct trace_opts {
    const char *key_paths[MAX_KEYS];
    int n_keys, json, detect;
    const char *registry_path, *report_path;
    const char **dataset_paths; /* --dataset, in order: the shards of one catalogue */
    size_t n_datasets;
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
        case 'D': {
            const char **p = realloc(o->dataset_paths, (o->n_datasets + 1) * sizeof *p);
            if (!p) {
                say("out of memory");
                return -1;
            }
            o->dataset_paths = p;
            p[o->n_datasets++] = optarg;
            break;
        }
        case 'N': o->detect = 0; break;
        case 'R': o->report_path = optarg; break;
        case 'd':
            if (audio_decoder_parse(optarg, &o->dec))
                return -1;
            break;
        case 'F':
            if (finite_number(optarg, &o->query.false_rate) || fpx_query_opts_check(&o->query) != 0) {
                say("--false-rate: '%s' is not a number above 0 and at most 1 (false matches per query)", optarg);
                return -1;
            }
            break;
        case 'H':
            if (finite_number(optarg, &o->query.catalogue_hours) || fpx_query_opts_check(&o->query) != 0) {
                say("--catalogue-hours: '%s' is not a number from 0 to %g", optarg, FPX_MAX_CATALOGUE_HOURS);
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
    if (!o->detect && !o->n_datasets) {
        say("trace --no-detect needs --dataset");
        return -1;
    }
    return 0;
}

/* One file traced: its analysis, the training set checked (or why none was) and the items found. */
typedef struct traced {
    analysis a;
    const trainingset *set; /* n_set of them: the shards of one catalogue */
    size_t n_set;
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
    int rc = training_set(sets, &t->a.r, &t->set, &t->n_set, &t->why);
    fpx_match *m = NULL;
    size_t nm = 0;
    const fpx *one = t->set ? t->set->index : NULL, *const *idx = t->set == sets->fixed ? sets->fixed_index : &one;
    if (t->set && fpx_query_set(idx, t->n_set, t->a.lm, t->a.n_lm, qo, &m, &nm) != 0) {
        say("%s: %s", path, errno == EINVAL ? "the shards hold 2^32 items or more" : "out of memory");
        rc = -1;
    }
    for (size_t i = 0; i < nm && rc == 0; i++)
        if (json_array_append_new(t->matches, match_json(&t->set[m[i].index], t->n_set > 1, &m[i])) != 0) {
            say("out of memory");
            rc = -1;
        }
    free(m);
    return rc;
}

/* The "manifest" of a record: the one checked, the shards' in order, or null. NULL if out of memory. */
static json_t *manifests_json(const traced *t)
{
    if (t->n_set <= 1)
        return t->set ? json_name(t->set->path) : json_null();
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->n_set; i++)
        if (json_array_append_new(a, json_name(t->set[i].path)) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
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
            ok = json_object_set_new(o, "manifest", manifests_json(t)) == 0 &&
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
            if (t->n_set > 1)
                printf(" or the %zu other shards", t->n_set - 1);
            putchar('\n');
        }
        size_t i;
        const json_t *m;
        json_array_foreach (t->matches, i, m) {
#define NUM(k) json_number_value(json_object_get(m, k))
            fputs("  reproduces ", stdout);
            put_text(stdout, json_string_value(json_object_get(m, "item")), 0);
            if (json_object_get(m, "manifest")) { /* a shard's item: its path is relative to that manifest */
                fputs(" of ", stdout);
                put_text(stdout, json_string_value(json_object_get(m, "manifest")), 0);
            }
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
            const double st = NUM("pitch_semitones"), tempo = NUM("tempo");
            if (st != 0.0)
                printf("; transposed %+.2f semitones", st);
            if (tempo != 1.0)
                printf("; tempo x%.3f", tempo);
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
    uint32_t(*expect)[2] = NULL;
    size_t n_expect = 0;
    FILE *records = NULL;
    if (parse_options(argc, argv, &o) || (o.report_path && report_check_path(o.report_path, NULL, 0) != 0) ||
        (o.detect && (n_keys = load_keys(o.key_paths, o.n_keys, keys)) < 0))
        goto out;
    if (o.registry_path && !(registry = registry_load(o.registry_path)))
        goto out;
    if (registry && o.detect && registry_expected(registry, n_keys, &expect, &n_expect) != 0)
        goto out;
    sets.registry = registry;
    sets.registry_path = o.registry_path;
    if (o.n_datasets && open_shards(&sets, o.dataset_paths, o.n_datasets) != 0)
        goto out;
    if (o.report_path && !(records = tmpfile())) {
        say("cannot create a temporary file for the report");
        goto out;
    }
    result_ctx rc = {.registry = registry, .looked = o.detect};
    if (o.detect)
        result_name_keys(&rc, keys, n_keys);
    const analysis_opts ao = {.keys = o.detect ? keys : NULL, .n_keys = n_keys, .fingerprint = FINGERPRINT_QUERY,
                              .dec = o.dec, .expect = (const uint32_t(*)[2])expect, .n_expect = n_expect};
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
    close_shards(&sets);
    trainingset_close(&sets.cached);
    free(o.dataset_paths);
    json_decref(registry);
    free(expect);
    return status;
}
