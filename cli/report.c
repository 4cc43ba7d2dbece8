/*
 * provmark report: merge JSON-lines results into one record per file, write the
 * HTML report (html.c) and summarise (docs/report.schema.json).
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "html.h"
#include "paths.h"
#include "result.h"

static const char usage_report[] =
    "usage: provmark report [--output FILE.html] [--json] [--registry REG] RESULTS.jsonl...\n"
    "\n"
    "Merge the JSON lines of 'provmark detect --json' or 'provmark trace --json' (a\n"
    "resumed scan, the pieces of a scan run on several machines; '-' reads stdin) into\n"
    "one record per file - a result replaces an earlier error for the same file,\n"
    "otherwise the later record wins - and summarise them on stdout.\n"
    "\n"
    "  -o, --output FILE  also write the HTML report: the scan's record, a summary by\n"
    "                     model and dataset, a sortable table of every file, a timeline\n"
    "                     per marked file; one self-contained file\n"
    "  --json             the summary as one JSON object (docs/report.schema.json)\n"
    "  --registry REG     name the registry the results were made with in the report's\n"
    "                     header (its SHA-256 is shown; the names come from the records)\n"
    "\n"
    "Exit status: 0 every file is marked, 1 some file is not, 2 some file could not be\n"
    "read or the results could not be read or written.\n";

/* 1 if path names the file that descriptor fd has open (a regular file). */
static int is_open_file(const char *path, int fd)
{
    struct stat a, b;
    return stat(path, &a) == 0 && fstat(fd, &b) == 0 && S_ISREG(b.st_mode) && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int report_check_path(const char *path, char *const *results, int n_results)
{
    struct stat st;
    char *copy = strdup(path);
    const char *dir = copy ? dirname(copy) : ".";
    int is_results = is_open_file(path, STDOUT_FILENO);
    for (int i = 0; i < n_results && !is_results; i++)
        is_results = strcmp(results[i], "-") != 0 && same_file(path, results[i]);
    const char *why = !path[0] ? "an empty name"
                      : is_results ? "it holds the results (the report would overwrite them)"
                      : stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "it is a folder"
                      : stat(dir, &st) != 0 ? "its folder does not exist"
                      : !S_ISDIR(st.st_mode) ? "its folder is not a folder"
                      : access(dir, W_OK | X_OK) != 0 ? "its folder is not writable"
                      : NULL;
    if (why) {
        say("cannot write the report %s: %s", path, why);
    }
    free(copy);
    return why ? -1 : 0;
}

/* 1 if the record's file is one of in->only. */
static int wanted(const report_input *in, const json_t *rec)
{
    char *name = json_get_name(rec, "file");
    const int found = name && bsearch(&name, in->only, in->n_only, sizeof in->only[0], strlist_cmp);
    free(name);
    return found;
}

static int in_range(const json_t *v, double lo, double hi)
{
    const double x = json_number_value(v);
    return json_is_number(v) && isfinite(x) && x >= lo && x <= hi;
}

static int is_id(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= PM_ID_MAX;
}

/* A mark's fields as detect writes them: IDs in range, a bound in [0, 1], a key, time ranges. */
static int mark_ok(const json_t *m)
{
    size_t i;
    const json_t *seg;
    if (!json_is_object(m) || !is_id(json_object_get(m, "model_id")) || !is_id(json_object_get(m, "dataset_id")) ||
        !in_range(json_object_get(m, "p_false"), 0.0, 1.0) || !json_is_string(json_object_get(m, "key")) ||
        !json_is_array(json_object_get(m, "segments")))
        return 0;
    json_array_foreach (json_object_get(m, "segments"), i, seg) {
        if (!in_range(json_object_get(seg, "start"), 0.0, 1e9) || !in_range(json_object_get(seg, "end"), 0.0, 1e9))
            return 0;
    }
    return 1;
}

/*
 * A record the report may show: an error, or a result whose numbers are numbers in
 * their ranges and, where it says found, whose marks are whole (docs/result.schema.json
 * in what the report reads). Others are skipped and counted, never drawn as marks.
 */
static int record_ok(const json_t *r)
{
    if (json_object_get(r, "error") && !json_is_null(json_object_get(r, "error")))
        return json_is_string(json_object_get(r, "error"));
    const json_t *found = json_object_get(r, "found"), *d = json_object_get(r, "duration");
    if (!(json_is_boolean(found) || json_is_null(found)) || (d && !in_range(d, 0.0, 1e9)))
        return 0;
    if (!json_is_true(found))
        return 1;
    size_t i;
    const json_t *m;
    if (!mark_ok(r) || !json_is_array(json_object_get(r, "marks")) || !json_array_size(json_object_get(r, "marks")))
        return 0;
    json_array_foreach (json_object_get(r, "marks"), i, m) {
        if (!mark_ok(m))
            return 0;
    }
    return 1;
}

/* demo_key from the key's fingerprint itself, whatever the record says: the public demo
 * key's marks prove nothing, and a record may have been edited or made elsewhere. */
static void mark_demo(json_t *r, const char *demo)
{
    size_t i;
    json_t *m;
    if (json_is_string(json_object_get(r, "key")))
        json_object_set_new(r, "demo_key", json_boolean(!strcmp(json_string_value(json_object_get(r, "key")), demo)));
    json_array_foreach (json_object_get(r, "marks"), i, m) {
        json_object_set_new(m, "demo_key", json_boolean(!strcmp(json_string_value(json_object_get(m, "key")), demo)));
    }
}

int report_read(report_input *in, FILE *f, const char *name)
{
    if (!in->records)
        in->records = json_array();
    if (!in->sources)
        in->sources = json_array();
    char demo[17]; /* the public demo key's fingerprint, once */
    pm_key k;
    pm_key_demo(&k);
    pm_key_fingerprint(&k, demo);
    char *line = NULL;
    size_t cap = 0;
    long long n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(j) && json_is_string(json_object_get(j, "file")) && record_ok(j)) {
            mark_demo(j, demo);
            if (in->only && !wanted(in, j)) {
                json_decref(j);
                continue;
            }
            if (json_array_append_new(in->records, j) != 0) {
                free(line);
                say("out of memory");
                return -1;
            }
            n++;
        } else {
            json_decref(j);
            if (strspn(line, " \t\r\n") != (size_t)len)
                in->skipped++; /* a cut-off line of an interrupted scan, or not a result */
        }
    }
    free(line);
    if (ferror(f)) {
        say("%s: cannot read: %s", name, strerror(errno));
        return -1;
    }
    struct stat st;
    char when[64] = "";
    struct tm tm;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && gmtime_r(&st.st_mtime, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    json_t *src = json_object();
    if (!src || json_object_set_new(src, "name", json_name(name)) != 0 ||
        json_object_set_new(src, "records", json_integer(n)) != 0 ||
        json_object_set_new(src, "modified", when[0] ? json_string(when) : json_null()) != 0 ||
        json_array_append_new(in->sources, src) != 0) {
        say("out of memory");
        return -1;
    }
    return 0;
}

void report_input_free(report_input *in)
{
    json_decref(in->records);
    json_decref(in->sources);
    in->records = in->sources = NULL;
}

/* A record and its file's exact name, for merging. */
typedef struct keyed {
    char *name;
    size_t seq;
    json_t *rec;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One record per file, sorted by name; NULL when out of memory. */
static json_t *merge(const json_t *records)
{
    const size_t n = json_array_size(records);
    keyed *k = calloc(n ? n : 1, sizeof *k);
    json_t *out = json_array();
    int ok = k && out;
    for (size_t i = 0; ok && i < n; i++) {
        k[i] = (keyed){json_get_name(json_array_get(records, i), "file"), i, json_array_get(records, i)};
        ok = k[i].name != NULL;
    }
    if (ok)
        qsort(k, n, sizeof *k, keyed_cmp);
    for (size_t i = 0; ok && i < n;) {
        size_t j = i, pick = i;
        for (; j < n && strcmp(k[j].name, k[i].name) == 0; j++)
            if (!json_object_get(k[j].rec, "error") || json_is_null(json_object_get(k[j].rec, "error")) ||
                json_string_value(json_object_get(k[pick].rec, "error")))
                pick = j; /* a result beats an error; otherwise the later record */
        ok = json_array_append(out, k[pick].rec) == 0;
        i = j;
    }
    for (size_t i = 0; k && i < n; i++)
        free(k[i].name);
    free(k);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The entry of summary[list] whose fields equal those of `match`, created from it when new. */
static json_t *tally(json_t *list, json_t *match)
{
    size_t i;
    json_t *e;
    json_array_foreach (list, i, e) {
        const char *k;
        json_t *v;
        int same = 1;
        json_object_foreach (match, k, v) {
            same = same && json_equal(json_object_get(e, k), v);
        }
        if (same) {
            json_decref(match);
            return e;
        }
    }
    json_object_set_new(match, "files", json_integer(0));
    json_object_set_new(match, "hours", json_real(0.0));
    json_array_append_new(list, match);
    return match;
}

static void count(json_t *e, double hours)
{
    json_object_set_new(e, "files", json_integer(json_integer_value(json_object_get(e, "files")) + 1));
    json_object_set_new(e, "hours", json_real(json_number_value(json_object_get(e, "hours")) + hours));
}

/* The summary of merged records (docs/report.schema.json). */
static json_t *summarise(const json_t *records, const report_input *in, int *status)
{
    long long files = 0, marked = 0, unmarked = 0, errors = 0, demo = 0, unreg = 0, reproducing = 0;
    double hours = 0;
    int trace = 0;
    json_t *by_mark = json_array(), *keys = json_array(), *items = json_object();
    size_t i, j;
    const json_t *r, *m;
    json_array_foreach (records, i, r) {
        files++;
        if (json_string_value(json_object_get(r, "error"))) {
            errors++;
            continue;
        }
        const double h = json_number_value(json_object_get(r, "duration")) / 3600.0;
        hours += h;
        trace = trace || json_object_get(r, "matches");
        if (json_array_size(json_object_get(r, "matches")))
            reproducing++;
        json_array_foreach (json_object_get(r, "matches"), j, m) {
            const char *item = json_string_value(json_object_get(m, "item"));
            json_object_set_new(items, item ? item : "", json_true()); /* distinct items */
        }
        if (!json_is_true(json_object_get(r, "found"))) {
            unmarked += json_is_false(json_object_get(r, "found"));
            continue;
        }
        marked++;
        int d = 0, u = 0;
        json_t *seen = json_array(); /* a file counts once per (model, dataset) and per key */
        json_array_foreach (json_object_get(r, "marks"), j, m) {
            d = d || json_is_true(json_object_get(m, "demo_key"));
            u = u || json_array_size(json_object_get(m, "unregistered"));
            json_t *id = json_pack("{s:O, s:O, s:O*, s:O*, s:O*, s:O}", "model_id", json_object_get(m, "model_id"),
                                   "dataset_id", json_object_get(m, "dataset_id"), "model", json_object_get(m, "model"),
                                   "dataset", json_object_get(m, "dataset"), "unregistered",
                                   json_object_get(m, "unregistered"), "demo_key", json_object_get(m, "demo_key"));
            json_t *key = json_pack("{s:O, s:O}", "key", json_object_get(m, "key"), "demo_key",
                                    json_object_get(m, "demo_key"));
            json_t *b = id ? tally(by_mark, id) : NULL, *k = key ? tally(keys, key) : NULL;
            size_t s;
            json_t *x;
            int b_seen = 0, k_seen = 0;
            json_array_foreach (seen, s, x) {
                b_seen = b_seen || x == b;
                k_seen = k_seen || x == k;
            }
            if (b && !b_seen) {
                count(b, h);
                json_array_append(seen, b);
            }
            if (k && !k_seen) {
                count(k, h);
                json_array_append(seen, k);
            }
        }
        json_decref(seen);
        demo += d;
        unreg += u;
    }
    *status = errors ? EXIT_ERROR : unmarked ? EXIT_UNMARKED : EXIT_MARKED;
    json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:o, s:o, s:O, s:I, s:i}", "files", files, "marked",
                          marked, "unmarked", unmarked, "errors", errors, "hours", hours, "demo_key", demo,
                          "unregistered", unreg, "by_mark", by_mark, "keys", keys, "sources", in->sources,
                          "skipped_lines", (json_int_t)in->skipped, "exit_status", *status);
    if (s && trace) {
        json_object_set_new(s, "training_items", json_integer((json_int_t)json_object_size(items)));
        json_object_set_new(s, "reproducing_files", json_integer(reproducing));
    }
    json_decref(items);
    return s;
}

/* "PATH (sha256 HEX)" of the registry file, or NULL after one line. */
static char *registry_label(const char *path)
{
    const char *why;
    FILE *f = fopen_regular(path, &why);
    if (!f) {
        say("%s: %s", path, why);
        return NULL;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    const int bad = ferror(f);
    fclose(f);
    crypto_hash_sha256_final(&st, h);
    char hex[2 * sizeof h + 1], *label = NULL;
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if (bad || asprintf(&label, "%s (sha256 %s)", path, hex) < 0) {
        say("%s: cannot read the registry", path);
        return NULL;
    }
    return label;
}

int report_finish(report_input *in, const char *html_path, const char *command, const char *registry,
                  json_t **summary)
{
    *summary = NULL;
    if (!in->records)
        in->records = json_array();
    if (!in->sources)
        in->sources = json_array();
    int status;
    char *label = registry ? registry_label(registry) : NULL;
    json_t *merged = merge(in->records);
    json_t *s = merged ? summarise(merged, in, &status) : NULL;
    if (!merged || !s || (registry && !label)) {
        if (!merged || !s)
            say("out of memory");
        free(label);
        json_decref(merged);
        json_decref(s);
        return -1;
    }
    int rc = status;
    if (html_path) {
        char *doc = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&doc, &size);
        const html_meta meta = {json_object_get(s, "training_items") ? "provmark trace report" : "provmark scan report",
                                command, in->sources, label, in->skipped};
        /* The whole document in memory, then written like the manifests: never half a report. */
        int ok = out && html_write(out, merged, s, &meta) == 0;
        ok = out && fclose(out) == 0 && ok;
        if (!ok)
            say("%s: cannot write the report: out of memory", html_path);
        if (!ok || write_atomic(html_path, doc, size, "the report") != 0)
            rc = -1;
        free(doc);
    }
    free(label);
    json_decref(merged);
    *summary = s;
    return rc;
}

char *report_command_line(int argc, char **argv)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    fputs("provmark", f);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        fputc(' ', f);
        if (a[0] && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:,+@%") == strlen(a)) {
            fputs(a, f);
            continue;
        }
        fputc('\'', f); /* shell quoting: ' becomes '\'' */
        for (; *a; a++)
            fputs(*a == '\'' ? "'\\''" : (char[]){*a, 0}, f);
        fputc('\'', f);
    }
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void report_print_summary(FILE *f, const json_t *s)
{
#define I(k) (long long)json_integer_value(json_object_get(s, k))
    fprintf(f, "%lld files, %.2f h of audio: %lld marked, %lld not marked, %lld could not be read\n", I("files"),
            json_number_value(json_object_get(s, "hours")), I("marked"), I("unmarked"), I("errors"));
    if (I("demo_key"))
        fprintf(f, "warning: %lld file%s marked with the public demo key: such marks prove nothing\n", I("demo_key"),
                I("demo_key") == 1 ? "" : "s");
    if (I("unregistered"))
        fprintf(f, "%lld file%s with IDs not in the registry\n", I("unregistered"), I("unregistered") == 1 ? "" : "s");
    if (json_object_get(s, "training_items"))
        fprintf(f, "%lld training item%s reproduced, in %lld file%s\n", I("training_items"),
                I("training_items") == 1 ? "" : "s", I("reproducing_files"), I("reproducing_files") == 1 ? "" : "s");
    if (I("skipped_lines"))
        fprintf(f, "%lld line%s of the results skipped (not a valid record: a cut-off write, or not a result of provmark)\n", I("skipped_lines"),
                I("skipped_lines") == 1 ? "" : "s");
#undef I
    size_t i;
    const json_t *b;
    json_array_foreach (json_object_get(s, "by_mark"), i, b) {
        fprintf(f, "  model %lld", (long long)json_integer_value(json_object_get(b, "model_id")));
        const char *m = json_string_value(json_object_get(json_object_get(b, "model"), "name"));
        const char *d = json_string_value(json_object_get(json_object_get(b, "dataset"), "name"));
        if (m) {
            fputs(" \"", f);
            put_text(f, m, 0);
            fputc('"', f);
        }
        fprintf(f, ", dataset %lld", (long long)json_integer_value(json_object_get(b, "dataset_id")));
        if (d) {
            fputs(" \"", f);
            put_text(f, d, 0);
            fputc('"', f);
        }
        fprintf(f, ": %lld file%s, %.2f h%s%s\n", (long long)json_integer_value(json_object_get(b, "files")),
                json_integer_value(json_object_get(b, "files")) == 1 ? "" : "s",
                json_number_value(json_object_get(b, "hours")),
                json_array_size(json_object_get(b, "unregistered")) ? " [not in registry]" : "",
                json_is_true(json_object_get(b, "demo_key")) ? " [demo key]" : "");
    }
}

int cmd_report(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_report, stdout);
        return 0;
    }
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'J'},
                                         {"registry", required_argument, 0, 'G'},
                                         {0, 0, 0, 0}};
    const char *html = NULL, *registry = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': html = optarg; break;
        case 'J': json = 1; break;
        case 'G': registry = optarg; break;
        default:
            say_bad_option("report", argv);
            return EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        say("report needs at least one RESULTS file (see 'provmark report --help')");
        return EXIT_ERROR;
    }
    if (html && report_check_path(html, argv + optind, argc - optind) != 0)
        return EXIT_ERROR;
    report_input in = {0};
    int status = EXIT_ERROR;
    json_t *summary = NULL;
    char *command = report_command_line(argc, argv);
    for (int i = optind; i < argc; i++) {
        const char *why = NULL;
        FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen_regular(argv[i], &why);
        if (!f) {
            say("%s: %s", argv[i], why);
            goto out;
        }
        const int rc = report_read(&in, f, argv[i]);
        if (f != stdin)
            fclose(f);
        if (rc != 0)
            goto out;
    }
    if (!command) {
        say("out of memory");
        goto out;
    }
    if (!json_array_size(in.records)) { /* as detect with no file to scan */
        say("no results to report (%zu line%s skipped)", in.skipped, in.skipped == 1 ? "" : "s");
        goto out;
    }
    status = report_finish(&in, html, command, registry, &summary);
    if (summary && json) {
        if (result_print_json(stdout, summary) != 0)
            status = -1;
    } else if (summary) {
        report_print_summary(stdout, summary);
    }
    if (status < 0)
        status = EXIT_ERROR;
out:
    json_decref(summary);
    report_input_free(&in);
    free(command);
    return status;
}
