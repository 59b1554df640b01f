/* test_acme_jws.c: the ACME JWS envelope (RFC 8555 6.2): protected header members for kid
 * and jwk signing, the keyChange inner header without a nonce, and a signed request that
 * decodes back to what was signed. No network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "../../src/acme/internal.h"

static const char *JWK = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AAA\",\"y\":\"BBB\"}";

static const struct {
    const char *name, *alg, *kid;
    bool pass_jwk;
    const char *nonce, *url;
    bool ok;
    const char *want_kid;
    bool want_jwk, want_nonce;
} cases[] = {
    { "kid", "ES256", "https://ca/acct/1", false, "n1", "https://ca/new-order", true,
      "https://ca/acct/1", false, true },
    { "jwk", "ES256", NULL, true, "n2", "https://ca/new-acct", true, NULL, true, true },
    { "keyChange inner: no nonce", "RS256", NULL, true, NULL, "https://ca/key-change", true,
      NULL, true, false },
    { "both kid and jwk", "ES256", "k", true, "n", "u", false, NULL, false, false },
    { "neither", "ES256", NULL, false, "n", "u", false, NULL, false, false },
    { "no url", "ES256", "k", false, "n", NULL, false, NULL, false, false },
};

static cJSON *b64_json(const char *s)
{
    unsigned char *raw = NULL;
    size_t len = 0;
    struct err e = { 0 };
    if (crypto_b64url_decode(s, &raw, &len, &e))
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, len);
    free(raw);
    return j;
}

int main(void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *jwk = cases[i].pass_jwk ? JWK : NULL;
        char *h = acme_jws_protected(cases[i].alg, cases[i].kid, jwk, cases[i].nonce,
                                     cases[i].url);
        if (!cases[i].ok) {
            if (h) {
                fprintf(stderr, "FAIL %s: accepted: %s\n", cases[i].name, h);
                failed++;
            }
            free(h);
            continue;
        }
        cJSON *j = h ? cJSON_Parse(h) : NULL;
        const cJSON *kid = cJSON_GetObjectItemCaseSensitive(j, "kid");
        const cJSON *jw = cJSON_GetObjectItemCaseSensitive(j, "jwk");
        const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(j, "nonce");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
        const cJSON *alg = cJSON_GetObjectItemCaseSensitive(j, "alg");
        bool ok = j && cJSON_IsString(alg) && !strcmp(alg->valuestring, cases[i].alg) &&
                  cJSON_IsString(url) && !strcmp(url->valuestring, cases[i].url) &&
                  (cases[i].want_kid ? cJSON_IsString(kid) &&
                                           !strcmp(kid->valuestring, cases[i].want_kid)
                                     : !kid) &&
                  (cases[i].want_jwk ? cJSON_IsObject(jw) &&
                                           cJSON_GetObjectItemCaseSensitive(jw, "kty")
                                     : !jw) &&
                  (cases[i].want_nonce ? cJSON_IsString(nonce) : !nonce);
        if (!ok) {
            fprintf(stderr, "FAIL %s: %s\n", cases[i].name, h ? h : "NULL");
            failed++;
        }
        cJSON_Delete(j);
        free(h);
    }

    /* A full envelope with a real key: protected/payload decode to what was put in, and
     * POST-as-GET has the empty payload. */
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    char *jws = NULL, *jwk = NULL, *prot = NULL;
    if (crypto_key_generate(CRYPTO_KEY_EC256, &k, &e) || !(jwk = crypto_jwk_public_json(k)) ||
        !(prot = acme_jws_protected(crypto_jws_alg(k), NULL, jwk, "nonce-1", "https://ca/x"))) {
        fprintf(stderr, "FAIL envelope setup: %s\n", e.msg);
        return 1;
    }
    for (int get = 0; get < 2; get++) {
        const char *payload = get ? NULL : "{\"onlyReturnExisting\":true}";
        if (crypto_jws_flattened(k, prot, payload, &jws, &e)) {
            fprintf(stderr, "FAIL sign: %s\n", e.msg);
            failed++;
            continue;
        }
        cJSON *env = cJSON_Parse(jws);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(env, "protected");
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(env, "payload");
        const cJSON *sig = cJSON_GetObjectItemCaseSensitive(env, "signature");
        cJSON *ph = cJSON_IsString(p) ? b64_json(p->valuestring) : NULL;
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ph, "nonce");
        bool ok = cJSON_GetArraySize(env) == 3 && ph && cJSON_IsString(n) &&
                  !strcmp(n->valuestring, "nonce-1") && cJSON_IsString(sig) &&
                  strlen(sig->valuestring) == 86 &&   /* ES256: 64 bytes r||s */
                  cJSON_IsString(pl);
        if (ok && get)
            ok = !strcmp(pl->valuestring, "");
        if (ok && !get) {
            cJSON *pj = b64_json(pl->valuestring);
            ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pj, "onlyReturnExisting"));
            cJSON_Delete(pj);
        }
        if (!ok || strchr(jws, '=')) {
            fprintf(stderr, "FAIL envelope (%s): %s\n", get ? "post-as-get" : "payload", jws);
            failed++;
        }
        cJSON_Delete(ph);
        cJSON_Delete(env);
        free(jws);
        jws = NULL;
    }
    free(prot);
    free(jwk);
    crypto_key_free(k);
    printf("%s\n", failed ? "FAILED" : "ok");
    return failed != 0;
}
