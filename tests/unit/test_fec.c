/* The convolutional code: clean round trip, correction of injected errors, soft erasures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fec.h"

static void random_bits(uint8_t *b, int n, unsigned *seed)
{
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(rand_r(seed) & 1);
}

static void to_soft(const uint8_t *coded, float *soft, float amp)
{
    for (int i = 0; i < PMF_CODED_BITS; i++)
        soft[i] = coded[i] ? -amp : amp;
}

/* A random payload, its code word, and the code word as clean soft values. */
static void random_codeword(unsigned *seed, uint8_t info[PMF_PAYLOAD_BITS], float soft[PMF_CODED_BITS])
{
    uint8_t coded[PMF_CODED_BITS];
    random_bits(info, PMF_PAYLOAD_BITS, seed);
    pm_fec_encode(info, coded);
    to_soft(coded, soft, 1.0f);
}

static void clean_round_trip(void **state)
{
    unsigned seed = 1;
    for (int trial = 0; trial < 50; trial++) {
        uint8_t info[PMF_PAYLOAD_BITS], out[PMF_PAYLOAD_BITS];
        float soft[PMF_CODED_BITS];
        random_codeword(&seed, info, soft);
        pm_fec_decode(soft, out);
        assert_memory_equal(info, out, PMF_PAYLOAD_BITS);
    }
}

static void corrects_hard_errors(void **state)
{
    /* The free distance of this code is 18: any 8 flipped bits spread apart are corrected. */
    unsigned seed = 7;
    for (int trial = 0; trial < 50; trial++) {
        uint8_t info[PMF_PAYLOAD_BITS], out[PMF_PAYLOAD_BITS];
        float soft[PMF_CODED_BITS];
        random_codeword(&seed, info, soft);
        int start = rand_r(&seed) % 30;
        for (int k = 0; k < 8; k++)
            soft[start + k * 30] = -soft[start + k * 30];
        pm_fec_decode(soft, out);
        assert_memory_equal(info, out, PMF_PAYLOAD_BITS);
    }
}

static void survives_erasures_and_noise(void **state)
{
    /* A third of the coded bits erased (soft 0) and Gaussian-like noise on the rest. */
    unsigned seed = 11;
    int ok = 0;
    for (int trial = 0; trial < 40; trial++) {
        uint8_t info[PMF_PAYLOAD_BITS], out[PMF_PAYLOAD_BITS];
        float soft[PMF_CODED_BITS];
        random_codeword(&seed, info, soft);
        for (int i = 0; i < PMF_CODED_BITS; i++) {
            float n = 0.0f;
            for (int j = 0; j < 12; j++)
                n += (float)rand_r(&seed) / RAND_MAX;
            soft[i] += 0.5f * (n - 6.0f);
            if (i % 3 == trial % 3)
                soft[i] = 0.0f;
        }
        pm_fec_decode(soft, out);
        ok += memcmp(info, out, PMF_PAYLOAD_BITS) == 0;
    }
    assert_true(ok >= 38);
}

static void all_wrong_is_not_decoded_as_right(void **state)
{
    uint8_t info[PMF_PAYLOAD_BITS] = {0}, coded[PMF_CODED_BITS], out[PMF_PAYLOAD_BITS];
    float soft[PMF_CODED_BITS];
    info[3] = info[40] = 1;
    pm_fec_encode(info, coded);
    to_soft(coded, soft, -1.0f); /* every coded bit inverted */
    pm_fec_decode(soft, out);
    assert_memory_not_equal(info, out, PMF_PAYLOAD_BITS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_round_trip),
        cmocka_unit_test(corrects_hard_errors),
        cmocka_unit_test(survives_erasures_and_noise),
        cmocka_unit_test(all_wrong_is_not_decoded_as_right),
    };
    return cmocka_run_group_tests_name("fec", tests, NULL, NULL);
}
