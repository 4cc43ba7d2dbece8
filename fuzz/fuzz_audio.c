/*
 * Arbitrary bytes as an audio file: libsndfile (virtual I/O over the bytes), then
 * the watermark detector and the fingerprint extractor on whatever it decodes.
 */
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "provmark.h"

typedef struct mem {
    const uint8_t *p;
    sf_count_t n, at;
} mem;

static sf_count_t get_len(void *u) { return ((mem *)u)->n; }
static sf_count_t seek(sf_count_t off, int whence, void *u)
{
    mem *m = u;
    sf_count_t to = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->at + off : m->n + off;
    if (to < 0 || to > m->n)
        return -1;
    return m->at = to;
}
static sf_count_t readb(void *dst, sf_count_t count, void *u)
{
    mem *m = u;
    if (count > m->n - m->at)
        count = m->n - m->at;
    memcpy(dst, m->p + m->at, (size_t)count);
    m->at += count;
    return count;
}
static sf_count_t writeb(const void *src, sf_count_t count, void *u)
{
    (void)src, (void)count, (void)u;
    return 0;
}
static sf_count_t tell(void *u) { return ((mem *)u)->at; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SF_VIRTUAL_IO io = {get_len, seek, readb, writeb, tell};
    mem m = {data, (sf_count_t)size, 0};
    SF_INFO info = {0};
    SNDFILE *sf = sf_open_virtual(&io, SFM_READ, &info, &m);
    if (!sf)
        return 0;
    pm_key key;
    pm_key_demo(&key);
    pm_detector *d = NULL;
    fp_extractor *x = fp_new(info.samplerate);
    if (pm_detector_new(&d, info.samplerate, info.channels, &key, 1) == PM_OK && x) {
        float buf[4096];
        const sf_count_t per = (sf_count_t)(sizeof buf / sizeof buf[0]) / info.channels;
        sf_count_t r, total = 0;
        /* Bounded: a header may claim hours; a few seconds exercise every path. */
        pm_status rc = PM_OK;
        while (rc == PM_OK && total < 8 * (sf_count_t)info.samplerate &&
               (r = sf_readf_float(sf, buf, per)) > 0) {
            rc = pm_detector_push_interleaved(d, buf, (size_t)r);
            if (fp_push(x, buf, (size_t)r, info.channels) != 0)
                break;
            total += r;
        }
        pm_result res;
        if (rc == PM_OK)
            rc = pm_detector_finish(d, &res); /* any status is an answer: only crashes count */
        fp_landmark *lm;
        size_t n;
        if (fp_finish(x, &lm, &n) == 0)
            free(lm);
    }
    fp_free(x);
    pm_detector_free(d);
    sf_close(sf);
    return 0;
}
