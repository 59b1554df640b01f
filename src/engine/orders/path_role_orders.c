/* path_role_orders.c: role/:name/active-orders (LIST) and role/:name/cached. Both read
 * indexes (role-active/<role>/, role-cache/<role>/<hash>), never every order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../internal.h"
#include "order.h"

static const struct fw_field active_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { 0 }
};

/* Ids in role-active/<role>/ whose order exists and is not terminal (an index entry may
 * dangle after a crash, or lag a terminal order by one write). */
static int active_list(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    char prefix[300], **keys = NULL, **ids = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    if (role_require(req->storage, fw_data_str(d, "name"), e) < 0)
        return -1;
    snprintf(prefix, sizeof prefix, "role-active/%s/", fw_data_str(d, "name"));
    if (req->storage->list(req->storage->ctx, prefix, &keys, e) < 0)
        return -1;
    for (size_t i = 0; keys[i]; i++) {
        struct order *o = NULL;
        struct err le;
        if (order_load(req->storage, keys[i], &o, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                goto out;
            }
            continue;
        }
        bool active = !order_status_terminal(o->status);
        order_free(o);
        if (active && engine_strv_push(&ids, &n, &cap, keys[i]) < 0) {
            err_set(e, ERR_INTERNAL, "active-orders: out of memory");
            goto out;
        }
    }
    rc = engine_keys_reply(ids, resp, e);
out:
    fw_strv_free(ids);
    fw_strv_free(keys);
    return rc;
}

const struct fw_path path_role_active_orders = {
    .pattern = ORDER_ROLE_RE "/active-orders/?",
    .fields = active_fields,
    .ops = {
        [FW_LIST] = { active_list, "List the role's orders that are not finished." },
        [FW_READ] = { active_list, "List the role's orders that are not finished." },
    },
    .synopsis = "Orders of the role that are not completed, expired, revoked or failed.",
    .description = "Keys are order ids.",
};

static const struct fw_field cached_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "identifiers", .type = FW_TYPE_COMMA_STRING_SLICE, .required = true, .query = true,
      .desc = "The identifiers of the certificate wanted (any order)." },
    { .name = "min_validity_duration", .type = FW_TYPE_DURATION, .query = true,
      .desc = "Minimum time the certificate must still be valid for." },
    { .name = "min_validity_percentage", .type = FW_TYPE_INT, .query = true,
      .desc = "Minimum share (0-100) of its lifetime the certificate must have left." },
    { .name = "certificate_format", .type = FW_TYPE_STRING, .def = "pem", .query = true,
      .empty_is_default = true,
      .desc = "pem (default), der or pem_bundle." },
    { 0 }
};

static int cached_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    const char *role = fw_data_str(d, "name");
    const char *format = NULL;
    const cJSON *list = fw_data_list(d, "identifiers");
    bool has_dur = fw_data_present(d, "min_validity_duration");
    bool has_pct = fw_data_present(d, "min_validity_percentage");
    int64_t dur = fw_data_duration(d, "min_validity_duration");
    int64_t pct = fw_data_int(d, "min_validity_percentage");
    char **ids = NULL, key[400];
    size_t n = 0;
    cJSON *ptr = NULL, *rec = NULL;
    struct order *o = NULL;
    int rc = -1;

    if (order_cert_format(d, &format, e) < 0)
        return -1;
    if (cJSON_GetArraySize(list) == 0)
        return err_set(e, ERR_INVALID, "identifiers: required");
    if (has_dur == has_pct)
        return err_set(e, ERR_INVALID, "min_validity_duration, min_validity_percentage: give "
                       "exactly one");
    if (has_pct && (pct < 0 || pct > 100))
        return err_set(e, ERR_INVALID, "min_validity_percentage: %lld is not within 0-100",
                       (long long)pct);
    if (has_dur && dur < 0)
        return err_set(e, ERR_INVALID, "min_validity_duration: must not be negative");
    if (role_require(req->storage, role, e) < 0)
        return -1;
    if (!(ids = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *ids)))
        return err_set(e, ERR_INTERNAL, "cached: out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        const char *s = cJSON_GetStringValue(it);
        if (!s || !s[0]) {
            err_set(e, ERR_INVALID, "identifiers: empty identifier");
            goto out;
        }
        /* The cache key is over the A-labels the certificate carries. */
        if (idn_to_alabel(s, &ids[n], e) < 0) {
            if (e->kind == ERR_INVALID)
                err_wrap(e, "identifiers");
            goto out;
        }
        n++;
    }
    if (order_cache_key(role, ids, n, key, sizeof key, e) < 0)
        goto out;
    if (fw_storage_get_json(req->storage, key, &ptr, e) < 0)
        goto out;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ptr, "order_id"));
    struct err le;
    /* From here on, "nothing qualifies" is a 404 saying so, for GET and POST alike. */
    err_set(e, ERR_NOT_FOUND, "role %.100s has no cached certificate for these identifiers "
            "with the validity asked for", role);
    if (!id || order_load_for_role(req->storage, role, id, &o, &le) < 0) {
        if (id && le.kind != ERR_NOT_FOUND)
            *e = le;
        goto out;
    }
    if (o->status != ORDER_COMPLETED || !o->serial[0])
        goto out;
    if (order_cert_load(req->storage, o->serial, &rec, &le) < 0)
        goto out;
    int64_t nb = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_before"));
    int64_t na = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_after"));
    int64_t left = na - order_now();
    if (left <= 0)
        goto out;
    if (has_dur && left < dur)
        goto out;
    if (has_pct && (na <= nb || left * 100 < pct * (na - nb)))
        goto out;
    rc = order_cert_reply(req->storage, o, format, &resp->data, e);
out:
    cJSON_Delete(rec);
    cJSON_Delete(ptr);
    order_free(o);
    fw_strv_free(ids);
    return rc;
}

const struct fw_path path_role_cached = {
    .pattern = ORDER_ROLE_RE "/cached",
    .fields = cached_fields,
    .ops = {
        [FW_READ] = { cached_read, "Read the newest cached certificate." },
        [FW_UPDATE] = { cached_read, "Read the newest cached certificate." },
    },
    .synopsis = "The newest identifier-workflow certificate of the role for these "
                "identifiers, when it still has the validity asked for.",
    .description = "404 when no cached certificate qualifies.",
};
