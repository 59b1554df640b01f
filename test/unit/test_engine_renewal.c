/* test_engine_renewal.c: the renewal arithmetic of issue 14 §1 (src/engine/orders/
 * order_renew.c: the computed window, when a certificate is due, the random point in an ARI
 * window) and the role's renew_before parsing (src/engine/accounts/role.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"

/* A 90-day certificate issued at t0. */
static const int64_t T0 = 1700000000, DAY = 86400;

static void test_default_window(void **state)
{
    (void)state;
    int64_t s = 0, e = 0;
    order_renewal_default_window(T0, T0 + 90 * DAY, &s, &e);
    assert_int_equal(s, T0 + 60 * DAY);   /* the last third */
    assert_int_equal(e, T0 + 90 * DAY);
    order_renewal_default_window(T0, T0 + 30, &s, &e);   /* a 30 s certificate */
    assert_int_equal(s, T0 + 20);
    assert_int_equal(e, T0 + 30);
    order_renewal_default_window(T0, T0, &s, &e);          /* no lifetime: due at once */
    assert_int_equal(s, T0);
}

static void test_due(void **state)
{
    (void)state;
    struct order_renewal rn = { 0 };
    struct renew_before rb = { 0 };
    int64_t nb = T0, na = T0 + 90 * DAY;
    order_renewal_default_window(nb, na, &rn.window_start, &rn.window_end);
    /* default without ARI: the computed window's start */
    assert_int_equal(order_renewal_due(&rn, NULL, nb, na), T0 + 60 * DAY);
    assert_int_equal(order_renewal_due(&rn, &rb, nb, na), T0 + 60 * DAY);
    /* default with ARI: the point chosen in the CA's window */
    rn.ari = true;
    rn.window_start = T0 + 50 * DAY;
    rn.window_end = T0 + 52 * DAY;
    rn.renew_at = T0 + 51 * DAY;
    assert_int_equal(order_renewal_due(&rn, NULL, nb, na), T0 + 51 * DAY);
    rn.renew_at = 0;   /* none chosen yet: the start */
    assert_int_equal(order_renewal_due(&rn, NULL, nb, na), T0 + 50 * DAY);
    /* the role's duration or percentage wins over an ARI window that ends later */
    rn.window_start = T0 + 80 * DAY;
    rn.window_end = T0 + 85 * DAY;
    rb.seconds = 30 * DAY;
    assert_int_equal(order_renewal_due(&rn, &rb, nb, na), T0 + 60 * DAY);
    rb.seconds = 0;
    rb.percent = 50;
    assert_int_equal(order_renewal_due(&rn, &rb, nb, na), T0 + 45 * DAY);
    /* ... but an ARI window that ends before the role's point (moved earlier by the CA)
     * wins over it */
    rn.window_start = T0 + 10 * DAY;
    rn.window_end = T0 + 11 * DAY;
    rn.renew_at = T0 + 10 * DAY + 7;
    assert_int_equal(order_renewal_due(&rn, &rb, nb, na), T0 + 10 * DAY + 7);
    /* without ARI the computed window never overrides the role */
    rn.ari = false;
    assert_int_equal(order_renewal_due(&rn, &rb, nb, na), T0 + 45 * DAY);
}

static void test_pick(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        int64_t p = order_renewal_pick(T0, T0 + 100, T0 - 5);
        assert_true(p >= T0 && p < T0 + 100);
    }
    /* a window partly in the past: from now on */
    for (int i = 0; i < 200; i++) {
        int64_t p = order_renewal_pick(T0, T0 + 100, T0 + 90);
        assert_true(p >= T0 + 90 && p < T0 + 100);
    }
    /* wholly in the past, or empty: now (renew at once) */
    assert_int_equal(order_renewal_pick(T0, T0 + 100, T0 + 500), T0 + 500);
    assert_int_equal(order_renewal_pick(T0, T0, T0 - 1), T0);
}

static void test_renew_before_parse(void **state)
{
    (void)state;
    struct renew_before rb;
    struct err e;
    assert_int_equal(renew_before_parse("", &rb, &e), 0);
    assert_int_equal(rb.seconds, 0);
    assert_int_equal(rb.percent, 0);
    assert_int_equal(renew_before_parse("720h", &rb, &e), 0);
    assert_int_equal(rb.seconds, 720 * 3600);
    assert_int_equal(renew_before_parse("3600", &rb, &e), 0);
    assert_int_equal(rb.seconds, 3600);
    assert_int_equal(renew_before_parse("30d", &rb, &e), 0);
    assert_int_equal(rb.seconds, 30 * DAY);
    assert_int_equal(renew_before_parse("1h30m", &rb, &e), 0);
    assert_int_equal(rb.seconds, 5400);
    assert_int_equal(renew_before_parse("30%", &rb, &e), 0);
    assert_int_equal(rb.percent, 30);
    assert_int_equal(rb.seconds, 0);
    assert_int_equal(renew_before_parse("1%", &rb, &e), 0);
    assert_int_equal(renew_before_parse("99%", &rb, &e), 0);
    static const char *const bad[] = { "0%", "100%", "150%", "%", "-5%", "5.5%", " 5%",
                                       "abc", "-1h", "0", "0s", "10x", "5%%", "1h%", NULL };
    for (size_t i = 0; bad[i]; i++) {
        err_clear(&e);
        if (renew_before_parse(bad[i], &rb, &e) != -1)
            fail_msg("renew_before \"%s\" accepted", bad[i]);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_non_null(strstr(e.msg, "renew_before"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_window),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_renew_before_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
