/* finalize.c: order finalization with a CSR (RFC 8555 7.4). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

int acme_finalize(struct acme_client *c, const char *finalize_url, const unsigned char *csr_der,
                  size_t csr_der_len, struct acme_order *out, struct acme_reply *rep,
                  struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *csr64 = NULL, *body = NULL;
    cJSON *p = NULL;
    int ret = -1;

    memset(out, 0, sizeof *out);
    if (!finalize_url || !*finalize_url)
        return err_set(e, ERR_INVALID, "finalize url: required");
    if (!csr_der || !csr_der_len)
        return err_set(e, ERR_INVALID, "csr: required");
    csr64 = crypto_b64url_encode(csr_der, csr_der_len);
    p = cJSON_CreateObject();
    if (csr64 && p && cJSON_AddStringToObject(p, "csr", csr64))
        body = cJSON_PrintUnformatted(p);
    if (!body) {
        err_set(e, ERR_INTERNAL, "acme: finalize: out of memory");
        goto out;
    }
    if (acme_post(c, finalize_url, body, ACME_SIGN_KID, NULL, &r, rep, e))
        goto out;
    /* The order URL is the Location of a finalize reply (RFC 8555 7.4). */
    if (acme_order_parse(&r, r.location ? r.location : finalize_url, out, e))
        goto out;
    log_debug("acme", "order finalized", "url", out->url, "status", out->status_str, NULL);
    ret = 0;
out:
    cJSON_Delete(p);
    free(csr64);
    free(body);
    acme_http_resp_clear(&r);
    return ret;
}
