/* test_acme_eab.c: external account binding against a Pebble that requires it (run.sh starts
 * it with PEBBLE_EAB=1): without EAB a clear error, with a wrong key a refusal, with the
 * right one an account. */
#include "pebble_env.h"

static void test_eab(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    struct acme_account a = { 0 };
    struct acme_reply rep = { 0 };
    const char *contacts[] = { "mailto:test@example.com", NULL };
    struct acme_client *c = pe_client(CRYPTO_KEY_EC256, &k);

    PE_STEP(e, acme_get_directory(c, false, &d, NULL, &e));
    assert_true(d.external_account_required);
    acme_directory_clear(&d);

    /* No binding. */
    PE_STEP_REFUSED(e, acme_new_account(c, contacts, true, NULL, &a, &rep, &e));
    fprintf(stderr, "without EAB: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_string_equal(acme_problem_name(&rep.problem), "externalAccountRequired");
    assert_non_null(strstr(e.msg, "acme: urn:ietf:params:acme:error:externalAccountRequired"));

    /* A wrong HMAC key. */
    struct acme_eab bad = { .kid = pe_env("PEBBLE_EAB_KID"),
                            .hmac_key_b64url = "c2VjcmV0LWJ1dC13cm9uZy1rZXktMDEyMzQ1Njc4OWFi" };
    PE_STEP_REFUSED(e, acme_new_account(c, contacts, true, &bad, &a, &rep, &e));
    fprintf(stderr, "wrong EAB key: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_non_null(rep.problem.type);

    /* Caller mistakes: no kid, bad alg, not base64url. */
    struct acme_eab nokid = { .hmac_key_b64url = "abc" };
    assert_int_equal(acme_new_account(c, contacts, true, &nokid, &a, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    struct acme_eab badalg = { .kid = "k", .hmac_key_b64url = "abc", .alg = "RS256" };
    assert_int_equal(acme_new_account(c, contacts, true, &badalg, &a, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    struct acme_eab badkey = { .kid = "k", .hmac_key_b64url = "not base64!" };
    assert_int_equal(acme_new_account(c, contacts, true, &badkey, &a, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);

    /* The right binding. */
    struct acme_eab good = { .kid = pe_env("PEBBLE_EAB_KID"),
                             .hmac_key_b64url = pe_env("PEBBLE_EAB_HMAC_KEY"), .alg = "HS256" };
    PE_STEP(e, acme_new_account(c, contacts, true, &good, &a, &rep, &e));
    assert_true(a.created);
    assert_int_equal(a.status, ACME_STATUS_VALID);
    acme_account_clear(&a);

    /* And the account issues. */
    struct crypto_key *ck = NULL;
    const char *ids[] = { "eab.example.com", NULL };
    free(pe_issue(c, ids, "http-01", &ck, NULL));
    crypto_key_free(ck);

    acme_reply_clear(&rep);
    acme_client_free(c);
    crypto_key_free(k);
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    pe_env("PEBBLE_EAB_KID");
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_eab) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
