/* google_reply.c: parsing Google's JSON replies (tokens, managedZones.list, rrsets.list,
 * changes) into plain values, apart from the calls so the fuzz target can reach them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "internal.h"

int dns_google_token_parse(const char *body, size_t len, const char *token_field,
                           const char *expiry_field, char **token, int64_t *lifetime_s,
                           struct err *e)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(j, token_field);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, expiry_field);
    int64_t life = 0;
    if (cJSON_IsNumber(x)) {
        life = x->valuedouble > 0 && x->valuedouble < 1e9 ? (int64_t)x->valuedouble : 0;
    } else if (cJSON_IsString(x)) {
        /* RFC 3339 in UTC ("2026-12-02T18:00:00Z", fractions allowed). */
        struct tm tm = { 0 };
        const char *end = strptime(x->valuestring, "%Y-%m-%dT%H:%M:%S", &tm);
        if (end) {
            int64_t at = (int64_t)timegm(&tm), now = (int64_t)time(NULL);
            life = at > now ? at - now : 0;
        }
    }
    *token = NULL;
    *lifetime_s = life;
    int rc = 0;
    if (!cJSON_IsString(t) || !t->valuestring[0])
        rc = err_set(e, ERR_UPSTREAM, "Google: the token reply holds no %s", token_field);
    else if (!(*token = strdup(t->valuestring)))
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    if (cJSON_IsString(t))
        OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
    cJSON_Delete(j);
    return rc;
}

int dns_google_zone_parse(const char *body, size_t len, const char *dns_name, char *zone,
                          size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const cJSON *z;
    int found = 0;
    cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(j, "managedZones")) {
        const char *dn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "dnsName"));
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "name"));
        const char *vis = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "visibility"));
        if (dn && n && strcasecmp(dn, dns_name) == 0 && strlen(n) < cap &&
            (!vis || strcmp(vis, "public") == 0)) {
            snprintf(zone, cap, "%s", n);
            found = 1;
            break;
        }
    }
    cJSON_Delete(j);
    return found;
}

int dns_google_rrset_parse(const char *body, size_t len, const char *fqdn,
                           char (*vals)[300], size_t max, size_t *n, long *ttl)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const cJSON *set, *rd;
    *n = 0;
    *ttl = 0;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(j, "rrsets")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(set, "name"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(set, "type"));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(set, "ttl");
        if (!name || !type || strcasecmp(name, fqdn) != 0 || strcmp(type, "TXT") != 0)
            continue;
        *ttl = cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 1e7
                   ? (long)t->valuedouble : 0;
        cJSON_ArrayForEach(rd, cJSON_GetObjectItemCaseSensitive(set, "rrdatas")) {
            if (cJSON_IsString(rd) && *n < max && strlen(rd->valuestring) < 300)
                snprintf(vals[(*n)++], 300, "%s", rd->valuestring);
        }
    }
    cJSON_Delete(j);
    return 0;
}

int dns_google_change_parse(const char *body, size_t len, char *id, size_t cap, bool *done)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const char *i = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    int rc = -1;
    if (i && st && strlen(i) < cap && !strchr(i, ' ') && i[0]) {
        snprintf(id, cap, "%s", i);
        *done = strcmp(st, "done") == 0;
        rc = 0;
    }
    cJSON_Delete(j);
    return rc;
}
