/* rfc2136.c: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), for BIND, Knot, PowerDNS
 * and any server that accepts dynamic updates. The zone is found by asking the configured
 * server for the record's SOA; the update adds or deletes exactly one TXT RR, so records of
 * other orders at the same name are untouched.
 *
 * Fields: nameserver (IP[:port], required), tsig_key_name, tsig_secret (base64),
 * tsig_algorithm. The default algorithm is hmac-sha256: RFC 8945 makes it the one every
 * implementation must support, BIND's and Knot's key generators default to it, and the
 * newest OpenAPI text says so too (the docs' hmac-sha1 is deprecated for new keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "crypto.h"
#include "internal.h"

static const char *const ALGORITHMS[] = { "hmac-sha1", "hmac-sha224", "hmac-sha256",
                                          "hmac-sha384", "hmac-sha512", NULL };

static int rfc2136_validate(cJSON *cfg, struct err *e)
{
    struct dns_server srv;
    const char *ns = dns_cfg_str(cfg, "nameserver");
    if (!ns[0])
        return err_set(e, ERR_INVALID, "nameserver: required (the IP:port of the server that "
                       "accepts the updates)");
    if (dns_server_parse("nameserver", ns, false, &srv, e) < 0)
        return -1;
    const char *key = dns_cfg_str(cfg, "tsig_key_name");
    if (!key[0])
        return err_set(e, ERR_INVALID, "tsig_key_name: required");
    if (dns_pattern_check("tsig_key_name", key, NULL, e) < 0 || strchr(key, '*'))
        return err_set(e, ERR_INVALID, "tsig_key_name: \"%.100s\" is not a key name (a DNS "
                       "name such as vault-key or vault-key.example.com)", key);
    const char *secret = dns_cfg_str(cfg, "tsig_secret");
    if (!secret[0])
        return err_set(e, ERR_INVALID, "tsig_secret: required (the key's base64 secret)");
    unsigned char *raw = NULL;
    size_t rlen = 0;
    struct err be;
    if (crypto_b64_decode(secret, &raw, &rlen, &be) < 0 || rlen == 0) {
        free(raw);
        return err_set(e, ERR_INVALID, "tsig_secret: not valid base64");
    }
    memset(raw, 0, rlen);
    free(raw);
    const char *alg = dns_cfg_str(cfg, "tsig_algorithm");
    if (!alg[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "tsig_algorithm");
        if (!cJSON_AddStringToObject(cfg, "tsig_algorithm", "hmac-sha256"))
            return err_set(e, ERR_INTERNAL, "out of memory");
        return 0;
    }
    for (size_t i = 0; ALGORITHMS[i]; i++)
        if (strcmp(ALGORITHMS[i], alg) == 0)
            return 0;
    return err_set(e, ERR_INVALID, "tsig_algorithm: unknown value \"%.64s\" (one of hmac-sha1, "
                   "hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512)", alg);
}

/* The configured server and key; strings borrowed from cfg. */
static int server_and_key(const cJSON *cfg, struct dns_server *srv, struct dns_tsig_key *k,
                          char *name, size_t ncap, struct err *e)
{
    if (dns_server_parse("nameserver", dns_cfg_str(cfg, "nameserver"), false, srv, e) < 0)
        return -1;
    snprintf(name, ncap, "%s", dns_cfg_str(cfg, "tsig_key_name"));
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[n - 1] = '\0';
    k->name = name;
    k->algorithm = dns_cfg_str(cfg, "tsig_algorithm")[0] ? dns_cfg_str(cfg, "tsig_algorithm")
                                                          : "hmac-sha256";
    k->secret = dns_cfg_str(cfg, "tsig_secret");
    return 0;
}

/* What a refusal means for the operator. */
static int rcode_error(ldns_pkt_rcode rc, const char *what, const char *server, struct err *e)
{
    char *name = ldns_pkt_rcode2str(rc);
    char n[32];
    snprintf(n, sizeof n, "%s", name ? name : "?");
    free(name);
    switch (rc) {
    case LDNS_RCODE_NOTAUTH:
        return err_set(e, ERR_UPSTREAM, "%s: %s refused the TSIG signature (NOTAUTH): check "
                       "tsig_key_name, tsig_secret and tsig_algorithm", what, server);
    case LDNS_RCODE_REFUSED:
        return err_set(e, ERR_UPSTREAM, "%s: %s refused the update (REFUSED): the server does "
                       "not allow this key to update the zone, or does not serve it", what,
                       server);
    case LDNS_RCODE_NOTZONE:
        return err_set(e, ERR_UPSTREAM, "%s: %s says the name is outside the zone (NOTZONE)",
                       what, server);
    case LDNS_RCODE_SERVFAIL:
        return err_set(e, ERR_RETRY, "%s: %s answered SERVFAIL", what, server);
    default:
        return err_set(e, ERR_UPSTREAM, "%s: %s answered %s", what, server, n);
    }
}

/* Sends q signed; a reply other than NOERROR/NXDOMAIN becomes an error saying what to fix. */
static int send_checked(const struct dns_server *srv, const struct dns_tsig_key *k, ldns_pkt *q,
                        const char *what, const char *server, ldns_pkt **ans, struct err *e)
{
    if (dns_tsig_exchange(srv, q, k, ans, e) < 0)
        return err_wrap(e, "%s", what);
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(*ans);
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN)
        return rcode_error(rc, what, server, e);
    return 0;
}

/* The zone apex of fqdn, asked of the server itself (signed, so a bad key shows here). */
static int find_zone(const struct dns_server *srv, const struct dns_tsig_key *k,
                     const char *fqdn, const char *server, char *zone, size_t cap,
                     struct err *e)
{
    char what[400];
    snprintf(what, sizeof what, "finding the zone of %s", fqdn);
    ldns_rdf *dn = ldns_dname_new_frm_str(fqdn);
    if (!dn)
        return err_set(e, ERR_INVALID, "\"%.100s\" is not a DNS name", fqdn);
    ldns_pkt *q = ldns_pkt_query_new(dn, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
    if (!q)
        return err_set(e, ERR_INTERNAL, "out of memory");
    ldns_pkt_set_random_id(q);
    ldns_pkt *ans = NULL;
    int rc = send_checked(srv, k, q, what, server, &ans, e);
    ldns_pkt_free(q);
    if (rc == 0) {
        const ldns_rr_list *secs[] = { ldns_pkt_answer(ans), ldns_pkt_authority(ans) };
        zone[0] = '\0';
        for (size_t s = 0; s < 2 && !zone[0]; s++) {
            for (size_t i = 0; secs[s] && i < ldns_rr_list_rr_count(secs[s]); i++) {
                const ldns_rr *rr = ldns_rr_list_rr(secs[s], i);
                if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
                    continue;
                char *str = ldns_rdf2str(ldns_rr_owner(rr));
                snprintf(zone, cap, "%s", str ? str : "");
                free(str);
                break;
            }
        }
        if (!zone[0])
            rc = err_set(e, ERR_UPSTREAM, "%s: zone not found: %s gave no SOA record (it does "
                         "not serve a zone holding this name)", what, server);
    }
    ldns_pkt_free(ans);
    return rc;
}

static int update(const cJSON *cfg, const char *fqdn, const char *value, int64_t ttl, bool add,
                  struct err *e)
{
    struct dns_server srv;
    struct dns_tsig_key key;
    char server[300], zone[300], what[400], rrtext[1400], kname[300];
    if (strlen(value) > 255 || strchr(value, '"') || strchr(value, '\\'))
        return err_set(e, ERR_INVALID, "TXT value: not a dns-01 value");
    if (server_and_key(cfg, &srv, &key, kname, sizeof kname, e) < 0)
        return -1;
    dns_server_str(&srv, server, sizeof server);
    snprintf(what, sizeof what, "%s TXT record %s", add ? "adding" : "deleting", fqdn);
    if (find_zone(&srv, &key, fqdn, server, zone, sizeof zone, e) < 0)
        return -1;
    snprintf(rrtext, sizeof rrtext, "%s %lld IN TXT \"%s\"", fqdn, (long long)(add ? ttl : 0),
             value);
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, rrtext, 0, NULL, NULL) != LDNS_STATUS_OK)
        return err_set(e, ERR_INVALID, "%s: cannot build the record", what);
    if (!add)
        ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);   /* RFC 2136 2.5.4: delete this RR */
    ldns_rr_list *up = ldns_rr_list_new();
    ldns_rdf *zrdf = ldns_dname_new_frm_str(zone);
    if (!up || !zrdf || !ldns_rr_list_push_rr(up, rr)) {
        ldns_rr_free(rr);
        ldns_rr_list_free(up);
        ldns_rdf_deep_free(zrdf);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    ldns_pkt *q = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, NULL, up, NULL);
    ldns_rr_list_deep_free(up);
    if (!q)
        return err_set(e, ERR_INTERNAL, "out of memory");
    ldns_pkt_set_random_id(q);
    ldns_pkt *ans = NULL;
    int rc = send_checked(&srv, &key, q, what, server, &ans, e);
    if (rc == 0 && ldns_pkt_get_rcode(ans) != LDNS_RCODE_NOERROR)
        rc = rcode_error(ldns_pkt_get_rcode(ans), what, server, e);
    ldns_pkt_free(q);
    ldns_pkt_free(ans);
    return rc;
}

static int rfc2136_publish(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                           const char *value, int64_t ttl, char **change, struct err *e)
{
    *change = NULL;
    return update(cfg, fqdn, value, ttl, true, e);
}

static int rfc2136_remove(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                          const char *value, int64_t ttl, struct err *e)
{
    return update(cfg, fqdn, value, ttl, false, e);
}

const struct dns_provider_type dns_type_rfc2136 = {
    .type = "rfc2136",
    .default_ttl = "60s",
    .validate = rfc2136_validate,
    .publish = rfc2136_publish,
    .remove = rfc2136_remove,
    .synced = NULL,
};
