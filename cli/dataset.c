/*
 * provmark dataset init|add|fingerprint: the documentation of a training set in
 * tiers (docs/DATASETS.md). Tier 1 is the dataset's metadata, tier 2 one entry
 * per item (path, SHA-256, audio properties, tags), tier 3 a fingerprint index
 * beside the manifest. The manifest is rewritten atomically, all or nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <sndfile.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyse.h"
#include "cli.h"
#include "dsmanifest.h"
#include "fingerprint.h"
#include "paths.h"
#include "progress.h"

static const char usage_dataset[] =
    "usage: provmark dataset init MANIFEST --name NAME --version V --license L [--license L]...\n"
    "                            [--source URL]... [--description TEXT] [--collected DATE]\n"
    "       provmark dataset add [--decoder D] MANIFEST PATH...\n"
    "       provmark dataset fingerprint [--decoder D] MANIFEST\n"
    "\n"
    "Document a training set in tiers (docs/DATASETS.md): 'init' writes a new JSON\n"
    "manifest with the dataset's metadata; 'add' records every audio file given or found\n"
    "below the folders given (relative path, SHA-256, duration, rate, channels, tags) -\n"
    "unchanged files are skipped, changed ones reported and updated; 'fingerprint'\n"
    "writes the audio fingerprint index beside the manifest (MANIFEST with .pmfp).\n"
    "\n"
    AUDIO_DECODER_HELP;

static void utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------- init */

static int dataset_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'},      {"version", required_argument, 0, 'v'},
        {"license", required_argument, 0, 'l'},   {"source", required_argument, 0, 's'},
        {"description", required_argument, 0, 'd'}, {"collected", required_argument, 0, 'c'},
        {0, 0, 0, 0}};
    const char *name = NULL, *version = NULL, *description = "", *collected = NULL;
    json_t *licenses = json_array(), *sources = json_array();
    int c, rc = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'v': version = optarg; break;
        case 'l': json_array_append_new(licenses, json_string(optarg)); break;
        case 's': json_array_append_new(sources, json_string(optarg)); break;
        case 'd': description = optarg; break;
        case 'c': collected = optarg; break;
        default:
            say_bad_option("dataset init", argv);
            goto out;
        }
    }
    if (argc - optind != 1 || !name || !version || !json_array_size(licenses)) {
        say("dataset init needs MANIFEST, --name, --version and --license");
        goto out;
    }
    const char *path = argv[optind];
    if (access(path, F_OK) == 0) {
        say("%s: exists; refusing to overwrite a manifest", path);
        goto out;
    }
    if (!json_is_string(json_array_get(licenses, 0)) ||
        (json_array_size(sources) && !json_is_string(json_array_get(sources, 0)))) {
        say("dataset init: licences and sources must be UTF-8 text");
        goto out;
    }
    char now[32];
    utc_now(now);
    json_t *m = json_pack("{s:i, s:s, s:s, s:s, s:O, s:O, s:s?, s:s, s:s, s:i, s:f, s:[]}",
                          "provmark_dataset", 1, "name", name, "version", version,
                          "description", description, "licenses", licenses, "sources", sources,
                          "collection_date", collected, "created", now, "updated", now,
                          "item_count", 0, "total_duration", 0.0, "items");
    if (!m) {
        say("dataset init: name, version and description must be UTF-8 text");
        goto out;
    }
    if (manifest_save(path, m) == 0) {
        say("wrote %s (dataset \"%s\" %s, no items yet)", path, name, version);
        rc = 0;
    }
    json_decref(m);
out:
    json_decref(licenses);
    json_decref(sources);
    return rc;
}

/* -------------------------------------------------------------------- add */

/* SHA-256 of a regular file (anything else is refused: /dev/zero never ends). */
static int sha256_file(const char *path, char hex[65], long long *bytes, const char **why)
{
    FILE *f = fopen_regular(path, why);
    if (!f)
        return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536], sum[32];
    size_t n;
    *bytes = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crypto_hash_sha256_update(&st, buf, n);
        *bytes += (long long)n;
    }
    int bad = ferror(f);
    *why = bad ? strerror(errno) : NULL;
    fclose(f);
    if (bad)
        return -1;
    crypto_hash_sha256_final(&st, sum);
    sodium_bin2hex(hex, 65, sum, sizeof sum);
    return 0;
}

/* Path of `file` relative to the folder `dir` (both absolute, canonical). */
static char *relative_to(const char *dir, const char *file)
{
    size_t common = 0;
    for (size_t i = 0; dir[i] && dir[i] == file[i]; i++)
        if (dir[i] == '/')
            common = i + 1;
    size_t dl = strlen(dir);
    if (strncmp(dir, file, dl) == 0 && file[dl] == '/')
        return strdup(file + dl + 1);
    size_t ups = 1; /* folders of dir below the common prefix */
    for (const char *p = dir + common; *p; p++)
        ups += *p == '/';
    if (!dir[common])
        ups = 0;
    const size_t rest = strlen(file + common);
    char *out = malloc(3 * ups + rest + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < ups; i++)
        out[3 * i] = '.', out[3 * i + 1] = '.', out[3 * i + 2] = '/';
    memcpy(out + 3 * ups, file + common, rest + 1);
    return out;
}

/* An ISRC is CC-XXX-YY-NNNNN, with or without hyphens. */
static int find_isrc(const char *s, char out[13])
{
    for (; s && *s; s++) {
        int k = 0;
        char buf[13];
        for (const char *p = s; *p && k < 12; p++) {
            if (*p == '-' && k > 0)
                continue;
            int alpha = (*p >= 'A' && *p <= 'Z'), digit = (*p >= '0' && *p <= '9');
            if ((k < 2 && !alpha) || (k >= 2 && k < 5 && !alpha && !digit) || (k >= 5 && !digit))
                break;
            buf[k++] = *p;
        }
        if (k == 12) {
            memcpy(out, buf, 12);
            out[12] = '\0';
            return 1;
        }
    }
    return 0;
}

static int count_frames(void *ctx, const float *buf, size_t frames)
{
    (void)ctx, (void)buf, (void)frames;
    return 0;
}

/* The tier-2 entry of one file; NULL after one line on stderr. */
static json_t *describe(const char *path, const char *rel, audio_decoder dec)
{
    audio_in in; /* first: it refuses what is not a regular file before anything reads it */
    char err[AUDIO_ERR], hex[65];
    const char *why;
    long long bytes;
    if (audio_in_open(&in, path, dec, err) != 0) {
        say("%s: not readable audio: %s", path, err);
        return NULL;
    }
    if (sha256_file(path, hex, &bytes, &why) != 0) {
        say("%s: %s", path, why);
        audio_in_close(&in);
        return NULL;
    }
    const SF_INFO info = in.info;
    /* A header's frame count when it states an exact one (an MP3's may be an estimate); else frames are counted. */
    long long frames = (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG ? in.claimed : 0;
    if (frames && audio_in_check_end(&in) != 0) { /* cut short: count what is there */
        audio_in_close(&in);
        frames = audio_in_open(&in, path, dec, err) == 0 ? 0 : -1;
    }
    if (!frames && audio_in_feed(&in, count_frames, NULL, err) == 0)
        frames = in.read;
    if (frames <= 0) {
        say("%s: not readable audio: %s", path, err);
        audio_in_close(&in);
        return NULL;
    }
    if (in.truncated[0]) /* a header's claim checked at open, or a stream read to its end */
        say("warning: %s: truncated: %s", path, in.truncated);
    SNDFILE *sf = in.sf; /* (after the reopening above) */
    static const struct { int id; const char *name; } tags[] = {
        {SF_STR_TITLE, "title"},   {SF_STR_ARTIST, "artist"},   {SF_STR_ALBUM, "album"},
        {SF_STR_DATE, "date"},     {SF_STR_COMMENT, "comment"}, {SF_STR_COPYRIGHT, "copyright"},
        {SF_STR_LICENSE, "license"}, {SF_STR_GENRE, "genre"},   {SF_STR_TRACKNUMBER, "tracknumber"}};
    json_t *t = json_object();
    char isrc[13] = "";
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        const char *v = sf_get_string(sf, tags[i].id);
        json_t *s = v && *v ? json_string(v) : NULL; /* NULL too when not UTF-8 */
        if (s)
            json_object_set_new(t, tags[i].name, s);
        if (v && !isrc[0])
            find_isrc(v, isrc);
    }
    json_t *e = json_pack("{s:s, s:s, s:I, s:f, s:i, s:i, s:o}", "path", rel, "sha256", hex,
                          "bytes", (json_int_t)bytes, "duration",
                          (double)frames / info.samplerate, "sample_rate", info.samplerate,
                          "channels", info.channels, "tags", t);
    if (e && isrc[0])
        json_object_set_new(e, "isrc", json_string(isrc));
    audio_in_close(&in);
    if (!e)
        say("%s: path is not UTF-8 text", path);
    return e;
}

static void update_totals(json_t *m)
{
    json_t *items = json_object_get(m, "items"), *it;
    size_t i;
    double total = 0.0;
    json_array_foreach (items, i, it)
        total += json_number_value(json_object_get(it, "duration"));
    json_object_set_new(m, "item_count", json_integer((json_int_t)json_array_size(items)));
    json_object_set_new(m, "total_duration", json_real(total));
    char now[32];
    utc_now(now);
    json_object_set_new(m, "updated", json_string(now));
}

/* The options of add and fingerprint (--decoder); argv is left with the operands. -1 after one line. */
static int decoder_option(int *argc, char ***argv, audio_decoder *dec)
{
    static const struct option opts[] = {{"decoder", required_argument, 0, 'D'}, {0, 0, 0, 0}};
    int c;
    *dec = DECODER_SNDFILE;
    optind = 1;
    while ((c = getopt_long(*argc, *argv, "", opts, NULL)) != -1) {
        if (c != 'D') {
            char cmd[32];
            snprintf(cmd, sizeof cmd, "dataset %s", (*argv)[0]); /* add or fingerprint */
            say_bad_option(cmd, *argv);
            return -1;
        }
        if (audio_decoder_parse(optarg, dec))
            return -1;
    }
    *argc -= optind - 1; /* keep the subcommand's name as argv[0] */
    *argv += optind - 1;
    return 0;
}

/* The files the operands name: files as given, folders walked. -1 after one line per bad operand. */
static int list_operands(char **operands, int n, strlist *files)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(operands[i], &st) != 0) {
            say("%s: %s", operands[i], strerror(errno));
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            bad |= walk_audio(operands[i], &(walk_opts){0}, files) != 0;
        } else if (strlist_push(files, operands[i]) != 0) {
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

typedef struct add_counts {
    int added, same, changed;
} add_counts;

/* Put a file's entry into the items: new, unchanged, or changed (reported, updated). */
static void merge_entry(json_t *items, json_t *e, const char *rel, add_counts *n)
{
    size_t i;
    json_t *it, *old = NULL;
    json_array_foreach (items, i, it)
        if (strcmp(json_string_value(json_object_get(it, "path")), rel) == 0)
            old = it;
    if (!old) {
        json_array_append(items, e);
        n->added++;
    } else if (strcmp(json_string_value(json_object_get(old, "sha256")),
                      json_string_value(json_object_get(e, "sha256"))) == 0) {
        n->same++;
    } else {
        say("changed since it was added: %s (entry updated)", rel);
        json_object_update(old, e);
        n->changed++;
    }
}

static int dataset_add(int argc, char **argv)
{
    audio_decoder dec;
    if (decoder_option(&argc, &argv, &dec))
        return EXIT_ERROR;
    if (argc < 3) {
        say("dataset add needs MANIFEST and PATH...");
        return EXIT_ERROR;
    }
    const char *mpath = argv[1];
    const int lock = manifest_lock(mpath); /* held until the new manifest is in place */
    json_t *m = lock >= 0 ? manifest_load(mpath) : NULL;
    if (!m) {
        manifest_unlock(lock);
        return EXIT_ERROR;
    }
    /* The folder items are relative to: the real manifest's (a symlinked one's target's). */
    char *mcopy = realpath(mpath, NULL), *mdir = mcopy ? strdup(dirname(mcopy)) : NULL;
    strlist files = {0};
    add_counts n = {0};
    int rc = EXIT_ERROR, bad = 0;
    if (!mdir) {
        say("%s: cannot resolve its folder", mpath);
        goto out;
    }
    bad = list_operands(argv + 2, argc - 2, &files) != 0;
    json_t *items = json_object_get(m, "items");
    progress pr;
    progress_start(&pr, "described", files.n, 0);
    for (size_t f = 0; f < files.n && !bad; f++) {
        char *abs = realpath(files.v[f], NULL), *rel = abs ? relative_to(mdir, abs) : NULL;
        json_t *e = rel ? describe(abs, rel, dec) : NULL;
        if (!e) {
            if (!rel)
                say("%s: cannot resolve the path", files.v[f]);
            bad = 1;
        } else {
            merge_entry(items, e, rel, &n);
            progress_update(&pr, f + 1, NULL);
        }
        json_decref(e);
        free(rel);
        free(abs);
    }
    if (bad) /* all or nothing: the manifest is left as it was */
        goto out;
    if (n.added || n.changed) {
        update_totals(m);
        if (json_object_get(m, "fingerprints")) {
            json_object_del(m, "fingerprints");
            say("the fingerprint index is out of date: run "
                            "'provmark dataset fingerprint %s'", mpath);
        }
        if (manifest_save(mpath, m) != 0)
            goto out;
    }
    say("%s: %d added, %d unchanged, %d changed; %zu items", mpath, n.added,
            n.same, n.changed, json_array_size(items));
    rc = 0;
out:
    manifest_unlock(lock);
    strlist_free(&files);
    free(mdir);
    free(mcopy);
    json_decref(m);
    return rc;
}

/* ------------------------------------------------------------ fingerprint */

/* One item's landmarks, after checking it is the file the manifest recorded. -1 after one line. */
static int fingerprint_item(const char *mpath, const json_t *it, audio_decoder dec, fpx_item_in *out)
{
    const char *rel = json_string_value(json_object_get(it, "path"));
    char *file = manifest_item_path(mpath, rel), hex[65];
    const char *why = "out of memory";
    long long bytes;
    int ok = file && sha256_file(file, hex, &bytes, &why) == 0;
    if (!ok)
        say("%s: cannot read item %s: %s", mpath, rel, why);
    else if (strcmp(hex, json_string_value(json_object_get(it, "sha256"))) != 0) {
        say("%s: changed since it was added (run 'provmark dataset add')", rel);
        ok = 0;
    }
    analysis an;
    if (ok && analyse_file(file, &(analysis_opts){.fingerprint = 1, .dec = dec}, &an) != 0) {
        say("%s: %s", file, an.error);
        ok = 0;
    }
    if (ok && an.truncated[0])
        say("warning: %s: truncated: %s; fingerprinted the %.1f s read", file, an.truncated, an.duration);
    if (ok)
        *out = (fpx_item_in){.path = rel, .duration = an.duration, .lm = an.lm, .n = an.n_lm};
    free(file);
    return ok ? 0 : -1;
}

/*
 * Write the index atomically and read it back; the manifest's "fingerprints" record
 * of it, or NULL after one line.
 */
static json_t *write_index(const char *ipath, const fpx_item_in *in, size_t n_items)
{
    uint8_t *buf;
    size_t size;
    if (fpx_build(in, (uint32_t)n_items, &buf, &size) != 0) {
        say("%s: out of memory", ipath);
        return NULL;
    }
    const int written = write_atomic(ipath, buf, size, "the index"); /* never half an index */
    free(buf);
    if (written != 0)
        return NULL;
    char hex[65], sum[65], *icopy = strdup(ipath);
    long long bytes;
    const char *why = "out of memory";
    fpx *back = icopy ? fpx_open(ipath, &why) : NULL;
    if (!back || sha256_file(ipath, hex, &bytes, &why) != 0) {
        say("%s: cannot read back the index: %s", ipath, why);
        free(icopy);
        fpx_close(back);
        return NULL;
    }
    fpx_checksum_hex(back, sum);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i}", "index", basename(icopy), "checksum", sum,
                            "sha256", hex, "bytes", (json_int_t)bytes, "landmarks",
                            (json_int_t)fpx_entries(back), "format", FPX_VERSION);
    fpx_close(back);
    free(icopy);
    if (!rec)
        say("%s: out of memory", ipath);
    return rec;
}

static int dataset_fingerprint(int argc, char **argv)
{
    audio_decoder dec;
    if (decoder_option(&argc, &argv, &dec))
        return EXIT_ERROR;
    if (argc != 2) {
        say("dataset fingerprint needs MANIFEST");
        return EXIT_ERROR;
    }
    const char *mpath = argv[1];
    const int lock = manifest_lock(mpath);
    json_t *m = lock >= 0 ? manifest_load(mpath) : NULL;
    if (!m) {
        manifest_unlock(lock);
        return EXIT_ERROR;
    }
    json_t *items = json_object_get(m, "items"), *it, *rec = NULL;
    const size_t n_items = json_array_size(items);
    fpx_item_in *in = calloc(n_items ? n_items : 1, sizeof *in);
    char *ipath = manifest_index_path(mpath);
    int rc = EXIT_ERROR;
    size_t i, done = 0;
    if (!in || !ipath) {
        say("out of memory");
        goto out;
    }
    progress pr;
    progress_start(&pr, "fingerprinted", n_items, 0);
    json_array_foreach (items, i, it) {
        if (fingerprint_item(mpath, it, dec, &in[i]) != 0)
            goto out;
        done = i + 1;
        progress_update(&pr, done, NULL);
    }
    if (!(rec = write_index(ipath, in, n_items)))
        goto out;
    json_object_set(m, "fingerprints", rec);
    if (manifest_save(mpath, m) == 0) {
        say("%s: %zu items, %lld landmarks, %lld bytes", ipath, n_items,
                (long long)json_integer_value(json_object_get(rec, "landmarks")),
                (long long)json_integer_value(json_object_get(rec, "bytes")));
        rc = 0;
    }
out:
    manifest_unlock(lock);
    for (i = 0; i < done; i++)
        free(in[i].lm);
    free(in);
    free(ipath);
    json_decref(rec);
    json_decref(m);
    return rc;
}

int cmd_dataset(int argc, char **argv)
{
    if (argc < 2 || wants_help(argc, argv)) {
        fputs(usage_dataset, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : 0;
    }
    if (strcmp(argv[1], "init") == 0)
        return dataset_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "add") == 0)
        return dataset_add(argc - 1, argv + 1);
    if (strcmp(argv[1], "fingerprint") == 0)
        return dataset_fingerprint(argc - 1, argv + 1);
    say("dataset: unknown subcommand '%s' (init, add, fingerprint)", argv[1]);
    return EXIT_ERROR;
}
