/* test_engine_order_status.c: order status names and parsing (both spellings), terminal
 * statuses, revoke reasons, and UUIDv7 order ids (format, version bits, ordering). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/engine/orders/order.h"

static const struct {
    const char *input;
    int want;            /* enum order_status, or -1 for "refused" */
} status_cases[] = {
    { "new", ORDER_NEW },
    { "submitted", ORDER_SUBMITTED },
    { "awaiting-challenge-fulfillment", ORDER_AWAITING },
    { "awaiting_challenge_fulfillment", ORDER_AWAITING },
    { "AWAITING_CHALLENGE_FULFILLMENT", ORDER_AWAITING },
    { "notify-acme-server-challenges-completed", ORDER_NOTIFY },
    { "notify_acme_server_challenges_completed", ORDER_NOTIFY },
    { "processing-challenge", ORDER_PROCESSING },
    { "processing_challenge", ORDER_PROCESSING },
    { "fetching-certificate", ORDER_FETCHING },
    { "fetching_certificate", ORDER_FETCHING },
    { "completed", ORDER_COMPLETED },
    { "expired", ORDER_EXPIRED },
    { "revoked", ORDER_REVOKED },
    { "error", ORDER_ERROR },
    { "", -1 },
    { "awaiting", -1 },
    { "completed-", -1 },
    { "vault-challenge-fulfillment", ORDER_VAULT_FULFILLING },
    { "vault_challenge_propagating", ORDER_VAULT_PROPAGATING },
    { "vault-challenge", -1 },
};

static void test_status_parse(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof status_cases / sizeof status_cases[0]; i++) {
        enum order_status got = ORDER_STATUS_COUNT;
        int rc = order_status_parse(status_cases[i].input, &got);
        int g = rc < 0 ? -1 : (int)got;
        if (g != status_cases[i].want) {
            fprintf(stderr, "FAIL status_parse(\"%s\") = %d, want %d\n", status_cases[i].input,
                    g, status_cases[i].want);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
    enum order_status s;
    assert_int_equal(order_status_parse(NULL, &s), -1);
}

/* The API spelling is hyphenated, and every name parses back to its status. */
static void test_status_names(void **state)
{
    (void)state;
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        const char *name = order_status_name((enum order_status)i);
        enum order_status back;
        assert_non_null(name);
        assert_null(strchr(name, '_'));
        assert_int_equal(order_status_parse(name, &back), 0);
        assert_int_equal(back, i);
    }
    assert_string_equal(order_status_name(ORDER_AWAITING), "awaiting-challenge-fulfillment");
    assert_string_equal(order_status_name((enum order_status)99), "error");
}

static void test_status_terminal(void **state)
{
    (void)state;
    static const struct { enum order_status s; bool terminal; } cases[] = {
        { ORDER_NEW, false },        { ORDER_SUBMITTED, false }, { ORDER_AWAITING, false },
        { ORDER_NOTIFY, false },     { ORDER_PROCESSING, false }, { ORDER_FETCHING, false },
        { ORDER_COMPLETED, true },   { ORDER_EXPIRED, true },    { ORDER_REVOKED, true },
        { ORDER_ERROR, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(order_status_terminal(cases[i].s), cases[i].terminal);
}

static void test_revoke_reasons(void **state)
{
    (void)state;
    static const struct { const char *name; int code; } cases[] = {
        { "unspecified", 0 },          { "key_compromise", 1 },       { "key-compromise", 1 },
        { "ca_compromise", 2 },        { "ca-compromise", 2 },        { "affiliation_changed", 3 },
        { "affiliation-changed", 3 },  { "superseded", 4 },           { "cessation_of_operation", 5 },
        { "cessation-of-operation", 5 }, { "certificate_hold", 6 },   { "certificate-hold", 6 },
        { "remove_from_crl", 8 },      { "remove-from-crl", 8 },      { "privilege_withdrawn", 9 },
        { "privilege-withdrawn", 9 },  { "aa_compromise", 10 },       { "aa-compromise", 10 },
        { "", -1 },                    { "compromised", -1 },         { "key compromise", -1 },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = order_revoke_reason_parse(cases[i].name);
        if (got != cases[i].code) {
            fprintf(stderr, "FAIL reason \"%s\" = %d, want %d\n", cases[i].name, got,
                    cases[i].code);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

static void test_uuid7_format(void **state)
{
    (void)state;
    char id[37];
    struct err e;
    assert_int_equal(uuid7_new(id, &e), 0);
    assert_int_equal(strlen(id), 36);
    assert_true(uuid7_valid(id));
    assert_int_equal(id[14], '7');                       /* version 7 */
    assert_non_null(strchr("89ab", id[19]));             /* RFC 9562 variant */
    int64_t ms = uuid7_time_ms(id);
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_true(ms > now - 5000 && ms < now + 5000);

    static const struct { const char *s; bool valid; } cases[] = {
        { "01936d8e-7c3a-7890-b123-456789abcdef", true },
        { "01936D8E-7C3A-7890-B123-456789ABCDEF", true },
        { "01936d8e7c3a-7890-b123-456789abcdef0", false },
        { "01936d8e-7c3a-7890-b123-456789abcde", false },
        { "01936d8e-7c3a-7890-b123-456789abcdeg", false },
        { "../../etc/passwd", false },
        { "", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(uuid7_valid(cases[i].s), cases[i].valid);
    assert_false(uuid7_valid(NULL));
    assert_int_equal(uuid7_time_ms("01936d8e-7c3a-4890-b123-456789abcdef"), 0);   /* v4 */
    assert_int_equal(uuid7_time_ms("01936d8e-7c3a-7890-b123-456789abcdef"), 0x01936d8e7c3a);
}

/* Ids made back to back sort in creation order and never repeat. */
static void test_uuid7_ordering(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char ids[N][37];
    struct err e;
    for (int i = 0; i < N; i++)
        assert_int_equal(uuid7_new(ids[i], &e), 0);
    for (int i = 1; i < N; i++) {
        if (strcmp(ids[i - 1], ids[i]) >= 0)
            fail_msg("not increasing at %d: %s then %s", i, ids[i - 1], ids[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_status_terminal),
        cmocka_unit_test(test_revoke_reasons),
        cmocka_unit_test(test_uuid7_format),
        cmocka_unit_test(test_uuid7_ordering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
