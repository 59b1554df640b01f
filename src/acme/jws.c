/* jws.c: the ACME JWS envelope (RFC 8555 6.2): protected header with alg, kid or jwk,
 * nonce and url. The signing itself is crypto_jws_flattened(). */
#include "internal.h"

#include <stdlib.h>

char *acme_jws_protected(const char *alg, const char *kid, const char *jwk_json,
                         const char *nonce, const char *url)
{
    char *out = NULL;
    cJSON *h = cJSON_CreateObject(), *jwk = NULL;
    if (!h || !alg || !url || (!kid == !jwk_json))
        goto out;
    if (!cJSON_AddStringToObject(h, "alg", alg))
        goto out;
    if (kid) {
        if (!cJSON_AddStringToObject(h, "kid", kid))
            goto out;
    } else {
        jwk = cJSON_Parse(jwk_json);
        if (!cJSON_IsObject(jwk))
            goto out;
        cJSON_AddItemToObject(h, "jwk", jwk);
        jwk = NULL;
    }
    if (nonce && !cJSON_AddStringToObject(h, "nonce", nonce))
        goto out;
    if (!cJSON_AddStringToObject(h, "url", url))
        goto out;
    out = cJSON_PrintUnformatted(h);
out:
    cJSON_Delete(jwk);
    cJSON_Delete(h);
    return out;
}
