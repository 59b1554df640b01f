/* stats.c: the "stats" path and the periodic function that feeds it. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "kv.h"

static int stats_load(struct fw_storage *s, double *rollbacks, struct err *e)
{
    cJSON *cur = NULL;
    if (fw_storage_get_json(s, "stats", &cur, e) != 0)
        return -1;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cur, "rollbacks");
    *rollbacks = cJSON_IsNumber(n) ? n->valuedouble : 0;
    cJSON_Delete(cur);
    return 0;
}

/* Vault sends at most one rollback per mount at a time, so the read-modify-write does not
 * race with itself. No replication check: the host tests count every rollback, and a
 * read-only node simply fails the write. */
int kv_periodic(const struct fw_req *req, struct err *e)
{
    double n = 0;
    if (stats_load(req->storage, &n, e) != 0)
        return -1;
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddNumberToObject(obj, "rollbacks", n + 1)) {
        cJSON_Delete(obj);
        return err_set(e, ERR_INTERNAL, "stats: out of memory");
    }
    int rc = fw_storage_put_json(req->storage, "stats", obj, false, e);
    cJSON_Delete(obj);
    return rc;
}

static int stats_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    double n = 0;
    if (stats_load(req->storage, &n, e) != 0)
        return -1;
    resp->data = cJSON_CreateObject();
    if (!resp->data || !cJSON_AddNumberToObject(resp->data, "rollbacks", n))
        return err_set(e, ERR_INTERNAL, "stats: out of memory");
    return 0;
}

const struct fw_path kv_path_stats = {
    .pattern = "stats",
    .ops = {
        [FW_READ] = { stats_read, "Read the rollback counter." },
    },
    .synopsis = "Counters kept by the plugin.",
    .description = "rollbacks: how many periodic (rollback) requests reached the plugin.",
};
