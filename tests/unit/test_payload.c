/* Payload packing, the keyed integrity tag, key files and key derivation. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "key.h"
#include "payload.h"
#include "provmark.h"

static void mac_of(const pm_key *k, uint8_t mac[32]) { assert_int_equal(pm_key_derive_mac(k, mac), PM_OK); }

static void round_trip_and_range(void **state)
{
    pm_key k;
    uint8_t mac[32], bits[PMF_PAYLOAD_BITS];
    pm_key_demo(&k);
    mac_of(&k, mac);
    const uint32_t ids[][2] = {{0, 0}, {7, 42}, {PM_ID_MAX, PM_ID_MAX}, {123456, 654321}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint32_t m = 1, d = 1;
        assert_int_equal(pm_payload_pack(mac, 1, ids[i][0], ids[i][1], bits), 0);
        assert_int_equal(pm_payload_unpack(mac, 1, bits, &m, &d), 1);
        assert_int_equal(m, ids[i][0]);
        assert_int_equal(d, ids[i][1]);
    }
    assert_int_equal(pm_payload_pack(mac, 1, PM_ID_MAX + 1, 0, bits), -1);
    assert_int_equal(pm_payload_pack(mac, 0, 7, 42, bits), -1);
    assert_int_equal(pm_payload_pack(mac, PMF_VERSIONS + 1, 7, 42, bits), -1);
}

/* A payload read in the other version's geometry is rejected, whatever its tag: the
 * version field names the geometry that carried it, and the tag covers the field. */
static void versions_are_told_apart(void **state)
{
    pm_key k;
    uint8_t mac[32], bits[PMF_PAYLOAD_BITS];
    pm_key_demo(&k);
    mac_of(&k, mac);
    for (int v = 1; v <= PMF_VERSIONS; v++) {
        uint32_t m = 0, d = 0;
        assert_int_equal(pm_payload_pack(mac, v, 7, 42, bits), 0);
        assert_int_equal(pm_payload_unpack(mac, v, bits, &m, &d), 1);
        assert_int_equal(m, 7);
        assert_int_equal(d, 42);
        for (int w = 0; w <= 15; w++)
            if (w != v)
                assert_int_equal(pm_payload_unpack(mac, w, bits, &m, &d), 0);
        /* The other version's field with this version's tag: the tag no longer checks. */
        bits[2] ^= 1, bits[3] ^= 1; /* 1 <-> 2 */
        assert_int_equal(pm_payload_unpack(mac, 3 - v, bits, &m, &d), 0);
    }
}

static void every_single_bit_flip_is_rejected(void **state)
{
    pm_key k;
    uint8_t mac[32], bits[PMF_PAYLOAD_BITS];
    pm_key_demo(&k);
    mac_of(&k, mac);
    pm_payload_pack(mac, 1, 7, 42, bits);
    for (int i = 0; i < PMF_PAYLOAD_BITS; i++) {
        uint32_t m, d;
        bits[i] ^= 1;
        assert_int_equal(pm_payload_unpack(mac, 1, bits, &m, &d), 0);
        bits[i] ^= 1;
    }
}

static void random_payloads_pass_at_chance_rate(void **state)
{
    /* 2^20 random words: expected passes 2^20 / 2^36 ~ 1.5e-5, so any pass is a defect. */
    pm_key k;
    uint8_t mac[32], bits[PMF_PAYLOAD_BITS];
    pm_key_demo(&k);
    mac_of(&k, mac);
    unsigned seed = 3;
    int passes = 0;
    for (int t = 0; t < (1 << 20); t++) {
        for (int i = 0; i < PMF_PAYLOAD_BITS; i++)
            bits[i] = (uint8_t)(rand_r(&seed) & 1);
        bits[0] = 0, bits[1] = 0, bits[2] = 0, bits[3] = 1; /* right version: only the tag guards */
        uint32_t m, d;
        passes += pm_payload_unpack(mac, 1, bits, &m, &d);
    }
    assert_int_equal(passes, 0);
}

static void tag_depends_on_key(void **state)
{
    pm_key a, b;
    uint8_t ma[32], mb[32], bits[PMF_PAYLOAD_BITS];
    pm_key_demo(&a);
    assert_int_equal(pm_key_generate(&b), PM_OK);
    mac_of(&a, ma);
    mac_of(&b, mb);
    assert_memory_not_equal(ma, mb, 32);
    pm_payload_pack(ma, 1, 7, 42, bits);
    uint32_t m, d;
    assert_int_equal(pm_payload_unpack(mb, 1, bits, &m, &d), 0);
    uint8_t l1[32], l2[32];
    assert_int_equal(pm_key_derive_layout(&a, l1), PM_OK);
    assert_int_equal(pm_key_derive_layout(&a, l2), PM_OK);
    assert_memory_equal(l1, l2, 32);
    assert_memory_not_equal(l1, ma, 32);
}

static void key_files(void **state)
{
    char dir[] = "/tmp/pmkeyXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/k", dir);
    pm_key k, back;
    assert_int_equal(pm_key_generate(&k), PM_OK);
    assert_int_equal(pm_key_save(&k, path), PM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(pm_key_save(&k, path), PM_ERR_EXISTS);
    assert_int_equal(pm_key_load(&back, path), PM_OK);
    assert_memory_equal(k.bytes, back.bytes, 32);
    assert_false(pm_key_is_demo(&k));
    char fp1[17], fp2[17];
    pm_key_fingerprint(&k, fp1);
    pm_key_fingerprint(&back, fp2);
    assert_string_equal(fp1, fp2);
    assert_int_equal(strlen(fp1), 16);

    /* Malformed files: truncated, bad hex, trailing junk, empty, missing. */
    const char *bad[] = {"provmark-key 1\n0123\n", "provmark-key 1\n" "zz", "",
                         "provmark-key 2\n0000000000000000000000000000000000000000000000000000000000000000\n",
                         "provmark-key 1\n0000000000000000000000000000000000000000000000000000000000000000\nextra\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char p[80];
        snprintf(p, sizeof p, "%s/bad%zu", dir, i);
        FILE *f = fopen(p, "w");
        fputs(bad[i], f);
        fclose(f);
        assert_int_equal(pm_key_load(&back, p), PM_ERR_KEY);
        unlink(p);
    }
    assert_int_equal(pm_key_load(&back, "/nonexistent/key"), PM_ERR_KEY);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_range),
        cmocka_unit_test(versions_are_told_apart),
        cmocka_unit_test(every_single_bit_flip_is_rejected),
        cmocka_unit_test(random_payloads_pass_at_chance_rate),
        cmocka_unit_test(tag_depends_on_key),
        cmocka_unit_test(key_files),
    };
    return cmocka_run_group_tests_name("payload", tests, NULL, NULL);
}
