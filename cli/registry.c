/* The model and dataset registry (docs/REGISTRY.md). */
#define _GNU_SOURCE
#include "registry.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "provmark.h"

json_t *registry_load(const char *path)
{
    json_t *r = json_load_path(path);
    if (!r)
        return NULL;
    const char *why = NULL;
    json_t *v = json_object_get(r, "version");
    if (!json_is_object(r))
        why = "not a JSON object";
    else if (!json_is_integer(v) || json_integer_value(v) != 1)
        why = "\"version\" must be 1";
    static const char *const sections[] = {"models", "datasets"};
    for (int i = 0; i < 2 && !why; i++) {
        json_t *sec = json_object_get(r, sections[i]);
        const char *id;
        json_t *entry;
        if (!json_is_object(sec)) {
            why = i ? "\"datasets\" must be an object" : "\"models\" must be an object";
            break;
        }
        json_object_foreach (sec, id, entry) {
            unsigned long n;
            if (parse_decimal(id, PM_ID_MAX, &n) != 0) {
                why = "IDs must be decimal numbers from 0 to " PM_STR(PM_ID_MAX);
                break;
            }
            if (!json_is_object(entry) || !json_is_string(json_object_get(entry, "name"))) {
                why = "every entry needs a \"name\" string";
                break;
            }
        }
    }
    if (why) {
        say("%s: invalid registry: %s", path, why);
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *registry_lookup(const json_t *registry, const char *section, uint32_t id)
{
    char key[16];
    snprintf(key, sizeof key, "%u", id);
    return registry ? json_object_get(json_object_get(registry, section), key) : NULL;
}

/* The manifest a found dataset ID leads to through the registry (malloc'd), or NULL. */
char *registry_manifest_path(const json_t *registry, const char *registry_path, uint32_t id)
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

int registry_pairs(const json_t *registry, uint32_t (**pairs)[2], size_t *n)
{
    const json_t *models = json_object_get(registry, "models"), *datasets = json_object_get(registry, "datasets");
    *pairs = NULL;
    *n = json_object_size(models) * json_object_size(datasets);
    if (*n == 0)
        return 0;
    if (!(*pairs = malloc(sizeof **pairs * *n)))
        return -1;
    size_t i = 0;
    const char *m, *d;
    const json_t *model, *dataset;
    json_object_foreach ((json_t *)models, m, model) {
        json_object_foreach ((json_t *)datasets, d, dataset) { /* both checked by registry_load() */
            (*pairs)[i][0] = (uint32_t)strtoul(m, NULL, 10);
            (*pairs)[i][1] = (uint32_t)strtoul(d, NULL, 10);
            i++;
        }
    }
    return 0;
}

int registry_expected(const json_t *registry, int n_keys, uint32_t (**pairs)[2], size_t *n)
{
    if (registry_pairs(registry, pairs, n) != 0) {
        say("out of memory");
        return -1;
    }
    if (*n * (size_t)n_keys > PM_MAX_EXPECTED) {
        say("note: the registry lists %zu model and dataset pairs for %d key%s, more than the %d whose weak "
            "marks can be recognised: marks are decoded blind only",
            *n, n_keys, n_keys > 1 ? "s" : "", PM_MAX_EXPECTED);
        free(*pairs);
        *pairs = NULL;
        *n = 0;
    }
    return 0;
}
