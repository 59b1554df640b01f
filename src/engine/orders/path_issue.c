/* path_issue.c: role/:name/issue, one call for templates and scripts. It places the order
 * exactly as new-order does (the new-order handler itself: same checks, same storage, same
 * reply fields, and whatever new-order decides about reusing an order), then waits for that
 * order to finish, at most `wait` and never past the host's deadline, and answers with the
 * certificate (fetch-cert's fields) when it completed, else with the order's status and
 * challenges so the caller can go on by hand.
 *
 * The wait is event-driven (order_wait.c: the worker's advance of the order wakes it). It
 * holds a thread of the runtime's remote lane (remote_ops), never one of the threads that
 * answer ordinary reads, and at most ISSUE_MAX_WAITERS calls of a mount wait at once so
 * issue calls cannot take every remote thread either: a call beyond that answers at once
 * with the order's status and a warning. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "../internal.h"
#include "log.h"
#include "order.h"
#include "order_wait.h"

/* The runtime's remote lane runs at most 3 of its threads for one mount
 * (RUNTIME_REMOTE_PER_MOUNT in src/runtime/runtime.c): two waiters leave one for the mount's
 * CA operations (account writes, revoke). */
static const int ISSUE_MAX_WAITERS = 2;
/* The longest wait asked for that is accepted at all (seconds). */
static const int64_t ISSUE_WAIT_MAX = 300;
/* The reply must be sent this long before the host's deadline. */
static const int64_t ISSUE_DEADLINE_MARGIN_MS = 3000;

static const char *const pem_csr[] = { "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
                                       NULL };

static const struct fw_field issue_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true,
      .desc = "Name of the role to order under." },
    { .name = "identifiers", .type = FW_TYPE_COMMA_STRING_SLICE,
      .desc = "DNS names or IP addresses for the certificate (identifier workflow: Vault "
              "makes the key), as "
              "for new-order. Give identifiers or csr, not both." },
    { .name = "csr", .type = FW_TYPE_STRING, .pem = pem_csr,
      .desc = "PEM certificate signing request (CSR workflow), as for new-order." },
    { .name = "wait", .type = FW_TYPE_DURATION, .def = "30s",
      .desc = "How long to wait for the order to complete, 0s to 300s (default 30s). Capped "
              "a few seconds below the host's request deadline (a warning says so)." },
    { .name = "certificate_format", .type = FW_TYPE_STRING, .def = "pem",
      .empty_is_default = true,
      .desc = "pem (default), der or pem_bundle, as for fetch-cert." },
    { 0 }
};

extern const struct fw_path path_order_new;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when waiting longer cannot help: the order ended, or it waits on the user
 * (awaiting-challenge-fulfillment: a challenge Vault does not fulfil). */
static bool issue_settled(const struct order *o)
{
    return order_status_terminal(o->status) || o->status == ORDER_AWAITING;
}

/* The reply for the order as it is now: the certificate when completed, else its status. */
static int issue_reply(const struct fw_req *req, struct order *o, const char *format,
                       int64_t waited_s, struct fw_resp *resp, struct err *e)
{
    if (o->status == ORDER_COMPLETED && o->serial[0]) {
        if (order_cert_reply(req->storage, o, format, &resp->data, e) < 0)
            return -1;
        if (!cJSON_AddStringToObject(resp->data, "order_status", order_status_name(o->status)))
            return err_set(e, ERR_INTERNAL, "issue: out of memory");
        return 0;
    }
    if (order_key_auths_current(req->backend, req->storage, o, e) < 0)
        return -1;
    if (!(resp->data = order_view_status(o)))
        return err_set(e, ERR_INTERNAL, "issue: out of memory");
    if (o->status == ORDER_AWAITING)
        fw_resp_warn(resp, "order %s awaits challenge fulfillment: read "
                     "role/%s/order/%s/challenge, publish it, then write fulfilled-challenge",
                     o->id, o->role, o->id);
    else if (!order_status_terminal(o->status))
        fw_resp_warn(resp, "order %s did not complete within %llds (status %s); read "
                     "role/%s/order/%s/status and fetch-cert later", o->id,
                     (long long)waited_s, order_status_name(o->status), o->role, o->id);
    return 0;
}

static int issue_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    struct engine *eng = req->backend;
    const char *format = NULL;
    int64_t wait = fw_data_duration(d, "wait");
    struct order_waiter me;
    struct order *o = NULL;
    char id[37];
    int rc = -1;
    memset(&me, 0, sizeof me);

    /* Every field of this path is checked before new-order stores anything. */
    if (order_cert_format(d, &format, e) < 0)
        return -1;
    if (wait < 0 || wait > ISSUE_WAIT_MAX)
        return err_set(e, ERR_INVALID, "wait: must be between 0s and %llds",
                       (long long)ISSUE_WAIT_MAX);
    int64_t start = wall_ms();
    int64_t until = start + wait * 1000;
    if (req->deadline_ms > 0 && until > req->deadline_ms - ISSUE_DEADLINE_MARGIN_MS) {
        int64_t capped = req->deadline_ms - ISSUE_DEADLINE_MARGIN_MS;
        until = capped > start ? capped : start;
        fw_resp_warn(resp, "wait: capped to %llds, below the host's request deadline",
                     (long long)((until - start) / 1000));
    }

    /* new-order's handler places the order (or, with reuse_pending_orders, names the
     * order already placed for these identifiers): its warnings stay in resp. */
    if (path_order_new.ops[FW_UPDATE].fn(req, d, resp, e) < 0)
        return -1;
    const char *oid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp->data,
                                                                             "order_id"));
    if (!oid || strlen(oid) >= sizeof id)
        return err_set(e, ERR_INTERNAL, "issue: new-order gave no order_id");
    strcpy(id, oid);
    cJSON_Delete(resp->data);
    resp->data = NULL;

    /* Registered before the first read: an advance finishing in between still wakes us. */
    bool waiting = until > start && order_wait_begin(eng, id, ISSUE_MAX_WAITERS, &me);
    if (until > start && !waiting)
        fw_resp_warn(resp, "wait: %d issue calls are waiting already; answering at once",
                     ISSUE_MAX_WAITERS);
    for (;;) {
        order_free(o);
        o = NULL;
        if (order_load(req->storage, id, &o, e) < 0)
            goto out;
        if (!waiting || issue_settled(o) || wall_ms() >= until)
            break;
        /* Woken: the worker advanced the order; read it again. Not woken: deadline or
         * the mount is stopping; the loop's read then answers with the order as it is. */
        if (!order_wait_next(eng, &me, until)) {
            order_free(o);
            o = NULL;
            if (order_load(req->storage, id, &o, e) < 0)
                goto out;
            break;
        }
    }
    rc = issue_reply(req, o, format, (wall_ms() - start) / 1000, resp, e);
out:
    order_wait_end(eng, &me);
    order_free(o);
    return rc;
}

const struct fw_path path_order_issue = {
    .pattern = ORDER_ROLE_RE "/issue",
    .fields = issue_fields,
    .ops = {
        [FW_CREATE] = { issue_write, "Order a certificate and wait for it." },
        [FW_UPDATE] = { issue_write, "Order a certificate and wait for it." },
    },
    /* Its wait holds a thread: the remote lane's, never one that answers reads. */
    .remote_ops = 1u << FW_CREATE | 1u << FW_UPDATE,
    .synopsis = "One call for templates and scripts: place an order and return its "
                "certificate when it completes within `wait`.",
    .description = "Takes new-order's fields (identifiers or csr) plus wait (default 30s, at "
                   "most 300s, capped below the host's request deadline) and "
                   "certificate_format. The order is placed as new-order places it. When it "
                   "completes within wait (Vault-managed dns-01, authorizations the CA "
                   "still holds as valid, an order already completed), the reply holds "
                   "fetch-cert's fields (certificate, issuing_ca, ca_chain, serial_number, "
                   "private_key for identifier orders, ...) and order_status completed. "
                   "Otherwise it holds the order's status fields (order_id, order_status, "
                   "challenges, last_error) and a warning: go on with the order's challenge, "
                   "fulfilled-challenge and fetch-cert endpoints. An order waiting on a "
                   "manual challenge answers at once. The wait ends when the order moves "
                   "(no polling); at most 2 calls per mount wait at a time, others answer "
                   "at once.",
};
