/* Audio file access for the command line: libsndfile input, atomic output. */
#ifndef PM_CLI_AUDIO_H
#define PM_CLI_AUDIO_H
#include <sndfile.h>

/* Open `path` ("-" = stdin) for reading; on failure print one line and return NULL. */
SNDFILE *audio_open_read(const char *path, SF_INFO *info);

/* An output file that appears at its final path only when committed. */
typedef struct audio_out {
    SNDFILE *sf;
    int fd;              /* the hidden temporary file, or stdout */
    int is_stdout;
    int anonymous;       /* O_TMPFILE: nothing to clean up if we die */
    char *path;          /* final path */
    char *tmp_path;      /* named temporary (only when O_TMPFILE is unavailable) */
} audio_out;

/*
 * Choose the container from the extension of `path` (.wav .flac .ogg .opus
 * .mp3; "-" = WAV on stdout), keeping `in`'s sample format where the
 * container allows. Returns 0, or prints one line and returns -1.
 */
int audio_out_open(audio_out *o, const char *path, const SF_INFO *in, SF_INFO *out_info);
/* Flush, fsync and move into place. Returns 0, or prints one line and returns -1. */
int audio_out_commit(audio_out *o);
/* Drop everything written; the destination is untouched. */
void audio_out_abort(audio_out *o);

/* 1 if paths a and b name the same existing file (also through links). */
int same_file(const char *a, const char *b);
#endif
