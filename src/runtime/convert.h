/* convert.h: pb.Request <-> struct fw_req and struct fw_resp -> pb replies. The only place
 * that knows both the generated protobuf types and the framework's. */
#ifndef PKIEXT_RT_CONVERT_H
#define PKIEXT_RT_CONVERT_H

#include <stdbool.h>

#include "backend.pb-c.h"
#include "err.h"
#include "fw.h"

/* "read" -> FW_READ ... "list" -> FW_LIST; any other operation ("help", "rollback",
 * "header", "revoke", ...) -> FW_READ, the framework reads req->operation for those. */
enum fw_op convert_op(const char *operation);

/* Fills *req from in: strings are borrowed from in; *data is a new JSON object parsed from
 * in->data (NULL for "", "null"), freed by the caller with cJSON_Delete. Storage, sysview and
 * backend are left for the caller. -1 with ERR_INVALID when data is not a JSON object. */
int convert_request(const Pb__Request *in, struct fw_req *req, struct cJSON **data,
                    struct err *e);

/* A HandleRequestReply built from a fw_resp. Owns data_json and warnings; the message
 * structs point into itself, so it must not be copied once filled. */
struct convert_reply {
    Pb__HandleRequestReply reply;
    Pb__Response resp;
    Pb__ProtoError err;
    char *data_json;
    char **warnings;
};

/* 0, or -1 on allocation failure (then reply carries a generic internal error). */
int convert_response(const struct fw_resp *r, struct convert_reply *out);
void convert_reply_clear(struct convert_reply *out);

/* A HandleExistenceCheckReply; err points into the caller's storage. msg may be NULL. */
void convert_existence(enum fw_status st, bool check_found, bool exists, const char *msg,
                       Pb__HandleExistenceCheckReply *reply, Pb__ProtoError *err);

/* pb.ProtoError err_type values (sdk/plugin/pb/translation.go). */
enum convert_err_type {
    CONVERT_ERR_UNKNOWN = 0,
    CONVERT_ERR_USER = 1,
    CONVERT_ERR_UNSUPPORTED_OP = 5,
    CONVERT_ERR_UNSUPPORTED_PATH = 6,
    CONVERT_ERR_INVALID_REQUEST = 7
};

#endif
