/* path_order_fulfilled.c: role/:name/order/:order_id/fulfilled-challenge. Records that the
 * user published a challenge, then lets the worker tell the CA (so the reply does not wait
 * on the CA). Repeating the call, or racing two of them, is harmless: the order's lock
 * orders them, the second finds the challenge already marked and changes nothing. */
#include <string.h>

#include <cJSON.h>

#include "../internal.h"
#include "log.h"
#include "order.h"

static const struct fw_field fulfilled_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true, .desc = "The order id." },
    { .name = "identifier", .type = FW_TYPE_STRING, .required = true,
      .desc = "The identifier whose challenge is in place." },
    { .name = "challenge_type", .type = FW_TYPE_STRING, .required = true,
      .desc = "http-01, dns-01 or tls-alpn-01." },
    { 0 }
};

static cJSON *fulfilled_reply(const struct order *o, const struct order_authz *a,
                              const struct order_challenge *c)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "order_id", o->id) &&
              cJSON_AddStringToObject(j, "identifier", a->identifier) &&
              cJSON_AddStringToObject(j, "challenge_type", c->type) &&
              cJSON_AddBoolToObject(j, "marked_ready", true) &&
              cJSON_AddStringToObject(j, "order_status", order_status_name(o->status));
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Marks the challenge; *changed false when there was nothing to do. */
static int mark(struct order *o, struct order_authz *a, struct order_challenge *c,
                bool *changed, struct err *e)
{
    *changed = false;
    switch (o->status) {
    case ORDER_AWAITING:
    case ORDER_VAULT_FULFILLING:
    case ORDER_VAULT_PROPAGATING:
    case ORDER_NOTIFY:
    case ORDER_PROCESSING:
    case ORDER_SUBMITTED:
        break;
    case ORDER_COMPLETED:
    case ORDER_FETCHING:
        return 0;   /* nothing left to validate */
    case ORDER_NEW:
        break;
    default:
        return err_set(e, ERR_INVALID,
                       "order_id: order %s is %s%s%s; place a new order", o->id,
                       order_status_name(o->status), o->last_error[0] ? ": " : "",
                       o->last_error);
    }
    if (c->fulfilled || strcmp(a->status, "valid") == 0)
        return 0;   /* already done: repeat calls and races end here */
    c->fulfilled = true;
    /* Another challenge of the same identifier may have been marked before: the CA takes
     * the first one it is told about, so mark only one per identifier. */
    for (size_t k = 0; k < a->n_challenges; k++) {
        if (&a->challenges[k] != c && a->challenges[k].fulfilled && !a->challenges[k].responded)
            a->challenges[k].fulfilled = false;
    }
    /* While Vault publishes or checks its own dns-01 records, the order stays in that
     * step; it reports this challenge together with Vault's once they are visible. */
    if (o->status != ORDER_VAULT_FULFILLING && o->status != ORDER_VAULT_PROPAGATING)
        o->status = ORDER_NOTIFY;
    o->next_work_date = order_now();
    *changed = true;
    return 0;
}

static int fulfilled_write(const struct fw_req *req, const struct fw_data *d,
                           struct fw_resp *resp, struct err *e)
{
    const char *role = fw_data_str(d, "name");
    const char *id = fw_data_str(d, "order_id");
    struct order *o = NULL;
    struct role *r = NULL;
    struct order_authz *a = NULL;
    struct order_challenge *c = NULL;
    struct engine *eng = req->backend;
    struct keylock hold = { 0 };
    bool changed = false;
    int rc = -1;

    if (order_load_for_update(eng, req->storage, role, id, &hold, &o, e) < 0)
        return -1;
    if (order_pick_challenge(o, d, &a, &c, e) < 0)
        goto out;
    if (role_load(req->storage, role, &r, e) == 0 &&
        role_check_challenge_type(r, c->type, e) < 0) {
        err_wrap(e, "challenge_type");
        goto out;
    }
    if (mark(o, a, c, &changed, e) < 0)
        goto out;
    if (changed) {
        o->last_update = order_now();
        if (order_save(req->storage, o, e) < 0)
            goto out;
        log_info("engine", "challenge marked fulfilled", "order_id", o->id, "identifier",
                 a->identifier, "type", c->type, NULL);
    }
    if (!(resp->data = fulfilled_reply(o, a, c))) {
        err_set(e, ERR_INTERNAL, "fulfilled-challenge: out of memory");
        goto out;
    }
    rc = 0;
out:
    keylock_release(&eng->order_locks, &hold);
    /* After the release, so the advance it starts never waits for this request. A kick
     * for an order being advanced is not lost: the worker advances it once more. */
    if (rc == 0 && changed)
        order_worker_kick(req->backend, id);
    role_free(r);
    order_free(o);
    return rc;
}

const struct fw_path path_order_fulfilled = {
    .pattern = ORDER_ROLE_RE "/order/(?<order_id>[^/]+)/fulfilled-challenge",
    .fields = fulfilled_fields,
    .ops = {
        [FW_CREATE] = { fulfilled_write, "Tell Vault a challenge is in place." },
        [FW_UPDATE] = { fulfilled_write, "Tell Vault a challenge is in place." },
    },
    .synopsis = "Mark a challenge as fulfilled so the CA validates it.",
    .description = "Vault asks the CA to validate the challenge right away; read the order "
                   "status until it is completed (or error, with last_error).",
};
