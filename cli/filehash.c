#include "filehash.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

void filehash_init(filehash *h, int fd)
{
    h->fd = fd;
    h->pos = h->hashed = 0;
    crypto_hash_sha256_init(&h->st);
}

/* Take the bytes just read at h->pos that extend the hashed prefix. */
static void take(filehash *h, const unsigned char *buf, off_t n)
{
    if (n > 0 && h->pos <= h->hashed && h->pos + n > h->hashed) {
        const off_t skip = h->hashed - h->pos;
        crypto_hash_sha256_update(&h->st, buf + skip, (unsigned long long)(n - skip));
        h->hashed = h->pos + n;
    }
}

static sf_count_t vio_len(void *user)
{
    struct stat st;
    return fstat(((filehash *)user)->fd, &st) == 0 ? (sf_count_t)st.st_size : -1;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
    filehash *h = user;
    const off_t p = lseek(h->fd, (off_t)offset, whence);
    if (p >= 0)
        h->pos = p;
    return p;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
    filehash *h = user;
    ssize_t n;
    while ((n = read(h->fd, ptr, (size_t)count)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return 0;
    take(h, ptr, n);
    h->pos += n;
    return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0; /* read only */
}

static sf_count_t vio_tell(void *user)
{
    return ((filehash *)user)->pos;
}

SF_VIRTUAL_IO filehash_io = {vio_len, vio_seek, vio_read, vio_write, vio_tell};

int filehash_final(filehash *h, char hex[2 * crypto_hash_sha256_BYTES + 1], long long *size)
{
    if (h->fd < 0)
        return -1;
    unsigned char buf[65536], out[crypto_hash_sha256_BYTES];
    for (;;) { /* what the decoder did not read */
        const ssize_t n = pread(h->fd, buf, sizeof buf, h->hashed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        crypto_hash_sha256_update(&h->st, buf, (unsigned long long)n);
        h->hashed += n;
    }
    crypto_hash_sha256_final(&h->st, out);
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, out, sizeof out);
    *size = (long long)h->hashed;
    h->fd = -1;
    return 0;
}
