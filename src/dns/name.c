/* name.c: `identifiers` patterns of DNS providers and dns-01 record names. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

enum { DNS_NAME_MAX = 253, DNS_LABEL_MAX = 63 };

/* A host name (LDH labels, '_' allowed as in SRV-style owner names), lower case in out. */
static int name_check(const char *field, const char *orig, const char *s, char *out,
                      struct err *e)
{
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0)
        return err_set(e, ERR_INVALID, "%s: \"%.100s\" is not a DNS name", field, orig);
    if (len > DNS_NAME_MAX)
        return err_set(e, ERR_INVALID, "%s: \"%.100s...\" is longer than %d characters",
                       field, orig, DNS_NAME_MAX);
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return err_set(e, ERR_INVALID, "%s: \"%.100s\" has an empty label or one "
                               "ending in '-'", field, orig);
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (label == 0 && c == '-')
                return err_set(e, ERR_INVALID, "%s: \"%.100s\" has a label starting with "
                               "'-'", field, orig);
            if (++label > DNS_LABEL_MAX)
                return err_set(e, ERR_INVALID, "%s: \"%.100s\" has a label longer than %d "
                               "characters", field, orig, DNS_LABEL_MAX);
        } else if (c == '*') {
            return err_set(e, ERR_INVALID, "%s: \"%.100s\": '*' is only allowed as the whole "
                           "leftmost label (\"*.example.com\")", field, orig);
        } else {
            return err_set(e, ERR_INVALID, "%s: \"%.100s\" has a character that is not "
                           "allowed in a DNS name", field, orig);
        }
        out[i] = (char)tolower(c);
    }
    if (s[len - 1] == '-')
        return err_set(e, ERR_INVALID, "%s: \"%.100s\" has a label ending in '-'", field, orig);
    out[len] = '\0';
    return 0;
}

int dns_pattern_check(const char *field, const char *pattern, char **out, struct err *e)
{
    char buf[DNS_NAME_MAX + 3];
    const char *rest = pattern;
    size_t pre = 0;
    if (strncmp(pattern, "*.", 2) == 0) {
        rest = pattern + 2;
        memcpy(buf, "*.", 2);
        pre = 2;
    }
    if (name_check(field, pattern, rest, buf + pre, e) < 0)
        return -1;
    if (pre && !strchr(buf + pre, '.'))
        return err_set(e, ERR_INVALID, "%s: \"%.100s\": a wildcard needs at least two labels "
                       "after '*.'", field, pattern);
    if (out && !(*out = strdup(buf)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

int dns_pattern_match(const char *pattern, const char *name)
{
    size_t pl = strlen(pattern), nl = strlen(name);
    if (strncmp(pattern, "*.", 2) == 0) {
        const char *base = pattern + 1;     /* ".example.com" */
        size_t bl = pl - 1;
        if (nl > bl && strcmp(name + nl - bl, base) == 0)
            return (int)pl;
        return 0;
    }
    return strcmp(pattern, name) == 0 ? (int)pl + 1 : 0;
}

int dns_challenge_name(const char *identifier, char *buf, size_t cap, struct err *e)
{
    const char *base = strncmp(identifier, "*.", 2) == 0 ? identifier + 2 : identifier;
    size_t bl = strlen(base);
    bool dot = bl > 0 && base[bl - 1] == '.';
    int n = snprintf(buf, cap, "_acme-challenge.%s%s", base, dot ? "" : ".");
    if (n < 0 || (size_t)n >= cap || bl == 0)
        return err_set(e, ERR_INVALID, "identifier: \"%.100s\" is not a DNS name", identifier);
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}
