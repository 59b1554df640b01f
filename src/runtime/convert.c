/* convert.c: see convert.h. Reply rules (vault-plugin-protocol.md §6.4-6.5): a present
 * Response always carries valid JSON data; a user error is an error response
 * {"error": msg} (HTTP 400), never ProtoError type 1, which the host would turn into 500. */
#include "convert.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"

static const char *const op_names[FW_OP_COUNT] = {
    [FW_READ] = "read", [FW_CREATE] = "create", [FW_UPDATE] = "update",
    [FW_PATCH] = "patch", [FW_DELETE] = "delete", [FW_LIST] = "list",
};

enum fw_op convert_op(const char *operation)
{
    for (int i = 0; i < FW_OP_COUNT; i++)
        if (operation && strcmp(operation, op_names[i]) == 0)
            return (enum fw_op)i;
    return FW_READ;
}

int convert_request(const Pb__Request *in, struct fw_req *req, cJSON **data, struct err *e)
{
    memset(req, 0, sizeof *req);
    *data = NULL;
    req->operation = in->operation ? in->operation : "";
    req->op = convert_op(req->operation);
    req->path = in->path ? in->path : "";
    req->id = in->id ? in->id : "";
    req->entity_id = in->entity_id ? in->entity_id : "";
    req->mount_point = in->mount_point ? in->mount_point : "";
    const char *text = in->data ? in->data : "";
    if (fw_request_data_parse(text, strlen(text), data, e) != 0)
        return -1;
    req->data = *data;
    return 0;
}

static void set_error(struct convert_reply *out, uint32_t type, const char *msg)
{
    out->err.err_type = type;
    out->err.err_msg = (char *)(msg && *msg ? msg : "internal error");
    out->reply.err = &out->err;
    out->reply.response = NULL;
}

static int copy_warnings(const cJSON *w, struct convert_reply *out)
{
    int n = cJSON_GetArraySize(w);
    out->warnings = calloc((size_t)n + 1, sizeof *out->warnings);
    if (!out->warnings)
        return -1;
    size_t k = 0;
    for (const cJSON *it = w ? w->child : NULL; it; it = it->next) {
        if (!cJSON_IsString(it))
            continue;
        out->warnings[k] = strdup(it->valuestring);
        if (!out->warnings[k])
            return -1;
        k++;
    }
    out->resp.warnings = out->warnings;
    out->resp.n_warnings = k;
    return 0;
}

/* A response whose data is o, printed; takes o (NULL: out of memory, -1) and frees it. */
static int data_response(cJSON *o, struct convert_reply *out)
{
    out->data_json = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!out->data_json)
        return -1;
    out->resp.data = out->data_json;
    out->reply.response = &out->resp;
    return 0;
}

/* Not found: a raw response (logical.RespondWithStatusCode's shape), the one reply form that
 * gives a 404 with a clean message for every operation. A ProtoError CodedError would give
 * the code but wrap the text in the core's multierror ("1 error occurred: ..."); a nil
 * response is a 204 on writes. The body is base64, as the host decodes a string body. */
static int not_found_response(const char *msg, struct convert_reply *out)
{
    cJSON *body = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(body, "errors");
    cJSON *m = cJSON_CreateString(msg);
    char *text = NULL, *b64 = NULL;
    if (errs && m)
        cJSON_AddItemToArray(errs, m);
    else
        cJSON_Delete(m);
    if (errs && m && (text = cJSON_PrintUnformatted(body)))
        b64 = crypto_b64_encode(text, strlen(text));
    cJSON_Delete(body);
    free(text);
    cJSON *o = b64 ? cJSON_CreateObject() : NULL;
    if (o && (!cJSON_AddNumberToObject(o, "http_status_code", 404) ||
              !cJSON_AddStringToObject(o, "http_content_type", "application/json") ||
              !cJSON_AddStringToObject(o, "http_raw_body", b64))) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(b64);
    return data_response(o, out);
}

/* An error response: data {"error": msg}, the host's 400 with a clean message. */
static int user_error_response(const char *msg, struct convert_reply *out)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(o, "error", msg);
    return data_response(o, out);
}

static int ok_response(const struct fw_resp *r, struct convert_reply *out)
{
    bool has_warnings = cJSON_GetArraySize(r->warnings) > 0;
    if (!r->data && !has_warnings)
        return 0;   /* nil response: 404 on read/list, 204 on writes */
    out->data_json = r->data ? cJSON_PrintUnformatted(r->data) : strdup("null");
    if (!out->data_json || (has_warnings && copy_warnings(r->warnings, out) != 0))
        return -1;
    out->resp.data = out->data_json;
    out->reply.response = &out->resp;
    return 0;
}

int convert_response(const struct fw_resp *r, struct convert_reply *out)
{
    memset(out, 0, sizeof *out);
    pb__handle_request_reply__init(&out->reply);
    pb__response__init(&out->resp);
    pb__proto_error__init(&out->err);
    int rc = 0;
    switch (r->status) {
    case FW_STATUS_OK:
        rc = ok_response(r, out);
        break;
    case FW_STATUS_USER_ERROR:
        rc = user_error_response(r->err_msg[0] ? r->err_msg : "invalid request", out);
        break;
    case FW_STATUS_NOT_FOUND:
        rc = not_found_response(r->err_msg[0] ? r->err_msg : "not found", out);
        break;
    case FW_STATUS_UNSUPPORTED_PATH:
        set_error(out, CONVERT_ERR_UNSUPPORTED_PATH, "unsupported path");
        break;
    case FW_STATUS_UNSUPPORTED_OP:
        set_error(out, CONVERT_ERR_UNSUPPORTED_OP, "unsupported operation");
        break;
    case FW_STATUS_READ_ONLY:
        /* Type 0 with logical.ErrReadOnly's text: the host's ProtoErrToErr makes it an
         * error whose text logical.ShouldForward recognises. */
        set_error(out, CONVERT_ERR_UNKNOWN, fw_read_only_msg);
        break;
    default:
        set_error(out, CONVERT_ERR_UNKNOWN, r->err_msg);
        break;
    }
    if (rc != 0) {
        convert_reply_clear(out);
        set_error(out, CONVERT_ERR_UNKNOWN, "internal error");
    }
    return rc;
}

void convert_reply_clear(struct convert_reply *out)
{
    free(out->data_json);
    for (size_t i = 0; out->warnings && out->warnings[i]; i++)
        free(out->warnings[i]);
    free(out->warnings);
    pb__handle_request_reply__init(&out->reply);
    pb__response__init(&out->resp);
    out->data_json = NULL;
    out->warnings = NULL;
}

void convert_existence(enum fw_status st, bool check_found, bool exists, const char *msg,
                       Pb__HandleExistenceCheckReply *reply, Pb__ProtoError *err)
{
    pb__handle_existence_check_reply__init(reply);
    pb__proto_error__init(err);
    if (st == FW_STATUS_OK) {
        reply->check_found = check_found;
        reply->exists = exists;
        return;
    }
    /* Type 6 makes the host proceed as update (then 404); type 1 is its 400. */
    err->err_type = st == FW_STATUS_UNSUPPORTED_PATH ? CONVERT_ERR_UNSUPPORTED_PATH
                  : st == FW_STATUS_UNSUPPORTED_OP   ? CONVERT_ERR_UNSUPPORTED_OP
                  : st == FW_STATUS_USER_ERROR       ? CONVERT_ERR_USER
                                                     : CONVERT_ERR_UNKNOWN;
    err->err_msg = (char *)(msg && *msg ? msg : "internal error");
    reply->err = err;
}
