/*
 * A band's level in dB, as the detector reads tiles and the scale estimate its
 * windows: 10 log10(power + PM_FLOOR_POWER), for finite non-negative powers.
 *
 * Inline, from the float's exponent and a series for its mantissa, so that the
 * loops over bands vectorise: libm's log10f took a seventh of the detector's
 * time on unmarked music. Within three float ulps of the exact value, 2e-5 dB at most
 * (tests/unit/test_level.c); the detector's answers on the benchmark's files are unchanged.
 */
#ifndef PM_LEVEL_H
#define PM_LEVEL_H

#include <stdint.h>
#include <string.h>

/* Added to every band power before its level is taken: silence reads -120 dB, not -inf. */
#define PM_FLOOR_POWER 1e-12f

static inline float pm_level_db(float power)
{
    const float x = power + PM_FLOOR_POWER;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    /* x = 2^e * m with m in [sqrt(1/2), sqrt(2)): the series below converges fastest there. */
    const uint32_t off = u - 0x3f3504f3u; /* the bits of sqrt(1/2) */
    const int32_t e = (int32_t)off >> 23;
    const uint32_t mu = (off & 0x007fffffu) + 0x3f3504f3u;
    float m;
    memcpy(&m, &mu, sizeof m);
    /* ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| <= 0.172: five terms leave < 4e-10. */
    const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    const float ln_m = 2.0f * t * (1.0f + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7 + t2 * (1.0f / 9)))));
    const float ln2 = 0.693147180559945f, db_per_neper = 4.342944819032518f; /* 10 / ln 10 */
    return db_per_neper * ((float)e * ln2 + ln_m);
}

/*
 * The share of a band's power that lies above a floor `x_db` below it: 1 - 10^(-x_db / 10),
 * and 0 where x_db <= 0, for |x_db| <= 1000 (any difference of two pm_level_db() levels
 * lies within 510 dB: pm_level_db reads -120 dB for 0 and 385.3 dB for FLT_MAX and for
 * infinity). Inline and free of branches for the same reason as pm_level_db: the
 * detector weighs every chip with it, and gcc does not vectorise a clamp whose result is
 * computed on. 10^(-x/10) = 2^y is taken as (2^(y/4))^4, so that the exponent of 2^(y/4)
 * stays inside a float's for every such x: 2^(y/4) from its integer part (into the
 * exponent) and a series for the rest. Within 1e-4 of the exact value (tests/unit/test_level.c).
 */
static inline float pm_share_above(float x_db)
{
    const float q = -0.33219281f / 4.0f * x_db; /* y / 4, y = -x log2(10) / 10 */
    const int i = (int)q;                         /* towards zero: f in (-1, 1) */
    const float t = (q - (float)i) * 0.693147180559945f;
    const float p =
        1.0f + t * (1.0f + t * (0.5f + t * (1.0f / 6 + t * (1.0f / 24 + t * (1.0f / 120 + t * (1.0f / 720))))));
    const uint32_t bits = (uint32_t)(i + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float r = p * scale, r2 = r * r, share = 1.0f - r2 * r2;
    return share > 0.0f ? share : 0.0f;
}

#endif
