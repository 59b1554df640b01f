/* hmac.c: HS256/384/512 for External Account Binding (RFC 8555 section 7.3.4). */
#include "internal.h"

#include <string.h>

int crypto_hmac_b64url(const char *alg, const unsigned char *key, size_t key_len,
                       const char *data, char **sig, struct err *e)
{
    static const struct { const char *alg, *digest; } algs[] = {
        { "HS256", "SHA256" }, { "HS384", "SHA384" }, { "HS512", "SHA512" },
    };
    const char *digest = NULL;
    *sig = NULL;
    for (size_t i = 0; alg && i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(alg, algs[i].alg) == 0)
            digest = algs[i].digest;
    if (!digest)
        return err_set(e, ERR_INVALID, "hmac: unsupported algorithm %s (HS256, HS384, HS512)",
                       alg ? alg : "(none)");
    if (!data)
        return err_set(e, ERR_INVALID, "hmac: missing data");
    /* OpenSSL wants a non-NULL key pointer even for an empty key. */
    static const unsigned char empty = 0;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key_len ? key : &empty, key_len,
                   (const unsigned char *)data, strlen(data), mac, sizeof mac, &mac_len))
        return crypto_ossl_err(e, "hmac");
    *sig = crypto_b64url_encode(mac, mac_len);
    if (!*sig)
        return err_set(e, ERR_INTERNAL, "hmac: out of memory");
    return 0;
}
