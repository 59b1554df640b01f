/* role.c: roles as stored at role/<name>, and small helpers the account and role paths
 * share (names, dates). The stored form is the reply form minus the date formatting:
 *   {"name", "acme_account_name", "allowed_domains": [..], "allowed_domain_options": [..],
 *    "allowed_challenge_types": [..], "csr_generate_key_type", "csr_identifier_population",
 *    "dns_provider_name", "dns_provider_type", "creation_date": <unix>,
 *    "last_updated_date": <unix>,
 *    "allowed_ip_ranges": [canonical CIDRs], "acme_profile", "reuse_pending_orders": bool}
 * Lists keep the order the client gave; role_load derives the option bits from them. Roles
 * stored before a field existed lack it: it reads as its default. */
#include "../internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int engine_name_check(const char *field, const char *name, struct err *e)
{
    size_t len = strlen(name);
    if (len == 0)
        return err_set(e, ERR_INVALID, "%s: must not be empty", field);
    if (len > 128)
        return err_set(e, ERR_INVALID, "%s: longer than 128 characters", field);
    if (strstr(name, ".."))
        return err_set(e, ERR_INVALID, "%s: must not contain \"..\"", field);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
        if (c == '/')
            return err_set(e, ERR_INVALID, "%s: must not contain '/'", field);
        if (!word && !((c == '-' || c == '.') && i > 0 && i < len - 1))
            return err_set(e, ERR_INVALID, "%s: only letters, digits, '_', and '-' or '.' "
                           "inside the name are allowed", field);
    }
    return 0;
}

void engine_time_format(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "0001-01-01T00:00:00Z");
}

/* Sub-folders never hold accounts or roles, but one could appear if someone wrote one:
 * only leaf keys are names. */
int engine_list_names(const struct fw_req *req, const char *prefix, struct fw_resp *resp,
                      struct err *e)
{
    char **keys = NULL, **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    if (req->storage->list(req->storage->ctx, prefix, &keys, e) < 0)
        return -1;
    for (size_t i = 0; keys && keys[i]; i++) {
        size_t len = strlen(keys[i]);
        if (len == 0 || keys[i][len - 1] == '/')
            continue;
        if (engine_strv_push(&names, &n, &cap, keys[i]) < 0) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    rc = engine_keys_reply(names, resp, e);
out:
    fw_strv_free(names);
    fw_strv_free(keys);
    return rc;
}

/* A stored JSON array of strings as a new NULL-terminated vector (empty, never NULL). */
static char **strv_from_json(const cJSON *arr)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v)
        return NULL;
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it))
            continue;
        v[k] = strdup(it->valuestring);
        if (!v[k]) {
            fw_strv_free(v);
            return NULL;
        }
        k++;
    }
    return v;
}

static char *str_dup_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

/* The option bits of an allowed_domain_options JSON array (unknown names ignored). */
static unsigned role_domain_opts_parse(const cJSON *arr)
{
    static const struct { const char *name; unsigned bit; } opts[] = {
        { "bare_domains", ROLE_DOM_BARE }, { "subdomains", ROLE_DOM_SUBDOMAINS },
        { "wildcards", ROLE_DOM_WILDCARDS }, { "globs", ROLE_DOM_GLOBS },
    };
    unsigned bits = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
            if (cJSON_IsString(it) && strcmp(it->valuestring, opts[i].name) == 0)
                bits |= opts[i].bit;
    }
    return bits;
}

/* A role from its stored JSON form (this file's header comment). *out is new. */
static int role_from_json(const cJSON *j, struct role **out, struct err *e)
{
    struct role *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return err_set(e, ERR_INTERNAL, "out of memory");
    r->name = str_dup_member(j, "name");
    r->acme_account_name = str_dup_member(j, "acme_account_name");
    r->dns_provider_name = str_dup_member(j, "dns_provider_name");
    r->dns_provider_type = str_dup_member(j, "dns_provider_type");
    r->allowed_domains = strv_from_json(cJSON_GetObjectItemCaseSensitive(j, "allowed_domains"));
    r->allowed_challenge_types =
        strv_from_json(cJSON_GetObjectItemCaseSensitive(j, "allowed_challenge_types"));
    r->domain_opts =
        role_domain_opts_parse(cJSON_GetObjectItemCaseSensitive(j, "allowed_domain_options"));
    const cJSON *kt = cJSON_GetObjectItemCaseSensitive(j, "csr_generate_key_type");
    r->csr_key_type = crypto_key_type_parse(cJSON_IsString(kt) ? kt->valuestring : "ec-256");
    if (r->csr_key_type == CRYPTO_KEY_NONE)
        r->csr_key_type = CRYPTO_KEY_EC256;
    const cJSON *pop = cJSON_GetObjectItemCaseSensitive(j, "csr_identifier_population");
    r->csr_population = cJSON_IsString(pop) && strcmp(pop->valuestring, "sans_only") == 0
                            ? CRYPTO_CSR_SANS_ONLY : CRYPTO_CSR_CN_FIRST;
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(j, "creation_date");
    const cJSON *ud = cJSON_GetObjectItemCaseSensitive(j, "last_updated_date");
    r->creation_date = cJSON_IsNumber(cd) ? (int64_t)cd->valuedouble : 0;
    r->last_updated_date = cJSON_IsNumber(ud) ? (int64_t)ud->valuedouble : 0;
    r->allowed_ip_ranges =
        strv_from_json(cJSON_GetObjectItemCaseSensitive(j, "allowed_ip_ranges"));
    r->acme_profile = str_dup_member(j, "acme_profile");
    r->reuse_pending_orders =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "reuse_pending_orders"));
    if (!r->allowed_ip_ranges || !r->acme_profile || !r->name || !r->acme_account_name || !r->dns_provider_name || !r->dns_provider_type ||
        !r->allowed_domains || !r->allowed_challenge_types) {
        role_free(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    *out = r;
    return 0;
}

int role_load(struct fw_storage *s, const char *name, struct role **out, struct err *e)
{
    char key[300];
    cJSON *j = NULL;
    *out = NULL;
    if (engine_name_check("name", name, e) < 0)
        return -1;
    snprintf(key, sizeof key, "role/%s", name);
    if (fw_storage_get_json(s, key, &j, e) < 0)
        return err_wrap(e, "role %s", name);
    if (!j)
        return err_set(e, ERR_NOT_FOUND, "role %s: not found", name);
    int rc = role_from_json(j, out, e);
    cJSON_Delete(j);
    return rc;
}

int role_require(struct fw_storage *s, const char *name, struct err *e)
{
    struct role *r = NULL;
    if (role_load(s, name, &r, e) < 0)
        return -1;
    role_free(r);
    return 0;
}

void role_free(struct role *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->acme_account_name);
    fw_strv_free(r->allowed_domains);
    fw_strv_free(r->allowed_challenge_types);
    free(r->dns_provider_name);
    free(r->dns_provider_type);
    fw_strv_free(r->allowed_ip_ranges);
    free(r->acme_profile);
    free(r);
}

/* Roles are few (operators write them by hand or in Terraform), so a scan of role/ is the
 * simplest correct index; it keeps no second copy of the account link to go stale. */
int roles_using_account(struct fw_storage *s, const char *account, char ***names,
                        struct err *e)
{
    char **keys = NULL;
    *names = NULL;
    if (s->list(s->ctx, "role/", &keys, e) < 0)
        return err_wrap(e, "list roles");
    size_t n = 0;
    while (keys && keys[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out) {
        fw_strv_free(keys);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char key[512];
        cJSON *j = NULL;
        if (keys[i][0] == '\0' || keys[i][strlen(keys[i]) - 1] == '/')
            continue;
        snprintf(key, sizeof key, "role/%s", keys[i]);
        if (fw_storage_get_json(s, key, &j, e) < 0) {
            fw_strv_free(keys);
            fw_strv_free(out);
            return err_wrap(e, "read %s", key);
        }
        const cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "acme_account_name");
        if (cJSON_IsString(acc) && strcmp(acc->valuestring, account) == 0) {
            out[k] = strdup(keys[i]);
            if (!out[k]) {
                cJSON_Delete(j);
                fw_strv_free(keys);
                fw_strv_free(out);
                return err_set(e, ERR_INTERNAL, "out of memory");
            }
            k++;
        }
        cJSON_Delete(j);
    }
    fw_strv_free(keys);
    *names = out;
    return 0;
}
