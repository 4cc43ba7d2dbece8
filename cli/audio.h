/*
 * Audio file access for every command: one reader (the same file-type policy,
 * decoders, limits and messages for embed, detect, trace, dataset add and
 * dataset fingerprint) and atomic output.
 */
#ifndef PM_CLI_AUDIO_H
#define PM_CLI_AUDIO_H
#include <sndfile.h>
#include <stddef.h>
#include <sys/types.h>

#include "filehash.h"

/*
 * Which decoder reads the input: libsndfile; an ffmpeg subprocess (AAC/M4A, video
 * containers, ...); or auto: libsndfile, and ffmpeg for what libsndfile cannot read.
 */
typedef enum audio_decoder { DECODER_SNDFILE, DECODER_FFMPEG, DECODER_AUTO } audio_decoder;

/* The --decoder option's help text, for the commands' usage. */
#define AUDIO_DECODER_HELP \
    "  --decoder D      sndfile (default), ffmpeg (decode with an ffmpeg subprocess:\n" \
    "                   AAC/M4A, video containers, ...) or auto (ffmpeg only for files\n" \
    "                   libsndfile cannot read)\n"

/* Parse a --decoder value; -1 after one line on stderr. */
int audio_decoder_parse(const char *name, audio_decoder *out);

/* Room for any message of the reader (without the path). */
#define AUDIO_ERR 256

/* An open input: read it with audio_in_read, then audio_in_close. */
typedef struct audio_in {
    SNDFILE *sf;
    SF_INFO info;   /* samplerate and channels within the library's limits (PM_MIN_RATE..., include/provmark.h) */
    pid_t child;    /* the ffmpeg subprocess, or -1 */
    long long read; /* frames read so far */
    int file_fd;    /* the regular file read by libsndfile, or -1 */
    int pipe_fd;    /* the pipe read (ffmpeg's output, or stdin for "-"), or -1 */
    double t0, max_ms; /* opened at t0 (now_ms); max_ms > 0: the time limit */
    sf_count_t claimed; /* the frames the header states (libsndfile), or 0 when it states none */
    int ended;          /* the end was read */
    /*
     * Empty, or why the file holds less than it states (one line, without the path):
     * a container whose header claims more bytes than the file holds (known at open),
     * fewer frames read than the header states, an Ogg stream without its last page,
     * or frames ffmpeg could not decode (known once the end is read). What was read is
     * still delivered; an MP3 without a length header states only an estimate, so it
     * counts as truncated only when more than 1 s or 1 % is missing.
     */
    char truncated[AUDIO_ERR];
    filehash hash;  /* of the regular file, from the bytes libsndfile reads */
} audio_in;

/*
 * Open `path` for reading: a regular file (anything else is refused without
 * blocking), or "-" for the standard input (a pipe).
 * 0, or -1 with a one-line reason (without the path) in err[AUDIO_ERR].
 */
int audio_in_open(audio_in *a, const char *path, audio_decoder dec, char err[AUDIO_ERR]);
/*
 * The same with a wall-clock limit (max_ms > 0) from the call on: opening and every
 * read fail with "gave up after S s (--max-seconds)" once it has passed, also while
 * a pipe (ffmpeg's, or stdin) delivers nothing (ffmpeg is then killed).
 */
int audio_in_open_limited(audio_in *a, const char *path, audio_decoder dec, double max_ms,
                          char err[AUDIO_ERR]);
/*
 * Read up to `frames` interleaved frames into buf: the number read, 0 at the end,
 * -1 with the reason in err on a read error. Reading nothing at all is an error
 * ("no audio in file", with why the file is truncated when it is), reported by the
 * call that finds the end; that call also completes a->truncated.
 */
long audio_in_read(audio_in *a, float *buf, size_t frames, char err[AUDIO_ERR]);
/*
 * Without reading it all: check that the last frame a file's header states is there
 * (seek to it and read it). For a caller that takes the header's length instead of
 * reading (dataset add). Only a seekable file read by libsndfile is checked, and not
 * an MP3 (its stated length may be an estimate). 0, or -1 with a->truncated set.
 * Leaves the position undefined: read nothing afterwards.
 */
int audio_in_check_end(audio_in *a);
/* Frames per read of audio_in_feed. */
#define AUDIO_CHUNK 4096
/* A consumer of audio: 0 to go on, non-zero to stop (its reason is the consumer's). */
typedef int (*audio_sink)(void *ctx, const float *buf, size_t frames);
/*
 * Read to the end, handing every chunk to fn. 0 at the end; 1 when fn stopped it;
 * -1 with the reason in err (read error, no audio, out of memory).
 */
int audio_in_feed(audio_in *a, audio_sink fn, void *ctx, char err[AUDIO_ERR]);
/*
 * The SHA-256 (hex) and size of the file read, once it has been read to the end:
 * the bytes libsndfile read are not read again. 0, or -1 (stdin, or a read error).
 */
int audio_in_digest(audio_in *a, char hex[2 * crypto_hash_sha256_BYTES + 1], long long *size);
/* Close, and wait for ffmpeg when it was used. */
void audio_in_close(audio_in *a);

/* An output file that appears at its final path only when committed. */
typedef struct audio_out {
    SNDFILE *sf;
    int fd;              /* the hidden temporary file, or stdout */
    int is_stdout;
    int anonymous;       /* O_TMPFILE: nothing to clean up if we die */
    char *path;          /* final path */
    char *tmp_path;      /* named temporary (only when O_TMPFILE is unavailable) */
} audio_out;

/* The rate of an Opus output whose input has a rate Opus cannot code (8, 12, 16, 24, 48 kHz). */
#define AUDIO_OPUS_RATE 48000
/*
 * Choose the container from the extension of `path` (.wav .flac .ogg .opus
 * .mp3; "-" = WAV on stdout), keeping `in`'s sample format where the
 * container allows, and its rate except for Opus at a rate Opus cannot code:
 * out_info->samplerate is then AUDIO_OPUS_RATE and the caller resamples.
 * Returns 0, or prints one line and returns -1.
 */
int audio_out_open(audio_out *o, const char *path, const SF_INFO *in, SF_INFO *out_info);
/* 1 if audio_out_open writes the type that path's extension names. */
int audio_out_type_known(const char *path);
/* Flush, fsync and move into place. Returns 0, or prints one line and returns -1. */
int audio_out_commit(audio_out *o);
/* Drop everything written; the destination is untouched. */
void audio_out_abort(audio_out *o);

/* 1 if paths a and b name the same existing file (also through links). */
int same_file(const char *a, const char *b);
#endif
