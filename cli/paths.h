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
/* Which files a folder walk takes. */
typedef struct walk_opts {
    strlist include; /* name patterns taken besides the usual audio extensions (case-insensitive) */
    int only;        /* 1: the include patterns alone, not the usual extensions */
    int verbose;     /* 1: each file passed over is named on stderr, with why */
} walk_opts;

/*
 * Add the files below dir that walk_opts takes, sorted by name at every level;
 * symlinked folders are not followed. -1 after one line on stderr.
 */
int walk_audio(const char *dir, const walk_opts *w, strlist *out);
/* Append the non-empty lines of a file ("-" = stdin); -1 after one line on stderr. */
int strlist_read_lines(const char *path, strlist *out);
#endif
