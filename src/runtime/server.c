/* server.c: the gRPC server and its one completion-queue thread.
 *
 * Every event on the queue is a struct rt_tag whose done() runs on that thread. Unary calls
 * go NEW -> (RECV_MESSAGE) -> worker pool -> (send reply + status) -> freed; each also has
 * a RECV_CLOSE_ON_SERVER pending from the start, which gRPC completes early, with
 * `cancelled` set, when the host cancels the call (its client went away, its context
 * ended): that sets the flag the handler's CA exchanges watch. Unknown methods
 * get UNIMPLEMENTED without reading the request, so the host never waits on us. The broker
 * stream keeps one RECV_MESSAGE pending for its whole life; the stdio stream is held open
 * without sending until the host cancels it. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>

#include "grpc_broker.pb-c.h"
#include "log.h"

/* Outstanding grpc_server_request_call slots: calls accepted without a round trip. */
#define SERVER_ACCEPT_SLOTS 32
/* The host SIGKILLs us 2 s after Shutdown; leave time to remove the socket. */
#define SERVER_STOP_GRACE_MS 1200

struct rt_tag {
    void (*done)(struct rt_tag *t, bool ok);
};

#define CALL_OF(ptr, member) \
    ((struct rt_call *)((char *)(ptr) - offsetof(struct rt_call, member)))

/* One incoming call. Owns its grpc call, buffers and metadata; freed by call_free once the
 * last outstanding batch (refs) has completed. Stream fields are touched only on the CQ
 * thread; a unary call is owned by exactly one thread at a time. */
struct rt_call {
    struct rt_tag tag;          /* request_call, unary batches, final status */
    struct rt_tag recv_tag;     /* streams: the pending RECV_MESSAGE */
    struct rt_tag close_tag;    /* RECV_CLOSE_ON_SERVER: done at the call's end, or early
                                 * when the host cancels it */
    struct pool_job job;
    struct runtime *rt;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    const struct rt_method *method;
    grpc_byte_buffer *recv;
    grpc_slice status_details;
    int cancelled;              /* written by gRPC when close_tag completes */
    atomic_bool cancel_flag;    /* unary: set on the CQ thread once the host cancelled */
    atomic_int refs;            /* outstanding batches (+1 for the unary handler's turn) */
    char mux_id[64];            /* unary: the "multiplex_id" metadata (the lane's key) */
    bool on_remote_lane;        /* moved to runtime.remote_pool by unary_run */
    bool close_pending;         /* close_tag's RECV_CLOSE_ON_SERVER has been started */
    struct rt_reply reply;
};

static void server_accept(struct runtime *rt);

static void call_free(struct rt_call *c)
{
    if (c->call)
        grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    grpc_slice_unref(c->status_details);
    free(c->reply.buf);
    free(c);
}

/* Any thread: the last batch's completion (CQ thread) or a failed start (worker). */
static void call_unref(struct rt_call *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        call_free(c);
}

static void on_finished(struct rt_tag *t, bool ok)
{
    struct rt_call *c = CALL_OF(t, tag);
    struct runtime *rt = c->rt;
    bool stop = c->reply.shutdown_after;
    call_unref(c);
    if (stop)
        server_stop(rt);
}

/* Sends the reply in c->reply (message only when status is OK) and the status. May run on
 * a worker: grpc_call_start_batch is thread-safe, and the completion comes to the CQ. */
static void call_finish(struct rt_call *c)
{
    grpc_op ops[4];
    grpc_byte_buffer *msg = NULL;
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (c->reply.status == GRPC_STATUS_OK) {
        grpc_slice s = grpc_slice_from_copied_buffer((const char *)c->reply.buf, c->reply.len);
        msg = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = msg;
    }
    c->status_details = grpc_slice_from_copied_string(c->reply.detail);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->reply.status;
    ops[n++].data.send_status_from_server.status_details = &c->status_details;
    if (!c->close_pending) {   /* an unimplemented method, or the early start failed */
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    }
    c->tag.done = on_finished;
    if (grpc_call_start_batch(c->call, ops, n, &c->tag, NULL) != GRPC_CALL_OK) {
        log_error(RT_LOG, "cannot send a reply", NULL);
        call_unref(c);   /* no completion will come */
    }
    if (msg)
        grpc_byte_buffer_destroy(msg);
}

static void call_fail(struct rt_call *c, grpc_status_code status, const char *detail)
{
    rt_reply_status(&c->reply, status, detail);
    call_finish(c);
}

/* Copies the "multiplex_id" request metadata into buf ("" when absent). */
static void call_mux_id(const struct rt_call *c, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (grpc_slice_str_cmp(m->key, "multiplex_id") == 0) {
            size_t n = GRPC_SLICE_LENGTH(m->value);
            n = n < len - 1 ? n : len - 1;
            memcpy(buf, GRPC_SLICE_START_PTR(m->value), n);
            buf[n] = '\0';
            return;
        }
    }
}

/* The call's deadline as wall-clock milliseconds, 0 when it has none. */
static int64_t call_deadline_ms(const struct rt_call *c)
{
    gpr_timespec d = c->details.deadline;
    if (gpr_time_cmp(d, gpr_inf_future(d.clock_type)) == 0)
        return 0;
    d = gpr_convert_clock_type(d, GPR_CLOCK_REALTIME);
    return (int64_t)d.tv_sec * 1000 + d.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
    gpr_timespec t = gpr_now(GPR_CLOCK_REALTIME);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Worker thread: decode, run the handler, reply. A call for the remote lane is handed to
 * that pool on its first visit here: the request worker is free again at once, and a call
 * that waited there past its deadline is answered without running (the host has already
 * given up on it, and must not find it done later). */
static void unary_run(struct pool_job *job)
{
    struct rt_call *c = (struct rt_call *)((char *)job - offsetof(struct rt_call, job));
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, c->recv)) {
        call_fail(c, GRPC_STATUS_INTERNAL, "cannot read the request");
        return;
    }
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    call_mux_id(c, c->mux_id, sizeof c->mux_id);
    struct rt_in in = { GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), c->mux_id,
                        call_deadline_ms(c), &c->cancel_flag };
    if (!c->on_remote_lane && c->method->remote_lane && c->method->remote_lane(c->rt, &in)) {
        grpc_slice_unref(s);
        c->on_remote_lane = true;
        /* Keyed by mount: one mount's silent CA holds at most its share of the lane. */
        pool_submit_keyed(c->rt->remote_pool, &c->job, c->mux_id[0] ? c->mux_id : NULL);
        return;
    }
    if (atomic_load(&c->cancel_flag)) {
        grpc_slice_unref(s);
        call_fail(c, GRPC_STATUS_CANCELLED, "the host cancelled the request before it ran; "
                  "nothing was done");
        return;
    }
    if (c->on_remote_lane && in.deadline_ms && now_ms() >= in.deadline_ms) {
        grpc_slice_unref(s);
        call_fail(c, GRPC_STATUS_DEADLINE_EXCEEDED, "the request waited behind other CA "
                  "operations past its deadline; nothing was done");
        return;
    }
    c->method->fn(c->rt, &in, &c->reply);
    grpc_slice_unref(s);
    call_finish(c);
}

static void on_unary_read(struct rt_tag *t, bool ok)
{
    struct rt_call *c = CALL_OF(t, tag);
    if (!ok || !c->recv) {
        call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
        return;
    }
    c->job.fn = unary_run;
    pool_submit(c->rt->pool, &c->job);
}

static bool start_one(struct rt_call *c, struct rt_tag *tag, grpc_op_type type)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = type;
    if (type == GRPC_OP_RECV_MESSAGE)
        op.data.recv_message.recv_message = &c->recv;
    else if (type == GRPC_OP_RECV_CLOSE_ON_SERVER)
        op.data.recv_close_on_server.cancelled = &c->cancelled;
    return grpc_call_start_batch(c->call, &op, 1, tag, NULL) == GRPC_CALL_OK;
}

/* A unary call's RECV_CLOSE_ON_SERVER completed: at its normal end (after our status was
 * sent), or early because the host cancelled it. The handler may still be running; the flag
 * tells it (and its CA client) to stop, and this batch's reference keeps the flag alive. */
static void on_unary_close(struct rt_tag *t, bool ok)
{
    struct rt_call *c = CALL_OF(t, close_tag);
    if (c->cancelled || !ok)
        atomic_store(&c->cancel_flag, true);
    call_unref(c);
}

static void broker_take(struct rt_call *c)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, c->recv))
        return;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    Plugin__ConnInfo *ci = plugin__conn_info__unpack(NULL, GRPC_SLICE_LENGTH(s),
                                                     GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    if (ci) {
        broker_put(c->rt->broker, ci->service_id, ci->network, ci->address);
        plugin__conn_info__free_unpacked(ci, NULL);
    }
}

/* The host half-closed the broker stream: finish it with OK. If the call was cancelled
 * instead, the batch just completes with ok=false. */
static void broker_stream_end(struct rt_call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = GRPC_STATUS_OK;
    op.data.send_status_from_server.status_details = &c->status_details;
    c->tag.done = on_finished;
    atomic_fetch_add(&c->refs, 1);
    if (grpc_call_start_batch(c->call, &op, 1, &c->tag, NULL) != GRPC_CALL_OK)
        atomic_fetch_sub(&c->refs, 1);
}

/* A stream's pending read finished. The broker stream reads again at once, so the host's
 * broker never sees it end; the stdio stream only ever gets its one request message. */
static void on_stream_recv(struct rt_tag *t, bool ok)
{
    struct rt_call *c = CALL_OF(t, recv_tag);
    bool got = ok && c->recv;
    bool broker = c->method->kind == RT_BROKER_STREAM;
    if (got && broker)
        broker_take(c);
    if (c->recv) {
        grpc_byte_buffer_destroy(c->recv);
        c->recv = NULL;
    }
    if (got && broker && start_one(c, &c->recv_tag, GRPC_OP_RECV_MESSAGE))
        return;   /* the read is pending again; keep this batch's reference */
    if (!got && ok && broker)
        broker_stream_end(c);
    call_unref(c);
}

static void on_stream_close(struct rt_tag *t, bool ok)
{
    call_unref(CALL_OF(t, close_tag));
}

static void stream_start(struct rt_call *c)
{
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[1].data.recv_close_on_server.cancelled = &c->cancelled;
    c->recv_tag.done = on_stream_recv;
    c->close_tag.done = on_stream_close;
    atomic_store(&c->refs, 0);
    if (grpc_call_start_batch(c->call, ops, 2, &c->close_tag, NULL) == GRPC_CALL_OK)
        atomic_fetch_add(&c->refs, 1);
    if (start_one(c, &c->recv_tag, GRPC_OP_RECV_MESSAGE))
        atomic_fetch_add(&c->refs, 1);
    if (atomic_load(&c->refs) == 0)
        call_free(c);
}

static void on_new_call(struct rt_tag *t, bool ok)
{
    struct rt_call *c = CALL_OF(t, tag);
    if (!ok) {   /* the server is shutting down: this slot was never used */
        call_free(c);
        return;
    }
    server_accept(c->rt);
    c->method = services_find((const char *)GRPC_SLICE_START_PTR(c->details.method),
                              GRPC_SLICE_LENGTH(c->details.method));
    if (!c->method) {
        char *m = grpc_slice_to_c_string(c->details.method);
        log_debug(RT_LOG, "unimplemented method", "method", m, NULL);
        gpr_free(m);
        call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "method not implemented by this plugin");
    } else if (c->method->kind != RT_UNARY) {
        stream_start(c);
    } else {
        c->close_tag.done = on_unary_close;
        c->close_pending = start_one(c, &c->close_tag, GRPC_OP_RECV_CLOSE_ON_SERVER);
        if (c->close_pending)
            atomic_fetch_add(&c->refs, 1);
        c->tag.done = on_unary_read;
        if (!start_one(c, &c->tag, GRPC_OP_RECV_MESSAGE))
            call_unref(c);
    }
}

static void server_accept(struct runtime *rt)
{
    if (atomic_load(&rt->shutting_down))
        return;
    struct rt_call *c = calloc(1, sizeof *c);
    if (!c) {
        log_error(RT_LOG, "out of memory accepting a call", NULL);
        return;
    }
    c->rt = rt;
    atomic_init(&c->refs, 1);
    atomic_init(&c->cancel_flag, false);
    c->tag.done = on_new_call;
    c->status_details = grpc_empty_slice();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    if (grpc_server_request_call(rt->server, &c->call, &c->details, &c->md, rt->cq, rt->cq,
                                 &c->tag) != GRPC_CALL_OK)
        call_free(c);
}

int server_start(struct runtime *rt, struct err *e)
{
    grpc_ssl_pem_key_cert_pair pair = { rt->ident.key_pem, rt->ident.cert_pem };
    grpc_server_credentials *creds = grpc_ssl_server_credentials_create_ex(
        rt->host_cert_pem, &pair, 1, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
        NULL);
    grpc_arg arg;
    arg.type = GRPC_ARG_INTEGER;
    arg.key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    arg.value.integer = -1;   /* the host sends up to MaxInt32 */
    grpc_channel_args args = { 1, &arg };
    rt->cq = grpc_completion_queue_create_for_next(NULL);
    rt->server = grpc_server_create(&args, NULL);
    grpc_server_register_completion_queue(rt->server, rt->cq, NULL);
    char target[sizeof rt->sock.path + 8];
    snprintf(target, sizeof target, "unix:%s", rt->sock.path);
    int port = grpc_server_add_http2_port(rt->server, target, creds);
    grpc_server_credentials_release(creds);
    if (port == 0)
        return err_set(e, ERR_INTERNAL, "cannot listen on %s", rt->sock.path);
    grpc_server_start(rt->server);
    for (int i = 0; i < SERVER_ACCEPT_SLOTS; i++)
        server_accept(rt);
    return 0;
}

void server_stop(struct runtime *rt)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&rt->shutting_down, &expected, 1))
        return;
    /* The runtime pointer itself is the shutdown tag: server_run recognises it. */
    grpc_server_shutdown_and_notify(rt->server, rt->cq, rt);
    grpc_server_cancel_all_calls(rt->server);
}

bool server_run(struct runtime *rt)
{
    gpr_timespec deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    bool timed = false;
    for (;;) {
        if (!timed && atomic_load(&rt->shutting_down)) {
            timed = true;
            deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                    gpr_time_from_millis(SERVER_STOP_GRACE_MS, GPR_TIMESPAN));
        }
        grpc_event ev = grpc_completion_queue_next(rt->cq, deadline, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            return false;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == rt)
            return true;
        struct rt_tag *t = ev.tag;
        t->done(t, ev.success != 0);
    }
}

/* After a clean server_run: every call is finished, so the queue can be drained. */
void server_destroy(struct runtime *rt)
{
    grpc_server_destroy(rt->server);
    grpc_completion_queue_shutdown(rt->cq);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(rt->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                                   NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE && ev.tag != rt) {
            struct rt_tag *t = ev.tag;
            t->done(t, false);
        }
    }
    grpc_completion_queue_destroy(rt->cq);
    rt->server = NULL;
    rt->cq = NULL;
}
