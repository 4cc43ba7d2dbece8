#define _GNU_SOURCE
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sodium.h>
#include <signal.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

int audio_decoder_parse(const char *name, audio_decoder *out)
{
    static const char *const names[] = {"sndfile", "ffmpeg", "auto"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (audio_decoder)i;
            return 0;
        }
    fprintf(stderr, "provmark: --decoder is sndfile, ffmpeg or auto\n");
    return -1;
}

/*
 * Start ffmpeg decoding `path` to Sun AU (float, length unknown: made for pipes) on
 * a pipe; the read end, or -1. No shell is involved, but ffmpeg reads its input
 * argument as a URL: "concat:a.wav|b.wav", "subfile:", "http:" or "-" name other
 * inputs than the file. So a file is always given as "file:" + path and ffmpeg may
 * open nothing but files and pipes (what a playlist-like file inside names is then
 * limited to local files too); "-" hands ffmpeg our standard input as "pipe:0".
 */
static int spawn_ffmpeg(const char *path, pid_t *pid)
{
    int fds[2];
    const int from_stdin = strcmp(path, "-") == 0;
    char *url = NULL;
    if (!from_stdin && asprintf(&url, "file:%s", path) < 0)
        return -1;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(url);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    if (!from_stdin)
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    /* With "-" ffmpeg reads the stream from the standard input it inherits. */
    char *argv[] = {"ffmpeg", from_stdin ? "-hide_banner" : "-nostdin", "-v", "error",
                    "-protocol_whitelist", from_stdin ? "pipe" : "file", "-i",
                    from_stdin ? "pipe:0" : url, "-vn", "-f", "au", "-c:a", "pcm_f32be",
                    "pipe:1", NULL};
    int rc = posix_spawnp(pid, "ffmpeg", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(url);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    return fds[0];
}

/*
 * With a time limit, wait until the pipe we read (ffmpeg's output or our standard
 * input) has data or ends: a stalled writer must not hold the reader past its
 * limit. 0, or -1 with the reason in err (ffmpeg is then killed).
 */
static int wait_input(audio_in *a, char err[AUDIO_ERR])
{
    if (a->max_ms <= 0)
        return 0;
    double left = a->max_ms - (now_ms() - a->t0);
    if (left > 0 && a->pipe_fd >= 0) {
        struct pollfd p = {.fd = a->pipe_fd, .events = POLLIN};
        int n;
        while ((n = poll(&p, 1, (int)(left + 1))) < 0 && errno == EINTR)
            left = a->max_ms - (now_ms() - a->t0);
        left = n != 0 ? 1 : 0;
    }
    if (left > 0)
        return 0;
    if (a->child > 0)
        kill(a->child, SIGKILL);
    snprintf(err, AUDIO_ERR, "gave up after %g s (--max-seconds)", a->max_ms / 1e3);
    return -1;
}

static int open_ffmpeg(audio_in *a, const char *path, char err[AUDIO_ERR])
{
    memset(&a->info, 0, sizeof a->info);
    int fd = spawn_ffmpeg(path, &a->child);
    if (fd < 0) {
        a->child = -1;
        snprintf(err, AUDIO_ERR, "cannot run ffmpeg (is it installed?)");
        return -1;
    }
    a->pipe_fd = fd;
    if (wait_input(a, err) == 0)
        a->sf = sf_open_fd(fd, SFM_READ, &a->info, 1);
    if (!a->sf) {
        close(fd);
        waitpid(a->child, NULL, 0);
        a->child = a->pipe_fd = -1;
        if (!err[0])
            snprintf(err, AUDIO_ERR, "ffmpeg cannot decode this file");
        return -1;
    }
    return 0;
}

int audio_in_open(audio_in *a, const char *path, audio_decoder dec, char err[AUDIO_ERR])
{
    return audio_in_open_limited(a, path, dec, 0.0, err);
}

int audio_in_open_limited(audio_in *a, const char *path, audio_decoder dec, double max_ms,
                          char err[AUDIO_ERR])
{
    memset(a, 0, sizeof *a);
    a->child = a->file_fd = a->pipe_fd = -1;
    a->t0 = now_ms();
    a->max_ms = max_ms;
    err[0] = '\0';
    const int from_stdin = strcmp(path, "-") == 0;
    if (!from_stdin) {
        const char *why;
        if ((a->file_fd = open_regular(path, &why)) < 0) {
            snprintf(err, AUDIO_ERR, "%s", why);
            return -1;
        }
    } else {
        a->pipe_fd = STDIN_FILENO;
    }
    /* The descriptor just checked is the one read: the name cannot be swapped for a FIFO. */
    if (dec != DECODER_FFMPEG && wait_input(a, err) == 0)
        a->sf = sf_open_fd(from_stdin ? STDIN_FILENO : a->file_fd, SFM_READ, &a->info, 0);
    if (err[0]) {
        audio_in_close(a);
        return -1;
    }
    /* A stream read by libsndfile cannot be given to ffmpeg again: auto is sndfile there. */
    if (!a->sf && (dec == DECODER_FFMPEG || (dec == DECODER_AUTO && !from_stdin))) {
        if (open_ffmpeg(a, path, err) != 0) {
            audio_in_close(a);
            return -1;
        }
    } else if (!a->sf) {
        snprintf(err, AUDIO_ERR, "cannot read audio: %s", sf_strerror(NULL));
        audio_in_close(a);
        return -1;
    }
    /* The library's limits, checked before any consumer sizes anything by them. */
    if (a->info.samplerate < PM_MIN_RATE || a->info.samplerate > PM_MAX_RATE || a->info.channels < 1 ||
        a->info.channels > PM_MAX_CHANNELS) {
        snprintf(err, AUDIO_ERR,
                 "unsupported header (rate %d Hz, %d channels; " PM_STR(PM_MIN_RATE) "-" PM_STR(PM_MAX_RATE)
                 " Hz and 1-" PM_STR(PM_MAX_CHANNELS) " channels are read)",
                 a->info.samplerate, a->info.channels);
        audio_in_close(a);
        return -1;
    }
    return 0;
}

long audio_in_read(audio_in *a, float *buf, size_t frames, char err[AUDIO_ERR])
{
    if (wait_input(a, err) != 0)
        return -1;
    sf_count_t n = sf_readf_float(a->sf, buf, (sf_count_t)frames);
    if (n < 0 || sf_error(a->sf)) {
        snprintf(err, AUDIO_ERR, "read error: %s", sf_strerror(a->sf));
        return -1;
    }
    if (n == 0 && a->read == 0) {
        snprintf(err, AUDIO_ERR, "%s", a->child > 0 ? "ffmpeg cannot decode this file" : "no audio in file");
        return -1;
    }
    a->read += n;
    return (long)n;
}

int audio_in_feed(audio_in *a, audio_sink fn, void *ctx, char err[AUDIO_ERR])
{
    float *buf = malloc(sizeof(float) * AUDIO_CHUNK * (size_t)a->info.channels);
    if (!buf) {
        snprintf(err, AUDIO_ERR, "out of memory");
        return -1;
    }
    long n;
    int rc = 0;
    while (rc == 0 && (n = audio_in_read(a, buf, AUDIO_CHUNK, err)) != 0)
        rc = n < 0 ? -1 : fn(ctx, buf, (size_t)n) != 0;
    free(buf);
    return rc;
}

void audio_in_close(audio_in *a)
{
    if (a->sf)
        sf_close(a->sf); /* closes the pipe too, so ffmpeg ends if it was not finished */
    a->sf = NULL;
    if (a->file_fd >= 0)
        close(a->file_fd);
    if (a->child > 0)
        waitpid(a->child, NULL, 0); /* a failure before any audio was read is an error already */
    a->child = a->file_fd = a->pipe_fd = -1;
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static int pick_format(const char *path, const SF_INFO *in, int *format)
{
    const char *ext = strcmp(path, "-") == 0 ? "wav" : extension(path);
    int sub = in->format & SF_FORMAT_SUBMASK;
    int pcm = sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32 ||
              sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE || sub == SF_FORMAT_PCM_U8 ||
              sub == SF_FORMAT_PCM_S8;
    if (!strcasecmp(ext, "wav")) {
        if (sub == SF_FORMAT_PCM_S8)
            sub = SF_FORMAT_PCM_U8;
        *format = SF_FORMAT_WAV | (pcm ? sub : SF_FORMAT_PCM_16);
    } else if (!strcasecmp(ext, "flac")) {
        int s = sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32 || sub == SF_FORMAT_FLOAT ||
                        sub == SF_FORMAT_DOUBLE
                    ? SF_FORMAT_PCM_24
                    : SF_FORMAT_PCM_16;
        *format = SF_FORMAT_FLAC | s;
    } else if (!strcasecmp(ext, "ogg") || !strcasecmp(ext, "oga")) {
        *format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    } else if (!strcasecmp(ext, "opus")) {
        *format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
    } else if (!strcasecmp(ext, "mp3")) {
        *format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    } else {
        return -1;
    }
    return 0;
}

/*
 * libsndfile cannot write WAV to a pipe (it seeks back to fill in the sizes), so
 * a stream gets the header streaming writers use: sizes of 0xFFFFFFFF, "read
 * to the end". Non-PCM/float subtypes are narrowed to 16-bit in `info`.
 */
static int stream_wav_header(int fd, SF_INFO *info)
{
    int sub = info->format & SF_FORMAT_SUBMASK, bits = 16, tag = 1;
    switch (sub) {
    case SF_FORMAT_PCM_U8: bits = 8; break;
    case SF_FORMAT_PCM_24: bits = 24; break;
    case SF_FORMAT_PCM_32: bits = 32; break;
    case SF_FORMAT_FLOAT: bits = 32, tag = 3; break;
    case SF_FORMAT_DOUBLE: bits = 64, tag = 3; break;
    default: sub = SF_FORMAT_PCM_16; break;
    }
    info->format = (info->format & ~SF_FORMAT_SUBMASK) | sub;
    const uint32_t align = (uint32_t)(info->channels * bits / 8);
    const uint32_t field[] = {0xffffffffu, 16, (uint32_t)tag | (uint32_t)info->channels << 16,
                              (uint32_t)info->samplerate, (uint32_t)info->samplerate * align,
                              align | (uint32_t)bits << 16, 0xffffffffu};
    static const int at[] = {4, 16, 20, 24, 28, 32, 40};
    unsigned char h[44] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' '};
    h[36] = 'd', h[37] = 'a', h[38] = 't', h[39] = 'a';
    for (int i = 0; i < 7; i++)
        for (int b = 0; b < 4; b++)
            h[at[i] + b] = (unsigned char)(field[i] >> (8 * b));
    for (size_t done = 0; done < sizeof h;) {
        ssize_t n = write(fd, h + done, sizeof h - done);
        if (n < 0 && errno != EINTR)
            return -1;
        done += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

int audio_out_type_known(const char *path)
{
    const SF_INFO any = {0};
    int format;
    return pick_format(path, &any, &format) == 0;
}

int audio_out_open(audio_out *o, const char *path, const SF_INFO *in, SF_INFO *out_info)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    memset(out_info, 0, sizeof *out_info);
    out_info->samplerate = in->samplerate;
    out_info->channels = in->channels;
    if (pick_format(path, in, &out_info->format) != 0) {
        fprintf(stderr, "provmark: %s: unknown output type (use .wav .flac .ogg .opus .mp3)\n",
                path);
        return -1;
    }
    const int r = in->samplerate; /* the rates Opus codes (RFC 6716); the caller resamples others */
    if ((out_info->format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS && r != 8000 && r != 12000 &&
        r != 16000 && r != 24000 && r != AUDIO_OPUS_RATE)
        out_info->samplerate = AUDIO_OPUS_RATE;
    if (!sf_format_check(out_info)) {
        fprintf(stderr, "provmark: %s: this container cannot hold %d Hz, %d channels\n", path,
                in->samplerate, in->channels);
        return -1;
    }
    if (strcmp(path, "-") == 0) {
        o->is_stdout = 1;
        o->fd = STDOUT_FILENO;
    } else {
        o->path = strdup(path);
        char *dir_copy = strdup(path);
        if (!o->path || !dir_copy) {
            free(dir_copy);
            fprintf(stderr, "provmark: out of memory\n");
            audio_out_abort(o);
            return -1;
        }
        const char *dir = dirname(dir_copy);
        /* An unnamed file first: if we are killed, nothing is left anywhere. */
        o->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (o->fd >= 0) {
            o->anonymous = 1;
        } else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            size_t n = strlen(path) + 16;
            o->tmp_path = malloc(n);
            if (o->tmp_path) {
                snprintf(o->tmp_path, n, "%s.pmtmpXXXXXX", path);
                o->fd = mkstemp(o->tmp_path);
            }
        }
        int err = errno;
        free(dir_copy);
        if (o->fd < 0) {
            fprintf(stderr, "provmark: %s: cannot create output: %s\n", path, strerror(err));
            audio_out_abort(o);
            return -1;
        }
    }
    if (o->is_stdout && lseek(o->fd, 0, SEEK_CUR) < 0) {
        if (stream_wav_header(o->fd, out_info) != 0) {
            fprintf(stderr, "provmark: stdout: write failed: %s\n", strerror(errno));
            return -1;
        }
        /* The samples follow as raw little-endian frames of the same format. */
        out_info->format = SF_FORMAT_RAW | SF_ENDIAN_LITTLE | (out_info->format & SF_FORMAT_SUBMASK);
    }
    o->sf = sf_open_fd(o->fd, SFM_WRITE, out_info, 0);
    if (!o->sf) {
        fprintf(stderr, "provmark: %s: cannot write audio: %s\n", path, sf_strerror(NULL));
        audio_out_abort(o);
        return -1;
    }
    sf_command(o->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if ((out_info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ||
        (out_info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        double q = 0.9; /* lossy output: keep it close to transparent */
        sf_command(o->sf, SFC_SET_COMPRESSION_LEVEL, &q, sizeof q);
    }
    return 0;
}

int audio_out_commit(audio_out *o)
{
    int err = sf_error(o->sf);
    if (err) {
        fprintf(stderr, "provmark: %s: write failed: %s\n", o->is_stdout ? "stdout" : o->path,
                sf_error_number(err));
        audio_out_abort(o);
        return -1;
    }
    sf_write_sync(o->sf);
    if (sf_close(o->sf) != 0) {
        o->sf = NULL;
        fprintf(stderr, "provmark: %s: write failed while closing\n", o->path ? o->path : "stdout");
        audio_out_abort(o);
        return -1;
    }
    o->sf = NULL;
    if (o->is_stdout)
        return 0;
    int ok = fsync(o->fd) == 0;
    int e = errno;
    if (ok && o->anonymous) {
        /*
         * Link the unnamed file under a fresh random name (linkat never replaces an
         * existing name: a planted file or link makes it fail, and we try another),
         * then rename over the target. Fail closed when no name could be made.
         */
        char proc[64], *tmp = NULL;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
        int linked = 0;
        if (sodium_init() < 0) /* the random names; idempotent */
            ok = 0, e = EAGAIN;
        for (int i = 0; i < 100 && !linked && ok; i++) {
            free(tmp);
            tmp = NULL;
            if (asprintf(&tmp, "%s.pmtmp%08x%08x", o->path, randombytes_random(), randombytes_random()) < 0) {
                tmp = NULL;
                ok = 0, e = ENOMEM;
            } else if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
                linked = 1;
            } else if (errno != EEXIST) {
                ok = 0, e = errno;
            }
        }
        if (ok && !linked)
            ok = 0, e = EEXIST;
        if (ok && rename(tmp, o->path) != 0) {
            e = errno;
            unlink(tmp);
            ok = 0;
        }
        free(tmp);
    } else if (ok && rename(o->tmp_path, o->path) != 0) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "provmark: %s: cannot finish output: %s\n", o->path, strerror(e));
        audio_out_abort(o);
        return -1;
    }
    close(o->fd);
    o->fd = -1;
    free(o->tmp_path);
    o->tmp_path = NULL;
    free(o->path);
    o->path = NULL;
    return 0;
}

void audio_out_abort(audio_out *o)
{
    if (o->sf)
        sf_close(o->sf);
    o->sf = NULL;
    if (o->fd >= 0 && !o->is_stdout)
        close(o->fd);
    o->fd = -1;
    if (o->tmp_path)
        unlink(o->tmp_path);
    free(o->tmp_path);
    free(o->path);
    o->tmp_path = o->path = NULL;
}

int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
