/* test_crypto_jose.c: base64url, JWK/thumbprint, JWS and HMAC against RFC vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "../../src/crypto/internal.h"
#include "crypto_fixtures.h"

/* ---- helpers ------------------------------------------------------------------------ */

static unsigned char *b64u_dec(const char *s, size_t *len)
{
    unsigned char *out = NULL;
    struct err e = { 0 };
    if (crypto_b64url_decode(s, &out, len, &e) < 0)
        fail_msg("b64url decode %s: %s", s, e.msg);
    return out;
}

/* One parameter of a key given as in a JWK. */
struct jwk_param {
    const char *ossl_name;
    const char *b64u;        /* big-endian integer, or octets when `octets` */
    bool octets;
};

/* An EVP_PKEY of `type` ("RSA", "EC") from JWK members; group is the EC curve or NULL. */
static EVP_PKEY *pkey_from_jwk(const char *type, const char *group,
                               const struct jwk_param *params, size_t n, int selection)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bns[16] = { 0 };
    unsigned char *bufs[16] = { 0 };
    assert_true(n <= 16);
    if (group)
        assert_true(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0));
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        bufs[i] = b64u_dec(params[i].b64u, &len);
        if (params[i].octets) {
            assert_true(OSSL_PARAM_BLD_push_octet_string(bld, params[i].ossl_name, bufs[i],
                                                         len));
        } else {
            bns[i] = BN_bin2bn(bufs[i], (int)len, NULL);
            assert_true(OSSL_PARAM_BLD_push_BN(bld, params[i].ossl_name, bns[i]));
        }
    }
    OSSL_PARAM *ps = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    assert_non_null(ps);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, selection, ps), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    for (size_t i = 0; i < n; i++) {
        BN_free(bns[i]);
        free(bufs[i]);
    }
    return pkey;
}

/* The key's PKCS#8 PEM read back through crypto_key_from_pem: the public way in. */
static struct crypto_key *key_via_pem(EVP_PKEY *pkey)
{
    struct crypto_key tmp = { pkey, CRYPTO_KEY_NONE };
    struct crypto_key *k = NULL;
    char *pem = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_key_to_pem(&tmp, &pem, &e), 0);
    if (crypto_key_from_pem(pem, strlen(pem), &k, &e) < 0)
        fail_msg("key_from_pem: %s", e.msg);
    free(pem);
    return k;
}

/* ---- RFC 7515 / 7638 vectors -------------------------------------------------------- */

/* RFC 7515 A.1-A.3 payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://...":true} */
static const char rfc7515_payload64[] =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

static const struct jwk_param rfc7515_a2_rsa[] = {
    { OSSL_PKEY_PARAM_RSA_N,
      "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp"
      "-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwO"
      "WvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYU"
      "sLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9"
      "kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk"
      "2PAcDTW9gb54h4FRWyuXpoQ", false },
    { OSSL_PKEY_PARAM_RSA_E, "AQAB", false },
    { OSSL_PKEY_PARAM_RSA_D,
      "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_G"
      "Q5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKV"
      "RUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9J"
      "YanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoF"
      "aFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjn"
      "czT0QU91p1DhOVRuOopznQ", false },
    { OSSL_PKEY_PARAM_RSA_FACTOR1,
      "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBds"
      "s1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ"
      "5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc", false },
    { OSSL_PKEY_PARAM_RSA_FACTOR2,
      "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHA"
      "jLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLt"
      "XlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc", false },
    { OSSL_PKEY_PARAM_RSA_EXPONENT1,
      "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE"
      "2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_"
      "YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0", false },
    { OSSL_PKEY_PARAM_RSA_EXPONENT2,
      "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDo"
      "RwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGN"
      "pmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU", false },
    { OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
      "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0Em"
      "pScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1c"
      "q9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U", false },
};

static const char rfc7515_a2_sig[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 A.2: RS256 is deterministic, so our signature must be the RFC's, byte for
 * byte. The key goes in through PKCS#8 PEM, as an imported account key would. */
static void test_rfc7515_a2_rs256(void **state)
{
    (void)state;
    EVP_PKEY *pkey = pkey_from_jwk("RSA", NULL, rfc7515_a2_rsa,
                                   sizeof rfc7515_a2_rsa / sizeof rfc7515_a2_rsa[0],
                                   EVP_PKEY_KEYPAIR);
    struct crypto_key *k = key_via_pem(pkey);
    assert_int_equal(crypto_key_type_of(k), CRYPTO_KEY_RSA2048);
    assert_string_equal(crypto_jws_alg(k), "RS256");
    char input[512];
    snprintf(input, sizeof input, "eyJhbGciOiJSUzI1NiJ9.%s", rfc7515_payload64);
    char *sig = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_jws_sign(k, input, &sig, &e), 0);
    assert_string_equal(sig, rfc7515_a2_sig);
    free(sig);
    crypto_key_free(k);
    EVP_PKEY_free(pkey);
}

static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char a3_d[] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
static const char a3_sig[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

/* 0x04 || x || y, base64url, for OSSL_PKEY_PARAM_PUB_KEY. */
static char *a3_point(void)
{
    size_t xl, yl;
    unsigned char *x = b64u_dec(a3_x, &xl), *y = b64u_dec(a3_y, &yl);
    unsigned char pt[65];
    assert_int_equal(xl, 32);
    assert_int_equal(yl, 32);
    pt[0] = 4;
    memcpy(pt + 1, x, 32);
    memcpy(pt + 33, y, 32);
    free(x);
    free(y);
    return crypto_b64url_encode(pt, sizeof pt);
}

/* RFC 7515 A.3: the RFC's ES256 signature verifies with the RFC's public key after our
 * raw r||s -> DER conversion; a flipped bit does not. */
static void test_rfc7515_a3_es256(void **state)
{
    (void)state;
    char *point = a3_point();
    struct jwk_param pub[] = { { OSSL_PKEY_PARAM_PUB_KEY, point, true } };
    EVP_PKEY *pkey = pkey_from_jwk("EC", "prime256v1", pub, 1, EVP_PKEY_PUBLIC_KEY);
    char input[512];
    snprintf(input, sizeof input, "eyJhbGciOiJFUzI1NiJ9.%s", rfc7515_payload64);
    size_t raw_len;
    unsigned char *raw = b64u_dec(a3_sig, &raw_len);
    assert_int_equal(raw_len, 64);

    /* The conversion itself, checked with plain OpenSSL. */
    unsigned char *der = NULL;
    size_t der_len = 0;
    struct err e = { 0 };
    assert_int_equal(crypto_ecdsa_raw_to_der(raw, raw_len, &der, &der_len, &e), 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
    assert_int_equal(EVP_DigestVerify(ctx, der, der_len, (unsigned char *)input,
                                      strlen(input)), 1);
    EVP_MD_CTX_free(ctx);

    /* And back: DER -> raw gives the RFC's bytes. */
    unsigned char *again = NULL;
    size_t again_len = 0;
    assert_int_equal(crypto_ecdsa_der_to_raw(der, der_len, 32, &again, &again_len, &e), 0);
    assert_int_equal(again_len, 64);
    assert_memory_equal(again, raw, 64);

    assert_int_equal(crypto_jws_verify_raw(pkey, input, raw, raw_len, &e), 0);
    raw[63] ^= 1;
    assert_int_equal(crypto_jws_verify_raw(pkey, input, raw, raw_len, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);

    free(again);
    free(der);
    free(raw);
    free(point);
    EVP_PKEY_free(pkey);
}

/* The A.3 private key gives the A.3 JWK, members in RFC 7638 order. */
static void test_rfc7515_a3_jwk(void **state)
{
    (void)state;
    char *point = a3_point();
    struct jwk_param priv[] = {
        { OSSL_PKEY_PARAM_PUB_KEY, point, true },
        { OSSL_PKEY_PARAM_PRIV_KEY, a3_d, false },
    };
    EVP_PKEY *pkey = pkey_from_jwk("EC", "prime256v1", priv, 2, EVP_PKEY_KEYPAIR);
    struct crypto_key *k = key_via_pem(pkey);
    assert_int_equal(crypto_key_type_of(k), CRYPTO_KEY_EC256);
    char want[256];
    snprintf(want, sizeof want, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             a3_x, a3_y);
    char *jwk = crypto_jwk_public_json(k);
    assert_string_equal(jwk, want);
    free(jwk);
    free(point);
    crypto_key_free(k);
    EVP_PKEY_free(pkey);
}

/* RFC 7638 3.1: the RSA example key's thumbprint. */
static void test_rfc7638_thumbprint(void **state)
{
    (void)state;
    static const char n[] =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhA"
        "I4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    struct jwk_param pub[] = {
        { OSSL_PKEY_PARAM_RSA_N, n, false }, { OSSL_PKEY_PARAM_RSA_E, "AQAB", false },
    };
    EVP_PKEY *pkey = pkey_from_jwk("RSA", NULL, pub, 2, EVP_PKEY_PUBLIC_KEY);
    /* Public-only: the contract has no public-key import, so wrap it directly. */
    struct crypto_key k = { pkey, CRYPTO_KEY_RSA2048 };
    char want[512];
    snprintf(want, sizeof want, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", n);
    char *jwk = crypto_jwk_public_json(&k);
    assert_string_equal(jwk, want);
    char *t = crypto_jwk_thumbprint(&k);
    assert_string_equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    free(t);
    free(jwk);
    EVP_PKEY_free(pkey);
}

/* ---- round trips for every key type ------------------------------------------------- */

static const struct {
    enum crypto_key_type type;
    const char *alg;
    size_t sig_len;          /* raw signature bytes */
    const char *jwk_prefix;
} sign_cases[] = {
    { CRYPTO_KEY_EC256,   "ES256", 64,   "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" },
    { CRYPTO_KEY_EC384,   "ES384", 96,   "{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"" },
    { CRYPTO_KEY_EC521,   "ES512", 132,  "{\"crv\":\"P-521\",\"kty\":\"EC\",\"x\":\"" },
    { CRYPTO_KEY_RSA2048, "RS256", 256,  "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" },
    { CRYPTO_KEY_RSA4096, "RS256", 512,  "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" },
    { CRYPTO_KEY_RSA8192, "RS256", 1024, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" },
};

static void test_sign_verify_every_type(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sign_cases / sizeof sign_cases[0]; i++) {
        const char *name = crypto_key_type_name(sign_cases[i].type);
        const struct crypto_key *k = fixture_key(sign_cases[i].type);
        struct err e = { 0 };
        if (strcmp(crypto_jws_alg(k), sign_cases[i].alg) != 0)
            fail_msg("%s: alg %s", name, crypto_jws_alg(k));
        char *jwk = crypto_jwk_public_json(k);
        if (!jwk || strncmp(jwk, sign_cases[i].jwk_prefix, strlen(sign_cases[i].jwk_prefix)))
            fail_msg("%s: jwk %s", name, jwk ? jwk : "(null)");
        char *t = crypto_jwk_thumbprint(k);
        if (!t || strlen(t) != 43)
            fail_msg("%s: thumbprint %s", name, t ? t : "(null)");

        const char *input = "eyJhbGciOiJFUzI1NiJ9.cGF5bG9hZA";
        char *sig = NULL;
        if (crypto_jws_sign(k, input, &sig, &e) < 0)
            fail_msg("%s: sign: %s", name, e.msg);
        size_t raw_len;
        unsigned char *raw = b64u_dec(sig, &raw_len);
        if (raw_len != sign_cases[i].sig_len)
            fail_msg("%s: signature of %zu bytes, want %zu", name, raw_len,
                     sign_cases[i].sig_len);
        if (crypto_jws_verify_raw(k->pkey, input, raw, raw_len, &e) < 0)
            fail_msg("%s: verify: %s", name, e.msg);
        if (crypto_jws_verify_raw(k->pkey, "eyJhbGciOiJFUzI1NiJ9.cGF5bG9hZB", raw, raw_len,
                                  &e) == 0)
            fail_msg("%s: verified a different input", name);
        free(raw);
        free(sig);
        free(t);
        free(jwk);
    }
}

/* Flattened JWS: members decode to what went in; POST-as-GET has payload "". */
static void test_jws_flattened(void **state)
{
    (void)state;
    const char *prot = "{\"alg\":\"ES256\",\"nonce\":\"abc\",\"url\":\"https://ca/x\"}";
    const char *payloads[] = { "{\"termsOfServiceAgreed\":true}", NULL };
    for (size_t i = 0; i < 2; i++) {
        const struct crypto_key *k = fixture_key(CRYPTO_KEY_EC256);
        char *out = NULL;
        struct err e = { 0 };
        assert_int_equal(crypto_jws_flattened(k, prot, payloads[i], &out, &e), 0);
        cJSON *j = cJSON_Parse(out);
        assert_non_null(j);
        const char *p64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "protected"));
        const char *pl64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "payload"));
        const char *s64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "signature"));
        assert_non_null(p64);
        assert_non_null(pl64);
        assert_non_null(s64);
        size_t len;
        unsigned char *dec = b64u_dec(p64, &len);
        assert_int_equal(len, strlen(prot));
        assert_memory_equal(dec, prot, len);
        free(dec);
        if (payloads[i]) {
            dec = b64u_dec(pl64, &len);
            assert_int_equal(len, strlen(payloads[i]));
            assert_memory_equal(dec, payloads[i], len);
            free(dec);
        } else {
            assert_string_equal(pl64, "");
        }
        char input[1024];
        snprintf(input, sizeof input, "%s.%s", p64, pl64);
        unsigned char *sig = b64u_dec(s64, &len);
        assert_int_equal(crypto_jws_verify_raw(k->pkey, input, sig, len, &e), 0);
        free(sig);
        cJSON_Delete(j);
        free(out);
    }
}

/* ---- base64 ------------------------------------------------------------------------- */

static const struct {
    const char *name;
    const unsigned char *data;
    size_t len;
    const char *url, *std;
} b64_cases[] = {
    { "empty",     (const unsigned char *)"",       0, "",     ""     },
    { "one",       (const unsigned char *)"f",      1, "Zg",   "Zg==" },
    { "two",       (const unsigned char *)"fo",     2, "Zm8",  "Zm8=" },
    { "three",     (const unsigned char *)"foo",    3, "Zm9v", "Zm9v" },
    { "url chars", (const unsigned char *)"\xfb\xff", 2, "-_8", "+/8=" },
    { "zeros",     (const unsigned char *)"\0\0\0\0", 4, "AAAAAA", "AAAAAA==" },
    { "high",      (const unsigned char *)"\xff\xfe\xfd", 3, "__79", "//79" },
};

static void test_b64_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof b64_cases / sizeof b64_cases[0]; i++) {
        char *u = crypto_b64url_encode(b64_cases[i].data, b64_cases[i].len);
        char *s = crypto_b64_encode(b64_cases[i].data, b64_cases[i].len);
        if (strcmp(u, b64_cases[i].url) || strcmp(s, b64_cases[i].std))
            fail_msg("%s: url %s std %s", b64_cases[i].name, u, s);
        unsigned char *d = NULL;
        size_t dl = 0;
        struct err e = { 0 };
        if (crypto_b64url_decode(u, &d, &dl, &e) < 0 || dl != b64_cases[i].len ||
            memcmp(d, b64_cases[i].data, dl))
            fail_msg("%s: url decode", b64_cases[i].name);
        free(d);
        if (crypto_b64_decode(s, &d, &dl, &e) < 0 || dl != b64_cases[i].len ||
            memcmp(d, b64_cases[i].data, dl))
            fail_msg("%s: std decode", b64_cases[i].name);
        free(d);
        free(u);
        free(s);
    }
}

static const struct { const char *name, *in; bool url, ok; } b64_decode_cases[] = {
    { "padded url accepted", "Zg==",   true,  true  },
    { "one char",            "Z",      true,  false },
    { "five chars",          "Zm9vY",  true,  false },
    { "bad char",            "Zm9v!",  true,  false },
    { "std char in url",     "+/8",    true,  false },
    { "url char in std",     "-_8=",   false, false },
    { "wrong padding",       "Zg=",    false, false },
    { "too much padding",    "Zg===",  false, false },
    { "space",               "Zm 9v",  false, false },
    { "unpadded std",        "Zm8",    false, true  },
};

static void test_b64_decode_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof b64_decode_cases / sizeof b64_decode_cases[0]; i++) {
        unsigned char *d = NULL;
        size_t dl = 0;
        struct err e = { 0 };
        int rc = b64_decode_cases[i].url ? crypto_b64url_decode(b64_decode_cases[i].in, &d, &dl, &e)
                                         : crypto_b64_decode(b64_decode_cases[i].in, &d, &dl, &e);
        if ((rc == 0) != b64_decode_cases[i].ok)
            fail_msg("%s: rc %d (%s)", b64_decode_cases[i].name, rc, e.msg);
        if (rc < 0 && (e.kind != ERR_INVALID || d))
            fail_msg("%s: kind %d", b64_decode_cases[i].name, e.kind);
        free(d);
    }
}

static void test_sha256_b64url(void **state)
{
    (void)state;
    /* SHA-256("abc") from FIPS 180-2, base64url. */
    char *s = crypto_sha256_b64url("abc");
    assert_string_equal(s, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    free(s);
}

/* ---- HMAC: RFC 4231 ----------------------------------------------------------------- */

static const struct {
    const char *name, *alg;
    unsigned char key_byte;
    size_t key_len;          /* key = key_byte repeated, or `key` when key_len is 0 */
    const char *key, *data, *hex;
} hmac_cases[] = {
    { "tc1 sha256", "HS256", 0x0b, 20, NULL, "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "tc1 sha384", "HS384", 0x0b, 20, NULL, "Hi There",
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
      "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
    { "tc1 sha512", "HS512", 0x0b, 20, NULL, "Hi There",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { "tc2 sha256", "HS256", 0, 0, "Jefe", "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "tc2 sha384", "HS384", 0, 0, "Jefe", "what do ya want for nothing?",
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
      "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
    { "tc2 sha512", "HS512", 0, 0, "Jefe", "what do ya want for nothing?",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
    { "tc6 sha256", "HS256", 0xaa, 131, NULL,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { "tc6 sha384", "HS384", 0xaa, 131, NULL,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
      "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
    { "tc6 sha512", "HS512", 0xaa, 131, NULL,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
};

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hmac_cases / sizeof hmac_cases[0]; i++) {
        unsigned char key[256];
        size_t key_len = hmac_cases[i].key_len;
        if (key_len)
            memset(key, hmac_cases[i].key_byte, key_len);
        else
            memcpy(key, hmac_cases[i].key, key_len = strlen(hmac_cases[i].key));
        char *sig = NULL;
        struct err e = { 0 };
        if (crypto_hmac_b64url(hmac_cases[i].alg, key, key_len, hmac_cases[i].data, &sig,
                               &e) < 0)
            fail_msg("%s: %s", hmac_cases[i].name, e.msg);
        size_t len;
        unsigned char *mac = b64u_dec(sig, &len);
        char hex[200] = "";
        for (size_t j = 0; j < len; j++)
            sprintf(hex + 2 * j, "%02x", mac[j]);
        if (strcmp(hex, hmac_cases[i].hex))
            fail_msg("%s: got %s", hmac_cases[i].name, hex);
        free(mac);
        free(sig);
    }
    char *sig = NULL;
    struct err e = { 0 };
    assert_int_equal(crypto_hmac_b64url("HS1", (const unsigned char *)"k", 1, "x", &sig, &e),
                     -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_null(sig);
}

/* Several threads signing with one shared key and verifying: the library keeps no
 * mutable state of its own, so this must be clean (run it under TSan/ASan too). */
static void *sign_worker(void *arg)
{
    const struct crypto_key *k = arg;
    for (int i = 0; i < 50; i++) {
        char input[64], *sig = NULL;
        struct err e = { 0 };
        snprintf(input, sizeof input, "eyJhbGciOiJFUzI1NiJ9.%d", i);
        if (crypto_jws_sign(k, input, &sig, &e) < 0)
            return "sign failed";
        unsigned char *raw = NULL;
        size_t len = 0;
        int rc = crypto_b64url_decode(sig, &raw, &len, &e);
        if (rc == 0)
            rc = crypto_jws_verify_raw(k->pkey, input, raw, len, &e);
        free(raw);
        free(sig);
        if (rc < 0)
            return "verify failed";
    }
    return NULL;
}

static void test_threads_share_a_key(void **state)
{
    (void)state;
    const enum crypto_key_type types[] = { CRYPTO_KEY_EC256, CRYPTO_KEY_RSA2048 };
    for (size_t t = 0; t < 2; t++) {
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&th[i], NULL, sign_worker,
                                            (void *)fixture_key(types[t])), 0);
        for (int i = 0; i < 4; i++) {
            void *res = NULL;
            assert_int_equal(pthread_join(th[i], &res), 0);
            if (res)
                fail_msg("%s: %s", crypto_key_type_name(types[t]), (const char *)res);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_cases),
        cmocka_unit_test(test_b64_decode_rejects),
        cmocka_unit_test(test_sha256_b64url),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_rfc7638_thumbprint),
        cmocka_unit_test(test_rfc7515_a2_rs256),
        cmocka_unit_test(test_rfc7515_a3_es256),
        cmocka_unit_test(test_rfc7515_a3_jwk),
        cmocka_unit_test(test_jws_flattened),
        cmocka_unit_test(test_threads_share_a_key),
        cmocka_unit_test(test_sign_verify_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
