/* cert.c: X.509 certificates: PEM bundles, DER <-> PEM, the facts the engine stores. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

/* Whether the last PEM read failed only because no certificate was left. */
static bool pem_at_end(void)
{
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

static char *cert_to_pem(X509 *x, struct err *e)
{
    char *pem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, x)) {
        crypto_ossl_err(e, "certificate: to pem");
        goto out;
    }
    pem = crypto_bio_take(b);
    if (!pem)
        err_set(e, ERR_INTERNAL, "certificate: out of memory");
out:
    BIO_free(b);
    return pem;
}

int crypto_pem_split(const char *bundle, char ***certs, struct err *e)
{
    return crypto_chain_parse(bundle, certs, NULL, e);
}

static int cert_info_of(X509 *x, struct crypto_cert_info *out, struct err *e);

int crypto_chain_parse(const char *bundle, char ***certs, struct crypto_cert_info *leaf,
                       struct err *e)
{
    int rc = -1;
    char **v = NULL;
    size_t n = 0;
    X509 *x = NULL;
    *certs = NULL;
    if (leaf)
        memset(leaf, 0, sizeof *leaf);
    ERR_clear_error();
    BIO *b = crypto_bio_from(bundle, bundle ? strlen(bundle) : 0, "certificate chain", e);
    if (!b)
        return -1;
    for (;;) {
        x = PEM_read_bio_X509(b, NULL, crypto_pem_no_passphrase, NULL);
        if (!x) {
            if (!pem_at_end()) {
                err_set(e, ERR_INVALID, "certificate chain: certificate %zu is malformed",
                        n + 1);
                goto out;
            }
            break;
        }
        if (n == 0 && leaf && cert_info_of(x, leaf, e) < 0) {
            X509_free(x);
            x = NULL;
            goto out;
        }
        char *pem = cert_to_pem(x, e);
        X509_free(x);
        x = NULL;
        if (!pem)
            goto out;
        char **grown = realloc(v, (n + 2) * sizeof *grown);
        if (!grown) {
            free(pem);
            err_set(e, ERR_INTERNAL, "certificate chain: out of memory");
            goto out;
        }
        v = grown;
        v[n++] = pem;
        v[n] = NULL;
    }
    if (n == 0) {
        err_set(e, ERR_INVALID, "certificate chain: no PEM certificate found");
        goto out;
    }
    *certs = v;
    v = NULL;
    rc = 0;
out:
    crypto_strv_free(v);
    BIO_free(b);
    if (rc < 0 && leaf)
        crypto_cert_info_clear(leaf);
    return rc;
}

/* The first certificate of a PEM text. */
static X509 *cert_read(const char *pem, struct err *e)
{
    ERR_clear_error();
    BIO *b = crypto_bio_from(pem, pem ? strlen(pem) : 0, "certificate", e);
    if (!b)
        return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, crypto_pem_no_passphrase, NULL);
    BIO_free(b);
    if (!x) {
        ERR_clear_error();
        err_set(e, ERR_INVALID, "certificate: not a PEM certificate");
    }
    return x;
}

int crypto_cert_pem_to_der(const char *pem, unsigned char **der, size_t *der_len,
                           struct err *e)
{
    int rc = -1;
    unsigned char *buf = NULL;
    *der = NULL;
    *der_len = 0;
    X509 *x = cert_read(pem, e);
    if (!x)
        return -1;
    int n = i2d_X509(x, &buf);
    if (n <= 0) {
        crypto_ossl_err(e, "certificate: to der");
        goto out;
    }
    *der = malloc((size_t)n);
    if (!*der) {
        err_set(e, ERR_INTERNAL, "certificate: out of memory");
        goto out;
    }
    memcpy(*der, buf, (size_t)n);
    *der_len = (size_t)n;
    rc = 0;
out:
    OPENSSL_free(buf);
    X509_free(x);
    return rc;
}

int crypto_cert_der_to_pem(const unsigned char *der, size_t der_len, char **pem,
                           struct err *e)
{
    *pem = NULL;
    if (!der || der_len == 0)
        return err_set(e, ERR_INVALID, "certificate: empty");
    if (der_len > CRYPTO_MAX_INPUT)
        return err_set(e, ERR_INVALID, "certificate: too large (%zu bytes)", der_len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)der_len);
    if (!x || p != der + der_len) {
        X509_free(x);
        ERR_clear_error();
        return err_set(e, ERR_INVALID, "certificate: not a DER certificate");
    }
    *pem = cert_to_pem(x, e);
    X509_free(x);
    return *pem ? 0 : -1;
}

static int name_text(const X509_NAME *name, char **out, struct err *e)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
        BIO_free(b);
        return crypto_ossl_err(e, "certificate: name");
    }
    *out = crypto_bio_take(b);
    BIO_free(b);
    return *out ? 0 : err_set(e, ERR_INTERNAL, "certificate: out of memory");
}

static int time_value(const ASN1_TIME *t, time_t *out, const char *what, struct err *e)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return err_set(e, ERR_INVALID, "certificate: malformed %s", what);
    }
    *out = timegm(&tm);
    return 0;
}

static int serial_text(const X509 *x, char **out, struct err *e)
{
    int rc = -1;
    unsigned char *bytes = NULL;
    /* Through a BIGNUM, as Go's big.Int does for Vault: the DER sign byte goes away. */
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (!bn) {
        crypto_ossl_err(e, "certificate: serial");
        goto out;
    }
    size_t n = (size_t)BN_num_bytes(bn);
    bytes = malloc(n ? n : 1);
    if (!bytes) {
        err_set(e, ERR_INTERNAL, "certificate: out of memory");
        goto out;
    }
    BN_bn2bin(bn, bytes);
    *out = crypto_serial_format(bytes, n);
    if (!*out) {
        err_set(e, ERR_INTERNAL, "certificate: out of memory");
        goto out;
    }
    rc = 0;
out:
    free(bytes);
    BN_free(bn);
    return rc;
}

static int key_id_text(const ASN1_OCTET_STRING *id, char **out, struct err *e)
{
    *out = NULL;
    if (!id)
        return 0;
    *out = crypto_hex_colon(ASN1_STRING_get0_data(id), (size_t)ASN1_STRING_length(id));
    return *out ? 0 : err_set(e, ERR_INTERNAL, "certificate: out of memory");
}

/* The fields of x into out (cleared on failure); x stays the caller's. */
static int cert_info_of(X509 *x, struct crypto_cert_info *out, struct err *e)
{
    int rc = -1, crit = 0;
    GENERAL_NAMES *gens = NULL;
    memset(out, 0, sizeof *out);
    if (serial_text(x, &out->serial, e) < 0 ||
        time_value(X509_get0_notBefore(x), &out->not_before, "notBefore", e) < 0 ||
        time_value(X509_get0_notAfter(x), &out->not_after, "notAfter", e) < 0 ||
        name_text(X509_get_subject_name(x), &out->subject, e) < 0 ||
        name_text(X509_get_issuer_name(x), &out->issuer, e) < 0)
        goto out;
    /* X509_check_purpose caches the extensions so the key id getters see them. */
    if (X509_check_purpose(x, -1, 0) != 1)
        ERR_clear_error();
    if (key_id_text(X509_get0_authority_key_id(x), &out->authority_key_id, e) < 0 ||
        key_id_text(X509_get0_subject_key_id(x), &out->subject_key_id, e) < 0)
        goto out;
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    ERR_clear_error();
    if (gens && crypto_names_collect(gens, false, "certificate", &out->dns_names,
                                     &out->ip_addrs, e) < 0)
        goto out;
    if ((!out->dns_names && !(out->dns_names = calloc(1, sizeof(char *)))) ||
        (!out->ip_addrs && !(out->ip_addrs = calloc(1, sizeof(char *))))) {
        err_set(e, ERR_INTERNAL, "certificate: out of memory");
        goto out;
    }
    rc = 0;
out:
    GENERAL_NAMES_free(gens);
    if (rc < 0)
        crypto_cert_info_clear(out);
    return rc;
}

int crypto_cert_parse(const char *pem, struct crypto_cert_info *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    X509 *x = cert_read(pem, e);
    if (!x)
        return -1;
    int rc = cert_info_of(x, out, e);
    X509_free(x);
    return rc;
}

void crypto_cert_info_clear(struct crypto_cert_info *ci)
{
    if (!ci)
        return;
    free(ci->serial);
    free(ci->subject);
    free(ci->issuer);
    crypto_strv_free(ci->dns_names);
    crypto_strv_free(ci->ip_addrs);
    free(ci->authority_key_id);
    free(ci->subject_key_id);
    memset(ci, 0, sizeof *ci);
}

bool crypto_cert_matches_key(const char *cert_pem, const struct crypto_key *k)
{
    if (!k || !k->pkey)
        return false;
    X509 *x = cert_read(cert_pem, NULL);
    if (!x)
        return false;
    const EVP_PKEY *pub = X509_get0_pubkey(x);
    bool match = pub && EVP_PKEY_eq(pub, k->pkey) == 1;
    ERR_clear_error();
    X509_free(x);
    return match;
}
