/* The provmark LV2 plugin: shared state of the two translation units. */
#ifndef PM_PLUGIN_H
#define PM_PLUGIN_H
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "provmark.h"

#define PM_URI_STEREO "urn:provmark:stereo"
#define PM_URI_MONO "urn:provmark:mono"
#define PM_URI_KEY "urn:provmark:key"
#define PM_PATH_MAX 4096

/* Control ports follow the audio ports (2 x channels of them) in this order. */
enum {
    PORT_MODEL,
    PORT_DATASET,
    PORT_STRENGTH,
    PORT_ENABLED,
    PORT_LATENCY,
    PORT_LEVEL,
    PORT_EMBEDDING,
    PORT_CONTROL,
    PORT_NOTIFY,
    N_CONTROL_PORTS
};

typedef struct pm_uris {
    LV2_URID atom_Path, atom_Object, atom_URID, atom_Sequence;
    LV2_URID patch_Set, patch_Get, patch_property, patch_value;
    LV2_URID key;
} pm_uris;

typedef struct pm_plugin {
    int channels;
    double rate;
    const float *in[2];
    float *out[2];
    const float *ctl[N_CONTROL_PORTS];
    float *ctl_out[N_CONTROL_PORTS];
    const LV2_Atom_Sequence *control;
    LV2_Atom_Sequence *notify;

    pm_embedder *emb;
    uint32_t model, dataset;
    float strength;
    int enabled;

    LV2_URID_Map *map;
    LV2_Worker_Schedule *schedule;
    LV2_Log_Logger logger;
    LV2_Atom_Forge forge;
    pm_uris uris;

    char key_path[PM_PATH_MAX]; /* empty: the demo key */
    int send_key;               /* tell the host the key path on the next run() */
} pm_plugin;

/* key.c: key loading in the worker, state save and restore. */
extern const LV2_Worker_Interface pm_worker_interface;
extern const void *pm_state_interface_ptr(void);
/* Ask the worker to load a key file (from run(): copies the path, no allocation). */
void pm_request_key(pm_plugin *p, const char *path, uint32_t len);
#endif
