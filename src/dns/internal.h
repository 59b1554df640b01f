/* internal.h (private to src/dns): what the provider files share. */
#ifndef PKIEXT_DNS_INTERNAL_H
#define PKIEXT_DNS_INTERNAL_H

#include <stdbool.h>

#include <ldns/ldns.h>

#include "dns.h"

/* A resolver for one server (its host name resolved now), one try of 2 s per address.
 * *out is new (ldns_resolver_deep_free). */
int dns_resolver_for(const struct dns_server *srv, bool recursion, ldns_resolver **out,
                     struct err *e);
/* One query; *out is new (ldns_pkt_free). ERR_RETRY when the server does not answer. */
int dns_query(const struct dns_server *srv, bool recursion, const char *name, ldns_rr_type type,
              ldns_pkt **out, struct err *e);
/* 1 when the answer section holds a TXT record at fqdn whose text is value. */
int dns_txt_has(const ldns_pkt *p, const char *fqdn, const char *value);

/* A TSIG key (tsig.c): name and algorithm as DNS names without the trailing dot
 * ("vault-key", "hmac-sha256"), secret in base64. Borrowed strings. */
struct dns_tsig_key {
    const char *name, *algorithm, *secret;
};
/* Signs q (its id set) with k, sends it over UDP (two tries of 2 s) and verifies the reply's
 * TSIG. *reply is new (ldns_pkt_free). A refused or unverifiable signature is
 * ERR_UPSTREAM with a message naming the fields to check. */
int dns_tsig_exchange(const struct dns_server *srv, ldns_pkt *q, const struct dns_tsig_key *k,
                      ldns_pkt **reply, struct err *e);
/* The reply half of dns_tsig_exchange: parses ans (from the server named `server`) and
 * verifies its TSIG against the request's MAC (mac, mlen). *reply is new on success.
 * Separate so that it can be fuzzed (test/fuzz/fuzz_dns_reply.c). */
int dns_tsig_verify_reply(const uint8_t *ans, size_t alen, const struct dns_tsig_key *k,
                          const uint8_t *mac, unsigned mlen, const char *server,
                          ldns_pkt **reply, struct err *e);

/* Readers of answers (query.c), for dns_find_authoritative and the fuzzer: the owner of
 * the first SOA record in the answer or authority section (false: none), and the A/AAAA
 * addresses in list added to out (port 53, no duplicates, at most cap in all). */
bool dns_soa_owner(const ldns_pkt *p, char *zone, size_t cap);
void dns_add_addresses(const ldns_rr_list *list, struct dns_server *out, size_t cap,
                       size_t *found);

/* A string field of a configuration; "" when absent. Borrowed. */
const char *dns_cfg_str(const struct cJSON *cfg, const char *field);

#endif
