/* pebble_env.h: shared by the Pebble-backed tests in test/acme/ (each test is one program,
 * so the helpers are static). The environment comes from test/lib/pebble.sh, run by
 * test/acme/run.sh. The step driver below plays the engine's part: it runs one API step at a
 * time and, like the engine, runs a step again when it returns ERR_RETRY. */
#ifndef PKIEXT_TEST_PEBBLE_ENV_H
#define PKIEXT_TEST_PEBBLE_ENV_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "acme.h"
#include "crypto.h"
#include "log.h"

static inline char *pe_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = calloc(1, (size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static inline const char *pe_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run this test through test/acme/run.sh, which starts "
                "Debian's pebble and pebble-challtestsrv (apt-get install pebble)\n", name);
        exit(1);
    }
    return v;
}

static inline double pe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A new client on Pebble with a fresh key (*key_out owns it). */
static inline struct acme_client *pe_client(enum crypto_key_type kt, struct crypto_key **key_out)
{
    struct err e = { 0 };
    struct crypto_key *key = NULL;
    struct acme_client *c = NULL;
    char *ca = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    assert_non_null(ca);
    if (crypto_key_generate(kt, &key, &e))
        fail_msg("key: %s", e.msg);
    struct acme_client_opts o = { .directory_url = pe_env("PEBBLE_DIR_URL"),
                                  .account_key = key, .trusted_ca_pem = ca,
                                  .timeout_ms = 15000 };
    if (acme_client_new(&o, &c, &e))
        fail_msg("client: %s", e.msg);
    free(ca);
    *key_out = key;
    return c;
}

/* POST JSON to challtestsrv's management API. */
static inline void pe_cts(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void pe_cts(const char *path, const char *fmt, ...)
{
    char url[256], body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(url, sizeof url, "%s%s", pe_env("CHALLTESTSRV_URL"), path);
    CURL *h = curl_easy_init();
    long code = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || code != 200)
        fail_msg("challtestsrv %s: curl %d, HTTP %ld", path, rc, code);
}

static inline size_t pe_collect(char *d, size_t s, size_t n, void *arg)
{
    char **buf = arg;
    size_t old = *buf ? strlen(*buf) : 0;
    char *nb = realloc(*buf, old + s * n + 1);
    if (!nb)
        return 0;
    memcpy(nb + old, d, s * n);
    nb[old + s * n] = '\0';
    *buf = nb;
    return s * n;
}

/* GET on Pebble's management API (HTTPS, same CA as the WFE). New string or NULL. */
static inline char *pe_mgmt_get(const char *path)
{
    char url[512];
    char *out = NULL;
    snprintf(url, sizeof url, "%s%s", pe_env("PEBBLE_MGMT_URL"), path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, pe_env("PEBBLE_CA_PEM"));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pe_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (curl_easy_perform(h) != CURLE_OK) {
        free(out);
        out = NULL;
    }
    curl_easy_cleanup(h);
    return out;
}

/* The retry policy the tests share with the engine: a step that fails with ERR_RETRY (a
 * badNonce streak longer than the client's re-sends, a timeout) is run again, at most 6
 * times in all, as the order worker would; rc gets the last result. Macros, because the
 * step is an expression evaluated afresh each time. */
#define PE_RETRYING(e, rc, call)                                                          \
    do {                                                                                  \
        int pe_try_ = 0;                                                                  \
        do {                                                                              \
            err_clear(&(e));                                                              \
            (rc) = (call);                                                                \
        } while ((rc) && (e).kind == ERR_RETRY && ++pe_try_ < 6 &&                        \
                 fprintf(stderr, "step retried (ERR_RETRY): %s\n", (e).msg) > 0);       \
    } while (0)

/* A step that must succeed. */
#define PE_STEP(e, call)                                                                  \
    do {                                                                                  \
        int pe_rc_;                                                                       \
        PE_RETRYING(e, pe_rc_, call);                                                     \
        if (pe_rc_)                                                                       \
            fail_msg("%s: %s (kind %d)", #call, (e).msg, (e).kind);                      \
    } while (0)

/* A step the CA must refuse, retried the same way: under PEBBLE_WFE_NONCEREJECT a run of
 * rejected nonces is not the refusal under test, so the assertion never depends on nonce
 * luck. Afterwards e holds the refusal (not ERR_RETRY), for the caller to check. */
#define PE_STEP_REFUSED(e, call)                                                          \
    do {                                                                                  \
        int pe_rc_;                                                                       \
        PE_RETRYING(e, pe_rc_, call);                                                     \
        if (!pe_rc_)                                                                      \
            fail_msg("%s: succeeded; the CA should have refused it", #call);             \
        if ((e).kind == ERR_RETRY)                                                        \
            fail_msg("%s: still retryable after 6 tries: %s", #call, (e).msg);          \
    } while (0)

/* Provisions the challenge `type` for one authorization through challtestsrv. */
static inline void pe_provision(struct acme_client *c, const struct acme_authz *az,
                         const struct acme_challenge *ch)
{
    struct err e = { 0 };
    char *ka = acme_key_authorization(c, ch->token, &e);
    assert_non_null(ka);
    if (!strcmp(ch->type, "http-01")) {
        pe_cts("/add-http01", "{\"token\":\"%s\",\"content\":\"%s\"}", ch->token, ka);
    } else if (!strcmp(ch->type, "dns-01")) {
        char *name = acme_dns01_record_name(az->identifier.value);
        char *v = acme_dns01_txt_value(c, ch->token, &e);
        assert_non_null(v);
        pe_cts("/set-txt", "{\"host\":\"%s.\",\"value\":\"%s\"}", name, v);
        free(name);
        free(v);
    } else if (!strcmp(ch->type, "tls-alpn-01")) {
        pe_cts("/add-tlsalpn01", "{\"host\":\"%s\",\"content\":\"%s\"}",
               az->identifier.value, ka);
    } else {
        fail_msg("unknown challenge type %s", ch->type);
    }
    free(ka);
}

/* Walks one order from newOrder to a downloaded chain with challenge `type`; returns the PEM
 * chain (caller frees) and the certificate's key in *cert_key. Every step is one API call;
 * polling sleeps here, in the test, until the retry_at the library returned. */
static inline char *pe_issue_req(struct acme_client *c, const struct acme_order_req *rq,
                                 const char *type, struct crypto_key **cert_key,
                                 char **order_url)
{
    struct err e = { 0 };
    struct acme_order o = { 0 };
    struct acme_order_req req = *rq;
    const char *const *ids = rq->identifiers;
    struct acme_cert_chain chain = { 0 };
    char *csr = NULL, *pem = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0, n = 0;

    PE_STEP(e, acme_new_order(c, &req, &o, NULL, &e));
    assert_true(o.status == ACME_STATUS_PENDING || o.status == ACME_STATUS_READY);
    for (size_t i = 0; i < o.n_authorizations; i++) {
        struct acme_authz az = { 0 };
        PE_STEP(e, acme_get_authz(c, o.authorizations[i], &az, NULL, &e));
        if (az.status == ACME_STATUS_PENDING) {
            const struct acme_challenge *ch = acme_authz_challenge(&az, type);
            if (!ch)
                fail_msg("authz %s offers no %s", az.identifier.value, type);
            pe_provision(c, &az, ch);
            struct acme_challenge resp = { 0 };
            PE_STEP(e, acme_respond_challenge(c, ch->url, &resp, NULL, &e));
            acme_challenge_clear(&resp);
            /* Poll every 50 ms: retry_at has one-second resolution, too coarse here. */
            for (int k = 0; k < 100 && az.status == ACME_STATUS_PENDING; k++) {
                char *url = strdup(az.url);
                acme_authz_clear(&az);
                usleep(50000);
                PE_STEP(e, acme_get_authz(c, url, &az, NULL, &e));
                free(url);
            }
        }
        if (az.status != ACME_STATUS_VALID) {
            const struct acme_challenge *ch = acme_authz_challenge(&az, type);
            char buf[512];
            fail_msg("authz %s: %s %s", az.identifier.value, az.status_str,
                     ch ? acme_problem_format(&ch->error, buf, sizeof buf) : "");
        }
        acme_authz_clear(&az);
    }
    char *url = strdup(o.url);
    for (int k = 0; k < 60 && o.status == ACME_STATUS_PENDING; k++) {
        acme_order_clear(&o);
        usleep(50000);
        PE_STEP(e, acme_get_order(c, url, &o, NULL, &e));
    }
    assert_int_equal(o.status, ACME_STATUS_READY);

    while (ids[n])
        n++;
    if (crypto_key_generate(CRYPTO_KEY_EC256, cert_key, &e) ||
        crypto_csr_build(*cert_key, ids, n, CRYPTO_CSR_CN_FIRST, &csr, &e) ||
        crypto_csr_pem_to_der(csr, &der, &der_len, &e))
        fail_msg("csr: %s", e.msg);
    char *fin = strdup(o.finalize_url);
    acme_order_clear(&o);
    PE_STEP(e, acme_finalize(c, fin, der, der_len, &o, NULL, &e));
    for (int k = 0; k < 60 && o.status == ACME_STATUS_PROCESSING; k++) {
        acme_order_clear(&o);
        usleep(50000);
        PE_STEP(e, acme_get_order(c, url, &o, NULL, &e));
    }
    assert_int_equal(o.status, ACME_STATUS_VALID);
    assert_non_null(o.certificate_url);
    PE_STEP(e, acme_download_cert(c, o.certificate_url, &chain, NULL, &e));
    pem = chain.pem;
    chain.pem = NULL;
    acme_cert_chain_clear(&chain);
    acme_order_clear(&o);
    free(fin);
    free(csr);
    free(der);
    if (order_url)
        *order_url = url;
    else
        free(url);
    return pem;
}

static inline char *pe_issue(struct acme_client *c, const char *const *ids, const char *type,
                             struct crypto_key **cert_key, char **order_url)
{
    struct acme_order_req req = { .identifiers = ids };
    return pe_issue_req(c, &req, type, cert_key, order_url);
}

/* A client with a registered account. */
static inline struct acme_client *pe_account(struct crypto_key **key_out)
{
    struct err e = { 0 };
    struct acme_account a = { 0 };
    struct acme_client *c = pe_client(CRYPTO_KEY_EC256, key_out);
    const char *contacts[] = { "mailto:test@example.com", NULL };
    PE_STEP(e, acme_new_account(c, contacts, true, NULL, &a, NULL, &e));
    acme_account_clear(&a);
    return c;
}

#endif
