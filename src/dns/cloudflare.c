/* cloudflare.c: Cloudflare DNS (API v4, https://api.cloudflare.com/client/v4).
 *
 * Authentication: an API token (api_token) sent as a bearer token; it needs the Zone:Read
 * and DNS:Edit permissions on the zone. The zone is zone_id, or the zone whose name is the
 * longest suffix of the record name, found with GET /zones?name=<suffix> (one call per
 * suffix, longest first).
 *
 * Records: Cloudflare keeps one record per TXT value (no record sets), so adding a value is
 * a POST of one record and removing it a DELETE of the record holding that value; values
 * other orders put at the same name are other records and are never touched. Every reply
 * is the v4 envelope {"success", "errors": [{"code", "message"}], "messages", "result"}.
 * Records are live on Cloudflare's name servers when the API answers: no `synced`.
 *
 * Endpoint: CLOUDFLARE_BASE_URL (lego's variable for the same API) overrides the base. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "internal.h"

static const char DEFAULT_BASE[] = "https://api.cloudflare.com/client/v4";
enum { ID_CAP = 80 };

static void base_url(char *buf, size_t cap)
{
    const char *v = getenv("CLOUDFLARE_BASE_URL");
    snprintf(buf, cap, "%s", v && v[0] ? v : DEFAULT_BASE);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/')
        buf[--n] = '\0';
}

/* What an operator does about a Cloudflare error code. */
static const char *cf_hint(long status, long code)
{
    if (code == 1000 || code == 6111 || code == 6003 || code == 9109 || status == 401)
        return "the API token was refused: check api_token (a Cloudflare API token, not the "
               "Global API Key)";
    if (code == 10000 || status == 403)
        return "the API token lacks permission: give it Zone:Read and DNS:Edit on the zone";
    if (code == 7003 || code == 7000 || code == 1001 || status == 404)
        return "zone not found: check zone_id, or leave it empty to find the zone by name";
    if (code == 9005 || code == 81000 || code == 81057)
        return "the record was refused: check ttl (1, or 60 to 86400 seconds)";
    return NULL;
}

/* A failed v4 reply in words (envelope errors[0] when there is one). Returns -1. */
int dns_cloudflare_error(const char *what, long status, const char *body, size_t len,
                         struct err *e)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(first, "code");
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "message"));
    long code = cJSON_IsNumber(c) && c->valuedouble > -1e9 && c->valuedouble < 1e9
                    ? (long)c->valuedouble : 0;   /* a number of any size may come */
    const char *hint = cf_hint(status, code);
    enum err_kind kind = status == 429 || status >= 500 ? ERR_RETRY : ERR_UPSTREAM;
    if (!hint && kind == ERR_RETRY)
        hint = "Cloudflare is throttling or failing: retried later";
    err_set(e, kind, "%s: HTTP %ld%s%s%s: %.200s (code %ld)", what, status, hint ? " (" : "",
            hint ? hint : "", hint ? ")" : "", msg ? msg : "no error message", code);
    cJSON_Delete(j);
    return -1;
}

/* One call; *result is the envelope's result (detached, new) on success. */
static int cf_call(const struct dns_ctx *ctx, const cJSON *cfg, const char *method,
                   const char *path, const cJSON *body, const char *what, cJSON **result,
                   long *status, struct err *e)
{
    char base[512], url[2048];
    base_url(base, sizeof base);
    snprintf(url, sizeof url, "%s%s", base, path);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    if (body && !text)
        return err_set(e, ERR_INTERNAL, "out of memory");
    static const char *const hdr[] = { "Content-Type: application/json",
                                       "Accept: application/json", NULL };
    struct dns_http_req q = { .method = method, .url = url, .headers = hdr, .body = text,
                              .bearer = dns_cfg_str(cfg, "api_token") };
    struct dns_http_reply r;
    *result = NULL;
    int rc = dns_http_retry(ctx, &q, &r, e);
    free(text);
    if (rc < 0)
        return err_wrap(e, "%s", what);
    *status = r.status;
    cJSON *j = dns_http_json(&r);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
    if (r.status < 200 || r.status > 299 || !cJSON_IsTrue(ok)) {
        rc = r.status >= 200 && r.status <= 299 && !j
                 ? err_set(e, ERR_RETRY, "%s: the reply is not the v4 JSON envelope", what)
                 : dns_cloudflare_error(what, r.status, r.body, r.len, e);
    } else {
        *result = cJSON_DetachItemFromObjectCaseSensitive(j, "result");
    }
    cJSON_Delete(j);
    dns_http_reply_clear(&r);
    return rc;
}

static void strip_dot(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in);
    size_t n = strlen(out);
    if (n && out[n - 1] == '.')
        out[n - 1] = '\0';
}

/* zone_id, else the zone whose name is the longest suffix of name. */
static int zone_of(const struct dns_ctx *ctx, const cJSON *cfg, const char *name, char *id,
                   size_t cap, struct err *e)
{
    snprintf(id, cap, "%s", dns_cfg_str(cfg, "zone_id"));
    if (id[0])
        return 0;
    for (const char *s = name; s && *s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL) {
        if (!strchr(s, '.'))
            break;   /* a TLD is never a Cloudflare zone */
        char esc[800], path[1000];
        dns_url_escape(s, esc, sizeof esc);
        snprintf(path, sizeof path, "/zones?name=%s", esc);
        cJSON *res = NULL;
        long st;
        if (cf_call(ctx, cfg, "GET", path, NULL, "Cloudflare: finding the zone", &res, &st,
                    e) < 0)
            return -1;
        const cJSON *z;
        cJSON_ArrayForEach(z, res) {
            const char *zn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "name"));
            const char *zi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "id"));
            if (zn && zi && strcasecmp(zn, s) == 0 && strlen(zi) < cap) {
                snprintf(id, cap, "%s", zi);
                cJSON_Delete(res);
                return 0;
            }
        }
        cJSON_Delete(res);
    }
    return err_set(e, ERR_UPSTREAM, "Cloudflare: no zone holding %s is visible to the API "
                   "token (zone not found: add the zone to the account, give the token "
                   "Zone:Read on it, or set zone_id)", name);
}

/* The TXT records at name: their ids and contents (result array, new). */
static int records(const struct dns_ctx *ctx, const cJSON *cfg, const char *zone,
                   const char *name, cJSON **res, struct err *e)
{
    char ez[200], en[800], path[1200];
    long st;
    dns_url_escape(zone, ez, sizeof ez);
    dns_url_escape(name, en, sizeof en);
    snprintf(path, sizeof path, "/zones/%s/dns_records?type=TXT&name=%s&per_page=100", ez, en);
    return cf_call(ctx, cfg, "GET", path, NULL, "Cloudflare: listing TXT records", res, &st, e);
}

/* TXT content as Cloudflare returns it may be quoted ("\"value\""); compare unquoted. */
static bool content_is(const cJSON *rec, const char *value)
{
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "content"));
    if (!c)
        return false;
    size_t n = strlen(c), v = strlen(value);
    if (n == v + 2 && c[0] == '"' && c[n - 1] == '"')
        return strncmp(c + 1, value, v) == 0;
    return strcmp(c, value) == 0;
}

static int cf_publish(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                      const char *value, int64_t ttl, char **change, struct err *e)
{
    char name[300], zone[ID_CAP], ez[200], path[400];
    cJSON *res = NULL;
    long st;
    *change = NULL;
    strip_dot(fqdn, name, sizeof name);
    if (zone_of(ctx, cfg, name, zone, sizeof zone, e) < 0 ||
        records(ctx, cfg, zone, name, &res, e) < 0)
        return -1;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, res) {
        if (content_is(rec, value)) {
            cJSON_Delete(res);
            return 0;
        }
    }
    cJSON_Delete(res);
    cJSON *body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "type", "TXT") ||
        !cJSON_AddStringToObject(body, "name", name) ||
        !cJSON_AddStringToObject(body, "content", value) ||
        !cJSON_AddNumberToObject(body, "ttl", (double)ttl)) {
        cJSON_Delete(body);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    dns_url_escape(zone, ez, sizeof ez);
    snprintf(path, sizeof path, "/zones/%s/dns_records", ez);
    int rc = cf_call(ctx, cfg, "POST", path, body, "Cloudflare: creating the TXT record", &res,
                     &st, e);
    cJSON_Delete(body);
    cJSON_Delete(res);
    /* 81058: "An identical record already exists" (another node got there first). */
    if (rc < 0 && strstr(e->msg, "(code 81058)"))
        return 0;
    return rc;
}

static int cf_remove(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                     const char *value, int64_t ttl, struct err *e)
{
    (void)ttl;
    char name[300], zone[ID_CAP], ez[200], eid[200], path[500];
    cJSON *res = NULL;
    strip_dot(fqdn, name, sizeof name);
    if (zone_of(ctx, cfg, name, zone, sizeof zone, e) < 0 ||
        records(ctx, cfg, zone, name, &res, e) < 0)
        return -1;
    dns_url_escape(zone, ez, sizeof ez);
    int rc = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, res) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "id"));
        if (!id || !content_is(rec, value))
            continue;
        cJSON *gone = NULL;
        long st = 0;
        dns_url_escape(id, eid, sizeof eid);
        snprintf(path, sizeof path, "/zones/%s/dns_records/%s", ez, eid);
        rc = cf_call(ctx, cfg, "DELETE", path, NULL, "Cloudflare: deleting the TXT record",
                     &gone, &st, e);
        cJSON_Delete(gone);
        if (rc < 0 && st == 404)
            rc = 0;   /* deleted meanwhile: the goal */
        if (rc < 0)
            break;
    }
    cJSON_Delete(res);
    return rc;
}

static int cf_validate(cJSON *cfg, struct err *e)
{
    const char *tok = dns_cfg_str(cfg, "api_token");
    const char *zone = dns_cfg_str(cfg, "zone_id");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(cfg, "ttl");
    if (!tok[0])
        return err_set(e, ERR_INVALID, "api_token: required (a Cloudflare API token with "
                       "Zone:Read and DNS:Edit on the zone)");
    for (const char *p = tok; *p; p++)
        if (*p == ' ' || *p == '"' || (unsigned char)*p > 0x7e)
            return err_set(e, ERR_INVALID, "api_token: not an API token (spaces, quotes or "
                           "non-ASCII characters)");
    /* Zone ids are 32 lower-case hex digits. */
    if (zone[0]) {
        size_t n = strspn(zone, "0123456789abcdef");
        if (n != 32 || zone[n])
            return err_set(e, ERR_INVALID, "zone_id: \"%.64s\" is not a Cloudflare zone id "
                           "(32 hex digits, from the zone's Overview page)", zone);
    }
    if (cJSON_IsNumber(ttl) && ttl->valuedouble < 60)
        return err_set(e, ERR_INVALID, "ttl: Cloudflare accepts 60s to 86400s");
    return 0;
}

const struct dns_provider_type dns_type_cloudflare = {
    .type = "cloudflare",
    .default_ttl = "120s",
    .validate = cf_validate,
    .publish = cf_publish,
    .remove = cf_remove,
    .synced = NULL,
};
