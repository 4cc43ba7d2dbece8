/*
 * A simple noise-to-mask ratio (in the spirit of PEAQ's NMR, not a PEAQ
 * implementation): 2048-point Hann STFT per channel, energies in critical
 * bands (1 Bark wide), host masking spread over the Bark scale (-25 dB/Bark
 * towards low, -10 dB/Bark towards high frequencies) with a -12 dB masking
 * offset, floored at a 16-bit file's own rounding noise, then the mean of
 * noise/mask over all frames and bands, in dB.
 * Below about -10 dB the difference is taken as masked.
 */
#ifndef PM_NMR_H
#define PM_NMR_H
#include <stddef.h>

double nmr_db(const float *ref, const float *test, size_t frames, int channels, int rate);
#endif
