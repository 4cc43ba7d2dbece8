/*
 * provmark manifest: a provenance record for publishing with an output, shaped
 * like a C2PA manifest definition (docs/DATASETS.md says which parts follow the
 * C2PA specification and which are provmark's own).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "dsmanifest.h"
#include "registry.h"

static const char usage_manifest[] =
    "usage: provmark manifest --model N --dataset N --registry REG [--title TEXT]\n"
    "\n"
    "Print a provenance record for an output marked with these IDs: JSON shaped like a\n"
    "C2PA manifest definition (claim_generator_info, assertions), with a c2pa.actions.v2\n"
    "'created' action of IPTC digital source type trainedAlgorithmicMedia, a\n"
    "c2pa.soft-binding entry naming the provmark watermark and its IDs, and the model and\n"
    "dataset descriptions (from the registry and the dataset's manifest). C2PA tooling\n"
    "(e.g. c2patool) can sign it and attach it to the file.\n";

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
            say_bad_option("manifest", argv);
            return EXIT_ERROR;
        }
    }
    uint32_t model, ds;
    if (!model_s || !dataset_s || !registry_path || optind != argc) {
        say("manifest needs --model, --dataset and --registry");
        return EXIT_ERROR;
    }
    if (parse_id(model_s, &model, "--model") || parse_id(dataset_s, &ds, "--dataset"))
        return EXIT_ERROR;
    json_t *registry = registry_load(registry_path);
    if (!registry)
        return EXIT_ERROR;
    json_t *me = registry_lookup(registry, "models", model), *de = registry_lookup(registry, "datasets", ds);
    if (!me || !de) {
        say("%s: %s %u is not in the registry", registry_path,
                me ? "dataset" : "model", me ? ds : model);
        json_decref(registry);
        return EXIT_ERROR;
    }
    /* The dataset's tier-1 description, when its manifest is at hand. */
    json_t *summary = NULL;
    char *mp = registry_manifest_path(registry, registry_path, ds);
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
        say("manifest: cannot build the record");
    }
    json_decref(man);
    free(mp);
    json_decref(registry);
    return rc;
}
