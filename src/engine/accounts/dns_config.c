/* dns_config.c: stored DNS provider configurations (dns-provider/<type>/<name>): which
 * provider serves an identifier, which roles link one, and which servers the propagation
 * check asks. The API paths are in path_dns.c; the providers themselves in src/dns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "dns.h"
#include "../internal.h"
#include "log.h"

static const char *const rfc2136_fields[] = { "tsig_key_name", "tsig_algorithm", NULL };
static const char *const rfc2136_secrets[] = { "tsig_secret", NULL };
static const char *const route53_fields[] = { "access_key_id", "region", "hosted_zone_id",
                                              "assume_role_arn", "external_id", NULL };
static const char *const route53_secrets[] = { "secret_access_key", NULL };
static const char *const azure_fields[] = { "zone_name", "resource_group_name", "client_id",
                                            "tenant_id", "subscription_id", "environment",
                                            NULL };
static const char *const azure_secrets[] = { "client_secret", NULL };
static const char *const google_fields[] = { "project", "zone_name",
                                             "impersonate_service_account", NULL };
static const char *const google_secrets[] = { "credentials", NULL };
static const char *const cloudflare_fields[] = { "zone_id", NULL };
static const char *const cloudflare_secrets[] = { "api_token", NULL };

/* One row per supported type. */
static const struct dns_kind kinds[] = {
    { &dns_type_rfc2136, rfc2136_fields, rfc2136_secrets },
    { &dns_type_route53, route53_fields, route53_secrets },
    { &dns_type_azure, azure_fields, azure_secrets },
    { &dns_type_google, google_fields, google_secrets },
    { &dns_type_cloudflare, cloudflare_fields, cloudflare_secrets },
};

const struct dns_kind *dns_kind_find(const char *type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].impl->type, type) == 0)
            return &kinds[i];
    return NULL;
}

int dns_kind_check(const char *field, const char *type, struct err *e)
{
    char names[200];
    if (dns_kind_find(type))
        return 0;
    return err_set(e, ERR_INVALID, "%s: unknown DNS provider type \"%.64s\" (supported: %s)",
                   field, type, dns_provider_type_names(names, sizeof names));
}

void dns_config_forget(struct engine *eng, const char *type, const char *name)
{
    if (eng)
        dns_token_cache_drop(eng->dns_tokens, type, name);
}

int dns_config_load(struct fw_storage *s, const char *type, const char *name, cJSON **out,
                    struct err *e)
{
    char key[300];
    *out = NULL;
    snprintf(key, sizeof key, DNS_CONFIG_PREFIX "%s/%s", type, name);
    if (fw_storage_get_json(s, key, out, e) < 0)
        return -1;
    if (!*out)
        return err_set(e, ERR_NOT_FOUND, "no DNS provider %s/%s", type, name);
    return 0;
}

static int64_t num_field(const cJSON *cfg, const char *field, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, field);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (int64_t)v->valuedouble : def;
}

int64_t dns_config_ttl(const cJSON *cfg)
{
    return num_field(cfg, "ttl", 60);
}

int64_t dns_config_timeout(const cJSON *cfg)
{
    return num_field(cfg, "propagation_timeout", 300);
}

/* How well cfg's identifiers cover name (dns_pattern_match's score, best pattern). */
static int config_score(const cJSON *cfg, const char *name)
{
    const cJSON *it;
    int best = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, "identifiers")) {
        if (!cJSON_IsString(it))
            continue;
        int sc = dns_pattern_match(it->valuestring, name);
        if (sc > best)
            best = sc;
    }
    return best;
}

/* The name the TXT record is for: lower case, no "*.", no trailing dot. */
static void base_name(const char *identifier, char *buf, size_t cap)
{
    const char *b = strncmp(identifier, "*.", 2) == 0 ? identifier + 2 : identifier;
    snprintf(buf, cap, "%s", b);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int dns_config_pick(struct fw_storage *s, const struct role *r, const char *identifier,
                    char *type, size_t tcap, char *name, size_t ncap, struct err *e)
{
    char base[300];
    type[0] = name[0] = '\0';
    base_name(identifier, base, sizeof base);
    if (r && r->dns_provider_name && r->dns_provider_name[0]) {
        cJSON *cfg = NULL;
        struct err le;
        if (dns_config_load(s, r->dns_provider_type, r->dns_provider_name, &cfg, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                return -1;
            }
            log_warn("engine", "the role's DNS provider no longer exists; dns-01 stays manual",
                     "role", r->name, "provider", r->dns_provider_name, NULL);
            return 0;
        }
        if (config_score(cfg, base) > 0) {
            snprintf(type, tcap, "%s", r->dns_provider_type);
            snprintf(name, ncap, "%s", r->dns_provider_name);
        }
        cJSON_Delete(cfg);
        return 0;
    }
    int best = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char prefix[100], **keys = NULL;
        snprintf(prefix, sizeof prefix, DNS_CONFIG_PREFIX "%s/", kinds[k].impl->type);
        if (s->list(s->ctx, prefix, &keys, e) < 0)
            return -1;
        size_t n = 0;
        while (keys && keys[n])
            n++;
        if (n)
            qsort(keys, n, sizeof *keys, cmp_str);
        for (size_t i = 0; i < n; i++) {
            cJSON *cfg = NULL;
            struct err le;
            if (dns_config_load(s, kinds[k].impl->type, keys[i], &cfg, &le) < 0) {
                if (le.kind == ERR_NOT_FOUND)
                    continue;
                fw_strv_free(keys);
                *e = le;
                return -1;
            }
            int sc = config_score(cfg, base);
            cJSON_Delete(cfg);
            if (sc > best) {
                best = sc;
                snprintf(type, tcap, "%s", kinds[k].impl->type);
                snprintf(name, ncap, "%s", keys[i]);
            }
        }
        fw_strv_free(keys);
    }
    return 0;
}

int roles_using_dns(struct fw_storage *s, const char *type, const char *name, char ***names,
                    struct err *e)
{
    char **keys = NULL, **out = NULL;
    size_t n = 0, cap = 0;
    *names = NULL;
    if (s->list(s->ctx, "role/", &keys, e) < 0)
        return -1;
    for (size_t i = 0; keys && keys[i]; i++) {
        struct role *r = NULL;
        struct err le;
        if (role_load(s, keys[i], &r, &le) < 0)
            continue;
        bool uses = r->dns_provider_name && strcmp(r->dns_provider_name, name) == 0 &&
                    r->dns_provider_type && strcmp(r->dns_provider_type, type) == 0;
        role_free(r);
        if (uses && engine_strv_push(&out, &n, &cap, keys[i]) < 0) {
            fw_strv_free(out);
            fw_strv_free(keys);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    fw_strv_free(keys);
    *names = out;
    return 0;
}

static void servers_text(const struct dns_server *v, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        char one[300];
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                         dns_server_str(&v[i], one, sizeof one));
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used >= cap)
        buf[cap - 1] = '\0';
}

int dns_check_servers(struct fw_storage *s, const cJSON *cfg, const char *account,
                      const char *fqdn, struct dns_server *out, size_t cap, size_t *n,
                      char *asked, size_t acap, struct err *e)
{
    struct dns_server resolvers[9];
    size_t nr = 0;
    *n = 0;
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(cfg, "nameserver");
    if (cJSON_IsString(ns) && ns->valuestring[0] && cap > 0) {
        if (dns_server_parse("nameserver", ns->valuestring, true, &out[0], e) < 0)
            return -1;
        *n = 1;
        servers_text(out, *n, asked, acap);
        return 0;
    }
    if (dns_system_resolvers(resolvers, 8, &nr, e) < 0)
        return -1;
    cJSON *acct = NULL;
    struct err le;
    struct dns_server dflt;
    bool have_dflt = false;
    if (account && account[0] && account_load_json(s, account, &acct, &le) == 0) {
        const cJSON *dn = cJSON_GetObjectItemCaseSensitive(acct, "default_nameserver");
        have_dflt = cJSON_IsString(dn) && dn->valuestring[0] &&
                    dns_server_parse("default_nameserver", dn->valuestring, true, &dflt,
                                     &le) == 0;
        if (have_dflt)
            resolvers[nr++] = dflt;
    }
    cJSON_Delete(acct);
    /* The zone's authoritative servers, then (PR #3225) the account's default_nameserver
     * appended; with neither, the system resolvers. */
    if (dns_find_authoritative(resolvers, nr, fqdn, out, cap > 1 ? cap - 1 : cap, n, e) < 0)
        return -1;
    if (have_dflt && *n < cap)
        out[(*n)++] = dflt;
    for (size_t i = 0; *n == 0 && i < nr && i < cap; i++)
        out[i] = resolvers[i];
    if (*n == 0)
        *n = nr < cap ? nr : cap;
    servers_text(out, *n, asked, acap);
    return 0;
}
