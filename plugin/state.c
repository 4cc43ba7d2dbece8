/*
 * State: the chosen key file's path, kept whether or not it loads, so that saving a
 * session whose key went missing does not erase the user's choice.
 *
 * The path is stored through the host's mapPath (the state extension's portable form;
 * Ardour and lilv hosts link a file outside the session into it). Beside it the key's
 * absolute location at saving time is kept as plain text: when the session folder has
 * been copied or moved and the host's link no longer resolves, that location is tried.
 * The key itself is never copied into the session: a session archive must not carry a
 * secret key. A key that is found nowhere leaves the plugin marking nothing, saying so.
 */
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

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

static LV2_State_Map_Path *map_path(const LV2_Feature *const *features)
{
    const LV2_Feature *f = find(features, LV2_STATE__mapPath);
    return f ? f->data : NULL;
}

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store,
                             LV2_State_Handle sh, uint32_t flags,
                             const LV2_Feature *const *features)
{
    (void)flags;
    pm_plugin *p = h;
    char *chosen = malloc(PM_PATH_MAX);
    if (!chosen)
        return LV2_STATE_ERR_UNKNOWN;
    if (!p->map || !pm_key_path_copy(p, chosen)) {
        free(chosen);
        return LV2_STATE_SUCCESS; /* the demo key needs no state */
    }
    LV2_State_Map_Path *mp = map_path(features);
    char *apath = mp ? mp->abstract_path(mp->handle, chosen) : NULL;
    const char *path = apath ? apath : chosen;
    LV2_State_Status st = store(sh, p->uris.key, path, strlen(path) + 1, p->uris.atom_Path,
                                LV2_STATE_IS_POD);
    free_host_path(features, apath);
    /* Where the key is now, or (missing) where it was when the session was last restored. */
    char *real = realpath(chosen, NULL);
    const char *origin = real ? real : p->key_origin[0] ? p->key_origin : NULL;
    if (st == LV2_STATE_SUCCESS && origin)
        st = store(sh, p->uris.key_origin, origin, strlen(origin) + 1, p->uris.atom_String,
                   LV2_STATE_IS_POD);
    free(real);
    free(chosen);
    return st;
}

/* A string property of saved state (untrusted: need not be terminated) into buf;
 * 1 if present and valid. */
static int retrieve_text(LV2_State_Retrieve_Function retrieve, LV2_State_Handle sh,
                         LV2_URID key, LV2_URID want_type, char *buf, size_t cap)
{
    size_t size;
    uint32_t type, vflags;
    const char *value = retrieve(sh, key, &size, &type, &vflags);
    if (!value || type != want_type || size == 0 || size >= cap)
        return 0;
    memcpy(buf, value, size);
    buf[size] = '\0';
    return buf[0] != '\0';
}

/* Not concurrent with run() (no threadSafeRestore), so the key is loaded here directly. */
static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle sh, uint32_t flags,
                                const LV2_Feature *const *features)
{
    (void)flags;
    pm_plugin *p = h;
    if (!p->map)
        return LV2_STATE_SUCCESS;
    char stored[PM_PATH_MAX];
    if (!retrieve_text(retrieve, sh, p->uris.key, p->uris.atom_Path, stored, sizeof stored))
        return LV2_STATE_SUCCESS; /* no key in this state: the current choice stays */
    if (!retrieve_text(retrieve, sh, p->uris.key_origin, p->uris.atom_String, p->key_origin,
                       sizeof p->key_origin))
        p->key_origin[0] = '\0';
    LV2_State_Map_Path *mp = map_path(features);
    char *mapped = mp ? mp->absolute_path(mp->handle, stored) : NULL;
    const char *paths[2] = {mapped ? mapped : stored, p->key_origin};
    /* A failure is reported on the key_state port and in a notify message; the state
     * itself was restored (the reference is kept), so the host is told success. */
    const int n = p->key_origin[0] && strcmp(paths[0], p->key_origin) != 0 ? 2 : 1;
    pm_key_load_now(p, paths, n);
    free_host_path(features, mapped);
    return LV2_STATE_SUCCESS;
}

const LV2_State_Interface pm_state_interface = {save, restore};
