/* order_cert.c: issued certificates. cert/<serial with hyphens> holds the chain as the CA
 * sent it, split, with the order id: the index lookup/cert/:serial reads, and the only copy
 * of the certificate (the order keeps just the serial). role-cache/<role>/<hash> points at
 * the newest completed identifier-workflow order for a set of identifiers.
 *
 * Stored form of cert/<serial>:
 *   {"order_id","role","serial","certificate": leaf PEM, "ca_chain": [PEM...],
 *    "not_before": unix, "not_after": unix, "authority_key_id": "aa:bb..."} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "../internal.h"
#include "order.h"

/* "cert/<serial with hyphens>" into buf. */
static void order_cert_key(const char *serial, char *buf, size_t len)
{
    size_t i = 0;
    int n = snprintf(buf, len, "cert/");
    for (i = 0; serial[i] && (size_t)n + i + 1 < len; i++)
        buf[n + i] = serial[i] == ':' ? '-' : serial[i];
    buf[n + i] = '\0';
}

int order_cert_store(struct fw_storage *s, struct order *o, const char *chain_pem,
                     int64_t *not_before, int64_t *not_after, struct err *e)
{
    char **certs = NULL;
    struct crypto_cert_info ci;
    cJSON *j = NULL, *chain = NULL;
    char key[300];
    int rc = -1;
    memset(&ci, 0, sizeof ci);

    if (crypto_chain_parse(chain_pem, &certs, &ci, e) < 0) {
        err_wrap(e, "certificate from the CA");
        goto out;
    }
    j = cJSON_CreateObject();
    chain = cJSON_CreateArray();
    bool ok = j && chain && cJSON_AddStringToObject(j, "order_id", o->id) &&
              cJSON_AddStringToObject(j, "role", o->role) &&
              cJSON_AddStringToObject(j, "serial", ci.serial) &&
              cJSON_AddStringToObject(j, "certificate", certs[0]) &&
              cJSON_AddNumberToObject(j, "not_before", (double)ci.not_before) &&
              cJSON_AddNumberToObject(j, "not_after", (double)ci.not_after) &&
              cJSON_AddStringToObject(j, "authority_key_id",
                                      ci.authority_key_id ? ci.authority_key_id : "");
    for (size_t i = 1; ok && certs[i]; i++) {
        cJSON *c = cJSON_CreateString(certs[i]);
        ok = c && cJSON_AddItemToArray(chain, c);
        if (!ok)
            cJSON_Delete(c);
    }
    if (!ok || !cJSON_AddItemToObject(j, "ca_chain", chain)) {
        cJSON_Delete(chain);
        err_set(e, ERR_INTERNAL, "order %s: out of memory storing the certificate", o->id);
        goto out;
    }
    order_cert_key(ci.serial, key, sizeof key);
    if (fw_storage_put_json(s, key, j, false, e) < 0)
        goto out;
    char *serial = strdup(ci.serial);
    if (!serial) {
        err_set(e, ERR_INTERNAL, "order %s: out of memory", o->id);
        goto out;
    }
    free(o->serial);
    o->serial = serial;
    *not_before = (int64_t)ci.not_before;
    *not_after = (int64_t)ci.not_after;
    rc = 0;
out:
    cJSON_Delete(j);
    crypto_cert_info_clear(&ci);
    crypto_strv_free(certs);
    return rc;
}

int order_cert_load(struct fw_storage *s, const char *serial, cJSON **out, struct err *e)
{
    char key[300];
    order_cert_key(serial, key, sizeof key);
    if (fw_storage_get_json(s, key, out, e) < 0)
        return -1;
    if (!*out)
        return err_set(e, ERR_NOT_FOUND, "certificate %s: not found", serial);
    return 0;
}

int order_cert_delete(struct fw_storage *s, const char *serial, const char *order_id,
                      struct err *e)
{
    char key[300];
    cJSON *rec = NULL;
    order_cert_key(serial, key, sizeof key);
    if (fw_storage_get_json(s, key, &rec, e) < 0)
        return -1;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "order_id"));
    bool ours = id && strcmp(id, order_id) == 0;
    cJSON_Delete(rec);
    return ours ? s->del(s->ctx, key, e) : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

int order_cache_key(const char *role, char *const *ids, size_t n, char *buf, size_t len,
                    struct err *e)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char **sorted = calloc(n + 1, sizeof *sorted);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (!sorted || !ctx) {
        err_set(e, ERR_INTERNAL, "order_cache_key: out of memory");
        goto out;
    }
    memcpy(sorted, ids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto crypto;
    for (size_t i = 0; i < n; i++) {
        /* Lower-cased, newline-separated: the set, not its spelling or order, is the key. */
        for (const char *p = sorted[i]; *p; p++) {
            unsigned char c = (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            if (EVP_DigestUpdate(ctx, &c, 1) != 1)
                goto crypto;
        }
        if (EVP_DigestUpdate(ctx, "\n", 1) != 1)
            goto crypto;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        goto crypto;
    int k = snprintf(buf, len, "role-cache/%s/", role);
    for (unsigned i = 0; i < mdlen && (size_t)k + 2 * i + 2 < len; i++)
        snprintf(buf + k + 2 * i, 3, "%02x", md[i]);
    rc = 0;
    goto out;
crypto:
    err_set(e, ERR_INTERNAL, "order_cache_key: sha-256 failed");
out:
    EVP_MD_CTX_free(ctx);
    free(sorted);
    return rc;
}

/* The base64 body of the first PEM block: the DER, base64-encoded, as Vault's PKI returns
 * for format der. New string. */
static char *pem_to_b64_der(const char *pem)
{
    const char *p = strstr(pem, "-----BEGIN");
    if (!p || !(p = strchr(p, '\n')))
        return NULL;
    const char *end = strstr(p, "-----END");
    if (!end)
        return NULL;
    char *out = malloc((size_t)(end - p) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (; p < end; p++) {
        if (*p != '\n' && *p != '\r' && *p != ' ')
            out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

/* pem: as is; der: base64 DER; pem_bundle: the certificate followed by its chain. */
static bool add_formatted(cJSON *j, const char *name, const char *pem, const char *format)
{
    if (strcmp(format, "der") != 0)
        return cJSON_AddStringToObject(j, name, pem) != NULL;
    char *b64 = pem_to_b64_der(pem);
    bool ok = b64 && cJSON_AddStringToObject(j, name, b64);
    free(b64);
    return ok;
}

/* Private key material: wiped before it is freed. NULL ok. */
static void secret_free(char *p, size_t len)
{
    if (!p)
        return;
    memset(p, 0, len);
    free(p);
}

/* private_key (in format, the traditional PEM form or its DER) and private_key_type of an
 * identifier-workflow order, from order-key/<id>. */
static int add_private_key(struct fw_storage *s, const struct order *o, const char *format,
                           bool expired, cJSON *j, struct err *e)
{
    char kpath[128], *key_pem = NULL, *trad = NULL, *kv = NULL;
    struct crypto_key *key = NULL;
    size_t klen = 0;
    int rc = -1;

    snprintf(kpath, sizeof kpath, "order-key/%s", o->id);
    if (s->get(s->ctx, kpath, &key_pem, &klen, e) < 0)
        goto out;
    if (!key_pem) {
        /* tidy with tidy_keys removes the keys of certificates that expired: the reply
         * then has the certificate alone. Before expiry a missing key is a fault. */
        if (expired) {
            rc = 0;
            goto out;
        }
        err_set(e, ERR_INTERNAL, "order %s: its private key is missing from storage", o->id);
        goto out;
    }
    if (crypto_key_from_pem(key_pem, klen, &key, e) < 0 ||
        crypto_key_to_pem_traditional(key, &trad, e) < 0)
        goto out;
    if (strcmp(format, "der") == 0) {
        kv = pem_to_b64_der(trad);
        if (!kv)
            goto oom;
    }
    if (!cJSON_AddStringToObject(j, "private_key", kv ? kv : trad) ||
        !cJSON_AddStringToObject(j, "private_key_type", crypto_key_algo_name(key)))
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "certificate reply: out of memory");
out:
    secret_free(key_pem, klen);
    secret_free(trad, trad ? strlen(trad) : 0);
    secret_free(kv, kv ? strlen(kv) : 0);
    crypto_key_free(key);
    return rc;
}

int order_cert_reply(struct fw_storage *s, const struct order *o, const char *format,
                     cJSON **out, struct err *e)
{
    cJSON *rec = NULL, *j = NULL, *chain = NULL;
    char *bundle = NULL;
    char b1[32], b2[32];
    int rc = -1;

    if (order_cert_load(s, o->serial, &rec, e) < 0)
        goto out;
    const char *leaf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "certificate"));
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(rec, "ca_chain");
    const char *aki = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "authority_key_id"));
    int64_t nb = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_before"));
    int64_t na = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "not_after"));
    const char *first_ca = cJSON_GetStringValue(cJSON_GetArrayItem(ca, 0));
    if (!leaf) {
        err_set(e, ERR_INTERNAL, "certificate %s: stored record has no certificate", o->serial);
        goto out;
    }

    j = cJSON_CreateObject();
    if (!(chain = cJSON_AddArrayToObject(j, "ca_chain")))
        goto oom;
    const cJSON *it;
    size_t blen = strlen(leaf) + 1;
    cJSON_ArrayForEach(it, ca) {
        const char *c = cJSON_GetStringValue(it);
        cJSON *v = cJSON_CreateObject();   /* scratch holder for add_formatted */
        if (!c || !v || !add_formatted(v, "x", c, format)) {
            cJSON_Delete(v);
            goto oom;
        }
        cJSON *x = cJSON_DetachItemFromObject(v, "x");
        cJSON_Delete(v);
        cJSON_AddItemToArray(chain, x);
        blen += strlen(c);
    }
    if (strcmp(format, "pem_bundle") == 0) {
        if (!(bundle = malloc(blen)))
            goto oom;
        strcpy(bundle, leaf);
        cJSON_ArrayForEach(it, ca)
            strcat(bundle, cJSON_GetStringValue(it));
    }
    if (!add_formatted(j, "certificate", bundle ? bundle : leaf, format) ||
        !add_formatted(j, "issuing_ca", first_ca ? first_ca : "", format) ||
        !cJSON_AddStringToObject(j, "serial_number", o->serial) ||
        !cJSON_AddStringToObject(j, "certificate_format", format) ||
        !cJSON_AddNumberToObject(j, "expiration", (double)na) ||
        !cJSON_AddStringToObject(j, "not_before", order_time_str(nb, b1, sizeof b1)) ||
        !cJSON_AddStringToObject(j, "not_after", order_time_str(na, b2, sizeof b2)) ||
        !cJSON_AddStringToObject(j, "authority_key_id", aki ? aki : "") ||
        !cJSON_AddStringToObject(j, "order_id", o->id) || !order_renewal_view(o, j))
        goto oom;
    if (!first_ca) {
        /* No chain from the CA: issuing_ca "" rather than garbage from add_formatted. */
        cJSON_ReplaceItemInObject(j, "issuing_ca", cJSON_CreateString(""));
    }

    if (o->workflow == ORDER_WF_IDENTIFIERS &&
        add_private_key(s, o, format, na <= order_now(), j, e) < 0)
        goto out;
    *out = j;
    j = NULL;
    rc = 0;
    goto out;
oom:
    err_set(e, ERR_INTERNAL, "certificate reply: out of memory");
out:
    free(bundle);
    cJSON_Delete(rec);
    cJSON_Delete(j);
    return rc;
}
