/* crypto_fixtures.h: test helpers for src/crypto: keys made once per process, certificates
 * and CSRs built directly with OpenSSL (not with the code under test). */
#ifndef PKIEXT_CRYPTO_FIXTURES_H
#define PKIEXT_CRYPTO_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"

/* A key of type t, made on first use and kept for the life of the process: generated, but
 * RSA-4096 and RSA-8192 (seconds to generate) are imported from the fixed PEMs below.
 * Borrowed: never free it. Aborts the test run if that fails. */
const struct crypto_key *fixture_key(enum crypto_key_type t);
extern const char fixture_rsa4096_pem[], fixture_rsa8192_pem[];

/* A self-signed certificate for k (new PEM string, free()): subject CN=cn (NULL: none),
 * SANs from the NULL-terminated lists (NULL ok), the given serial bytes, valid from
 * not_before (unix seconds) for `days` days, O=Fixture Org, SKI and AKI set.
 * NULL on failure. */
char *fixture_self_signed(const struct crypto_key *k, const char *cn,
                          const char *const *dns, const char *const *ips,
                          const unsigned char *serial, size_t serial_len, long not_before,
                          int days);

/* A CSR (new PEM) signed by a new RSA key of `bits` bits, built with OpenSSL directly so
 * what our builder refuses can be made: subject CN=cn (NULL: none), SANs from an
 * OpenSSL config string such as "DNS:a.example,IP:192.0.2.1,email:x@y" (NULL: none).
 * NULL on failure. */
char *fixture_rsa_csr(int bits, const char *cn, const char *sans);

/* True when the NULL-terminated vector v (a parsed certificate's or CSR's names) is want,
 * its items joined by '|' ("" for none); false when v is NULL. */
bool fixture_strv_is(char **v, const char *want);

/* Returns a new PEM of `label` around der (free()). */
char *fixture_pem(const char *label, const unsigned char *der, size_t der_len);

/* Runs `openssl <args>` through the shell and returns its stdout (new, trimmed). */
char *fixture_openssl(const char *args);

#endif
