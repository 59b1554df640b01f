/* crypto_fixtures.c: see crypto_fixtures.h. */
#include "crypto_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

const struct crypto_key *fixture_key(enum crypto_key_type t)
{
    /* Test-only cache, filled from the test's main thread. */
    static struct crypto_key *keys[CRYPTO_KEY_RSA8192 + 1];
    if (t <= CRYPTO_KEY_NONE || t > CRYPTO_KEY_RSA8192)
        abort();
    if (!keys[t]) {
        struct err e = { 0 };
        const char *pem = t == CRYPTO_KEY_RSA4096 ? fixture_rsa4096_pem
                          : t == CRYPTO_KEY_RSA8192 ? fixture_rsa8192_pem : NULL;
        int rc = pem ? crypto_key_from_pem(pem, strlen(pem), &keys[t], &e)
                     : crypto_key_generate(t, &keys[t], &e);
        if (rc < 0) {
            fprintf(stderr, "fixture_key %s: %s\n", crypto_key_type_name(t), e.msg);
            abort();
        }
    }
    return keys[t];
}

/* The OpenSSL key behind a crypto_key, read back from its PEM (new). */
static EVP_PKEY *pkey_of(const struct crypto_key *k)
{
    char *pem = NULL;
    struct err e = { 0 };
    if (crypto_key_to_pem(k, &pem, &e) < 0)
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *p = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    free(pem);
    return p;
}

static char *san_config(const char *const *dns, const char *const *ips)
{
    size_t cap = 4096, len = 0;
    char *s = calloc(1, cap);
    for (size_t i = 0; s && dns && dns[i]; i++)
        len += (size_t)snprintf(s + len, cap - len, "%sDNS:%s", len ? "," : "", dns[i]);
    for (size_t i = 0; s && ips && ips[i]; i++)
        len += (size_t)snprintf(s + len, cap - len, "%sIP:%s", len ? "," : "", ips[i]);
    return s;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

char *fixture_self_signed(const struct crypto_key *k, const char *cn,
                          const char *const *dns, const char *const *ips,
                          const unsigned char *serial, size_t serial_len, long not_before,
                          int days)
{
    char *out = NULL, *sans = NULL;
    time_t start = (time_t)not_before;
    EVP_PKEY *pkey = pkey_of(k);
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
    BIO *b = BIO_new(BIO_s_mem());
    if (!pkey || !x || !bn || !b || !X509_set_version(x, X509_VERSION_3) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &start) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &start) ||
        !X509_set_pubkey(x, pkey))
        goto out;
    X509_NAME *name = X509_get_subject_name(x);
    if (cn && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                          (const unsigned char *)cn, -1, -1, 0))
        goto out;
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"Fixture Org", -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto out;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    sans = san_config(dns, ips);
    if (!sans || (sans[0] && add_ext(x, &ctx, NID_subject_alt_name, sans) < 0) ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0)
        goto out;
    if (X509_sign(x, pkey, EVP_sha256()) <= 0 || !PEM_write_bio_X509(b, x))
        goto out;
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    out = strndup(data, (size_t)n);
out:
    free(sans);
    BIO_free(b);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return out;
}

bool fixture_strv_is(char **v, const char *want)
{
    char buf[1024] = "";
    size_t len = 0;
    for (size_t i = 0; v && v[i]; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "|" : "", v[i]);
    return v && strcmp(buf, want) == 0;
}

char *fixture_rsa_csr(int bits, const char *cn, const char *sans)
{
    char *out = NULL;
    EVP_PKEY *pkey = EVP_RSA_gen((unsigned int)bits);
    X509_REQ *req = X509_REQ_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    BIO *b = BIO_new(BIO_s_mem());
    if (!pkey || !req || !exts || !b)
        goto out;
    if (sans) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sans);
        if (!ext || !sk_X509_EXTENSION_push(exts, ext)) {
            X509_EXTENSION_free(ext);
            goto out;
        }
        if (!X509_REQ_add_extensions(req, exts))
            goto out;
    }
    if (cn && !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
                                          MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                          0))
        goto out;
    if (!X509_REQ_set_pubkey(req, pkey) ||
        X509_REQ_sign(req, pkey, EVP_sha256()) <= 0 || !PEM_write_bio_X509_REQ(b, req))
        goto out;
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    out = strndup(data, (size_t)n);
out:
    BIO_free(b);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    EVP_PKEY_free(pkey);
    return out;
}

char *fixture_pem(const char *label, const unsigned char *der, size_t der_len)
{
    char *out = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (b && PEM_write_bio(b, label, "", der, (long)der_len) > 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        out = strndup(data, (size_t)n);
    }
    BIO_free(b);
    return out;
}

char *fixture_openssl(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl %s", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return strdup(buf);
}
