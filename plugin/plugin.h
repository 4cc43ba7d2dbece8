/* The provmark LV2 plugin: the instance shared by its modules (ports, key choice, state). */
#ifndef PM_PLUGIN_H
#define PM_PLUGIN_H
#include <stdatomic.h>

#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "ports.h"
#include "provmark.h"

#define PM_URI_STEREO "urn:provmark:stereo"
#define PM_URI_MONO "urn:provmark:mono"
#define PM_URI_KEY "urn:provmark:key"
#define PM_URI_KEY_STATUS "urn:provmark:keyStatus"
#define PM_URI_KEY_ORIGIN "urn:provmark:keyOrigin"
/* Longest key file path, with its NUL (Linux PATH_MAX). */
#define PM_PATH_MAX 4096
/* Longest status line sent to the host, with its NUL. */
#define PM_STATUS_MAX 160
/* A chosen key that the worker has not answered for this long (seconds of audio) has
 * failed: the host dropped the request (some hosts ignore a full queue silently). */
#define PM_KEY_TIMEOUT_SECONDS 10

typedef struct pm_uris {
    LV2_URID atom_Path, atom_Object, atom_URID, atom_Sequence, atom_String;
    LV2_URID patch_Set, patch_Get, patch_property, patch_value;
    LV2_URID key, key_status, key_origin;
} pm_uris;

/* A key loaded by the worker, handed to run() by pointer and freed again by the worker. */
typedef struct pm_loaded pm_loaded;

typedef struct pm_plugin {
    int channels;
    double rate;
    const float *in[2];
    float *out[2];
    const float *ctl[PM_N_CONTROLS];
    float *ctl_out[PM_N_CONTROLS];
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

    /* The key choice, owned by the audio thread (run(), work_response(), restore()). */
    pm_key_state key_state;
    char key_path[PM_PATH_MAX];     /* the key file the user chose; empty: none (demo key) */
    char key_origin[PM_PATH_MAX];   /* as restored: where the chosen key was when saved */
    char key_status[PM_STATUS_MAX]; /* one line for the user: which key marks, or why none */
    char fingerprint[17];           /* public fingerprint of the chosen key, once loaded */
    int key_adopting;               /* the chosen key is loaded, the embedder adopts it */
    unsigned char msg[8 + PM_PATH_MAX]; /* the request being sent to the worker */
    uint32_t key_gen;               /* number of the latest load request */
    uint64_t key_wait;              /* frames run since that request */
    int send_key;                   /* tell the host the key and its status on the next run() */

    /* Shared with the worker thread and save(), lock-free. */
    _Atomic uint32_t key_seq;         /* odd while run() writes key_path */
    _Atomic uint32_t lost_gen;        /* a load whose answer the host could not queue */
    _Atomic(pm_loaded *) garbage;     /* results run() is done with, for the worker to free */
} pm_plugin;

/* key.c: the key choice. Worker interface of the plugin. */
extern const LV2_Worker_Interface pm_worker_interface;
/* Called once from instantiate(): PROVMARK_KEY or the demo key; PM_OK or why not. */
int pm_key_choice_init(pm_plugin *p, pm_key *key);
/* From run(): the user chose the key file path[0..len) (not NUL-terminated); starts its
 * load in the worker. No allocation, no lock, no system call. */
void pm_key_choose(pm_plugin *p, const char *path, uint32_t len);
/* From run(), before processing: advance the state machine; 1 if the output may be marked
 * (the demo key while no key was chosen, or the chosen key once it is in use). */
int pm_key_may_mark(pm_plugin *p, uint32_t frames);
/* Not real-time (state restore): use the first of paths[0..n) that loads; if none does,
 * keep paths[0] as the chosen key, marked as failed (and logged). */
void pm_key_load_now(pm_plugin *p, const char *const *paths, int n);
/* From save() (any thread): the chosen path as of one instant; 0 if none. */
int pm_key_path_copy(pm_plugin *p, char out[PM_PATH_MAX]);
/* From cleanup(): free whatever the worker has not freed yet. */
void pm_key_choice_free(pm_plugin *p);

/* state.c: the state interface. */
extern const LV2_State_Interface pm_state_interface;
#endif
