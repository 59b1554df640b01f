/* data.c: data/<path> (arbitrary JSON objects stored as is) and LIST data/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kv.h"

/* "data/" + the captured path; returns -1 (ERR_INVALID) when it does not fit. */
static int data_key(const struct fw_data *d, char *buf, size_t len, struct err *e)
{
    const char *path = fw_data_str(d, "path");
    if (!path[0])
        return err_set(e, ERR_INVALID, "missing path");
    if ((size_t)snprintf(buf, len, "data/%s", path) >= len)
        return err_set(e, ERR_INVALID, "path too long");
    return 0;
}

static int data_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    char key[1024];
    cJSON *val = NULL;
    if (data_key(d, key, sizeof key, e) != 0)
        return -1;
    if (fw_storage_get_json(req->storage, key, &val, e) != 0)
        return -1;
    resp->data = val;   /* NULL when missing: a nil response, 404 */
    return 0;
}

static int data_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    char key[1024];
    static const cJSON empty = { .type = cJSON_Object };
    if (data_key(d, key, sizeof key, e) != 0)
        return -1;
    const cJSON *body = cJSON_IsObject(req->data) ? req->data : &empty;
    return fw_storage_put_json(req->storage, key, body, false, e);
}

static int data_delete(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    char key[1024];
    if (data_key(d, key, sizeof key, e) != 0)
        return -1;
    if (req->storage->del(req->storage->ctx, key, e) != 0)
        return err_wrap(e, "storage delete %s", key);
    return 0;
}

static int data_list(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    char **keys = NULL;
    if (req->storage->list(req->storage->ctx, "data/", &keys, e) != 0)
        return err_wrap(e, "storage list data/");
    if (!keys || !keys[0]) {
        fw_strv_free(keys);
        return 0;   /* nothing stored: nil response, 404 like Vault */
    }
    cJSON *data = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(data, "keys");
    for (char **k = keys; arr && *k; k++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(*k));
    fw_strv_free(keys);
    if (!arr) {
        cJSON_Delete(data);
        return err_set(e, ERR_INTERNAL, "data list: out of memory");
    }
    resp->data = data;
    return 0;
}

static const struct fw_field data_fields[] = {
    { .name = "path", .type = FW_TYPE_STRING, .desc = "Location of the secret under data/." },
    { 0 }
};

const struct fw_path kv_path_data_list = {
    .pattern = "data/?",
    .ops = {
        [FW_LIST] = { data_list, "List the stored keys." },
    },
    .synopsis = "List the keys stored under data/.",
    .description = "Lists the keys written with data/<path>; sub-folders end in '/'.",
};

const struct fw_path kv_path_data = {
    .pattern = "data/(?<path>.+)",
    .fields = data_fields,
    .ops = {
        [FW_READ] = { data_read, "Read a stored object." },
        [FW_CREATE] = { data_write, "Store an object." },
        [FW_UPDATE] = { data_write, "Store an object." },
        [FW_DELETE] = { data_delete, "Delete a stored object." },
    },
    .synopsis = "Store arbitrary JSON objects.",
    .description = "Writes store the request body as is; reads return it unchanged.",
    .take_arbitrary_input = true,
};
