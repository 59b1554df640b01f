/* tidy.c: a mount's tidy run. Removes terminal orders (completed or revoked whose
 * certificate expired, error, expired) once safety_buffer has passed since the
 * certificate's expiry, or since the order ended when it has no certificate; with
 * tidy_keys alone, only their private keys. Vault PKI's tidy conventions (spec 003): POST
 * tidy starts a run in the background, tidy-status shows it, tidy-cancel stops it.
 *
 * What an order leaves in storage, deleted index entries first and order/<id> last, so a
 * crash at any point leaves the order in place and the next run finishes the job (every
 * delete of a missing key succeeds): role-cache/<role>/<hash> when it points at the order,
 * order-hour/<hour>/<id>, role-active/<role>/<id>, its ca-order/ claim, cert/<serial>,
 * order-key/<id>, then order/<id>. Readers already skip index entries without an order
 * (lookup/orders/recent, active-orders), so lookups keep working during a run.
 * dns-record/<id>/ entries are left to the periodic record sweep, which removes the DNS
 * record itself; an order that still has some is kept for the next run. A second phase
 * removes ca-order/ claims whose order is gone (a crash can leave one for a CA order the
 * order never took up).
 *
 * A valid certificate is never removed, whatever the buffer: so the newest valid
 * certificate of a role's `cached` set always stays.
 *
 * The run is one thread of the mount, in bounded steps: one order at a time under the
 * order's lock, progress (phase, cursor = the last key done, counts) stored every
 * TIDY_BATCH orders and after each removal. A run that a crash or restart interrupted is still "Running" in
 * storage and resumes from its cursor at the next periodic call. */
#include "tidy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "../internal.h"
#include "log.h"
#include "order.h"

/* Orders (or claims) between two progress saves. */
enum { TIDY_BATCH = 25 };

/* The status of a run, as stored at TIDY_STATUS_KEY (plus the internal phase and cursor). */
struct tidy_status {
    char state[16];           /* Inactive, Running, Finished, Error, Cancelling, Cancelled */
    char error[512];          /* "" none */
    char message[160];
    int64_t started, finished, last_auto_finished;   /* unix seconds, 0 none */
    struct tidy_opts opts;
    bool is_auto;
    uint64_t checked, orders_deleted, keys_deleted, claims_deleted;
    char phase[16];           /* "orders", then "claims" */
    char cursor[300];         /* the last key of the phase done */
};

/* Owned by struct engine (eng->tidy). mu guards everything below it. */
struct tidy {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* CLOCK_MONOTONIC; cancel and stop wake the pause */
    bool thread_live;         /* a thread was started and not joined */
    bool running;             /* the thread has not finished its run */
    bool cancel, stop;
    pthread_t tid;
    struct engine *eng;
    struct tidy_status st;    /* the running run's status (copied to replies) */
};

int tidy_new(struct tidy **out, struct err *e)
{
    struct tidy *t = calloc(1, sizeof *t);
    pthread_condattr_t ca;
    if (!t)
        return err_set(e, ERR_INTERNAL, "tidy: out of memory");
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = t;
    return 0;
}

void tidy_free(struct tidy *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

const char *tidy_duration_str(int64_t secs, char *buf, size_t len)
{
    int64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h > 0)
        snprintf(buf, len, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)s);
    else if (m > 0)
        snprintf(buf, len, "%lldm%llds", (long long)m, (long long)s);
    else
        snprintf(buf, len, "%llds", (long long)s);
    return buf;
}

/* ---- the status as JSON ---------------------------------------------------------------- */

static bool add_time_or_null(cJSON *j, const char *name, int64_t t)
{
    char buf[32];
    if (t <= 0)
        return cJSON_AddNullToObject(j, name) != NULL;
    return cJSON_AddStringToObject(j, name, order_time_str(t, buf, sizeof buf)) != NULL;
}

/* The API form (internal = false) or the stored one (with phase, cursor, unix dates). */
static cJSON *status_to_json(const struct tidy_status *st, bool internal)
{
    char pb[32];
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "state", st->state[0] ? st->state : "Inactive") &&
              (st->error[0] ? cJSON_AddStringToObject(j, "error", st->error) != NULL
                            : cJSON_AddNullToObject(j, "error") != NULL) &&
              cJSON_AddStringToObject(j, "message", st->message) &&
              cJSON_AddBoolToObject(j, "tidy_orders", st->opts.tidy_orders) &&
              cJSON_AddBoolToObject(j, "tidy_keys", st->opts.tidy_keys) &&
              cJSON_AddNumberToObject(j, "safety_buffer", (double)st->opts.safety_buffer) &&
              cJSON_AddStringToObject(j, "pause_duration",
                                      tidy_duration_str(st->opts.pause, pb, sizeof pb)) &&
              cJSON_AddNumberToObject(j, "orders_checked_count", (double)st->checked) &&
              cJSON_AddNumberToObject(j, "orders_deleted_count", (double)st->orders_deleted) &&
              cJSON_AddNumberToObject(j, "keys_deleted_count", (double)st->keys_deleted) &&
              cJSON_AddNumberToObject(j, "ca_order_claims_deleted_count",
                                      (double)st->claims_deleted);
    if (ok && internal)
        ok = cJSON_AddNumberToObject(j, "started", (double)st->started) &&
             cJSON_AddNumberToObject(j, "finished", (double)st->finished) &&
             cJSON_AddNumberToObject(j, "last_auto_finished", (double)st->last_auto_finished) &&
             cJSON_AddNumberToObject(j, "pause", (double)st->opts.pause) &&
             cJSON_AddBoolToObject(j, "auto", st->is_auto) &&
             cJSON_AddStringToObject(j, "phase", st->phase) &&
             cJSON_AddStringToObject(j, "cursor", st->cursor);
    else if (ok)
        ok = add_time_or_null(j, "time_started", st->started) &&
             add_time_or_null(j, "time_finished", st->finished) &&
             add_time_or_null(j, "last_auto_tidy_finished", st->last_auto_finished) &&
             cJSON_AddBoolToObject(j, "auto_tidy", st->is_auto);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static void copy_str(char *dst, size_t cap, const cJSON *j, const char *name)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    snprintf(dst, cap, "%s", v ? v : "");
}

static int64_t get_num(const cJSON *j, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsNumber(n) ? (int64_t)n->valuedouble : 0;
}

static void status_from_json(const cJSON *j, struct tidy_status *st)
{
    memset(st, 0, sizeof *st);
    copy_str(st->state, sizeof st->state, j, "state");
    copy_str(st->error, sizeof st->error, j, "error");
    copy_str(st->message, sizeof st->message, j, "message");
    copy_str(st->phase, sizeof st->phase, j, "phase");
    copy_str(st->cursor, sizeof st->cursor, j, "cursor");
    st->started = get_num(j, "started");
    st->finished = get_num(j, "finished");
    st->last_auto_finished = get_num(j, "last_auto_finished");
    st->opts.tidy_orders = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tidy_orders"));
    st->opts.tidy_keys = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tidy_keys"));
    st->opts.safety_buffer = get_num(j, "safety_buffer");
    st->opts.pause = get_num(j, "pause");
    st->is_auto = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "auto"));
    st->checked = (uint64_t)get_num(j, "orders_checked_count");
    st->orders_deleted = (uint64_t)get_num(j, "orders_deleted_count");
    st->keys_deleted = (uint64_t)get_num(j, "keys_deleted_count");
    st->claims_deleted = (uint64_t)get_num(j, "ca_order_claims_deleted_count");
}

/* The stored status; *found false (and st zeroed, "Inactive") when there is none. */
static int status_load(struct fw_storage *s, struct tidy_status *st, bool *found,
                       struct err *e)
{
    cJSON *j = NULL;
    memset(st, 0, sizeof *st);
    if (fw_storage_get_json(s, TIDY_STATUS_KEY, &j, e) < 0)
        return err_wrap(e, "tidy status");
    *found = j != NULL;
    if (j)
        status_from_json(j, st);
    else
        snprintf(st->state, sizeof st->state, "Inactive");
    cJSON_Delete(j);
    return 0;
}

static int status_save(struct fw_storage *s, const struct tidy_status *st, struct err *e)
{
    cJSON *j = status_to_json(st, true);
    if (!j)
        return err_set(e, ERR_INTERNAL, "tidy status: out of memory");
    int rc = fw_storage_put_json(s, TIDY_STATUS_KEY, j, false, e);
    cJSON_Delete(j);
    return rc < 0 ? err_wrap(e, "tidy status") : 0;
}

/* ---- one order ------------------------------------------------------------------------- */

/* Deletes key, counting it in *n when it existed. */
static int del_counted(struct fw_storage *s, const char *key, uint64_t *n, struct err *e)
{
    char *v = NULL;
    size_t len = 0;
    if (s->get(s->ctx, key, &v, &len, e) < 0)
        return -1;
    if (!v)
        return 0;
    memset(v, 0, len);   /* may be a private key */
    free(v);
    if (s->del(s->ctx, key, e) < 0)
        return -1;
    (*n)++;
    return 0;
}

/* role-cache/<role>/<hash> when it points at o. */
static int del_cache_entry(struct fw_storage *s, const struct order *o, struct err *e)
{
    char key[400];
    cJSON *ptr = NULL;
    if (o->workflow != ORDER_WF_IDENTIFIERS)
        return 0;
    if (order_cache_key(o->role, o->identifiers, o->n_identifiers, key, sizeof key, e) < 0 ||
        fw_storage_get_json(s, key, &ptr, e) < 0)
        return -1;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ptr, "order_id"));
    bool ours = id && strcmp(id, o->id) == 0;
    cJSON_Delete(ptr);
    return ours ? s->del(s->ctx, key, e) : 0;
}

/* True when the order still has tracked DNS records (the sweep removes them first). */
static int has_dns_records(struct fw_storage *s, const char *id, bool *has, struct err *e)
{
    char prefix[80], **keys = NULL;
    snprintf(prefix, sizeof prefix, "dns-record/%s/", id);
    if (s->list(s->ctx, prefix, &keys, e) < 0)
        return -1;
    *has = keys && keys[0];
    fw_strv_free(keys);
    return 0;
}

/* Removes everything of o (its lock held), order/<id> last. */
static int remove_order(struct engine *eng, struct fw_storage *s, const struct order *o,
                        struct tidy_status *st, struct err *e)
{
    char key[600];
    if (del_cache_entry(s, o, e) < 0)
        return -1;
    order_hour_key(o, key, sizeof key);
    if (s->del(s->ctx, key, e) < 0)
        return -1;
    snprintf(key, sizeof key, "role-active/%s/%s", o->role, o->id);
    if (s->del(s->ctx, key, e) < 0)
        return -1;
    if (o->acme_url[0] && order_ca_release(eng, s, o->id, o->acme_url, e) < 0)
        return -1;
    if (o->serial[0] && order_cert_delete(s, o->serial, o->id, e) < 0)
        return -1;
    snprintf(key, sizeof key, "order-key/%s", o->id);
    if (del_counted(s, key, &st->keys_deleted, e) < 0)
        return -1;
    snprintf(key, sizeof key, "order/%s", o->id);
    if (s->del(s->ctx, key, e) < 0)
        return -1;
    st->orders_deleted++;
    log_info("engine", "tidy removed an order", "order_id", o->id, "role", o->role,
             "status", order_status_name(o->status), NULL);
    return 0;
}

/* Decides about one order and removes what is due, under the order's lock. */
static int tidy_order(struct engine *eng, struct fw_storage *s, const char *id,
                      struct tidy_status *st, struct err *e)
{
    struct keylock hold = { 0 };
    struct order *o = NULL;
    cJSON *rec = NULL;
    struct err le;
    int rc = -1;
    if (!uuid7_valid(id))
        return 0;
    /* A revoke holds it for one read-modify-write; nothing else changes a terminal order. */
    keylock_wait(&eng->order_locks, id, &hold);
    if (order_load(s, id, &o, &le) < 0) {
        if (le.kind == ERR_NOT_FOUND)
            rc = 0;
        else
            *e = le;
        goto out;
    }
    rc = 0;
    st->checked++;
    if (!order_status_terminal(o->status))
        goto out;
    int64_t now = order_now();
    int64_t ended = o->last_update > 0 ? o->last_update : o->creation_date;
    bool has_cert = false;
    if (o->serial[0]) {
        if (order_cert_load(s, o->serial, &rec, &le) == 0) {
            has_cert = true;
            ended = (int64_t)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(rec, "not_after"));
        } else if (le.kind != ERR_NOT_FOUND) {
            *e = le;
            rc = -1;
            goto out;
        }
    }
    /* A valid certificate stays, whatever the buffer. */
    if ((has_cert && ended > now) || ended + st->opts.safety_buffer > now)
        goto out;
    if (st->opts.tidy_orders) {
        bool dns = false;
        rc = has_dns_records(s, o->id, &dns, e);
        if (rc == 0 && !dns)
            rc = remove_order(eng, s, o, st, e);
    } else if (st->opts.tidy_keys && o->workflow == ORDER_WF_IDENTIFIERS) {
        char key[80];
        snprintf(key, sizeof key, "order-key/%s", o->id);
        rc = del_counted(s, key, &st->keys_deleted, e);
    }
out:
    keylock_release(&eng->order_locks, &hold);
    cJSON_Delete(rec);
    order_free(o);
    return rc;
}

/* ---- the run --------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when the run must end now (cancel or stop); the pause between two orders waits on
 * the condition, so either ends it at once. Takes t->mu. */
static bool run_pause(struct tidy *t, int64_t secs)
{
    pthread_mutex_lock(&t->mu);
    if (secs > 0 && !t->cancel && !t->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += secs;
        while (!t->cancel && !t->stop &&
               pthread_cond_timedwait(&t->cv, &t->mu, &ts) == 0)
            ;
    }
    bool end = t->cancel || t->stop;
    pthread_mutex_unlock(&t->mu);
    return end;
}

/* Publishes the thread's working copy to t->st (what tidy-status shows) and, every batch,
 * to storage. */
static int run_progress(struct tidy *t, struct tidy_status *st, bool store, struct err *e)
{
    /* Stored first: a count tidy-status has shown is never lost to a crash. */
    if (store && status_save(t->eng->env.storage, st, e) < 0)
        return -1;
    pthread_mutex_lock(&t->mu);
    t->st = *st;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

/* One phase over the keys under prefix, after st->cursor. 1 when cancelled or stopped. */
static int run_phase(struct tidy *t, struct tidy_status *st, const char *prefix,
                     struct err *e)
{
    struct fw_storage *s = t->eng->env.storage;
    char **keys = NULL;
    size_t n = 0;
    int rc = 0, since_save = 0;
    if (s->list(s->ctx, prefix, &keys, e) < 0)
        return err_wrap(e, "tidy: listing %s", prefix);
    while (keys[n])
        n++;
    /* The cursor is the last key done: keys sort by name (order ids by creation). */
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (st->cursor[0] && strcmp(keys[i], st->cursor) <= 0)
            continue;
        if (run_pause(t, i > 0 ? st->opts.pause : 0)) {
            rc = 1;
            break;
        }
        uint64_t removed = st->orders_deleted + st->keys_deleted + st->claims_deleted;
        if (strcmp(prefix, "order/") == 0) {
            rc = tidy_order(t->eng, s, keys[i], st, e);
        } else {
            char key[400];
            bool deleted = false;
            snprintf(key, sizeof key, "%s%s", prefix, keys[i]);
            rc = order_ca_tidy_claim(t->eng, s, key, &deleted, e);
            st->claims_deleted += deleted;
        }
        if (rc < 0)
            break;
        snprintf(st->cursor, sizeof st->cursor, "%s", keys[i]);
        /* Stored after every removal too, so the counts survive a crash. */
        bool store = ++since_save >= TIDY_BATCH ||
                     removed != st->orders_deleted + st->keys_deleted + st->claims_deleted;
        if (store)
            since_save = 0;
        if (run_progress(t, st, store, e) < 0)
            rc = -1;
    }
    fw_strv_free(keys);
    if (rc == 0 && run_progress(t, st, true, e) < 0)
        rc = -1;
    return rc;
}

static void *run_main(void *arg)
{
    struct tidy *t = arg;
    struct tidy_status st;
    struct err e;
    int rc = 0;
    err_clear(&e);
    pthread_mutex_lock(&t->mu);
    st = t->st;
    pthread_mutex_unlock(&t->mu);
    log_info("engine", "tidy started", "phase", st.phase, "cursor", st.cursor, NULL);

    if (strcmp(st.phase, "claims") != 0)
        rc = run_phase(t, &st, "order/", &e);
    if (rc == 0 && st.opts.tidy_orders) {
        if (strcmp(st.phase, "claims") != 0) {
            snprintf(st.phase, sizeof st.phase, "claims");
            st.cursor[0] = '\0';
        }
        rc = run_phase(t, &st, "ca-order/", &e);
    }

    pthread_mutex_lock(&t->mu);
    bool stopped = t->stop && !t->cancel;
    pthread_mutex_unlock(&t->mu);
    if (stopped) {
        /* Mount shutdown: stays Running with its cursor (run_phase stored it), resumed by
         * the next periodic call of whichever node is active. */
        log_info("engine", "tidy paused by shutdown", NULL);
    } else {
        int64_t now = order_now();
        st.finished = now;
        if (rc < 0) {
            snprintf(st.state, sizeof st.state, "Error");
            snprintf(st.error, sizeof st.error, "%s", e.msg);
            snprintf(st.message, sizeof st.message, "Tidy failed; see error");
            log_error("engine", "tidy failed", "error", e.msg, NULL);
        } else if (rc > 0) {
            snprintf(st.state, sizeof st.state, "Cancelled");
            snprintf(st.message, sizeof st.message, "Tidy operation cancelled");
        } else {
            snprintf(st.state, sizeof st.state, "Finished");
            snprintf(st.message, sizeof st.message, "Tidy operation successfully completed");
        }
        if (st.is_auto)
            st.last_auto_finished = now;
        struct err se;
        if (status_save(t->eng->env.storage, &st, &se) < 0)
            log_error("engine", "tidy: cannot store the final status", "error", se.msg, NULL);
        log_info("engine", "tidy ended", "state", st.state, NULL);
    }
    pthread_mutex_lock(&t->mu);
    t->st = st;
    t->running = false;
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* Caller holds t->mu and no run is running: joins a finished thread. */
static void join_finished(struct tidy *t)
{
    if (t->thread_live && !t->running) {
        pthread_join(t->tid, NULL);
        t->thread_live = false;
    }
}

/* Starts the thread for st (stored by the caller). Caller holds t->mu. */
static int run_spawn(struct engine *eng, const struct tidy_status *st, struct err *e)
{
    struct tidy *t = eng->tidy;
    join_finished(t);
    t->eng = eng;
    t->st = *st;
    t->cancel = false;
    t->running = true;
    if (pthread_create(&t->tid, NULL, run_main, t) != 0) {
        t->running = false;
        return err_set(e, ERR_INTERNAL, "tidy: cannot start its thread");
    }
    t->thread_live = true;
    return 0;
}

int tidy_start(struct engine *eng, struct fw_storage *s, const struct tidy_opts *o,
               bool is_auto, bool *started, struct err *e)
{
    struct tidy *t = eng->tidy;
    struct tidy_status st, old;
    bool found = false;
    int rc = -1;
    *started = false;
    pthread_mutex_lock(&t->mu);
    if (t->running || t->stop) {
        rc = 0;
        goto out;
    }
    if (status_load(s, &old, &found, e) < 0)
        goto out;
    memset(&st, 0, sizeof st);
    snprintf(st.state, sizeof st.state, "Running");
    snprintf(st.message, sizeof st.message, "Tidying orders");
    snprintf(st.phase, sizeof st.phase, "orders");
    st.opts = *o;
    st.is_auto = is_auto;
    st.started = order_now();
    st.last_auto_finished = old.last_auto_finished;
    /* Stored first: on a node that may not write this fails, and nothing runs. */
    if (status_save(s, &st, e) < 0 || run_spawn(eng, &st, e) < 0)
        goto out;
    *started = true;
    rc = 0;
out:
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int tidy_cancel(struct engine *eng, struct fw_storage *s, bool *running, struct err *e)
{
    struct tidy *t = eng->tidy;
    struct tidy_status st;
    bool found = false;
    int rc = 0;
    pthread_mutex_lock(&t->mu);
    *running = t->running;
    if (t->running) {
        t->cancel = true;
        snprintf(t->st.state, sizeof t->st.state, "Cancelling");
        pthread_cond_broadcast(&t->cv);
    } else if ((rc = status_load(s, &st, &found, e)) == 0 &&
               (strcmp(st.state, "Running") == 0 || strcmp(st.state, "Cancelling") == 0)) {
        /* Interrupted and not resumed yet: it ends here. */
        snprintf(st.state, sizeof st.state, "Cancelled");
        snprintf(st.message, sizeof st.message, "Tidy operation cancelled");
        st.finished = order_now();
        rc = status_save(s, &st, e);
        *running = rc == 0;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void tidy_stop(struct engine *eng)
{
    struct tidy *t = eng ? eng->tidy : NULL;
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_broadcast(&t->cv);
    bool live = t->thread_live;
    t->thread_live = false;
    pthread_mutex_unlock(&t->mu);
    /* Between two orders it returns at once; inside one, after that order's deletes. */
    if (live)
        pthread_join(t->tid, NULL);
}

int tidy_status_reply(struct engine *eng, struct fw_storage *s, cJSON **out, struct err *e)
{
    struct tidy *t = eng->tidy;
    struct tidy_status st;
    bool found = false;
    pthread_mutex_lock(&t->mu);
    bool live = t->running;
    if (live)
        st = t->st;
    pthread_mutex_unlock(&t->mu);
    if (!live && status_load(s, &st, &found, e) < 0)
        return -1;
    if (!(*out = status_to_json(&st, false)))
        return err_set(e, ERR_INTERNAL, "tidy status: out of memory");
    return 0;
}

/* ---- periodic: resume, auto-tidy --------------------------------------------------------- */

/* The auto-tidy configuration is read by path_tidy.c's helpers; its stored form has
 * enabled, interval_duration (seconds), the tidy_opts fields and updated (unix seconds). */
int tidy_periodic(const struct fw_req *req, struct err *e)
{
    struct engine *eng = req->backend;
    struct tidy *t = eng ? eng->tidy : NULL;
    struct tidy_status st;
    cJSON *cfg = NULL;
    bool found = false;
    int rc = -1;
    /* Nothing to look at before tidy_check_at (see struct engine): no SystemView call, no
     * read. Every outcome below that does not set it again leaves "look next time". */
    if (!t || atomic_load(&eng->tidy_check_at) > order_now())
        return 0;
    if (!fw_sysview_can_write(req->sysview))
        return 0;
    pthread_mutex_lock(&t->mu);
    bool busy = t->running || t->stop;
    pthread_mutex_unlock(&t->mu);
    if (busy)
        return 0;
    if (status_load(req->storage, &st, &found, e) < 0)
        return -1;
    if (strcmp(st.state, "Running") == 0 || strcmp(st.state, "Cancelling") == 0) {
        pthread_mutex_lock(&t->mu);
        rc = 0;
        if (!t->running && !t->stop) {
            if (strcmp(st.state, "Cancelling") == 0) {
                snprintf(st.state, sizeof st.state, "Cancelled");
                st.finished = order_now();
                rc = status_save(req->storage, &st, e);
            } else {
                log_info("engine", "tidy: resuming an interrupted run", NULL);
                rc = run_spawn(eng, &st, e);
            }
        }
        pthread_mutex_unlock(&t->mu);
        return rc;
    }
    if (fw_storage_get_json(req->storage, TIDY_AUTO_KEY, &cfg, e) < 0)
        return -1;
    if (!cfg || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "enabled"))) {
        cJSON_Delete(cfg);
        /* No run to resume, auto-tidy off: nothing until a write says otherwise. */
        int64_t cur = 0;
        atomic_compare_exchange_strong(&eng->tidy_check_at, &cur, INT64_MAX);
        return 0;
    }
    int64_t interval = get_num(cfg, "interval_duration");
    int64_t since = st.last_auto_finished;
    if (get_num(cfg, "updated") > since)
        since = get_num(cfg, "updated");
    if (order_now() >= since + interval) {
        struct tidy_opts o = {
            .tidy_orders = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "tidy_orders")),
            .tidy_keys = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "tidy_keys")),
            .safety_buffer = get_num(cfg, "safety_buffer"),
            .pause = get_num(cfg, "pause_duration"),
        };
        bool started = false;
        cJSON_Delete(cfg);
        return tidy_start(eng, req->storage, &o, true, &started, e);
    }
    cJSON_Delete(cfg);
    /* Auto-tidy's next run is due then. */
    int64_t cur = 0;
    atomic_compare_exchange_strong(&eng->tidy_check_at, &cur, since + interval);
    return 0;
}
