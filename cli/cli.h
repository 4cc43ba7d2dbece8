/* Shared pieces of the provmark command. */
#ifndef PM_CLI_H
#define PM_CLI_H
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "provmark.h"

enum { EXIT_MARKED = 0, EXIT_UNMARKED = 1, EXIT_ERROR = 2 };
#define MAX_KEYS PM_MAX_KEYS

/* Load a key file, or the demo key (with a warning) when path is NULL; -1 after one line on stderr. */
int load_key(const char *path, pm_key *key);
/* Load `n` key files (none: the demo key, with its warning; a key given twice is kept once); the number of keys, or -1 after one line. */
int load_keys(const char *const *paths, int n, pm_key keys[]);
/* Add a --key path to the list (at most MAX_KEYS); -1 after one line on stderr. */
int add_key_path(const char *paths[MAX_KEYS], int *n, const char *path);
/* Parse a JSON file, refusing duplicate keys; NULL after one line on stderr. */
json_t *json_load_path(const char *path);
/*
 * Open path for reading if it is a regular file: a FIFO, device, socket or folder
 * is refused at once (never blocks, never reads forever). The descriptor (close on
 * exec, blocking), or -1 with the reason in *why.
 */
int open_regular(const char *path, const char **why);
/* The same as a stdio stream; NULL with the reason in *why. */
FILE *fopen_regular(const char *path, const char **why);
/* 1 if s is valid UTF-8. */
int utf8_valid(const char *s);
/* A JSON string of s with each byte that is not valid UTF-8 replaced by U+FFFD; NULL when out of memory. */
json_t *json_name(const char *s);
/*
 * Set obj[key] to json_name(s) and, only when s is not valid UTF-8, obj[key + "_bytes"]
 * to its bytes in lower-case hex, so that any name (a file name is any bytes but '/'
 * and NUL) is carried losslessly. 0, or -1 when out of memory.
 */
int json_set_name(json_t *obj, const char *key, const char *s);
/* The name json_set_name stored under key (from key_bytes when present), malloc'd; NULL if none. */
char *json_get_name(const json_t *obj, const char *key);
/*
 * Write s for a person to read: control characters (C0, DEL, C1) as \n \t \r \xHH
 * or \u00HH, bytes that are not UTF-8 as \xHH, a backslash as \\; with xml also
 * & < > " ' as entities. No byte of s can then end a line, move the cursor, signal
 * the terminal or break an XML document.
 */
void put_text(FILE *f, const char *s, int xml);
/*
 * One line on stderr: "provmark: ", the printf-formatted text written by put_text,
 * a newline. Every message that names a file (or quotes anything else from outside:
 * an argument, a manifest, a parser's error) goes through here, so a name holding a
 * newline, ESC or bytes that are not UTF-8 shows escaped and cannot forge a line.
 */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The line for a bad option of `cmd` (getopt's own, which prints it raw, is off). */
void say_bad_option(const char *cmd, char **argv);
/* 1 if any argument is --help or -h. */
int wants_help(int argc, char **argv);
/* A strict decimal number (digits only, no sign, space or leading zero) up to max: 0, or -1. */
int parse_decimal(const char *s, unsigned long max, unsigned long *out);
/* Parse an ID option (0..PM_ID_MAX); -1 after one line on stderr. */
int parse_id(const char *s, uint32_t *out, const char *what);
/*
 * Write n bytes to path so that readers see the old file or the whole new one: a
 * temporary file beside it (random name, O_EXCL), fsync, rename. An existing file
 * keeps its mode (a new one is 0644); a symbolic link's target is replaced. -1 after one line on stderr
 * (naming `what`, e.g. "the manifest"); the temporary file is removed.
 */
int write_atomic(const char *path, const void *buf, size_t n, const char *what);
/* A monotonic clock in milliseconds (for elapsed times and time guards). */
double now_ms(void);
/* provmark embed, keygen, detect */
int cmd_embed(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_detect(int argc, char **argv);
/* provmark trace, manifest, dataset */
int cmd_trace(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_dataset(int argc, char **argv);
/* provmark report */
int cmd_report(int argc, char **argv);
#endif
