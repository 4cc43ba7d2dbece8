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

/* Each register's output bits as one pattern: per step each pattern's metric is worked
 * out once (branch_metrics), and the inner loops read it. */
static void output_patterns(uint8_t pattern[2 * NSTATES])
{
    for (unsigned reg = 0; reg < 2 * NSTATES; reg++) {
        uint8_t o[PMF_CODE_RATE];
        outputs(reg, o);
        pattern[reg] = 0;
        for (int g = 0; g < PMF_CODE_RATE; g++)
            pattern[reg] |= (uint8_t)(o[g] << g);
    }
}

static void branch_metrics(const float y[PMF_CODE_RATE], float branch[1 << PMF_CODE_RATE])
{
    for (int p = 0; p < 1 << PMF_CODE_RATE; p++) {
        branch[p] = 0.0f;
        for (int g = 0; g < PMF_CODE_RATE; g++)
            branch[p] += (p >> g & 1) ? -y[g] : y[g];
    }
}

/*
 * The list Viterbi algorithm (every state keeps its n best paths, not one): entering a
 * state, the two predecessors' sorted lists, each plus its branch metric, are merged
 * and the n best kept. The trail records, per step, state and rank, the predecessor's
 * rank (low bits) and the bit that left the register (top bit).
 */
#define TRAIL_LSB 0x80u
_Static_assert(PM_FEC_MAX_LIST <= TRAIL_LSB, "a rank fits below the trail's register bit");

int pm_fec_decode_list(const float soft[PMF_CODED_BITS], int n, uint8_t *trail,
                       uint8_t (*info)[PMF_PAYLOAD_BITS])
{
    if (n < 1 || n > PM_FEC_MAX_LIST)
        return 0;
    float metric[NSTATES][PM_FEC_MAX_LIST], next[NSTATES][PM_FEC_MAX_LIST];
    uint8_t pattern[2 * NSTATES];
    output_patterns(pattern);
    /* Unreachable paths hold -FLT_MAX, which adding a branch metric leaves as it is (the
     * metrics are far below half an ulp of FLT_MAX), so they lose every comparison. */
    for (int s = 0; s < NSTATES; s++)
        for (int r = 0; r < n; r++)
            metric[s][r] = s == 0 && r == 0 ? 0.0f : -FLT_MAX;
    for (int t = 0; t < PMF_INFO_BITS; t++) {
        float branch[1 << PMF_CODE_RATE];
        branch_metrics(&soft[t * PMF_CODE_RATE], branch);
        /* State ns is entered with input bit ns >> (K - 2) from the two states 2 ns and
         * 2 ns + 1 (modulo NSTATES). The tail's input bits are zeros, so there only the
         * lower half of the states is entered. */
        const int n_next = t < PMF_PAYLOAD_BITS ? NSTATES : NSTATES / 2;
        uint8_t *row = trail + (size_t)t * NSTATES * (size_t)n;
        for (int ns = 0; ns < n_next; ns++) {
            const unsigned s0 = ((unsigned)ns << 1) & (NSTATES - 1), top = (unsigned)ns >> (PMF_CODE_K - 2);
            const unsigned reg0 = top << (PMF_CODE_K - 1) | s0;
            const float b0 = branch[pattern[reg0]], b1 = branch[pattern[reg0 | 1u]];
            /* Each list is taken at most n times in n steps, so neither runs out. */
            for (int r = 0, i0 = 0, i1 = 0; r < n; r++) {
                const float m0 = metric[s0][i0] + b0, m1 = metric[s0 | 1u][i1] + b1;
                const int one = m1 > m0; /* the lower state wins ties, as in pm_fec_decode */
                next[ns][r] = one ? m1 : m0;
                row[(size_t)ns * (size_t)n + (size_t)r] = (uint8_t)(one ? TRAIL_LSB | (unsigned)i1++ : (unsigned)i0++);
            }
        }
        for (int ns = n_next; ns < NSTATES; ns++)
            for (int r = 0; r < n; r++)
                next[ns][r] = -FLT_MAX;
        memcpy(metric, next, sizeof metric);
    }
    int found = 0;
    for (; found < n && metric[0][found] > -FLT_MAX; found++) {
        unsigned s = 0, r = (unsigned)found;
        for (int t = PMF_INFO_BITS - 1; t >= 0; t--) {
            if (t < PMF_PAYLOAD_BITS)
                info[found][t] = (uint8_t)(s >> (PMF_CODE_K - 2));
            const uint8_t e = trail[((size_t)t * NSTATES + s) * (size_t)n + r];
            s = ((s << 1) | (e >> 7)) & (NSTATES - 1);
            r = e & (TRAIL_LSB - 1u);
        }
    }
    return found;
}

/* The best word alone: the list of one, whose trail is one survivor bit per state and step. */
void pm_fec_decode(const float soft[PMF_CODED_BITS], uint8_t info[PMF_PAYLOAD_BITS])
{
    uint8_t trail[PM_FEC_LIST_TRAIL(1)] = {0}; /* every entry read is written first; cppcheck cannot tell */
    pm_fec_decode_list(soft, 1, trail, (uint8_t(*)[PMF_PAYLOAD_BITS])info);
}
