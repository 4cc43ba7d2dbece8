/*
 * The key file parameter: loaded by the worker (file I/O and allocation stay
 * out of run()), handed to the embedder as a precomputed schedule, saved and
 * restored as a mapped path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/state/state.h>

#include "plugin.h"

enum { MSG_LOAD = 1, MSG_FREE = 2 };

typedef struct load_msg {
    int type;
    char path[PM_PATH_MAX];
} load_msg;

typedef struct schedule_msg {
    int type;
    pm_key_schedule *ks;
    char path[PM_PATH_MAX];
} schedule_msg;

void pm_request_key(pm_plugin *p, const char *path, uint32_t len)
{
    if (!p->schedule) {
        lv2_log_warning(&p->logger, "provmark: host has no worker; key file not loaded\n");
        return;
    }
    load_msg m = {.type = MSG_LOAD};
    if (len >= sizeof m.path)
        return;
    memcpy(m.path, path, len);
    m.path[len] = '\0';
    p->schedule->schedule_work(p->schedule->handle, sizeof m, &m);
}

/* Read a key file into a schedule; NULL (with a log line) on failure. */
static pm_key_schedule *load(pm_plugin *p, const char *path)
{
    pm_key key;
    pm_key_schedule *ks = NULL;
    int rc = pm_key_load(&key, path);
    if (rc == PM_OK)
        rc = pm_key_schedule_new(&ks, &key);
    memset(&key, 0, sizeof key);
    if (rc != PM_OK) {
        lv2_log_error(&p->logger, "provmark: %s: %s\n", path, pm_strerror(rc));
        return NULL;
    }
    return ks;
}

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    pm_plugin *p = h;
    /* Hosts need not align worker messages: copy them before reading any field. */
    int type = 0;
    if (size >= sizeof type)
        memcpy(&type, data, sizeof type);
    if (type == MSG_FREE && size == sizeof(schedule_msg)) {
        schedule_msg m;
        memcpy(&m, data, sizeof m);
        pm_key_schedule_free(m.ks);
    } else if (type == MSG_LOAD && size == sizeof(load_msg)) {
        static load_msg m; /* the worker runs one job at a time; keeps 4 KB off its stack */
        memcpy(&m, data, sizeof m);
        m.path[sizeof m.path - 1] = '\0';
        schedule_msg r = {.type = MSG_LOAD, .ks = load(p, m.path)};
        if (r.ks) {
            memcpy(r.path, m.path, sizeof r.path);
            respond(rh, sizeof r, &r);
        }
    }
    return LV2_WORKER_SUCCESS;
}

/* Runs in the audio thread: swap the key in (a copy, no allocation), free the old one later. */
static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
    pm_plugin *p = h;
    if (size != sizeof(schedule_msg))
        return LV2_WORKER_ERR_UNKNOWN;
    schedule_msg m;
    memcpy(&m, data, sizeof m); /* hosts need not align worker messages */
    pm_embedder_set_key_schedule(p->emb, m.ks);
    memcpy(p->key_path, m.path, sizeof p->key_path);
    p->send_key = 1;
    m.type = MSG_FREE;
    p->schedule->schedule_work(p->schedule->handle, sizeof m, &m);
    return LV2_WORKER_SUCCESS;
}

const LV2_Worker_Interface pm_worker_interface = {work, work_response, NULL};

static const LV2_Feature *find(const LV2_Feature *const *features, const char *uri)
{
    for (int i = 0; features && features[i]; i++)
        if (!strcmp(features[i]->URI, uri))
            return features[i];
    return NULL;
}

/* Release a path made by the host's mapPath feature, with its freePath if it has one. */
static void free_host_path(const LV2_Feature *const *features, char *path)
{
    if (!path)
        return;
    const LV2_Feature *f = find(features, LV2_STATE__freePath);
    const LV2_State_Free_Path *fp = f ? f->data : NULL;
    if (fp)
        fp->free_path(fp->handle, path);
    else
        free(path);
}

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store,
                             LV2_State_Handle sh, uint32_t flags,
                             const LV2_Feature *const *features)
{
    (void)flags;
    pm_plugin *p = h;
    if (!p->map || !p->key_path[0])
        return LV2_STATE_SUCCESS; /* the demo key needs no state */
    const LV2_Feature *f = find(features, LV2_STATE__mapPath);
    LV2_State_Map_Path *mp = f ? f->data : NULL;
    char *apath = mp ? mp->abstract_path(mp->handle, p->key_path) : NULL;
    const char *path = apath ? apath : p->key_path;
    LV2_State_Status st = store(sh, p->uris.key, path, strlen(path) + 1, p->uris.atom_Path,
                                LV2_STATE_IS_POD);
    free_host_path(features, apath);
    return st;
}

/* Not concurrent with run() (no threadSafeRestore), so the key is applied directly. */
static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle sh, uint32_t flags,
                                const LV2_Feature *const *features)
{
    (void)flags;
    pm_plugin *p = h;
    if (!p->map)
        return LV2_STATE_SUCCESS;
    size_t size;
    uint32_t type, vflags;
    const char *value = retrieve(sh, p->uris.key, &size, &type, &vflags);
    if (!value || type != p->uris.atom_Path)
        return LV2_STATE_SUCCESS;
    /* Saved state is untrusted input: the value need not be NUL-terminated. */
    char stored[PM_PATH_MAX];
    if (size == 0 || size >= sizeof stored)
        return LV2_STATE_ERR_UNKNOWN;
    memcpy(stored, value, size);
    stored[size] = '\0';
    value = stored;
    const LV2_Feature *f = find(features, LV2_STATE__mapPath);
    LV2_State_Map_Path *mp = f ? f->data : NULL;
    char *path = mp ? mp->absolute_path(mp->handle, value) : NULL;
    const char *use = path ? path : value;
    pm_key_schedule *ks = load(p, use);
    if (ks) {
        pm_embedder_set_key_schedule(p->emb, ks);
        pm_key_schedule_free(ks);
        snprintf(p->key_path, sizeof p->key_path, "%s", use);
        p->send_key = 1;
    }
    free_host_path(features, path);
    return ks ? LV2_STATE_SUCCESS : LV2_STATE_ERR_UNKNOWN;
}

static const LV2_State_Interface state_interface = {save, restore};

const void *pm_state_interface_ptr(void) { return &state_interface; }
