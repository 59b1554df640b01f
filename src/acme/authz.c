/* authz.c: authorization objects (RFC 8555 7.1.4, 7.5, 7.5.2). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void acme_authz_clear(struct acme_authz *a)
{
    if (!a)
        return;
    free(a->url);
    free(a->identifier.value);
    free(a->status_str);
    for (size_t i = 0; i < a->n_challenges; i++)
        acme_challenge_clear(&a->challenges[i]);
    free(a->challenges);
    memset(a, 0, sizeof *a);
}

const struct acme_challenge *acme_authz_challenge(const struct acme_authz *a, const char *type)
{
    for (size_t i = 0; a && type && i < a->n_challenges; i++)
        if (a->challenges[i].type && !strcmp(a->challenges[i].type, type))
            return &a->challenges[i];
    return NULL;
}

int acme_authz_parse(const struct acme_http_resp *r, const char *url, struct acme_authz *out,
                     struct err *e)
{
    cJSON *root = acme_json_body(r, "authorization", e);
    const cJSON *id, *chs, *it;
    if (!root)
        return -1;
    memset(out, 0, sizeof *out);
    out->url = acme_strdup(url);
    out->status_str = acme_json_strdup(root, "status");
    out->status = acme_status_parse(out->status_str);
    out->expires = acme_json_time(root, "expires");
    out->wildcard = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "wildcard"));
    out->retry_at = acme_next_look(out->status, r->retry_at);
    id = cJSON_GetObjectItemCaseSensitive(root, "identifier");
    if (cJSON_IsObject(id))
        acme_identifier_from_json(id, &out->identifier);
    chs = cJSON_GetObjectItemCaseSensitive(root, "challenges");
    if (cJSON_IsArray(chs) && cJSON_GetArraySize(chs) > 0) {
        out->challenges = calloc((size_t)cJSON_GetArraySize(chs), sizeof *out->challenges);
        if (!out->challenges)
            goto oom;
        cJSON_ArrayForEach(it, chs) {
            if (!cJSON_IsObject(it))
                continue;
            if (acme_challenge_from_json(it, 0, &out->challenges[out->n_challenges]))
                goto oom;
            out->n_challenges++;
        }
    }
    cJSON_Delete(root);
    if (!out->url || !out->status_str || !out->identifier.value) {
        acme_authz_clear(out);
        return err_set(e, ERR_UPSTREAM, "acme: authorization %s: no status or identifier", url);
    }
    return 0;
oom:
    cJSON_Delete(root);
    acme_authz_clear(out);
    return err_set(e, ERR_INTERNAL, "acme: authorization: out of memory");
}

static int authz_post(struct acme_client *c, const char *url, const char *body,
                      struct acme_authz *out, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return err_set(e, ERR_INVALID, "authorization url: required");
    if (!acme_post(c, url, body, ACME_SIGN_KID, NULL, &r, rep, e) &&
        !acme_authz_parse(&r, url, out, e)) {
        log_debug("acme", "authorization", "url", url, "status", out->status_str, NULL);
        ret = 0;
    }
    acme_http_resp_clear(&r);
    return ret;
}

int acme_get_authz(struct acme_client *c, const char *authz_url, struct acme_authz *out,
                   struct acme_reply *rep, struct err *e)
{
    return authz_post(c, authz_url, NULL, out, rep, e);
}

int acme_deactivate_authz(struct acme_client *c, const char *authz_url, struct acme_authz *out,
                          struct acme_reply *rep, struct err *e)
{
    return authz_post(c, authz_url, "{\"status\":\"deactivated\"}", out, rep, e);
}
