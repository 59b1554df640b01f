/* test_fw_json_in.c: hostile request bodies (issue 13 items 1, 2, 8): the body parser refuses
 * NUL and control characters naming the field, invalid UTF-8 and too-deep nesting; the
 * field rules refuse line breaks outside PEM fields and PEM fields holding the wrong blocks;
 * over-long paths are a 400, not a 404. */
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

static int echo(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                struct err *e)
{
    resp->data = cJSON_CreateObject();
    cJSON_AddStringToObject(resp->data, "v", fw_data_str(d, "v"));
    return 0;
}

static const char *const certs_only[] = { "CERTIFICATE", NULL };
static const struct fw_field text_fields[] = {
    { .name = "v", .type = FW_TYPE_STRING },
    { .name = "list", .type = FW_TYPE_COMMA_STRING_SLICE },
    { .name = "ca", .type = FW_TYPE_STRING, .pem = certs_only },
    { 0 }
};
static const struct fw_path p_text = { .pattern = "text/" FW_NAME_RE("name"),
    .fields = text_fields, .ops = { [FW_UPDATE] = { echo, NULL }, [FW_READ] = { echo, NULL } } };
static const struct fw_path *const paths[] = { &p_text, NULL };
static const struct fw_backend backend = { .name = "t", .paths = paths };

/* Parses body as the runtime does and runs it; returns the error text or NULL. */
static char *run(const char *path, const char *body, size_t len, enum fw_status *status)
{
    struct err e = { 0 };
    cJSON *data = NULL;
    if (fw_request_data_parse(body, len, &data, &e) != 0) {
        *status = FW_STATUS_USER_ERROR;
        return strdup(e.msg);
    }
    struct fw_storage *s = memstore_new();
    struct fw_req req = { .operation = "update", .op = FW_UPDATE, .path = path,
                          .data = data, .storage = s, .id = "t" };
    struct fw_resp resp;
    fw_handle_request(&backend, &req, &resp);
    *status = resp.status;
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp.data, "error"));
    char *out = msg ? strdup(msg) : resp.status != FW_STATUS_OK ? strdup(resp.err_msg) : NULL;
    fw_resp_clear(&resp);
    cJSON_Delete(data);
    memstore_free(s);
    return out;
}

static const char pem_cert[] = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
static const char pem_key[] = "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n";

static void test_bodies(void **state)
{
    char buf[2048];
    static const struct { const char *name, *body, *want; } cases[] = {
        { "NUL in a string", "{\"v\":\"acct1\\u0000zzz\"}",
          "field \"v\" contains a NUL character" },
        { "NUL hidden in an identifier list", "{\"list\":[\"www.example.com\\u0000.evil.org\"]}",
          "field \"list\" contains a NUL" },
        { "NUL in a field name", "{\"v\\u0000x\":\"a\"}", "a field name contains a NUL" },
        { "escape for U+0001", "{\"v\":\"a\\u0001\"}", "field \"v\" contains the control "
          "character U+0001" },
        { "backspace escape", "{\"v\":\"a\\b\"}", "U+0008" },
        { "DEL", "{\"v\":\"a\\u007f\"}", "U+007F" },
        { "C1 control", "{\"v\":\"a\\u0085\"}", "U+0085" },
        { "raw control byte", "{\"v\":\"a\x01\"}", "U+0001" },
        { "invalid UTF-8", "{\"v\":\"a\xff\xfe\"}", "field \"v\" is not valid UTF-8" },
        { "overlong UTF-8", "{\"v\":\"\xc0\xaf\"}", "not valid UTF-8" },
        { "escaped backslash then u0000 is text", "{\"v\":\"a\\\\u0000\"}", NULL },
        { "newline in a one-line field", "{\"v\":\"a\\nb\"}",
          "error converting input for field \"v\": contains the control character U+000A" },
        { "newline in a list element", "{\"list\":\"a,b\\nc\"}", "field \"list\"" },
        { "PEM field with a certificate", NULL, NULL },
        { "PEM field with a private key", NULL, "holds a PRIVATE KEY block; only CERTIFICATE" },
        { "PEM field with trailing text", NULL, "found text after a block" },
        { "not JSON", "{\"v\":", "request data is not valid JSON" },
        { "not an object", "[1]", "request data is not a JSON object" },
        { "unicode text is fine", "{\"v\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\"}", NULL },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = cases[i].body;
        if (!body) {
            const char *pem = strstr(cases[i].name, "key") ? pem_key : pem_cert;
            snprintf(buf, sizeof buf, "{\"ca\":\"%s%s\"}", pem,
                     strstr(cases[i].name, "trailing") ? "junk" : "");
            body = buf;
        }
        enum fw_status st;
        char *got = run("text/x", body, strlen(body), &st);
        bool ok = cases[i].want ? got && strstr(got, cases[i].want) : !got;
        if (!ok) {
            fprintf(stderr, "FAIL %s: want %s, got %s\n", cases[i].name,
                    cases[i].want ? cases[i].want : "success", got ? got : "success");
            failed++;
        }
        free(got);
    }
    assert_int_equal(failed, 0);
}

/* Depth: at the limit parses; one past it names the problem. */
static void test_depth(void **state)
{
    for (int extra = 0; extra <= 1; extra++) {
        int n = FW_JSON_MAX_DEPTH - 1 + extra;   /* arrays inside the top-level object */
        size_t len = (size_t)n * 2 + 16;
        char *b = malloc(len), *p = b;
        p += sprintf(p, "{\"m\":");
        for (int i = 0; i < n; i++)
            *p++ = '[';
        for (int i = 0; i < n; i++)
            *p++ = ']';
        *p++ = '}';
        *p = '\0';
        enum fw_status st;
        char *got = run("text/x", b, (size_t)(p - b), &st);
        if (extra)
            assert_true(got && strstr(got, "nested too deeply"));
        else
            assert_null(got);
        free(got);
        free(b);
    }
}

/* A 10,000-character name: a clear 400, never "unsupported path" (404). */
static void test_long_path(void **state)
{
    char *path = malloc(10010);
    strcpy(path, "text/");
    memset(path + 5, 'a', 10000);
    path[10005] = '\0';
    enum fw_status st;
    char *got = run(path, "{}", 2, &st);
    assert_int_equal(st, FW_STATUS_OK);   /* an error response: the host's 400 */
    assert_non_null(got);
    assert_non_null(strstr(got, "request path is 10005 bytes long"));
    free(got);
    /* just under the limit still routes */
    path[FW_MAX_PATH_LEN] = '\0';
    got = run(path, "{}", 2, &st);
    assert_null(got);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
