/* path_order_status.c: role/:name/order/:order_id/status. A plain read of the stored
 * order: it never calls the CA, so it is cheap to poll (Terraform polls every 2 s). */
#include <cJSON.h>

#include "../internal.h"
#include "order.h"

static const struct fw_field status_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true,
      .desc = "The order_id new-order returned." },
    { 0 }
};

static int order_status_read(const struct fw_req *req, const struct fw_data *d,
                             struct fw_resp *resp, struct err *e)
{
    struct order *o = NULL;
    if (order_load_req(req, d, &o, e) < 0)
        return -1;
    resp->data = order_view_status(o);
    order_free(o);
    if (!resp->data)
        return err_set(e, ERR_INTERNAL, "order status: out of memory");
    return 0;
}

const struct fw_path path_order_status = {
    .pattern = ORDER_ROLE_RE "/order/(?<order_id>[^/]+)/status",
    .fields = status_fields,
    .ops = {
        [FW_READ] = { order_status_read, "Read an order's status." },
    },
    .synopsis = "Status of a certificate order.",
    .description = "order_status is one of new, submitted, awaiting-challenge-fulfillment, "
                   "notify-acme-server-challenges-completed, processing-challenge, "
                   "fetching-certificate, completed, expired, revoked, error (see last_error).",
};
