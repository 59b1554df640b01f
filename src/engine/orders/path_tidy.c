/* path_tidy.c: tidy, tidy-status, tidy-cancel and config/auto-tidy, with Vault PKI's
 * conventions (spec 003): POST tidy answers 202 at once with a warning and the run goes on
 * in the background (tidy.c); a second POST while one runs answers with a warning and
 * starts nothing; tidy-status has state, error, time_started, time_finished, message and
 * the counts; tidy-cancel stops the run at its next order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../internal.h"
#include "crypto.h"
#include "order.h"
#include "tidy.h"

/* pause_duration above this is a typo, not a plan. */
static const int64_t TIDY_PAUSE_MAX = 600;
static const int64_t AUTO_INTERVAL_DEFAULT = 12 * 3600;
static const int64_t SAFETY_BUFFER_DEFAULT = 72 * 3600;

#define TIDY_OPT_FIELDS                                                                     \
    { .name = "tidy_orders", .type = FW_TYPE_BOOL, .def = "false",                           \
      .desc = "Remove terminal orders (completed or revoked whose certificate expired, "     \
              "error, expired) past safety_buffer, with their certificate, private key and " \
              "index entries." },                                                            \
    { .name = "tidy_keys", .type = FW_TYPE_BOOL, .def = "false",                             \
      .desc = "Remove only the stored private keys of such orders (identifier workflow); "   \
              "the orders and certificates stay, fetch-cert then returns no private_key." }, \
    { .name = "safety_buffer", .type = FW_TYPE_DURATION, .def = "72h",                       \
      .desc = "Time after a certificate's expiry (or an order's end, without a "             \
              "certificate) before it is removed. At least 1s." },                           \
    { .name = "pause_duration", .type = FW_TYPE_DURATION, .def = "0s",                       \
      .desc = "Pause between two orders (whole seconds, at most 10m), to spread the "        \
              "storage load." }

static const struct fw_field tidy_fields[] = { TIDY_OPT_FIELDS, { 0 } };

/* The options of a request; for config/auto-tidy, fields absent from it keep `base`. */
static int opts_from(const struct fw_data *d, const struct tidy_opts *base,
                     struct tidy_opts *o, struct err *e)
{
    *o = *base;
    if (fw_data_present(d, "tidy_orders"))
        o->tidy_orders = fw_data_bool(d, "tidy_orders");
    if (fw_data_present(d, "tidy_keys"))
        o->tidy_keys = fw_data_bool(d, "tidy_keys");
    if (fw_data_present(d, "safety_buffer"))
        o->safety_buffer = fw_data_duration(d, "safety_buffer");
    if (fw_data_present(d, "pause_duration"))
        o->pause = fw_data_duration(d, "pause_duration");
    if (o->safety_buffer < 1)
        return err_set(e, ERR_INVALID, "safety_buffer: must be at least 1s");
    if (o->pause < 0 || o->pause > TIDY_PAUSE_MAX)
        return err_set(e, ERR_INVALID, "pause_duration: must be between 0s and 10m");
    return 0;
}

static bool opts_json(cJSON *j, const struct tidy_opts *o)
{
    char pb[32];
    return cJSON_AddBoolToObject(j, "tidy_orders", o->tidy_orders) &&
           cJSON_AddBoolToObject(j, "tidy_keys", o->tidy_keys) &&
           cJSON_AddNumberToObject(j, "safety_buffer", (double)o->safety_buffer) &&
           cJSON_AddStringToObject(j, "pause_duration",
                                   tidy_duration_str(o->pause, pb, sizeof pb));
}

/* Vault's logical.RespondWithStatusCode: the whole reply as the raw body of a 202. */
static int accepted_reply(const struct fw_req *req, cJSON *data, const char *warning,
                          struct fw_resp *resp, struct err *e)
{
    cJSON *body = cJSON_CreateObject(), *w = cJSON_CreateArray(), *o = NULL;
    char *text = NULL, *b64 = NULL;
    bool ok = body && w && cJSON_AddStringToObject(body, "request_id", req->id ? req->id : "") &&
              cJSON_AddStringToObject(body, "lease_id", "") &&
              cJSON_AddBoolToObject(body, "renewable", false) &&
              cJSON_AddNumberToObject(body, "lease_duration", 0) &&
              cJSON_AddItemToObject(body, "data", data) &&
              cJSON_AddNullToObject(body, "wrap_info") &&
              cJSON_AddItemToArray(w, cJSON_CreateString(warning)) &&
              cJSON_AddItemToObject(body, "warnings", w) &&
              cJSON_AddNullToObject(body, "auth");
    if (!ok) {
        if (!cJSON_GetObjectItemCaseSensitive(body, "data"))
            cJSON_Delete(data);
        if (!cJSON_GetObjectItemCaseSensitive(body, "warnings"))
            cJSON_Delete(w);
        cJSON_Delete(body);
        return err_set(e, ERR_INTERNAL, "tidy: out of memory");
    }
    if ((text = cJSON_PrintUnformatted(body)))
        b64 = crypto_b64_encode(text, strlen(text));
    cJSON_Delete(body);
    free(text);
    if (b64 && (o = cJSON_CreateObject()) &&
        cJSON_AddNumberToObject(o, "http_status_code", 202) &&
        cJSON_AddStringToObject(o, "http_content_type", "application/json") &&
        cJSON_AddStringToObject(o, "http_raw_body", b64)) {
        free(b64);
        resp->data = o;
        return 0;
    }
    free(b64);
    cJSON_Delete(o);
    return err_set(e, ERR_INTERNAL, "tidy: out of memory");
}

static int tidy_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    const struct tidy_opts defaults = { .safety_buffer = SAFETY_BUFFER_DEFAULT };
    struct tidy_opts o;
    bool started = false;
    if (opts_from(d, &defaults, &o, e) < 0)
        return -1;
    if (!o.tidy_orders && !o.tidy_keys)
        return err_set(e, ERR_INVALID, "tidy_orders, tidy_keys: at least one must be true");
    if (tidy_start(req->backend, req->storage, &o, false, &started, e) < 0)
        return -1;
    if (!started) {
        fw_resp_warn(resp, "Tidy operation already in progress.");
        return 0;
    }
    cJSON *data = cJSON_CreateObject();
    if (!data || !opts_json(data, &o)) {
        cJSON_Delete(data);
        return err_set(e, ERR_INTERNAL, "tidy: out of memory");
    }
    return accepted_reply(req, data, "Tidy operation successfully started. Any information "
                          "from the operation will be printed to Vault's server logs.",
                          resp, e);
}

const struct fw_path path_tidy = {
    .pattern = "tidy",
    .fields = tidy_fields,
    .ops = {
        [FW_UPDATE] = { tidy_write, "Start removing orders past their retention." },
        [FW_CREATE] = { tidy_write, "Start removing orders past their retention." },
    },
    .synopsis = "Remove terminal orders (and their keys, certificates and index entries) "
                "past safety_buffer, in the background.",
    .description = "Answers 202 at once; tidy-status shows the run, tidy-cancel stops it. "
                   "Give tidy_orders and/or tidy_keys. An order is removed once "
                   "safety_buffer has passed since its certificate expired (completed, "
                   "revoked) or since it ended (error, expired, no certificate); a valid "
                   "certificate is never removed, so role/:name/cached keeps its newest "
                   "valid one. Lookups keep working during a run; a run interrupted by a "
                   "crash or restart resumes where it stopped.",
};

static const struct fw_field no_fields[] = { { 0 } };

static int tidy_status_read(const struct fw_req *req, const struct fw_data *d,
                            struct fw_resp *resp, struct err *e)
{
    return tidy_status_reply(req->backend, req->storage, &resp->data, e);
}

const struct fw_path path_tidy_status = {
    .pattern = "tidy-status",
    .fields = no_fields,
    .ops = { [FW_READ] = { tidy_status_read, "Read the status of the last tidy run." } },
    .synopsis = "The current or last tidy run.",
    .description = "state is Inactive (never ran), Running, Cancelling, Cancelled, Finished "
                   "or Error (see error). time_started and time_finished are RFC 3339 (null "
                   "when unset); orders_checked_count, orders_deleted_count, "
                   "keys_deleted_count and ca_order_claims_deleted_count count this run; "
                   "last_auto_tidy_finished is the end of the last auto-tidy run; the "
                   "run's options are shown as given.",
};

static int tidy_cancel_write(const struct fw_req *req, const struct fw_data *d,
                             struct fw_resp *resp, struct err *e)
{
    bool running = false;
    if (tidy_cancel(req->backend, req->storage, &running, e) < 0)
        return -1;
    if (!running)
        return err_set(e, ERR_INVALID, "Tidy operation cannot be cancelled as none is "
                       "currently running.");
    return tidy_status_reply(req->backend, req->storage, &resp->data, e);
}

const struct fw_path path_tidy_cancel = {
    .pattern = "tidy-cancel",
    .fields = no_fields,
    .ops = {
        [FW_UPDATE] = { tidy_cancel_write, "Cancel the running tidy." },
        [FW_CREATE] = { tidy_cancel_write, "Cancel the running tidy." },
    },
    .synopsis = "Stop the running tidy at its next order.",
    .description = "Answers with tidy-status (state Cancelling, then Cancelled once it "
                   "stopped); 400 when no tidy runs.",
};

/* ---- config/auto-tidy ------------------------------------------------------------------ */

static const struct fw_field auto_fields[] = {
    { .name = "enabled", .type = FW_TYPE_BOOL, .def = "false",
      .desc = "Run tidy from the periodic function (active node only) every "
              "interval_duration." },
    { .name = "interval_duration", .type = FW_TYPE_DURATION, .def = "12h",
      .desc = "Time between the end of one auto-tidy run and the start of the next. At "
              "least 1s." },
    TIDY_OPT_FIELDS,
    { 0 }
};

struct auto_cfg {
    bool enabled;
    int64_t interval;
    struct tidy_opts o;
};

static int auto_load(struct fw_storage *s, struct auto_cfg *c, struct err *e)
{
    cJSON *j = NULL;
    memset(c, 0, sizeof *c);
    c->interval = AUTO_INTERVAL_DEFAULT;
    c->o.safety_buffer = SAFETY_BUFFER_DEFAULT;
    if (fw_storage_get_json(s, TIDY_AUTO_KEY, &j, e) < 0)
        return -1;
    if (!j)
        return 0;
    const cJSON *n;
    c->enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "enabled"));
    c->o.tidy_orders = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tidy_orders"));
    c->o.tidy_keys = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tidy_keys"));
    if (cJSON_IsNumber(n = cJSON_GetObjectItemCaseSensitive(j, "interval_duration")))
        c->interval = (int64_t)n->valuedouble;
    if (cJSON_IsNumber(n = cJSON_GetObjectItemCaseSensitive(j, "safety_buffer")))
        c->o.safety_buffer = (int64_t)n->valuedouble;
    if (cJSON_IsNumber(n = cJSON_GetObjectItemCaseSensitive(j, "pause_duration")))
        c->o.pause = (int64_t)n->valuedouble;
    cJSON_Delete(j);
    return 0;
}

static cJSON *auto_view(const struct auto_cfg *c)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddBoolToObject(j, "enabled", c->enabled) ||
        !cJSON_AddNumberToObject(j, "interval_duration", (double)c->interval) ||
        !opts_json(j, &c->o)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int auto_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    struct auto_cfg c;
    if (auto_load(req->storage, &c, e) < 0)
        return -1;
    if (!(resp->data = auto_view(&c)))
        return err_set(e, ERR_INTERNAL, "auto-tidy: out of memory");
    return 0;
}

static int auto_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    struct auto_cfg c;
    struct tidy_opts o;
    if (auto_load(req->storage, &c, e) < 0)
        return -1;
    /* Every field is checked before anything is stored. */
    if (opts_from(d, &c.o, &o, e) < 0)
        return -1;
    if (fw_data_present(d, "enabled"))
        c.enabled = fw_data_bool(d, "enabled");
    if (fw_data_present(d, "interval_duration"))
        c.interval = fw_data_duration(d, "interval_duration");
    if (c.interval < 1)
        return err_set(e, ERR_INVALID, "interval_duration: must be at least 1s");
    if (c.enabled && !o.tidy_orders && !o.tidy_keys)
        return err_set(e, ERR_INVALID, "enabled: auto-tidy needs tidy_orders or tidy_keys "
                       "set to true");
    c.o = o;
    cJSON *j = auto_view(&c);
    if (!j || !cJSON_AddNumberToObject(j, "updated", (double)order_now())) {
        cJSON_Delete(j);
        return err_set(e, ERR_INTERNAL, "auto-tidy: out of memory");
    }
    /* Stored with the durations as seconds (the view's pause_duration is text). */
    cJSON_ReplaceItemInObject(j, "pause_duration", cJSON_CreateNumber((double)c.o.pause));
    int rc = fw_storage_put_json(req->storage, TIDY_AUTO_KEY, j, false, e);
    cJSON_Delete(j);
    if (rc < 0)
        return -1;
    engine_recheck(req->backend, TIDY_AUTO_KEY);
    if (!(resp->data = auto_view(&c)))
        return err_set(e, ERR_INTERNAL, "auto-tidy: out of memory");
    return 0;
}

const struct fw_path path_config_auto_tidy = {
    .pattern = "config/auto-tidy",
    .fields = auto_fields,
    .ops = {
        [FW_READ] = { auto_read, "Read the auto-tidy configuration." },
        [FW_UPDATE] = { auto_write, "Configure auto-tidy." },
        [FW_CREATE] = { auto_write, "Configure auto-tidy." },
    },
    .synopsis = "Periodic tidy: enabled, interval_duration and tidy's options.",
    .description = "Fields left out of a write keep their value. The periodic function of "
                   "the active node starts a run once interval_duration has passed since "
                   "the last auto-tidy run ended (or since this configuration was written). "
                   "interval_duration and safety_buffer read as seconds, as in Vault PKI.",
};
