/* internal.h (private to src/engine): what the engine's two modules share. The engine is
 * one layer in two folders: accounts/ (ACME accounts, roles, domain policy, identity
 * templates, IDN, DNS provider configuration: what an operator configures) and orders/
 * (certificate orders, their state machine and worker, lookups). The mount itself
 * (backend.c: paths, lifetime, periodic work), the per-key locks (keylock.c) and small
 * helpers (strv.c, uuid7.c) stay here. The modules meet only through this header and
 * orders/order.h. */
#ifndef PKIEXT_ENGINE_INTERNAL_H
#define PKIEXT_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "fw.h"

struct acme_client;   /* include/acme.h */
struct cJSON;
struct order_worker;  /* orders: background worker, owned by struct engine */
struct order_clients; /* orders: the mount's shared ACME clients (order_client.c) */
struct dns_token_cache; /* include/dns.h: the mount's DNS provider tokens */
struct order_waits;   /* orders: requests waiting for an order to move (order_wait.c) */
struct tidy;          /* orders: the mount's tidy run (tidy.c) */

/* ---- per-key locks (keylock.c) ---------------------------------------------------------- */

/* One held key. The caller owns the record (keep it alive, usually on the stack, from the
 * take to the release); key must stay valid as long. */
struct keylock {
    const char *key;
    int waiters;
    struct keylock *next;
};
enum { KEYLOCK_STRIPES = 64 };
struct keylock_stripe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct keylock *held;
};
/* A table of exclusive locks on names of one kind. Embedded in struct engine. */
struct keylocks {
    struct keylock_stripe stripes[KEYLOCK_STRIPES];
};
void keylocks_init(struct keylocks *l);
void keylocks_destroy(struct keylocks *l);   /* no key may be held */
/* Takes key unless held: false when someone holds it. Never allocates, never fails. */
bool keylock_try(struct keylocks *l, const char *key, struct keylock *h);
/* Waits until key is free and takes it. */
void keylock_wait(struct keylocks *l, const char *key, struct keylock *h);
/* Releases what keylock_try/keylock_wait took into h (a never-taken, zeroed h is ok). */
void keylock_release(struct keylocks *l, struct keylock *h);

/* ---- the mount ------------------------------------------------------------------------- */

/* One mount's instance (fw_req.backend): everything the engine keeps in memory for a mount
 * lives here, and goes with it. Created by engine_new (backend.c's setup), freed by
 * engine_free (cleanup). */
struct engine {
    struct fw_env env;              /* borrowed from the runtime, valid until cleanup */
    struct order_worker *worker;    /* NULL until orders_start */
    atomic_bool stopping;           /* set by orders_stop: cancels the worker's CA calls */
    struct order_clients *clients;  /* ACME clients shared by the mount's orders */
    struct keylocks order_locks;    /* by order id: one advance or change at a time */
    struct keylocks account_locks;  /* by account name: account writes; role creates */
    struct keylocks role_locks;     /* by role name: role writes */
    struct dns_token_cache *dns_tokens;   /* DNS providers' bearer tokens (include/dns.h) */
    struct keylocks reuse_locks;    /* by role-pending/ key: new-order's look-up-or-create
                                       with reuse_pending_orders (order_reuse.c) */
    struct order_waits *waits;      /* role/:name/issue calls waiting on their orders */
    struct tidy *tidy;              /* the tidy run's thread and cancel flag */
    /* dns-record/ may hold entries the worker's scan should sweep: true at start (a crash
     * may have left records), after a record is tracked, on promotion and on InvalidateKey
     * of a dns-record/ key; false once a sweep left nothing. An idle mount without
     * Vault-managed dns-01 then costs its scan and not one LIST more. */
    atomic_bool dns_sweep_due;
    /* The same for the scan's other periodic work, so that an idle mount's rollback costs
     * its scan and nothing more: the wall time (unix s) from which the scan looks through
     * account/ for due key rotations, and from which the rollback looks at tidy-status and
     * config/auto-tidy (0: at the next chance; INT64_MAX: not until something changes);
     * and whether renewal-watch/ may hold orders the schedule lacks. Writes and
     * invalidations of what they read, and a promotion, reset them (engine_recheck). */
    _Atomic int64_t rotation_check_at, tidy_check_at;
    atomic_bool renewal_scan_due;
};

/* A mount without its worker (orders_start starts it). NULL with *e set on failure. */
struct engine *engine_new(const struct fw_env *env, struct err *e);
/* Stops the worker, wipes and frees the mount's caches. NULL ok. */
void engine_free(struct engine *eng);
/* Drops what the mount caches for a storage key another node changed (InvalidateKey). */
void engine_invalidate(struct engine *eng, const char *key);

/* ---- accounts (account.c) ------------------------------------------------------------ */

/* An ACME account as stored at account/<name>. Opaque; account_free() frees (NULL ok). */
struct account;

/* *out is new; ERR_NOT_FOUND when there is no such account. */
int account_load(struct fw_storage *s, const char *name, struct account **out, struct err *e);
void account_free(struct account *a);

/* An ACME client with the parsed account key it borrows (acme.h). Both belong to the
 * holder: account_conn_close frees them (the key's secrets are cleared), so no key outlives
 * the request or cache entry that needed it. */
struct account_conn {
    struct acme_client *acme;
    struct crypto_key *key;
};
/* A client for the account's directory, active key and account URL, honouring its
 * trusted_ca. On -1, *out holds nothing. */
int account_conn(const struct account *a, struct account_conn *out, struct err *e);
/* The same for explicit settings (account_url/trusted_ca may be NULL or ""). */
int account_conn_open(const char *directory_url, const char *trusted_ca,
                      const char *account_url, const char *key_pem, struct account_conn *out,
                      struct err *e);
void account_conn_close(struct account_conn *c);   /* NULL ok; zeroes *c */

/* ---- roles (role.c, policy.c) --------------------------------------------------------- */

enum role_domain_opt {
    ROLE_DOM_BARE = 1 << 0,
    ROLE_DOM_SUBDOMAINS = 1 << 1,
    ROLE_DOM_WILDCARDS = 1 << 2,
    ROLE_DOM_GLOBS = 1 << 3
};

/* A role as stored at role/<name>. Owns every pointer; role_free() frees (NULL ok). */
struct role {
    char *name;
    char *acme_account_name;
    char **allowed_domains;          /* NULL-terminated, as given (may hold templates) */
    unsigned domain_opts;            /* enum role_domain_opt bits */
    char **allowed_challenge_types;  /* NULL-terminated: "http-01", "dns-01", "tls-alpn-01" */
    enum crypto_key_type csr_key_type;
    enum crypto_csr_population csr_population;
    char *dns_provider_name, *dns_provider_type;   /* "" when unset */
    int64_t creation_date, last_updated_date;      /* unix seconds */
    /* Issue 14 §2, §4, §7 (h14a) */
    char **allowed_ip_ranges;        /* NULL-terminated canonical CIDRs ("10.0.0.0/8"); empty
                                        (never NULL): IP identifiers refused */
    char *acme_profile;              /* the CA profile every order asks for; "" CA default */
    bool reuse_pending_orders;       /* new-order returns a live order for the same names */
    /* -- renewal (issue 14 §1) -- */
    bool auto_renew;                  /* the worker places the replacement order itself */
    struct renew_before {             /* both 0: the ARI window, else the last third */
        int64_t seconds;              /* renew this long before not_after */
        int percent;                  /* renew with this share (1-99) of the lifetime left */
    } renew_before;
};

/* role.c: "720h", "3600" (seconds) or "30%" (1-99) into *out; "" is the default (both 0).
 * ERR_INVALID naming renew_before otherwise. */
int renew_before_parse(const char *s, struct renew_before *out, struct err *e);

/* *out is new; ERR_NOT_FOUND when there is no such role. */
int role_load(struct fw_storage *s, const char *name, struct role **out, struct err *e);
/* 0 when role/<name> exists; ERR_NOT_FOUND naming the role when not (operations under a
 * role that does not exist answer 404). */
int role_require(struct fw_storage *s, const char *name, struct err *e);
void role_free(struct role *r);

/* Checks every identifier against the role's domain policy, resolving identity templates
 * in allowed_domains for req->entity_id through req->sysview. ERR_INVALID names the first
 * identifier refused. */
int role_check_identifiers(const struct role *r, const struct fw_req *req,
                           const char *const *identifiers, size_t n, struct err *e);
/* ERR_INVALID unless `type` is one of the role's allowed challenge types. */
int role_check_challenge_type(const struct role *r, const char *type, struct err *e);

/* ---- orders (order*.c) -------------------------------------------------------------- */

/* Order paths, NULL-terminated; backend.c puts them in the backend's path table. */
extern const struct fw_path *const order_paths[];

/* Starts / stops the order worker of a mount. */
int orders_start(struct engine *eng, struct err *e);
void orders_stop(struct engine *eng);
/* Vault's periodic rollback: advance every order whose next_work_date has passed. */
int orders_periodic(const struct fw_req *req, struct err *e);
/* True when the role has non-terminal orders (prefix list of role-active/<role>/). */
int orders_role_has_active(struct fw_storage *s, const char *role, bool *has, struct err *e);

/* ---- names, policy, templates ------------------------------------------------------- */

/* ipaddr.c: IP identifiers (RFC 8738) and CIDR ranges. Text forms are canonical: dotted
 * quad, RFC 5952 for IPv6. */
struct ip_range {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char addr[16];   /* network address, 4 or 16 bytes used */
    unsigned prefix;          /* 0..32 or 0..128 */
};
/* True when s is an IPv4 or IPv6 address literal (no brackets, zone or prefix). */
bool ip_is_literal(const char *s);
/* The canonical text of an address literal into buf (INET6_ADDRSTRLEN bytes suffice).
 * ERR_INVALID (no field name) when in is not one. */
int ip_canon(const char *in, char *buf, size_t cap, struct err *e);
/* "10.0.0.0/8", "2001:db8::/32", or a bare address (its /32 or /128). ERR_INVALID (no field
 * name) for anything else, bits set after the prefix included. */
int ip_range_parse(const char *in, struct ip_range *out, struct err *e);
/* The canonical "address/prefix" text of r into buf (INET6_ADDRSTRLEN + 4 bytes suffice). */
void ip_range_format(const struct ip_range *r, char *buf, size_t cap);
/* True when the address literal ip lies in r (same family only). */
bool ip_range_contains(const struct ip_range *r, const char *ip);
/* True when some range of the NULL-terminated list (NULL ok) contains ip. */
bool ip_ranges_contain(char *const *ranges, const char *ip);

/* punycode.c: RFC 3492 for one label, without the "xn--" prefix. encode writes a
 * NUL-terminated string into out (cap bytes); decode takes *n as the capacity of cp and
 * returns the count in it. ERR_INVALID on bad input or too small a buffer. */
int punycode_encode(const uint32_t *cp, size_t n, char *out, size_t cap, struct err *e);
int punycode_decode(const char *in, size_t len, uint32_t *cp, size_t *n, struct err *e);

/* idn.c: order identifiers as A-labels (IDNA2008 via libidn2: NFC, lower case, punycode).
 * ASCII input is copied unchanged, except IP literals, which become their canonical text
 * (ip_canon); "*." stays in front. ERR_INVALID (without a field name)
 * for a Unicode name that is no valid IDN. *out is new. */
bool idn_is_ascii(const char *s);
int idn_to_alabel(const char *in, char **out, struct err *e);

/* policy.c: canonical names (lower case, no trailing dot, Unicode labels as xn--). With
 * pattern, '*' may appear in labels (allowed_domains entries). *out is new. */
int policy_name_canon(const char *in, bool pattern, char **out, struct err *e);
/* An order identifier: a DNS name, optionally "*." + name; IP addresses refused. */
int policy_identifier_canon(const char *in, char **out, struct err *e);
/* True when one canonical allowed_domains entry admits the canonical identifier under
 * the enum role_domain_opt bits (the overview's matching table). */
bool policy_entry_allows(const char *entry, unsigned opts, const char *ident);
/* ERR_INVALID ("identifiers: ... is not allowed ...") unless some entry (raw, resolved
 * form: no templates) admits the raw identifier. */
int policy_check(const char *const *entries, size_t n_entries, unsigned opts,
                 const char *identifier, struct err *e);

/* template.c: Vault ACL templating ({{identity.entity.name}} ...) in allowed_domains. */
bool template_has(const char *s);
/* Syntax check at role write time: ERR_INVALID for unknown or malformed placeholders. */
int template_check(const char *tmpl, struct err *e);
/* Expands every placeholder from entity (logical.Entity JSON) and groups (array of
 * logical.Group JSON, may be NULL). ERR_INVALID when any cannot be resolved (the caller
 * then denies). *out is new. */
int template_expand(const char *tmpl, const struct cJSON *entity, const struct cJSON *groups,
                    char **out, struct err *e);

/* role.c: names of accounts and roles: 1..128 characters of [A-Za-z0-9_.-], starting and
 * ending with a letter, digit or '_', no "..". ERR_INVALID naming `field`. */
int engine_name_check(const char *field, const char *name, struct err *e);
/* RFC 3339 UTC ("2026-02-24T20:00:00Z") into buf (at least 21 bytes). */
void engine_time_format(int64_t t, char *buf, size_t cap);
/* The LIST reply for the names stored under prefix ("role/"): {"keys": [...]}, or no
 * data (404) when there are none. */
int engine_list_names(const struct fw_req *req, const char *prefix, struct fw_resp *resp,
                      struct err *e);
/* strv.c: appends a copy of s to the NULL-terminated vector *v of *n strings (*cap slots;
 * start from NULL, 0, 0). -1 when out of memory; the strings of *v are then unchanged,
 * still terminated, and the caller's to free with fw_strv_free() either way. */
int engine_strv_push(char ***v, size_t *n, size_t *cap, const char *s);
/* The LIST reply for keys (NULL-terminated, may be NULL; not taken): {"keys": [...]}, or
 * no data when there are none, which Vault answers with 404. */
int engine_keys_reply(char *const *keys, struct fw_resp *resp, struct err *e);
/* Names of roles that use the account (*names new NULL-terminated, fw_strv_free). */
int roles_using_account(struct fw_storage *s, const char *account, char ***names,
                        struct err *e);

/* account.c: cJSON_Delete for a stored account, wiping its private keys first (NULL ok). */
void account_json_free(struct cJSON *stored);
/* The stored JSON of account/<name>; ERR_NOT_FOUND when missing. *out is new. */
int account_load_json(struct fw_storage *s, const char *name, struct cJSON **out,
                      struct err *e);
/* path_account.c: settles a key rotation that stopped between storing the new key as
 * pending and promoting it (the CA is asked which key it holds; see account_rotate). 0 when
 * nothing was pending or it is settled; -1 when the CA could not tell or storage failed (the
 * caller may go on with the stored active key). Takes the account's lock (eng->account_locks)
 * and drops the mount's cached client of the account when it settled. Its CA call is
 * cancelled, and none is started, once the mount is stopping (eng->stopping). */
int account_settle(struct engine *eng, struct fw_storage *s, const char *name,
                   struct err *e);
/* path_account.c (issue 14 §3): rotates, through ACME keyChange as rotate-key does, the key
 * of every account whose key_rotation_period has passed since its active key was made; a
 * refusal is stored on the account (key_rotation_error) and the old key stays. Each account
 * under its lock. *next_s: when the next rotation is due (unix seconds, 0 none). -1 only
 * when the accounts cannot be listed. */
int accounts_rotate_due(struct engine *eng, struct fw_storage *s, int64_t *next_s,
                        struct err *e);
/* keys[active_key_version] of a stored account (borrowed), NULL if missing. */
const struct cJSON *account_json_active_key(const struct cJSON *stored);

/* Path tables of this part of the engine, NULL-terminated (backend.c joins them with
 * order_paths). */
extern const struct fw_path *const account_paths[];
extern const struct fw_path *const role_paths[];

#endif

/* ---- DNS providers (dns_config.c, path_dns.c, dns_record.c, order_dns.c) ------------- */
#ifndef PKIEXT_ENGINE_INTERNAL_DNS
#define PKIEXT_ENGINE_INTERNAL_DNS

struct dns_server;
struct dns_provider_type;

/* Storage: dns-provider/<type>/<name> holds a provider's whole configuration, secrets
 * included, under a seal-wrapped prefix; the API never returns the secret fields. */
#define DNS_CONFIG_PREFIX "dns-provider/"

/* The engine's view of a provider type: the src/dns implementation and which fields are
 * its own (returned) and secret (never returned, never logged). */
struct dns_kind {
    const struct dns_provider_type *impl;
    const char *const *fields;      /* type-specific, returned */
    const char *const *secrets;     /* type-specific, write-only */
};
/* NULL when type is not supported. */
const struct dns_kind *dns_kind_find(const char *type);
/* ERR_INVALID naming field unless type is supported (message lists the supported ones). */
int dns_kind_check(const char *field, const char *type, struct err *e);

/* The stored configuration (secrets included); ERR_NOT_FOUND when absent. *out is new. */
int dns_config_load(struct fw_storage *s, const char *type, const char *name,
                    struct cJSON **out, struct err *e);
/* ttl and propagation_timeout of a stored configuration, seconds. */
int64_t dns_config_ttl(const struct cJSON *cfg);
int64_t dns_config_timeout(const struct cJSON *cfg);
/* The provider for an identifier ("*." form allowed): the role's dns_provider_name when the
 * role sets one, else every configuration whose `identifiers` match, the most specific
 * pattern winning (ties: the first in "<type>/<name>" order). The chosen provider's
 * patterns must match either way. type/name are filled ("" when none matches). r may be
 * NULL (role deleted). */
int dns_config_pick(struct fw_storage *s, const struct role *r, const char *identifier,
                    char *type, size_t tcap, char *name, size_t ncap, struct err *e);
/* Names of the roles that link the provider (*names new, NULL-terminated, fw_strv_free). */
int roles_using_dns(struct fw_storage *s, const char *type, const char *name, char ***names,
                    struct err *e);
/* The servers the propagation check asks: the provider's nameserver when set; else the
 * zone's authoritative servers (found by asking the system resolvers and the account's
 * default_nameserver) with default_nameserver appended; when no authoritative server is
 * found, the resolvers themselves. `asked` gets the list as text for messages. */
int dns_check_servers(struct fw_storage *s, const struct cJSON *cfg, const char *account,
                      const char *fqdn, struct dns_server *out, size_t cap, size_t *n,
                      char *asked, size_t acap, struct err *e);

extern const struct fw_path *const dns_paths[];

/* dns_record.c: every TXT record the plugin creates is tracked at
 * dns-record/<owner>/<slot> (owner: an order id, or "test-<uuid>" for dns/test/workflow)
 * before the DNS change is sent, and untracked only after the provider removed it. */
struct dns_record {
    char owner[64];
    char slot[24];
    char type[32], name[130];
    char fqdn[300];
    char value[128];
    char change[256];    /* provider's change id for synced(), "" when none */
};
/* The tracked record dns-record/<owner>/<slot>; ERR_NOT_FOUND when absent. */
int dns_record_load(struct fw_storage *s, const char *owner, const char *slot,
                    struct dns_record *rec, struct err *e);
/* Provider calls below use the mount's token cache and stop flag (eng NULL: neither).
 * Tracks, then publishes. On failure the tracking entry stays (the sweep removes it). */
int dns_record_publish(struct engine *eng, struct fw_storage *s, struct dns_record *rec,
                       struct err *e);
/* Removes from the provider, then untracks. A provider that no longer exists: untracked
 * with a warning in the log (nothing can remove it). */
int dns_record_remove(struct engine *eng, struct fw_storage *s, const struct dns_record *rec,
                      struct err *e);
/* Whether the record's change reached the provider's servers (true for types without
 * synced). */
int dns_record_synced(struct engine *eng, struct fw_storage *s, const struct dns_record *rec,
                      bool *done, struct err *e);
/* Says the next worker scan should sweep (dns_record_publish calls it before it tracks a
 * record). eng NULL ok. */
void dns_records_expect(struct engine *eng);
/* backend.c: the periodic work whose inputs may have changed (after a promotion, all of
 * it) is done at the next scan or rollback. key: the storage key written or invalidated,
 * NULL for everything. */
void engine_recheck(struct engine *eng, const char *key);
/* Run by the worker's scan while eng->dns_sweep_due: removes records whose owner is an
 * order that ended or is gone, or a test older than a few minutes. *left is true when
 * entries remain (owners still running, failed removals): the next scan sweeps again. */
int dns_records_sweep(struct engine *eng, struct fw_storage *s, bool *left, struct err *e);
/* Removes every record of an owner (an order that just ended). */
int dns_records_remove_owner(struct engine *eng, struct fw_storage *s, const char *owner,
                             struct err *e);
/* Forgets what the mount caches for configuration <type>/<name> (its tokens): it was
 * written or deleted, here or (InvalidateKey) on another node. eng NULL ok. */
void dns_config_forget(struct engine *eng, const char *type, const char *name);

#endif
