/*
 * LV2 plugin: real-time provenance watermarking. Everything is allocated in
 * instantiate(); run() only reads ports, forwards changes to the embedder
 * (which applies them at payload boundaries or, for bypass, the next frame)
 * and processes the block in place or out of place, any length.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>

#include "plugin.h"

static void map_uris(pm_plugin *p)
{
    LV2_URID_Map *m = p->map;
    p->uris.atom_Path = m->map(m->handle, LV2_ATOM__Path);
    p->uris.atom_Object = m->map(m->handle, LV2_ATOM__Object);
    p->uris.atom_URID = m->map(m->handle, LV2_ATOM__URID);
    p->uris.atom_Sequence = m->map(m->handle, LV2_ATOM__Sequence);
    p->uris.patch_Set = m->map(m->handle, LV2_PATCH__Set);
    p->uris.patch_Get = m->map(m->handle, LV2_PATCH__Get);
    p->uris.patch_property = m->map(m->handle, LV2_PATCH__property);
    p->uris.patch_value = m->map(m->handle, LV2_PATCH__value);
    p->uris.key = m->map(m->handle, PM_URI_KEY);
}

static LV2_Handle instantiate(const LV2_Descriptor *desc, double rate, const char *bundle,
                              const LV2_Feature *const *features)
{
    (void)bundle;
    pm_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->channels = strcmp(desc->URI, PM_URI_MONO) == 0 ? 1 : 2;
    p->rate = rate;
    LV2_Log_Log *log = NULL;
    for (int i = 0; features && features[i]; i++) {
        if (!strcmp(features[i]->URI, LV2_URID__map))
            p->map = features[i]->data;
        else if (!strcmp(features[i]->URI, LV2_WORKER__schedule))
            p->schedule = features[i]->data;
        else if (!strcmp(features[i]->URI, LV2_LOG__log))
            log = features[i]->data;
    }
    lv2_log_logger_init(&p->logger, p->map, log);
    if (p->map) {
        map_uris(p);
        lv2_atom_forge_init(&p->forge, p->map);
    }
    /* Hosts with no way to set the key parameter (ffmpeg, lv2apply) name the key
     * file in the environment; a key that cannot be read stops instantiation
     * rather than marking with the wrong key. */
    pm_key key;
    const char *env = getenv("PROVMARK_KEY");
    int rc = PM_OK;
    if (env && *env) {
        rc = pm_key_load(&key, env);
        if (rc != PM_OK) {
            lv2_log_error(&p->logger, "provmark: PROVMARK_KEY=%s: %s\n", env, pm_strerror(rc));
            free(p);
            return NULL;
        }
        char *abs = realpath(env, NULL); /* saved with the state: make it absolute */
        if (abs && strlen(abs) < sizeof p->key_path)
            memcpy(p->key_path, abs, strlen(abs) + 1);
        free(abs);
    } else {
        pm_key_demo(&key);
        lv2_log_note(&p->logger, "provmark: using the public demo key until a key file is set; "
                                 "its marks prove nothing\n");
    }
    p->strength = PM_STRENGTH_DEFAULT;
    p->enabled = 1;
    rc = pm_embedder_new(&p->emb, rate, p->channels, &key, 0, 0, p->strength);
    memset(&key, 0, sizeof key);
    if (rc != PM_OK) {
        lv2_log_error(&p->logger, "provmark: cannot start: %s\n", pm_strerror(rc));
        free(p);
        return NULL;
    }
    return p;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
    pm_plugin *p = h;
    const uint32_t audio = 2u * (uint32_t)p->channels;
    if (port < audio) {
        if (port < (uint32_t)p->channels)
            p->in[port] = data;
        else
            p->out[port - (uint32_t)p->channels] = data;
        return;
    }
    uint32_t c = port - audio;
    if (c == PORT_CONTROL)
        p->control = data;
    else if (c == PORT_NOTIFY)
        p->notify = data;
    else if (c == PORT_LATENCY || c == PORT_LEVEL || c == PORT_EMBEDDING)
        p->ctl_out[c] = data;
    else if (c < N_CONTROL_PORTS)
        p->ctl[c] = data;
}

static void activate(LV2_Handle h)
{
    pm_plugin *p = h;
    pm_embedder_reset(p->emb);
}

static uint32_t id_of(const float *port, uint32_t current)
{
    if (!port || !isfinite(*port))
        return current;
    float v = *port;
    if (v < 0.0f)
        v = 0.0f;
    if (v > (float)PM_ID_MAX)
        v = (float)PM_ID_MAX;
    return (uint32_t)lrintf(v);
}

static void read_controls(pm_plugin *p)
{
    uint32_t model = id_of(p->ctl[PORT_MODEL], p->model);
    uint32_t dataset = id_of(p->ctl[PORT_DATASET], p->dataset);
    if (model != p->model || dataset != p->dataset) {
        p->model = model;
        p->dataset = dataset;
        pm_embedder_set_ids(p->emb, model, dataset);
    }
    const float *s = p->ctl[PORT_STRENGTH];
    if (s && isfinite(*s) && *s != p->strength) {
        float v = *s < PM_STRENGTH_MIN ? PM_STRENGTH_MIN : *s > PM_STRENGTH_MAX ? PM_STRENGTH_MAX : *s;
        p->strength = *s;
        pm_embedder_set_strength(p->emb, v);
    }
    const float *en = p->ctl[PORT_ENABLED];
    int enabled = en ? *en > 0.0f : 1;
    if (enabled != p->enabled) {
        p->enabled = enabled;
        pm_embedder_set_bypass(p->emb, !enabled);
    }
}

/* patch:Set of the key path starts a load in the worker; patch:Get asks for it. */
static void read_messages(pm_plugin *p)
{
    if (!p->control || !p->map)
        return;
    LV2_ATOM_SEQUENCE_FOREACH (p->control, ev) {
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (ev->body.type != p->uris.atom_Object)
            continue;
        if (obj->body.otype == p->uris.patch_Get) {
            p->send_key = 1;
        } else if (obj->body.otype == p->uris.patch_Set) {
            const LV2_Atom *prop = NULL, *value = NULL;
            lv2_atom_object_get(obj, p->uris.patch_property, &prop, p->uris.patch_value, &value, 0);
            if (prop && prop->type == p->uris.atom_URID &&
                ((const LV2_Atom_URID *)prop)->body == p->uris.key && value &&
                value->type == p->uris.atom_Path)
                pm_request_key(p, LV2_ATOM_BODY_CONST(value), value->size);
        }
    }
}

static void write_notify(pm_plugin *p)
{
    if (!p->notify || !p->map)
        return;
    const uint32_t capacity = p->notify->atom.size;
    lv2_atom_forge_set_buffer(&p->forge, (uint8_t *)p->notify, capacity);
    LV2_Atom_Forge_Frame seq;
    lv2_atom_forge_sequence_head(&p->forge, &seq, 0);
    if (p->send_key) {
        p->send_key = 0;
        LV2_Atom_Forge_Frame obj;
        lv2_atom_forge_frame_time(&p->forge, 0);
        lv2_atom_forge_object(&p->forge, &obj, 0, p->uris.patch_Set);
        lv2_atom_forge_key(&p->forge, p->uris.patch_property);
        lv2_atom_forge_urid(&p->forge, p->uris.key);
        lv2_atom_forge_key(&p->forge, p->uris.patch_value);
        lv2_atom_forge_path(&p->forge, p->key_path, (uint32_t)strlen(p->key_path));
        lv2_atom_forge_pop(&p->forge, &obj);
    }
    lv2_atom_forge_pop(&p->forge, &seq);
}

static void run(LV2_Handle h, uint32_t n)
{
    pm_plugin *p = h;
#if defined(__SSE__)
    const unsigned int csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040); /* flush denormals to zero, treat denormal inputs as zero */
#endif
    read_controls(p);
    read_messages(p);
    if (p->in[0] && p->out[0] && (p->channels == 1 || (p->in[1] && p->out[1])))
        pm_embedder_process_planar(p->emb, (const float *const *)p->in, p->out, n);
    if (p->ctl_out[PORT_LATENCY])
        *p->ctl_out[PORT_LATENCY] = (float)pm_embedder_latency(p->emb);
    double level = pm_embedder_mark_level_db(p->emb);
    if (p->ctl_out[PORT_LEVEL])
        *p->ctl_out[PORT_LEVEL] = isfinite(level) ? (float)(level < -120 ? -120 : level) : -120.0f;
    if (p->ctl_out[PORT_EMBEDDING])
        *p->ctl_out[PORT_EMBEDDING] = p->enabled && isfinite(level) ? 1.0f : 0.0f;
    write_notify(p);
#if defined(__SSE__)
    _mm_setcsr(csr);
#endif
}

static void cleanup(LV2_Handle h)
{
    pm_plugin *p = h;
    pm_embedder_free(p->emb);
    free(p);
}

static const void *extension_data(const char *uri)
{
    if (!strcmp(uri, LV2_WORKER__interface))
        return &pm_worker_interface;
    if (!strcmp(uri, "http://lv2plug.in/ns/ext/state#interface"))
        return pm_state_interface_ptr();
    return NULL;
}

static const LV2_Descriptor descriptors[] = {
    {PM_URI_STEREO, instantiate, connect_port, activate, run, NULL, cleanup, extension_data},
    {PM_URI_MONO, instantiate, connect_port, activate, run, NULL, cleanup, extension_data},
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    return index < 2 ? &descriptors[index] : NULL;
}
