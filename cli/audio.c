#define _GNU_SOURCE
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "sniff.h"

/* libsndfile keeps the reason a file could not be opened in one global, which another
 * worker's open overwrites (a scan with -j reported "No Error." for an unreadable file):
 * opens are serialised and the reason copied before the lock is let go. */
static pthread_mutex_t sf_open_lock = PTHREAD_MUTEX_INITIALIZER;
#define SF_WHY 160

extern char **environ;

int audio_decoder_parse(const char *name, audio_decoder *out)
{
    static const char *const names[] = {"sndfile", "ffmpeg", "auto"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (audio_decoder)i;
            return 0;
        }
    say("--decoder is sndfile, ffmpeg or auto");
    return -1;
}

/*
 * Start ffmpeg decoding `path` to Sun AU (float, length unknown: made for pipes) on
 * a pipe; the read end, or -1. No shell is involved, but ffmpeg reads its input
 * argument as a URL: "concat:a.wav|b.wav", "subfile:", "http:" or "-" name other
 * inputs than the file. So a file is always given as "file:" + path and ffmpeg may
 * open nothing but files and pipes. That still lets a playlist-like file name other
 * local files (an ffconcat list, an HLS or DASH playlist, an IMF composition), so
 * ffmpeg may also use only the container formats below, none of which refers to
 * another file. "-" hands ffmpeg our standard input as "pipe:0".
 * -max_error_rate 0: any frame that cannot be decoded (a truncated or damaged file)
 * makes ffmpeg exit with a non-zero status, after decoding all it can.
 */
static char ffmpeg_formats[] = "aac,ac3,aiff,amr,ape,asf,au,avi,caf,dsf,dts,dtshd,eac3,flac,flv,loas,"
                               "matroska,mlp,mov,mp3,mpc,mpc8,mpeg,mpegts,ogg,oma,rm,shn,tak,truehd,tta,"
                               "w64,wav,wv,xwma";
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
                    "-max_error_rate", "0", "-format_whitelist", ffmpeg_formats,
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

/*
 * The frames a header states, or 0 for none: libsndfile's count unless it is
 * unknown, or the 0xFFFFFFFF-byte "until the end" of a streamed WAV or AU (a file's
 * count libsndfile has already cut to what the file holds; a stream's it cannot).
 */
static sf_count_t stated_frames(const SF_INFO *info)
{
    static const struct { int sub, bytes; } pcm[] = {
        {SF_FORMAT_PCM_S8, 1}, {SF_FORMAT_PCM_U8, 1}, {SF_FORMAT_ULAW, 1}, {SF_FORMAT_ALAW, 1},
        {SF_FORMAT_PCM_16, 2}, {SF_FORMAT_PCM_24, 3}, {SF_FORMAT_PCM_32, 4}, {SF_FORMAT_FLOAT, 4},
        {SF_FORMAT_DOUBLE, 8}};
    if (info->frames <= 0 || info->frames >= SF_COUNT_MAX)
        return 0;
    for (size_t i = 0; i < sizeof pcm / sizeof pcm[0]; i++) {
        const unsigned long long frame = (unsigned long long)pcm[i].bytes * (unsigned)info->channels;
        if ((info->format & SF_FORMAT_SUBMASK) == pcm[i].sub &&
            (unsigned long long)info->frames * frame + frame > 0xffffffffull)
            return 0;
    }
    return info->frames;
}

/* Room for libsndfile's log (it keeps about 2 KB). */
#define SF_LOG_MAX 4096

/*
 * At open: a container header (RIFF, data, FORM, SSND, AU data size, W64, RF64) that
 * claims more bytes than the file holds. libsndfile then silently reads what is
 * there, leaving only a log line "NAME : CLAIMED (should be PRESENT)". 0xFFFFFFFF is
 * the "until the end" of streamed WAV and AU; one byte short is a missing pad byte.
 */
static void note_short_container(audio_in *a)
{
    char log[SF_LOG_MAX];
    sf_command(a->sf, SFC_GET_LOG_INFO, log, sizeof log);
    log[sizeof log - 1] = '\0';
    for (const char *line = log; *line && !a->truncated[0];) {
        const char *nl = strchr(line, '\n'), *should = strstr(line, " (should be ");
        unsigned long long claim, present;
        if (should && (!nl || should < nl)) {
            const char *colon = memrchr(line, ':', (size_t)(should - line));
            if (colon && sscanf(colon + 1, "%llu (should be %llu)", &claim, &present) == 2 &&
                claim > present + 1 && claim != 0xffffffffull)
                snprintf(a->truncated, AUDIO_ERR, "the header states %llu bytes, the file holds %llu", claim,
                         present);
        }
        line = nl ? nl + 1 : line + strlen(line);
    }
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
    filehash_init(&a->hash, a->file_fd); /* a file is hashed as libsndfile reads it */
    char why[SF_WHY] = "";
    if (dec != DECODER_FFMPEG && wait_input(a, err) == 0) {
        pthread_mutex_lock(&sf_open_lock);
        a->sf = from_stdin ? sf_open_fd(STDIN_FILENO, SFM_READ, &a->info, 0)
                           : sf_open_virtual(&filehash_io, SFM_READ, &a->info, &a->hash);
        snprintf(why, sizeof why, "%s", a->sf ? "" : sf_strerror(NULL));
        pthread_mutex_unlock(&sf_open_lock);
    }
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
    } else if (!a->sf && a->file_fd >= 0) {
        sniff_unreadable(a->file_fd, why, err, AUDIO_ERR); /* what the file is, what to do */
        audio_in_close(a);
        return -1;
    } else if (!a->sf) {
        snprintf(err, AUDIO_ERR, "cannot read audio: %s", why);
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
    if (a->child < 0) { /* what the header states (ffmpeg's AU header states nothing) */
        a->claimed = stated_frames(&a->info);
        note_short_container(a);
    }
    return 0;
}

/* At the end: whatever else says the file held less than it states (see audio_in.truncated). */
static void note_end(audio_in *a)
{
    if (a->child > 0) { /* ffmpeg has closed its output: its status tells of undecodable frames */
        int st;
        pid_t r;
        while ((r = waitpid(a->child, &st, 0)) < 0 && errno == EINTR)
            ;
        a->child = -1;
        if (!a->truncated[0] && (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
            snprintf(a->truncated, AUDIO_ERR, "ffmpeg could not decode all of it (damaged or cut short)");
        return;
    }
    if (a->truncated[0])
        return;
    const double rate = a->info.samplerate;
    /* An MP3 without a Xing/Info/VBRI header states a length estimated from its size. */
    const sf_count_t slack = (a->info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG
                                 ? (sf_count_t)fmax(rate, (double)a->claimed / 100)
                                 : 0;
    char log[SF_LOG_MAX];
    if (a->claimed > 0 && a->read < a->claimed - slack)
        snprintf(a->truncated, AUDIO_ERR, "the header states %.1f s, %.1f s could be read",
                 (double)a->claimed / rate, (double)a->read / rate);
    else if (sf_command(a->sf, SFC_GET_LOG_INFO, log, sizeof log) > 0 && strstr(log, "without an End-Of-Stream"))
        snprintf(a->truncated, AUDIO_ERR, "the Ogg stream ends before its last page");
}

long audio_in_read(audio_in *a, float *buf, size_t frames, char err[AUDIO_ERR])
{
    if (a->ended)
        return 0;
    if (wait_input(a, err) != 0)
        return -1;
    sf_count_t n = sf_readf_float(a->sf, buf, (sf_count_t)frames);
    const int failed = n < 0 || sf_error(a->sf);
    n = n > 0 ? n : 0;
    if (failed && a->read + n == 0) {
        snprintf(err, AUDIO_ERR, "read error: %s", sf_strerror(a->sf));
        return -1;
    }
    a->read += n;
    if (failed) { /* a decoder that gives up at a cut (FLAC): what came before is kept */
        if (a->child < 0) /* (ffmpeg is reaped by audio_in_close, once its pipe is closed) */
            note_end(a);  /* the header's length, when it states one */
        if (!a->truncated[0])
            snprintf(a->truncated, AUDIO_ERR, "decoding stopped at %.1f s: %s", (double)a->read / a->info.samplerate,
                     sf_strerror(a->sf));
        a->ended = 1;
    } else if (n == 0) {
        const int ffmpeg = a->child > 0;
        a->ended = 1;
        note_end(a);
        if (a->read == 0) {
            snprintf(err, AUDIO_ERR, "%s%s%.*s%s", ffmpeg ? "ffmpeg cannot decode this file" : "no audio in file",
                     a->truncated[0] ? " (truncated: " : "", AUDIO_ERR / 2, a->truncated, a->truncated[0] ? ")" : "");
            return -1;
        }
    }
    return (long)n;
}

int audio_in_check_end(audio_in *a)
{
    float *frame = malloc(sizeof(float) * (size_t)a->info.channels);
    if (frame && !a->truncated[0] && a->claimed > 0 && a->child < 0 && a->info.seekable &&
        (a->info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG &&
        (sf_seek(a->sf, a->claimed - 1, SEEK_SET) != a->claimed - 1 || sf_readf_float(a->sf, frame, 1) != 1))
        snprintf(a->truncated, AUDIO_ERR, "the header states %.1f s, its last frame is not in the file",
                 (double)a->claimed / a->info.samplerate);
    free(frame);
    a->ended = 1;
    return a->truncated[0] ? -1 : 0;
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

int audio_in_digest(audio_in *a, char hex[2 * crypto_hash_sha256_BYTES + 1], long long *size)
{
    return filehash_final(&a->hash, hex, size);
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
        say("%s: unknown output type (use .wav .flac .ogg .opus .mp3)",
                path);
        return -1;
    }
    const int r = in->samplerate; /* the rates Opus codes (RFC 6716); the caller resamples others */
    if ((out_info->format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS && r != 8000 && r != 12000 &&
        r != 16000 && r != 24000 && r != AUDIO_OPUS_RATE)
        out_info->samplerate = AUDIO_OPUS_RATE;
    if (!sf_format_check(out_info)) {
        say("%s: this container cannot hold %d Hz, %d channels", path,
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
            say("out of memory");
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
            say("%s: cannot create output: %s", path, strerror(err));
            audio_out_abort(o);
            return -1;
        }
    }
    if (o->is_stdout && lseek(o->fd, 0, SEEK_CUR) < 0) {
        if (stream_wav_header(o->fd, out_info) != 0) {
            say("stdout: write failed: %s", strerror(errno));
            return -1;
        }
        /* The samples follow as raw little-endian frames of the same format. */
        out_info->format = SF_FORMAT_RAW | SF_ENDIAN_LITTLE | (out_info->format & SF_FORMAT_SUBMASK);
    }
    char why[SF_WHY] = "";
    pthread_mutex_lock(&sf_open_lock);
    o->sf = sf_open_fd(o->fd, SFM_WRITE, out_info, 0);
    snprintf(why, sizeof why, "%s", o->sf ? "" : sf_strerror(NULL));
    pthread_mutex_unlock(&sf_open_lock);
    if (!o->sf) {
        say("%s: cannot write audio: %s", path, why);
        audio_out_abort(o);
        return -1;
    }
    sf_command(o->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if ((out_info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ||
        (out_info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        /* libsndfile: 0 is the least compression (the highest quality), 1 the most. Lossy
         * output kept close to transparent: Vorbis and MP3 at about 150-190 kbit/s stereo,
         * Opus (which spends far more per step) at about 190. */
        double q = (out_info->format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS ? 0.6 : 0.2;
        sf_command(o->sf, SFC_SET_COMPRESSION_LEVEL, &q, sizeof q);
    }
    return 0;
}

int audio_out_commit(audio_out *o)
{
    int err = sf_error(o->sf);
    if (err) {
        say("%s: write failed: %s", o->is_stdout ? "stdout" : o->path,
                sf_error_number(err));
        audio_out_abort(o);
        return -1;
    }
    sf_write_sync(o->sf);
    if (sf_close(o->sf) != 0) {
        o->sf = NULL;
        say("%s: write failed while closing", o->path ? o->path : "stdout");
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
        say("%s: cannot finish output: %s", o->path, strerror(e));
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
