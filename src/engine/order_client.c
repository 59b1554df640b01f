/* order_client.c: ACME clients shared by every order of an account. A client keeps its
 * directory, nonces and TLS connection between calls, so sharing one saves each order step
 * a directory fetch and a TLS handshake (acme.h: a client may be used by several threads
 * at once). An entry is replaced when the account's directory, account URL, trusted CA or
 * active key changes (rotate-key), and freed once the last advance using it lets go.
 *
 * Process-wide on purpose, like account.c's key registry: clients are per account
 * settings, not per request. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "acme.h"
#include "internal.h"
#include "order.h"

/* One cached client. refs counts the cache's own reference (while current) plus every
 * holder; the entry is freed when it drops to zero. */
struct order_client {
    char *account;
    unsigned char fp[32];
    struct acme_client *client;
    int refs;
    struct order_client *next;
};

static pthread_mutex_t clients_mu = PTHREAD_MUTEX_INITIALIZER;
static struct order_client *clients;

static const char *json_str(const cJSON *j, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    return s ? s : "";
}

/* SHA-256 over the settings a client is built from, NUL-separated. */
static int settings_fp(const char *const *parts, size_t n, unsigned char fp[32], struct err *e)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, fp, &len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : err_set(e, ERR_INTERNAL, "order client: sha-256 failed");
}

static void entry_free(struct order_client *c)
{
    acme_client_free(c->client);
    free(c->account);
    free(c);
}

int order_client_get(struct fw_storage *s, const char *account, struct order_client **out,
                     struct err *e)
{
    cJSON *j = NULL;
    unsigned char fp[32];
    int rc = -1;
    *out = NULL;
    if (account_load_json(s, account, &j, e) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(j, "pending_key")) {
        /* A key rotation stopped half-way: sign with the key the CA holds. */
        struct err se = { 0 };
        cJSON_Delete(j);
        j = NULL;
        account_settle(s, account, &se);
        if (account_load_json(s, account, &j, e) < 0)
            return -1;
    }
    const char *parts[] = { json_str(j, "directory_url"), json_str(j, "account_url"),
                            json_str(j, "trusted_ca"),
                            json_str(account_json_active_key(j), "private_key") };
    if (!parts[3][0]) {
        err_set(e, ERR_INTERNAL, "account %s: no active key in storage", account);
        goto out;
    }
    if (settings_fp(parts, 4, fp, e) < 0)
        goto out;

    pthread_mutex_lock(&clients_mu);
    struct order_client **p = &clients;
    while (*p && strcmp((*p)->account, account) != 0)
        p = &(*p)->next;
    if (*p && memcmp((*p)->fp, fp, sizeof fp) == 0) {
        (*p)->refs++;
        *out = *p;
        pthread_mutex_unlock(&clients_mu);
        rc = 0;
        goto out;
    }
    if (*p) {
        /* Settings changed: drop the cache's reference; holders finish with the old one. */
        struct order_client *old = *p;
        *p = old->next;
        if (--old->refs == 0)
            entry_free(old);
    }
    struct order_client *c = calloc(1, sizeof *c);
    if (!c || !(c->account = strdup(account))) {
        free(c);
        pthread_mutex_unlock(&clients_mu);
        err_set(e, ERR_INTERNAL, "order client: out of memory");
        goto out;
    }
    /* No network I/O here (acme_client_new), so holding the mutex is cheap. */
    if (account_client_for(parts[0], parts[2], parts[1], parts[3], &c->client, e) < 0) {
        pthread_mutex_unlock(&clients_mu);
        free(c->account);
        free(c);
        goto out;
    }
    memcpy(c->fp, fp, sizeof fp);
    c->refs = 2;   /* the cache and the caller */
    c->next = clients;
    clients = c;
    *out = c;
    pthread_mutex_unlock(&clients_mu);
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

struct acme_client *order_client_acme(const struct order_client *c)
{
    return c->client;
}

void order_client_put(struct order_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&clients_mu);
    if (--c->refs == 0)
        entry_free(c);
    pthread_mutex_unlock(&clients_mu);
}
