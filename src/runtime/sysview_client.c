/* sysview_client.c: struct fw_sysview over the host's brokered pb.SystemView service.
 * Identity objects are handed to the framework as JSON shaped like Vault's
 * logical.Entity / logical.Group JSON (protojson names: "id", "name", "metadata", ...). */
#include "rt.h"

#include <cjson/cJSON.h>

#include "backend.pb-c.h"

/* A protobuf-c map<string,string> is an array of entry messages whose fields 0 and 1 are
 * key and value; reading them through the descriptor works for every map type. */
static cJSON *string_map_json(size_t n, void *const *entries)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < n; i++) {
        const ProtobufCMessage *m = entries[i];
        const ProtobufCFieldDescriptor *f = m->descriptor->fields;
        const char *key = *(char *const *)((const char *)m + f[0].offset);
        const char *val = *(char *const *)((const char *)m + f[1].offset);
        cJSON_AddStringToObject(o, key, val);
    }
    return o;
}

static cJSON *alias_json(const Logical__Alias *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "mount_type", a->mount_type);
    cJSON_AddStringToObject(o, "mount_accessor", a->mount_accessor);
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddItemToObject(o, "metadata", string_map_json(a->n_metadata, (void *const *)a->metadata));
    cJSON_AddStringToObject(o, "id", a->id);
    cJSON_AddStringToObject(o, "namespace_id", a->namespace_id);
    cJSON_AddItemToObject(o, "custom_metadata", string_map_json(a->n_custom_metadata,
                          (void *const *)a->custom_metadata));
    cJSON_AddBoolToObject(o, "local", a->local);
    return o;
}

static cJSON *entity_json(const Logical__Entity *ent)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", ent->id);
    cJSON_AddStringToObject(o, "name", ent->name);
    cJSON *aliases = cJSON_AddArrayToObject(o, "aliases");
    for (size_t i = 0; aliases && i < ent->n_aliases; i++)
        cJSON_AddItemToArray(aliases, alias_json(ent->aliases[i]));
    cJSON_AddItemToObject(o, "metadata", string_map_json(ent->n_metadata, (void *const *)ent->metadata));
    cJSON_AddBoolToObject(o, "disabled", ent->disabled);
    cJSON_AddStringToObject(o, "namespace_id", ent->namespace_id);
    return o;
}

static cJSON *group_json(const Logical__Group *g)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", g->id);
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddItemToObject(o, "metadata", string_map_json(g->n_metadata, (void *const *)g->metadata));
    cJSON_AddStringToObject(o, "namespace_id", g->namespace_id);
    return o;
}

static int sv_entity_info(void *ctx, const char *entity_id, cJSON **entity, struct err *e)
{
    Pb__EntityInfoArgs args = PB__ENTITY_INFO_ARGS__INIT;
    ProtobufCMessage *m;
    args.entity_id = (char *)entity_id;
    *entity = NULL;
    if (client_call(ctx, "/pb.SystemView/EntityInfo", &args.base,
                    &pb__entity_info_reply__descriptor, &m, e) != 0)
        return err_wrap(e, "entity info");
    Pb__EntityInfoReply *r = (Pb__EntityInfoReply *)m;
    int rc = 0;
    if (r->err && *r->err) {
        rc = err_set(e, ERR_INTERNAL, "entity info: %s", r->err);
    } else if (r->entity) {   /* absent: no such entity, *entity stays NULL */
        *entity = entity_json(r->entity);
        if (!*entity)
            rc = err_set(e, ERR_INTERNAL, "entity info: out of memory");
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static int sv_groups_for_entity(void *ctx, const char *entity_id, cJSON **groups,
                                struct err *e)
{
    Pb__EntityInfoArgs args = PB__ENTITY_INFO_ARGS__INIT;
    ProtobufCMessage *m;
    args.entity_id = (char *)entity_id;
    *groups = NULL;
    if (client_call(ctx, "/pb.SystemView/GroupsForEntity", &args.base,
                    &pb__groups_for_entity_reply__descriptor, &m, e) != 0)
        return err_wrap(e, "groups for entity");
    Pb__GroupsForEntityReply *r = (Pb__GroupsForEntityReply *)m;
    int rc = 0;
    if (r->err && *r->err) {
        rc = err_set(e, ERR_INTERNAL, "groups for entity: %s", r->err);
    } else {
        *groups = cJSON_CreateArray();
        for (size_t i = 0; *groups && i < r->n_groups; i++)
            cJSON_AddItemToArray(*groups, group_json(r->groups[i]));
        if (!*groups)
            rc = err_set(e, ERR_INTERNAL, "groups for entity: out of memory");
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

/* Wire values are Vault's consts.ReplicationState (iota-shifted: perf secondary 1<<6,
 * DR secondary 1<<9, perf standby 1<<14); fw.h has its own bit values, so translate. */
static uint32_t replication_bits(uint32_t wire)
{
    uint32_t out = 0;
    if (wire & (1u << 6))
        out |= FW_REPL_PERF_SECONDARY;
    if (wire & (1u << 9))
        out |= FW_REPL_DR_SECONDARY;
    if (wire & (1u << 14))
        out |= FW_REPL_PERF_STANDBY;
    return out;
}

static int sv_replication_state(void *ctx, uint32_t *state, struct err *e)
{
    Pb__Empty args = PB__EMPTY__INIT;
    ProtobufCMessage *m;
    if (client_call(ctx, "/pb.SystemView/ReplicationState", &args.base,
                    &pb__replication_state_reply__descriptor, &m, e) != 0)
        return err_wrap(e, "replication state");
    *state = replication_bits((uint32_t)((Pb__ReplicationStateReply *)m)->state);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

static int sv_local_mount(void *ctx, bool *local, struct err *e)
{
    Pb__Empty args = PB__EMPTY__INIT;
    ProtobufCMessage *m;
    if (client_call(ctx, "/pb.SystemView/LocalMount", &args.base,
                    &pb__local_mount_reply__descriptor, &m, e) != 0)
        return err_wrap(e, "local mount");
    *local = ((Pb__LocalMountReply *)m)->local;
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

void sysview_client_init(struct fw_sysview *sv, grpc_channel *ch)
{
    sv->ctx = ch;
    sv->entity_info = sv_entity_info;
    sv->groups_for_entity = sv_groups_for_entity;
    sv->replication_state = sv_replication_state;
    sv->local_mount = sv_local_mount;
}
