/* order_keyauth.c: key authorizations from the account's current key. RFC 8555 §8.1 defines
 * a challenge's key authorization as token || "." || thumbprint(account key), the key the
 * account has when the CA validates: after rotate-key the CA checks against the new key.
 * The stored key_auth / dns_value of an order are therefore a cache, brought up to date
 * where they are shown (the challenge endpoint; the status view carries no key
 * authorization) and whenever the worker reads the CA's authorizations. Only pending challenges follow the key: one the CA already validated
 * keeps the value it was validated with, so a completed order reads the same forever
 * (Terraform re-reads challenges on every plan). */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "../internal.h"
#include "order.h"

static bool follows_key(const struct order_challenge *c)
{
    return c->token[0] && strcmp(c->status, "pending") == 0;
}

int order_challenge_key_auth(struct order_challenge *c, const char *thumbprint, struct err *e)
{
    char *ka = malloc(strlen(c->token) + strlen(thumbprint) + 2);
    if (!ka)
        return err_set(e, ERR_INTERNAL, "key authorization: out of memory");
    strcpy(ka, c->token);
    strcat(ka, ".");
    strcat(ka, thumbprint);
    char *dv = strcmp(c->type, "dns-01") == 0 ? crypto_sha256_b64url(ka) : strdup("");
    if (!dv) {
        free(ka);
        return err_set(e, ERR_INTERNAL, "key authorization: out of memory");
    }
    free(c->key_auth);
    free(c->dns_value);
    c->key_auth = ka;
    c->dns_value = dv;
    return 0;
}

int order_key_auths_current(struct engine *eng, struct fw_storage *s, struct order *o,
                            struct err *e)
{
    bool any = false;
    for (size_t i = 0; i < o->n_authzs && !any; i++)
        for (size_t k = 0; k < o->authzs[i].n_challenges && !any; k++)
            any = follows_key(&o->authzs[i].challenges[k]);
    if (!any)
        return 0;   /* nothing to derive: no account read */
    struct order_client *held = NULL;
    if (order_client_get(eng, s, o->account, &held, e) < 0) {
        if (e->kind == ERR_NOT_FOUND)
            return 0;   /* the account is gone: the order cannot finish; show what it had */
        return -1;
    }
    const char *tp = order_client_thumbprint(held);
    int rc = 0;
    for (size_t i = 0; i < o->n_authzs && rc == 0; i++) {
        for (size_t k = 0; k < o->authzs[i].n_challenges && rc == 0; k++) {
            struct order_challenge *c = &o->authzs[i].challenges[k];
            if (follows_key(c))
                rc = order_challenge_key_auth(c, tp, e);
        }
    }
    order_client_put(eng->clients, held);
    return rc;
}
