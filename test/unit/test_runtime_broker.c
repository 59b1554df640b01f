/* test_runtime_broker.c: a ConnInfo may arrive before, during or after the Setup that waits
 * for it (vault-plugin-protocol.md §4.1-4.2); Setup gives up after its timeout. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/runtime/rt.h"

static void test_before(void **state)
{
    struct broker *b = broker_new();
    struct err e = { 0 };
    char target[128];
    broker_put(b, 1, "unix", "/tmp/plugin111");
    broker_put(b, 2, "unix", "/tmp/plugin222");
    assert_int_equal(broker_wait(b, 2, 0, target, sizeof target, &e), 0);
    assert_string_equal(target, "unix:/tmp/plugin222");
    assert_int_equal(broker_wait(b, 1, 0, target, sizeof target, &e), 0);
    assert_string_equal(target, "unix:/tmp/plugin111");
    broker_free(b);
}

static void *put_later(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    broker_put(arg, 7, "unix", "/tmp/plugin777");
    return NULL;
}

static void test_after(void **state)
{
    struct broker *b = broker_new();
    struct err e = { 0 };
    char target[128];
    pthread_t t;
    pthread_create(&t, NULL, put_later, b);
    assert_int_equal(broker_wait(b, 7, 5000, target, sizeof target, &e), 0);
    assert_string_equal(target, "unix:/tmp/plugin777");
    pthread_join(t, NULL);
    broker_free(b);
}

static void test_timeout(void **state)
{
    struct broker *b = broker_new();
    struct err e = { 0 };
    char target[128];
    broker_put(b, 1, "unix", "/tmp/plugin111");
    assert_int_equal(broker_wait(b, 9, 100, target, sizeof target, &e), -1);
    assert_non_null(strstr(e.msg, "timeout waiting for connection info"));
    char tiny[8];
    assert_int_equal(broker_wait(b, 1, 0, tiny, sizeof tiny, &e), -1);
    broker_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before),
        cmocka_unit_test(test_after),
        cmocka_unit_test(test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
