/* The convolutional code: clean round trip, correction of injected errors, soft erasures;
 * the list decoder's words, their order, and what it finds that the first word misses. */
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

/* The correlation of soft values with a word's codeword: the metric both decoders maximise. */
static double metric_of(const float *soft, const uint8_t info[PMF_PAYLOAD_BITS])
{
    uint8_t coded[PMF_CODED_BITS];
    pm_fec_encode(info, coded);
    double m = 0.0;
    for (int i = 0; i < PMF_CODED_BITS; i++)
        m += coded[i] ? -soft[i] : soft[i];
    return m;
}

/* Soft values of a random word under noise that Viterbi often does not survive. */
static void noisy_codeword(unsigned *seed, uint8_t info[PMF_PAYLOAD_BITS], float soft[PMF_CODED_BITS], float sigma)
{
    random_codeword(seed, info, soft);
    for (int i = 0; i < PMF_CODED_BITS; i++) {
        float n = 0.0f;
        for (int j = 0; j < 12; j++)
            n += (float)rand_r(seed) / RAND_MAX;
        soft[i] += sigma * (n - 6.0f);
    }
}

/*
 * The list: its first word is pm_fec_decode()'s, its words are distinct and in order of
 * metric, and no word one or two payload bits away from the best is better than the last
 * word of the list unless it is in the list (the list is the n best, not n good ones).
 */
static void list_is_the_best_words_in_order(void **state)
{
    static uint8_t trail[PM_FEC_LIST_TRAIL(PM_FEC_MAX_LIST)];
    unsigned seed = 21;
    for (int trial = 0; trial < 20; trial++) {
        uint8_t info[PMF_PAYLOAD_BITS], first[PMF_PAYLOAD_BITS], list[PM_FEC_MAX_LIST][PMF_PAYLOAD_BITS];
        float soft[PMF_CODED_BITS];
        noisy_codeword(&seed, info, soft, 0.6f);
        pm_fec_decode(soft, first);
        assert_int_equal(pm_fec_decode_list(soft, PM_FEC_MAX_LIST, trail, list), PM_FEC_MAX_LIST);
        assert_memory_equal(first, list[0], PMF_PAYLOAD_BITS);
        for (int i = 1; i < PM_FEC_MAX_LIST; i++) {
            assert_true(metric_of(soft, list[i]) <= metric_of(soft, list[i - 1]) + 1e-3);
            for (int j = 0; j < i; j++)
                assert_memory_not_equal(list[i], list[j], PMF_PAYLOAD_BITS);
        }
        const double last = metric_of(soft, list[PM_FEC_MAX_LIST - 1]);
        for (int a = 0; a < PMF_PAYLOAD_BITS; a++)
            for (int b = a; b < PMF_PAYLOAD_BITS; b++) {
                uint8_t w[PMF_PAYLOAD_BITS];
                memcpy(w, list[0], sizeof w);
                w[a] ^= 1u;
                if (b != a)
                    w[b] ^= 1u;
                int listed = 0;
                for (int j = 0; j < PM_FEC_MAX_LIST; j++)
                    listed |= !memcmp(w, list[j], PMF_PAYLOAD_BITS);
                assert_true(listed || metric_of(soft, w) <= last + 1e-3);
            }
    }
}

/* Where the first word is wrong, the sent one is often among the next: the reason for the list. */
static void list_finds_what_the_first_word_misses(void **state)
{
    static uint8_t trail[PM_FEC_LIST_TRAIL(PM_FEC_MAX_LIST)];
    unsigned seed = 5;
    int first_wrong = 0, listed = 0;
    for (int trial = 0; trial < 300; trial++) {
        uint8_t info[PMF_PAYLOAD_BITS], list[PM_FEC_MAX_LIST][PMF_PAYLOAD_BITS];
        float soft[PMF_CODED_BITS];
        noisy_codeword(&seed, info, soft, 1.3f);
        const int n = pm_fec_decode_list(soft, PM_FEC_MAX_LIST, trail, list);
        if (!memcmp(list[0], info, PMF_PAYLOAD_BITS))
            continue;
        first_wrong++;
        for (int i = 1; i < n; i++)
            listed += !memcmp(list[i], info, PMF_PAYLOAD_BITS);
    }
    print_message("list: %d of %d words the first word missed are in the list\n", listed, first_wrong);
    assert_true(first_wrong >= 30);
    assert_true(listed * 5 >= first_wrong);
}

/* Sizes outside 1 .. PM_FEC_MAX_LIST write nothing. */
static void list_size_bounds(void **state)
{
    static uint8_t trail[PM_FEC_LIST_TRAIL(PM_FEC_MAX_LIST)];
    uint8_t list[PM_FEC_MAX_LIST][PMF_PAYLOAD_BITS];
    float soft[PMF_CODED_BITS] = {0};
    assert_int_equal(pm_fec_decode_list(soft, 0, trail, list), 0);
    assert_int_equal(pm_fec_decode_list(soft, PM_FEC_MAX_LIST + 1, trail, list), 0);
    assert_int_equal(pm_fec_decode_list(soft, 1, trail, list), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_round_trip),
        cmocka_unit_test(corrects_hard_errors),
        cmocka_unit_test(survives_erasures_and_noise),
        cmocka_unit_test(all_wrong_is_not_decoded_as_right),
        cmocka_unit_test(list_is_the_best_words_in_order),
        cmocka_unit_test(list_finds_what_the_first_word_misses),
        cmocka_unit_test(list_size_bounds),
    };
    return cmocka_run_group_tests_name("fec", tests, NULL, NULL);
}
