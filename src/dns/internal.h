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

/* ---- bearer tokens (token.c; the cache itself is declared in dns.h) ------------------- */

/* Fetches a fresh token for cfg: *token new (the caller of dns_token_get owns the copy it
 * gets; the cache wipes its own), *lifetime_s how long it is valid from now (seconds). */
typedef int (*dns_token_fetch_fn)(const struct dns_ctx *ctx, const struct cJSON *cfg,
                                  void *arg, char **token, int64_t *lifetime_s,
                                  struct err *e);
/* cfg's token for `purpose` (a short word naming what the token is for, e.g. "arm"): the
 * cached one while it has more than a margin of its lifetime left (a fifth, at most 5
 * minutes), else one from fetch, cached when ctx->tokens is set. *token is new: release it
 * with dns_secret_free. cfg must hold "type" and "name" (every stored configuration does). */
int dns_token_get(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *purpose,
                  dns_token_fetch_fn fetch, void *arg, char **token, struct err *e);
/* Forgets cfg's token for purpose (the service refused it: expired or revoked early). */
void dns_token_forget(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *purpose);
/* Wipes (OPENSSL_cleanse) and frees a NUL-terminated secret. NULL ok. */
void dns_secret_free(char *s);

/* ---- JSON over HTTPS for the cloud providers (http.c) -------------------------------- */

struct dns_http_req {
    const char *method;           /* "GET", "PUT", ... */
    const char *url;
    const char *const *headers;   /* "Name: value", NULL-terminated; may be NULL */
    const char *body;             /* NULL: none */
    const char *bearer;           /* sent as "Authorization: Bearer <it>" when set */
    long timeout_s;               /* whole call; 0: 20 s */
};
struct dns_http_reply {
    long status;
    char *body;                   /* NUL-terminated, owned; "" when empty */
    size_t len;
    char etag[256];               /* the ETag header, as sent ("" when none) */
    int64_t retry_after_s;        /* Retry-After in seconds, -1 when absent */
};
void dns_http_reply_clear(struct dns_http_reply *r);
/* One call. ERR_RETRY when no reply came (connection refused, timeout). */
int dns_http(const struct dns_http_req *q, struct dns_http_reply *r, struct err *e);
/* dns_http, tried again while the service answers 429 or 5xx or does not answer: after
 * Retry-After (capped at 10 s) when it sends one, else 1, 2, 4 s; at most 4 tries and
 * about 20 s of waiting, ending early when ctx->stopping is set. The last reply is
 * returned (status may still be 429/5xx: the caller words the error). */
int dns_http_retry(const struct dns_ctx *ctx, const struct dns_http_req *q,
                   struct dns_http_reply *r, struct err *e);
/* The bearer-token call of the cloud providers: dns_http_retry with q.bearer set to cfg's
 * cached token for purpose (fetched by fetch when absent). When the service refuses the
 * token (refused(r); NULL: HTTP 401), it is forgotten and the call made once more with a
 * fresh one. q.bearer is set here. */
int dns_http_bearer(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *purpose,
                    dns_token_fetch_fn fetch, void *arg,
                    bool (*refused)(const struct dns_http_reply *r), struct dns_http_req *q,
                    struct dns_http_reply *r, struct err *e);
/* The body half of a libcurl write callback (dns_http's and aws_http's): appends data to
 * *body (realloc'd, kept NUL-terminated; *len bytes). Returns add, or 0 when out of memory
 * or when the body would pass 4 MiB: libcurl then stops the transfer. */
size_t dns_http_body_add(char **body, size_t *len, const char *data, size_t add);
/* The reply as JSON (NULL when it is not), cJSON_Delete. */
struct cJSON *dns_http_json(const struct dns_http_reply *r);
/* A service's base URL into buf: the environment variable var when set and not empty (a
 * test server, another cloud), else dflt; no trailing '/'. */
void dns_endpoint(const char *var, const char *dflt, char *buf, size_t cap);
/* s percent-encoded for a URL path segment or form value (RFC 3986 unreserved kept). */
void dns_url_escape(const char *s, char *out, size_t cap);

/* ---- replies of the cloud APIs (cloudflare.c, google.c, google_reply.c) ---------------- */

/* A failed Cloudflare v4 reply (envelope errors[0]) in words naming the fix. Returns -1. */
int dns_cloudflare_error(const char *what, long status, const char *body, size_t len,
                         struct err *e);
/* A Google API or OAuth error body in words naming the fix. Returns -1. */
int dns_google_error(const char *what, long status, const char *body, size_t len,
                     struct err *e);
/* A token reply: *token (new) from token_field, *lifetime_s from expiry_field (seconds, or an
 * RFC 3339 expiry time). ERR_UPSTREAM when there is no token. */
int dns_google_token_parse(const char *body, size_t len, const char *token_field,
                           const char *expiry_field, char **token, int64_t *lifetime_s,
                           struct err *e);
/* 1 when managedZones.list names a public zone of dnsName dns_name; its name into zone. */
int dns_google_zone_parse(const char *body, size_t len, const char *dns_name, char *zone,
                          size_t cap);
/* The TXT rrdatas at fqdn of an rrsets.list reply (at most max, quoted as sent) and its ttl;
 * -1 when the reply is not a JSON object. */
int dns_google_rrset_parse(const char *body, size_t len, const char *fqdn,
                           char (*vals)[300], size_t max, size_t *n, long *ttl);
/* A Change's id and whether its status is "done"; -1 when it has neither. */
int dns_google_change_parse(const char *body, size_t len, char *id, size_t cap, bool *done);

#endif
