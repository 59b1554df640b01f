/* util.c: small helpers the other crypto files share (errors, BIOs, hex, string vectors). */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

int crypto_ossl_err(struct err *e, const char *what)
{
    /* The last error is the most specific one; the queue is drained so that a later,
     * unrelated failure on this thread does not report a stale reason. */
    unsigned long code = ERR_peek_last_error();
    char buf[256] = "unknown error";
    if (code)
        ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    return err_set(e, ERR_INTERNAL, "%s: %s", what, buf);
}

int crypto_pem_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;   /* the read fails instead of asking */
}

BIO *crypto_bio_from(const char *s, size_t len, const char *what, struct err *e)
{
    if (!s || len == 0) {
        err_set(e, ERR_INVALID, "%s: empty", what);
        return NULL;
    }
    if (len > CRYPTO_MAX_INPUT) {
        err_set(e, ERR_INVALID, "%s: too large (%zu bytes)", what, len);
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(s, (int)len);
    if (!b)
        crypto_ossl_err(e, what);
    return b;
}

char *crypto_bio_take(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0)
        return NULL;
    char *out = malloc((size_t)n + 1);
    if (!out)
        return NULL;
    if (n > 0)
        memcpy(out, data, (size_t)n);
    out[n] = '\0';
    return out;
}

char *crypto_hex_colon(const unsigned char *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(len ? len * 3 : 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (i)
            out[j++] = ':';
        out[j++] = digits[bytes[i] >> 4];
        out[j++] = digits[bytes[i] & 0x0f];
    }
    out[j] = '\0';
    return out;
}

void crypto_strv_free(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

int crypto_strv_add_unique(char ***v, const char *s)
{
    size_t n = 0;
    if (*v) {
        for (; (*v)[n]; n++)
            if (strcasecmp((*v)[n], s) == 0)
                return 0;
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    char **grown = realloc(*v, (n + 2) * sizeof *grown);
    if (!grown) {
        free(copy);
        return -1;
    }
    grown[n] = copy;
    grown[n + 1] = NULL;
    *v = grown;
    return 0;
}
