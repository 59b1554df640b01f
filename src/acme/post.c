/* post.c: the signed POST every ACME call but the directory and newNonce goes through:
 * nonce, JWS, send, keep the returned nonce, re-send on badNonce (bounded), map errors. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

cJSON *acme_json_body(const struct acme_http_resp *r, const char *what, struct err *e)
{
    if (acme_http_expect_type(r, "application/json", what, e) < 0)
        return NULL;
    cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        err_set(e, ERR_UPSTREAM, "acme: %s %s: response is not a JSON object", what,
                r->url ? r->url : "");
        return NULL;
    }
    return root;
}

/* One signed attempt. */
static int post_once(struct acme_client *c, const char *url, const char *payload,
                     enum acme_signer signer, const struct crypto_key *key, const char *kid,
                     struct acme_http_resp *out, struct err *e)
{
    char *nonce = NULL, *jwk = NULL, *prot = NULL, *jws = NULL;
    int ret = -1;
    if (acme_nonce_get(c, &nonce, e))
        goto out;
    if (signer == ACME_SIGN_JWK) {
        jwk = crypto_jwk_public_json(key);
        if (!jwk) {
            err_set(e, ERR_INTERNAL, "acme: jwk of the signing key failed");
            goto out;
        }
    }
    prot = acme_jws_protected(crypto_jws_alg(key), signer == ACME_SIGN_KID ? kid : NULL, jwk,
                              nonce, url);
    if (!prot) {
        err_set(e, ERR_INTERNAL, "acme: building the JWS header failed");
        goto out;
    }
    if (crypto_jws_flattened(key, prot, payload, &jws, e)) {
        err_wrap(e, "acme: signing request to %s", url);
        goto out;
    }
    if (acme_http_request(c, "POST", url, jws, "application/jose+json", out, e))
        goto out;
    /* Keep the fresh nonce whatever the status: error responses carry one too. */
    acme_nonce_put(c, out->replay_nonce);
    out->replay_nonce = NULL;
    ret = 0;
out:
    free(nonce);
    free(jwk);
    free(prot);
    free(jws);
    return ret;
}

static bool is_bad_nonce(const struct acme_http_resp *r)
{
    if (r->status != 400)
        return false;
    cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
    bool bad = cJSON_IsString(t) && !strcmp(t->valuestring, "urn:ietf:params:acme:error:badNonce");
    cJSON_Delete(root);
    return bad;
}

int acme_post(struct acme_client *c, const char *url, const char *payload,
              enum acme_signer signer, const struct crypto_key *key,
              struct acme_http_resp *out, struct acme_reply *rep, struct err *e)
{
    char *kid = NULL;
    int ret = -1;

    memset(out, 0, sizeof *out);
    if (rep)
        acme_reply_clear(rep);
    if (!url || !*url)
        return err_set(e, ERR_INVALID, "acme: request URL is empty");
    pthread_mutex_lock(&c->mu);
    if (!key)
        key = c->key;
    kid = acme_strdup(c->kid);
    pthread_mutex_unlock(&c->mu);
    if (signer == ACME_SIGN_KID && !kid)
        return err_set(e, ERR_INVALID, "acme: no account URL yet (create or look up the "
                       "account first)");

    for (int attempt = 0;; attempt++) {
        if (post_once(c, url, payload, signer, key, kid, out, e))
            goto out;
        if (!is_bad_nonce(out) || attempt == ACME_BADNONCE_MAX)
            break;
        log_warn("acme", "bad nonce, signing again", "url", url, NULL);
        acme_http_resp_clear(out);
    }
    acme_reply_fill(rep, out);
    if (out->status >= 400) {
        acme_problem_to_err(out, url, rep, e);
        goto out;
    }
    ret = 0;
out:
    if (ret)
        acme_http_resp_clear(out);
    free(kid);
    return ret;
}
