/* account.c: account objects (RFC 8555 7.3): newAccount (with EAB), lookup with
 * onlyReturnExisting, contact update, keyChange rollover and deactivation. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

void acme_account_clear(struct acme_account *a)
{
    if (!a)
        return;
    free(a->url);
    free(a->status_str);
    acme_strv_free(a->contacts);
    free(a->orders_url);
    memset(a, 0, sizeof *a);
}

/* Fills *out from a response; url is the account URL (Location or the kid). */
int acme_account_parse(const struct acme_http_resp *r, const char *url,
                       struct acme_account *out, struct err *e)
{
    cJSON *root = acme_json_body(r, "account", e);
    if (!root)
        return -1;
    memset(out, 0, sizeof *out);
    out->url = acme_strdup(url);
    out->status_str = acme_json_strdup(root, "status");
    out->status = acme_status_parse(out->status_str);
    out->contacts = acme_json_strv(root, "contact", NULL);
    out->orders_url = acme_json_strdup(root, "orders");
    out->created = r->status == 201;
    cJSON_Delete(root);
    if (!out->url || !out->contacts) {
        acme_account_clear(out);
        return err_set(e, ERR_INTERNAL, "acme: account: out of memory");
    }
    return 0;
}

/* Adds "contact": [...] (bare addresses get "mailto:"). */
static int add_contacts(cJSON *obj, const char *const *contacts, struct err *e)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "contact");
    if (!arr)
        return err_set(e, ERR_INTERNAL, "acme: out of memory");
    for (size_t i = 0; contacts && contacts[i]; i++) {
        const char *ct = contacts[i];
        char buf[512];
        if (!*ct || strpbrk(ct, " \t\r\n,"))
            return err_set(e, ERR_INVALID, "contact %zu: not a single address or URI", i);
        if (!strchr(ct, ':')) {
            if (!strchr(ct, '@'))
                return err_set(e, ERR_INVALID, "contact %.200s: not an email address", ct);
            if ((size_t)snprintf(buf, sizeof buf, "mailto:%s", ct) >= sizeof buf)
                return err_set(e, ERR_INVALID, "contact %zu: too long", i);
            ct = buf;
        }
        cJSON *s = cJSON_CreateString(ct);
        if (!s || !cJSON_AddItemToArray(arr, s))
            return err_set(e, ERR_INTERNAL, "acme: out of memory");
    }
    return 0;
}

/* The externalAccountBinding member: a JWS over the account's JWK, HMAC'd with the EAB key. */
static cJSON *eab_jws(struct acme_client *c, const struct acme_eab *eab, const char *url,
                      struct err *e)
{
    const char *alg = eab->alg && *eab->alg ? eab->alg : "HS256";
    unsigned char *key = NULL;
    size_t key_len = 0;
    char *jwk = NULL, *prot = NULL, *p64 = NULL, *j64 = NULL, *input = NULL, *sig = NULL;
    cJSON *obj = NULL, *ph = NULL;

    if (!eab->kid || !*eab->kid)
        return err_set(e, ERR_INVALID, "eab kid: required with an EAB key"), NULL;
    if (strcmp(alg, "HS256") && strcmp(alg, "HS384") && strcmp(alg, "HS512"))
        return err_set(e, ERR_INVALID, "eab alg %.32s: want HS256, HS384 or HS512", alg), NULL;
    /* base64url is what RFC 8555 CAs hand out; some print standard base64 (+/ and =). */
    if (!eab->hmac_key_b64url ||
        (crypto_b64url_decode(eab->hmac_key_b64url, &key, &key_len, NULL) &&
         crypto_b64_decode(eab->hmac_key_b64url, &key, &key_len, NULL)) || !key_len) {
        err_set(e, ERR_INVALID, "eab hmac key: not base64url");
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    jwk = crypto_jwk_public_json(c->key);
    pthread_mutex_unlock(&c->mu);
    ph = cJSON_CreateObject();
    if (!jwk || !ph || !cJSON_AddStringToObject(ph, "alg", alg) ||
        !cJSON_AddStringToObject(ph, "kid", eab->kid) ||
        !cJSON_AddStringToObject(ph, "url", url))
        goto oom;
    prot = cJSON_PrintUnformatted(ph);
    if (!prot)
        goto oom;
    p64 = crypto_b64url_encode(prot, strlen(prot));
    j64 = crypto_b64url_encode(jwk, strlen(jwk));
    if (!p64 || !j64 || asprintf(&input, "%s.%s", p64, j64) < 0) {
        input = NULL;
        goto oom;
    }
    if (crypto_hmac_b64url(alg, key, key_len, input, &sig, e)) {
        err_wrap(e, "eab");
        goto out;
    }
    obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "protected", p64) ||
        !cJSON_AddStringToObject(obj, "payload", j64) ||
        !cJSON_AddStringToObject(obj, "signature", sig)) {
        cJSON_Delete(obj);
        obj = NULL;
        goto oom;
    }
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "acme: eab: out of memory");
out:
    if (key)
        explicit_bzero(key, key_len);
    free(key);
    free(jwk);
    free(prot);
    free(p64);
    free(j64);
    free(input);
    free(sig);
    cJSON_Delete(ph);
    return obj;
}

/* POSTs `payload` to newAccount (jwk-signed) and parses the reply; sets the client's kid. */
static int new_account_post(struct acme_client *c, const char *url, cJSON *payload,
                            struct acme_account *out, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *body = cJSON_PrintUnformatted(payload);
    int ret = -1;
    if (!body)
        return err_set(e, ERR_INTERNAL, "acme: out of memory");
    if (acme_post(c, url, body, ACME_SIGN_JWK, NULL, &r, rep, e))
        goto out;
    if (!r.location) {
        err_set(e, ERR_UPSTREAM, "acme: newAccount: no Location header in the reply");
        goto out;
    }
    if (acme_account_parse(&r, r.location, out, e))
        goto out;
    if (acme_client_set_account_url(c, r.location, e))
        goto out;
    log_debug("acme", "account", "url", out->url, "status", acme_status_name(out->status),
              "created", out->created ? "true" : "false", NULL);
    ret = 0;
out:
    free(body);
    acme_http_resp_clear(&r);
    return ret;
}

int acme_new_account(struct acme_client *c, const char *const *contacts, bool tos_agreed,
                     const struct acme_eab *eab, struct acme_account *out,
                     struct acme_reply *rep, struct err *e)
{
    char *url = NULL;
    cJSON *p = NULL, *binding = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (acme_dir_url(c, offsetof(struct acme_directory, new_account), "newAccount", &url, e))
        goto out;
    p = cJSON_CreateObject();
    if (!p) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    if (add_contacts(p, contacts, e))
        goto out;
    if (tos_agreed)
        cJSON_AddTrueToObject(p, "termsOfServiceAgreed");
    if (eab && (eab->kid || eab->hmac_key_b64url)) {
        binding = eab_jws(c, eab, url, e);
        if (!binding)
            goto out;
        cJSON_AddItemToObject(p, "externalAccountBinding", binding);
    }
    ret = new_account_post(c, url, p, out, rep, e);
out:
    cJSON_Delete(p);
    free(url);
    return ret;
}

int acme_lookup_account(struct acme_client *c, struct acme_account *out,
                        struct acme_reply *rep, struct err *e)
{
    struct acme_reply local = { 0 };
    char *url = NULL;
    cJSON *p = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!rep)
        rep = &local;
    if (acme_dir_url(c, offsetof(struct acme_directory, new_account), "newAccount", &url, e))
        goto out;
    p = cJSON_CreateObject();
    if (!p || !cJSON_AddTrueToObject(p, "onlyReturnExisting")) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    ret = new_account_post(c, url, p, out, rep, e);
    if (ret && !strcmp(acme_problem_name(&rep->problem), "accountDoesNotExist"))
        err_set(e, ERR_NOT_FOUND, "acme: no account at the CA for this key");
out:
    cJSON_Delete(p);
    free(url);
    acme_reply_clear(&local);
    return ret;
}

/* POST to the account URL with `body` (NULL: POST-as-GET). */
static int account_post(struct acme_client *c, const char *body, struct acme_account *out,
                        struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *kid = acme_client_account_url(c);
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!kid)
        return err_set(e, ERR_INVALID, "acme: no account URL yet");
    if (!acme_post(c, kid, body, ACME_SIGN_KID, NULL, &r, rep, e) &&
        !acme_account_parse(&r, kid, out, e))
        ret = 0;
    acme_http_resp_clear(&r);
    free(kid);
    return ret;
}

int acme_get_account(struct acme_client *c, struct acme_account *out, struct acme_reply *rep,
                     struct err *e)
{
    return account_post(c, NULL, out, rep, e);
}

int acme_update_account(struct acme_client *c, const char *const *contacts,
                        struct acme_account *out, struct acme_reply *rep, struct err *e)
{
    cJSON *p = cJSON_CreateObject();
    char *body = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!p) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    if (add_contacts(p, contacts, e))
        goto out;
    body = cJSON_PrintUnformatted(p);
    if (!body) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    ret = account_post(c, body, out, rep, e);
out:
    cJSON_Delete(p);
    free(body);
    return ret;
}

int acme_deactivate_account(struct acme_client *c, struct acme_account *out,
                            struct acme_reply *rep, struct err *e)
{
    return account_post(c, "{\"status\":\"deactivated\"}", out, rep, e);
}

int acme_key_change(struct acme_client *c, struct crypto_key *new_key, struct acme_reply *rep,
                    struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *url = NULL, *kid = NULL, *old_jwk = NULL, *new_jwk = NULL, *inner_prot = NULL;
    char *inner_payload = NULL, *inner = NULL;
    cJSON *pl = NULL, *oldk = NULL;
    int ret = -1;

    if (!new_key)
        return err_set(e, ERR_INVALID, "new account key: required");
    kid = acme_client_account_url(c);
    if (!kid)
        return err_set(e, ERR_INVALID, "acme: no account URL yet");
    if (acme_dir_url(c, offsetof(struct acme_directory, key_change), "keyChange", &url, e))
        goto out;
    pthread_mutex_lock(&c->mu);
    old_jwk = crypto_jwk_public_json(c->key);
    pthread_mutex_unlock(&c->mu);
    new_jwk = crypto_jwk_public_json(new_key);
    if (!old_jwk || !new_jwk)
        goto oom;
    /* Inner JWS (RFC 8555 7.3.5): signed by the new key, jwk in the header, no nonce. */
    inner_prot = acme_jws_protected(crypto_jws_alg(new_key), NULL, new_jwk, NULL, url);
    pl = cJSON_CreateObject();
    oldk = cJSON_Parse(old_jwk);
    if (!inner_prot || !pl || !oldk || !cJSON_AddStringToObject(pl, "account", kid))
        goto oom;
    cJSON_AddItemToObject(pl, "oldKey", oldk);
    oldk = NULL;
    inner_payload = cJSON_PrintUnformatted(pl);
    if (!inner_payload)
        goto oom;
    if (crypto_jws_flattened(new_key, inner_prot, inner_payload, &inner, e)) {
        err_wrap(e, "acme: keyChange inner JWS");
        goto out;
    }
    if (acme_post(c, url, inner, ACME_SIGN_KID, NULL, &r, rep, e))
        goto out;
    acme_client_set_key(c, new_key);
    log_debug("acme", "account key changed", "url", kid, NULL);
    ret = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "acme: keyChange: out of memory");
out:
    acme_http_resp_clear(&r);
    cJSON_Delete(pl);
    cJSON_Delete(oldk);
    free(url);
    free(kid);
    free(old_jwk);
    free(new_jwk);
    free(inner_prot);
    free(inner_payload);
    free(inner);
    return ret;
}
