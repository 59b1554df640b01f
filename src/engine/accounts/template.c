/* template.c: Vault ACL path templating ({{identity.entity.name}} ...) for a role's
 * allowed_domains. The placeholders are Vault's (sdk/helper/identitytpl); values come from
 * the requesting entity and its groups as the SystemView returns them. Anything that
 * cannot be resolved is an error, and the caller then lets the entry allow nothing. */
#include "../internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEMPLATE_MAX_OUT = 1024 };

bool template_has(const char *s)
{
    return strstr(s, "{{") != NULL;
}

static const char *json_str(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (!cJSON_IsString(v) && b)
        v = cJSON_GetObjectItemCaseSensitive(o, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *json_meta(const cJSON *o, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "name", "id" or "metadata.<key>" of a JSON object (entity, alias, group). */
static const char *attr_of(const cJSON *o, const char *attr, bool allow_id, bool allow_name)
{
    if (!o)
        return NULL;
    if (allow_id && strcmp(attr, "id") == 0)
        return json_str(o, "id", "ID");
    if (allow_name && strcmp(attr, "name") == 0)
        return json_str(o, "name", "Name");
    if (strncmp(attr, "metadata.", 9) == 0 && attr[9])
        return json_meta(o, attr + 9);
    return NULL;
}

/* Splits "<key>.<attr>" where key has no dot: returns the attr, copies key. */
static const char *split_key(const char *s, char *key, size_t cap)
{
    const char *dot = strchr(s, '.');
    if (!dot || dot == s || (size_t)(dot - s) >= cap)
        return NULL;
    memcpy(key, s, (size_t)(dot - s));
    key[dot - s] = '\0';
    return dot + 1;
}

static const cJSON *group_find(const cJSON *groups, const char *field, const char *value)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, groups) {
        const char *v = json_str(g, field, NULL);
        if (v && strcmp(v, value) == 0)
            return g;
    }
    return NULL;
}

/* Resolves one placeholder (already trimmed). NULL when it cannot be resolved. */
static const char *placeholder_value(const char *ph, const cJSON *entity, const cJSON *groups)
{
    char key[256];
    const char *attr;
    if (strncmp(ph, "identity.entity.", 16) == 0) {
        const char *rest = ph + 16;
        if (strncmp(rest, "aliases.", 8) == 0) {
            attr = split_key(rest + 8, key, sizeof key);
            if (!attr)
                return NULL;
            const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(entity, "aliases"), *a;
            cJSON_ArrayForEach(a, aliases) {
                const char *acc = json_str(a, "mount_accessor", "mountAccessor");
                if (acc && strcmp(acc, key) == 0)
                    return attr_of(a, attr, true, true);
            }
            return NULL;
        }
        return attr_of(entity, rest, true, true);
    }
    if (strncmp(ph, "identity.groups.ids.", 20) == 0) {
        attr = split_key(ph + 20, key, sizeof key);
        return attr ? attr_of(group_find(groups, "id", key), attr, false, true) : NULL;
    }
    if (strncmp(ph, "identity.groups.names.", 22) == 0) {
        const char *rest = ph + 22;
        /* The overview's short form {{identity.groups.names.<group>}}: the group's name
         * when the entity is a member. Group names may not contain dots in this form. */
        if (!strchr(rest, '.')) {
            const cJSON *g = group_find(groups, "name", rest);
            return g ? json_str(g, "name", NULL) : NULL;
        }
        attr = split_key(rest, key, sizeof key);
        return attr ? attr_of(group_find(groups, "name", key), attr, true, false) : NULL;
    }
    return NULL;
}

/* A value may only fill in labels: no glob, no template, no separators of lists or
 * paths, no spaces. Otherwise metadata "*" would turn a bare entry into a glob. */
static bool value_safe(const char *v)
{
    if (!v[0])
        return false;
    for (const char *p = v; *p; p++)
        if (*p == '*' || *p == '{' || *p == '}' || *p == ',' || *p == '/' ||
            (unsigned char)*p <= ' ')
            return false;
    return true;
}

/* Validates or expands; entity NULL with check_only validates syntax only. */
static int template_walk(const char *tmpl, bool check_only, const cJSON *entity,
                         const cJSON *groups, char *out, size_t cap, struct err *e)
{
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        if (o + lit >= cap)
            return err_set(e, ERR_INVALID, "template expands to more than %d bytes", (int)cap);
        memcpy(out + o, p, lit);
        o += lit;
        if (!open)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close)
            return err_set(e, ERR_INVALID, "template has '{{' without '}}'");
        const char *a = open + 2, *b = close;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        char ph[512];
        if ((size_t)(b - a) >= sizeof ph || b == a)
            return err_set(e, ERR_INVALID, "template placeholder empty or too long");
        memcpy(ph, a, (size_t)(b - a));
        ph[b - a] = '\0';
        if (check_only) {
            if (strncmp(ph, "identity.entity.", 16) != 0 &&
                strncmp(ph, "identity.groups.ids.", 20) != 0 &&
                strncmp(ph, "identity.groups.names.", 22) != 0)
                return err_set(e, ERR_INVALID, "unknown template placeholder {{%.100s}}", ph);
        } else {
            const char *v = placeholder_value(ph, entity, groups);
            if (!v)
                return err_set(e, ERR_INVALID, "template {{%.100s}}: no value for this entity",
                               ph);
            if (!value_safe(v))
                return err_set(e, ERR_INVALID, "template {{%.100s}}: value not usable in a "
                               "domain", ph);
            size_t vl = strlen(v);
            if (o + vl >= cap)
                return err_set(e, ERR_INVALID, "template expands to more than %d bytes",
                               (int)cap);
            memcpy(out + o, v, vl);
            o += vl;
        }
        p = close + 2;
    }
    out[o] = '\0';
    return 0;
}

int template_check(const char *tmpl, struct err *e)
{
    char buf[TEMPLATE_MAX_OUT];
    return template_walk(tmpl, true, NULL, NULL, buf, sizeof buf, e);
}

int template_expand(const char *tmpl, const cJSON *entity, const cJSON *groups, char **out,
                    struct err *e)
{
    char buf[TEMPLATE_MAX_OUT];
    *out = NULL;
    if (!entity)
        return err_set(e, ERR_INVALID, "template: no entity for this request");
    if (template_walk(tmpl, false, entity, groups, buf, sizeof buf, e) < 0)
        return -1;
    *out = strdup(buf);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}
