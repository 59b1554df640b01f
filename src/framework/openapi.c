/* openapi.c: the OAS 3.0.2 document of a path or backend, in the shape the host decodes
 * strictly by type (protocol doc §6.11, openbao sdk/framework/openapi.go): booleans are
 * omitted when false, "required" is a bool on parameters and a string list on schemas,
 * response codes are string keys. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

enum { MAX_EXPANSIONS = 16 };   /* Vault stops being useful beyond a few optional parts */

/* Collapses whitespace runs to one space and trims (Vault's cleanString). New string. */
static char *clean_string(const char *s)
{
    char *out = malloc(strlen(s ? s : "") + 1);
    size_t o = 0;
    bool space = false;
    if (!out)
        return NULL;
    for (; s && *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = *s;
    }
    out[o] = '\0';
    return out;
}

static void add_clean(cJSON *obj, const char *key, const char *s)
{
    char *c = clean_string(s);
    if (c && c[0])
        cJSON_AddStringToObject(obj, key, c);
    free(c);
}

static const struct fw_field *find_field(const struct fw_path *p, const char *name)
{
    for (const struct fw_field *f = p->fields; f && f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

/* The default as a typed JSON value (the parsed form of the string default), or NULL. */
static cJSON *default_value(const struct fw_field *f)
{
    struct fw_value v = { 0 };
    struct err e = { 0 };
    cJSON in = { .type = cJSON_String, .valuestring = (char *)f->def };
    cJSON *out = NULL;

    if (!f->def || fw_convert(f->type, &in, &v, &e) != 0)
        return NULL;
    switch (f->type) {
    case FW_TYPE_STRING:
    case FW_TYPE_NAME:
    case FW_TYPE_LOWERCASE_STRING:
        out = cJSON_CreateString(v.str);
        break;
    case FW_TYPE_INT:
    case FW_TYPE_DURATION:
        out = cJSON_CreateNumber((double)v.num);
        break;
    case FW_TYPE_BOOL:
        out = cJSON_CreateBool(v.num != 0);
        break;
    default:
        out = v.json;
        v.json = NULL;
        break;
    }
    fw_value_clear(&v);
    return out;
}

/* Schema of a field: type, format, pattern, items, enum, default and (optionally) the
 * description. */
static cJSON *field_schema(const struct fw_field *f, bool with_desc)
{
    const char *type = "string", *format = NULL, *pattern = NULL, *items = NULL;
    cJSON *s = cJSON_CreateObject();
    if (!s)
        return NULL;
    switch (f ? f->type : FW_TYPE_STRING) {
    case FW_TYPE_STRING: break;
    /* Vault prints "\w([\w-.]*\w)?", which ECMA-262 and PCRE2 read as a bad range
     * ("[\w-."); with '-' last the class means what Go's RE2 makes of it. */
    case FW_TYPE_NAME: pattern = "^\\w([\\w.-]*\\w)?$"; break;
    case FW_TYPE_LOWERCASE_STRING: format = "lowercase"; break;
    case FW_TYPE_INT: type = "integer"; format = "int64"; break;
    case FW_TYPE_DURATION: type = "integer"; format = "seconds"; break;
    case FW_TYPE_BOOL: type = "boolean"; break;
    case FW_TYPE_MAP: type = "object"; format = "map"; break;
    case FW_TYPE_COMMA_STRING_SLICE:
    case FW_TYPE_STRING_SLICE: type = "array"; items = "string"; break;
    }
    cJSON_AddStringToObject(s, "type", type);
    if (f && with_desc)
        add_clean(s, "description", f->desc);
    if (format)
        cJSON_AddStringToObject(s, "format", format);
    if (pattern)
        cJSON_AddStringToObject(s, "pattern", pattern);
    if (items) {
        cJSON *it = cJSON_AddObjectToObject(s, "items");
        if (it)
            cJSON_AddStringToObject(it, "type", items);
    }
    if (f && f->allowed) {
        cJSON *en = cJSON_AddArrayToObject(s, "enum");
        for (const char *const *a = f->allowed; en && *a; a++)
            cJSON_AddItemToArray(en, cJSON_CreateString(*a));
    }
    cJSON *def = f ? default_value(f) : NULL;
    if (def)
        cJSON_AddItemToObject(s, "default", def);
    return s;
}

static cJSON *parameter(const char *name, const struct fw_field *f, const char *in,
                        bool required)
{
    cJSON *p = cJSON_CreateObject();
    if (!p)
        return NULL;
    cJSON_AddStringToObject(p, "name", name);
    if (f)
        add_clean(p, "description", f->desc);
    cJSON_AddStringToObject(p, "in", in);
    cJSON_AddItemToObject(p, "schema", field_schema(f, false));
    if (required)
        cJSON_AddTrueToObject(p, "required");
    return p;
}

/* The `list` query parameter Vault documents: required and "true" only on a LIST
 * operation, optional on a READ of a path that also lists. */
static void add_list_param(cJSON *params, bool required)
{
    cJSON *lp = cJSON_CreateObject();
    cJSON_AddStringToObject(lp, "name", "list");
    cJSON_AddStringToObject(lp, "description",
                            required ? "Must be set to `true`" : "Return a list if `true`");
    cJSON_AddStringToObject(lp, "in", "query");
    cJSON *ls = cJSON_AddObjectToObject(lp, "schema");
    cJSON_AddStringToObject(ls, "type", "string");
    if (required) {
        cJSON *en = cJSON_AddArrayToObject(ls, "enum");
        cJSON_AddItemToArray(en, cJSON_CreateString("true"));
        cJSON_AddTrueToObject(lp, "required");
    }
    cJSON_AddItemToArray(params, lp);
}

/* True when name appears as {name} in the OpenAPI path. */
static bool in_path(const char *oas_path, const char *name)
{
    size_t n = strlen(name);
    for (const char *b = strchr(oas_path, '{'); b; b = strchr(b + 1, '{')) {
        if (strncmp(b + 1, name, n) == 0 && b[1 + n] == '}')
            return true;
    }
    return false;
}

/* Vault's specialPathMatch, for root/unauthenticated lists: exact, or prefix with '*'. */
static bool special_match(const char *path, const char *const *list)
{
    for (; list && *list; list++) {
        size_t n = strlen(*list);
        if (n && (*list)[n - 1] == '*') {
            if (strncmp(path, *list, n - 1) == 0)
                return true;
        } else if (strcmp(path, *list) == 0) {
            return true;
        }
    }
    return false;
}

/* "kv", "write", "data/{path}" -> "kv-write-data-path" (index > 0 appended for the second
 * and later expansions of one pattern, keeping ids unique). */
static void operation_id(const char *prefix, const char *verb, const char *oas_path,
                         size_t index, char *buf, size_t len)
{
    size_t o = 0;
    bool dash = false;
    int n = snprintf(buf, len, "%s%s%s", prefix, prefix[0] ? "-" : "", verb);
    o = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
    for (const char *c = oas_path; *c && o + 2 < len; c++) {
        if (isalnum((unsigned char)*c) || *c == '_') {
            if (!dash) {
                buf[o++] = '-';
                dash = true;
            }
            buf[o++] = (char)tolower((unsigned char)*c);
        } else {
            dash = false;
        }
    }
    buf[o] = '\0';
    if (index > 0 && o + 4 < len)
        snprintf(buf + o, len - o, "%zu", index);
}

/* "kv-write-config" -> "KvWriteConfigRequest". */
static void request_name(const char *op_id, char *buf, size_t len)
{
    size_t o = 0;
    bool upper = true;
    for (const char *c = op_id; *c && o + 8 < len; c++) {
        if (*c == '-' || *c == '_') {
            upper = true;
            continue;
        }
        buf[o++] = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
    }
    snprintf(buf + o, len - o, "Request");
}

struct op_doc {
    const char *method;   /* key in the path item */
    const char *verb;     /* for the operation id */
    enum fw_op op;
};

static cJSON *operation(const struct fw_path *p, const struct op_doc *od, const char *oas_path,
                        size_t index, const char *prefix, cJSON *schemas)
{
    char id[256], schema_name[300];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const char *summary = p->ops[od->op].summary;
    if (od->op == FW_UPDATE && !p->ops[FW_UPDATE].fn)
        summary = p->ops[FW_CREATE].summary;
    add_clean(o, "summary", summary && summary[0] ? summary : p->synopsis);
    operation_id(prefix, od->verb, oas_path, index, id, sizeof id);
    cJSON_AddStringToObject(o, "operationId", id);
    cJSON *tags = cJSON_AddArrayToObject(o, "tags");
    if (tags)
        cJSON_AddItemToArray(tags, cJSON_CreateString("secrets"));

    cJSON *params = cJSON_CreateArray();
    if (od->op == FW_LIST)
        add_list_param(params, true);
    else if (od->op == FW_READ && p->ops[FW_LIST].fn)
        add_list_param(params, false);
    bool body = od->op == FW_UPDATE || od->op == FW_PATCH;
    cJSON *schema = body ? cJSON_CreateObject() : NULL;
    cJSON *props = NULL, *required = NULL;
    if (schema) {
        cJSON_AddStringToObject(schema, "type", "object");
        props = cJSON_AddObjectToObject(schema, "properties");
        required = cJSON_AddArrayToObject(schema, "required");
    }
    for (const struct fw_field *f = p->fields; f && f->name; f++) {
        if (in_path(oas_path, f->name))
            continue;
        if (body && props) {
            cJSON_AddItemToObject(props, f->name, field_schema(f, true));
            if (f->required)
                cJSON_AddItemToArray(required, cJSON_CreateString(f->name));
        } else if (!body && f->query) {
            cJSON_AddItemToArray(params, parameter(f->name, f, "query", false));
        }
    }
    if (cJSON_GetArraySize(params) > 0)
        cJSON_AddItemToObject(o, "parameters", params);
    else
        cJSON_Delete(params);
    if (schema && props && props->child) {
        request_name(id, schema_name, sizeof schema_name);
        cJSON_DeleteItemFromObjectCaseSensitive(schemas, schema_name);
        cJSON_AddItemToObject(schemas, schema_name, schema);
        cJSON *rb = cJSON_AddObjectToObject(o, "requestBody");
        cJSON_AddTrueToObject(rb, "required");
        cJSON *content = cJSON_AddObjectToObject(rb, "content");
        cJSON *json = cJSON_AddObjectToObject(content, "application/json");
        /* Inline, not a $ref to components: the host decodes a plugin's document into
         * its OAS structs, which drop $ref, so a reference would reach clients as {}. The
         * named copy stays in components.schemas for generators that list them. */
        cJSON_AddItemToObject(json, "schema", cJSON_Duplicate(schema, true));
    } else {
        cJSON_Delete(schema);
    }
    cJSON *responses = cJSON_AddObjectToObject(o, "responses");
    cJSON *r = cJSON_AddObjectToObject(responses, od->op == FW_DELETE ? "204" : "200");
    cJSON_AddStringToObject(r, "description", od->op == FW_DELETE ? "empty body" : "OK");
    return o;
}

static int cmp_param(const void *a, const void *b)
{
    const cJSON *na = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "name");
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "name");
    return strcasecmp(cJSON_GetStringValue(na), cJSON_GetStringValue(nb));
}

/* The path item for one expansion of p's pattern, or, when published is false, an item
 * without operations (for patterns with no OpenAPI form). */
static cJSON *path_item(const struct fw_backend *b, const struct fw_path *p,
                        const char *oas_path, size_t index, bool published, const char *prefix,
                        cJSON *schemas)
{
    static const struct op_doc ops[] = {
        { "get", "read", FW_READ }, { "get", "list", FW_LIST }, { "post", "write", FW_UPDATE },
        { "patch", "patch", FW_PATCH }, { "delete", "delete", FW_DELETE },
    };
    cJSON *pi = cJSON_CreateObject();
    if (!pi)
        return NULL;
    add_clean(pi, "description", p->synopsis);

    /* path parameters, sorted by name as Vault does */
    cJSON *params[32];
    size_t np = 0;
    for (const char *c = strchr(oas_path, '{'); c && np < 32; c = strchr(c + 1, '{')) {
        const char *e = strchr(c, '}');
        if (!e)
            break;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(e - c - 1), c + 1);
        cJSON *prm = parameter(name, find_field(p, name), "path", true);
        if (prm)
            params[np++] = prm;
    }
    if (np) {
        qsort(params, np, sizeof *params, cmp_param);
        cJSON *arr = cJSON_AddArrayToObject(pi, "parameters");
        for (size_t i = 0; i < np; i++)
            cJSON_AddItemToArray(arr, params[i]);
    }
    if (special_match(oas_path, b->special.root))
        cJSON_AddTrueToObject(pi, "x-vault-sudo");
    if (special_match(oas_path, b->special.unauthenticated))
        cJSON_AddTrueToObject(pi, "x-vault-unauthenticated");
    if (published && p->ops[FW_CREATE].fn)
        cJSON_AddTrueToObject(pi, "x-vault-createSupported");
    for (size_t i = 0; published && i < sizeof ops / sizeof ops[0]; i++) {
        const struct op_doc *od = &ops[i];
        bool has = p->ops[od->op].fn != NULL;
        if (od->op == FW_UPDATE)
            has = has || p->ops[FW_CREATE].fn;
        if (od->op == FW_LIST && p->ops[FW_READ].fn)
            has = false;   /* documented as the read's optional `list` query parameter */
        if (!has)
            continue;
        cJSON *o = operation(p, od, oas_path, index, prefix, schemas);
        if (o)
            cJSON_AddItemToObject(pi, od->method, o);
    }
    return pi;
}

static void document_path(const struct fw_backend *b, const struct fw_path *p,
                          const char *prefix, cJSON *paths, cJSON *schemas)
{
    char *exp[MAX_EXPANSIONS];
    char key[1024];
    size_t n = fw_pattern_expand(p->pattern, exp, MAX_EXPANSIONS);
    bool published = n > 0;

    if (!published) {
        exp[0] = strdup(p->pattern ? p->pattern : "");
        n = exp[0] ? 1 : 0;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "/%s", exp[i]);
        cJSON *pi = path_item(b, p, exp[i], i, published, prefix, schemas);
        if (pi) {
            cJSON_DeleteItemFromObjectCaseSensitive(paths, key);
            cJSON_AddItemToObject(paths, key, pi);
        }
        free(exp[i]);
    }
}

cJSON *fw_openapi_doc(const struct fw_backend *b, const struct fw_path *p, const char *prefix)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "openapi", "3.0.2");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "HashiCorp Vault API");
    cJSON_AddStringToObject(info, "description", "HTTP API that gives you full access to "
                            "Vault. All API routes are prefixed with `/v1/`.");
    cJSON_AddStringToObject(info, "version", b->version ? b->version : "");
    cJSON *lic = cJSON_AddObjectToObject(info, "license");
    cJSON_AddStringToObject(lic, "name", "Mozilla Public License 2.0");
    cJSON_AddStringToObject(lic, "url", "https://www.mozilla.org/en-US/MPL/2.0");
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    cJSON *components = cJSON_AddObjectToObject(doc, "components");
    cJSON *schemas = cJSON_AddObjectToObject(components, "schemas");
    if (!info || !lic || !paths || !schemas) {
        cJSON_Delete(doc);
        return NULL;
    }
    if (p) {
        document_path(b, p, prefix ? prefix : "", paths, schemas);
    } else {
        for (const struct fw_path *const *pp = b->paths; pp && *pp; pp++)
            document_path(b, *pp, prefix ? prefix : "", paths, schemas);
    }
    return doc;
}
