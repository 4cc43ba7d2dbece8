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
