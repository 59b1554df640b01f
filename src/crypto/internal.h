/* internal.h: what the files of src/crypto share; not part of the contract (crypto.h).
 * Unit tests may include it to reach the conversions they check against RFC vectors. */
#ifndef PKIEXT_CRYPTO_INTERNAL_H
#define PKIEXT_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "crypto.h"

/* Owns pkey. `type` is NONE only for keys built by tests from public-only material. */
struct crypto_key {
    EVP_PKEY *pkey;
    enum crypto_key_type type;
};

/* Inputs larger than this are refused before OpenSSL sees them: no key, CSR or chain we
 * handle comes near it, and BIOs take an int length. */
#define CRYPTO_MAX_INPUT (4u * 1024 * 1024)

/* Fills *e with ERR_INTERNAL "<what>: <OpenSSL's error string>" and empties the
 * thread's OpenSSL error queue. Returns -1. */
int crypto_ossl_err(struct err *e, const char *what);

/* The enum type of a key; *ok false and *why filled ("rsa key of 1024 bits is too small",
 * "ec curve secp256k1 is not supported", ...) when it is not one we accept. `min_only`
 * accepts any RSA size >= 2048 (CSRs: the CA judges the rest), reported as NONE when it
 * has no enum value (e.g. RSA-3072). */
enum crypto_key_type crypto_pkey_classify(const EVP_PKEY *pkey, bool min_only, char *why,
                                          size_t why_len, bool *ok);

/* The digest a key's JWS algorithm uses (SHA-256/384/512). */
const EVP_MD *crypto_pkey_jws_md(const EVP_PKEY *pkey);
/* Width in bytes of one ECDSA coordinate for the key's curve (32/48/66); 0 for RSA. */
size_t crypto_pkey_ec_width(const EVP_PKEY *pkey);

/* ECDSA signature conversions between DER (what OpenSSL speaks) and JOSE's raw r||s with
 * each half left-padded to `width` bytes. *out is new (free()). */
int crypto_ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t width,
                            unsigned char **out, size_t *out_len, struct err *e);
int crypto_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **out,
                            size_t *out_len, struct err *e);

/* Verifies a JWS signature (raw r||s for EC) over `input` with the key's JWS algorithm:
 * 0 when valid, -1 with ERR_INVALID when not. For tests and self-checks. */
int crypto_jws_verify_raw(const EVP_PKEY *pkey, const char *input, const unsigned char *sig,
                          size_t sig_len, struct err *e);

/* Colon-separated lower-case hex of bytes (new string; "" for len 0). NULL on OOM. */
char *crypto_hex_colon(const unsigned char *bytes, size_t len);

/* Appends the DNS names and IP addresses of a GeneralNames to the NULL-terminated vectors
 * *dns / *ips (grown with realloc, lower-cased DNS, duplicates skipped). Other name types
 * are refused with ERR_INVALID naming the type when `strict` (CSRs: they cannot become
 * ACME identifiers), skipped otherwise (certificates). Messages start with `what`. */
int crypto_names_collect(const GENERAL_NAMES *names, bool strict, const char *what,
                         char ***dns, char ***ips, struct err *e);
/* Appends a copy of s to the NULL-terminated vector *v unless already present
 * (case-insensitive). 0, or -1 on OOM. */
int crypto_strv_add_unique(char ***v, const char *s);
/* IP address in an OCTET STRING (4 or 16 bytes) to text; NULL if not an address. */
char *crypto_ip_to_text(const unsigned char *b, size_t len);

/* PEM password callback that refuses: OpenSSL's default would prompt on a terminal. */
int crypto_pem_no_passphrase(char *buf, int size, int rwflag, void *u);

/* A read-only memory BIO over s (borrowed: s must outlive it), after refusing empty and
 * oversized input with ERR_INVALID "<what>: ..."; NULL with *e set. */
BIO *crypto_bio_from(const char *s, size_t len, const char *what, struct err *e);
/* Takes everything written to a memory BIO as a new NUL-terminated string. */
char *crypto_bio_take(BIO *b);

#endif
