/* Dataset manifests and their fingerprint index (docs/DATASETS.md): dataset.c writes them, trace.c and manifest.c read them. */
#ifndef PM_CLI_DSMANIFEST_H
#define PM_CLI_DSMANIFEST_H
#include <jansson.h>

#include "fingerprint.h"

/* Load and check a manifest; NULL after one line on stderr. */
json_t *manifest_load(const char *path);
/* Write a manifest atomically; -1 after one line. */
int manifest_save(const char *path, json_t *m);
/*
 * Hold the manifest at path for a read-modify-write (flock; concurrent 'dataset add'
 * runs then take turns instead of one losing the other's items). The descriptor to
 * give to manifest_unlock, or -1 after one line on stderr.
 */
int manifest_lock(const char *path);
void manifest_unlock(int fd);
/* The index beside a manifest: x.json -> x.pmfp (malloc'd). */
char *manifest_index_path(const char *manifest);
/* An item's path as stored (relative to the manifest's folder) made usable (malloc'd). */
char *manifest_item_path(const char *manifest, const char *item);

/* A training set opened for matching: its manifest and mapped index, kept across files. */
typedef struct trainingset {
    char *path;
    json_t *manifest;
    fpx *index;
} trainingset;

/* Open a manifest and its index, checking the index is the one the manifest names; -1 after one line. */
int trainingset_open(trainingset *d, const char *path);
void trainingset_close(trainingset *d);
#endif
