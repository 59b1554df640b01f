/* google.c: Google Cloud DNS (API v1).
 *
 * Credentials, first found wins: `credentials` (a service-account key file's JSON), else
 * Application Default Credentials: the file GOOGLE_APPLICATION_CREDENTIALS names, else the
 * metadata server of the machine (GCE_METADATA_HOST, default metadata.google.internal). A
 * service account signs a JWT (RS256, src/crypto) and exchanges it at its token_uri (the
 * key file's; that is Google's way to point it elsewhere). With impersonate_service_account
 * that token calls IAM Credentials generateAccessToken for the named account. Tokens come
 * from the mount's cache (token.c) under purpose "clouddns"; one refused with 401 is
 * forgotten and fetched again once.
 *
 * Records: the managed zone is zone_name, or the zone whose dnsName is the longest suffix of
 * the record name (managedZones.list?dnsName=). A change reads the TXT rrset and sends
 * changes.create with the old rrset as deletion and the new one as addition, so values other
 * orders put at the same name survive; 409 (alreadyExists) and 412 (conditionNotMet: the
 * rrset changed in between) read again and retry. Publishing returns the change id, and
 * `synced` asks changes.get until status is "done".
 *
 * Endpoints: GOOGLE_CLOUD_DNS_ENDPOINT (https://dns.googleapis.com) and
 * GOOGLE_IAM_CREDENTIALS_ENDPOINT (https://iamcredentials.googleapis.com): Google's client
 * libraries have no variable for these, so each has one of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "internal.h"

static const char TOKEN_PURPOSE[] = "clouddns";
static const char SCOPE_DNS[] = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
static const char SCOPE_CLOUD[] = "https://www.googleapis.com/auth/cloud-platform";
static const char DEFAULT_TOKEN_URI[] = "https://oauth2.googleapis.com/token";
enum { MAX_VALUES = 50, VALUE_CAP = 300, CHANGE_TRIES = 5 };

static void metadata_base(char *buf, size_t cap)
{
    const char *h = getenv("GCE_METADATA_HOST");
    snprintf(buf, cap, "http://%s", h && h[0] ? h : "metadata.google.internal");
}

/* ---- errors ------------------------------------------------------------------------------ */

/* What an operator does about a Google API error (reason or status). */
static const char *api_hint(long status, const char *reason, const char *gstatus)
{
    if (status == 401)
        return "the access token was refused: check credentials and the Vault host's clock";
    if (status == 403 && reason && strcmp(reason, "accessNotConfigured") == 0)
        return "the Cloud DNS API is not enabled in project: enable dns.googleapis.com";
    if (status == 403)
        return "the service account lacks permission: grant it roles/dns.admin (or "
               "dns.changes.create, dns.resourceRecordSets.list, dns.managedZones.list) on "
               "project";
    if (status == 404)
        return "not found: check project and zone_name (the managed zone's name, not its "
               "DNS name)";
    if (status == 400 && reason && strcmp(reason, "invalid") == 0)
        return "the request was refused as invalid: check ttl";
    (void)gstatus;
    return NULL;
}

/* A Google API error body ({"error": {"code", "message", "status", "errors": [{"reason"}]}})
 * in words. Returns -1. */
int dns_google_error(const char *what, long status, const char *body, size_t len,
                     struct err *e)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(er, "message"));
    const char *gst = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(er, "status"));
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(er, "errors"), 0);
    const char *reason =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "reason"));
    if (!msg && cJSON_IsString(er)) {
        /* OAuth token endpoint form: {"error": "invalid_grant", "error_description"}. */
        reason = er->valuestring;
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error_description"));
    }
    const char *hint = api_hint(status, reason, gst);
    enum err_kind kind = status == 429 || status >= 500 ? ERR_RETRY : ERR_UPSTREAM;
    if (kind == ERR_RETRY)
        hint = "Google is throttling or failing: retried later";
    err_set(e, kind, "%s: HTTP %ld %s%s%s%s: %.300s", what, status, gst ? gst : reason ? reason : "",
            hint ? " (" : "", hint ? hint : "", hint ? ")" : "", msg ? msg : "no message");
    cJSON_Delete(j);
    return -1;
}

/* ---- credentials and tokens --------------------------------------------------------------- */

/* The credentials JSON in use: the configuration's, else GOOGLE_APPLICATION_CREDENTIALS'
 * file; *out NULL (no error) when neither: the metadata server then. */
static int credentials_json(const cJSON *cfg, cJSON **out, struct err *e)
{
    const char *c = dns_cfg_str(cfg, "credentials");
    *out = NULL;
    if (c[0]) {
        *out = cJSON_Parse(c);
        return *out ? 0 : err_set(e, ERR_UPSTREAM, "credentials: not JSON");
    }
    const char *path = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (!path || !path[0])
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_UPSTREAM, "GOOGLE_APPLICATION_CREDENTIALS names %s, which cannot "
                       "be read: fix the variable or set credentials", path);
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (!buf)
        return err_set(e, ERR_INTERNAL, "out of memory");
    buf[n] = '\0';
    *out = cJSON_Parse(buf);
    OPENSSL_cleanse(buf, n);
    free(buf);
    if (!*out)
        return err_set(e, ERR_UPSTREAM, "GOOGLE_APPLICATION_CREDENTIALS: %s is not JSON", path);
    return 0;
}

/* A service account's access token: signed JWT exchanged at token_uri. */
static int sa_token(const struct dns_ctx *ctx, const cJSON *cred, const char *scope,
                    char **token, int64_t *lifetime_s, struct err *e)
{
    const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "client_email"));
    const char *pem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "private_key"));
    const char *kid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "private_key_id"));
    const char *uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "token_uri"));
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "type"));
    struct crypto_key *k = NULL;
    char *head = NULL, *claims = NULL, *input = NULL, *sig = NULL, *body = NULL;
    int rc = -1;
    if (!type || strcmp(type, "service_account") != 0)
        return err_set(e, ERR_UPSTREAM, "credentials: type is \"%.40s\", not service_account: "
                       "use a service-account key file", type ? type : "");
    if (!email || !pem)
        return err_set(e, ERR_UPSTREAM, "credentials: client_email and private_key are required "
                       "(a service-account key file)");
    if (crypto_key_from_pem(pem, strlen(pem), &k, e) < 0)
        return err_wrap(e, "credentials: private_key");
    if (!uri || !uri[0])
        uri = DEFAULT_TOKEN_URI;
    int64_t now = (int64_t)time(NULL);
    cJSON *h = cJSON_CreateObject(), *c = cJSON_CreateObject();
    bool ok = h && c && cJSON_AddStringToObject(h, "alg", "RS256") &&
              cJSON_AddStringToObject(h, "typ", "JWT") &&
              (!kid || cJSON_AddStringToObject(h, "kid", kid)) &&
              cJSON_AddStringToObject(c, "iss", email) && cJSON_AddStringToObject(c, "scope", scope) &&
              cJSON_AddStringToObject(c, "aud", uri) && cJSON_AddNumberToObject(c, "iat", (double)now) &&
              cJSON_AddNumberToObject(c, "exp", (double)(now + 3600));
    char *hj = ok ? cJSON_PrintUnformatted(h) : NULL, *cj = ok ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(h);
    cJSON_Delete(c);
    head = hj ? crypto_b64url_encode(hj, strlen(hj)) : NULL;
    claims = cj ? crypto_b64url_encode(cj, strlen(cj)) : NULL;
    free(hj);
    free(cj);
    size_t icap = head && claims ? strlen(head) + strlen(claims) + 2 : 0;
    input = icap ? malloc(icap) : NULL;
    if (!input) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    snprintf(input, icap, "%s.%s", head, claims);
    if (crypto_jws_sign(k, input, &sig, e) < 0)
        goto out;
    size_t bcap = strlen(input) + strlen(sig) + 200;
    body = malloc(bcap);
    if (!body) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    snprintf(body, bcap, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
             "&assertion=%s.%s", input, sig);
    static const char *const hdr[] = { "Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL };
    struct dns_http_req q = { .method = "POST", .url = uri, .headers = hdr, .body = body };
    struct dns_http_reply r;
    if (dns_http_retry(ctx, &q, &r, e) < 0) {
        err_wrap(e, "Google token endpoint %s (token_uri of credentials)", uri);
        goto out;
    }
    if (r.status != 200) {
        dns_google_error("Google token endpoint (service account key)", r.status, r.body, r.len, e);
        if (strstr(e->msg, "invalid_grant"))
            snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg), " (the key may "
                     "be deleted or disabled, or the clock of the Vault host is off: create a "
                     "new key for %.100s and write it to credentials)", email);
    } else {
        rc = dns_google_token_parse(r.body, r.len, "access_token", "expires_in", token,
                                    lifetime_s, e);
    }
    dns_http_reply_clear(&r);
out:
    crypto_key_free(k);
    free(head);
    free(claims);
    free(input);
    free(sig);
    if (body)
        dns_secret_free(body);
    return rc;
}

/* A token of the machine's service account from the metadata server. */
static int metadata_token(const struct dns_ctx *ctx, char **token, int64_t *lifetime_s,
                          struct err *e)
{
    char base[400], url[700];
    metadata_base(base, sizeof base);
    snprintf(url, sizeof url, "%s/computeMetadata/v1/instance/service-accounts/default/token",
             base);
    static const char *const hdr[] = { "Metadata-Flavor: Google", NULL };
    struct dns_http_req q = { .method = "GET", .url = url, .headers = hdr, .timeout_s = 5 };
    struct dns_http_reply r;
    if (dns_http_retry(ctx, &q, &r, e) < 0)
        return err_set(e, ERR_UPSTREAM, "Google: no credentials: credentials is empty, "
                       "GOOGLE_APPLICATION_CREDENTIALS is not set, and the metadata server at "
                       "%s did not answer (%s). Outside Google Cloud, set credentials to a "
                       "service-account key", base, e->msg);
    int rc;
    if (r.status != 200)
        rc = err_set(e, r.status >= 500 ? ERR_RETRY : ERR_UPSTREAM, "Google metadata server: "
                     "HTTP %ld: %.200s (attach a service account to the instance, or set "
                     "credentials)", r.status, r.body);
    else
        rc = dns_google_token_parse(r.body, r.len, "access_token", "expires_in", token,
                                    lifetime_s, e);
    dns_http_reply_clear(&r);
    return rc;
}

/* IAM Credentials generateAccessToken for target with the source token. */
static int impersonate(const struct dns_ctx *ctx, const char *source, const char *target,
                       char **token, int64_t *lifetime_s, struct err *e)
{
    char base[400], url[1200], esc[600], body[300];
    dns_endpoint("GOOGLE_IAM_CREDENTIALS_ENDPOINT", "https://iamcredentials.googleapis.com",
                 base, sizeof base);
    dns_url_escape(target, esc, sizeof esc);
    snprintf(url, sizeof url, "%s/v1/projects/-/serviceAccounts/%s:generateAccessToken", base,
             esc);
    snprintf(body, sizeof body, "{\"scope\":[\"%s\"],\"lifetime\":\"3600s\"}", SCOPE_DNS);
    static const char *const hdr[] = { "Content-Type: application/json", NULL };
    struct dns_http_req q = { .method = "POST", .url = url, .headers = hdr, .body = body,
                              .bearer = source };
    struct dns_http_reply r;
    if (dns_http_retry(ctx, &q, &r, e) < 0)
        return err_wrap(e, "Google IAM Credentials (impersonate_service_account)");
    int rc;
    if (r.status != 200) {
        rc = dns_google_error("Google IAM Credentials generateAccessToken", r.status, r.body,
                              r.len, e);
        if (r.status == 403 || r.status == 404)
            snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                     " (check impersonate_service_account, and grant the calling identity "
                     "roles/iam.serviceAccountTokenCreator on it)");
    } else {
        rc = dns_google_token_parse(r.body, r.len, "accessToken", "expireTime", token,
                                    lifetime_s, e);
    }
    dns_http_reply_clear(&r);
    return rc;
}

static int fetch_token(const struct dns_ctx *ctx, const cJSON *cfg, void *arg, char **token,
                       int64_t *lifetime_s, struct err *e)
{
    (void)arg;
    const char *target = dns_cfg_str(cfg, "impersonate_service_account");
    const char *scope = target[0] ? SCOPE_CLOUD : SCOPE_DNS;
    cJSON *cred = NULL;
    char *src = NULL;
    int64_t life = 0;
    if (credentials_json(cfg, &cred, e) < 0)
        return -1;
    int rc = cred ? sa_token(ctx, cred, scope, &src, &life, e)
                  : metadata_token(ctx, &src, &life, e);
    cJSON_Delete(cred);   /* holds the private key: freed before anything else is called */
    if (rc < 0 || !target[0]) {
        *token = src;
        *lifetime_s = life;
        return rc;
    }
    rc = impersonate(ctx, src, target, token, lifetime_s, e);
    dns_secret_free(src);
    return rc;
}

/* ---- API calls -------------------------------------------------------------------------- */

struct gdns {
    const struct dns_ctx *ctx;
    const cJSON *cfg;
    char base[1400];   /* .../dns/v1/projects/<project> */
    char project[200];
};

/* project, else the credentials' project_id, else the metadata server's project. */
static int project_of(const struct dns_ctx *ctx, const cJSON *cfg, char *buf, size_t cap,
                      struct err *e)
{
    snprintf(buf, cap, "%s", dns_cfg_str(cfg, "project"));
    if (buf[0])
        return 0;
    cJSON *cred = NULL;
    if (credentials_json(cfg, &cred, e) < 0)
        return -1;
    if (cred) {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "project_id"));
        snprintf(buf, cap, "%s", p ? p : "");
        cJSON_Delete(cred);
        return buf[0] ? 0 : err_set(e, ERR_UPSTREAM, "project is empty and the credentials "
                                    "name no project_id: set project");
    }
    char base[400], url[700];
    metadata_base(base, sizeof base);
    snprintf(url, sizeof url, "%s/computeMetadata/v1/project/project-id", base);
    static const char *const hdr[] = { "Metadata-Flavor: Google", NULL };
    struct dns_http_req q = { .method = "GET", .url = url, .headers = hdr, .timeout_s = 5 };
    struct dns_http_reply r;
    if (dns_http_retry(ctx, &q, &r, e) < 0)
        return err_set(e, ERR_UPSTREAM, "project is empty and the metadata server at %s did "
                       "not answer: set project (and credentials outside Google Cloud)", base);
    snprintf(buf, cap, "%.*s", (int)strcspn(r.body, " \r\n"), r.body);
    long st = r.status;
    dns_http_reply_clear(&r);
    if (st != 200 || !buf[0])
        return err_set(e, ERR_UPSTREAM, "project is empty and the metadata server did not tell "
                       "it (HTTP %ld): set project", st);
    return 0;
}

static int g_open(const struct dns_ctx *ctx, const cJSON *cfg, struct gdns *g, struct err *e)
{
    char ep[512], ep_proj[600];
    g->ctx = ctx;
    g->cfg = cfg;
    if (project_of(ctx, cfg, g->project, sizeof g->project, e) < 0)
        return -1;
    dns_endpoint("GOOGLE_CLOUD_DNS_ENDPOINT", "https://dns.googleapis.com", ep, sizeof ep);
    dns_url_escape(g->project, ep_proj, sizeof ep_proj);
    snprintf(g->base, sizeof g->base, "%s/dns/v1/projects/%s", ep, ep_proj);
    return 0;
}

/* One call with the cached token; a 401 forgets it and tries once more. */
static int g_call(struct gdns *g, const char *method, const char *path, const char *body,
                  struct dns_http_reply *r, struct err *e)
{
    char url[3000];
    snprintf(url, sizeof url, "%s%s", g->base, path);
    static const char *const hdr[] = { "Content-Type: application/json",
                                       "Accept: application/json", NULL };
    struct dns_http_req q = { .method = method, .url = url, .headers = hdr, .body = body };
    if (dns_http_bearer(g->ctx, g->cfg, TOKEN_PURPOSE, fetch_token, NULL, NULL, &q, r, e) < 0)
        return err_wrap(e, "Google Cloud DNS");
    return 0;
}

/* zone_name, else the managed zone whose dnsName is the longest suffix of fqdn. */
static int zone_of(struct gdns *g, const char *fqdn, char *zone, size_t cap, struct err *e)
{
    snprintf(zone, cap, "%s", dns_cfg_str(g->cfg, "zone_name"));
    if (zone[0])
        return 0;
    for (const char *s = fqdn; s && *s && strchr(s, '.') && s[strlen(s) - 1] == '.';
         s = strchr(s, '.') + 1) {
        if (!strchr(s, '.') || strchr(s, '.')[1] == '\0')
            break;   /* "com.": a TLD is no managed zone */
        char esc[700], path[800];
        struct dns_http_reply r;
        dns_url_escape(s, esc, sizeof esc);
        snprintf(path, sizeof path, "/managedZones?dnsName=%s", esc);
        if (g_call(g, "GET", path, NULL, &r, e) < 0)
            return -1;
        if (r.status != 200) {
            dns_google_error("Google Cloud DNS: finding the managed zone", r.status, r.body,
                             r.len, e);
            dns_http_reply_clear(&r);
            return -1;
        }
        int found = dns_google_zone_parse(r.body, r.len, s, zone, cap);
        dns_http_reply_clear(&r);
        if (found)
            return 0;
    }
    return err_set(e, ERR_UPSTREAM, "Google Cloud DNS: project %s has no managed zone holding "
                   "%s (zone not found: check project, or set zone_name)", g->project, fqdn);
}

struct rrset {
    char vals[MAX_VALUES + 1][VALUE_CAP];   /* rrdatas as sent: quoted strings */
    size_t n;
    long ttl;
};

static cJSON *rrset_json(const char *fqdn, const struct rrset *s)
{
    cJSON *j = cJSON_CreateObject(), *rd = cJSON_CreateArray();
    if (!j || !rd || !cJSON_AddStringToObject(j, "name", fqdn) ||
        !cJSON_AddStringToObject(j, "type", "TXT") ||
        !cJSON_AddNumberToObject(j, "ttl", (double)s->ttl)) {
        cJSON_Delete(j);
        cJSON_Delete(rd);
        return NULL;
    }
    cJSON_AddItemToObject(j, "rrdatas", rd);
    for (size_t i = 0; i < s->n; i++)
        cJSON_AddItemToArray(rd, cJSON_CreateString(s->vals[i]));
    return j;
}

static int rrset_read(struct gdns *g, const char *zone, const char *fqdn, struct rrset *s,
                      struct err *e)
{
    char ez[300], en[700], path[1200];
    struct dns_http_reply r;
    dns_url_escape(zone, ez, sizeof ez);
    dns_url_escape(fqdn, en, sizeof en);
    snprintf(path, sizeof path, "/managedZones/%s/rrsets?name=%s&type=TXT", ez, en);
    memset(s, 0, sizeof *s);
    if (g_call(g, "GET", path, NULL, &r, e) < 0)
        return -1;
    int rc = 0;
    if (r.status != 200)
        rc = dns_google_error("Google Cloud DNS: reading the TXT rrset", r.status, r.body,
                              r.len, e);
    else if (dns_google_rrset_parse(r.body, r.len, fqdn, s->vals, MAX_VALUES, &s->n,
                                    &s->ttl) < 0)
        rc = err_set(e, ERR_RETRY, "Google Cloud DNS: the rrsets reply is not the API's JSON");
    dns_http_reply_clear(&r);
    return rc;
}

static bool has_value(const struct rrset *s, const char *quoted)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->vals[i], quoted) == 0)
            return true;
    return false;
}

/* Reads, changes and sends the rrset; again on 409/412. *change_id the change's id. */
static int change(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                  const char *value, int64_t ttl, bool add, char **change_id, struct err *e)
{
    struct gdns g;
    char zone[200], quoted[VALUE_CAP];
    struct rrset *old = malloc(sizeof *old), *new = malloc(sizeof *new);
    int rc = -1;
    if (change_id)
        *change_id = NULL;
    if (!old || !new) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    snprintf(quoted, sizeof quoted, "\"%s\"", value);
    if (g_open(ctx, cfg, &g, e) < 0 || zone_of(&g, fqdn, zone, sizeof zone, e) < 0)
        goto out;
    for (int attempt = 1;; attempt++) {
        if (rrset_read(&g, zone, fqdn, old, e) < 0)
            goto out;
        if (add == has_value(old, quoted)) {
            rc = 0;
            goto out;
        }
        memset(new, 0, sizeof *new);
        new->ttl = old->n ? old->ttl : (long)ttl;
        for (size_t i = 0; i < old->n; i++)
            if (strcmp(old->vals[i], quoted) != 0)
                memcpy(new->vals[new->n++], old->vals[i], VALUE_CAP);
        if (add) {
            if (new->n >= MAX_VALUES) {
                rc = err_set(e, ERR_RETRY, "%s already holds %d TXT values", fqdn, MAX_VALUES);
                goto out;
            }
            snprintf(new->vals[new->n++], VALUE_CAP, "%s", quoted);
        }
        cJSON *body = cJSON_CreateObject(), *adds = cJSON_AddArrayToObject(body, "additions");
        cJSON *dels = cJSON_AddArrayToObject(body, "deletions");
        if (new->n)
            cJSON_AddItemToArray(adds, rrset_json(fqdn, new));
        if (old->n)
            cJSON_AddItemToArray(dels, rrset_json(fqdn, old));
        char *text = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        if (!text) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
        char ez[300], path[500];
        struct dns_http_reply r;
        dns_url_escape(zone, ez, sizeof ez);
        snprintf(path, sizeof path, "/managedZones/%s/changes", ez);
        int crc = g_call(&g, "POST", path, text, &r, e);
        free(text);
        if (crc < 0)
            goto out;
        if (r.status == 409 || r.status == 412) {
            dns_http_reply_clear(&r);
            if (attempt >= CHANGE_TRIES) {
                rc = err_set(e, ERR_RETRY, "Google Cloud DNS: the TXT rrset %s kept changing "
                             "while it was written (%d conflicts)", fqdn, attempt);
                goto out;
            }
            continue;
        }
        if (r.status != 200) {
            dns_google_error("Google Cloud DNS: changes.create", r.status, r.body, r.len, e);
            dns_http_reply_clear(&r);
            goto out;
        }
        char id[100] = "";
        bool done = false;
        if (dns_google_change_parse(r.body, r.len, id, sizeof id, &done) < 0) {
            dns_http_reply_clear(&r);
            rc = err_set(e, ERR_RETRY, "Google Cloud DNS: the change reply is not the API's "
                         "JSON");
            goto out;
        }
        dns_http_reply_clear(&r);
        if (change_id && !done) {
            /* "<project> <zone> <id>": what synced asks about (none has a space). */
            size_t cap = strlen(g.project) + strlen(zone) + strlen(id) + 3;
            *change_id = malloc(cap);
            if (!*change_id) {
                err_set(e, ERR_INTERNAL, "out of memory");
                goto out;
            }
            snprintf(*change_id, cap, "%s %s %s", g.project, zone, id);
        }
        rc = 0;
        goto out;
    }
out:
    free(old);
    free(new);
    return rc;
}

static int g_publish(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                     const char *value, int64_t ttl, char **change_id, struct err *e)
{
    return change(ctx, cfg, fqdn, value, ttl, true, change_id, e);
}

static int g_remove(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                    const char *value, int64_t ttl, struct err *e)
{
    return change(ctx, cfg, fqdn, value, ttl, false, NULL, e);
}

static int g_synced(const struct dns_ctx *ctx, const cJSON *cfg, const char *change_id,
                    bool *done, struct err *e)
{
    char project[200], zone[200], id[100], ez[300], eid[200], path[700];
    struct gdns g;
    struct dns_http_reply r;
    *done = false;
    if (sscanf(change_id, "%199s %199s %99s", project, zone, id) != 3)
        return err_set(e, ERR_INTERNAL, "Google Cloud DNS: bad change id");
    if (g_open(ctx, cfg, &g, e) < 0)
        return -1;
    dns_url_escape(zone, ez, sizeof ez);
    dns_url_escape(id, eid, sizeof eid);
    snprintf(path, sizeof path, "/managedZones/%s/changes/%s", ez, eid);
    if (g_call(&g, "GET", path, NULL, &r, e) < 0)
        return -1;
    int rc = 0;
    char got[100];
    if (r.status != 200)
        rc = dns_google_error("Google Cloud DNS: changes.get", r.status, r.body, r.len, e);
    else if (dns_google_change_parse(r.body, r.len, got, sizeof got, done) < 0)
        rc = err_set(e, ERR_RETRY, "Google Cloud DNS: the change reply is not the API's JSON");
    dns_http_reply_clear(&r);
    return rc;
}

/* ---- configuration ---------------------------------------------------------------------- */

/* The part of an email-like service account id: name@project.iam.gserviceaccount.com. */
static bool sa_email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || !strchr(at, '.') || strlen(s) > 254)
        return false;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('0' <= *s && *s <= '9') || strchr("-.@_", *s)))
            return false;
    return true;
}

/* Google's rule for project ids: 6-30 of a-z, 0-9, '-', starting with a letter (older ones
 * may carry a "domain:" prefix). */
static bool project_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    const char *id = colon ? colon + 1 : s;
    size_t n = strlen(id);
    if (n < 6 || n > 30 || !('a' <= id[0] && id[0] <= 'z') || id[n - 1] == '-')
        return false;
    for (const char *p = id; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('0' <= *p && *p <= '9') || *p == '-'))
            return false;
    return true;
}

/* Managed zone names: 1-63 of a-z, 0-9, '-', starting with a letter. */
static bool zone_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || !('a' <= s[0] && s[0] <= 'z') || s[n - 1] == '-')
        return false;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('0' <= *s && *s <= '9') || *s == '-'))
            return false;
    return true;
}

static int g_validate(cJSON *cfg, struct err *e)
{
    const char *cred = dns_cfg_str(cfg, "credentials");
    const char *project = dns_cfg_str(cfg, "project");
    const char *zone = dns_cfg_str(cfg, "zone_name");
    const char *imp = dns_cfg_str(cfg, "impersonate_service_account");
    if (project[0] && !project_ok(project))
        return err_set(e, ERR_INVALID, "project: \"%.64s\" is not a Google Cloud project id "
                       "(6-30 lower-case letters, digits and hyphens)", project);
    if (zone[0] && !zone_name_ok(zone))
        return err_set(e, ERR_INVALID, "zone_name: \"%.64s\" is not a managed zone name (the "
                       "zone's name, e.g. example-com, not its DNS name)", zone);
    if (imp[0] && !sa_email_ok(imp))
        return err_set(e, ERR_INVALID, "impersonate_service_account: \"%.100s\" is not a "
                       "service account email (name@project.iam.gserviceaccount.com)", imp);
    if (!cred[0])
        return 0;
    cJSON *j = cJSON_Parse(cred);
    int rc = -1;
    struct crypto_key *k = NULL;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
    const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "client_email"));
    const char *pem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "private_key"));
    const char *uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "token_uri"));
    if (!cJSON_IsObject(j)) {
        err_set(e, ERR_INVALID, "credentials: not a JSON object (paste the service account's "
                "key file)");
    } else if (!type || strcmp(type, "service_account") != 0) {
        err_set(e, ERR_INVALID, "credentials: type must be \"service_account\" (a service "
                "account key file; leave credentials empty for Application Default "
                "Credentials)");
    } else if (!email || !sa_email_ok(email)) {
        err_set(e, ERR_INVALID, "credentials: client_email is missing or not a service "
                "account email");
    } else if (!pem || crypto_key_from_pem(pem, strlen(pem), &k, e) < 0 ||
               strcmp(crypto_jws_alg(k), "RS256") != 0) {
        err_set(e, ERR_INVALID, "credentials: private_key is missing or not an RSA private "
                "key in PEM");
    } else if (uri && strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0) {
        err_set(e, ERR_INVALID, "credentials: token_uri is not an http(s) URL");
    } else {
        /* Stored compact: one line, whatever whitespace the key file had. */
        char *compact = cJSON_PrintUnformatted(j);
        if (!compact || !cJSON_ReplaceItemInObjectCaseSensitive(
                            cfg, "credentials", cJSON_CreateString(compact)))
            err_set(e, ERR_INTERNAL, "out of memory");
        else
            rc = 0;
        if (compact)
            dns_secret_free(compact);
    }
    crypto_key_free(k);
    if (j && pem)
        OPENSSL_cleanse((char *)pem, strlen(pem));
    cJSON_Delete(j);
    return rc;
}

const struct dns_provider_type dns_type_google = {
    .type = "google-cloud-dns",
    .default_ttl = "10s",
    .validate = g_validate,
    .publish = g_publish,
    .remove = g_remove,
    .synced = g_synced,
};
