/* directory.c: the directory object (RFC 8555 7.1.1), fetched once per client and cached. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void acme_directory_clear(struct acme_directory *d)
{
    if (!d)
        return;
    free(d->new_nonce);
    free(d->new_account);
    free(d->new_order);
    free(d->new_authz);
    free(d->revoke_cert);
    free(d->key_change);
    free(d->renewal_info);
    free(d->terms_of_service);
    free(d->website);
    acme_strv_free(d->caa_identities);
    acme_strv_free(d->profile_names);
    acme_strv_free(d->profile_descriptions);
    memset(d, 0, sizeof *d);
}

static char **strv_copy(char **v)
{
    size_t n = acme_strv_len(v);
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        out[i] = strdup(v[i]);
        if (!out[i]) {
            acme_strv_free(out);
            return NULL;
        }
    }
    return out;
}

/* Copies one optional string; false only when allocation failed. */
static bool dup_opt(char **to, const char *from)
{
    *to = acme_strdup(from);
    return !from || *to;
}

int acme_directory_copy(const struct acme_directory *f, struct acme_directory *t)
{
    memset(t, 0, sizeof *t);
    bool ok = dup_opt(&t->new_nonce, f->new_nonce) && dup_opt(&t->new_account, f->new_account)
        && dup_opt(&t->new_order, f->new_order) && dup_opt(&t->new_authz, f->new_authz)
        && dup_opt(&t->revoke_cert, f->revoke_cert) && dup_opt(&t->key_change, f->key_change)
        && dup_opt(&t->renewal_info, f->renewal_info)
        && dup_opt(&t->terms_of_service, f->terms_of_service)
        && dup_opt(&t->website, f->website);
    t->external_account_required = f->external_account_required;
    if (ok) {
        t->caa_identities = strv_copy(f->caa_identities);
        t->profile_names = strv_copy(f->profile_names);
        t->profile_descriptions = strv_copy(f->profile_descriptions);
        ok = t->caa_identities && t->profile_names && t->profile_descriptions;
    }
    if (!ok) {
        acme_directory_clear(t);
        return -1;
    }
    return 0;
}

int acme_directory_parse(const cJSON *root, struct acme_directory *d)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(meta, "profiles"), *it;
    const cJSON *ear = cJSON_GetObjectItemCaseSensitive(meta, "externalAccountRequired");
    size_t np = 0, i = 0;
    memset(d, 0, sizeof *d);
    d->new_nonce = acme_json_strdup(root, "newNonce");
    d->new_account = acme_json_strdup(root, "newAccount");
    d->new_order = acme_json_strdup(root, "newOrder");
    d->new_authz = acme_json_strdup(root, "newAuthz");
    d->revoke_cert = acme_json_strdup(root, "revokeCert");
    d->key_change = acme_json_strdup(root, "keyChange");
    d->renewal_info = acme_json_strdup(root, "renewalInfo");
    d->terms_of_service = acme_json_strdup(meta, "termsOfService");
    d->website = acme_json_strdup(meta, "website");
    d->external_account_required = cJSON_IsTrue(ear);
    d->caa_identities = acme_json_strv(meta, "caaIdentities", NULL);
    if (cJSON_IsObject(profiles))
        cJSON_ArrayForEach(it, profiles)
            np++;
    d->profile_names = calloc(np + 1, sizeof(char *));
    d->profile_descriptions = calloc(np + 1, sizeof(char *));
    if (!d->caa_identities || !d->profile_names || !d->profile_descriptions)
        return -1;
    if (np)
        cJSON_ArrayForEach(it, profiles) {
            d->profile_names[i] = strdup(it->string);
            d->profile_descriptions[i] = strdup(cJSON_IsString(it) ? it->valuestring : "");
            if (!d->profile_names[i] || !d->profile_descriptions[i])
                return -1;
            i++;
        }
    return 0;
}

int acme_get_directory(struct acme_client *c, bool force, struct acme_directory *out,
                       struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    struct acme_directory d = { 0 };
    cJSON *root = NULL;
    int ret = -1;

    if (out)
        memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->mu);
    bool have = c->have_dir && !force;
    if (have && out && acme_directory_copy(&c->dir, out))
        have = false, err_set(e, ERR_INTERNAL, "acme: out of memory");
    pthread_mutex_unlock(&c->mu);
    if (have)
        return 0;

    log_debug("acme", "fetching directory", "url", c->dir_url, NULL);
    if (acme_http_request(c, "GET", c->dir_url, NULL, NULL, &r, e))
        goto out;   /* the message names the URL and the cause */
    acme_reply_fill(rep, &r);
    if (r.status != 200) {
        acme_problem_to_err(&r, c->dir_url, rep, e);
        goto out;
    }
    if (!acme_media_type_is(r.content_type, "application/json")) {
        /* A web page (text/html) is the usual case: ask whether the URL is the right one. */
        acme_http_expect_type(&r, "application/json", "directory", e);
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, " (is this an ACME directory URL?)");
        goto out;
    }
    root = cJSON_ParseWithLength(r.body, r.body_len);
    if (!cJSON_IsObject(root)) {
        err_set(e, ERR_UPSTREAM, "acme: directory %s: not a JSON object (is this an ACME "
                "directory URL?)", c->dir_url);
        goto out;
    }
    if (acme_directory_parse(root, &d)) {
        err_set(e, ERR_INTERNAL, "acme: directory: out of memory");
        goto out;
    }
    if (!d.new_nonce || !d.new_account || !d.new_order) {
        err_set(e, ERR_UPSTREAM, "acme: directory %s: missing newNonce, newAccount or newOrder",
                c->dir_url);
        goto out;
    }
    if (out && acme_directory_copy(&d, out)) {
        err_set(e, ERR_INTERNAL, "acme: directory: out of memory");
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    acme_directory_clear(&c->dir);
    c->dir = d;
    c->have_dir = true;
    pthread_mutex_unlock(&c->mu);
    memset(&d, 0, sizeof d);
    ret = 0;
out:
    acme_directory_clear(&d);
    cJSON_Delete(root);
    acme_http_resp_clear(&r);
    return ret;
}

int acme_dir_url(struct acme_client *c, size_t field_offset, const char *name, char **out,
                 struct err *e)
{
    *out = NULL;
    if (acme_get_directory(c, false, NULL, NULL, e))
        return -1;
    pthread_mutex_lock(&c->mu);
    const char *u = *(char **)((char *)&c->dir + field_offset);
    *out = acme_strdup(u);
    pthread_mutex_unlock(&c->mu);
    if (!u)
        return err_set(e, ERR_UPSTREAM, "acme: the CA's directory has no %s", name);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "acme: out of memory");
    return 0;
}
