/* test_acme_account.c: directory and account lifecycle against Pebble: create, create again,
 * lookup (import), contact update, keyChange rollover, deactivation; concurrent calls on one
 * client. */
#include <pthread.h>

#include "pebble_env.h"

static void test_directory(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    struct acme_client *c = pe_client(CRYPTO_KEY_EC256, &k);
    PE_STEP(e, acme_get_directory(c, false, &d, NULL, &e));
    assert_non_null(d.new_order);
    assert_non_null(d.key_change);
    assert_non_null(d.terms_of_service);
    assert_false(d.external_account_required);
    assert_null(d.caa_identities[0]);
    assert_null(d.profile_names[0]);
    if (!d.renewal_info) {   /* Debian's Pebble 2.4: no ARI, which is not an error to act on */
        struct acme_renewal_info ri = { 0 };
        assert_int_equal(acme_get_renewal_info(c, "unused", &ri, NULL, &e), -1);
        assert_int_equal(e.kind, ERR_NOT_FOUND);
    }
    acme_directory_clear(&d);
    /* Cached copy, then a forced re-fetch. */
    PE_STEP(e, acme_get_directory(c, false, &d, NULL, &e));
    assert_non_null(d.new_nonce);
    acme_directory_clear(&d);
    PE_STEP(e, acme_get_directory(c, true, &d, NULL, &e));
    assert_non_null(d.new_nonce);
    acme_directory_clear(&d);
    acme_client_free(c);
    crypto_key_free(k);
}

static void test_lifecycle(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL, *k2 = NULL, *other = NULL;
    struct acme_account a = { 0 };
    struct acme_reply rep = { 0 };
    const char *contacts[] = { "test@example.com", NULL };
    const char *contacts2[] = { "mailto:admin@example.com", NULL };
    struct acme_client *c = pe_client(CRYPTO_KEY_EC256, &k), *c2 = NULL;

    /* Create. */
    PE_STEP(e, acme_new_account(c, contacts, true, NULL, &a, &rep, &e));
    assert_true(a.created);
    assert_int_equal(rep.http_status, 201);
    assert_int_equal(a.status, ACME_STATUS_VALID);
    assert_string_equal(a.contacts[0], "mailto:test@example.com");
    char *url = strdup(a.url);
    char *kid = acme_client_account_url(c);
    assert_string_equal(kid, url);
    free(kid);
    acme_account_clear(&a);

    /* Create again with the same key: the existing account. */
    PE_STEP(e, acme_new_account(c, contacts, true, NULL, &a, NULL, &e));
    assert_false(a.created);
    assert_string_equal(a.url, url);
    acme_account_clear(&a);

    /* Import: a new client with the same key and no URL finds it. */
    struct acme_client_opts o = { .directory_url = pe_env("PEBBLE_DIR_URL"),
                                  .account_key = k,
                                  .trusted_ca_pem = pe_read_file(pe_env("PEBBLE_CA_PEM")) };
    assert_int_equal(acme_client_new(&o, &c2, &e), 0);
    free((char *)o.trusted_ca_pem);
    PE_STEP(e, acme_lookup_account(c2, &a, NULL, &e));
    assert_string_equal(a.url, url);
    acme_account_clear(&a);
    acme_client_free(c2);

    /* Update contacts. */
    PE_STEP(e, acme_update_account(c, contacts2, &a, NULL, &e));
    assert_string_equal(a.contacts[0], "mailto:admin@example.com");
    assert_null(a.contacts[1]);
    acme_account_clear(&a);
    PE_STEP(e, acme_get_account(c, &a, NULL, &e));
    assert_string_equal(a.contacts[0], "mailto:admin@example.com");
    acme_account_clear(&a);

    /* Bad input never reaches the CA. */
    const char *bad[] = { "not an address", NULL };
    assert_int_equal(acme_update_account(c, bad, &a, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);

    /* Key rollover to an RSA key: the account follows the new key. */
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA2048, &k2, &e), 0);
    PE_STEP(e, acme_key_change(c, k2, NULL, &e));
    PE_STEP(e, acme_get_account(c, &a, NULL, &e));
    assert_int_equal(a.status, ACME_STATUS_VALID);
    acme_account_clear(&a);
    o.account_key = k2;
    o.trusted_ca_pem = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    assert_int_equal(acme_client_new(&o, &c2, &e), 0);
    PE_STEP(e, acme_lookup_account(c2, &a, NULL, &e));
    assert_string_equal(a.url, url);
    acme_account_clear(&a);
    acme_client_free(c2);
    /* The old key has no account any more: ERR_NOT_FOUND, as for a never-used key. */
    o.account_key = k;
    assert_int_equal(acme_client_new(&o, &c2, &e), 0);
    PE_STEP_REFUSED(e, acme_lookup_account(c2, &a, NULL, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    acme_client_free(c2);
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC384, &other, &e), 0);
    o.account_key = other;
    assert_int_equal(acme_client_new(&o, &c2, &e), 0);
    PE_STEP_REFUSED(e, acme_lookup_account(c2, &a, &rep, &e));
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_string_equal(acme_problem_name(&rep.problem), "accountDoesNotExist");
    acme_client_free(c2);
    free((char *)o.trusted_ca_pem);

    /* Deactivate; afterwards the CA refuses the account. */
    PE_STEP(e, acme_deactivate_account(c, &a, NULL, &e));
    assert_int_equal(a.status, ACME_STATUS_DEACTIVATED);
    acme_account_clear(&a);
    const char *ids[] = { "after-deactivation.example.com", NULL };
    struct acme_order_req req = { .identifiers = ids };
    struct acme_order ord = { 0 };
    PE_STEP_REFUSED(e, acme_new_order(c, &req, &ord, &rep, &e));
    assert_int_equal(e.kind, ERR_UPSTREAM);
    fprintf(stderr, "order on a deactivated account: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "acme: urn:ietf:params:acme:error:"));

    acme_reply_clear(&rep);
    free(url);
    acme_client_free(c);
    crypto_key_free(k);
    crypto_key_free(k2);
    crypto_key_free(other);
}

struct worker {
    struct acme_client *c;
    int ok;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct err e = { 0 };
    for (int i = 0; i < 5; i++) {
        struct acme_account a = { 0 };
        struct acme_order o = { 0 };
        char name[64];
        snprintf(name, sizeof name, "t%p-%d.example.com", (void *)w, i);
        const char *ids[] = { name, NULL };
        struct acme_order_req req = { .identifiers = ids };
        if (acme_get_account(w->c, &a, NULL, &e) == 0 && a.status == ACME_STATUS_VALID &&
            acme_new_order(w->c, &req, &o, NULL, &e) == 0 && o.n_authorizations == 1)
            w->ok++;
        else
            fprintf(stderr, "thread call failed: %s\n", e.msg);
        acme_account_clear(&a);
        acme_order_clear(&o);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct crypto_key *k = NULL;
    struct acme_client *c = pe_account(&k);
    struct worker w[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (struct worker){ .c = c };
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 5);
    }
    acme_client_free(c);
    crypto_key_free(k);
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
