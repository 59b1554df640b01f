/* test_engine_order_json.c: an order survives its storage JSON form unchanged, and the
 * status reply has the shapes clients decode (every value inside `challenges` entries a
 * string, dates RFC 3339 with the zero time for "none", csr "" for identifier orders). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "../../src/engine/orders/order.h"

static struct order *sample_order(void)
{
    static const char *const ids[] = { "example.com", "*.example.com" };
    struct order *o = NULL;
    struct err e;
    assert_int_equal(order_new("web", "le", ORDER_WF_IDENTIFIERS, ids, 2, &o, &e), 0);
    o->status = ORDER_AWAITING;
    o->expires = 1790000000;
    o->next_work_date = 1780003600;
    o->ca_placing = 1780000123;
    free(o->acme_url);
    o->acme_url = strdup("https://ca.test/order/1");
    free(o->key_type);
    o->key_type = strdup("ec-256");
    o->authzs = calloc(1, sizeof *o->authzs);
    o->n_authzs = 1;
    struct order_authz *a = &o->authzs[0];
    a->url = strdup("https://ca.test/authz/1");
    a->identifier = strdup("example.com");
    a->status = strdup("pending");
    a->expires = 1790000000;
    a->challenges = calloc(2, sizeof *a->challenges);
    a->n_challenges = 2;
    const char *types[] = { "http-01", "dns-01" };
    for (int i = 0; i < 2; i++) {
        struct order_challenge *c = &a->challenges[i];
        c->type = strdup(types[i]);
        c->url = strdup("https://ca.test/chall/x");
        c->token = strdup("tok-\"quoted\"\n");
        c->status = strdup("pending");
        c->key_auth = strdup("tok.thumb");
        c->dns_value = strdup(i ? "dnsvalue" : "");
        c->fulfilled = i == 0;
        c->responded = false;
    }
    return o;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct order *o = sample_order(), *back = NULL;
    struct err e;
    cJSON *j = order_to_json(o);
    assert_non_null(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON *parsed = cJSON_Parse(text);
    assert_int_equal(order_from_json(parsed, &back, &e), 0);
    cJSON *j2 = order_to_json(back);
    char *text2 = cJSON_PrintUnformatted(j2);
    assert_string_equal(text, text2);   /* the whole object, field for field */

    assert_string_equal(back->id, o->id);
    assert_int_equal(back->status, ORDER_AWAITING);
    assert_int_equal(back->n_identifiers, 2);
    assert_string_equal(back->identifiers[1], "*.example.com");
    assert_null(back->identifiers[2]);
    assert_string_equal(back->csr, "");
    assert_string_equal(back->authzs[0].challenges[0].token, "tok-\"quoted\"\n");
    assert_true(back->authzs[0].challenges[0].fulfilled);
    assert_false(back->authzs[0].challenges[1].fulfilled);
    assert_int_equal(back->expires, 1790000000);
    assert_int_equal(back->ca_placing, 1780000123);

    free(text);
    free(text2);
    cJSON_Delete(j2);
    cJSON_Delete(parsed);
    order_free(o);
    order_free(back);
}

static void test_from_json_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]", "{}", "{\"status\":\"bogus\"}", "\"order\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        struct order *o = NULL;
        struct err e;
        assert_int_equal(order_from_json(j, &o, &e), -1);
        assert_null(o);
        cJSON_Delete(j);
    }
    /* Underscore status in storage (older writer) still loads. */
    cJSON *j = cJSON_Parse("{\"id\":\"x\",\"status\":\"awaiting_challenge_fulfillment\"}");
    struct order *o = NULL;
    struct err e;
    assert_int_equal(order_from_json(j, &o, &e), 0);
    assert_int_equal(o->status, ORDER_AWAITING);
    assert_int_equal(o->n_identifiers, 0);
    assert_non_null(o->identifiers);
    assert_int_equal(o->ca_placing, 0);   /* written before ca_placing existed */
    order_free(o);
    cJSON_Delete(j);
}

static void test_view(void **state)
{
    (void)state;
    struct order *o = sample_order();
    o->creation_date = 1780000000;
    o->last_update = 1780000005;
    cJSON *v = order_view_status(o);
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItem(v, "order_status")->valuestring,
                        "awaiting-challenge-fulfillment");
    assert_string_equal(cJSON_GetObjectItem(v, "csr")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(v, "creation_date")->valuestring,
                        "2026-05-28T20:26:40Z");
    assert_string_equal(cJSON_GetObjectItem(v, "serial_number")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(v, "workflow_type")->valuestring, "identifiers");
    cJSON *chs = cJSON_GetObjectItem(v, "challenges");
    assert_true(cJSON_IsObject(chs));
    cJSON *list = cJSON_GetObjectItem(chs, "example.com");
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON *entry, *val;
    cJSON_ArrayForEach(entry, list) {
        cJSON_ArrayForEach(val, entry)
            assert_true(cJSON_IsString(val));
    }
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(v, "authorizations")));
    cJSON_Delete(v);

    /* No dates yet: the zero time, never "". */
    o->next_work_date = 0;
    o->expires = 0;
    v = order_view_status(o);
    assert_string_equal(cJSON_GetObjectItem(v, "next_work_date")->valuestring,
                        "0001-01-01T00:00:00Z");
    assert_string_equal(cJSON_GetObjectItem(v, "expires")->valuestring, "0001-01-01T00:00:00Z");
    cJSON_Delete(v);
    order_free(o);
}

static void test_times(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; } cases[] = {
        { "2026-02-24T20:00:00Z", 1771963200 },
        { "2026-02-24T20:00:00.123456Z", 1771963200 },
        { "2026-02-24T16:00:00-04:00", 1771963200 },
        { "2026-02-24T21:30:00+01:30", 1771963200 },
        { "", 0 },
        { "yesterday", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (order_time_parse(cases[i].in) != cases[i].want)
            fail_msg("order_time_parse(%s) = %lld", cases[i].in,
                     (long long)order_time_parse(cases[i].in));
    }
    char buf[32];
    assert_string_equal(order_time_str(1771963200, buf, sizeof buf), "2026-02-24T20:00:00Z");
    assert_string_equal(order_time_str(0, buf, sizeof buf), "0001-01-01T00:00:00Z");
}

static void test_find(void **state)
{
    (void)state;
    struct order *o = sample_order();
    assert_int_equal(order_find_authz(o, "EXAMPLE.com"), 0);
    assert_int_equal(order_find_authz(o, "other.com"), -1);
    assert_non_null(order_find_challenge(&o->authzs[0], "dns-01"));
    assert_null(order_find_challenge(&o->authzs[0], "tls-alpn-01"));
    order_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_from_json_rejects),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
