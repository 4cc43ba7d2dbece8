/* Key derivation: every pseudo-random choice of the format comes from one 256-bit key. */
#ifndef PM_KEY_H
#define PM_KEY_H
#include "provmark.h"

/* Sub-key for the layout keystream (chip signs, tile roles, bit placement). */
int pm_key_derive_layout(const pm_key *key, uint8_t out[32]);
/* Sub-key for the payload integrity tag. */
int pm_key_derive_mac(const pm_key *key, uint8_t out[32]);
/* Initialise libsodium once; safe to call from any thread. */
int pm_crypto_init(void);
#endif
