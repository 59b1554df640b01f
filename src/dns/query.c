/* query.c: plain DNS queries with ldns: the system resolvers, the authoritative servers of
 * a zone, and whether a TXT value is visible on a set of servers (the propagation check). */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "internal.h"

/* Per query: one try of 2 s per address. A silent server costs 2 s, no more. */
static const struct timeval QUERY_TIMEOUT = { 2, 0 };

int dns_resolver_for(const struct dns_server *srv, bool recursion, ldns_resolver **out,
                     struct err *e)
{
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *ai = NULL;
    char pbuf[8], sbuf[300];
    *out = NULL;
    snprintf(pbuf, sizeof pbuf, "%u", srv->port);
    int gai = getaddrinfo(srv->host, pbuf, &hints, &ai);
    if (gai != 0)
        return err_set(e, ERR_RETRY, "DNS server %s: cannot resolve its address: %s",
                       dns_server_str(srv, sbuf, sizeof sbuf), gai_strerror(gai));
    ldns_resolver *r = ldns_resolver_new();
    if (!r) {
        freeaddrinfo(ai);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        ldns_rdf *a = NULL;
        if (p->ai_family == AF_INET)
            a = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4,
                                      &((struct sockaddr_in *)p->ai_addr)->sin_addr);
        else if (p->ai_family == AF_INET6)
            a = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16,
                                      &((struct sockaddr_in6 *)p->ai_addr)->sin6_addr);
        if (a) {
            (void)ldns_resolver_push_nameserver(r, a);
            ldns_rdf_deep_free(a);
        }
    }
    freeaddrinfo(ai);
    if (ldns_resolver_nameserver_count(r) == 0) {
        ldns_resolver_deep_free(r);
        return err_set(e, ERR_RETRY, "DNS server %s: no usable address",
                       dns_server_str(srv, sbuf, sizeof sbuf));
    }
    ldns_resolver_set_port(r, srv->port);
    ldns_resolver_set_retry(r, 1);
    ldns_resolver_set_timeout(r, QUERY_TIMEOUT);
    ldns_resolver_set_recursive(r, recursion);
    ldns_resolver_set_dnssec(r, false);
    ldns_resolver_set_random(r, false);
    *out = r;
    return 0;
}

int dns_query(const struct dns_server *srv, bool recursion, const char *name, ldns_rr_type type,
              ldns_pkt **out, struct err *e)
{
    ldns_resolver *r = NULL;
    char sbuf[300];
    *out = NULL;
    if (dns_resolver_for(srv, recursion, &r, e) < 0)
        return -1;
    ldns_rdf *dn = ldns_dname_new_frm_str(name);
    if (!dn) {
        ldns_resolver_deep_free(r);
        return err_set(e, ERR_INVALID, "\"%.100s\" is not a DNS name", name);
    }
    ldns_pkt *p = NULL;
    ldns_status st = ldns_resolver_send(&p, r, dn, type, LDNS_RR_CLASS_IN,
                                        recursion ? LDNS_RD : 0);
    ldns_rdf_deep_free(dn);
    ldns_resolver_deep_free(r);
    if (st != LDNS_STATUS_OK || !p) {
        ldns_pkt_free(p);
        return err_set(e, ERR_RETRY, "%s did not answer a %s query for %s: %s",
                       dns_server_str(srv, sbuf, sizeof sbuf),
                       type == LDNS_RR_TYPE_TXT ? "TXT" : type == LDNS_RR_TYPE_SOA ? "SOA" : "DNS",
                       name, ldns_get_errorstr_by_id(st));
    }
    *out = p;
    return 0;
}

int dns_system_resolvers(struct dns_server *out, size_t cap, size_t *n, struct err *e)
{
    *n = 0;
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (!f)
        return 0;
    char line[512];
    while (*n < cap && fgets(line, sizeof line, f)) {
        char addr[300];
        if (sscanf(line, " nameserver %299s", addr) != 1)
            continue;
        struct err pe;
        if (dns_server_parse("nameserver", addr, false, &out[*n], &pe) == 0)
            (*n)++;
    }
    fclose(f);
    return 0;
}

/* The owner of the SOA record in the answer or authority section: the zone apex. */
bool dns_soa_owner(const ldns_pkt *p, char *zone, size_t cap)
{
    const ldns_rr_list *secs[] = { ldns_pkt_answer(p), ldns_pkt_authority(p) };
    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; secs[s] && i < ldns_rr_list_rr_count(secs[s]); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(secs[s], i);
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
                continue;
            char *str = ldns_rdf2str(ldns_rr_owner(rr));
            if (!str)
                return false;
            snprintf(zone, cap, "%s", str);
            free(str);
            return true;
        }
    }
    return false;
}

/* Adds the A/AAAA addresses in list to out (port 53). */
void dns_add_addresses(const ldns_rr_list *list, struct dns_server *out, size_t cap,
                       size_t *found)
{
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list) && *found < cap; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) || ldns_rr_rd_count(rr) < 1)
            continue;
        char *str = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        if (!str)
            continue;
        bool dup = false;
        for (size_t k = 0; k < *found; k++)
            dup = dup || strcmp(out[k].host, str) == 0;
        if (!dup) {
            snprintf(out[*found].host, sizeof out[*found].host, "%s", str);
            out[*found].port = 53;
            (*found)++;
        }
        free(str);
    }
}

int dns_find_authoritative(const struct dns_server *resolvers, size_t n_resolvers,
                           const char *fqdn, struct dns_server *out, size_t cap, size_t *found,
                           struct err *e)
{
    char zone[300] = "";
    *found = 0;
    for (size_t i = 0; i < n_resolvers && !zone[0]; i++) {
        ldns_pkt *p = NULL;
        struct err qe;
        if (dns_query(&resolvers[i], true, fqdn, LDNS_RR_TYPE_SOA, &p, &qe) == 0)
            dns_soa_owner(p, zone, sizeof zone);
        ldns_pkt_free(p);
    }
    if (!zone[0])
        return 0;
    for (size_t i = 0; i < n_resolvers && *found == 0; i++) {
        ldns_pkt *p = NULL;
        struct err qe;
        if (dns_query(&resolvers[i], true, zone, LDNS_RR_TYPE_NS, &p, &qe) < 0) {
            ldns_pkt_free(p);
            continue;
        }
        dns_add_addresses(ldns_pkt_additional(p), out, cap, found);
        const ldns_rr_list *ans = ldns_pkt_answer(p);
        for (size_t k = 0; ans && k < ldns_rr_list_rr_count(ans) && *found < cap; k++) {
            const ldns_rr *rr = ldns_rr_list_rr(ans, k);
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) < 1)
                continue;
            char *ns = ldns_rdf2str(ldns_rr_rdf(rr, 0));
            if (!ns)
                continue;
            static const ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
            for (size_t t = 0; t < 2; t++) {
                ldns_pkt *ap = NULL;
                if (dns_query(&resolvers[i], true, ns, types[t], &ap, &qe) == 0)
                    dns_add_addresses(ldns_pkt_answer(ap), out, cap, found);
                ldns_pkt_free(ap);
            }
            free(ns);
        }
        ldns_pkt_free(p);
    }
    return 0;
}

/* The TXT RR's character strings concatenated (RFC 7208 3.3 style), into buf. */
static void txt_value(const ldns_rr *rr, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(f);
        size_t sz = ldns_rdf_size(f);
        if (sz < 1 || (size_t)d[0] + 1 > sz)
            continue;
        size_t n = d[0];
        if (used + n + 1 > cap)
            n = cap - used - 1;
        memcpy(buf + used, d + 1, n);
        used += n;
        buf[used] = '\0';
    }
}

int dns_txt_has(const ldns_pkt *p, const char *fqdn, const char *value)
{
    const ldns_rr_list *ans = ldns_pkt_answer(p);
    for (size_t i = 0; ans && i < ldns_rr_list_rr_count(ans); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(ans, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char *owner = ldns_rdf2str(ldns_rr_owner(rr));
        bool same = owner && strcasecmp(owner, fqdn) == 0;
        free(owner);
        if (!same)
            continue;
        char v[1024];
        txt_value(rr, v, sizeof v);
        if (strcmp(v, value) == 0)
            return 1;
    }
    return 0;
}

int dns_txt_visible(const struct dns_server *servers, size_t n, const char *fqdn,
                    const char *value, bool *visible, char *missing, size_t mcap,
                    struct err *e)
{
    char sbuf[300];
    *visible = n > 0;
    if (missing && mcap)
        missing[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ldns_pkt *p = NULL;
        struct err qe;
        if (dns_query(&servers[i], false, fqdn, LDNS_RR_TYPE_TXT, &p, &qe) < 0) {
            if (missing && !missing[0])
                snprintf(missing, mcap, "%s", qe.msg);
            *visible = false;
            continue;
        }
        if (!dns_txt_has(p, fqdn, value)) {
            if (missing && !missing[0]) {
                char *rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
                snprintf(missing, mcap, "%s answered %s without the value",
                         dns_server_str(&servers[i], sbuf, sizeof sbuf), rc ? rc : "?");
                free(rc);
            }
            *visible = false;
        }
        ldns_pkt_free(p);
    }
    return 0;
}
