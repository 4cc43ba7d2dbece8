/*
 * Arbitrary bytes as each of the files provmark reads by path: a key file, a
 * registry, a dataset manifest and a fingerprint index (queried when it opens).
 * The first byte picks which; the rest is the file, handed over through a memfd.
 * An index gets its file_size and checksum fields made right (anyone can recompute
 * them), so that the fuzzer reaches the parser behind them.
 * (The loaders print one line per refusal: run with -close_fd_mask=2, as make fuzz does.)
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
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
    uint8_t *file = malloc(size);
    if (!file) {
        close(fd);
        return 0;
    }
    memcpy(file, data + 1, size - 1);
    if (data[0] % 4 == 3 && size - 1 >= FPX_HEADER_SIZE) {
        const uint64_t n = size - 1;
        memcpy(file + FPX_FILE_SIZE_AT, &n, sizeof n); /* little-endian hosts, as the format */
        crypto_generichash(file + FPX_CHECKSUM_AT, 32, file + FPX_HEADER_SIZE, n - FPX_HEADER_SIZE, NULL, 0);
    }
    const int written = write(fd, file, size - 1) == (ssize_t)(size - 1);
    free(file);
    if (!written) {
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
            for (int i = 0; i < 64; i++) /* some frames far out, up to past FPX_MAX_FRAME */
                lm[i] = (fp_landmark){(uint32_t)(i * 2654435761u) & 0x3fffff,
                                      i < 48 ? (uint32_t)i : (uint32_t)(i - 47) * (FPX_MAX_FRAME / 8)};
            fpx_match *m;
            size_t n;
            if (fpx_query(x, lm, 64, NULL, &m, &n) == 0)
                free(m);
            for (uint32_t i = 0; i < fpx_items(x); i++)
                if (strlen(fpx_item_path(x, i)) > (size_t)1 << 40 || !(fpx_item_duration(x, i) >= 0))
                    abort();
            fpx_close(x);
        }
        break;
    }
    }
    close(fd);
    return 0;
}
