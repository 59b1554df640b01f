/* test_fw_help.c: the help operation: path-help text, the root index, and the OpenAPI
 * object in the shape the host decodes strictly (protocol doc §6.11). */
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

static int nop(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
               struct err *e)
{
    return 0;
}

static int exists_no(const struct fw_req *req, const struct fw_data *d, bool *exists,
                     struct err *e)
{
    *exists = false;
    return 0;
}

static const char *const key_types[] = { "rsa", "ec", NULL };
static const struct fw_field role_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .desc = "Name of the role." },
    { .name = "ttl", .type = FW_TYPE_DURATION, .def = "72h",
      .desc = "Lifetime of issued certificates.\nSecond line of the description." },
    { .name = "key_type", .type = FW_TYPE_STRING, .allowed = key_types, .def = "ec",
      .required = true, .desc = "Key algorithm." },
    { .name = "domains", .type = FW_TYPE_COMMA_STRING_SLICE, .desc = "Allowed domains." },
    { .name = "verbose", .type = FW_TYPE_BOOL, .query = true, .desc = "Say more." },
    { 0 }
};
static const struct fw_path p_role = {
    .pattern = "roles/" FW_NAME_RE("name"),
    .fields = role_fields,
    .exists = exists_no,
    .ops = {
        [FW_READ] = { nop, "Read a role." }, [FW_CREATE] = { nop, "Create a role." },
        [FW_UPDATE] = { nop, "Update a role." }, [FW_DELETE] = { nop, "Delete a role." },
        [FW_PATCH] = { nop, "Patch a role." },
    },
    .synopsis = "Manage roles.",
    .description = "Roles decide what may be issued.",
};
static const struct fw_path p_roles = {
    .pattern = "roles/?",
    .ops = { [FW_LIST] = { nop, "List roles." } },
    .synopsis = "List roles.",
};
static const struct fw_path p_regex = {
    .pattern = "raw/[a-z]+",
    .ops = { [FW_READ] = { nop, NULL } },
    .synopsis = "Not expressible in OpenAPI.",
};
static const struct fw_path p_alt = {
    .pattern = "(?:issue|sign)/" FW_NAME_RE("role"),
    .ops = { [FW_UPDATE] = { nop, NULL } },
    .synopsis = "Issue or sign.",
};
static const char *const root_paths[] = { "roles/*", NULL };
static const struct fw_path *const paths[] = { &p_roles, &p_role, &p_regex, &p_alt, NULL };
static const struct fw_backend backend = {
    .name = "help-test", .version = "v1.2.3",
    .help = "The help test backend.\nIt has roles.",
    .paths = paths,
    .special = { .root = root_paths },
};

static void run(const char *path, const char *body, struct fw_resp *resp)
{
    struct fw_storage *s = memstore_new();
    cJSON *data = body ? cJSON_Parse(body) : NULL;
    struct fw_req req = { .operation = "help", .path = path, .data = data, .storage = s };
    fw_handle_request(&backend, &req, resp);
    cJSON_Delete(data);
    memstore_free(s);
}

static const cJSON *at(const cJSON *j, const char *a, const char *b, const char *c)
{
    j = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        j = cJSON_GetObjectItemCaseSensitive(j, b);
    if (c)
        j = cJSON_GetObjectItemCaseSensitive(j, c);
    return j;
}

/* The host decodes the document into typed Go structs: check every member's JSON type. */
static int check_schema(const cJSON *s, const char *where)
{
    int bad = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, s) {
        const char *k = m->string;
        bool ok = true;
        if (!strcmp(k, "type") || !strcmp(k, "description") || !strcmp(k, "format") ||
            !strcmp(k, "pattern") || !strcmp(k, "$ref"))
            ok = cJSON_IsString(m);
        else if (!strcmp(k, "required"))
            ok = cJSON_IsArray(m);
        else if (!strcmp(k, "enum"))
            ok = cJSON_IsArray(m);
        else if (!strcmp(k, "deprecated"))
            ok = cJSON_IsBool(m);
        else if (!strcmp(k, "items"))
            ok = cJSON_IsObject(m) && check_schema(m, where) == 0;
        else if (!strcmp(k, "properties")) {
            const cJSON *p;
            ok = cJSON_IsObject(m);
            cJSON_ArrayForEach(p, m) bad += check_schema(p, where);
        }
        if (!ok) {
            fprintf(stderr, "FAIL %s: schema member %s has the wrong type\n", where, k);
            bad++;
        }
    }
    return bad;
}

static int check_params(const cJSON *params, const char *where)
{
    int bad = 0;
    const cJSON *p;
    if (!params)
        return 0;
    if (!cJSON_IsArray(params))
        return 1;
    cJSON_ArrayForEach(p, params) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(p, "required");
        const char *in = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "in"));
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "name")) || !in ||
            (strcmp(in, "path") && strcmp(in, "query")) || (req && !cJSON_IsBool(req))) {
            fprintf(stderr, "FAIL %s: bad parameter\n", where);
            bad++;
        }
        bad += check_schema(cJSON_GetObjectItemCaseSensitive(p, "schema"), where);
    }
    return bad;
}

static int check_doc(const cJSON *doc)
{
    int bad = 0;
    const cJSON *pi, *m;
    if (strcmp(cJSON_GetStringValue(at(doc, "openapi", NULL, NULL)), "3.0.2") ||
        !cJSON_IsString(at(doc, "info", "title", NULL)) ||
        !cJSON_IsString(at(doc, "info", "version", NULL)) ||
        !cJSON_IsString(at(doc, "info", "license", "name")) ||
        !cJSON_IsString(at(doc, "info", "license", "url")) ||
        !cJSON_IsObject(at(doc, "paths", NULL, NULL)) ||
        !cJSON_IsObject(at(doc, "components", "schemas", NULL)))
        return 1;
    cJSON_ArrayForEach(pi, at(doc, "paths", NULL, NULL)) {
        const char *where = pi->string;
        if (where[0] != '/')
            bad++;
        cJSON_ArrayForEach(m, pi) {
            const char *k = m->string;
            if (!strcmp(k, "description")) {
                bad += !cJSON_IsString(m);
            } else if (!strcmp(k, "parameters")) {
                bad += check_params(m, where);
            } else if (!strncmp(k, "x-vault-", 8)) {
                bad += !cJSON_IsBool(m);
            } else if (!strcmp(k, "get") || !strcmp(k, "post") || !strcmp(k, "delete") ||
                       !strcmp(k, "patch")) {
                const cJSON *r;
                bad += !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "operationId"));
                bad += !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "tags"));
                bad += check_params(cJSON_GetObjectItemCaseSensitive(m, "parameters"), where);
                const cJSON *resps = cJSON_GetObjectItemCaseSensitive(m, "responses");
                bad += !cJSON_IsObject(resps) || cJSON_GetArraySize(resps) == 0;
                cJSON_ArrayForEach(r, resps) {
                    int code = atoi(r->string);
                    bad += code < 100 || code > 599 ||
                           !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "description"));
                }
                const cJSON *json = at(m, "requestBody", "content", "application/json");
                if (cJSON_GetObjectItemCaseSensitive(m, "requestBody")) {
                    /* inline: the host drops $ref when it merges a plugin's document */
                    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(json, "schema");
                    if (!sch || cJSON_GetObjectItemCaseSensitive(sch, "$ref") ||
                        !cJSON_GetObjectItemCaseSensitive(sch, "properties")) {
                        fprintf(stderr, "FAIL %s: requestBody schema not inline\n", where);
                        bad++;
                    } else {
                        bad += check_schema(sch, where);
                    }
                }
            } else {
                fprintf(stderr, "FAIL %s: unexpected path item member %s\n", where, k);
                bad++;
            }
        }
    }
    cJSON_ArrayForEach(m, at(doc, "components", "schemas", NULL))
        bad += check_schema(m, m->string);
    return bad;
}

static void test_path_help_text(void **state)
{
    struct fw_resp r;
    run("roles/web", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    const char *help = cJSON_GetStringValue(at(r.data, "help", NULL, NULL));
    assert_non_null(help);
    static const char *const want[] = {
        "Request:        roles/web\n",
        "Matching Route: ^roles/(?<name>",
        "Manage roles.",
        "## PARAMETERS",
        "    key_type (string)\n        Key algorithm.\n",
        "    ttl (duration (sec))\n        Lifetime of issued certificates.\n"
        "        Second line of the description.\n",
        "    domains (slice)",
        "    name (name string)",
        "## DESCRIPTION\n\nRoles decide what may be issued.",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(help, want[i]))
            fail_msg("help text lacks \"%s\":\n%s", want[i], help);
    }
    /* sorted by name */
    assert_true(strstr(help, "domains (") < strstr(help, "key_type ("));
    assert_true(cJSON_IsNull(at(r.data, "see_also", NULL, NULL)));
    assert_true(cJSON_IsObject(at(r.data, "openapi", NULL, NULL)));
    fw_resp_clear(&r);
}

static void test_path_openapi(void **state)
{
    struct fw_resp r;
    run("roles/web", NULL, &r);
    const cJSON *doc = at(r.data, "openapi", NULL, NULL);
    assert_int_equal(check_doc(doc), 0);
    const cJSON *pi = at(doc, "paths", "/roles/{name}", NULL);
    assert_non_null(pi);
    assert_int_equal(cJSON_GetArraySize(at(doc, "paths", NULL, NULL)), 1);
    assert_string_equal(cJSON_GetStringValue(at(pi, "description", NULL, NULL)), "Manage roles.");
    assert_true(cJSON_IsTrue(at(pi, "x-vault-createSupported", NULL, NULL)));
    assert_true(cJSON_IsTrue(at(pi, "x-vault-sudo", NULL, NULL)));
    const cJSON *param = cJSON_GetArrayItem(at(pi, "parameters", NULL, NULL), 0);
    assert_string_equal(cJSON_GetStringValue(at(param, "name", NULL, NULL)), "name");
    assert_string_equal(cJSON_GetStringValue(at(param, "in", NULL, NULL)), "path");
    assert_true(cJSON_IsTrue(at(param, "required", NULL, NULL)));
    assert_non_null(at(pi, "get", NULL, NULL));
    assert_non_null(at(pi, "post", NULL, NULL));
    assert_non_null(at(pi, "patch", NULL, NULL));
    assert_non_null(at(at(pi, "delete", "responses", NULL), "204", NULL, NULL));
    assert_string_equal(cJSON_GetStringValue(at(at(pi, "get", "responses", NULL), "200",
                                                "description", NULL)), "OK");
    /* query field on GET, body fields in the request schema with typed defaults */
    const cJSON *gp = cJSON_GetArrayItem(at(pi, "get", "parameters", NULL), 0);
    assert_string_equal(cJSON_GetStringValue(at(gp, "name", NULL, NULL)), "verbose");
    assert_string_equal(cJSON_GetStringValue(at(gp, "in", NULL, NULL)), "query");
    /* inline (the host drops $ref), a valid ECMA-262 pattern for the name parameter */
    const cJSON *schema =
        at(at(pi, "post", "requestBody", "content"), "application/json", "schema", NULL);
    assert_non_null(schema);
    assert_null(at(schema, "$ref", NULL, NULL));
    assert_string_equal(cJSON_GetStringValue(at(param, "schema", "pattern", NULL)),
                        "^\\w([\\w.-]*\\w)?$");
    const cJSON *props = at(schema, "properties", NULL, NULL);
    assert_null(at(props, "name", NULL, NULL));   /* a path parameter, not a body field */
    assert_string_equal(cJSON_GetStringValue(at(props, "ttl", "type", NULL)), "integer");
    assert_int_equal(at(props, "ttl", "default", NULL)->valuedouble, 259200);
    assert_string_equal(cJSON_GetStringValue(at(props, "domains", "items", "type")), "string");
    assert_int_equal(cJSON_GetArraySize(at(props, "key_type", "enum", NULL)), 2);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
                            at(schema, "required", NULL, NULL), 0)), "key_type");
    fw_resp_clear(&r);
}

static void test_list_openapi(void **state)
{
    struct fw_resp r;
    run("roles/", NULL, &r);
    const cJSON *doc = at(r.data, "openapi", NULL, NULL);
    assert_int_equal(check_doc(doc), 0);
    static const char *const keys[] = { "/roles", "/roles/" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *get = at(doc, "paths", keys[i], "get");
        assert_non_null(get);
        const cJSON *lp = cJSON_GetArrayItem(at(get, "parameters", NULL, NULL), 0);
        assert_string_equal(cJSON_GetStringValue(at(lp, "name", NULL, NULL)), "list");
        assert_string_equal(cJSON_GetStringValue(at(lp, "in", NULL, NULL)), "query");
        assert_true(cJSON_IsTrue(at(lp, "required", NULL, NULL)));
        const cJSON *en = at(lp, "schema", "enum", NULL);
        assert_int_equal(cJSON_GetArraySize(en), 1);
        assert_string_equal(cJSON_GetArrayItem(en, 0)->valuestring, "true");
    }
    fw_resp_clear(&r);
}

static void test_root_help(void **state)
{
    struct fw_resp r;
    run("", "{\"requestResponsePrefix\":\"helptest\"}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    const char *help = cJSON_GetStringValue(at(r.data, "help", NULL, NULL));
    assert_non_null(help);
    assert_non_null(strstr(help, "The help test backend.\nIt has roles."));
    assert_non_null(strstr(help, "## PATHS"));
    assert_non_null(strstr(help, "    ^roles/?$\n        List roles.\n"));
    assert_non_null(strstr(help, "    ^raw/[a-z]+$\n"));
    const cJSON *doc = at(r.data, "openapi", NULL, NULL);
    assert_int_equal(check_doc(doc), 0);
    static const char *const keys[] = {
        "/roles", "/roles/", "/roles/{name}", "/issue/{role}", "/sign/{role}", "/raw/[a-z]+",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!at(doc, "paths", keys[i], NULL))
            fail_msg("openapi lacks path %s", keys[i]);
    }
    assert_int_equal(cJSON_GetArraySize(at(doc, "paths", NULL, NULL)), 6);
    assert_null(at(doc, "paths", "/raw/[a-z]+", "get"));   /* unpublishable: no operations */
    const char *id = cJSON_GetStringValue(at(at(doc, "paths", "/roles/{name}", "get"),
                                             "operationId", NULL, NULL));
    assert_non_null(id);
    assert_int_equal(strncmp(id, "helptest-", 9), 0);
    assert_string_equal(cJSON_GetStringValue(at(doc, "info", "version", NULL)), "v1.2.3");
    fw_resp_clear(&r);

    /* operation ids are unique */
    run("", NULL, &r);
    doc = at(r.data, "openapi", NULL, NULL);
    cJSON *seen = cJSON_CreateObject();
    const cJSON *pi, *op;
    cJSON_ArrayForEach(pi, at(doc, "paths", NULL, NULL)) {
        cJSON_ArrayForEach(op, pi) {
            const char *oid = cJSON_GetStringValue(at(op, "operationId", NULL, NULL));
            if (!oid)
                continue;
            if (cJSON_GetObjectItemCaseSensitive(seen, oid))
                fail_msg("duplicate operationId %s", oid);
            cJSON_AddTrueToObject(seen, oid);
        }
    }
    cJSON_Delete(seen);
    fw_resp_clear(&r);
}

static void test_help_unknown_path(void **state)
{
    struct fw_resp r;
    run("nowhere/at/all", NULL, &r);
    assert_int_equal(r.status, FW_STATUS_UNSUPPORTED_PATH);
    assert_null(r.data);
    fw_resp_clear(&r);
    /* odd data on help never matters */
    run("roles/web", "[1,2]", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);
    run("", "{\"requestResponsePrefix\":5}", &r);
    assert_int_equal(r.status, FW_STATUS_OK);
    fw_resp_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_help_text),
        cmocka_unit_test(test_path_openapi),
        cmocka_unit_test(test_list_openapi),
        cmocka_unit_test(test_root_help),
        cmocka_unit_test(test_help_unknown_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
