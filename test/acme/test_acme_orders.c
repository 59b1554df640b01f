/* test_acme_orders.c: orders against Pebble + challtestsrv: http-01, dns-01 (with a wildcard),
 * tls-alpn-01, an IP identifier, finalize and download, alternate chains, revocation (checked
 * through Pebble's management API), a failed challenge, a rejected identifier, the account's
 * orders list. */
#include "pebble_env.h"

struct fixture {
    struct acme_client *c;
    struct crypto_key *key;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->c = pe_account(&f->key);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    acme_client_free(f->c);
    crypto_key_free(f->key);
    free(f);
    return 0;
}

/* Issues and checks the leaf's SANs against the identifiers. */
static char *issue_check(struct fixture *f, const char *const *ids, const char *type,
                         struct crypto_key **cert_key)
{
    struct err e = { 0 };
    struct crypto_cert_info ci = { 0 };
    char **certs = NULL;
    char *pem = pe_issue(f->c, ids, type, cert_key, NULL);
    assert_non_null(pem);
    if (crypto_pem_split(pem, &certs, &e))
        fail_msg("split: %s", e.msg);
    assert_non_null(certs[1]);   /* leaf + at least the intermediate */
    if (crypto_cert_parse(certs[0], &ci, &e))
        fail_msg("parse: %s", e.msg);
    for (size_t i = 0; ids[i]; i++) {
        bool found = false;
        for (char **p = ci.dns_names; p && *p; p++)
            found |= !strcmp(*p, ids[i]);
        for (char **p = ci.ip_addrs; p && *p; p++)
            found |= !strcmp(*p, ids[i]);
        if (!found)
            fail_msg("%s not in the certificate's SANs", ids[i]);
    }
    assert_true(crypto_cert_matches_key(certs[0], *cert_key));
    crypto_cert_info_clear(&ci);
    crypto_strv_free(certs);
    return pem;
}

static void test_http01(void **state)
{
    struct crypto_key *k = NULL;
    const char *ids[] = { "http01.example.com", "www.http01.example.com", NULL };
    free(issue_check(*state, ids, "http-01", &k));
    crypto_key_free(k);
}

static void test_dns01_wildcard(void **state)
{
    struct crypto_key *k = NULL;
    const char *ids[] = { "*.wild.example.com", NULL };
    free(issue_check(*state, ids, "dns-01", &k));
    crypto_key_free(k);
}

static void test_dns01(void **state)
{
    struct crypto_key *k = NULL;
    const char *ids[] = { "dns01.example.com", NULL };
    free(issue_check(*state, ids, "dns-01", &k));
    crypto_key_free(k);
}

static void test_tlsalpn01(void **state)
{
    struct crypto_key *k = NULL;
    const char *ids[] = { "alpn.example.com", NULL };
    free(issue_check(*state, ids, "tls-alpn-01", &k));
    crypto_key_free(k);
}

static void test_ip_identifier(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct acme_order o = { 0 };
    const char *ids[] = { "127.0.0.1", NULL };
    struct acme_order_req req = { .identifiers = ids };
    struct crypto_key *k = NULL;
    PE_STEP(e, acme_new_order(f->c, &req, &o, NULL, &e));
    assert_int_equal(o.n_identifiers, 1);
    assert_int_equal(o.identifiers[0].type, ACME_IDENT_IP);
    acme_order_clear(&o);
    free(issue_check(f, ids, "http-01", &k));
    crypto_key_free(k);
}

static void test_order_fields_and_alternates(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct acme_order o = { 0 };
    struct acme_cert_chain ch = { 0 };
    struct crypto_key *k = NULL;
    char *url = NULL;
    const char *ids[] = { "alt.example.com", NULL };
    char *pem = pe_issue(f->c, ids, "http-01", &k, &url);
    /* Resuming from a stored URL: one fetch gives the final state, no retry time. */
    PE_STEP(e, acme_get_order(f->c, url, &o, NULL, &e));
    assert_int_equal(o.status, ACME_STATUS_VALID);
    assert_string_equal(o.status_str, "valid");
    assert_int_equal(o.retry_at, 0);
    assert_true(o.expires > time(NULL));
    assert_string_equal(o.identifiers[0].value, "alt.example.com");
    PE_STEP(e, acme_download_cert(f->c, o.certificate_url, &ch, NULL, &e));
    const char *alts = getenv("PEBBLE_ALTERNATE_ROOTS");
    if (alts && atoi(alts) > 0) {
        assert_non_null(ch.alternates[0]);
        struct acme_cert_chain alt = { 0 };
        PE_STEP(e, acme_download_cert(f->c, ch.alternates[0], &alt, NULL, &e));
        assert_non_null(strstr(alt.pem, "BEGIN CERTIFICATE"));
        /* Same leaf, another chain. */
        assert_memory_equal(alt.pem, ch.pem, 64);
        acme_cert_chain_clear(&alt);
    }
    acme_cert_chain_clear(&ch);
    acme_order_clear(&o);
    free(url);
    free(pem);
    crypto_key_free(k);
}

/* `want` ("Valid", "Revoked") in Pebble's cert-status-by-serial reply for this certificate. */
static void assert_pebble_status(const char *pem, const char *want)
{
    struct err e = { 0 };
    struct crypto_cert_info ci = { 0 };
    char path[256], hex[128];
    size_t n = 0;
    if (crypto_cert_parse(pem, &ci, &e))
        fail_msg("parse: %s", e.msg);
    for (const char *p = ci.serial; *p && n + 1 < sizeof hex; p++)
        if (*p != ':')
            hex[n++] = *p;
    hex[n] = '\0';
    const char *h = hex;
    while (h[0] == '0' && h[1])   /* Pebble prints the serial as a big.Int: no leading 0 */
        h++;
    snprintf(path, sizeof path, "/cert-status-by-serial/%s", h);
    char *body = pe_mgmt_get(path);
    if (!body || !strstr(body, want))
        fail_msg("pebble status for %s: want %s, got %s", hex, want, body ? body : "(none)");
    free(body);
    crypto_cert_info_clear(&ci);
}

static void test_revoke_by_account(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct acme_reply rep = { 0 };
    struct crypto_key *k = NULL;
    const char *ids[] = { "revoke1.example.com", NULL };
    char *pem = issue_check(f, ids, "http-01", &k);
    assert_pebble_status(pem, "Valid");
    PE_STEP(e, acme_revoke_cert(f->c, pem, 1, NULL, &rep, &e));
    assert_int_equal(rep.http_status, 200);
    assert_pebble_status(pem, "Revoked");
    /* Again: the CA says alreadyRevoked, an upstream error naming it. */
    PE_STEP_REFUSED(e, acme_revoke_cert(f->c, pem, 1, NULL, &rep, &e));
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_string_equal(acme_problem_name(&rep.problem), "alreadyRevoked");
    assert_non_null(strstr(e.msg, "acme: urn:ietf:params:acme:error:alreadyRevoked"));
    acme_reply_clear(&rep);
    free(pem);
    crypto_key_free(k);
}

static void test_revoke_by_cert_key(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    const char *ids[] = { "revoke2.example.com", NULL };
    char *pem = issue_check(f, ids, "http-01", &k);
    PE_STEP(e, acme_revoke_cert(f->c, pem, -1, k, NULL, &e));
    assert_pebble_status(pem, "Revoked");
    free(pem);
    crypto_key_free(k);
}

static void test_failed_challenge(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct acme_order o = { 0 };
    struct acme_authz az = { 0 };
    struct acme_challenge ch = { 0 };
    const char *ids[] = { "nothing-served.example.com", NULL };
    struct acme_order_req req = { .identifiers = ids };
    PE_STEP(e, acme_new_order(f->c, &req, &o, NULL, &e));
    PE_STEP(e, acme_get_authz(f->c, o.authorizations[0], &az, NULL, &e));
    if (az.status == ACME_STATUS_VALID)   /* authz reuse: nothing to fail */
        goto out;
    const struct acme_challenge *c = acme_authz_challenge(&az, "http-01");
    assert_non_null(c);
    /* Nothing provisioned: Pebble's check fails. */
    PE_STEP(e, acme_respond_challenge(f->c, c->url, &ch, NULL, &e));
    char *curl_ = strdup(c->url);
    for (int i = 0; i < 60 && ch.status != ACME_STATUS_INVALID; i++) {
        acme_challenge_clear(&ch);
        usleep(100000);
        PE_STEP(e, acme_get_challenge(f->c, curl_, &ch, NULL, &e));
    }
    free(curl_);
    assert_int_equal(ch.status, ACME_STATUS_INVALID);
    assert_non_null(ch.error.type);
    char buf[512];
    fprintf(stderr, "failed challenge reports: %s\n", acme_problem_format(&ch.error, buf,
                                                                          sizeof buf));
    char *ourl = strdup(o.url);
    acme_order_clear(&o);
    PE_STEP(e, acme_get_order(f->c, ourl, &o, NULL, &e));
    free(ourl);
    assert_int_equal(o.status, ACME_STATUS_INVALID);
    assert_int_equal(o.retry_at, 0);
out:
    acme_challenge_clear(&ch);
    acme_authz_clear(&az);
    acme_order_clear(&o);
}

static void test_rejected_identifier(void **state)
{
    struct fixture *f = *state;
    struct err e = { 0 };
    struct acme_reply rep = { 0 };
    struct acme_order o = { 0 };
    const char *ids[] = { "bad_name..example.com", NULL };
    struct acme_order_req req = { .identifiers = ids };
    PE_STEP_REFUSED(e, acme_new_order(f->c, &req, &o, &rep, &e));
    assert_int_equal(e.kind, ERR_UPSTREAM);
    fprintf(stderr, "rejected identifier reports: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "acme: urn:ietf:params:acme:error:"));
    assert_non_null(rep.problem.type);
    assert_int_equal(rep.http_status, 400);
    acme_reply_clear(&rep);
    /* Caller mistakes never reach the CA. */
    const char *none[] = { NULL };
    req.identifiers = none;
    assert_int_equal(acme_new_order(f->c, &req, &o, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
}

/* The account's orders list (RFC 8555 7.1.2.1), followed page by page (Pebble sends a few a
 * page with Link rel="next"): every order placed by a fresh account is listed once. */
static void test_account_orders_list(void **state)
{
    struct err e = { 0 };
    struct crypto_key *key = NULL;
    struct acme_client *c = pe_client(CRYPTO_KEY_EC256, &key);
    struct acme_account a = { 0 };
    enum { N = 7 };
    char *placed[N] = { 0 };
    int seen[N] = { 0 }, pages = 0;
    (void)state;
    PE_STEP(e, acme_new_account(c, NULL, true, NULL, &a, NULL, &e));
    assert_non_null(a.orders_url);
    for (int i = 0; i < N; i++) {
        char name[64];
        const char *ids[] = { name, NULL };
        struct acme_order_req rq = { .identifiers = ids };
        struct acme_order o = { 0 };
        snprintf(name, sizeof name, "list%d.orders.example.com", i);
        PE_STEP(e, acme_new_order(c, &rq, &o, NULL, &e));
        placed[i] = strdup(o.url);
        acme_order_clear(&o);
    }
    char *page = strdup(a.orders_url);
    while (page && pages < 20) {
        char **urls = NULL, *next = NULL;
        PE_STEP(e, acme_account_orders(c, page, &urls, &next, NULL, &e));
        assert_non_null(urls);
        pages++;
        for (size_t i = 0; urls[i]; i++)
            for (int k = 0; k < N; k++)
                if (!strcmp(urls[i], placed[k]))
                    seen[k]++;
        for (size_t i = 0; urls[i]; i++)
            free(urls[i]);
        free(urls);
        free(page);
        page = next;
    }
    assert_null(page);
    for (int k = 0; k < N; k++) {
        if (seen[k] != 1)
            fail_msg("order %s listed %d times", placed[k], seen[k]);
        free(placed[k]);
    }
    print_message("orders list: %d orders on %d pages\n", N, pages);
    assert_true(pages > 1);   /* the Link rel="next" paging was followed */
    /* A URL that is not an orders list is an error, not an empty list. */
    char **urls = NULL, *next = NULL;
    assert_int_equal(acme_account_orders(c, a.url, &urls, &next, NULL, &e), -1);
    assert_null(urls);
    acme_account_clear(&a);
    acme_client_free(c);
    crypto_key_free(key);
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http01),
        cmocka_unit_test(test_dns01),
        cmocka_unit_test(test_dns01_wildcard),
        cmocka_unit_test(test_tlsalpn01),
        cmocka_unit_test(test_ip_identifier),
        cmocka_unit_test(test_order_fields_and_alternates),
        cmocka_unit_test(test_revoke_by_account),
        cmocka_unit_test(test_revoke_by_cert_key),
        cmocka_unit_test(test_failed_challenge),
        cmocka_unit_test(test_rejected_identifier),
        cmocka_unit_test(test_account_orders_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
