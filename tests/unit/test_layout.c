/* Framing in physical units at every supported rate, and the keyed period map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include "layout.h"

static const double rates[] = {16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000};

static void hop_is_the_same_duration_at_every_rate(void **state)
{
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        int hop = pm_hop_samples(rates[i]);
        assert_true(fabs(hop / rates[i] - PMF_HOP_SECONDS) <= 0.5 / rates[i]);
        int n = pm_fft_size(2 * hop);
        assert_true(n >= 2 * hop && n <= 2 * hop * 4 / 3 + 1);
        int r = n;
        while (r % 2 == 0)
            r /= 2;
        assert_true(r == 1 || r == 3 || r == 5);
    }
}

static void bands_sit_at_the_same_hertz_at_every_rate(void **state)
{
    const pm_bandplan *plan = pm_bandplan_get();
    assert_true(plan->n >= 30 && plan->n <= PMF_MAX_BANDS);
    assert_true(plan->edge[0] >= PMF_F_LO && plan->edge[plan->n] <= PMF_F_HI);
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        int lo[PMF_MAX_BANDS], hi[PMF_MAX_BANDS];
        int n = pm_fft_size(2 * pm_hop_samples(rates[i]));
        pm_band_bins(rates[i], n, 1.0, lo, hi);
        double bin_hz = rates[i] / n;
        for (int b = 0; b < plan->n; b++) {
            if (plan->edge[b + 1] >= rates[i] / 2)
                continue; /* above Nyquist at this rate */
            assert_true(hi[b] > lo[b]);
            assert_true(fabs(lo[b] * bin_hz - plan->edge[b]) <= bin_hz / 2 + 1e-9);
            if (b > 0)
                assert_int_equal(lo[b], hi[b - 1]); /* contiguous, no bin used twice */
        }
    }
}

static void layout_is_keyed_and_balanced(void **state)
{
    pm_key a, b;
    pm_key_demo(&a);
    assert_int_equal(pm_key_generate(&b), PM_OK);
    static pm_layout la, lb, la2, other;
    for (int v = 1; v <= PMF_VERSIONS; v++) {
        assert_int_equal(pm_layout_make(&la, &a, v), PM_OK);
        assert_int_equal(pm_layout_make(&la2, &a, v), PM_OK);
        assert_int_equal(pm_layout_make(&lb, &b, v), PM_OK);
        assert_memory_equal(&la, &la2, sizeof la);
        assert_int_equal(la.version, v);
        assert_int_equal(la.units * la.frames_per_tile * PMF_TILES_PER_UNIT, PMF_PERIOD_FRAMES);
        int differ = 0, per_bit[PMF_CODED_BITS] = {0}, sync = 0, plus = 0;
        int total = la.slot_start[la.units];
        assert_int_equal(total, la.units * la.n_bands);
        for (int i = 0; i < total; i++) {
            differ += la.tiles[i].chip != lb.tiles[i].chip || la.tiles[i].bit != lb.tiles[i].bit;
            if (la.tiles[i].bit < 0)
                sync++;
            else
                per_bit[la.tiles[i].bit]++;
            plus += la.tiles[i].chip > 0;
        }
        assert_true(differ > total / 3);
        assert_int_equal(sync, total / PMF_SYNC_DIV);
        for (int k = 0; k < PMF_CODED_BITS; k++) /* every coded bit carried, evenly */
            assert_true(per_bit[k] >= (total - sync) / PMF_CODED_BITS &&
                        per_bit[k] <= (total - sync) / PMF_CODED_BITS + 1);
        assert_true(abs(2 * plus - total) < total / 10);
    }
    /* The versions' maps of one key are unrelated: version 2's first half is not version 1's. */
    assert_int_equal(pm_layout_make(&la, &a, 1), PM_OK);
    assert_int_equal(pm_layout_make(&other, &a, 2), PM_OK);
    int same = 0, n = la.slot_start[la.units];
    for (int i = 0; i < n; i++)
        same += la.tiles[i].chip == other.tiles[i].chip && la.tiles[i].bit == other.tiles[i].bit;
    assert_true(same < n / 10);
    assert_int_equal(pm_layout_make(&la, &a, 0), PM_ERR_ARG);
    assert_int_equal(pm_layout_make(&la, &a, PMF_VERSIONS + 1), PM_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hop_is_the_same_duration_at_every_rate),
        cmocka_unit_test(bands_sit_at_the_same_hertz_at_every_rate),
        cmocka_unit_test(layout_is_keyed_and_balanced),
    };
    return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
