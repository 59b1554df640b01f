/* key.c: private keys: generation, PEM in and out, type names. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

static const struct {
    enum crypto_key_type type;
    const char *name;
    const char *curve;   /* OpenSSL group name, NULL for RSA */
    int bits;
} key_types[] = {
    { CRYPTO_KEY_EC256,   "ec-256",   "prime256v1", 256 },
    { CRYPTO_KEY_EC384,   "ec-384",   "secp384r1",  384 },
    { CRYPTO_KEY_EC521,   "ec-521",   "secp521r1",  521 },
    { CRYPTO_KEY_RSA2048, "rsa-2048", NULL,         2048 },
    { CRYPTO_KEY_RSA4096, "rsa-4096", NULL,         4096 },
    { CRYPTO_KEY_RSA8192, "rsa-8192", NULL,         8192 },
};
static const size_t key_types_n = sizeof key_types / sizeof key_types[0];

enum crypto_key_type crypto_key_type_parse(const char *name)
{
    for (size_t i = 0; name && i < key_types_n; i++)
        if (strcmp(name, key_types[i].name) == 0)
            return key_types[i].type;
    return CRYPTO_KEY_NONE;
}

const char *crypto_key_type_name(enum crypto_key_type t)
{
    for (size_t i = 0; i < key_types_n; i++)
        if (key_types[i].type == t)
            return key_types[i].name;
    return "none";
}

enum crypto_key_type crypto_pkey_classify(const EVP_PKEY *pkey, bool min_only, char *why,
                                          size_t why_len, bool *ok)
{
    *ok = false;
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = "";
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof group, NULL)) {
            ERR_clear_error();
            snprintf(why, why_len, "ec key without a named curve is not supported");
            return CRYPTO_KEY_NONE;
        }
        for (size_t i = 0; i < key_types_n; i++)
            if (key_types[i].curve && strcmp(group, key_types[i].curve) == 0) {
                *ok = true;
                return key_types[i].type;
            }
        snprintf(why, why_len, "ec curve %s is not supported (P-256, P-384, P-521 are)",
                 group);
        return CRYPTO_KEY_NONE;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < 2048) {
            snprintf(why, why_len, "rsa key of %d bits is too small (2048 is the minimum)",
                     bits);
            return CRYPTO_KEY_NONE;
        }
        for (size_t i = 0; i < key_types_n; i++)
            if (!key_types[i].curve && key_types[i].bits == bits) {
                *ok = true;
                return key_types[i].type;
            }
        if (min_only) {
            *ok = true;
            return CRYPTO_KEY_NONE;
        }
        snprintf(why, why_len, "rsa key of %d bits is not supported (2048, 4096, 8192 are)",
                 bits);
        return CRYPTO_KEY_NONE;
    }
    const char *name = EVP_PKEY_get0_type_name(pkey);
    snprintf(why, why_len, "key type %s is not supported (ec, rsa are)",
             name ? name : "unknown");
    return CRYPTO_KEY_NONE;
}

int crypto_key_generate(enum crypto_key_type t, struct crypto_key **out, struct err *e)
{
    *out = NULL;
    EVP_PKEY *pkey = NULL;
    for (size_t i = 0; i < key_types_n; i++) {
        if (key_types[i].type != t)
            continue;
        if (key_types[i].curve)
            pkey = EVP_EC_gen(key_types[i].curve);
        else
            pkey = EVP_RSA_gen((unsigned int)key_types[i].bits);
        if (!pkey)
            return crypto_ossl_err(e, "key: generate");
        break;
    }
    if (!pkey)
        return err_set(e, ERR_INVALID, "key: unknown key type %d", (int)t);
    struct crypto_key *k = malloc(sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return err_set(e, ERR_INTERNAL, "key: out of memory");
    }
    k->pkey = pkey;
    k->type = t;
    *out = k;
    return 0;
}

int crypto_key_from_pem(const char *pem, size_t len, struct crypto_key **out, struct err *e)
{
    int rc = -1;
    EVP_PKEY *pkey = NULL;
    struct crypto_key *k = NULL;
    *out = NULL;
    ERR_clear_error();
    BIO *b = crypto_bio_from(pem, len, "key", e);
    if (!b)
        goto out;
    pkey = PEM_read_bio_PrivateKey(b, NULL, crypto_pem_no_passphrase, NULL);
    if (!pkey) {
        ERR_clear_error();
        if (memmem(pem, len, "ENCRYPTED", 9))
            err_set(e, ERR_INVALID, "key: encrypted private keys are not supported");
        else
            err_set(e, ERR_INVALID, "key: not a PEM private key (PKCS#8, EC or RSA)");
        goto out;
    }
    char why[128];
    bool ok;
    enum crypto_key_type t = crypto_pkey_classify(pkey, false, why, sizeof why, &ok);
    if (!ok) {
        err_set(e, ERR_INVALID, "key: %s", why);
        goto out;
    }
    k = malloc(sizeof *k);
    if (!k) {
        err_set(e, ERR_INTERNAL, "key: out of memory");
        goto out;
    }
    k->pkey = pkey;
    k->type = t;
    pkey = NULL;
    *out = k;
    rc = 0;
out:
    EVP_PKEY_free(pkey);
    BIO_free(b);
    return rc;
}

/* Writes the key with `traditional` choosing SEC1/PKCS#1 over PKCS#8. */
static int key_write(const struct crypto_key *k, bool traditional, char **pem, struct err *e)
{
    int rc = -1;
    *pem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return crypto_ossl_err(e, "key: to pem");
    int ok = traditional
        ? PEM_write_bio_PrivateKey_traditional(b, k->pkey, NULL, NULL, 0, NULL, NULL)
        : PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL);
    if (!ok) {
        crypto_ossl_err(e, "key: to pem");
        goto out;
    }
    *pem = crypto_bio_take(b);
    if (!*pem) {
        err_set(e, ERR_INTERNAL, "key: out of memory");
        goto out;
    }
    rc = 0;
out:
    BIO_free(b);
    return rc;
}

int crypto_key_to_pem(const struct crypto_key *k, char **pem, struct err *e)
{
    return key_write(k, false, pem, e);
}

int crypto_key_to_pem_traditional(const struct crypto_key *k, char **pem, struct err *e)
{
    return key_write(k, true, pem, e);
}

enum crypto_key_type crypto_key_type_of(const struct crypto_key *k)
{
    return k ? k->type : CRYPTO_KEY_NONE;
}

const char *crypto_key_algo_name(const struct crypto_key *k)
{
    if (!k || !k->pkey)
        return "";
    return EVP_PKEY_is_a(k->pkey, "EC") ? "ec" : "rsa";
}

void crypto_key_free(struct crypto_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const EVP_MD *crypto_pkey_jws_md(const EVP_PKEY *pkey)
{
    switch (crypto_pkey_ec_width(pkey)) {
    case 48: return EVP_sha384();
    case 66: return EVP_sha512();
    default: return EVP_sha256();
    }
}

size_t crypto_pkey_ec_width(const EVP_PKEY *pkey)
{
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    return ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
}
