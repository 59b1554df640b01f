/* path_order_revoke.c: role/:name/order/:order_id/revoke. Revokes the order's certificate
 * at the CA, signed by the account, then stores the order as revoked. Revoking twice
 * answers as the first time did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "acme.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

static const struct fw_field revoke_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true, .desc = "The order id." },
    { .name = "reason", .type = FW_TYPE_STRING, .def = "unspecified", .empty_is_default = true,
      .desc = "unspecified, key_compromise, ca_compromise, affiliation_changed, superseded, "
              "cessation_of_operation, certificate_hold, remove_from_crl, "
              "privilege_withdrawn or aa_compromise (hyphens accepted too)." },
    { 0 }
};

static cJSON *revoke_reply(const struct order *o)
{
    char buf[32];
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "order_id", o->id) &&
              cJSON_AddBoolToObject(j, "revoked", true) &&
              cJSON_AddStringToObject(j, "revocation_time",
                                      order_time_str(o->revocation_time, buf, sizeof buf)) &&
              cJSON_AddStringToObject(j, "reason", o->revocation_reason) &&
              cJSON_AddStringToObject(j, "serial_number", o->serial) &&
              cJSON_AddStringToObject(j, "order_status", order_status_name(o->status));
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Asks the CA, within the request's deadline; ERR_INVALID with the CA's words when it
 * refuses (already revoked counts as done). */
static int revoke_at_ca(struct engine *eng, const struct fw_req *req, const struct order *o,
                        int code, struct err *e)
{
    struct fw_storage *s = req->storage;
    struct account *acct = NULL;
    struct account_conn conn = { 0 };
    struct acme_reply rep;
    cJSON *rec = NULL;
    int rc = -1;
    memset(&rep, 0, sizeof rep);

    if (order_cert_load(s, o->serial, &rec, e) < 0)
        goto out;
    const char *pem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "certificate"));
    if (!pem) {
        err_set(e, ERR_INTERNAL, "certificate %s: stored record has no certificate", o->serial);
        goto out;
    }
    struct err se = { 0 };
    account_settle(eng, s, o->account, &se);   /* sign with the key the CA holds */
    if (account_load(s, o->account, &acct, e) < 0) {
        if (e->kind == ERR_NOT_FOUND)
            err_set(e, ERR_INVALID, "order_id: the order's acme account %s no longer exists",
                    o->account);
        goto out;
    }
    if (account_conn(acct, &conn, e) < 0)
        goto out;
    acme_client_set_deadline(conn.acme, req->deadline_ms);
    acme_client_set_cancel(conn.acme, req->cancelled);
    if (acme_revoke_cert(conn.acme, pem, code, NULL, &rep, e) < 0) {
        const char *name = acme_problem_name(&rep.problem);
        if (strcmp(name, "alreadyRevoked") == 0) {
            rc = 0;
            goto out;
        }
        if (e->kind == ERR_UPSTREAM)
            e->kind = ERR_INVALID;   /* the CA's refusal is the caller's answer: 400 */
        err_wrap(e, "revoking at the CA");
        goto out;
    }
    rc = 0;
out:
    acme_reply_clear(&rep);
    account_conn_close(&conn);
    account_free(acct);
    cJSON_Delete(rec);
    return rc;
}

static int revoke_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                        struct err *e)
{
    const char *id = fw_data_str(d, "order_id");
    const char *reason = fw_data_str(d, "reason");
    struct engine *eng = req->backend;
    struct keylock hold = { 0 };
    struct order *o = NULL;
    int rc = -1;
    int code = order_revoke_reason_parse(reason);
    if (code < 0)
        return err_set(e, ERR_INVALID,
                       "reason: %s is not one of unspecified, key_compromise, ca_compromise, "
                       "affiliation_changed, superseded, cessation_of_operation, "
                       "certificate_hold, remove_from_crl, privilege_withdrawn, aa_compromise",
                       reason);
    if (order_load_for_update(eng, req->storage, fw_data_str(d, "name"), id, &hold, &o, e) < 0)
        return -1;
    if (o->status == ORDER_REVOKED) {
        rc = (resp->data = revoke_reply(o)) ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (o->status != ORDER_COMPLETED || !o->serial[0]) {
        err_set(e, ERR_INVALID, "order_id: order %s is %s; only a completed order's "
                "certificate can be revoked", o->id, order_status_name(o->status));
        goto out;
    }
    /* The CA's revocation cannot be undone, so this node first shows it can write: the
     * order is stored unchanged (a standby's read-only storage stops the request here and
     * the host forwards it). Should the save after the CA call fail, the order still says
     * completed and a repeated revoke finds it alreadyRevoked at the CA: nothing is lost. */
    if (fw_require_writable(req, e) < 0 || order_save(req->storage, o, e) < 0)
        goto out;
    if (revoke_at_ca(eng, req, o, code, e) < 0)
        goto out;
    char *rn = strdup(order_revoke_reason_name(code));
    if (!rn) {
        err_set(e, ERR_INTERNAL, "revoke: out of memory");
        goto out;
    }
    free(o->revocation_reason);
    o->revocation_reason = rn;
    o->revocation_time = order_now();
    o->status = ORDER_REVOKED;
    o->last_update = order_now();
    if (order_save(req->storage, o, e) < 0)
        goto out;
    log_info("engine", "certificate revoked", "order_id", o->id, "serial", o->serial,
             "reason", rn, NULL);
    if (!(resp->data = revoke_reply(o))) {
        err_set(e, ERR_INTERNAL, "revoke: out of memory");
        goto out;
    }
    rc = 0;
out:
    keylock_release(&eng->order_locks, &hold);
    order_free(o);
    return rc;
}

const struct fw_path path_order_revoke = {
    .remote_ops = (1u << FW_CREATE) | (1u << FW_UPDATE),   /* waits on the CA */
    .pattern = ORDER_ROLE_RE "/order/(?<order_id>[^/]+)/revoke",
    .fields = revoke_fields,
    .ops = {
        [FW_CREATE] = { revoke_write, "Revoke the order's certificate." },
        [FW_UPDATE] = { revoke_write, "Revoke the order's certificate." },
    },
    .synopsis = "Revoke the certificate of a completed order at the CA.",
    .description = "The order's status becomes revoked.",
};
