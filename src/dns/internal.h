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

/* A string field of a configuration; "" when absent. Borrowed. */
const char *dns_cfg_str(const struct cJSON *cfg, const char *field);

#endif
