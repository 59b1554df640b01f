/* revoke.c: revokeCert (RFC 8555 7.6), signed by the account key or by the certificate's key. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

int acme_revoke_cert(struct acme_client *c, const char *cert_pem, int reason,
                     const struct crypto_key *cert_key, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *url = NULL, *der64 = NULL, *body = NULL;
    cJSON *p = NULL;
    int ret = -1;

    if (rep)
        acme_reply_clear(rep);
    if (!cert_pem || !*cert_pem)
        return err_set(e, ERR_INVALID, "certificate: required");
    if (reason < -1 || reason > 10 || reason == 7)
        return err_set(e, ERR_INVALID, "reason %d: want an RFC 5280 reason code 0..10, not 7",
                       reason);
    if (crypto_cert_pem_to_der(cert_pem, &der, &der_len, e)) {
        err_wrap(e, "certificate");
        goto out;
    }
    if (acme_dir_url(c, offsetof(struct acme_directory, revoke_cert), "revokeCert", &url, e))
        goto out;
    der64 = crypto_b64url_encode(der, der_len);
    p = cJSON_CreateObject();
    if (der64 && p && cJSON_AddStringToObject(p, "certificate", der64) &&
        (reason < 0 || cJSON_AddNumberToObject(p, "reason", reason)))
        body = cJSON_PrintUnformatted(p);
    if (!body) {
        err_set(e, ERR_INTERNAL, "acme: revoke: out of memory");
        goto out;
    }
    if (acme_post(c, url, body, cert_key ? ACME_SIGN_JWK : ACME_SIGN_KID, cert_key, &r, rep, e))
        goto out;
    log_debug("acme", "certificate revoked", "url", url, NULL);
    ret = 0;
out:
    acme_http_resp_clear(&r);
    cJSON_Delete(p);
    free(der);
    free(der64);
    free(body);
    free(url);
    return ret;
}
