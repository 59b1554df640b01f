/* test_fw_fields.c: field conversion rules (protocol doc §6.12) through fw_handle_request.
 * One path per type, each with a field "v" (no default) and "d" (a default in string form);
 * the handler echoes both back, so a case is: body in, echoed value or error out. */
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

static cJSON *typed(const struct fw_data *d, const char *name, enum fw_type t)
{
    switch (t) {
    case FW_TYPE_INT: return cJSON_CreateNumber((double)fw_data_int(d, name));
    case FW_TYPE_DURATION: return cJSON_CreateNumber((double)fw_data_duration(d, name));
    case FW_TYPE_BOOL: return cJSON_CreateBool(fw_data_bool(d, name));
    case FW_TYPE_COMMA_STRING_SLICE:
    case FW_TYPE_STRING_SLICE: return cJSON_Duplicate(fw_data_list(d, name), true);
    case FW_TYPE_MAP: return cJSON_Duplicate(fw_data_map(d, name), true);
    default: return cJSON_CreateString(fw_data_str(d, name));
    }
}

static const struct { const char *path; enum fw_type type; } path_types[] = {
    { "string", FW_TYPE_STRING }, { "int", FW_TYPE_INT }, { "bool", FW_TYPE_BOOL },
    { "duration", FW_TYPE_DURATION }, { "comma", FW_TYPE_COMMA_STRING_SLICE },
    { "slice", FW_TYPE_STRING_SLICE }, { "map", FW_TYPE_MAP }, { "name", FW_TYPE_NAME },
    { "lower", FW_TYPE_LOWERCASE_STRING }, { "enum", FW_TYPE_STRING },
};

static int echo(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                struct err *e)
{
    enum fw_type t = FW_TYPE_STRING;
    for (size_t i = 0; i < sizeof path_types / sizeof path_types[0]; i++) {
        if (strcmp(req->path, path_types[i].path) == 0)
            t = path_types[i].type;
    }
    resp->data = cJSON_CreateObject();
    cJSON_AddItemToObject(resp->data, "v", typed(d, "v", t));
    cJSON_AddItemToObject(resp->data, "d", typed(d, "d", t));
    cJSON_AddBoolToObject(resp->data, "v_present", fw_data_present(d, "v"));
    cJSON_AddBoolToObject(resp->data, "d_present", fw_data_present(d, "d"));
    return 0;
}

#define TYPE_PATH(var, pat, ty, def_)                                                   \
    static const struct fw_field var##_fields[] = {                                    \
        { .name = "v", .type = ty, .desc = "value" },                                  \
        { .name = "d", .type = ty, .desc = "defaulted", .def = def_ },                 \
        { 0 } };                                                                        \
    static const struct fw_path var = { .pattern = pat, .fields = var##_fields,        \
        .ops = { [FW_READ] = { echo, NULL }, [FW_UPDATE] = { echo, NULL } } }

/* A table of paths is data; a macro here only saves repeating nine identical literals. */
TYPE_PATH(p_string, "string", FW_TYPE_STRING, "abc");
TYPE_PATH(p_int, "int", FW_TYPE_INT, "010");
TYPE_PATH(p_bool, "bool", FW_TYPE_BOOL, "true");
TYPE_PATH(p_duration, "duration", FW_TYPE_DURATION, "72h");
TYPE_PATH(p_comma, "comma", FW_TYPE_COMMA_STRING_SLICE, "a, b");
TYPE_PATH(p_slice, "slice", FW_TYPE_STRING_SLICE, "a, b");
TYPE_PATH(p_map, "map", FW_TYPE_MAP, NULL);
TYPE_PATH(p_name, "name", FW_TYPE_NAME, "my-role");
TYPE_PATH(p_lower, "lower", FW_TYPE_LOWERCASE_STRING, "ABC");

static const char *const key_types[] = { "rsa", "ec", NULL };
static const struct fw_field enum_fields[] = {
    { .name = "v", .type = FW_TYPE_STRING, .allowed = key_types, .desc = "key type" },
    { .name = "d", .type = FW_TYPE_STRING, .allowed = key_types, .def = "ec" },
    { 0 }
};
static const struct fw_path p_enum = { .pattern = "enum", .fields = enum_fields,
    .ops = { [FW_READ] = { echo, NULL }, [FW_UPDATE] = { echo, NULL } } };

/* "v" says "" means its default; "d" has the same default and set but does not. */
static const struct fw_field enum_default_fields[] = {
    { .name = "v", .type = FW_TYPE_STRING, .allowed = key_types, .def = "ec",
      .empty_is_default = true },
    { .name = "d", .type = FW_TYPE_STRING, .allowed = key_types, .def = "ec" },
    { 0 }
};
static const struct fw_path p_enum_default = { .pattern = "enum-default",
    .fields = enum_default_fields,
    .ops = { [FW_READ] = { echo, NULL }, [FW_UPDATE] = { echo, NULL } } };

static const struct fw_field bad_default_fields[] = {
    { .name = "v", .type = FW_TYPE_INT, .def = "not-a-number" }, { 0 }
};
static const struct fw_path p_bad_default = { .pattern = "bad-default",
    .fields = bad_default_fields, .ops = { [FW_READ] = { echo, NULL } } };

static const struct fw_path *const paths[] = {
    &p_string, &p_int, &p_bool, &p_duration, &p_comma, &p_slice, &p_map, &p_name, &p_lower,
    &p_enum, &p_enum_default, &p_bad_default, NULL
};
static const struct fw_backend backend = { .name = "fields-test", .paths = paths };

/* body: JSON text of the request data (NULL: no data). want: JSON text of the echoed "v",
 * or NULL when an error is expected, whose text must contain err. */
struct field_case {
    const char *name, *path, *body, *want, *err;
};

static const struct field_case cases[] = {
    /* string */
    { "string as is", "string", "{\"v\":\"hello\"}", "\"hello\"", NULL },
    { "string from int", "string", "{\"v\":3}", "\"3\"", NULL },
    { "string from float", "string", "{\"v\":1.5}", "\"1.5\"", NULL },
    { "string from big number", "string", "{\"v\":1e21}", "\"1000000000000000000000\"", NULL },
    { "string from bool", "string", "{\"v\":true}", "\"1\"", NULL },
    { "string null is absent", "string", "{\"v\":null}", "\"\"", NULL },
    { "string from array", "string", "{\"v\":[\"a\"]}", NULL, "unconvertible type 'array'" },
    { "string from object", "string", "{\"v\":{}}", NULL, "unconvertible" },
    /* int */
    { "int number", "int", "{\"v\":5}", "5", NULL },
    { "int fraction refused", "int", "{\"v\":1.5}", NULL, "not a whole number" },
    { "int negative fraction refused", "int", "{\"v\":-1.9}", NULL, "not a whole number" },
    { "int whole float", "int", "{\"v\":2.0}", "2", NULL },
    { "int string", "int", "{\"v\":\"42\"}", "42", NULL },
    { "int leading zero is decimal", "int", "{\"v\":\"010\"}", "10", NULL },
    { "int hex refused", "int", "{\"v\":\"0x10\"}", NULL, "invalid syntax" },
    { "int binary refused", "int", "{\"v\":\"-0b101\"}", NULL, "invalid syntax" },
    { "int underscores refused", "int", "{\"v\":\"1_000\"}", NULL, "invalid syntax" },
    { "int empty", "int", "{\"v\":\"\"}", "0", NULL },
    { "int bool refused", "int", "{\"v\":true}", NULL, "unconvertible type 'bool'" },
    { "int 08 is decimal", "int", "{\"v\":\"08\"}", "8", NULL },
    { "int float string", "int", "{\"v\":\"1.5\"}", NULL, "invalid syntax" },
    { "int words", "int", "{\"v\":\"abc\"}", NULL, "cannot parse \"abc\" as int" },
    { "int spaces", "int", "{\"v\":\" 1\"}", NULL, "invalid syntax" },
    { "int overflow", "int", "{\"v\":\"9223372036854775808\"}", NULL, "out of range" },
    { "int min", "int", "{\"v\":\"-9223372036854775808\"}", "-9223372036854775808", NULL },
    { "int array", "int", "{\"v\":[\"1\",\"2\"]}", NULL, "unconvertible type 'array'" },
    /* bool */
    { "bool true", "bool", "{\"v\":true}", "true", NULL },
    { "bool string true", "bool", "{\"v\":\"true\"}", "true", NULL },
    { "bool string 1", "bool", "{\"v\":\"1\"}", "true", NULL },
    { "bool string T", "bool", "{\"v\":\"T\"}", "true", NULL },
    { "bool string F", "bool", "{\"v\":\"F\"}", "false", NULL },
    { "bool string False", "bool", "{\"v\":\"False\"}", "false", NULL },
    { "bool empty", "bool", "{\"v\":\"\"}", "false", NULL },
    { "bool number 1", "bool", "{\"v\":1}", "true", NULL },
    { "bool number 0", "bool", "{\"v\":0}", "false", NULL },
    { "bool yes", "bool", "{\"v\":\"yes\"}", NULL, "cannot parse \"yes\" as bool" },
    { "bool array", "bool", "{\"v\":[]}", NULL, "unconvertible" },
    /* duration */
    { "duration 90s", "duration", "{\"v\":\"90s\"}", "90", NULL },
    { "duration 1h", "duration", "{\"v\":\"1h\"}", "3600", NULL },
    { "duration plain seconds", "duration", "{\"v\":\"3600\"}", "3600", NULL },
    { "duration days", "duration", "{\"v\":\"1d\"}", "86400", NULL },
    { "duration 1h30m", "duration", "{\"v\":\"1h30m\"}", "5400", NULL },
    { "duration 1.5h", "duration", "{\"v\":\"1.5h\"}", "5400", NULL },
    { "duration 500ms", "duration", "{\"v\":\"500ms\"}", "0", NULL },
    { "duration micro sign", "duration", "{\"v\":\"2000000\xc2\xb5s\"}", "2", NULL },
    { "duration number", "duration", "{\"v\":90}", "90", NULL },
    { "duration fraction", "duration", "{\"v\":1.9}", "1", NULL },
    { "duration empty", "duration", "{\"v\":\"\"}", "0", NULL },
    { "duration negative", "duration", "{\"v\":\"-1\"}", NULL, "cannot provide negative value" },
    { "duration negative go", "duration", "{\"v\":\"-5s\"}", NULL, "negative" },
    { "duration negative number", "duration", "{\"v\":-3}", NULL, "negative" },
    { "duration negative days", "duration", "{\"v\":\"-1d\"}", NULL, "negative" },
    { "duration fractional days", "duration", "{\"v\":\"1.5d\"}", NULL, "invalid duration" },
    { "duration mixed days", "duration", "{\"v\":\"1d12h\"}", NULL, "unknown unit" },
    { "duration words", "duration", "{\"v\":\"soon\"}", NULL, "invalid syntax" },
    { "duration unit missing", "duration", "{\"v\":\"1h5\"}", NULL, "invalid syntax" },
    { "duration bool", "duration", "{\"v\":true}", NULL, "could not parse duration" },
    /* comma-string-slice */
    { "comma split", "comma", "{\"v\":\"a,b\"}", "[\"a\",\"b\"]", NULL },
    { "comma trims", "comma", "{\"v\":\" a , b \"}", "[\"a\",\"b\"]", NULL },
    { "comma keeps empty", "comma", "{\"v\":\"a,,b\"}", "[\"a\",\"\",\"b\"]", NULL },
    { "comma empty", "comma", "{\"v\":\"\"}", "[]", NULL },
    { "comma array", "comma", "{\"v\":[\"x\",\" y \"]}", "[\"x\",\"y\"]", NULL },
    { "comma array no split", "comma", "{\"v\":[\"a,b\"]}", "[\"a,b\"]", NULL },
    { "comma number", "comma", "{\"v\":5}", "[\"5\"]", NULL },
    { "comma object", "comma", "{\"v\":{}}", NULL, "expected a list" },
    { "comma nested", "comma", "{\"v\":[[1]]}", NULL, "unconvertible" },
    /* string-slice */
    { "slice string is one", "slice", "{\"v\":\"a,b\"}", "[\"a,b\"]", NULL },
    { "slice weak elements", "slice", "{\"v\":[\"a\",1,true]}", "[\"a\",\"1\",\"1\"]", NULL },
    { "slice empty", "slice", "{\"v\":\"\"}", "[]", NULL },
    { "slice trims", "slice", "{\"v\":[\" a \"]}", "[\"a\"]", NULL },
    /* map */
    { "map object", "map", "{\"v\":{\"a\":1}}", "{\"a\":1}", NULL },
    { "map empty array", "map", "{\"v\":[]}", "{}", NULL },
    { "map string", "map", "{\"v\":\"x\"}", NULL, "expected a map" },
    /* name */
    { "name ok", "name", "{\"v\":\"my-role.1\"}", "\"my-role.1\"", NULL },
    { "name one char", "name", "{\"v\":\"a\"}", "\"a\"", NULL },
    { "name leading dash", "name", "{\"v\":\"-bad\"}", NULL, "formatting rules" },
    { "name space", "name", "{\"v\":\"a b\"}", NULL, "formatting rules" },
    { "name empty", "name", "{\"v\":\"\"}", NULL, "formatting rules" },
    /* lowercase */
    { "lowercase", "lower", "{\"v\":\"AbC\"}", "\"abc\"", NULL },
    /* allowed values */
    { "enum ok", "enum", "{\"v\":\"rsa\"}", "\"rsa\"", NULL },
    { "enum refused", "enum", "{\"v\":\"dsa\"}", NULL, "allowed values [rsa ec]" },
    { "enum empty refused", "enum", "{\"v\":\"\"}", NULL, "allowed values [rsa ec]" },
    /* empty_is_default: "" is the default (Terraform provider >= 5.9), nothing else is */
    { "enum empty is default", "enum-default", "{\"v\":\"\"}", "\"ec\"", NULL },
    { "enum default other value", "enum-default", "{\"v\":\"rsa\"}", "\"rsa\"", NULL },
    { "enum default still refuses", "enum-default", "{\"v\":\"dsa\"}", NULL,
      "allowed values [rsa ec]" },
    { "enum default blank refused", "enum-default", "{\"v\":\" \"}", NULL, "allowed values" },
    { "enum default null absent", "enum-default", "{\"v\":null}", "\"ec\"", NULL },
    /* absent and null */
    { "absent is zero", "int", "{}", "0", NULL },
    { "no data", "int", NULL, "0", NULL },
    { "array data", "int", "[1,2]", "0", NULL },
    { "string data", "int", "\"x\"", "0", NULL },
};

static void run(const char *path, enum fw_op op, const char *body, struct fw_resp *resp)
{
    struct fw_storage *s = memstore_new();
    cJSON *data = body ? cJSON_Parse(body) : NULL;
    assert_true(!body || data);
    struct fw_req req = { .operation = op == FW_READ ? "read" : "update", .op = op,
                          .path = path, .data = data, .storage = s, .id = "t" };
    fw_handle_request(&backend, &req, resp);
    cJSON_Delete(data);
    memstore_free(s);
}

static void test_cases(void **state)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct field_case *c = &cases[i];
        struct fw_resp resp;
        run(c->path, FW_UPDATE, c->body, &resp);
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp.data, "error");
        char *got = cJSON_PrintUnformatted(resp.data);
        if (resp.status != FW_STATUS_OK) {
            fprintf(stderr, "FAIL %s: status %d\n", c->name, resp.status);
            failed++;
        } else if (c->want) {
            cJSON *want = cJSON_Parse(c->want);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(resp.data, "v");
            if (err || !want || !cJSON_Compare(v, want, true)) {
                fprintf(stderr, "FAIL %s: want v=%s, got %s\n", c->name, c->want, got);
                failed++;
            }
            cJSON_Delete(want);
        } else {
            const char *msg = cJSON_GetStringValue(err);
            const char *prefix =
                "Field validation failed: error converting input for field \"v\": ";
            if (!msg || strncmp(msg, prefix, strlen(prefix)) != 0 || !strstr(msg, c->err)) {
                fprintf(stderr, "FAIL %s: want error containing '%s', got %s\n", c->name,
                        c->err, got);
                failed++;
            }
        }
        free(got);
        fw_resp_clear(&resp);
    }
    assert_int_equal(failed, 0);
}

/* Defaults are strings parsed by the input rules; present is false for them. */
static void test_defaults(void **state)
{
    static const struct { const char *path, *want; } defs[] = {
        { "string", "\"abc\"" }, { "int", "10" }, { "bool", "true" }, { "duration", "259200" },
        { "comma", "[\"a\",\"b\"]" }, { "slice", "[\"a, b\"]" }, { "map", "{}" },
        { "name", "\"my-role\"" }, { "lower", "\"abc\"" }, { "enum", "\"ec\"" },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        struct fw_resp resp;
        run(defs[i].path, FW_READ, NULL, &resp);
        cJSON *want = cJSON_Parse(defs[i].want);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(resp.data, "d");
        if (!cJSON_Compare(d, want, true) ||
            !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(resp.data, "d_present"))) {
            char *got = cJSON_PrintUnformatted(resp.data);
            fprintf(stderr, "FAIL default %s: want %s, got %s\n", defs[i].path, defs[i].want,
                    got);
            free(got);
            failed++;
        }
        cJSON_Delete(want);
        fw_resp_clear(&resp);
    }
    assert_int_equal(failed, 0);
}

/* Query strings arrive as strings (or arrays for repeated keys) on GET: same rules. */
static void test_query_strings(void **state)
{
    struct fw_resp resp;
    run("duration", FW_READ, "{\"v\":\"2m\"}", &resp);
    assert_int_equal(resp.status, FW_STATUS_OK);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(resp.data, "v")->valuedouble, 120);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.data, "v_present")));
    fw_resp_clear(&resp);

    run("comma", FW_READ, "{\"v\":[\"a\",\"b\"]}", &resp);
    cJSON *want = cJSON_Parse("[\"a\",\"b\"]");
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(resp.data, "v"), want, true));
    cJSON_Delete(want);
    fw_resp_clear(&resp);
}

/* "" on an empty_is_default field reads as set (the client asked for the default); the
 * same "" on a field without the flag is refused, and names that field. */
static void test_empty_is_default(void **state)
{
    struct fw_resp resp;
    run("enum-default", FW_UPDATE, "{\"v\":\"\"}", &resp);
    assert_int_equal(resp.status, FW_STATUS_OK);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp.data, "v")),
                        "ec");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.data, "v_present")));
    fw_resp_clear(&resp);

    run("enum-default", FW_UPDATE, "{\"v\":\"\",\"d\":\"\"}", &resp);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp.data, "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "for field \"d\": value is not one of the allowed values"));
    fw_resp_clear(&resp);
}

/* A default that does not parse is a bug in the table: generic 500, not a 400. */
static void test_bad_default(void **state)
{
    struct fw_resp resp;
    run("bad-default", FW_READ, NULL, &resp);
    assert_int_equal(resp.status, FW_STATUS_INTERNAL);
    assert_string_equal(resp.err_msg, "internal error");
    assert_null(resp.data);
    fw_resp_clear(&resp);
}

/* The error names the field that failed, whichever it is. */
static void test_error_names_field(void **state)
{
    struct fw_resp resp;
    run("int", FW_UPDATE, "{\"v\":1,\"d\":\"zz\"}", &resp);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp.data, "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "for field \"d\""));
    fw_resp_clear(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_query_strings),
        cmocka_unit_test(test_empty_is_default),
        cmocka_unit_test(test_bad_default),
        cmocka_unit_test(test_error_names_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
