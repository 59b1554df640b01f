/* account.c: ACME accounts as stored at account/<name> (a seal-wrapped prefix: it holds
 * private keys). The stored form:
 *   {"name", "directory_url", "email_contacts": [..], "trusted_ca", "default_nameserver",
 *    "account_url", "status", "active_key_version": N,
 *    "keys": {"0": {"key_type", "key_version": 0, "key_creation_date": <unix>,
 *                   "private_key": "<PKCS#8 PEM>"}, "1": ...},
 *    "creation_date": <unix>, "last_updated_date": <unix>}
 * Old key versions stay after rotate-key, for the record. EAB secrets are never stored. */
#include "../internal.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
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
        account_json_free(j);
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

int account_conn_open(const char *directory_url, const char *trusted_ca,
                      const char *account_url, const char *key_pem, struct account_conn *out,
                      struct err *e)
{
    out->acme = NULL;
    out->key = NULL;
    if (crypto_key_from_pem(key_pem, strlen(key_pem), &out->key, e) < 0)
        return err_wrap(e, "account key");
    struct acme_client_opts o = {
        .directory_url = directory_url,
        .account_key = out->key,
        .account_url = account_url && account_url[0] ? account_url : NULL,
        .trusted_ca_pem = trusted_ca && trusted_ca[0] ? trusted_ca : NULL,
    };
    if (acme_client_new(&o, &out->acme, e) < 0) {
        crypto_key_free(out->key);
        out->key = NULL;
        return -1;
    }
    return 0;
}

int account_conn(const struct account *a, struct account_conn *out, struct err *e)
{
    return account_conn_open(a->directory_url, a->trusted_ca, a->account_url, a->key_pem, out,
                             e);
}

void account_conn_close(struct account_conn *c)
{
    if (!c)
        return;
    /* The client first: it borrows the key. EVP_PKEY_free clears the key's secrets. */
    acme_client_free(c->acme);
    crypto_key_free(c->key);
    c->acme = NULL;
    c->key = NULL;
}

/* Wipes every private_key string of a stored account (keys.*.private_key) in place. */
static void wipe_keys(cJSON *stored)
{
    cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(stored, "keys")) {
        cJSON *pk = cJSON_GetObjectItemCaseSensitive(k, "private_key");
        if (cJSON_IsString(pk) && pk->valuestring)
            OPENSSL_cleanse(pk->valuestring, strlen(pk->valuestring));
    }
}

void account_json_free(cJSON *stored)
{
    if (!stored)
        return;
    wipe_keys(stored);
    cJSON_Delete(stored);
}

void account_free(struct account *a)
{
    if (!a)
        return;
    account_json_free(a->stored);
    free(a);
}
