/* problem.c: RFC 7807 problem documents (RFC 8555 6.7) and their mapping to struct err. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACME_ERR_NS "urn:ietf:params:acme:error:"

void acme_problem_clear(struct acme_problem *p)
{
    if (!p)
        return;
    free(p->type);
    free(p->detail);
    free(p->instance);
    for (size_t i = 0; i < p->n_subproblems; i++) {
        free(p->subproblems[i].type);
        free(p->subproblems[i].detail);
        free(p->subproblems[i].identifier.value);
    }
    free(p->subproblems);
    memset(p, 0, sizeof *p);
}

int acme_problem_from_json(const cJSON *obj, int http_status, struct acme_problem *out)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(obj, "subproblems"), *it;
    memset(out, 0, sizeof *out);
    out->type = acme_json_strdup(obj, "type");
    if (!out->type)
        out->type = strdup("about:blank");   /* RFC 7807 3.1: absent type means this */
    out->detail = acme_json_strdup(obj, "detail");
    out->instance = acme_json_strdup(obj, "instance");
    out->status = cJSON_IsNumber(st) ? st->valueint : http_status;
    if (!out->type)
        goto oom;
    if (cJSON_IsArray(subs) && cJSON_GetArraySize(subs) > 0) {
        out->subproblems = calloc((size_t)cJSON_GetArraySize(subs), sizeof *out->subproblems);
        if (!out->subproblems)
            goto oom;
        cJSON_ArrayForEach(it, subs) {
            if (!cJSON_IsObject(it))
                continue;
            struct acme_subproblem *sp = &out->subproblems[out->n_subproblems++];
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "identifier");
            sp->type = acme_json_strdup(it, "type");
            sp->detail = acme_json_strdup(it, "detail");
            if (cJSON_IsObject(id) && !acme_identifier_from_json(id, &sp->identifier))
                sp->has_identifier = true;
        }
    }
    return 0;
oom:
    acme_problem_clear(out);
    return -1;
}

int acme_problem_parse(const char *json, size_t len, int http_status, struct acme_problem *out,
                       struct err *e)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(e, ERR_INVALID, "problem document: not a JSON object");
    }
    int rc = acme_problem_from_json(root, http_status, out);
    cJSON_Delete(root);
    if (rc)
        return err_set(e, ERR_INTERNAL, "problem document: out of memory");
    return 0;
}

const char *acme_problem_name(const struct acme_problem *p)
{
    if (!p || !p->type)
        return "";
    if (!strncmp(p->type, ACME_ERR_NS, strlen(ACME_ERR_NS)))
        return p->type + strlen(ACME_ERR_NS);
    return p->type;
}

char *acme_problem_format(const struct acme_problem *p, char *buf, size_t len)
{
    size_t n;
    if (!len)
        return buf;
    n = (size_t)snprintf(buf, len, "acme: %s: %s", p && p->type ? p->type : "unknown problem",
                         p && p->detail ? p->detail : "(no detail)");
    for (size_t i = 0; p && i < p->n_subproblems && n < len; i++) {
        const struct acme_subproblem *sp = &p->subproblems[i];
        n += (size_t)snprintf(buf + n, len - n, "%s%s %s: %s", i ? "; " : " (",
                              sp->type ? sp->type : "?",
                              sp->has_identifier ? sp->identifier.value : "-",
                              sp->detail ? sp->detail : "");
        if (i + 1 == p->n_subproblems && n < len)
            n += (size_t)snprintf(buf + n, len - n, ")");
    }
    return buf;
}

static bool is_retryable(const struct acme_problem *p, long status)
{
    const char *name = acme_problem_name(p);
    return status >= 500 || status == 429 || !strcmp(name, "rateLimited") ||
           !strcmp(name, "badNonce");
}

int acme_problem_to_err(const struct acme_http_resp *r, const char *url, struct acme_reply *rep,
                        struct err *e)
{
    struct acme_problem local = { 0 }, *p = rep ? &rep->problem : &local;
    char msg[sizeof e->msg];
    acme_reply_fill(rep, r);
    acme_problem_clear(p);
    /* RFC 8555 6.7 says application/problem+json; CAs and their proxies also send
     * application/json or nothing with a problem body, so those are read as well. Anything
     * else (a proxy's HTML page) is not taken for a problem document. */
    bool json_type = !r->content_type ||
                     acme_media_type_is(r->content_type, "application/problem+json") ||
                     acme_media_type_is(r->content_type, "application/json");
    cJSON *root = r->body_len && json_type ? cJSON_ParseWithLength(r->body, r->body_len)
                                           : NULL;
    if (cJSON_IsObject(root) && !acme_problem_from_json(root, (int)r->status, p)) {
        acme_problem_format(p, msg, sizeof msg);
    } else {
        /* Not a problem document (a proxy's HTML page, an empty 502): say what came back. */
        char detail[200], type[64] = "";
        if (r->content_type && !json_type) {
            size_t i = 0;
            for (const char *q = r->content_type; *q && i < 40; q++)
                type[i++] = (*q >= 0x20 && *q < 0x7f) ? *q : '?';
            type[i] = '\0';
        }
        snprintf(detail, sizeof detail, "HTTP %ld from %s%s%s%s", r->status, url,
                 type[0] ? " (Content-Type \"" : "", type, type[0] ? "\", not a problem "
                 "document)" : "");
        p->type = strdup("about:blank");
        p->detail = strdup(detail);
        p->status = (int)r->status;
        snprintf(msg, sizeof msg, "acme: %s", detail);
    }
    cJSON_Delete(root);
    enum err_kind kind = is_retryable(p, r->status) ? ERR_RETRY : ERR_UPSTREAM;
    err_set(e, kind, "%s", msg);
    acme_problem_clear(&local);
    return -1;
}
