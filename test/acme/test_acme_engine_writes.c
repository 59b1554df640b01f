/* test_acme_engine_writes.c: the engine's account handlers against Pebble on a storage that
 * refuses writes (issue 9 item 8: an HA standby's read-only storage; issue 12 item 4: a
 * write that fails after the CA accepted a key change). Drives engine_backend through
 * fw_handle_request with the in-memory storage of test/lib, and asks Pebble itself
 * (newAccount onlyReturnExisting) which key it holds for the account. */
#include <cJSON.h>

#include "engine.h"
#include "fw.h"
#include "memstore.h"
#include "pebble_env.h"

static int repl_state;   /* what the stub SystemView answers */

static int sv_repl(void *ctx, uint32_t *state, struct err *e)
{
    *state = (uint32_t)repl_state;
    return 0;
}

static struct fw_sysview sysview = { .replication_state = sv_repl };

struct env {
    struct fw_storage *s;
    void *eng;
    char *ca;
};

static int setup(void **state)
{
    static struct env env;
    struct err e = { 0 };
    env.s = memstore_new();
    env.ca = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    assert_non_null(env.s);
    assert_non_null(env.ca);
    struct fw_env fe = { .storage = env.s, .sysview = &sysview, .backend_uuid = "u-1" };
    env.eng = engine_backend.setup(&fe, &e);
    if (!env.eng)
        fail_msg("setup: %s", e.msg);
    repl_state = 0;
    *state = &env;
    return 0;
}

static int teardown(void **state)
{
    struct env *env = *state;
    engine_backend.cleanup(env->eng);
    memstore_free(env->s);
    free(env->ca);
    return 0;
}

/* Each test gets its own storage and engine: a failed assertion leaves nothing behind. */

/* One request through the framework, as the runtime makes it. */
static void run(struct env *env, enum fw_op op, const char *path, cJSON *body,
                struct fw_resp *resp)
{
    static const char *const names[] = { "read", "create", "update", "patch", "delete",
                                         "list" };
    struct fw_req req = { .operation = names[op], .op = op, .path = path, .data = body,
                          .id = "req", .entity_id = "", .mount_point = "pki/",
                          .storage = env->s, .sysview = &sysview, .backend = env->eng };
    fw_handle_request(&engine_backend, &req, resp);
    cJSON_Delete(body);
}

static cJSON *account_body(struct env *env)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "directory_url", pe_env("PEBBLE_DIR_URL"));
    cJSON_AddStringToObject(b, "trusted_ca", env->ca);
    cJSON_AddStringToObject(b, "email_contacts", "ops@example.com");
    return b;
}

static cJSON *stored(struct env *env, const char *key)
{
    cJSON *j = NULL;
    struct err e = { 0 };
    if (fw_storage_get_json(env->s, key, &j, &e) < 0)
        fail_msg("get %s: %s", key, e.msg);
    return j;
}

static const char *str_at(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int int_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* The private key PEM of keys[version] (or of pending_key when version < 0); new. */
static char *key_pem(const cJSON *st, int version)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const cJSON *k = version < 0 ? cJSON_GetObjectItemCaseSensitive(st, "pending_key")
                                 : cJSON_GetObjectItemCaseSensitive(
                                       cJSON_GetObjectItemCaseSensitive(st, "keys"), v);
    const char *pem = str_at(k, "private_key");
    return pem ? strdup(pem) : NULL;
}

/* The account URL Pebble has for the key (onlyReturnExisting), or NULL when it has none. */
static char *ca_account_of(struct env *env, const char *pem)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_client *c = NULL;
    struct acme_account a = { 0 };
    char *url = NULL;
    assert_int_equal(crypto_key_from_pem(pem, strlen(pem), &k, &e), 0);
    struct acme_client_opts o = { .directory_url = pe_env("PEBBLE_DIR_URL"), .account_key = k,
                                  .trusted_ca_pem = env->ca, .timeout_ms = 15000 };
    assert_int_equal(acme_client_new(&o, &c, &e), 0);
    int rc;
    for (int i = 0; i < 5; i++) {   /* badNonce and friends: the caller would retry */
        err_clear(&e);
        rc = acme_lookup_account(c, &a, NULL, &e);
        if (rc == 0 || e.kind != ERR_RETRY)
            break;
    }
    if (rc == 0)
        url = strdup(a.url);
    else if (e.kind != ERR_NOT_FOUND)
        fail_msg("lookup: %s", e.msg);
    acme_account_clear(&a);
    acme_client_free(c);
    crypto_key_free(k);
    return url;
}

static void create_account(struct env *env, const char *name)
{
    char path[128];
    struct fw_resp r;
    snprintf(path, sizeof path, "config/acme-account/%s", name);
    run(env, FW_UPDATE, path, account_body(env), &r);
    if (r.status != FW_STATUS_OK || !r.data || str_at(r.data, "error"))
        fail_msg("create %s: status %d %s", name, r.status,
                 r.data ? cJSON_PrintUnformatted(r.data) : r.err_msg);
    fw_resp_clear(&r);
}

static void expect_read_only(const struct fw_resp *r)
{
    assert_int_equal(r->status, FW_STATUS_READ_ONLY);
    assert_string_equal(r->err_msg, "cannot write to readonly storage");
    assert_null(r->data);
}

/* A standby: nothing stored, and so (the key never left the plugin) nothing at the CA. Then
 * the same on a node whose SystemView says performance standby. */
static void test_create_read_only(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    size_t before = memstore_count(env->s);
    memstore_set_read_only(env->s, true);
    run(env, FW_UPDATE, "config/acme-account/ro", account_body(env), &r);
    expect_read_only(&r);
    fw_resp_clear(&r);
    memstore_set_read_only(env->s, false);
    assert_int_equal(memstore_count(env->s), before);

    repl_state = FW_REPL_PERF_STANDBY;
    run(env, FW_UPDATE, "config/acme-account/ro", account_body(env), &r);
    expect_read_only(&r);
    fw_resp_clear(&r);
    repl_state = 0;
    assert_int_equal(memstore_count(env->s), before);
}

/* The CA registered the account, the final write failed: the key stays pending, and the
 * retry registers the same key (Pebble returns the existing account), no orphan. */
static void test_create_final_write_fails(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    memstore_fail_write_after(env->s, 1);   /* account-pending/ ok, account/ fails */
    run(env, FW_UPDATE, "config/acme-account/cf", account_body(env), &r);
    assert_int_equal(r.status, FW_STATUS_INTERNAL);
    fw_resp_clear(&r);
    memstore_fail_write_after(env->s, -1);
    cJSON *acct = stored(env, "account/cf");
    assert_null(acct);
    cJSON *pend = stored(env, "account-pending/cf");
    assert_non_null(pend);
    char *pem = strdup(str_at(pend, "private_key"));
    char *url = ca_account_of(env, pem);
    assert_non_null(url);   /* registered at the CA with the pending key */
    cJSON_Delete(pend);

    create_account(env, "cf");
    acct = stored(env, "account/cf");
    char *stored_pem = key_pem(acct, 0);
    assert_string_equal(stored_pem, pem);            /* the same key ... */
    assert_string_equal(str_at(acct, "account_url"), url);   /* ... the same CA account */
    assert_null(stored(env, "account-pending/cf"));  /* pending entry gone */
    cJSON_Delete(acct);
    free(stored_pem);
    free(pem);
    free(url);
}

/* rotate-key on a standby: refused before keyChange, so the CA still holds the old key. */
static void test_rotate_read_only(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    create_account(env, "rr");
    cJSON *before = stored(env, "account/rr");
    char *old = key_pem(before, 0);
    memstore_set_read_only(env->s, true);
    run(env, FW_UPDATE, "config/acme-account/rr/rotate-key", cJSON_Parse("{\"force\":true}"),
        &r);
    expect_read_only(&r);
    fw_resp_clear(&r);
    memstore_set_read_only(env->s, false);
    cJSON *after = stored(env, "account/rr");
    assert_int_equal(int_at(after, "active_key_version"), 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(after, "pending_key"));
    char *url = ca_account_of(env, old);
    assert_non_null(url);
    assert_string_equal(url, str_at(before, "account_url"));
    free(url);
    free(old);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

/* The CA accepted keyChange, promoting the key failed: the new key is stored as pending, the
 * CA holds it, and the next request (here a read) promotes it. */
static void test_rotate_promote_fails(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    create_account(env, "rp");
    cJSON *before = stored(env, "account/rp");
    char *old = key_pem(before, 0);
    memstore_fail_write_after(env->s, 1);   /* pending_key stored, promotion fails */
    run(env, FW_UPDATE, "config/acme-account/rp/rotate-key",
        cJSON_Parse("{\"key_type\":\"ec-384\"}"), &r);
    assert_int_equal(r.status, FW_STATUS_INTERNAL);
    fw_resp_clear(&r);
    memstore_fail_write_after(env->s, -1);

    cJSON *mid = stored(env, "account/rp");
    assert_int_equal(int_at(mid, "active_key_version"), 0);
    char *pending = key_pem(mid, -1);
    assert_non_null(pending);
    char *url = ca_account_of(env, pending);
    assert_non_null(url);                                   /* the CA switched ... */
    assert_string_equal(url, str_at(before, "account_url"));
    char *gone = ca_account_of(env, old);
    assert_null(gone);                                      /* ... away from the old key */

    run(env, FW_READ, "config/acme-account/rp", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_int_equal(int_at(r.data, "active_key_version"), 1);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.data, "account_keys"), "1"));
    fw_resp_clear(&r);
    cJSON *after = stored(env, "account/rp");
    assert_null(cJSON_GetObjectItemCaseSensitive(after, "pending_key"));
    char *active = key_pem(after, 1);
    assert_string_equal(active, pending);
    assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(after, "keys"), "1"), "key_type"),
                        "ec-384");

    /* and the account works: another rotation from the promoted key */
    run(env, FW_UPDATE, "config/acme-account/rp/rotate-key", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_int_equal(int_at(r.data, "new_active_key_version"), 2);
    fw_resp_clear(&r);
    free(active);
    free(url);
    free(pending);
    free(old);
    cJSON_Delete(before);
    cJSON_Delete(mid);
    cJSON_Delete(after);
}

/* A pending key the CA never heard of (the rotation stopped before keyChange): dropped by
 * the next request, the active key stays. */
static void test_rotate_pending_undone(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    char *pem = NULL;
    create_account(env, "ru");
    cJSON *st = stored(env, "account/ru");
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    assert_int_equal(crypto_key_to_pem(k, &pem, &e), 0);
    cJSON *pk = cJSON_AddObjectToObject(st, "pending_key");
    cJSON_AddStringToObject(pk, "key_type", "ec-256");
    cJSON_AddNumberToObject(pk, "key_version", 1);
    cJSON_AddNumberToObject(pk, "key_creation_date", 1);
    cJSON_AddStringToObject(pk, "private_key", pem);
    assert_int_equal(fw_storage_put_json(env->s, "account/ru", st, true, &e), 0);

    run(env, FW_READ, "config/acme-account/ru", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_int_equal(int_at(r.data, "active_key_version"), 0);
    fw_resp_clear(&r);
    cJSON *after = stored(env, "account/ru");
    assert_null(cJSON_GetObjectItemCaseSensitive(after, "pending_key"));
    assert_int_equal(int_at(after, "active_key_version"), 0);
    cJSON_Delete(after);
    cJSON_Delete(st);
    crypto_key_free(k);
    free(pem);
}

/* delete on a standby: the record stays and the CA account is not deactivated. */
static void test_delete_read_only(void **state)
{
    struct env *env = *state;
    struct fw_resp r;
    create_account(env, "dr");
    cJSON *st = stored(env, "account/dr");
    char *pem = key_pem(st, 0);
    memstore_set_read_only(env->s, true);
    run(env, FW_DELETE, "config/acme-account/dr", NULL, &r);
    expect_read_only(&r);
    fw_resp_clear(&r);
    memstore_set_read_only(env->s, false);
    cJSON *still = stored(env, "account/dr");
    assert_non_null(still);
    char *url = ca_account_of(env, pem);   /* a deactivated account is not "valid" */
    assert_non_null(url);
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_client *c = NULL;
    struct acme_account a = { 0 };
    assert_int_equal(crypto_key_from_pem(pem, strlen(pem), &k, &e), 0);
    struct acme_client_opts o = { .directory_url = pe_env("PEBBLE_DIR_URL"), .account_key = k,
                                  .trusted_ca_pem = env->ca, .account_url = url,
                                  .timeout_ms = 15000 };
    assert_int_equal(acme_client_new(&o, &c, &e), 0);
    PE_STEP(e, acme_lookup_account(c, &a, NULL, &e));
    assert_int_equal(a.status, ACME_STATUS_VALID);
    acme_account_clear(&a);
    acme_client_free(c);
    crypto_key_free(k);
    free(url);
    free(pem);
    cJSON_Delete(st);
    cJSON_Delete(still);

    run(env, FW_DELETE, "config/acme-account/dr", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);
    assert_null(stored(env, "account/dr"));
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_final_write_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_promote_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_pending_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_read_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
