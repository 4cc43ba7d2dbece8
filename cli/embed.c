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
    " (higher: more robust, less transparent)\n"
    "  --no-verify    skip decoding the output to report the detection margin\n"
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
        fprintf(stderr, "provmark: %s: %s\n", s->path, pm_strerror(rc));
        return -1;
    }
    if (sf_writef_float(s->out->sf, o, (sf_count_t)keep) != (sf_count_t)keep) {
        fprintf(stderr, "provmark: %s: write failed: %s\n", s->path, sf_strerror(s->out->sf));
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
        fprintf(stderr, "provmark: %s: %s\n", s->path, pm_strerror(rc));
        return -1;
    }
    return sink_write(s, s->outbuf, frames);
}

int cmd_embed(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"dataset", required_argument, 0, 'd'},
        {"key", required_argument, 0, 'k'},     {"strength", required_argument, 0, 's'},
        {"no-verify", no_argument, 0, 'n'},     {"help", no_argument, 0, 'h'},
        {"decoder", required_argument, 0, 'D'}, {0, 0, 0, 0}};
    const char *model_s = NULL, *dataset_s = NULL, *key_path = NULL, *strength_s = NULL;
    audio_decoder dec = DECODER_SNDFILE;
    int verify = 1, c;
    if (wants_help(argc, argv)) {
        fputs(usage_embed, stdout);
        return 0;
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_s = optarg; break;
        case 'd': dataset_s = optarg; break;
        case 'k': key_path = optarg; break;
        case 's': strength_s = optarg; break;
        case 'n': verify = 0; break;
        case 'D':
            if (audio_decoder_parse(optarg, &dec))
                return EXIT_ERROR;
            break;
        default:
            fprintf(stderr, "provmark: embed: bad option (see 'provmark embed --help')\n");
            return EXIT_ERROR;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "provmark: embed needs IN and OUT (see 'provmark embed --help')\n");
        return EXIT_ERROR;
    }
    const char *in_path = argv[optind], *out_path = argv[optind + 1];
    uint32_t model, dataset;
    if (!model_s || !dataset_s) {
        fprintf(stderr, "provmark: embed needs --model and --dataset\n");
        return EXIT_ERROR;
    }
    if (parse_id(model_s, &model, "--model") || parse_id(dataset_s, &dataset, "--dataset"))
        return EXIT_ERROR;
    float strength = PM_STRENGTH_DEFAULT;
    if (strength_s) {
        char *end;
        strength = strtof(strength_s, &end);
        if (*end || !(strength >= PM_STRENGTH_MIN && strength <= PM_STRENGTH_MAX)) {
            fprintf(stderr, "provmark: --strength must be a number from " PM_STR(PM_STRENGTH_MIN) " to " PM_STR(
                                PM_STRENGTH_MAX) "\n");
            return EXIT_ERROR;
        }
    }
    if (strcmp(in_path, "-") != 0 && strcmp(out_path, "-") != 0 && same_file(in_path, out_path)) {
        fprintf(stderr, "provmark: %s: output is the input file; refusing to overwrite it\n",
                out_path);
        return EXIT_ERROR;
    }
    pm_key key;
    if (load_key(key_path, &key))
        return EXIT_ERROR;

    audio_in in;
    char err[AUDIO_ERR];
    if (audio_in_open(&in, in_path, dec, err) != 0) {
        fprintf(stderr, "provmark: %s: %s\n", in_path, err);
        return EXIT_ERROR;
    }
    const SF_INFO info = in.info;
    int status = EXIT_ERROR;
    pm_embedder *emb = NULL;
    pm_detector *det = NULL;
    float *outbuf = NULL;
    audio_out out = {.fd = -1};
    int rc = pm_embedder_new(&emb, info.samplerate, info.channels, &key, model, dataset, strength);
    if (rc == PM_OK && verify)
        rc = pm_detector_new(&det, info.samplerate, info.channels, &key, 1);
    if (rc != PM_OK) {
        fprintf(stderr, "provmark: %s: %s\n", in_path, pm_strerror(rc));
        goto done;
    }
    const size_t ch = (size_t)info.channels, latency = pm_embedder_latency(emb);
    const size_t cap = latency > AUDIO_CHUNK ? latency : AUDIO_CHUNK;
    outbuf = malloc(sizeof(float) * cap * ch);
    if (!outbuf) {
        fprintf(stderr, "provmark: out of memory\n");
        goto done;
    }
    SF_INFO out_info;
    if (audio_out_open(&out, out_path, &info, &out_info))
        goto done;
    /* Output lags input by the latency: drop that much at the start, flush it at the end. */
    sink snk = {.emb = emb, .outbuf = outbuf, .out = &out, .det = det, .path = out_path,
                .skip = latency, .channels = ch};
    rc = audio_in_feed(&in, embed_chunk, &snk, err);
    if (rc < 0)
        fprintf(stderr, "provmark: %s: %s\n", in_path, err);
    if (rc != 0)
        goto done;
    const double level = pm_embedder_mark_level_db(emb); /* the flush resets it */
    rc = pm_embedder_flush_interleaved(emb, outbuf);
    if (rc != PM_OK) {
        fprintf(stderr, "provmark: %s: %s\n", out_path, pm_strerror(rc));
        goto done;
    }
    if (sink_write(&snk, outbuf, latency) || audio_out_commit(&out))
        goto done;
    status = 0;
    fprintf(stderr, "provmark: marked %s: model %u, dataset %u, mark level %.1f dB\n", out_path,
            model, dataset, level);
    if (det) {
        pm_result r;
        rc = pm_detector_finish(det, &r);
        if (rc != PM_OK)
            fprintf(stderr, "provmark: warning: the output could not be verified: %s\n",
                    pm_strerror(rc));
        else if (r.found && r.model_id == model && r.dataset_id == dataset)
            fprintf(stderr, "provmark: verified: sync %.1f sigma, p_false %.1e\n", r.sync_z,
                    r.p_false);
        else
            fprintf(stderr, "provmark: warning: the mark could not be verified on the output "
                            "(too short, too quiet or silent?)\n");
    }
done:
    if (status != 0)
        audio_out_abort(&out);
    free(outbuf);
    pm_embedder_free(emb);
    pm_detector_free(det);
    audio_in_close(&in);
    return status;
}

