/* test_engine_order_worker.c: the order worker's schedule (order_worker.c) against counted
 * storage and SystemView: a start costs one scan and one SystemView call, N wake-ups cause
 * at most one scan per due time and no reloads of known orders, a kick while an order is
 * being advanced is never lost (and a burst of kicks is one more advance, not one each),
 * and a dangling role-active/ entry is removed. Vault's rollback, through the backend's
 * periodic handler, costs one scan and nothing else on an idle mount. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "engine.h"
#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"
#include "memstore.h"

/* ---- counted storage and SystemView ------------------------------------------------------ */

struct counted {
    struct fw_storage iface;
    struct fw_storage *inner;
    pthread_mutex_t mu;
    int order_gets;        /* get("order/...") */
    int active_lists;      /* list("role-active/") */
    int dels;
    int gets, puts, lists; /* every get, put, list */
    int dns_lists;         /* list("dns-record/") */
    /* Held by a test to stop scans at their list("role-active/"), so that a burst of
     * wake-ups cannot straddle scans that a fast machine finishes in between. */
    pthread_mutex_t gate;
};

static int c_get(void *ctx, const char *key, char **val, size_t *len, struct err *e)
{
    struct counted *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->gets++;
    if (strncmp(key, "order/", 6) == 0)
        c->order_gets++;
    pthread_mutex_unlock(&c->mu);
    return c->inner->get(c->inner->ctx, key, val, len, e);
}

static int c_put(void *ctx, const char *key, const char *val, size_t len, bool wrap,
                 struct err *e)
{
    struct counted *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->puts++;
    pthread_mutex_unlock(&c->mu);
    return c->inner->put(c->inner->ctx, key, val, len, wrap, e);
}

static int c_del(void *ctx, const char *key, struct err *e)
{
    struct counted *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->dels++;
    pthread_mutex_unlock(&c->mu);
    return c->inner->del(c->inner->ctx, key, e);
}

static int c_list(void *ctx, const char *prefix, char ***keys, struct err *e)
{
    struct counted *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->lists++;
    bool gated = strcmp(prefix, "role-active/") == 0;
    if (gated)
        c->active_lists++;
    if (strcmp(prefix, "dns-record/") == 0)
        c->dns_lists++;
    pthread_mutex_unlock(&c->mu);
    if (gated) {
        pthread_mutex_lock(&c->gate);
        pthread_mutex_unlock(&c->gate);
    }
    return c->inner->list(c->inner->ctx, prefix, keys, e);
}

static int counted_get(struct counted *c, int *field)
{
    pthread_mutex_lock(&c->mu);
    int v = *field;
    pthread_mutex_unlock(&c->mu);
    return v;
}

static int sv_calls;
static pthread_mutex_t sv_mu = PTHREAD_MUTEX_INITIALIZER;

static int sv_replication(void *ctx, uint32_t *state, struct err *e)
{
    pthread_mutex_lock(&sv_mu);
    sv_calls++;
    pthread_mutex_unlock(&sv_mu);
    *state = 0;   /* a primary: may write */
    return 0;
}

struct fixture {
    struct counted store;
    struct fw_sysview sv;
    struct engine *eng;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->store.inner = memstore_new();
    pthread_mutex_init(&f->store.mu, NULL);
    pthread_mutex_init(&f->store.gate, NULL);
    f->store.iface = (struct fw_storage){ &f->store, c_get, c_put, c_del, c_list };
    f->sv.replication_state = sv_replication;
    sv_calls = 0;
}

static void fixture_start(struct fixture *f)
{
    struct fw_env env = { .storage = &f->store.iface, .sysview = &f->sv };
    struct err e;
    f->eng = engine_new(&env, &e);
    assert_non_null(f->eng);
    assert_int_equal(orders_start(f->eng, &e), 0);
}

static void fixture_free(struct fixture *f)
{
    engine_free(f->eng);
    memstore_free(f->store.inner);
    pthread_mutex_destroy(&f->store.mu);
}

static struct order_worker_stats stats(struct fixture *f)
{
    struct order_worker_stats st;
    order_worker_stats(f->eng, &st);
    return st;
}

/* Waits (up to 5 s) until the worker has made `scans` scans. */
static void wait_scans(struct fixture *f, uint64_t scans)
{
    for (int i = 0; i < 500 && stats(f).scans < scans; i++)
        usleep(10 * 1000);
    assert_true(stats(f).scans >= scans);
}

/* An order stored as waiting on the user, due in an hour. *id_out (37 bytes) gets its id. */
static void add_waiting_order(struct fixture *f, char *id_out)
{
    static const char *const ids[] = { "a.example.com" };
    struct order *o = NULL;
    struct err e;
    assert_int_equal(order_new("web", "acct", ORDER_WF_IDENTIFIERS, ids, 1, &o, &e), 0);
    assert_int_equal(order_save(f->store.inner, o, &e), 0);
    o->status = ORDER_AWAITING;
    o->next_work_date = order_now() + 3600;
    assert_int_equal(order_save(f->store.inner, o, &e), 0);
    if (id_out)
        snprintf(id_out, 37, "%s", o->id);
    order_free(o);
}

/* ---- tests ----------------------------------------------------------------------------- */

enum { ORDERS = 200, WAKEUPS = 100 };

static void test_one_scan_per_due_time(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    for (int i = 0; i < ORDERS; i++)
        add_waiting_order(&f, NULL);
    fixture_start(&f);

    /* Start: one scan, one SystemView call, each order loaded once. */
    wait_scans(&f, 1);
    usleep(200 * 1000);
    struct order_worker_stats st = stats(&f);
    assert_int_equal(st.scans, 1);
    assert_int_equal(st.sysview_calls, 1);
    assert_int_equal(st.scan_loads, ORDERS);
    assert_int_equal(st.advances, 0);           /* nothing is due */
    assert_int_equal(st.scheduled, ORDERS);
    assert_int_equal(counted_get(&f.store, &f.store.order_gets), ORDERS);
    assert_int_equal(counted_get(&f.store, &f.store.active_lists), 1);

    /* N rollbacks in a burst: the due time is "now" for all of them, so one scan (two if
     * a scan was already running; the gate holds the burst's first one at its LIST, so a
     * fast machine cannot finish scans in between), and no order is loaded again. */
    struct fw_req req = { .backend = f.eng, .storage = &f.store.iface, .sysview = &f.sv };
    struct err e;
    pthread_mutex_lock(&f.store.gate);   /* the burst's first scan waits at its LIST */
    for (int i = 0; i < WAKEUPS; i++)
        assert_int_equal(orders_periodic(&req, &e), 0);
    pthread_mutex_unlock(&f.store.gate);
    wait_scans(&f, 2);
    usleep(500 * 1000);   /* time for any further (wrong) scans to show */
    st = stats(&f);
    assert_in_range(st.scans, 2, 3);
    assert_int_equal(st.sysview_calls, st.scans);
    pthread_mutex_lock(&sv_mu);
    assert_int_equal(sv_calls, st.scans);        /* SystemView: once per scan, no more */
    pthread_mutex_unlock(&sv_mu);
    assert_int_equal(st.scan_loads, ORDERS);
    assert_int_equal(counted_get(&f.store, &f.store.order_gets), ORDERS);
    assert_int_equal(st.advances, 0);

    /* N kicks of orders that do not exist wake threads but never cause a scan. */
    uint64_t scans = st.scans;
    for (int i = 0; i < WAKEUPS; i++)
        order_worker_kick(f.eng, "01936d8e-7c3a-7890-b123-456789abcdef");
    usleep(300 * 1000);
    st = stats(&f);
    assert_int_equal(st.scans, scans);
    assert_true(st.advances >= 1);
    fixture_free(&f);
}

static int sv_count(void)
{
    pthread_mutex_lock(&sv_mu);
    int n = sv_calls;
    pthread_mutex_unlock(&sv_mu);
    return n;
}

/* Every counted storage operation and SystemView call so far, as one number each. */
struct costs {
    int gets, puts, lists, dels, dns_lists, sv;
};

static struct costs costs_now(struct fixture *f)
{
    pthread_mutex_lock(&f->store.mu);
    struct costs c = { f->store.gets, f->store.puts, f->store.lists, f->store.dels,
                       f->store.dns_lists, 0 };
    pthread_mutex_unlock(&f->store.mu);
    c.sv = sv_count();
    return c;
}

enum { IDLE_ROLLBACKS = 5 };

/* An idle mount (orders waiting on the user, no dns-01 records) under Vault's rollback,
 * through the backend's periodic handler as the host calls it: per rollback one scan, that
 * is one SystemView call and the role-active/ LISTs (the folder and its one role), and no
 * other storage operation. The dns-01 record sweep's LIST comes only while records may be
 * left: once at start, once after a record is tracked. */
static void test_idle_rollback_costs_one_scan(void **state)
{
    (void)state;
    struct fixture f;
    struct err e;
    fixture_init(&f);
    for (int i = 0; i < 20; i++)
        add_waiting_order(&f, NULL);
    fixture_start(&f);
    wait_scans(&f, 1);
    /* The first rollback also looks once at tidy-status and config/auto-tidy (a run to
     * resume, auto-tidy due); with neither, not again until they are written. */
    struct fw_req req = { .backend = f.eng, .storage = &f.store.iface, .sysview = &f.sv };
    assert_int_equal(engine_backend.periodic(&req, &e), 0);
    wait_scans(&f, 2);
    usleep(100 * 1000);
    struct costs c0 = costs_now(&f);
    assert_int_equal(c0.dns_lists, 1);   /* the start's sweep: a crash may have left some */

    for (int i = 1; i <= IDLE_ROLLBACKS; i++) {
        assert_int_equal(engine_backend.periodic(&req, &e), 0);
        wait_scans(&f, 2 + (uint64_t)i);
    }
    usleep(200 * 1000);   /* time for any further (wrong) work to show */
    struct costs c1 = costs_now(&f);
    assert_int_equal(stats(&f).scans, 2 + IDLE_ROLLBACKS);
    assert_int_equal(c1.sv - c0.sv, IDLE_ROLLBACKS);
    assert_int_equal(c1.lists - c0.lists, 2 * IDLE_ROLLBACKS);
    assert_int_equal(c1.dns_lists - c0.dns_lists, 0);
    assert_int_equal(c1.gets - c0.gets, 0);
    assert_int_equal(c1.puts - c0.puts, 0);
    assert_int_equal(c1.dels - c0.dels, 0);

    /* A record tracked (here: only announced): the next scan sweeps, the one after not. */
    dns_records_expect(f.eng);
    assert_int_equal(engine_backend.periodic(&req, &e), 0);
    wait_scans(&f, 3 + IDLE_ROLLBACKS);
    assert_int_equal(engine_backend.periodic(&req, &e), 0);
    wait_scans(&f, 4 + IDLE_ROLLBACKS);
    usleep(100 * 1000);
    struct costs c2 = costs_now(&f);
    assert_int_equal(c2.dns_lists - c1.dns_lists, 1);
    assert_int_equal(c2.sv - c1.sv, 2);
    assert_int_equal(stats(&f).dns_sweeps, 2);
    fixture_free(&f);
}

/* The race of the e2e check "raced order completed": a kick that arrives while the order
 * is being advanced (or while a request holds it) is one more advance afterwards. */
static void test_kick_while_advancing_is_not_lost(void **state)
{
    (void)state;
    struct fixture f;
    static const char *const ids[] = { "b.example.com" };
    struct order *o = NULL, *back = NULL;
    struct keylock hold = { 0 };
    struct err e;
    fixture_init(&f);
    fixture_start(&f);
    wait_scans(&f, 1);

    /* A new order whose account is gone: its advance ends it in error. */
    assert_int_equal(order_new("web", "gone", ORDER_WF_IDENTIFIERS, ids, 1, &o, &e), 0);
    assert_int_equal(order_save(&f.store.iface, o, &e), 0);
    assert_true(keylock_try(&f.eng->order_locks, o->id, &hold));   /* a request holds it */
    order_worker_kick(f.eng, o->id);
    usleep(100 * 1000);
    assert_int_equal(stats(&f).advances, 1);      /* taken, waiting for the lock */
    for (int i = 0; i < WAKEUPS; i++)
        order_worker_kick(f.eng, o->id);          /* the request's own kick, many times */
    keylock_release(&f.eng->order_locks, &hold);
    for (int i = 0; i < 100 && stats(&f).advances < 2; i++)
        usleep(10 * 1000);
    usleep(200 * 1000);
    assert_int_equal(stats(&f).advances, 2);      /* exactly one more */
    assert_int_equal(stats(&f).scheduled, 0);     /* terminal: out of the schedule */
    assert_int_equal(order_load(&f.store.iface, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_ERROR);
    order_free(back);
    order_free(o);
    fixture_free(&f);
}

/* A role-active/ entry with no order behind it, older than the grace period, is removed by
 * the scan; a fresh one (an order being created right now) is left alone. */
static void test_dangling_entry_removed(void **state)
{
    (void)state;
    struct fixture f;
    struct err e;
    char *v = NULL;
    size_t n = 0;
    static const char old_key[] = "role-active/web/01000000-0000-7000-8000-000000000000";
    char fresh_id[37], fresh_key[128];
    fixture_init(&f);
    assert_int_equal(uuid7_new(fresh_id, &e), 0);
    snprintf(fresh_key, sizeof fresh_key, "role-active/web/%s", fresh_id);
    assert_int_equal(f.store.inner->put(f.store.inner->ctx, old_key, "", 0, false, &e), 0);
    assert_int_equal(f.store.inner->put(f.store.inner->ctx, fresh_key, "", 0, false, &e), 0);
    fixture_start(&f);
    wait_scans(&f, 1);
    assert_int_equal(f.store.inner->get(f.store.inner->ctx, old_key, &v, &n, &e), 0);
    assert_null(v);
    assert_int_equal(f.store.inner->get(f.store.inner->ctx, fresh_key, &v, &n, &e), 0);
    assert_non_null(v);
    free(v);
    fixture_free(&f);
}

/* orders_stop returns promptly even with every order scheduled. */
static void test_stop_is_prompt(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    for (int i = 0; i < 20; i++)
        add_waiting_order(&f, NULL);
    fixture_start(&f);
    wait_scans(&f, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    orders_stop(f.eng);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    fixture_free(&f);
}

/* A CA that accepts connections and never answers (a listening socket nobody accepts on:
 * the kernel completes the handshake). The port, or -1. */
static int hung_ca(int *fd_out)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *fd_out = fd;
    return ntohs(a.sin_port);
}

/* An advance stuck on a CA that never answers does not hold up orders_stop: the worker's
 * CA calls are cancelled, and the order is left as it was (no error recorded). */
static void test_stop_with_hung_ca(void **state)
{
    (void)state;
    struct fixture f;
    static const char *const ids[] = { "c.example.com" };
    struct crypto_key *k = NULL;
    struct order *o = NULL, *back = NULL;
    char *pem = NULL, url[128];
    struct err e;
    int fd = -1, port = hung_ca(&fd);
    assert_true(port > 0);
    fixture_init(&f);
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    assert_int_equal(crypto_key_to_pem(k, &pem, &e), 0);
    cJSON *a = cJSON_CreateObject(), *keys = cJSON_AddObjectToObject(a, "keys");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(keys, "0"), "private_key", pem);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/dir", port);
    cJSON_AddStringToObject(a, "directory_url", url);
    cJSON_AddStringToObject(a, "account_url", "http://127.0.0.1/acct/1");
    cJSON_AddNumberToObject(a, "active_key_version", 0);
    assert_int_equal(fw_storage_put_json(f.store.inner, "account/hung", a, true, &e), 0);
    cJSON_Delete(a);
    assert_int_equal(order_new("web", "hung", ORDER_WF_IDENTIFIERS, ids, 1, &o, &e), 0);
    assert_int_equal(order_save(f.store.inner, o, &e), 0);
    fixture_start(&f);
    wait_scans(&f, 1);
    for (int i = 0; i < 300 && stats(&f).advances < 1; i++)
        usleep(10 * 1000);
    assert_int_equal(stats(&f).advances, 1);
    usleep(500 * 1000);   /* well inside the CA call (its timeout is 30 s) */

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    orders_stop(f.eng);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    print_message("orders_stop with a hung CA: %ld ms\n", ms);
    assert_true(ms < 2000);
    assert_int_equal(order_load(f.store.inner, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_NEW);
    assert_string_equal(back->last_error, "");
    order_free(back);
    order_free(o);
    free(pem);
    crypto_key_free(k);
    fixture_free(&f);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_scan_per_due_time),
        cmocka_unit_test(test_idle_rollback_costs_one_scan),
        cmocka_unit_test(test_kick_while_advancing_is_not_lost),
        cmocka_unit_test(test_dangling_entry_removed),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_stop_with_hung_ca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
