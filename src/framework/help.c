/* help.c: the "help" operation (protocol doc §6.11): `vault path-help` text in the Go
 * framework's layout, plus the OpenAPI document for the path or the whole backend. The host
 * dereferences the help response without a nil check, so this always answers with data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A growable string; on allocation failure it stops growing and `failed` is set. */
struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->failed)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)n + 1) * 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->failed = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Appends s with surrounding whitespace removed and every line indented by `indent`
 * spaces (Go's TrimSpace and the template's indent function). */
static void text_add_block(struct text *t, const char *s, int indent)
{
    if (!s)
        s = "";
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_space(s[n - 1]))
        n--;
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t line = nl ? (size_t)(nl - s) : n;
        text_add(t, "%*s%.*s\n", line ? indent : 0, "", (int)line, s);
        if (!nl)
            break;
        s += line + 1;
        n -= line + 1;
    }
}

static int cmp_field(const void *a, const void *b)
{
    const struct fw_field *fa = *(const struct fw_field *const *)a;
    const struct fw_field *fb = *(const struct fw_field *const *)b;
    return strcmp(fa->name, fb->name);
}

static void path_help_text(const struct fw_path *p, const char *req_path, struct text *t)
{
    size_t n = 0;
    for (const struct fw_field *f = p->fields; f && f->name; f++)
        n++;
    text_add(t, "Request:        %s\n", req_path);
    text_add(t, "Matching Route: ^%s$\n\n", p->pattern);
    text_add_block(t, p->synopsis, 0);
    text_add(t, "\n");
    if (n) {
        const struct fw_field **sorted = calloc(n, sizeof *sorted);
        if (!sorted) {
            t->failed = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            sorted[i] = &p->fields[i];
        qsort(sorted, n, sizeof *sorted, cmp_field);
        text_add(t, "## PARAMETERS\n");
        for (size_t i = 0; i < n; i++) {
            const struct fw_field *f = sorted[i];
            text_add(t, "\n    %s (%s)\n", f->name, fw_type_name(f->type));
            text_add_block(t, f->desc && f->desc[0] ? f->desc : "<no description>", 8);
        }
        text_add(t, "\n");
        free(sorted);
    }
    text_add(t, "## DESCRIPTION\n\n");
    text_add_block(t, p->description && p->description[0] ? p->description : p->synopsis, 0);
}

static void root_help_text(const struct fw_backend *b, struct text *t)
{
    text_add(t, "## DESCRIPTION\n\n");
    text_add_block(t, b->help, 0);
    text_add(t, "\n## PATHS\n\n"
             "The following paths are supported by this backend. To view help for\n"
             "any of the paths below, use the help command with any route matching\n"
             "the path pattern. Note that depending on the policy of your auth token,\n"
             "you may or may not be able to access certain paths.\n\n");
    for (const struct fw_path *const *p = b->paths; p && *p; p++) {
        text_add(t, "    ^%s$\n", (*p)->pattern);
        text_add_block(t, (*p)->synopsis, 8);
        text_add(t, "\n");
    }
}

void fw_help(const struct fw_backend *b, const struct fw_path *p, const struct fw_req *req,
             struct fw_resp *resp)
{
    struct text t = { 0 };
    const char *prefix = "";

    if (!p) {
        const cJSON *pre = cJSON_IsObject(req->data)
            ? cJSON_GetObjectItemCaseSensitive(req->data, "requestResponsePrefix") : NULL;
        if (cJSON_IsString(pre) && pre->valuestring)
            prefix = pre->valuestring;
        root_help_text(b, &t);
    } else {
        path_help_text(p, req->path ? req->path : "", &t);
    }
    cJSON *data = cJSON_CreateObject();
    cJSON *doc = fw_openapi_doc(b, p, prefix);
    if (t.failed || !t.p || !data || !doc ||
        !cJSON_AddStringToObject(data, "help", t.p) || !cJSON_AddNullToObject(data, "see_also")) {
        cJSON_Delete(data);
        cJSON_Delete(doc);
        free(t.p);
        resp->status = FW_STATUS_INTERNAL;
        snprintf(resp->err_msg, sizeof resp->err_msg, "internal error");
        return;
    }
    cJSON_AddItemToObject(data, "openapi", doc);
    free(t.p);
    resp->data = data;
}
