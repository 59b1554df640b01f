/* dns_record.c: tracking of the TXT records the plugin creates. A record is written to
 * dns-record/<owner>/<slot> before the DNS change is sent and deleted only after the
 * provider removed the value, so after a crash at any point the entry says what may exist
 * in DNS; the periodic sweep removes whatever an ended order (or a test) left. Publishing
 * an existing value and removing a missing one are no-ops for every provider, so a retry
 * never creates a record twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "dns.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

/* A test record without its request (the process died mid-test) is swept after this. */
static const int64_t TEST_RECORD_MAX_AGE_MS = 10 * 60 * 1000;

static void record_key(const char *owner, const char *slot, char *buf, size_t cap)
{
    snprintf(buf, cap, "dns-record/%s/%s", owner, slot);
}

static int record_store(struct fw_storage *s, const struct dns_record *rec, struct err *e)
{
    char key[200];
    record_key(rec->owner, rec->slot, key, sizeof key);
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "provider_type", rec->type) ||
        !cJSON_AddStringToObject(j, "provider_name", rec->name) ||
        !cJSON_AddStringToObject(j, "fqdn", rec->fqdn) ||
        !cJSON_AddStringToObject(j, "value", rec->value) ||
        !cJSON_AddStringToObject(j, "change", rec->change)) {
        cJSON_Delete(j);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int rc = fw_storage_put_json(s, key, j, false, e);
    cJSON_Delete(j);
    return rc;
}

static void copy_field(const cJSON *j, const char *field, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
    snprintf(buf, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int dns_record_load(struct fw_storage *s, const char *owner, const char *slot,
                    struct dns_record *rec, struct err *e)
{
    char key[200];
    cJSON *j = NULL;
    memset(rec, 0, sizeof *rec);
    record_key(owner, slot, key, sizeof key);
    if (fw_storage_get_json(s, key, &j, e) < 0)
        return -1;
    if (!j)
        return err_set(e, ERR_NOT_FOUND, "no DNS record %s/%s", owner, slot);
    snprintf(rec->owner, sizeof rec->owner, "%s", owner);
    snprintf(rec->slot, sizeof rec->slot, "%s", slot);
    copy_field(j, "provider_type", rec->type, sizeof rec->type);
    copy_field(j, "provider_name", rec->name, sizeof rec->name);
    copy_field(j, "fqdn", rec->fqdn, sizeof rec->fqdn);
    copy_field(j, "value", rec->value, sizeof rec->value);
    copy_field(j, "change", rec->change, sizeof rec->change);
    cJSON_Delete(j);
    return 0;
}

static int provider_of(struct fw_storage *s, const struct dns_record *rec,
                       const struct dns_kind **k, cJSON **cfg, struct err *e)
{
    *k = dns_kind_find(rec->type);
    if (!*k)
        return err_set(e, ERR_NOT_FOUND, "DNS provider type %s is not supported", rec->type);
    return dns_config_load(s, rec->type, rec->name, cfg, e);
}

/* The provider call context of a mount (zeroed without one). */
static struct dns_ctx ctx_of(struct engine *eng)
{
    struct dns_ctx c = { 0 };
    if (eng) {
        c.tokens = eng->dns_tokens;
        c.stopping = &eng->stopping;
    }
    return c;
}

int dns_record_publish(struct engine *eng, struct fw_storage *s, struct dns_record *rec,
                       struct err *e)
{
    struct dns_ctx ctx = ctx_of(eng);
    const struct dns_kind *k = NULL;
    cJSON *cfg = NULL;
    char *change = NULL;
    if (provider_of(s, rec, &k, &cfg, e) < 0)
        return -1;
    /* Tracked first: from here on, a crash leaves an entry the sweep acts on (and the
     * worker's next scan sweeps: omit_cleanup, a failed removal, an order that ended). */
    dns_records_expect(eng);
    int rc = record_store(s, rec, e);
    if (rc == 0) {
        log_info("engine", "publishing dns-01 TXT record", "provider",
                 k->impl->type, "name", rec->name, "record", rec->fqdn, NULL);
        rc = k->impl->publish(&ctx, cfg, rec->fqdn, rec->value, dns_config_ttl(cfg), &change, e);
    }
    if (rc == 0 && change) {
        snprintf(rec->change, sizeof rec->change, "%s", change);
        rc = record_store(s, rec, e);
    }
    free(change);
    cJSON_Delete(cfg);
    return rc;
}

int dns_record_remove(struct engine *eng, struct fw_storage *s, const struct dns_record *rec,
                      struct err *e)
{
    struct dns_ctx ctx = ctx_of(eng);
    const struct dns_kind *k = NULL;
    cJSON *cfg = NULL;
    char key[200];
    struct err le;
    record_key(rec->owner, rec->slot, key, sizeof key);
    if (provider_of(s, rec, &k, &cfg, &le) < 0) {
        if (le.kind != ERR_NOT_FOUND) {
            *e = le;
            return -1;
        }
        log_warn("engine", "dns provider gone: cannot remove the TXT record it holds",
                 "provider", rec->type, "name", rec->name, "record", rec->fqdn, NULL);
        return s->del(s->ctx, key, e);
    }
    int rc = k->impl->remove(&ctx, cfg, rec->fqdn, rec->value, dns_config_ttl(cfg), e);
    cJSON_Delete(cfg);
    if (rc < 0)
        return -1;
    log_info("engine", "removed dns-01 TXT record", "provider", rec->type, "name", rec->name,
             "record", rec->fqdn, NULL);
    return s->del(s->ctx, key, e);
}

int dns_record_synced(struct engine *eng, struct fw_storage *s, const struct dns_record *rec,
                      bool *done, struct err *e)
{
    struct dns_ctx ctx = ctx_of(eng);
    const struct dns_kind *k = dns_kind_find(rec->type);
    *done = true;
    if (!k || !k->impl->synced || !rec->change[0])
        return 0;
    cJSON *cfg = NULL;
    if (dns_config_load(s, rec->type, rec->name, &cfg, e) < 0)
        return -1;
    int rc = k->impl->synced(&ctx, cfg, rec->change, done, e);
    cJSON_Delete(cfg);
    return rc;
}

int dns_records_remove_owner(struct engine *eng, struct fw_storage *s, const char *owner,
                             struct err *e)
{
    char prefix[100], **slots = NULL;
    int rc = 0;
    snprintf(prefix, sizeof prefix, "dns-record/%s/", owner);
    if (s->list(s->ctx, prefix, &slots, e) < 0)
        return -1;
    for (size_t i = 0; slots && slots[i]; i++) {
        struct dns_record rec;
        struct err le;
        if (dns_record_load(s, owner, slots[i], &rec, &le) < 0)
            continue;
        if (dns_record_remove(eng, s, &rec, &le) < 0) {
            log_warn("engine", "removing a dns-01 TXT record failed; will retry", "owner",
                     owner, "record", rec.fqdn, "error", le.msg, NULL);
            *e = le;
            rc = -1;
        }
    }
    fw_strv_free(slots);
    return rc;
}

/* True when the owner's records are no longer needed. */
static bool owner_done(struct fw_storage *s, const char *owner)
{
    if (strncmp(owner, "test-", 5) == 0) {
        int64_t born = uuid7_time_ms(owner + 5);
        return born > 0 && order_now() * 1000 - born > TEST_RECORD_MAX_AGE_MS;
    }
    struct order *o = NULL;
    struct err le;
    if (!uuid7_valid(owner))
        return true;
    if (order_load(s, owner, &o, &le) < 0)
        return le.kind == ERR_NOT_FOUND;
    bool done = order_status_terminal(o->status);
    order_free(o);
    return done;
}

void dns_records_expect(struct engine *eng)
{
    if (eng)
        atomic_store(&eng->dns_sweep_due, true);
}

int dns_records_sweep(struct engine *eng, struct fw_storage *s, bool *left, struct err *e)
{
    char **owners = NULL;
    *left = false;
    if (s->list(s->ctx, "dns-record/", &owners, e) < 0)
        return -1;
    for (size_t i = 0; owners && owners[i]; i++) {
        char owner[64];
        size_t len = strlen(owners[i]);
        if (len < 2 || owners[i][len - 1] != '/' || len >= sizeof owner)
            continue;   /* not an owner folder: nothing a later sweep could do either */
        snprintf(owner, sizeof owner, "%.*s", (int)(len - 1), owners[i]);
        if (!owner_done(s, owner)) {
            *left = true;
            continue;
        }
        /* An order being advanced right now holds its lock: leave it to that thread. */
        struct keylock hold = { 0 };
        bool is_order = uuid7_valid(owner);
        if (is_order && eng && !keylock_try(&eng->order_locks, owner, &hold)) {
            *left = true;
            continue;
        }
        struct err le;
        if (dns_records_remove_owner(eng, s, owner, &le) < 0) {
            log_warn("engine", "dns record sweep", "owner", owner, "error", le.msg, NULL);
            *left = true;
        }
        if (is_order && eng)
            keylock_release(&eng->order_locks, &hold);
    }
    fw_strv_free(owners);
    return 0;
}
