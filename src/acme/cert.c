/* cert.c: certificate download (RFC 8555 7.4.2), with alternate chains from Link headers. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void acme_cert_chain_clear(struct acme_cert_chain *ch)
{
    if (!ch)
        return;
    free(ch->pem);
    acme_strv_free(ch->alternates);
    memset(ch, 0, sizeof *ch);
}

int acme_download_cert(struct acme_client *c, const char *cert_url,
                       struct acme_cert_chain *out, struct acme_reply *rep, struct err *e)
{
    struct acme_http_resp r = { 0 };
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (!cert_url || !*cert_url)
        return err_set(e, ERR_INVALID, "certificate url: required");
    if (acme_post(c, cert_url, NULL, ACME_SIGN_KID, NULL, &r, rep, e))
        goto out;
    if (acme_http_expect_type(&r, "application/pem-certificate-chain", "certificate", e) < 0)
        goto out;
    if (!strstr(r.body, "-----BEGIN CERTIFICATE-----")) {
        err_set(e, ERR_UPSTREAM, "acme: certificate %s: reply is not a PEM chain (%s)",
                cert_url, r.content_type ? r.content_type : "no content type");
        goto out;
    }
    /* Hand-off: the body and the alternates move into *out. */
    out->pem = r.body;
    r.body = NULL;
    out->alternates = r.links_alternate;
    r.links_alternate = NULL;
    log_debug("acme", "certificate downloaded", "url", cert_url, NULL);
    ret = 0;
out:
    acme_http_resp_clear(&r);
    return ret;
}
