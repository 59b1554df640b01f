/* path_order_fetch.c: role/:name/order/:order_id/fetch-cert. The certificate of a completed
 * order, from storage: repeatable, identical every time (Terraform's import check compares
 * two reads), including the private key of identifier-workflow orders. */
#include <string.h>

#include <cJSON.h>

#include "../internal.h"
#include "order.h"

static const struct fw_field fetch_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true, .desc = "The order id." },
    { .name = "certificate_format", .type = FW_TYPE_STRING, .def = "pem", .query = true,
      .empty_is_default = true,
      .desc = "pem (default), der (base64 DER) or pem_bundle (certificate and chain)." },
    { 0 }
};

int order_cert_format(const struct fw_data *d, const char **out, struct err *e)
{
    const char *format = fw_data_str(d, "certificate_format");
    if (strcmp(format, "pem") != 0 && strcmp(format, "der") != 0 &&
        strcmp(format, "pem_bundle") != 0)
        return err_set(e, ERR_INVALID,
                       "certificate_format: %s is not one of pem, der, pem_bundle", format);
    *out = format;
    return 0;
}

static int fetch_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    const char *format = NULL;
    struct order *o = NULL;
    int rc;
    if (order_cert_format(d, &format, e) < 0)
        return -1;
    if (order_load_req(req, d, &o, e) < 0)
        return -1;
    /* A revoked order's certificate is still the one that was issued. */
    if (!o->serial[0])
        rc = err_set(e, ERR_INVALID, "order_id: order %s has no certificate (status %s%s%s)",
                     o->id, order_status_name(o->status), o->last_error[0] ? ": " : "",
                     o->last_error);
    else
        rc = order_cert_reply(req->storage, o, format, &resp->data, e);
    order_free(o);
    return rc;
}

const struct fw_path path_order_fetch = {
    .pattern = ORDER_ROLE_RE "/order/(?<order_id>[^/]+)/fetch-cert",
    .fields = fetch_fields,
    .ops = {
        [FW_READ] = { fetch_read, "Fetch the issued certificate." },
    },
    .synopsis = "The certificate (and, for identifier orders, the private key) of an order.",
    .description = "Available once order_status is completed; the same reply every time.",
};
