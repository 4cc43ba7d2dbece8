/* Dataset manifests and their fingerprint index (docs/DATASETS.md), for dataset.c and trace.c. */
#ifndef PM_CLI_DATASET_H
#define PM_CLI_DATASET_H
#include <jansson.h>
#include <stddef.h>

#include "fingerprint.h"

/* Load and check a manifest; NULL after one line on stderr. */
json_t *manifest_load(const char *path);
/* Write a manifest atomically; -1 after one line. */
int manifest_save(const char *path, json_t *m);
/* The index beside a manifest: x.json -> x.pmfp (malloc'd). */
char *manifest_index_path(const char *manifest);
/* An item's path as stored (relative to the manifest's folder) made usable (malloc'd). */
char *manifest_item_path(const char *manifest, const char *item);
/* provmark dataset init|add|fingerprint */
int cmd_dataset(int argc, char **argv);
#endif
