/*
 * Speed and memory of the library on real music.
 *   pmspeed FILE [RUNS]   -> embed and detect speed, x real time per CPU second (median of RUNS)
 *   pmspeed rss [-o FILE] CMD ARGS -> run CMD (its output to FILE, else discarded)
 *                                    and print its peak resident set size in MB
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "provmark.h"
#include "timing.h"


static int rss(char **argv)
{
    const char *out = "/dev/null";
    if (argv[0] && !strcmp(argv[0], "-o") && argv[1]) {
        out = argv[1];
        argv += 2;
    }
    if (!argv[0]) {
        fprintf(stderr, "usage: pmspeed rss [-o FILE] CMD [ARGS]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd >= 0 ? fd : devnull, 1);
        dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return 2;
    printf("%.1f\n", ru.ru_maxrss / 1024.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "rss"))
        return rss(argv + 2);
    if (argc < 2) {
        fprintf(stderr, "usage: pmspeed FILE [RUNS] | pmspeed rss CMD [ARGS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (runs < 1 || runs > 50)
        runs = 3;
    SF_INFO info = {0};
    SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
    if (!f) {
        fprintf(stderr, "pmspeed: %s: %s\n", argv[1], sf_strerror(NULL));
        return 2;
    }
    size_t n = (size_t)info.frames, ch = (size_t)info.channels;
    float *x = malloc(sizeof(float) * n * ch), *y = malloc(sizeof(float) * n * ch);
    if (!x || !y || sf_readf_float(f, x, info.frames) != info.frames) {
        free(x);
        free(y);
        sf_close(f);
        return 2;
    }
    sf_close(f);
    pm_key key;
    pm_key_demo(&key);
    double seconds = (double)n / info.samplerate;
    double emb[50] = {0}, det[50] = {0};
    for (int r = 0; r < runs; r++) {
        pm_embedder *e;
        pm_status rc = pm_embedder_new(&e, info.samplerate, info.channels, &key, 7, 42, 1.0f);
        double t0 = cpu_seconds();
        for (size_t i = 0; i < n && rc == PM_OK; i += 1024)
            rc = pm_embedder_process_interleaved(e, x + i * ch, y + i * ch, n - i < 1024 ? n - i : 1024);
        emb[r] = seconds / (cpu_seconds() - t0);
        pm_embedder_free(e);
        pm_detector *d = NULL;
        pm_result res;
        if (rc == PM_OK)
            rc = pm_detector_new(&d, info.samplerate, info.channels, &key, 1);
        t0 = cpu_seconds();
        if (rc == PM_OK)
            rc = pm_detector_push_interleaved(d, y, n);
        if (rc == PM_OK)
            rc = pm_detector_finish(d, &res);
        det[r] = seconds / (cpu_seconds() - t0);
        pm_detector_free(d);
        if (rc != PM_OK) {
            fprintf(stderr, "pmspeed: %s\n", pm_strerror(rc));
            free(x);
            free(y);
            return 2;
        }
    }
    printf("embed_x %.0f detect_x %.0f\n", median(emb, runs), median(det, runs));
    free(x);
    free(y);
    return 0;
}
