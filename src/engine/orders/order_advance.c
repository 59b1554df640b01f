/* order_advance.c: the order state machine, one step at a time, each step stored before the
 * next is taken. Every trigger (the worker after new-order and fulfilled-challenge, the
 * worker at next_work_date, Vault's rollback) calls order_advance, which:
 *
 *   new                  -> newOrder at the CA; its URLs are stored at once (submitted), so
 *                           a crash after this point never places a second CA order; a
 *                           crash before it is healed by finding the CA order again in
 *                           the account's orders list (order_ca_adopt.c)
 *   submitted..fetching  -> reconciled against the CA's view of the order:
 *       pending    fetch the authorizations (tokens, key authorizations), tell the CA about
 *                  challenges the user fulfilled; awaiting-challenge-fulfillment while some
 *                  identifier still needs the user, else processing-challenge (where a
 *                  still-pending order is only polled: its authorizations are read again
 *                  when it turns ready or invalid)
 *       ready      finalize with the CSR (rebuilt from the stored key, or the submitted one);
 *                  valid in the reply: on as below, else fetching-certificate
 *       processing fetching-certificate, look again soon
 *       valid      download, store cert/<serial>, completed
 *       invalid    error (the failed challenge's problem in last_error) or expired
 *   notify-acme-server-challenges-completed (the user fulfilled a challenge) -> the CA is
 *                  told straight away from the stored authorizations, without reading the
 *                  order first (step_notify); anything unexpected is reconciled as above
 *
 * So an http-01 order costs the CA, from fulfilled-challenge on, the ACME minimum: the
 * response, polls until ready, finalize, polls until valid, the download.
 *
 * Reconciling against the CA rather than trusting the stored status is what makes a crash
 * between "the CA did it" and "we stored it" harmless: the next run sees where the CA is
 * (a crash after a response, before it was stored, repeats the response: harmless). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "acme.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

/* How long a waiting order sleeps before it is looked at again without a trigger. */
static const int64_t AWAIT_RECHECK_S = 3600;
/* Backoff cap for transient CA trouble. */
static const int64_t BACKOFF_MAX_S = 300;
/* Consecutive transient failures after which the CA is taken at its word: the order ends in
 * error with the last message (about 25 minutes of trying with the backoff above). */
static const int MAX_TRANSIENT_ATTEMPTS = 12;
/* Steps per call: enough for new -> awaiting and ready -> completed in one go. */
static const int MAX_STEPS = 8;

struct advance {
    struct engine *eng;
    struct fw_storage *s;
    struct order *o;
    struct order_client *held;       /* the shared client, released at the end */
    struct acme_client *client;      /* borrowed from held */
    int64_t next_ms;
    bool dirty;       /* the order changed since the last save */
    bool done;        /* stop stepping */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_status(struct advance *a, enum order_status st)
{
    if (a->o->status == st)
        return;
    log_info("engine", "order advanced", "order_id", a->o->id, "from",
             order_status_name(a->o->status), "to", order_status_name(st), NULL);
    a->o->status = st;
    a->o->attempts = 0;
    a->o->last_update = order_now();
    a->dirty = true;
    if (order_status_terminal(st)) {
        a->o->next_work_date = 0;
        a->done = true;
    }
}

static int save(struct advance *a, struct err *e)
{
    if (!a->dirty)
        return 0;
    a->o->last_update = order_now();
    if (order_save(a->s, a->o, e) < 0)
        return -1;
    a->dirty = false;
    return 0;
}

/* A problem the operator must act on: the order ends in error with `msg`. */
static int fail_order(struct advance *a, const char *msg, struct err *e)
{
    log_error("engine", "order failed", "order_id", a->o->id, "error", msg, NULL);
    order_set_error(a->o, msg);
    set_status(a, ORDER_ERROR);
    a->dirty = true;
    return save(a, e);
}

/* The CA's order ran out: the order ends as expired with `msg` (not an operator problem). */
static int expire_order(struct advance *a, const char *msg, struct err *e)
{
    order_set_error(a->o, msg);
    set_status(a, ORDER_EXPIRED);
    return save(a, e);
}

/* Transient CA trouble: keep the status, say what happened and when we try again. */
static int retry_later(struct advance *a, const char *what, const struct err *ce,
                       const struct acme_reply *rep, struct err *e)
{
    char msg[700], when[32];
    int64_t now = order_now();
    a->o->attempts++;
    if (a->o->attempts >= MAX_TRANSIENT_ATTEMPTS) {
        snprintf(msg, sizeof msg, "%s: %s (gave up after %d attempts)", what, ce->msg,
                 a->o->attempts);
        return fail_order(a, msg, e);
    }
    int64_t delay = (int64_t)1 << (a->o->attempts < 9 ? a->o->attempts : 9);
    if (delay > BACKOFF_MAX_S)
        delay = BACKOFF_MAX_S;
    int64_t at = now + delay;
    if (rep && rep->retry_at > now)
        at = (int64_t)rep->retry_at;
    snprintf(msg, sizeof msg, "%s: %s (attempt %d; retrying at %s)", what, ce->msg,
             a->o->attempts, order_time_str(at, when, sizeof when));
    log_warn("engine", "order step will be retried", "order_id", a->o->id, "error", msg, NULL);
    order_set_error(a->o, msg);
    a->o->next_work_date = at;
    a->next_ms = at * 1000;
    a->dirty = true;
    a->done = true;
    return save(a, e);
}

/* Routes a failed CA call: transient kinds retry, the rest end the order. */
static int ca_failed(struct advance *a, const char *what, const struct err *ce,
                     const struct acme_reply *rep, struct err *e)
{
    char msg[700];
    if (order_worker_stopping(a->eng)) {
        /* The call was cancelled for shutdown, not the CA's doing: keep what this step
         * learnt, record no error; the order resumes after the restart. */
        a->done = true;
        return save(a, e);
    }
    if (ce->kind == ERR_RETRY || ce->kind == ERR_INTERNAL)
        return retry_later(a, what, ce, rep, e);
    snprintf(msg, sizeof msg, "%s: %s", what, ce->msg);
    return fail_order(a, msg, e);
}

/* How soon to poll the CA while it validates or issues: quickly at first (Pebble and most
 * CAs finish in well under a second), slower the longer it takes. */
static int64_t poll_at_ms(const struct order *o, const struct acme_reply *rep)
{
    int64_t now = now_ms();
    if (rep && rep->retry_at > 0 && (int64_t)rep->retry_at * 1000 > now)
        return (int64_t)rep->retry_at * 1000;
    int64_t since = order_now() - o->last_update;
    if (since < 3)
        return now + 150;
    if (since < 20)
        return now + 1000;
    return now + 3000;
}

/* ---- steps ---------------------------------------------------------------------------- */

/* The CA order's authorization URLs as the order's (still empty) authorizations, taking
 * the strings from co. Out of memory leaves the order without them: the next reconcile
 * fills them in from the CA (fill_authzs_if_missing). */
static void take_authzs(struct advance *a, struct acme_order *co)
{
    struct order_authz *azs;
    if (co->n_authorizations == 0 || !(azs = calloc(co->n_authorizations, sizeof *azs)))
        return;
    for (size_t i = 0; i < co->n_authorizations; i++) {
        azs[i].url = co->authorizations[i];
        co->authorizations[i] = NULL;
        azs[i].identifier = strdup("");
        azs[i].status = strdup("pending");
        if (!azs[i].url || !azs[i].identifier || !azs[i].status) {
            for (size_t k = 0; k <= i; k++)
                order_authz_clear(&azs[k]);
            free(azs);
            return;
        }
    }
    for (size_t i = 0; i < a->o->n_authzs; i++)
        order_authz_clear(&a->o->authzs[i]);
    free(a->o->authzs);
    a->o->authzs = azs;
    a->o->n_authzs = co->n_authorizations;
    a->dirty = true;
}

/* Takes the CA order co (placed or found again) as the order's and stores it: its claim
 * first (order_ca_adopt.c), then the URLs. 1 when another order claimed it meanwhile (the
 * caller looks again). Nothing may return before the store, or the next advance would
 * place a second CA order: the URLs are taken from co, not copied (no allocation can
 * fail), and the authorizations are optional (reconcile refills them). */
static int take_ca_order(struct advance *a, struct acme_order *co, bool claimed, struct err *e)
{
    int rc = 0;
    if (!co->url || !co->url[0])
        return fail_order(a, "the CA created the order but gave no order URL", e);
    /* Stored before anything else is asked of the CA: this is the no-duplicate point. A
     * failed store here would make the next advance look for (or place) the CA order
     * again, so it is tried again a few times (a brief storage or memory failure passes);
     * what still fails is the same window as a crash right here, and the URL is logged. */
    for (int attempt = 0; !claimed && attempt < 4; attempt++) {
        if ((rc = order_ca_claim(a->eng, a->s, a->o->id, co->url, e)) >= 0)
            break;
        struct timespec ts = { 0, (long)(100 << attempt) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (rc == 1) {
        /* Another order of the same names adopted it while it was on its way: this order
         * looks for the CA order that one lost, after a moment. */
        log_warn("engine", "the new CA order was claimed by another order; looking again",
                 "order_id", a->o->id, "url", co->url, NULL);
        a->next_ms = now_ms() + 1000;
        a->done = true;
        return 1;
    }
    free(a->o->acme_url);
    a->o->acme_url = co->url;
    co->url = NULL;
    if (co->finalize_url) {
        free(a->o->finalize_url);
        a->o->finalize_url = co->finalize_url;
        co->finalize_url = NULL;
    }
    a->o->expires = (int64_t)co->expires;
    a->o->ca_placing = 0;
    take_authzs(a, co);
    order_set_error(a->o, "");
    set_status(a, ORDER_SUBMITTED);
    for (int attempt = 0; (rc = save(a, e)) < 0 && attempt < 3; attempt++) {
        struct timespec ts = { 0, (long)(100 << attempt) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (rc < 0)
        log_error("engine", "the CA order was placed but could not be stored", "order_id",
                  a->o->id, "url", a->o->acme_url, "error", e->msg, NULL);
    return rc;
}

static int step_new(struct advance *a, struct err *e)
{
    struct acme_order co;
    struct acme_reply rep;
    struct err ce;
    struct acme_order_req req = {
        .identifiers = (const char *const *)a->o->identifiers,
        .profile = a->o->profile[0] ? a->o->profile : NULL,
        .replaces = a->o->renewal.replaces_cert_id[0] ? a->o->renewal.replaces_cert_id : NULL,
    };
    bool placed_before = a->o->ca_placing != 0;
    int rc = -1;
    memset(&co, 0, sizeof co);
    memset(&rep, 0, sizeof rep);
    err_clear(&ce);

    /* A CA order that cannot be recorded would be placed again by the next advance (or by
     * the active node): so this node first shows it can write, and marks the placement as
     * begun. On an HA standby, whose storage is read-only, the advance stops here with
     * ERR_READ_ONLY. */
    if (!placed_before)
        a->o->ca_placing = order_now();
    a->dirty = true;
    if (save(a, e) < 0)
        return -1;
    if (placed_before) {
        /* An earlier attempt may have got as far as the CA creating the order (a crash or
         * a failover before its URL was stored): adopt that one if the CA lists it. */
        int found = order_ca_find(a->eng, a->s, a->client, a->o, &co, &ce);
        if (found == 1) {
            log_info("engine", "ca order found again", "order_id", a->o->id, "url", co.url,
                     NULL);
            rc = take_ca_order(a, &co, true, e);
            goto out;
        }
        if (found < 0)
            log_warn("engine", "cannot look for an earlier CA order; placing a new one",
                     "order_id", a->o->id, "error", ce.msg, NULL);
        err_clear(&ce);
    }
    if (acme_new_order(a->client, &req, &co, &rep, &ce) < 0) {
        /* A local failure (ERR_INTERNAL: out of memory reading the reply, ...) may come
         * after the CA created the order, whose URL is then lost: trying again could place
         * a second one, so the order ends here. What the CA refused or asked to retry
         * (ERR_RETRY) was not created. */
        if (ce.kind == ERR_INTERNAL) {
            char msg[700];
            snprintf(msg, sizeof msg, "placing the order with the CA: %s; place a new order",
                     ce.msg);
            rc = fail_order(a, msg, e);
        } else {
            rc = ca_failed(a, "placing the order with the CA", &ce, &rep, e);
        }
        goto out;
    }
    log_debug("engine", "ca order placed", "order_id", a->o->id, "url", co.url, NULL);
    rc = take_ca_order(a, &co, false, e);
out:
    acme_order_clear(&co);
    acme_reply_clear(&rep);
    return rc < 0 ? -1 : 0;
}

static char *str_dup(const char *s)
{
    return strdup(s ? s : "");
}

/* Fills dst (zeroed) from the CA's authorization, keeping what we know of each challenge:
 * the user's fulfilled flag and whether we responded. A pending challenge's key
 * authorization is derived from the account key the client signs with now (after a forced
 * rotate-key the CA validates against the new key); a validated one keeps its value. */
static int authz_refresh(struct advance *a, const struct acme_authz *src,
                         const struct order_authz *old, struct order_authz *dst, struct err *e)
{
    char ident[300];
    snprintf(ident, sizeof ident, "%s%s", src->wildcard ? "*." : "",
             src->identifier.value ? src->identifier.value : "");
    dst->url = str_dup(src->url);
    dst->identifier = str_dup(ident);
    dst->status = str_dup(src->status_str);
    dst->expires = (int64_t)src->expires;
    if (old) {
        memcpy(dst->dns_provider, old->dns_provider, sizeof dst->dns_provider);
        dst->dns_planned = old->dns_planned;
        dst->dns_published = old->dns_published;
        dst->dns_visible = old->dns_visible;
        dst->dns_removed = old->dns_removed;
    }
    if (!dst->url || !dst->identifier || !dst->status)
        return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
    if (src->n_challenges == 0)
        return 0;
    if (!(dst->challenges = calloc(src->n_challenges, sizeof *dst->challenges)))
        return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
    for (size_t i = 0; i < src->n_challenges; i++) {
        const struct acme_challenge *sc = &src->challenges[i];
        struct order_challenge *c = &dst->challenges[i];
        struct order_challenge *prev = NULL;
        dst->n_challenges = i + 1;
        for (size_t k = 0; old && k < old->n_challenges; k++) {
            if (strcmp(old->challenges[k].type, sc->type ? sc->type : "") == 0)
                prev = &old->challenges[k];
        }
        c->type = str_dup(sc->type);
        c->url = str_dup(sc->url);
        c->token = str_dup(sc->token);
        c->status = str_dup(sc->status_str);
        if (!c->type || !c->url || !c->token || !c->status)
            return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
        bool keep = prev && strcmp(prev->token, c->token) == 0 && prev->key_auth[0] &&
                    strcmp(c->status, "pending") != 0;
        if (keep) {
            c->key_auth = str_dup(prev->key_auth);
            c->dns_value = str_dup(prev->dns_value);
        } else if (c->token[0]) {
            /* Pending: the key the client signs with now (RFC 8555 §8.1). */
            c->key_auth = acme_key_authorization(a->client, c->token, e);
            if (!c->key_auth)
                return -1;
            c->dns_value = strcmp(c->type, "dns-01") == 0
                               ? acme_dns01_txt_value(a->client, c->token, e)
                               : strdup("");
            if (!c->dns_value)
                return -1;
        } else {
            c->key_auth = strdup("");
            c->dns_value = strdup("");
        }
        if (!c->key_auth || !c->dns_value)
            return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
        c->fulfilled = prev && prev->fulfilled;
        c->responded = prev && prev->responded;
    }
    return 0;
}

/* Fetches every authorization. On an invalid one, writes the CA's reason into problem
 * (else leaves it ""). 1 when a CA call failed (already handled: order stored), 0 ok. */
static int sync_authzs(struct advance *a, char *problem, size_t plen, struct err *e)
{
    problem[0] = '\0';
    for (size_t i = 0; i < a->o->n_authzs; i++) {
        struct order_authz *old = &a->o->authzs[i];
        struct acme_authz ca;
        struct acme_reply rep;
        struct order_authz fresh;
        struct err ce;
        memset(&ca, 0, sizeof ca);
        memset(&rep, 0, sizeof rep);
        memset(&fresh, 0, sizeof fresh);
        err_clear(&ce);
        if (acme_get_authz(a->client, old->url, &ca, &rep, &ce) < 0) {
            int rc = ca_failed(a, "reading an authorization from the CA", &ce, &rep, e);
            acme_reply_clear(&rep);
            return rc < 0 ? -1 : 1;
        }
        acme_reply_clear(&rep);
        if (authz_refresh(a, &ca, old, &fresh, e) < 0) {
            order_authz_clear(&fresh);
            acme_authz_clear(&ca);
            return -1;
        }
        if (ca.status == ACME_STATUS_INVALID && !problem[0]) {
            char pbuf[500] = "";
            for (size_t k = 0; k < ca.n_challenges; k++) {
                if (ca.challenges[k].error.type) {
                    acme_problem_format(&ca.challenges[k].error, pbuf, sizeof pbuf);
                    snprintf(problem, plen, "%s challenge for %s failed: %s",
                             ca.challenges[k].type, fresh.identifier, pbuf);
                    break;
                }
            }
            if (!problem[0])
                snprintf(problem, plen, "the CA refused the authorization for %s",
                         fresh.identifier);
        }
        acme_authz_clear(&ca);
        order_authz_clear(old);
        *old = fresh;
        a->dirty = true;
    }
    return 0;
}

/* Tells the CA about challenges the user fulfilled and we have not reported yet. 1 when a
 * CA call failed (already handled: order stored). With `shortcut` (step_notify: the CA's
 * view was not read first), a refusal the CA did not ask to retry returns 2 and changes
 * nothing, so the caller can read the CA's view and report what it finds. */
static int respond_fulfilled(struct advance *a, bool shortcut, struct err *e)
{
    for (size_t i = 0; i < a->o->n_authzs; i++) {
        struct order_authz *az = &a->o->authzs[i];
        if (strcmp(az->status, "pending") != 0)
            continue;
        for (size_t k = 0; k < az->n_challenges; k++) {
            struct order_challenge *c = &az->challenges[k];
            struct acme_challenge out;
            struct acme_reply rep;
            struct err ce;
            if (!c->fulfilled || c->responded)
                continue;
            memset(&out, 0, sizeof out);
            memset(&rep, 0, sizeof rep);
            err_clear(&ce);
            if (acme_respond_challenge(a->client, c->url, &out, &rep, &ce) < 0) {
                if (shortcut && ce.kind != ERR_RETRY && ce.kind != ERR_INTERNAL &&
                    !order_worker_stopping(a->eng)) {
                    acme_reply_clear(&rep);
                    return 2;
                }
                char what[400];
                snprintf(what, sizeof what, "asking the CA to validate %s for %s", c->type,
                         az->identifier);
                int rc = ca_failed(a, what, &ce, &rep, e);
                acme_reply_clear(&rep);
                return rc < 0 ? -1 : 1;
            }
            log_info("engine", "challenge submitted", "order_id", a->o->id, "identifier",
                     az->identifier, "type", c->type, NULL);
            c->responded = true;
            if (out.status_str) {
                char *st = strdup(out.status_str);
                if (st) {
                    free(c->status);
                    c->status = st;
                }
            }
            a->dirty = true;
            acme_challenge_clear(&out);
            acme_reply_clear(&rep);
        }
    }
    return 0;
}

/* ---- Vault-managed dns-01 (order_dns.c does the work) ------------------------------- */

/* 1 when the order moved to vault-challenge-fulfillment (the caller stops there). */
static int dns_plan(struct advance *a, struct err *e)
{
    bool changed = false;
    if (order_dns_plan(a->s, a->o, &changed, e) < 0)
        return -1;
    if (changed)
        a->dirty = true;
    if (!order_dns_pending(a->o))
        return 0;
    set_status(a, ORDER_VAULT_FULFILLING);
    a->o->next_work_date = order_now();
    order_set_error(a->o, "");
    return save(a, e) < 0 ? -1 : 1;
}

static int dns_outcome(struct advance *a, const struct order_dns_result *r, const char *what,
                       struct err *e)
{
    struct err ce;
    switch (r->outcome) {
    case ORDER_DNS_RETRY:
        err_set(&ce, ERR_RETRY, "%s", r->msg);
        return retry_later(a, what, &ce, NULL, e);
    case ORDER_DNS_FAILED:
        return fail_order(a, r->msg, e);
    case ORDER_DNS_REPUBLISH:
        set_status(a, ORDER_VAULT_FULFILLING);
        a->o->next_work_date = order_now();
        return save(a, e);
    case ORDER_DNS_WAIT:
        a->next_ms = r->next_ms;
        a->o->next_work_date = r->next_ms / 1000 + 1;
        a->dirty = true;
        a->done = true;
        return save(a, e);
    case ORDER_DNS_DONE:
        break;
    }
    return 0;
}

/* vault-challenge-fulfillment: publish, then check at once. */
static int step_dns_publish(struct advance *a, struct err *e)
{
    struct order_dns_result r;
    /* Stored first: the status says records may exist before any is sent. */
    if (save(a, e) < 0 || order_dns_publish(a->eng, a->s, a->o, &r, e) < 0)
        return -1;
    a->dirty = true;
    if (r.outcome != ORDER_DNS_DONE)
        return dns_outcome(a, &r, "publishing dns-01 records", e);
    a->o->attempts = 0;
    set_status(a, ORDER_VAULT_PROPAGATING);
    a->o->next_work_date = order_now();
    return save(a, e);
}

/* vault-challenge-propagating: all visible -> tell the CA through the notify step. */
static int step_dns_check(struct advance *a, struct err *e)
{
    struct order_dns_result r;
    if (order_dns_check(a->eng, a->s, a->o, &r, e) < 0)
        return -1;
    a->dirty = true;
    if (r.outcome != ORDER_DNS_DONE)
        return dns_outcome(a, &r, "checking dns-01 propagation", e);
    set_status(a, ORDER_NOTIFY);
    a->o->next_work_date = order_now();
    return save(a, e);
}

static int settle_responded(struct advance *a, const struct acme_reply *rep, struct err *e);

/* Whether every authorization was read from the CA (identifier and challenges known), so
 * the order can be driven from what is stored: not an order fresh from newOrder, whose
 * authorizations are bare URLs. */
static bool authzs_known(const struct order *o)
{
    if (o->n_authzs == 0)
        return false;
    for (size_t i = 0; i < o->n_authzs; i++) {
        const struct order_authz *az = &o->authzs[i];
        if (!az->identifier[0] || (strcmp(az->status, "valid") != 0 && az->n_challenges == 0))
            return false;
    }
    return true;
}

static int step_reconcile(struct advance *a, struct err *e);

/* notify-acme-server-challenges-completed: tell the CA about the fulfilled challenges at
 * once. The order and its authorizations were read from the CA when the order began to
 * wait on the user, and each response carries the challenge's status, so reading them
 * again first would only double the CA requests of the busiest step (ACME needs the
 * response, then polls until ready). Anything unexpected goes the long way, through the
 * CA's view of the order (step_reconcile): authorizations never read, or a response the CA
 * refused (an order it expired or invalidated meanwhile, say). */
static int step_notify(struct advance *a, struct err *e)
{
    if (!authzs_known(a->o))
        return step_reconcile(a, e);
    int rc = respond_fulfilled(a, true, e);
    if (rc == 2)
        return step_reconcile(a, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return settle_responded(a, NULL, e);
}

/* The CA order is pending: which identifiers still need the user? */
static int on_pending(struct advance *a, const struct acme_reply *rep, struct err *e)
{
    char problem[600];
    int rc = sync_authzs(a, problem, sizeof problem, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (problem[0])
        return fail_order(a, problem, e);
    rc = dns_plan(a, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = respond_fulfilled(a, false, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return settle_responded(a, rep, e);
}

/* After the responses: awaiting-challenge-fulfillment while some identifier still needs the
 * user, else processing-challenge; stored. */
static int settle_responded(struct advance *a, const struct acme_reply *rep, struct err *e)
{
    bool waiting_on_user = false, in_flight = false;
    for (size_t i = 0; i < a->o->n_authzs; i++) {
        struct order_authz *az = &a->o->authzs[i];
        bool responded = false;
        for (size_t k = 0; k < az->n_challenges; k++)
            responded = responded || az->challenges[k].responded;
        if (strcmp(az->status, "valid") != 0 && !responded)
            waiting_on_user = true;
        if (strcmp(az->status, "pending") == 0 && responded)
            in_flight = true;
    }
    a->done = true;
    if (waiting_on_user) {
        set_status(a, ORDER_AWAITING);
        int64_t at = order_now() + AWAIT_RECHECK_S;
        if (a->o->expires > 0 && a->o->expires < at)
            at = a->o->expires + 1;
        a->o->next_work_date = at;
        /* While the CA validates one identifier and the user works on the others, keep
         * looking, so a failed validation shows up as error without waiting an hour. */
        a->next_ms = in_flight ? poll_at_ms(a->o, rep) : 0;
    } else {
        set_status(a, ORDER_PROCESSING);
        a->next_ms = poll_at_ms(a->o, rep);
        a->o->next_work_date = a->next_ms / 1000 + 2;
    }
    order_set_error(a->o, "");
    a->dirty = true;
    return save(a, e);
}

/* The CSR to finalize with, as DER: the submitted one, the one made with the order's key,
 * or (an order stored before that was kept) one built from the stored key now. */
static int order_csr_der(struct advance *a, unsigned char **der, size_t *len, struct err *e)
{
    struct crypto_key *key = NULL;
    struct role *r = NULL;
    char *pem = NULL, *csr = NULL, kpath[128];
    size_t plen = 0;
    int rc = -1;
    if (a->o->workflow == ORDER_WF_CSR)
        return crypto_csr_pem_to_der(a->o->csr, der, len, e);
    if (a->o->finalize_csr[0])   /* built with the key (path_order_new.c) */
        return crypto_csr_pem_to_der(a->o->finalize_csr, der, len, e);

    snprintf(kpath, sizeof kpath, "order-key/%s", a->o->id);
    if (a->s->get(a->s->ctx, kpath, &pem, &plen, e) < 0)
        return -1;
    if (!pem) {
        err_set(e, ERR_INVALID, "the order's private key is missing from storage");
        goto out;
    }
    if (crypto_key_from_pem(pem, plen, &key, e) < 0)
        goto out;
    /* The role says whether the first identifier is the CN; a role deleted with force
     * leaves its orders running, so fall back to cn_first. */
    enum crypto_csr_population pop = CRYPTO_CSR_CN_FIRST;
    struct err re;
    if (role_load(a->s, a->o->role, &r, &re) == 0)
        pop = r->csr_population;
    if (crypto_csr_build(key, (const char *const *)a->o->identifiers, a->o->n_identifiers, pop,
                         &csr, e) < 0)
        goto out;
    rc = crypto_csr_pem_to_der(csr, der, len, e);
out:
    if (pem) {
        OPENSSL_cleanse(pem, plen);
        free(pem);
    }
    free(csr);
    crypto_key_free(key);
    role_free(r);
    return rc;
}

/* Marks every stored authorization valid, with the challenge we responded to. */
static int authzs_mark_valid(struct advance *a, struct err *e)
{
    for (size_t i = 0; i < a->o->n_authzs; i++) {
        struct order_authz *az = &a->o->authzs[i];
        char **fields[1 + 8];
        size_t n = 0;
        fields[n++] = &az->status;
        for (size_t k = 0; k < az->n_challenges && n < sizeof fields / sizeof fields[0]; k++)
            if (az->challenges[k].responded)
                fields[n++] = &az->challenges[k].status;
        for (size_t f = 0; f < n; f++) {
            if (strcmp(*fields[f], "valid") == 0)
                continue;
            char *v = strdup("valid");
            if (!v)
                return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
            free(*fields[f]);
            *fields[f] = v;
            a->dirty = true;
        }
    }
    return 0;
}

static int on_valid(struct advance *a, const struct acme_order *co, struct err *e);

static int on_ready(struct advance *a, struct err *e)
{
    char problem[600];
    unsigned char *der = NULL;
    size_t len = 0;
    struct acme_order co;
    struct acme_reply rep;
    struct err ce;
    int rc;
    memset(&co, 0, sizeof co);
    memset(&rep, 0, sizeof rep);
    err_clear(&ce);

    /* The status reply should show the authorizations valid: a ready order's are all valid
     * (RFC 8555 7.1.6), so known ones are marked so here; a pre-authorized order, which
     * skipped pending, reads its list from the CA. */
    rc = authzs_known(a->o) ? authzs_mark_valid(a, e) : sync_authzs(a, problem, sizeof problem, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (order_csr_der(a, &der, &len, &ce) < 0) {
        /* A storage or system failure may pass; a missing key or a bad CSR will not. */
        if (ce.kind == ERR_INTERNAL)
            return retry_later(a, "building the CSR", &ce, NULL, e);
        char msg[700];
        snprintf(msg, sizeof msg, "building the CSR: %s", ce.msg);
        return fail_order(a, msg, e);
    }
    rc = acme_finalize(a->client, a->o->finalize_url, der, len, &co, &rep, &ce);
    free(der);
    if (rc < 0) {
        rc = ca_failed(a, "finalizing the order with the CA", &ce, &rep, e);
        goto out;
    }
    if (co.status == ACME_STATUS_VALID && co.certificate_url) {
        rc = on_valid(a, &co, e);   /* issued at once: the reply is the CA's view */
        goto out;
    }
    /* Issuing (the reply says processing): look again after the poll delay, not at once,
     * which would mostly find it still processing. */
    set_status(a, ORDER_FETCHING);
    a->next_ms = poll_at_ms(a->o, &rep);
    a->o->next_work_date = a->next_ms / 1000 + 2;
    a->done = true;
    rc = save(a, e);
out:
    acme_order_clear(&co);
    acme_reply_clear(&rep);
    return rc;
}

/* Points role-cache/<role>/<identifiers> at this order (identifier workflow only: a CSR
 * order's key is not ours to hand out). A failure here only costs a cache miss. */
static void cache_completed(struct advance *a)
{
    char key[400];
    struct err ce;
    if (a->o->workflow != ORDER_WF_IDENTIFIERS)
        return;
    if (order_cache_key(a->o->role, a->o->identifiers, a->o->n_identifiers, key, sizeof key,
                        &ce) < 0)
        return;
    cJSON *j = cJSON_CreateObject();
    if (j && cJSON_AddStringToObject(j, "order_id", a->o->id) &&
        cJSON_AddStringToObject(j, "serial", a->o->serial))
        (void)fw_storage_put_json(a->s, key, j, false, &ce);
    cJSON_Delete(j);
}

static int on_valid(struct advance *a, const struct acme_order *co, struct err *e)
{
    struct acme_cert_chain chain;
    struct acme_reply rep;
    struct err ce;
    int rc = -1;
    memset(&chain, 0, sizeof chain);
    memset(&rep, 0, sizeof rep);
    err_clear(&ce);

    if (!co->certificate_url)
        return fail_order(a, "the CA marked the order valid but gave no certificate URL", e);
    if (strcmp(a->o->cert_url, co->certificate_url) != 0) {
        char *u = strdup(co->certificate_url);
        if (!u)
            return err_set(e, ERR_INTERNAL, "order %s: out of memory", a->o->id);
        free(a->o->cert_url);
        a->o->cert_url = u;
        a->dirty = true;
    }
    if (acme_download_cert(a->client, a->o->cert_url, &chain, &rep, &ce) < 0) {
        rc = ca_failed(a, "downloading the certificate", &ce, &rep, e);
        goto out;
    }
    /* The certificate first, then the order that points at it. */
    int64_t nb = 0, na = 0;
    if (order_cert_store(a->s, a->o, chain.pem, &nb, &na, &ce) < 0) {
        if (ce.kind == ERR_INTERNAL) {
            *e = ce;
            goto out;
        }
        char msg[700];
        snprintf(msg, sizeof msg, "the CA's certificate is unusable: %s", ce.msg);
        rc = fail_order(a, msg, e);
        goto out;
    }
    /* Watched for renewal from the moment it is completed (order_renew.c). */
    if (order_renewal_start(a->s, a->o, nb, na, e) < 0)
        goto out;
    order_set_error(a->o, "");
    set_status(a, ORDER_COMPLETED);
    if (save(a, e) < 0)
        goto out;
    log_info("engine", "certificate issued", "order_id", a->o->id, "serial", a->o->serial,
             NULL);
    cache_completed(a);
    rc = 0;
out:
    acme_cert_chain_clear(&chain);
    acme_reply_clear(&rep);
    return rc;
}

static int on_invalid(struct advance *a, const struct acme_order *co, struct err *e)
{
    char problem[600], msg[700];
    if (a->o->expires > 0 && order_now() >= a->o->expires) {
        return expire_order(a, "the CA order expired before it was completed; place a new order",
                            e);
    }
    int rc = sync_authzs(a, problem, sizeof problem, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (!problem[0] && co->error.type) {
        char pbuf[500];
        snprintf(problem, sizeof problem, "%s",
                 acme_problem_format(&co->error, pbuf, sizeof pbuf));
    }
    snprintf(msg, sizeof msg, "the CA marked the order invalid: %s; place a new order",
             problem[0] ? problem : "no reason given");
    return fail_order(a, msg, e);
}

static int step_reconcile(struct advance *a, struct err *e)
{
    struct acme_order co;
    struct acme_reply rep;
    struct err ce;
    int rc = -1;
    memset(&co, 0, sizeof co);
    memset(&rep, 0, sizeof rep);
    err_clear(&ce);

    if (acme_get_order(a->client, a->o->acme_url, &co, &rep, &ce) < 0) {
        if (rep.http_status == 404 && a->o->expires > 0 && order_now() >= a->o->expires) {
            rc = expire_order(a, "the CA order expired before it was completed; "
                                 "place a new order", e);
        } else {
            rc = ca_failed(a, "reading the order from the CA", &ce, &rep, e);
        }
        goto out;
    }
    /* An order stored without its authorizations or finalize URL (memory ran out right
     * after the CA created it) gets them from the CA's view now. */
    if (a->o->n_authzs == 0)
        take_authzs(a, &co);
    if (!a->o->finalize_url[0] && co.finalize_url) {
        free(a->o->finalize_url);
        a->o->finalize_url = co.finalize_url;
        co.finalize_url = NULL;
        a->dirty = true;
    }
    /* The backoff counts consecutive failures: a CA that answers again starts it afresh,
     * or scattered blips on a long validation would add up to minutes of waiting. */
    if (a->o->attempts > 0) {
        a->o->attempts = 0;
        a->dirty = true;
    }
    if (co.expires > 0 && (int64_t)co.expires != a->o->expires) {
        a->o->expires = (int64_t)co.expires;
        a->dirty = true;
    }
    switch (co.status) {
    case ACME_STATUS_PENDING:
        if (a->o->status == ORDER_PROCESSING && authzs_known(a->o)) {
            /* Every challenge was responded to and the CA is still validating: ask again
             * later. Its authorizations are read when the order turns ready (or invalid,
             * for the reason), not on every poll. Stored only if something changed, so
             * the poll delay grows with the time since the last change. */
            a->next_ms = poll_at_ms(a->o, &rep);
            a->done = true;
            rc = a->dirty ? save(a, e) : 0;
            break;
        }
        rc = on_pending(a, &rep, e);
        break;
    case ACME_STATUS_READY:
        rc = on_ready(a, e);
        break;
    case ACME_STATUS_PROCESSING:
        set_status(a, ORDER_FETCHING);
        a->next_ms = poll_at_ms(a->o, &rep);
        a->o->next_work_date = a->next_ms / 1000 + 2;
        a->done = true;
        rc = save(a, e);
        break;
    case ACME_STATUS_VALID:
        rc = on_valid(a, &co, e);
        break;
    case ACME_STATUS_INVALID:
        rc = on_invalid(a, &co, e);
        break;
    default: {
        char msg[300];
        snprintf(msg, sizeof msg, "the CA reports the order as %s; place a new order",
                 co.status_str ? co.status_str : "unknown");
        rc = co.status == ACME_STATUS_EXPIRED ? expire_order(a, msg, e) : fail_order(a, msg, e);
    }
    }
out:
    acme_order_clear(&co);
    acme_reply_clear(&rep);
    return rc;
}

/* The account's shared ACME client. 1 when the order was ended or deferred instead. */
static int open_client(struct advance *a, struct err *e)
{
    struct err ce;
    char msg[700];
    err_clear(&ce);
    if (order_client_get(a->eng, a->s, a->o->account, &a->held, &ce) < 0) {
        if (ce.kind == ERR_NOT_FOUND) {
            snprintf(msg, sizeof msg, "acme account %s no longer exists; place a new order "
                     "with a role whose account exists", a->o->account);
            return fail_order(a, msg, e) < 0 ? -1 : 1;
        }
        snprintf(msg, sizeof msg, "acme account %s", a->o->account);
        return ca_failed(a, msg, &ce, NULL, e) < 0 ? -1 : 1;
    }
    a->client = order_client_acme(a->held);
    return 0;
}

/* One step of a loaded, non-terminal order, under its lock. */
static int advance_step(struct advance *a, struct err *e)
{
    if (!a->held) {
        int rc = open_client(a, e);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    /* An order that never reached the CA's validation is dead once the CA's order
     * expires; fetching-certificate is past that point. */
    if (a->o->expires > 0 && order_now() >= a->o->expires && a->o->status != ORDER_FETCHING &&
        a->o->status != ORDER_NEW) {
        return expire_order(a, "the order expired before its challenges were completed; "
                               "place a new order", e);
    }
    switch (a->o->status) {
    case ORDER_NEW:
        return step_new(a, e);
    case ORDER_VAULT_FULFILLING:
        return step_dns_publish(a, e);
    case ORDER_VAULT_PROPAGATING:
        return step_dns_check(a, e);
    case ORDER_NOTIFY:
        return step_notify(a, e);
    default:
        return step_reconcile(a, e);
    }
}

/* Removes the dns-01 records the CA no longer needs (every one once the order ended). */
static int dns_cleanup(struct advance *a, struct err *e)
{
    bool changed = false;
    order_dns_cleanup(a->eng, a->s, a->o, &changed);
    if (changed)
        a->dirty = true;
    return save(a, e);
}

int order_advance(struct engine *eng, struct fw_storage *s, const char *id, int64_t *next_ms,
                  struct err *e)
{
    struct advance a = { .eng = eng, .s = s };
    int64_t next = 0;
    int rc = 0;
    /* One step per lock hold, the order reloaded for each: a request that changes the order
     * (fulfilled-challenge) waits for one step at most, and its change is never lost. */
    for (int step = 0; step < MAX_STEPS; step++) {
        struct keylock hold = { 0 };
        struct err le;
        if (step > 0 && order_worker_stopping(eng))
            break;   /* next stays: the order resumes from storage after the restart */
        keylock_wait(&eng->order_locks, id, &hold);
        err_clear(&le);
        a.o = NULL;
        a.dirty = a.done = false;
        a.next_ms = 0;
        if (order_load(s, id, &a.o, &le) < 0) {
            keylock_release(&eng->order_locks, &hold);
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                rc = -1;
            }
            next = 0;
            break;
        }
        enum order_status before = a.o->status;
        bool more = false;
        int64_t renew_next = 0;
        if (before == ORDER_COMPLETED) {
            rc = order_renewal_tick(eng, s, a.o, &a.dirty, &renew_next, e);
        } else if (!order_status_terminal(before)) {
            rc = advance_step(&a, e);
            /* Keep going only while the status moves: a wait has set done. */
            more = rc == 0 && !a.done && a.o->status != before &&
                   !order_status_terminal(a.o->status);
            /* Just completed: its first renewal look (order_renewal_start asked for one at
             * once) is taken now, with the order and the CA client in hand, instead of in
             * an advance of its own that would load both again. */
            if (rc == 0 && a.o->status == ORDER_COMPLETED)
                rc = order_renewal_tick(eng, s, a.o, &a.dirty, &renew_next, e);
        }
        if (rc == 0)
            rc = dns_cleanup(&a, e);
        /* A completed order stays scheduled for its renewal, when order_renewal_tick
         * says. */
        next = a.o->status == ORDER_COMPLETED        ? renew_next
               : order_status_terminal(a.o->status) ? 0
               : a.next_ms > 0                       ? a.next_ms
                                                     : a.o->next_work_date * 1000;
        keylock_release(&eng->order_locks, &hold);
        order_free(a.o);
        a.o = NULL;
        if (!more)
            break;
    }
    order_client_put(eng->clients, a.held);
    if (next_ms)
        *next_ms = rc < 0 ? 0 : next;
    return rc;
}
