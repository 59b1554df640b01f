/* test_crypto_cert.c: serials, chain splitting, DER <-> PEM, certificate facts, key match. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "crypto_fixtures.h"

enum { T0 = 1767225600 };   /* 2026-01-01T00:00:00Z */

/* ---- serials ------------------------------------------------------------------------ */

static const struct { const char *name; const char *bytes; size_t len; const char *want; }
format_cases[] = {
    { "one byte",        "\x2a",         1, "2a" },
    { "leading nibble",  "\x03\xe7\x1f", 3, "03:e7:1f" },
    { "high bit",        "\x8f\x00\x01", 3, "8f:00:01" },
    { "zero",            "",             0, "00" },
    { "twenty bytes",    "\x39\xdd\x2e\x90\xb7\x23\x1f\x8d\xd3\x7d\x31\xc5\x1b\xda\x84\xd0"
                         "\x5b\x65\x31\x58", 20,
      "39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58" },
};

static void test_serial_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
        char *s = crypto_serial_format((const unsigned char *)format_cases[i].bytes,
                                       format_cases[i].len);
        if (!s || strcmp(s, format_cases[i].want))
            fail_msg("%s: %s", format_cases[i].name, s ? s : "(null)");
        free(s);
    }
}

static const struct { const char *name, *in, *want; } normalize_cases[] = {
    { "colon upper",      "03:E7:1F",  "03:e7:1f" },
    { "hyphen",           "03-e7-1f",  "03:e7:1f" },
    { "plain",            "03e71f",    "03:e7:1f" },
    { "plain odd",        "3e71f",     "03:e7:1f" },
    { "short group",      "3:e7:1f",   "03:e7:1f" },
    { "der sign byte",    "00:8f:01",  "8f:01" },
    { "zero",             "00",        "00" },
    { "vault sample", "39-dd-2e-90-b7-23-1f-8d-d3-7d-31-c5-1b-da-84-d0-5b-65-31-58",
      "39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58" },
    { "empty",            "",          NULL },
    { "not hex",          "xyz",       NULL },
    { "g",                "0g",        NULL },
    { "trailing colon",   "03:e7:",    NULL },
    { "double colon",     "03::e7",    NULL },
    { "leading colon",    ":03",       NULL },
    { "mixed separators", "03:e7-1f",  NULL },
    { "group of three",   "03e:71",    NULL },
    { "space",            "03 e7",     NULL },
    { "too long",
      "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
      "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20aa", NULL },
};

static void test_serial_normalize(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof normalize_cases / sizeof normalize_cases[0]; i++) {
        char *out = NULL;
        struct err e = { 0 };
        int rc = crypto_serial_normalize(normalize_cases[i].in, &out, &e);
        if (normalize_cases[i].want) {
            if (rc < 0 || strcmp(out, normalize_cases[i].want))
                fail_msg("%s: rc %d out %s (%s)", normalize_cases[i].name, rc,
                         out ? out : "(null)", e.msg);
        } else if (rc != -1 || out || e.kind != ERR_INVALID ||
                   strncmp(e.msg, "serial: ", 8)) {
            fail_msg("%s: accepted (%s)", normalize_cases[i].name, out ? out : e.msg);
        }
        free(out);
    }
}

/* ---- certificates ------------------------------------------------------------------- */

/* Writes pem to a temporary file and runs `openssl x509 -noout <args>` on it. */
static char *openssl_x509(const char *pem, const char *args)
{
    char path[] = "/tmp/test_crypto_cert_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "x509 -noout %s -in %s", args, path);
    char *out = fixture_openssl(cmd);
    unlink(path);
    return out;
}

/* "serial=8F0001" -> "8f:00:01", the way Vault writes it. */
static void openssl_serial_to_vault(const char *in, char *out, size_t cap)
{
    const char *hex = strchr(in, '=') ? strchr(in, '=') + 1 : in;
    size_t j = 0;
    for (size_t i = 0; hex[i] && j + 4 < cap; i += 2) {
        if (i)
            out[j++] = ':';
        out[j++] = (char)tolower((unsigned char)hex[i]);
        out[j++] = (char)tolower((unsigned char)hex[i + 1]);
    }
    out[j] = '\0';
}

static void test_cert_serial_matches_openssl(void **state)
{
    (void)state;
    const struct { const char *name, *bytes; size_t len; const char *want; } cases[] = {
        { "high bit (der sign byte)", "\x8f\x00\x01\x02", 4, "8f:00:01:02" },
        { "leading zero nibble",      "\x03\xe7\x1f\x00", 4, "03:e7:1f:00" },
        { "leading zero byte",        "\x00\x7a\x10",     3, "7a:10" },
        { "twenty bytes",             "\x39\xdd\x2e\x90\xb7\x23\x1f\x8d\xd3\x7d\x31\xc5\x1b"
                                      "\xda\x84\xd0\x5b\x65\x31\x58", 20,
          "39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *pem = fixture_self_signed(fixture_key(CRYPTO_KEY_EC256), "s.example.com", NULL,
                                        NULL, (const unsigned char *)cases[i].bytes,
                                        cases[i].len, T0, 30);
        assert_non_null(pem);
        struct crypto_cert_info ci;
        struct err e = { 0 };
        if (crypto_cert_parse(pem, &ci, &e) < 0)
            fail_msg("%s: %s", cases[i].name, e.msg);
        char *ossl = openssl_x509(pem, "-serial");
        char want[128];
        openssl_serial_to_vault(ossl, want, sizeof want);
        if (strcmp(ci.serial, cases[i].want) || strcmp(ci.serial, want))
            fail_msg("%s: got %s, openssl %s", cases[i].name, ci.serial, ossl);
        free(ossl);
        crypto_cert_info_clear(&ci);
        free(pem);
    }
}

/* "X509v3 Subject Key Identifier: \n    AB:CD:..." -> "ab:cd:..." */
static void openssl_key_id(const char *in, char *out, size_t cap)
{
    const char *p = strrchr(in, '\n');
    p = p ? p + 1 : in;
    while (*p == ' ')
        p++;
    if (strncmp(p, "keyid:", 6) == 0)
        p += 6;
    size_t j = 0;
    for (; *p && !isspace((unsigned char)*p) && j + 1 < cap; p++)
        out[j++] = (char)tolower((unsigned char)*p);
    out[j] = '\0';
}

static void test_cert_parse(void **state)
{
    (void)state;
    const enum crypto_key_type types[] = { CRYPTO_KEY_EC256, CRYPTO_KEY_RSA2048 };
    const char *dns[] = { "leaf.example.com", "*.Example.com", NULL };
    const char *ips[] = { "192.0.2.10", "2001:db8::10", NULL };
    for (size_t t = 0; t < 2; t++) {
        const char *tname = crypto_key_type_name(types[t]);
        char *pem = fixture_self_signed(fixture_key(types[t]), "leaf.example.com", dns, ips,
                                        (const unsigned char *)"\x01\x02", 2, T0, 90);
        assert_non_null(pem);
        struct crypto_cert_info ci;
        struct err e = { 0 };
        if (crypto_cert_parse(pem, &ci, &e) < 0)
            fail_msg("%s: %s", tname, e.msg);
        assert_string_equal(ci.serial, "01:02");
        assert_int_equal(ci.not_before, T0);
        assert_int_equal(ci.not_after, T0 + 90 * 86400);
        if (!fixture_strv_is(ci.dns_names, "leaf.example.com|*.example.com") ||
            !fixture_strv_is(ci.ip_addrs, "192.0.2.10|2001:db8::10"))
            fail_msg("%s: sans", tname);

        char *subj = openssl_x509(pem, "-subject -nameopt RFC2253");
        char *iss = openssl_x509(pem, "-issuer -nameopt RFC2253");
        assert_string_equal(ci.subject, "O=Fixture Org,CN=leaf.example.com");
        assert_string_equal(subj + strlen("subject="), ci.subject);
        assert_string_equal(iss + strlen("issuer="), ci.issuer);

        char *ski_txt = openssl_x509(pem, "-ext subjectKeyIdentifier");
        char *aki_txt = openssl_x509(pem, "-ext authorityKeyIdentifier");
        char ski[128], aki[128];
        openssl_key_id(ski_txt, ski, sizeof ski);
        openssl_key_id(aki_txt, aki, sizeof aki);
        assert_non_null(ci.subject_key_id);
        assert_non_null(ci.authority_key_id);
        assert_string_equal(ci.subject_key_id, ski);
        assert_string_equal(ci.authority_key_id, aki);
        assert_int_equal(strlen(ci.subject_key_id), 59);   /* 20 bytes as colon hex */

        free(subj);
        free(iss);
        free(ski_txt);
        free(aki_txt);
        crypto_cert_info_clear(&ci);
        crypto_cert_info_clear(&ci);   /* twice is harmless */
        free(pem);
    }
}

static void test_cert_without_sans(void **state)
{
    (void)state;
    char *pem = fixture_self_signed(fixture_key(CRYPTO_KEY_EC256), NULL, NULL, NULL,
                                    (const unsigned char *)"\x05", 1, T0, 1);
    struct crypto_cert_info ci;
    struct err e = { 0 };
    assert_int_equal(crypto_cert_parse(pem, &ci, &e), 0);
    assert_non_null(ci.dns_names);
    assert_null(ci.dns_names[0]);
    assert_non_null(ci.ip_addrs);
    assert_null(ci.ip_addrs[0]);
    assert_string_equal(ci.subject, "O=Fixture Org");
    crypto_cert_info_clear(&ci);
    free(pem);
}

static void test_cert_matches_key(void **state)
{
    (void)state;
    struct crypto_key *other = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &other, &e), 0);
    const struct { const char *name; enum crypto_key_type cert_key; const struct crypto_key *k;
                   bool want; } cases[] = {
        { "same ec key",      CRYPTO_KEY_EC256,   fixture_key(CRYPTO_KEY_EC256),   true  },
        { "same rsa key",     CRYPTO_KEY_RSA2048, fixture_key(CRYPTO_KEY_RSA2048), true  },
        { "other ec key",     CRYPTO_KEY_EC256,   other,                           false },
        { "other curve",      CRYPTO_KEY_EC256,   fixture_key(CRYPTO_KEY_EC384),   false },
        { "rsa cert, ec key", CRYPTO_KEY_RSA2048, fixture_key(CRYPTO_KEY_EC256),   false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *pem = fixture_self_signed(fixture_key(cases[i].cert_key), "m.example.com", NULL,
                                        NULL, (const unsigned char *)"\x01", 1, T0, 1);
        if (crypto_cert_matches_key(pem, cases[i].k) != cases[i].want)
            fail_msg("%s", cases[i].name);
        free(pem);
    }
    assert_false(crypto_cert_matches_key("garbage", other));
    assert_false(crypto_cert_matches_key("", other));
    crypto_key_free(other);
}

/* ---- bundles and encodings ---------------------------------------------------------- */

static void test_pem_split(void **state)
{
    (void)state;
    char *c[3];
    for (int i = 0; i < 3; i++) {
        char cn[32];
        unsigned char serial = (unsigned char)(i + 1);
        snprintf(cn, sizeof cn, "c%d.example.com", i);
        c[i] = fixture_self_signed(fixture_key(CRYPTO_KEY_EC256), cn, NULL, NULL, &serial, 1,
                                   T0, 1);
        assert_non_null(c[i]);
    }
    char *chain = NULL, *trailing = NULL, *no_final_newline = NULL, *broken = NULL, *crlf;
    assert_true(asprintf(&chain, "%s%s%s", c[0], c[1], c[2]) > 0);
    assert_true(asprintf(&trailing, "leading words\n%s\n%s%s\ntrailing text, no PEM\n", c[0],
                         c[1], c[2]) > 0);
    no_final_newline = strndup(chain, strlen(chain) - 1);
    /* The middle certificate cut in half. */
    assert_true(asprintf(&broken, "%s%.*s\n-----END CERTIFICATE-----\n%s", c[0],
                         (int)strlen(c[1]) / 2, c[1], c[2]) > 0);
    crlf = calloc(1, 2 * strlen(chain) + 1);
    for (size_t i = 0, j = 0; chain[i]; i++) {
        if (chain[i] == '\n')
            crlf[j++] = '\r';
        crlf[j++] = chain[i];
    }
    const struct { const char *name, *in; int rc; } cases[] = {
        { "three",            chain,            0  },
        { "trailing text",    trailing,         0  },
        { "no final newline", no_final_newline, 0  },
        { "crlf",             crlf,             0  },
        { "broken middle",    broken,           -1 },
        { "no certs",         "just some text\n", -1 },
        { "empty",            "",               -1 },
        { "key only", "-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE KEY-----\n", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char **v = NULL;
        struct err e = { 0 };
        int rc = crypto_pem_split(cases[i].in, &v, &e);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d (%s)", cases[i].name, rc, e.msg);
        if (rc < 0) {
            if (v || e.kind != ERR_INVALID || strncmp(e.msg, "certificate chain: ", 19))
                fail_msg("%s: kind %d msg %s", cases[i].name, e.kind, e.msg);
            struct crypto_cert_info leaf;
            if (crypto_chain_parse(cases[i].in, &v, &leaf, &e) != -1 || v || leaf.serial)
                fail_msg("%s: chain parse accepted it or left the leaf set", cases[i].name);
            continue;
        }
        for (int j = 0; j < 3; j++)
            if (!v[j] || strcmp(v[j], c[j]))
                fail_msg("%s: cert %d differs", cases[i].name, j);
        if (v[3])
            fail_msg("%s: more than 3", cases[i].name);
        /* The chain parse: the same split, and the leaf's fields as crypto_cert_parse reads
         * them from the first certificate alone. */
        char **w = NULL;
        struct crypto_cert_info leaf, alone;
        if (crypto_chain_parse(cases[i].in, &w, &leaf, &e) < 0 ||
            crypto_cert_parse(v[0], &alone, &e) < 0)
            fail_msg("%s: chain parse %s", cases[i].name, e.msg);
        for (int j = 0; j < 4; j++)
            if ((!w[j] != !v[j]) || (w[j] && strcmp(w[j], v[j])))
                fail_msg("%s: chain parse cert %d differs", cases[i].name, j);
        if (strcmp(leaf.serial, alone.serial) || leaf.not_after != alone.not_after ||
            leaf.not_before != alone.not_before || strcmp(leaf.subject, alone.subject))
            fail_msg("%s: chain parse leaf differs", cases[i].name);
        crypto_cert_info_clear(&leaf);
        crypto_cert_info_clear(&alone);
        crypto_strv_free(w);
        crypto_strv_free(v);
    }
    crypto_strv_free(NULL);
    for (int i = 0; i < 3; i++)
        free(c[i]);
    free(chain);
    free(trailing);
    free(no_final_newline);
    free(broken);
    free(crlf);
}

static void test_der_pem(void **state)
{
    (void)state;
    char *pem = fixture_self_signed(fixture_key(CRYPTO_KEY_EC256), "d.example.com", NULL, NULL,
                                    (const unsigned char *)"\x09", 1, T0, 1);
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *back = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_cert_pem_to_der(pem, &der, &der_len, &e), 0);
    assert_true(der_len > 100);
    assert_int_equal(der[0], 0x30);
    assert_int_equal(crypto_cert_der_to_pem(der, der_len, &back, &e), 0);
    assert_string_equal(back, pem);
    free(back);

    const struct { const char *name; const unsigned char *d; size_t len; } bad[] = {
        { "empty", der, 0 },
        { "truncated", der, der_len - 1 },
        { "trailing byte", der, der_len + 1 },
        { "garbage", (const unsigned char *)"\x30\x03\x02\x01\x01", 5 },
    };
    unsigned char *padded = calloc(1, der_len + 1);
    memcpy(padded, der, der_len);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const unsigned char *d = bad[i].len > der_len ? padded : bad[i].d;
        e = (struct err){ 0 };
        back = NULL;
        if (crypto_cert_der_to_pem(d, bad[i].len, &back, &e) != -1 || back ||
            e.kind != ERR_INVALID)
            fail_msg("%s: accepted", bad[i].name);
    }
    const char *bad_pem[] = { "", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n" };
    for (size_t i = 0; i < sizeof bad_pem / sizeof bad_pem[0]; i++) {
        unsigned char *d = NULL;
        size_t dl = 0;
        struct crypto_cert_info ci;
        e = (struct err){ 0 };
        if (crypto_cert_pem_to_der(bad_pem[i], &d, &dl, &e) != -1 || d ||
            e.kind != ERR_INVALID)
            fail_msg("pem %zu: accepted", i);
        if (crypto_cert_parse(bad_pem[i], &ci, &e) != -1 || ci.serial)
            fail_msg("parse %zu: accepted", i);
    }
    free(padded);
    free(der);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_format),
        cmocka_unit_test(test_serial_normalize),
        cmocka_unit_test(test_cert_serial_matches_openssl),
        cmocka_unit_test(test_cert_parse),
        cmocka_unit_test(test_cert_without_sans),
        cmocka_unit_test(test_cert_matches_key),
        cmocka_unit_test(test_pem_split),
        cmocka_unit_test(test_der_pem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
