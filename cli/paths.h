/* Lists of paths, and the audio files below a folder. */
#ifndef PM_CLI_PATHS_H
#define PM_CLI_PATHS_H
#include <stddef.h>

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

/* Append a copy of s; -1 after one line on stderr (out of memory). */
int strlist_push(strlist *l, const char *s);
void strlist_free(strlist *l);
/* qsort comparator for the entries of a strlist. */
int strlist_cmp(const void *a, const void *b);
/*
 * Add the files below dir whose names match one of `globs` (case-insensitive;
 * none given: the usual audio extensions), sorted by name at every level;
 * symlinked folders are not followed. -1 after one line on stderr.
 */
int walk_audio(const char *dir, const strlist *globs, strlist *out);
/* Append the non-empty lines of a file ("-" = stdin); -1 after one line on stderr. */
int strlist_read_lines(const char *path, strlist *out);
#endif
