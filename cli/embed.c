/*
 * provmark embed: watermark a file into a new one that appears only when
 * complete, then decode the output to report the margin.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "cli.h"

static const char usage_embed[] =
    "usage: provmark embed IN OUT --model N --dataset N [--key FILE] [--strength S]\n"
    "\n"
    "Watermark IN into OUT. IN is anything libsndfile reads; OUT is WAV, FLAC,\n"
    "Ogg Vorbis, Opus or MP3 by its extension; '-' is a WAV stream on stdin/stdout.\n"
    "OUT keeps IN's rate, channels, length and (where possible) sample format, and\n"
    "appears only when complete. IDs are 0.." PM_STR(PM_ID_MAX) ".\n"
    "\n"
    "  --model N      model ID\n"
    "  --dataset N    dataset ID\n"
    "  --key FILE     secret key (default: the public demo key, with a warning)\n"
    "  --strength S   " PM_STR(PM_STRENGTH_MIN) ".." PM_STR(PM_STRENGTH_MAX) ", default " PM_STR(PM_STRENGTH_DEFAULT)
    "\n                 (1: imperceptible by PEAQ, survives codecs and speed changes;\n"
    "                 2: also 3 s clips and heavy noise; slightly audible on quiet music)\n"
    "  --no-verify    skip decoding the output to report the detection margin\n"
    "\nExit status: 0 marked (and verified, unless --no-verify), 1 written but the mark\n"
    "could not be verified on the output (too short, silent or too quiet), 2 an error.\n"
    AUDIO_DECODER_HELP;

/* Where embedded audio goes: the output file (after the latency is skipped) and the verifier. */
typedef struct sink {
    pm_embedder *emb;
    float *outbuf;
    audio_out *out;
    pm_detector *det;
    const char *path;
    size_t skip, channels;
} sink;

static int sink_write(sink *s, const float *buf, size_t n)
{
    size_t drop = s->skip < n ? s->skip : n;
    s->skip -= drop;
    const float *o = buf + drop * s->channels;
    size_t keep = n - drop;
    if (!keep)
        return 0;
    int rc = s->det ? pm_detector_push_interleaved(s->det, o, keep) : PM_OK;
    if (rc != PM_OK) {
        say("%s: %s", s->path, pm_strerror(rc));
        return -1;
    }
    if (sf_writef_float(s->out->sf, o, (sf_count_t)keep) != (sf_count_t)keep) {
        say("%s: write failed: %s", s->path, sf_strerror(s->out->sf));
        return -1;
    }
    return 0;
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

typedef struct embed_opts {
    const char *in_path, *out_path, *key_path;
    uint32_t model, dataset;
    float strength;
    int verify;
    audio_decoder dec;
} embed_opts;

/* The options and operands, checked. -1 after one line. */
static int parse_options(int argc, char **argv, embed_opts *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"dataset", required_argument, 0, 'd'},
        {"key", required_argument, 0, 'k'},     {"strength", required_argument, 0, 's'},
        {"no-verify", no_argument, 0, 'n'},     {"help", no_argument, 0, 'h'},
        {"decoder", required_argument, 0, 'D'}, {0, 0, 0, 0}};
    const char *model_s = NULL, *dataset_s = NULL, *strength_s = NULL;
    int c;
    *o = (embed_opts){.strength = PM_STRENGTH_DEFAULT, .verify = 1};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_s = optarg; break;
        case 'd': dataset_s = optarg; break;
        case 'k': o->key_path = optarg; break;
        case 's': strength_s = optarg; break;
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
        fprintf(stderr, "provmark: embed needs IN and OUT (see 'provmark embed --help')\n");
        return -1;
    }
    o->in_path = argv[optind];
    o->out_path = argv[optind + 1];
    if (!model_s || !dataset_s) {
        fprintf(stderr, "provmark: embed needs --model and --dataset\n");
        return -1;
    }
    if (parse_id(model_s, &o->model, "--model") || parse_id(dataset_s, &o->dataset, "--dataset"))
        return -1;
    if (strength_s) {
        char *end;
        o->strength = strtof(strength_s, &end);
        if (*end || !(o->strength >= PM_STRENGTH_MIN && o->strength <= PM_STRENGTH_MAX)) {
            fprintf(stderr, "provmark: --strength must be a number from " PM_STR(PM_STRENGTH_MIN)
                            " to " PM_STR(PM_STRENGTH_MAX) "\n");
            return -1;
        }
    }
    if (strcmp(o->in_path, "-") != 0 && strcmp(o->out_path, "-") != 0 &&
        same_file(o->in_path, o->out_path)) {
        say("%s: output is the input file; refusing to overwrite it",
                o->out_path);
        return -1;
    }
    return 0;
}

/* What embedding a file gave: the mark level, and the verification of the output. */
typedef struct embedded {
    double level;
    pm_status verify_status; /* of decoding the output; PM_OK also when not verified */
    pm_result r;             /* the decoded output (with verification) */
} embedded;

/* Read, mark, write (atomically) and decode the output. 0, or -1 after one line. */
static int embed_file(const embed_opts *o, const pm_key *key, embedded *res)
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
    float *outbuf = NULL;
    audio_out out = {.fd = -1};
    pm_status rc = pm_embedder_new(&emb, info.samplerate, info.channels, key, o->model, o->dataset,
                                   o->strength);
    if (rc == PM_OK && o->verify)
        rc = pm_detector_new(&det, info.samplerate, info.channels, key, 1);
    if (rc != PM_OK) {
        say("%s: %s", o->in_path, pm_strerror(rc));
        goto done;
    }
    const size_t ch = (size_t)info.channels, latency = pm_embedder_latency(emb);
    const size_t cap = latency > AUDIO_CHUNK ? latency : AUDIO_CHUNK;
    if (!(outbuf = malloc(sizeof(float) * cap * ch))) {
        fprintf(stderr, "provmark: out of memory\n");
        goto done;
    }
    SF_INFO out_info;
    if (audio_out_open(&out, o->out_path, &info, &out_info))
        goto done;
    /* Output lags input by the latency: drop that much at the start, flush it at the end. */
    sink snk = {.emb = emb, .outbuf = outbuf, .out = &out, .det = det, .path = o->out_path,
                .skip = latency, .channels = ch};
    const int fed = audio_in_feed(&in, embed_chunk, &snk, err);
    if (fed < 0)
        say("%s: %s", o->in_path, err);
    if (fed != 0)
        goto done;
    if (in.truncated[0])
        say("warning: %s: truncated: %s; the output holds the %.1f s read", o->in_path, in.truncated,
            (double)in.read / info.samplerate);
    res->level = pm_embedder_mark_level_db(emb); /* the flush resets it */
    if ((rc = pm_embedder_flush_interleaved(emb, outbuf)) != PM_OK) {
        say("%s: %s", o->out_path, pm_strerror(rc));
        goto done;
    }
    if (sink_write(&snk, outbuf, latency) || audio_out_commit(&out))
        goto done;
    ok = 1;
    if (det)
        res->verify_status = pm_detector_finish(det, &res->r);
done:
    if (!ok)
        audio_out_abort(&out);
    free(outbuf);
    pm_embedder_free(emb);
    pm_detector_free(det);
    audio_in_close(&in);
    return ok ? 0 : -1;
}

/* Whether the output is known to carry the mark: verification ran and found these IDs. */
static int verified(const embed_opts *o, const embedded *res)
{
    return res->verify_status == PM_OK && res->r.found && res->r.model_id == o->model &&
           res->r.dataset_id == o->dataset;
}

static void print_embedded(const embed_opts *o, const embedded *res)
{
    say("marked %s: model %u, dataset %u, mark level %.1f dB", o->out_path,
            o->model, o->dataset, res->level);
    if (!o->verify)
        return;
    if (res->verify_status != PM_OK)
        say("warning: the output could not be verified: %s",
                pm_strerror(res->verify_status));
    else if (verified(o, res))
        fprintf(stderr, "provmark: verified: sync %.1f sigma, p_false %.1e\n", res->r.sync_z,
                res->r.p_false);
    else
        fprintf(stderr, "provmark: warning: the mark could not be verified on the output "
                        "(too short, too quiet or silent?); exit status 1\n");
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
    if (parse_options(argc, argv, &o) || load_key(o.key_path, &key) || embed_file(&o, &key, &res))
        return EXIT_ERROR;
    print_embedded(&o, &res);
    /* The output is written either way (it is the user's audio, unharmed); the status tells a
     * pipeline whether it can count on a mark: 1 when verification found none. */
    return !o.verify || verified(&o, &res) ? EXIT_MARKED : EXIT_UNMARKED;
}
