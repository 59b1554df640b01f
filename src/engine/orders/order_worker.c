/* order_worker.c: a mount's background order work. A few threads share one schedule: every
 * active order the worker knows, with the time of its next look (CLOCK_MONOTONIC, so a
 * wall-clock step neither stalls nor rushes it). new-order and fulfilled-challenge kick an
 * order to "now"; an advance puts it back at the time order_advance names (a CA poll, or
 * the stored next_work_date while it waits on the user); a scan of role-active/ adds the
 * orders the schedule does not know yet (at start, so a restart resumes every order; then
 * once per Vault rollback, and at least every SCAN_MAX_MS).
 *
 * Invariants that keep work from being lost or repeated:
 *  - an order is in the schedule or being advanced by one thread, never both: a kick for an
 *    order being advanced marks it "again", and the advancing thread puts it back for now
 *    when it is done (so a change made during an advance always gets its own advance);
 *  - a thread takes an item and removes it from the schedule under one hold of the mutex
 *    (no stale choice);
 *  - one thread scans at a time, and a scan asked for while one runs is one more scan, not
 *    one per asker; only the scan asks the host whether this node may write (standby, DR or
 *    performance secondary: no work), once per scan;
 *  - a scan loads only orders the schedule does not know, so an idle mount costs a few
 *    storage LISTs per scan (role-active/ and one per role with active orders), plus the
 *    dns-01 record sweep's LIST while records may be left (eng->dns_sweep_due); Vault's
 *    rollback asks for a scan and does nothing else.
 * Dangling role-active/ entries (no order behind them, older than DANGLING_AGE_MS) and
 * entries a crash left behind a terminal order are deleted by the scan. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../internal.h"
#include "log.h"
#include "order.h"
#include "order_wait.h"

/* Each advance waits on the CA; enough threads that many orders progress at once. */
enum { WORKER_THREADS = 16 };
/* Rescan role-active/ at least this often, for entries nobody kicked (Vault's rollback
 * asks for a scan about once a minute anyway). */
static const int64_t SCAN_MAX_MS = 300 * 1000;
/* A role-active/ entry without its order is removed only when older than this, so an
 * order being created right now (entry written, object not yet) is left alone. */
static const int64_t DANGLING_AGE_MS = 600 * 1000;
/* First scan after start: storage writes belong after initialize, which follows setup. */
static const int64_t STARTUP_SCAN_DELAY_MS = 1000;
/* A node that may not write looks again this often. */
static const int64_t READ_ONLY_RECHECK_MS = 30 * 1000;
/* After a storage failure: the scan, or the order, is tried again this much later. */
static const int64_t RETRY_MS = 5 * 1000;

struct work_item {
    char id[37];
    int64_t due_ms;   /* monotonic */
};

struct worker_thread {
    struct order_worker *w;
    pthread_t tid;
    bool busy;        /* advancing `id` */
    bool again;       /* kicked while busy: advance once more */
    char id[37];
};

/* Owned by struct engine (eng->worker); orders_start() creates, orders_stop() frees. */
struct order_worker {
    struct engine *eng;              /* borrowed: the worker lives inside it */
    pthread_mutex_t mu;
    pthread_cond_t cv;               /* CLOCK_MONOTONIC */
    struct worker_thread threads[WORKER_THREADS];
    int n_threads;
    bool stop;
    struct work_item *items;         /* the schedule, unordered */
    size_t n_items, cap_items;
    int64_t scan_at_ms;              /* monotonic: when the next scan is due */
    bool scanning;
    bool can_write;                  /* as the last scan found */
    struct order_worker_stats stats;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A unix-milliseconds date as a monotonic time. */
static int64_t mono_of_wall(int64_t wall)
{
    return mono_ms() + (wall - wall_ms());
}

/* Caller holds w->mu. The thread advancing id, or NULL. */
static struct worker_thread *running(struct order_worker *w, const char *id)
{
    for (int i = 0; i < w->n_threads; i++)
        if (w->threads[i].busy && strcmp(w->threads[i].id, id) == 0)
            return &w->threads[i];
    return NULL;
}

/* Caller holds w->mu. Index of id in the schedule, or n_items. */
static size_t find_item(struct order_worker *w, const char *id)
{
    size_t i = 0;
    while (i < w->n_items && strcmp(w->items[i].id, id) != 0)
        i++;
    return i;
}

/* Caller holds w->mu. Puts id in the schedule at due_ms (keeping an earlier time it already
 * has), or, when a thread is advancing it and `kick`, marks it for one more advance. */
static void schedule_locked(struct order_worker *w, const char *id, int64_t due_ms, bool kick)
{
    struct worker_thread *t = running(w, id);
    if (t) {
        if (kick)
            t->again = true;
        return;
    }
    size_t i = find_item(w, id);
    if (i < w->n_items) {
        if (due_ms < w->items[i].due_ms) {
            w->items[i].due_ms = due_ms;
            pthread_cond_broadcast(&w->cv);
        }
        return;
    }
    if (w->n_items == w->cap_items) {
        size_t ncap = w->cap_items ? w->cap_items * 2 : 64;
        struct work_item *tmp = realloc(w->items, ncap * sizeof *tmp);
        if (!tmp) {
            /* Dropped: make the next scan (which finds it in role-active/) come soon. */
            if (w->scan_at_ms > mono_ms() + RETRY_MS)
                w->scan_at_ms = mono_ms() + RETRY_MS;
            return;
        }
        w->items = tmp;
        w->cap_items = ncap;
    }
    struct work_item *it = &w->items[w->n_items++];
    snprintf(it->id, sizeof it->id, "%s", id);
    it->due_ms = due_ms;
    /* Every idle thread re-plans (cheap: no I/O). A signal could wake a thread that then
     * takes another item or starts a scan, leaving this one to a sleeper whose wake-up
     * time was planned before it existed. */
    pthread_cond_broadcast(&w->cv);
}

void order_worker_kick(struct engine *eng, const char *id)
{
    if (!eng || !eng->worker || !uuid7_valid(id))
        return;
    struct order_worker *w = eng->worker;
    pthread_mutex_lock(&w->mu);
    schedule_locked(w, id, mono_ms(), true);
    pthread_mutex_unlock(&w->mu);
}

bool order_worker_stopping(struct engine *eng)
{
    return eng && atomic_load(&eng->stopping);
}

void order_worker_stats(struct engine *eng, struct order_worker_stats *out)
{
    struct order_worker *w = eng ? eng->worker : NULL;
    memset(out, 0, sizeof *out);
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    out->scheduled = w->n_items;
    pthread_mutex_unlock(&w->mu);
}

/* One role-active/ entry ("<role>/<id>") the schedule does not know: load the order and
 * schedule it, or clean the entry up. */
static void scan_entry(struct order_worker *w, const char *entry)
{
    struct fw_storage *s = w->eng->env.storage;
    const char *id = strrchr(entry, '/');
    char key[600];
    struct order *o = NULL;
    struct err le;
    id = id ? id + 1 : entry;
    snprintf(key, sizeof key, "role-active/%s", entry);
    err_clear(&le);
    pthread_mutex_lock(&w->mu);
    w->stats.scan_loads++;
    pthread_mutex_unlock(&w->mu);
    if (order_load(s, id, &o, &le) < 0) {
        if (le.kind != ERR_NOT_FOUND) {
            log_warn("engine", "order scan: cannot load an order", "order_id", id, "error",
                     le.msg, NULL);
            return;   /* not forgotten: the next scan tries again */
        }
        int64_t made = uuid7_time_ms(id);
        if (made == 0 || wall_ms() - made > DANGLING_AGE_MS) {
            log_warn("engine", "removing a dangling active-order entry", "entry", key, NULL);
            if (s->del(s->ctx, key, &le) < 0)
                log_warn("engine", "order scan: cannot remove an entry", "entry", key,
                         "error", le.msg, NULL);
        }
        return;
    }
    if (order_status_terminal(o->status)) {
        /* The order was stored terminal but its entry not removed: finish the job. */
        if (s->del(s->ctx, key, &le) < 0)
            log_warn("engine", "order scan: cannot remove an entry", "entry", key, "error",
                     le.msg, NULL);
    } else {
        pthread_mutex_lock(&w->mu);
        schedule_locked(w, o->id, mono_of_wall(o->next_work_date * 1000), false);
        pthread_mutex_unlock(&w->mu);
    }
    order_free(o);
}

/* The scan's part for issue 14: completed orders watched for renewal (renewal-watch/) that
 * the schedule does not know are scheduled now (their tick says when to look next), and
 * account keys due for rotation are rotated. Returns when the next key rotation is due
 * (unix seconds, 0 none), so the scan after it comes on time rather than with the next
 * rollback. Called without w->mu. */
static int64_t scan_renewals(struct order_worker *w)
{
    struct fw_storage *s = w->eng->env.storage;
    struct err e;
    char **ids = NULL;
    int64_t next_rotation = 0;
    err_clear(&e);
    /* The schedule keeps the watched orders it found; the folder is read again only when
     * it may hold others (start, promotion, another node's write). */
    if (atomic_exchange(&w->eng->renewal_scan_due, false) &&
        order_list_watched(s, &ids, &e) < 0) {
        log_warn("engine", "renewal scan failed", "error", e.msg, NULL);
        atomic_store(&w->eng->renewal_scan_due, true);
    }
    for (size_t i = 0; ids && ids[i]; i++) {
        pthread_mutex_lock(&w->mu);
        bool stop = w->stop;
        if (!stop && !running(w, ids[i]) && find_item(w, ids[i]) == w->n_items &&
            uuid7_valid(ids[i]))
            schedule_locked(w, ids[i], mono_ms(), false);
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
    }
    fw_strv_free(ids);
    err_clear(&e);
    /* account/ is looked through when a rotation is due or an account changed. */
    int64_t check_at = atomic_load(&w->eng->rotation_check_at);
    if (check_at > (int64_t)time(NULL))
        return check_at == INT64_MAX ? 0 : check_at;
    atomic_store(&w->eng->rotation_check_at, INT64_MAX);
    if (accounts_rotate_due(w->eng, s, &next_rotation, &e) < 0) {
        log_warn("engine", "account key rotation scan failed", "error", e.msg, NULL);
        atomic_store(&w->eng->rotation_check_at, 0);
        return 0;
    }
    /* A write meanwhile reset it to 0: keep that. */
    int64_t want = next_rotation > 0 ? next_rotation : INT64_MAX, cur = INT64_MAX;
    atomic_compare_exchange_strong(&w->eng->rotation_check_at, &cur, want);
    return next_rotation;
}

/* Called with w->mu held and scanning set by the caller; returns with it held. */
static void worker_scan(struct order_worker *w)
{
    struct err e;
    char **entries = NULL;
    bool was_writer = w->can_write;
    w->stats.sysview_calls++;
    pthread_mutex_unlock(&w->mu);

    /* Ask the node each scan: a standby can be promoted, a primary demoted. */
    bool can_write = fw_sysview_can_write(w->eng->env.sysview);
    int rc = can_write ? order_list_active(w->eng->env.storage, &entries, &e) : 0;
    if (rc < 0)
        log_warn("engine", "order scan failed", "error", e.msg, NULL);
    for (size_t i = 0; entries && entries[i]; i++) {
        const char *id = strrchr(entries[i], '/');
        id = id ? id + 1 : entries[i];
        pthread_mutex_lock(&w->mu);
        bool known = running(w, id) || find_item(w, id) < w->n_items;
        bool stop = w->stop;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        if (!known)
            scan_entry(w, entries[i]);
    }
    fw_strv_free(entries);
    if (can_write && !was_writer) {
        dns_records_expect(w->eng);   /* promoted: records the last active node tracked */
        engine_recheck(w->eng, NULL); /* and whatever else it left due */
    }
    bool sweep = can_write && atomic_exchange(&w->eng->dns_sweep_due, false);
    if (sweep) {
        /* After a crash or restart: TXT records of orders that ended are removed here. */
        bool left = true;
        if (dns_records_sweep(w->eng, w->eng->env.storage, &left, &e) < 0)
            log_warn("engine", "dns record sweep failed", "error", e.msg, NULL);
        if (left)
            dns_records_expect(w->eng);
    }

    int64_t rotate_at = can_write ? scan_renewals(w) : 0;

    pthread_mutex_lock(&w->mu);
    w->stats.scans++;
    w->stats.dns_sweeps += sweep;
    if (rotate_at > 0 && mono_of_wall(rotate_at * 1000) < w->scan_at_ms)
        w->scan_at_ms = mono_of_wall(rotate_at * 1000);
    w->can_write = can_write;
    if (!can_write) {
        w->n_items = 0;   /* another node does the work; the scan after promotion reloads */
        w->scan_at_ms = mono_ms() + READ_ONLY_RECHECK_MS;
    } else if (rc < 0 && w->scan_at_ms > mono_ms() + RETRY_MS) {
        w->scan_at_ms = mono_ms() + RETRY_MS;
    }
    if (w->n_items > 0)
        pthread_cond_broadcast(&w->cv);   /* the scan may have made many items due */
}

/* Called with w->mu held; returns with it held. */
static void worker_advance(struct worker_thread *t)
{
    struct order_worker *w = t->w;
    struct err e;
    int64_t next = 0;
    char id[37];
    memcpy(id, t->id, sizeof id);
    w->stats.advances++;
    pthread_mutex_unlock(&w->mu);

    err_clear(&e);
    int rc = order_advance(w->eng, w->eng->env.storage, id, &next, &e);
    if (rc < 0)
        log_error("engine", "order advance failed", "order_id", id, "error", e.msg, NULL);
    /* role/:name/issue calls waiting for this order look at it again. */
    order_wait_notify(w->eng, id);

    pthread_mutex_lock(&w->mu);
    bool again = t->again;
    t->busy = t->again = false;
    if (w->stop)
        return;
    if (again)
        schedule_locked(w, id, mono_ms(), false);
    else if (rc < 0)
        schedule_locked(w, id, mono_ms() + RETRY_MS, false);
    else if (next > 0)
        schedule_locked(w, id, mono_of_wall(next), false);
}

static void *worker_main(void *arg)
{
    struct worker_thread *t = arg;
    struct order_worker *w = t->w;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        int64_t now = mono_ms();
        if (!w->scanning && w->scan_at_ms <= now) {
            w->scanning = true;
            w->scan_at_ms = now + SCAN_MAX_MS;
            worker_scan(w);
            w->scanning = false;
            continue;
        }
        size_t best = w->n_items;
        for (size_t i = 0; w->can_write && i < w->n_items; i++) {
            if (best == w->n_items || w->items[i].due_ms < w->items[best].due_ms)
                best = i;
        }
        if (best < w->n_items && w->items[best].due_ms <= now) {
            snprintf(t->id, sizeof t->id, "%s", w->items[best].id);
            t->busy = true;
            t->again = false;
            w->items[best] = w->items[--w->n_items];
            worker_advance(t);
            continue;
        }
        int64_t wake = w->scanning ? now + SCAN_MAX_MS : w->scan_at_ms;
        if (best < w->n_items && w->items[best].due_ms < wake)
            wake = w->items[best].due_ms;
        struct timespec ts = { .tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000 };
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
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
    pthread_condattr_t ca;
    w->eng = eng;
    w->scan_at_ms = mono_ms() + STARTUP_SCAN_DELAY_MS;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    eng->worker = w;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < WORKER_THREADS; i++) {
        w->threads[i].w = w;
        if (pthread_create(&w->threads[i].tid, NULL, worker_main, &w->threads[i]) != 0)
            break;
        w->n_threads++;
    }
    pthread_mutex_unlock(&w->mu);
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
    /* First cancel the CA calls in flight (the mount's shared clients watch this flag):
     * a thread in an advance then returns within about a second, after its current step,
     * even from a CA that never answers (order_advance stops between steps). */
    atomic_store(&eng->stopping, true);
    order_waits_stop(eng);
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n_threads; i++)
        pthread_join(w->threads[i].tid, NULL);
    eng->worker = NULL;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->items);
    free(w);
}

/* Vault's rollback: asks for a scan, done by the worker (one scan however many rollbacks
 * arrive while it runs). Without a worker there is nothing to drive orders: no-op. */
int orders_periodic(const struct fw_req *req, struct err *e)
{
    struct engine *eng = req->backend;
    struct order_worker *w = eng ? eng->worker : NULL;
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    int64_t now = mono_ms();
    if (w->scan_at_ms > now) {
        w->scan_at_ms = now;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
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
