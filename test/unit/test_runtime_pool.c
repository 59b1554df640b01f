/* test_runtime_pool.c: the remote lane's per-key limit. Jobs of a key at its limit wait in
 * the queue while jobs of other keys run; they start once one of their key finishes. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/runtime/rt.h"

/* A job that blocks until released, counting how many of its key run at once. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    atomic_int running_a, max_a, done;
};

struct tjob {
    struct pool_job job;
    struct gate *g;
    bool is_a;
};

static void gate_run(struct pool_job *job)
{
    struct tjob *t = (struct tjob *)job;
    struct gate *g = t->g;
    if (t->is_a) {
        int now = atomic_fetch_add(&g->running_a, 1) + 1;
        int m = atomic_load(&g->max_a);
        while (now > m && !atomic_compare_exchange_weak(&g->max_a, &m, now))
            ;
        pthread_mutex_lock(&g->mu);
        while (!g->open)
            pthread_cond_wait(&g->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
        atomic_fetch_sub(&g->running_a, 1);
    }
    atomic_fetch_add(&g->done, 1);
}

static void wait_done(struct gate *g, int n)
{
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    for (int i = 0; i < 2000 && atomic_load(&g->done) < n; i++)
        nanosleep(&ts, NULL);
}

static void test_key_limit(void **state)
{
    struct err e = { 0 };
    struct pool *p = pool_new(6, 3, &e);
    assert_non_null(p);
    struct gate g = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    struct tjob jobs[14];
    /* 10 blocking jobs of mount "a" first, then 4 quick ones of mount "b". */
    for (int i = 0; i < 14; i++) {
        jobs[i] = (struct tjob){ .job.fn = gate_run, .g = &g, .is_a = i < 10 };
        pool_submit_keyed(p, &jobs[i].job, i < 10 ? "a" : "b");
    }
    /* b's jobs pass a's queued ones: all 4 finish while a's first 3 still block. */
    wait_done(&g, 4);
    assert_int_equal(atomic_load(&g.done), 4);
    assert_int_equal(atomic_load(&g.running_a), 3);
    assert_int_equal(atomic_load(&g.max_a), 3);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    assert_true(pool_drain(p, 5000));
    assert_int_equal(atomic_load(&g.done), 14);
    assert_true(atomic_load(&g.max_a) <= 3);
    pool_free(p);
}

/* Unkeyed jobs (pool_submit, key "") are never held back. */
static void test_unkeyed(void **state)
{
    struct err e = { 0 };
    struct pool *p = pool_new(4, 1, &e);
    assert_non_null(p);
    struct gate g = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    struct tjob jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct tjob){ .job.fn = gate_run, .g = &g, .is_a = true };
        if (i % 2)
            pool_submit(p, &jobs[i].job);
        else
            pool_submit_keyed(p, &jobs[i].job, "");
    }
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    for (int i = 0; i < 2000 && atomic_load(&g.running_a) < 4; i++)
        nanosleep(&ts, NULL);
    assert_int_equal(atomic_load(&g.running_a), 4);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    assert_true(pool_drain(p, 5000));
    pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_limit),
        cmocka_unit_test(test_unkeyed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
