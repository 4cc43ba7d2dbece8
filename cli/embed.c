/*
 * provmark embed: watermark a file into a new one that appears only when
 * complete, then decode the output to report the margin.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <soxr.h>
#include <unistd.h>

#include "analyse.h"
#include "cli.h"
#include "embed.h"

static const char usage_embed[] =
    "usage: provmark embed IN OUT --model N --dataset N [--key FILE] [--strength S]\n"
    "       provmark embed -r IN_DIR OUT_DIR --model N --dataset N [-j N] [--format EXT] ...\n"
    "\n"
    "Watermark IN into OUT. IN is anything libsndfile reads; OUT is WAV, FLAC,\n"
    "Ogg Vorbis, Opus or MP3 by its extension; '-' is a WAV stream on stdin/stdout.\n"
    "OUT keeps IN's rate, channels, length, (where possible) sample format and its\n"
    "title/artist/album/... tags, and appears only when complete. Opus codes 8, 12,\n"
    "16, 24 or 48 kHz only: other rates are resampled to 48 kHz (libsoxr, very high\n"
    "quality) after marking. IDs are 0.." PM_STR(PM_ID_MAX) ".\n"
    "\n"
    "  -r             mark every audio file below IN_DIR into the same relative path\n"
    "                 below OUT_DIR (created), in the same format; an output that\n"
    "                 exists and carries these IDs is kept, so an interrupted run\n"
    "                 is finished by running it again. A summary at the end.\n"
    "  --format EXT   with -r: write every output as EXT (wav flac ogg opus mp3)\n"
    "  -j, --jobs N   with -r: files marked in parallel (default: all cores)\n"
    "  --model N      model ID\n"
    "  --dataset N    dataset ID\n"
    "  --key FILE     secret key (default: the public demo key, with a warning)\n"
    "  --strength S   " PM_STR(PM_STRENGTH_MIN) ".." PM_STR(PM_STRENGTH_MAX) ", default " PM_STR(PM_STRENGTH_DEFAULT)
    "\n                 (1: imperceptible by PEAQ, survives codecs, speed changes, 3 s\n"
    "                 clips, and noise at 10 dB SNR and MP3 32k on 9 tracks in 10;\n"
    "                 1.5-2: the tenth too, audible on quiet music)\n"
    "  --mark-version V  format version written, " PM_STR(PM_FORMAT_MIN) ".." PM_STR(PM_FORMAT_MAX)
    ", default " PM_STR(PM_FORMAT_DEFAULT) "\n"
    "                 (docs/FORMAT.md; detect reads every version)\n"
    "  --no-verify    skip decoding the output to report the detection margin\n"
    "\nExit status: 0 marked (and verified, unless --no-verify), 1 written but the mark\n"
    "could not be verified on the output read back (too short, silent, too quiet, or lost\n"
    "by the encoding) or the input was truncated, 2 an error.\n"
    AUDIO_DECODER_HELP;

/*
 * Where embedded audio goes: the output file (after the latency is skipped), through
 * the resampler when the output's rate differs, and the verifier.
 */
typedef struct sink {
    pm_embedder *emb;
    float *outbuf;
    audio_out *out;
    pm_detector *det;
    soxr_t rs;
    float *rsbuf; /* RS_FRAMES frames of resampled audio */
    const char *path;
    size_t skip, channels;
} sink;

/* Frames of the resampler's output buffer. */
#define RS_FRAMES 8192

/* Audio at the output's rate: to the verifier and the file. */
static int write_out(sink *s, const float *o, size_t n)
{
    int rc = s->det ? pm_detector_push_interleaved(s->det, o, n) : PM_OK;
    if (rc != PM_OK) {
        say("%s: %s", s->path, pm_strerror(rc));
        return -1;
    }
    if (sf_writef_float(s->out->sf, o, (sf_count_t)n) != (sf_count_t)n) {
        say("%s: write failed: %s", s->path, sf_strerror(s->out->sf));
        return -1;
    }
    return 0;
}

/* Resample n frames (in NULL: the resampler's tail, at the end) and write the result. */
static int resample_out(sink *s, const float *in, size_t n)
{
    for (;;) {
        size_t used = 0, made = 0;
        soxr_error_t e = soxr_process(s->rs, in, n, &used, s->rsbuf, RS_FRAMES, &made);
        if (e) {
            say("%s: resampling failed: %s", s->path, e);
            return -1;
        }
        if (made && write_out(s, s->rsbuf, made))
            return -1;
        if (in) {
            in += used * s->channels;
            n -= used;
            if (!n)
                return 0;
        } else if (!made) {
            return 0;
        }
    }
}

static int sink_write(sink *s, const float *buf, size_t n)
{
    size_t drop = s->skip < n ? s->skip : n;
    s->skip -= drop;
    const float *o = buf + drop * s->channels;
    size_t keep = n - drop;
    if (!keep)
        return 0;
    return s->rs ? resample_out(s, o, keep) : write_out(s, o, keep);
}

/*
 * The string tags carried over, as libsndfile names them; not the software tag,
 * which names the encoder of the file (libsndfile, for the output).
 */
static const struct {
    int id;
    const char *name;
} tags[] = {{SF_STR_TITLE, "title"},     {SF_STR_ARTIST, "artist"},   {SF_STR_ALBUM, "album"},
            {SF_STR_TRACKNUMBER, "track"}, {SF_STR_DATE, "date"},     {SF_STR_GENRE, "genre"},
            {SF_STR_COMMENT, "comment"}, {SF_STR_COPYRIGHT, "copyright"}, {SF_STR_LICENSE, "license"}};
#define N_TAGS (sizeof tags / sizeof tags[0])

/* Copy the input's string tags to the output, before any audio. */
static void copy_tags(SNDFILE *from, SNDFILE *to)
{
    for (size_t i = 0; i < N_TAGS; i++) {
        const char *v = sf_get_string(from, tags[i].id);
        if (v && *v)
            sf_set_string(to, tags[i].id, v);
    }
}

/*
 * Count the input's tags, and those the written output does not hold: libsndfile
 * accepts some that a format then leaves out (e.g. the licence in MP3), so the
 * output is read back.
 */
static void count_tags(SNDFILE *from, const char *out_path, embedded *res)
{
    SF_INFO info = {0};
    SNDFILE *out = sf_open(out_path, SFM_READ, &info);
    for (size_t i = 0; i < N_TAGS; i++) {
        const char *v = sf_get_string(from, tags[i].id), *w = out ? sf_get_string(out, tags[i].id) : NULL;
        if (v && *v) {
            res->tags++;
            if (!w || strcmp(v, w) != 0) {
                size_t n = strlen(res->lost);
                snprintf(res->lost + n, sizeof res->lost - n, "%s%s", n ? ", " : "", tags[i].name);
            }
        }
    }
    if (out)
        sf_close(out);
}

/* The embedder as a consumer of the input. */
static int embed_chunk(void *ctx, const float *buf, size_t frames)
{
    sink *s = ctx;
    int rc = pm_embedder_process_interleaved(s->emb, buf, s->outbuf, frames);
    if (rc != PM_OK) {
        say("%s: %s", s->path, pm_strerror(rc));
        return -1;
    }
    return sink_write(s, s->outbuf, frames);
}

/* The options and operands, checked. -1 after one line. */
static int parse_options(int argc, char **argv, embed_opts *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"dataset", required_argument, 0, 'd'},
        {"key", required_argument, 0, 'k'},     {"strength", required_argument, 0, 's'},
        {"no-verify", no_argument, 0, 'n'},     {"help", no_argument, 0, 'h'},
        {"decoder", required_argument, 0, 'D'}, {"jobs", required_argument, 0, 'j'},
        {"format", required_argument, 0, 'F'},  {"mark-version", required_argument, 0, 'V'},
        {0, 0, 0, 0}};
    const char *model_s = NULL, *dataset_s = NULL, *strength_s = NULL;
    unsigned long version;
    unsigned long jobs;
    int c;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (embed_opts){.strength = PM_STRENGTH_DEFAULT, .mark_version = PM_FORMAT_DEFAULT, .verify = 1,
                      .jobs = cores > 0 ? cores : 1};
    while ((c = getopt_long(argc, argv, "rj:", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->recursive = 1; break;
        case 'F': o->format = optarg; break;
        case 'j':
            if (parse_decimal(optarg, 256, &jobs) || jobs < 1) {
                say("--jobs takes a number from 1 to 256");
                return -1;
            }
            o->jobs = (long)jobs;
            break;
        case 'm': model_s = optarg; break;
        case 'd': dataset_s = optarg; break;
        case 'k': o->key_path = optarg; break;
        case 's': strength_s = optarg; break;
        case 'V':
            if (parse_decimal(optarg, PM_FORMAT_MAX, &version) || version < PM_FORMAT_MIN) {
                say("--mark-version takes " PM_STR(PM_FORMAT_MIN) " to " PM_STR(PM_FORMAT_MAX));
                return -1;
            }
            o->mark_version = (int)version;
            break;
        case 'n': o->verify = 0; break;
        case 'D':
            if (audio_decoder_parse(optarg, &o->dec))
                return -1;
            break;
        default:
            say_bad_option("embed", argv);
            return -1;
        }
    }
    if (argc - optind != 2) {
        say("embed needs %s (see 'provmark embed --help')",
                o->recursive ? "IN_DIR and OUT_DIR" : "IN and OUT");
        return -1;
    }
    if (o->format && !o->recursive) {
        say("--format is for -r (a single OUT's extension names its format)");
        return -1;
    }
    o->in_path = argv[optind];
    o->out_path = argv[optind + 1];
    if (!model_s || !dataset_s) {
        say("embed needs --model and --dataset");
        return -1;
    }
    if (parse_id(model_s, &o->model, "--model") || parse_id(dataset_s, &o->dataset, "--dataset"))
        return -1;
    if (strength_s) {
        char *end;
        o->strength = strtof(strength_s, &end);
        if (*end || !(o->strength >= PM_STRENGTH_MIN && o->strength <= PM_STRENGTH_MAX)) {
            say("--strength must be a number from " PM_STR(PM_STRENGTH_MIN) " to " PM_STR(PM_STRENGTH_MAX));
            return -1;
        }
    }
    if (!o->recursive && strcmp(o->in_path, "-") != 0 && strcmp(o->out_path, "-") != 0 &&
        same_file(o->in_path, o->out_path)) {
        say("%s: output is the input file; refusing to overwrite it",
                o->out_path);
        return -1;
    }
    return 0;
}

int embed_file(const embed_opts *o, const pm_key *key, embedded *res)
{
    audio_in in;
    char err[AUDIO_ERR];
    memset(res, 0, sizeof *res);
    if (audio_in_open(&in, o->in_path, o->dec, err) != 0) {
        say("%s: %s", o->in_path, err);
        return -1;
    }
    const SF_INFO info = in.info;
    int ok = 0;
    pm_embedder *emb = NULL;
    pm_detector *det = NULL;
    float *outbuf = NULL, *rsbuf = NULL;
    soxr_t rs = NULL;
    audio_out out = {.fd = -1};
    pm_status rc = pm_embedder_new(&emb, info.samplerate, info.channels, key, o->model, o->dataset,
                                   o->strength);
    if (rc == PM_OK)
        rc = pm_embedder_set_format(emb, o->mark_version);
    if (rc != PM_OK) {
        say("%s: %s", o->in_path, pm_strerror(rc));
        goto done;
    }
    const size_t ch = (size_t)info.channels, latency = pm_embedder_latency(emb);
    const size_t cap = latency > AUDIO_CHUNK ? latency : AUDIO_CHUNK;
    if (!(outbuf = malloc(sizeof(float) * cap * ch))) {
        say("out of memory");
        goto done;
    }
    SF_INFO out_info;
    if (audio_out_open(&out, o->out_path, &info, &out_info))
        goto done;
    if (!out.is_stdout)
        copy_tags(in.sf, out.sf);
    /* A file is verified by reading it back (what a lossy encoder kept is what counts);
     * a stream on stdout, as it was handed to the encoder. */
    if (o->verify && out.is_stdout &&
        (rc = pm_detector_new(&det, out_info.samplerate, info.channels, key, 1)) != PM_OK) {
        say("%s: %s", o->out_path, pm_strerror(rc));
        goto done;
    }
    if (out_info.samplerate != info.samplerate) { /* marked at the input's rate, then resampled */
        soxr_error_t e = NULL;
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        rs = soxr_create(info.samplerate, out_info.samplerate, ch, &e, &io, &q, NULL);
        if (e || !(rsbuf = malloc(sizeof(float) * RS_FRAMES * ch))) {
            say("%s: cannot resample: %s", o->out_path, e ? e : "out of memory");
            goto done;
        }
        res->resampled_from = info.samplerate;
    }
    /* Output lags input by the latency: drop that much at the start, flush it at the end. */
    sink snk = {.emb = emb, .outbuf = outbuf, .out = &out, .det = det, .rs = rs, .rsbuf = rsbuf,
                .path = o->out_path, .skip = latency, .channels = ch};
    const int fed = audio_in_feed(&in, embed_chunk, &snk, err);
    if (fed < 0)
        say("%s: %s", o->in_path, err);
    if (fed != 0)
        goto done;
    if (in.truncated[0]) {
        say("warning: %s: truncated: %s; the output holds the %.1f s read", o->in_path, in.truncated,
            (double)in.read / info.samplerate);
        res->truncated = 1;
    }
    res->level = pm_embedder_mark_level_db(emb); /* the flush resets it */
    if ((rc = pm_embedder_flush_interleaved(emb, outbuf)) != PM_OK) {
        say("%s: %s", o->out_path, pm_strerror(rc));
        goto done;
    }
    if (sink_write(&snk, outbuf, latency) || (rs && resample_out(&snk, NULL, 0)) || audio_out_commit(&out))
        goto done;
    ok = 1;
    if (!out.is_stdout)
        count_tags(in.sf, o->out_path, res);
    if (det)
        res->verify_status = pm_detector_finish(det, &res->r);
    if (o->verify && !out.is_stdout) {
        analysis a;
        const analysis_opts ao = {.keys = key, .n_keys = 1, .dec = DECODER_SNDFILE};
        if (analyse_file(o->out_path, &ao, &a) == 0) {
            res->r = a.r;
        } else {
            say("%s: cannot read the output back: %s", o->out_path, a.error);
            res->verify_status = PM_ERR_IO;
        }
        analysis_free(&a);
    }
done:
    if (!ok)
        audio_out_abort(&out);
    free(outbuf);
    free(rsbuf);
    soxr_delete(rs);
    pm_embedder_free(emb);
    pm_detector_free(det);
    audio_in_close(&in);
    return ok ? 0 : -1;
}

int embed_verified(const embed_opts *o, const embedded *res)
{
    return res->verify_status == PM_OK && res->r.found && res->r.model_id == o->model &&
           res->r.dataset_id == o->dataset;
}

static void print_embedded(const embed_opts *o, const embedded *res)
{
    say("marked %s: model %u, dataset %u, mark level %.1f dB", o->out_path,
            o->model, o->dataset, res->level);
    if (res->resampled_from)
        say("resampled from %d Hz to %d Hz for Opus (libsoxr)", res->resampled_from,
                AUDIO_OPUS_RATE);
    if (res->lost[0])
        say("warning: this format cannot hold these tags of the input: %s (libsndfile)",
                res->lost);
    if (!o->verify)
        return;
    if (res->verify_status != PM_OK)
        say("warning: the output could not be verified: %s",
                pm_strerror(res->verify_status));
    else if (embed_verified(o, res))
        say("verified: sync %.1f sigma, p_false %.1e", res->r.sync_z,
                res->r.p_false);
    else
        say("warning: the mark could not be verified on the output "
            "(too short, too quiet or silent, or lost by the output's encoding?); exit status 1");
}

int cmd_embed(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_embed, stdout);
        return 0;
    }
    embed_opts o;
    pm_key key;
    embedded res;
    if (parse_options(argc, argv, &o) || load_key(o.key_path, &key))
        return EXIT_ERROR;
    if (o.recursive)
        return embed_tree(&o, &key);
    if (embed_file(&o, &key, &res))
        return EXIT_ERROR;
    print_embedded(&o, &res);
    /* The output is written either way (it is the user's audio, unharmed); the status tells a
     * pipeline whether it can count on it: 1 when verification found no mark, or when the
     * input was truncated (the output holds only what the input held). */
    if (res.truncated)
        say("warning: %s holds only the part of a truncated input; exit status 1", o.out_path);
    return !res.truncated && (!o.verify || embed_verified(&o, &res)) ? EXIT_MARKED : EXIT_UNMARKED;
}
