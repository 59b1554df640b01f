/* ari.c: ACME Renewal Information (RFC 9773): the certificate id and the suggested window. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

/* "03:e7:1f" -> bytes. With der_int, a leading 0x00 is added when the top bit is set, as the
 * DER INTEGER content octets of a positive serial have it. */
static unsigned char *colon_hex_bytes(const char *s, bool der_int, size_t *len)
{
    size_t n = 0, cap = strlen(s) / 2 + 2;
    unsigned char *b = malloc(cap);
    if (!b)
        return NULL;
    if (der_int)
        b[n++] = 0;
    for (const char *p = s; *p;) {
        unsigned v;
        if (*p == ':') {
            p++;
            continue;
        }
        if (sscanf(p, "%2x", &v) != 1 || !p[1]) {
            free(b);
            return NULL;
        }
        b[n++] = (unsigned char)v;
        p += 2;
    }
    /* Drop the extra zero if the serial did not need it (minimal encoding). */
    if (der_int && n > 1 && !(b[1] & 0x80)) {
        memmove(b, b + 1, --n);
    }
    *len = n;
    return b;
}

char *acme_ari_id_from_hex(const char *aki_hex, const char *serial_hex)
{
    unsigned char *aki = NULL, *ser = NULL;
    size_t aki_len = 0, ser_len = 0;
    char *a64 = NULL, *s64 = NULL, *out = NULL;
    aki = colon_hex_bytes(aki_hex, false, &aki_len);
    ser = colon_hex_bytes(serial_hex, true, &ser_len);
    if (aki && ser && aki_len && ser_len) {
        a64 = crypto_b64url_encode(aki, aki_len);
        s64 = crypto_b64url_encode(ser, ser_len);
        if (a64 && s64 && asprintf(&out, "%s.%s", a64, s64) < 0)
            out = NULL;
    }
    free(aki);
    free(ser);
    free(a64);
    free(s64);
    return out;
}

char *acme_ari_cert_id(const char *cert_pem, struct err *e)
{
    struct crypto_cert_info ci = { 0 };
    char *out = NULL;

    if (!cert_pem)
        return err_set(e, ERR_INVALID, "certificate: required"), NULL;
    if (crypto_cert_parse(cert_pem, &ci, e)) {
        err_wrap(e, "certificate");
        return NULL;
    }
    if (!ci.authority_key_id || !*ci.authority_key_id) {
        err_set(e, ERR_INVALID, "certificate: no authority key identifier, no ARI id");
        goto out;
    }
    if (ci.serial)
        out = acme_ari_id_from_hex(ci.authority_key_id, ci.serial);
    if (!out)
        err_set(e, ERR_INVALID, "certificate: unreadable key identifier or serial");
out:
    crypto_cert_info_clear(&ci);
    return out;
}

void acme_renewal_info_clear(struct acme_renewal_info *ri)
{
    if (!ri)
        return;
    free(ri->explanation_url);
    memset(ri, 0, sizeof *ri);
}

int acme_get_renewal_info(struct acme_client *c, const char *cert_pem,
                          struct acme_renewal_info *out, struct acme_reply *rep,
                          struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *base = NULL, *id = NULL, *url = NULL;
    cJSON *root = NULL;
    int ret = -1;

    memset(out, 0, sizeof *out);
    if (rep)
        acme_reply_clear(rep);
    if (acme_dir_url(c, offsetof(struct acme_directory, renewal_info), "renewalInfo", &base, e)) {
        if (e && e->kind == ERR_UPSTREAM)
            e->kind = ERR_NOT_FOUND;   /* the CA has no ARI: not an error to act on */
        goto out;
    }
    id = acme_ari_cert_id(cert_pem, e);
    if (!id)
        goto out;
    size_t bl = strlen(base);
    if (asprintf(&url, "%s%s%s", base, bl && base[bl - 1] == '/' ? "" : "/", id) < 0) {
        url = NULL;
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    /* RFC 9773 4.2: a plain GET, no JWS. */
    if (acme_http_request(c, "GET", url, NULL, NULL, &r, e))
        goto out;
    acme_reply_fill(rep, &r);
    if (r.status >= 400) {
        acme_problem_to_err(&r, url, rep, e);
        goto out;
    }
    root = acme_json_body(&r, "renewalInfo", e);
    if (!root)
        goto out;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "suggestedWindow");
    out->window_start = acme_json_time(w, "start");
    out->window_end = acme_json_time(w, "end");
    out->explanation_url = acme_json_strdup(root, "explanationURL");
    out->retry_at = r.retry_at;
    if (!out->window_start || !out->window_end) {
        acme_renewal_info_clear(out);
        err_set(e, ERR_UPSTREAM, "acme: renewalInfo %s: no suggestedWindow", url);
        goto out;
    }
    log_debug("acme", "renewal info", "url", url, NULL);
    ret = 0;
out:
    cJSON_Delete(root);
    acme_http_resp_clear(&r);
    free(base);
    free(id);
    free(url);
    return ret;
}
