/* names.c: subjectAltName GeneralNames -> DNS and IP text, shared by CSRs and certs. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *crypto_ip_to_text(const unsigned char *b, size_t len)
{
    char buf[INET6_ADDRSTRLEN];
    int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
    if (!af || !inet_ntop(af, b, buf, sizeof buf))
        return NULL;
    return strdup(buf);
}

static const char *gen_type_name(int type)
{
    switch (type) {
    case GEN_EMAIL: return "email";
    case GEN_URI: return "uri";
    case GEN_DIRNAME: return "directory name";
    case GEN_OTHERNAME: return "other name";
    case GEN_RID: return "registered id";
    default: return "unknown";
    }
}

/* A DNS SAN as lower-case text; refuses embedded NULs and non-printable bytes, which
 * would let "good.com\0.evil.com" pass as one name and be read as another. */
static char *dns_text(const ASN1_IA5STRING *s)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    if (n <= 0)
        return NULL;
    char *out = malloc((size_t)n + 1);
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (d[i] <= 0x20 || d[i] >= 0x7f) {
            free(out);
            return NULL;
        }
        out[i] = (char)tolower(d[i]);
    }
    out[n] = '\0';
    return out;
}

/* True when s has bytes above ASCII and no control characters: most likely a UTF-8 U-label
 * put into an IA5String, which deserves its own explanation. */
static bool utf8_name(const ASN1_IA5STRING *s)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    bool high = false;
    for (int i = 0; i < n; i++) {
        if (d[i] <= 0x20 || d[i] == 0x7f)
            return false;
        high = high || d[i] >= 0x80;
    }
    return high;
}

int crypto_names_collect(const GENERAL_NAMES *names, bool strict, const char *what,
                         char ***dns, char ***ips, struct err *e)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char *text = NULL;
        char ***into = NULL;
        if (g->type == GEN_DNS) {
            text = dns_text(g->d.dNSName);
            into = dns;
            if (!text && !strict)
                continue;
            if (!text && utf8_name(g->d.dNSName))
                return err_set(e, ERR_INVALID, "%s: a dns name in subject alternative names "
                               "is a Unicode name (U-label); certificates carry "
                               "internationalized names as A-labels (xn--...)", what);
            if (!text)
                return err_set(e, ERR_INVALID, "%s: malformed dns name in subject alternative "
                               "names", what);
        } else if (g->type == GEN_IPADD) {
            text = crypto_ip_to_text(ASN1_STRING_get0_data(g->d.iPAddress),
                                     (size_t)ASN1_STRING_length(g->d.iPAddress));
            into = ips;
            if (!text && !strict)
                continue;
            if (!text)
                return err_set(e, ERR_INVALID, "%s: malformed ip address in subject "
                               "alternative names", what);
        } else if (!strict) {
            continue;
        } else {
            return err_set(e, ERR_INVALID, "%s: unsupported subject alternative name type "
                           "(%s)", what, gen_type_name(g->type));
        }
        int rc = crypto_strv_add_unique(into, text);
        free(text);
        if (rc < 0)
            return err_set(e, ERR_INTERNAL, "%s: out of memory", what);
    }
    return 0;
}
