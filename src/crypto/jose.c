/* jose.c: JWK (RFC 7517/7638) and JWS (RFC 7515/7518) for account keys. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

const char *crypto_jws_alg(const struct crypto_key *k)
{
    switch (crypto_pkey_ec_width(k->pkey)) {
    case 32: return "ES256";
    case 48: return "ES384";
    case 66: return "ES512";
    default: return "RS256";
    }
}

/* base64url of a BIGNUM parameter, left-padded to `width` bytes (0: minimal). */
static char *param_b64url(const EVP_PKEY *pkey, const char *param, size_t width)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    char *out = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
        goto out;
    size_t n = width ? width : (size_t)BN_num_bytes(bn);
    buf = malloc(n ? n : 1);
    if (!buf || BN_bn2binpad(bn, buf, (int)n) < 0)
        goto out;
    out = crypto_b64url_encode(buf, n);
out:
    ERR_clear_error();
    BN_free(bn);
    free(buf);
    return out;
}

char *crypto_jwk_public_json(const struct crypto_key *k)
{
    char *a = NULL, *b = NULL, *json = NULL;
    size_t width = crypto_pkey_ec_width(k->pkey);
    const char *fmt;
    const char *crv = width == 32 ? "P-256" : width == 48 ? "P-384" : "P-521";
    if (width) {
        a = param_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, width);
        b = param_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width);
        fmt = "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}";
    } else {
        a = param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        b = param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        fmt = "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}";
    }
    if (!a || !b)
        goto out;
    /* Members are fixed, base64url values need no escaping: no JSON library needed, and
     * the order is exactly RFC 7638's. */
    if (width) {
        if (asprintf(&json, fmt, crv, a, b) < 0)
            json = NULL;
    } else if (asprintf(&json, fmt, a, b) < 0) {
        json = NULL;
    }
out:
    free(a);
    free(b);
    return json;
}

char *crypto_jwk_thumbprint(const struct crypto_key *k)
{
    char *jwk = crypto_jwk_public_json(k);
    if (!jwk)
        return NULL;
    char *t = crypto_sha256_b64url(jwk);
    free(jwk);
    return t;
}

int crypto_ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t width,
                            unsigned char **out, size_t *out_len, struct err *e)
{
    int rc = -1;
    const unsigned char *p = der;
    unsigned char *raw = NULL;
    *out = NULL;
    *out_len = 0;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig) {
        crypto_ossl_err(e, "jws: ecdsa signature");
        goto out;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    raw = malloc(2 * width);
    if (!raw) {
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    if (BN_bn2binpad(r, raw, (int)width) < 0 || BN_bn2binpad(s, raw + width, (int)width) < 0) {
        err_set(e, ERR_INTERNAL, "jws: ecdsa signature wider than the curve");
        goto out;
    }
    *out = raw;
    *out_len = 2 * width;
    raw = NULL;
    rc = 0;
out:
    free(raw);
    ECDSA_SIG_free(sig);
    return rc;
}

int crypto_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **out,
                            size_t *out_len, struct err *e)
{
    int rc = -1;
    BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG *sig = NULL;
    unsigned char *der = NULL;
    *out = NULL;
    *out_len = 0;
    if (raw_len == 0 || raw_len % 2 != 0 || raw_len > 2 * 66)
        return err_set(e, ERR_INVALID, "jws: ecdsa signature of %zu bytes", raw_len);
    size_t half = raw_len / 2;
    r = BN_bin2bn(raw, (int)half, NULL);
    s = BN_bin2bn(raw + half, (int)half, NULL);
    sig = ECDSA_SIG_new();
    if (!r || !s || !sig || !ECDSA_SIG_set0(sig, r, s)) {
        crypto_ossl_err(e, "jws: ecdsa signature");
        goto out;
    }
    r = s = NULL;   /* owned by sig now */
    int n = i2d_ECDSA_SIG(sig, &der);
    if (n <= 0) {
        crypto_ossl_err(e, "jws: ecdsa signature");
        goto out;
    }
    *out = malloc((size_t)n);
    if (!*out) {
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    memcpy(*out, der, (size_t)n);
    *out_len = (size_t)n;
    rc = 0;
out:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

int crypto_jws_sign(const struct crypto_key *k, const char *signing_input, char **sig,
                    struct err *e)
{
    int rc = -1;
    unsigned char *der = NULL, *raw = NULL;
    size_t der_len = 0, raw_len = 0;
    *sig = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* EVP_DigestSignInit takes a non-const key only to bump its reference count. */
    if (!ctx || EVP_DigestSignInit(ctx, NULL, crypto_pkey_jws_md(k->pkey), NULL,
                                   (EVP_PKEY *)k->pkey) != 1) {
        crypto_ossl_err(e, "jws: sign");
        goto out;
    }
    const unsigned char *in = (const unsigned char *)signing_input;
    size_t in_len = strlen(signing_input);
    if (EVP_DigestSign(ctx, NULL, &der_len, in, in_len) != 1) {
        crypto_ossl_err(e, "jws: sign");
        goto out;
    }
    der = malloc(der_len);
    if (!der) {
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    if (EVP_DigestSign(ctx, der, &der_len, in, in_len) != 1) {
        crypto_ossl_err(e, "jws: sign");
        goto out;
    }
    size_t width = crypto_pkey_ec_width(k->pkey);
    if (width) {
        if (crypto_ecdsa_der_to_raw(der, der_len, width, &raw, &raw_len, e) < 0)
            goto out;
        *sig = crypto_b64url_encode(raw, raw_len);
    } else {
        *sig = crypto_b64url_encode(der, der_len);
    }
    if (!*sig) {
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(der);
    free(raw);
    return rc;
}

int crypto_jws_verify_raw(const EVP_PKEY *pkey, const char *input, const unsigned char *sig,
                          size_t sig_len, struct err *e)
{
    int rc = -1;
    unsigned char *der = NULL;
    size_t der_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, NULL, crypto_pkey_jws_md(pkey), NULL,
                                     (EVP_PKEY *)pkey) != 1) {
        crypto_ossl_err(e, "jws: verify");
        goto out;
    }
    if (crypto_pkey_ec_width(pkey)) {
        if (sig_len != 2 * crypto_pkey_ec_width(pkey)) {
            err_set(e, ERR_INVALID, "jws: signature of %zu bytes for this curve", sig_len);
            goto out;
        }
        if (crypto_ecdsa_raw_to_der(sig, sig_len, &der, &der_len, e) < 0)
            goto out;
        sig = der;
        sig_len = der_len;
    }
    if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input,
                         strlen(input)) != 1) {
        ERR_clear_error();
        err_set(e, ERR_INVALID, "jws: signature does not verify");
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(der);
    return rc;
}

int crypto_jws_flattened(const struct crypto_key *k, const char *protected_json,
                         const char *payload, char **out, struct err *e)
{
    int rc = -1;
    char *prot64 = NULL, *pay64 = NULL, *input = NULL, *sig = NULL;
    *out = NULL;
    if (!protected_json)
        return err_set(e, ERR_INVALID, "jws: missing protected header");
    prot64 = crypto_b64url_encode(protected_json, strlen(protected_json));
    pay64 = payload ? crypto_b64url_encode(payload, strlen(payload)) : strdup("");
    if (!prot64 || !pay64 || asprintf(&input, "%s.%s", prot64, pay64) < 0) {
        input = NULL;
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    if (crypto_jws_sign(k, input, &sig, e) < 0)
        goto out;
    if (asprintf(out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", prot64,
                 pay64, sig) < 0) {
        *out = NULL;
        err_set(e, ERR_INTERNAL, "jws: out of memory");
        goto out;
    }
    rc = 0;
out:
    free(prot64);
    free(pay64);
    free(input);
    free(sig);
    return rc;
}
