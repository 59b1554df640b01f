/* config.c: the "config" path, exercising typed fields, defaults and the existence check.
 * Stored at key "config" as {"name","count","enabled","ttl","tags","created","created_via"}.
 * A write keeps stored values for fields the request does not set. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kv.h"

static int config_exists(const struct fw_req *req, const struct fw_data *d, bool *exists,
                         struct err *e)
{
    cJSON *cur = NULL;
    if (fw_storage_get_json(req->storage, "config", &cur, e) != 0)
        return -1;
    *exists = cur != NULL;
    cJSON_Delete(cur);
    return 0;
}

/* Sets key in obj to the request's value when present, else keeps the stored value, else
 * uses the field's default. */
static void merge_field(cJSON *obj, const cJSON *cur, const struct fw_data *d,
                        const char *key, cJSON *from_request)
{
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, key);
    if (!fw_data_present(d, key) && old) {
        cJSON_AddItemToObject(obj, key, cJSON_Duplicate(old, true));
        cJSON_Delete(from_request);
        return;
    }
    cJSON_AddItemToObject(obj, key, from_request);
}

static int config_write(const struct fw_req *req, const struct fw_data *d, bool create,
                        struct err *e)
{
    cJSON *cur = NULL, *obj = NULL;
    int rc = -1;

    if (fw_storage_get_json(req->storage, "config", &cur, e) != 0)
        return -1;
    const cJSON *old_name = cJSON_GetObjectItemCaseSensitive(cur, "name");
    if (!fw_data_present(d, "name") && !cJSON_IsString(old_name)) {
        err_set(e, ERR_INVALID, "missing name");
        goto out;
    }
    obj = cJSON_CreateObject();
    if (!obj) {
        err_set(e, ERR_INTERNAL, "config: out of memory");
        goto out;
    }
    merge_field(obj, cur, d, "name", cJSON_CreateString(fw_data_str(d, "name")));
    merge_field(obj, cur, d, "count", cJSON_CreateNumber((double)fw_data_int(d, "count")));
    merge_field(obj, cur, d, "enabled", cJSON_CreateBool(fw_data_bool(d, "enabled")));
    merge_field(obj, cur, d, "ttl", cJSON_CreateNumber((double)fw_data_duration(d, "ttl")));
    merge_field(obj, cur, d, "tags", cJSON_Duplicate(fw_data_list(d, "tags"), true));
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(cur, "created");
    cJSON_AddBoolToObject(obj, "created", create || cJSON_IsTrue(created));
    cJSON_AddStringToObject(obj, "created_via", create ? "create" : "update");
    rc = fw_storage_put_json(req->storage, "config", obj, false, e);
out:
    cJSON_Delete(cur);
    cJSON_Delete(obj);
    return rc;
}

static int config_create(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    return config_write(req, d, true, e);
}

static int config_update(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    return config_write(req, d, false, e);
}

static int config_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    cJSON *cur = NULL;
    if (fw_storage_get_json(req->storage, "config", &cur, e) != 0)
        return -1;
    resp->data = cur;   /* NULL when never written: 404 */
    return 0;
}

static int config_delete(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    if (req->storage->del(req->storage->ctx, "config", e) != 0)
        return err_wrap(e, "storage delete config");
    return 0;
}

static const struct fw_field config_fields[] = {
    { .name = "name", .type = FW_TYPE_STRING, .required = true,
      .desc = "Name of the configuration (required on the first write)." },
    { .name = "count", .type = FW_TYPE_INT, .def = "3", .desc = "A number, default 3." },
    { .name = "enabled", .type = FW_TYPE_BOOL, .desc = "A flag, default false." },
    { .name = "ttl", .type = FW_TYPE_DURATION, .def = "1h",
      .desc = "A duration in seconds or Go syntax (\"90s\", \"1h\"), default 1h." },
    { .name = "tags", .type = FW_TYPE_COMMA_STRING_SLICE,
      .desc = "A list, as \"a,b\" or a JSON array." },
    { 0 }
};

const struct fw_path kv_path_config = {
    .pattern = "config",
    .fields = config_fields,
    .exists = config_exists,
    .ops = {
        [FW_READ] = { config_read, "Read the configuration." },
        [FW_CREATE] = { config_create, "Create the configuration." },
        [FW_UPDATE] = { config_update, "Update the configuration." },
        [FW_DELETE] = { config_delete, "Delete the configuration." },
    },
    .synopsis = "Typed configuration, for testing field parsing.",
    .description = "Stores typed fields. Reads return every field plus created (true once "
                   "written through create) and created_via, the operation of the last "
                   "write: \"create\" or \"update\".",
};
