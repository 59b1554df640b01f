/* test_engine_clients.c: the ACME client cache is the mount's (order_client.c): two mounts
 * with an account of the same name keep their own clients, a hit reads no storage,
 * InvalidateKey and an account write drop the entry, the cache is bounded, and a holder keeps its client past a drop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"
#include "memstore.h"

/* Stores account/<name> with a fresh key at directory `dir`. */
static void put_account(struct fw_storage *s, const char *name, const char *dir)
{
    struct crypto_key *k = NULL;
    char *pem = NULL, key[200];
    struct err e;
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    assert_int_equal(crypto_key_to_pem(k, &pem, &e), 0);
    cJSON *a = cJSON_CreateObject(), *keys = cJSON_AddObjectToObject(a, "keys");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(keys, "0"), "private_key", pem);
    cJSON_AddStringToObject(a, "directory_url", dir);
    cJSON_AddStringToObject(a, "account_url", "http://127.0.0.1:9/acct/1");
    cJSON_AddNumberToObject(a, "active_key_version", 0);
    snprintf(key, sizeof key, "account/%s", name);
    assert_int_equal(fw_storage_put_json(s, key, a, true, &e), 0);
    cJSON_Delete(a);
    free(pem);
    crypto_key_free(k);
}

static struct engine *mount(struct fw_storage *s)
{
    struct fw_env env = { .storage = s };
    struct err e;
    struct engine *eng = engine_new(&env, &e);
    assert_non_null(eng);
    return eng;
}

static struct order_client *get(struct engine *eng, const char *account)
{
    struct order_client *c = NULL;
    struct err e;
    assert_int_equal(order_client_get(eng, eng->env.storage, account, &c, &e), 0);
    assert_non_null(order_client_acme(c));
    return c;
}

static void test_per_mount(void **state)
{
    (void)state;
    struct fw_storage *sa = memstore_new(), *sb = memstore_new();
    struct engine *a = mount(sa), *b = mount(sb);
    put_account(sa, "acct", "http://127.0.0.1:1/dir");
    put_account(sb, "acct", "http://127.0.0.1:2/dir");
    struct order_client *ca = get(a, "acct");
    struct order_client *cb = get(b, "acct");
    assert_ptr_not_equal(ca, cb);
    order_client_put(a->clients, ca);
    order_client_put(b->clients, cb);
    /* Each mount kept its own: the other's use did not evict it. */
    struct order_client *ca2 = get(a, "acct");
    assert_ptr_equal(ca2, ca);
    order_client_put(a->clients, ca2);
    assert_int_equal(order_clients_count(a->clients), 1);
    assert_int_equal(order_clients_count(b->clients), 1);

    /* InvalidateKey for the account drops it; other keys do not. */
    engine_invalidate(a, "role/acct");
    assert_int_equal(order_clients_count(a->clients), 1);
    engine_invalidate(a, "account/acct");
    assert_int_equal(order_clients_count(a->clients), 0);
    assert_int_equal(order_clients_count(b->clients), 1);

    /* A holder keeps its client across a drop; the last put frees it (ASan: no leak). */
    struct order_client *held = get(b, "acct");
    order_clients_drop(b->clients, "acct");
    assert_int_equal(order_clients_count(b->clients), 0);
    assert_non_null(order_client_acme(held));
    order_client_put(b->clients, held);

    engine_free(a);
    engine_free(b);
    memstore_free(sa);
    memstore_free(sb);
}

/* A hit reads no storage; a write elsewhere (InvalidateKey) makes the next get read the new
 * account; a client read across a drop serves its caller but is not kept. */
static void test_hit_and_invalidation(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = mount(s);
    struct err e;
    put_account(s, "acct", "http://127.0.0.1:1/dir");
    struct order_client *c1 = get(eng, "acct");
    order_client_put(eng->clients, c1);
    memstore_fail_next(s, 1);   /* a storage read now would fail the get */
    struct order_client *c2 = get(eng, "acct");
    assert_ptr_equal(c1, c2);
    order_client_put(eng->clients, c2);
    memstore_fail_next(s, 0);

    put_account(s, "acct", "http://127.0.0.1:1/dir");   /* a new key, written elsewhere */
    engine_invalidate(eng, "account/acct");
    assert_int_equal(order_clients_count(eng->clients), 0);
    memstore_fail_next(s, 1);   /* the next get must read the account: it fails here */
    struct order_client *c3 = NULL;
    assert_int_equal(order_client_get(eng, s, "acct", &c3, &e), -1);
    assert_null(c3);
    memstore_fail_next(s, 0);
    c3 = get(eng, "acct");
    assert_int_equal(order_clients_count(eng->clients), 1);
    order_client_put(eng->clients, c3);

    /* A miss whose account is gone: an error naming it, nothing cached. */
    assert_int_equal(order_client_get(eng, s, "nobody", &c1, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_null(c1);
    assert_int_equal(order_clients_count(eng->clients), 1);
    engine_free(eng);
    memstore_free(s);
}

static void test_bounded(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = mount(s);
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "acct-%d", i);
        put_account(s, name, "http://127.0.0.1:1/dir");
        order_client_put(eng->clients, get(eng, name));
    }
    assert_true(order_clients_count(eng->clients) <= 32);
    assert_true(order_clients_count(eng->clients) >= 16);
    engine_free(eng);
    memstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_mount),
        cmocka_unit_test(test_hit_and_invalidation),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
