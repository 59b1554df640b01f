/* test_engine_order_wait.c: the wait registry of role/:name/issue (order_wait.c): a
 * notification for the order wakes its waiter (also one sent before the wait began, after
 * registration), one for another order does not, the deadline ends a wait, the cap refuses
 * a waiter beyond it, and stopping the mount wakes every waiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order_wait.h"
#include "memstore.h"

static const char *ID1 = "01936d8e-7c3a-7890-b123-456789abcdef";
static const char *ID2 = "01936d8e-7c3a-7890-b123-456789abcde0";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct engine *eng_new(struct fw_storage **st)
{
    struct fw_env env = { .storage = *st = memstore_new() };
    struct err e;
    struct engine *eng = engine_new(&env, &e);
    assert_non_null(eng);
    return eng;
}

static void test_notify_and_deadline(void **state)
{
    struct fw_storage *st;
    struct engine *eng = eng_new(&st);
    struct order_waiter me;
    assert_true(order_wait_begin(eng, ID1, 4, &me));
    /* Sent before the wait: not lost. */
    order_wait_notify(eng, ID1);
    int64_t t0 = now_ms();
    assert_true(order_wait_next(eng, &me, t0 + 10000));
    assert_true(now_ms() - t0 < 5000);
    /* Another order's notification does not wake it; the deadline does. */
    order_wait_notify(eng, ID2);
    t0 = now_ms();
    assert_false(order_wait_next(eng, &me, t0 + 200));
    assert_true(now_ms() - t0 >= 150);
    order_wait_end(eng, &me);
    engine_free(eng);
    memstore_free(st);
}

static void test_cap(void **state)
{
    struct fw_storage *st;
    struct engine *eng = eng_new(&st);
    struct order_waiter w[3];
    assert_true(order_wait_begin(eng, ID1, 2, &w[0]));
    assert_true(order_wait_begin(eng, ID2, 2, &w[1]));
    assert_false(order_wait_begin(eng, ID1, 2, &w[2]));
    order_wait_end(eng, &w[2]);   /* never registered: harmless */
    order_wait_end(eng, &w[0]);
    assert_true(order_wait_begin(eng, ID1, 2, &w[2]));
    order_wait_end(eng, &w[1]);
    order_wait_end(eng, &w[2]);
    engine_free(eng);
    memstore_free(st);
}

struct sleeper {
    struct engine *eng;
    struct order_waiter me;
    bool woken;
    int64_t took;
};

static void *sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    int64_t t0 = now_ms();
    s->woken = order_wait_next(s->eng, &s->me, t0 + 20000);
    s->took = now_ms() - t0;
    return NULL;
}

static void test_notify_wakes_and_stop_wakes(void **state)
{
    struct fw_storage *st;
    struct engine *eng = eng_new(&st);
    struct sleeper a = { .eng = eng }, b = { .eng = eng };
    pthread_t ta, tb;
    assert_true(order_wait_begin(eng, ID1, 4, &a.me));
    assert_true(order_wait_begin(eng, ID2, 4, &b.me));
    pthread_create(&ta, NULL, sleeper_main, &a);
    pthread_create(&tb, NULL, sleeper_main, &b);
    usleep(100 * 1000);
    order_wait_notify(eng, ID1);
    pthread_join(ta, NULL);
    assert_true(a.woken);
    assert_true(a.took < 10000);
    order_waits_stop(eng);
    pthread_join(tb, NULL);
    assert_false(b.woken);
    assert_true(b.took < 10000);
    assert_false(order_wait_begin(eng, ID1, 4, &a.me));   /* stopping: no new waits */
    order_wait_end(eng, &a.me);
    order_wait_end(eng, &b.me);
    engine_free(eng);
    memstore_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_and_deadline),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_notify_wakes_and_stop_wakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
