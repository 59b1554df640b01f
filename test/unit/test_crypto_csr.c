/* test_crypto_csr.c: CSR build -> parse round trips, IP SANs, and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_fixtures.h"

static const enum crypto_key_type all_types[] = {
    CRYPTO_KEY_EC256, CRYPTO_KEY_EC384, CRYPTO_KEY_EC521,
    CRYPTO_KEY_RSA2048, CRYPTO_KEY_RSA4096, CRYPTO_KEY_RSA8192,
};

static char *strv_text(char **v)
{
    static char buf[1024];   /* failure messages only */
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; v && v[i]; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "|" : "", v[i]);
    return v ? buf : "(null)";
}

static const struct {
    const char *name;
    const char *ids[4];
    enum crypto_csr_population pop;
    const char *cn, *dns, *ips;
} build_cases[] = {
    { "cn first", { "Www.Example.com", "*.example.com", "example.org", NULL },
      CRYPTO_CSR_CN_FIRST, "www.example.com",
      "www.example.com|*.example.com|example.org", "" },
    { "sans only", { "www.example.com", "*.example.com", "example.org", NULL },
      CRYPTO_CSR_SANS_ONLY, NULL, "www.example.com|*.example.com|example.org", "" },
    { "ip first", { "192.0.2.1", "2001:DB8::1", "example.com", NULL },
      CRYPTO_CSR_CN_FIRST, "192.0.2.1", "example.com", "192.0.2.1|2001:db8::1" },
    { "ips only", { "192.0.2.1", "::1", NULL, NULL },
      CRYPTO_CSR_SANS_ONLY, NULL, "", "192.0.2.1|::1" },
    { "wildcard cn", { "*.example.net", NULL, NULL, NULL },
      CRYPTO_CSR_CN_FIRST, "*.example.net", "*.example.net", "" },
    { "cn over 64 bytes left out",
      { "a-very-long-label-that-goes-on-and-on-and-on.sub.example-domain.com", NULL, NULL,
        NULL },
      CRYPTO_CSR_CN_FIRST, NULL,
      "a-very-long-label-that-goes-on-and-on-and-on.sub.example-domain.com", "" },
};

static size_t ids_count(const char *const *ids)
{
    size_t n = 0;
    while (n < 4 && ids[n])
        n++;
    return n;
}

static void check_case(size_t c, enum crypto_key_type t)
{
    const char *name = build_cases[c].name;
    const char *tname = crypto_key_type_name(t);
    char *pem = NULL;
    struct err e = { 0 };
    if (crypto_csr_build(fixture_key(t), build_cases[c].ids, ids_count(build_cases[c].ids),
                         build_cases[c].pop, &pem, &e) < 0)
        fail_msg("%s/%s: build: %s", name, tname, e.msg);
    /* Without its trailing newline too, as a JSON string often carries it. */
    for (int trim = 0; trim < 2; trim++) {
        struct crypto_csr_info ci;
        if (crypto_csr_parse(pem, strlen(pem) - (size_t)trim, &ci, &e) < 0)
            fail_msg("%s/%s/trim %d: parse: %s", name, tname, trim, e.msg);
        const char *want_cn = build_cases[c].cn;
        if (want_cn ? !ci.common_name || strcmp(ci.common_name, want_cn) : ci.common_name != NULL)
            fail_msg("%s/%s: cn %s", name, tname, ci.common_name ? ci.common_name : "(null)");
        if (!fixture_strv_is(ci.dns_names, build_cases[c].dns))
            fail_msg("%s/%s: dns %s", name, tname, strv_text(ci.dns_names));
        if (!fixture_strv_is(ci.ip_addrs, build_cases[c].ips))
            fail_msg("%s/%s: ips %s", name, tname, strv_text(ci.ip_addrs));
        if (ci.key_type != t)
            fail_msg("%s/%s: key type %d", name, tname, ci.key_type);
        unsigned char *der = NULL;
        size_t der_len = 0;
        if (crypto_csr_pem_to_der(pem, &der, &der_len, &e) < 0 || der_len != ci.der_len ||
            memcmp(der, ci.der, der_len))
            fail_msg("%s/%s: der differs", name, tname);
        free(der);
        crypto_csr_info_clear(&ci);
    }
    free(pem);
}

static void test_round_trip_every_type(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof all_types / sizeof all_types[0]; t++)
        for (size_t c = 0; c < 2; c++)
            check_case(c, all_types[t]);
}

static void test_round_trip_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof build_cases / sizeof build_cases[0]; c++)
        check_case(c, CRYPTO_KEY_EC256);
}

static void test_build_rejects(void **state)
{
    (void)state;
    const struct { const char *name; const char *ids[3]; size_t n; const char *want; } cases[] = {
        { "no identifiers", { NULL }, 0, "csr: no identifiers" },
        { "empty identifier", { "example.com", "", NULL }, 2, "csr: identifier 1 is empty" },
        { "space", { "bad name.com", NULL }, 1, "csr: identifier \"bad name.com\"" },
        { "wildcard inside", { "www.*.example.com", NULL }, 1, "csr: identifier" },
        { "bare wildcard", { "*.", NULL }, 1, "csr: identifier" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *pem = NULL;
        struct err e = { 0 };
        int rc = crypto_csr_build(fixture_key(CRYPTO_KEY_EC256), cases[i].ids, cases[i].n,
                                  CRYPTO_CSR_CN_FIRST, &pem, &e);
        if (rc != -1 || pem || e.kind != ERR_INVALID ||
            strncmp(e.msg, cases[i].want, strlen(cases[i].want)))
            fail_msg("%s: rc %d msg %s", cases[i].name, rc, e.msg);
    }
}

/* CSRs made by OpenSSL itself: the CN joins the identifiers, foreign SAN types and weak
 * keys are refused. */
static void test_parse_foreign_csrs(void **state)
{
    (void)state;
    const struct {
        const char *name;
        int bits;
        const char *cn, *sans;
        int rc;
        const char *dns, *ips, *err;
        enum crypto_key_type type;
    } cases[] = {
        { "cn not in sans", 2048, "Only.Example.com", "DNS:other.example.com", 0,
          "only.example.com|other.example.com", "", NULL, CRYPTO_KEY_RSA2048 },
        { "cn already a san", 2048, "a.example.com", "DNS:b.example.com,DNS:A.example.com", 0,
          "b.example.com|a.example.com", "", NULL, CRYPTO_KEY_RSA2048 },
        { "cn only", 2048, "cn.example.com", NULL, 0, "cn.example.com", "", NULL,
          CRYPTO_KEY_RSA2048 },
        { "ip cn", 2048, "192.0.2.7", "DNS:x.example.com", 0, "x.example.com", "192.0.2.7",
          NULL, CRYPTO_KEY_RSA2048 },
        { "rsa 3072 accepted", 3072, "a.example.com", NULL, 0, "a.example.com", "", NULL,
          CRYPTO_KEY_NONE },
        { "rsa 1024", 1024, "weak.example.com", "DNS:weak.example.com", -1, NULL, NULL,
          "csr: rsa key of 1024 bits is too small", CRYPTO_KEY_NONE },
        { "email san", 2048, "a.example.com", "email:me@example.com", -1, NULL, NULL,
          "csr: unsupported subject alternative name type (email)", CRYPTO_KEY_NONE },
        { "nothing", 2048, NULL, NULL, -1, NULL, NULL, "csr: names no identifiers",
          CRYPTO_KEY_NONE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *pem = fixture_rsa_csr(cases[i].bits, cases[i].cn, cases[i].sans);
        assert_non_null(pem);
        struct crypto_csr_info ci;
        struct err e = { 0 };
        int rc = crypto_csr_parse(pem, strlen(pem), &ci, &e);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d (%s)", cases[i].name, rc, e.msg);
        if (rc == 0 && (!fixture_strv_is(ci.dns_names, cases[i].dns) ||
                        !fixture_strv_is(ci.ip_addrs, cases[i].ips) ||
                        ci.key_type != cases[i].type))
            fail_msg("%s: dns %s type %d", cases[i].name, strv_text(ci.dns_names), ci.key_type);
        if (rc < 0 && (e.kind != ERR_INVALID ||
                       strncmp(e.msg, cases[i].err, strlen(cases[i].err)) || ci.dns_names ||
                       ci.der))
            fail_msg("%s: kind %d msg %s", cases[i].name, e.kind, e.msg);
        crypto_csr_info_clear(&ci);
        free(pem);
    }
}

/* Changes one byte of the CSR's DER (at `at`, or the first byte of `find`) and re-wraps it. */
static char *tamper(const char *pem, long at, const char *find)
{
    unsigned char *der = NULL;
    size_t len = 0;
    struct err e = { 0 };
    assert_int_equal(crypto_csr_pem_to_der(pem, &der, &len, &e), 0);
    size_t pos = at >= 0 ? (size_t)at : len - 1;
    if (find) {
        unsigned char *p = memmem(der, len, find, strlen(find));
        assert_non_null(p);
        pos = (size_t)(p - der);
    }
    der[pos] ^= 0x01;
    char *out = fixture_pem("CERTIFICATE REQUEST", der, len);
    free(der);
    return out;
}

static void test_tampered_rejected(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof all_types / sizeof all_types[0]; t++) {
        if (all_types[t] == CRYPTO_KEY_RSA8192)
            continue;   /* same code path as 4096; keeps the run short */
        const char *ids[] = { "example.com" };
        char *pem = NULL;
        struct err e = { 0 };
        assert_int_equal(crypto_csr_build(fixture_key(all_types[t]), ids, 1,
                                          CRYPTO_CSR_CN_FIRST, &pem, &e), 0);
        char *bad_sig = tamper(pem, -1, NULL);
        char *bad_name = tamper(pem, 0, "example");
        const char *variants[] = { bad_sig, bad_name };
        for (size_t v = 0; v < 2; v++) {
            struct crypto_csr_info ci;
            e = (struct err){ 0 };
            int rc = crypto_csr_parse(variants[v], strlen(variants[v]), &ci, &e);
            if (rc != -1 || e.kind != ERR_INVALID ||
                strcmp(e.msg, "csr: signature does not verify"))
                fail_msg("%s variant %zu: rc %d msg %s", crypto_key_type_name(all_types[t]), v,
                         rc, e.msg);
        }
        free(bad_sig);
        free(bad_name);
        free(pem);
    }
}

static void test_malformed_input(void **state)
{
    (void)state;
    const char *ids[] = { "example.com" };
    char *pem = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_csr_build(fixture_key(CRYPTO_KEY_EC256), ids, 1,
                                      CRYPTO_CSR_CN_FIRST, &pem, &e), 0);
    size_t huge_len = 5u * 1024 * 1024;
    char *huge = malloc(huge_len + 1);
    memset(huge, 'A', huge_len);
    huge[huge_len] = '\0';
    char *truncated = strndup(pem, strlen(pem) / 2);
    char *no_end = strndup(pem, strlen(pem) - 20);
    unsigned char *der0 = NULL;
    size_t der0_len = 0;
    assert_int_equal(crypto_csr_pem_to_der(pem, &der0, &der0_len, &e), 0);
    unsigned char *der3 = malloc(der0_len + 3);
    memcpy(der3, der0, der0_len);
    memcpy(der3 + der0_len, "\x05\x00\x00", 3);
    char *trailing = fixture_pem("CERTIFICATE REQUEST", der3, der0_len + 3);
    char *two = malloc(2 * strlen(pem) + 1);
    strcpy(two, pem);
    strcat(two, pem);
    const struct { const char *name, *in, *want; } cases[] = {
        { "empty", "", "csr: empty" },
        { "garbage", "not a csr", "csr: not a PEM certificate request" },
        { "truncated", truncated, "csr: not a PEM certificate request" },
        { "no end line", no_end, "csr: not a PEM certificate request" },
        { "huge", huge, "csr: too large" },
        { "certificate label", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
          "csr: a CERTIFICATE block, not a CERTIFICATE REQUEST" },
        { "trailing bytes after the DER", trailing, "csr: 3 bytes follow the request's DER" },
        { "two requests", two, "csr: more than one PEM block" },
        { "bad base64", "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n"
          "-----END CERTIFICATE REQUEST-----\n", "csr: not a PEM certificate request" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct crypto_csr_info ci;
        e = (struct err){ 0 };
        int rc = crypto_csr_parse(cases[i].in, strlen(cases[i].in), &ci, &e);
        if (rc != -1 || e.kind != ERR_INVALID ||
            strncmp(e.msg, cases[i].want, strlen(cases[i].want)))
            fail_msg("%s: rc %d msg %s", cases[i].name, rc, e.msg);
        unsigned char *der = NULL;
        size_t der_len = 0;
        if (crypto_csr_pem_to_der(cases[i].in, &der, &der_len, &e) != -1 || der)
            fail_msg("%s: pem_to_der accepted", cases[i].name);
    }
    crypto_csr_info_clear(NULL);
    free(truncated);
    free(no_end);
    free(der0);
    free(der3);
    free(trailing);
    free(two);
    free(huge);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_cases),
        cmocka_unit_test(test_build_rejects),
        cmocka_unit_test(test_parse_foreign_csrs),
        cmocka_unit_test(test_tampered_rejected),
        cmocka_unit_test(test_malformed_input),
        cmocka_unit_test(test_round_trip_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
