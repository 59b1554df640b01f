/* fuzz_dns_replies.c: the JSON replies of the cloud DNS APIs (src/dns): Google token,
 * managedZones, rrsets and change replies and error bodies, Cloudflare's v4 envelope
 * errors, as a hostile or broken server could send them. */
#include "fuzz_util.h"

#include "../../src/dns/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct err e = { 0 };
    char *tok = NULL, zone[64], id[100];
    int64_t life;
    char vals[50][300];
    size_t n;
    long ttl;
    bool done;
    if (dns_google_token_parse(body, size, "access_token", "expires_in", &tok, &life, &e) == 0)
        free(tok);
    if (dns_google_token_parse(body, size, "accessToken", "expireTime", &tok, &life, &e) == 0)
        free(tok);
    dns_google_zone_parse(body, size, "example.com.", zone, sizeof zone);
    dns_google_rrset_parse(body, size, "_acme-challenge.example.com.", vals, 50, &n, &ttl);
    dns_google_change_parse(body, size, id, sizeof id, &done);
    dns_google_error("google", 403, body, size, &e);
    dns_cloudflare_error("cloudflare", 400, body, size, &e);
    return 0;
}
