#include "shaping.h"

#include <math.h>
#include <stdlib.h>
static float envf(const char *n, float d) { const char *v = getenv(n); return v ? strtof(v, NULL) : d; }

void pm_shaping_depths(const float *energy, int n, double total, float strength, float *depth)
{
    const float RATIO = envf("PM_RATIO", PM_SHAPE_RATIO_DB), TILT = envf("PM_TILT", PM_SHAPE_TILT), MAXD = envf("PM_MAXD", PM_SHAPE_MAX);
    double mean = 0.0;
    int used = 0;
    for (int b = 0; b < n; b++) {
        depth[b] = 0.0f;
        if (energy[b] > 0.0f) {
            mean += energy[b];
            used++;
        }
    }
    if (!used || !(mean > 1e-20) || !(total > 0.0))
        return;
    mean /= used;
    /* Shape first, then scale so the mark's energy is the wanted fraction of the frame's. */
    double cost = 0.0;
    for (int b = 0; b < n; b++)
        if (energy[b] > 0.0f) {
            depth[b] = powf((float)(energy[b] / mean), -TILT);
            cost += (double)depth[b] * depth[b] * energy[b];
        }
    const double target = total * pow(10.0, RATIO / 10.0);
    const float scale = (float)sqrt(target / cost);
    const float cap = MAXD * strength < PM_SHAPE_LIMIT ? MAXD * strength : PM_SHAPE_LIMIT;
    for (int b = 0; b < n; b++) {
        float d = depth[b] * scale * strength;
        depth[b] = d > cap ? cap : d;
    }
}
