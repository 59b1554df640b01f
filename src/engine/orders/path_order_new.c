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

#include "../internal.h"
#include "log.h"
#include "order.h"

static const char *const pem_csr[] = { "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
                                       NULL };

static const struct fw_field new_order_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true,
      .desc = "Name of the role to order under." },
    { .name = "identifiers", .type = FW_TYPE_COMMA_STRING_SLICE,
      .desc = "DNS names for the certificate (identifier workflow: Vault makes the key). "
              "Unicode names (U-labels) are ordered as their IDNA2008 A-labels. Give "
              "identifiers or csr, not both." },
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

/* True when s is an IPv4 or IPv6 address: the engine orders DNS names only. */
static bool is_ip_address(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
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

/* Checks the identifiers of either workflow: non-empty, DNS names, no duplicates, allowed by
 * the role, and wildcards only when the role allows dns-01 (the only challenge a CA
 * accepts for them). `field` names the input in messages. */
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
        if (is_ip_address(ids[i]))
            return err_set(e, ERR_INVALID,
                           "%s: %s: IP address identifiers are not supported", field, ids[i]);
        const char *why = dns_name_problem(ids[i]);
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

/* The CSR workflow: the CSR's DNS names must pass the role. *out is a new, unsaved order
 * holding the CSR byte for byte. */
static int order_from_csr(const struct fw_req *req, const struct role *r, const char *name,
                          const char *csr, struct order **out, struct err *e)
{
    struct crypto_csr_info ci;
    struct order *o = NULL;
    size_t n = 0;
    int rc = -1;
    memset(&ci, 0, sizeof ci);

    if (crypto_csr_parse(csr, strlen(csr), &ci, e) < 0) {
        if (e->kind == ERR_INVALID)
            name_field(e, "csr");
        goto out;
    }
    if (ci.ip_addrs && ci.ip_addrs[0]) {
        err_set(e, ERR_INVALID, "csr: IP address identifiers (%s) are not supported",
                ci.ip_addrs[0]);
        goto out;
    }
    for (n = 0; ci.dns_names && ci.dns_names[n]; n++) {
        /* A certificate's dNSName is an IA5String of A-labels (RFC 5280 §7.2); a CA refuses
         * anything else, and converting would change what the CSR's owner signed. */
        if (!idn_is_ascii(ci.dns_names[n])) {
            err_set(e, ERR_INVALID, "csr: %.200s is a Unicode name (U-label); a CSR must "
                    "carry it as an A-label (xn--...), as certificates do", ci.dns_names[n]);
            goto out;
        }
    }
    if (n == 0) {
        err_set(e, ERR_INVALID, "csr: has no DNS names (common name or SANs)");
        goto out;
    }
    if (check_identifiers(r, req, ci.dns_names, n, "csr", e) < 0)
        goto out;
    if (order_new(name, r->acme_account_name, ORDER_WF_CSR, (const char *const *)ci.dns_names,
                  n, &o, e) < 0)
        goto out;
    free(o->csr);
    if (!(o->csr = strdup(csr))) {
        err_set(e, ERR_INTERNAL, "new-order: out of memory");
        goto out;
    }
    *out = o;
    o = NULL;
    rc = 0;
out:
    order_free(o);
    crypto_csr_info_clear(&ci);
    return rc;
}

/* The identifier workflow: makes the order's key and stores it seal-wrapped at
 * order-key/<id>. *out is a new, unsaved order. */
static int order_from_identifiers(const struct fw_req *req, const struct role *r,
                                  const char *name, const cJSON *list, struct order **out,
                                  struct err *e)
{
    struct crypto_key *key = NULL;
    struct order *o = NULL;
    char **sent = NULL, **ids = NULL, *key_pem = NULL, *probe_csr = NULL;
    size_t n = 0;
    bool unicode = false;
    int rc = -1;

    if (!(sent = list_copy(list, &n))) {
        err_set(e, ERR_INTERNAL, "new-order: out of memory");
        goto out;
    }
    /* Everything from here on (policy, CSR, CA) sees the A-labels; the user's spelling is
     * kept beside them for the replies. */
    if (alabels(sent, n, &ids, &unicode, e) < 0)
        goto out;
    if (check_identifiers(r, req, ids, n, "identifiers", e) < 0)
        goto out;
    /* Make the key and a CSR now, so a name the CSR cannot carry is refused here and
     * not later by the worker; the CSR itself is rebuilt from the key at finalize. */
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
        o->requested = sent;
        sent = NULL;
    }
    free(o->key_type);
    if (!(o->key_type = strdup(crypto_key_type_name(r->csr_key_type)))) {
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
        /* Private key material: wipe before free. */
        memset(key_pem, 0, strlen(key_pem));
        free(key_pem);
    }
    free(probe_csr);
    crypto_key_free(key);
    crypto_strv_free(ids);
    crypto_strv_free(sent);
    order_free(o);
    return rc;
}

static int new_order(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    const char *name = fw_data_str(d, "name");
    const char *csr = fw_data_str(d, "csr");
    const cJSON *list = fw_data_list(d, "identifiers");
    bool has_ids = fw_data_present(d, "identifiers") && cJSON_GetArraySize(list) > 0;
    bool has_csr = fw_data_present(d, "csr") && csr[0] != '\0';
    struct role *r = NULL;
    struct account *acct = NULL;
    struct order *o = NULL;
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
    int made = has_csr ? order_from_csr(req, r, name, csr, &o, e)
                       : order_from_identifiers(req, r, name, list, &o, e);
    if (made < 0)
        goto out;
    if (order_save(req->storage, o, e) < 0) {
        /* The order's object is the commit point (order_save): it is not there, so its key
         * must not stay either. Best effort: a storage that just failed may fail again, and
         * then the key is an orphan no order points to (logged, never used). */
        if (o->workflow == ORDER_WF_IDENTIFIERS) {
            char kpath[128];
            struct err de;
            snprintf(kpath, sizeof kpath, "order-key/%s", o->id);
            if (req->storage->del(req->storage->ctx, kpath, &de) < 0)
                log_warn("engine", "new-order failed; its key could not be removed",
                         "order_id", o->id, "error", de.msg, NULL);
        }
        goto out;
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
                   "the key). The reply's order_id is used by every other order endpoint; "
                   "the order moves on in the background.",
};
