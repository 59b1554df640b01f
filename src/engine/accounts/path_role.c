/* path_role.c: role/:name (create, update, read, delete) and LIST role/. A role names the
 * ACME account its orders use and the domain policy (policy.c) new orders must pass. */
#include "../internal.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"

enum { ROLE_MAX_ENTRIES = 1000, ROLE_MAX_DOMAIN = 1024, ROLE_MAX_SHORT = 128 };

static const char *const role_challenge_types[] = { "http-01", "dns-01", "tls-alpn-01", NULL };
static const char *const role_domain_options[] = { "bare_domains", "subdomains", "wildcards",
                                                   "globs", NULL };
static const char *const role_key_types[] = { "ec-256", "ec-384", "ec-521", "rsa-2048",
                                              "rsa-4096", NULL };
static const char *const role_populations[] = { "cn_first", "sans_only", NULL };
static const char *const role_dns_types[] = { "aws-route53", "azure-dns", "google-cloud-dns",
                                              "rfc2136", "cloudflare", NULL };

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static int role_key(const char *name, char *buf, size_t cap, struct err *e)
{
    if (engine_name_check("name", name, e) < 0)
        return -1;
    snprintf(buf, cap, "role/%s", name);
    return 0;
}

/* The reply: the stored form with RFC 3339 dates. *out is new. */
static int role_reply(const cJSON *stored, cJSON **out, struct err *e)
{
    cJSON *r = cJSON_Duplicate(stored, true);
    if (!r)
        return err_set(e, ERR_INTERNAL, "out of memory");
    static const char *const dates[] = { "creation_date", "last_updated_date" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, dates[i]);
        char buf[40];
        engine_time_format(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0, buf, sizeof buf);
        if (!cJSON_ReplaceItemInObjectCaseSensitive(r, dates[i], cJSON_CreateString(buf)) &&
            !cJSON_AddStringToObject(r, dates[i], buf)) {
            cJSON_Delete(r);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    /* Fields added after a role was stored read as their defaults. */
    bool ok = (cJSON_HasObjectItem(r, "allowed_ip_ranges") ||
               cJSON_AddArrayToObject(r, "allowed_ip_ranges")) &&
              (cJSON_HasObjectItem(r, "acme_profile") ||
               cJSON_AddStringToObject(r, "acme_profile", "")) &&
              (cJSON_HasObjectItem(r, "reuse_pending_orders") ||
               cJSON_AddBoolToObject(r, "reuse_pending_orders", false));
    if (!ok) {
        cJSON_Delete(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    *out = r;
    return 0;
}

/* Checks a list field against `allowed` (NULL: any string) and copies it into the role,
 * keeping the client's order. */
static int role_set_list(cJSON *role, const struct fw_data *d, const char *field,
                         const char *const *allowed, size_t max_len, struct err *e)
{
    const cJSON *list = fw_data_list(d, field), *it;
    if (cJSON_GetArraySize(list) > ROLE_MAX_ENTRIES)
        return err_set(e, ERR_INVALID, "%s: more than %d entries", field, ROLE_MAX_ENTRIES);
    cJSON_ArrayForEach(it, list) {
        if (!cJSON_IsString(it))
            return err_set(e, ERR_INVALID, "%s: entries must be strings", field);
        if (strlen(it->valuestring) > max_len)
            return err_set(e, ERR_INVALID, "%s: an entry is longer than %zu characters", field,
                           max_len);
        if (allowed && !in_list(allowed, it->valuestring))
            return err_set(e, ERR_INVALID, "%s: unknown value \"%.64s\"", field,
                           it->valuestring);
    }
    cJSON *copy = cJSON_Duplicate(list, true);
    if (!copy)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(role, field);
    cJSON_AddItemToObject(role, field, copy);
    return 0;
}

static int role_check_domains(const cJSON *list, struct err *e)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        const char *s = it->valuestring;
        char *canon = NULL;
        if (template_has(s)) {
            if (template_check(s, e) < 0)
                return err_wrap(e, "allowed_domains: %.100s", s);
            continue;
        }
        if (policy_name_canon(s, true, &canon, e) < 0)
            return err_wrap(e, "allowed_domains: %.100s", s);
        free(canon);
    }
    return 0;
}

static int role_set_string(cJSON *role, const struct fw_data *d, const char *field,
                           const char *const *allowed, bool is_new, struct err *e)
{
    if (!fw_data_present(d, field) && !is_new)
        return 0;
    const char *v = fw_data_str(d, field);
    if (strlen(v) > ROLE_MAX_SHORT)
        return err_set(e, ERR_INVALID, "%s: longer than %d characters", field, ROLE_MAX_SHORT);
    if (allowed && v[0] && !in_list(allowed, v))
        return err_set(e, ERR_INVALID, "%s: unknown value \"%.64s\"", field, v);
    cJSON_DeleteItemFromObjectCaseSensitive(role, field);
    if (!cJSON_AddStringToObject(role, field, v))
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

/* ---- issue 14 §2, §4, §7: allowed_ip_ranges, reuse_pending_orders, acme_profile ---- */

enum { ROLE_MAX_IP_RANGES = 256 };

/* allowed_ip_ranges, stored canonical ("10.0.0.0/8", "2001:db8::/32"). */
static int role_set_ip_ranges(cJSON *role, const struct fw_data *d, struct err *e)
{
    const cJSON *list = fw_data_list(d, "allowed_ip_ranges"), *it;
    if (cJSON_GetArraySize(list) > ROLE_MAX_IP_RANGES)
        return err_set(e, ERR_INVALID, "allowed_ip_ranges: more than %d entries",
                       ROLE_MAX_IP_RANGES);
    cJSON *canon = cJSON_CreateArray();
    if (!canon)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_ArrayForEach(it, list) {
        struct ip_range r;
        char buf[INET6_ADDRSTRLEN + 8];
        if (!cJSON_IsString(it)) {
            cJSON_Delete(canon);
            return err_set(e, ERR_INVALID, "allowed_ip_ranges: entries must be strings");
        }
        if (ip_range_parse(it->valuestring, &r, e) < 0) {
            cJSON_Delete(canon);
            return err_wrap(e, "allowed_ip_ranges");
        }
        ip_range_format(&r, buf, sizeof buf);
        cJSON *one = cJSON_CreateString(buf);
        if (!one || !cJSON_AddItemToArray(canon, one)) {
            cJSON_Delete(one);
            cJSON_Delete(canon);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(role, "allowed_ip_ranges");
    cJSON_AddItemToObject(role, "allowed_ip_ranges", canon);
    return 0;
}

/* The profile must be one the account's CA offers (its directory's meta.profiles). */
static int role_check_profile(const struct fw_req *req, const char *account,
                              const char *profile, struct err *e)
{
    struct account *a = NULL;
    struct account_conn conn = { 0 };
    struct acme_directory dir;
    struct acme_reply rep;
    char offered[600] = "";
    int rc = -1;
    memset(&dir, 0, sizeof dir);
    memset(&rep, 0, sizeof rep);
    if (account_load(req->storage, account, &a, e) < 0 || account_conn(a, &conn, e) < 0)
        goto out;
    acme_client_set_deadline(conn.acme, req->deadline_ms);
    if (acme_get_directory(conn.acme, false, &dir, &rep, e) < 0) {
        err_wrap(e, "acme_profile: cannot read the ACME directory of account %.128s to check "
                 "the profile", account);
        goto out;
    }
    for (size_t i = 0; dir.profile_names[i]; i++) {
        if (strcmp(dir.profile_names[i], profile) == 0) {
            rc = 0;
            goto out;
        }
        size_t k = strlen(offered);
        snprintf(offered + k, sizeof offered - k, "%s%s", k ? ", " : "",
                 dir.profile_names[i]);
    }
    if (!dir.profile_names[0])
        err_set(e, ERR_INVALID, "acme_profile: the CA of account %.128s offers no profiles "
                "(its directory has no meta.profiles); leave acme_profile empty", account);
    else
        err_set(e, ERR_INVALID, "acme_profile: the CA of account %.128s offers no profile "
                "\"%.64s\"; it offers: %s", account, profile, offered);
out:
    acme_directory_clear(&dir);
    acme_reply_clear(&rep);
    account_conn_close(&conn);
    account_free(a);
    return rc;
}

/* The three fields of issue 14 §2, §4 and §7, after the rest of the role is valid (the
 * profile check asks the CA, so it comes last). */
static int role_apply_ips_profile_reuse(const struct fw_req *req, const struct fw_data *d,
                                        cJSON *role, bool is_new, struct err *e)
{
    if ((is_new || fw_data_present(d, "allowed_ip_ranges")) &&
        role_set_ip_ranges(role, d, e) < 0)
        return -1;
    if (is_new || fw_data_present(d, "reuse_pending_orders")) {
        cJSON_DeleteItemFromObjectCaseSensitive(role, "reuse_pending_orders");
        if (!cJSON_AddBoolToObject(role, "reuse_pending_orders",
                                   fw_data_bool(d, "reuse_pending_orders")))
            return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (!is_new && !fw_data_present(d, "acme_profile"))
        return 0;
    if (role_set_string(role, d, "acme_profile", NULL, is_new, e) < 0)
        return -1;
    const char *profile = fw_data_str(d, "acme_profile");
    const cJSON *acct = cJSON_GetObjectItemCaseSensitive(role, "acme_account_name");
    if (!profile[0] || !cJSON_IsString(acct))
        return 0;
    return role_check_profile(req, acct->valuestring, profile, e);
}

/* ---- renewal fields (issue 14 §1): auto_renew, renew_before ---------------------------- */
static int role_apply_renewal(const struct fw_data *d, cJSON *role, bool is_new,
                              struct err *e)
{
    if (is_new || fw_data_present(d, "auto_renew")) {
        cJSON_DeleteItemFromObjectCaseSensitive(role, "auto_renew");
        if (!cJSON_AddBoolToObject(role, "auto_renew", fw_data_bool(d, "auto_renew")))
            return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (is_new || fw_data_present(d, "renew_before")) {
        struct renew_before rb;
        const char *v = fw_data_str(d, "renew_before");
        if (strlen(v) > ROLE_MAX_SHORT)
            return err_set(e, ERR_INVALID, "renew_before: longer than %d characters",
                           ROLE_MAX_SHORT);
        if (renew_before_parse(v, &rb, e) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(role, "renew_before");
        if (!cJSON_AddStringToObject(role, "renew_before", v))
            return err_set(e, ERR_INTERNAL, "out of memory");
    }
    return 0;
}

/* Applies the request to `role` (a new object or the stored one) and validates it all. */
static int role_apply(const struct fw_req *req, const struct fw_data *d, cJSON *role,
                      bool is_new, struct err *e)
{
    const char *acct = fw_data_str(d, "acme_account_name");
    const cJSON *old_acct = cJSON_GetObjectItemCaseSensitive(role, "acme_account_name");
    if (is_new || fw_data_present(d, "acme_account_name")) {
        if (!acct[0])
            return err_set(e, ERR_INVALID, "acme_account_name: required");
        if (engine_name_check("acme_account_name", acct, e) < 0)
            return -1;
        if (!is_new && cJSON_IsString(old_acct) && strcmp(old_acct->valuestring, acct) != 0)
            return err_set(e, ERR_INVALID, "acme_account_name: cannot be changed after the "
                           "role is created (it is %.128s)", old_acct->valuestring);
        if (is_new) {
            char key[300];
            cJSON *a = NULL;
            snprintf(key, sizeof key, "account/%s", acct);
            if (fw_storage_get_json(req->storage, key, &a, e) < 0)
                return -1;
            if (!a)
                return err_set(e, ERR_INVALID, "acme_account_name: no ACME account named "
                               "%.128s (create config/acme-account/%.128s first)", acct, acct);
            cJSON_Delete(a);
            if (!cJSON_AddStringToObject(role, "acme_account_name", acct))
                return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    static const struct { const char *field; const char *const *allowed; size_t max; } lists[] = {
        { "allowed_domains", NULL, ROLE_MAX_DOMAIN },
        { "allowed_domain_options", role_domain_options, 32 },
        { "allowed_challenge_types", role_challenge_types, 32 },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if ((is_new || fw_data_present(d, lists[i].field)) &&
            role_set_list(role, d, lists[i].field, lists[i].allowed, lists[i].max, e) < 0)
            return -1;
    if (role_check_domains(cJSON_GetObjectItemCaseSensitive(role, "allowed_domains"), e) < 0)
        return -1;
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(role, "allowed_challenge_types"))
        == 0)
        return err_set(e, ERR_INVALID, "allowed_challenge_types: at least one of http-01, "
                       "dns-01, tls-alpn-01 is required");
    if (role_set_string(role, d, "csr_generate_key_type", role_key_types, is_new, e) < 0 ||
        role_set_string(role, d, "csr_identifier_population", role_populations, is_new, e) < 0 ||
        role_set_string(role, d, "dns_provider_name", NULL, is_new, e) < 0 ||
        role_set_string(role, d, "dns_provider_type", role_dns_types, is_new, e) < 0)
        return -1;
    const cJSON *kt = cJSON_GetObjectItemCaseSensitive(role, "csr_generate_key_type");
    if (!cJSON_IsString(kt) || !kt->valuestring[0])
        return err_set(e, ERR_INVALID, "csr_generate_key_type: must be one of ec-256, ec-384, "
                       "ec-521, rsa-2048, rsa-4096");
    const cJSON *pop = cJSON_GetObjectItemCaseSensitive(role, "csr_identifier_population");
    if (!cJSON_IsString(pop) || !pop->valuestring[0])
        return err_set(e, ERR_INVALID, "csr_identifier_population: must be cn_first or "
                       "sans_only");
    const cJSON *dn = cJSON_GetObjectItemCaseSensitive(role, "dns_provider_name");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(role, "dns_provider_type");
    if (cJSON_IsString(dn) && dn->valuestring[0]) {
        if (engine_name_check("dns_provider_name", dn->valuestring, e) < 0)
            return -1;
        if (!cJSON_IsString(dt) || !dt->valuestring[0])
            return err_set(e, ERR_INVALID, "dns_provider_type: required when "
                           "dns_provider_name is set");
        if (dns_kind_check("dns_provider_type", dt->valuestring, e) < 0)
            return -1;
        cJSON *cfg = NULL;
        struct err le;
        if (dns_config_load(req->storage, dt->valuestring, dn->valuestring, &cfg, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                return -1;
            }
            return err_set(e, ERR_INVALID, "dns_provider_name: no DNS provider %s/%.128s "
                           "(create config/dns/%s/%.128s first, or fix dns_provider_type)",
                           dt->valuestring, dn->valuestring, dt->valuestring, dn->valuestring);
        }
        cJSON_Delete(cfg);
    }
    /* The profile check asks the CA, so it comes last. */
    if (role_apply_renewal(d, role, is_new, e) < 0)
        return -1;
    return role_apply_ips_profile_reuse(req, d, role, is_new, e);
}

/* The write itself; the caller holds the role's lock. A new role's account is checked,
 * and the role stored, under the account's lock: account DELETE holds the same lock across
 * its "no role uses it" check and its delete, so a role can never end up naming a deleted
 * account. */
static int role_write_locked(const struct fw_req *req, const struct fw_data *d,
                             const char *name, const char *key, struct fw_resp *resp,
                             struct err *e)
{
    struct engine *eng = req->backend;
    struct keylock acct_hold = { 0 };
    cJSON *role = NULL;
    int rc = -1;
    if (fw_storage_get_json(req->storage, key, &role, e) < 0)
        return -1;
    bool is_new = role == NULL;
    int64_t now = (int64_t)time(NULL);
    if (is_new) {
        const char *acct = fw_data_str(d, "acme_account_name");
        if (acct[0] && engine_name_check("acme_account_name", acct, e) < 0)
            return -1;
        if (acct[0])
            keylock_wait(&eng->account_locks, acct, &acct_hold);
        role = cJSON_CreateObject();
        if (!role || !cJSON_AddStringToObject(role, "name", name) ||
            !cJSON_AddNumberToObject(role, "creation_date", (double)now)) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    if (role_apply(req, d, role, is_new, e) < 0)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(role, "last_updated_date");
    if (!cJSON_AddNumberToObject(role, "last_updated_date", (double)now)) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* One put: a failed write leaves the old role (or none), never half a role. */
    if (fw_storage_put_json(req->storage, key, role, false, e) < 0)
        goto out;
    if (role_reply(role, &resp->data, e) < 0)
        goto out;
    rc = 0;
out:
    keylock_release(&eng->account_locks, &acct_hold);
    cJSON_Delete(role);
    return rc;
}

/* Role writes are read-modify-write: the role's lock keeps two of them from losing each
 * other's change. */
static int role_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                      struct err *e)
{
    struct engine *eng = req->backend;
    const char *name = fw_data_str(d, "name");
    struct keylock hold = { 0 };
    char key[300];
    if (role_key(name, key, sizeof key, e) < 0)
        return -1;
    keylock_wait(&eng->role_locks, name, &hold);
    int rc = role_write_locked(req, d, name, key, resp, e);
    keylock_release(&eng->role_locks, &hold);
    return rc;
}

static int role_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    char key[300];
    cJSON *role = NULL;
    if (role_key(fw_data_str(d, "name"), key, sizeof key, e) < 0)
        return -1;
    if (fw_storage_get_json(req->storage, key, &role, e) < 0)
        return -1;
    if (!role)   /* 404 naming the role; clients read any 404 without data as "gone" */
        return err_set(e, ERR_NOT_FOUND, "role %s: not found", fw_data_str(d, "name"));
    int rc = role_reply(role, &resp->data, e);
    cJSON_Delete(role);
    return rc;
}

static int role_delete(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    struct engine *eng = req->backend;
    const char *name = fw_data_str(d, "name");
    struct keylock hold = { 0 };
    char key[300];
    cJSON *role = NULL;
    int rc = -1;
    if (role_key(name, key, sizeof key, e) < 0)
        return -1;
    keylock_wait(&eng->role_locks, name, &hold);
    if (fw_storage_get_json(req->storage, key, &role, e) < 0)
        goto out;
    if (!role) {
        rc = 0;   /* deleting what is not there succeeds (Terraform destroy retries) */
        goto out;
    }
    cJSON_Delete(role);
    if (!fw_data_bool(d, "force")) {
        bool active = false;
        if (orders_role_has_active(req->storage, name, &active, e) < 0)
            goto out;
        if (active) {
            err_set(e, ERR_INVALID, "role %.128s has active orders: wait for them to finish "
                    "or delete with force=true", name);
            goto out;
        }
    }
    rc = req->storage->del(req->storage->ctx, key, e);
out:
    keylock_release(&eng->role_locks, &hold);
    return rc;
}

static int role_list(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                     struct err *e)
{
    return engine_list_names(req, "role/", resp, e);
}

static const struct fw_field role_fields[] = {
    { "name", FW_TYPE_STRING, .required = true,
      .desc = "Name of the role: letters, digits, '_', and '-' or '.' inside." },
    { "acme_account_name", FW_TYPE_STRING, .required = true,
      .desc = "The ACME account (config/acme-account/<name>) used for this role's orders. "
              "It must exist, and it cannot be changed after the role is created." },
    { "allowed_domains", FW_TYPE_COMMA_STRING_SLICE,
      .desc = "Domains the role accepts, in the order given. Entries may use ACL templating: "
              "{{identity.entity.id}}, {{identity.entity.name}}, "
              "{{identity.entity.metadata.<key>}}, {{identity.entity.aliases.<accessor>.name}}, "
              "{{identity.groups.names.<group>}}, {{identity.groups.ids.<id>.name}}; an entry "
              "whose template cannot be resolved for the requester allows nothing." },
    { "allowed_domain_options", FW_TYPE_COMMA_STRING_SLICE,
      .desc = "How allowed_domains match. None: each entry allows exactly its own name. "
              "bare_domains: that exact match, kept alongside the other options. subdomains: "
              "names below an entry, not the entry itself. wildcards: wildcard identifiers "
              "(*.D for an entry *.D, or below D with subdomains) and www.D; required for any "
              "*. identifier. globs: '*' in an entry matches any characters, dots included." },
    { "allowed_challenge_types", FW_TYPE_COMMA_STRING_SLICE, .def = "http-01,dns-01,tls-alpn-01",
      .desc = "ACME challenge types clients may fulfil: http-01, dns-01, tls-alpn-01." },
    { "csr_generate_key_type", FW_TYPE_STRING, .def = "ec-256", .allowed = role_key_types,
      .empty_is_default = true,
      .desc = "Key type Vault generates in the identifier workflow: ec-256, ec-384, ec-521, "
              "rsa-2048 or rsa-4096." },
    { "csr_identifier_population", FW_TYPE_STRING, .def = "cn_first",
      .allowed = role_populations, .empty_is_default = true,
      .desc = "How identifiers fill the generated CSR: cn_first (the first identifier is the "
              "common name, all are SANs) or sans_only (no common name)." },
    { "dns_provider_name", FW_TYPE_STRING,
      .desc = "DNS provider (config/dns/<dns_provider_type>/<name>) that fulfils this role's "
              "dns-01 challenges for the identifiers its patterns cover. When empty, every "
              "provider whose identifiers match is considered (the most specific pattern "
              "wins). The provider must exist." },
    { "dns_provider_type", FW_TYPE_STRING,
      .desc = "Type of dns_provider_name: aws-route53, azure-dns, google-cloud-dns, rfc2136 or "
              "cloudflare. "
              "Required when dns_provider_name is set." },
    /* ---- issue 14 §2, §4, §7 ---- */
    { "allowed_ip_ranges", FW_TYPE_COMMA_STRING_SLICE,
      .desc = "CIDR ranges (IPv4 and IPv6, e.g. 10.0.0.0/8, 2001:db8::/32; a bare address is "
              "its /32 or /128) whose addresses new-order accepts as IP identifiers (RFC "
              "8738), in either workflow. Stored and shown canonically (RFC 5952 for IPv6); "
              "bits set after the prefix are refused. Empty (the default): IP addresses are "
              "refused. They are validated with http-01 or tls-alpn-01 only." },
    { "acme_profile", FW_TYPE_STRING,
      .desc = "Certificate profile every order of this role asks the CA for (the directory's "
              "meta.profiles, e.g. Let's Encrypt's classic, tlsserver, shortlived). Checked "
              "against the account's CA when written. Empty (the default): the CA's default." },
    { "reuse_pending_orders", FW_TYPE_BOOL, .def = "false",
      .desc = "When true, new-order for the same identifiers (any order, any case, Unicode or "
              "A-labels) while an order of this role for them is not yet completed, failed or "
              "revoked returns that order's order_id with a warning instead of placing a "
              "second order, also for many callers at once (load-balanced clients). A CSR "
              "order is reused only for the same CSR." },
    /* ---- end of issue 14 §2, §4, §7 ---- */
    { "force", FW_TYPE_BOOL, .def = "false", .query = true,
      .desc = "On delete: delete the role even while it has active orders." },
    /* -- renewal (issue 14 §1) -- */
    { "auto_renew", FW_TYPE_BOOL, .def = "false",
      .desc = "When true, Vault places the replacement order of each completed order itself "
              "once it is due (see renew_before), with the ARI replaces field; the CSR "
              "workflow renews with the stored CSR. With Vault-managed dns-01 or reused "
              "authorizations it completes alone, otherwise it waits in active-orders." },
    { "renew_before", FW_TYPE_STRING,
      .desc = "When a certificate is due for renewal: a duration before not_after (\"720h\") "
              "or the share of the lifetime left (\"30%\"). Empty (default): the CA's ARI "
              "window (RFC 9773), else the last third of the lifetime." },
    { 0 }
};

static const struct fw_field role_list_fields[] = { { 0 } };

static const char role_help[] =
    "A role is the policy for certificate orders: which ACME account they use, which\n"
    "domains may be requested (allowed_domains, interpreted through allowed_domain_options),\n"
    "which ACME challenge types clients may fulfil, and how the identifier workflow builds\n"
    "its key and CSR. How allowed_domain_options read allowed_domains:\n"
    "  (none)        an entry allows exactly its own name (foo.example.com allows\n"
    "                foo.example.com, not example.com); '*' is then a plain character\n"
    "  bare_domains  the same exact match, kept when other options are set: with\n"
    "                subdomains, example.com allows example.com and foo.example.com\n"
    "  subdomains    names below an entry at any depth, not the entry itself\n"
    "  wildcards     wildcard identifiers: *.example.com for the entry *.example.com (or\n"
    "                for the entry example.com with subdomains), and www.example.com; every\n"
    "                *. identifier needs this option\n"
    "  globs         '*' in an entry matches any run of characters, dots included\n"
    "                (*.example.com allows foo.example.com and baz.foo.example.com)\n"
    "Unicode and punycode spellings of a name are the same name; matching ignores case\n"
    "and a trailing dot.\n"
    "IP addresses (RFC 8738) are ordered only inside allowed_ip_ranges, and validated with\n"
    "http-01 or tls-alpn-01 (never dns-01). acme_profile picks a CA profile (checked\n"
    "against the CA's directory); reuse_pending_orders lets load-balanced clients share\n"
    "one pending order per identifier set.\n"
    "Writing an existing role updates the fields sent; acme_account_name cannot change.\n"
    "Deleting a role with active orders needs force=true (body or query parameter).\n"
    "Renewal: every completed order shows its renewal window (the CA's ARI window, else the\n"
    "last third of the lifetime). With auto_renew=true the replacement order is placed\n"
    "when due (renew_before), once per certificate, and linked both ways in lookup/order.";

static const char role_list_help[] = "Lists the names of the configured roles.";

/* No existence check: the handler tells create from update by reading storage. Hosts turn
 * an existence-check failure (a malformed field) into a bare "invalid request", while the
 * handler's 400 names the field; writes therefore need the "update" capability. */
const struct fw_path path_role = {
    .pattern = "role/(?<name>[^/]+)",
    .fields = role_fields,
    .ops = {
        [FW_READ] = { role_read, "Read a role." },
        [FW_CREATE] = { role_write, "Create a role." },
        [FW_UPDATE] = { role_write, "Create or update a role." },
        [FW_DELETE] = { role_delete, "Delete a role (force=true while it has active orders)." },
    },
    .synopsis = "Manage roles: the domain and challenge policy of certificate orders.",
    .description = role_help,
};

const struct fw_path path_role_list = {
    .pattern = "role/?",
    .fields = role_list_fields,
    /* A write to "role/" is a role with an empty name: answer 400 saying so, not 405. */
    .ops = {
        [FW_LIST] = { role_list, "List roles." },
        [FW_UPDATE] = { role_write, "Refused: a role needs a name." },
    },
    .synopsis = "List roles.",
    .description = role_list_help,
};

const struct fw_path *const role_paths[] = { &path_role_list, &path_role, NULL };
