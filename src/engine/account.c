/* account.c: ACME accounts as stored at account/<name> (a seal-wrapped prefix: it holds
 * private keys). The stored form:
 *   {"name", "directory_url", "email_contacts": [..], "trusted_ca", "default_nameserver",
 *    "account_url", "status", "active_key_version": N,
 *    "keys": {"0": {"key_type", "key_version": 0, "key_creation_date": <unix>,
 *                   "private_key": "<PKCS#8 PEM>"}, "1": ...},
 *    "creation_date": <unix>, "last_updated_date": <unix>}
 * Old key versions stay after rotate-key, for the record. EAB secrets are never stored. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"

/* Owns every pointer (and the JSON it was read from). */
struct account {
    cJSON *stored;
    const char *name, *directory_url, *trusted_ca, *account_url;  /* borrowed from stored */
    const char *key_pem;                                           /* active key */
};

/* ---- key registry ------------------------------------------------------------------------ *
 * acme_client borrows its key for its whole life, but account_client() hands the client to
 * callers that free the account first. Parsed keys therefore live in a process-wide
 * registry keyed by their PEM: a handful of account keys, parsed once, never freed while
 * the plugin runs. A lock-protected list is enough for that size. */
struct key_entry {
    char *pem;
    struct crypto_key *key;
    struct key_entry *next;
};

static pthread_mutex_t key_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_entry *key_registry;

/* A parsed key for a PEM, from the registry (borrowed; lives until the process ends). */
static int account_key_get(const char *pem, struct crypto_key **out, struct err *e)
{
    int rc = 0;
    *out = NULL;
    pthread_mutex_lock(&key_registry_lock);
    for (struct key_entry *k = key_registry; k; k = k->next) {
        if (strcmp(k->pem, pem) == 0) {
            *out = k->key;
            goto out;
        }
    }
    struct key_entry *k = calloc(1, sizeof *k);
    if (!k || !(k->pem = strdup(pem))) {
        free(k);
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (crypto_key_from_pem(pem, strlen(pem), &k->key, e) < 0) {
        free(k->pem);
        free(k);
        rc = -1;
        goto out;
    }
    k->next = key_registry;
    key_registry = k;
    *out = k->key;
out:
    pthread_mutex_unlock(&key_registry_lock);
    return rc;
}

/* ---- stored form -------------------------------------------------------------------------- */

static const char *json_string(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

const cJSON *account_json_active_key(const cJSON *stored)
{
    char ver[24];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stored, "active_key_version");
    snprintf(ver, sizeof ver, "%d", cJSON_IsNumber(v) ? v->valueint : 0);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(stored, "keys"),
                                            ver);
}

int account_load_json(struct fw_storage *s, const char *name, cJSON **out, struct err *e)
{
    char key[300];
    *out = NULL;
    if (engine_name_check("name", name, e) < 0)
        return -1;
    snprintf(key, sizeof key, "account/%s", name);
    if (fw_storage_get_json(s, key, out, e) < 0)
        return err_wrap(e, "account %s", name);
    if (!*out)
        return err_set(e, ERR_NOT_FOUND, "account %s: not found", name);
    return 0;
}

int account_load(struct fw_storage *s, const char *name, struct account **out, struct err *e)
{
    cJSON *j = NULL;
    *out = NULL;
    if (account_load_json(s, name, &j, e) < 0)
        return -1;
    struct account *a = calloc(1, sizeof *a);
    if (!a) {
        cJSON_Delete(j);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    a->stored = j;
    a->name = json_string(j, "name");
    a->directory_url = json_string(j, "directory_url");
    a->trusted_ca = json_string(j, "trusted_ca");
    a->account_url = json_string(j, "account_url");
    a->key_pem = json_string(account_json_active_key(j), "private_key");
    if (!a->key_pem[0]) {
        account_free(a);
        return err_set(e, ERR_INTERNAL, "account %s: no active key in storage", name);
    }
    *out = a;
    return 0;
}

int account_client_for(const char *directory_url, const char *trusted_ca,
                       const char *account_url, const char *key_pem,
                       struct acme_client **out, struct err *e)
{
    struct crypto_key *key = NULL;
    *out = NULL;
    if (account_key_get(key_pem, &key, e) < 0)
        return err_wrap(e, "account key");
    struct acme_client_opts o = {
        .directory_url = directory_url,
        .account_key = key,
        .account_url = account_url && account_url[0] ? account_url : NULL,
        .trusted_ca_pem = trusted_ca && trusted_ca[0] ? trusted_ca : NULL,
    };
    return acme_client_new(&o, out, e);
}

int account_client(const struct account *a, struct acme_client **out, struct err *e)
{
    return account_client_for(a->directory_url, a->trusted_ca, a->account_url, a->key_pem, out,
                              e);
}

int account_thumbprint(struct fw_storage *s, const char *name, char **out, struct err *e)
{
    struct account *a = NULL;
    struct crypto_key *key = NULL;
    *out = NULL;
    if (account_load(s, name, &a, e) < 0)
        return -1;
    int rc = account_key_get(a->key_pem, &key, e);
    if (rc == 0 && !(*out = crypto_jwk_thumbprint(key)))
        rc = err_set(e, ERR_INTERNAL, "account %s: thumbprint failed", name);
    account_free(a);
    return rc;
}

void account_free(struct account *a)
{
    if (!a)
        return;
    cJSON_Delete(a->stored);
    free(a);
}
