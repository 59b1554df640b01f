/* test_runtime_convert.c: pb.Request -> struct fw_req and struct fw_resp -> pb replies, checked
 * on the wire (packed, then unpacked as the host would see it). Rules from
 * vault-plugin-protocol.md §6.4-6.6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../../src/runtime/convert.h"

static void test_op(void **state)
{
    static const struct { const char *name; enum fw_op op; } cases[] = {
        { "read", FW_READ }, { "create", FW_CREATE }, { "update", FW_UPDATE },
        { "patch", FW_PATCH }, { "delete", FW_DELETE }, { "list", FW_LIST },
        { "help", FW_READ }, { "rollback", FW_READ }, { "", FW_READ }, { NULL, FW_READ },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (convert_op(cases[i].name) != cases[i].op)
            fail_msg("op %s", cases[i].name ? cases[i].name : "NULL");
}

static void test_request(void **state)
{
    static const struct { const char *data; int rc; bool has_data; } cases[] = {
        { "", 0, false }, { "null", 0, false }, { "{}", 0, true },
        { "{\"a\":\"b\",\"n\":10}", 0, true }, { "[1,2]", -1, false }, { "nope", -1, false },
        { "\"s\"", -1, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Pb__Request in = PB__REQUEST__INIT;
        struct fw_req req;
        cJSON *data = (cJSON *)1;
        struct err e = { 0 };
        in.operation = "update";
        in.path = "kv/a";
        in.id = "req-1";
        in.entity_id = "ent-1";
        in.mount_point = "kv/";
        in.data = (char *)cases[i].data;
        int rc = convert_request(&in, &req, &data, &e);
        if (rc != cases[i].rc || (data != NULL) != cases[i].has_data)
            fail_msg("data %s: rc %d", cases[i].data, rc);
        if (rc != 0) {
            assert_int_equal(e.kind, ERR_INVALID);
            continue;
        }
        assert_ptr_equal(req.data, data);
        assert_int_equal(req.op, FW_UPDATE);
        assert_string_equal(req.operation, "update");
        assert_string_equal(req.path, "kv/a");
        assert_string_equal(req.id, "req-1");
        assert_string_equal(req.entity_id, "ent-1");
        assert_string_equal(req.mount_point, "kv/");
        cJSON_Delete(data);
    }
}

/* Packs a reply and unpacks it again, as the host would receive it. */
static Pb__HandleRequestReply *roundtrip(const struct fw_resp *r)
{
    struct convert_reply cr;
    convert_response(r, &cr);
    size_t len = pb__handle_request_reply__get_packed_size(&cr.reply);
    uint8_t *buf = malloc(len ? len : 1);
    pb__handle_request_reply__pack(&cr.reply, buf);
    convert_reply_clear(&cr);
    Pb__HandleRequestReply *out = pb__handle_request_reply__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

struct resp_case {
    const char *name;
    enum fw_status status;
    const char *data;        /* JSON for fw_resp.data, or NULL */
    const char *warning;     /* one warning, or NULL */
    const char *msg;
    bool want_response;
    const char *want_data;   /* Response.data on the wire */
    int want_err_type;       /* -1: no ProtoError */
};

static const struct resp_case resp_cases[] = {
    { "nil", FW_STATUS_OK, NULL, NULL, "", false, NULL, -1 },
    { "data", FW_STATUS_OK, "{\"a\":1,\"b\":\"x\"}", NULL, "", true, "{\"a\":1,\"b\":\"x\"}", -1 },
    { "empty data", FW_STATUS_OK, "{}", NULL, "", true, "{}", -1 },
    { "warning only", FW_STATUS_OK, NULL, "careful", "", true, "null", -1 },
    { "user error", FW_STATUS_USER_ERROR, NULL, NULL, "field ttl: bad", true,
      "{\"error\":\"field ttl: bad\"}", -1 },
    /* a raw 404 whose body (base64 of {"errors":["order x: not found"]}) names the object */
    { "not found", FW_STATUS_NOT_FOUND, NULL, NULL, "order x: not found", true,
      "{\"http_status_code\":404,\"http_content_type\":\"application/json\","
      "\"http_raw_body\":\"eyJlcnJvcnMiOlsib3JkZXIgeDogbm90IGZvdW5kIl19\"}", -1 },
    { "no path", FW_STATUS_UNSUPPORTED_PATH, NULL, NULL, "", false, NULL, 6 },
    { "no op", FW_STATUS_UNSUPPORTED_OP, NULL, NULL, "", false, NULL, 5 },
    { "internal", FW_STATUS_INTERNAL, NULL, NULL, "internal error", false, NULL, 0 },
    { "internal, no text", FW_STATUS_INTERNAL, NULL, NULL, "", false, NULL, 0 },
    { "read-only", FW_STATUS_READ_ONLY, NULL, NULL, "", false, NULL, 0 },
};

static void check_resp_case(const struct resp_case *c)
{
    struct fw_resp r;
    memset(&r, 0, sizeof r);
    r.status = c->status;
    snprintf(r.err_msg, sizeof r.err_msg, "%s", c->msg);
    r.data = c->data ? cJSON_Parse(c->data) : NULL;
    if (c->warning) {
        r.warnings = cJSON_CreateArray();
        cJSON_AddItemToArray(r.warnings, cJSON_CreateString(c->warning));
    }
    Pb__HandleRequestReply *out = roundtrip(&r);
    if ((out->response != NULL) != c->want_response)
        fail_msg("%s: response presence", c->name);
    if (c->want_data)
        assert_string_equal(out->response->data, c->want_data);
    if (c->warning) {
        assert_int_equal(out->response->n_warnings, 1);
        assert_string_equal(out->response->warnings[0], c->warning);
    }
    if (c->want_err_type < 0) {
        assert_null(out->err);
    } else {
        assert_non_null(out->err);
        assert_int_equal(out->err->err_type, c->want_err_type);
        assert_true(strlen(out->err->err_msg) > 0);   /* never an empty error text */
    }
    pb__handle_request_reply__free_unpacked(out, NULL);
    cJSON_Delete(r.data);
    cJSON_Delete(r.warnings);
}

static void test_response(void **state)
{
    for (size_t i = 0; i < sizeof resp_cases / sizeof resp_cases[0]; i++)
        check_resp_case(&resp_cases[i]);
}

/* A standby's read-only storage: the wire form is ProtoError type 0 (pb.ErrTypeUnknown,
 * which the host's ProtoErrToErr turns into errors.New(msg)) whose text is exactly
 * logical.ErrReadOnly's, so logical.ShouldForward forwards the request. */
static void test_response_read_only(void **state)
{
    struct fw_resp r;
    memset(&r, 0, sizeof r);
    r.status = FW_STATUS_READ_ONLY;
    snprintf(r.err_msg, sizeof r.err_msg, "storage put x: something else");
    Pb__HandleRequestReply *out = roundtrip(&r);
    assert_null(out->response);
    assert_non_null(out->err);
    assert_int_equal(out->err->err_type, 0);
    assert_string_equal(out->err->err_msg, "cannot write to readonly storage");
    pb__handle_request_reply__free_unpacked(out, NULL);
}

static void test_existence(void **state)
{
    static const struct {
        enum fw_status st; bool found, exists; int want_err;
    } cases[] = {
        { FW_STATUS_OK, false, false, -1 }, { FW_STATUS_OK, true, true, -1 },
        { FW_STATUS_OK, true, false, -1 }, { FW_STATUS_UNSUPPORTED_PATH, false, false, 6 },
        { FW_STATUS_USER_ERROR, false, false, 1 }, { FW_STATUS_INTERNAL, false, false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Pb__HandleExistenceCheckReply reply;
        Pb__ProtoError err;
        convert_existence(cases[i].st, cases[i].found, cases[i].exists, "bad field", &reply,
                          &err);
        if (cases[i].want_err < 0) {
            assert_null(reply.err);
            assert_int_equal(reply.check_found, cases[i].found);
            assert_int_equal(reply.exists, cases[i].exists);
        } else {
            assert_non_null(reply.err);
            assert_int_equal(reply.err->err_type, cases[i].want_err);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_response_read_only),
        cmocka_unit_test(test_existence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
