/* challenge.c: challenge objects (RFC 8555 7.1.5, 7.5.1, 8): fetch, respond, and the key
 * authorization / dns-01 TXT value the caller publishes. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

void acme_challenge_clear(struct acme_challenge *ch)
{
    if (!ch)
        return;
    free(ch->type);
    free(ch->url);
    free(ch->token);
    free(ch->status_str);
    acme_problem_clear(&ch->error);
    memset(ch, 0, sizeof *ch);
}

int acme_challenge_from_json(const cJSON *obj, time_t retry_after, struct acme_challenge *out)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(obj, "error");
    memset(out, 0, sizeof *out);
    out->type = acme_json_strdup(obj, "type");
    out->url = acme_json_strdup(obj, "url");
    out->token = acme_json_strdup(obj, "token");
    out->status_str = acme_json_strdup(obj, "status");
    out->status = acme_status_parse(out->status_str);
    out->validated = acme_json_time(obj, "validated");
    out->retry_at = acme_next_look(out->status, retry_after);
    if (cJSON_IsObject(err) && acme_problem_from_json(err, 0, &out->error)) {
        acme_challenge_clear(out);
        return -1;
    }
    return 0;
}

static int challenge_post(struct acme_client *c, const char *url, const char *body,
                          struct acme_challenge *out, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    cJSON *root = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return err_set(e, ERR_INVALID, "challenge url: required");
    if (acme_post(c, url, body, ACME_SIGN_KID, NULL, &r, rep, e))
        goto out;
    root = acme_json_body(&r, "challenge", e);
    if (!root)
        goto out;
    if (acme_challenge_from_json(root, r.retry_at, out)) {
        err_set(e, ERR_INTERNAL, "acme: challenge: out of memory");
        goto out;
    }
    if (!out->url)
        out->url = acme_strdup(url);
    log_debug("acme", "challenge", "url", url, "status", out->status_str, NULL);
    ret = 0;
out:
    cJSON_Delete(root);
    acme_http_resp_clear(&r);
    return ret;
}

int acme_get_challenge(struct acme_client *c, const char *challenge_url,
                       struct acme_challenge *out, struct acme_reply *rep, struct err *e)
{
    return challenge_post(c, challenge_url, NULL, out, rep, e);
}

int acme_respond_challenge(struct acme_client *c, const char *challenge_url,
                           struct acme_challenge *out, struct acme_reply *rep, struct err *e)
{
    /* An empty object, not an empty payload: that would be POST-as-GET (RFC 8555 7.5.1). */
    return challenge_post(c, challenge_url, "{}", out, rep, e);
}

char *acme_key_authorization(struct acme_client *c, const char *token, struct err *e)
{
    char *tp, *out = NULL;
    if (!token || !*token)
        return err_set(e, ERR_INVALID, "challenge token: required"), NULL;
    pthread_mutex_lock(&c->mu);
    tp = crypto_jwk_thumbprint(c->key);
    pthread_mutex_unlock(&c->mu);
    if (!tp || asprintf(&out, "%s.%s", token, tp) < 0) {
        out = NULL;
        err_set(e, ERR_INTERNAL, "acme: key authorization: out of memory");
    }
    free(tp);
    return out;
}

char *acme_dns01_txt_value(struct acme_client *c, const char *token, struct err *e)
{
    char *ka = acme_key_authorization(c, token, e), *v;
    if (!ka)
        return NULL;
    v = crypto_sha256_b64url(ka);
    free(ka);
    if (!v)
        err_set(e, ERR_INTERNAL, "acme: dns-01 value: hashing failed");
    return v;
}

char *acme_dns01_record_name(const char *identifier)
{
    char *out;
    if (!identifier)
        return NULL;
    if (!strncmp(identifier, "*.", 2))
        identifier += 2;
    if (asprintf(&out, "_acme-challenge.%s", identifier) < 0)
        return NULL;
    return out;
}
