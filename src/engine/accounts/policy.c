/* policy.c: which identifiers a role may order. Names are compared in one canonical form
 * (lower case, no trailing dot, every Unicode label as its IDNA "xn--" A-label) so that
 * "Räksmörgås.SE." and "xn--rksmrgs-5wao1o.se" are the same name. The matching rules are
 * the overview's table (spec 001, "Domain matching behavior"); test/unit/test_engine_policy.c
 * replays it row by row. */
#include "../internal.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { POLICY_MAX_NAME = 253, POLICY_MAX_LABEL = 63, POLICY_MAX_CP = 256 };

/* ---- canonical form ------------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s (len bytes left); returns its length, 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2, c = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3, c = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Simple lower-casing for the scripts people put in host names (Latin-1, Latin
 * Extended-A, Greek, Cyrillic). Full IDNA2008 mapping needs Unicode tables we do not
 * carry; anything else is compared as given. */
static uint32_t cp_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 0x20;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 0x20;
    if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return (c & 1) ? c : c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42f)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40f)
        return c + 0x50;
    return c;
}

static bool ldh_char(char c, bool pattern)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (pattern && c == '*');
}

/* Checks an ASCII label (already lower case) and appends it to out. `label` has no NUL. */
static int label_check_ascii(const char *label, size_t len, bool pattern, struct err *e)
{
    if (len == 0)
        return err_set(e, ERR_INVALID, "empty label");
    if (len > POLICY_MAX_LABEL)
        return err_set(e, ERR_INVALID, "label longer than 63 characters");
    for (size_t i = 0; i < len; i++)
        if (!ldh_char(label[i], pattern))
            return err_set(e, ERR_INVALID, "invalid character '%c' in label", label[i]);
    if (label[0] == '-' || label[len - 1] == '-')
        return err_set(e, ERR_INVALID, "label starts or ends with '-'");
    if (len >= 4 && label[2] == '-' && label[3] == '-') {
        if (label[0] != 'x' || label[1] != 'n')
            return err_set(e, ERR_INVALID, "label has '--' in positions 3 and 4");
        /* An A-label must be the canonical encoding of a lower-case U-label. */
        uint32_t cp[POLICY_MAX_CP];
        size_t n = POLICY_MAX_CP;
        char again[POLICY_MAX_LABEL + 1];
        if (memchr(label, '*', len))
            return err_set(e, ERR_INVALID, "'*' inside an xn-- label");
        if (punycode_decode(label + 4, len - 4, cp, &n, e) < 0)
            return err_wrap(e, "invalid punycode label");
        bool unicode = false;
        for (size_t i = 0; i < n; i++) {
            if (cp_lower(cp[i]) != cp[i])
                return err_set(e, ERR_INVALID, "invalid punycode label: not canonical");
            if (cp[i] >= 0x80)
                unicode = true;
            else if (!ldh_char((char)cp[i], false))
                return err_set(e, ERR_INVALID, "invalid punycode label: bad character");
        }
        if (!unicode)
            return err_set(e, ERR_INVALID, "invalid punycode label: no unicode in it");
        if (punycode_encode(cp, n, again, sizeof again, e) < 0)
            return err_wrap(e, "invalid punycode label");
        if (strlen(again) != len - 4 || memcmp(again, label + 4, len - 4) != 0)
            return err_set(e, ERR_INVALID, "invalid punycode label: not canonical");
    }
    return 0;
}

/* One label of `in` (no dots, len bytes) to its canonical ASCII form in out (cap bytes). */
static int label_canon(const char *in, size_t len, bool pattern, char *out, size_t cap,
                       struct err *e)
{
    uint32_t cp[POLICY_MAX_CP];
    size_t n = 0;
    bool unicode = false;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = utf8_decode((const unsigned char *)in + i, len - i, &c);
        if (k == 0)
            return err_set(e, ERR_INVALID, "invalid utf-8");
        if (n >= POLICY_MAX_CP)
            return err_set(e, ERR_INVALID, "label too long");
        c = cp_lower(c);
        if (c >= 0x80)
            unicode = true;
        else if (!ldh_char((char)c, pattern))
            return err_set(e, ERR_INVALID, "invalid character '%c' in label", (char)c);
        cp[n++] = c;
        i += k;
    }
    if (!unicode) {
        if (n + 1 > cap)
            return err_set(e, ERR_INVALID, "label too long");
        for (size_t i = 0; i < n; i++)
            out[i] = (char)cp[i];
        out[n] = '\0';
        return label_check_ascii(out, n, pattern, e);
    }
    for (size_t i = 0; i < n; i++)
        if (cp[i] == '*')
            return err_set(e, ERR_INVALID, "'*' inside an internationalized label");
    if (cap < 5)
        return err_set(e, ERR_INVALID, "label too long");
    memcpy(out, "xn--", 4);
    if (punycode_encode(cp, n, out + 4, cap - 4, e) < 0)
        return -1;
    return label_check_ascii(out, strlen(out), pattern, e);
}

int policy_name_canon(const char *in, bool pattern, char **out, struct err *e)
{
    size_t len = strlen(in);
    *out = NULL;
    if (len > 4 * POLICY_MAX_NAME)
        return err_set(e, ERR_INVALID, "name too long");
    if (len > 0 && in[len - 1] == '.')
        len--;   /* a fully qualified name is the same name */
    if (len == 0)
        return err_set(e, ERR_INVALID, "empty name");
    char buf[POLICY_MAX_NAME + 2];
    size_t o = 0;
    for (size_t start = 0; start <= len;) {
        const char *dot = memchr(in + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - in) : len;
        char label[POLICY_MAX_LABEL + 2];
        if (end == start)
            return err_set(e, ERR_INVALID, "empty label");
        if (label_canon(in + start, end - start, pattern, label, sizeof label, e) < 0)
            return -1;
        size_t ll = strlen(label);
        if (o + ll + (o ? 1 : 0) > POLICY_MAX_NAME)
            return err_set(e, ERR_INVALID, "name longer than 253 characters");
        if (o)
            buf[o++] = '.';
        memcpy(buf + o, label, ll);
        o += ll;
        start = end + 1;
    }
    buf[o] = '\0';
    *out = strdup(buf);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

int policy_identifier_canon(const char *in, char **out, struct err *e)
{
    unsigned char ip[16];
    *out = NULL;
    if (inet_pton(AF_INET, in, ip) == 1 || inet_pton(AF_INET6, in, ip) == 1)
        return err_set(e, ERR_INVALID, "an IP address is not a DNS name (roles admit IP "
                       "addresses through allowed_ip_ranges)");
    bool wild = strncmp(in, "*.", 2) == 0;
    char *rest = NULL;
    if (policy_name_canon(wild ? in + 2 : in, false, &rest, e) < 0)
        return -1;
    if (!wild) {
        *out = rest;
        return 0;
    }
    size_t n = strlen(rest) + 3;
    *out = malloc(n);
    if (!*out) {
        free(rest);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    snprintf(*out, n, "*.%s", rest);
    free(rest);
    return 0;
}

/* ---- matching --------------------------------------------------------------------------- */

/* '*' matches any run of characters, dots included (Vault's go-glob semantics). */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* True when `name` is a proper subdomain of `parent` (label boundary, not a suffix). */
static bool is_subdomain(const char *name, const char *parent)
{
    size_t n = strlen(name), p = strlen(parent);
    return n > p + 1 && name[n - p - 1] == '.' && strcmp(name + n - p, parent) == 0;
}

/* The rules, read from the overview's matching table as a whole (its notes included):
 *   no option      an entry allows exactly its own name ("foo.example.com | none" allows
 *                  foo.example.com); '*' in an entry is then a literal, matching nothing
 *   bare_domains   the same exact match, kept when other options are set (on its own it
 *                  "does nothing" beyond the default; with subdomains it re-admits the
 *                  parent, which subdomains alone forbids)
 *   subdomains     names below an entry (any depth), not the entry itself
 *   wildcards      wildcard identifiers "*.D" for an entry "*.D" (and, with subdomains, for
 *                  an entry D or its parents), plus www.D; required for any "*." identifier
 *   globs          '*' in an entry matches any run of characters, dots included */
bool policy_entry_allows(const char *entry, unsigned opts, const char *ident)
{
    bool ident_wild = strncmp(ident, "*.", 2) == 0;
    bool entry_glob = strchr(entry, '*') != NULL;
    bool exact = (opts & ROLE_DOM_BARE) ||
                 !(opts & (ROLE_DOM_SUBDOMAINS | ROLE_DOM_WILDCARDS | ROLE_DOM_GLOBS));
    if (ident_wild) {
        /* A wildcard certificate needs the wildcards option whatever else matches. */
        if (!(opts & ROLE_DOM_WILDCARDS))
            return false;
        if (strcmp(entry, ident) == 0)
            return true;
        if ((opts & ROLE_DOM_GLOBS) && entry_glob && glob_match(entry, ident))
            return true;
        /* *.D covers D's children, which subdomains of D already allows. */
        return (opts & ROLE_DOM_SUBDOMAINS) && !entry_glob &&
               (strcmp(ident + 2, entry) == 0 || is_subdomain(ident + 2, entry));
    }
    if (!entry_glob) {
        if (exact && strcmp(entry, ident) == 0)
            return true;
        return (opts & ROLE_DOM_SUBDOMAINS) && is_subdomain(ident, entry);
    }
    if ((opts & ROLE_DOM_GLOBS) && glob_match(entry, ident))
        return true;
    /* The overview's www rule: "*.D" with wildcards also allows www.D (the name a
     * wildcard certificate is most often for); other children of D stay refused, as
     * the matching table's "*.example.com | wildcards" row requires. */
    if ((opts & ROLE_DOM_WILDCARDS) && strncmp(entry, "*.", 2) == 0 &&
        strncmp(ident, "www.", 4) == 0 && strcmp(ident + 4, entry + 2) == 0)
        return true;
    return false;
}

int policy_check(const char *const *entries, size_t n_entries, unsigned opts,
                 const char *identifier, struct err *e)
{
    char *ident = NULL;
    if (policy_identifier_canon(identifier, &ident, e) < 0)
        return err_wrap(e, "identifiers: %.100s", identifier);
    bool ok = false;
    for (size_t i = 0; i < n_entries && !ok; i++) {
        char *entry = NULL;
        struct err ignored;
        /* A malformed entry allows nothing; role writes refuse them, so this only
         * happens for a template that expanded to something odd. */
        if (policy_name_canon(entries[i], true, &entry, &ignored) < 0)
            continue;
        ok = policy_entry_allows(entry, opts, ident);
        free(entry);
    }
    free(ident);
    if (!ok)
        return err_set(e, ERR_INVALID, "identifiers: %.200s is not allowed by the role",
                       identifier);
    return 0;
}

/* ---- roles ------------------------------------------------------------------------------ */

/* Resolves the role's allowed_domains for the requesting entity. Entries whose templates
 * cannot be resolved are dropped (they deny). *out is a new NULL-terminated array. */
static int role_entries_resolve(const struct role *r, const struct fw_req *req,
                                char ***out, size_t *n_out, struct err *e)
{
    size_t n = 0;
    while (r->allowed_domains && r->allowed_domains[n])
        n++;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON *entity = NULL, *groups = NULL;
    bool fetched = false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *src = r->allowed_domains[i];
        if (!template_has(src)) {
            v[k] = strdup(src);
        } else {
            if (!fetched) {
                fetched = true;
                struct err ignored;
                if (req && req->sysview && req->entity_id && req->entity_id[0]) {
                    if (req->sysview->entity_info(req->sysview->ctx, req->entity_id, &entity,
                                                  &ignored) < 0)
                        entity = NULL;
                    if (req->sysview->groups_for_entity(req->sysview->ctx, req->entity_id,
                                                        &groups, &ignored) < 0)
                        groups = NULL;
                }
            }
            struct err ignored;
            if (template_expand(src, entity, groups, &v[k], &ignored) < 0)
                continue;
        }
        if (!v[k]) {
            cJSON_Delete(entity);
            cJSON_Delete(groups);
            fw_strv_free(v);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
        k++;
    }
    cJSON_Delete(entity);
    cJSON_Delete(groups);
    *out = v;
    *n_out = k;
    return 0;
}

/* IP identifiers (RFC 8738) are not names: allowed_domains never admits them, only
 * allowed_ip_ranges does. */
static int role_check_ip(const struct role *r, const char *ip, struct err *e)
{
    if (!r->allowed_ip_ranges || !r->allowed_ip_ranges[0])
        return err_set(e, ERR_INVALID, "identifiers: %.64s is an IP address, and role %.100s "
                       "allows none (set allowed_ip_ranges to order IP addresses)", ip,
                       r->name);
    if (!ip_ranges_contain(r->allowed_ip_ranges, ip))
        return err_set(e, ERR_INVALID, "identifiers: %.64s is not inside the allowed_ip_ranges "
                       "of role %.100s", ip, r->name);
    return 0;
}

int role_check_identifiers(const struct role *r, const struct fw_req *req,
                           const char *const *identifiers, size_t n, struct err *e)
{
    char **entries = NULL;
    size_t n_entries = 0;
    if (n == 0)
        return err_set(e, ERR_INVALID, "identifiers: at least one identifier is required");
    if (role_entries_resolve(r, req, &entries, &n_entries, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (ip_is_literal(identifiers[i])) {
            rc = role_check_ip(r, identifiers[i], e);
            continue;
        }
        rc = policy_check((const char *const *)entries, n_entries, r->domain_opts,
                          identifiers[i], e);
        if (rc < 0 && e->kind == ERR_INVALID && strstr(e->msg, "is not allowed"))
            snprintf(e->msg, sizeof e->msg, "identifiers: %.200s is not allowed by role %.100s",
                     identifiers[i], r->name);
    }
    fw_strv_free(entries);
    return rc;
}

int role_check_challenge_type(const struct role *r, const char *type, struct err *e)
{
    for (size_t i = 0; r->allowed_challenge_types && r->allowed_challenge_types[i]; i++)
        if (strcmp(r->allowed_challenge_types[i], type) == 0)
            return 0;
    return err_set(e, ERR_INVALID, "challenge_type: %.40s is not allowed by role %.100s", type,
                   r->name);
}
