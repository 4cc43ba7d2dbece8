/*
 * Rate-1/3, constraint-length-9 convolutional code (generators 557, 663, 711
 * octal), terminated with K-1 zero bits, and its soft-decision Viterbi decoder.
 */
#ifndef PM_FEC_H
#define PM_FEC_H
#include <stdint.h>

#include "format.h"

/* info: PMF_PAYLOAD_BITS bits; coded: PMF_CODED_BITS bits (0/1). */
void pm_fec_encode(const uint8_t info[PMF_PAYLOAD_BITS], uint8_t coded[PMF_CODED_BITS]);
/*
 * soft[i] > 0 favours coded bit 0, < 0 favours 1; magnitude is confidence.
 * Writes the maximum-likelihood PMF_PAYLOAD_BITS info bits.
 */
void pm_fec_decode(const float soft[PMF_CODED_BITS], uint8_t info[PMF_PAYLOAD_BITS]);
#endif
