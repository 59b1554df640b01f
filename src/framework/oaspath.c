/* oaspath.c: turning a route pattern into the OpenAPI path strings it stands for, as Vault's
 * expandPattern does: named captures become {name}, optional parts ("x?", "(?:...)?") give
 * one path with and one without, alternations give one path per branch. Anything else
 * (character classes, repetition, dots outside captures) has no OpenAPI form. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A small set of partial paths; `bad` is set when the pattern cannot be expanded or the
 * set would exceed `max`. Owns its strings. */
struct pset {
    char **v;
    size_t n, max;
    bool bad;
};

static void pset_clear(struct pset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void pset_add(struct pset *s, const char *a, const char *b)
{
    if (s->bad)
        return;
    if (s->n >= s->max) {
        s->bad = true;
        return;
    }
    if (!s->v) {
        s->v = calloc(s->max, sizeof *s->v);
        if (!s->v) {
            s->bad = true;
            return;
        }
    }
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 1);
    if (!p) {
        s->bad = true;
        return;
    }
    memcpy(p, a, la);
    memcpy(p + la, b, lb + 1);
    s->v[s->n++] = p;
}

/* Index just past the group or class that starts at s[i] ('(' or '['), or 0 if unclosed. */
static size_t skip_group(const char *s, size_t i, size_t end)
{
    int depth = 0;
    bool in_class = false;
    for (; i < end; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (in_class) {
            if (s[i] == ']')
                in_class = false;
            continue;
        }
        if (s[i] == '[')
            in_class = true;
        else if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0)
            return i + 1;
    }
    return 0;
}

static void expand_alt(const char *s, size_t start, size_t end, struct pset *out);

/* The alternatives one atom at s[*i] stands for; advances *i past it. */
static void expand_atom(const char *s, size_t *i, size_t end, struct pset *alts)
{
    char lit[2] = { 0, 0 };
    char c = s[*i];

    if (c == '(') {
        size_t close = skip_group(s, *i, end);
        if (!close) {
            alts->bad = true;
            return;
        }
        size_t in = *i + 1, in_end = close - 1;
        *i = close;
        if (in < in_end && s[in] == '?') {
            size_t name = 0;
            if (in + 1 < in_end && s[in + 1] == '<' && in + 2 < in_end &&
                s[in + 2] != '=' && s[in + 2] != '!')
                name = in + 2;
            else if (in + 2 < in_end && s[in + 1] == 'P' && s[in + 2] == '<')
                name = in + 3;
            if (name) {
                const char *gt = memchr(s + name, '>', in_end - name);
                if (!gt) {
                    alts->bad = true;
                    return;
                }
                char buf[128];
                size_t n = (size_t)(gt - (s + name));
                if (n == 0 || n + 3 > sizeof buf) {
                    alts->bad = true;
                    return;
                }
                buf[0] = '{';
                memcpy(buf + 1, s + name, n);
                buf[n + 1] = '}';
                buf[n + 2] = '\0';
                pset_add(alts, buf, "");
                return;
            }
            if (in + 1 < in_end && s[in + 1] == ':') {
                expand_alt(s, in + 2, in_end, alts);
                return;
            }
            alts->bad = true;
            return;
        }
        expand_alt(s, in, in_end, alts);
        return;
    }
    if (c == '\\') {
        if (*i + 1 >= end || strchr("/-._~:", s[*i + 1]) == NULL) {
            alts->bad = true;
            return;
        }
        lit[0] = s[*i + 1];
        *i += 2;
        pset_add(alts, lit, "");
        return;
    }
    if (strchr("[].*+{}|?)^$", c)) {
        alts->bad = true;
        return;
    }
    lit[0] = c;
    *i += 1;
    pset_add(alts, lit, "");
}

/* A sequence of atoms without top-level '|', appended as a product to out. */
static void expand_seq(const char *s, size_t start, size_t end, struct pset *out)
{
    struct pset cur = { .max = out->max };
    pset_add(&cur, "", "");
    size_t i = start;
    if (i < end && s[i] == '^')
        i++;
    if (end > i && s[end - 1] == '$' && (end < 2 || s[end - 2] != '\\'))
        end--;
    while (i < end && !cur.bad) {
        struct pset alts = { .max = out->max };
        expand_atom(s, &i, end, &alts);
        if (i < end && s[i] == '?') {
            pset_add(&alts, "", "");
            i++;
        }
        if (i < end && (s[i] == '*' || s[i] == '+' || s[i] == '{'))
            alts.bad = true;
        struct pset next = { .max = out->max };
        for (size_t a = 0; a < cur.n && !alts.bad; a++) {
            for (size_t b = 0; b < alts.n; b++)
                pset_add(&next, cur.v[a], alts.v[b]);
        }
        cur.bad = alts.bad || next.bad;
        pset_clear(&alts);
        pset_clear(&cur);
        cur.v = next.v;
        cur.n = next.n;
    }
    for (size_t a = 0; a < cur.n && !cur.bad; a++)
        pset_add(out, cur.v[a], "");
    if (cur.bad)
        out->bad = true;
    pset_clear(&cur);
}

static void expand_alt(const char *s, size_t start, size_t end, struct pset *out)
{
    size_t seg = start;
    for (size_t i = start; i < end && !out->bad; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '(' || s[i] == '[') {
            size_t close = skip_group(s, i, end);
            if (!close) {
                out->bad = true;
                return;
            }
            i = close - 1;
        } else if (s[i] == '|') {
            expand_seq(s, seg, i, out);
            seg = i + 1;
        }
    }
    if (!out->bad)
        expand_seq(s, seg, end, out);
}

size_t fw_pattern_expand(const char *pattern, char **out, size_t max)
{
    struct pset set = { .max = max };
    if (!pattern || max == 0)
        return 0;
    expand_alt(pattern, 0, strlen(pattern), &set);
    if (set.bad) {
        pset_clear(&set);
        return 0;
    }
    for (size_t i = 0; i < set.n; i++)
        out[i] = set.v[i];
    size_t n = set.n;
    free(set.v);
    return n;
}
