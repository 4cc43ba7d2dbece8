#include "sniff.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sniff_unreadable(int fd, const char *lib, char *msg, size_t n)
{
    unsigned char h[12] = {0};
    const ssize_t got = fd >= 0 ? pread(fd, h, sizeof h, 0) : -1;
    static const char ffmpeg[] = ", which libsndfile cannot read: add --decoder auto (ffmpeg decodes it)";
    if (got == 0)
        snprintf(msg, n, "cannot read audio: the file is empty");
    else if (got >= 12 && memcmp(h + 4, "ftyp", 4) == 0)
        snprintf(msg, n, "MPEG-4 audio or video (M4A/MP4/MOV)%s", ffmpeg);
    else if (got >= 4 && memcmp(h, "\x1a\x45\xdf\xa3", 4) == 0)
        snprintf(msg, n, "a Matroska/WebM file%s", ffmpeg);
    else if (got >= 4 && (memcmp(h, "ID3", 3) == 0 || (h[0] == 0xff && (h[1] & 0xe0) == 0xe0)))
        snprintf(msg, n, "cannot read audio: a damaged MP3 (or MPEG audio libsndfile cannot read: try --decoder auto)");
    else if (got >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0)
        snprintf(msg, n, "cannot read audio: a damaged WAV (or a WAV codec libsndfile cannot read: try --decoder auto)");
    else if (got >= 4 && (memcmp(h, "fLaC", 4) == 0 || memcmp(h, "OggS", 4) == 0))
        snprintf(msg, n, "cannot read audio: a damaged %s file (or a codec libsndfile cannot read: try --decoder auto)",
                 h[0] == 'f' ? "FLAC" : "Ogg");
    else
        snprintf(msg, n, "cannot read audio: not a format libsndfile reads (%s); for AAC, video and others add --decoder auto",
                 lib);
}
