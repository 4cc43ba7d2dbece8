/* Helpers shared by the provmark commands (declared in cli.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

int parse_id(const char *s, uint32_t *out, const char *what)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+') {
        fprintf(stderr, "provmark: %s must be a whole number from 0 to " PM_STR(PM_ID_MAX) "\n", what);
        return -1;
    }
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > PM_ID_MAX) {
        fprintf(stderr, "provmark: %s must be a whole number from 0 to " PM_STR(PM_ID_MAX) "\n", what);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int load_key(const char *path, pm_key *key)
{
    if (!path) {
        fprintf(stderr, "provmark: warning: using the public demo key; "
                        "its marks prove nothing (make one with 'provmark keygen')\n");
        pm_key_demo(key);
        return 0;
    }
    int rc = pm_key_load(key, path);
    if (rc != PM_OK) {
        fprintf(stderr, "provmark: %s: %s\n", path, pm_strerror(rc));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "provmark: warning: key file %s is readable by others (chmod 600 it)\n",
                path);
    if (pm_key_is_demo(key))
        fprintf(stderr, "provmark: warning: %s holds the public demo key\n", path);
    return 0;
}

int open_regular(const char *path, const char **why)
{
    /* O_NONBLOCK: opening a FIFO without a writer, or a device, must not block. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    *why = fstat(fd, &st) != 0 ? strerror(errno) : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
    if (*why) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

FILE *fopen_regular(const char *path, const char **why)
{
    int fd = open_regular(path, why);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (fd >= 0 && !f) {
        *why = strerror(errno);
        close(fd);
    }
    return f;
}

int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}


int write_atomic(const char *path, const void *buf, size_t n, const char *what)
{
    char *tmp = NULL;
    int fd = -1, rc = -1;
    if (asprintf(&tmp, "%s.pmtmpXXXXXX", path) >= 0 && (fd = mkstemp(tmp)) >= 0) {
        const unsigned char *p = buf;
        size_t left = n;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
        int ok = left == 0 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0)
            rc = 0;
    }
    if (rc != 0) {
        fprintf(stderr, "provmark: %s: cannot write %s: %s\n", path, what, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}

int load_keys(const char *const *paths, int n, pm_key keys[])
{
    if (n == 0)
        return load_key(NULL, &keys[0]) == 0 ? 1 : -1;
    for (int i = 0; i < n; i++)
        if (load_key(paths[i], &keys[i]) != 0)
            return -1;
    return n;
}

json_t *json_load_path(const char *path)
{
    json_error_t err;
    const char *why;
    FILE *f = fopen_regular(path, &why);
    if (!f) {
        fprintf(stderr, "provmark: %s: %s\n", path, why);
        return NULL;
    }
    json_t *j = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (!j)
        fprintf(stderr, "provmark: %s:%d: %s\n", path, err.line, err.text);
    return j;
}

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int add_key_path(const char *paths[MAX_KEYS], int *n, const char *path)
{
    if (*n == MAX_KEYS) {
        fprintf(stderr, "provmark: at most %d keys\n", MAX_KEYS);
        return -1;
    }
    paths[(*n)++] = path;
    return 0;
}
