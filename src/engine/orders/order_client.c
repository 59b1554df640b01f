/* order_client.c: the ACME clients a mount's orders share, one per account. A client keeps
 * its directory, nonces and TLS connection between calls, so sharing one saves each order
 * step a directory fetch and a TLS handshake (acme.h: a client may be used by several
 * threads at once).
 *
 * The cache belongs to the mount (struct engine), so two mounts with an account of the same
 * name never share or evict each other's entry. An entry is keyed by account name and stays
 * current until it is dropped: every write of account/<name> on this node drops it
 * (path_account.c's account_store, and the delete), InvalidateKey drops it for a write
 * elsewhere, and the least recently used one goes when the cache is full. So the busy path,
 * a hit, reads no storage; only a miss reads the account (and settles a rotation stopped
 * half-way). A client built from a read that a drop overtook serves its caller but is not
 * cached (the drop counter, gen). An entry is reference-counted (the cache's reference while
 * it is current, plus one per holder) and freed, key cleared, when the last one goes. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "acme.h"
#include "../internal.h"
#include "order.h"

/* Accounts in use at once on one mount: a handful; the bound keeps a mount that cycles
 * through many accounts from keeping every key in memory. */
enum { ORDER_CLIENTS_MAX = 32 };

struct order_client {
    char *account;
    struct account_conn conn;
    char *thumbprint;            /* of conn.key (RFC 7638), for key authorizations */
    int refs;
    struct order_client *next;   /* in the cache list while current */
};

struct order_clients {
    pthread_mutex_t mu;
    struct order_client *list;   /* current entries, most recently used first */
    size_t n;
    uint64_t gen;                /* drops so far: a client built from an account read
                                    across a drop is not cached */
};

static const char *json_str(const cJSON *j, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    return s ? s : "";
}

static void entry_free(struct order_client *c)
{
    account_conn_close(&c->conn);
    free(c->thumbprint);
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
    cc->gen++;
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

/* Caller holds cc->mu. The current entry of account, moved to the front and referenced
 * for the caller; NULL when there is none. */
static struct order_client *take_current(struct order_clients *cc, const char *account)
{
    struct order_client **p = &cc->list;
    while (*p && strcmp((*p)->account, account) != 0)
        p = &(*p)->next;
    if (!*p)
        return NULL;
    struct order_client *c = *p;
    *p = c->next;   /* to the front: most recently used */
    c->next = cc->list;
    cc->list = c;
    c->refs++;
    return c;
}

/* Reads account/<name> (settling a rotation stopped half-way first) and builds a client
 * from it, referenced once (the caller's). No network I/O (acme_client_new). */
static int client_build(struct engine *eng, struct fw_storage *s, const char *account,
                        struct order_client **out, struct err *e)
{
    cJSON *j = NULL;
    int rc = -1;
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
    const char *key = json_str(account_json_active_key(j), "private_key");
    struct order_client *c = NULL;
    if (!key[0]) {
        err_set(e, ERR_INTERNAL, "account %s: no active key in storage", account);
        goto out;
    }
    if (!(c = calloc(1, sizeof *c)) || !(c->account = strdup(account))) {
        free(c);
        err_set(e, ERR_INTERNAL, "order client: out of memory");
        goto out;
    }
    if (account_conn_open(json_str(j, "directory_url"), json_str(j, "trusted_ca"),
                          json_str(j, "account_url"), key, &c->conn, e) < 0) {
        free(c->account);
        free(c);
        goto out;
    }
    if (!(c->thumbprint = crypto_jwk_thumbprint(c->conn.key))) {
        account_conn_close(&c->conn);
        free(c->account);
        free(c);
        err_set(e, ERR_INTERNAL, "account %s: thumbprint failed", account);
        goto out;
    }
    acme_client_set_cancel(c->conn.acme, &eng->stopping);
    c->refs = 1;
    *out = c;
    rc = 0;
out:
    account_json_free(j);
    return rc;
}

int order_client_get(struct engine *eng, struct fw_storage *s, const char *account,
                     struct order_client **out, struct err *e)
{
    struct order_clients *cc = eng->clients;
    *out = NULL;
    pthread_mutex_lock(&cc->mu);
    struct order_client *c = take_current(cc, account);
    uint64_t gen = cc->gen;
    pthread_mutex_unlock(&cc->mu);
    if (c) {
        *out = c;   /* current until a drop: no storage read on the busy path */
        return 0;
    }

    /* Built outside the mutex: the read may wait on storage. */
    if (client_build(eng, s, account, &c, e) < 0)
        return -1;
    pthread_mutex_lock(&cc->mu);
    struct order_client *raced = take_current(cc, account);
    if (raced) {
        /* Another thread cached one meanwhile: the cache keeps a single entry. */
        pthread_mutex_unlock(&cc->mu);
        order_client_put(cc, c);
        *out = raced;
        return 0;
    }
    if (cc->gen == gen) {
        /* No account changed while it was read: current. (After a drop in between, what
         * was read may be the old account: this caller uses it, the cache does not keep
         * it, and the next get reads the new one.) */
        c->refs++;   /* the cache's */
        c->next = cc->list;
        cc->list = c;
        cc->n++;
        if (cc->n > ORDER_CLIENTS_MAX) {
            struct order_client **last = &cc->list;
            while ((*last)->next)
                last = &(*last)->next;
            unlink_entry(cc, last);
        }
    }
    pthread_mutex_unlock(&cc->mu);
    *out = c;
    return 0;
}

struct acme_client *order_client_acme(const struct order_client *c)
{
    return c->conn.acme;
}

const char *order_client_thumbprint(const struct order_client *c)
{
    return c->thumbprint;
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
