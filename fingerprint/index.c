#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
    if (h->version < FPX_MIN_VERSION || h->version > FPX_VERSION)
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
    /*
     * The chance model takes an item's length from its landmarks, not from its
     * stated duration: a duration is only a claim, and one far longer than the
     * landmarks would make chance agreement look rare (docs/FPINDEX.md).
     */
    uint32_t *first = malloc((h->n_items ? h->n_items : 1) * sizeof *first);
    x->extent = calloc(h->n_items ? h->n_items : 1, sizeof *x->extent);
    if (!first || !x->extent) {
        free(first);
        return refuse(x, why, "out of memory");
    }
    for (uint32_t i = 0; i < h->n_items; i++)
        first[i] = UINT32_MAX;
    for (uint64_t i = 0; i < h->n_entries; i++) {
        const fpx_entry *en = &x->entries[i];
        if (en->item >= h->n_items || en->t > FPX_MAX_FRAME || (i && cmp_entry(&x->entries[i - 1], en) > 0) ||
            (h->version == 1 && FP_IS_TRIPLET(en->hash)) || /* version 1 has pairs only */
            en->t > x->items[en->item].duration / FP_HOP_SECONDS + 1.0) { /* a frame starts within its item */
            free(first);
            return refuse(x, why, "bad entry table");
        }
        first[en->item] = en->t < first[en->item] ? en->t : first[en->item];
        x->extent[en->item] = en->t + 1 > x->extent[en->item] ? en->t + 1 : x->extent[en->item]; /* last + 1 for now */
    }
    for (uint32_t i = 0; i < h->n_items; i++)
        x->extent[i] = x->extent[i] ? x->extent[i] - first[i] : 0;
    free(first);
    return x;
}

void fpx_close(fpx *x)
{
    if (!x)
        return;
    if (x->map)
        munmap((void *)x->map, x->size);
    free(x->extent);
    free(x);
}

uint32_t fpx_items(const fpx *x) { return x->h->n_items; }
uint64_t fpx_entries(const fpx *x) { return x->h->n_entries; }
void fpx_checksum_hex(const fpx *x, char hex[65]) { sodium_bin2hex(hex, 65, x->h->checksum, 32); }
const char *fpx_item_path(const fpx *x, uint32_t i) { return x->strings + x->items[i].path_off; }
double fpx_item_duration(const fpx *x, uint32_t i) { return x->items[i].duration; }
