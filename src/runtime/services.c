/* services.c: the unary methods the plugin serves, as a table. Each handler unpacks its
 * request, does the work (on a worker thread) and packs the reply. Methods not in the table
 * get UNIMPLEMENTED from server.c at once. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.pb-c.h"
#include "convert.h"
#include "grpc_controller.pb-c.h"
#include "health.pb-c.h"
#include "log.h"
#include "multiplexing.pb-c.h"
#include "version.pb-c.h"

void rt_reply_status(struct rt_reply *out, grpc_status_code status, const char *detail)
{
    free(out->buf);
    out->buf = NULL;
    out->len = 0;
    out->status = status;
    snprintf(out->detail, sizeof out->detail, "%s", detail ? detail : "");
}

void rt_reply_pack(struct rt_reply *out, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    out->buf = malloc(len ? len : 1);
    if (!out->buf) {
        rt_reply_status(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    out->len = protobuf_c_message_pack(msg, out->buf);
    out->status = GRPC_STATUS_OK;
}

static void svc_setup(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__SetupArgs *args = pb__setup_args__unpack(NULL, in->len, in->buf);
    Pb__SetupReply reply = PB__SETUP_REPLY__INIT;
    struct err e = { 0 };
    struct mount *m = NULL;
    if (!args) {
        rt_reply_status(out, GRPC_STATUS_INVALID_ARGUMENT, "bad SetupArgs");
        return;
    }
    char broker_id[16];
    snprintf(broker_id, sizeof broker_id, "%u", args->broker_id);
    if (mount_setup(rt, &args->base, in->mux_id, &m, &e) != 0) {
        log_error(RT_LOG, "backend setup failed", "broker_id", broker_id, "multiplex_id",
                  in->mux_id, "error", e.msg, NULL);
        reply.err = e.msg;
    } else {
        mount_replace(rt, in->mux_id, m);
        log_info(RT_LOG, "backend set up", "broker_id", broker_id, "multiplex_id", in->mux_id,
                 NULL);
    }
    rt_reply_pack(out, &reply.base);
    pb__setup_args__free_unpacked(args, NULL);
}

/* Runs the framework on one request with the current mount. */
static void request_run(struct runtime *rt, const struct rt_in *in, const Pb__Request *preq,
                        struct fw_resp *resp)
{
    const char *mux_id = in->mux_id;
    struct fw_req req;
    cJSON *data = NULL;
    struct err e = { 0 };
    struct mount *m = mount_acquire(rt, mux_id);
    if (!m) {
        resp->status = FW_STATUS_INTERNAL;
        snprintf(resp->err_msg, sizeof resp->err_msg, "plugin backend is not set up");
        return;
    }
    if (convert_request(preq, &req, &data, &e) != 0) {
        resp->status = FW_STATUS_USER_ERROR;
        snprintf(resp->err_msg, sizeof resp->err_msg, "%s", e.msg);
    } else {
        req.storage = &m->storage;
        req.sysview = &m->sysview;
        req.backend = m->instance;
        req.deadline_ms = in->deadline_ms;
        req.cancelled = in->cancelled;
        fw_handle_request(rt->backend, &req, resp);
    }
    mount_release(rt, m);
    cJSON_Delete(data);
}

static void svc_handle_request(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__HandleRequestArgs *args = pb__handle_request_args__unpack(NULL, in->len, in->buf);
    if (!args || !args->request) {
        pb__handle_request_args__free_unpacked(args, NULL);
        rt_reply_status(out, GRPC_STATUS_INVALID_ARGUMENT, "bad HandleRequestArgs");
        return;
    }
    struct fw_resp resp;
    struct convert_reply cr;
    fw_resp_init(&resp);
    request_run(rt, in, args->request, &resp);
    log_trace(RT_LOG, "request handled", "request_id", args->request->id, "operation",
              args->request->operation, "path", args->request->path, NULL);
    convert_response(&resp, &cr);
    rt_reply_pack(out, &cr.reply.base);
    convert_reply_clear(&cr);
    fw_resp_clear(&resp);
    pb__handle_request_args__free_unpacked(args, NULL);
}

/* HandleRequest calls whose handler waits on a CA go to the remote lane. */
static bool svc_request_is_remote(struct runtime *rt, const struct rt_in *in)
{
    Pb__HandleRequestArgs *args = pb__handle_request_args__unpack(NULL, in->len, in->buf);
    bool remote = args && args->request &&
                  fw_request_is_remote(rt->backend, args->request->path,
                                       args->request->operation);
    pb__handle_request_args__free_unpacked(args, NULL);
    return remote;
}

static void svc_existence(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__HandleExistenceCheckArgs *args = pb__handle_existence_check_args__unpack(NULL, in->len, in->buf);
    if (!args || !args->request) {
        pb__handle_existence_check_args__free_unpacked(args, NULL);
        rt_reply_status(out, GRPC_STATUS_INVALID_ARGUMENT, "bad HandleExistenceCheckArgs");
        return;
    }
    struct fw_req req;
    cJSON *data = NULL;
    struct err e = { 0 };
    char msg[512] = "";
    bool found = false, exists = false;
    enum fw_status st = FW_STATUS_INTERNAL;
    struct mount *m = mount_acquire(rt, in->mux_id);
    if (!m) {
        snprintf(msg, sizeof msg, "plugin backend is not set up");
    } else {
        if (convert_request(args->request, &req, &data, &e) != 0) {
            /* The host turns an existence-check error into a bare "invalid request": say
             * "no check" instead, so HandleRequest runs and refuses the body with its
             * message. */
            st = FW_STATUS_OK;
        } else {
            req.storage = &m->storage;
            req.sysview = &m->sysview;
            req.backend = m->instance;
            st = fw_existence_check(rt->backend, &req, &found, &exists, msg, sizeof msg);
        }
        mount_release(rt, m);
    }
    Pb__HandleExistenceCheckReply reply;
    Pb__ProtoError perr;
    convert_existence(st, found, exists, msg, &reply, &perr);
    rt_reply_pack(out, &reply.base);
    cJSON_Delete(data);
    pb__handle_existence_check_args__free_unpacked(args, NULL);
}

static void svc_initialize(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__InitializeReply reply = PB__INITIALIZE_REPLY__INIT;
    Pb__ProtoError perr = PB__PROTO_ERROR__INIT;
    struct err e = { 0 };
    struct mount *m = mount_acquire(rt, in->mux_id);
    int rc = 0;
    if (!m) {
        rc = err_set(&e, ERR_INTERNAL, "plugin backend is not set up");
    } else {
        if (rt->backend->initialize)
            rc = rt->backend->initialize(m->instance, &m->env, &e);
        mount_release(rt, m);
    }
    if (rc != 0) {
        log_error(RT_LOG, "backend initialize failed", "error", e.msg, NULL);
        perr.err_msg = e.msg;
        reply.err = &perr;
    }
    rt_reply_pack(out, &reply.base);
}

static void svc_cleanup(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__Empty reply = PB__EMPTY__INIT;
    mount_replace(rt, in->mux_id, NULL);
    log_debug(RT_LOG, "backend cleaned up", "multiplex_id", in->mux_id, NULL);
    rt_reply_pack(out, &reply.base);
}

static void svc_invalidate(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__InvalidateKeyArgs *args = pb__invalidate_key_args__unpack(NULL, in->len, in->buf);
    Pb__Empty reply = PB__EMPTY__INIT;
    struct mount *m = args ? mount_acquire(rt, in->mux_id) : NULL;
    if (m) {
        if (rt->backend->invalidate)
            rt->backend->invalidate(m->instance, args->key);
        mount_release(rt, m);
    }
    pb__invalidate_key_args__free_unpacked(args, NULL);
    rt_reply_pack(out, &reply.base);
}

static size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static void svc_special_paths(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    const struct fw_special_paths *sp = &rt->backend->special;
    Pb__SpecialPathsReply reply = PB__SPECIAL_PATHS_REPLY__INIT;
    Pb__Paths paths = PB__PATHS__INIT;
    /* The generated struct wants char **; the lists are only read while packing. */
    paths.root = (char **)sp->root;
    paths.n_root = strv_len(sp->root);
    paths.unauthenticated = (char **)sp->unauthenticated;
    paths.n_unauthenticated = strv_len(sp->unauthenticated);
    paths.local_storage = (char **)sp->local_storage;
    paths.n_local_storage = strv_len(sp->local_storage);
    paths.seal_wrap_storage = (char **)sp->seal_wrap_storage;
    paths.n_seal_wrap_storage = strv_len(sp->seal_wrap_storage);
    reply.paths = &paths;
    rt_reply_pack(out, &reply.base);
}

static void svc_type(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pb__TypeReply reply = PB__TYPE_REPLY__INIT;
    reply.type = 1;   /* logical.TypeLogical: a secrets engine */
    rt_reply_pack(out, &reply.base);
}

static void svc_version(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Logical__VersionReply reply = LOGICAL__VERSION_REPLY__INIT;
    reply.plugin_version = (char *)(rt->backend->version ? rt->backend->version : "");
    rt_reply_pack(out, &reply.base);
}

/* Yes: mounts are kept apart by the multiplex_id metadata on every Backend call, so the host
 * may serve all mounts of this plugin from one process. */
static void svc_multiplexing(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Pluginutil__Multiplexing__MultiplexingSupportResponse reply =
        PLUGINUTIL__MULTIPLEXING__MULTIPLEXING_SUPPORT_RESPONSE__INIT;
    reply.supported = true;
    rt_reply_pack(out, &reply.base);
}

static void svc_health(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Grpc__Health__V1__HealthCheckRequest *req =
        grpc__health__v1__health_check_request__unpack(NULL, in->len, in->buf);
    Grpc__Health__V1__HealthCheckResponse reply = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    bool known = req && (!*req->service || strcmp(req->service, "plugin") == 0);
    grpc__health__v1__health_check_request__free_unpacked(req, NULL);
    if (!known) {
        rt_reply_status(out, GRPC_STATUS_NOT_FOUND, "unknown service");
        return;
    }
    reply.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    rt_reply_pack(out, &reply.base);
}

static void svc_shutdown(struct runtime *rt, const struct rt_in *in, struct rt_reply *out)
{
    Plugin__Empty reply = PLUGIN__EMPTY__INIT;
    log_debug(RT_LOG, "shutdown requested by the host", NULL);
    rt_reply_pack(out, &reply.base);
    out->shutdown_after = true;
}

static const struct rt_method methods[] = {
    { "/pb.Backend/HandleRequest", RT_UNARY, svc_handle_request,
      .remote_lane = svc_request_is_remote },
    { "/pb.Backend/HandleExistenceCheck", RT_UNARY, svc_existence, NULL },
    { "/pb.Backend/SpecialPaths", RT_UNARY, svc_special_paths, NULL },
    { "/pb.Backend/Setup", RT_UNARY, svc_setup, NULL },
    { "/pb.Backend/Initialize", RT_UNARY, svc_initialize, NULL },
    { "/pb.Backend/Cleanup", RT_UNARY, svc_cleanup, NULL },
    { "/pb.Backend/InvalidateKey", RT_UNARY, svc_invalidate, NULL },
    { "/pb.Backend/Type", RT_UNARY, svc_type, NULL },
    { "/logical.PluginVersion/Version", RT_UNARY, svc_version, NULL },
    { "/pluginutil.multiplexing.PluginMultiplexing/MultiplexingSupport", RT_UNARY,
      svc_multiplexing, NULL },
    { "/grpc.health.v1.Health/Check", RT_UNARY, svc_health, NULL },
    { "/plugin.GRPCController/Shutdown", RT_UNARY, svc_shutdown, NULL },
    { "/plugin.GRPCBroker/StartStream", RT_BROKER_STREAM, NULL, NULL },
    { "/plugin.GRPCStdio/StreamStdio", RT_STDIO_STREAM, NULL, NULL },
};

const struct rt_method *services_find(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i].path) == len && memcmp(methods[i].path, path, len) == 0)
            return &methods[i];
    return NULL;
}
