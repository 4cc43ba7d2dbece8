/* Dataset manifests and their fingerprint index (docs/DATASETS.md). */
#define _GNU_SOURCE
#include "dsmanifest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int manifest_lock(const char *path)
{
    for (;;) {
        const char *why;
        int fd = open_regular(path, &why);
        struct stat a, b;
        if (fd < 0) {
            say("%s: %s", path, why);
            return -1;
        }
        if (flock(fd, LOCK_EX) != 0) {
            say("%s: cannot lock it: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        /* Another writer may have renamed a new manifest into place meanwhile: lock that one. */
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return fd;
        close(fd);
    }
}

void manifest_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the lock */
}

int manifest_save(const char *path, json_t *m)
{
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *line = NULL;
    int rc = -1;
    if (text && asprintf(&line, "%s\n", text) >= 0)
        rc = write_atomic(path, line, strlen(line), "the manifest");
    else
        say("%s: out of memory", path);
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
        say("%s: invalid dataset manifest: %s", path, why);
        json_decref(m);
        return NULL;
    }
    return m;
}

/* The manifest's real path: a symbolic link to a manifest stands for its target, with the target's folder. */
static char *resolved(const char *manifest)
{
    char *real = realpath(manifest, NULL);
    return real ? real : strdup(manifest);
}

char *manifest_index_path(const char *manifest)
{
    char *m = resolved(manifest), *out = NULL;
    size_t n = m ? strlen(m) : 0;
    if (m && n > 5 && strcmp(m + n - 5, ".json") == 0) {
        if (asprintf(&out, "%.*s.pmfp", (int)(n - 5), m) < 0)
            out = NULL;
    } else if (m && asprintf(&out, "%s.pmfp", m) < 0) {
        out = NULL;
    }
    free(m);
    return out;
}

char *manifest_item_path(const char *manifest, const char *item)
{
    if (item[0] == '/')
        return strdup(item);
    char *copy = resolved(manifest), *out = NULL;
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
        say("%s: no fingerprint index (run 'provmark dataset fingerprint')", path);
        goto fail;
    }
    ipath = manifest_index_path(path);
    const char *why = "out of memory";
    if (!ipath || !(d->index = fpx_open(ipath, &why))) { /* verifies the index's own checksum */
        say("%s: not a usable fingerprint index: %s", ipath ? ipath : path, why);
        goto fail;
    }
    char hex[65];
    fpx_checksum_hex(d->index, hex);
    if (strcmp(hex, want) != 0) {
        say("%s: the index does not match the manifest (re-run "
                        "'provmark dataset fingerprint')", ipath);
        goto fail;
    }
    /* Item by item: a match names the index's item and quotes the manifest's hash and tags of it. */
    json_t *items = json_object_get(d->manifest, "items");
    int same = fpx_items(d->index) == json_array_size(items);
    for (uint32_t i = 0; same && i < fpx_items(d->index); i++)
        same = strcmp(fpx_item_path(d->index, i), json_string_value(json_object_get(json_array_get(items, i), "path"))) == 0;
    if (!same) {
        say("%s: the index and the manifest list different items", ipath);
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

