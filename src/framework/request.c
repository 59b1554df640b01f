/* request.c: fw_handle_request and fw_existence_check, Vault's Backend.HandleRequest and
 * HandleExistenceCheck (sdk/framework/backend.go): route, build fields, call the handler,
 * map its error to the reply the host expects (protocol doc §6.4, §6.6, §6.7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

static const char *const op_names[FW_OP_COUNT] = {
    [FW_READ] = "read", [FW_CREATE] = "create", [FW_UPDATE] = "update",
    [FW_PATCH] = "patch", [FW_DELETE] = "delete", [FW_LIST] = "list",
};

enum special_op { OP_HTTP, OP_HELP, OP_ROLLBACK, OP_OTHER };

/* The operation string decides; a request without one (tests, internal callers) uses op. */
static enum special_op classify(const struct fw_req *req, enum fw_op *op)
{
    if (!req->operation) {
        *op = req->op;
        return (unsigned)req->op < FW_OP_COUNT ? OP_HTTP : OP_OTHER;
    }
    if (strcmp(req->operation, "help") == 0)
        return OP_HELP;
    if (strcmp(req->operation, "rollback") == 0)
        return OP_ROLLBACK;
    for (int i = 0; i < FW_OP_COUNT; i++) {
        if (strcmp(req->operation, op_names[i]) == 0) {
            *op = (enum fw_op)i;
            return OP_HTTP;
        }
    }
    return OP_OTHER;   /* revoke, renew, scan, header ...: no handler in a framework path */
}

static void set_status(struct fw_resp *resp, enum fw_status status, const char *msg)
{
    cJSON_Delete(resp->data);
    resp->data = NULL;
    resp->status = status;
    snprintf(resp->err_msg, sizeof resp->err_msg, "%s", msg);
}

static void log_failure(const struct fw_req *req, const char *what, const struct err *e)
{
    log_error(FW_LOG_MODULE, what, "path", req->path ? req->path : "",
              "operation", req->operation ? req->operation : "",
              "request_id", req->id ? req->id : "", "error", e->msg, NULL);
}

/* Replaces the response with Vault's logical.ErrorResponse: data {"error": msg}, which the
 * host turns into a 400. */
static void error_response(struct fw_resp *resp, const char *msg)
{
    cJSON_Delete(resp->data);
    cJSON_Delete(resp->warnings);
    resp->warnings = NULL;
    resp->status = FW_STATUS_OK;
    resp->data = cJSON_CreateObject();
    if (!resp->data || !cJSON_AddStringToObject(resp->data, "error", msg))
        set_status(resp, FW_STATUS_INTERNAL, "internal error");
}

/* This node cannot write: the reply carries logical.ErrReadOnly's text and nothing else, so
 * the host forwards the request to the active node (OpenBao's standbys) instead of
 * answering 500. Not a failure of ours: logged at debug. */
static void read_only(const struct fw_req *req, struct fw_resp *resp, const struct err *e)
{
    log_debug(FW_LOG_MODULE, "storage is read-only on this node", "path",
              req->path ? req->path : "", "request_id", req->id ? req->id : "", "error",
              e->msg, NULL);
    cJSON_Delete(resp->warnings);
    resp->warnings = NULL;
    set_status(resp, FW_STATUS_READ_ONLY, fw_read_only_msg);
}

/* The addressed object (order, role, account ...) does not exist: a 404 naming it for every
 * operation. A nil response would say the same only for read and list; a write would answer
 * 204, and `vault write` would print "Success!" for a mistyped order id. */
static void not_found_response(struct fw_resp *resp, const char *msg)
{
    cJSON_Delete(resp->warnings);
    resp->warnings = NULL;
    set_status(resp, FW_STATUS_NOT_FOUND, msg && *msg ? msg : "not found");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool field_declared(const struct fw_path *p, const char *name)
{
    for (const struct fw_field *f = p->fields; f && f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return true;
    }
    return false;
}

/* Appends "<prefix>: [a b c]" (names sorted, as Go prints a []string) to the warnings. */
static void warn_names(struct fw_resp *resp, const char *prefix, const char **names, size_t n)
{
    size_t len = strlen(prefix) + 8;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *text = malloc(len);
    if (!text)
        return;
    qsort(names, n, sizeof *names, cmp_str);
    size_t o = (size_t)snprintf(text, len, "%s: [", prefix);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, len - o, "%s%s", i ? " " : "", names[i]);
    snprintf(text + o, len - o, "]");
    fw_resp_warn(resp, "%s", text);
    free(text);
}

/* Vault adds these warnings only to a non-nil response: a 204 or 404 carries no body. */
static void add_param_warnings(const struct fw_path *p, const cJSON *body,
                               const cJSON *captures, struct fw_resp *resp)
{
    if (!resp->data && !resp->warnings)
        return;
    if (!cJSON_IsObject(body))
        return;
    size_t n = (size_t)cJSON_GetArraySize(body);
    const char **ignored = calloc(n ? n : 1, sizeof *ignored);
    const char **replaced = calloc(n ? n : 1, sizeof *replaced);
    size_t ni = 0, nr = 0;
    const cJSON *item;

    if (!ignored || !replaced)
        goto out;
    cJSON_ArrayForEach(item, body) {
        if (!item->string)
            continue;
        if (!p->take_arbitrary_input && !field_declared(p, item->string))
            ignored[ni++] = item->string;
        if (!cJSON_IsNull(item) && cJSON_GetObjectItemCaseSensitive(captures, item->string))
            replaced[nr++] = item->string;
    }
    if (ni)
        warn_names(resp, "Endpoint ignored these unrecognized parameters", ignored, ni);
    if (nr)
        warn_names(resp, "Endpoint replaced the value of these parameters with the values "
                   "captured from the endpoint's path", replaced, nr);
out:
    free(ignored);
    free(replaced);
}

static void handle_rollback(const struct fw_backend *b, const struct fw_req *req,
                            struct fw_resp *resp)
{
    struct err e = { 0 };
    if (!b->periodic)
        return;
    if (b->periodic(req, &e) != 0) {
        if (e.kind == ERR_READ_ONLY) {
            read_only(req, resp, &e);   /* a standby: the host expects this text */
            return;
        }
        log_failure(req, "periodic function failed", &e);
        set_status(resp, FW_STATUS_INTERNAL, "internal error");
    }
}

static void call_handler(const struct fw_path *p, fw_handler fn, const struct fw_req *req,
                         const cJSON *captures, struct fw_resp *resp)
{
    struct fw_data *d = NULL;
    struct err e = { 0 };
    char msg[sizeof e.msg + 32];

    if (fw_data_build(p, req->data, captures, &d, &e) != 0) {
        if (e.kind != ERR_INVALID) {
            log_failure(req, "building request fields failed", &e);
            set_status(resp, FW_STATUS_INTERNAL, "internal error");
            return;
        }
        snprintf(msg, sizeof msg, "Field validation failed: %s", e.msg);
        error_response(resp, msg);
        add_param_warnings(p, req->data, captures, resp);
        return;
    }
    if (fn(req, d, resp, &e) != 0) {
        switch (e.kind) {
        case ERR_INVALID:
            error_response(resp, e.msg);
            break;
        case ERR_NOT_FOUND:
            not_found_response(resp, e.msg);
            break;
        case ERR_READ_ONLY:
            read_only(req, resp, &e);
            break;
        default:
            log_failure(req, "request failed", &e);
            cJSON_Delete(resp->warnings);
            resp->warnings = NULL;
            set_status(resp, FW_STATUS_INTERNAL, "internal error");
            break;
        }
    }
    if (resp->status == FW_STATUS_OK)
        add_param_warnings(p, req->data, captures, resp);
    fw_data_free(d);
}

bool fw_request_is_remote(const struct fw_backend *b, const char *path, const char *operation)
{
    struct fw_req req = { .operation = operation ? operation : "", .path = path };
    enum fw_op op = FW_READ;
    cJSON *captures = NULL;
    struct err e = { 0 };
    if (!b || classify(&req, &op) != OP_HTTP)
        return false;
    const struct fw_path *p = fw_route_checked(b, path ? path : "", &captures, &e);
    cJSON_Delete(captures);
    return p && p->ops[op].fn && (p->remote_ops & (1u << op));
}

void fw_handle_request(const struct fw_backend *b, const struct fw_req *req,
                       struct fw_resp *resp)
{
    enum fw_op op = FW_READ;
    cJSON *captures = NULL;

    fw_resp_init(resp);
    if (!b || !req) {
        set_status(resp, FW_STATUS_INTERNAL, "internal error");
        return;
    }
    const char *path = req->path ? req->path : "";
    enum special_op kind = classify(req, &op);

    if (kind == OP_ROLLBACK) {
        handle_rollback(b, req, resp);
        return;
    }
    if (kind == OP_HELP && path[0] == '\0') {
        fw_help(b, NULL, req, resp);
        return;
    }
    struct err route_err = { 0 };
    const struct fw_path *p = fw_route_checked(b, path, &captures, &route_err);
    if (!p && route_err.kind == ERR_INVALID) {
        error_response(resp, route_err.msg);
        return;
    }
    if (!p) {
        set_status(resp, FW_STATUS_UNSUPPORTED_PATH, "unsupported path");
        return;
    }
    if (kind == OP_HELP) {
        fw_help(b, p, req, resp);
    } else if (kind != OP_HTTP || !p->ops[op].fn) {
        set_status(resp, FW_STATUS_UNSUPPORTED_OP, "unsupported operation");
    } else {
        call_handler(p, p->ops[op].fn, req, captures, resp);
    }
    cJSON_Delete(captures);
}

/* The reply to an existence check that failed with e: the user's mistake (ERR_INVALID) in
 * its own words, anything else logged as `what` and answered "internal error". */
static enum fw_status check_failure(const struct fw_req *req, const char *what,
                                    const struct err *e, char *msg, size_t msg_len)
{
    if (e->kind == ERR_INVALID) {
        snprintf(msg, msg_len, "%s", e->msg);
        return FW_STATUS_USER_ERROR;
    }
    log_failure(req, what, e);
    snprintf(msg, msg_len, "internal error");
    return FW_STATUS_INTERNAL;
}

enum fw_status fw_existence_check(const struct fw_backend *b, const struct fw_req *req,
                                  bool *check_found, bool *exists, char *msg, size_t msg_len)
{
    enum fw_op op = FW_READ;
    cJSON *captures = NULL;
    struct fw_data *d = NULL;
    struct err e = { 0 };
    enum fw_status status = FW_STATUS_OK;
    char dummy[1];

    *check_found = false;
    *exists = false;
    if (!msg || msg_len == 0) {
        msg = dummy;
        msg_len = sizeof dummy;
    }
    msg[0] = '\0';
    if (!b || !req)
        return FW_STATUS_INTERNAL;
    if (classify(req, &op) != OP_HTTP || (op != FW_CREATE && op != FW_UPDATE)) {
        snprintf(msg, msg_len, "incorrect operation type %s for an existence check",
                 req->operation ? req->operation : "?");
        return FW_STATUS_INTERNAL;
    }
    const struct fw_path *p = fw_route_checked(b, req->path ? req->path : "", &captures, &e);
    if (!p && e.kind == ERR_INVALID) {
        snprintf(msg, msg_len, "%s", e.msg);
        return FW_STATUS_USER_ERROR;
    }
    if (!p) {
        snprintf(msg, msg_len, "unsupported path");
        return FW_STATUS_UNSUPPORTED_PATH;
    }
    if (!p->exists)
        goto out;
    *check_found = true;
    if (fw_data_build(p, req->data, captures, &d, &e) != 0) {
        status = check_failure(req, "building request fields failed", &e, msg, msg_len);
        goto out;
    }
    if (p->exists(req, d, exists, &e) != 0) {
        *exists = false;
        status = check_failure(req, "existence check failed", &e, msg, msg_len);
    }
out:
    fw_data_free(d);
    cJSON_Delete(captures);
    return status;
}
