/* Deterministic music-like test signal: chords of harmonic tones changing every 250 ms,
 * soft noise hits and a noise bed. */
#ifndef PM_TEST_SYNTH_H
#define PM_TEST_SYNTH_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

static inline float synth_noise(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) / 16777216.0 * 2.0 - 1.0);
}

/* The signal at frame n, before its level and channel weights (synth_sample). */
static inline double synth_value(size_t n, double rate)
{
    double t = n / rate;
    long seg = (long)(t * 4.0);
    uint32_t s = (uint32_t)seg * 2654435761u + 1u;
    double v = 0.0;
    for (int voice = 0; voice < 3; voice++) {
        double f0 = 110.0 * pow(2.0, (synth_noise(&s) + 1.0) * 2.0 + voice * 0.4);
        for (int h = 1; h <= 12; h++)
            if (f0 * h < rate * 0.45)
                v += sin(2.0 * M_PI * f0 * h * t + voice) / (h * 4.0);
    }
    double in_seg = t * 4.0 - seg;
    uint32_t ns = (uint32_t)n * 2246822519u + 7u;
    /* A soft percussive hit per chord and a steady bed, as reverb and mixing leave. */
    v += synth_noise(&ns) * (0.08 * (1.0 - exp(-in_seg * 200.0)) * exp(-in_seg * 8.0) + 0.04);
    return v;
}

/* Channel c's sample of synth_value v. */
static inline float synth_sample(double v, int c)
{
    return (float)(0.3 * v * (c % 2 ? 0.9 : 1.0));
}

/* Fill interleaved buf (frames x ch) with the signal starting at frame `offset`. */
static inline void synth_music(float *buf, size_t frames, int ch, double rate, size_t offset)
{
    for (size_t i = 0; i < frames; i++) {
        const double v = synth_value(offset + i, rate);
        for (int c = 0; c < ch; c++)
            buf[i * ch + c] = synth_sample(v, c);
    }
}
#endif
