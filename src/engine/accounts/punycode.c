/* punycode.c: RFC 3492 Punycode, the encoding behind IDNA "xn--" labels. Only what the
 * domain policy needs: one label at a time, bounded buffers, no allocation. The algorithm
 * and its constants are RFC 3492 section 5 and 6, transcribed. */
#include "../internal.h"

#include <string.h>

enum {
    PUNY_BASE = 36, PUNY_TMIN = 1, PUNY_TMAX = 26, PUNY_SKEW = 38, PUNY_DAMP = 700,
    PUNY_INITIAL_BIAS = 72, PUNY_INITIAL_N = 0x80
};

#define PUNY_MAXINT 0x7fffffffu

static uint32_t puny_adapt(uint32_t delta, uint32_t numpoints, bool firsttime)
{
    delta = firsttime ? delta / PUNY_DAMP : delta / 2;
    delta += delta / numpoints;
    uint32_t k = 0;
    while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

static char puny_digit_char(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* -1 when c is not a base-36 digit. Upper case is accepted (RFC 3492 3.1). */
static int puny_char_digit(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '0' && c <= '9')
        return c - '0' + 26;
    return -1;
}

static uint32_t puny_threshold(uint32_t k, uint32_t bias)
{
    if (k <= bias)
        return PUNY_TMIN;
    if (k >= bias + PUNY_TMAX)
        return PUNY_TMAX;
    return k - bias;
}

int punycode_encode(const uint32_t *cp, size_t n, char *out, size_t cap, struct err *e)
{
    size_t o = 0;
    uint32_t basic = 0;
    for (size_t j = 0; j < n; j++) {
        if (cp[j] < 0x80) {
            if (o + 1 >= cap)
                return err_set(e, ERR_INVALID, "label too long");
            out[o++] = (char)cp[j];
            basic++;
        }
    }
    uint32_t h = basic;
    if (basic > 0) {
        if (o + 1 >= cap)
            return err_set(e, ERR_INVALID, "label too long");
        out[o++] = '-';
    }
    uint32_t code = PUNY_INITIAL_N, delta = 0, bias = PUNY_INITIAL_BIAS;
    while (h < n) {
        uint32_t m = PUNY_MAXINT;
        for (size_t j = 0; j < n; j++)
            if (cp[j] >= code && cp[j] < m)
                m = cp[j];
        if (m - code > (PUNY_MAXINT - delta) / (h + 1))
            return err_set(e, ERR_INVALID, "label overflows punycode");
        delta += (m - code) * (h + 1);
        code = m;
        for (size_t j = 0; j < n; j++) {
            if (cp[j] < code && ++delta == 0)
                return err_set(e, ERR_INVALID, "label overflows punycode");
            if (cp[j] != code)
                continue;
            uint32_t q = delta;
            for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
                uint32_t t = puny_threshold(k, bias);
                if (q < t)
                    break;
                if (o + 1 >= cap)
                    return err_set(e, ERR_INVALID, "label too long");
                out[o++] = puny_digit_char(t + (q - t) % (PUNY_BASE - t));
                q = (q - t) / (PUNY_BASE - t);
            }
            if (o + 1 >= cap)
                return err_set(e, ERR_INVALID, "label too long");
            out[o++] = puny_digit_char(q);
            bias = puny_adapt(delta, h + 1, h == basic);
            delta = 0;
            h++;
        }
        delta++;
        code++;
    }
    out[o] = '\0';
    return 0;
}

int punycode_decode(const char *in, size_t len, uint32_t *cp, size_t *n, struct err *e)
{
    size_t cap = *n, out = 0;
    size_t b = 0;
    for (size_t j = 0; j < len; j++)
        if (in[j] == '-')
            b = j;
    for (size_t j = 0; j < b; j++) {
        if ((unsigned char)in[j] >= 0x80)
            return err_set(e, ERR_INVALID, "non-ascii character in punycode");
        if (out >= cap)
            return err_set(e, ERR_INVALID, "label too long");
        cp[out++] = (unsigned char)in[j];
    }
    uint32_t code = PUNY_INITIAL_N, i = 0, bias = PUNY_INITIAL_BIAS;
    for (size_t in_pos = b > 0 ? b + 1 : 0; in_pos < len;) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
            if (in_pos >= len)
                return err_set(e, ERR_INVALID, "truncated punycode");
            int digit = puny_char_digit(in[in_pos++]);
            if (digit < 0)
                return err_set(e, ERR_INVALID, "bad punycode digit");
            if ((uint32_t)digit > (PUNY_MAXINT - i) / w)
                return err_set(e, ERR_INVALID, "punycode overflow");
            i += (uint32_t)digit * w;
            uint32_t t = puny_threshold(k, bias);
            if ((uint32_t)digit < t)
                break;
            if (w > PUNY_MAXINT / (PUNY_BASE - t))
                return err_set(e, ERR_INVALID, "punycode overflow");
            w *= PUNY_BASE - t;
        }
        bias = puny_adapt(i - oldi, (uint32_t)out + 1, oldi == 0);
        if (i / (out + 1) > PUNY_MAXINT - code)
            return err_set(e, ERR_INVALID, "punycode overflow");
        code += i / (uint32_t)(out + 1);
        i %= (uint32_t)(out + 1);
        /* Decoding must yield non-basic code points only (RFC 3492 6.2: fail on a basic
         * code point produced by the variable-length part), and valid Unicode scalars. */
        if (code < 0x80 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return err_set(e, ERR_INVALID, "punycode decodes to an invalid code point");
        if (out >= cap)
            return err_set(e, ERR_INVALID, "label too long");
        memmove(cp + i + 1, cp + i, (out - i) * sizeof *cp);
        cp[i++] = code;
        out++;
    }
    *n = out;
    return 0;
}
