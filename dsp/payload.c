#include "payload.h"

#include <sodium.h>

#include "provmark.h"

_Static_assert(PM_ID_MAX == (1L << PMF_ID_BITS) - 1, "an ID fills its field of the payload");

static uint32_t tag_of(const uint8_t mac_key[32], uint32_t version, uint32_t model,
                       uint32_t dataset)
{
    const uint8_t msg[7] = {(uint8_t)version,
                            (uint8_t)(model >> 16), (uint8_t)(model >> 8), (uint8_t)model,
                            (uint8_t)(dataset >> 16), (uint8_t)(dataset >> 8), (uint8_t)dataset};
    uint8_t h[16];
    crypto_generichash(h, sizeof h, msg, sizeof msg, mac_key, 32);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static void put(uint8_t *bits, int *pos, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        bits[(*pos)++] = (uint8_t)((v >> i) & 1u);
}

static uint32_t get(const uint8_t *bits, int *pos, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 1 | (bits[(*pos)++] & 1u);
    return v;
}

int pm_payload_pack(const uint8_t mac_key[32], int version, uint32_t model, uint32_t dataset,
                    uint8_t bits[PMF_PAYLOAD_BITS])
{
    if (model >> PMF_ID_BITS || dataset >> PMF_ID_BITS || version < 1 || version > PMF_VERSIONS)
        return -1;
    int pos = 0;
    put(bits, &pos, (uint32_t)version, PMF_VERSION_BITS);
    put(bits, &pos, model, PMF_ID_BITS);
    put(bits, &pos, dataset, PMF_ID_BITS);
    put(bits, &pos, tag_of(mac_key, (uint32_t)version, model, dataset), PMF_TAG_BITS);
    return 0;
}

int pm_payload_unpack(const uint8_t mac_key[32], int version, const uint8_t bits[PMF_PAYLOAD_BITS],
                      uint32_t *model, uint32_t *dataset)
{
    int pos = 0;
    uint32_t field = get(bits, &pos, PMF_VERSION_BITS);
    uint32_t m = get(bits, &pos, PMF_ID_BITS);
    uint32_t d = get(bits, &pos, PMF_ID_BITS);
    uint32_t tag = get(bits, &pos, PMF_TAG_BITS);
    if (version < 1 || field != (uint32_t)version || tag != tag_of(mac_key, field, m, d))
        return 0;
    *model = m;
    *dataset = d;
    return 1;
}
