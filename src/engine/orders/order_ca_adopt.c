/* order_ca_adopt.c: finding again a CA order whose URL a crash kept us from storing.
 *
 * step_new marks the order (ca_placing) before it sends newOrder. A later placement that
 * finds the mark set looks through the account's orders list (RFC 8555 7.1.2.1) for a live
 * CA order with exactly our identifiers that no other order has claimed, and adopts it
 * instead of placing another. The claims are an index, ca-order/<sha256 of the URL> ->
 * {"order_id"}, written before the order stores the URL: so two orders of the same names
 * never share one CA order, and a crash between claim and save leaves a claim by the order
 * itself, which it may take up again. CAs without the list (Let's Encrypt) get a new order,
 * as before: the lost one expires unused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <cJSON.h>

#include "acme.h"
#include "crypto.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

/* Pages of the orders list read at most (Pebble sends 3 orders a page). */
static const int ORDERS_LIST_MAX_PAGES = 50;

static int claim_key(const char *url, char **out, struct err *e)
{
    char *h = crypto_sha256_b64url(url);
    size_t n = h ? strlen(h) + sizeof "ca-order/" : 0;
    *out = h ? malloc(n) : NULL;
    if (!*out) {
        free(h);
        return err_set(e, ERR_INTERNAL, "ca order claim: out of memory");
    }
    snprintf(*out, n, "ca-order/%s", h);
    free(h);
    return 0;
}

/* The order id that claimed the CA order at url into *owner (new, NULL: none). */
static int claim_owner(struct fw_storage *s, const char *key, char **owner, struct err *e)
{
    cJSON *j = NULL;
    *owner = NULL;
    if (fw_storage_get_json(s, key, &j, e) < 0)
        return -1;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "order_id"));
    if (id && !(*owner = strdup(id))) {
        cJSON_Delete(j);
        return err_set(e, ERR_INTERNAL, "ca order claim: out of memory");
    }
    cJSON_Delete(j);
    return 0;
}

int order_ca_claim(struct engine *eng, struct fw_storage *s, const char *order_id,
                   const char *url, struct err *e)
{
    struct keylock hold = { 0 };
    char *key = NULL, *owner = NULL;
    int rc = -1;
    if (claim_key(url, &key, e) < 0)
        return -1;
    /* The check and the write are one step for this mount: the lock is the claim key's
     * (taken while holding an order lock; nobody takes an order lock holding this one). */
    keylock_wait(&eng->order_locks, key, &hold);
    if (claim_owner(s, key, &owner, e) < 0)
        goto out;
    if (owner && strcmp(owner, order_id) != 0) {
        rc = 1;
        goto out;
    }
    if (!owner) {
        cJSON *j = cJSON_CreateObject();
        if (!j || !cJSON_AddStringToObject(j, "order_id", order_id)) {
            cJSON_Delete(j);
            err_set(e, ERR_INTERNAL, "ca order claim: out of memory");
            goto out;
        }
        int prc = fw_storage_put_json(s, key, j, false, e);
        cJSON_Delete(j);
        if (prc < 0)
            goto out;
    }
    rc = 0;
out:
    keylock_release(&eng->order_locks, &hold);
    free(owner);
    free(key);
    return rc;
}

int order_ca_release(struct engine *eng, struct fw_storage *s, const char *order_id,
                     const char *url, struct err *e)
{
    struct keylock hold = { 0 };
    char *key = NULL, *owner = NULL;
    int rc = -1;
    if (claim_key(url, &key, e) < 0)
        return -1;
    keylock_wait(&eng->order_locks, key, &hold);
    if (claim_owner(s, key, &owner, e) < 0)
        goto out;
    if (owner && strcmp(owner, order_id) == 0 && s->del(s->ctx, key, e) < 0)
        goto out;
    rc = 0;
out:
    keylock_release(&eng->order_locks, &hold);
    free(owner);
    free(key);
    return rc;
}

int order_ca_tidy_claim(struct engine *eng, struct fw_storage *s, const char *key,
                        bool *deleted, struct err *e)
{
    struct keylock hold = { 0 };
    struct order *o = NULL;
    char *owner = NULL;
    struct err le;
    int rc = -1;
    *deleted = false;
    /* Under the claim's lock, as order_ca_claim writes it: a claim is only ever written by
     * an order that exists (an advance loads it first), so one whose order is gone is an
     * orphan (the order was tidied, or a crash left a claim for a CA order it never took
     * up). */
    keylock_wait(&eng->order_locks, key, &hold);
    if (claim_owner(s, key, &owner, e) < 0)
        goto out;
    if (owner && order_load(s, owner, &o, &le) == 0) {
        rc = 0;
        goto out;
    }
    if (owner && le.kind != ERR_NOT_FOUND) {
        *e = le;
        goto out;
    }
    if (s->del(s->ctx, key, e) < 0)
        goto out;
    *deleted = true;
    rc = 0;
out:
    keylock_release(&eng->order_locks, &hold);
    order_free(o);
    free(owner);
    return rc;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool has_ident(const struct acme_order *co, const char *name)
{
    enum acme_ident_type t = is_ip(name) ? ACME_IDENT_IP : ACME_IDENT_DNS;
    for (size_t i = 0; i < co->n_identifiers; i++)
        if (co->identifiers[i].type == t && co->identifiers[i].value &&
            strcasecmp(co->identifiers[i].value, name) == 0)
            return true;
    return false;
}

/* The CA order carries exactly the order's identifiers (in any order, names ignoring case). */
static bool same_identifiers(const struct order *o, const struct acme_order *co)
{
    size_t distinct = 0;
    for (size_t i = 0; i < o->n_identifiers; i++) {
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcasecmp(o->identifiers[k], o->identifiers[i]) == 0;
        if (!dup)
            distinct++;
        if (!has_ident(co, o->identifiers[i]))
            return false;
    }
    return co->n_identifiers == distinct;
}

static bool live(enum acme_status st)
{
    return st == ACME_STATUS_PENDING || st == ACME_STATUS_READY ||
           st == ACME_STATUS_PROCESSING || st == ACME_STATUS_VALID;
}

/* Looks at one listed CA order: 1 adopted into *out, 0 not ours, -1 error. */
static int consider(struct engine *eng, struct fw_storage *s, struct acme_client *c,
                    const struct order *o, const char *url, struct acme_order *out,
                    struct err *e)
{
    struct acme_reply rep = { 0 };
    char *key = NULL, *owner = NULL;
    int rc;
    if (claim_key(url, &key, e) < 0)
        return -1;
    rc = claim_owner(s, key, &owner, e);
    free(key);
    if (rc < 0)
        return -1;
    bool other = owner && strcmp(owner, o->id) != 0;
    free(owner);
    if (other)
        return 0;   /* another order's: not even fetched */
    rc = acme_get_order(c, url, out, &rep, e);
    acme_reply_clear(&rep);
    if (rc < 0)   /* one the CA refuses to show (gone, ...) is not ours; trouble stops */
        return e->kind == ERR_UPSTREAM || e->kind == ERR_NOT_FOUND ? 0 : -1;
    if (!live(out->status) || !same_identifiers(o, out)) {
        acme_order_clear(out);
        return 0;
    }
    rc = order_ca_claim(eng, s, o->id, url, e);
    if (rc != 0)
        acme_order_clear(out);
    return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

int order_ca_find(struct engine *eng, struct fw_storage *s, struct acme_client *c,
                  const struct order *o, struct acme_order *out, struct err *e)
{
    struct acme_account acct;
    struct acme_reply rep = { 0 };
    char *page = NULL;
    int found = 0;
    memset(&acct, 0, sizeof acct);
    memset(out, 0, sizeof *out);
    if (acme_get_account(c, &acct, &rep, e) < 0)
        goto fail;
    acme_reply_clear(&rep);
    if (!acct.orders_url || !acct.orders_url[0]) {
        acme_account_clear(&acct);
        return err_set(e, ERR_UPSTREAM, "the CA lists no orders for the account");
    }
    page = acct.orders_url;
    acct.orders_url = NULL;
    acme_account_clear(&acct);
    for (int n = 0; page && !found && n < ORDERS_LIST_MAX_PAGES; n++) {
        char **urls = NULL, *next = NULL;
        if (acme_account_orders(c, page, &urls, &next, &rep, e) < 0)
            goto fail;
        acme_reply_clear(&rep);
        for (size_t i = 0; urls[i] && !found; i++)
            if ((found = consider(eng, s, c, o, urls[i], out, e)) < 0) {
                fw_strv_free(urls);
                free(next);
                goto fail;
            }
        fw_strv_free(urls);
        free(page);
        page = next;
    }
    free(page);
    return found;
fail:
    acme_reply_clear(&rep);
    acme_account_clear(&acct);
    free(page);
    return -1;
}
