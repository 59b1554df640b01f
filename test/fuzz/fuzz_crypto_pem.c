/* fuzz_crypto_pem.c: PEM and DER from CAs and users: certificate chains, certificates,
 * CSRs, private keys, serial numbers. The first byte picks the parser, so the corpus of one
 * does not starve the others. */
#include "fuzz_util.h"

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    if (!s)
        return 0;
    struct err e = { 0 };
    switch (data[0] % 6) {
    case 0: {
        char **certs = NULL;
        if (crypto_pem_split(s, &certs, &e) == 0)
            crypto_strv_free(certs);
        break;
    }
    case 1: {
        struct crypto_cert_info ci;
        if (crypto_cert_parse(s, &ci, &e) == 0)
            crypto_cert_info_clear(&ci);
        unsigned char *der = NULL;
        size_t len = 0;
        if (crypto_cert_pem_to_der(s, &der, &len, &e) == 0)
            free(der);
        break;
    }
    case 2: {
        char *pem = NULL;
        if (crypto_cert_der_to_pem(data + 1, size - 1, &pem, &e) == 0)
            free(pem);
        break;
    }
    case 3: {
        struct crypto_csr_info ci;
        if (crypto_csr_parse(s, size - 1, &ci, &e) == 0)
            crypto_csr_info_clear(&ci);
        break;
    }
    case 4: {
        struct crypto_key *k = NULL;
        if (crypto_key_from_pem(s, size - 1, &k, &e) == 0)
            crypto_key_free(k);
        break;
    }
    default: {
        char *out = NULL;
        if (crypto_serial_normalize(s, &out, &e) == 0)
            free(out);
        break;
    }
    }
    free(s);
    return 0;
}
