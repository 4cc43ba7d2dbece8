/*
 * Arbitrary bytes as each of the files provmark reads by path: a key file, a
 * registry, a dataset manifest and a fingerprint index (queried when it opens).
 * The first byte picks which; the rest is the file, handed over through a memfd.
 * (The loaders print one line per refusal: run with -close_fd_mask=2, as make fuzz does.)
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dsmanifest.h"
#include "fingerprint.h"
#include "provmark.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    switch (data[0] % 4) {
    case 0: {
        pm_key k;
        if (pm_key_load(&k, path) != PM_OK)
            break; /* a refusal is an answer: only crashes count */
        break;
    }
    case 1:
        json_decref(registry_load(path));
        break;
    case 2:
        json_decref(manifest_load(path));
        break;
    default: {
        const char *why;
        fpx *x = fpx_open(path, &why);
        if (x) {
            fp_landmark lm[64];
            for (int i = 0; i < 64; i++)
                lm[i] = (fp_landmark){(uint32_t)(i * 2654435761u) & 0x3fffff, (uint32_t)i};
            fpx_match *m;
            size_t n;
            if (fpx_query(x, lm, 64, &m, &n) == 0)
                free(m);
            for (uint32_t i = 0; i < fpx_items(x); i++)
                (void)fpx_item_path(x, i);
            fpx_close(x);
        }
        break;
    }
    }
    close(fd);
    return 0;
}
