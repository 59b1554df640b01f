/* path_lookup.c: lookup/cert/:serial, lookup/order/:order_id, lookup/orders (LIST) and
 * lookup/orders/recent (LIST). Each is a direct key read or a prefix list:
 * cert/<serial>, order/<id>, order/, and order-hour/<hour>/ for the hours asked about. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "../internal.h"
#include "order.h"

/* At most this many orders in a recent-orders reply (the API's limit). */
static const size_t RECENT_MAX = 500;

static const struct fw_field cert_fields[] = {
    { .name = "serial", .type = FW_TYPE_STRING, .required = true,
      .desc = "Serial number, hex with colons or hyphens (03:e7:1f or 03-e7-1f)." },
    { 0 }
};

static int lookup_cert(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    char *serial = NULL, b1[32], b2[32];
    cJSON *rec = NULL, *j = NULL;
    struct order *o = NULL;
    int rc = -1;
    if (crypto_serial_normalize(fw_data_str(d, "serial"), &serial, e) < 0)
        return -1;   /* ERR_INVALID already names serial */
    if (order_cert_load(req->storage, serial, &rec, e) < 0)
        goto out;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "order_id"));
    if (order_load(req->storage, id ? id : "", &o, e) < 0)
        goto out;
    int64_t nb = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_before"));
    int64_t na = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_after"));
    cJSON *ids = cJSON_CreateStringArray((const char *const *)order_shown_identifiers(o),
                                         (int)o->n_identifiers);
    j = cJSON_CreateObject();
    if (!j || !ids || !cJSON_AddItemToObject(j, "identifiers", ids)) {
        cJSON_Delete(ids);
        goto oom;
    }
    if (!cJSON_AddStringToObject(j, "order_status", order_status_name(o->status)) ||
        !cJSON_AddStringToObject(j, "role_name", o->role) ||
        !cJSON_AddStringToObject(j, "order_id", o->id) ||
        !cJSON_AddStringToObject(j, "serial_number", serial) ||
        !cJSON_AddStringToObject(j, "not_before", order_time_str(nb, b1, sizeof b1)) ||
        !cJSON_AddStringToObject(j, "not_after", order_time_str(na, b2, sizeof b2)) ||
        !order_renewal_view(o, j))
        goto oom;
    resp->data = j;
    j = NULL;
    rc = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "lookup cert: out of memory");
out:
    cJSON_Delete(j);
    cJSON_Delete(rec);
    order_free(o);
    free(serial);
    return rc;
}

const struct fw_path path_lookup_cert = {
    .pattern = "lookup/cert/(?<serial>[^/]+)",
    .fields = cert_fields,
    .ops = { [FW_READ] = { lookup_cert, "Look a certificate up by serial number." } },
    .synopsis = "The order behind a certificate serial number.",
    .description = "Serial numbers may use colons or hyphens. The reply includes the "
                   "certificate's renewal window (renewal_window_start, renewal_window_end, "
                   "renewal_explanation_url: the CA's ARI window, else the last third of the "
                   "lifetime) and the renewal links of its order.",
};

static const struct fw_field order_fields[] = {
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true, .desc = "The order id." },
    { 0 }
};

static int lookup_order(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                        struct err *e)
{
    struct order *o = NULL;
    if (order_load(req->storage, fw_data_str(d, "order_id"), &o, e) < 0)
        return -1;
    resp->data = order_view_status(o);
    order_free(o);
    return resp->data ? 0 : err_set(e, ERR_INTERNAL, "lookup order: out of memory");
}

const struct fw_path path_lookup_order = {
    .pattern = "lookup/order/(?<order_id>[^/]+)",
    .fields = order_fields,
    .ops = { [FW_READ] = { lookup_order, "Look an order up by id, whatever its role." } },
    .synopsis = "An order by id.",
    .description = "The same fields as the order status endpoint, including the renewal "
                   "window and links: replaces_order_id (the order this one renews) and "
                   "replaced_by_order_id (its automatic renewal).",
};

static const struct fw_field no_fields[] = { { 0 } };

static int lookup_orders(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    char **keys = NULL;
    if (req->storage->list(req->storage->ctx, "order/", &keys, e) < 0)
        return -1;
    int rc = engine_keys_reply(keys, resp, e);
    fw_strv_free(keys);
    return rc;
}

const struct fw_path path_lookup_orders = {
    .pattern = "lookup/orders/?",
    .fields = no_fields,
    .ops = {
        [FW_LIST] = { lookup_orders, "List every order id." },
    },
    .synopsis = "Every order, active or finished.",
    .description = "Keys are order ids, oldest first (ids are UUIDv7).",
};

static const struct fw_field recent_fields[] = {
    { .name = "within", .type = FW_TYPE_DURATION, .def = "1h", .query = true,
      .desc = "How far back to look, 1h to 168h." },
    { 0 }
};

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Adds the ids in the hour buckets order-hour/<YYYYMMDDHH>/ from now back to since that were
 * created at or after since to *ids (*n of them, *cap slots; the caller frees *ids with
 * fw_strv_free() whatever the result). */
static int recent_collect(struct fw_storage *s, int64_t since, int64_t now, char ***ids,
                          size_t *n, size_t *cap, struct err *e)
{
    int64_t since_ms = since * 1000;
    for (int64_t h = now - now % 3600; h >= since - since % 3600; h -= 3600) {
        char prefix[64], hour[16], **hk = NULL;
        struct tm tm;
        time_t t = (time_t)h;
        gmtime_r(&t, &tm);
        strftime(hour, sizeof hour, "%Y%m%d%H", &tm);
        snprintf(prefix, sizeof prefix, "order-hour/%s/", hour);
        if (s->list(s->ctx, prefix, &hk, e) < 0)
            return -1;
        for (size_t i = 0; hk[i]; i++) {
            if (uuid7_time_ms(hk[i]) < since_ms)
                continue;
            if (engine_strv_push(ids, n, cap, hk[i]) < 0) {
                fw_strv_free(hk);
                return err_set(e, ERR_INTERNAL, "recent orders: out of memory");
            }
        }
        fw_strv_free(hk);
    }
    return 0;
}

/* The key_info entry of one order. New object, NULL when out of memory. */
static cJSON *recent_info(const struct order *o)
{
    char b1[32], b2[32];
    cJSON *ki = cJSON_CreateObject();
    cJSON *idl = cJSON_CreateStringArray((const char *const *)order_shown_identifiers(o),
                                         (int)o->n_identifiers);
    if (!ki || !idl || !cJSON_AddItemToObject(ki, "identifiers", idl)) {
        cJSON_Delete(idl);
        cJSON_Delete(ki);
        return NULL;
    }
    if (!cJSON_AddStringToObject(ki, "order_status", order_status_name(o->status)) ||
        !cJSON_AddStringToObject(ki, "role_name", o->role) ||
        !cJSON_AddStringToObject(ki, "creation_date",
                                 order_time_str(o->creation_date, b1, sizeof b1)) ||
        !cJSON_AddStringToObject(ki, "last_update",
                                 order_time_str(o->last_update, b2, sizeof b2))) {
        cJSON_Delete(ki);
        return NULL;
    }
    return ki;
}

/* Orders created in the last `within`, newest first, at most RECENT_MAX, with key_info. */
static int lookup_recent(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    int64_t within = fw_data_duration(d, "within");
    char **ids = NULL;
    size_t n = 0, cap = 0;
    cJSON *keys = NULL, *info = NULL;
    int rc = -1;
    if (!fw_data_present(d, "within"))
        within = 3600;
    if (within < 3600 || within > 168 * 3600)
        return err_set(e, ERR_INVALID, "within: must be between 1h and 168h");

    int64_t now = order_now();
    if (recent_collect(req->storage, now - within, now, &ids, &n, &cap, e) < 0)
        goto out;
    if (n == 0) {
        rc = 0;   /* an empty LIST is a 404, as Vault answers */
        goto out;
    }
    /* UUIDv7 ids sort by creation time. */
    qsort(ids, n, sizeof *ids, cmp_desc);
    keys = cJSON_CreateArray();
    info = cJSON_CreateObject();
    if (!keys || !info)
        goto oom;
    for (size_t i = 0; i < n && (size_t)cJSON_GetArraySize(keys) < RECENT_MAX; i++) {
        struct order *o = NULL;
        struct err le;
        if (order_load(req->storage, ids[i], &o, &le) < 0) {
            if (le.kind == ERR_NOT_FOUND)
                continue;   /* a dangling index entry */
            *e = le;
            goto out;
        }
        cJSON *ki = recent_info(o);
        cJSON *k = ki ? cJSON_CreateString(o->id) : NULL;
        if (!k || !cJSON_AddItemToArray(keys, k) || !cJSON_AddItemToObject(info, o->id, ki)) {
            cJSON_Delete(ki);
            order_free(o);
            goto oom;
        }
        order_free(o);
    }
    if (cJSON_GetArraySize(keys) == 0) {
        rc = 0;
        goto out;
    }
    if (!(resp->data = cJSON_CreateObject()))
        goto oom;
    cJSON_AddItemToObject(resp->data, "keys", keys);
    cJSON_AddItemToObject(resp->data, "key_info", info);
    keys = info = NULL;
    rc = 0;
    goto out;
oom:
    rc = err_set(e, ERR_INTERNAL, "recent orders: out of memory");
out:
    cJSON_Delete(keys);
    cJSON_Delete(info);
    fw_strv_free(ids);
    return rc;
}

const struct fw_path path_lookup_orders_recent = {
    .pattern = "lookup/orders/recent/?",
    .fields = recent_fields,
    .ops = {
        [FW_LIST] = { lookup_recent, "List orders created recently, newest first." },
        [FW_READ] = { lookup_recent, "List orders created recently, newest first." },
    },
    .synopsis = "Orders created within the last `within` (1h-168h), newest first, at most 500.",
    .description = "key_info holds each order's status, role, identifiers and dates.",
};
