/* Band levels in dB: pm_level_db against the exact 10 log10(power + floor), pm_share_above
 * against 1 - 10^(-x / 10). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "level.h"

/* Within three float ulps of the result (or 1e-6 dB near 0 dB, where an ulp is tiny) over
 * every power the detector can meet: from silence to far beyond full scale summed over a
 * band of a 192 kHz frame. */
static void level_matches_log10(void **state)
{
    (void)state;
    double worst = 0.0;
    for (long i = 0; i <= 4000000; i++) {
        const float p = i == 0 ? 0.0f : (float)(1e-20 * pow(1e30, (double)i / 4000000));
        const double exact = 10.0 * log10((double)(p + PM_FLOOR_POWER));
        const double err = fabs(pm_level_db(p) - exact);
        const double ulp = nextafterf((float)fabs(exact), INFINITY) - (float)fabs(exact);
        assert_true(err <= fmax(3.0 * ulp, 1e-6));
        if (err > worst)
            worst = err;
    }
    assert_true(worst < 3e-5);
}

/* Silence reads the floor; levels never fall as the power rises; the largest and infinite
 * powers read below 386 dB, so two levels differ by far less than pm_share_above's 1000 dB. */
static void floor_and_order(void **state)
{
    (void)state;
    assert_float_equal(pm_level_db(0.0f), -120.0f, 1e-4f);
    assert_true(pm_level_db(FLT_MAX) < 386.0f && pm_level_db(INFINITY) < 386.0f);
    assert_true(pm_level_db(FLT_MAX) > 385.0f);
    float prev = pm_level_db(0.0f);
    for (float p = 1e-14f; p < 1e9f; p *= 1.0001f) {
        const float l = pm_level_db(p);
        assert_true(l >= prev);
        prev = l;
    }
}

/* The share above a floor: 0 at and below it, exact to 1e-4 above it, never outside [0, 1]
 * and never falling as the margin grows, over the whole range of its contract. */
static void share_above_floor(void **state)
{
    (void)state;
    assert_float_equal(pm_share_above(0.0f), 0.0f, 1e-6f);
    assert_float_equal(pm_share_above(-5.0f), 0.0f, 1e-6f);
    assert_float_equal(pm_share_above(-1000.0f), 0.0f, 1e-6f);
    assert_float_equal(pm_share_above(1000.0f), 1.0f, 1e-6f);
    float prev = 0.0f;
    for (float x = -1000.0f; x <= 1000.0f; x += 0.001f) {
        const float w = pm_share_above(x);
        assert_true(fabs(w - fmax(0.0, 1.0 - pow(10.0, -x / 10.0))) < 1e-4);
        assert_true(w >= 0.0f && w <= 1.0f && w >= prev - 1e-6f);
        prev = w;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(level_matches_log10),
        cmocka_unit_test(floor_and_order),
        cmocka_unit_test(share_above_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
