/* storage_client.c: struct fw_storage over the host's brokered pb.Storage service. The
 * host reports storage errors in the reply's err string (gRPC status OK); a gRPC error
 * means the host or transport failed. */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#include "backend.pb-c.h"

/* logical.ErrReadOnly (a standby's storage) is the one host error with its own kind: the
 * framework passes it back intact so the host forwards the request. */
static enum err_kind host_err_kind(const char *host_err)
{
    return fw_storage_err_is_read_only(host_err) ? ERR_READ_ONLY : ERR_INTERNAL;
}

static int storage_get(void *ctx, const char *key, char **val, size_t *len, struct err *e)
{
    Pb__StorageGetArgs args = PB__STORAGE_GET_ARGS__INIT;
    ProtobufCMessage *m;
    args.key = (char *)key;
    *val = NULL;
    *len = 0;
    if (client_call(ctx, "/pb.Storage/Get", &args.base, &pb__storage_get_reply__descriptor, &m,
                    e) != 0)
        return err_wrap(e, "storage get %s", key);
    Pb__StorageGetReply *r = (Pb__StorageGetReply *)m;
    int rc = 0;
    if (r->err && *r->err) {
        rc = err_set(e, ERR_INTERNAL, "storage get %s: %s", key, r->err);
    } else if (r->entry) {
        *val = malloc(r->entry->value.len + 1);
        if (!*val) {
            rc = err_set(e, ERR_INTERNAL, "storage get %s: out of memory", key);
        } else {
            if (r->entry->value.len)
                memcpy(*val, r->entry->value.data, r->entry->value.len);
            (*val)[r->entry->value.len] = '\0';
            *len = r->entry->value.len;
        }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static int storage_put(void *ctx, const char *key, const char *val, size_t len, bool seal_wrap,
                       struct err *e)
{
    Pb__StorageEntry entry = PB__STORAGE_ENTRY__INIT;
    Pb__StoragePutArgs args = PB__STORAGE_PUT_ARGS__INIT;
    ProtobufCMessage *m;
    entry.key = (char *)key;
    entry.value.data = (uint8_t *)val;
    entry.value.len = len;
    entry.seal_wrap = seal_wrap;
    args.entry = &entry;
    if (client_call(ctx, "/pb.Storage/Put", &args.base, &pb__storage_put_reply__descriptor, &m,
                    e) != 0)
        return err_wrap(e, "storage put %s", key);
    Pb__StoragePutReply *r = (Pb__StoragePutReply *)m;
    int rc = r->err && *r->err ? err_set(e, host_err_kind(r->err), "storage put %s: %s", key,
                                         r->err)
                               : 0;
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static int storage_del(void *ctx, const char *key, struct err *e)
{
    Pb__StorageDeleteArgs args = PB__STORAGE_DELETE_ARGS__INIT;
    ProtobufCMessage *m;
    args.key = (char *)key;
    if (client_call(ctx, "/pb.Storage/Delete", &args.base,
                    &pb__storage_delete_reply__descriptor, &m, e) != 0)
        return err_wrap(e, "storage delete %s", key);
    Pb__StorageDeleteReply *r = (Pb__StorageDeleteReply *)m;
    int rc = r->err && *r->err ? err_set(e, host_err_kind(r->err), "storage delete %s: %s", key,
                                         r->err)
                               : 0;
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static char **strv_copy(char **src, size_t n)
{
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        v[i] = strdup(src[i]);
        if (!v[i]) {
            for (size_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return NULL;
        }
    }
    return v;
}

static int storage_list(void *ctx, const char *prefix, char ***keys, struct err *e)
{
    Pb__StorageListArgs args = PB__STORAGE_LIST_ARGS__INIT;
    ProtobufCMessage *m;
    args.prefix = (char *)prefix;
    *keys = NULL;
    if (client_call(ctx, "/pb.Storage/List", &args.base, &pb__storage_list_reply__descriptor,
                    &m, e) != 0)
        return err_wrap(e, "storage list %s", prefix);
    Pb__StorageListReply *r = (Pb__StorageListReply *)m;
    int rc = 0;
    if (r->err && *r->err) {
        rc = err_set(e, ERR_INTERNAL, "storage list %s: %s", prefix, r->err);
    } else {
        *keys = strv_copy(r->keys, r->n_keys);
        if (!*keys)
            rc = err_set(e, ERR_INTERNAL, "storage list %s: out of memory", prefix);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

void storage_client_init(struct fw_storage *s, grpc_channel *ch)
{
    s->ctx = ch;
    s->get = storage_get;
    s->put = storage_put;
    s->del = storage_del;
    s->list = storage_list;
}
