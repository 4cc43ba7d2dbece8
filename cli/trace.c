/*
 * provmark trace: from an output to what its model was trained on. One pass
 * over each file feeds the watermark detector and the fingerprint extractor;
 * the dataset ID (through the registry) or --dataset names a manifest, whose
 * fingerprint index is then searched for training items the output reproduces.
 *
 * provmark manifest: a provenance record for publishing with an output, shaped
 * like a C2PA manifest definition (docs/DATASETS.md says which parts follow the
 * C2PA specification and which are provmark's own).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset.h"
#include "analyse.h"
#include "fpindex.h"
#include "registry.h"
#include "report.h"
#include "result.h"

static const char usage_trace[] =
    "usage: provmark trace [--json] [--key FILE]... [--registry REG] [--dataset MANIFEST]\n"
    "                      [--no-detect] [--report FILE] [--decoder D] FILE...\n"
    "\n"
    "Detect the watermark in each file, resolve its model and dataset through the\n"
    "registry (a dataset entry's \"manifest\" names its manifest), and report every\n"
    "training item of that dataset the file reproduces: the item, the time range in the\n"
    "file and in the item, the matched duration and a score. --dataset checks against\n"
    "the given manifest instead (also for unmarked files); with --no-detect only that\n"
    "check is made, without looking for a watermark. The dataset's fingerprint index\n"
    "(provmark dataset fingerprint) must be beside its manifest. --report writes the\n"
    "HTML report of 'provmark detect' with the reproduced items on each timeline.\n"
    "Exit status: 0 done, 2 an error occurred (the other files are still traced).\n"
    "\n"
    AUDIO_DECODER_HELP;

static const char usage_manifest[] =
    "usage: provmark manifest --model N --dataset N --registry REG [--title TEXT]\n"
    "\n"
    "Print a provenance record for an output marked with these IDs: JSON shaped like a\n"
    "C2PA manifest definition (claim_generator_info, assertions), with a c2pa.actions.v2\n"
    "'created' action of IPTC digital source type trainedAlgorithmicMedia, a\n"
    "c2pa.soft-binding entry naming the provmark watermark and its IDs, and the model and\n"
    "dataset descriptions (from the registry and the dataset's manifest). C2PA tooling\n"
    "(e.g. c2patool) can sign it and attach it to the file.\n";

/* A dataset opened for matching: its manifest and mapped index, kept across files. */
typedef struct dataset {
    char *path;
    json_t *manifest;
    fpx *index;
} dataset;

/* Open a manifest and its index, checking the index is the one the manifest names. */
static int dataset_open(dataset *d, const char *path)
{
    memset(d, 0, sizeof *d);
    char *ipath = NULL;
    if (!(d->manifest = manifest_load(path)))
        return -1;
    json_t *fp = json_object_get(d->manifest, "fingerprints");
    const char *want = json_string_value(json_object_get(fp, "checksum"));
    if (!want) {
        fprintf(stderr, "provmark: %s: no fingerprint index (run 'provmark dataset fingerprint')\n", path);
        goto fail;
    }
    ipath = manifest_index_path(path);
    if (!ipath || !(d->index = fpx_open(ipath))) /* verifies the index's own checksum */
        goto fail;
    char hex[65];
    fpx_checksum_hex(d->index, hex);
    if (strcmp(hex, want) != 0) {
        fprintf(stderr, "provmark: %s: the index does not match the manifest (re-run "
                        "'provmark dataset fingerprint')\n", ipath);
        goto fail;
    }
    if (fpx_items(d->index) != json_array_size(json_object_get(d->manifest, "items"))) {
        fprintf(stderr, "provmark: %s: the index and the manifest list different items\n", ipath);
        goto fail;
    }
    d->path = strdup(path);
    free(ipath);
    return d->path ? 0 : -1;
fail:
    free(ipath);
    json_decref(d->manifest);
    fpx_close(d->index);
    memset(d, 0, sizeof *d);
    return -1;
}

static void dataset_close(dataset *d)
{
    free(d->path);
    json_decref(d->manifest);
    fpx_close(d->index);
    memset(d, 0, sizeof *d);
}

/* The manifest a found dataset ID leads to through the registry (malloc'd), or NULL. */
static char *registry_manifest(const json_t *registry, const char *registry_path, uint32_t id)
{
    const char *m = json_string_value(json_object_get(registry_lookup(registry, "datasets", id), "manifest"));
    if (!m)
        return NULL;
    char *out = NULL;
    if (m[0] == '/')
        return strdup(m);
    char *copy = strdup(registry_path);
    if (copy && asprintf(&out, "%s/%s", dirname(copy), m) < 0)
        out = NULL;
    free(copy);
    return out;
}

/* The training sets a trace checks against: --dataset, or the last one a registry led to. */
typedef struct training_sets {
    dataset fixed, cached;
    const json_t *registry;
    const char *registry_path;
} training_sets;

/*
 * The dataset a file is checked against (*d), or why none is (*why). -1 when the
 * registry names a manifest that cannot be used (after one line on stderr).
 */
static int training_set(training_sets *s, const pm_result *r, const dataset **d, const char **why)
{
    *d = s->fixed.path ? &s->fixed : NULL;
    *why = NULL;
    if (*d)
        return 0;
    if (!r->found) {
        *why = "no mark, and no --dataset given";
        return 0;
    }
    char *mp = registry_manifest(s->registry, s->registry_path ? s->registry_path : "", r->dataset_id);
    int rc = 0;
    if (!mp) {
        *why = s->registry ? "the registry names no manifest for this dataset" : "no --registry given";
    } else if (s->cached.path && strcmp(s->cached.path, mp) == 0) {
        *d = &s->cached;
    } else {
        dataset_close(&s->cached);
        if (dataset_open(&s->cached, mp) == 0) {
            *d = &s->cached;
        } else {
            *why = "the dataset's manifest or index cannot be used";
            rc = -1;
        }
    }
    free(mp);
    return rc;
}

static json_t *match_json(const dataset *d, const fpx_match *m)
{
    json_t *item = json_array_get(json_object_get(d->manifest, "items"), m->item);
    json_t *tags = json_object_get(item, "tags");
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:f, s:f, s:f, s:f, s:f, s:i, s:f}",
                     "item", fpx_item_path(d->index, m->item),
                     "sha256", json_string_value(json_object_get(item, "sha256")),
                     "title", json_string_value(json_object_get(tags, "title")),
                     "artist", json_string_value(json_object_get(tags, "artist")),
                     "output_start", m->query_start, "output_end", m->query_end,
                     "item_start", m->item_start, "item_end", m->item_end,
                     "duration", m->query_end - m->query_start, "landmarks", m->landmarks,
                     "score", m->score);
}

int cmd_trace(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'J'},          {"key", required_argument, 0, 'k'},
        {"registry", required_argument, 0, 'G'}, {"dataset", required_argument, 0, 'D'},
        {"no-detect", no_argument, 0, 'N'},     {"report", required_argument, 0, 'R'},
        {"decoder", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    audio_decoder dec = DECODER_SNDFILE;
    const char *key_paths[MAX_KEYS], *registry_path = NULL, *dataset_path = NULL, *report_path = NULL;
    int n_keys = 0, json = 0, detect = 1, c;
    if (wants_help(argc, argv)) {
        fputs(usage_trace, stdout);
        return 0;
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'k':
            if (n_keys == MAX_KEYS) {
                fprintf(stderr, "provmark: at most %d keys\n", MAX_KEYS);
                return EXIT_ERROR;
            }
            key_paths[n_keys++] = optarg;
            break;
        case 'G': registry_path = optarg; break;
        case 'D': dataset_path = optarg; break;
        case 'N': detect = 0; break;
        case 'R': report_path = optarg; break;
        case 'd':
            if (audio_decoder_parse(optarg, &dec))
                return EXIT_ERROR;
            break;
        default:
            fprintf(stderr, "provmark: trace: bad option (see 'provmark trace --help')\n");
            return EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "provmark: trace needs at least one FILE (see 'provmark trace --help')\n");
        return EXIT_ERROR;
    }
    if (!detect && !dataset_path) {
        fprintf(stderr, "provmark: trace --no-detect needs --dataset\n");
        return EXIT_ERROR;
    }
    pm_key keys[MAX_KEYS];
    const int n_given = n_keys;
    if (detect && (n_keys = load_keys(key_paths, n_keys, keys)) < 0)
        return EXIT_ERROR;
    json_t *registry = NULL;
    if (registry_path && !(registry = registry_load(registry_path)))
        return EXIT_ERROR;
    training_sets sets = {.registry = registry, .registry_path = registry_path};
    dataset *fixed = &sets.fixed, *cached = &sets.cached;
    if (dataset_path && dataset_open(fixed, dataset_path) != 0) {
        json_decref(registry);
        return EXIT_ERROR;
    }
    report *rep = report_path ? report_open(report_path) : NULL;
    if (report_path && !rep) {
        dataset_close(fixed);
        json_decref(registry);
        return EXIT_ERROR;
    }
    result_ctx rc = {.registry = registry, .looked = detect};
    if (detect)
        result_name_keys(&rc, keys, n_keys, n_given);
    int status = 0;
    for (int f = optind; f < argc; f++) {
        const char *path = argv[f];
        analysis t;
        const analysis_opts aopts = {.keys = detect ? keys : NULL, .n_keys = n_keys, .fingerprint = 1, .dec = dec};
        if (analyse_file(path, &aopts, &t) != 0) {
            status = EXIT_ERROR;
            fprintf(stderr, "provmark: %s: %s\n", path, t.error);
        }
        const dataset *d = NULL;
        const char *why = NULL;
        if (!t.error[0] && training_set(&sets, &t.r, &d, &why) != 0)
            status = EXIT_ERROR;
        fpx_match *m = NULL;
        size_t nm = 0;
        if (d && fpx_query(d->index, t.lm, t.n_lm, &m, &nm) != 0) {
            fprintf(stderr, "provmark: %s: out of memory\n", path);
            status = EXIT_ERROR;
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < nm; i++)
            json_array_append_new(arr, match_json(d, &m[i]));
        if (rep)
            report_add(rep, path, &t.r, t.duration, t.error[0] ? t.error : NULL, registry, arr);
        if (json) {
            json_t *o = result_json(&rc, path, &t);
            if (!t.error[0]) {
                json_object_set_new(o, "manifest", d ? json_string(d->path) : json_null());
                json_object_set_new(o, "dataset_check", why ? json_string(why) : json_null());
                json_object_set(o, "matches", arr);
            }
            result_print_json(o);
            json_decref(o);
        } else {
            result_print_text(&rc, path, &t);
            if (why)
                printf("  training data not checked: %s\n", why);
            else if (d && !nm)
                printf("  reproduces no item of %s\n", d->path);
            for (size_t i = 0; i < nm; i++)
                printf("  reproduces %s: %.1f-%.1f s of the file = %.1f-%.1f s of the item (%.1f s, %d landmarks)\n",
                       fpx_item_path(d->index, m[i].item), m[i].query_start, m[i].query_end,
                       m[i].item_start, m[i].item_end, m[i].query_end - m[i].query_start, m[i].landmarks);
        }
        fflush(stdout);
        json_decref(arr);
        free(m);
        analysis_free(&t);
    }
    if (rep && report_close(rep) != 0)
        status = EXIT_ERROR;
    dataset_close(fixed);
    dataset_close(cached);
    json_decref(registry);
    return status;
}

/* ---------------------------------------------------------------- manifest */

int cmd_manifest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"dataset", required_argument, 0, 'd'},
        {"registry", required_argument, 0, 'G'}, {"title", required_argument, 0, 't'},
        {0, 0, 0, 0}};
    const char *model_s = NULL, *dataset_s = NULL, *registry_path = NULL, *title = NULL;
    int c;
    if (wants_help(argc, argv)) {
        fputs(usage_manifest, stdout);
        return 0;
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_s = optarg; break;
        case 'd': dataset_s = optarg; break;
        case 'G': registry_path = optarg; break;
        case 't': title = optarg; break;
        default:
            fprintf(stderr, "provmark: manifest: bad option (see 'provmark manifest --help')\n");
            return EXIT_ERROR;
        }
    }
    uint32_t model, ds;
    if (!model_s || !dataset_s || !registry_path || optind != argc) {
        fprintf(stderr, "provmark: manifest needs --model, --dataset and --registry\n");
        return EXIT_ERROR;
    }
    if (parse_id(model_s, &model, "--model") || parse_id(dataset_s, &ds, "--dataset"))
        return EXIT_ERROR;
    json_t *registry = registry_load(registry_path);
    if (!registry)
        return EXIT_ERROR;
    json_t *me = registry_lookup(registry, "models", model), *de = registry_lookup(registry, "datasets", ds);
    if (!me || !de) {
        fprintf(stderr, "provmark: %s: %s %u is not in the registry\n", registry_path,
                me ? "dataset" : "model", me ? ds : model);
        json_decref(registry);
        return EXIT_ERROR;
    }
    /* The dataset's tier-1 description, when its manifest is at hand. */
    json_t *summary = NULL;
    char *mp = registry_manifest(registry, registry_path, ds);
    json_t *man = mp ? manifest_load(mp) : NULL;
    if (mp && !man) {
        free(mp);
        json_decref(registry);
        return EXIT_ERROR;
    }
    if (man) {
        summary = json_object();
        static const char *const keep[] = {"name", "version", "description", "licenses", "sources",
                                           "collection_date", "item_count", "total_duration", "fingerprints"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            if (json_object_get(man, keep[i]))
                json_object_set(summary, keep[i], json_object_get(man, keep[i]));
    }
    char ids[64];
    snprintf(ids, sizeof ids, "model=%u;dataset=%u", model, ds);
    json_t *out = json_pack(
        "{s:[{s:s, s:s}], s:s?, s:[{s:s, s:{s:[{s:s, s:s, s:{s:s, s:s?}, s:{s:i, s:i}}]}},"
        " {s:s, s:{s:s, s:s, s:[{s:{}, s:s}]}},"
        " {s:s, s:{s:O, s:O, s:i, s:i, s:o?}}]}",
        "claim_generator_info", "name", "provmark", "version", pm_version_string(),
        "title", title,
        "assertions",
        "label", "c2pa.actions.v2", "data", "actions", "action", "c2pa.created",
        "digitalSourceType", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "softwareAgent", "name", json_string_value(json_object_get(me, "name")),
        "version", json_string_value(json_object_get(me, "version")),
        "parameters", "org.provmark.model_id", (int)model, "org.provmark.dataset_id", (int)ds,
        "label", "c2pa.soft-binding", "data", "alg", "org.provmark.audio-watermark.1",
        "name", "provmark keyed spread-spectrum audio watermark carrying the model and dataset IDs",
        "blocks", "scope", "value", ids,
        "label", "org.provmark.training-data", "data", "model", me, "dataset", de,
        "model_id", (int)model, "dataset_id", (int)ds, "dataset_manifest", summary);
    int rc = EXIT_ERROR;
    if (out) {
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        rc = 0;
        json_decref(out);
    } else {
        fprintf(stderr, "provmark: manifest: cannot build the record\n");
    }
    json_decref(man);
    free(mp);
    json_decref(registry);
    return rc;
}
