/*
 * provmark — keyed spread-spectrum provenance watermark for audio.
 *
 * Public API. Every object is an opaque handle owned by the caller; nothing
 * here keeps global state except FFTW's planner, which the library serialises
 * with its own lock. One handle must not be used from two threads at once;
 * distinct handles may be used concurrently.
 *
 * Every function that can fail returns a pm_status (PM_OK on success, negative
 * on failure) that the compiler asks the caller to look at (PM_WARN_UNUSED);
 * pm_strerror() gives a one-line English message for it.
 */
#ifndef PROVMARK_H
#define PROVMARK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PM_BUILDING) && defined(__GNUC__)
#define PM_API __attribute__((visibility("default")))
#else
#define PM_API
#endif
/* A status the caller must check: GCC and Clang warn when it is ignored. */
#if defined(__GNUC__) && !defined(PM_NO_WARN_UNUSED)
#define PM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PM_WARN_UNUSED
#endif

/** Library version, as MAJOR*10000 + MINOR*100 + PATCH, and as text. */
#define PM_VERSION 10200
#define PM_VERSION_STRING "1.2.0"
/** The shared library's SONAME carries MAJOR: libprovmark.so.1. */
/*
 * Limits. Each is defined here and nowhere else: the command, the plugin and its
 * TTL, the Python binding (through the accessors below) and the messages all take
 * them from here. Plain integers, so that messages can quote them (PM_STR).
 */
/** Largest model or dataset ID: IDs are 24-bit so an LV2 float port holds them exactly. */
#define PM_ID_MAX 16777215
/** Most keys a detector tries at once. */
#define PM_MAX_KEYS 16
/** Most ID pairs one detector can be told to expect (pm_detector_expect()), over all keys. */
#define PM_MAX_EXPECTED 1024
/** Channel range accepted by the embedder and detector: 1..PM_MAX_CHANNELS. */
#define PM_MAX_CHANNELS 8
/** Sample-rate range accepted (Hz). */
#define PM_MIN_RATE 8000
#define PM_MAX_RATE 384000
/** Strength range (a linear factor); PM_STRENGTH_DEFAULT is the one docs/FORMAT.md documents. */
#define PM_STRENGTH_MIN 0
#define PM_STRENGTH_MAX 4
#define PM_STRENGTH_DEFAULT 1
/**
 * Mark format versions an embedder can write (docs/FORMAT.md); the detector reads
 * them all. PM_FORMAT_DEFAULT is what pm_embedder_new() writes.
 */
#define PM_FORMAT_MIN 1
#define PM_FORMAT_MAX 2
#define PM_FORMAT_DEFAULT 2
/** A limit as a string literal (its digits), for messages: PM_STR(PM_ID_MAX). */
#define PM_STR(x) PM_STR_(x)
#define PM_STR_(x) #x

typedef enum pm_status {
    PM_OK = 0,
    PM_ERR_ARG = -1,      /**< invalid argument (NULL pointer, bad length) */
    PM_ERR_NOMEM = -2,    /**< memory allocation failed */
    PM_ERR_RATE = -3,     /**< sample rate outside PM_MIN_RATE..PM_MAX_RATE */
    PM_ERR_CHANNELS = -4, /**< channel count outside 1..PM_MAX_CHANNELS */
    PM_ERR_ID = -5,       /**< model or dataset ID above PM_ID_MAX */
    PM_ERR_STRENGTH = -6, /**< strength outside PM_STRENGTH_MIN..PM_STRENGTH_MAX */
    PM_ERR_KEY = -7,      /**< key file missing, unreadable or malformed */
    PM_ERR_EXISTS = -8,   /**< refusing to overwrite an existing file */
    PM_ERR_IO = -9,       /**< an I/O operation failed (see errno) */
    PM_ERR_CRYPTO = -10,  /**< the crypto library failed to initialise */
    PM_ERR_STATE = -11,   /**< call not valid in the object's current state */
    PM_ERR_FORMAT = -12   /**< format version outside PM_FORMAT_MIN..PM_FORMAT_MAX */
} pm_status;

/** One-line message for a pm_status; never NULL. */
PM_API const char *pm_strerror(pm_status status);
/** Run-time library version (compare with PM_VERSION, e.g. to check the loaded .so). */
PM_API int pm_version(void);
/** Run-time library version as text, e.g. "1.2.0". */
PM_API const char *pm_version_string(void);
/*
 * The limits above and the size of pm_result and pm_mark, at run time: for bindings that
 * cannot read this header (python/provmark takes them from here, and checks its
 * copy of the pm_result layout against pm_result_size()).
 */
PM_API uint32_t pm_id_max(void);
PM_API int pm_max_keys(void);
PM_API int pm_max_expected(void);
PM_API int pm_max_channels(void);
PM_API int pm_max_segments(void);
PM_API float pm_strength_min(void);
PM_API float pm_strength_max(void);
PM_API float pm_strength_default(void);
/** PM_FORMAT_DEFAULT of the library loaded. */
PM_API int pm_format_default(void);
PM_API size_t pm_result_size(void);
/** The size of pm_mark (a binding checks its copy of the layout against it). */
PM_API size_t pm_mark_size(void);

/* ------------------------------------------------------------------ keys */

/** A 256-bit secret key. Treat the bytes as secret. */
typedef struct pm_key {
    uint8_t bytes[32];
} pm_key;

/** Fill `key` with 256 bits from the operating system's CSPRNG. */
PM_API PM_WARN_UNUSED pm_status pm_key_generate(pm_key *key);
/** The documented, public demo key (docs/FORMAT.md). Marks made with it prove nothing. */
PM_API void pm_key_demo(pm_key *key);
/** 1 if `key` is the demo key. */
PM_API int pm_key_is_demo(const pm_key *key);
/** Read a key file written by pm_key_save(). */
PM_API PM_WARN_UNUSED pm_status pm_key_load(pm_key *key, const char *path);
/** Write `key` to a new file with mode 0600; PM_ERR_EXISTS if the path exists. */
PM_API PM_WARN_UNUSED pm_status pm_key_save(const pm_key *key, const char *path);
/** Public 16-hex-digit fingerprint of a key (names a key without revealing it). */
PM_API void pm_key_fingerprint(const pm_key *key, char out[17]);

/* -------------------------------------------------------------- embedder */

typedef struct pm_embedder pm_embedder;

/**
 * Create a streaming embedder. All memory is allocated here; processing never
 * allocates. `strength` is a linear factor on the mark amplitude
 * (PM_STRENGTH_DEFAULT).
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_new(pm_embedder **out, double sample_rate, int channels,
                           const pm_key *key, uint32_t model_id, uint32_t dataset_id,
                           float strength);
PM_API void pm_embedder_free(pm_embedder *e);

/**
 * Change IDs. The change takes effect at the next payload boundary, so one
 * payload period is never a mix of two ID pairs.
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_set_ids(pm_embedder *e, uint32_t model_id, uint32_t dataset_id);
/**
 * Write format `version` (PM_FORMAT_MIN..PM_FORMAT_MAX; PM_ERR_FORMAT otherwise) from the
 * next payload boundary on (on a new or reset embedder: from its first sample).
 * Real-time safe.
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_set_format(pm_embedder *e, int version);
/** Change strength; takes effect at the next payload boundary. */
PM_API PM_WARN_UNUSED pm_status pm_embedder_set_strength(pm_embedder *e, float strength);
/**
 * Bypass (1) or resume (0) marking from the next frame on (about 23 ms). The
 * latency stays the same and the frames' overlap makes the switch click-free.
 */
PM_API void pm_embedder_set_bypass(pm_embedder *e, int bypass);

/**
 * Everything a key determines, precomputed so that a key can be swapped into a
 * running embedder without allocation or locks (e.g. from a real-time thread).
 */
typedef struct pm_key_schedule pm_key_schedule;
/** Derive a key schedule (allocates; not real-time safe). */
PM_API PM_WARN_UNUSED pm_status pm_key_schedule_new(pm_key_schedule **out, const pm_key *key);
PM_API void pm_key_schedule_free(pm_key_schedule *ks);
/**
 * Use this key from the next payload boundary on. Copies the schedule (the
 * caller keeps ownership); real-time safe: no allocation, no lock, no syscall.
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_set_key_schedule(pm_embedder *e, const pm_key_schedule *ks);
/**
 * 1 while the key given to pm_embedder_set_key_schedule() is not yet in use, i.e. the next
 * frame would still be marked with the previous key; 0 once it is in use or when the next
 * frame starts a payload period (the key is adopted before that frame is marked).
 * Real-time safe. Lets a caller bypass until the key it chose is the one marking.
 */
PM_API int pm_embedder_key_pending(const pm_embedder *e);

/**
 * Process `frames` frames of interleaved float audio. `in` and `out` may be the
 * same buffer. Output is the input delayed by pm_embedder_latency() frames,
 * with the mark added. Any `frames` value is accepted, also 0.
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_process_interleaved(pm_embedder *e, const float *in, float *out,
                                           size_t frames);
/** Planar variant: in[c] and out[c] for each channel; in[c] may equal out[c]. */
PM_API PM_WARN_UNUSED pm_status pm_embedder_process_planar(pm_embedder *e, const float *const *in,
                                      float *const *out, size_t frames);
/**
 * End of a stream: write the last pm_embedder_latency() frames of output (the
 * end of the input, still held back by the latency) into `out`, which must have
 * room for that many frames; then reset, ready for a new stream. Together with
 * dropping the first pm_embedder_latency() output frames, this gives output
 * sample-aligned with the input and of the same length.
 */
PM_API PM_WARN_UNUSED pm_status pm_embedder_flush_interleaved(pm_embedder *e, float *out);
/** Planar variant of pm_embedder_flush_interleaved(): out[c] for each channel. */
PM_API PM_WARN_UNUSED pm_status pm_embedder_flush_planar(pm_embedder *e, float *const *out);
/** Constant delay of the output, in frames. */
PM_API size_t pm_embedder_latency(const pm_embedder *e);
/** Forget all audio seen; the next sample is treated as the start of a stream. */
PM_API void pm_embedder_reset(pm_embedder *e);
/**
 * Mark energy relative to signal energy over the last payload period, in dB
 * (e.g. -35); -INFINITY when nothing was marked (silence).
 */
PM_API double pm_embedder_mark_level_db(const pm_embedder *e);

/* -------------------------------------------------------------- detector */

typedef struct pm_detector pm_detector;

#define PM_MAX_SEGMENTS 64

typedef struct pm_segment {
    double start; /**< seconds from the start of the audio pushed */
    double end;
    double score; /**< strongest agreement with the decoded payload in it, in standard deviations */
} pm_segment;

/**
 * The detector's summary of a file. When the file holds several marks (see
 * pm_detector_mark()), the fields describe the strongest; p_false and
 * attempts cover the whole file.
 */
typedef struct pm_result {
    int found;            /**< 1 if a mark with a valid integrity tag was decoded */
    int key_index;        /**< which of the keys matched (index into the array given) */
    uint32_t model_id;
    uint32_t dataset_id;
    double p_false;       /**< bound on the probability that unmarked audio yields this report */
    double sync_z;        /**< strongest synchronisation score (standard deviations) */
    double speed;         /**< estimated frequency scale (1 = unchanged) */
    double tempo;         /**< estimated time scale (1 = unchanged) */
    int attempts;         /**< decodes tried; each is counted in p_false */
    int n_segments;
    pm_segment segments[PM_MAX_SEGMENTS];
} pm_result;

/** Most marks one file can report (distinct key, model ID and dataset ID). */
#define PM_MAX_MARKS 16

/**
 * One mark found in a file: a (key, model ID, dataset ID) with its own time
 * ranges. The ranges of different marks do not overlap.
 */
typedef struct pm_mark {
    int key_index;        /**< which of the keys made it */
    uint32_t model_id;
    uint32_t dataset_id;
    double p_false;       /**< bound for the whole file: the chance that any report of it is false */
    double sync_z;        /**< strongest synchronisation score in its ranges */
    double speed;         /**< estimated frequency scale where it is strongest */
    double tempo;         /**< estimated time scale where it is strongest */
    int n_segments;
    pm_segment segments[PM_MAX_SEGMENTS]; /**< in time order; score: agreement with its payload */
} pm_mark;

/**
 * Create a blind detector for audio at `sample_rate` with `channels` channels,
 * trying each of the `n_keys` keys (1..PM_MAX_KEYS). Memory stays bounded by a small
 * per-window record however much audio is pushed.
 */
PM_API PM_WARN_UNUSED pm_status pm_detector_new(pm_detector **out, double sample_rate, int channels,
                           const pm_key *keys, int n_keys);
PM_API void pm_detector_free(pm_detector *d);
/**
 * Feed interleaved float audio; may be called any number of times. After an error
 * (PM_ERR_NOMEM) the stream cannot go on: later pushes and pm_detector_finish()
 * return PM_ERR_STATE until pm_detector_reset().
 */
PM_API PM_WARN_UNUSED pm_status pm_detector_push_interleaved(pm_detector *d, const float *in, size_t frames);
/**
 * Finish the stream and decode. The detector can then only be freed or reset. On an
 * error (PM_ERR_NOMEM, or PM_ERR_STATE after a failed push or a second finish) no mark
 * is reported: the result is cleared and the mark getters return PM_ERR_STATE, never
 * the part of the answer found before the error.
 */
PM_API PM_WARN_UNUSED pm_status pm_detector_finish(pm_detector *d, pm_result *result);
/**
 * After pm_detector_finish(): the number of marks found (0..PM_MAX_MARKS),
 * strongest first; mark 0 is the one pm_result describes. PM_ERR_STATE before, and
 * after a pm_detector_finish() that failed.
 */
PM_API PM_WARN_UNUSED int pm_detector_mark_count(const pm_detector *d);
/** After pm_detector_finish(): copy mark `index` (0 .. count-1) into `*mark`. */
PM_API PM_WARN_UNUSED pm_status pm_detector_mark(const pm_detector *d, int index, pm_mark *mark);
/**
 * Before pm_detector_finish(): expect marks of (model_id, dataset_id) made with key
 * `key_index`, e.g. every pair a registry lists. A mark too weak to be decoded
 * blind (a clip of a few seconds, heavy noise, a low-bitrate codec) is then still
 * recognised when the audio agrees with that pair's codeword beyond chance; marks of
 * other IDs are decoded blind as before. The file's p_false covers these tests (at
 * most 3.4e-11 per analysis pipeline, however many pairs) and stays <= 1e-9.
 * Adding a pair twice changes nothing. PM_ERR_ID for an ID above PM_ID_MAX,
 * PM_ERR_ARG for a bad key index or beyond PM_MAX_EXPECTED pairs, PM_ERR_STATE after
 * finishing. The pairs stay across pm_detector_reset().
 */
PM_API PM_WARN_UNUSED pm_status pm_detector_expect(pm_detector *d, int key_index, uint32_t model_id,
                                                   uint32_t dataset_id);
/**
 * After pm_detector_finish(): 1 if mark `index` was recognised as an expected pair
 * (pm_detector_expect()) and could not be decoded blind, 0 if it was decoded;
 * PM_ERR_STATE before finishing, PM_ERR_ARG for a bad index.
 */
PM_API PM_WARN_UNUSED int pm_detector_mark_recognised(const pm_detector *d, int index);
/**
 * After pm_detector_finish(): the format versions (docs/FORMAT.md) mark `index` was
 * read in, as a bit mask, bit v - 1 for version v: 1 for version 1, 2 for version 2,
 * 3 when one key wrote the same IDs in both (its ranges cover both). PM_ERR_STATE
 * before finishing, PM_ERR_ARG for a bad index.
 */
PM_API PM_WARN_UNUSED int pm_detector_mark_formats(const pm_detector *d, int index);
/** Start over for a new stream with the same parameters. */
PM_API void pm_detector_reset(pm_detector *d);

#ifdef __cplusplus
}
#endif
#endif
