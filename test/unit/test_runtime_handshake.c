/* test_runtime_handshake.c: the go-plugin launch rules the runtime must follow
 * (vault-plugin-protocol.md §1, §2.1): magic cookie, version negotiation, BAO_* before
 * VAULT_*, the handshake line, unpadded base64, and the AutoMTLS certificate profile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/runtime/rt.h"

static void test_cookie(void **state)
{
    static const struct { const char *value; bool want; } cases[] = {
        { NULL, false },
        { "", false },
        { "926a0820-aea2-be28-51d6-83cdf00e8edb", false },   /* the database cookie */
        { "6669da05-b1c8-4f49-97d9-c8e5bed98e20x", false },
        { "6669da05-b1c8-4f49-97d9-c8e5bed98e20", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (handshake_cookie_ok(cases[i].value) != cases[i].want)
            fail_msg("cookie case %zu (%s)", i, cases[i].value ? cases[i].value : "NULL");
    }
}

static void test_version(void **state)
{
    static const struct { const char *offered; bool ok; } cases[] = {
        { "5", true }, { "4,5", true }, { "5,4,3", true }, { "3, 5", true },
        { "3,4", false }, { "4,3", false }, { "15", false }, { "", false }, { NULL, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct err e = { 0 };
        int v = 0;
        int rc = handshake_pick_version(cases[i].offered, &v, &e);
        if ((rc == 0) != cases[i].ok)
            fail_msg("version case \"%s\": rc %d", cases[i].offered ? cases[i].offered : "NULL",
                     rc);
        if (rc == 0) {
            assert_int_equal(v, 5);
        } else {
            /* The operator must learn which hosts work. */
            assert_non_null(strstr(e.msg, "Vault >= 1.12"));
            assert_non_null(strstr(e.msg, "OpenBao 2.x"));
        }
    }
}

static void test_env_bao_first(void **state)
{
    unsetenv("BAO_RTTEST");
    unsetenv("VAULT_RTTEST");
    assert_null(rt_env("RTTEST"));
    setenv("VAULT_RTTEST", "vault", 1);
    assert_string_equal(rt_env("RTTEST"), "vault");
    setenv("BAO_RTTEST", "bao", 1);
    assert_string_equal(rt_env("RTTEST"), "bao");
    setenv("BAO_RTTEST", "", 1);   /* present but empty still wins, as api.ReadBaoVariable */
    assert_string_equal(rt_env("RTTEST"), "");
    unsetenv("BAO_RTTEST");
    unsetenv("VAULT_RTTEST");
}

static void test_line(void **state)
{
    char buf[128];
    assert_int_equal(handshake_format_line(buf, sizeof buf, 5, "/tmp/vplugin-abc/plugin.sock",
                                           "MIIBxTCCAW"), 0);
    assert_string_equal(buf, "1|5|unix|/tmp/vplugin-abc/plugin.sock|grpc|MIIBxTCCAW\n");
    char small[16];
    assert_int_equal(handshake_format_line(small, sizeof small, 5, "/tmp/x", "AAAA"), -1);
}

static void test_base64_vectors(void **state)
{
    static const struct { const char *in, *want; } cases[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xff\xfe", "//4" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = tls_base64_raw((const unsigned char *)cases[i].in, strlen(cases[i].in));
        assert_non_null(got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("base64 \"%s\": got %s want %s", cases[i].in, got, cases[i].want);
        free(got);
    }
}

/* Decodes unpadded base64 by restoring the padding OpenSSL needs. */
static unsigned char *b64_decode_raw(const char *s, int *len)
{
    size_t n = strlen(s);
    char *padded = calloc(n + 4, 1);
    memcpy(padded, s, n);
    while (n % 4)
        padded[n++] = '=';
    unsigned char *out = malloc(n);
    int got = EVP_DecodeBlock(out, (unsigned char *)padded, (int)n);
    int pad = 0;
    for (size_t i = n; i > 0 && padded[i - 1] == '='; i--)
        pad++;
    free(padded);
    *len = got - pad;
    return out;
}

static void check_cert_profile(X509 *x)
{
    assert_int_equal(X509_get_version(x), 2);   /* v3 */
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(san);
    assert_int_equal(sk_GENERAL_NAME_num(san), 1);
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, 0);
    assert_int_equal(gn->type, GEN_DNS);
    assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.dNSName), "localhost");
    GENERAL_NAMES_free(san);
    uint32_t xku = X509_get_extended_key_usage(x);
    assert_true(xku & XKU_SSL_SERVER);
    assert_true(xku & XKU_SSL_CLIENT);
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char group[64];
    size_t glen;
    assert_true(EVP_PKEY_get_group_name(pk, group, sizeof group, &glen));
    assert_string_equal(group, "prime256v1");
}

/* Several certificates: the DER length mod 3 varies with the ECDSA signature length, so a
 * single sample could miss a padding bug (feasibility pitfall 1). */
static void test_ident_certs(void **state)
{
    for (int i = 0; i < 12; i++) {
        struct tls_ident id;
        struct err e = { 0 };
        assert_int_equal(tls_ident_generate(&id, &e), 0);
        assert_null(strchr(id.cert_b64, '='));
        assert_null(strchr(id.cert_b64, '\n'));
        assert_true(strlen(id.cert_b64) > 50);   /* the host ignores shorter field 6 values */
        BIO *bio = BIO_new_mem_buf(id.cert_pem, -1);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
        unsigned char *der = NULL;
        int der_len = i2d_X509(x, &der);
        int dec_len;
        unsigned char *dec = b64_decode_raw(id.cert_b64, &dec_len);
        assert_int_equal(dec_len, der_len);
        assert_memory_equal(dec, der, (size_t)der_len);
        check_cert_profile(x);
        assert_non_null(strstr(id.key_pem, "BEGIN PRIVATE KEY"));
        free(dec);
        OPENSSL_free(der);
        X509_free(x);
        BIO_free(bio);
        tls_ident_clear(&id);
    }
}

static void test_sockdir(void **state)
{
    struct sockdir sd;
    struct err e = { 0 };
    char base[] = "/tmp/rttest-XXXXXX";
    assert_non_null(mkdtemp(base));
    setenv("PLUGIN_UNIX_SOCKET_DIR", base, 1);
    assert_int_equal(sockdir_create(&sd, &e), 0);
    unsetenv("PLUGIN_UNIX_SOCKET_DIR");
    assert_int_equal(strncmp(sd.path, base, strlen(base)), 0);
    struct stat st;
    assert_int_equal(stat(sd.dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char dir[sizeof sd.dir];
    memcpy(dir, sd.dir, sizeof dir);
    sockdir_remove(&sd);
    assert_int_not_equal(stat(dir, &st), 0);
    assert_int_equal(rmdir(base), 0);   /* empty again: the private dir is gone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_env_bao_first),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_ident_certs),
        cmocka_unit_test(test_sockdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
