/* The stream folded on the period (fold.h): a mark too weak for any window is found
 * over many periods, and music that repeats with the period is not taken for one; in
 * the geometry of each format version (each test runs once per version). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fec.h"
#include "fold.h"
#include "layout.h"
#include "payload.h"

#define BANDS 60
#define PERIOD_STEPS PM_PHASES

static uint64_t rng = 88172645463325252ull;
static double gauss(void)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        u[i] = ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

static struct pm_key_schedule ks;
static uint8_t coded[PMF_VERSIONS][PMF_CODED_BITS];
static int versions[PMF_VERSIONS] = {1, 2};

static int setup(void **state)
{
    (void)state;
    pm_key key;
    for (int i = 0; i < 32; i++)
        key.bytes[i] = (uint8_t)(7 * i + 1);
    if (pm_key_schedule_init(&ks, &key) != 0)
        return -1;
    for (int v = 1; v <= PMF_VERSIONS; v++) {
        uint8_t info[PMF_PAYLOAD_BITS];
        if (pm_payload_pack(ks.mac_key, v, 7, 42, info) != 0)
            return -1;
        pm_fec_encode(info, coded[v - 1]);
    }
    return 0;
}

/* Chip value of band b at the start of unit u of a version-v mark, amplitude a. */
static float mark_at(int v, int u, int b, double a)
{
    const pm_layout *L = &ks.layout[v - 1];
    const int slot = u % L->units;
    for (int i = L->slot_start[slot]; i < L->slot_start[slot + 1]; i++) {
        const pm_tile *t = &L->tiles[i];
        if (t->band == b)
            return (float)(a * t->chip * (t->bit < 0 || !coded[v - 1][t->bit] ? 1 : -1));
    }
    return 0.0f;
}

/*
 * 20 periods of unit-variance noise carrying a mark of amplitude 0.12 per chip: a
 * two-period window holds z of about 7 in all (its sync chips under 3, buried among
 * the thousands of alignments a window search tries), the folded stream 23.
 */
static void weak_mark_found(void **state)
{
    const int v = *(int *)*state, unit = PM_UNIT_STEPS(&ks.layout[v - 1]);
    static pm_fold f;
    pm_fold_init(&f, BANDS, 1.0);
    const int p0 = 77, periods = 20;
    float row[BANDS];
    for (long s = 0; s < (long)periods * PERIOD_STEPS; s++) {
        const long x = s + p0; /* unit u starts at step unit * u - p0 */
        for (int b = 0; b < BANDS; b++)
            row[b] = (float)gauss() + (x % unit == 0 ? mark_at(v, (int)(x / unit), b, 0.12) : 0.0f);
        pm_fold_add(&f, s, row);
    }
    pm_fold_cand c[PM_FOLD_KEEP];
    const int n = pm_fold_best(&f, &ks.layout[v - 1], c, PM_FOLD_KEEP);
    assert_int_equal(n, PM_FOLD_KEEP);
    assert_int_equal(c[0].phase, p0);
    assert_true(c[0].score > 15.0f);
    assert_true(c[1].score < c[0].score / 2);
    uint8_t info[PMF_PAYLOAD_BITS];
    uint32_t model, dataset;
    pm_fec_decode(c[0].soft, info);
    assert_int_equal(pm_payload_unpack(ks.mac_key, v, info, &model, &dataset), 1);
    assert_int_equal(model, 7);
    assert_int_equal(dataset, 42);
    assert_int_equal(pm_payload_unpack(ks.mac_key, 3 - v, info, &model, &dataset), 0); /* the other version's */
}

/*
 * Music that loops exactly with the period folds coherently: 20 copies of one
 * period of noise sum to 20 times it, with 20 times the spread that independent
 * periods would have. The statistics are normalised by the folded values
 * themselves, so the best phase of such a stream scores as chance does.
 */
static void looped_music_is_not_a_mark(void **state)
{
    const int v = *(int *)*state;
    static pm_fold f;
    static float loop[PERIOD_STEPS][BANDS];
    pm_fold_init(&f, BANDS, 1.0);
    for (int s = 0; s < PERIOD_STEPS; s++)
        for (int b = 0; b < BANDS; b++)
            loop[s][b] = (float)(3.0 * gauss());
    float row[BANDS];
    for (long s = 0; s < 20L * PERIOD_STEPS; s++) {
        for (int b = 0; b < BANDS; b++)
            row[b] = loop[s % PERIOD_STEPS][b] + (float)(0.3 * gauss());
        pm_fold_add(&f, s, row);
    }
    pm_fold_cand c[1];
    assert_int_equal(pm_fold_best(&f, &ks.layout[v - 1], c, 1), 1);
    assert_true(c[0].score < 6.5f);
}

/* A time scale off 1 maps steps to the mark's positions: the fold follows the period. */
static void time_scale_followed(void **state)
{
    const int v = *(int *)*state, unit = PM_UNIT_STEPS(&ks.layout[v - 1]);
    static pm_fold f;
    const double tau = 0.9995; /* 48 kHz: the detector's step is 557 samples, the mark's 557.28 */
    pm_fold_init(&f, BANDS, tau);
    float row[BANDS];
    for (long s = 0; s < 40L * PERIOD_STEPS; s++) {
        const long x = (long)floor(s * tau + 0.5) + 30;
        for (int b = 0; b < BANDS; b++)
            row[b] = (float)gauss() + (x % unit == 0 ? mark_at(v, (int)(x / unit), b, 0.12) : 0.0f);
        pm_fold_add(&f, s, row);
    }
    pm_fold_cand c[1];
    assert_int_equal(pm_fold_best(&f, &ks.layout[v - 1], c, 1), 1);
    assert_int_equal(c[0].phase, 30);
    assert_true(c[0].score > 15.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(weak_mark_found, &versions[0]),
        cmocka_unit_test_prestate(looped_music_is_not_a_mark, &versions[0]),
        cmocka_unit_test_prestate(time_scale_followed, &versions[0]),
        cmocka_unit_test_prestate(weak_mark_found, &versions[1]),
        cmocka_unit_test_prestate(looped_music_is_not_a_mark, &versions[1]),
        cmocka_unit_test_prestate(time_scale_followed, &versions[1]),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
