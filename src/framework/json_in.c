/* json_in.c: the request body's JSON text -> a cJSON object, refusing what cJSON would
 * silently change.
 *
 * cJSON decodes "\u0000" into a C NUL inside valuestring, so every later strdup/strcmp sees
 * a shorter string than the client sent ("www.example.com\u0000.evil.org" would order
 * www.example.com). cJSON keeps no lengths, so the text is scanned first, with the lengths
 * it has: every string literal is decoded just far enough to find NUL, other control
 * characters and invalid UTF-8, and the top-level member it belongs to is named in the
 * error. The scan also measures nesting, so a too-deep body gets its own message instead
 * of cJSON's generic failure. Line breaks and tabs are left for the field rules
 * (fw_text_check in data.c): only multi-line (PEM) fields may carry them. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* What the scan found wrong, first problem only. */
struct scan_state {
    const unsigned char *p, *end;
    int depth;
    bool expect_key;          /* at depth 1: the next string is a member name */
    char key[80];             /* the current top-level member name, for messages */
    bool key_cut;
};

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* U+0000-U+001F except tab, LF, CR; DEL; the C1 range. */
static bool forbidden_control(uint32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r')
        return false;
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Length of the valid UTF-8 sequence at p (1-4) with its code point, or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    size_t n;
    uint32_t v, min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    } else if ((p[0] & 0xe0) == 0xc0) {
        n = 2; v = p[0] & 0x1f; min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3; v = p[0] & 0x0f; min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4; v = p[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

static void where(const struct scan_state *s, bool in_key, char *buf, size_t len)
{
    if (s->depth == 0 || in_key || !s->key[0])
        snprintf(buf, len, "a field name");
    else
        snprintf(buf, len, "field \"%s%s\"", s->key, s->key_cut ? "..." : "");
}

static int bad_char(const struct scan_state *s, bool in_key, uint32_t cp, struct err *e)
{
    char w[128];
    where(s, in_key, w, sizeof w);
    if (cp == 0)
        return err_set(e, ERR_INVALID, "%s contains a NUL character (U+0000); control "
                       "characters are not allowed", w);
    return err_set(e, ERR_INVALID, "%s contains the control character U+%04X, which is not "
                   "allowed", w, (unsigned)cp);
}

/* Scans one string literal; s->p is just past the opening quote. Records it as the current
 * member name when it is one. */
static int scan_string(struct scan_state *s, bool is_key, struct err *e)
{
    size_t klen = 0;
    if (is_key) {
        s->key[0] = '\0';
        s->key_cut = false;
    }
    while (s->p < s->end && *s->p != '"') {
        uint32_t cp;
        size_t n = 1;
        if (*s->p == '\\') {
            if (s->end - s->p < 2)
                return 0;   /* truncated: cJSON reports it */
            unsigned char c = s->p[1];
            n = 2;
            cp = c == 'b' ? 0x08 : c == 'f' ? 0x0c : c == 'n' ? '\n' : c == 'r' ? '\r'
               : c == 't' ? '\t' : c;
            if (c == 'u') {
                if (s->end - s->p < 6)
                    return 0;
                cp = 0;
                for (int i = 2; i < 6; i++) {
                    int h = hexval(s->p[i]);
                    if (h < 0)
                        return 0;   /* cJSON refuses the escape */
                    cp = (cp << 4) | (uint32_t)h;
                }
                n = 6;
            }
        } else if (*s->p < 0x20) {
            cp = *s->p;   /* a raw control byte: JSON forbids it, cJSON would take it */
            if (cp == '\t' || cp == '\n' || cp == '\r')
                return bad_char(s, is_key, cp, e);
        } else {
            n = utf8_seq(s->p, s->end, &cp);
            if (n == 0) {
                char w[128];
                where(s, is_key, w, sizeof w);
                return err_set(e, ERR_INVALID, "%s is not valid UTF-8", w);
            }
        }
        if (forbidden_control(cp))
            return bad_char(s, is_key, cp, e);
        if (is_key) {
            /* the name as sent, for messages; escapes kept as text */
            for (size_t i = 0; i < n; i++) {
                if (klen + 1 < sizeof s->key)
                    s->key[klen++] = (char)s->p[i];
                else
                    s->key_cut = true;
            }
            s->key[klen] = '\0';
        }
        s->p += n;
    }
    if (s->p < s->end)
        s->p++;   /* closing quote */
    return 0;
}

static int scan_text(struct scan_state *s, struct err *e)
{
    while (s->p < s->end) {
        unsigned char c = *s->p++;
        switch (c) {
        case '{':
        case '[':
            if (++s->depth > FW_JSON_MAX_DEPTH)
                return err_set(e, ERR_INVALID, "request data is nested too deeply: more "
                               "than %d levels of objects and arrays", FW_JSON_MAX_DEPTH);
            if (s->depth == 1)
                s->expect_key = c == '{';
            break;
        case '}':
        case ']':
            s->depth--;
            break;
        case ',':
            if (s->depth == 1)
                s->expect_key = true;
            break;
        case ':':
            if (s->depth == 1)
                s->expect_key = false;
            break;
        case '"':
            if (scan_string(s, s->depth == 1 && s->expect_key, e) != 0)
                return -1;
            break;
        default:
            break;
        }
    }
    return 0;
}

int fw_request_data_parse(const char *text, size_t len, cJSON **out, struct err *e)
{
    *out = NULL;
    if (!text || len == 0 || (len == 4 && memcmp(text, "null", 4) == 0))
        return 0;
    struct scan_state s = { .p = (const unsigned char *)text,
                            .end = (const unsigned char *)text + len };
    if (scan_text(&s, e) != 0)
        return -1;
    cJSON *d = cJSON_ParseWithLength(text, len);
    if (!d)
        return err_set(e, ERR_INVALID, "request data is not valid JSON");
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        return err_set(e, ERR_INVALID, "request data is not a JSON object");
    }
    *out = d;
    return 0;
}

int fw_text_check(const char *s, bool multiline, struct err *e)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            if (multiline)
                continue;
            return err_set(e, ERR_INVALID, "contains the control character U+%04X; only "
                           "multi-line fields may hold line breaks or tabs", (unsigned)*p);
        }
        if (*p < 0x20 || *p == 0x7f)
            return err_set(e, ERR_INVALID, "contains the control character U+%04X, which is "
                           "not allowed", (unsigned)*p);
    }
    return 0;
}
