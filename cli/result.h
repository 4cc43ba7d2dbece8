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
    char key_names[MAX_KEYS][17]; /* fingerprints of the keys tried, or "demo" */
    int looked;                   /* 0: the watermark was not looked for (found is null) */
} result_ctx;

/* Name the keys tried: their public fingerprints, or "demo" when none was given. */
void result_name_keys(result_ctx *c, const pm_key *keys, int n_keys, int given);
/* The JSON object of one file's result (a->error set: the error form); NULL when out of memory. */
json_t *result_json(const result_ctx *c, const char *path, const analysis *a);
/* Print it as one line on stdout: 0, or -1 after one line on stderr (j NULL, or out of memory). */
int result_print_json(json_t *j);
/* The text line of one file's result on stdout. */
void result_print_text(const result_ctx *c, const char *path, const analysis *a);
#endif
