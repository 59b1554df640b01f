/* serial.c: certificate serial numbers in Vault's form, lower-case colon-separated hex
 * ("03:e7:1f:..."), the form Vault's PKI writes and looks certificates up by. */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *crypto_serial_format(const unsigned char *bytes, size_t len)
{
    /* Vault formats big.Int.Bytes(): minimal big-endian, so a zero serial is one byte. */
    static const unsigned char zero = 0;
    return len ? crypto_hex_colon(bytes, len) : crypto_hex_colon(&zero, 1);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Separated form: groups of one or two hex digits between single ':' or '-' (one kind). */
static int serial_groups(const char *in, char sep, unsigned char *bytes, size_t *n)
{
    *n = 0;
    const char *p = in;
    for (;;) {
        int hi = hex_value(p[0]);
        if (hi < 0)
            return -1;
        int lo = p[1] && p[1] != sep ? hex_value(p[1]) : -2;
        if (lo == -1)
            return -1;
        bytes[(*n)++] = (unsigned char)(lo == -2 ? hi : hi << 4 | lo);
        p += lo == -2 ? 1 : 2;
        if (*p == '\0')
            return 0;
        if (*p != sep || p[1] == '\0')
            return -1;
        p++;
    }
}

/* Plain hex; an odd digit count means a leading zero nibble was left out. */
static int serial_plain(const char *in, size_t len, unsigned char *bytes, size_t *n)
{
    *n = 0;
    size_t i = 0;
    if (len % 2) {
        int v = hex_value(in[0]);
        if (v < 0)
            return -1;
        bytes[(*n)++] = (unsigned char)v;
        i = 1;
    }
    for (; i < len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        bytes[(*n)++] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int crypto_serial_normalize(const char *in, char **out, struct err *e)
{
    *out = NULL;
    if (!in || !in[0])
        return err_set(e, ERR_INVALID, "serial: empty");
    size_t len = strlen(in);
    /* RFC 5280 serials are at most 20 octets; allow slack for a sign byte and sloppy
     * input while keeping the buffer bounded. */
    if (len > 128)
        return err_set(e, ERR_INVALID, "serial: too long");
    unsigned char bytes[128];
    size_t n = 0;
    bool colon = strchr(in, ':') != NULL, hyphen = strchr(in, '-') != NULL;
    int rc;
    if (colon && hyphen)
        rc = -1;
    else if (colon || hyphen)
        rc = serial_groups(in, colon ? ':' : '-', bytes, &n);
    else
        rc = serial_plain(in, len, bytes, &n);
    if (rc < 0)
        return err_set(e, ERR_INVALID, "serial: \"%.64s\" is not hex (colon, hyphen or plain)",
                       in);
    /* Stored serials never start with a zero byte (see crypto_serial_format), so one
     * copied with the DER sign byte ("00:8f:...") still finds its certificate. */
    size_t skip = 0;
    while (n - skip > 1 && bytes[skip] == 0)
        skip++;
    *out = crypto_hex_colon(bytes + skip, n - skip);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "serial: out of memory");
    return 0;
}
