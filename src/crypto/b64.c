/* b64.c: base64 (RFC 4648 section 4) and base64url (section 5) by hand: OpenSSL's
 * EVP_Encode* inserts newlines and has no url alphabet. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const char *alphabet, bool pad, const void *data, size_t len)
{
    const unsigned char *in = data;
    if (len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t j = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[j++] = alphabet[v >> 18 & 63];
        out[j++] = alphabet[v >> 12 & 63];
        out[j++] = alphabet[v >> 6 & 63];
        out[j++] = alphabet[v & 63];
    }
    size_t rest = len - i;
    if (rest) {
        unsigned v = (unsigned)in[i] << 16 | (rest == 2 ? (unsigned)in[i + 1] << 8 : 0);
        out[j++] = alphabet[v >> 18 & 63];
        out[j++] = alphabet[v >> 12 & 63];
        if (rest == 2)
            out[j++] = alphabet[v >> 6 & 63];
        else if (pad)
            out[j++] = '=';
        if (pad)
            out[j++] = '=';
    }
    out[j] = '\0';
    return out;
}

static int b64_value(const char *alphabet, char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Decodes with or without '=' padding (padding, if present, must be right). */
static int b64_decode(const char *alphabet, const char *what, const char *s,
                      unsigned char **out, size_t *out_len, struct err *e)
{
    *out = NULL;
    *out_len = 0;
    if (!s)
        return err_set(e, ERR_INVALID, "%s: missing", what);
    size_t len = strlen(s);
    size_t pads = 0;
    while (len > 0 && s[len - 1] == '=' && pads < 2) {
        len--;
        pads++;
    }
    if (pads && (len + pads) % 4 != 0)
        return err_set(e, ERR_INVALID, "%s: bad padding", what);
    if (len % 4 == 1)
        return err_set(e, ERR_INVALID, "%s: truncated", what);
    unsigned char *buf = malloc(len / 4 * 3 + 3);
    if (!buf)
        return err_set(e, ERR_INTERNAL, "%s: out of memory", what);
    size_t j = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(alphabet, s[i]);
        if (v < 0) {
            free(buf);
            return err_set(e, ERR_INVALID, "%s: invalid character at offset %zu", what, i);
        }
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[j++] = (unsigned char)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = j;
    return 0;
}

char *crypto_b64url_encode(const void *data, size_t len)
{
    return b64_encode(url_alphabet, false, data, len);
}

int crypto_b64url_decode(const char *s, unsigned char **out, size_t *out_len, struct err *e)
{
    return b64_decode(url_alphabet, "base64url", s, out, out_len, e);
}

char *crypto_b64_encode(const void *data, size_t len)
{
    return b64_encode(std_alphabet, true, data, len);
}

int crypto_b64_decode(const char *s, unsigned char **out, size_t *out_len, struct err *e)
{
    return b64_decode(std_alphabet, "base64", s, out, out_len, e);
}

char *crypto_sha256_b64url(const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!s || !EVP_Digest(s, strlen(s), md, &md_len, EVP_sha256(), NULL))
        return NULL;
    return crypto_b64url_encode(md, md_len);
}
