/* test_fw_route.c: routing, captures, warnings, operations, existence checks, error
 * mapping, rollback and robustness of fw_handle_request / fw_existence_check. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fw.h"
#include "memstore.h"

/* ---- a small role store ------------------------------------------------------------ */

static void role_key(const struct fw_data *d, char *buf, size_t len)
{
    snprintf(buf, len, "role/%s", fw_data_str(d, "name"));
}

static int role_exists(const struct fw_req *req, const struct fw_data *d, bool *exists,
                       struct err *e)
{
    char key[256];
    cJSON *cur = NULL;
    role_key(d, key, sizeof key);
    if (fw_storage_get_json(req->storage, key, &cur, e) != 0)
        return -1;
    *exists = cur != NULL;
    cJSON_Delete(cur);
    return 0;
}

static int role_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      bool create, struct err *e)
{
    char key[256];
    role_key(d, key, sizeof key);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "name", fw_data_str(d, "name"));
    cJSON_AddNumberToObject(obj, "ttl", (double)fw_data_duration(d, "ttl"));
    cJSON_AddStringToObject(obj, "via", create ? "create" : "update");
    int rc = fw_storage_put_json(req->storage, key, obj, false, e);
    resp->data = obj;   /* echo, so warnings have a response to ride on */
    return rc;
}

static int role_create(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    return role_write(req, d, resp, true, e);
}

static int role_update(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    return role_write(req, d, resp, false, e);
}

static int role_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    char key[256];
    role_key(d, key, sizeof key);
    return fw_storage_get_json(req->storage, key, &resp->data, e);
}

static int role_list(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    char **keys = NULL;
    if (req->storage->list(req->storage->ctx, "role/", &keys, e) != 0)
        return -1;
    resp->data = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(resp->data, "keys");
    for (char **k = keys; k && *k; k++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(*k));
    fw_strv_free(keys);
    return 0;
}

static const struct fw_field role_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .desc = "Role name." },
    { .name = "ttl", .type = FW_TYPE_DURATION, .def = "1h", .desc = "TTL." },
    { 0 }
};

static const struct fw_path p_roles = {
    .pattern = "roles/?",
    .ops = { [FW_LIST] = { role_list, "List roles." } },
};
static const struct fw_path p_role = {
    .pattern = "roles/" FW_NAME_RE("name"),
    .fields = role_fields,
    .exists = role_exists,
    .ops = {
        [FW_READ] = { role_read, NULL }, [FW_CREATE] = { role_create, NULL },
        [FW_UPDATE] = { role_update, NULL },
    },
};

/* ---- error mapping --------------------------------------------------------------------- */

static int fail_handler(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                        struct err *e)
{
    const char *kind = fw_data_str(d, "kind");
    resp->data = cJSON_CreateObject();   /* must not leak or survive an error */
    fw_resp_warn(resp, "handler warning");
    if (strcmp(kind, "invalid") == 0)
        return err_set(e, ERR_INVALID, "bad input for field x");
    if (strcmp(kind, "notfound") == 0)
        return err_set(e, ERR_NOT_FOUND, "no such thing");
    if (strcmp(kind, "readonly") == 0)
        return err_set(e, ERR_READ_ONLY, "storage put x: cannot write to readonly storage");
    if (strcmp(kind, "upstream") == 0)
        return err_set(e, ERR_UPSTREAM, "acme server said no, secret detail");
    return err_set(e, ERR_INTERNAL, "storage exploded, secret detail");
}

static const struct fw_field fail_fields[] = {
    { .name = "kind", .type = FW_TYPE_STRING }, { 0 }
};
static const struct fw_path p_fail = {
    .pattern = "fail/(?<kind>\\w+)",
    .fields = fail_fields,
    .ops = { [FW_READ] = { fail_handler, NULL }, [FW_UPDATE] = { fail_handler, NULL } },
};

static int files_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    resp->data = cJSON_CreateObject();
    cJSON_AddStringToObject(resp->data, "path", fw_data_str(d, "path"));
    return 0;
}

static const struct fw_field files_fields[] = {
    { .name = "path", .type = FW_TYPE_STRING }, { 0 }
};
static const struct fw_path p_files = {
    .pattern = "files/(?<path>.+)",
    .fields = files_fields,
    .ops = { [FW_UPDATE] = { files_write, NULL }, [FW_READ] = { files_write, NULL } },
    .take_arbitrary_input = true,
};

static int counter_periodic(const struct fw_req *req, struct err *e)
{
    cJSON *cur = NULL;
    if (fw_storage_get_json(req->storage, "n", &cur, e) != 0)
        return -1;
    double n = cJSON_IsNumber(cur) ? cur->valuedouble : 0;
    cJSON_Delete(cur);
    cJSON *next = cJSON_CreateNumber(n + 1);
    int rc = fw_storage_put_json(req->storage, "n", next, false, e);
    cJSON_Delete(next);
    return rc;
}

static const struct fw_path *const paths[] = { &p_roles, &p_role, &p_fail, &p_files, NULL };
static const struct fw_backend backend = {
    .name = "route-test", .paths = paths, .periodic = counter_periodic,
};
static const struct fw_backend backend_no_periodic = { .name = "np", .paths = paths };

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *const op_names[] = { "read", "create", "update", "patch", "delete", "list" };

static void run(const struct fw_backend *b, struct fw_storage *s, const char *operation,
                const char *path, const char *body, struct fw_resp *resp)
{
    cJSON *data = body ? cJSON_Parse(body) : NULL;
    struct fw_req req = { .operation = operation, .path = path, .data = data, .storage = s,
                          .id = "req-1" };
    for (int i = 0; i < FW_OP_COUNT; i++) {
        if (operation && strcmp(operation, op_names[i]) == 0)
            req.op = (enum fw_op)i;
    }
    fw_handle_request(b, &req, resp);
    cJSON_Delete(data);
}

static const char *str_at(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static bool has_warning(const struct fw_resp *r, const char *text)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, r->warnings) {
        if (cJSON_IsString(w) && strcmp(w->valuestring, text) == 0)
            return true;
    }
    return false;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_routes(void **state)
{
    static const struct { const char *name, *op, *path; enum fw_status want; } cases[] = {
        { "list with slash", "list", "roles/", FW_STATUS_OK },
        { "list without slash", "list", "roles", FW_STATUS_OK },
        { "read role", "read", "roles/web", FW_STATUS_OK },
        { "anchored end", "read", "roles/web/extra", FW_STATUS_UNSUPPORTED_PATH },
        { "anchored start", "read", "xroles/web", FW_STATUS_UNSUPPORTED_PATH },
        { "bad name", "read", "roles/-web", FW_STATUS_UNSUPPORTED_PATH },
        { "root", "read", "", FW_STATUS_UNSUPPORTED_PATH },
        { "no handler", "delete", "roles/web", FW_STATUS_UNSUPPORTED_OP },
        { "patch", "patch", "roles/web", FW_STATUS_UNSUPPORTED_OP },
        { "list on item", "list", "roles/web", FW_STATUS_UNSUPPORTED_OP },
        { "revoke", "revoke", "roles/web", FW_STATUS_UNSUPPORTED_OP },
        { "unknown op", "frobnicate", "roles/web", FW_STATUS_UNSUPPORTED_OP },
        { "unknown path wins", "revoke", "nowhere", FW_STATUS_UNSUPPORTED_PATH },
        { "nested capture", "update", "files/a/b/c", FW_STATUS_OK },
    };
    struct fw_storage *s = memstore_new();
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fw_resp r;
        run(&backend, s, cases[i].op, cases[i].path, NULL, &r);
        if (r.status != cases[i].want) {
            fprintf(stderr, "FAIL %s: status %d, want %d\n", cases[i].name, r.status,
                    cases[i].want);
            failed++;
        }
        fw_resp_clear(&r);
    }
    memstore_free(s);
    assert_int_equal(failed, 0);
}

static void test_capture_overrides_body(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;
    run(&backend, s, "update", "roles/web", "{\"name\":\"other\",\"ttl\":\"90s\"}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_string_equal(str_at(r.data, "name"), "web");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r.data, "ttl")->valuedouble, 90);
    assert_true(has_warning(&r, "Endpoint replaced the value of these parameters with the "
                                "values captured from the endpoint's path: [name]"));
    fw_resp_clear(&r);
    run(&backend, s, "update", "files/x/y", "{\"path\":\"z\",\"extra\":1}", &r);
    assert_string_equal(str_at(r.data, "path"), "x/y");
    assert_int_equal(cJSON_GetArraySize(r.warnings), 1);   /* replaced, but nothing ignored */
    fw_resp_clear(&r);
    memstore_free(s);
}

static void test_unknown_params_warning(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;
    run(&backend, s, "update", "roles/web", "{\"zeta\":1,\"alpha\":\"x\",\"ttl\":5}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_true(has_warning(&r, "Endpoint ignored these unrecognized parameters: [alpha zeta]"));
    fw_resp_clear(&r);
    /* GET query parameters are data too */
    run(&backend, s, "read", "roles/web", "{\"bogus\":\"1\"}", &r);
    assert_true(has_warning(&r, "Endpoint ignored these unrecognized parameters: [bogus]"));
    fw_resp_clear(&r);
    /* a nil response carries no warnings (Vault attaches them to non-nil responses only) */
    run(&backend, s, "read", "roles/nobody", "{\"bogus\":\"1\"}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_null(r.data);
    assert_null(r.warnings);
    fw_resp_clear(&r);
    memstore_free(s);
}

static void test_existence_check(void **state)
{
    struct fw_storage *s = memstore_new();
    bool found, exists;
    char msg[256];
    cJSON *data = cJSON_Parse("{\"ttl\":\"1m\"}");
    struct fw_req req = { .operation = "update", .op = FW_UPDATE, .path = "roles/web",
                          .data = data, .storage = s };

    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_OK);
    assert_true(found);
    assert_false(exists);

    struct fw_resp r;
    run(&backend, s, "create", "roles/web", "{}", &r);
    assert_string_equal(str_at(r.data, "via"), "create");
    fw_resp_clear(&r);
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_OK);
    assert_true(found);
    assert_true(exists);
    run(&backend, s, "update", "roles/web", "{}", &r);
    assert_string_equal(str_at(r.data, "via"), "update");
    fw_resp_clear(&r);

    /* no existence function */
    req.path = "files/a";
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_OK);
    assert_false(found);
    /* no route */
    req.path = "nowhere";
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_UNSUPPORTED_PATH);
    assert_false(found);
    /* bad field value: user error naming the field */
    cJSON_Delete(data);
    data = cJSON_Parse("{\"ttl\":\"soon\"}");
    req.data = data;
    req.path = "roles/web";
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_USER_ERROR);
    assert_non_null(strstr(msg, "field \"ttl\""));
    /* storage failure: internal */
    cJSON_Delete(data);
    req.data = NULL;
    memstore_fail_next(s, 1);
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, msg, sizeof msg),
                     FW_STATUS_INTERNAL);
    /* only create/update */
    req.operation = "read";
    assert_int_equal(fw_existence_check(&backend, &req, &found, &exists, NULL, 0),
                     FW_STATUS_INTERNAL);
    memstore_free(s);
}

static void test_list(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;
    run(&backend, s, "create", "roles/b", NULL, &r);
    fw_resp_clear(&r);
    run(&backend, s, "create", "roles/a", NULL, &r);
    fw_resp_clear(&r);
    run(&backend, s, "list", "roles/", NULL, &r);
    cJSON *want = cJSON_Parse("{\"keys\":[\"a\",\"b\"]}");
    assert_true(cJSON_Compare(r.data, want, true));
    cJSON_Delete(want);
    fw_resp_clear(&r);
    memstore_free(s);
}

static void test_error_mapping(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;

    run(&backend, s, "read", "fail/invalid", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_string_equal(str_at(r.data, "error"), "bad input for field x");
    assert_int_equal(cJSON_GetArraySize(r.data), 1);
    fw_resp_clear(&r);

    /* Not found is a 404 naming the object on every operation, a write too (a nil reply
     * would be 204 "success" there); the handler's warnings go with the data. */
    static const char *const ops[] = { "read", "update" };
    for (size_t i = 0; i < 2; i++) {
        run(&backend, s, ops[i], "fail/notfound", NULL, &r);
        assert_int_equal(r.status, FW_STATUS_NOT_FOUND);
        assert_string_equal(r.err_msg, "no such thing");
        assert_null(r.data);
        assert_null(r.warnings);
        fw_resp_clear(&r);
    }

    static const char *const internal[] = { "fail/internal", "fail/upstream" };
    for (size_t i = 0; i < 2; i++) {
        run(&backend, s, "read", internal[i], NULL, &r);
        assert_int_equal(r.status, FW_STATUS_INTERNAL);
        assert_string_equal(r.err_msg, "internal error");   /* details only in the log */
        assert_null(r.data);
        fw_resp_clear(&r);
    }
    /* storage failure inside a handler */
    memstore_fail_next(s, 1);
    run(&backend, s, "read", "roles/web", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_INTERNAL);
    fw_resp_clear(&r);
    memstore_free(s);
}

static int sv_state;   /* what the stub SystemView reports; -1: the call fails */

static int sv_replication_state(void *ctx, uint32_t *state, struct err *e)
{
    if (sv_state < 0)
        return err_set(e, ERR_INTERNAL, "system view unavailable");
    *state = (uint32_t)sv_state;
    return 0;
}

/* A write refused by a standby's storage reaches the host as logical.ErrReadOnly's text,
 * nothing else (no data, no warnings), so the host forwards it to the active node. */
static void test_read_only_storage(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;

    memstore_set_read_only(s, true);
    run(&backend, s, "update", "roles/web", "{\"ttl\":\"2h\"}", &r);
    assert_int_equal(r.status, FW_STATUS_READ_ONLY);
    assert_string_equal(r.err_msg, "cannot write to readonly storage");
    assert_null(r.data);
    assert_null(r.warnings);
    fw_resp_clear(&r);
    assert_int_equal(memstore_count(s), 0);

    /* reads still work on a standby */
    run(&backend, s, "list", "roles/", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);

    /* a handler's ERR_READ_ONLY from deeper down (wrapped text) maps the same way */
    run(&backend, s, "read", "fail/readonly", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_READ_ONLY);
    assert_string_equal(r.err_msg, "cannot write to readonly storage");
    assert_null(r.data);
    assert_null(r.warnings);
    fw_resp_clear(&r);

    memstore_set_read_only(s, false);
    run(&backend, s, "update", "roles/web", "{\"ttl\":\"2h\"}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);
    assert_int_equal(memstore_count(s), 1);

    /* the host's error text, as the runtime's storage client sees it */
    assert_true(fw_storage_err_is_read_only("cannot write to readonly storage"));
    assert_true(fw_storage_err_is_read_only("put logical/x: cannot write to readonly storage"));
    assert_false(fw_storage_err_is_read_only("permission denied"));
    assert_false(fw_storage_err_is_read_only(NULL));
    memstore_free(s);
}

/* fw_require_writable: refuses on a performance standby or a secondary, lets an
 * unanswered SystemView through (the storage write decides then). */
static void test_require_writable(void **state)
{
    struct fw_sysview sv = { .replication_state = sv_replication_state };
    struct fw_req req = { .sysview = &sv };
    struct err e = { 0 };
    static const struct { int state; int rc; } cases[] = {
        { 0, 0 }, { FW_REPL_PERF_STANDBY, -1 }, { FW_REPL_DR_SECONDARY, -1 },
        { FW_REPL_PERF_SECONDARY, -1 }, { 1 << 0, 0 }, { -1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sv_state = cases[i].state;
        err_clear(&e);
        assert_int_equal(fw_require_writable(&req, &e), cases[i].rc);
        if (cases[i].rc) {
            assert_int_equal(e.kind, ERR_READ_ONLY);
            assert_string_equal(e.msg, "cannot write to readonly storage");
        }
    }
    struct fw_req bare = { 0 };
    assert_int_equal(fw_require_writable(&bare, &e), 0);
}

static void test_rollback(void **state)
{
    struct fw_storage *s = memstore_new();
    struct fw_resp r;
    for (int i = 0; i < 3; i++) {
        run(&backend, s, "rollback", "", NULL, &r);
        assert_int_equal(r.status, FW_STATUS_OK);
        assert_null(r.data);
        fw_resp_clear(&r);
    }
    cJSON *n = NULL;
    struct err e = { 0 };
    assert_int_equal(fw_storage_get_json(s, "n", &n, &e), 0);
    assert_int_equal(n->valuedouble, 3);
    cJSON_Delete(n);

    run(&backend_no_periodic, s, "rollback", "", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    assert_null(r.data);
    fw_resp_clear(&r);

    memstore_fail_next(s, 1);
    run(&backend, s, "rollback", "", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_INTERNAL);
    fw_resp_clear(&r);

    /* on a standby the periodic function's write is refused: the host's own text */
    memstore_set_read_only(s, true);
    run(&backend, s, "rollback", "", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_READ_ONLY);
    assert_string_equal(r.err_msg, "cannot write to readonly storage");
    fw_resp_clear(&r);
    memstore_free(s);
}

/* Odd inputs never crash: no data, non-object data, wrong types, huge strings, NULLs. */
static void test_robustness(void **state)
{
    static const char *const bodies[] = {
        NULL, "null", "[]", "[1,2,3]", "\"str\"", "42", "true", "{\"name\":{}}",
        "{\"ttl\":[[[]]]}", "{\"ttl\":{\"a\":1}}", "{\"\":1}", "{\"ttl\":1e308}",
        "{\"ttl\":-1e308}", "{\"ttl\":\"99999999999999999999h\"}",
        "{\"ttl\":\"9223372036s\"}", "{\"ttl\":\".s\"}", "{\"ttl\":\"1.h\"}",
    };
    static const char *const ops[] = { "read", "update", "create", "list", "delete", "help",
                                       "rollback", NULL, "" };
    struct fw_storage *s = memstore_new();
    size_t big = 1 << 20;
    char *huge = malloc(big + 8);
    memcpy(huge, "roles/", 6);
    memset(huge + 6, 'a', big);
    huge[big + 6] = '\0';
    const char *path_list[] = { "roles/web", "files/x", huge, "", "fail/internal" };
    for (size_t p = 0; p < sizeof path_list / sizeof path_list[0]; p++) {
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
                struct fw_resp r;
                run(&backend, s, ops[o], path_list[p], bodies[b], &r);
                fw_resp_clear(&r);
            }
        }
    }
    /* a huge string value */
    char *body = malloc(big + 32);
    snprintf(body, big + 32, "{\"name\":\"%s\"}", huge + 6);
    struct fw_resp r;
    run(&backend, s, "update", "files/x", body, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);
    free(body);
    free(huge);

    fw_handle_request(&backend, NULL, &r);
    assert_int_equal(r.status, FW_STATUS_INTERNAL);
    fw_resp_clear(&r);
    struct fw_req req = { .path = NULL, .op = FW_READ, .storage = s };
    fw_handle_request(&backend, &req, &r);
    fw_resp_clear(&r);
    req.op = (enum fw_op)99;
    fw_handle_request(&backend, &req, &r);
    assert_int_equal(r.status, FW_STATUS_UNSUPPORTED_PATH);
    fw_resp_clear(&r);
    memstore_free(s);
}

/* Many threads route and handle at once (the pattern cache is built by whichever comes
 * first); run under ASan/TSan to see races. */
static void *hammer(void *arg)
{
    struct fw_storage *s = arg;
    for (int i = 0; i < 2000; i++) {
        char path[64];
        struct fw_resp r;
        snprintf(path, sizeof path, "roles/r%d", i % 50);
        run(&backend, s, i % 3 ? "read" : "update", path, "{\"ttl\":\"1m\",\"x\":1}", &r);
        if (r.status != FW_STATUS_OK)
            abort();
        fw_resp_clear(&r);
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    struct fw_storage *s = memstore_new();
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, s), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    memstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrency),   /* first: the route cache starts cold */
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_capture_overrides_body),
        cmocka_unit_test(test_unknown_params_warning),
        cmocka_unit_test(test_existence_check),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_read_only_storage),
        cmocka_unit_test(test_require_writable),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_robustness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
