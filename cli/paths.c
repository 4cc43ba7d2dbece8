/* Lists of paths, and the audio files below a folder. */
#define _GNU_SOURCE
#include "paths.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *default_globs[] = {"*.wav", "*.flac", "*.ogg", "*.oga", "*.opus", "*.mp3",
                                      "*.aif", "*.aiff", "*.w64", "*.rf64", "*.caf", NULL};

int strlist_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            say("out of memory");
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s))) {
        say("out of memory");
        return -1;
    }
    l->n++;
    return 0;
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

int strlist_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wanted(const char *name, const walk_opts *w)
{
    for (size_t i = 0; i < w->include.n; i++)
        if (fnmatch(w->include.v[i], name, FNM_CASEFOLD) == 0)
            return 1;
    for (int i = 0; !w->only && default_globs[i]; i++)
        if (fnmatch(default_globs[i], name, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}

/* Add the matching files below dir, sorted by name at every level; symlinked folders are not followed. */
/* --verbose: a file the walk passes over, and why. */
static void skipped(const walk_opts *w, const char *path, const char *why)
{
    if (!w->verbose)
        return;
    say("skipped %s: %s", path, why);
}

int walk_audio(const char *dir, const walk_opts *w, strlist *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        say("%s: %s", dir, strerror(errno));
        return -1;
    }
    strlist names = {0};
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strlist_push(&names, e->d_name))
            rc = -1;
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof names.v[0], strlist_cmp);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        char *path = NULL;
        const size_t len = strlen(dir);
        if (asprintf(&path, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", names.v[i]) < 0) {
            say("out of memory");
            rc = -1;
            break;
        }
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk_audio(path, w, out);
        else if (!wanted(names.v[i], w))
            skipped(w, path, w->only ? "name matches no --only pattern" : "not an audio file name (add --include GLOB)");
        else if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            skipped(w, path, S_ISDIR(st.st_mode) ? "a symbolic link to a folder (not followed)" : "not a regular file");
        else
            rc = strlist_push(out, path);
        free(path);
    }
    strlist_free(&names);
    return rc;
}

int strlist_read_lines(const char *from, strlist *out)
{
    const char *why = NULL;
    FILE *f = strcmp(from, "-") == 0 ? stdin : fopen_regular(from, &why);
    if (!f) {
        say("%s: %s", from, why);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            rc = strlist_push(out, line);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}
