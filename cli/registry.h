/* The model and dataset registry (docs/REGISTRY.md). */
#ifndef PM_CLI_REGISTRY_H
#define PM_CLI_REGISTRY_H
#include <jansson.h>
#include <stdint.h>

/*
 * Load and check a registry: {"version": 1, "models": {"<id>": {...}}, "datasets":
 * {"<id>": {...}}}, where every entry has at least a "name" string. Returns NULL after
 * one line on stderr.
 */
json_t *registry_load(const char *path);
/* The entry for an ID in "models" or "datasets", or NULL (also when registry is NULL). */
json_t *registry_lookup(const json_t *registry, const char *section, uint32_t id);
/*
 * Every (model, dataset) pair the registry lists, as a malloc'd array (NULL and 0
 * for none); -1 when out of memory.
 */
int registry_pairs(const json_t *registry, uint32_t (**pairs)[2], size_t *n);
/*
 * The pairs a detector with n_keys keys is told to expect (pm_detector_expect(): weak
 * marks of registered IDs are recognised): all of registry_pairs(), or none, after a
 * note, when they exceed PM_MAX_EXPECTED over the keys. -1 after one line when out
 * of memory.
 */
int registry_expected(const json_t *registry, int n_keys, uint32_t (**pairs)[2], size_t *n);
/* The manifest path of a dataset entry, relative to the registry's folder (malloc'd), or NULL. */
char *registry_manifest_path(const json_t *registry, const char *registry_path, uint32_t id);
#endif
