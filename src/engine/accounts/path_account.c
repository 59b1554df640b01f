/* path_account.c: config/acme-account/:name (create, read, update, delete), LIST
 * config/acme-account, …/:name/import and …/:name/rotate-key. Every handler that changes
 * something at the CA first writes what it needs to finish or recover (the new key, as a
 * pending entry), so a node that cannot write (an HA standby: the host forwards the request)
 * never changes the CA, and a write that fails after the CA call loses nothing: create keeps
 * its key at account-pending/<name> until the account is stored, rotate-key keeps the new
 * key as the account's pending_key until it is promoted (see account_settle). Replies carry both
 * the spec-000 fields (acme_account_key_id) and the newer ones Terraform needs
 * (account_keys, trusted_ca); never a private key or an EAB key. */
#include "dns.h"
#include "../internal.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "log.h"
#include "../orders/order.h"

enum {
    ACCT_MAX_URL = 2048, ACCT_MAX_EMAIL = 254, ACCT_MAX_CONTACTS = 100,
    ACCT_MAX_CA = 256 * 1024, ACCT_MAX_KEY = 64 * 1024, ACCT_MAX_SHORT = 256
};

static const char *const acct_key_types[] = { "ec-256", "ec-384", "ec-521", "rsa-2048",
                                              "rsa-4096", "rsa-8192", NULL };

/* Account writes are read-modify-write of one key (rotate-key appends a version), and
 * deleting one must not race a role create that references it. Every account write holds
 * the account's lock in the mount's account_locks (keylock.c: one lock per name, so a slow
 * CA delays only the writes of its own account), and path_role.c holds it while it checks
 * and stores a new role's acme_account_name. */
static void acct_lock(const struct fw_req *req, const char *name, struct keylock *hold)
{
    keylock_wait(&((struct engine *)req->backend)->account_locks, name, hold);
}

static void acct_unlock(const struct fw_req *req, struct keylock *hold)
{
    keylock_release(&((struct engine *)req->backend)->account_locks, hold);
}

/* The mount's shared ACME client of the account is stale once the account changed. */
static void acct_changed(const struct fw_req *req, const char *name)
{
    order_clients_drop(((struct engine *)req->backend)->clients, name);
}

/* ---- validation ------------------------------------------------------------------------- */

static int check_directory_url(const char *url, struct err *e)
{
    if (!url[0])
        return err_set(e, ERR_INVALID, "directory_url: required");
    if (strlen(url) > ACCT_MAX_URL)
        return err_set(e, ERR_INVALID, "directory_url: longer than %d characters",
                       ACCT_MAX_URL);
    if (strncmp(url, "https://", 8) != 0 || !url[8])
        return err_set(e, ERR_INVALID, "directory_url: must be an https:// URL");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return err_set(e, ERR_INVALID, "directory_url: must not contain spaces or control "
                           "characters");
    return 0;
}

static int check_trusted_ca(const char *pem, struct err *e)
{
    char **certs = NULL;
    if (!pem[0])
        return 0;
    if (strlen(pem) > ACCT_MAX_CA)
        return err_set(e, ERR_INVALID, "trusted_ca: longer than %d bytes", ACCT_MAX_CA);
    if (!strstr(pem, "-----BEGIN CERTIFICATE-----"))
        return err_set(e, ERR_INVALID, "trusted_ca: not a PEM certificate bundle");
    if (crypto_pem_split(pem, &certs, e) < 0)
        return err_wrap(e, "trusted_ca: not a PEM certificate bundle");
    for (size_t i = 0; certs[i]; i++) {
        struct crypto_cert_info ci = { 0 };
        if (crypto_cert_parse(certs[i], &ci, e) < 0) {
            crypto_strv_free(certs);
            return err_wrap(e, "trusted_ca: certificate %zu", i + 1);
        }
        crypto_cert_info_clear(&ci);
    }
    crypto_strv_free(certs);
    return 0;
}

static int check_contacts(const cJSON *list, struct err *e)
{
    const cJSON *it;
    int n = cJSON_GetArraySize(list);
    if (n == 0)
        return err_set(e, ERR_INVALID, "email_contacts: at least one email address is required");
    if (n > ACCT_MAX_CONTACTS)
        return err_set(e, ERR_INVALID, "email_contacts: more than %d addresses",
                       ACCT_MAX_CONTACTS);
    cJSON_ArrayForEach(it, list) {
        const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
        if (!s)
            return err_set(e, ERR_INVALID, "email_contacts: entries must be strings");
        if (strncmp(s, "mailto:", 7) == 0)
            s += 7;
        const char *at = strchr(s, '@');
        if (strlen(s) > ACCT_MAX_EMAIL || !at || at == s || !at[1] || strchr(at + 1, '@'))
            return err_set(e, ERR_INVALID, "email_contacts: \"%.64s\" is not an email address",
                           it->valuestring);
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == ',' || *p == '<' || *p == '>' || *p == 0x7f)
                return err_set(e, ERR_INVALID, "email_contacts: \"%.64s\" is not an email "
                               "address", it->valuestring);
    }
    return 0;
}

static int check_key_type(const char *field, const char *v, enum crypto_key_type *t,
                          struct err *e)
{
    *t = crypto_key_type_parse(v);
    if (*t == CRYPTO_KEY_NONE)
        return err_set(e, ERR_INVALID, "%s: \"%.32s\" is not one of ec-256, ec-384, ec-521, "
                       "rsa-2048, rsa-4096, rsa-8192", field, v);
    return 0;
}

static int check_short(const struct fw_data *d, const char *field, struct err *e)
{
    if (strlen(fw_data_str(d, field)) > ACCT_MAX_SHORT)
        return err_set(e, ERR_INVALID, "%s: longer than %d characters", field, ACCT_MAX_SHORT);
    return 0;
}

/* default_nameserver: a resolver for the dns-01 propagation check, host[:port] or "". */
static int check_nameserver(const struct fw_data *d, struct err *e)
{
    struct dns_server srv;
    const char *v = fw_data_str(d, "default_nameserver");
    if (check_short(d, "default_nameserver", e) < 0)
        return -1;
    return v[0] ? dns_server_parse("default_nameserver", v, true, &srv, e) : 0;
}

/* An ACME failure during create/import/rotate, as a 400 naming the field the operator
 * should look at. Internal failures stay internal (500, logged). */
static int acme_fail(struct err *e, const struct acme_reply *rep, const char *field,
                     const char *what)
{
    if (e->kind == ERR_INTERNAL)
        return -1;
    char detail[sizeof e->msg];
    snprintf(detail, sizeof detail, "%s", e->msg);
    if (rep && rep->problem.type) {
        const char *p = acme_problem_name(&rep->problem);
        if (strcmp(p, "externalAccountRequired") == 0)
            field = "eab_kid";
        else if (strcmp(p, "invalidContact") == 0 || strcmp(p, "unsupportedContact") == 0)
            field = "email_contacts";
    }
    return err_set(e, ERR_INVALID, "%s: %s: %.400s", field, what, detail);
}

static const char *json_str(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "";
}

/* ---- replies ---------------------------------------------------------------------------- */

static void add_date(cJSON *o, const char *key, const cJSON *src)
{
    char buf[40];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    engine_time_format(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

/* ---- automatic key rotation (issue 14 §3) ----------------------------------------------- */

/* After a refusal the CA is asked again this much later at the soonest. */
static const int64_t ROTATION_RETRY_S = 300;

static int64_t json_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* When the stored account's key is next rotated (unix seconds), 0 when it never is: the
 * active key's creation plus key_rotation_period, later after a refusal. */
static int64_t rotation_next(const cJSON *st)
{
    int64_t period = json_int(st, "key_rotation_period");
    if (period <= 0)
        return 0;
    int64_t due = json_int(account_json_active_key(st), "key_creation_date") + period;
    int64_t failed = json_int(st, "key_rotation_failed_at");
    int64_t gap = period > ROTATION_RETRY_S ? period : ROTATION_RETRY_S;
    if (failed > 0 && failed + gap > due)
        due = failed + gap;
    return due;
}

/* The reply for create, import, update and read. *out is new. */
static int account_reply(const cJSON *st, cJSON **out, struct err *e)
{
    cJSON *r = cJSON_CreateObject(), *keys = cJSON_CreateObject();
    const cJSON *k;
    static const char *const strs[] = { "name", "directory_url", "trusted_ca",
                                        "default_nameserver", "status" };
    if (!r || !keys) {
        cJSON_Delete(r);
        cJSON_Delete(keys);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, strs[i]);
        cJSON_AddStringToObject(r, strs[i], cJSON_IsString(v) ? v->valuestring : "");
    }
    const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(st, "email_contacts");
    cJSON_AddItemToObject(r, "email_contacts", cJSON_IsArray(contacts)
                                                   ? cJSON_Duplicate(contacts, true)
                                                   : cJSON_CreateArray());
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(st, "account_url");
    const char *u = cJSON_IsString(url) ? url->valuestring : "";
    cJSON_AddStringToObject(r, "acme_account_key_id", u);   /* spec 000's name */
    cJSON_AddStringToObject(r, "account_url", u);
    const cJSON *akv = cJSON_GetObjectItemCaseSensitive(st, "active_key_version");
    cJSON_AddNumberToObject(r, "active_key_version", cJSON_IsNumber(akv) ? akv->valueint : 0);
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(st, "keys")) {
        cJSON *o = cJSON_CreateObject();
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(k, "key_version");
        cJSON_AddStringToObject(o, "key_type",
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k,
                                                                               "key_type")));
        cJSON_AddNumberToObject(o, "key_version", cJSON_IsNumber(kv) ? kv->valueint : 0);
        add_date(o, "key_creation_date", k);
        cJSON_AddItemToObject(keys, k->string, o);
    }
    cJSON_AddItemToObject(r, "account_keys", keys);
    /* -- automatic key rotation (issue 14 §3) -- */
    char next[40] = "";
    if (rotation_next(st) > 0)
        engine_time_format(rotation_next(st), next, sizeof next);
    cJSON_AddNumberToObject(r, "key_rotation_period", (double)json_int(st, "key_rotation_period"));
    cJSON_AddStringToObject(r, "next_key_rotation", next);
    cJSON_AddStringToObject(r, "key_rotation_error", json_str(st, "key_rotation_error"));
    add_date(r, "creation_date", st);
    add_date(r, "last_updated_date", st);
    *out = r;
    return 0;
}

/* ---- storage helpers -------------------------------------------------------------------- */

/* Every write of account/<name> comes through here, and drops the mount's cached ACME client
 * of the account with it: order_client.c reads the account only when it has no current
 * client, so a write that skipped the drop would leave orders signing with a stale key.
 * Dropped on failure too (what storage holds then is not known). */
static int account_store(struct engine *eng, struct fw_storage *s, const char *name,
                         const cJSON *st, struct err *e)
{
    char key[300];
    snprintf(key, sizeof key, "account/%s", name);
    int rc = fw_storage_put_json(s, key, st, true, e);
    order_clients_drop(eng->clients, name);
    return rc;
}

/* account-pending/<name>: the key of a create in flight, {"directory_url", "key_type",
 * "private_key"}. Written before newAccount, deleted once account/<name> is stored; a
 * create retried after a failed final write reuses the key, so the CA returns the account
 * it already made instead of leaving an orphan. */
static void pending_create_key(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "account-pending/%s", name);
}

/* The key to register with: the pending one of an earlier attempt for the same directory
 * and key type, else a new one, stored as pending before the CA sees it. *key is new. */
static int pending_create_begin(struct fw_storage *s, const char *name, const char *dir,
                                enum crypto_key_type kt, struct crypto_key **key,
                                struct err *e)
{
    char k[300], *pem = NULL;
    cJSON *old = NULL;
    *key = NULL;
    pending_create_key(name, k, sizeof k);
    if (fw_storage_get_json(s, k, &old, e) < 0)
        return -1;
    const char *opem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(old,
                                                                            "private_key"));
    const char *odir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(old,
                                                                            "directory_url"));
    const char *otype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(old,
                                                                             "key_type"));
    if (opem && odir && otype && strcmp(odir, dir) == 0 &&
        strcmp(otype, crypto_key_type_name(kt)) == 0 &&
        crypto_key_from_pem(opem, strlen(opem), key, e) == 0) {
        cJSON_Delete(old);
        log_info("engine", "acme account create resumes with the key of an earlier attempt",
                 "name", name, NULL);
        return 0;
    }
    cJSON_Delete(old);
    cJSON *j = cJSON_CreateObject();
    int rc = -1;
    if (crypto_key_generate(kt, key, e) < 0 || crypto_key_to_pem(*key, &pem, e) < 0)
        goto out;
    if (!j || !cJSON_AddStringToObject(j, "directory_url", dir) ||
        !cJSON_AddStringToObject(j, "key_type", crypto_key_type_name(kt)) ||
        !cJSON_AddStringToObject(j, "private_key", pem)) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = fw_storage_put_json(s, k, j, true, e);
out:
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    cJSON_Delete(j);
    if (rc < 0) {
        crypto_key_free(*key);
        *key = NULL;
    }
    return rc;
}

/* Drops account-pending/<name>; a failure only leaves a key no account uses (logged). */
static void pending_create_end(struct fw_storage *s, const char *name)
{
    char k[300];
    struct err e = { 0 };
    pending_create_key(name, k, sizeof k);
    if (s->del(s->ctx, k, &e) < 0)
        log_warn("engine", "pending account key not deleted", "name", name, "error", e.msg,
                 NULL);
}

/* Adds keys[version] = {key_type, key_version, key_creation_date, private_key}. */
static int add_key_version(cJSON *st, int version, const struct crypto_key *k, int64_t now,
                           struct err *e)
{
    char *pem = NULL, ver[24];
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(st, "keys");
    if (!keys)
        keys = cJSON_AddObjectToObject(st, "keys");
    cJSON *o = cJSON_CreateObject();
    if (!keys || !o) {
        cJSON_Delete(o);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    if (crypto_key_to_pem(k, &pem, e) < 0) {
        cJSON_Delete(o);
        return -1;
    }
    cJSON_AddStringToObject(o, "key_type", crypto_key_type_name(crypto_key_type_of(k)));
    cJSON_AddNumberToObject(o, "key_version", version);
    cJSON_AddNumberToObject(o, "key_creation_date", (double)now);
    cJSON_AddStringToObject(o, "private_key", pem);
    OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    snprintf(ver, sizeof ver, "%d", version);
    cJSON_AddItemToObject(keys, ver, o);
    cJSON_DeleteItemFromObjectCaseSensitive(st, "active_key_version");
    cJSON_AddNumberToObject(st, "active_key_version", version);
    return 0;
}

/* A new stored account for a registered (or found) CA account. */
static cJSON *account_new_json(const char *name, const struct fw_data *d, const char *dir,
                               const cJSON *contacts, const struct acme_account *acct,
                               int64_t now)
{
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return NULL;
    cJSON_AddStringToObject(st, "name", name);
    cJSON_AddStringToObject(st, "directory_url", dir);
    cJSON_AddItemToObject(st, "email_contacts", cJSON_Duplicate(contacts, true));
    cJSON_AddStringToObject(st, "trusted_ca", fw_data_str(d, "trusted_ca"));
    cJSON_AddStringToObject(st, "default_nameserver", fw_data_str(d, "default_nameserver"));
    cJSON_AddStringToObject(st, "account_url", acct->url ? acct->url : "");
    cJSON_AddStringToObject(st, "status", acct->status_str ? acct->status_str : "valid");
    cJSON_AddNumberToObject(st, "creation_date", (double)now);
    cJSON_AddNumberToObject(st, "last_updated_date", (double)now);
    cJSON_AddNumberToObject(st, "key_rotation_period",
                            (double)fw_data_duration(d, "key_rotation_period"));
    return st;
}

/* ---- handlers --------------------------------------------------------------------------- */

/* Registers a new account with the CA and stores it. Nothing is stored unless the CA
 * accepted the account. */
static int account_create(const struct fw_req *req, const struct fw_data *d, const char *name,
                          struct fw_resp *resp, struct err *e)
{
    const char *dir = fw_data_str(d, "directory_url");
    const cJSON *contacts = fw_data_list(d, "email_contacts");
    const char *kid = fw_data_str(d, "eab_kid"), *hmac = fw_data_str(d, "eab_key");
    enum crypto_key_type kt;
    struct crypto_key *key = NULL;
    struct account_conn conn = { 0 };
    struct acme_directory dirinfo = { 0 };
    struct acme_account acct = { 0 };
    struct acme_reply rep = { 0 };
    char *pem = NULL;
    const char **mailto = NULL;
    cJSON *st = NULL;
    int rc = -1;

    if (check_directory_url(dir, e) < 0 || check_contacts(contacts, e) < 0 ||
        check_key_type("key_type", fw_data_str(d, "key_type"), &kt, e) < 0 ||
        check_trusted_ca(fw_data_str(d, "trusted_ca"), e) < 0 ||
        check_short(d, "eab_kid", e) < 0 || check_nameserver(d, e) < 0)
        return -1;
    if (strlen(hmac) > ACCT_MAX_SHORT)
        return err_set(e, ERR_INVALID, "eab_key: longer than %d characters", ACCT_MAX_SHORT);
    if (!kid[0] != !hmac[0])
        return err_set(e, ERR_INVALID, "%s: eab_kid and eab_key go together",
                       kid[0] ? "eab_key" : "eab_kid");
    if (hmac[0]) {
        unsigned char *raw = NULL;
        size_t raw_len = 0;
        if (crypto_b64url_decode(hmac, &raw, &raw_len, e) < 0 || raw_len == 0) {
            free(raw);
            return err_set(e, ERR_INVALID, "eab_key: not base64url");
        }
        free(raw);
    }

    /* Written before the CA sees the key: on a node that cannot write, this is where the
     * request stops (and is forwarded), before any side effect at the CA. */
    if (fw_require_writable(req, e) < 0 ||
        pending_create_begin(req->storage, name, dir, kt, &key, e) < 0)
        return -1;
    bool keep_pending = false;
    if (crypto_key_to_pem(key, &pem, e) < 0)
        goto out;
    if (account_conn_open(dir, fw_data_str(d, "trusted_ca"), NULL, pem, &conn, e) < 0) {
        if (e->kind != ERR_INTERNAL)
            err_wrap(e, "directory_url");
        goto out;
    }
    acme_client_set_deadline(conn.acme, req->deadline_ms);
    acme_client_set_cancel(conn.acme, req->cancelled);   /* the host gave up: stop */
    if (acme_get_directory(conn.acme, false, &dirinfo, &rep, e) < 0) {
        acme_fail(e, NULL, "directory_url", "cannot read the ACME directory");
        goto out;
    }
    if (dirinfo.external_account_required && !kid[0]) {
        err_set(e, ERR_INVALID, "eab_kid: the CA requires external account binding: set "
                "eab_kid and eab_key");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(contacts), i = 0;
    mailto = calloc(n + 1, sizeof *mailto);
    if (!mailto) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, contacts)
        mailto[i++] = it->valuestring;
    struct acme_eab eab = { .kid = kid, .hmac_key_b64url = hmac };
    acme_reply_clear(&rep);
    /* The operator asked for an account at this CA: that is the terms-of-service agreement
     * (spec 000 has no separate parameter for it). */
    if (acme_new_account(conn.acme, mailto, true, kid[0] ? &eab : NULL, &acct, &rep, e) < 0) {
        /* Without the CA's answer the account may exist: keep the key for the retry. */
        keep_pending = !rep.problem.type;
        acme_fail(e, &rep, kid[0] ? "eab_kid" : "directory_url", "the CA refused the account");
        goto out;
    }
    keep_pending = true;   /* registered: the key must survive until account/<name> does */
    /* The host cancelled meanwhile and told the client this create failed: store nothing.
     * The pending key stays, so a retry finds this CA account instead of making another. */
    if (fw_req_cancelled(req, e) < 0)
        goto out;
    int64_t now = (int64_t)time(NULL);
    st = account_new_json(name, d, dir, contacts, &acct, now);
    if (!st) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (add_key_version(st, 0, key, now, e) < 0 ||
        account_store(req->backend, req->storage, name, st, e) < 0)
        goto out;
    keep_pending = false;
    log_info("engine", "acme account created", "name", name, "directory_url", dir,
             "account_url", acct.url ? acct.url : "", NULL);
    rc = account_reply(st, &resp->data, e);
out:
    if (!keep_pending)
        pending_create_end(req->storage, name);
    account_conn_close(&conn);
    crypto_key_free(key);
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(mailto);
    acme_directory_clear(&dirinfo);
    acme_account_clear(&acct);
    acme_reply_clear(&rep);
    account_json_free(st);
    return rc;
}

static void settle_pending_locked(struct engine *eng, struct fw_storage *s, const char *name);

static bool json_list_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    for (int i = 0; i < cJSON_GetArraySize(a); i++) {
        const char *x = cJSON_GetStringValue(cJSON_GetArrayItem(a, i));
        const char *y = cJSON_GetStringValue(cJSON_GetArrayItem(b, i));
        if (!x || !y || strcmp(x, y) != 0)
            return false;
    }
    return true;
}

/* Update: only trusted_ca (and default_nameserver) change. Clients such as Terraform send
 * every field again, so an unchanged value is accepted and a real change explained. */
static int account_update(const struct fw_req *req, const struct fw_data *d, cJSON *st,
                          struct fw_resp *resp, struct err *e)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "name"));
    const char *dir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st,
                                                                            "directory_url"));
    if (fw_data_present(d, "directory_url") && strcmp(fw_data_str(d, "directory_url"),
                                                      dir ? dir : "") != 0)
        return err_set(e, ERR_INVALID, "directory_url: cannot be changed on an existing "
                       "account (it is registered at %.200s); create a new account instead",
                       dir ? dir : "");
    if (fw_data_present(d, "key_type")) {
        const char *cur = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(account_json_active_key(st), "key_type"));
        enum crypto_key_type kt;
        if (check_key_type("key_type", fw_data_str(d, "key_type"), &kt, e) < 0)
            return -1;
        if (!cur || strcmp(cur, fw_data_str(d, "key_type")) != 0)
            return err_set(e, ERR_INVALID, "key_type: cannot be changed on an existing "
                           "account (the active key is %s); use rotate-key", cur ? cur : "");
    }
    if (fw_data_present(d, "email_contacts") &&
        !json_list_equal(fw_data_list(d, "email_contacts"),
                         cJSON_GetObjectItemCaseSensitive(st, "email_contacts")))
        return err_set(e, ERR_INVALID, "email_contacts: cannot be changed on an existing "
                       "account; create a new account instead");
    if (fw_data_present(d, "trusted_ca")) {
        const char *ca = fw_data_str(d, "trusted_ca");
        if (check_trusted_ca(ca, e) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(st, "trusted_ca");
        cJSON_AddStringToObject(st, "trusted_ca", ca);
    }
    if (fw_data_present(d, "default_nameserver")) {
        if (check_nameserver(d, e) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(st, "default_nameserver");
        cJSON_AddStringToObject(st, "default_nameserver", fw_data_str(d, "default_nameserver"));
    }
    if (fw_data_present(d, "key_rotation_period")) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "key_rotation_period");
        cJSON_AddNumberToObject(st, "key_rotation_period",
                                (double)fw_data_duration(d, "key_rotation_period"));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(st, "last_updated_date");
    cJSON_AddNumberToObject(st, "last_updated_date", (double)time(NULL));
    if (account_store(req->backend, req->storage, name, st, e) < 0)
        return -1;
    return account_reply(st, &resp->data, e);
}

static int account_write(const struct fw_req *req, const struct fw_data *d,
                         struct fw_resp *resp, struct err *e)
{
    const char *name = fw_data_str(d, "name");
    struct keylock hold = { 0 };
    cJSON *st = NULL;
    int rc;
    if (engine_name_check("name", name, e) < 0)
        return -1;
    acct_lock(req, name, &hold);
    if (account_load_json(req->storage, name, &st, e) < 0) {
        rc = e->kind == ERR_NOT_FOUND ? account_create(req, d, name, resp, e) : -1;
    } else {
        rc = account_update(req, d, st, resp, e);
        account_json_free(st);
        acct_changed(req, name);
    }
    acct_unlock(req, &hold);
    /* A new key_rotation_period is planned by the worker's next scan: ask for it now. */
    struct err ignored;
    if (rc == 0 && fw_data_present(d, "key_rotation_period")) {
        char key[300];
        snprintf(key, sizeof key, "account/%s", name);
        engine_recheck(req->backend, key);
        orders_periodic(req, &ignored);
    }
    return rc;
}

static int account_read(const struct fw_req *req, const struct fw_data *d, struct fw_resp *resp,
                        struct err *e)
{
    cJSON *st = NULL;
    struct err ignored = { 0 };
    if (engine_name_check("name", fw_data_str(d, "name"), e) < 0)
        return -1;
    account_settle(req->backend, req->storage, fw_data_str(d, "name"), &ignored);
    if (account_load_json(req->storage, fw_data_str(d, "name"), &st, e) < 0)
        return -1;   /* a missing account is a 404 naming it */
    int rc = account_reply(st, &resp->data, e);
    account_json_free(st);
    return rc;
}

static int account_delete(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e)
{
    const char *name = fw_data_str(d, "name");
    struct account *a = NULL;
    char **roles = NULL, key[300];
    struct keylock hold = { 0 };
    int rc = -1;
    if (engine_name_check("name", name, e) < 0)
        return -1;
    acct_lock(req, name, &hold);
    /* Deactivate with the key the CA knows. */
    settle_pending_locked(req->backend, req->storage, name);
    if (account_load(req->storage, name, &a, e) < 0) {
        rc = e->kind == ERR_NOT_FOUND ? 0 : -1;   /* gone already: success */
        goto out;
    }
    if (roles_using_account(req->storage, name, &roles, e) < 0)
        goto out;
    if (roles[0]) {
        char list[256] = "";
        for (size_t i = 0; roles[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     roles[i]);
        err_set(e, ERR_INVALID, "account %.128s is used by roles %s: delete those roles first",
                name, list);
        goto out;
    }
    /* The record goes first: deactivation cannot be undone, so it happens only once this
     * node has shown it can write (a standby stops here and the host forwards). */
    snprintf(key, sizeof key, "account/%s", name);
    if (fw_require_writable(req, e) < 0 || req->storage->del(req->storage->ctx, key, e) < 0)
        goto out;
    pending_create_end(req->storage, name);
    acct_changed(req, name);
    acct_unlock(req, &hold);
    log_info("engine", "acme account deleted", "name", name, NULL);
    /* Deactivate at the CA, best effort and after the lock (a slow CA delays nobody): an
     * unreachable or retired CA must not keep the record (and its key) in Vault forever.
     * The key is the one loaded above, still in memory. */
    struct account_conn conn = { 0 };
    struct acme_account acct = { 0 };
    struct err de = { 0 };
    if (account_conn(a, &conn, &de) == 0) {
        acme_client_set_deadline(conn.acme, req->deadline_ms);
        acme_client_set_cancel(conn.acme, req->cancelled);
    }
    if (!conn.acme || acme_deactivate_account(conn.acme, &acct, NULL, &de) < 0)
        log_warn("engine", "acme account not deactivated at the CA", "name", name, "error",
                 de.msg, NULL);
    acme_account_clear(&acct);
    account_conn_close(&conn);
    rc = 0;
out:
    acct_unlock(req, &hold);
    fw_strv_free(roles);
    account_free(a);
    return rc;
}

static int account_list(const struct fw_req *req, const struct fw_data *d,
                        struct fw_resp *resp, struct err *e)
{
    return engine_list_names(req, "account/", resp, e);
}

static int account_import(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e)
{
    const char *name = fw_data_str(d, "name"), *dir = fw_data_str(d, "directory_url");
    const char *pem = fw_data_str(d, "account_key");
    struct crypto_key *key = NULL;
    struct account_conn conn = { 0 };
    struct acme_account acct = { 0 };
    struct acme_reply rep = { 0 };
    cJSON *st = NULL, *contacts = NULL;
    struct keylock hold = { 0 };
    int rc = -1;
    if (engine_name_check("name", name, e) < 0 || check_directory_url(dir, e) < 0 ||
        check_trusted_ca(fw_data_str(d, "trusted_ca"), e) < 0 ||
        check_nameserver(d, e) < 0)
        return -1;
    if (!pem[0])
        return err_set(e, ERR_INVALID, "account_key: required (PEM private key)");
    if (strlen(pem) > ACCT_MAX_KEY)
        return err_set(e, ERR_INVALID, "account_key: longer than %d bytes", ACCT_MAX_KEY);
    if (crypto_key_from_pem(pem, strlen(pem), &key, e) < 0)
        return err_set(e, ERR_INVALID, "account_key: not a usable PEM private key");
    acct_lock(req, name, &hold);
    if (account_load_json(req->storage, name, &st, e) == 0) {
        err_set(e, ERR_INVALID, "name: an account named %.128s already exists", name);
        goto out;
    }
    if (e->kind != ERR_NOT_FOUND)
        goto out;
    char *pkcs8 = NULL;
    if (crypto_key_to_pem(key, &pkcs8, e) < 0)
        goto out;
    rc = account_conn_open(dir, fw_data_str(d, "trusted_ca"), NULL, pkcs8, &conn, e);
    OPENSSL_cleanse(pkcs8, pkcs8 ? strlen(pkcs8) : 0);
    if (rc == 0) {
        acme_client_set_deadline(conn.acme, req->deadline_ms);
        acme_client_set_cancel(conn.acme, req->cancelled);
    }
    free(pkcs8);
    if (rc < 0) {
        if (e->kind != ERR_INTERNAL)
            err_wrap(e, "directory_url");
        goto out;
    }
    rc = -1;
    if (acme_lookup_account(conn.acme, &acct, &rep, e) < 0) {
        if (e->kind == ERR_NOT_FOUND)
            err_set(e, ERR_INVALID, "account_key: the CA has no account for this key");
        else
            acme_fail(e, &rep, "directory_url", "cannot look up the account");
        goto out;
    }
    contacts = cJSON_CreateArray();
    for (size_t i = 0; contacts && acct.contacts && acct.contacts[i]; i++) {
        const char *m = acct.contacts[i];
        cJSON_AddItemToArray(contacts, cJSON_CreateString(strncmp(m, "mailto:", 7) == 0
                                                              ? m + 7 : m));
    }
    if (fw_req_cancelled(req, e) < 0)   /* the client was told it failed: store nothing */
        goto out;
    int64_t now = (int64_t)time(NULL);
    st = contacts ? account_new_json(name, d, dir, contacts, &acct, now) : NULL;
    if (!st) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (add_key_version(st, 0, key, now, e) < 0 ||
        account_store(req->backend, req->storage, name, st, e) < 0)
        goto out;
    log_info("engine", "acme account imported", "name", name, "directory_url", dir,
             "account_url", acct.url ? acct.url : "", NULL);
    rc = account_reply(st, &resp->data, e);
out:
    acct_unlock(req, &hold);
    account_conn_close(&conn);
    crypto_key_free(key);
    acme_account_clear(&acct);
    acme_reply_clear(&rep);
    cJSON_Delete(contacts);
    account_json_free(st);
    return rc;
}

/* True when a role of this account has active orders (they are signed with the key). */
static int account_has_active_orders(struct fw_storage *s, const char *name, bool *has,
                                     struct err *e)
{
    char **roles = NULL;
    *has = false;
    if (roles_using_account(s, name, &roles, e) < 0)
        return -1;
    for (size_t i = 0; roles[i] && !*has; i++) {
        if (orders_role_has_active(s, roles[i], has, e) < 0) {
            fw_strv_free(roles);
            return -1;
        }
    }
    fw_strv_free(roles);
    return 0;
}

/* ---- rotate-key and its pending key -------------------------------------------------- *
 * A rotation stores the new key as the account's "pending_key" ({key_type, key_version,
 * key_creation_date, private_key}) before the CA hears of it, and promotes it to
 * keys[version] / active_key_version after the CA's keyChange succeeded. A pending_key found
 * later means a rotation stopped in between; account_settle asks the CA which of the two keys
 * it knows and keeps that one. Every path below holds the account's lock. */

static int key_version_max(const cJSON *st)
{
    int max = -1;
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(st, "keys")) {
        if (atoi(k->string) > max)
            max = atoi(k->string);
    }
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(st, "pending_key"), "key_version");
    if (cJSON_IsNumber(pv) && pv->valueint > max)
        max = pv->valueint;
    return max;
}

/* pending_key becomes keys[its version] and the active key. */
static int pending_promote(cJSON *st, struct err *e)
{
    char ver[24];
    cJSON *pk = cJSON_DetachItemFromObjectCaseSensitive(st, "pending_key");
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(st, "keys");
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(pk, "key_version");
    if (!pk || !keys || !cJSON_IsNumber(pv)) {
        cJSON_Delete(pk);
        return err_set(e, ERR_INTERNAL, "pending account key: malformed in storage");
    }
    int v = pv->valueint;
    snprintf(ver, sizeof ver, "%d", v);
    cJSON_DeleteItemFromObjectCaseSensitive(keys, ver);
    cJSON_AddItemToObject(keys, ver, pk);
    cJSON_DeleteItemFromObjectCaseSensitive(st, "active_key_version");
    cJSON_DeleteItemFromObjectCaseSensitive(st, "last_updated_date");
    if (!cJSON_AddNumberToObject(st, "active_key_version", v) ||
        !cJSON_AddNumberToObject(st, "last_updated_date", (double)time(NULL)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

/* Settles st's pending_key, if any, and stores the outcome. The CA is asked for the account
 * of the pending key (newAccount onlyReturnExisting, signed with it): if the CA knows it as
 * this account, the rotation happened and the key is promoted; if the CA has no account for
 * it, the rotation never happened and the key is dropped. -1 when the CA could not tell (the
 * pending key stays for the next try) or the store failed. */
static int pending_settle(struct engine *eng, struct fw_storage *s, const char *name,
                          cJSON *st, const atomic_bool *cancel, struct err *e)
{
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(st, "pending_key");
    struct account_conn conn = { 0 };
    struct acme_account acct = { 0 };
    struct acme_reply rep = { 0 };
    bool promote = false;
    int rc = -1;
    if (!pk)
        return 0;
    const char *pem = json_str(pk, "private_key");
    const char *url = json_str(st, "account_url");
    if (account_conn_open(json_str(st, "directory_url"), json_str(st, "trusted_ca"), NULL,
                          pem, &conn, e) < 0)
        goto out;
    acme_client_set_cancel(conn.acme, cancel);   /* NULL: never */
    if (acme_lookup_account(conn.acme, &acct, &rep, e) == 0) {
        promote = acct.url && strcmp(acct.url, url) == 0;
        if (!promote)
            log_warn("engine", "pending account key belongs to another account at the CA",
                     "name", name, "account_url", url, "ca_account_url",
                     acct.url ? acct.url : "", NULL);
    } else if (e->kind != ERR_NOT_FOUND) {
        err_wrap(e, "account %s: cannot tell which key the CA holds", name);
        goto out;
    }
    if (promote) {
        if (pending_promote(st, e) < 0)
            goto out;
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "pending_key");
    }
    err_clear(e);
    if (account_store(eng, s, name, st, e) < 0)
        goto out;
    log_info("engine", promote ? "interrupted key rotation completed: the CA holds the new key"
                               : "interrupted key rotation undone: the CA holds the old key",
             "name", name, NULL);
    rc = 0;
out:
    account_conn_close(&conn);
    acme_account_clear(&acct);
    acme_reply_clear(&rep);
    return rc;
}

/* account_settle with the account's lock held; failures are logged, the caller goes on with
 * what is stored. */
static void settle_pending_locked(struct engine *eng, struct fw_storage *s, const char *name)
{
    cJSON *st = NULL;
    struct err e = { 0 };
    if (account_load_json(s, name, &st, &e) == 0 &&
        cJSON_GetObjectItemCaseSensitive(st, "pending_key") &&
        pending_settle(eng, s, name, st, NULL, &e) < 0)
        log_warn("engine", "pending account key not settled", "name", name, "error", e.msg,
                 NULL);
    account_json_free(st);
}

int account_settle(struct engine *eng, struct fw_storage *s, const char *name,
                   struct err *e)
{
    struct keylock hold = { 0 };
    cJSON *st = NULL;
    int rc = 0;
    /* Cheap check first: a pending key is rare, the lock is shared. */
    if (account_load_json(s, name, &st, e) < 0)
        return e->kind == ERR_NOT_FOUND ? 0 : -1;
    bool pending = cJSON_GetObjectItemCaseSensitive(st, "pending_key") != NULL;
    account_json_free(st);
    st = NULL;
    /* Shutting down: leave it to the next start rather than ask the CA (a hung CA would
     * hold the mount's Cleanup; the worker's threads all come through here). */
    if (!pending || atomic_load(&eng->stopping))
        return 0;
    keylock_wait(&eng->account_locks, name, &hold);
    if (account_load_json(s, name, &st, e) < 0)
        rc = e->kind == ERR_NOT_FOUND ? 0 : -1;
    else
        rc = pending_settle(eng, s, name, st, &eng->stopping, e);
    if (rc == 0)
        order_clients_drop(eng->clients, name);
    keylock_release(&eng->account_locks, &hold);
    account_json_free(st);
    if (rc < 0)
        log_warn("engine", "pending account key not settled", "name", name, "error", e->msg,
                 NULL);
    return rc;
}

/* Stores the new key as st's pending_key (version `ver`). This write comes before the CA
 * call: where storage is read-only, the rotation stops here. */
static int pending_store(struct engine *eng, struct fw_storage *s, const char *name,
                         cJSON *st, int ver, const struct crypto_key *key, struct err *e)
{
    char *pem = NULL;
    cJSON *pk = cJSON_CreateObject();
    int rc = -1;
    if (!pk)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (crypto_key_to_pem(key, &pem, e) < 0)
        goto out;
    if (!cJSON_AddStringToObject(pk, "key_type", crypto_key_type_name(crypto_key_type_of(key))) ||
        !cJSON_AddNumberToObject(pk, "key_version", ver) ||
        !cJSON_AddNumberToObject(pk, "key_creation_date", (double)time(NULL)) ||
        !cJSON_AddStringToObject(pk, "private_key", pem)) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(st, "pending_key");
    cJSON_AddItemToObject(st, "pending_key", pk);
    pk = NULL;
    rc = account_store(eng, s, name, st, e);
out:
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    cJSON_Delete(pk);
    return rc;
}

static cJSON *rotate_reply(const char *name, int old_ver, int new_ver, enum crypto_key_type kt)
{
    char date[40];
    cJSON *r = cJSON_CreateObject();
    engine_time_format((int64_t)time(NULL), date, sizeof date);
    if (!r || !cJSON_AddStringToObject(r, "name", name) ||
        !cJSON_AddNumberToObject(r, "old_active_key_version", old_ver) ||
        !cJSON_AddNumberToObject(r, "new_active_key_version", new_ver) ||
        !cJSON_AddNumberToObject(r, "active_key_version", new_ver) ||
        !cJSON_AddStringToObject(r, "key_type", crypto_key_type_name(kt)) ||
        !cJSON_AddStringToObject(r, "rotated_at", date)) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

/* The rotation itself, with the account's lock held and st's pending key settled: a new key
 * of type kt stored as pending, keyChange at the CA, then promoted and stored (rotate-key and
 * the automatic rotation share it). On -1 with *ca_failed the keyChange failed: when
 * rep->problem is set the CA said no and the old key stays; else the outcome is unknown and
 * the pending key is settled later. A successful rotation clears key_rotation_error. */
static int rotate_locked(struct engine *eng, struct fw_storage *s, const char *name,
                         cJSON *st, enum crypto_key_type kt, int64_t deadline_ms,
                         const atomic_bool *cancel, int *old_ver, int *new_ver,
                         struct acme_reply *rep, bool *ca_failed, struct err *e)
{
    struct account_conn conn = { 0 };
    struct crypto_key *key = NULL;
    int rc = -1;
    *ca_failed = false;
    const cJSON *akv = cJSON_GetObjectItemCaseSensitive(st, "active_key_version");
    *old_ver = cJSON_IsNumber(akv) ? akv->valueint : 0;
    *new_ver = key_version_max(st) + 1;
    const char *old_pem = json_str(account_json_active_key(st), "private_key");
    if (!old_pem[0]) {
        err_set(e, ERR_INTERNAL, "account %s: no active key in storage", name);
        goto out;
    }
    if (crypto_key_generate(kt, &key, e) < 0 ||
        account_conn_open(json_str(st, "directory_url"), json_str(st, "trusted_ca"),
                          json_str(st, "account_url"), old_pem, &conn, e) < 0)
        goto out;
    acme_client_set_deadline(conn.acme, deadline_ms);
    acme_client_set_cancel(conn.acme, cancel);
    if (pending_store(eng, s, name, st, *new_ver, key, e) < 0)
        goto out;
    if (acme_key_change(conn.acme, key, rep, e) < 0) {
        *ca_failed = true;
        if (rep->problem.type) {
            /* The CA answered no: the old key stays; drop the pending one. */
            struct err de = { 0 };
            cJSON_DeleteItemFromObjectCaseSensitive(st, "pending_key");
            if (account_store(eng, s, name, st, &de) < 0)
                log_warn("engine", "refused key rotation: pending key not dropped (settled "
                         "on the next request)", "name", name, "error", de.msg, NULL);
        } else {
            log_warn("engine", "key rotation outcome unknown: the pending key is settled on "
                     "the next request", "name", name, "error", e->msg, NULL);
        }
        goto out;
    }
    /* Cancelled (the host gave up on the request, or the mount stops): whoever asked was
     * told this failed, so the promotion is left to the next request's settle, which asks
     * the CA which key it holds. */
    if (cancel && atomic_load(cancel)) {
        err_set(e, ERR_RETRY, "account %s: the key rotation was cancelled; the CA's answer "
                "is settled on the next request", name);
        goto out;
    }
    if (pending_promote(st, e) < 0)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(st, "key_rotation_error");
    cJSON_DeleteItemFromObjectCaseSensitive(st, "key_rotation_failed_at");
    if (account_store(eng, s, name, st, e) < 0) {
        /* The new key is in storage as pending_key: the next request promotes it. */
        log_error("engine", "acme key rotated at the CA; promoting the stored pending key "
                  "failed (settled on the next request)", "name", name, "error", e->msg, NULL);
        goto out;
    }
    char oldv[24], newv[24];
    snprintf(oldv, sizeof oldv, "%d", *old_ver);
    snprintf(newv, sizeof newv, "%d", *new_ver);
    log_info("engine", "acme account key rotated", "name", name, "old_key_version", oldv,
             "new_key_version", newv, NULL);
    rc = 0;
out:
    account_conn_close(&conn);
    crypto_key_free(key);
    return rc;
}

static int account_rotate(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e)
{
    const char *name = fw_data_str(d, "name");
    struct acme_reply rep = { 0 };
    cJSON *st = NULL;
    struct keylock hold = { 0 };
    enum crypto_key_type kt;
    int rc = -1;
    if (engine_name_check("name", name, e) < 0 ||
        check_key_type("key_type", fw_data_str(d, "key_type"), &kt, e) < 0)
        return -1;
    if (fw_require_writable(req, e) < 0)
        return -1;
    acct_lock(req, name, &hold);
    if (account_load_json(req->storage, name, &st, e) < 0)
        goto out;   /* a missing account is a 404 naming it */
    /* An earlier rotation that stopped half-way is settled first, so this one starts from
     * the key the CA really holds. */
    if (pending_settle(req->backend, req->storage, name, st, NULL, e) < 0) {
        if (e->kind != ERR_INTERNAL && e->kind != ERR_READ_ONLY)
            err_set(e, ERR_INVALID, "name: an earlier key rotation of account %.128s is "
                    "unresolved and the CA could not say which key it holds; try again later",
                    name);
        goto out;
    }
    if (!fw_data_bool(d, "force")) {
        bool active = false;
        if (account_has_active_orders(req->storage, name, &active, e) < 0)
            goto out;
        if (active) {
            err_set(e, ERR_INVALID, "account %.128s has active orders: wait for them or "
                    "rotate with force=true", name);
            goto out;
        }
    }
    int old_ver = 0, new_ver = 0;
    bool ca_failed = false;
    if (rotate_locked(req->backend, req->storage, name, st, kt, req->deadline_ms, req->cancelled,
                      &old_ver, &new_ver, &rep, &ca_failed, e) < 0) {
        if (ca_failed)
            acme_fail(e, &rep, "name", "the CA refused the key change");
        goto out;
    }
    if (!(resp->data = rotate_reply(name, old_ver, new_ver, kt))) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    acct_changed(req, name);
    acct_unlock(req, &hold);
    acme_reply_clear(&rep);
    account_json_free(st);
    return rc;
}

/* One account of accounts_rotate_due, its lock held: rotates it when due (the key type
 * stays), records a refusal. *next: the account's next rotation. */
static void rotate_one_locked(struct engine *eng, struct fw_storage *s, const char *name,
                              int64_t *next)
{
    struct acme_reply rep = { 0 };
    struct err e = { 0 };
    cJSON *st = NULL;
    int64_t now = (int64_t)time(NULL);
    *next = 0;
    if (account_load_json(s, name, &st, &e) < 0)
        goto out;
    *next = rotation_next(st);
    if (*next == 0 || *next > now)
        goto out;
    /* A rotation that stopped half-way is settled first, as rotate-key does. */
    if (pending_settle(eng, s, name, st, &eng->stopping, &e) < 0) {
        log_warn("engine", "automatic key rotation: an earlier rotation is unresolved",
                 "name", name, "error", e.msg, NULL);
        *next = now + ROTATION_RETRY_S;
        goto out;
    }
    enum crypto_key_type kt = crypto_key_type_parse(
        json_str(account_json_active_key(st), "key_type"));
    if (kt == CRYPTO_KEY_NONE)
        kt = CRYPTO_KEY_EC256;
    int old_ver = 0, new_ver = 0;
    bool ca_failed = false;
    if (rotate_locked(eng, s, name, st, kt, 0, &eng->stopping, &old_ver, &new_ver, &rep,
                      &ca_failed, &e) == 0) {
        order_clients_drop(eng->clients, name);
        *next = rotation_next(st);
        goto out;
    }
    if (ca_failed && rep.problem.type) {
        /* The CA said no: the old key stays; the reason is shown on the account. */
        char msg[700];
        struct err se = { 0 };
        snprintf(msg, sizeof msg, "%s", e.msg);
        log_warn("engine", "automatic key rotation refused by the CA; the old key stays",
                 "name", name, "error", msg, NULL);
        cJSON_DeleteItemFromObjectCaseSensitive(st, "key_rotation_error");
        cJSON_DeleteItemFromObjectCaseSensitive(st, "key_rotation_failed_at");
        if (!cJSON_AddStringToObject(st, "key_rotation_error", msg) ||
            !cJSON_AddNumberToObject(st, "key_rotation_failed_at", (double)now) ||
            account_store(eng, s, name, st, &se) < 0)
            log_warn("engine", "automatic key rotation: the refusal could not be stored",
                     "name", name, "error", se.msg, NULL);
        *next = rotation_next(st);
    } else {
        log_warn("engine", "automatic key rotation failed; trying again later", "name", name,
                 "error", e.msg, NULL);
        *next = now + 60;
    }
    order_clients_drop(eng->clients, name);
out:
    acme_reply_clear(&rep);
    account_json_free(st);
}

int accounts_rotate_due(struct engine *eng, struct fw_storage *s, int64_t *next_s,
                        struct err *e)
{
    char **keys = NULL;
    *next_s = 0;
    if (s->list(s->ctx, "account/", &keys, e) < 0)
        return err_wrap(e, "listing account/");
    for (size_t i = 0; keys[i] && !atomic_load(&eng->stopping); i++) {
        struct keylock hold = { 0 };
        cJSON *st = NULL;
        struct err le = { 0 };
        int64_t next = 0;
        size_t len = strlen(keys[i]);
        if (len == 0 || keys[i][len - 1] == '/')
            continue;
        /* Unlocked look first: most accounts never rotate, and none is due most times. */
        if (account_load_json(s, keys[i], &st, &le) < 0)
            continue;
        next = rotation_next(st);
        account_json_free(st);
        if (next > 0 && next <= (int64_t)time(NULL)) {
            keylock_wait(&eng->account_locks, keys[i], &hold);
            rotate_one_locked(eng, s, keys[i], &next);
            keylock_release(&eng->account_locks, &hold);
        }
        if (next > 0 && (*next_s == 0 || next < *next_s))
            *next_s = next;
    }
    fw_strv_free(keys);
    return 0;
}

/* A write to "config/acme-account/" names no account: a 400 that says so, not a 405. */
static int account_unnamed(const struct fw_req *req, const struct fw_data *d,
                           struct fw_resp *resp, struct err *e)
{
    return err_set(e, ERR_INVALID, "name: must not be empty");
}

/* ---- paths ---------------------------------------------------------------------------- */

static const char acct_name_desc[] =
    "Name of the ACME account: letters, digits, '_', and '-' or '.' inside.";

/* What the PEM fields may hold (the framework refuses any other block, a key above all). */
static const char *const pem_certificates[] = { "CERTIFICATE", NULL };
static const char *const pem_private_keys[] = { "PRIVATE KEY", "EC PRIVATE KEY",
                                                "RSA PRIVATE KEY", NULL };

static const struct fw_field account_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = acct_name_desc },
    { "directory_url", FW_TYPE_STRING, .required = true,
      .desc = "The CA's ACME directory URL (https), e.g. "
              "https://acme-v02.api.letsencrypt.org/directory. Fixed after creation." },
    { "email_contacts", FW_TYPE_COMMA_STRING_SLICE, .required = true,
      .desc = "Email addresses the CA may contact about the account; at least one. Kept in "
              "the order given. Fixed after creation." },
    { "key_type", FW_TYPE_STRING, .def = "ec-256", .allowed = acct_key_types,
      .empty_is_default = true,
      .desc = "Account key type: ec-256, ec-384, ec-521, rsa-2048, rsa-4096 or rsa-8192. "
              "Fixed after creation (use rotate-key)." },
    { "eab_kid", FW_TYPE_STRING,
      .desc = "External Account Binding key identifier, for CAs that require one." },
    { "eab_key", FW_TYPE_STRING,
      .desc = "External Account Binding HMAC key (base64url). Used once at registration, "
              "never stored or returned." },
    { "trusted_ca", FW_TYPE_STRING, .pem = pem_certificates,
      .desc = "PEM CA certificates trusted for the CA's HTTPS (private ACME servers). "
              "Can be updated; returned byte for byte." },
    { "default_nameserver", FW_TYPE_STRING,
      .desc = "Resolver (host or host:port) for DNS-01 propagation checks (Vault 2.1 API). "
              "Stored and returned." },
    /* -- automatic key rotation (issue 14 §3) -- */
    { "key_rotation_period", FW_TYPE_DURATION,
      .desc = "Rotate the account key automatically (ACME keyChange, as rotate-key does) "
              "once the active key is this old; 0 (default) turns it off. Can be updated. "
              "Reads show next_key_rotation, and key_rotation_error when the CA refused (the "
              "old key then stays active and the rotation is tried again later)." },
    { 0 }
};

static const struct fw_field account_import_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = acct_name_desc },
    { "account_key", FW_TYPE_STRING, .required = true, .pem = pem_private_keys,
      .desc = "PEM private key of the existing account (PKCS#8, SEC1 or PKCS#1). Never "
              "returned." },
    { "directory_url", FW_TYPE_STRING, .required = true,
      .desc = "The ACME directory URL (https) where the account is registered." },
    { "trusted_ca", FW_TYPE_STRING, .pem = pem_certificates,
      .desc = "PEM CA certificates trusted for the CA's HTTPS." },
    { "default_nameserver", FW_TYPE_STRING,
      .desc = "Resolver (host or host:port) for DNS-01 propagation checks." },
    { 0 }
};

static const struct fw_field account_rotate_fields[] = {
    { "name", FW_TYPE_STRING, .required = true, .desc = acct_name_desc },
    { "key_type", FW_TYPE_STRING, .def = "ec-256", .allowed = acct_key_types,
      .empty_is_default = true,
      .desc = "Type of the new account key: ec-256, ec-384, ec-521, rsa-2048, rsa-4096 or "
              "rsa-8192." },
    { "force", FW_TYPE_BOOL, .def = "false",
      .desc = "Rotate even while orders of the account's roles are active." },
    { 0 }
};

static const struct fw_field account_list_fields[] = { { 0 } };

static const char account_help[] =
    "An ACME account registered with an external CA. Creating one generates the account key\n"
    "(key version 0), registers it at directory_url with email_contacts (agreeing to the\n"
    "CA's terms of service) and, when the CA requires it, external account binding\n"
    "(eab_kid, eab_key). Only trusted_ca can change afterwards; sending the other fields\n"
    "again unchanged is accepted; key_rotation_period can be updated too (the worker then\n"
    "rotates the key whenever the active key is that old). Deleting deactivates the account at the CA and is refused\n"
    "while a role uses it. Private keys are stored seal-wrapped and never returned.";

static const char account_import_help[] =
    "Imports an account that already exists at the CA, from its private key: the CA is\n"
    "asked for the account of that key (onlyReturnExisting), and its contacts are copied.";

static const char account_rotate_help[] =
    "Generates a new account key and rolls the account over to it at the CA (ACME\n"
    "keyChange). The new key version becomes active; older versions stay for the record.\n"
    "Refused while the account's roles have active orders, unless force=true. After a\n"
    "forced rotation the pending challenges of those orders carry the new key's\n"
    "authorization (RFC 8555 8.1): read each challenge again and publish what it says.\n"
    "The new key is stored as pending before the CA is asked and promoted after; if that\n"
    "second write fails, the next use of the account asks the CA which key it holds.";

static const char account_list_help[] = "Lists the names of the configured ACME accounts.";

/* Names may contain '/' or be empty in a request; the patterns still capture them so the
 * handlers can answer 400 saying why, instead of an unexplained 404. */
/* No existence check: the handler tells create from update by reading storage. Hosts turn
 * an existence-check failure (a malformed field) into a bare "invalid request", while the
 * handler's 400 names the field; writes therefore need the "update" capability. */
const struct fw_path path_account = {
    /* registration, key change and deactivation wait on the CA */
    .remote_ops = (1u << FW_CREATE) | (1u << FW_UPDATE) | (1u << FW_DELETE),
    .pattern = "config/acme-account/(?<name>(?:(?!/import$|/rotate-key$).)+)",
    .fields = account_fields,
    .ops = {
        [FW_READ] = { account_read, "Read an ACME account." },
        [FW_CREATE] = { account_write, "Create (register) an ACME account." },
        [FW_UPDATE] = { account_write, "Create an ACME account, or update its trusted_ca." },
        [FW_DELETE] = { account_delete, "Deactivate and delete an ACME account." },
    },
    .synopsis = "Manage ACME accounts at external CAs.",
    .description = account_help,
};

const struct fw_path path_account_import = {
    /* registration, key change and deactivation wait on the CA */
    .remote_ops = (1u << FW_CREATE) | (1u << FW_UPDATE),
    .pattern = "config/acme-account/(?<name>.*)/import",
    .fields = account_import_fields,
    .ops = {
        [FW_CREATE] = { account_import, "Import an existing ACME account." },
        [FW_UPDATE] = { account_import, "Import an existing ACME account." },
    },
    .synopsis = "Import an existing ACME account by its private key.",
    .description = account_import_help,
};

const struct fw_path path_account_rotate = {
    /* registration, key change and deactivation wait on the CA */
    .remote_ops = (1u << FW_CREATE) | (1u << FW_UPDATE),
    .pattern = "config/acme-account/(?<name>.*)/rotate-key",
    .fields = account_rotate_fields,
    .ops = {
        [FW_CREATE] = { account_rotate, "Rotate the account key." },
        [FW_UPDATE] = { account_rotate, "Rotate the account key." },
    },
    .synopsis = "Rotate an ACME account's key (ACME keyChange).",
    .description = account_rotate_help,
};

const struct fw_path path_account_list = {
    .pattern = "config/acme-account/?",
    .fields = account_list_fields,
    .ops = {
        [FW_LIST] = { account_list, "List ACME accounts." },
        [FW_UPDATE] = { account_unnamed, "Refused: an account needs a name." },
    },
    .synopsis = "List ACME accounts.",
    .description = account_list_help,
};

const struct fw_path *const account_paths[] = {
    &path_account_list, &path_account_import, &path_account_rotate, &path_account, NULL
};
