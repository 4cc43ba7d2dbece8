/*
 * Build tool: prints the sed script that fills the TTL templates (ttl/NAME.ttl.in) with the
 * values of the C headers, so that a port index, a limit or the version has one home.
 * The latency maximum is what the embedder reports at the highest accepted rate.
 */
#include <stdio.h>

#include "plugin.h"

static void put(const char *name, double value) { printf("s|@%s@|%.10g|g\n", name, value); }

int main(void)
{
    pm_embedder *e = NULL;
    pm_key key;
    pm_key_demo(&key);
    int rc = pm_embedder_new(&e, PM_MAX_RATE, 1, &key, 0, 0, PM_STRENGTH_DEFAULT);
    if (rc != PM_OK) {
        fprintf(stderr, "ttl values: %s\n", pm_strerror(rc));
        return 1;
    }
    put("LATENCY_MAX", (double)pm_embedder_latency(e));
    pm_embedder_free(e);
    put("ID_MAX", PM_ID_MAX);
    put("ID_STEPS", PM_ID_MAX + 1.0);
    put("STRENGTH_MIN", PM_STRENGTH_MIN);
    put("STRENGTH_MAX", PM_STRENGTH_MAX);
    put("STRENGTH_DEFAULT", PM_STRENGTH_DEFAULT);
    put("MINOR_VERSION", PM_VERSION / 100 % 100);
    put("MICRO_VERSION", PM_VERSION % 100);
    put("PORT_MODEL", PM_PORT_MODEL);
    put("PORT_DATASET", PM_PORT_DATASET);
    put("PORT_STRENGTH", PM_PORT_STRENGTH);
    put("PORT_ENABLED", PM_PORT_ENABLED);
    put("PORT_LATENCY", PM_PORT_LATENCY);
    put("PORT_LEVEL", PM_PORT_LEVEL);
    put("PORT_EMBEDDING", PM_PORT_EMBEDDING);
    put("PORT_KEY_STATE", PM_PORT_KEY_STATE);
    put("PORT_CONTROL", PM_PORT_CONTROL);
    put("PORT_NOTIFY", PM_PORT_NOTIFY);
    for (int i = 0; i < 4; i++) { /* audio: inputs, then outputs, one per channel */
        char name[32];
        snprintf(name, sizeof name, "PORT_AUDIO%d", i);
        put(name, PM_PORT_AUDIO + i);
    }
    put("KEY_DEMO", PM_KEY_DEMO);
    put("KEY_LOADED", PM_KEY_LOADED);
    put("KEY_FAILED", PM_KEY_FAILED);
    put("KEY_LOADING", PM_KEY_LOADING);
    put("KEY_STATE_MAX", PM_KEY_LOADING); /* the last of the enumeration */
    printf("s|@URI_STEREO@|%s|g\ns|@URI_MONO@|%s|g\n", PM_URI_STEREO, PM_URI_MONO);
    printf("s|@URI_KEY@|%s|g\ns|@URI_KEY_STATUS@|%s|g\n", PM_URI_KEY, PM_URI_KEY_STATUS);
    return 0;
}
