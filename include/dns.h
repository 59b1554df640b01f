/* dns.h: DNS providers for Vault-managed dns-01 (src/dns). A provider publishes and removes
 * TXT records in a zone it manages; shared code matches names against a provider's
 * `identifiers` patterns, parses server addresses and checks that a record is visible on
 * the servers that answer for its zone. The layer knows DNS, RFC 2136, the Route 53 API and
 * Azure Resource Manager with its OAuth tokens; it never knows Vault, storage or orders.
 * State that outlives a call (bearer tokens) belongs to the mount and is passed in
 * (struct dns_ctx).
 *
 * A provider's configuration is a JSON object holding every field of its type, secrets
 * included (the engine loads it from seal-wrapped storage and never logs it). Providers
 * read it; they do not keep it. Every function is thread-safe and blocks for at most the
 * network timeouts it states, never sleeps to wait for propagation: the caller polls.
 *
 * int functions return 0, or -1 with *e set: ERR_INVALID for bad configuration (message
 * names the field), ERR_UPSTREAM for a refusal that will not pass by itself (bad
 * credentials, no such zone, update refused), ERR_RETRY for trouble that may pass
 * (timeouts, SERVFAIL, throttling), ERR_INTERNAL for out of memory. */
#ifndef PKIEXT_DNS_H
#define PKIEXT_DNS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;

/* A cache of bearer tokens (OAuth access tokens of the cloud providers), owned by one mount
 * (struct engine) and passed to every provider call in struct dns_ctx: src/dns keeps no
 * state of its own. A token is kept per provider configuration and purpose until shortly
 * before it expires; it is never used for a configuration whose stored document changed
 * (each entry holds a SHA-256 fingerprint of the configuration it was fetched for, so an
 * update on another node is noticed too), and dns_token_cache_drop forgets a
 * configuration's tokens at once when this node updates or deletes it. Tokens are wiped
 * (OPENSSL_cleanse) when dropped, replaced or freed. Thread-safe; concurrent calls for the
 * same token wait for one fetch. */
struct dns_token_cache;
/* NULL when out of memory. */
struct dns_token_cache *dns_token_cache_new(void);
/* Wipes and frees every token. NULL ok; no call may be using the cache. */
void dns_token_cache_free(struct dns_token_cache *c);
/* Forgets the tokens of configuration <type>/<name> (updated or deleted). NULL c ok. */
void dns_token_cache_drop(struct dns_token_cache *c, const char *type, const char *name);

/* What a provider call may use besides its configuration: state owned by the mount making
 * the call. A zeroed context is valid (no cache: a token per call; never cancelled). */
struct dns_ctx {
    struct dns_token_cache *tokens;  /* the mount's; NULL: fetch a token for every call */
    const atomic_bool *stopping;     /* set when the mount stops: retry waits end early */
};

/* One provider type: a row of dns_provider_types (one file per type in src/dns). */
struct dns_provider_type {
    const char *type;            /* "rfc2136", "aws-route53", "azure-dns" */
    const char *default_ttl;     /* as a duration string, "60s" */
    /* Checks the type's own fields of a configuration about to be stored; may fill
     * defaults. ERR_INVALID naming the field. No network. */
    int (*validate)(struct cJSON *cfg, struct err *e);
    /* Adds `value` to the TXT RRset at fqdn (absolute, with the trailing dot), keeping
     * other values; adding a value that is already there changes nothing. *change is set
     * to a new string the type's `synced` understands, or left NULL. */
    int (*publish)(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *fqdn,
                   const char *value, int64_t ttl, char **change, struct err *e);
    /* Removes `value` from the TXT RRset at fqdn; a value that is not there is success. */
    int (*remove)(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *fqdn,
                  const char *value, int64_t ttl, struct err *e);
    /* NULL when a published change is live at once. Else *done says whether the change
     * `change` (from publish) has reached every server of the provider. */
    int (*synced)(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *change,
                  bool *done, struct err *e);
};

/* NULL-terminated table of the supported types. */
extern const struct dns_provider_type *const dns_provider_types[];
/* The row for type, NULL if unsupported. */
const struct dns_provider_type *dns_provider_find(const char *type);
/* "rfc2136, aws-route53" into buf, for error messages. */
const char *dns_provider_type_names(char *buf, size_t cap);

extern const struct dns_provider_type dns_type_rfc2136;
extern const struct dns_provider_type dns_type_route53;
extern const struct dns_provider_type dns_type_azure;
extern const struct dns_provider_type dns_type_google;
extern const struct dns_provider_type dns_type_cloudflare;

/* ---- names and patterns (name.c) ----------------------------------------------------- */

/* Checks one `identifiers` pattern: a DNS name, optionally "*." + name (leftmost '*' only).
 * ERR_INVALID naming field. *out (may be NULL) is the lower-cased form without a
 * trailing dot, new. */
int dns_pattern_check(const char *field, const char *pattern, char **out, struct err *e);
/* How well pattern matches name (lower case, no trailing dot, no "*."): 0 no match, else
 * the pattern's length + 1 (exact) or length (wildcard), so the most specific wins.
 * "example.com" matches only itself; "*.example.com" matches every name below it. */
int dns_pattern_match(const char *pattern, const char *name);
/* "_acme-challenge.<name>." for an identifier ("*." stripped, trailing dot added) into buf. */
int dns_challenge_name(const char *identifier, char *buf, size_t cap, struct err *e);

/* ---- server addresses (addr.c) -------------------------------------------------------- */

/* A parsed "IP", "IP:port", "[IPv6]:port", "host" or "host:port". */
struct dns_server {
    char host[256];   /* as given, brackets removed */
    uint16_t port;    /* 53 unless given */
};
/* ERR_INVALID naming field unless s is one of the forms above (with allow_host false,
 * only IP addresses). */
int dns_server_parse(const char *field, const char *s, bool allow_host, struct dns_server *out,
                     struct err *e);
/* "host:port" ("[v6]:port") into buf. */
const char *dns_server_str(const struct dns_server *s, char *buf, size_t cap);

/* ---- queries and the propagation check (query.c) ------------------------------------- */

/* The system resolvers from /etc/resolv.conf (at most 8); *n is their number (0 ok). */
int dns_system_resolvers(struct dns_server *out, size_t cap, size_t *n, struct err *e);

/* The authoritative servers of the zone holding fqdn, found by asking `resolvers` (SOA,
 * then NS, then their addresses); 0 found when the resolvers cannot tell. At most cap. */
int dns_find_authoritative(const struct dns_server *resolvers, size_t n_resolvers,
                           const char *fqdn, struct dns_server *out, size_t cap, size_t *found,
                           struct err *e);

/* Asks each server for fqdn TXT without recursion. *visible is true when every server
 * answered and every answer holds value. `missing` gets a short account of the first
 * server that did not ("127.0.0.1:53: no such TXT value"). ~2 s per silent server. */
int dns_txt_visible(const struct dns_server *servers, size_t n, const char *fqdn,
                    const char *value, bool *visible, char *missing, size_t mcap,
                    struct err *e);

#endif
