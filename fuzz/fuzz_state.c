/*
 * Arbitrary saved state restored into the LV2 plugin: the key property's value,
 * size and type come from the input; the plugin must refuse or load it, then
 * still produce finite audio.
 */
#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

const LV2_Descriptor *lv2_descriptor(uint32_t index);

static const char *uris[64];
static uint32_t n_uris;

static LV2_URID map(LV2_URID_Map_Handle h, const char *uri)
{
    (void)h;
    for (uint32_t i = 0; i < n_uris; i++)
        if (!strcmp(uris[i], uri))
            return i + 1;
    if (n_uris == 64)
        return 0;
    uris[n_uris] = strdup(uri);
    return ++n_uris;
}

typedef struct blob {
    const uint8_t *p;
    size_t n;
    uint32_t type;
} blob;

static const void *retrieve(LV2_State_Handle h, uint32_t key, size_t *size, uint32_t *type,
                            uint32_t *flags)
{
    (void)key;
    const blob *b = h;
    *size = b->n;
    *type = b->type;
    *flags = LV2_STATE_IS_POD;
    return b->p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    LV2_URID_Map m = {NULL, map};
    const LV2_Feature fmap = {LV2_URID__map, &m};
    const LV2_Feature *features[] = {&fmap, NULL};
    const LV2_Descriptor *d = lv2_descriptor(data[0] & 1);
    LV2_Handle h = d->instantiate(d, 48000, "/nonexistent", features);
    if (!h)
        return 0;
    const LV2_State_Interface *st = d->extension_data(LV2_STATE__interface);
    /* Mostly a path, sometimes another type: both must be handled. */
    blob b = {data + 1, size - 1, data[0] & 2 ? map(NULL, LV2_ATOM__String) : map(NULL, LV2_ATOM__Path)};
    st->restore(h, retrieve, &b, 0, features);
    float in[2][256], out[2][256], ctl[PM_PORT_CONTROL] = {0};
    ctl[PM_PORT_MODEL] = 7, ctl[PM_PORT_DATASET] = 42, ctl[PM_PORT_STRENGTH] = 1, ctl[PM_PORT_ENABLED] = 1;
    for (int i = 0; i < 256; i++)
        in[0][i] = in[1][i] = sinf(0.05f * i) * 0.3f;
    const int ch = data[0] & 1 ? 1 : 2;
    for (int c = 0; c < ch; c++) {
        d->connect_port(h, (uint32_t)(PM_PORT_AUDIO + c), in[c]);
        d->connect_port(h, (uint32_t)(PM_PORT_AUDIO + ch + c), out[c]);
    }
    for (uint32_t port = 0; port < PM_PORT_CONTROL; port++)
        d->connect_port(h, port, &ctl[port]);
    d->activate(h);
    for (int k = 0; k < 8; k++)
        d->run(h, 256);
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < 256; i++)
            if (!isfinite(out[c][i]))
                abort();
    d->cleanup(h);
    return 0;
}
