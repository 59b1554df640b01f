/* order_reuse.c: a role's reuse_pending_orders (issue 14 §4). Several instances of one
 * service behind a load balancer ask for the same names at once; with the option on, the
 * first new-order places the order and the others get its order_id.
 *
 * Index: role-pending/<role>/<workflow>-<sha-256 of the identifier set> holds
 * {"order_id": <id>}, the newest order new-order placed for that set. It is written after
 * the order itself (order_save), under the key's lock in eng->reuse_locks, which new-order
 * holds from the look-up to the write: two callers for one set never both miss. A crash
 * between the order's save and the index write loses only the reuse (the next caller places
 * a second order); an entry naming an order that is gone, terminal or different is ignored
 * and replaced by the next order placed. So the index is never trusted, only checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "../internal.h"
#include "order.h"

int order_reuse_key(const char *role, enum order_workflow wf, char *const *ids, size_t n,
                    char *buf, size_t len, struct err *e)
{
    char cache[400];
    /* The cache key already hashes the set (sorted, lower-cased); its hash is reused. */
    if (order_cache_key(role, ids, n, cache, sizeof cache, e) < 0)
        return -1;
    const char *hash = strrchr(cache, '/');
    int k = snprintf(buf, len, "role-pending/%s/%s-%s", role, order_workflow_name(wf),
                     hash ? hash + 1 : "");
    if (k < 0 || (size_t)k >= len)
        return err_set(e, ERR_INTERNAL, "order_reuse_key: buffer too small");
    return 0;
}

/* True when every name of a is in b (ignoring case). */
static bool names_within(char *const *a, size_t na, char *const *b, size_t nb)
{
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t k = 0; k < nb && !found; k++)
            found = strcasecmp(a[i], b[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* The order o would be what want asks for: same role, workflow, identifier set, profile
 * and, for a CSR, the same CSR (another CSR is another key: its owner needs its own
 * certificate). */
static bool order_matches(const struct order *o, const struct order_reuse_want *want)
{
    if (strcmp(o->role, want->role) != 0 || o->workflow != want->workflow ||
        strcmp(o->profile, want->profile ? want->profile : "") != 0)
        return false;
    if (want->workflow == ORDER_WF_CSR && strcmp(o->csr, want->csr ? want->csr : "") != 0)
        return false;
    return names_within(o->identifiers, o->n_identifiers, want->ids, want->n) &&
           names_within(want->ids, want->n, o->identifiers, o->n_identifiers);
}

int order_reuse_find(struct fw_storage *s, const char *key, const struct order_reuse_want *want,
                     struct order **out, struct err *e)
{
    cJSON *ptr = NULL;
    struct order *o = NULL;
    struct err le;
    *out = NULL;
    if (fw_storage_get_json(s, key, &ptr, e) < 0)
        return -1;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ptr, "order_id"));
    if (!id || !uuid7_valid(id)) {
        cJSON_Delete(ptr);
        return 0;   /* none, or not ours to read: replaced by the next order */
    }
    int rc = order_load(s, id, &o, &le);
    cJSON_Delete(ptr);
    if (rc < 0) {
        if (le.kind == ERR_NOT_FOUND)
            return 0;   /* the order is gone (a crash before its save, or tidied) */
        *e = le;
        return -1;
    }
    if (order_status_terminal(o->status) || !order_matches(o, want)) {
        order_free(o);
        return 0;
    }
    *out = o;
    return 0;
}

int order_reuse_record(struct fw_storage *s, const char *key, const char *id, struct err *e)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "order_id", id)) {
        cJSON_Delete(j);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    int rc = fw_storage_put_json(s, key, j, false, e);
    cJSON_Delete(j);
    return rc;
}
