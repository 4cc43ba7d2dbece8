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
    p->uris.atom_String = m->map(m->handle, LV2_ATOM__String);
    p->uris.patch_Set = m->map(m->handle, LV2_PATCH__Set);
    p->uris.patch_Get = m->map(m->handle, LV2_PATCH__Get);
    p->uris.patch_property = m->map(m->handle, LV2_PATCH__property);
    p->uris.patch_value = m->map(m->handle, LV2_PATCH__value);
    p->uris.key = m->map(m->handle, PM_URI_KEY);
    p->uris.key_status = m->map(m->handle, PM_URI_KEY_STATUS);
    p->uris.key_origin = m->map(m->handle, PM_URI_KEY_ORIGIN);
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
    int rc = pm_key_choice_init(p, &key);
    if (rc != PM_OK) {
        free(p);
        return NULL;
    }
    if (!p->schedule && p->key_state == PM_KEY_DEMO)
        lv2_log_warning(&p->logger, "provmark: this host cannot load key files (no worker): "
                                    "name the key file in PROVMARK_KEY\n");
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
    const uint32_t ch = (uint32_t)p->channels;
    switch (port) {
    case PM_PORT_CONTROL:
        p->control = data;
        break;
    case PM_PORT_NOTIFY:
        p->notify = data;
        break;
    case PM_PORT_LATENCY:
    case PM_PORT_LEVEL:
    case PM_PORT_EMBEDDING:
    case PM_PORT_KEY_STATE:
        p->ctl_out[port] = data;
        break;
    default:
        if (port < PM_N_CONTROLS)
            p->ctl[port] = data;
        else if (port < PM_PORT_AUDIO + ch)
            p->in[port - PM_PORT_AUDIO] = data;
        else if (port < PM_PORT_AUDIO + 2 * ch)
            p->out[port - PM_PORT_AUDIO - ch] = data;
    }
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
    uint32_t model = id_of(p->ctl[PM_PORT_MODEL], p->model);
    uint32_t dataset = id_of(p->ctl[PM_PORT_DATASET], p->dataset);
    /* The IDs are clamped to the accepted range; were one refused, it would be retried. */
    if ((model != p->model || dataset != p->dataset) &&
        pm_embedder_set_ids(p->emb, model, dataset) == PM_OK) {
        p->model = model;
        p->dataset = dataset;
    }
    const float *s = p->ctl[PM_PORT_STRENGTH];
    if (s && isfinite(*s) && *s != p->strength) {
        float v = *s < PM_STRENGTH_MIN ? PM_STRENGTH_MIN : *s > PM_STRENGTH_MAX ? PM_STRENGTH_MAX : *s;
        if (pm_embedder_set_strength(p->emb, v) == PM_OK) /* clamped: always accepted */
            p->strength = *s;
    }
    const float *en = p->ctl[PM_PORT_ENABLED];
    p->enabled = en ? *en > 0.0f : 1;
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
                pm_key_choose(p, LV2_ATOM_BODY_CONST(value), value->size);
        }
    }
}

/* patch:Set of one property; 0 if it did not fit. */
static int forge_set(pm_plugin *p, LV2_URID property, LV2_URID type, const char *text)
{
    LV2_Atom_Forge_Frame obj;
    const uint32_t len = (uint32_t)strlen(text);
    if (!lv2_atom_forge_frame_time(&p->forge, 0) ||
        !lv2_atom_forge_object(&p->forge, &obj, 0, p->uris.patch_Set))
        return 0;
    int ok = lv2_atom_forge_key(&p->forge, p->uris.patch_property) &&
             lv2_atom_forge_urid(&p->forge, property) &&
             lv2_atom_forge_key(&p->forge, p->uris.patch_value) &&
             lv2_atom_forge_typed_string(&p->forge, type, text, len);
    lv2_atom_forge_pop(&p->forge, &obj);
    return ok;
}

/* The key the user chose (never an empty path) and what became of it. */
static void write_notify(pm_plugin *p)
{
    if (!p->notify || !p->map)
        return;
    const uint32_t capacity = p->notify->atom.size;
    lv2_atom_forge_set_buffer(&p->forge, (uint8_t *)p->notify, capacity);
    LV2_Atom_Forge_Frame seq;
    if (!lv2_atom_forge_sequence_head(&p->forge, &seq, 0))
        return;
    /* Both messages or neither: a half-written pair is retried with the next run(). */
    const size_t need = 2 * 96 + strlen(p->key_path) + strlen(p->key_status);
    if (p->send_key && capacity >= need) {
        p->send_key = 0;
        if (p->key_path[0])
            forge_set(p, p->uris.key, p->uris.atom_Path, p->key_path);
        forge_set(p, p->uris.key_status, p->uris.atom_String, p->key_status);
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
    const int key_ok = pm_key_may_mark(p, n); /* also while bypassed: the key state moves on */
    const int marking = p->enabled && key_ok;
    pm_embedder_set_bypass(p->emb, !marking);
    if (p->in[0] && p->out[0] && (p->channels == 1 || (p->in[1] && p->out[1])) &&
        pm_embedder_process_planar(p->emb, (const float *const *)p->in, p->out, n) != PM_OK)
        for (int c = 0; c < p->channels; c++) /* not reached (valid arguments): keep the audio */
            memmove(p->out[c], p->in[c], sizeof(float) * n);
    if (p->ctl_out[PM_PORT_LATENCY])
        *p->ctl_out[PM_PORT_LATENCY] = (float)pm_embedder_latency(p->emb);
    double level = pm_embedder_mark_level_db(p->emb);
    if (p->ctl_out[PM_PORT_LEVEL])
        *p->ctl_out[PM_PORT_LEVEL] = isfinite(level) ? (float)(level < -120 ? -120 : level) : -120.0f;
    if (p->ctl_out[PM_PORT_EMBEDDING])
        *p->ctl_out[PM_PORT_EMBEDDING] = marking && isfinite(level) ? 1.0f : 0.0f;
    if (p->ctl_out[PM_PORT_KEY_STATE])
        *p->ctl_out[PM_PORT_KEY_STATE] = (float)p->key_state;
    write_notify(p);
#if defined(__SSE__)
    _mm_setcsr(csr);
#endif
}

static void cleanup(LV2_Handle h)
{
    pm_plugin *p = h;
    pm_embedder_free(p->emb);
    pm_key_choice_free(p);
    free(p);
}

static const void *extension_data(const char *uri)
{
    if (!strcmp(uri, LV2_WORKER__interface))
        return &pm_worker_interface;
    if (!strcmp(uri, LV2_STATE__interface))
        return &pm_state_interface;
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
