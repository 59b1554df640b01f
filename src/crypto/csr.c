/* csr.c: PKCS#10 requests: build one for our identifiers, parse and check a submitted one. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

/* RFC 5280's upper bound for commonName; longer names only go in the SANs. */
enum { CN_MAX = 64, DNS_MAX = 253 };

/* IP text -> 4 or 16 bytes in buf; 0 if the text is not an address. */
static size_t ip_parse(const char *s, unsigned char buf[16])
{
    if (inet_pton(AF_INET, s, buf) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, buf) == 1)
        return 16;
    return 0;
}

/* Letters, digits, '-', '_', '.'; "*." only as the first label. */
static bool dns_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DNS_MAX)
        return false;
    if (strncmp(s, "*.", 2) == 0)
        s += 2;
    if (*s == '\0' || *s == '.')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

/* Copies s lower-cased into out, which has room for strlen(s) + 1 bytes. */
static void lower_copy(const char *s, char *out)
{
    size_t i = 0;
    for (; s[i]; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static GENERAL_NAME *identifier_name(const char *id, struct err *e)
{
    unsigned char ip[16];
    size_t ip_len = ip_parse(id, ip);
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = ip_len ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (!g || !s)
        goto fail;
    if (ip_len) {
        if (!ASN1_OCTET_STRING_set(s, ip, (int)ip_len))
            goto fail;
        GENERAL_NAME_set0_value(g, GEN_IPADD, s);
        return g;
    }
    if (!dns_name_ok(id)) {
        err_set(e, ERR_INVALID, "csr: identifier \"%.100s\" is neither a dns name nor an ip "
                "address", id);
        GENERAL_NAME_free(g);
        ASN1_STRING_free(s);
        return NULL;
    }
    /* DNS names are compared case-insensitively; CAs and our parser expect lower case. */
    char lower[DNS_MAX + 1];
    lower_copy(id, lower);
    if (!ASN1_STRING_set(s, lower, -1))
        goto fail;
    GENERAL_NAME_set0_value(g, GEN_DNS, s);
    return g;
fail:
    crypto_ossl_err(e, "csr: subject alternative name");
    GENERAL_NAME_free(g);
    ASN1_STRING_free(s);
    return NULL;
}

int crypto_csr_build(const struct crypto_key *k, const char *const *identifiers, size_t n,
                     enum crypto_csr_population pop, char **pem, struct err *e)
{
    int rc = -1;
    X509_REQ *req = NULL;
    GENERAL_NAMES *gens = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    BIO *b = NULL;
    *pem = NULL;
    if (!k || !k->pkey)
        return err_set(e, ERR_INVALID, "csr: missing key");
    if (!identifiers || n == 0)
        return err_set(e, ERR_INVALID, "csr: no identifiers");
    req = X509_REQ_new();
    gens = sk_GENERAL_NAME_new_null();
    if (!req || !gens || !X509_REQ_set_version(req, X509_REQ_VERSION_1)) {
        crypto_ossl_err(e, "csr: build");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!identifiers[i] || !identifiers[i][0]) {
            err_set(e, ERR_INVALID, "csr: identifier %zu is empty", i);
            goto out;
        }
        GENERAL_NAME *g = identifier_name(identifiers[i], e);
        if (!g)
            goto out;
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            crypto_ossl_err(e, "csr: build");
            goto out;
        }
    }
    bool with_cn = pop == CRYPTO_CSR_CN_FIRST && strlen(identifiers[0]) <= CN_MAX;
    if (with_cn) {
        /* The CN repeats the first SAN, so it is lower-cased the same way. */
        char cn[CN_MAX + 1];
        lower_copy(identifiers[0], cn);
        if (!X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
                                        MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) {
            crypto_ossl_err(e, "csr: common name");
            goto out;
        }
    }
    /* RFC 5280 4.2.1.6: with an empty subject the SAN extension is critical. */
    if (X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, with_cn ? 0 : 1,
                        X509V3_ADD_DEFAULT) != 1 ||
        !X509_REQ_add_extensions(req, exts) ||
        !X509_REQ_set_pubkey(req, (EVP_PKEY *)k->pkey) ||
        X509_REQ_sign(req, (EVP_PKEY *)k->pkey, EVP_sha256()) <= 0) {
        crypto_ossl_err(e, "csr: build");
        goto out;
    }
    b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509_REQ(b, req)) {
        crypto_ossl_err(e, "csr: to pem");
        goto out;
    }
    *pem = crypto_bio_take(b);
    if (!*pem) {
        err_set(e, ERR_INTERNAL, "csr: out of memory");
        goto out;
    }
    rc = 0;
out:
    BIO_free(b);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(gens);
    X509_REQ_free(req);
    return rc;
}

/* True when the rest of b is whitespace only. */
static bool bio_rest_blank(BIO *b)
{
    char buf[256];
    int n;
    while ((n = BIO_read(b, buf, sizeof buf)) > 0) {
        for (int i = 0; i < n; i++) {
            if (!isspace((unsigned char)buf[i]))
                return false;
        }
    }
    return true;
}

/* Reads exactly one PEM CSR ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") whose DER
 * is one PKCS#10 structure and nothing more: bytes after the DER, or a second block, would
 * be parts of the input the policy check never looked at. */
static X509_REQ *csr_read(const char *pem, size_t len, struct err *e)
{
    char *label = NULL, *header = NULL;
    unsigned char *der = NULL;
    long dlen = 0;
    X509_REQ *req = NULL;

    ERR_clear_error();
    BIO *b = crypto_bio_from(pem, len, "csr", e);
    if (!b)
        return NULL;
    if (!PEM_read_bio(b, &label, &header, &der, &dlen)) {
        err_set(e, ERR_INVALID, "csr: not a PEM certificate request");
        goto out;
    }
    if (strcmp(label, "CERTIFICATE REQUEST") != 0 &&
        strcmp(label, "NEW CERTIFICATE REQUEST") != 0) {
        err_set(e, ERR_INVALID, "csr: a %.40s block, not a CERTIFICATE REQUEST", label);
        goto out;
    }
    const unsigned char *p = der;
    req = d2i_X509_REQ(NULL, &p, dlen);
    if (!req) {
        err_set(e, ERR_INVALID, "csr: the PEM block does not hold a PKCS#10 request");
        goto out;
    }
    if (p != der + dlen) {
        err_set(e, ERR_INVALID, "csr: %ld bytes follow the request's DER; send one request "
                "and nothing else", (long)(der + dlen - p));
        goto fail;
    }
    if (!bio_rest_blank(b)) {
        err_set(e, ERR_INVALID, "csr: more than one PEM block (or text after the request); "
                "send exactly one certificate request");
        goto fail;
    }
    goto out;
fail:
    X509_REQ_free(req);
    req = NULL;
out:
    ERR_clear_error();
    OPENSSL_free(label);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(b);
    return req;
}

/* The subject's first commonName as UTF-8 (new), NULL when there is none. */
static int csr_common_name(X509_REQ *req, char **cn, struct err *e)
{
    *cn = NULL;
    const X509_NAME *name = X509_REQ_get_subject_name(req);
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        return 0;
    const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, d);
    if (n < 0) {
        ERR_clear_error();
        return err_set(e, ERR_INVALID, "csr: unreadable common name");
    }
    if ((size_t)n != strlen((char *)utf8)) {
        OPENSSL_free(utf8);
        return err_set(e, ERR_INVALID, "csr: common name contains a nul byte");
    }
    *cn = strdup((char *)utf8);
    OPENSSL_free(utf8);
    if (!*cn)
        return err_set(e, ERR_INTERNAL, "csr: out of memory");
    return 0;
}

static int csr_sans(X509_REQ *req, char ***dns, char ***ips, struct err *e)
{
    int rc = -1, crit = 0;
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
    if (!gens && crit == -2) {
        err_set(e, ERR_INVALID, "csr: more than one subject alternative name extension");
        goto out;
    }
    if (!gens && crit >= 0) {
        err_set(e, ERR_INVALID, "csr: malformed subject alternative name extension");
        goto out;
    }
    if (gens && crypto_names_collect(gens, true, "csr", dns, ips, e) < 0)
        goto out;
    rc = 0;
out:
    ERR_clear_error();
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}

/* Puts the CN in front of the DNS names (or among the IPs) unless a SAN already has it. */
static int csr_merge_cn(const char *cn, struct crypto_csr_info *out, struct err *e)
{
    unsigned char ip[16];
    size_t ip_len = ip_parse(cn, ip);
    if (ip_len) {
        char *text = crypto_ip_to_text(ip, ip_len);
        int rc = text ? crypto_strv_add_unique(&out->ip_addrs, text) : -1;
        free(text);
        return rc < 0 ? err_set(e, ERR_INTERNAL, "csr: out of memory") : 0;
    }
    size_t n = 0;
    for (; out->dns_names && out->dns_names[n]; n++)
        if (strcasecmp(out->dns_names[n], cn) == 0)
            return 0;
    char *lower = strdup(cn);
    char **grown = lower ? realloc(out->dns_names, (n + 2) * sizeof *grown) : NULL;
    if (!grown) {
        free(lower);
        return err_set(e, ERR_INTERNAL, "csr: out of memory");
    }
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    memmove(grown + 1, grown, n * sizeof *grown);
    grown[0] = lower;
    grown[n + 1] = NULL;
    out->dns_names = grown;
    return 0;
}

int crypto_csr_parse(const char *pem, size_t len, struct crypto_csr_info *out, struct err *e)
{
    int rc = -1;
    unsigned char *der = NULL;
    memset(out, 0, sizeof *out);
    X509_REQ *req = csr_read(pem, len, e);
    if (!req)
        return -1;
    EVP_PKEY *pkey = X509_REQ_get0_pubkey(req);
    if (!pkey) {
        ERR_clear_error();
        err_set(e, ERR_INVALID, "csr: unreadable or unsupported public key");
        goto out;
    }
    char why[128];
    bool ok;
    out->key_type = crypto_pkey_classify(pkey, true, why, sizeof why, &ok);
    if (!ok) {
        err_set(e, ERR_INVALID, "csr: %s", why);
        goto out;
    }
    if (X509_REQ_verify(req, pkey) != 1) {
        ERR_clear_error();
        err_set(e, ERR_INVALID, "csr: signature does not verify");
        goto out;
    }
    if (csr_common_name(req, &out->common_name, e) < 0 ||
        csr_sans(req, &out->dns_names, &out->ip_addrs, e) < 0)
        goto out;
    if (out->common_name && out->common_name[0] &&
        csr_merge_cn(out->common_name, out, e) < 0)
        goto out;
    if (!out->dns_names && !out->ip_addrs) {
        err_set(e, ERR_INVALID, "csr: names no identifiers (no common name, no subject "
                "alternative names)");
        goto out;
    }
    int n = i2d_X509_REQ(req, &der);
    if (n <= 0) {
        crypto_ossl_err(e, "csr: to der");
        goto out;
    }
    out->der = malloc((size_t)n);
    if (!out->der) {
        err_set(e, ERR_INTERNAL, "csr: out of memory");
        goto out;
    }
    memcpy(out->der, der, (size_t)n);
    out->der_len = (size_t)n;
    /* Callers index the vectors without checking: give them empty ones, not NULL. */
    if ((!out->dns_names && !(out->dns_names = calloc(1, sizeof(char *)))) ||
        (!out->ip_addrs && !(out->ip_addrs = calloc(1, sizeof(char *))))) {
        err_set(e, ERR_INTERNAL, "csr: out of memory");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_free(der);
    X509_REQ_free(req);
    if (rc < 0)
        crypto_csr_info_clear(out);
    return rc;
}

void crypto_csr_info_clear(struct crypto_csr_info *ci)
{
    if (!ci)
        return;
    crypto_strv_free(ci->dns_names);
    crypto_strv_free(ci->ip_addrs);
    free(ci->common_name);
    free(ci->der);
    memset(ci, 0, sizeof *ci);
}

int crypto_csr_pem_to_der(const char *pem, unsigned char **der, size_t *der_len,
                          struct err *e)
{
    int rc = -1;
    unsigned char *buf = NULL;
    *der = NULL;
    *der_len = 0;
    X509_REQ *req = csr_read(pem, pem ? strlen(pem) : 0, e);
    if (!req)
        return -1;
    int n = i2d_X509_REQ(req, &buf);
    if (n <= 0) {
        crypto_ossl_err(e, "csr: to der");
        goto out;
    }
    *der = malloc((size_t)n);
    if (!*der) {
        err_set(e, ERR_INTERNAL, "csr: out of memory");
        goto out;
    }
    memcpy(*der, buf, (size_t)n);
    *der_len = (size_t)n;
    rc = 0;
out:
    OPENSSL_free(buf);
    X509_REQ_free(req);
    return rc;
}
