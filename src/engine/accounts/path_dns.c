/* path_dns.c: config/dns/<type>/:name (create, update, read, delete), LIST of each type,
 * LIST config/dns, and dns/test/workflow. One handler set serves every type: the type is
 * the path's second segment, its own and secret fields come from dns_kind (dns_config.c),
 * its checks from the src/dns implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "crypto.h"
#include "dns.h"
#include "../internal.h"
#include "log.h"
#include "../orders/order.h"

enum { DNS_MAX_IDENTIFIERS = 200, DNS_MAX_FIELD = 2048, DNS_MAX_SECRET = 8192 };
static const int64_t DNS_MAX_TTL = 86400, DNS_MAX_TIMEOUT = 86400;
/* dns/test/workflow is a request: it polls for at most this long, even when the provider's
 * propagation_timeout is longer (Vault's default request timeout is 90 s). */
static const int64_t WORKFLOW_MAX_WAIT_S = 60;

/* "config/dns/<type>/..." -> type into buf. */
static const char *path_type(const struct fw_req *req, char *buf, size_t cap)
{
    const char *p = req->path + strlen("config/dns/");
    size_t n = strcspn(p, "/");
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return buf;
}

static void go_duration(int64_t secs, char *buf, size_t cap)
{
    int64_t h = secs / 3600, m = secs % 3600 / 60, s = secs % 60;
    if (h)
        snprintf(buf, cap, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)s);
    else if (m)
        snprintf(buf, cap, "%lldm%llds", (long long)m, (long long)s);
    else
        snprintf(buf, cap, "%llds", (long long)s);
}

/* The API view: everything but the secrets, dates as RFC 3339, ttl as a Go duration. */
static int config_reply(const struct dns_kind *k, const cJSON *cfg, cJSON **out, struct err *e)
{
    cJSON *r = cJSON_Duplicate(cfg, true);
    if (!r)
        return err_set(e, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; k->secrets[i]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(r, k->secrets[i]);
    char buf[40];
    static const char *const dates[] = { "creation_date", "last_updated_date" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, dates[i]);
        engine_time_format(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0, buf, sizeof buf);
        cJSON_DeleteItemFromObjectCaseSensitive(r, dates[i]);
        cJSON_AddStringToObject(r, dates[i], buf);
    }
    static const char *const durs[] = { "ttl", "propagation_timeout" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, durs[i]);
        go_duration(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0, buf, sizeof buf);
        cJSON_DeleteItemFromObjectCaseSensitive(r, durs[i]);
        cJSON_AddStringToObject(r, durs[i], buf);
    }
    *out = r;
    return 0;
}

static int set_str(cJSON *cfg, const char *field, const char *v, size_t max, struct err *e)
{
    /* credentials is a key file's JSON text, whose line breaks and indents are whitespace. */
    bool json = strcmp(field, "credentials") == 0;
    if (strlen(v) > max)
        return err_set(e, ERR_INVALID, "%s: longer than %zu characters", field, max);
    for (const char *p = v; *p; p++)
        if (((unsigned char)*p < 0x20 && !(json && strchr("\t\r\n", *p))) || *p == 0x7f)
            return err_set(e, ERR_INVALID, "%s: control characters are not allowed", field);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, field);
    if (!cJSON_AddStringToObject(cfg, field, v))
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

static int set_duration(cJSON *cfg, const struct fw_data *d, const char *field, bool is_new,
                        int64_t max, struct err *e)
{
    if (!is_new && !fw_data_present(d, field))
        return 0;
    int64_t v = fw_data_duration(d, field);
    if (v < 1 || v > max)
        return err_set(e, ERR_INVALID, "%s: must be between 1s and %llds", field,
                       (long long)max);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, field);
    if (!cJSON_AddNumberToObject(cfg, field, (double)v))
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

static int set_identifiers(cJSON *cfg, const struct fw_data *d, bool is_new, struct err *e)
{
    if (!is_new && !fw_data_present(d, "identifiers"))
        return 0;
    const cJSON *list = fw_data_list(d, "identifiers"), *it;
    int n = cJSON_GetArraySize(list);
    if (n == 0)
        return err_set(e, ERR_INVALID, "identifiers: required (names this provider may manage, "
                       "e.g. example.com,*.example.com)");
    if (n > DNS_MAX_IDENTIFIERS)
        return err_set(e, ERR_INVALID, "identifiers: more than %d entries", DNS_MAX_IDENTIFIERS);
    cJSON *out = cJSON_CreateArray();
    if (!out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_ArrayForEach(it, list) {
        char *canon = NULL;
        if (!cJSON_IsString(it) ||
            dns_pattern_check("identifiers", it->valuestring, &canon, e) < 0) {
            cJSON_Delete(out);
            return cJSON_IsString(it) ? -1
                                      : err_set(e, ERR_INVALID, "identifiers: entries must be "
                                                "strings");
        }
        cJSON_AddItemToArray(out, cJSON_CreateString(canon));
        free(canon);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "identifiers");
    cJSON_AddItemToObject(cfg, "identifiers", out);
    return 0;
}

static int config_key(const struct fw_req *req, const struct fw_data *d, const struct dns_kind **k,
                      char *key, size_t cap, struct err *e)
{
    char type[64];
    path_type(req, type, sizeof type);
    if (dns_kind_check("type", type, e) < 0)
        return -1;
    *k = dns_kind_find(type);
    const char *name = fw_data_str(d, "name");
    if (engine_name_check("name", name, e) < 0)
        return -1;
    snprintf(key, cap, DNS_CONFIG_PREFIX "%s/%s", type, name);
    return 0;
}

static int config_write(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                        struct err *e)
{
    const struct dns_kind *k = NULL;
    char key[300];
    cJSON *cfg = NULL;
    int rc = -1;
    if (config_key(req, d, &k, key, sizeof key, e) < 0)
        return -1;
    if (fw_storage_get_json(req->storage, key, &cfg, e) < 0)
        return -1;
    bool is_new = cfg == NULL;
    int64_t now = (int64_t)time(NULL);
    if (is_new) {
        cfg = cJSON_CreateObject();
        if (!cfg || !cJSON_AddStringToObject(cfg, "name", fw_data_str(d, "name")) ||
            !cJSON_AddStringToObject(cfg, "type", k->impl->type) ||
            !cJSON_AddNumberToObject(cfg, "creation_date", (double)now)) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    if (set_identifiers(cfg, d, is_new, e) < 0 ||
        set_duration(cfg, d, "ttl", is_new, DNS_MAX_TTL, e) < 0 ||
        set_duration(cfg, d, "propagation_timeout", is_new, DNS_MAX_TIMEOUT, e) < 0)
        goto out;
    if (is_new || fw_data_present(d, "nameserver")) {
        const char *ns = fw_data_str(d, "nameserver");
        struct dns_server srv;
        if (ns[0] && dns_server_parse("nameserver", ns, true, &srv, e) < 0)
            goto out;
        if (set_str(cfg, "nameserver", ns, 300, e) < 0)
            goto out;
    }
    for (size_t i = 0; k->fields[i]; i++)
        if ((is_new || fw_data_present(d, k->fields[i])) &&
            set_str(cfg, k->fields[i], fw_data_str(d, k->fields[i]), DNS_MAX_FIELD, e) < 0)
            goto out;
    for (size_t i = 0; k->secrets[i]; i++)
        if ((is_new || fw_data_present(d, k->secrets[i])) &&
            set_str(cfg, k->secrets[i], fw_data_str(d, k->secrets[i]), DNS_MAX_SECRET, e) < 0)
            goto out;
    if (k->impl->validate(cfg, e) < 0)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "last_updated_date");
    if (!cJSON_AddNumberToObject(cfg, "last_updated_date", (double)now)) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* One put, seal-wrapped: a refused write leaves the old configuration or none. */
    if (fw_storage_put_json(req->storage, key, cfg, true, e) < 0)
        goto out;
    dns_config_forget(req->backend, k->impl->type, fw_data_str(d, "name"));
    log_info("engine", is_new ? "dns provider created" : "dns provider updated", "type",
             k->impl->type, "name", fw_data_str(d, "name"), NULL);
    rc = config_reply(k, cfg, &resp->data, e);
out:
    cJSON_Delete(cfg);
    return rc;
}

static int config_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                       struct err *e)
{
    const struct dns_kind *k = NULL;
    char key[300];
    cJSON *cfg = NULL;
    if (config_key(req, d, &k, key, sizeof key, e) < 0)
        return -1;
    if (fw_storage_get_json(req->storage, key, &cfg, e) < 0)
        return -1;
    if (!cfg)
        return 0;
    int rc = config_reply(k, cfg, &resp->data, e);
    cJSON_Delete(cfg);
    return rc;
}

static int config_delete(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                         struct err *e)
{
    const struct dns_kind *k = NULL;
    char key[300], **roles = NULL;
    if (config_key(req, d, &k, key, sizeof key, e) < 0)
        return -1;
    if (roles_using_dns(req->storage, k->impl->type, fw_data_str(d, "name"), &roles, e) < 0)
        return -1;
    if (roles && roles[0]) {
        char names[300] = "";
        size_t used = 0;
        for (size_t i = 0; roles[i] && used + 2 < sizeof names; i++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", roles[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        fw_strv_free(roles);
        return err_set(e, ERR_INVALID, "DNS provider %s/%.128s is used by roles: %s; change "
                       "their dns_provider_name first", k->impl->type, fw_data_str(d, "name"),
                       names);
    }
    fw_strv_free(roles);
    if (req->storage->del(req->storage->ctx, key, e) < 0)
        return -1;
    dns_config_forget(req->backend, k->impl->type, fw_data_str(d, "name"));
    return 0;
}

static int config_list_type(const struct fw_req *req, const struct fw_data *d,
                            struct fw_resp *resp, struct err *e)
{
    char type[64], prefix[100];
    path_type(req, type, sizeof type);
    if (dns_kind_check("type", type, e) < 0)
        return -1;
    snprintf(prefix, sizeof prefix, DNS_CONFIG_PREFIX "%s/", type);
    return engine_list_names(req, prefix, resp, e);
}

static int config_list_all(const struct fw_req *req, const struct fw_data *d,
                           struct fw_resp *resp, struct err *e)
{
    cJSON *keys = cJSON_CreateArray(), *info = cJSON_CreateObject();
    int rc = -1;
    if (!keys || !info) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t t = 0; dns_provider_types[t]; t++) {
        char prefix[100], **names = NULL;
        const char *type = dns_provider_types[t]->type;
        snprintf(prefix, sizeof prefix, DNS_CONFIG_PREFIX "%s/", type);
        if (req->storage->list(req->storage->ctx, prefix, &names, e) < 0)
            goto out;
        for (size_t i = 0; names && names[i]; i++) {
            char k[300];
            size_t len = strlen(names[i]);
            if (len == 0 || names[i][len - 1] == '/')
                continue;
            snprintf(k, sizeof k, "%s/%s", type, names[i]);
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "name", names[i]);
            cJSON_AddStringToObject(one, "type", type);
            cJSON_AddItemToArray(keys, cJSON_CreateString(k));
            cJSON_AddItemToObject(info, k, one);
        }
        fw_strv_free(names);
    }
    rc = 0;
    if (cJSON_GetArraySize(keys) == 0)
        goto out;   /* no data: 404, as Vault's LIST of nothing */
    resp->data = cJSON_CreateObject();
    if (!resp->data)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_AddItemToObject(resp->data, "keys", keys);
    cJSON_AddItemToObject(resp->data, "key_info", info);
    return 0;
out:
    cJSON_Delete(keys);
    cJSON_Delete(info);
    return rc;
}

static int config_unknown(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e)
{
    char type[64];
    path_type(req, type, sizeof type);
    if (dns_kind_check("type", type, e) < 0)
        return -1;
    return err_set(e, ERR_INVALID, "name: required");
}

/* ---- dns/test/workflow ----------------------------------------------------------------- */

static int workflow_reply(const struct fw_data *d, const char *record, bool ok, const char *msg,
                          struct fw_resp *resp, struct err *e)
{
    cJSON *data = cJSON_CreateObject();
    if (!data)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_AddBoolToObject(data, "success", ok);
    cJSON_AddStringToObject(data, "message", msg);
    cJSON_AddStringToObject(data, "identifier", fw_data_str(d, "identifier"));
    cJSON_AddStringToObject(data, "provider_type", fw_data_str(d, "provider_type"));
    cJSON_AddStringToObject(data, "provider_name", fw_data_str(d, "provider_name"));
    cJSON_AddStringToObject(data, "record_name", record);
    if (ok) {
        resp->data = data;
        return 0;
    }
    /* Vault's RespondErrorAndData: {"errors": [msg], "data": {...}} with a 400. */
    resp->data = cJSON_CreateObject();
    if (!resp->data) {
        cJSON_Delete(data);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    cJSON_AddStringToObject(resp->data, "error", msg);
    cJSON_AddItemToObject(resp->data, "data", data);
    return 0;
}

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static int workflow(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                    struct err *e)
{
    const char *ident = fw_data_str(d, "identifier"), *type = fw_data_str(d, "provider_type");
    const char *pname = fw_data_str(d, "provider_name");
    char msg[900], fqdn[300], canon_base[300];
    cJSON *cfg = NULL;
    int rc = -1;
    if (!ident[0])
        return err_set(e, ERR_INVALID, "identifier: required");
    if (!type[0])
        return err_set(e, ERR_INVALID, "provider_type: required");
    if (dns_kind_check("provider_type", type, e) < 0)
        return -1;
    if (!pname[0])
        return err_set(e, ERR_INVALID, "provider_name: required");
    if (engine_name_check("provider_name", pname, e) < 0)
        return -1;
    char *canon = NULL;
    if (dns_pattern_check("identifier", ident, &canon, e) < 0)
        return -1;
    snprintf(canon_base, sizeof canon_base, "%s", strncmp(canon, "*.", 2) ? canon : canon + 2);
    free(canon);
    if (dns_challenge_name(canon_base, fqdn, sizeof fqdn, e) < 0)
        return -1;
    struct err le;
    if (dns_config_load(req->storage, type, pname, &cfg, &le) < 0) {
        if (le.kind != ERR_NOT_FOUND) {
            *e = le;
            return -1;
        }
        return err_set(e, ERR_INVALID, "provider_name: no DNS provider %s/%.128s (create "
                       "config/dns/%s/%.128s first)", type, pname, type, pname);
    }
    const cJSON *it;
    bool covered = false;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, "identifiers"))
        covered = covered || (cJSON_IsString(it) && dns_pattern_match(it->valuestring, canon_base));
    if (!covered) {
        cJSON_Delete(cfg);
        return err_set(e, ERR_INVALID, "identifier: %.200s is not covered by the identifiers of "
                       "DNS provider %s/%.128s", ident, type, pname);
    }

    struct dns_record rec;
    memset(&rec, 0, sizeof rec);
    char uuid[37];
    if (uuid7_new(uuid, e) < 0)
        goto out;
    snprintf(rec.owner, sizeof rec.owner, "test-%s", uuid);
    snprintf(rec.slot, sizeof rec.slot, "0");
    snprintf(rec.type, sizeof rec.type, "%s", type);
    snprintf(rec.name, sizeof rec.name, "%s", pname);
    snprintf(rec.fqdn, sizeof rec.fqdn, "%s", fqdn);
    snprintf(rec.value, sizeof rec.value, "vault-dns-test-%s", uuid);
    bool omit = fw_data_bool(d, "omit_cleanup");

    if (dns_record_publish(req->backend, req->storage, &rec, &le) < 0) {
        snprintf(msg, sizeof msg, "creating the test record failed: %s", le.msg);
        (void)dns_record_remove(req->backend, req->storage, &rec, &le);
        rc = workflow_reply(d, fqdn, false, msg, resp, e);
        goto out;
    }
    /* Poll: the provider's sync state first, then the servers (short steps, bounded). */
    int64_t limit = dns_config_timeout(cfg);
    if (limit > WORKFLOW_MAX_WAIT_S)
        limit = WORKFLOW_MAX_WAIT_S;
    int64_t start = mono_s();
    struct dns_server servers[9];
    size_t ns = 0;
    char asked[600] = "", missing[600] = "";
    bool visible = false, synced = false;
    useconds_t pause = 200 * 1000;
    for (;;) {
        if (!synced && dns_record_synced(req->backend, req->storage, &rec, &synced, &le) < 0) {
            snprintf(missing, sizeof missing, "%.500s", le.msg);
            synced = false;
        }
        if (synced) {
            if (ns == 0 && dns_check_servers(req->storage, cfg, NULL, fqdn, servers, 9, &ns,
                                             asked, sizeof asked, &le) < 0)
                snprintf(missing, sizeof missing, "%.500s", le.msg);
            if (ns && dns_txt_visible(servers, ns, fqdn, rec.value, &visible, missing,
                                      sizeof missing, &le) < 0)
                snprintf(missing, sizeof missing, "%.500s", le.msg);
        }
        if (visible || mono_s() - start >= limit)
            break;
        usleep(pause);
        if (pause < 2000 * 1000)
            pause *= 2;
    }
    if (!visible) {
        snprintf(msg, sizeof msg, "propagation check timed out after %llds: %s TXT was not "
                 "visible on %s (%s)", (long long)limit, fqdn, asked[0] ? asked : "any server",
                 missing[0] ? missing : synced ? "not seen" : "the provider's change is not in sync");
    }
    if (!omit && dns_record_remove(req->backend, req->storage, &rec, &le) < 0 && visible) {
        snprintf(msg, sizeof msg, "the record was created and visible on %s, but deleting it "
                 "failed: %s", asked, le.msg);
        visible = false;
    } else if (omit) {
        /* Left in place as asked: no longer ours to clean up. */
        char key[200];
        snprintf(key, sizeof key, "dns-record/%s/%s", rec.owner, rec.slot);
        (void)req->storage->del(req->storage->ctx, key, &le);
    }
    if (visible)
        snprintf(msg, sizeof msg, "created %s TXT, saw it on %s%s", fqdn, asked,
                 omit ? "; left in place (omit_cleanup)" : ", and deleted it");
    log_info("engine", "dns test workflow", "type", type, "name", pname, "record", fqdn,
             "success", visible ? "true" : "false", NULL);
    rc = workflow_reply(d, fqdn, visible, msg, resp, e);
out:
    cJSON_Delete(cfg);
    return rc;
}

/* ---- fields and paths ---------------------------------------------------------------------- */

static const char dns_identifiers_desc[] =
    "Names this provider may manage (required): DNS names, or '*.' + a name for every name "
    "below it. dns-01 challenges of matching order identifiers are fulfilled by Vault.";
static const char dns_nameserver_desc[] =
    "DNS server (host or IP, optionally :port) the propagation check asks directly. When "
    "empty, the zone's authoritative servers (found from the system resolvers) are asked, "
    "with the ACME account's default_nameserver appended.";
static const char dns_timeout_desc[] =
    "How long Vault waits for a published record to become visible before the order ends "
    "in error (first check at once, then backing off to every 15 s).";

static const char *const tsig_algorithms[] = { "hmac-sha1", "hmac-sha224", "hmac-sha256",
                                               "hmac-sha384", "hmac-sha512", NULL };

static const struct fw_field rfc2136_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { "identifiers", FW_TYPE_COMMA_STRING_SLICE, .required = true, .desc = dns_identifiers_desc },
    { "ttl", FW_TYPE_DURATION, .def = "60s", .desc = "TTL of the TXT records Vault creates." },
    { "propagation_timeout", FW_TYPE_DURATION, .def = "5m", .desc = dns_timeout_desc },
    { "nameserver", FW_TYPE_STRING, .required = true,
      .desc = "IP:port of the server that accepts the dynamic updates (port 53 when omitted); "
              "the propagation check asks it too." },
    { "tsig_key_name", FW_TYPE_STRING, .required = true, .desc = "Name of the TSIG key." },
    { "tsig_secret", FW_TYPE_STRING, .required = true,
      .desc = "The TSIG key's secret, base64. Write-only: never returned." },
    { "tsig_algorithm", FW_TYPE_STRING, .def = "hmac-sha256", .allowed = tsig_algorithms,
      .desc = "hmac-sha1, hmac-sha224, hmac-sha256 (default: the algorithm RFC 8945 requires "
              "and BIND/Knot generate by default), hmac-sha384 or hmac-sha512." },
    { 0 }
};

static const struct fw_field route53_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { "identifiers", FW_TYPE_COMMA_STRING_SLICE, .required = true, .desc = dns_identifiers_desc },
    { "ttl", FW_TYPE_DURATION, .def = "60s", .desc = "TTL of the TXT records Vault creates." },
    { "propagation_timeout", FW_TYPE_DURATION, .def = "5m", .desc = dns_timeout_desc },
    { "nameserver", FW_TYPE_STRING, .desc = dns_nameserver_desc },
    { "access_key_id", FW_TYPE_STRING,
      .desc = "AWS access key id. With secret_access_key empty too, the standard credential "
              "chain is used: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the "
              "shared credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE), then the "
              "instance profile through IMDSv2." },
    { "secret_access_key", FW_TYPE_STRING,
      .desc = "AWS secret access key. Write-only: never returned." },
    { "region", FW_TYPE_STRING, .def = "us-east-1", .desc = "AWS region for signing and STS." },
    { "hosted_zone_id", FW_TYPE_STRING,
      .desc = "Hosted zone id; when empty, the zone is found by name (the longest zone "
              "suffix of the record name)." },
    { "assume_role_arn", FW_TYPE_STRING,
      .desc = "Role to assume through STS AssumeRole before calling Route 53." },
    { "external_id", FW_TYPE_STRING, .desc = "ExternalId sent with AssumeRole." },
    { 0 }
};

static const char *const azure_environments[] = { "AzurePublic", "AzureChina",
                                                  "AzureGovernment", NULL };

static const struct fw_field azure_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { "identifiers", FW_TYPE_COMMA_STRING_SLICE, .required = true, .desc = dns_identifiers_desc },
    { "ttl", FW_TYPE_DURATION, .def = "60s", .desc = "TTL of the TXT records Vault creates." },
    { "propagation_timeout", FW_TYPE_DURATION, .def = "5m", .desc = dns_timeout_desc },
    { "nameserver", FW_TYPE_STRING, .desc = dns_nameserver_desc },
    { "zone_name", FW_TYPE_STRING, .required = true,
      .desc = "The Azure DNS zone holding the records (e.g. example.com)." },
    { "resource_group_name", FW_TYPE_STRING, .required = true,
      .desc = "The resource group of the zone." },
    { "subscription_id", FW_TYPE_STRING,
      .desc = "The subscription of the resource group (a GUID). With a managed identity it "
              "may be empty: the machine's subscription is asked of the instance metadata "
              "service." },
    { "tenant_id", FW_TYPE_STRING,
      .desc = "The Entra ID (Azure AD) tenant of the app registration: a GUID or the "
              "directory's domain. Required with client_secret." },
    { "client_id", FW_TYPE_STRING,
      .desc = "The application (client) ID. With client_secret: the app registration that "
              "logs in (client credentials). Without: a user-assigned managed identity; "
              "empty: the machine's system-assigned identity." },
    { "client_secret", FW_TYPE_STRING,
      .desc = "The app registration's client secret (its value). Write-only: never returned. "
              "Empty: the managed identity of the machine Vault runs on, through the "
              "instance metadata service." },
    { "environment", FW_TYPE_STRING, .def = "AzurePublic", .allowed = azure_environments,
      .desc = "The Azure cloud: AzurePublic (login.microsoftonline.com, "
              "management.azure.com), AzureChina (login.chinacloudapi.cn, "
              "management.chinacloudapi.cn) or AzureGovernment (login.microsoftonline.us, "
              "management.usgovcloudapi.net)." },
    { 0 }
};

static const struct fw_field google_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { "identifiers", FW_TYPE_COMMA_STRING_SLICE, .required = true, .desc = dns_identifiers_desc },
    { "ttl", FW_TYPE_DURATION, .def = "10s", .desc = "TTL of the TXT records Vault creates." },
    { "propagation_timeout", FW_TYPE_DURATION, .def = "5m", .desc = dns_timeout_desc },
    { "nameserver", FW_TYPE_STRING, .desc = dns_nameserver_desc },
    { "credentials", FW_TYPE_STRING, .multiline = true,
      .desc = "A service account's key file (JSON). Write-only: never returned. Empty: "
              "Application Default Credentials: the key file GOOGLE_APPLICATION_CREDENTIALS "
              "names, else the metadata server of the machine Vault runs on." },
    { "project", FW_TYPE_STRING,
      .desc = "The project of the managed zone; empty: the credentials' project_id (or the "
              "metadata server's project)." },
    { "zone_name", FW_TYPE_STRING,
      .desc = "The managed zone's name (e.g. example-com); empty: the public zone whose DNS "
              "name is the longest suffix of the record name." },
    { "impersonate_service_account", FW_TYPE_STRING,
      .desc = "A service account email to act as, through IAM Credentials "
              "generateAccessToken (the credentials need "
              "roles/iam.serviceAccountTokenCreator on it)." },
    { 0 }
};

static const struct fw_field cloudflare_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { "identifiers", FW_TYPE_COMMA_STRING_SLICE, .required = true, .desc = dns_identifiers_desc },
    { "ttl", FW_TYPE_DURATION, .def = "120s",
      .desc = "TTL of the TXT records Vault creates (Cloudflare: 60s to 86400s)." },
    { "propagation_timeout", FW_TYPE_DURATION, .def = "5m", .desc = dns_timeout_desc },
    { "nameserver", FW_TYPE_STRING, .desc = dns_nameserver_desc },
    { "api_token", FW_TYPE_STRING, .required = true,
      .desc = "A Cloudflare API token with Zone:Read and DNS:Edit on the zone. Write-only: "
              "never returned." },
    { "zone_id", FW_TYPE_STRING,
      .desc = "The zone's id (32 hex digits); empty: the zone whose name is the longest "
              "suffix of the record name, found through the API." },
    { 0 }
};

static const struct fw_field name_only_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = "Name of the provider configuration." },
    { 0 }
};
static const struct fw_field no_fields[] = { { 0 } };

static const char *const provider_types_enum[] = { "aws-route53", "azure-dns",
                                                   "google-cloud-dns", "rfc2136",
                                                   "cloudflare", NULL };
static const struct fw_field workflow_fields[] = {
    { "identifier", FW_TYPE_STRING, .required = true,
      .desc = "A name the provider may manage; the record is _acme-challenge.<identifier>." },
    { "provider_type", FW_TYPE_STRING, .required = true, .allowed = provider_types_enum,
      .desc = "aws-route53, azure-dns, google-cloud-dns, rfc2136 or cloudflare." },
    { "provider_name", FW_TYPE_STRING, .required = true, .desc = "Name of the configuration." },
    { "omit_cleanup", FW_TYPE_BOOL, .def = "false",
      .desc = "Leave the test TXT record in place." },
    { 0 }
};

static const char dns_help[] =
    "DNS provider configurations let Vault fulfil dns-01 challenges itself. For each\n"
    "dns-01 challenge of an order, Vault picks a provider: the role's dns_provider_name\n"
    "(with dns_provider_type) when the role sets one, otherwise every configuration whose\n"
    "identifiers match the identifier (the most specific pattern wins; ties go to the first\n"
    "in <type>/<name> order). The chosen provider's identifiers must cover the name either\n"
    "way, and the role must allow dns-01. Matched identifiers are published, checked for\n"
    "propagation and removed after validation by Vault (status vault-challenge-fulfillment,\n"
    "then vault-challenge-propagating); the others wait for fulfilled-challenge as before.\n"
    "Secrets (tsig_secret, secret_access_key, client_secret, credentials, api_token) are stored seal-wrapped and\n"
    "never returned.\n"
    "Deleting a configuration a role links is refused.";

static const char workflow_help[] =
    "Creates the TXT record _acme-challenge.<identifier>. through the provider, waits until\n"
    "it is visible (at most the provider's propagation_timeout, capped at 60 s for this\n"
    "request), then deletes it unless omit_cleanup is set. The reply says success, or the\n"
    "error says what failed (authentication, zone not found, update refused, propagation\n"
    "timeout) with success=false in data.";

static const struct fw_path path_rfc2136 = {
    .pattern = "config/dns/rfc2136/(?<name>[^/]+)",
    .fields = rfc2136_fields,
    .ops = {
        [FW_READ] = { config_read, "Read an RFC 2136 DNS provider (secrets omitted)." },
        [FW_CREATE] = { config_write, "Create an RFC 2136 DNS provider." },
        [FW_UPDATE] = { config_write, "Create or update an RFC 2136 DNS provider." },
        [FW_DELETE] = { config_delete, "Delete an RFC 2136 DNS provider (refused while a role "
                                       "links it)." },
    },
    .synopsis = "RFC 2136 (DNS UPDATE with TSIG) provider for Vault-managed dns-01.",
    .description = dns_help,
};

static const struct fw_path path_route53 = {
    .pattern = "config/dns/aws-route53/(?<name>[^/]+)",
    .fields = route53_fields,
    .ops = {
        [FW_READ] = { config_read, "Read an AWS Route 53 DNS provider (secrets omitted)." },
        [FW_CREATE] = { config_write, "Create an AWS Route 53 DNS provider." },
        [FW_UPDATE] = { config_write, "Create or update an AWS Route 53 DNS provider." },
        [FW_DELETE] = { config_delete, "Delete an AWS Route 53 DNS provider (refused while a "
                                       "role links it)." },
    },
    .synopsis = "AWS Route 53 provider for Vault-managed dns-01.",
    .description = dns_help,
};

static const struct fw_path path_azure = {
    .pattern = "config/dns/azure-dns/(?<name>[^/]+)",
    .fields = azure_fields,
    .ops = {
        [FW_READ] = { config_read, "Read an Azure DNS provider (secrets omitted)." },
        [FW_CREATE] = { config_write, "Create an Azure DNS provider." },
        [FW_UPDATE] = { config_write, "Create or update an Azure DNS provider." },
        [FW_DELETE] = { config_delete, "Delete an Azure DNS provider (refused while a role "
                                       "links it)." },
    },
    .synopsis = "Azure DNS provider for Vault-managed dns-01.",
    .description = dns_help,
};

static const struct fw_path path_azure_list = {
    .pattern = "config/dns/azure-dns/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_type, "List Azure DNS providers." } },
    .synopsis = "List Azure DNS providers.",
    .description = dns_help,
};

static const struct fw_path path_google = {
    .pattern = "config/dns/google-cloud-dns/(?<name>[^/]+)",
    .fields = google_fields,
    .ops = {
        [FW_READ] = { config_read, "Read a Google Cloud DNS provider (credentials omitted)." },
        [FW_CREATE] = { config_write, "Create a Google Cloud DNS provider." },
        [FW_UPDATE] = { config_write, "Create or update a Google Cloud DNS provider." },
        [FW_DELETE] = { config_delete, "Delete a Google Cloud DNS provider (refused while a "
                                       "role links it)." },
    },
    .synopsis = "Google Cloud DNS provider for Vault-managed dns-01.",
    .description = dns_help,
};

static const struct fw_path path_google_list = {
    .pattern = "config/dns/google-cloud-dns/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_type, "List Google Cloud DNS providers." } },
    .synopsis = "List Google Cloud DNS providers.",
    .description = dns_help,
};

static const struct fw_path path_cloudflare = {
    .pattern = "config/dns/cloudflare/(?<name>[^/]+)",
    .fields = cloudflare_fields,
    .ops = {
        [FW_READ] = { config_read, "Read a Cloudflare DNS provider (api_token omitted)." },
        [FW_CREATE] = { config_write, "Create a Cloudflare DNS provider." },
        [FW_UPDATE] = { config_write, "Create or update a Cloudflare DNS provider." },
        [FW_DELETE] = { config_delete, "Delete a Cloudflare DNS provider (refused while a "
                                       "role links it)." },
    },
    .synopsis = "Cloudflare DNS provider for Vault-managed dns-01 (beyond Vault's four).",
    .description = dns_help,
};

static const struct fw_path path_cloudflare_list = {
    .pattern = "config/dns/cloudflare/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_type, "List Cloudflare DNS providers." } },
    .synopsis = "List Cloudflare DNS providers.",
    .description = dns_help,
};

static const struct fw_path path_rfc2136_list = {
    .pattern = "config/dns/rfc2136/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_type, "List RFC 2136 DNS providers." } },
    .synopsis = "List RFC 2136 DNS providers.",
    .description = dns_help,
};

static const struct fw_path path_route53_list = {
    .pattern = "config/dns/aws-route53/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_type, "List AWS Route 53 DNS providers." } },
    .synopsis = "List AWS Route 53 DNS providers.",
    .description = dns_help,
};

/* Any other type: a 400 naming the type, not a bare 404. */
static const struct fw_path path_unknown_type = {
    .pattern = "config/dns/(?<type>[^/]+)(/(?<name>[^/]*))?",
    .fields = name_only_fields,
    .ops = {
        [FW_READ] = { config_unknown, "Refused: unsupported provider type." },
        [FW_CREATE] = { config_unknown, "Refused: unsupported provider type." },
        [FW_UPDATE] = { config_unknown, "Refused: unsupported provider type." },
        [FW_DELETE] = { config_unknown, "Refused: unsupported provider type." },
        [FW_LIST] = { config_unknown, "Refused: unsupported provider type." },
    },
    .synopsis = "Unsupported DNS provider types.",
    .description = dns_help,
    .take_arbitrary_input = true,
};

static const struct fw_path path_list_all = {
    .pattern = "config/dns/?",
    .fields = no_fields,
    .ops = { [FW_LIST] = { config_list_all, "List every DNS provider as <type>/<name>." } },
    .synopsis = "List DNS providers of every type (keys <type>/<name>, key_info name, type).",
    .description = dns_help,
};

static const struct fw_path path_workflow = {
    .pattern = "dns/test/workflow",
    .fields = workflow_fields,
    .ops = {
        [FW_CREATE] = { workflow, "Test a DNS provider with a real TXT record." },
        [FW_UPDATE] = { workflow, "Test a DNS provider with a real TXT record." },
    },
    .synopsis = "Test a DNS provider: create, check and delete a TXT record.",
    .description = workflow_help,
};

const struct fw_path *const dns_paths[] = {
    &path_list_all, &path_rfc2136_list, &path_route53_list, &path_azure_list,
    &path_google_list, &path_cloudflare_list, &path_rfc2136, &path_route53, &path_azure,
    &path_google, &path_cloudflare, &path_unknown_type, &path_workflow, NULL
};
