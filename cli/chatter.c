#define _GNU_SOURCE
#include "chatter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int real_fd = 2; /* the real stderr */
static pid_t filter = -1;
static FILE *direct;    /* on real_fd */

/* The beginnings of libmpg123's lines (provmark's own all start "provmark: "). */
static const char *const noise[] = {"[src/libmpg123/", "Note: ", "Warning: ", "Big trouble", NULL};

/* 1: a line starting with p[0..n) is noise; 0: it is not; -1: not known yet. */
static int is_noise(const char *p, size_t n)
{
    int maybe = 0;
    for (int i = 0; noise[i]; i++) {
        const size_t k = strlen(noise[i]);
        if (n >= k && memcmp(p, noise[i], k) == 0)
            return 1;
        maybe |= n < k && memcmp(p, noise[i], n) == 0;
    }
    return maybe ? -1 : 0;
}

static void put(const char *p, size_t n)
{
    while (n) {
        const ssize_t w = write(real_fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* The filter process: copy the pipe to the real stderr, line by line, without the noise. */
static void run_filter(int in)
{
    char buf[4096], head[32];
    size_t held = 0;  /* bytes of the current line's start held back until it is known */
    int state = -1;   /* the current line: -1 undecided, 0 passed, 1 dropped */
    long dropped = 0;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0)
            continue; /* EINTR */
        for (ssize_t i = 0; i < n; i++) {
            const char c = buf[i];
            if (state < 0) {
                head[held++] = c;
                state = c == '\n' ? 0 : is_noise(head, held);
                if (state == 0)
                    put(head, held);
                if (state >= 0)
                    held = 0;
                if (c == '\n')
                    state = -1;
                continue;
            }
            if (state == 0) { /* pass the rest of the line at once (a progress line has no end) */
                ssize_t j = i;
                while (j < n && buf[j] != '\n')
                    j++;
                put(buf + i, (size_t)(j - i + (j < n)));
                i = j;
            } else {
                while (i < n && buf[i] != '\n')
                    i++;
                dropped++;
            }
            if (i < n)
                state = -1;
        }
    }
    put(head, held);
    if (dropped) {
        char note[200];
        const int k = snprintf(note, sizeof note, "provmark: note: the MP3 decoder (libmpg123) reported damaged or "
                                                  "unusual frames %ld time%s; the results come from what it decoded\n",
                               dropped, dropped == 1 ? "" : "s");
        put(note, (size_t)k);
    }
}

static int tty, same;

/* 1 if stdout and stderr are the same terminal, as the descriptors are now. */
static int same_tty(void)
{
    struct stat o, e;
    return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) && fstat(STDOUT_FILENO, &o) == 0 &&
           fstat(STDERR_FILENO, &e) == 0 && o.st_rdev == e.st_rdev;
}

static void stop(void)
{
    fflush(stderr);
    if (dup2(real_fd, STDERR_FILENO) < 0) /* the pipe's last writer goes: the filter ends */
        return;
    int status;
    while (waitpid(filter, &status, 0) < 0 && errno == EINTR)
        ;
}

void chatter_start(void)
{
    tty = isatty(STDERR_FILENO);
    same = same_tty();
    int fds[2];
    const int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 || pipe2(fds, O_CLOEXEC) != 0) {
        if (saved >= 0)
            close(saved);
        return;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        real_fd = saved;
        close(STDIN_FILENO); /* a reader of our stdout sees its end when we end, not later */
        close(STDOUT_FILENO);
        close(STDERR_FILENO);
        run_filter(fds[0]);
        _exit(0);
    }
    close(fds[0]);
    if (pid < 0 || dup2(fds[1], STDERR_FILENO) < 0) {
        close(fds[1]);
        close(saved);
        return;
    }
    close(fds[1]);
    real_fd = saved;
    filter = pid;
    direct = fdopen(saved, "w");
    if (direct)
        setvbuf(direct, NULL, _IONBF, 0);
    atexit(stop);
}

FILE *chatter_err(void)
{
    return direct ? direct : stderr;
}

int chatter_stderr_tty(void)
{
    return filter > 0 ? tty : isatty(STDERR_FILENO);
}

int chatter_same_terminal(void)
{
    return filter > 0 ? same : same_tty();
}
