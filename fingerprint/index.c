#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* On-disk layout (docs/FPINDEX.md), little-endian; the checksum (BLAKE2b-256) covers every byte after the header. */
typedef struct fpx_header {
    char magic[8];
    uint32_t version, n_items;
    uint64_t n_entries, items_off, strings_off, strings_size, entries_off, file_size;
    double hop_seconds;
    uint8_t checksum[32];
} fpx_header;
typedef struct fpx_item {
    uint64_t path_off;
    uint32_t path_len, reserved;
    double duration;
} fpx_item;
typedef struct fpx_entry {
    uint32_t hash, item, t;
} fpx_entry;
_Static_assert(sizeof(fpx_header) == FPX_HEADER_SIZE && offsetof(fpx_header, file_size) == FPX_FILE_SIZE_AT &&
                   offsetof(fpx_header, checksum) == FPX_CHECKSUM_AT,
               "header layout");
_Static_assert(sizeof(fpx_item) == 24, "item layout");
_Static_assert(sizeof(fpx_entry) == 12, "entry layout");

#define MIN_LANDMARKS 15  /* agreeing landmarks for a match */
#define MIN_DENSITY 4.0   /* ... and at least this many per second of the matched span */
#define SPLIT_GAP 94      /* frames (3 s) without agreement end a matched span */

struct fpx {
    const uint8_t *map;
    size_t size;
    const fpx_header *h;
    const fpx_item *items;
    const char *strings;
    const fpx_entry *entries;
};

static int cmp_entry(const void *a, const void *b)
{
    const fpx_entry *p = a, *q = b;
    if (p->hash != q->hash)
        return p->hash < q->hash ? -1 : 1;
    if (p->item != q->item)
        return p->item < q->item ? -1 : 1;
    return (p->t > q->t) - (p->t < q->t);
}

int fpx_build(const fpx_item_in *items, uint32_t n_items, uint8_t **out, size_t *out_size)
{
    uint64_t n_entries = 0, strings_size = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        n_entries += items[i].n;
        strings_size += strlen(items[i].path) + 1;
    }
    const uint64_t items_off = sizeof(fpx_header);
    const uint64_t strings_off = items_off + (uint64_t)n_items * sizeof(fpx_item);
    const uint64_t entries_off = (strings_off + strings_size + 7) & ~(uint64_t)7;
    const uint64_t size = entries_off + n_entries * sizeof(fpx_entry);
    uint8_t *buf = size <= SIZE_MAX ? calloc(1, (size_t)size) : NULL;
    *out = NULL;
    *out_size = 0;
    if (!buf)
        return -1;
    fpx_header *h = (fpx_header *)buf;
    *h = (fpx_header){.version = FPX_VERSION, .n_items = n_items, .n_entries = n_entries,
                      .items_off = items_off, .strings_off = strings_off,
                      .strings_size = strings_size, .entries_off = entries_off,
                      .file_size = size, .hop_seconds = FP_HOP_SECONDS};
    memcpy(h->magic, FPX_MAGIC, sizeof h->magic);
    fpx_item *it = (fpx_item *)(buf + items_off);
    char *str = (char *)(buf + strings_off);
    fpx_entry *e = (fpx_entry *)(buf + entries_off);
    uint64_t so = 0, k = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        size_t len = strlen(items[i].path);
        it[i] = (fpx_item){.path_off = so, .path_len = (uint32_t)len, .duration = items[i].duration};
        memcpy(str + so, items[i].path, len + 1);
        so += len + 1;
        for (size_t j = 0; j < items[i].n; j++)
            e[k++] = (fpx_entry){items[i].lm[j].hash, i, items[i].lm[j].t};
    }
    qsort(e, (size_t)n_entries, sizeof *e, cmp_entry);
    crypto_generichash(h->checksum, sizeof h->checksum, buf + sizeof *h, size - sizeof *h, NULL, 0);
    *out = buf;
    *out_size = (size_t)size;
    return 0;
}

static fpx *refuse(fpx *x, const char **why, const char *reason)
{
    *why = reason;
    fpx_close(x);
    return NULL;
}

fpx *fpx_open(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0)
        return refuse(NULL, why, strerror(errno));
    struct stat st;
    fpx *x = calloc(1, sizeof *x);
    if (!x || fstat(fd, &st) != 0) {
        close(fd);
        return refuse(x, why, x ? strerror(errno) : "out of memory");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(x, why, "not a regular file");
    }
    x->size = (size_t)st.st_size;
    if (x->size >= sizeof(fpx_header)) {
        void *m = mmap(NULL, x->size, PROT_READ, MAP_PRIVATE, fd, 0);
        x->map = m == MAP_FAILED ? NULL : m;
    }
    close(fd);
    if (!x->map)
        return refuse(x, why, x->size < sizeof(fpx_header) ? "truncated header" : "cannot map it");
    const fpx_header *h = x->h = (const fpx_header *)x->map;
    if (memcmp(h->magic, FPX_MAGIC, sizeof h->magic) != 0)
        return refuse(x, why, "wrong magic");
    if (h->version != FPX_VERSION)
        return refuse(x, why, "unknown version");
    if (h->file_size != x->size)
        return refuse(x, why, "truncated or extended (size differs from its header)");
    /*
     * The checksum is no defence (anyone can recompute it): every offset, length and
     * count is checked against the file size first, each sum only after its terms are
     * known to be small enough not to wrap.
     */
    const uint64_t size = x->size;
    if (h->items_off != sizeof *h || h->strings_off != h->items_off + (uint64_t)h->n_items * sizeof(fpx_item) ||
        h->strings_off > size || h->strings_size > size - h->strings_off || h->entries_off > size ||
        h->strings_off + h->strings_size > h->entries_off || h->entries_off - (h->strings_off + h->strings_size) > 7 ||
        h->entries_off % 8 || h->n_entries != (size - h->entries_off) / sizeof(fpx_entry) ||
        (size - h->entries_off) % sizeof(fpx_entry) || h->hop_seconds != FP_HOP_SECONDS)
        return refuse(x, why, "inconsistent header");
    uint8_t sum[32];
    crypto_generichash(sum, sizeof sum, x->map + sizeof *h, x->size - sizeof *h, NULL, 0);
    if (memcmp(sum, h->checksum, sizeof sum) != 0)
        return refuse(x, why, "checksum mismatch (corrupted)");
    x->items = (const fpx_item *)(x->map + h->items_off);
    x->strings = (const char *)(x->map + h->strings_off);
    x->entries = (const fpx_entry *)(x->map + h->entries_off);
    for (uint32_t i = 0; i < h->n_items; i++) { /* checksummed, but written by anyone */
        const fpx_item *it = &x->items[i];
        if (it->path_off >= h->strings_size || it->path_len >= h->strings_size - it->path_off ||
            x->strings[it->path_off + it->path_len] != '\0' || memchr(x->strings + it->path_off, '\0', it->path_len) ||
            !(it->duration >= 0.0 && it->duration <= FPX_MAX_FRAME * FP_HOP_SECONDS))
            return refuse(x, why, "bad item table");
    }
    for (uint64_t i = 0; i < h->n_entries; i++)
        if (x->entries[i].item >= h->n_items || x->entries[i].t > FPX_MAX_FRAME ||
            (i && cmp_entry(&x->entries[i - 1], &x->entries[i]) > 0))
            return refuse(x, why, "bad entry table");
    return x;
}

void fpx_close(fpx *x)
{
    if (!x)
        return;
    if (x->map)
        munmap((void *)x->map, x->size);
    free(x);
}

uint32_t fpx_items(const fpx *x) { return x->h->n_items; }
uint64_t fpx_entries(const fpx *x) { return x->h->n_entries; }
void fpx_checksum_hex(const fpx *x, char hex[65]) { sodium_bin2hex(hex, 65, x->h->checksum, 32); }
const char *fpx_item_path(const fpx *x, uint32_t i) { return x->strings + x->items[i].path_off; }
double fpx_item_duration(const fpx *x, uint32_t i) { return x->items[i].duration; }

typedef struct hit {
    uint32_t item;
    int32_t offset; /* item frame - query frame */
    uint32_t tq;
} hit;

static int cmp_hit(const void *a, const void *b)
{
    const hit *p = a, *q = b;
    if (p->item != q->item)
        return p->item < q->item ? -1 : 1;
    if (p->offset != q->offset)
        return p->offset < q->offset ? -1 : 1;
    return (p->tq > q->tq) - (p->tq < q->tq);
}

static int cmp_tq(const void *a, const void *b)
{
    const hit *p = a, *q = b;
    return (p->tq > q->tq) - (p->tq < q->tq);
}

static int by_landmarks(const void *a, const void *b)
{
    const fpx_match *p = a, *q = b;
    return (p->landmarks < q->landmarks) - (p->landmarks > q->landmarks);
}

/* Spans of one alignment group (sorted by tq in place), appended to *out. */
static int emit(hit *g, size_t n, fpx_match **out, size_t *n_out, size_t *cap)
{
    qsort(g, n, sizeof *g, cmp_tq);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && g[e].tq - g[e - 1].tq <= SPLIT_GAP)
            e++;
        const double q0 = g[s].tq * FP_HOP_SECONDS, q1 = (g[e - 1].tq + 1) * FP_HOP_SECONDS + FP_WIN_SECONDS;
        const int count = (int)(e - s);
        if (count >= MIN_LANDMARKS && count / (q1 - q0) >= MIN_DENSITY) {
            if (*n_out == *cap) {
                size_t c = *cap ? 2 * *cap : 16;
                fpx_match *p = realloc(*out, c * sizeof *p);
                if (!p)
                    return -1;
                *out = p;
                *cap = c;
            }
            double off = 0.0;
            for (size_t i = s; i < e; i++)
                off += g[i].offset;
            off = off / count * FP_HOP_SECONDS;
            (*out)[(*n_out)++] = (fpx_match){g[s].item, q0, q1, q0 + off, q1 + off, count, count / (q1 - q0)};
        }
        s = e;
    }
    return 0;
}

/* The index entries of one query landmark: entries[lo .. lo + count). */
typedef struct span {
    uint64_t lo, count;
    uint32_t tq;
} span;

static int by_count(const void *a, const void *b)
{
    const span *p = a, *q = b;
    return (p->count > q->count) - (p->count < q->count);
}

/* First entry with a hash >= hash (or ne). */
static uint64_t lower_bound(const fpx_entry *e, uint64_t ne, uint32_t hash)
{
    uint64_t lo = 0, hi = ne;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (e[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int fpx_query(const fpx *x, const fp_landmark *lm, size_t n, fpx_match **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    size_t cap = 0;
    const fpx_entry *e = x->entries;
    const uint64_t ne = x->h->n_entries;
    /*
     * The work is bounded before any is done: each landmark's entries are counted
     * (two binary searches), hashes more common than FPX_STOP_HASH are dropped (they
     * name no item: silence, clicks, a crafted index), and the hits are taken from
     * the rarest hashes first up to FPX_MAX_HITS in all. Memory and time are then
     * linear in the query (plus at most FPX_MAX_HITS hits), whatever the index holds.
     */
    span *sp = malloc((n ? n : 1) * sizeof *sp);
    if (!sp)
        return -1;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (lm[i].t > FPX_MAX_FRAME || lm[i].hash == UINT32_MAX)
            continue;
        const uint64_t lo = lower_bound(e, ne, lm[i].hash), count = lower_bound(e, ne, lm[i].hash + 1) - lo;
        if (count && count <= FPX_STOP_HASH)
            sp[ns++] = (span){lo, count, lm[i].t};
    }
    qsort(sp, ns, sizeof *sp, by_count);
    size_t nh = 0, used = 0;
    while (used < ns && nh + sp[used].count <= FPX_MAX_HITS)
        nh += (size_t)sp[used++].count;
    hit *h = malloc((nh ? nh : 1) * sizeof *h);
    if (!h) {
        free(sp);
        return -1;
    }
    nh = 0;
    for (size_t i = 0; i < used; i++)
        for (uint64_t j = sp[i].lo; j < sp[i].lo + sp[i].count; j++)
            /* both frames are at most FPX_MAX_FRAME (checked at open, and above): no overflow */
            h[nh++] = (hit){e[j].item, (int32_t)e[j].t - (int32_t)sp[i].tq, sp[i].tq};
    free(sp);
    qsort(h, nh, sizeof *h, cmp_hit);
    /* Groups: same item, offsets within one frame of the group's first (timing jitter). */
    int rc = 0;
    for (size_t s = 0; s < nh && rc == 0;) {
        size_t e2 = s + 1;
        while (e2 < nh && h[e2].item == h[s].item && h[e2].offset - h[s].offset <= 1)
            e2++;
        if (e2 - s >= MIN_LANDMARKS)
            rc = emit(h + s, e2 - s, out, n_out, &cap);
        s = e2;
    }
    free(h);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n_out = 0;
        return -1;
    }
    /*
     * Music repeats itself: an excerpt of a song also agrees with the song's
     * other statements of the same phrase. Of the alignments of one item that
     * cover the same part of the query only the strongest is kept: the item is
     * certain, the offset is the best-supported statement of the passage.
     */
    if (*n_out == 0)
        return 0;
    qsort(*out, *n_out, sizeof **out, by_landmarks);
    size_t kept = 0;
    for (size_t i = 0; i < *n_out && kept < FPX_MAX_MATCHES; i++) {
        const fpx_match *m = &(*out)[i];
        int dup = 0;
        for (size_t k = 0; k < kept && !dup; k++) {
            const fpx_match *q = &(*out)[k];
            double overlap = fmin(m->query_end, q->query_end) - fmax(m->query_start, q->query_start);
            dup = q->item == m->item && overlap > 0.5 * (m->query_end - m->query_start);
        }
        if (!dup)
            (*out)[kept++] = *m;
    }
    *n_out = kept;
    return 0;
}
