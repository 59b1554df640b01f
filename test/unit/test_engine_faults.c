/* test_engine_faults.c: the engine's promises under fault injection. An allocator hook
 * (this binary is linked with -Wl,--wrap for malloc, calloc, realloc, strdup and strndup,
 * see the Makefile) fails the Nth allocation of the test thread; the storage stub
 * (test/lib/memstore) fails the Nth write. For every N:
 *  - an advance of a new order places at most one CA order, whatever allocation fails
 *    (the CA here is a small scripted one on loopback that counts newOrder requests);
 *  - new-order either succeeds or leaves no order and no order key behind;
 *  - listing the work queue is complete or fails, never silently short;
 *  - the per-key locks take no allocation at all. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "engine.h"
#include "../../src/engine/internal.h"
#include "../../src/engine/orders/order.h"
#include "memstore.h"

/* ---- the allocator hook ------------------------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

static pthread_t hook_thread;
static atomic_long hook_left;   /* > 0: allocations of hook_thread until the one that fails */
static atomic_bool hook_fired;

static bool hook_fail(void)
{
    if (atomic_load(&hook_left) <= 0 || !pthread_equal(pthread_self(), hook_thread))
        return false;
    if (atomic_fetch_sub(&hook_left, 1) != 1)
        return false;
    atomic_store(&hook_fired, true);
    return true;
}

void *__wrap_malloc(size_t n) { return hook_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return hook_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return hook_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return hook_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return hook_fail() ? NULL : __real_strndup(s, n); }

/* The nth allocation of this thread from now fails, once. */
static void fail_alloc(long nth)
{
    hook_thread = pthread_self();
    atomic_store(&hook_fired, false);
    atomic_store(&hook_left, nth);
}

/* Disarms the hook; true when the failure happened. */
static bool alloc_failed(void)
{
    atomic_store(&hook_left, 0);
    return atomic_load(&hook_fired);
}

/* ---- a scripted CA ------------------------------------------------------------------------ */

static int ca_port;
static atomic_int ca_new_orders;
static atomic_int ca_key_changes;

static void ca_reply(int fd, const char *status, const char *extra, const char *body)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nReplay-Nonce: n%d\r\n%s\r\n%s",
                     status, strlen(body), atomic_load(&ca_new_orders), extra, body);
    if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        return;
}

/* Reads one request (headers and a Content-Length body) into req; its length or -1. */
static ssize_t ca_read(int fd, char *req, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t r = recv(fd, req + len, cap - 1 - len, 0);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        req[len] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(req, "Content-Length:");
        size_t want = (size_t)(end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (len >= want)
            return (ssize_t)len;
    }
    return -1;
}

static void ca_serve(int fd)
{
    char req[32768], body[2048], extra[256], base[64];
    if (ca_read(fd, req, sizeof req) < 0)
        return;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ca_port);
    const char *order_body =
        "{\"status\":\"pending\",\"expires\":\"2099-01-01T00:00:00Z\","
        "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
        "\"authorizations\":[\"%s/authz/1\"],\"finalize\":\"%s/finalize/1\"}";
    if (strncmp(req, "GET /dir ", 9) == 0) {
        snprintf(body, sizeof body, "{\"newNonce\":\"%s/nonce\",\"newAccount\":\"%s/acct\","
                 "\"newOrder\":\"%s/new-order\",\"revokeCert\":\"%s/revoke\","
                 "\"keyChange\":\"%s/key-change\"}", base, base, base, base, base);
        ca_reply(fd, "200 OK", "", body);
    } else if (strstr(req, " /nonce ")) {
        ca_reply(fd, "200 OK", "", "");
    } else if (strncmp(req, "POST /new-order ", 16) == 0) {
        int k = atomic_fetch_add(&ca_new_orders, 1) + 1;
        snprintf(extra, sizeof extra, "Location: %s/order/%d\r\n", base, k);
        snprintf(body, sizeof body, order_body, base, base);
        ca_reply(fd, "201 Created", extra, body);
    } else if (strncmp(req, "POST /order/", 12) == 0) {
        snprintf(body, sizeof body, order_body, base, base);
        ca_reply(fd, "200 OK", "", body);
    } else if (strncmp(req, "POST /authz/", 12) == 0) {
        snprintf(body, sizeof body, "{\"status\":\"pending\",\"expires\":\"2099-01-01T00:00:00Z\","
                 "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example.com\"},"
                 "\"challenges\":[{\"type\":\"http-01\",\"url\":\"%s/chall/1\","
                 "\"token\":\"tok1\",\"status\":\"pending\"}]}", base);
        ca_reply(fd, "200 OK", "", body);
    } else if (strncmp(req, "POST /key-change ", 17) == 0) {
        atomic_fetch_add(&ca_key_changes, 1);
        ca_reply(fd, "403 Forbidden", "", "{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
                 "\"detail\":\"key change refused by policy\",\"status\":403}");
    } else {
        ca_reply(fd, "404 Not Found", "", "{}");
    }
}

static void *ca_main(void *arg)
{
    int ls = *(int *)arg;
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            return NULL;
        ca_serve(fd);
        close(fd);
    }
}

static void ca_start(void)
{
    static int ls;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    pthread_t t;
    ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 64), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &len), 0);
    ca_port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&t, NULL, ca_main, &ls), 0);
    pthread_detach(t);
}

/* ---- fixtures ----------------------------------------------------------------------------- */

/* Stores account "acct" (registered at the scripted CA) and role "web" using it. */
static void store_account_and_role(struct fw_storage *s)
{
    struct crypto_key *k = NULL;
    char *pem = NULL, buf[256];
    struct err e;
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    assert_int_equal(crypto_key_to_pem(k, &pem, &e), 0);
    cJSON *a = cJSON_CreateObject(), *keys = cJSON_AddObjectToObject(a, "keys");
    cJSON *k0 = cJSON_AddObjectToObject(keys, "0");
    cJSON_AddStringToObject(k0, "private_key", pem);
    cJSON_AddStringToObject(k0, "key_type", "ec-256");
    cJSON_AddStringToObject(a, "name", "acct");
    snprintf(buf, sizeof buf, "http://127.0.0.1:%d/dir", ca_port);
    cJSON_AddStringToObject(a, "directory_url", buf);
    snprintf(buf, sizeof buf, "http://127.0.0.1:%d/acct/1", ca_port);
    cJSON_AddStringToObject(a, "account_url", buf);
    cJSON_AddNumberToObject(a, "active_key_version", 0);
    assert_int_equal(fw_storage_put_json(s, "account/acct", a, true, &e), 0);
    cJSON_Delete(a);
    cJSON *r = cJSON_Parse("{\"name\":\"web\",\"acme_account_name\":\"acct\","
                           "\"allowed_domains\":[\"example.com\"],"
                           "\"allowed_domain_options\":[\"subdomains\"],"
                           "\"allowed_challenge_types\":[\"http-01\"],"
                           "\"csr_generate_key_type\":\"ec-256\","
                           "\"csr_identifier_population\":\"cn_first\"}");
    assert_int_equal(fw_storage_put_json(s, "role/web", r, false, &e), 0);
    cJSON_Delete(r);
    free(pem);
    crypto_key_free(k);
}

/* A mount over s. Its worker never runs an order: no SystemView, so "may not write". */
static struct engine *mount(struct fw_storage *s)
{
    struct fw_env env = { .storage = s };
    struct err e;
    struct engine *eng = engine_backend.setup(&env, &e);
    assert_non_null(eng);
    return eng;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Whatever allocation fails during the advance that places the CA order, the order is
 * placed at the CA at most once, and the next advance (memory back) takes it on. */
static void test_advance_new_alloc_faults(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = mount(s);
    static const char *const ids[] = { "a.example.com" };
    store_account_and_role(s);
    int tried = 0;
    for (long n = 1;; n++) {
        struct order *o = NULL, *back = NULL;
        struct err e;
        assert_int_equal(order_new("web", "acct", ORDER_WF_IDENTIFIERS, ids, 1, &o, &e), 0);
        assert_int_equal(order_save(s, o, &e), 0);
        int before = atomic_load(&ca_new_orders);
        order_clients_drop(eng->clients, "acct");   /* the client is built in the advance */
        fail_alloc(n);
        (void)order_advance(eng, s, o->id, NULL, &e);
        bool fired = alloc_failed();
        assert_int_equal(order_advance(eng, s, o->id, NULL, &e), 0);
        assert_int_equal(order_load(s, o->id, &back, &e), 0);
        int placed = atomic_load(&ca_new_orders) - before;
        if (placed != 1 || back->status != ORDER_AWAITING)
            print_error("allocation %ld failed: %d CA orders, status %s (%s)\n", n, placed,
                        order_status_name(back->status), back->last_error);
        assert_true(placed <= 1);
        /* Waiting on the user, or ended in error (out of memory while reading the CA's
         * reply can lose the order URL: the CA order is then abandoned, never repeated). */
        assert_true(back->status == ORDER_AWAITING || back->status == ORDER_ERROR);
        order_free(back);
        order_free(o);
        tried++;
        if (!fired)
            break;   /* n passed the last allocation: every one has been failed */
    }
    assert_true(tried > 20);
    engine_backend.cleanup(eng);
    memstore_free(s);
}

/* Issue 14 §3: a due automatic rotation the CA refuses leaves the old key active, nothing
 * pending, and the CA's reason on the account (key_rotation_error), and is not tried again
 * at once. */
static void test_auto_rotation_refused(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = mount(s);
    struct err e;
    cJSON *st = NULL;
    int64_t next = 0;
    store_account_and_role(s);
    assert_int_equal(account_load_json(s, "acct", &st, &e), 0);
    cJSON_AddNumberToObject(st, "key_rotation_period", 60);   /* key made at 0: long due */
    assert_int_equal(fw_storage_put_json(s, "account/acct", st, true, &e), 0);
    account_json_free(st);
    int before = atomic_load(&ca_key_changes);
    assert_int_equal(accounts_rotate_due(eng, s, &next, &e), 0);
    assert_int_equal(atomic_load(&ca_key_changes) - before, 1);
    assert_int_equal(account_load_json(s, "acct", &st, &e), 0);
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st,
                                                                             "key_rotation_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "key change refused by policy"));
    assert_null(cJSON_GetObjectItemCaseSensitive(st, "pending_key"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "keys")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st,
                                                                           "active_key_version")),
                     0);
    account_json_free(st);
    /* The retry waits (at least ROTATION_RETRY_S), so a second scan asks nothing. */
    assert_true(next > (int64_t)time(NULL) + 60);
    assert_int_equal(accounts_rotate_due(eng, s, &next, &e), 0);
    assert_int_equal(atomic_load(&ca_key_changes) - before, 1);
    engine_backend.cleanup(eng);
    memstore_free(s);
}

static void handle(struct engine *eng, struct fw_storage *s, const char *path, const char *body,
                   struct fw_resp *resp)
{
    cJSON *data = cJSON_Parse(body);
    struct fw_req req = { .operation = "update", .op = FW_UPDATE, .path = path, .data = data,
                          .id = "test", .entity_id = "", .mount_point = "pki/", .storage = s,
                          .backend = eng };
    fw_resp_init(resp);
    fw_handle_request(&engine_backend, &req, resp);
    cJSON_Delete(data);
}

/* new-order with the nth storage write failing: a 500 that leaves no order and no key (a
 * dangling index entry at most), or, past the last write, an order with its key. */
static void test_new_order_write_faults(void **state)
{
    (void)state;
    for (int n = 1;; n++) {
        struct fw_storage *s = memstore_new();
        struct engine *eng = mount(s);
        struct fw_resp resp;
        store_account_and_role(s);
        int w0 = memstore_writes(s);
        memstore_fail_write_after(s, n - 1);
        handle(eng, s, "role/web/new-order", "{\"identifiers\":[\"a.example.com\"]}", &resp);
        bool failed = memstore_writes(s) - w0 >= n;
        memstore_fail_write_after(s, -1);
        if (failed) {
            assert_int_not_equal(resp.status, FW_STATUS_OK);
            assert_int_equal(memstore_count_prefix(s, "order/"), 0);
            assert_int_equal(memstore_count_prefix(s, "order-key/"), 0);
        } else {
            assert_int_equal(resp.status, FW_STATUS_OK);
            assert_int_equal(memstore_count_prefix(s, "order/"), 1);
            assert_int_equal(memstore_count_prefix(s, "order-key/"), 1);
        }
        fw_resp_clear(&resp);
        engine_backend.cleanup(eng);
        memstore_free(s);
        if (!failed) {
            assert_true(n > 3);
            break;
        }
    }
}

/* new-order with the nth allocation failing: success, or a failure that left no order
 * object and no key behind. */
static void test_new_order_alloc_faults(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    struct engine *eng = mount(s);
    store_account_and_role(s);
    for (long n = 1;; n++) {
        struct fw_resp resp;
        size_t orders = memstore_count_prefix(s, "order/");
        size_t keys = memstore_count_prefix(s, "order-key/");
        fail_alloc(n);
        handle(eng, s, "role/web/new-order", "{\"identifiers\":[\"a.example.com\"]}", &resp);
        bool fired = alloc_failed();
        if (resp.status == FW_STATUS_OK &&
            cJSON_GetObjectItemCaseSensitive(resp.data, "order_id")) {
            assert_int_equal(memstore_count_prefix(s, "order/"), orders + 1);
            assert_int_equal(memstore_count_prefix(s, "order-key/"), keys + 1);
        } else {
            assert_true(fired);
            assert_int_equal(memstore_count_prefix(s, "order/"), orders);
            assert_int_equal(memstore_count_prefix(s, "order-key/"), keys);
        }
        fw_resp_clear(&resp);
        if (!fired)
            break;
    }
    engine_backend.cleanup(eng);
    memstore_free(s);
}

/* The work queue listing is whole or an error, whatever allocation fails. */
static void test_list_active_alloc_faults(void **state)
{
    (void)state;
    struct fw_storage *s = memstore_new();
    static const char *const ids[] = { "a.example.com" };
    enum { N = 30 };
    for (int i = 0; i < N; i++) {
        struct order *o = NULL;
        struct err e;
        assert_int_equal(order_new(i % 2 ? "web" : "api", "acct", ORDER_WF_IDENTIFIERS, ids, 1,
                                   &o, &e), 0);
        assert_int_equal(order_save(s, o, &e), 0);
        order_free(o);
    }
    for (long n = 1;; n++) {
        char **entries = NULL;
        struct err e;
        fail_alloc(n);
        int rc = order_list_active(s, &entries, &e);
        bool fired = alloc_failed();
        if (rc == 0) {
            size_t count = 0;
            while (entries[count])
                count++;
            assert_int_equal(count, N);
            fw_strv_free(entries);
        } else {
            assert_true(fired);
            assert_int_equal(e.kind, ERR_INTERNAL);
        }
        if (!fired)
            break;
    }
    memstore_free(s);
}

/* Taking and releasing a per-key lock allocates nothing, so it cannot fail. */
static void test_keylock_allocates_nothing(void **state)
{
    (void)state;
    struct keylocks l;
    struct keylock a = { 0 }, b = { 0 };
    keylocks_init(&l);
    fail_alloc(1);
    keylock_wait(&l, "order-1", &a);
    assert_false(keylock_try(&l, "order-1", &b));
    assert_true(keylock_try(&l, "order-2", &b));
    keylock_release(&l, &a);
    keylock_release(&l, &b);
    assert_false(alloc_failed());   /* no allocation was even attempted */
    keylocks_destroy(&l);
}

int main(void)
{
    ca_start();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keylock_allocates_nothing),
        cmocka_unit_test(test_list_active_alloc_faults),
        cmocka_unit_test(test_new_order_write_faults),
        cmocka_unit_test(test_new_order_alloc_faults),
        cmocka_unit_test(test_advance_new_alloc_faults),
        cmocka_unit_test(test_auto_rotation_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
