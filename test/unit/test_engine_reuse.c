/* test_engine_reuse.c: the reuse_pending_orders index (issue 14 §4, order_reuse.c). The
 * key depends on the identifier set only (order and case ignored) and the workflow; an
 * entry is a hint: missing, garbage, naming a missing, ended or different order, it finds
 * nothing (the caller then places an order and overwrites it); only a live order with the
 * same role, workflow, set, profile and CSR is reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"
#include "memstore.h"

static void put_index(struct fw_storage *s, const char *key, const char *id)
{
    struct err e;
    assert_int_equal(order_reuse_record(s, key, id, &e), 0);
}

static void test_key(void **state)
{
    char *a[] = { "a.example.com", "B.example.com" };
    char *b[] = { "b.example.com", "A.EXAMPLE.COM" };
    char *c[] = { "a.example.com" };
    char k1[512], k2[512], k3[512], k4[512];
    struct err e;
    assert_int_equal(order_reuse_key("web", ORDER_WF_IDENTIFIERS, a, 2, k1, sizeof k1, &e), 0);
    assert_int_equal(order_reuse_key("web", ORDER_WF_IDENTIFIERS, b, 2, k2, sizeof k2, &e), 0);
    assert_int_equal(order_reuse_key("web", ORDER_WF_IDENTIFIERS, c, 1, k3, sizeof k3, &e), 0);
    assert_int_equal(order_reuse_key("web", ORDER_WF_CSR, a, 2, k4, sizeof k4, &e), 0);
    assert_string_equal(k1, k2);
    assert_string_not_equal(k1, k3);
    assert_string_not_equal(k1, k4);
    assert_int_equal(strncmp(k1, "role-pending/web/identifiers-", 29), 0);
}

static void test_find(void **state)
{
    struct fw_storage *s = memstore_new();
    const char *ids[] = { "a.example.com", "b.example.com" };
    char *want_ids[] = { "B.example.com", "a.example.com" };
    struct order_reuse_want want = { .role = "web", .workflow = ORDER_WF_IDENTIFIERS,
                                     .ids = want_ids, .n = 2, .profile = "" };
    struct order *o = NULL, *found = NULL;
    struct err e;
    char key[512];
    assert_int_equal(order_reuse_key("web", want.workflow, want_ids, 2, key, sizeof key, &e), 0);

    /* no entry */
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    /* garbage and a missing order: nothing, no error */
    cJSON *junk = cJSON_Parse("[1]");
    assert_int_equal(fw_storage_put_json(s, key, junk, false, &e), 0);
    cJSON_Delete(junk);
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    put_index(s, key, "not-an-id");
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    assert_int_equal(order_new("web", "acct", ORDER_WF_IDENTIFIERS, ids, 2, &o, &e), 0);
    put_index(s, key, o->id);   /* the crash case: index written, order never saved */
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);

    /* a live order: found */
    assert_int_equal(order_save(s, o, &e), 0);
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_non_null(found);
    assert_string_equal(found->id, o->id);
    order_free(found);
    found = NULL;

    /* another profile, workflow or set: not this order */
    want.profile = "shortlived";
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    want.profile = "";
    want.n = 1;
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    want.n = 2;
    want.workflow = ORDER_WF_CSR;
    want.csr = "-----BEGIN CERTIFICATE REQUEST-----";
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    want.workflow = ORDER_WF_IDENTIFIERS;
    want.csr = NULL;
    want.role = "other";
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);
    want.role = "web";

    /* an ended order: ignored */
    o->status = ORDER_ERROR;
    assert_int_equal(order_save(s, o, &e), 0);
    assert_int_equal(order_reuse_find(s, key, &want, &found, &e), 0);
    assert_null(found);

    order_free(o);
    memstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
