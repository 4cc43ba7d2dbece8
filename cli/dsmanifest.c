/* Dataset manifests and their fingerprint index (docs/DATASETS.md). */
#define _GNU_SOURCE
#include "dsmanifest.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int manifest_save(const char *path, json_t *m)
{
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *line = NULL;
    int rc = -1;
    if (text && asprintf(&line, "%s\n", text) >= 0)
        rc = write_atomic(path, line, strlen(line), "the manifest");
    else
        fprintf(stderr, "provmark: %s: out of memory\n", path);
    free(line);
    free(text);
    return rc;
}

json_t *manifest_load(const char *path)
{
    json_t *m = json_load_path(path);
    if (!m)
        return NULL;
    const char *why = NULL;
    json_t *items = json_object_get(m, "items");
    if (!json_is_object(m))
        why = "not a JSON object";
    else if (json_integer_value(json_object_get(m, "provmark_dataset")) != 1)
        why = "\"provmark_dataset\" must be 1";
    else if (!json_is_string(json_object_get(m, "name")) || !json_is_string(json_object_get(m, "version")))
        why = "\"name\" and \"version\" must be strings";
    else if (!json_is_array(items))
        why = "\"items\" must be an array";
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        if (why)
            break;
        if (!json_is_string(json_object_get(it, "path")) || !json_is_string(json_object_get(it, "sha256")))
            why = "every item needs \"path\" and \"sha256\" strings";
    }
    if (why) {
        fprintf(stderr, "provmark: %s: invalid dataset manifest: %s\n", path, why);
        json_decref(m);
        return NULL;
    }
    return m;
}

char *manifest_index_path(const char *manifest)
{
    char *out = NULL;
    size_t n = strlen(manifest);
    if (n > 5 && strcmp(manifest + n - 5, ".json") == 0) {
        if (asprintf(&out, "%.*s.pmfp", (int)(n - 5), manifest) < 0)
            return NULL;
    } else if (asprintf(&out, "%s.pmfp", manifest) < 0) {
        return NULL;
    }
    return out;
}

char *manifest_item_path(const char *manifest, const char *item)
{
    if (item[0] == '/')
        return strdup(item);
    char *copy = strdup(manifest), *out = NULL;
    if (copy && asprintf(&out, "%s/%s", dirname(copy), item) < 0)
        out = NULL;
    free(copy);
    return out;
}

int trainingset_open(trainingset *d, const char *path)
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
    const char *why = "out of memory";
    if (!ipath || !(d->index = fpx_open(ipath, &why))) { /* verifies the index's own checksum */
        fprintf(stderr, "provmark: %s: not a usable fingerprint index: %s\n", ipath ? ipath : path, why);
        goto fail;
    }
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

void trainingset_close(trainingset *d)
{
    free(d->path);
    json_decref(d->manifest);
    fpx_close(d->index);
    memset(d, 0, sizeof *d);
}

