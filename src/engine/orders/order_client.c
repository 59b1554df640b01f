/* order_client.c: the ACME clients a mount's orders share, one per account. A client keeps
 * its directory, nonces and TLS connection between calls, so sharing one saves each order
 * step a directory fetch and a TLS handshake (acme.h: a client may be used by several
 * threads at once).
 *
 * The cache belongs to the mount (struct engine), so two mounts with an account of the same
 * name never share or evict each other's entry. An entry is keyed by account name and
 * carries a fingerprint of the settings it was built from (directory, account URL, trusted
 * CA, active key): a mismatch (rotate-key, trusted_ca update, a write on another node)
 * replaces it. Entries are also dropped when the account is written or deleted here and on
 * InvalidateKey, and the least recently used one goes when the cache is full. An entry is
 * reference-counted (the cache's reference while it is current, plus one per holder) and
 * freed, key cleared, when the last one goes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acme.h"
#include "../internal.h"
#include "order.h"

/* Accounts in use at once on one mount: a handful; the bound keeps a mount that cycles
 * through many accounts from keeping every key in memory. */
enum { ORDER_CLIENTS_MAX = 32 };

struct order_client {
    char *account;
    unsigned char fp[32];
    struct account_conn conn;
    int refs;
    struct order_client *next;   /* in the cache list while current */
};

struct order_clients {
    pthread_mutex_t mu;
    struct order_client *list;   /* current entries, most recently used first */
    size_t n;
};

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
    account_conn_close(&c->conn);
    OPENSSL_cleanse(c->fp, sizeof c->fp);
    free(c->account);
    free(c);
}

/* Caller holds cc->mu. Unlinks *p and drops the cache's reference. */
static void unlink_entry(struct order_clients *cc, struct order_client **p)
{
    struct order_client *c = *p;
    *p = c->next;
    c->next = NULL;
    cc->n--;
    if (--c->refs == 0)
        entry_free(c);
}

int order_clients_new(struct order_clients **out, struct err *e)
{
    struct order_clients *cc = calloc(1, sizeof *cc);
    if (!cc)
        return err_set(e, ERR_INTERNAL, "order clients: out of memory");
    pthread_mutex_init(&cc->mu, NULL);
    *out = cc;
    return 0;
}

void order_clients_free(struct order_clients *cc)
{
    if (!cc)
        return;
    /* Called after the worker stopped and the last request ended: only the cache's own
     * references are left. */
    while (cc->list)
        unlink_entry(cc, &cc->list);
    pthread_mutex_destroy(&cc->mu);
    free(cc);
}

void order_clients_drop(struct order_clients *cc, const char *account)
{
    if (!cc)
        return;
    pthread_mutex_lock(&cc->mu);
    for (struct order_client **p = &cc->list; *p; p = &(*p)->next) {
        if (strcmp((*p)->account, account) == 0) {
            unlink_entry(cc, p);
            break;
        }
    }
    pthread_mutex_unlock(&cc->mu);
}

size_t order_clients_count(struct order_clients *cc)
{
    pthread_mutex_lock(&cc->mu);
    size_t n = cc->n;
    pthread_mutex_unlock(&cc->mu);
    return n;
}

int order_client_get(struct engine *eng, struct fw_storage *s, const char *account,
                     struct order_client **out, struct err *e)
{
    struct order_clients *cc = eng->clients;
    cJSON *j = NULL;
    unsigned char fp[32];
    int rc = -1;
    *out = NULL;
    if (account_load_json(s, account, &j, e) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(j, "pending_key")) {
        /* A key rotation stopped half-way: sign with the key the CA holds. */
        struct err se = { 0 };
        account_json_free(j);
        j = NULL;
        account_settle(eng, s, account, &se);
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

    pthread_mutex_lock(&cc->mu);
    struct order_client **p = &cc->list;
    while (*p && strcmp((*p)->account, account) != 0)
        p = &(*p)->next;
    if (*p && memcmp((*p)->fp, fp, sizeof fp) == 0) {
        struct order_client *c = *p;
        *p = c->next;          /* to the front: most recently used */
        c->next = cc->list;
        cc->list = c;
        c->refs++;
        *out = c;
        pthread_mutex_unlock(&cc->mu);
        rc = 0;
        goto out;
    }
    if (*p)
        unlink_entry(cc, p);   /* settings changed: holders finish with the old one */
    struct order_client *c = calloc(1, sizeof *c);
    if (!c || !(c->account = strdup(account))) {
        free(c);
        pthread_mutex_unlock(&cc->mu);
        err_set(e, ERR_INTERNAL, "order client: out of memory");
        goto out;
    }
    /* No network I/O here (acme_client_new), so holding the mutex is cheap. */
    if (account_conn_open(parts[0], parts[2], parts[1], parts[3], &c->conn, e) < 0) {
        pthread_mutex_unlock(&cc->mu);
        free(c->account);
        free(c);
        goto out;
    }
    acme_client_set_cancel(c->conn.acme, &eng->stopping);
    memcpy(c->fp, fp, sizeof fp);
    c->refs = 2;   /* the cache and the caller */
    c->next = cc->list;
    cc->list = c;
    cc->n++;
    if (cc->n > ORDER_CLIENTS_MAX) {
        struct order_client **last = &cc->list;
        while ((*last)->next)
            last = &(*last)->next;
        unlink_entry(cc, last);
    }
    *out = c;
    pthread_mutex_unlock(&cc->mu);
    rc = 0;
out:
    account_json_free(j);
    return rc;
}

struct acme_client *order_client_acme(const struct order_client *c)
{
    return c->conn.acme;
}

void order_client_put(struct order_clients *cc, struct order_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cc->mu);
    if (--c->refs == 0)
        entry_free(c);
    pthread_mutex_unlock(&cc->mu);
}
