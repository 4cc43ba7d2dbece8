#include "layout.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

static pm_bandplan plan;
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;

static void build_plan(void)
{
    pm_bandplan *p = &plan;
    double f = PMF_F_LO;
    p->n = 0;
    p->edge[0] = f;
    while (p->n < PMF_MAX_BANDS) {
        double w = fmin(PMF_MAX_WIDTH, fmax(PMF_MIN_WIDTH, PMF_REL_WIDTH * f));
        if (f + w > PMF_F_HI + 1e-9)
            break;
        f += w;
        p->edge[++p->n] = f;
    }
}

const pm_bandplan *pm_bandplan_get(void)
{
    pthread_once(&plan_once, build_plan);
    return &plan;
}

int pm_hop_samples(double rate) { return (int)lround(rate * PMF_HOP_SECONDS); }

int pm_fft_size(int n)
{
    /* FFTW's estimated plans are fastest for a large power of two times 1, 3 or 5. */
    int best = 0;
    static const int odd[] = {1, 3, 5};
    for (int i = 0; i < 3; i++) {
        int m = odd[i];
        while (m < n)
            m *= 2;
        if (!best || m < best)
            best = m;
    }
    return best;
}

void pm_band_bins(double rate, int nfft, double scale, int *lo, int *hi)
{
    const pm_bandplan *p = pm_bandplan_get();
    int nbins = nfft / 2 + 1;
    for (int b = 0; b < p->n; b++) {
        long l = lround(p->edge[b] * scale * nfft / rate);
        long h = lround(p->edge[b + 1] * scale * nfft / rate);
        if (l > nbins)
            l = nbins;
        if (h > nbins)
            h = nbins;
        if (h <= l && l < nbins) /* a band never vanishes below Nyquist */
            h = l + 1;
        lo[b] = (int)l;
        hi[b] = (int)h;
    }
}

/* Unbiased integer in [0, n) from a keystream. */
typedef struct stream {
    uint8_t key[32];
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    uint8_t buf[256];
    size_t pos;
    uint64_t block;
} stream;

static uint32_t next_u32(stream *s)
{
    if (s->pos + 4 > sizeof s->buf) {
        crypto_stream_chacha20_xor_ic(s->buf, (const uint8_t[256]){0}, sizeof s->buf, s->nonce,
                                      s->block, s->key);
        s->block += sizeof s->buf / 64;
        s->pos = 0;
    }
    uint32_t v = (uint32_t)s->buf[s->pos] | (uint32_t)s->buf[s->pos + 1] << 8 |
                 (uint32_t)s->buf[s->pos + 2] << 16 | (uint32_t)s->buf[s->pos + 3] << 24;
    s->pos += 4;
    return v;
}

static uint32_t uniform(stream *s, uint32_t n)
{
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    uint32_t v;
    do
        v = next_u32(s);
    while (v >= limit);
    return v % n;
}

int pm_layout_make(pm_layout *L, const pm_key *key, int version)
{
    if (version < 1 || version > PMF_VERSIONS)
        return PM_ERR_ARG;
    /* Version 1's keystream has the all-zero nonce (its maps predate version 2). */
    stream s = {.pos = sizeof s.buf, .nonce = {(uint8_t)(version - 1)}};
    int rc = pm_key_derive_layout(key, s.key);
    if (rc != PM_OK)
        return rc;
    const int nb = pm_bandplan_get()->n, units = PMF_UNITS(version);
    const int total = units * nb;
    const int nsync = total / PMF_SYNC_DIV;
    int order[PMF_MAX_UNITS * PMF_MAX_BANDS];
    for (int i = 0; i < total; i++)
        order[i] = i;
    for (int i = total - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)uniform(&s, (uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    /* role[tile] = -1 sync, else coded bit; chips drawn in permutation order. */
    int16_t role[PMF_MAX_UNITS * PMF_MAX_BANDS] = {0};
    int8_t chip[PMF_MAX_UNITS * PMF_MAX_BANDS] = {0};
    for (int i = 0; i < total; i++) {
        role[order[i]] = (int16_t)(i < nsync ? -1 : (i - nsync) % PMF_CODED_BITS);
        chip[order[i]] = (int8_t)((next_u32(&s) & 1u) ? 1 : -1);
    }
    memset(L, 0, sizeof *L);
    L->version = version;
    L->frames_per_tile = PMF_FRAMES_PER_TILE(version);
    L->units = units;
    L->n_bands = nb;
    int k = 0;
    for (int slot = 0; slot < units; slot++) {
        L->slot_start[slot] = k;
        for (int pass = 0; pass < 2; pass++) /* sync chips first */
            for (int b = 0; b < nb; b++) {
                int t = slot * nb + b;
                if ((role[t] < 0) != (pass == 0))
                    continue;
                L->tiles[k++] = (pm_tile){.band = (int16_t)b, .bit = role[t], .chip = chip[t]};
                if (pass == 0)
                    L->slot_nsync[slot]++;
            }
    }
    L->slot_start[units] = k;
    sodium_memzero(s.key, sizeof s.key);
    return PM_OK;
}

int pm_key_schedule_init(pm_key_schedule *ks, const pm_key *key)
{
    int rc = PM_OK;
    for (int v = 1; v <= PMF_VERSIONS && rc == PM_OK; v++)
        rc = pm_layout_make(&ks->layout[v - 1], key, v);
    return rc == PM_OK ? pm_key_derive_mac(key, ks->mac_key) : rc;
}

pm_status pm_key_schedule_new(pm_key_schedule **out, const pm_key *key)
{
    if (!out || !key)
        return PM_ERR_ARG;
    *out = NULL;
    pm_key_schedule *ks = malloc(sizeof *ks);
    if (!ks)
        return PM_ERR_NOMEM;
    int rc = pm_key_schedule_init(ks, key);
    if (rc != PM_OK) {
        free(ks);
        return rc;
    }
    *out = ks;
    return PM_OK;
}

void pm_key_schedule_free(pm_key_schedule *ks)
{
    if (ks)
        sodium_memzero(ks, sizeof *ks);
    free(ks);
}
