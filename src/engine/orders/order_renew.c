/* order_renew.c: renewal of completed orders (issue 14 §1, RFC 9773).
 *
 * Every completed order gets a renewal window when it completes (the last third of its
 * certificate's lifetime) and an entry renewal-watch/<id>; the order worker then looks at
 * it like at any other order (order_advance calls order_renewal_tick under the order's
 * lock): it fetches the CA's renewalInfo when check_at has come (again after the CA's
 * Retry-After), and, when the role has auto_renew and the certificate is due, places the
 * replacement order. No thread per order: the worker's one schedule holds the next look.
 *
 * At most one renewal per certificate, across crashes and nodes: the replacement's id is
 * stored in the old order (renewal.replaced_by_order_id) before the replacement exists, and
 * a tick that finds the claim without its order creates that same id (as ca_placing does
 * for CA orders). Only a node that may write runs the worker (a standby has no schedule,
 * and the claim's write would fail there anyway).
 *
 * Storage keys written here:
 *   renewal-watch/<id>   "" while a completed order is watched (not yet replaced, not
 *                        revoked, not expired without auto_renew) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "acme.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

/* renewalInfo without Retry-After: ask again this much later (RFC 9773 4.3.2 suggests
 * polling a few times a day). Retry-After is honoured within [ARI_MIN_S, ARI_MAX_S]. */
static const int64_t ARI_DEFAULT_S = 6 * 3600;
static const int64_t ARI_MIN_S = 60;
static const int64_t ARI_MAX_S = 24 * 3600;
/* A CA without renewalInfo is asked again daily (it may add ARI). */
static const int64_t NO_ARI_RECHECK_S = 24 * 3600;
/* Backoff for failed fetches or placements: 30 s doubling, at most an hour. */
static const int64_t FAIL_BASE_S = 30;
static const int64_t FAIL_MAX_S = 3600;

void order_renewal_default_window(int64_t not_before, int64_t not_after, int64_t *start,
                                  int64_t *end)
{
    int64_t life = not_after > not_before ? not_after - not_before : 0;
    *start = not_after - life / 3;
    *end = not_after;
}

int64_t order_renewal_due(const struct order_renewal *rn, const struct renew_before *rb,
                          int64_t not_before, int64_t not_after)
{
    int64_t life = not_after > not_before ? not_after - not_before : 0;
    int64_t due;
    if (rb && rb->seconds > 0)
        due = not_after - rb->seconds;
    else if (rb && rb->percent > 0)
        due = not_after - life * rb->percent / 100;
    else if (rn->ari)
        return rn->renew_at > 0 ? rn->renew_at : rn->window_start;
    else
        return rn->window_start;
    /* The CA's window ends before the role's own point (a mass revocation moved it): the
     * CA's word wins, or the certificate would be used past the end the CA asked for. */
    if (rn->ari && rn->window_end > 0 && rn->window_end < due)
        due = rn->renew_at > 0 ? rn->renew_at : rn->window_start;
    return due;
}

int64_t order_renewal_pick(int64_t start, int64_t end, int64_t now)
{
    uint64_t r = 0;
    if (start < now)
        start = now;
    if (end <= start)
        return start;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        return start;
    return start + (int64_t)(r % (uint64_t)(end - start));
}

static void watch_key(const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "renewal-watch/%s", id);
}

static void unwatch(struct fw_storage *s, const char *id)
{
    char key[128];
    struct err e;
    watch_key(id, key, sizeof key);
    if (s->del(s->ctx, key, &e) < 0)
        log_warn("engine", "renewal: cannot remove a watch entry", "order_id", id, "error",
                 e.msg, NULL);
}

/* The stored certificate of o: leaf PEM (new), not_before, not_after. */
static int cert_of(struct fw_storage *s, const struct order *o, char **leaf, int64_t *nb,
                   int64_t *na, struct err *e)
{
    cJSON *rec = NULL;
    *leaf = NULL;
    if (order_cert_load(s, o->serial, &rec, e) < 0)
        return -1;
    const char *pem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "certificate"));
    *nb = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_before"));
    *na = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_after"));
    *leaf = pem ? strdup(pem) : NULL;
    cJSON_Delete(rec);
    if (!*leaf)
        return err_set(e, ERR_INTERNAL, "certificate %s: unreadable record", o->serial);
    return 0;
}

static bool set_str(char **dst, const char *v)
{
    char *c = strdup(v ? v : "");
    if (!c)
        return false;
    free(*dst);
    *dst = c;
    return true;
}

int order_renewal_start(struct fw_storage *s, struct order *o, int64_t not_before,
                        int64_t not_after, struct err *e)
{
    char key[128];
    order_renewal_default_window(not_before, not_after, &o->renewal.window_start,
                                 &o->renewal.window_end);
    o->renewal.ari = false;
    o->renewal.renew_at = 0;
    o->renewal.check_at = order_now();   /* ask the CA at once */
    o->renewal.checks = 0;
    watch_key(o->id, key, sizeof key);
    return s->put(s->ctx, key, "", 0, false, e);
}

int order_list_watched(struct fw_storage *s, char ***ids, struct err *e)
{
    if (s->list(s->ctx, "renewal-watch/", ids, e) < 0)
        return err_wrap(e, "listing renewal-watch/");
    return 0;
}

static int64_t backoff_s(int n)
{
    int64_t d = FAIL_BASE_S;
    for (int i = 1; i < n && d < FAIL_MAX_S; i++)
        d *= 2;
    return d < FAIL_MAX_S ? d : FAIL_MAX_S;
}

/* Fetches renewalInfo and updates o's window; the CA's answer is not an error here. */
static void refresh_ari(struct engine *eng, struct fw_storage *s, struct order *o,
                        const char *leaf)
{
    struct order_client *held = NULL;
    struct acme_renewal_info ri = { 0 };
    struct acme_reply rep = { 0 };
    struct err ce;
    int64_t now = order_now();
    err_clear(&ce);
    if (order_client_get(eng, s, o->account, &held, &ce) < 0 ||
        acme_get_renewal_info(order_client_acme(held), leaf, &ri, &rep, &ce) < 0) {
        if (ce.kind == ERR_NOT_FOUND && held) {
            /* The CA has no ARI: the computed window stays. */
            o->renewal.ari = false;
            o->renewal.checks = 0;
            o->renewal.check_at = now + NO_ARI_RECHECK_S;
        } else {
            o->renewal.checks++;
            o->renewal.check_at = now + backoff_s(o->renewal.checks);
            log_warn("engine", "renewal: cannot read the CA's renewal information", "order_id",
                     o->id, "error", ce.msg, NULL);
        }
        goto out;
    }
    bool moved_earlier = o->renewal.ari && ri.window_start < o->renewal.window_start;
    bool changed = !o->renewal.ari || ri.window_start != o->renewal.window_start ||
                   ri.window_end != o->renewal.window_end;
    if (changed) {
        o->renewal.window_start = ri.window_start;
        o->renewal.window_end = ri.window_end;
        /* RFC 9773 4.2: a uniformly random point in the window, chosen once per window;
         * a window moved earlier (the CA revokes soon) means at once. */
        o->renewal.renew_at = moved_earlier ? now
                                            : order_renewal_pick(ri.window_start,
                                                                 ri.window_end, now);
        if (moved_earlier)
            log_warn("engine", "renewal: the CA moved the renewal window earlier; renewing now",
                     "order_id", o->id, NULL);
    }
    o->renewal.ari = true;
    set_str(&o->renewal.explanation_url, ri.explanation_url);
    int64_t next = ri.retry_at > 0 ? (int64_t)ri.retry_at : now + ARI_DEFAULT_S;
    if (next < now + ARI_MIN_S)
        next = now + ARI_MIN_S;
    if (next > now + ARI_MAX_S)
        next = now + ARI_MAX_S;
    o->renewal.check_at = next;
    o->renewal.checks = 0;
out:
    order_client_put(eng->clients, held);
    acme_renewal_info_clear(&ri);
    acme_reply_clear(&rep);
}

/* The identifiers must still pass the role's literal entries; with templated entries the
 * requester's identity is not known here, and what the original order passed is kept. */
static bool still_allowed(const struct role *r, const struct order *o)
{
    const char *lit[1000];
    size_t n = 0;
    bool templated = false;
    struct err e;
    for (size_t i = 0; r->allowed_domains[i] && n < 1000; i++) {
        if (template_has(r->allowed_domains[i]))
            templated = true;
        else
            lit[n++] = r->allowed_domains[i];
    }
    for (size_t i = 0; i < o->n_identifiers; i++) {
        if (policy_check(lit, n, r->domain_opts, o->identifiers[i], &e) < 0 && !templated)
            return false;
    }
    return true;
}

/* The replacement order of o, with the id o already claims (unsaved; *out new). */
static int build_replacement(struct fw_storage *s, const struct order *o, const struct role *r,
                             const char *leaf, struct order **out, struct err *e)
{
    struct order *n = NULL;
    struct crypto_key *key = NULL;
    char *key_pem = NULL;
    int rc = -1;
    if (order_new(o->role, r->acme_account_name, o->workflow,
                  (const char *const *)o->identifiers, o->n_identifiers, &n, e) < 0)
        return -1;
    if (!set_str(&n->id, o->renewal.replaced_by_order_id) ||
        !set_str(&n->csr, o->csr) ||
        !set_str(&n->renewal.replaces_order_id, o->id) ||
        /* The role's profile now: a role changed since asks for the new one. */
        !set_str(&n->profile, r->acme_profile))
        goto oom;
    if (o->requested) {
        if (!(n->requested = calloc(o->n_identifiers + 1, sizeof(char *))))
            goto oom;
        for (size_t i = 0; i < o->n_identifiers; i++)
            if (!(n->requested[i] = strdup(o->requested[i])))
                goto oom;
    }
    if (o->renewal.ari) {
        /* `replaces` only where the CA speaks ARI (others may refuse the field). */
        struct err ie;
        char *id = acme_ari_cert_id(leaf, &ie);
        if (id) {
            bool ok = set_str(&n->renewal.replaces_cert_id, id);
            free(id);
            if (!ok)
                goto oom;
        }
    }
    if (o->workflow == ORDER_WF_IDENTIFIERS) {
        /* A fresh key, as new-order makes one; a retry after a crash overwrites it. */
        char kpath[128];
        if (!set_str(&n->key_type, crypto_key_type_name(r->csr_key_type)) ||
            crypto_key_generate(r->csr_key_type, &key, e) < 0 ||
            crypto_key_to_pem(key, &key_pem, e) < 0)
            goto out;
        /* Its CSR too, as new-order keeps one for finalize. One the names cannot make
         * leaves it "": finalize then builds it and fails the order saying why. */
        char *csr = NULL;
        struct err ce;
        if (crypto_csr_build(key, (const char *const *)n->identifiers, n->n_identifiers,
                             r->csr_population, &csr, &ce) == 0) {
            free(n->finalize_csr);
            n->finalize_csr = csr;
        }
        snprintf(kpath, sizeof kpath, "order-key/%s", n->id);
        if (s->put(s->ctx, kpath, key_pem, strlen(key_pem), true, e) < 0)
            goto out;
    }
    *out = n;
    n = NULL;
    rc = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "renewal of order %s: out of memory", o->id);
out:
    if (key_pem) {
        OPENSSL_cleanse(key_pem, strlen(key_pem));
        free(key_pem);
    }
    crypto_key_free(key);
    order_free(n);
    return rc;
}

/* Claims (stores) the replacement's id in o, then creates and saves the replacement. 0 done
 * (o watched no more); -1 storage trouble (the next tick tries again, with the same id). */
static int place_replacement(struct engine *eng, struct fw_storage *s, struct order *o,
                             const struct role *r, const char *leaf, struct err *e)
{
    struct order *n = NULL;
    if (!o->renewal.replaced_by_order_id[0]) {
        char id[37];
        if (uuid7_new(id, e) < 0 || !set_str(&o->renewal.replaced_by_order_id, id))
            return err_set(e, ERR_INTERNAL, "renewal of order %s: out of memory", o->id);
        /* The claim: stored before the replacement exists. */
        if (order_save(s, o, e) < 0) {
            set_str(&o->renewal.replaced_by_order_id, "");
            return -1;
        }
    }
    if (build_replacement(s, o, r, leaf, &n, e) < 0 || order_save(s, n, e) < 0) {
        order_free(n);
        return -1;
    }
    log_info("engine", "renewal order placed", "order_id", n->id, "replaces_order_id", o->id,
             "role", o->role, NULL);
    order_worker_kick(eng, n->id);
    order_free(n);
    unwatch(s, o->id);
    return 0;
}

int order_renewal_tick(struct engine *eng, struct fw_storage *s, struct order *o, bool *dirty,
                       int64_t *next_ms, struct err *e)
{
    struct role *r = NULL;
    char *leaf = NULL;
    int64_t nb = 0, na = 0, now = order_now();
    int rc = 0;
    struct err le;
    *next_ms = 0;
    err_clear(&le);

    if (o->status != ORDER_COMPLETED || !o->serial[0]) {
        unwatch(s, o->id);
        return 0;
    }
    bool claimed = o->renewal.replaced_by_order_id[0] != '\0';
    if (claimed) {
        struct order *n = NULL;
        int lr = order_load(s, o->renewal.replaced_by_order_id, &n, &le);
        order_free(n);
        if (lr == 0) {
            unwatch(s, o->id);   /* renewed: the replacement is watched from now on */
            return 0;
        }
        if (le.kind != ERR_NOT_FOUND)
            return 0;   /* storage trouble: the next scan finds the watch entry again */
        /* Claimed, never created (a crash in between): it is created now, same id. */
        err_clear(&le);
    }
    if (cert_of(s, o, &leaf, &nb, &na, &le) < 0) {
        log_warn("engine", "renewal: cannot read the certificate", "order_id", o->id, "error",
                 le.msg, NULL);
        *next_ms = (now + FAIL_MAX_S) * 1000;
        return 0;
    }
    if (role_load(s, o->role, &r, &le) < 0)
        r = NULL;   /* role gone: the window is still kept current, nothing is placed */
    if (o->renewal.window_start == 0)
        order_renewal_default_window(nb, na, &o->renewal.window_start, &o->renewal.window_end);
    if (now >= o->renewal.check_at && now < na) {
        refresh_ari(eng, s, o, leaf);
        *dirty = true;
    }
    bool renewing = r && r->auto_renew;
    int64_t due = order_renewal_due(&o->renewal, r ? &r->renew_before : NULL, nb, na);
    if (renewing && !claimed && now >= due && !still_allowed(r, o)) {
        log_warn("engine", "renewal: the role no longer allows the order's identifiers; "
                 "not renewed", "order_id", o->id, "role", o->role, NULL);
        renewing = false;
    }
    if (r && (claimed || (renewing && now >= due))) {
        if (place_replacement(eng, s, o, r, leaf, &le) == 0) {
            *dirty = false;   /* o was saved with the claim */
            goto out;
        }
        log_warn("engine", "renewal: cannot place the replacement order", "order_id", o->id,
                 "error", le.msg, NULL);
        o->renewal.checks++;
        *dirty = true;
        *next_ms = (now + backoff_s(o->renewal.checks)) * 1000;
        goto out;
    }
    if (!renewing && now >= na) {
        unwatch(s, o->id);   /* expired and nobody renews it: nothing left to watch */
        goto out;
    }
    int64_t next = now < na ? o->renewal.check_at : 0;
    if (renewing && (next == 0 || due < next))
        next = due;
    if (!renewing && next > na)
        next = na;
    if (next <= now)
        next = now + 1;
    *next_ms = next * 1000;
out:
    free(leaf);
    role_free(r);
    return rc;
}

static bool add_time(cJSON *j, const char *name, int64_t t)
{
    char buf[32];
    return cJSON_AddStringToObject(j, name, order_time_str(t, buf, sizeof buf)) != NULL;
}

bool order_renewal_view(const struct order *o, cJSON *j)
{
    const struct order_renewal *rn = &o->renewal;
    return add_time(j, "renewal_window_start", rn->window_start) &&
           add_time(j, "renewal_window_end", rn->window_end) &&
           cJSON_AddStringToObject(j, "renewal_explanation_url", rn->explanation_url) &&
           cJSON_AddStringToObject(j, "renewal_window_source",
                                   rn->window_start == 0 ? "" : rn->ari ? "ari" : "computed") &&
           cJSON_AddStringToObject(j, "replaces_order_id", rn->replaces_order_id) &&
           cJSON_AddStringToObject(j, "replaced_by_order_id", rn->replaced_by_order_id);
}
