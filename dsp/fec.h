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

/*
 * List decoding: the n most likely words (1 <= n <= PM_FEC_MAX_LIST), best first, into
 * info[0 .. n); info[0] is pm_fec_decode()'s word. `trail` is the caller's scratch of
 * PM_FEC_LIST_TRAIL(n) bytes (the trace-back of every state's n best paths). Returns the
 * number of words written: n, as the code has far more words than that.
 */
#define PM_FEC_MAX_LIST 8
#define PM_FEC_LIST_TRAIL(n) ((size_t)PMF_INFO_BITS * (1u << (PMF_CODE_K - 1)) * (size_t)(n))
int pm_fec_decode_list(const float soft[PMF_CODED_BITS], int n, uint8_t *trail,
                       uint8_t (*info)[PMF_PAYLOAD_BITS]);
#endif
