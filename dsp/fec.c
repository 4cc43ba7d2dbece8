#include "fec.h"

#include <float.h>
#include <string.h>

#define NSTATES (1 << (PMF_CODE_K - 1))
static const unsigned gen[PMF_CODE_RATE] = {0557, 0663, 0711};

static unsigned parity(unsigned v)
{
    v ^= v >> 8;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return v & 1u;
}

/* Output bits for shift-register contents `reg` (newest bit in the MSB of K bits). */
static void outputs(unsigned reg, uint8_t out[PMF_CODE_RATE])
{
    for (int g = 0; g < PMF_CODE_RATE; g++)
        out[g] = (uint8_t)parity(reg & gen[g]);
}

void pm_fec_encode(const uint8_t info[PMF_PAYLOAD_BITS], uint8_t coded[PMF_CODED_BITS])
{
    unsigned state = 0;
    for (int t = 0; t < PMF_INFO_BITS; t++) {
        unsigned b = t < PMF_PAYLOAD_BITS ? info[t] & 1u : 0u;
        unsigned reg = b << (PMF_CODE_K - 1) | state;
        outputs(reg, &coded[t * PMF_CODE_RATE]);
        state = reg >> 1;
    }
}

void pm_fec_decode(const float soft[PMF_CODED_BITS], uint8_t info[PMF_PAYLOAD_BITS])
{
    float metric[NSTATES], next[NSTATES];
    /* Survivors: the bit that left the register on the way into each state. The input
     * bit into a state is its top bit, so it needs no record. */
    uint8_t from_lsb[PMF_INFO_BITS][NSTATES];
    /* Each register's output bits as one pattern, and per step each pattern's metric:
     * the branch metrics are read, not recomputed, in the inner loop. */
    uint8_t pattern[2 * NSTATES];
    for (unsigned reg = 0; reg < 2 * NSTATES; reg++) {
        uint8_t o[PMF_CODE_RATE];
        outputs(reg, o);
        pattern[reg] = 0;
        for (int g = 0; g < PMF_CODE_RATE; g++)
            pattern[reg] |= (uint8_t)(o[g] << g);
    }
    /* Unreachable states hold -FLT_MAX, which adding a branch metric leaves as it is
     * (the metrics are far below half an ulp of FLT_MAX), so they lose every comparison. */
    for (int s = 0; s < NSTATES; s++)
        metric[s] = s == 0 ? 0.0f : -FLT_MAX;
    for (int t = 0; t < PMF_INFO_BITS; t++) {
        const float *y = &soft[t * PMF_CODE_RATE];
        float branch[1 << PMF_CODE_RATE];
        for (int p = 0; p < 1 << PMF_CODE_RATE; p++) {
            branch[p] = 0.0f;
            for (int g = 0; g < PMF_CODE_RATE; g++)
                branch[p] += (p >> g & 1) ? -y[g] : y[g];
        }
        /* State ns is entered with input bit ns >> (K - 2) from the two states
         * 2 * ns and 2 * ns + 1 (modulo NSTATES); the lower wins ties. The tail's
         * input bits are zeros, so there only the lower half of the states is entered. */
        const int n_next = t < PMF_PAYLOAD_BITS ? NSTATES : NSTATES / 2;
        for (int ns = 0; ns < n_next; ns++) {
            const unsigned s0 = ((unsigned)ns << 1) & (NSTATES - 1), top = (unsigned)ns >> (PMF_CODE_K - 2);
            const unsigned reg0 = top << (PMF_CODE_K - 1) | s0;
            const float m0 = metric[s0] + branch[pattern[reg0]];
            const float m1 = metric[s0 | 1u] + branch[pattern[reg0 | 1u]];
            const int one = m1 > m0;
            next[ns] = one ? m1 : m0;
            from_lsb[t][ns] = (uint8_t)one;
        }
        for (int ns = n_next; ns < NSTATES; ns++)
            next[ns] = -FLT_MAX;
        memcpy(metric, next, sizeof metric);
    }
    unsigned s = 0; /* terminated: the path ends in state 0 */
    for (int t = PMF_INFO_BITS - 1; t >= 0; t--) {
        if (t < PMF_PAYLOAD_BITS)
            info[t] = (uint8_t)(s >> (PMF_CODE_K - 2));
        /* previous state = (new state << 1 | dropped bit) without the input bit */
        s = ((s << 1) | from_lsb[t][s]) & (NSTATES - 1);
    }
}
