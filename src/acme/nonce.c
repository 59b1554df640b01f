/* nonce.c: anti-replay nonces (RFC 8555 7.2). Every response's Replay-Nonce is kept for the
 * next request, so newNonce is only asked when the pool is empty. */
#include "internal.h"

#include <stddef.h>
#include <stdlib.h>

void acme_nonce_put(struct acme_client *c, char *nonce)
{
    if (!nonce)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->n_nonces < ACME_NONCE_POOL) {
        c->nonces[c->n_nonces++] = nonce;
        nonce = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(nonce);
}

int acme_nonce_get(struct acme_client *c, char **out, struct err *e)
{
    struct acme_http_resp r = { 0 };
    char *url = NULL;
    int ret = -1;

    *out = NULL;
    pthread_mutex_lock(&c->mu);
    /* Newest first: older nonces are likelier to have expired at the CA. */
    if (c->n_nonces)
        *out = c->nonces[--c->n_nonces];
    pthread_mutex_unlock(&c->mu);
    if (*out)
        return 0;

    if (acme_dir_url(c, offsetof(struct acme_directory, new_nonce), "newNonce", &url, e))
        goto out;
    if (acme_http_request(c, "HEAD", url, NULL, NULL, &r, e))
        goto out;
    if (r.status >= 400) {
        acme_problem_to_err(&r, url, NULL, e);
        err_wrap(e, "newNonce");
        goto out;
    }
    if (!r.replay_nonce) {
        err_set(e, ERR_UPSTREAM, "acme: newNonce %s: no Replay-Nonce header", url);
        goto out;
    }
    *out = r.replay_nonce;
    r.replay_nonce = NULL;
    ret = 0;
out:
    free(url);
    acme_http_resp_clear(&r);
    return ret;
}
