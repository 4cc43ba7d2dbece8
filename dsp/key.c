#define _POSIX_C_SOURCE 200809L
#include "key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAGIC "provmark-key 1"
#define KDF_CONTEXT "provmark"
enum { KDF_LAYOUT = 1, KDF_MAC = 2 };

int pm_crypto_init(void)
{
    /* sodium_init() is itself thread-safe and idempotent. */
    return sodium_init() < 0 ? PM_ERR_CRYPTO : PM_OK;
}

static int derive(const pm_key *key, uint64_t id, uint8_t out[32])
{
    if (!key || !out)
        return PM_ERR_ARG;
    if (pm_crypto_init() != PM_OK)
        return PM_ERR_CRYPTO;
    if (crypto_kdf_derive_from_key(out, 32, id, KDF_CONTEXT, key->bytes) != 0)
        return PM_ERR_CRYPTO;
    return PM_OK;
}

int pm_key_derive_layout(const pm_key *key, uint8_t out[32]) { return derive(key, KDF_LAYOUT, out); }
int pm_key_derive_mac(const pm_key *key, uint8_t out[32]) { return derive(key, KDF_MAC, out); }

pm_status pm_key_generate(pm_key *key)
{
    if (!key)
        return PM_ERR_ARG;
    if (pm_crypto_init() != PM_OK)
        return PM_ERR_CRYPTO;
    randombytes_buf(key->bytes, sizeof key->bytes);
    return PM_OK;
}

void pm_key_demo(pm_key *key)
{
    /* Public by design: BLAKE2b-256 of this string. Anyone can forge demo marks. */
    static const char seed[] = "provmark public demo key v1";
    if (!key)
        return;
    if (pm_crypto_init() != PM_OK) {
        memset(key->bytes, 0, sizeof key->bytes);
        return;
    }
    crypto_generichash(key->bytes, sizeof key->bytes, (const unsigned char *)seed,
                       sizeof seed - 1, NULL, 0);
}

int pm_key_is_demo(const pm_key *key)
{
    pm_key demo;
    if (!key)
        return 0;
    pm_key_demo(&demo);
    return sodium_memcmp(demo.bytes, key->bytes, sizeof demo.bytes) == 0;
}

void pm_key_fingerprint(const pm_key *key, char out[17])
{
    static const char domain[] = "provmark key fingerprint";
    uint8_t h[8];
    if (!out)
        return;
    out[0] = '\0';
    if (!key || pm_crypto_init() != PM_OK)
        return;
    crypto_generichash(h, sizeof h, (const unsigned char *)domain, sizeof domain - 1,
                       key->bytes, sizeof key->bytes);
    sodium_bin2hex(out, 17, h, sizeof h);
}

pm_status pm_key_load(pm_key *key, const char *path)
{
    char buf[160];
    if (!key || !path)
        return PM_ERR_ARG;
    if (pm_crypto_init() != PM_OK)
        return PM_ERR_CRYPTO;
    /* Only a regular file: a FIFO or a device named by a host's saved state must
     * not block or feed the loader (the open itself must not block either). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return PM_ERR_KEY;
    FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "rb") : NULL;
    if (!f) {
        close(fd);
        return PM_ERR_KEY;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f) || !feof(f); /* a key file is small; anything longer is not one */
    fclose(f);
    if (bad)
        return PM_ERR_KEY;
    buf[n] = '\0';
    size_t magic = strlen(KEY_MAGIC);
    if (n < magic + 1 + 64 || memcmp(buf, KEY_MAGIC, magic) != 0 || buf[magic] != '\n')
        return PM_ERR_KEY;
    const char *hex = buf + magic + 1;
    const char *end = NULL;
    size_t got = 0;
    if (sodium_hex2bin(key->bytes, sizeof key->bytes, hex, 64, NULL, &got, &end) != 0 ||
        got != sizeof key->bytes)
        return PM_ERR_KEY;
    const char *rest = hex + 64;
    while (*rest == '\n' || *rest == '\r' || *rest == ' ')
        rest++;
    if (*rest != '\0')
        return PM_ERR_KEY;
    return PM_OK;
}

pm_status pm_key_save(const pm_key *key, const char *path)
{
    char hex[65];
    if (!key || !path)
        return PM_ERR_ARG;
    if (pm_crypto_init() != PM_OK)
        return PM_ERR_CRYPTO;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? PM_ERR_EXISTS : PM_ERR_IO;
    sodium_bin2hex(hex, sizeof hex, key->bytes, sizeof key->bytes);
    char line[96];
    int len = snprintf(line, sizeof line, "%s\n%s\n", KEY_MAGIC, hex);
    sodium_memzero(hex, sizeof hex);
    ssize_t w = write(fd, line, (size_t)len);
    sodium_memzero(line, sizeof line);
    int ok = w == len && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        unlink(path);
        return PM_ERR_IO;
    }
    return PM_OK;
}
