/* Helpers shared by the provmark commands (declared in cli.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>

#include "chatter.h"
#include "cli.h"
#include "progress.h"

int parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
    /* Digits only: strtoul alone would take " 7", "+7" and "-0" (and wrap "-1"). */
    size_t n = s ? strspn(s, "0123456789") : 0;
    if (!n || s[n] || (s[0] == '0' && n > 1) || n > 10)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_id(const char *s, uint32_t *out, const char *what)
{
    unsigned long v;
    if (parse_decimal(s, PM_ID_MAX, &v) != 0) {
        say("%s must be a whole number from 0 to " PM_STR(PM_ID_MAX), what);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int load_key(const char *path, pm_key *key)
{
    if (!path) {
        say("warning: using the public demo key; its marks prove nothing (make one with 'provmark keygen')");
        pm_key_demo(key);
        return 0;
    }
    /* Which of missing, unreadable or malformed, and what to do about it. */
    const char *why;
    const int fd = open_regular(path, &why);
    const int missing = fd < 0 && errno == ENOENT, denied = fd < 0 && errno == EACCES;
    if (fd >= 0)
        close(fd);
    const int rc = fd >= 0 ? pm_key_load(key, path) : PM_ERR_IO;
    if (rc != PM_OK) {
        if (missing)
            say("key file %s: missing (no such file); make a key with 'provmark keygen FILE'", path);
        else if (denied)
            say("key file %s: unreadable (permission denied: run as the key's owner, or check its mode)", path);
        else if (fd < 0)
            say("key file %s: unreadable (%s)", path, why);
        else
            say("key file %s: malformed (not a key written by 'provmark keygen'; make one with 'provmark keygen FILE')",
                path);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        say("warning: key file %s is readable by others (chmod 600 it)",
                path);
    if (pm_key_is_demo(key))
        say("warning: %s holds the public demo key", path);
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

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0 when the byte there starts
 * none (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF,
 * or cut short, also by the terminating NUL).
 */
static size_t utf8_seq(const unsigned char *p)
{
    size_t n;
    uint32_t c;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, c = p[0] & 0x1fu;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, c = p[0] & 0x0fu;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, c = p[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3fu);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    return n;
}

int utf8_valid(const char *s)
{
    for (size_t n; *s; s += n)
        if (!(n = utf8_seq((const unsigned char *)s)))
            return 0;
    return 1;
}

json_t *json_name(const char *s)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    char *buf = malloc(3 * strlen(s) + 1), *o = buf;
    if (!buf)
        return NULL;
    for (size_t n; *s; s += n) {
        if ((n = utf8_seq((const unsigned char *)s)) != 0) {
            memcpy(o, s, n);
            o += n;
        } else {
            memcpy(o, replacement, 3);
            o += 3;
            n = 1;
        }
    }
    *o = '\0';
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

int json_set_name(json_t *obj, const char *key, const char *s)
{
    json_t *v = json_name(s);
    if (!v || json_object_set_new(obj, key, v) != 0)
        return -1;
    if (utf8_valid(s))
        return 0;
    char *hex = malloc(2 * strlen(s) + 1);
    if (!hex)
        return -1;
    sodium_bin2hex(hex, 2 * strlen(s) + 1, (const unsigned char *)s, strlen(s));
    char *bytes_key = NULL;
    int rc = asprintf(&bytes_key, "%s_bytes", key) < 0 ? -1 : json_object_set_new(obj, bytes_key, json_string(hex));
    free(bytes_key);
    free(hex);
    return rc;
}

char *json_get_name(const json_t *obj, const char *key)
{
    char *bytes_key = NULL;
    if (asprintf(&bytes_key, "%s_bytes", key) < 0)
        return NULL;
    const char *hex = json_string_value(json_object_get(obj, bytes_key));
    const char *text = json_string_value(json_object_get(obj, key));
    free(bytes_key);
    if (!hex)
        return text ? strdup(text) : NULL;
    size_t n = strlen(hex) / 2, len;
    char *out = malloc(n + 1);
    if (out && (sodium_hex2bin((unsigned char *)out, n, hex, strlen(hex), NULL, &len, NULL) != 0 ||
                memchr(out, '\0', len))) {
        free(out);
        return NULL;
    }
    if (out)
        out[len] = '\0';
    return out;
}

void put_text(FILE *f, const char *s, int xml)
{
    if (!s)
        return;
    for (size_t n; *s; s += n) {
        const unsigned char *p = (const unsigned char *)s;
        n = utf8_seq(p);
        if (!n) { /* not UTF-8: the byte in hex */
            fprintf(f, "\\x%02x", p[0]);
            n = 1;
        } else if (p[0] < 0x20 || p[0] == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
            /* C0 and C1 controls and DEL: never raw to a terminal, never in XML */
            const char *named = p[0] == '\n' ? "\\n" : p[0] == '\t' ? "\\t" : p[0] == '\r' ? "\\r" : NULL;
            if (named)
                fputs(named, f);
            else
                fprintf(f, n == 1 ? "\\x%02x" : "\\u%04x", n == 1 ? p[0] : p[1]);
        } else if (n == 3 && p[0] == 0xef && ((p[1] == 0xbf && p[2] >= 0xbe) || (p[1] == 0xb7 && p[2] >= 0x90 && p[2] <= 0xaf))) {
            /* noncharacters U+FDD0..U+FDEF, U+FFFE, U+FFFF: not allowed in XML, nor meant for text */
            fprintf(f, "\\u%04x", (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu));
        } else if (p[0] == '\\') {
            fputs("\\\\", f); /* so that every escape above is unambiguous */
        } else if (xml && strchr("&<>\"'", p[0])) {
            fputs(p[0] == '&' ? "&amp;" : p[0] == '<' ? "&lt;" : p[0] == '>' ? "&gt;" : p[0] == '"' ? "&quot;" : "&#39;", f);
        } else {
            fwrite(s, 1, n, f);
        }
    }
}

void say(const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    const int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    /* Past the stderr filter (it is for other libraries' chatter), after any status line
     * is cleared: the message has a line of its own, in its place among the others. */
    FILE *err = chatter_err();
    flockfile(err); /* one line, also from the scan's worker threads */
    progress_hide();
    fputs("provmark: ", err);
    put_text(err, n >= 0 ? line : fmt, 0); /* out of memory: at least what the message was */
    fputc('\n', err);
    funlockfile(err);
    if (n >= 0)
        free(line);
}

void say_bad_option(const char *cmd, char **argv)
{
    /* A long option (unknown, or its value missing) is the argument just passed; a short one is optopt. */
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (optopt && strncmp(arg, "--", 2) != 0)
        say("%s: bad option -%c (see 'provmark %s --help')", cmd, optopt, cmd);
    else
        say("%s: bad option %s (see 'provmark %s --help')", cmd, arg, cmd);
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
    char *tmp = NULL, *real = NULL;
    int fd = -1, rc = -1;
    struct stat st;
    const int exists = stat(path, &st) == 0;
    /* A symbolic link is followed: its target is updated, the link stays a link. */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)) != NULL)
        path = real;
    /* The file keeps its permissions (a 0600 manifest stays private); a new one is 0644. */
    const mode_t mode = exists && stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
    /* mkstemp: a random name, O_CREAT | O_EXCL, so nothing planted is ever written through */
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
        int ok = left == 0 && fchmod(fd, mode) == 0 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
    }
    if (rc != 0) {
        say("%s: cannot write %s: %s", path, what, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(tmp);
    free(real);
    return rc;
}

int load_keys(const char *const *paths, int n, pm_key keys[])
{
    if (n == 0)
        return load_key(NULL, &keys[0]) == 0 ? 1 : -1;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (load_key(paths[i], &keys[kept]) != 0)
            return -1;
        /* The same key twice would be tried twice and report a phantom second mark. */
        int dup = 0;
        for (int j = 0; j < kept && !dup; j++)
            dup = sodium_memcmp(&keys[j], &keys[kept], sizeof keys[j]) == 0;
        if (dup)
            say("warning: %s is a key already given; it is tried once", paths[i]);
        else
            kept++;
    }
    return kept;
}

json_t *json_load_path(const char *path)
{
    json_error_t err;
    const char *why;
    FILE *f = fopen_regular(path, &why);
    if (!f) {
        say("%s: %s", path, why);
        return NULL;
    }
    json_t *j = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (!j && err.line > 0)
        say("%s:%d: %s", path, err.line, err.text);
    else if (!j) /* no line to point at: a read error, or an empty file */
        say("%s: not JSON (%s)", path, err.text);
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
        say("at most %d keys", MAX_KEYS);
        return -1;
    }
    paths[(*n)++] = path;
    return 0;
}
