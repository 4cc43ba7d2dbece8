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
    uint8_t from_bit[PMF_INFO_BITS][NSTATES]; /* survivor: the input bit into each state */
    uint8_t from_lsb[PMF_INFO_BITS][NSTATES]; /* survivor: the bit that left the register */
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
        for (int s = 0; s < NSTATES; s++)
            next[s] = -FLT_MAX;
        int max_bit = t < PMF_PAYLOAD_BITS ? 1 : 0; /* the tail is all zeros */
        for (int s = 0; s < NSTATES; s++) {
            if (metric[s] == -FLT_MAX)
                continue;
            for (int b = 0; b <= max_bit; b++) {
                unsigned reg = (unsigned)b << (PMF_CODE_K - 1) | (unsigned)s;
                float m = metric[s] + branch[pattern[reg]];
                unsigned ns = reg >> 1;
                if (m > next[ns]) {
                    next[ns] = m;
                    from_bit[t][ns] = (uint8_t)b;
                    from_lsb[t][ns] = (uint8_t)(s & 1);
                }
            }
        }
        memcpy(metric, next, sizeof metric);
    }
    unsigned s = 0; /* terminated: the path ends in state 0 */
    for (int t = PMF_INFO_BITS - 1; t >= 0; t--) {
        unsigned b = from_bit[t][s];
        if (t < PMF_PAYLOAD_BITS)
            info[t] = (uint8_t)b;
        /* previous state = (new state << 1 | dropped bit) without the input bit */
        s = ((s << 1) | from_lsb[t][s]) & (NSTATES - 1);
    }
}
