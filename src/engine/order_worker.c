/* order_worker.c: a mount's background order work. A few threads share one schedule of
 * (order id, when) entries: new-order and fulfilled-challenge put an order in for "now", an
 * advance that has to poll the CA puts it back for a moment later, and a scan of the
 * role-active/ index (at start, so a restart resumes every order, then at the earliest
 * stored next_work_date) picks up the rest. Vault's rollback (orders_periodic) is the
 * safety net and goes through the same schedule.
 *
 * Nothing is done on a node that cannot write (standby, DR or performance secondary). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "log.h"
#include "order.h"

/* Each advance waits on the CA; enough threads that many orders progress at once. */
enum { WORKER_THREADS = 16 };
/* Rescan role-active/ at least this often even without a known due date. */
static const int64_t SCAN_MAX_MS = 300 * 1000;
/* A role-active/ entry without its order is removed only when older than this, so an
 * order being created right now (entry written, object not yet) is left alone. */
static const int64_t DANGLING_AGE_MS = 600 * 1000;
/* First scan after start. */
static const int64_t STARTUP_SCAN_DELAY_MS = 1000;

struct work_item {
    char id[37];
    int64_t due_ms;
};

/* Owned by struct engine (eng->worker); orders_start() creates, orders_stop() frees. */
struct order_worker {
    struct engine *eng;              /* borrowed: the worker lives inside it */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t threads[WORKER_THREADS];
    int n_threads;
    bool stop;
    struct work_item *items;         /* unordered; few entries */
    size_t n_items, cap_items;
    int64_t scan_at_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Caller holds w->mu. Keeps one entry per order, at the earlier time. */
static void schedule_locked(struct order_worker *w, const char *id, int64_t due_ms)
{
    for (size_t i = 0; i < w->n_items; i++) {
        if (strcmp(w->items[i].id, id) == 0) {
            if (due_ms < w->items[i].due_ms)
                w->items[i].due_ms = due_ms;
            pthread_cond_broadcast(&w->cv);
            return;
        }
    }
    if (w->n_items == w->cap_items) {
        size_t ncap = w->cap_items ? w->cap_items * 2 : 64;
        struct work_item *tmp = realloc(w->items, ncap * sizeof *tmp);
        if (!tmp)
            return;   /* dropped: the next scan or rollback finds the order */
        w->items = tmp;
        w->cap_items = ncap;
    }
    struct work_item *it = &w->items[w->n_items++];
    snprintf(it->id, sizeof it->id, "%s", id);
    it->due_ms = due_ms;
    pthread_cond_broadcast(&w->cv);
}

void order_worker_kick(struct engine *eng, const char *id)
{
    if (!eng || !eng->worker || !uuid7_valid(id))
        return;
    struct order_worker *w = eng->worker;
    pthread_mutex_lock(&w->mu);
    schedule_locked(w, id, now_ms());
    pthread_mutex_unlock(&w->mu);
}

/* Tells the worker an order has work at `when` (wakes it earlier if needed). */
static void order_worker_schedule(struct engine *eng, int64_t when)
{
    if (!eng || !eng->worker)
        return;
    struct order_worker *w = eng->worker;
    pthread_mutex_lock(&w->mu);
    if (when * 1000 < w->scan_at_ms) {
        w->scan_at_ms = when * 1000;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

/* Reads role-active/: due orders are returned in *due (new array of ids, fw_strv_free),
 * *earliest_ms is the soonest future next_work_date. Removes index entries that dangle or
 * that a crash left behind a terminal order. */
static int scan_active(struct fw_storage *s, char ***due, int64_t *earliest_ms, struct err *e)
{
    char **ids = NULL, **out = NULL;
    size_t n = 0;
    int64_t now = now_ms();
    *earliest_ms = now + SCAN_MAX_MS;
    if (order_list_active(s, &ids, e) < 0)
        return -1;
    size_t count = 0;
    while (ids[count])
        count++;
    if (!(out = calloc(count + 1, sizeof *out))) {
        fw_strv_free(ids);
        return err_set(e, ERR_INTERNAL, "order scan: out of memory");
    }
    for (size_t i = 0; ids[i]; i++) {
        struct order *o = NULL;
        struct err le;
        if (order_load(s, ids[i], &o, &le) < 0) {
            if (le.kind == ERR_NOT_FOUND && now - uuid7_time_ms(ids[i]) > DANGLING_AGE_MS)
                log_warn("engine", "dangling active-order entry", "order_id", ids[i], NULL);
            continue;   /* such entries are skipped; role listings skip them too */
        }
        if (order_status_terminal(o->status)) {
            /* The order was stored terminal but its entry not removed: finish the job. */
            char key[300];
            snprintf(key, sizeof key, "role-active/%s/%s", o->role, o->id);
            (void)s->del(s->ctx, key, &le);
        } else if (o->next_work_date * 1000 <= now) {
            out[n++] = strdup(o->id);
        } else if (o->next_work_date * 1000 < *earliest_ms) {
            *earliest_ms = o->next_work_date * 1000;
        }
        order_free(o);
    }
    fw_strv_free(ids);
    *due = out;
    return 0;
}

static void worker_scan(struct order_worker *w)
{
    struct err e;
    char **due = NULL;
    int64_t earliest = 0;
    if (scan_active(w->eng->env.storage, &due, &earliest, &e) < 0) {
        log_warn("engine", "order scan failed", "error", e.msg, NULL);
        earliest = now_ms() + 10000;
    }
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; due && due[i]; i++)
        schedule_locked(w, due[i], now_ms());
    if (earliest < w->scan_at_ms || w->scan_at_ms <= now_ms())
        w->scan_at_ms = earliest;
    pthread_mutex_unlock(&w->mu);
    fw_strv_free(due);
}

static void worker_advance(struct order_worker *w, const char *id)
{
    struct err e;
    int64_t next = 0;
    err_clear(&e);
    if (order_advance(w->eng->env.storage, id, &next, &e) < 0) {
        log_error("engine", "order advance failed", "order_id", id, "error", e.msg, NULL);
        next = now_ms() + 5000;
    }
    if (next > 0) {
        pthread_mutex_lock(&w->mu);
        schedule_locked(w, id, next);
        pthread_mutex_unlock(&w->mu);
    }
}

static void *worker_main(void *arg)
{
    struct order_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        int64_t now = now_ms();
        size_t best = w->n_items;
        for (size_t i = 0; i < w->n_items; i++) {
            if (best == w->n_items || w->items[i].due_ms < w->items[best].due_ms)
                best = i;
        }
        int64_t wake = w->scan_at_ms;
        if (best < w->n_items && w->items[best].due_ms < wake)
            wake = w->items[best].due_ms;
        if (wake > now) {
            struct timespec ts = { .tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000 };
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            continue;
        }
        /* Ask the node each time: a standby can be promoted, a primary demoted. */
        pthread_mutex_unlock(&w->mu);
        bool can_write = fw_sysview_can_write(w->eng->env.sysview);
        pthread_mutex_lock(&w->mu);
        if (!can_write) {
            w->n_items = 0;
            w->scan_at_ms = now_ms() + 30000;
            continue;
        }
        if (best < w->n_items && w->items[best].due_ms <= now) {
            char id[37];
            memcpy(id, w->items[best].id, sizeof id);
            w->items[best] = w->items[--w->n_items];
            pthread_mutex_unlock(&w->mu);
            worker_advance(w, id);
            pthread_mutex_lock(&w->mu);
        } else {
            /* One thread scans; the others see the pushed-back time and wait. */
            w->scan_at_ms = now + SCAN_MAX_MS;
            pthread_mutex_unlock(&w->mu);
            worker_scan(w);
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int orders_start(struct engine *eng, struct err *e)
{
    if (eng->worker)
        return 0;
    struct order_worker *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, ERR_INTERNAL, "orders_start: out of memory");
    w->eng = eng;
    /* Resume every active order soon after a (re)start; not at once, since backend.c
     * starts the worker from setup, and storage writes belong after initialize. */
    w->scan_at_ms = now_ms() + STARTUP_SCAN_DELAY_MS;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    eng->worker = w;
    for (int i = 0; i < WORKER_THREADS; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->n_threads++;
    }
    if (w->n_threads == 0) {
        orders_stop(eng);
        return err_set(e, ERR_INTERNAL, "orders_start: cannot start a worker thread");
    }
    return 0;
}

void orders_stop(struct engine *eng)
{
    struct order_worker *w = eng ? eng->worker : NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n_threads; i++)
        pthread_join(w->threads[i], NULL);
    eng->worker = NULL;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->items);
    free(w);
}

int orders_periodic(const struct fw_req *req, struct err *e)
{
    struct engine *eng = req->backend;
    char **due = NULL;
    int64_t earliest = 0;
    if (!fw_sysview_can_write(req->sysview))
        return 0;
    if (scan_active(req->storage, &due, &earliest, e) < 0)
        return -1;
    for (size_t i = 0; due[i]; i++) {
        if (eng && eng->worker) {
            order_worker_kick(eng, due[i]);
        } else {
            /* No worker (not started): advance here, one order at a time. */
            struct err le;
            if (order_advance(req->storage, due[i], NULL, &le) < 0)
                log_error("engine", "order advance failed", "order_id", due[i], "error",
                          le.msg, NULL);
        }
    }
    order_worker_schedule(eng, earliest / 1000);
    fw_strv_free(due);
    return 0;
}

int orders_role_has_active(struct fw_storage *s, const char *role, bool *has, struct err *e)
{
    char prefix[300], **keys = NULL;
    *has = false;
    snprintf(prefix, sizeof prefix, "role-active/%s/", role);
    if (s->list(s->ctx, prefix, &keys, e) < 0)
        return -1;
    for (size_t i = 0; keys[i] && !*has; i++) {
        struct order *o = NULL;
        struct err le;
        if (order_load(s, keys[i], &o, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                fw_strv_free(keys);
                return -1;
            }
            continue;
        }
        *has = !order_status_terminal(o->status);
        order_free(o);
    }
    fw_strv_free(keys);
    return 0;
}
