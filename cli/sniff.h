/*
 * Why libsndfile could not read a file, said for a person: the container named from
 * its first bytes and what to do (MPEG-4 audio: add --decoder auto), instead of
 * libsndfile's own message ("Format not recognised.", or for a damaged MP3 "File
 * does not exist or is not a regular file (possibly a pipe?)").
 */
#ifndef PM_CLI_SNIFF_H
#define PM_CLI_SNIFF_H
#include <stddef.h>

/* The message (one line, without the path) into msg[n] for the regular file open at fd; lib is libsndfile's. */
void sniff_unreadable(int fd, const char *lib, char *msg, size_t n);
#endif
