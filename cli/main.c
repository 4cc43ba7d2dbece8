/* provmark: embed, detect and key management from the command line. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio.h"
#include "cli.h"
#include "dataset.h"
#include "provmark.h"

static const char usage_main[] =
    "usage: provmark COMMAND [OPTIONS]\n"
    "\n"
    "Keyed, inaudible provenance watermark carrying a model ID and a dataset ID.\n"
    "\n"
    "commands:\n"
    "  embed IN OUT --model N --dataset N [--key FILE] [--strength S] [--no-verify]\n"
    "  detect [--json] [-r] [-j N] [--key FILE]... FILE|DIR...\n"
    "  keygen FILE\n"
    "  dataset init|add|fingerprint MANIFEST ...   document a training set in tiers\n"
    "  trace [--json] [--registry REG] [--dataset MANIFEST] FILE...\n"
    "  manifest --model N --dataset N --registry REG   C2PA-shaped provenance record\n"
    "\n"
    "'provmark COMMAND --help' describes a command.\n";

static const char usage_embed[] =
    "usage: provmark embed IN OUT --model N --dataset N [--key FILE] [--strength S]\n"
    "\n"
    "Watermark IN into OUT. IN is anything libsndfile reads; OUT is WAV, FLAC,\n"
    "Ogg Vorbis, Opus or MP3 by its extension; '-' is a WAV stream on stdin/stdout.\n"
    "OUT keeps IN's rate, channels, length and (where possible) sample format, and\n"
    "appears only when complete. IDs are 0..16777215.\n"
    "\n"
    "  --model N      model ID\n"
    "  --dataset N    dataset ID\n"
    "  --key FILE     secret key (default: the public demo key, with a warning)\n"
    "  --strength S   0..4, default 1 (higher: more robust, less transparent)\n"
    "  --no-verify    skip decoding the output to report the detection margin\n"
    AUDIO_DECODER_HELP;

static const char usage_keygen[] =
    "usage: provmark keygen FILE\n"
    "\n"
    "Write a new random 256-bit key to FILE (mode 0600). Never overwrites.\n";

/* ------------------------------------------------------------------ embed */

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

static int cmd_embed(int argc, char **argv)
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
            fprintf(stderr, "provmark: --strength must be a number from 0 to 4\n");
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

/* ----------------------------------------------------------------- keygen */

static int cmd_keygen(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_keygen, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "provmark: keygen needs exactly one FILE (see 'provmark keygen --help')\n");
        return EXIT_ERROR;
    }
    pm_key key;
    int rc = pm_key_generate(&key);
    if (rc == PM_OK)
        rc = pm_key_save(&key, argv[1]);
    if (rc != PM_OK) {
        fprintf(stderr, "provmark: %s: %s%s%s\n", argv[1], pm_strerror(rc),
                rc == PM_ERR_IO ? ": " : "", rc == PM_ERR_IO ? strerror(errno) : "");
        return EXIT_ERROR;
    }
    char fp[17];
    pm_key_fingerprint(&key, fp);
    fprintf(stderr, "provmark: wrote key %s (fingerprint %s); keep it secret\n", argv[1], fp);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("provmark %s\n", pm_version_string());
        return 0;
    }
    argc--;
    argv++;
    if (!strcmp(cmd, "embed"))
        return cmd_embed(argc, argv);
    if (!strcmp(cmd, "detect"))
        return cmd_detect(argc, argv);
    if (!strcmp(cmd, "keygen"))
        return cmd_keygen(argc, argv);
    if (!strcmp(cmd, "dataset"))
        return cmd_dataset(argc, argv);
    if (!strcmp(cmd, "trace"))
        return cmd_trace(argc, argv);
    if (!strcmp(cmd, "manifest"))
        return cmd_manifest(argc, argv);
    fprintf(stderr, "provmark: unknown command '%s' (see 'provmark --help')\n", cmd);
    return EXIT_ERROR;
}
