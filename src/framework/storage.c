/* storage.c: JSON helpers over struct fw_storage and the system view (see fw.h). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int fw_storage_get_json(struct fw_storage *s, const char *key, cJSON **out, struct err *e)
{
    char *val = NULL;
    size_t len = 0;

    *out = NULL;
    if (!s || !s->get)
        return err_set(e, ERR_INTERNAL, "storage get %s: no storage", key);
    if (s->get(s->ctx, key, &val, &len, e) != 0)
        return err_wrap(e, "storage get %s", key);
    if (!val)
        return 0;
    cJSON *j = cJSON_ParseWithLength(val, len);
    free(val);
    if (!j)
        return err_set(e, ERR_INTERNAL, "storage get %s: entry is not valid JSON", key);
    *out = j;
    return 0;
}

int fw_storage_put_json(struct fw_storage *s, const char *key, const cJSON *val,
                        bool seal_wrap, struct err *e)
{
    if (!s || !s->put)
        return err_set(e, ERR_INTERNAL, "storage put %s: no storage", key);
    if (!val)
        return err_set(e, ERR_INTERNAL, "storage put %s: no value", key);
    char *text = cJSON_PrintUnformatted(val);
    if (!text)
        return err_set(e, ERR_INTERNAL, "storage put %s: out of memory", key);
    int rc = s->put(s->ctx, key, text, strlen(text), seal_wrap, e);
    free(text);
    if (rc != 0)
        return err_wrap(e, "storage put %s", key);
    return 0;
}

void fw_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

const char fw_read_only_msg[] = "cannot write to readonly storage";

bool fw_storage_err_is_read_only(const char *host_err)
{
    /* Contains, not equals: the host may wrap it ("put x: cannot write to ..."), and
     * OpenBao's ShouldForward matches the same way. */
    return host_err && strstr(host_err, fw_read_only_msg) != NULL;
}

int fw_require_writable(const struct fw_req *req, struct err *e)
{
    const uint32_t read_only = FW_REPL_PERF_SECONDARY | FW_REPL_DR_SECONDARY |
                               FW_REPL_PERF_STANDBY;
    uint32_t state = 0;
    struct err ignored = { 0 };
    struct fw_sysview *sv = req ? req->sysview : NULL;

    if (!sv || !sv->replication_state || sv->replication_state(sv->ctx, &state, &ignored) != 0)
        return 0;
    if (state & read_only)
        return err_set(e, ERR_READ_ONLY, "%s", fw_read_only_msg);
    return 0;
}

int fw_req_cancelled(const struct fw_req *req, struct err *e)
{
    if (req && req->cancelled && atomic_load(req->cancelled))
        return err_set(e, ERR_RETRY, "the request was cancelled by the host (its client went "
                       "away or its deadline passed); nothing was stored");
    return 0;
}

bool fw_sysview_can_write(struct fw_sysview *sv)
{
    const uint32_t read_only = FW_REPL_PERF_SECONDARY | FW_REPL_DR_SECONDARY |
                               FW_REPL_PERF_STANDBY;
    uint32_t state = 0;
    struct err e = { 0 };

    if (!sv || !sv->replication_state)
        return false;
    if (sv->replication_state(sv->ctx, &state, &e) != 0)
        return false;
    return (state & read_only) == 0;
}
