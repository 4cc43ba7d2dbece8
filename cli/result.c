#include "result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatter.h"
#include "registry.h"

void result_name_keys(result_ctx *c, const pm_key *keys, int n_keys)
{
    for (int i = 0; i < n_keys; i++) {
        pm_key_fingerprint(&keys[i], c->key_names[i]);
        c->key_demo[i] = pm_key_is_demo(&keys[i]); /* also a key file that holds it */
    }
}

/* Rounded to `digits` decimals, for stable and short output. */
static json_t *rounded(double v, int digits)
{
    const double scale = pow(10.0, digits);
    return json_real(round(v * scale) / scale);
}

static json_t *segments_json(const pm_segment *seg, int n)
{
    json_t *segs = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(segs, json_pack("{s:o, s:o, s:o}", "start", rounded(seg[i].start, 3),
                                              "end", rounded(seg[i].end, 3),
                                              "score", rounded(seg[i].score, 2)));
    return segs;
}

/* "model", "dataset" and "unregistered" of IDs found. */
static void registry_fields(const result_ctx *c, json_t *j, uint32_t model, uint32_t dataset)
{
    json_t *m = registry_lookup(c->registry, "models", model);
    json_t *d = registry_lookup(c->registry, "datasets", dataset);
    json_object_set_new(j, "model", m ? json_deep_copy(m) : json_null());
    json_object_set_new(j, "dataset", d ? json_deep_copy(d) : json_null());
    json_t *unknown = json_array();
    if (!m)
        json_array_append_new(unknown, json_string("model"));
    if (!d)
        json_array_append_new(unknown, json_string("dataset"));
    json_object_set_new(j, "unregistered", unknown);
}

/* One mark's fields (a file's strongest mark is also its summary), in docs/result.schema.json's order. */
static void mark_fields(const result_ctx *c, json_t *j, const analysis *a, int i)
{
    const pm_mark *m = &a->marks[i];
    json_object_set_new(j, "model_id", json_integer(m->model_id));
    json_object_set_new(j, "dataset_id", json_integer(m->dataset_id));
    json_object_set_new(j, "key", json_string(c->key_names[m->key_index]));
    json_object_set_new(j, "demo_key", json_boolean(c->key_demo[m->key_index]));
    json_object_set_new(j, "p_false", json_real(m->p_false));
    if (c->registry)
        registry_fields(c, j, m->model_id, m->dataset_id);
    json_object_set_new(j, "sync_z", rounded(m->sync_z, 2));
    json_object_set_new(j, "speed", json_real(m->speed));
    json_object_set_new(j, "tempo", json_real(m->tempo));
    json_object_set_new(j, "segments", segments_json(m->segments, m->n_segments));
    json_object_set_new(j, "recognised", json_boolean(a->recognised[i]));
    json_t *formats = json_array();
    for (int v = PM_FORMAT_MIN; v <= PM_FORMAT_MAX; v++)
        if (a->formats[i] & 1u << (v - 1))
            json_array_append_new(formats, json_integer(v));
    json_object_set_new(j, "formats", formats);
}

/* Every mark of the file, strongest first, each with its own IDs, key and ranges. */
static json_t *marks_json(const result_ctx *c, const analysis *a)
{
    json_t *arr = json_array();
    for (int i = 0; i < a->n_marks; i++) {
        json_t *j = json_object();
        mark_fields(c, j, a, i);
        json_array_append_new(arr, j);
    }
    return arr;
}

json_t *result_json(const result_ctx *c, const char *path, const analysis *a)
{
    const pm_result *r = &a->r;
    json_t *j = json_object();
    if (!j || json_set_name(j, "file", path) != 0) { /* any bytes: "file_bytes" holds them when not UTF-8 */
        json_decref(j);
        return NULL; /* never a record without its file */
    }
    if (a->error[0]) { /* the error form: nothing a reader could take for a result */
        json_object_set_new(j, "error", json_string(a->error));
        return j;
    }
    const int found = c->looked && r->found;
    json_object_set_new(j, "found", c->looked ? json_boolean(found) : json_null());
    if (found) { /* the mark fields exist only when there is a mark */
        mark_fields(c, j, a, 0); /* the summary: the strongest mark */
        json_object_set_new(j, "marks", marks_json(c, a));
    }
    if (a->sha256[0]) { /* what was scanned, byte for byte */
        json_object_set_new(j, "size", json_integer(a->size));
        json_object_set_new(j, "sha256", json_string(a->sha256));
    }
    json_object_set_new(j, "duration", rounded(a->duration, 3));
    json_object_set_new(j, "sample_rate", json_integer(a->rate));
    json_object_set_new(j, "channels", json_integer(a->channels));
    json_object_set_new(j, "truncated", a->truncated[0] ? json_string(a->truncated) : json_null());
    json_object_set_new(j, "error", json_null());
    json_object_set_new(j, "elapsed_ms", json_integer(a->elapsed_ms));
    return j;
}

int result_print_json(FILE *f, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    if (s) {
        fputs(s, f);
        fputc('\n', f);
    }
    else
        say("out of memory");
    free(s);
    return s ? 0 : -1;
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
    printf(" \"");
    put_text(stdout, json_string_value(json_object_get(e, "name")), 0); /* the registry is anyone's */
    if (version) {
        putchar(' ');
        put_text(stdout, version, 0);
    }
    if (org) {
        fputs(", ", stdout);
        put_text(stdout, org, 0);
    }
    putchar('"');
}

void result_print_text(const result_ctx *c, const char *path, const analysis *a)
{
    const pm_result *r = &a->r;
    /* put_text: a name cannot start a line of its own or reach the terminal */
    if (a->error[0] && !chatter_same_terminal()) { /* past the filter: in its place among the progress lines */
        fputs("provmark: ", chatter_err());
        put_text(chatter_err(), path, 0);
        fprintf(chatter_err(), ": %s\n", a->error);
    }
    if (a->error[0] || !c->looked || !r->found) {
        put_text(stdout, path, 0);
        printf(": %s%s\n", a->error[0] ? "error: " : "",
               a->error[0] ? a->error : !c->looked ? "watermark not looked for" : "no mark");
        return;
    }
    for (int k = 0; k < a->n_marks; k++) { /* one line per mark */
        const pm_mark *m = &a->marks[k];
        put_text(stdout, path, 0);
        printf(": model %u", m->model_id);
        print_name(c->registry, "models", m->model_id);
        printf(", dataset %u", m->dataset_id);
        print_name(c->registry, "datasets", m->dataset_id);
        printf(" (p_false %.2e", m->p_false); /* two decimals: the bound 9.99e-10 must not read 1.0e-09 */
        for (int i = 0; i < m->n_segments; i++)
            printf("%s%.1f-%.1f s", i ? ", " : "; marked ", m->segments[i].start, m->segments[i].end);
        printf(")%s%s\n", a->recognised[k] ? " [recognised as registered IDs: too weak to decode blind]" : "",
               c->key_demo[m->key_index] ? " [demo key: anyone can make this mark; it proves nothing]" : "");
    }
}
