/* client.c: blocking unary calls to the host's brokered services. Each call gets its own
 * pluck completion queue, so any number of worker threads can call at once without
 * sharing (or blocking) the server's completion queue. */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>

/* Storage and SystemView answer in milliseconds; this only bounds a wedged host. */
#define CLIENT_DEADLINE_S 60

grpc_channel *client_channel_new(const char *target, const struct tls_ident *id,
                                 const char *host_cert_pem)
{
    grpc_ssl_pem_key_cert_pair pair = { id->key_pem, id->cert_pem };
    grpc_channel_credentials *creds = grpc_ssl_credentials_create(host_cert_pem, &pair,
                                                                  NULL, NULL);
    grpc_arg args[2];
    args[0].type = GRPC_ARG_STRING;
    args[0].key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    args[0].value.string = "localhost";
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[1].value.integer = -1;
    grpc_channel_args cargs = { 2, args };
    grpc_channel *ch = grpc_channel_create(target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    return ch;
}

static grpc_byte_buffer *pack_message(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(msg, buf);
    grpc_slice s = grpc_slice_new(buf, len, free);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static ProtobufCMessage *unpack_message(grpc_byte_buffer *bb,
                                        const ProtobufCMessageDescriptor *desc)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return NULL;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s),
                                                    GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return m;
}

/* Everything one call holds, released by call_state_clear. */
struct call_state {
    grpc_metadata_array initial_md, trailing_md;
    grpc_byte_buffer *send, *recv;
    grpc_status_code status;
    grpc_slice details;
};

static bool call_run(grpc_channel *ch, const char *method, struct call_state *st)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_seconds(CLIENT_DEADLINE_S, GPR_TIMESPAN));
    grpc_slice m = grpc_slice_from_static_string(method);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, m,
                                               NULL, deadline, NULL);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = st->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &st->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &st->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &st->trailing_md;
    ops[5].data.recv_status_on_client.status = &st->status;
    ops[5].data.recv_status_on_client.status_details = &st->details;
    bool ok = call && grpc_call_start_batch(call, ops, 6, st, NULL) == GRPC_CALL_OK;
    if (ok) {
        grpc_event ev = grpc_completion_queue_pluck(cq, st, gpr_inf_future(GPR_CLOCK_REALTIME),
                                                    NULL);
        ok = ev.type == GRPC_OP_COMPLETE && ev.success;
    }
    if (call)
        grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return ok;
}

static void call_state_clear(struct call_state *st)
{
    grpc_metadata_array_destroy(&st->initial_md);
    grpc_metadata_array_destroy(&st->trailing_md);
    if (st->send)
        grpc_byte_buffer_destroy(st->send);
    if (st->recv)
        grpc_byte_buffer_destroy(st->recv);
    grpc_slice_unref(st->details);
}

int client_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **reply,
                struct err *e)
{
    struct call_state st = { .status = GRPC_STATUS_UNKNOWN, .details = grpc_empty_slice() };
    grpc_metadata_array_init(&st.initial_md);
    grpc_metadata_array_init(&st.trailing_md);
    *reply = NULL;
    st.send = pack_message(req);
    int rc = 0;
    if (!st.send || !call_run(ch, method, &st)) {
        rc = err_set(e, ERR_INTERNAL, "%s: call failed", method);
    } else if (st.status != GRPC_STATUS_OK) {
        char *d = grpc_slice_to_c_string(st.details);
        rc = err_set(e, ERR_INTERNAL, "%s: status %d: %s", method, (int)st.status, d);
        gpr_free(d);
    } else {
        *reply = st.recv ? unpack_message(st.recv, reply_desc) : NULL;
        if (!*reply)
            rc = err_set(e, ERR_INTERNAL, "%s: bad reply", method);
    }
    call_state_clear(&st);
    return rc;
}
