/* crypto.h: keys, CSRs, certificates and JOSE on OpenSSL 3 EVP APIs. Knows nothing of
 * ACME or Vault. All functions are thread-safe. int functions return 0, or -1 with *e set
 * (ERR_INVALID for bad input, naming what was wrong; ERR_INTERNAL for OpenSSL failures).
 * Every char * handed out is new (malloc) and freed by the caller with free(). */
#ifndef PKIEXT_CRYPTO_H
#define PKIEXT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* ---- Keys ------------------------------------------------------------------------- */

enum crypto_key_type {
    CRYPTO_KEY_NONE = 0,
    CRYPTO_KEY_EC256, CRYPTO_KEY_EC384, CRYPTO_KEY_EC521,
    CRYPTO_KEY_RSA2048, CRYPTO_KEY_RSA4096, CRYPTO_KEY_RSA8192
};

/* A private key (wraps EVP_PKEY). crypto_key_free() frees it; NULL ok. */
struct crypto_key;

/* "ec-256", "ec-384", "ec-521", "rsa-2048", "rsa-4096", "rsa-8192" -> type; NONE if unknown. */
enum crypto_key_type crypto_key_type_parse(const char *name);
const char *crypto_key_type_name(enum crypto_key_type t);

int crypto_key_generate(enum crypto_key_type t, struct crypto_key **out, struct err *e);
/* PEM in: PKCS#8 ("PRIVATE KEY"), SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
 * Keys of a size/curve outside enum crypto_key_type are rejected (ERR_INVALID). */
int crypto_key_from_pem(const char *pem, size_t len, struct crypto_key **out, struct err *e);
/* PKCS#8 PEM out. */
int crypto_key_to_pem(const struct crypto_key *k, char **pem, struct err *e);
/* Traditional form out: SEC1 for EC, PKCS#1 for RSA (what Vault's PKI returns). */
int crypto_key_to_pem_traditional(const struct crypto_key *k, char **pem, struct err *e);
enum crypto_key_type crypto_key_type_of(const struct crypto_key *k);
/* "ec" or "rsa", as Vault's private_key_type. */
const char *crypto_key_algo_name(const struct crypto_key *k);
void crypto_key_free(struct crypto_key *k);

/* ---- Encoding ----------------------------------------------------------------------- */

/* base64url without padding. */
char *crypto_b64url_encode(const void *data, size_t len);
int crypto_b64url_decode(const char *s, unsigned char **out, size_t *out_len, struct err *e);
/* Standard base64 with padding, no newlines. */
char *crypto_b64_encode(const void *data, size_t len);
int crypto_b64_decode(const char *s, unsigned char **out, size_t *out_len, struct err *e);
/* base64url(SHA-256(s)): the dns-01 TXT record value for a key authorization. */
char *crypto_sha256_b64url(const char *s);

/* ---- JOSE (RFC 7515/7517/7638) ------------------------------------------------------ */

/* "ES256"/"ES384"/"ES512"/"RS256" for the key. */
const char *crypto_jws_alg(const struct crypto_key *k);
/* The public JWK as compact JSON with members in lexicographic order (RFC 7638 form):
 * {"crv":..,"kty":"EC","x":..,"y":..} or {"e":..,"kty":"RSA","n":..}. */
char *crypto_jwk_public_json(const struct crypto_key *k);
/* RFC 7638 thumbprint, base64url(SHA-256(jwk)). */
char *crypto_jwk_thumbprint(const struct crypto_key *k);
/* Signs `signing_input` (ASCII "protected.payload") with the key's JWS algorithm.
 * ECDSA signatures are raw r||s (RFC 7518 3.4), not DER. *sig is base64url. */
int crypto_jws_sign(const struct crypto_key *k, const char *signing_input, char **sig,
                    struct err *e);
/* Flattened JSON JWS: {"protected":b64u(protected_json),"payload":b64u(payload),
 * "signature":...}. payload NULL means POST-as-GET (empty payload ""). */
int crypto_jws_flattened(const struct crypto_key *k, const char *protected_json,
                         const char *payload, char **out, struct err *e);
/* HMAC for EAB: alg "HS256"/"HS384"/"HS512"; key is raw bytes; *sig is base64url. */
int crypto_hmac_b64url(const char *alg, const unsigned char *key, size_t key_len,
                       const char *data, char **sig, struct err *e);

/* ---- CSRs ------------------------------------------------------------------------- */

enum crypto_csr_population {
    CRYPTO_CSR_CN_FIRST = 0,   /* first identifier is the CN; all identifiers are SANs */
    CRYPTO_CSR_SANS_ONLY       /* no CN, all identifiers are SANs */
};

/* Identifiers are DNS names (may start "*.") or IP addresses (v4/v6 text). *pem is new. */
int crypto_csr_build(const struct crypto_key *k, const char *const *identifiers, size_t n,
                     enum crypto_csr_population pop, char **pem, struct err *e);

/* A parsed, signature-checked CSR. */
struct crypto_csr_info {
    char **dns_names;    /* NULL-terminated, lower-cased, CN first if it is a DNS name and
                            not already a SAN; then SAN DNS names in order */
    char **ip_addrs;     /* NULL-terminated, text form */
    char *common_name;   /* NULL if none */
    enum crypto_key_type key_type;
    unsigned char *der;  /* the CSR as DER (for ACME finalize) */
    size_t der_len;
};
/* Accepts PEM with or without a trailing newline. Rejects a bad signature and RSA < 2048. */
int crypto_csr_parse(const char *pem, size_t len, struct crypto_csr_info *out, struct err *e);
void crypto_csr_info_clear(struct crypto_csr_info *ci);
/* PEM CSR -> DER, without parsing further. */
int crypto_csr_pem_to_der(const char *pem, unsigned char **der, size_t *der_len,
                          struct err *e);

/* ---- Certificates ----------------------------------------------------------------- */

/* Splits a PEM bundle into its certificates: *certs is a new NULL-terminated array of PEM
 * strings each ending in "\n"; free with crypto_strv_free. Fails if there are none. */
int crypto_pem_split(const char *bundle, char ***certs, struct err *e);
void crypto_strv_free(char **v);
int crypto_cert_pem_to_der(const char *pem, unsigned char **der, size_t *der_len,
                           struct err *e);
int crypto_cert_der_to_pem(const unsigned char *der, size_t der_len, char **pem,
                           struct err *e);

struct crypto_cert_info {
    char *serial;          /* Vault form: lower-case colon-separated hex, "03:e7:1f:..." */
    time_t not_before, not_after;
    char *subject;         /* one-line RFC 2253 form */
    char *issuer;
    char **dns_names;      /* SANs, NULL-terminated */
    char **ip_addrs;       /* NULL-terminated */
    char *authority_key_id;  /* colon hex, or NULL */
    char *subject_key_id;    /* colon hex, or NULL */
};
int crypto_cert_parse(const char *pem, struct crypto_cert_info *out, struct err *e);
/* crypto_pem_split, and *leaf: the first certificate's fields from the same parse (a CA's
 * chain is parsed once, not once to split and again for its leaf). Cleared on failure. */
int crypto_chain_parse(const char *bundle, char ***certs, struct crypto_cert_info *leaf,
                       struct err *e);
void crypto_cert_info_clear(struct crypto_cert_info *ci);
/* Serial from raw big-endian bytes to Vault's colon form (new string). */
char *crypto_serial_format(const unsigned char *bytes, size_t len);
/* Accepts "03:e7:1f", "03-e7-1f" or "03e71f" (any case); writes the canonical colon form.
 * ERR_INVALID if not hex. */
int crypto_serial_normalize(const char *in, char **out, struct err *e);
/* True when the certificate's public key is the key's. */
bool crypto_cert_matches_key(const char *cert_pem, const struct crypto_key *k);

#endif
