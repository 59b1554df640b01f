/* test_engine_idn.c: order identifiers as A-labels (issue 9 item 4): IDNA2008 conversion
 * (NFC, case, wildcard prefix, ASCII left alone, invalid names refused) and the stored
 * order keeping the user's spelling beside the A-labels. */
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

static void expect_alabel(const char *in, const char *want)
{
    struct err e = { 0 };
    char *out = NULL;
    if (idn_to_alabel(in, &out, &e) < 0)
        fail_msg("%s: %s", in, e.msg);
    assert_string_equal(out, want);
    free(out);
}

static void expect_refused(const char *in)
{
    struct err e = { 0 };
    char *out = NULL;
    assert_int_equal(idn_to_alabel(in, &out, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_non_null(strstr(e.msg, "internationalized domain name"));
    assert_null(out);
}

static void test_alabels(void **state)
{
    /* spec 001's example, and the same name in other spellings of one IDN */
    expect_alabel("räksmörgås.se", "xn--rksmrgs-5wao1o.se");
    expect_alabel("RÄKSMÖRGÅS.SE", "xn--rksmrgs-5wao1o.se");               /* lower case */
    expect_alabel("ra\xcc\x88ksmo\xcc\x88rga\xcc\x8as.se", "xn--rksmrgs-5wao1o.se");  /* NFC */
    expect_alabel("www.räksmörgås.se", "www.xn--rksmrgs-5wao1o.se");
    expect_alabel("*.räksmörgås.se", "*.xn--rksmrgs-5wao1o.se");
    expect_alabel("bücher.example", "xn--bcher-kva.example");
    /* ASCII, A-labels included, is passed through byte for byte */
    expect_alabel("xn--rksmrgs-5wao1o.se", "xn--rksmrgs-5wao1o.se");
    expect_alabel("WWW.Example.com", "WWW.Example.com");
    expect_alabel("*.example.com", "*.example.com");
    assert_true(idn_is_ascii("xn--rksmrgs-5wao1o.se"));
    assert_false(idn_is_ascii("räksmörgås.se"));
}

static void test_refused(void **state)
{
    expect_refused("\xff\xfe.se");                 /* not UTF-8 */
    expect_refused("r\xc3\xa4ks m\xc3\xb6rg.se");  /* a space */
    expect_refused("\xe2\x98\x83\xe2\x80\x8b.se"); /* zero-width space: DISALLOWED */
}

/* The stored form keeps both spellings; the replies show the user's. */
static void test_order_keeps_requested(void **state)
{
    struct err e = { 0 };
    struct order *o = NULL, *back = NULL;
    const char *ids[] = { "xn--rksmrgs-5wao1o.se", "www.example.com" };
    assert_int_equal(order_new("web", "acct", ORDER_WF_IDENTIFIERS, ids, 2, &o, &e), 0);
    o->requested = calloc(3, sizeof(char *));
    o->requested[0] = strdup("räksmörgås.se");
    o->requested[1] = strdup("www.example.com");
    cJSON *j = order_to_json(o);
    assert_non_null(j);
    assert_int_equal(order_from_json(j, &back, &e), 0);
    assert_string_equal(back->identifiers[0], "xn--rksmrgs-5wao1o.se");
    assert_non_null(back->requested);
    assert_string_equal(back->requested[0], "räksmörgås.se");
    assert_string_equal(order_shown_identifiers(back)[0], "räksmörgås.se");

    cJSON *view = order_view_status(back);
    const cJSON *shown = cJSON_GetObjectItemCaseSensitive(view, "identifiers");
    const cJSON *acme = cJSON_GetObjectItemCaseSensitive(view, "acme_identifiers");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(shown, 0)), "räksmörgås.se");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(acme, 0)),
                        "xn--rksmrgs-5wao1o.se");
    cJSON_Delete(view);
    cJSON_Delete(j);
    order_free(back);
    order_free(o);

    /* an all-ASCII order: no requested list, no acme_identifiers in replies */
    assert_int_equal(order_new("web", "acct", ORDER_WF_IDENTIFIERS, ids + 1, 1, &o, &e), 0);
    j = order_to_json(o);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "requested_identifiers"));
    view = order_view_created(o);
    assert_null(cJSON_GetObjectItemCaseSensitive(view, "acme_identifiers"));
    cJSON_Delete(view);
    cJSON_Delete(j);
    order_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alabels),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_order_keeps_requested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
