/* order.c: the order object: creation, storage JSON, load/save with its indexes, dates.
 *
 * Storage keys written here:
 *   order/<id>                the order (this file's JSON form)
 *   role-active/<role>/<id>   "" while the order is not terminal: the work queue that
 *                             rollback and the worker read, and role DELETE's check
 *   order-hour/<YYYYMMDDHH>/<id>  "" once, at creation: lookup/orders/recent reads only
 *                             the hours it needs instead of every order
 * A new order's index entries are written before its object (order_save says why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "../internal.h"
#include "log.h"
#include "order.h"

/* ---- small helpers ------------------------------------------------------------------ */

int64_t order_now(void)
{
    return (int64_t)time(NULL);
}

const char *order_time_str(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t <= 0 || !gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "0001-01-01T00:00:00Z");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int64_t order_time_parse(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !*s)
        return 0;
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return 0;
    int64_t t = (int64_t)timegm(&tm);
    /* Skip fractional seconds, then apply the offset ("Z", "+02:00", "-04:00"). */
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    if (*rest == '+' || *rest == '-') {
        int hh = 0, mm = 0;
        if (sscanf(rest + 1, "%d:%d", &hh, &mm) >= 1) {
            int64_t off = (int64_t)hh * 3600 + (int64_t)mm * 60;
            t += *rest == '+' ? -off : off;
        }
    }
    return t < 0 ? 0 : t;
}

void order_set_error(struct order *o, const char *msg)
{
    char *m = strdup(msg ? msg : "");
    if (!m)
        return;   /* keeps the old message; nothing better to do out of memory */
    free(o->last_error);
    o->last_error = m;
}

/* "order/<id>" into buf. */
static void order_key_path(const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "order/%s", id);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void challenge_clear(struct order_challenge *c)
{
    free(c->type);
    free(c->url);
    free(c->token);
    free(c->status);
    free(c->key_auth);
    free(c->dns_value);
}

void order_authz_clear(struct order_authz *a)
{
    free(a->url);
    free(a->identifier);
    free(a->status);
    for (size_t i = 0; i < a->n_challenges; i++)
        challenge_clear(&a->challenges[i]);
    free(a->challenges);
    memset(a, 0, sizeof *a);
}

void order_free(struct order *o)
{
    if (!o)
        return;
    free(o->id);
    free(o->role);
    free(o->account);
    for (size_t i = 0; i < o->n_identifiers; i++) {
        free(o->identifiers[i]);
        if (o->requested)
            free(o->requested[i]);
    }
    free(o->identifiers);
    free(o->requested);
    free(o->csr);
    free(o->finalize_csr);
    free(o->key_type);
    free(o->last_error);
    free(o->serial);
    free(o->acme_url);
    free(o->finalize_url);
    free(o->cert_url);
    for (size_t i = 0; i < o->n_authzs; i++)
        order_authz_clear(&o->authzs[i]);
    free(o->authzs);
    free(o->revocation_reason);
    free(o->profile);
    free(o->renewal.explanation_url);
    free(o->renewal.replaces_order_id);
    free(o->renewal.replaced_by_order_id);
    free(o->renewal.replaces_cert_id);
    free(o);
}

/* Every string member "" so later code never checks for NULL. */
static bool order_fill_empty(struct order *o)
{
    char **fields[] = { &o->id, &o->role, &o->account, &o->csr, &o->finalize_csr,
                        &o->key_type, &o->last_error, &o->serial, &o->acme_url, &o->finalize_url,
                        &o->cert_url, &o->revocation_reason, &o->renewal.explanation_url,
                        &o->renewal.replaces_order_id, &o->renewal.replaced_by_order_id,
                        &o->renewal.replaces_cert_id, &o->profile };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!*fields[i] && !(*fields[i] = strdup("")))
            return false;
    }
    if (!o->identifiers && !(o->identifiers = calloc(1, sizeof(char *))))
        return false;
    return true;
}

int order_new(const char *role, const char *account, enum order_workflow wf,
              const char *const *identifiers, size_t n, struct order **out, struct err *e)
{
    char id[37];
    struct order *o = calloc(1, sizeof *o);
    if (!o)
        return err_set(e, ERR_INTERNAL, "order_new: out of memory");
    if (uuid7_new(id, e) < 0)
        goto fail;
    o->id = strdup(id);
    o->role = strdup(role);
    o->account = strdup(account);
    o->identifiers = calloc(n + 1, sizeof(char *));
    if (!o->id || !o->role || !o->account || !o->identifiers)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (!(o->identifiers[i] = strdup(identifiers[i])))
            goto oom;
        o->n_identifiers++;
    }
    if (!order_fill_empty(o))
        goto oom;
    o->status = ORDER_NEW;
    o->workflow = wf;
    o->creation_date = o->last_update = o->next_work_date = order_now();
    *out = o;
    return 0;
oom:
    err_set(e, ERR_INTERNAL, "order_new: out of memory");
fail:
    order_free(o);
    return -1;
}

/* ---- JSON --------------------------------------------------------------------------- */

static bool add_str(cJSON *obj, const char *name, const char *val)
{
    return cJSON_AddStringToObject(obj, name, val ? val : "") != NULL;
}

static bool add_int(cJSON *obj, const char *name, int64_t val)
{
    return cJSON_AddNumberToObject(obj, name, (double)val) != NULL;
}

static cJSON *challenge_to_json(const struct order_challenge *c)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && add_str(j, "type", c->type) && add_str(j, "url", c->url) &&
              add_str(j, "token", c->token) && add_str(j, "status", c->status) &&
              add_str(j, "key_auth", c->key_auth) && add_str(j, "dns_value", c->dns_value) &&
              cJSON_AddBoolToObject(j, "fulfilled", c->fulfilled) &&
              cJSON_AddBoolToObject(j, "responded", c->responded);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static cJSON *authz_to_json(const struct order_authz *a)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *chs = cJSON_CreateArray();
    bool ok = j && chs && add_str(j, "url", a->url) &&
              add_str(j, "identifier", a->identifier) && add_str(j, "status", a->status) &&
              add_int(j, "expires", a->expires) &&
              add_str(j, "dns_provider", a->dns_provider) &&
              cJSON_AddBoolToObject(j, "dns_planned", a->dns_planned) &&
              add_int(j, "dns_published", a->dns_published) &&
              cJSON_AddBoolToObject(j, "dns_visible", a->dns_visible) &&
              cJSON_AddBoolToObject(j, "dns_removed", a->dns_removed);
    for (size_t i = 0; ok && i < a->n_challenges; i++) {
        cJSON *c = challenge_to_json(&a->challenges[i]);
        ok = c && cJSON_AddItemToArray(chs, c);
    }
    if (ok && cJSON_AddItemToObject(j, "challenges", chs))
        return j;
    cJSON_Delete(chs);
    cJSON_Delete(j);
    return NULL;
}

/* The renewal block (issue 14 §1), stored as one object "renewal". */
static cJSON *renewal_to_json(const struct order_renewal *r)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && add_int(j, "window_start", r->window_start) &&
              add_int(j, "window_end", r->window_end) &&
              add_str(j, "explanation_url", r->explanation_url) &&
              cJSON_AddBoolToObject(j, "ari", r->ari) && add_int(j, "renew_at", r->renew_at) &&
              add_int(j, "check_at", r->check_at) && add_int(j, "checks", r->checks) &&
              add_str(j, "replaces_order_id", r->replaces_order_id) &&
              add_str(j, "replaced_by_order_id", r->replaced_by_order_id) &&
              add_str(j, "replaces_cert_id", r->replaces_cert_id);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *order_to_json(const struct order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *ids = cJSON_CreateArray();
    cJSON *azs = cJSON_CreateArray();
    bool ok = j && ids && azs && add_str(j, "id", o->id) && add_str(j, "role", o->role) &&
              add_str(j, "account", o->account) &&
              add_str(j, "status", order_status_name(o->status)) &&
              add_str(j, "workflow", order_workflow_name(o->workflow)) &&
              add_str(j, "csr", o->csr) && add_str(j, "finalize_csr", o->finalize_csr) &&
              add_str(j, "key_type", o->key_type) &&
              add_int(j, "creation_date", o->creation_date) &&
              add_int(j, "last_update", o->last_update) &&
              add_int(j, "next_work_date", o->next_work_date) &&
              add_int(j, "expires", o->expires) && add_str(j, "last_error", o->last_error) &&
              add_str(j, "serial", o->serial) && add_str(j, "acme_url", o->acme_url) &&
              add_str(j, "finalize_url", o->finalize_url) &&
              add_str(j, "cert_url", o->cert_url) && add_int(j, "attempts", o->attempts) &&
              add_int(j, "ca_placing", o->ca_placing) &&
              add_int(j, "dns_polls", o->dns_polls) &&
              add_int(j, "revocation_time", o->revocation_time) &&
              add_str(j, "revocation_reason", o->revocation_reason);
    ok = ok && add_str(j, "acme_profile", o->profile);
    cJSON *rn = ok ? renewal_to_json(&o->renewal) : NULL;
    ok = rn && cJSON_AddItemToObject(j, "renewal", rn);
    if (!ok)
        cJSON_Delete(rn);
    for (size_t i = 0; ok && i < o->n_identifiers; i++) {
        cJSON *s = cJSON_CreateString(o->identifiers[i]);
        ok = s && cJSON_AddItemToArray(ids, s);
    }
    for (size_t i = 0; ok && i < o->n_authzs; i++) {
        cJSON *a = authz_to_json(&o->authzs[i]);
        ok = a && cJSON_AddItemToArray(azs, a);
    }
    if (ok && o->requested) {
        cJSON *req = cJSON_CreateArray();
        for (size_t i = 0; ok && req && i < o->n_identifiers; i++) {
            cJSON *s = cJSON_CreateString(o->requested[i]);
            ok = s && cJSON_AddItemToArray(req, s);
        }
        ok = ok && req && cJSON_AddItemToObject(j, "requested_identifiers", req);
        if (!ok)
            cJSON_Delete(req);
    }
    if (ok && cJSON_AddItemToObject(j, "identifiers", ids)) {
        ids = NULL;
        if (cJSON_AddItemToObject(j, "authorizations", azs))
            return j;
    }
    cJSON_Delete(ids);
    cJSON_Delete(azs);
    cJSON_Delete(j);
    return NULL;
}

static char *get_str(const cJSON *j, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    return strdup(s ? s : "");
}

static int64_t get_int(const cJSON *j, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsNumber(n) ? (int64_t)n->valuedouble : 0;
}

static bool challenge_from_json(const cJSON *j, struct order_challenge *c)
{
    c->type = get_str(j, "type");
    c->url = get_str(j, "url");
    c->token = get_str(j, "token");
    c->status = get_str(j, "status");
    c->key_auth = get_str(j, "key_auth");
    c->dns_value = get_str(j, "dns_value");
    c->fulfilled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "fulfilled"));
    c->responded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "responded"));
    return c->type && c->url && c->token && c->status && c->key_auth && c->dns_value;
}

static bool authz_from_json(const cJSON *j, struct order_authz *a)
{
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(j, "challenges");
    a->url = get_str(j, "url");
    a->identifier = get_str(j, "identifier");
    a->status = get_str(j, "status");
    a->expires = get_int(j, "expires");
    const char *dp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "dns_provider"));
    snprintf(a->dns_provider, sizeof a->dns_provider, "%s", dp ? dp : "");
    a->dns_planned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "dns_planned"));
    a->dns_published = get_int(j, "dns_published");
    a->dns_visible = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "dns_visible"));
    a->dns_removed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "dns_removed"));
    if (!a->url || !a->identifier || !a->status)
        return false;
    int n = cJSON_GetArraySize(chs);
    if (n == 0)
        return true;
    if (!(a->challenges = calloc((size_t)n, sizeof *a->challenges)))
        return false;
    const cJSON *c;
    cJSON_ArrayForEach(c, chs) {
        /* Count first so order_authz_clear frees a partly filled challenge too. */
        a->n_challenges++;
        if (!challenge_from_json(c, &a->challenges[a->n_challenges - 1]))
            return false;
    }
    return true;
}

int order_from_json(const cJSON *j, struct order **out, struct err *e)
{
    if (!cJSON_IsObject(j))
        return err_set(e, ERR_INTERNAL, "order_from_json: not an object");
    struct order *o = calloc(1, sizeof *o);
    if (!o)
        return err_set(e, ERR_INTERNAL, "order_from_json: out of memory");
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    const char *wf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "workflow"));
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "identifiers");
    const cJSON *azs = cJSON_GetObjectItemCaseSensitive(j, "authorizations");
    const cJSON *it;

    if (order_status_parse(st, &o->status) < 0) {
        err_set(e, ERR_INTERNAL, "order_from_json: unknown status %s", st ? st : "(none)");
        goto fail;
    }
    o->workflow = wf && strcmp(wf, "csr") == 0 ? ORDER_WF_CSR : ORDER_WF_IDENTIFIERS;
    o->id = get_str(j, "id");
    o->role = get_str(j, "role");
    o->account = get_str(j, "account");
    o->csr = get_str(j, "csr");
    o->finalize_csr = get_str(j, "finalize_csr");   /* absent in older orders: "" */
    o->key_type = get_str(j, "key_type");
    o->last_error = get_str(j, "last_error");
    o->serial = get_str(j, "serial");
    o->acme_url = get_str(j, "acme_url");
    o->finalize_url = get_str(j, "finalize_url");
    o->cert_url = get_str(j, "cert_url");
    o->revocation_reason = get_str(j, "revocation_reason");
    o->profile = get_str(j, "acme_profile");   /* absent in older orders: "" */
    const cJSON *rn = cJSON_GetObjectItemCaseSensitive(j, "renewal");   /* absent: older */
    o->renewal.window_start = get_int(rn, "window_start");
    o->renewal.window_end = get_int(rn, "window_end");
    o->renewal.explanation_url = get_str(rn, "explanation_url");
    o->renewal.ari = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rn, "ari"));
    o->renewal.renew_at = get_int(rn, "renew_at");
    o->renewal.check_at = get_int(rn, "check_at");
    o->renewal.checks = (int)get_int(rn, "checks");
    o->renewal.replaces_order_id = get_str(rn, "replaces_order_id");
    o->renewal.replaced_by_order_id = get_str(rn, "replaced_by_order_id");
    o->renewal.replaces_cert_id = get_str(rn, "replaces_cert_id");
    /* Checked here: order_fill_empty below would turn a failed copy into "" silently. */
    char *const strs[] = { o->id, o->role, o->account, o->csr, o->finalize_csr, o->key_type,
                           o->last_error,
                           o->serial, o->acme_url, o->finalize_url, o->cert_url,
                           o->revocation_reason, o->renewal.explanation_url,
                           o->renewal.replaces_order_id, o->renewal.replaced_by_order_id,
                           o->renewal.replaces_cert_id, o->profile };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!strs[i])
            goto oom;
    o->creation_date = get_int(j, "creation_date");
    o->last_update = get_int(j, "last_update");
    o->next_work_date = get_int(j, "next_work_date");
    o->expires = get_int(j, "expires");
    o->attempts = (int)get_int(j, "attempts");
    o->ca_placing = get_int(j, "ca_placing");   /* absent in older orders: 0 */
    o->dns_polls = (int)get_int(j, "dns_polls");
    o->revocation_time = get_int(j, "revocation_time");

    if (!(o->identifiers = calloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof(char *))))
        goto oom;
    cJSON_ArrayForEach(it, ids) {
        const char *s = cJSON_GetStringValue(it);
        if (!s)
            continue;
        if (!(o->identifiers[o->n_identifiers] = strdup(s)))
            goto oom;
        o->n_identifiers++;
    }
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(j, "requested_identifiers");
    if (cJSON_GetArraySize(rq) == (int)o->n_identifiers && o->n_identifiers > 0) {
        if (!(o->requested = calloc(o->n_identifiers + 1, sizeof(char *))))
            goto oom;
        for (size_t i = 0; i < o->n_identifiers; i++) {
            const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(rq, (int)i));
            if (!(o->requested[i] = strdup(s ? s : o->identifiers[i])))
                goto oom;
        }
    }
    int na = cJSON_GetArraySize(azs);
    if (na > 0 && !(o->authzs = calloc((size_t)na, sizeof *o->authzs)))
        goto oom;
    cJSON_ArrayForEach(it, azs) {
        o->n_authzs++;
        if (!authz_from_json(it, &o->authzs[o->n_authzs - 1]))
            goto oom;
    }
    if (!order_fill_empty(o))
        goto oom;
    *out = o;
    return 0;
oom:
    err_set(e, ERR_INTERNAL, "order_from_json: out of memory");
fail:
    order_free(o);
    return -1;
}

/* ---- storage ------------------------------------------------------------------------ */

int order_load(struct fw_storage *s, const char *id, struct order **out, struct err *e)
{
    char key[128];
    cJSON *j = NULL;
    if (!uuid7_valid(id))
        return err_set(e, ERR_NOT_FOUND, "order %s: not found", id);
    order_key_path(id, key, sizeof key);
    if (fw_storage_get_json(s, key, &j, e) < 0)
        return err_wrap(e, "order %s", id);
    if (!j)
        return err_set(e, ERR_NOT_FOUND, "order %s: not found", id);
    int rc = order_from_json(j, out, e);
    cJSON_Delete(j);
    if (rc < 0)
        return err_wrap(e, "order %s", id);
    (*out)->stored_status = (*out)->status;
    return 0;
}

int order_load_for_role(struct fw_storage *s, const char *role, const char *id,
                        struct order **out, struct err *e)
{
    struct order *o = NULL;
    if (order_load(s, id, &o, e) < 0)
        return -1;
    if (strcmp(o->role, role) != 0) {
        order_free(o);
        return err_set(e, ERR_NOT_FOUND, "order %s: not found for role %s", id, role);
    }
    *out = o;
    return 0;
}

int order_load_req(const struct fw_req *req, const struct fw_data *d, struct order **out,
                   struct err *e)
{
    return order_load_for_role(req->storage, fw_data_str(d, "name"), fw_data_str(d, "order_id"),
                               out, e);
}

int order_load_for_update(struct engine *eng, struct fw_storage *s, const char *role,
                          const char *id, struct keylock *hold, struct order **out,
                          struct err *e)
{
    /* Checked before locking so a malformed id never takes a lock. */
    if (!uuid7_valid(id))
        return err_set(e, ERR_NOT_FOUND, "order %s: not found", id);
    /* A running advance holds the order for one step. */
    keylock_wait(&eng->order_locks, id, hold);
    if (order_load_for_role(s, role, id, out, e) < 0) {
        keylock_release(&eng->order_locks, hold);
        return -1;
    }
    return 0;
}

void order_hour_key(const struct order *o, char *buf, size_t len)
{
    struct tm tm;
    char hour[16];
    time_t t = (time_t)o->creation_date;
    gmtime_r(&t, &tm);
    strftime(hour, sizeof hour, "%Y%m%d%H", &tm);
    snprintf(buf, len, "order-hour/%s/%s", hour, o->id);
}

int order_save(struct fw_storage *s, struct order *o, struct err *e)
{
    char key[512];
    cJSON *j = order_to_json(o);
    if (!j)
        return err_set(e, ERR_INTERNAL, "order %s: out of memory encoding", o->id);

    if (o->status == ORDER_NEW) {
        /* The indexes go in BEFORE the object, and the object's put is the commit point:
         * an order that exists but is in no queue would never be advanced after a crash,
         * and a failed save must leave no order behind (the client was told it failed).
         * An entry whose order is not there is a dangling index entry, which readers skip
         * and the worker's scan removes. */
        snprintf(key, sizeof key, "role-active/%s/%s", o->role, o->id);
        if (s->put(s->ctx, key, "", 0, false, e) < 0)
            goto fail;
        order_hour_key(o, key, sizeof key);
        if (s->put(s->ctx, key, "", 0, false, e) < 0)
            goto fail;
    }
    order_key_path(o->id, key, sizeof key);
    if (fw_storage_put_json(s, key, j, false, e) < 0)
        goto fail;
    cJSON_Delete(j);
    j = NULL;

    bool was_terminal = order_status_terminal(o->stored_status);
    o->stored_status = o->status;
    if (order_status_terminal(o->status) && !was_terminal) {
        snprintf(key, sizeof key, "role-active/%s/%s", o->role, o->id);
        if (s->del(s->ctx, key, e) < 0)
            goto fail;
    }
    return 0;
fail:
    cJSON_Delete(j);
    return err_wrap(e, "order %s: saving", o->id);
}

int order_list_active(struct fw_storage *s, char ***ids, struct err *e)
{
    char **roles = NULL, **out = NULL;
    size_t n = 0, cap = 0;
    if (s->list(s->ctx, "role-active/", &roles, e) < 0)
        return err_wrap(e, "listing role-active/");
    for (size_t i = 0; roles[i]; i++) {
        char prefix[512], **keys = NULL;
        size_t len = strlen(roles[i]);
        if (len == 0 || roles[i][len - 1] != '/')
            continue;
        snprintf(prefix, sizeof prefix, "role-active/%s", roles[i]);
        if (s->list(s->ctx, prefix, &keys, e) < 0) {
            err_wrap(e, "listing %s", prefix);
            goto fail;
        }
        for (size_t k = 0; keys[k]; k++) {
            char entry[512];
            snprintf(entry, sizeof entry, "%s%s", roles[i], keys[k]);
            if (engine_strv_push(&out, &n, &cap, entry) < 0) {
                fw_strv_free(keys);
                goto oom;
            }
        }
        fw_strv_free(keys);
    }
    fw_strv_free(roles);
    if (!out && !(out = calloc(1, sizeof *out)))
        return err_set(e, ERR_INTERNAL, "order_list_active: out of memory");
    *ids = out;
    return 0;
oom:
    err_set(e, ERR_INTERNAL, "order_list_active: out of memory");
fail:
    fw_strv_free(out);
    fw_strv_free(roles);
    return -1;
}
