/*
 * The SHA-256 and size of an input file, computed from the bytes its decoder reads
 * (libsndfile reads through these virtual I/O callbacks): no second pass over what
 * was read; only what the decoder skipped or never reached (a trailing chunk, or the
 * whole file when ffmpeg decoded it) is read at the end.
 */
#ifndef PM_CLI_FILEHASH_H
#define PM_CLI_FILEHASH_H
#include <sndfile.h>
#include <sodium.h>
#include <sys/types.h>

typedef struct filehash {
    int fd;        /* the file read (not owned), or -1: nothing to hash */
    off_t pos;     /* the reader's position */
    off_t hashed;  /* bytes 0..hashed are in the hash */
    crypto_hash_sha256_state st;
} filehash;

/* Start hashing the file open at fd, read from its start. */
void filehash_init(filehash *h, int fd);
/* libsndfile's virtual I/O over h->fd (user data: the filehash). */
extern SF_VIRTUAL_IO filehash_io;
/* The hash in lower-case hex and the size in bytes: 0, or -1 (nothing hashed, or a read error). */
int filehash_final(filehash *h, char hex[2 * crypto_hash_sha256_BYTES + 1], long long *size);
#endif
