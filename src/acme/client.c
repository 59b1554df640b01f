/* client.c: acme_client lifecycle and the few fields callers may change. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#ifndef PKIEXT_VERSION
#define PKIEXT_VERSION "dev"
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe on older libcurl; once per process is what it wants. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int acme_client_new(const struct acme_client_opts *o, struct acme_client **out, struct err *e)
{
    struct acme_client *c = NULL;
    *out = NULL;
    if (!o || !o->directory_url || !*o->directory_url)
        return err_set(e, ERR_INVALID, "directory_url: required");
    if (strncmp(o->directory_url, "https://", 8) && strncmp(o->directory_url, "http://", 7))
        return err_set(e, ERR_INVALID, "directory_url: must be an https:// URL, got %.200s",
                       o->directory_url);
    if (!o->account_key)
        return err_set(e, ERR_INVALID, "account key: required");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "acme: curl_global_init: %s",
                       curl_easy_strerror(curl_init_rc));

    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    if (pthread_mutex_init(&c->mu, NULL)) {
        free(c);
        return err_set(e, ERR_INTERNAL, "acme: pthread_mutex_init failed");
    }
    c->key = o->account_key;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->dir_url = acme_strdup(o->directory_url);
    c->ua = acme_strdup(o->user_agent ? o->user_agent
                                      : "vault-plugin-secrets-pki-external-ca/" PKIEXT_VERSION);
    if (!c->dir_url || !c->ua)
        goto oom;
    if (o->trusted_ca_pem && *o->trusted_ca_pem) {
        if (!strstr(o->trusted_ca_pem, "-----BEGIN CERTIFICATE-----")) {
            acme_client_free(c);
            return err_set(e, ERR_INVALID, "trusted_ca: no PEM certificate found");
        }
        c->ca_pem = acme_strdup(o->trusted_ca_pem);
        if (!c->ca_pem)
            goto oom;
    }
    if (o->account_url && *o->account_url) {
        c->kid = acme_strdup(o->account_url);
        if (!c->kid)
            goto oom;
    }
    *out = c;
    return 0;
oom:
    acme_client_free(c);
    return err_set(e, ERR_INTERNAL, "acme_client_new: out of memory");
}

void acme_client_free(struct acme_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_nonces; i++)
        free(c->nonces[i]);
    for (size_t i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    acme_directory_clear(&c->dir);
    pthread_mutex_destroy(&c->mu);
    free(c->dir_url);
    free(c->ca_pem);
    free(c->ua);
    free(c->kid);
    free(c);
}

char *acme_client_account_url(struct acme_client *c)
{
    pthread_mutex_lock(&c->mu);
    char *s = acme_strdup(c->kid);
    pthread_mutex_unlock(&c->mu);
    return s;
}

int acme_client_set_account_url(struct acme_client *c, const char *url, struct err *e)
{
    char *dup = NULL;
    if (url && *url) {
        dup = acme_strdup(url);
        if (!dup)
            return err_set(e, ERR_INTERNAL, "acme_client_set_account_url: out of memory");
    }
    pthread_mutex_lock(&c->mu);
    free(c->kid);
    c->kid = dup;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void acme_client_set_key(struct acme_client *c, struct crypto_key *key)
{
    pthread_mutex_lock(&c->mu);
    c->key = key;
    pthread_mutex_unlock(&c->mu);
}

void acme_client_set_deadline(struct acme_client *c, int64_t deadline_ms)
{
    pthread_mutex_lock(&c->mu);
    c->deadline_ms = deadline_ms > 0 ? deadline_ms : 0;
    pthread_mutex_unlock(&c->mu);
}

void acme_client_set_cancel(struct acme_client *c, const atomic_bool *flag)
{
    pthread_mutex_lock(&c->mu);
    c->cancel = flag;
    pthread_mutex_unlock(&c->mu);
}
