/* fuzz_b64_jws.c: base64url and base64 (EAB keys, JWS parts, ACME tokens) and the JWS
 * signature checker on arbitrary signatures. */
#include "fuzz_util.h"

#include <openssl/evp.h>

#include "../../src/crypto/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    struct err e = { 0 };
    unsigned char *out = NULL;
    size_t n = 0;
    if (crypto_b64url_decode(s, &out, &n, &e) == 0) {
        char *back = crypto_b64url_encode(out, n);
        free(back);
        free(out);
    }
    out = NULL;
    if (crypto_b64_decode(s, &out, &n, &e) == 0)
        free(out);
    /* an ECDSA signature of any shape against a fixed P-256 key */
    static EVP_PKEY *key;
    if (!key)
        key = EVP_EC_gen("P-256");
    if (key) {
        crypto_jws_verify_raw(key, "e30.e30", data, size, &e);
        unsigned char *der = NULL, *raw = NULL;
        size_t dl = 0, rl = 0;
        if (crypto_ecdsa_raw_to_der(data, size, &der, &dl, &e) == 0) {
            if (crypto_ecdsa_der_to_raw(der, dl, 32, &raw, &rl, &e) == 0)
                free(raw);
            free(der);
        }
        raw = NULL;
        if (crypto_ecdsa_der_to_raw(data, size, 32, &raw, &rl, &e) == 0)
            free(raw);
    }
    free(s);
    return 0;
}
