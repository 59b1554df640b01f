/* pem_field.c: the shape check of PEM-valued fields (struct fw_field.pem).
 *
 * A field documented as "PEM CA certificates" must not become a place where a private key
 * is stored and echoed back on every read. The framework checks the shape only: blocks with
 * an allowed label, base64 inside, nothing between or around them but whitespace. Whether
 * the DER inside parses is the handler's business (crypto/). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

static bool label_allowed(const char *label, size_t n, const char *const *labels)
{
    for (const char *const *l = labels; *l; l++) {
        if (strlen(*l) == n && memcmp(*l, label, n) == 0)
            return true;
    }
    return false;
}

static void list_labels(const char *const *labels, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const char *const *l = labels; *l && o < len; l++) {
        int n = snprintf(buf + o, len - o, "%s%s", l == labels ? "" : " or ", *l);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static bool base64_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '/' || c == '=' || isspace(c);
}

int fw_pem_check(const char *s, const char *const *labels, struct err *e)
{
    static const char begin[] = "-----BEGIN ", end_tag[] = "-----END ", dashes[] = "-----";
    char allowed[160];
    const char *p = skip_space(s);
    size_t nblocks = 0;

    list_labels(labels, allowed, sizeof allowed);
    while (*p) {
        if (strncmp(p, begin, sizeof begin - 1) != 0) {
            return err_set(e, ERR_INVALID, "is not PEM: expected only %s blocks, found text "
                           "%s a block", allowed, nblocks ? "after" : "before");
        }
        const char *label = p + sizeof begin - 1;
        const char *close = strstr(label, dashes);
        const char *nl = strpbrk(label, "\r\n");
        if (!close || (nl && nl < close))
            return err_set(e, ERR_INVALID, "is not PEM: a BEGIN line is malformed");
        size_t n = (size_t)(close - label);
        if (!label_allowed(label, n, labels))
            return err_set(e, ERR_INVALID, "holds a %.*s block; only %s blocks are accepted",
                           (int)(n > 64 ? 64 : n), label, allowed);
        const char *body = close + sizeof dashes - 1;
        const char *end = strstr(body, end_tag);
        if (!end)
            return err_set(e, ERR_INVALID, "is not PEM: the %.*s block has no END line",
                           (int)n, label);
        for (const char *c = body; c < end; c++) {
            if (!base64_char((unsigned char)*c))
                return err_set(e, ERR_INVALID, "is not PEM: the %.*s block holds text "
                               "that is not base64", (int)n, label);
        }
        const char *elabel = end + sizeof end_tag - 1;
        if (strncmp(elabel, label, n) != 0 || strncmp(elabel + n, dashes, sizeof dashes - 1))
            return err_set(e, ERR_INVALID, "is not PEM: the %.*s block ends with a "
                           "different END line", (int)n, label);
        p = skip_space(elabel + n + sizeof dashes - 1);
        nblocks++;
    }
    return 0;
}
