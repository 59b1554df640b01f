/* test_acme_ari.c: features of a newer Pebble (run.sh starts v2.10.x with PEBBLE_NEW=1):
 * directory meta (profiles, caaIdentities, renewalInfo), an order with a profile, ACME
 * Renewal Information (RFC 9773) for the issued certificate, a renewal order with
 * "replaces", and Retry-After on polls surfacing as retry_at. */
#include "pebble_env.h"

static void test_ari_profiles(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL, *ck = NULL;
    struct acme_directory d = { 0 };
    struct acme_order o = { 0 };
    struct acme_reply rep = { 0 };
    struct acme_renewal_info ri = { 0 };
    struct crypto_cert_info ci = { 0 };
    char **certs = NULL;
    struct acme_client *c = pe_account(&k);

    PE_STEP(e, acme_get_directory(c, false, &d, NULL, &e));
    assert_non_null(d.renewal_info);
    assert_string_equal(d.caa_identities[0], "pebble.letsencrypt.org");
    bool have_short = false;
    for (size_t i = 0; d.profile_names[i]; i++) {
        assert_non_null(d.profile_descriptions[i]);
        have_short |= !strcmp(d.profile_names[i], "shortlived");
    }
    assert_true(have_short);
    acme_directory_clear(&d);

    /* An order with a profile: echoed back, and the certificate is short-lived. */
    const char *ids[] = { "ari.example.com", NULL };
    struct acme_order_req req = { .identifiers = ids, .profile = "shortlived" };
    PE_STEP(e, acme_new_order(c, &req, &o, &rep, &e));
    assert_string_equal(o.profile, "shortlived");
    acme_order_clear(&o);
    char *pem = pe_issue_req(c, &req, "http-01", &ck, NULL);
    assert_int_equal(crypto_pem_split(pem, &certs, &e), 0);
    assert_int_equal(crypto_cert_parse(certs[0], &ci, &e), 0);
    assert_true(ci.not_after - ci.not_before <= 518400 + 60);

    /* ARI: a window inside the certificate's life. */
    char *id = acme_ari_cert_id(certs[0], &e);
    assert_non_null(id);
    fprintf(stderr, "ari cert id %s\n", id);
    PE_STEP(e, acme_get_renewal_info(c, certs[0], &ri, &rep, &e));
    fprintf(stderr, "ari window %lld..%lld, cert %lld..%lld, retry_at %lld\n",
            (long long)ri.window_start, (long long)ri.window_end, (long long)ci.not_before,
            (long long)ci.not_after, (long long)ri.retry_at);
    assert_true(ri.window_start < ri.window_end);
    assert_true(ri.window_start >= ci.not_before && ri.window_end <= ci.not_after);

    /* The renewal names the certificate it replaces. */
    struct acme_order_req renew = { .identifiers = ids, .replaces = id };
    PE_STEP(e, acme_new_order(c, &renew, &o, NULL, &e));
    assert_true(o.status == ACME_STATUS_PENDING || o.status == ACME_STATUS_READY);
    if (o.replaces)
        assert_string_equal(o.replaces, id);

    /* Retry-After on a poll (Pebble configured to send 1 s). */
    char *url = strdup(o.authorizations[0]);
    struct acme_authz az = { 0 };
    PE_STEP(e, acme_get_authz(c, url, &az, &rep, &e));
    fprintf(stderr, "authz poll: status %s, Retry-After -> %lld, retry_at %lld (now %lld)\n",
            az.status_str, (long long)rep.retry_at, (long long)az.retry_at,
            (long long)time(NULL));
    if (az.status == ACME_STATUS_PENDING)
        assert_true(az.retry_at >= time(NULL));

    acme_authz_clear(&az);
    free(url);
    acme_order_clear(&o);
    acme_renewal_info_clear(&ri);
    acme_reply_clear(&rep);
    crypto_cert_info_clear(&ci);
    crypto_strv_free(certs);
    free(id);
    free(pem);
    crypto_key_free(ck);
    acme_client_free(c);
    crypto_key_free(k);
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_ari_profiles) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
