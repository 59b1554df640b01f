/* test_dns_token.c: the mount's bearer-token cache (src/dns/token.c): a token is reused
 * while fresh, fetched again once past its margin, never used for a changed configuration,
 * forgotten on drop, not kept without a cache, and fetched once for many threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <cmocka.h>

#include "../../src/dns/internal.h"

struct counter {
    atomic_int fetches;
    int64_t lifetime_s;
    long delay_ms;
    bool fail;
};

static int fetch(const struct dns_ctx *ctx, const cJSON *cfg, void *arg, char **token,
                 int64_t *lifetime_s, struct err *e)
{
    struct counter *c = arg;
    int n = atomic_fetch_add(&c->fetches, 1) + 1;
    if (c->delay_ms) {
        struct timespec ts = { c->delay_ms / 1000, (c->delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (c->fail)
        return err_set(e, ERR_UPSTREAM, "login refused");
    char buf[64];
    snprintf(buf, sizeof buf, "token-%d", n);
    *token = strdup(buf);
    *lifetime_s = c->lifetime_s;
    return 0;
}

static cJSON *config(const char *name, const char *secret)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "azure-dns");
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddStringToObject(j, "client_secret", secret);
    return j;
}

static void get(const struct dns_ctx *ctx, const cJSON *cfg, struct counter *c,
                const char *want)
{
    char *t = NULL;
    struct err e;
    assert_int_equal(dns_token_get(ctx, cfg, "arm", fetch, c, &t, &e), 0);
    assert_string_equal(t, want);
    dns_secret_free(t);
}

static void test_reuse_change_drop(void **state)
{
    struct dns_ctx ctx = { .tokens = dns_token_cache_new() };
    struct counter c = { .lifetime_s = 3600 };
    cJSON *a = config("a", "s1"), *a2 = config("a", "s2"), *b = config("b", "s1");
    assert_non_null(ctx.tokens);
    get(&ctx, a, &c, "token-1");
    get(&ctx, a, &c, "token-1");            /* fresh: reused */
    get(&ctx, b, &c, "token-2");            /* another configuration */
    get(&ctx, a2, &c, "token-3");           /* a rewritten: the old token is not used */
    get(&ctx, a, &c, "token-4");            /* ... nor is the newer one for the old document */
    dns_token_cache_drop(ctx.tokens, "azure-dns", "a");
    get(&ctx, a, &c, "token-5");
    get(&ctx, b, &c, "token-2");            /* untouched by the drop */
    dns_token_forget(&ctx, b, "arm");
    get(&ctx, b, &c, "token-6");
    assert_int_equal(atomic_load(&c.fetches), 6);
    cJSON_Delete(a);
    cJSON_Delete(a2);
    cJSON_Delete(b);
    dns_token_cache_free(ctx.tokens);
}

static void test_expiry_and_failure(void **state)
{
    struct dns_ctx ctx = { .tokens = dns_token_cache_new() };
    struct counter c = { .lifetime_s = 0 };
    cJSON *a = config("a", "s1");
    get(&ctx, a, &c, "token-1");            /* no lifetime: not kept */
    get(&ctx, a, &c, "token-2");
    c.lifetime_s = 1;                       /* a fifth of 1 s rounds to no margin */
    get(&ctx, a, &c, "token-3");
    get(&ctx, a, &c, "token-3");
    struct timespec ts = { 1, 100 * 1000000L };
    nanosleep(&ts, NULL);
    get(&ctx, a, &c, "token-4");            /* expired: fetched again */
    dns_token_cache_drop(ctx.tokens, "azure-dns", "a");
    c.fail = true;
    char *t = NULL;
    struct err e;
    assert_int_equal(dns_token_get(&ctx, a, "arm", fetch, &c, &t, &e), -1);
    assert_null(t);
    assert_string_equal(e.msg, "login refused");
    c.fail = false;
    get(&ctx, a, &c, "token-6");            /* a failure is not cached */
    struct dns_ctx none = { 0 };
    c.lifetime_s = 3600;
    get(&none, a, &c, "token-7");           /* no cache: every call fetches */
    get(&none, a, &c, "token-8");
    cJSON_Delete(a);
    dns_token_cache_free(ctx.tokens);
    dns_token_cache_free(NULL);
    dns_token_cache_drop(NULL, "x", "y");
}

struct thread_arg {
    struct dns_ctx *ctx;
    cJSON *cfg;
    struct counter *c;
    int rc;
    char token[64];
};

static void *one(void *p)
{
    struct thread_arg *a = p;
    char *t = NULL;
    struct err e;
    a->rc = dns_token_get(a->ctx, a->cfg, "arm", fetch, a->c, &t, &e);
    snprintf(a->token, sizeof a->token, "%s", t ? t : "");
    dns_secret_free(t);
    return NULL;
}

static void test_one_fetch_for_many(void **state)
{
    struct dns_ctx ctx = { .tokens = dns_token_cache_new() };
    struct counter c = { .lifetime_s = 3600, .delay_ms = 100 };
    cJSON *a = config("a", "s1");
    enum { N = 8 };
    pthread_t th[N];
    struct thread_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct thread_arg){ .ctx = &ctx, .cfg = a, .c = &c };
        assert_int_equal(pthread_create(&th[i], NULL, one, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].rc, 0);
        assert_string_equal(args[i].token, "token-1");
    }
    assert_int_equal(atomic_load(&c.fetches), 1);
    cJSON_Delete(a);
    dns_token_cache_free(ctx.tokens);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_change_drop),
        cmocka_unit_test(test_expiry_and_failure),
        cmocka_unit_test(test_one_fetch_for_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
