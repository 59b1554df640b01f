/* azure.c: Azure DNS (Azure Resource Manager, Microsoft.Network api-version 2018-05-01).
 *
 * Token: with client_secret, the OAuth 2.0 client-credentials grant at the environment's
 * login endpoint (v2.0, scope "<management resource>/.default"); without, the managed
 * identity of the machine through the instance metadata service (IMDS, "Metadata: true";
 * client_id then picks a user-assigned identity). Tokens come from the mount's cache
 * (token.c) under purpose "arm"; one refused as expired or invalid is forgotten and fetched
 * again once.
 *
 * Records: the TXT record set _acme-challenge.<name> relative to zone_name, read (GET),
 * then written back whole (PUT) with the value added or taken out, or deleted (DELETE) when
 * the last value goes, so values other orders put at the same name survive. Every write is
 * conditional on the ETag read (If-Match; If-None-Match: * for a new set); 412 (someone
 * else changed it) reads again and retries. ARM applies a record set change on every name
 * server of the zone before it answers, so there is no `synced`.
 *
 * Endpoints: the environment's (AzurePublic, AzureChina, AzureGovernment), or overrides:
 * AZURE_AUTHORITY_HOST (login; azure-identity's variable), AZURE_POD_IDENTITY_AUTHORITY_HOST
 * (IMDS; azure-identity's), AZURE_RESOURCE_MANAGER_ENDPOINT (management; the SDKs have no
 * variable for it). Token audiences stay the environment's, whatever the endpoint. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "internal.h"

static const char API_VERSION[] = "2018-05-01";
static const char IMDS_API_VERSION[] = "2018-02-01";
static const char IMDS_INSTANCE_API_VERSION[] = "2021-02-01";
static const char TOKEN_PURPOSE[] = "arm";
enum { MAX_VALUES = 50, VALUE_CAP = 300, PRECONDITION_TRIES = 5 };

struct az_env {
    const char *name;
    const char *login;        /* authority host */
    const char *management;   /* Resource Manager endpoint and token resource */
};
static const struct az_env az_envs[] = {
    { "AzurePublic", "https://login.microsoftonline.com", "https://management.azure.com" },
    { "AzureChina", "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn" },
    { "AzureGovernment", "https://login.microsoftonline.us",
      "https://management.usgovcloudapi.net" },
};

static const struct az_env *env_of(const cJSON *cfg)
{
    const char *n = dns_cfg_str(cfg, "environment");
    for (size_t i = 0; i < sizeof az_envs / sizeof az_envs[0]; i++)
        if (strcmp(az_envs[i].name, n) == 0)
            return &az_envs[i];
    return &az_envs[0];
}

/* ---- errors ---------------------------------------------------------------------------- */

/* What an operator does about an Azure error code. */
static const char *arm_hint(const char *code)
{
    static const struct { const char *code, *hint; } hints[] = {
        { "AuthorizationFailed", "the identity lacks permission: assign it the \"DNS Zone "
          "Contributor\" role (or Microsoft.Network/dnsZones/TXT/read, write and delete) on "
          "the zone or its resource group" },
        { "LinkedAuthorizationFailed", "the identity lacks permission: assign it the \"DNS "
          "Zone Contributor\" role on the zone" },
        { "ResourceGroupNotFound", "check resource_group_name and subscription_id" },
        { "SubscriptionNotFound", "check subscription_id" },
        { "InvalidSubscriptionId", "check subscription_id" },
        { "ParentResourceNotFound", "zone not found: check zone_name and resource_group_name" },
        { "ResourceNotFound", "zone not found: check zone_name and resource_group_name" },
        { "InvalidAuthenticationTokenTenant", "the subscription belongs to another tenant: "
          "check tenant_id and subscription_id" },
        { "InvalidAuthenticationTokenAudience", "the token is for another cloud: check "
          "environment" },
        { "InvalidAuthenticationToken", "the token was refused: check tenant_id, client_id "
          "and environment" },
        { "ExpiredAuthenticationToken", "the token expired: check the clock of the Vault "
          "host" },
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (strcmp(hints[i].code, code) == 0)
            return hints[i].hint;
    return NULL;
}

/* An ARM error reply ({"error": {"code", "message"}}) in words. Returns -1. */
static int arm_error(const char *what, const struct dns_http_reply *r, struct err *e)
{
    cJSON *j = dns_http_json(r);
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(er, "code"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(er, "message"));
    const char *hint = code ? arm_hint(code) : NULL;
    enum err_kind kind = r->status == 429 || r->status >= 500 ? ERR_RETRY : ERR_UPSTREAM;
    if (!hint && kind == ERR_RETRY)
        hint = "Azure is throttling or failing: retried later";
    /* The hint first: the order's last_error keeps only the start of a long message. */
    err_set(e, kind, "%s: HTTP %ld %s%s%s%s%s%.300s", what, r->status, code ? code : "",
            hint ? " (" : "", hint ? hint : "", hint ? ")" : "", msg ? ": " : "",
            msg ? msg : "");
    cJSON_Delete(j);
    return -1;
}

/* An Entra ID (AAD) token error ({"error", "error_description", "error_codes"}). */
static int login_error(const struct dns_http_reply *r, struct err *e)
{
    cJSON *j = dns_http_json(r);
    const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
    const char *desc =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error_description"));
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
    const cJSON *first = cJSON_GetArrayItem(codes, 0);
    long code = cJSON_IsNumber(first) ? (long)first->valuedouble : 0;
    const char *hint = "check tenant_id, client_id and client_secret";
    if (code == 7000215)
        hint = "client_secret is wrong: use the secret's value (not its ID) of the app "
               "registration named by client_id";
    else if (code == 7000222)
        hint = "client_secret has expired: create a new secret for the app registration and "
               "write it to client_secret";
    else if (code == 90002 || code == 900023 || code == 90072)
        hint = "check tenant_id (the directory's ID or domain) and environment";
    else if (code == 700016)
        hint = "no app registration with client_id in tenant_id: check client_id and "
               "tenant_id";
    else if (code == 500011 || code == 70011)
        hint = "the management resource is unknown here: check environment";
    char first_line[300] = "";
    if (desc)
        snprintf(first_line, sizeof first_line, "%.*s", (int)strcspn(desc, "\r\n"), desc);
    err_set(e, r->status == 429 || r->status >= 500 ? ERR_RETRY : ERR_UPSTREAM,
            "Azure login (client credentials): HTTP %ld %s (%s)%s%s", r->status,
            err ? err : "", hint, first_line[0] ? ": " : "", first_line);
    cJSON_Delete(j);
    return -1;
}

/* ---- tokens ----------------------------------------------------------------------------- */

/* access_token and expires_in (a number from Entra ID, a string from IMDS) of a reply. */
static int token_of(const struct dns_http_reply *r, const char *what, char **token,
                    int64_t *lifetime_s, struct err *e)
{
    cJSON *j = dns_http_json(r);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "access_token"));
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    int64_t life = cJSON_IsNumber(exp) ? (int64_t)exp->valuedouble
                   : cJSON_IsString(exp) ? strtoll(exp->valuestring, NULL, 10) : 0;
    *token = t && t[0] ? strdup(t) : NULL;
    *lifetime_s = life;
    if (j) {
        cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
        if (cJSON_IsString(at))
            OPENSSL_cleanse(at->valuestring, strlen(at->valuestring));
    }
    cJSON_Delete(j);
    if (!*token)
        return err_set(e, t ? ERR_INTERNAL : ERR_UPSTREAM, "%s: no access_token in the reply",
                       what);
    return 0;
}

static int login_token(const struct dns_ctx *ctx, const cJSON *cfg, char **token,
                       int64_t *lifetime_s, struct err *e)
{
    const struct az_env *env = env_of(cfg);
    char host[512], url[1200], tenant[400], client[400], scope[700], *secret = NULL;
    dns_endpoint("AZURE_AUTHORITY_HOST", env->login, host, sizeof host);
    dns_url_escape(dns_cfg_str(cfg, "tenant_id"), tenant, sizeof tenant);
    dns_url_escape(dns_cfg_str(cfg, "client_id"), client, sizeof client);
    char res[300];
    snprintf(res, sizeof res, "%s/.default", env->management);
    dns_url_escape(res, scope, sizeof scope);
    const char *raw = dns_cfg_str(cfg, "client_secret");
    size_t scap = strlen(raw) * 3 + 1, bcap = scap + 1500;
    char *body = malloc(bcap);
    secret = malloc(scap);
    if (!body || !secret) {
        free(body);
        free(secret);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    dns_url_escape(raw, secret, scap);
    snprintf(body, bcap, "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
             client, secret, scope);
    dns_secret_free(secret);
    snprintf(url, sizeof url, "%s/%s/oauth2/v2.0/token", host, tenant);
    static const char *const hdr[] = { "Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL };
    struct dns_http_req q = { .method = "POST", .url = url, .headers = hdr, .body = body };
    struct dns_http_reply r;
    int rc = dns_http_retry(ctx, &q, &r, e);
    dns_secret_free(body);
    if (rc < 0)
        return err_wrap(e, "Azure login at %s (tenant_id, environment)", host);
    if (r.status != 200)
        rc = login_error(&r, e);
    else
        rc = token_of(&r, "Azure login", token, lifetime_s, e);
    dns_http_reply_clear(&r);
    return rc;
}

static void imds_base(char *buf, size_t cap)
{
    dns_endpoint("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254", buf, cap);
}

/* An IMDS call: one try when nothing answers (off Azure the address leads nowhere, and
 * waiting out retries would only delay the message), retries when IMDS throttles or fails
 * (429/5xx, as Azure asks). */
static int imds_call(const struct dns_ctx *ctx, const struct dns_http_req *q,
                     struct dns_http_reply *r, struct err *e)
{
    if (dns_http(q, r, e) < 0)
        return -1;
    if (r->status != 429 && r->status < 500)
        return 0;
    dns_http_reply_clear(r);
    return dns_http_retry(ctx, q, r, e);
}

static int imds_unreachable(const char *base, struct err *e)
{
    char why[200];
    snprintf(why, sizeof why, "%.199s", e->msg);   /* e->msg is rewritten below */
    return err_set(e, ERR_UPSTREAM, "Azure managed identity: the instance metadata service "
                   "at %s did not answer (%s). Outside Azure, set client_id, client_secret "
                   "and tenant_id", base, why);
}

static int imds_token(const struct dns_ctx *ctx, const cJSON *cfg, char **token,
                      int64_t *lifetime_s, struct err *e)
{
    const struct az_env *env = env_of(cfg);
    char base[512], url[2200], res[600], client[400];
    imds_base(base, sizeof base);
    char resource[300];
    snprintf(resource, sizeof resource, "%s/", env->management);
    dns_url_escape(resource, res, sizeof res);
    dns_url_escape(dns_cfg_str(cfg, "client_id"), client, sizeof client);
    snprintf(url, sizeof url, "%s/metadata/identity/oauth2/token?api-version=%s&resource=%s%s%s",
             base, IMDS_API_VERSION, res, client[0] ? "&client_id=" : "", client);
    static const char *const hdr[] = { "Metadata: true", NULL };
    struct dns_http_req q = { .method = "GET", .url = url, .headers = hdr, .timeout_s = 5 };
    struct dns_http_reply r;
    if (imds_call(ctx, &q, &r, e) < 0)
        return imds_unreachable(base, e);
    int rc;
    if (r.status != 200) {
        cJSON *j = dns_http_json(&r);
        const char *desc =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error_description"));
        rc = err_set(e, r.status == 429 || r.status >= 500 ? ERR_RETRY : ERR_UPSTREAM,
                     "Azure managed identity (IMDS): HTTP %ld: %.200s (%s)", r.status,
                     desc ? desc : "no token",
                     client[0] ? "client_id must name a user-assigned identity of this "
                                 "machine" : "assign a managed identity to this machine, "
                                 "or set client_id, client_secret and tenant_id");
        cJSON_Delete(j);
    } else {
        rc = token_of(&r, "Azure managed identity (IMDS)", token, lifetime_s, e);
    }
    dns_http_reply_clear(&r);
    return rc;
}

static int fetch_token(const struct dns_ctx *ctx, const cJSON *cfg, void *arg, char **token,
                       int64_t *lifetime_s, struct err *e)
{
    if (dns_cfg_str(cfg, "client_secret")[0])
        return login_token(ctx, cfg, token, lifetime_s, e);
    return imds_token(ctx, cfg, token, lifetime_s, e);
}

/* subscription_id, else (managed identity) the machine's subscription from IMDS. */
static int subscription(const struct dns_ctx *ctx, const cJSON *cfg, char *buf, size_t cap,
                        struct err *e)
{
    snprintf(buf, cap, "%s", dns_cfg_str(cfg, "subscription_id"));
    if (buf[0])
        return 0;
    char base[512], url[800];
    imds_base(base, sizeof base);
    snprintf(url, sizeof url, "%s/metadata/instance/compute/subscriptionId?api-version=%s"
             "&format=text", base, IMDS_INSTANCE_API_VERSION);
    static const char *const hdr[] = { "Metadata: true", NULL };
    struct dns_http_req q = { .method = "GET", .url = url, .headers = hdr, .timeout_s = 5 };
    struct dns_http_reply r;
    if (imds_call(ctx, &q, &r, e) < 0)
        return imds_unreachable(base, e);
    snprintf(buf, cap, "%.*s", (int)strcspn(r.body, " \r\n"), r.body);
    long st = r.status;
    dns_http_reply_clear(&r);
    if (st != 200 || !buf[0])
        return err_set(e, ERR_UPSTREAM, "subscription_id is empty and the instance metadata "
                       "service did not tell this machine's subscription (HTTP %ld): set "
                       "subscription_id", st);
    return 0;
}

/* ---- Resource Manager calls -------------------------------------------------------------- */

struct arm {
    const struct dns_ctx *ctx;
    const cJSON *cfg;
    char base[2400];   /* .../dnsZones/<zone> */
};

static int arm_open(const struct dns_ctx *ctx, const cJSON *cfg, struct arm *a, struct err *e)
{
    char mgmt[512], sub[200], esub[400], rg[400], zone[600];
    a->ctx = ctx;
    a->cfg = cfg;
    if (subscription(ctx, cfg, sub, sizeof sub, e) < 0)
        return -1;
    dns_endpoint("AZURE_RESOURCE_MANAGER_ENDPOINT", env_of(cfg)->management, mgmt,
                 sizeof mgmt);
    dns_url_escape(sub, esub, sizeof esub);
    dns_url_escape(dns_cfg_str(cfg, "resource_group_name"), rg, sizeof rg);
    dns_url_escape(dns_cfg_str(cfg, "zone_name"), zone, sizeof zone);
    snprintf(a->base, sizeof a->base, "%s/subscriptions/%s/resourceGroups/%s/providers/"
             "Microsoft.Network/dnsZones/%s", mgmt, esub, rg, zone);
    return 0;
}

/* True when a 401's error code says the token itself is stale (fetch another, once). */
static bool token_refused(const struct dns_http_reply *r)
{
    if (r->status != 401)
        return false;
    cJSON *j = dns_http_json(r);
    const char *code = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "code"));
    bool stale = code && (strcmp(code, "ExpiredAuthenticationToken") == 0 ||
                          strcmp(code, "InvalidAuthenticationToken") == 0);
    cJSON_Delete(j);
    return stale;
}

/* One call on the record set `rel` (URL-escaped), retried after throttling, and once with
 * a new token when the cached one was refused. */
static int arm_call(struct arm *a, const char *method, const char *rel, const char *cond,
                    const char *body, struct dns_http_reply *r, struct err *e)
{
    char url[3200];
    snprintf(url, sizeof url, "%s/TXT/%s?api-version=%s", a->base, rel, API_VERSION);
    const char *hdr[4] = { "Accept: application/json", NULL, NULL, NULL };
    size_t h = 1;
    if (body)
        hdr[h++] = "Content-Type: application/json";
    if (cond)
        hdr[h++] = cond;
    struct dns_http_req q = { .method = method, .url = url, .headers = hdr, .body = body };
    if (dns_http_bearer(a->ctx, a->cfg, TOKEN_PURPOSE, fetch_token, NULL, token_refused, &q, r,
                        e) < 0)
        return err_wrap(e, "Azure DNS");
    return 0;
}

/* ---- record sets -------------------------------------------------------------------------- */

struct rrset {
    char vals[MAX_VALUES + 1][VALUE_CAP];
    size_t n;
    long ttl;
    char etag[256];   /* "" when the set does not exist */
};

/* The name of fqdn relative to zone_name ("@" for the apex), URL-escaped into rel. */
static int relative_name(const cJSON *cfg, const char *fqdn, char *rel, size_t cap,
                         struct err *e)
{
    char f[300], z[300];
    snprintf(f, sizeof f, "%s", fqdn);
    snprintf(z, sizeof z, "%s", dns_cfg_str(cfg, "zone_name"));
    size_t lf = strlen(f), lz = strlen(z);
    if (lf && f[lf - 1] == '.')
        f[--lf] = '\0';
    if (lz && z[lz - 1] == '.')
        z[--lz] = '\0';
    if (lf == lz && strcasecmp(f, z) == 0) {
        snprintf(rel, cap, "%%40");
        return 0;
    }
    if (lf <= lz + 1 || strcasecmp(f + lf - lz, z) != 0 || f[lf - lz - 1] != '.')
        return err_set(e, ERR_UPSTREAM, "%s is not in zone_name %s: set zone_name to the Azure "
                       "DNS zone that holds it", fqdn, z);
    f[lf - lz - 1] = '\0';
    dns_url_escape(f, rel, cap);
    return 0;
}

static int rrset_read(struct arm *a, const char *rel, const char *fqdn, struct rrset *s,
                      struct err *e)
{
    struct dns_http_reply r;
    char what[400];
    memset(s, 0, sizeof *s);
    snprintf(what, sizeof what, "Azure DNS: reading the TXT record set %s", fqdn);
    if (arm_call(a, "GET", rel, NULL, NULL, &r, e) < 0)
        return -1;
    cJSON *j = dns_http_json(&r);
    int rc = 0;
    if (r.status == 404) {
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "error"), "code"));
        /* NotFound is the record set; anything else (zone, group, subscription) is not. */
        if (!code || strcmp(code, "NotFound") != 0)
            rc = arm_error(what, &r, e);
        goto out;
    }
    if (r.status != 200) {
        rc = arm_error(what, &r, e);
        goto out;
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(j, "properties");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(props, "TTL"), *rec;
    const char *etag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "etag"));
    if (!props) {
        rc = err_set(e, ERR_RETRY, "%s: the reply holds no properties", what);
        goto out;
    }
    snprintf(s->etag, sizeof s->etag, "%s", r.etag[0] ? r.etag : etag ? etag : "*");
    s->ttl = cJSON_IsNumber(ttl) ? (long)ttl->valuedouble : 0;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(props, "TXTRecords")) {
        /* One TXT record is a list of strings, one value once joined (RFC 7208 style). */
        const cJSON *part;
        char joined[VALUE_CAP] = "";
        size_t used = 0;
        cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(rec, "value")) {
            if (cJSON_IsString(part) && used < sizeof joined)
                used += (size_t)snprintf(joined + used, sizeof joined - used, "%s",
                                         part->valuestring);
        }
        if (s->n < MAX_VALUES)
            snprintf(s->vals[s->n++], VALUE_CAP, "%s", joined);
    }
out:
    cJSON_Delete(j);
    dns_http_reply_clear(&r);
    return rc;
}

/* Writes s back (PUT), or deletes the set when it has no value left, conditional on the
 * ETag read. *conflict when someone changed the set in between (412). */
static int rrset_write(struct arm *a, const char *rel, const char *fqdn, const struct rrset *s,
                       bool *conflict, struct err *e)
{
    char cond[300], what[400];
    struct dns_http_reply r;
    char *body = NULL;
    *conflict = false;
    if (s->etag[0])
        snprintf(cond, sizeof cond, "If-Match: %s", s->etag);
    else
        snprintf(cond, sizeof cond, "If-None-Match: *");
    if (s->n == 0) {
        snprintf(what, sizeof what, "Azure DNS: deleting the TXT record set %s", fqdn);
        if (arm_call(a, "DELETE", rel, cond, NULL, &r, e) < 0)
            return -1;
    } else {
        cJSON *j = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(j, "properties");
        cJSON *recs = props ? cJSON_AddArrayToObject(props, "TXTRecords") : NULL;
        bool ok = recs && cJSON_AddNumberToObject(props, "TTL", (double)s->ttl);
        for (size_t i = 0; ok && i < s->n; i++) {
            cJSON *one = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(one, "value");
            ok = v && cJSON_AddItemToArray(v, cJSON_CreateString(s->vals[i])) &&
                 cJSON_AddItemToArray(recs, one);
            if (!ok)
                cJSON_Delete(one);
        }
        body = ok ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!body)
            return err_set(e, ERR_INTERNAL, "out of memory");
        snprintf(what, sizeof what, "Azure DNS: writing the TXT record set %s", fqdn);
        int rc = arm_call(a, "PUT", rel, cond, body, &r, e);
        free(body);
        if (rc < 0)
            return -1;
    }
    int rc = 0;
    if (r.status == 412)
        *conflict = true;
    else if (r.status == 404 && s->n == 0 && s->etag[0])
        *conflict = true;   /* deleted by someone else meanwhile: read again */
    else if (r.status < 200 || r.status > 299)
        rc = arm_error(what, &r, e);
    dns_http_reply_clear(&r);
    return rc;
}

/* Reads the set, applies the change (add or remove value), writes it back; again on 412. */
static int change(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                  const char *value, int64_t ttl, bool add, struct err *e)
{
    struct arm a;
    char rel[700];
    struct rrset *s = malloc(sizeof *s);
    int rc = -1;
    if (!s)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (relative_name(cfg, fqdn, rel, sizeof rel, e) < 0 || arm_open(ctx, cfg, &a, e) < 0)
        goto out;
    for (int attempt = 1;; attempt++) {
        bool conflict = false, present = false;
        if (rrset_read(&a, rel, fqdn, s, e) < 0)
            goto out;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (strcmp(s->vals[i], value) == 0) {
                present = true;
                if (!add)
                    continue;
            }
            if (k != i)
                memcpy(s->vals[k], s->vals[i], VALUE_CAP);
            k++;
        }
        s->n = k;
        if (add == present) {
            rc = 0;   /* already there / already gone: nothing to send */
            goto out;
        }
        if (add) {
            if (s->n >= MAX_VALUES) {
                rc = err_set(e, ERR_RETRY, "%s already holds %d TXT values", fqdn, MAX_VALUES);
                goto out;
            }
            snprintf(s->vals[s->n++], VALUE_CAP, "%s", value);
        }
        if (!s->ttl)
            s->ttl = (long)ttl;
        if (rrset_write(&a, rel, fqdn, s, &conflict, e) < 0)
            goto out;
        if (!conflict) {
            rc = 0;
            goto out;
        }
        if (attempt >= PRECONDITION_TRIES) {
            rc = err_set(e, ERR_RETRY, "Azure DNS: the TXT record set %s kept changing while "
                         "it was written (412 Precondition Failed %d times)", fqdn, attempt);
            goto out;
        }
    }
out:
    free(s);
    return rc;
}

static int az_publish(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                      const char *value, int64_t ttl, char **change_id, struct err *e)
{
    *change_id = NULL;
    return change(ctx, cfg, fqdn, value, ttl, true, e);
}

static int az_remove(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                     const char *value, int64_t ttl, struct err *e)
{
    return change(ctx, cfg, fqdn, value, ttl, false, e);
}

/* ---- configuration -------------------------------------------------------------------- */

static bool is_guid(const char *s)
{
    static const int groups[] = { 8, 4, 4, 4, 12 };
    for (size_t g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return false;
        if (g < 4 && *s++ != '-')
            return false;
    }
    return *s == '\0';
}

/* A tenant is a GUID or a verified domain name of the directory (contoso.onmicrosoft.com). */
static bool tenant_ok(const char *s)
{
    if (is_guid(s))
        return true;
    if (!strchr(s, '.') || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
            return false;
    return true;
}

/* Azure's rule: 1-90 of letters, digits, '_', '-', '.', '(' and ')'; not ending in '.'. */
static bool resource_group_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 90 || s[n - 1] == '.')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.()", *s))
            return false;
    return true;
}

static int az_validate(cJSON *cfg, struct err *e)
{
    const char *zone = dns_cfg_str(cfg, "zone_name");
    const char *rg = dns_cfg_str(cfg, "resource_group_name");
    const char *client = dns_cfg_str(cfg, "client_id");
    const char *secret = dns_cfg_str(cfg, "client_secret");
    const char *tenant = dns_cfg_str(cfg, "tenant_id");
    const char *sub = dns_cfg_str(cfg, "subscription_id");
    const char *env = dns_cfg_str(cfg, "environment");
    char *canon = NULL;
    if (!zone[0])
        return err_set(e, ERR_INVALID, "zone_name: required (the Azure DNS zone, e.g. "
                       "example.com)");
    if (zone[0] == '*' || dns_pattern_check("zone_name", zone, &canon, e) < 0)
        return canon ? -1 : err_set(e, ERR_INVALID, "zone_name: \"%.100s\" is not a DNS zone "
                                    "name", zone);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "zone_name");
    bool stored = cJSON_AddStringToObject(cfg, "zone_name", canon) != NULL;
    free(canon);
    if (!stored)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (!rg[0])
        return err_set(e, ERR_INVALID, "resource_group_name: required (the resource group "
                       "holding the zone)");
    if (!resource_group_ok(rg))
        return err_set(e, ERR_INVALID, "resource_group_name: \"%.100s\" is not a resource group "
                       "name (1-90 letters, digits, _ - . ( ), not ending in '.')", rg);
    if (client[0] && !is_guid(client))
        return err_set(e, ERR_INVALID, "client_id: \"%.100s\" is not an application (client) "
                       "ID (a GUID)", client);
    if (sub[0] && !is_guid(sub))
        return err_set(e, ERR_INVALID, "subscription_id: \"%.100s\" is not a subscription ID "
                       "(a GUID)", sub);
    if (tenant[0] && !tenant_ok(tenant))
        return err_set(e, ERR_INVALID, "tenant_id: \"%.100s\" is not a tenant ID (a GUID or "
                       "the directory's domain name)", tenant);
    if (secret[0] && !client[0])
        return err_set(e, ERR_INVALID, "client_id: required with client_secret");
    if (secret[0] && !tenant[0])
        return err_set(e, ERR_INVALID, "tenant_id: required with client_secret");
    if (!env[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "environment");
        if (!cJSON_AddStringToObject(cfg, "environment", "AzurePublic"))
            return err_set(e, ERR_INTERNAL, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < sizeof az_envs / sizeof az_envs[0]; i++)
        if (strcmp(az_envs[i].name, env) == 0)
            return 0;
    return err_set(e, ERR_INVALID, "environment: \"%.64s\" is not one of AzurePublic, "
                   "AzureChina, AzureGovernment", env);
}

const struct dns_provider_type dns_type_azure = {
    .type = "azure-dns",
    .default_ttl = "60s",
    .validate = az_validate,
    .publish = az_publish,
    .remove = az_remove,
    .synced = NULL,
};
