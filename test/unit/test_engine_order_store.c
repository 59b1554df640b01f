/* test_engine_order_store.c: orders in storage (test/lib/memstore): keys and indexes written
 * per status, load/ownership checks, and state transitions that need no CA (an order whose
 * account is gone ends in error with an actionable last_error; terminal and locked orders
 * are left alone). */
#include <setjmp.h>
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

#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"
#include "memstore.h"

/* A mount over s without its worker. */
static struct engine *test_engine(struct fw_storage *s)
{
    struct fw_env env = { .storage = s };
    struct err e;
    struct engine *eng = engine_new(&env, &e);
    assert_non_null(eng);
    return eng;
}

static bool has_key(struct fw_storage *s, const char *key)
{
    char *v = NULL;
    size_t n = 0;
    struct err e;
    assert_int_equal(s->get(s->ctx, key, &v, &n, &e), 0);
    bool found = v != NULL;
    free(v);
    return found;
}

static struct order *new_order(const char *role)
{
    static const char *const ids[] = { "a.example.com" };
    struct order *o = NULL;
    struct err e;
    assert_int_equal(order_new(role, "no-such-account", ORDER_WF_IDENTIFIERS, ids, 1, &o, &e), 0);
    return o;
}

/* The work-queue entry exists from the first save and goes away once terminal. */
static void test_indexes(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct order *o = new_order("web");
    struct err e;
    char key[200];

    assert_int_equal(order_save(s, o, &e), 0);
    snprintf(key, sizeof key, "order/%s", o->id);
    assert_true(has_key(s, key));
    snprintf(key, sizeof key, "role-active/web/%s", o->id);
    assert_true(has_key(s, key));

    bool active = false;
    assert_int_equal(orders_role_has_active(s, "web", &active, &e), 0);
    assert_true(active);
    assert_int_equal(orders_role_has_active(s, "other", &active, &e), 0);
    assert_false(active);

    char **ids = NULL;
    assert_int_equal(order_list_active(s, &ids, &e), 0);
    assert_non_null(ids[0]);
    snprintf(key, sizeof key, "web/%s", o->id);
    assert_string_equal(ids[0], key);
    snprintf(key, sizeof key, "role-active/web/%s", o->id);
    assert_null(ids[1]);
    fw_strv_free(ids);

    static const enum order_status path[] = { ORDER_SUBMITTED, ORDER_AWAITING, ORDER_NOTIFY,
                                              ORDER_PROCESSING, ORDER_FETCHING };
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        o->status = path[i];
        assert_int_equal(order_save(s, o, &e), 0);
        assert_true(has_key(s, key));
    }
    o->status = ORDER_COMPLETED;
    assert_int_equal(order_save(s, o, &e), 0);
    assert_false(has_key(s, key));
    assert_int_equal(orders_role_has_active(s, "web", &active, &e), 0);
    assert_false(active);

    struct order *back = NULL;
    assert_int_equal(order_load(s, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_COMPLETED);
    order_free(back);
    order_free(o);
    memstore_free(s);
}

static void test_load_checks(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct order *o = new_order("web"), *back = NULL;
    struct err e;
    assert_int_equal(order_save(s, o, &e), 0);

    static const struct { const char *role, *id; enum err_kind want; } cases[] = {
        { "web", "01936d8e-7c3a-7890-b123-456789abcdef", ERR_NOT_FOUND },
        { "web", "../../account/x", ERR_NOT_FOUND },
        { "web", "", ERR_NOT_FOUND },
        { "api", NULL, ERR_NOT_FOUND },     /* NULL: the saved order's id, other role */
        { "web", NULL, ERR_OK },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *id = cases[i].id ? cases[i].id : o->id;
        int rc = order_load_for_role(s, cases[i].role, id, &back, &e);
        if (cases[i].want == ERR_OK) {
            assert_int_equal(rc, 0);
            order_free(back);
            back = NULL;
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(e.kind, cases[i].want);
        }
    }
    /* A storage failure is not "not found". */
    memstore_fail_next(s, 1);
    assert_int_equal(order_load(s, o->id, &back, &e), -1);
    assert_int_equal(e.kind, ERR_INTERNAL);
    order_free(o);
    memstore_free(s);
}

/* new -> error when the order's account no longer exists; the message says what to do. */
static void test_advance_account_gone(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct order *o = new_order("web"), *back = NULL;
    struct err e;
    int64_t next = -1;
    char key[200];
    struct engine *eng = test_engine(s);
    assert_int_equal(order_save(s, o, &e), 0);

    assert_int_equal(order_advance(eng, s, o->id, &next, &e), 0);
    assert_int_equal(next, 0);
    assert_int_equal(order_load(s, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_ERROR);
    assert_non_null(strstr(back->last_error, "no-such-account"));
    assert_non_null(strstr(back->last_error, "no longer exists"));
    assert_int_equal(back->next_work_date, 0);
    snprintf(key, sizeof key, "role-active/web/%s", o->id);
    assert_false(has_key(s, key));

    /* Terminal: advancing again changes nothing. */
    int64_t before = back->last_update;
    order_free(back);
    assert_int_equal(order_advance(eng, s, o->id, &next, &e), 0);
    assert_int_equal(order_load(s, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_ERROR);
    assert_int_equal(back->last_update, before);
    order_free(back);
    order_free(o);
    engine_free(eng);
    memstore_free(s);
}

struct advance_arg {
    struct engine *eng;
    const char *id;
    int rc;
};

static void *advance_thread(void *p)
{
    struct advance_arg *a = p;
    struct err e;
    a->rc = order_advance(a->eng, a->eng->env.storage, a->id, NULL, &e);
    return NULL;
}

/* An order a request holds is advanced once the request lets go: waited for, not skipped
 * (a skipped advance is a lost wake-up), and not advanced while held. */
static void test_advance_waits_for_lock(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = test_engine(s);
    struct order *o = new_order("web"), *back = NULL;
    struct keylock hold = { 0 };
    struct err e;
    pthread_t t;
    assert_int_equal(order_save(s, o, &e), 0);
    assert_true(keylock_try(&eng->order_locks, o->id, &hold));
    struct keylock other = { 0 };
    assert_false(keylock_try(&eng->order_locks, o->id, &other));
    struct advance_arg arg = { eng, o->id, -2 };
    assert_int_equal(pthread_create(&t, NULL, advance_thread, &arg), 0);
    usleep(100 * 1000);
    assert_int_equal(order_load(s, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_NEW);   /* not touched while held */
    order_free(back);
    keylock_release(&eng->order_locks, &hold);
    pthread_join(t, NULL);
    assert_int_equal(arg.rc, 0);
    assert_int_equal(order_load(s, o->id, &back, &e), 0);
    assert_int_equal(back->status, ORDER_ERROR);  /* advanced after the release */
    order_free(back);
    assert_true(keylock_try(&eng->order_locks, o->id, &hold));
    keylock_release(&eng->order_locks, &hold);
    /* A missing order is nothing to do. */
    assert_int_equal(order_advance(eng, s, "01936d8e-7c3a-7890-b123-456789abcdef", NULL, &e),
                     0);
    order_free(o);
    engine_free(eng);
    memstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indexes),
        cmocka_unit_test(test_load_checks),
        cmocka_unit_test(test_advance_account_gone),
        cmocka_unit_test(test_advance_waits_for_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
