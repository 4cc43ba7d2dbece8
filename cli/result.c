#include "result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

void result_name_keys(result_ctx *c, const pm_key *keys, int n_keys, int given)
{
    for (int i = 0; i < n_keys; i++)
        if (given)
            pm_key_fingerprint(&keys[i], c->key_names[i]);
        else
            strcpy(c->key_names[i], "demo");
}

/* Rounded to `digits` decimals, for stable and short output. */
static json_t *rounded(double v, int digits)
{
    const double scale = pow(10.0, digits);
    return json_real(round(v * scale) / scale);
}

json_t *result_json(const result_ctx *c, const char *path, const analysis *a)
{
    const pm_result *r = &a->r;
    const int found = r->found;
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(path));
    json_object_set_new(j, "found", c->looked ? json_boolean(found) : json_null());
    if (a->error[0]) {
        json_object_set_new(j, "error", json_string(a->error));
        json_object_set_new(j, "elapsed_ms", json_integer(a->elapsed_ms));
        return j;
    }
    json_object_set_new(j, "model_id", found ? json_integer(r->model_id) : json_null());
    json_object_set_new(j, "dataset_id", found ? json_integer(r->dataset_id) : json_null());
    json_object_set_new(j, "p_false", json_real(r->p_false));
    json_object_set_new(j, "key", found ? json_string(c->key_names[r->key_index]) : json_null());
    if (c->registry) {
        json_t *m = found ? registry_lookup(c->registry, "models", r->model_id) : NULL;
        json_t *d = found ? registry_lookup(c->registry, "datasets", r->dataset_id) : NULL;
        json_object_set_new(j, "model", m ? json_deep_copy(m) : json_null());
        json_object_set_new(j, "dataset", d ? json_deep_copy(d) : json_null());
        json_t *unknown = json_array();
        if (found && !m)
            json_array_append_new(unknown, json_string("model"));
        if (found && !d)
            json_array_append_new(unknown, json_string("dataset"));
        json_object_set_new(j, "unregistered", unknown);
    }
    json_object_set_new(j, "sync_z", rounded(r->sync_z, 2));
    json_object_set_new(j, "speed", json_real(r->speed));
    json_object_set_new(j, "tempo", json_real(r->tempo));
    json_t *segs = json_array();
    for (int i = 0; i < r->n_segments; i++)
        json_array_append_new(segs, json_pack("{s:o, s:o, s:o}", "start", rounded(r->segments[i].start, 3),
                                              "end", rounded(r->segments[i].end, 3),
                                              "score", rounded(r->segments[i].score, 2)));
    json_object_set_new(j, "segments", segs);
    json_object_set_new(j, "duration", rounded(a->duration, 3));
    json_object_set_new(j, "sample_rate", json_integer(a->rate));
    json_object_set_new(j, "channels", json_integer(a->channels));
    json_object_set_new(j, "error", json_null());
    json_object_set_new(j, "elapsed_ms", json_integer(a->elapsed_ms));
    return j;
}

void result_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (s)
        puts(s);
    free(s);
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

void result_print_text(const result_ctx *c, const char *path, const analysis *a)
{
    const pm_result *r = &a->r;
    if (a->error[0]) {
        printf("%s: error: %s\n", path, a->error);
    } else if (!c->looked) {
        printf("%s: watermark not looked for\n", path);
    } else if (!r->found) {
        printf("%s: no mark\n", path);
    } else {
        printf("%s: model %u", path, r->model_id);
        print_name(c->registry, "models", r->model_id);
        printf(", dataset %u", r->dataset_id);
        print_name(c->registry, "datasets", r->dataset_id);
        printf(" (p_false %.1e", r->p_false);
        for (int i = 0; i < r->n_segments; i++)
            printf("%s%.1f-%.1f s", i ? ", " : "; marked ", r->segments[i].start, r->segments[i].end);
        printf(")\n");
    }
}
