/*
 * How detect and trace write one file's result: a text line, or a JSON object
 * (one per line) whose fields are those of docs/result.schema.json. Both
 * commands write through here, so a field exists in both or in neither; trace
 * adds its own fields (the training items) to the object.
 */
#ifndef PM_CLI_RESULT_H
#define PM_CLI_RESULT_H
#include <jansson.h>

#include "analyse.h"
#include "cli.h"

typedef struct result_ctx {
    const json_t *registry;       /* NULL: no names, no "model"/"dataset"/"unregistered" */
    char key_names[MAX_KEYS][17]; /* public fingerprints of the keys tried */
    int key_demo[MAX_KEYS];       /* 1: that key is the public demo key (its marks prove nothing) */
    int looked;                   /* 0: the watermark was not looked for (found is null) */
} result_ctx;

/* Name the keys tried by their public fingerprints and note which is the demo key. */
void result_name_keys(result_ctx *c, const pm_key *keys, int n_keys);
/*
 * The JSON object of one file's result; NULL when out of memory. Three forms
 * (docs/result.schema.json): an error ({file, error}: nothing that reads as a
 * result), not marked (no mark fields at all) and marked (demo_key says whether
 * the public demo key matched).
 */
json_t *result_json(const result_ctx *c, const char *path, const analysis *a);
/* Write it as one line on f: 0, or -1 after one line on stderr (j NULL, or out of memory). */
int result_print_json(FILE *f, json_t *j);
/*
 * The text line of one file's result on stdout; an error also as one line on stderr,
 * unless stdout and stderr are the same terminal (each error is printed once there).
 */
void result_print_text(const result_ctx *c, const char *path, const analysis *a);
#endif
