/* test_crypto_key.c: key generation, PEM in and out, refusal of keys we do not support. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "crypto_fixtures.h"

static const struct {
    enum crypto_key_type type;
    const char *name, *algo, *pkcs8_head, *trad_head;
} key_cases[] = {
    { CRYPTO_KEY_EC256, "ec-256", "ec", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN EC PRIVATE KEY-----" },
    { CRYPTO_KEY_EC384, "ec-384", "ec", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN EC PRIVATE KEY-----" },
    { CRYPTO_KEY_EC521, "ec-521", "ec", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN EC PRIVATE KEY-----" },
    { CRYPTO_KEY_RSA2048, "rsa-2048", "rsa", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----" },
    { CRYPTO_KEY_RSA4096, "rsa-4096", "rsa", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----" },
    { CRYPTO_KEY_RSA8192, "rsa-8192", "rsa", "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----" },
};

static void test_type_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        assert_int_equal(crypto_key_type_parse(key_cases[i].name), key_cases[i].type);
        assert_string_equal(crypto_key_type_name(key_cases[i].type), key_cases[i].name);
    }
    const char *unknown[] = { "", "ec-255", "EC-256", "rsa-1024", "rsa-3072", "ed25519" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        if (crypto_key_type_parse(unknown[i]) != CRYPTO_KEY_NONE)
            fail_msg("%s parsed", unknown[i]);
    assert_int_equal(crypto_key_type_parse(NULL), CRYPTO_KEY_NONE);
}

/* Imports pem and checks it is the same key as k (same public JWK, same type). */
static void check_import(const char *name, const char *pem, size_t len,
                         const struct crypto_key *k)
{
    struct crypto_key *back = NULL;
    struct err e = { 0 };
    if (crypto_key_from_pem(pem, len, &back, &e) < 0)
        fail_msg("%s: import: %s", name, e.msg);
    char *a = crypto_jwk_public_json(k), *b = crypto_jwk_public_json(back);
    if (crypto_key_type_of(back) != crypto_key_type_of(k) || strcmp(a, b))
        fail_msg("%s: imported key differs", name);
    free(a);
    free(b);
    crypto_key_free(back);
}

static void test_generate_and_pem_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const char *name = key_cases[i].name;
        /* A fresh key of every type: the fixtures import the big RSA keys instead. */
        struct crypto_key *made = NULL;
        struct err ge = { 0 };
        if (crypto_key_generate(key_cases[i].type, &made, &ge) < 0)
            fail_msg("%s: generate: %s", name, ge.msg);
        const struct crypto_key *k = made;
        assert_int_equal(crypto_key_type_of(k), key_cases[i].type);
        assert_string_equal(crypto_key_algo_name(k), key_cases[i].algo);
        char *p8 = NULL, *trad = NULL;
        struct err e = { 0 };
        assert_int_equal(crypto_key_to_pem(k, &p8, &e), 0);
        assert_int_equal(crypto_key_to_pem_traditional(k, &trad, &e), 0);
        if (strncmp(p8, key_cases[i].pkcs8_head, strlen(key_cases[i].pkcs8_head)))
            fail_msg("%s: pkcs8 %.40s", name, p8);
        if (strncmp(trad, key_cases[i].trad_head, strlen(key_cases[i].trad_head)))
            fail_msg("%s: traditional %.40s", name, trad);
        check_import(name, p8, strlen(p8), k);
        check_import(name, trad, strlen(trad), k);
        /* Without the trailing newline, as a JSON field often carries it. */
        check_import(name, trad, strlen(trad) - 1, k);
        free(p8);
        free(trad);
        crypto_key_free(made);
    }
}

/* A key of a kind we refuse, as PKCS#8 PEM (new). */
static char *foreign_key_pem(const char *kind)
{
    EVP_PKEY *p = NULL;
    if (strcmp(kind, "rsa-1024") == 0)
        p = EVP_RSA_gen(1024);
    else if (strcmp(kind, "rsa-3072") == 0)
        p = EVP_RSA_gen(3072);
    else if (strcmp(kind, "secp256k1") == 0)
        p = EVP_EC_gen("secp256k1");
    else
        p = EVP_PKEY_Q_keygen(NULL, NULL, kind);
    assert_non_null(p);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(p);
    return out;
}

static char *encrypted_key_pem(void)
{
    EVP_PKEY *p = EVP_EC_gen("prime256v1");
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, p, EVP_aes_256_cbc(), "pw", 2, NULL,
                                                   NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(p);
    return out;
}

static void test_from_pem_rejects(void **state)
{
    (void)state;
    char *p8 = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_key_to_pem(fixture_key(CRYPTO_KEY_EC256), &p8, &e), 0);
    char *truncated = strndup(p8, strlen(p8) / 2);
    char *huge = malloc(5 * 1024 * 1024 + 1);
    memset(huge, 'A', 5 * 1024 * 1024);
    huge[5 * 1024 * 1024] = '\0';
    char *rsa1024 = foreign_key_pem("rsa-1024"), *rsa3072 = foreign_key_pem("rsa-3072");
    char *k1 = foreign_key_pem("secp256k1"), *ed = foreign_key_pem("ED25519");
    char *enc = encrypted_key_pem();
    const struct { const char *name, *pem, *want; } cases[] = {
        { "empty",      "",         "key: empty" },
        { "garbage",    "hello",    "key: not a PEM private key" },
        { "truncated",  truncated,  "key: not a PEM private key" },
        { "huge",       huge,       "key: too large" },
        { "rsa-1024",   rsa1024,    "key: rsa key of 1024 bits is too small" },
        { "rsa-3072",   rsa3072,    "key: rsa key of 3072 bits is not supported" },
        { "secp256k1",  k1,         "key: ec curve secp256k1 is not supported" },
        { "ed25519",    ed,         "key: key type ED25519 is not supported" },
        { "encrypted",  enc,        "key: encrypted private keys are not supported" },
        { "public key", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
          "key: not a PEM private key" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct crypto_key *k = NULL;
        e = (struct err){ 0 };
        int rc = crypto_key_from_pem(cases[i].pem, strlen(cases[i].pem), &k, &e);
        if (rc != -1 || k || e.kind != ERR_INVALID ||
            strncmp(e.msg, cases[i].want, strlen(cases[i].want)))
            fail_msg("%s: rc %d kind %d msg \"%s\"", cases[i].name, rc, e.kind, e.msg);
    }
    free(p8);
    free(truncated);
    free(huge);
    free(rsa1024);
    free(rsa3072);
    free(k1);
    free(ed);
    free(enc);
}

static void test_generate_unknown(void **state)
{
    (void)state;
    struct crypto_key *k = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_NONE, &k, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_null(k);
    crypto_key_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_generate_unknown),
        cmocka_unit_test(test_from_pem_rejects),
        cmocka_unit_test(test_generate_and_pem_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
