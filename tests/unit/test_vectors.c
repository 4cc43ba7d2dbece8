/*
 * Known-answer vectors of the provmark formats, versions 1 and 2 (docs/FORMAT.md,
 * "Test vectors"): for fixed keys, IDs and input, the coded bits of the payload, a hash
 * of the keyed layout and a hash of a short marked output, compared with
 * tests/vectors/vectors.txt (version 2's names end in _v2). Any change to a format (a
 * constant of dsp/format.h, the band plan, the code, the key derivation, the embedder)
 * makes them fail until the vectors are regenerated on purpose: `make vectors`
 * (PM_VECTORS_WRITE=1) rewrites the file. A change to a published version's answers is
 * a new version, not an edit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include <sodium.h>

#include "fec.h"
#include "key.h"
#include "layout.h"
#include "payload.h"
#include "provmark.h"
#include "synth.h"

#define VECTORS "tests/vectors/vectors.txt"
#define MAX_VECTORS 32

typedef struct vec {
    char name[64];
    char value[512];
} vec;

static vec computed[MAX_VECTORS];
static int n_computed;

static void put(const char *name, const char *value)
{
    assert_true(n_computed < MAX_VECTORS);
    snprintf(computed[n_computed].name, sizeof computed[0].name, "%s", name);
    snprintf(computed[n_computed].value, sizeof computed[0].value, "%s", value);
    n_computed++;
}

/* BLAKE2b-256 of bytes, as hex. */
static void hash_hex(const void *p, size_t n, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, p, n, NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* The two keys of the vectors: the public demo key, and bytes 0, 1, ..., 31. */
static void vector_key(int which, pm_key *key)
{
    if (which == 0) {
        pm_key_demo(key);
        return;
    }
    for (int i = 0; i < 32; i++)
        key->bytes[i] = (uint8_t)i;
}

static const uint32_t ids[][2] = {{0, 0}, {7, 42}, {PM_ID_MAX, 1}};

/* Version 1's names carry no suffix (they predate version 2). */
static const char *suffix(int version) { return version == 1 ? "" : "_v2"; }

static void coded_bits(int version)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            pm_key key;
            vector_key(k, &key);
            uint8_t mac[32], info[PMF_PAYLOAD_BITS], coded[PMF_CODED_BITS];
            assert_int_equal(pm_key_derive_mac(&key, mac), 0);
            assert_int_equal(pm_payload_pack(mac, version, ids[i][0], ids[i][1], info), 0);
            pm_fec_encode(info, coded);
            char bits[PMF_CODED_BITS + 1], name[64];
            for (int b = 0; b < PMF_CODED_BITS; b++)
                bits[b] = (char)('0' + coded[b]);
            bits[PMF_CODED_BITS] = '\0';
            snprintf(name, sizeof name, "coded_bits%s.key%d.%u.%u", suffix(version), k, ids[i][0], ids[i][1]);
            put(name, bits);
        }
}

/* The layout as bytes: every field, in a fixed order, little-endian. */
static void layout_hash(int version)
{
    for (int k = 0; k < 2; k++) {
        pm_key key;
        vector_key(k, &key);
        static pm_layout L;
        assert_int_equal(pm_layout_make(&L, &key, version), 0);
        static uint8_t buf[4 * (2 + 2 * PMF_MAX_UNITS) + 5 * PMF_MAX_UNITS * PMF_MAX_BANDS];
        size_t n = 0;
#define PUT32(v) for (int s = 0; s < 32; s += 8) buf[n++] = (uint8_t)((uint32_t)(v) >> s)
        PUT32(L.n_bands);
        for (int u = 0; u <= L.units; u++)
            PUT32(L.slot_start[u]);
        for (int u = 0; u < L.units; u++)
            PUT32(L.slot_nsync[u]);
        for (int t = 0; t < L.slot_start[L.units]; t++) {
            buf[n++] = (uint8_t)L.tiles[t].band, buf[n++] = (uint8_t)(L.tiles[t].band >> 8);
            buf[n++] = (uint8_t)L.tiles[t].bit, buf[n++] = (uint8_t)(L.tiles[t].bit >> 8);
            buf[n++] = (uint8_t)L.tiles[t].chip;
        }
#undef PUT32
        char hex[65], name[64];
        hash_hex(buf, n, hex);
        snprintf(name, sizeof name, "layout_blake2b%s.key%d", suffix(version), k);
        put(name, hex);
    }
}

/*
 * 4 s of the synth.h signal at 44.1 kHz stereo, marked (key 1, IDs 7/42, default
 * strength), output aligned with the input, as 16-bit PCM (what a WAV would hold):
 * its hash, and the mark level.
 */
static void marked_output(int version)
{
    const size_t frames = 4 * 44100, ch = 2;
    float *x = malloc(sizeof(float) * frames * ch), *y = malloc(sizeof(float) * (frames + 44100) * ch);
    int16_t *pcm = malloc(sizeof(int16_t) * frames * ch);
    assert_true(x && y && pcm);
    synth_music(x, frames, (int)ch, 44100.0, 0);
    pm_key key;
    vector_key(1, &key);
    pm_embedder *e;
    assert_int_equal(pm_embedder_new(&e, 44100.0, (int)ch, &key, 7, 42, PM_STRENGTH_DEFAULT), PM_OK);
    assert_int_equal(pm_embedder_set_format(e, version), PM_OK);
    const size_t lat = pm_embedder_latency(e);
    assert_true(lat <= 44100);
    assert_int_equal(pm_embedder_process_interleaved(e, x, y, frames), PM_OK);
    const double level = pm_embedder_mark_level_db(e);
    assert_int_equal(pm_embedder_flush_interleaved(e, y + frames * ch), PM_OK);
    pm_embedder_free(e);
    for (size_t i = 0; i < frames * ch; i++) {
        const double v = round(y[lat * ch + i] * 32767.0);
        pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    char hex[65], lv[32];
    uint8_t le[2];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    for (size_t i = 0; i < frames * ch; i++) {
        le[0] = (uint8_t)pcm[i], le[1] = (uint8_t)((uint16_t)pcm[i] >> 8);
        crypto_generichash_update(&st, le, 2);
    }
    unsigned char h[32];
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    char name[64];
    snprintf(name, sizeof name, "marked_pcm16_blake2b%s.key1.7.42", suffix(version));
    put(name, hex);
    snprintf(lv, sizeof lv, "%.1f", level);
    snprintf(name, sizeof name, "mark_level_db%s.key1.7.42", suffix(version));
    put(name, lv);
    free(x);
    free(y);
    free(pcm);
}

static void vectors(void **state)
{
    assert_true(sodium_init() >= 0);
    for (int v = 1; v <= PMF_VERSIONS; v++) {
        coded_bits(v);
        layout_hash(v);
        marked_output(v);
    }
    const char *path = getenv("PM_VECTORS") ? getenv("PM_VECTORS") : VECTORS;
    if (getenv("PM_VECTORS_WRITE")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "# provmark known-answer vectors, format versions 1 and 2 (tests/unit/test_vectors.c; regenerate: make vectors)\n");
        for (int i = 0; i < n_computed; i++)
            fprintf(f, "%s %s\n", computed[i].name, computed[i].value);
        assert_int_equal(fclose(f), 0);
        return;
    }
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int seen = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], value[512];
        if (line[0] == '#' || sscanf(line, "%63s %511s", name, value) != 2)
            continue;
        int found = 0;
        for (int i = 0; i < n_computed; i++)
            if (strcmp(computed[i].name, name) == 0) {
                found = 1;
                if (strcmp(computed[i].value, value) != 0) {
                    print_error("%s: expected %s, computed %s\n", name, value, computed[i].value);
                    bad++;
                }
            }
        if (!found) {
            print_error("%s: no longer computed\n", name);
            bad++;
        }
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, n_computed);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(vectors)};
    return cmocka_run_group_tests_name("vectors", tests, NULL, NULL);
}
