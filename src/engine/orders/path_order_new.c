/* path_order_new.c: role/:name/new-order. Checks everything (role, account, identifiers
 * or CSR against the role's policy) before storing anything, then stores the key (identifier
 * workflow, seal-wrapped), then the order, and hands it to the worker so the reply does not
 * wait on the CA. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "../internal.h"
#include "log.h"
#include "order.h"

static const char *const pem_csr[] = { "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
                                       NULL };

static const struct fw_field new_order_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true,
      .desc = "Name of the role to order under." },
    { .name = "identifiers", .type = FW_TYPE_COMMA_STRING_SLICE,
      .desc = "DNS names or IP addresses for the certificate (identifier workflow: Vault "
              "makes the key). Unicode names (U-labels) are ordered as their IDNA2008 "
              "A-labels; IP addresses must lie in the role's allowed_ip_ranges and are kept "
              "in canonical form (RFC 5952 for IPv6). Give identifiers or csr, not both." },
    { .name = "csr", .type = FW_TYPE_STRING, .pem = pem_csr,
      .desc = "PEM certificate signing request (CSR workflow: the key stays with you). Its "
              "names must be A-labels (xn--...); a U-label SAN is refused. Give identifiers "
              "or csr, not both." },
    { 0 }
};

/* Prefixes e's message with "field: " unless it already starts so (callees name fields). */
static int name_field(struct err *e, const char *field)
{
    size_t n = strlen(field);
    if (strncmp(e->msg, field, n) == 0 && e->msg[n] == ':')
        return -1;
    return err_wrap(e, "%s", field);
}

/* A reason when s cannot be a DNS name at all (empty labels: ".", "a..b", "a."), else NULL.
 * Finer rules (characters, label length) are the role policy's. */
static const char *dns_name_problem(const char *s)
{
    if (strchr(s, ':'))
        return "is neither a DNS name nor an IP address";
    if (s[0] == '.' || strstr(s, "..") || s[strlen(s) - 1] == '.')
        return "is not a DNS name: it has an empty label";
    return NULL;
}

/* Checks the identifiers of either workflow: non-empty, DNS names or IP addresses (in
 * their canonical text, see idn_to_alabel), no duplicates, allowed by the role, wildcards
 * only when the role allows dns-01 (the only challenge a CA accepts for them), and IP
 * addresses only when it allows http-01 or tls-alpn-01 (RFC 8738 §7: dns-01 cannot prove
 * an address). `field` names the input in messages. */
static int check_identifiers(const struct role *r, const struct fw_req *req,
                             char *const *ids, size_t n, const char *field, struct err *e)
{
    if (n == 0)
        return err_set(e, ERR_INVALID, "%s: at least one identifier is required", field);
    if (n > 100)
        return err_set(e, ERR_INVALID, "%s: at most 100 identifiers per order", field);
    for (size_t i = 0; i < n; i++) {
        if (ids[i][0] == '\0')
            return err_set(e, ERR_INVALID, "%s: empty identifier", field);
        if (strlen(ids[i]) > 253)
            return err_set(e, ERR_INVALID, "%s: identifier too long: %.64s...", field, ids[i]);
        bool ip = ip_is_literal(ids[i]);
        const char *why = ip ? NULL : dns_name_problem(ids[i]);
        if (why)
            return err_set(e, ERR_INVALID, "%s: \"%.64s\" %s", field, ids[i], why);
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(ids[i], ids[k]) == 0)
                return err_set(e, ERR_INVALID, "%s: %s is listed twice", field, ids[i]);
        }
        if (strncmp(ids[i], "*.", 2) == 0 && role_check_challenge_type(r, "dns-01", e) < 0)
            return err_set(e, ERR_INVALID,
                           "%s: %s is a wildcard, which needs dns-01, and role %s does not "
                           "allow dns-01", field, ids[i], r->name);
        struct err ignored;
        if (ip && role_check_challenge_type(r, "http-01", &ignored) < 0 &&
            role_check_challenge_type(r, "tls-alpn-01", &ignored) < 0)
            return err_set(e, ERR_INVALID,
                           "%s: %s is an IP address, which only http-01 or tls-alpn-01 can "
                           "validate (dns-01 cannot, RFC 8738), and role %s allows neither",
                           field, ids[i], r->name);
    }
    if (role_check_identifiers(r, req, (const char *const *)ids, n, e) < 0) {
        if (e->kind == ERR_INVALID)
            return name_field(e, field);
        return -1;
    }
    return 0;
}

/* Copies the list field into a NULL-terminated array; *n its length. */
static char **list_copy(const cJSON *list, size_t *n)
{
    size_t cap = (size_t)cJSON_GetArraySize(list);
    char **v = calloc(cap + 1, sizeof *v);
    const cJSON *it;
    *n = 0;
    if (!v)
        return NULL;
    cJSON_ArrayForEach(it, list) {
        const char *s = cJSON_GetStringValue(it);
        if (!(v[*n] = strdup(s ? s : ""))) {
            crypto_strv_free(v);
            return NULL;
        }
        (*n)++;
    }
    return v;
}

/* The A-labels of the n names in sent (*out new, NULL-terminated); *unicode tells whether
 * any name was sent as a U-label. ERR_INVALID naming identifiers for a bad IDN. */
static int alabels(char *const *sent, size_t n, char ***out, bool *unicode, struct err *e)
{
    char **v = calloc(n + 1, sizeof *v);
    *unicode = false;
    *out = NULL;
    if (!v)
        return err_set(e, ERR_INTERNAL, "new-order: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (idn_to_alabel(sent[i], &v[i], e) < 0) {
            crypto_strv_free(v);
            return e->kind == ERR_INVALID ? err_wrap(e, "identifiers") : -1;
        }
        *unicode = *unicode || strcmp(v[i], sent[i]) != 0;
    }
    *out = v;
    return 0;
}

/* The CSR workflow: the CSR's DNS names and IP addresses must pass the role. *out is a new,
 * unsaved order holding the CSR byte for byte. */
static int order_from_csr(const struct fw_req *req, const struct role *r, const char *name,
                          const char *csr, struct order **out, struct err *e)
{
    struct crypto_csr_info ci;
    struct order *o = NULL;
    char **ids = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    memset(&ci, 0, sizeof ci);

    if (crypto_csr_parse(csr, strlen(csr), &ci, e) < 0) {
        if (e->kind == ERR_INVALID)
            name_field(e, "csr");
        goto out;
    }
    for (size_t i = 0; ci.dns_names && ci.dns_names[i]; i++) {
        /* A certificate's dNSName is an IA5String of A-labels (RFC 5280 §7.2); a CA refuses
         * anything else, and converting would change what the CSR's owner signed. */
        if (!idn_is_ascii(ci.dns_names[i])) {
            err_set(e, ERR_INVALID, "csr: %.200s is a Unicode name (U-label); a CSR must "
                    "carry it as an A-label (xn--...), as certificates do", ci.dns_names[i]);
            goto out;
        }
        if (engine_strv_push(&ids, &n, &cap, ci.dns_names[i]) < 0)
            goto oom;
    }
    /* The parser writes addresses in their canonical text (inet_ntop), as orders keep them. */
    for (size_t i = 0; ci.ip_addrs && ci.ip_addrs[i]; i++)
        if (engine_strv_push(&ids, &n, &cap, ci.ip_addrs[i]) < 0)
            goto oom;
    if (n == 0) {
        err_set(e, ERR_INVALID, "csr: has no DNS names or IP addresses (common name or SANs)");
        goto out;
    }
    if (check_identifiers(r, req, ids, n, "csr", e) < 0)
        goto out;
    if (order_new(name, r->acme_account_name, ORDER_WF_CSR, (const char *const *)ids, n, &o,
                  e) < 0)
        goto out;
    free(o->csr);
    o->csr = strdup(csr);
    free(o->profile);
    o->profile = strdup(r->acme_profile);
    if (!o->csr || !o->profile)
        goto oom;
    *out = o;
    o = NULL;
    rc = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "new-order: out of memory");
out:
    fw_strv_free(ids);
    order_free(o);
    crypto_csr_info_clear(&ci);
    return rc;
}

/* The identifier workflow's names, checked: *sent as the user wrote them (IP addresses in
 * their canonical text), *ids the A-labels; *unicode when some differ. Both new. */
static int identifiers_prepare(const struct fw_req *req, const struct role *r,
                               const cJSON *list, char ***sent, char ***ids, size_t *n,
                               bool *unicode, struct err *e)
{
    *ids = NULL;
    if (!(*sent = list_copy(list, n)))
        return err_set(e, ERR_INTERNAL, "new-order: out of memory");
    /* Everything from here on (policy, CSR, CA) sees the A-labels; the user's spelling is
     * kept beside them for the replies. */
    if (alabels(*sent, *n, ids, unicode, e) < 0)
        return -1;
    /* Replies show addresses canonically whatever the spelling: the user's list keeps the
     * canonical form, which is what the CA and the certificate carry. */
    for (size_t i = 0; i < *n; i++) {
        if (ip_is_literal((*sent)[i]) && strcmp((*sent)[i], (*ids)[i]) != 0) {
            char *c = strdup((*ids)[i]);
            if (!c)
                return err_set(e, ERR_INTERNAL, "new-order: out of memory");
            free((*sent)[i]);
            (*sent)[i] = c;
        }
    }
    *unicode = false;
    for (size_t i = 0; i < *n; i++)
        *unicode = *unicode || strcmp((*sent)[i], (*ids)[i]) != 0;
    return check_identifiers(r, req, *ids, *n, "identifiers", e);
}

/* The identifier workflow: makes the order's key and stores it seal-wrapped at
 * order-key/<id>. *sent is taken when the order keeps it (Unicode names). *out is a new,
 * unsaved order. */
static int order_from_identifiers(const struct fw_req *req, const struct role *r,
                                  const char *name, char ***sent, char *const *ids, size_t n,
                                  bool unicode, struct order **out, struct err *e)
{
    struct crypto_key *key = NULL;
    struct order *o = NULL;
    char *key_pem = NULL, *probe_csr = NULL;
    int rc = -1;

    /* Make the key and its CSR now: a name the CSR cannot carry is refused here, not
     * later by the worker, and finalize sends this CSR (o->finalize_csr) instead of reading
     * and parsing the key again on the busiest step. */
    if (crypto_key_generate(r->csr_key_type, &key, e) < 0)
        goto out;
    if (crypto_csr_build(key, (const char *const *)ids, n, r->csr_population, &probe_csr,
                         e) < 0) {
        if (e->kind == ERR_INVALID)
            name_field(e, "identifiers");
        goto out;
    }
    if (crypto_key_to_pem(key, &key_pem, e) < 0)
        goto out;
    if (order_new(name, r->acme_account_name, ORDER_WF_IDENTIFIERS, (const char *const *)ids,
                  n, &o, e) < 0)
        goto out;
    if (unicode) {
        o->requested = *sent;
        *sent = NULL;
    }
    free(o->key_type);
    o->key_type = strdup(crypto_key_type_name(r->csr_key_type));
    free(o->profile);
    o->profile = strdup(r->acme_profile);
    free(o->finalize_csr);
    o->finalize_csr = probe_csr;
    probe_csr = NULL;
    if (!o->key_type || !o->profile) {
        err_set(e, ERR_INTERNAL, "new-order: out of memory");
        goto out;
    }
    /* The key first: an order must never exist without the key its CSR will need. */
    char kpath[128];
    snprintf(kpath, sizeof kpath, "order-key/%s", o->id);
    if (req->storage->put(req->storage->ctx, kpath, key_pem, strlen(key_pem), true, e) < 0)
        goto out;
    *out = o;
    o = NULL;
    rc = 0;
out:
    if (key_pem) {
        /* Private key material: wiped before free (a plain memset may be optimised out). */
        OPENSSL_cleanse(key_pem, strlen(key_pem));
        free(key_pem);
    }
    free(probe_csr);
    crypto_key_free(key);
    order_free(o);
    return rc;
}

/* Stores the new order o (its key, for the identifier workflow, is stored already). */
static int order_store_new(const struct fw_req *req, struct order *o, struct err *e)
{
    if (order_save(req->storage, o, e) == 0)
        return 0;
    /* The order's object is the commit point (order_save): it is not there, so its key must
     * not stay either. Best effort: a storage that just failed may fail again, and then the
     * key is an orphan no order points to (logged, never used). */
    if (o->workflow == ORDER_WF_IDENTIFIERS) {
        char kpath[128];
        struct err de;
        snprintf(kpath, sizeof kpath, "order-key/%s", o->id);
        if (req->storage->del(req->storage->ctx, kpath, &de) < 0)
            log_warn("engine", "new-order failed; its key could not be removed", "order_id",
                     o->id, "error", de.msg, NULL);
    }
    return -1;
}

static int new_order(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    struct engine *eng = req->backend;
    const char *name = fw_data_str(d, "name");
    const char *csr = fw_data_str(d, "csr");
    const cJSON *list = fw_data_list(d, "identifiers");
    bool has_ids = fw_data_present(d, "identifiers") && cJSON_GetArraySize(list) > 0;
    bool has_csr = fw_data_present(d, "csr") && csr[0] != '\0';
    struct role *r = NULL;
    struct account *acct = NULL;
    struct order *o = NULL, *pending = NULL;
    char **sent = NULL, **ids = NULL, reuse_key[512];
    size_t n = 0;
    bool unicode = false;
    struct keylock reuse_hold = { 0 };
    int rc = -1;

    if (has_ids == has_csr) {
        return err_set(e, ERR_INVALID, has_ids ? "identifiers, csr: give one, not both"
                                               : "identifiers, csr: one of them is required");
    }
    if (role_load(req->storage, name, &r, e) < 0)
        goto out;   /* a missing role is a 404 naming it */
    if (account_load(req->storage, r->acme_account_name, &acct, e) < 0) {
        if (e->kind == ERR_NOT_FOUND)
            err_set(e, ERR_INVALID, "name: role %s uses acme account %s, which does not exist",
                    name, r->acme_account_name);
        goto out;
    }
    /* Everything that can refuse the request without side effects comes first. */
    if (has_csr ? order_from_csr(req, r, name, csr, &o, e) < 0
                : identifiers_prepare(req, r, list, &sent, &ids, &n, &unicode, e) < 0)
        goto out;
    if (r->reuse_pending_orders) {
        /* Look-up and placement under one lock per (role, identifier set), so concurrent
         * callers for the same names find the order the first one placed. */
        struct order_reuse_want want = {
            .role = name, .workflow = has_csr ? ORDER_WF_CSR : ORDER_WF_IDENTIFIERS,
            .ids = has_csr ? o->identifiers : ids, .n = has_csr ? o->n_identifiers : n,
            .csr = has_csr ? csr : NULL, .profile = r->acme_profile,
        };
        if (order_reuse_key(name, want.workflow, want.ids, want.n, reuse_key,
                            sizeof reuse_key, e) < 0)
            goto out;
        keylock_wait(&eng->reuse_locks, reuse_key, &reuse_hold);
        if (order_reuse_find(req->storage, reuse_key, &want, &pending, e) < 0)
            goto out;
        if (pending) {
            if (!(resp->data = order_view_created(pending))) {
                err_set(e, ERR_INTERNAL, "new-order: out of memory");
                goto out;
            }
            fw_resp_warn(resp, "reuse_pending_orders: order %s for the same identifiers is "
                         "still %s; it is returned instead of a new order", pending->id,
                         order_status_name(pending->status));
            log_info("engine", "pending order reused", "order_id", pending->id, "role", name,
                     NULL);
            rc = 0;
            goto out;
        }
    }
    if (!has_csr && order_from_identifiers(req, r, name, &sent, ids, n, unicode, &o, e) < 0)
        goto out;
    if (order_store_new(req, o, e) < 0)
        goto out;
    if (r->reuse_pending_orders && order_reuse_record(req->storage, reuse_key, o->id, e) < 0) {
        /* The order stands; only its reuse is lost (the next caller places another). */
        log_warn("engine", "reuse_pending_orders: the order could not be indexed", "order_id",
                 o->id, "error", e->msg, NULL);
        err_clear(e);
    }
    log_info("engine", "order created", "order_id", o->id, "role", name,
             "workflow", order_workflow_name(o->workflow), NULL);
    if (!(resp->data = order_view_created(o))) {
        err_set(e, ERR_INTERNAL, "new-order: out of memory");
        goto out;
    }
    order_worker_kick(req->backend, o->id);
    rc = 0;
out:
    keylock_release(&eng->reuse_locks, &reuse_hold);
    crypto_strv_free(ids);
    crypto_strv_free(sent);
    order_free(pending);
    order_free(o);
    account_free(acct);
    role_free(r);
    return rc;
}

const struct fw_path path_order_new = {
    .pattern = ORDER_ROLE_RE "/new-order",
    .fields = new_order_fields,
    .ops = {
        [FW_CREATE] = { new_order, "Place a certificate order." },
        [FW_UPDATE] = { new_order, "Place a certificate order." },
    },
    .synopsis = "Place a certificate order with the role's ACME CA.",
    .description = "Unicode names: identifiers such as räksmörgås.se are checked against the "
                   "role, put in the CSR and ordered at the CA as A-labels (IDNA2008: NFC, "
                   "lower case, punycode: xn--rksmrgs-5wao1o.se); replies keep identifiers "
                   "as sent and add acme_identifiers with the A-labels, and every order "
                   "endpoint takes either spelling. A CSR must already carry A-labels (a "
                   "U-label SAN is a 400: CAs refuse them and the CSR is signed as is). "
                   "Give identifiers (Vault makes the key and CSR) or a PEM csr (you keep "
                   "the key). IP addresses (RFC 8738), as identifiers or IP SANs of a CSR, "
                   "need the role's allowed_ip_ranges and are validated with http-01 or "
                   "tls-alpn-01. The order asks the CA for the role's acme_profile. With the "
                   "role's reuse_pending_orders, a call for the identifiers of an order "
                   "still in progress returns that order (with a warning) instead of a new "
                   "one. The reply's order_id is used by every other order endpoint; "
                   "the order moves on in the background.",
};
