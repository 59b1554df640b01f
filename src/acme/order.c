/* order.c: order objects (RFC 8555 7.1.3, 7.4): newOrder for DNS and IP identifiers and
 * POST-as-GET on a stored order URL. acme_order_parse is shared with finalize.c. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void acme_order_clear(struct acme_order *o)
{
    if (!o)
        return;
    free(o->url);
    free(o->status_str);
    for (size_t i = 0; i < o->n_identifiers; i++)
        free(o->identifiers[i].value);
    free(o->identifiers);
    acme_strv_free(o->authorizations);
    free(o->finalize_url);
    free(o->certificate_url);
    free(o->profile);
    free(o->replaces);
    acme_problem_clear(&o->error);
    memset(o, 0, sizeof *o);
}

int acme_order_parse(const struct acme_http_resp *r, const char *url, struct acme_order *out,
                     struct err *e)
{
    cJSON *root = acme_json_body(r, "order", e);
    const cJSON *ids, *it, *err;
    if (!root)
        return -1;
    memset(out, 0, sizeof *out);
    out->url = acme_strdup(url);
    out->status_str = acme_json_strdup(root, "status");
    out->status = acme_status_parse(out->status_str);
    out->expires = acme_json_time(root, "expires");
    out->not_before = acme_json_time(root, "notBefore");
    out->not_after = acme_json_time(root, "notAfter");
    out->authorizations = acme_json_strv(root, "authorizations", &out->n_authorizations);
    out->finalize_url = acme_json_strdup(root, "finalize");
    out->certificate_url = acme_json_strdup(root, "certificate");
    out->profile = acme_json_strdup(root, "profile");
    out->replaces = acme_json_strdup(root, "replaces");
    out->retry_at = acme_next_look(out->status, r->retry_at);
    ids = cJSON_GetObjectItemCaseSensitive(root, "identifiers");
    if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0) {
        out->identifiers = calloc((size_t)cJSON_GetArraySize(ids), sizeof *out->identifiers);
        if (!out->identifiers)
            goto oom;
        cJSON_ArrayForEach(it, ids)
            if (cJSON_IsObject(it) &&
                !acme_identifier_from_json(it, &out->identifiers[out->n_identifiers]))
                out->n_identifiers++;
    }
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(err) && acme_problem_from_json(err, 0, &out->error))
        goto oom;
    cJSON_Delete(root);
    if (!out->url || !out->authorizations)
        goto oom_nofree;
    if (!out->status_str) {
        acme_order_clear(out);
        return err_set(e, ERR_UPSTREAM, "acme: order %s: no status in the reply", url);
    }
    return 0;
oom:
    cJSON_Delete(root);
oom_nofree:
    acme_order_clear(out);
    return err_set(e, ERR_INTERNAL, "acme: order: out of memory");
}

/* "ip" if the text is an IPv4/IPv6 literal (RFC 8738), else "dns". */
static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int add_identifiers(cJSON *p, const char *const *ids, struct err *e)
{
    cJSON *arr = cJSON_AddArrayToObject(p, "identifiers");
    if (!arr)
        return err_set(e, ERR_INTERNAL, "acme: out of memory");
    if (!ids || !ids[0])
        return err_set(e, ERR_INVALID, "identifiers: at least one required");
    for (size_t i = 0; ids[i]; i++) {
        char buf[256];
        size_t n = strlen(ids[i]);
        if (!n || n >= sizeof buf)
            return err_set(e, ERR_INVALID, "identifier %zu: empty or too long", i);
        for (size_t j = 0; j <= n; j++)
            buf[j] = (char)tolower((unsigned char)ids[i][j]);
        bool ip = is_ip_literal(buf);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o) ||
            !cJSON_AddStringToObject(o, "type", ip ? "ip" : "dns") ||
            !cJSON_AddStringToObject(o, "value", ip ? ids[i] : buf))
            return err_set(e, ERR_INTERNAL, "acme: out of memory");
    }
    return 0;
}

int acme_new_order(struct acme_client *c, const struct acme_order_req *req,
                   struct acme_order *out, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *url = NULL, *body = NULL, tb[32];
    cJSON *p = NULL;
    int ret = -1;

    memset(out, 0, sizeof *out);
    if (!req)
        return err_set(e, ERR_INVALID, "order request: required");
    p = cJSON_CreateObject();
    if (!p) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    if (add_identifiers(p, req->identifiers, e))
        goto out;
    if (req->not_before) {
        acme_time_format(req->not_before, tb);
        cJSON_AddStringToObject(p, "notBefore", tb);
    }
    if (req->not_after) {
        acme_time_format(req->not_after, tb);
        cJSON_AddStringToObject(p, "notAfter", tb);
    }
    if (req->profile && *req->profile)
        cJSON_AddStringToObject(p, "profile", req->profile);
    if (req->replaces && *req->replaces)
        cJSON_AddStringToObject(p, "replaces", req->replaces);
    body = cJSON_PrintUnformatted(p);
    if (!body) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    if (acme_dir_url(c, offsetof(struct acme_directory, new_order), "newOrder", &url, e))
        goto out;
    if (acme_post(c, url, body, ACME_SIGN_KID, NULL, &r, rep, e))
        goto out;
    if (!r.location) {
        err_set(e, ERR_UPSTREAM, "acme: newOrder: no Location header in the reply");
        goto out;
    }
    if (acme_order_parse(&r, r.location, out, e))
        goto out;
    log_debug("acme", "order created", "url", out->url, "status", out->status_str, NULL);
    ret = 0;
out:
    cJSON_Delete(p);
    free(body);
    free(url);
    acme_http_resp_clear(&r);
    return ret;
}

int acme_get_order(struct acme_client *c, const char *order_url, struct acme_order *out,
                   struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!order_url || !*order_url)
        return err_set(e, ERR_INVALID, "order url: required");
    if (!acme_post(c, order_url, NULL, ACME_SIGN_KID, NULL, &r, rep, e) &&
        !acme_order_parse(&r, order_url, out, e)) {
        log_debug("acme", "order", "url", order_url, "status", out->status_str, NULL);
        ret = 0;
    }
    acme_http_resp_clear(&r);
    return ret;
}

int acme_account_orders(struct acme_client *c, const char *url, char ***urls, char **next,
                        struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    cJSON *root = NULL;
    int ret = -1;
    *urls = NULL;
    *next = NULL;
    if (!url || !*url)
        return err_set(e, ERR_INVALID, "orders url: required");
    if (acme_post(c, url, NULL, ACME_SIGN_KID, NULL, &r, rep, e) ||
        !(root = acme_json_body(&r, "orders list", e)))
        goto out;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "orders"))) {
        err_set(e, ERR_UPSTREAM, "acme: orders list %s: no \"orders\" array in the reply", url);
        goto out;
    }
    size_t n = 0;
    if (!(*urls = acme_json_strv(root, "orders", &n)) ||
        (r.link_next && !(*next = acme_strdup(r.link_next)))) {
        acme_strv_free(*urls);
        *urls = NULL;
        err_set(e, ERR_INTERNAL, "acme: orders list: out of memory");
        goto out;
    }
    ret = 0;
out:
    cJSON_Delete(root);
    acme_http_resp_clear(&r);
    return ret;
}
