/* tls.c: the ephemeral AutoMTLS certificate. The host pins exactly this certificate (from
 * handshake field 6) and verifies it as a server on the main connection and as a client on
 * brokered connections, hence SAN DNS:localhost and EKU serverAuth+clientAuth. */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

char *tls_base64_raw(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    /* go-plugin decodes with base64.RawStdEncoding: any '=' makes it fail. */
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return out;
}

static char *bio_take_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

static int cert_add_ext(X509 *x, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    if (!ext)
        return -1;
    int rc = X509_add_ext(x, ext, -1) ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

/* Random positive serial below 2^127, as go-plugin uses a random 128-bit one. */
static int cert_set_serial(X509 *x)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    raw[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    int rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? 0 : -1;
    BN_free(bn);
    return rc;
}

static X509 *cert_build(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    bool ok = X509_set_version(x, 2) && cert_set_serial(x) == 0 &&
              X509_gmtime_adj(X509_getm_notBefore(x), -30) &&
              X509_gmtime_adj(X509_getm_notAfter(x), 262980L * 3600) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"localhost", -1, -1, 0) &&
              X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
              cert_add_ext(x, NID_subject_alt_name, "DNS:localhost") == 0 &&
              cert_add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") == 0 &&
              cert_add_ext(x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
              cert_add_ext(x, NID_key_usage, "critical,digitalSignature,keyEncipherment,"
                                             "keyAgreement,keyCertSign") == 0 &&
              X509_sign(x, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int ident_fill(struct tls_ident *id, EVP_PKEY *key, X509 *x)
{
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    unsigned char *der = NULL;
    int der_len = -1;
    if (kb && cb && PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) &&
        PEM_write_bio_X509(cb, x)) {
        id->key_pem = bio_take_string(kb);
        id->cert_pem = bio_take_string(cb);
        der_len = i2d_X509(x, &der);
    }
    if (der_len > 0)
        id->cert_b64 = tls_base64_raw(der, (size_t)der_len);
    OPENSSL_free(der);
    BIO_free(kb);
    BIO_free(cb);
    return id->key_pem && id->cert_pem && id->cert_b64 ? 0 : -1;
}

int tls_ident_generate(struct tls_ident *id, struct err *e)
{
    memset(id, 0, sizeof *id);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? cert_build(key) : NULL;
    int rc = x ? ident_fill(id, key, x) : -1;
    X509_free(x);
    EVP_PKEY_free(key);
    if (rc != 0) {
        tls_ident_clear(id);
        return err_set(e, ERR_INTERNAL, "generating the AutoMTLS certificate failed");
    }
    return 0;
}

void tls_ident_clear(struct tls_ident *id)
{
    if (id->key_pem)
        OPENSSL_cleanse(id->key_pem, strlen(id->key_pem));
    free(id->key_pem);
    free(id->cert_pem);
    free(id->cert_b64);
    memset(id, 0, sizeof *id);
}
