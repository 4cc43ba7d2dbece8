/* The 84-bit payload: version, model ID, dataset ID and a keyed integrity tag. */
#ifndef PM_PAYLOAD_H
#define PM_PAYLOAD_H
#include <stdint.h>

#include "format.h"

/* Pack a payload of format `version` into PMF_PAYLOAD_BITS bits (one bit per byte, MSB
 * first), tag included; -1 if an ID or the version is out of range. */
int pm_payload_pack(const uint8_t mac_key[32], int version, uint32_t model, uint32_t dataset,
                    uint8_t bits[PMF_PAYLOAD_BITS]);
/* Check that the version field is `version` (the geometry that carried the bits) and
 * the tag; on success store the IDs and return 1, else 0. */
int pm_payload_unpack(const uint8_t mac_key[32], int version, const uint8_t bits[PMF_PAYLOAD_BITS],
                      uint32_t *model, uint32_t *dataset);
#endif
