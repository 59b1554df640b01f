/* orders/order.h (private to src/engine): certificate orders. One order is one JSON object at
 * order/<id>; the key of an identifier-workflow order lives seal-wrapped at order-key/<id>;
 * the issued chain at cert/<serial>. Indexes: role-active/<role>/<id> (the work queue) is
 * written BEFORE the order's first save, so an order is never outside the queue; a crash in
 * between leaves a dangling entry, which readers skip and the worker's scan removes once
 * old. order-hour/<hour>/<id> and role-cache/... are written after the object they point
 * to, so a crash leaves at worst a missing hour entry or cache miss.
 *
 * int functions return 0, or -1 with *e set. Thread-safe unless said otherwise; one order
 * is advanced or changed by one thread at a time (the mount's order_locks). */
#ifndef PKIEXT_ENGINE_ORDER_H
#define PKIEXT_ENGINE_ORDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fw.h"

struct cJSON;
struct engine;
struct keylock;
struct order_clients;

/* "role/<name>" with the role name captured as in Vault's framework.GenericNameRegex. */
#define ORDER_ROLE_RE "role/" FW_NAME_RE("name")

/* ---- statuses (order_status.c) ------------------------------------------------------ */

enum order_status {
    ORDER_NEW = 0,
    ORDER_SUBMITTED,
    ORDER_AWAITING,          /* awaiting-challenge-fulfillment */
    ORDER_VAULT_FULFILLING,  /* vault-challenge-fulfillment: publishing dns-01 records */
    ORDER_VAULT_PROPAGATING, /* vault-challenge-propagating: checking they are visible */
    ORDER_NOTIFY,            /* notify-acme-server-challenges-completed */
    ORDER_PROCESSING,        /* processing-challenge */
    ORDER_FETCHING,          /* fetching-certificate */
    ORDER_COMPLETED,
    ORDER_EXPIRED,
    ORDER_REVOKED,
    ORDER_ERROR,
    ORDER_STATUS_COUNT
};

/* The hyphenated name the API returns ("awaiting-challenge-fulfillment"). Never NULL. */
const char *order_status_name(enum order_status s);
/* Accepts the hyphen and the underscore spelling, any case. -1 when unknown. */
int order_status_parse(const char *name, enum order_status *out);
/* completed, expired, revoked, error: no more work, not in role-active/. */
bool order_status_terminal(enum order_status s);

enum order_workflow { ORDER_WF_IDENTIFIERS = 0, ORDER_WF_CSR };
const char *order_workflow_name(enum order_workflow w);

/* RFC 5280 reason code of a revoke reason in either spelling (key_compromise,
 * key-compromise); -1 if unknown. And back to the underscore name. */
int order_revoke_reason_parse(const char *name);
const char *order_revoke_reason_name(int code);

/* ---- ids (uuid7.c) ------------------------------------------------------------------ */

/* Writes a new RFC 9562 UUIDv7 ("01936d8e-7c3a-7890-b123-456789abcdef") into out[37].
 * Ids made by one process sort in creation order (monotonic within a millisecond). */
int uuid7_new(char out[37], struct err *e);
/* True when s is a lower- or upper-case 8-4-4-4-12 hex UUID. */
bool uuid7_valid(const char *s);
/* The creation time (unix milliseconds) a UUIDv7 carries; 0 when s is not one. */
int64_t uuid7_time_ms(const char *s);

/* ---- the order object (order.c) ------------------------------------------------------ */

/* One ACME challenge of an authorization, as last seen from the CA. Owns its strings. */
struct order_challenge {
    char *type;           /* "http-01", "dns-01", "tls-alpn-01" */
    char *url;
    char *token;
    char *status;         /* RFC 8555: pending, processing, valid, invalid */
    char *key_auth;       /* token.thumbprint(account key): for a pending challenge the
                             current key's (order_keyauth.c), else the value validated */
    char *dns_value;      /* base64url(SHA-256(key_auth)) for dns-01, else "" */
    bool fulfilled;       /* the user called fulfilled-challenge for it */
    bool responded;       /* the CA was told to validate it */
};

/* One ACME authorization. Owns its strings and the challenge array. */
struct order_authz {
    char *url;
    char *identifier;     /* as ordered: "*.example.com" for a wildcard */
    char *status;
    int64_t expires;      /* unix seconds, 0 unknown */
    struct order_challenge *challenges;
    size_t n_challenges;
    /* Vault-managed dns-01 (order_dns.c); the record itself is tracked at
     * dns-record/<order id>/<index of this authz>. */
    char dns_provider[200];  /* "<type>/<name>" Vault fulfils dns-01 through; "" manual */
    bool dns_planned;        /* the provider choice has been made */
    int64_t dns_published;   /* unix seconds the record was sent; 0 not yet */
    bool dns_visible;        /* the propagation check saw it */
    bool dns_removed;        /* removed after validation */
};

/* An order as stored at order/<id>. Owns every pointer; order_new() / order_load() return
 * a new one, order_free() frees it (NULL ok). Strings are never NULL after load ("" when
 * unset). Times are unix seconds; 0 means "no date". */
struct order {
    char *id, *role, *account;
    enum order_status status;
    enum order_status stored_status;   /* what order/<id> holds: set by order_load and
                                          order_save (ORDER_NEW before the first save) */
    enum order_workflow workflow;
    char **identifiers;          /* NULL-terminated, in the submitted order, as A-labels (what
                                    the CA, the CSR and the authorizations carry) */
    size_t n_identifiers;
    char **requested;            /* the same names as the user sent them (U-labels), same
                                    count; NULL when every one was sent as an A-label */
    char *csr;                   /* CSR workflow: the submitted PEM, byte for byte; else "" */
    char *finalize_csr;          /* identifier workflow: the CSR built from order-key/<id>
                                    when the key was made (PEM), sent at finalize, so the
                                    busiest step neither reads nor parses the key; "" in
                                    orders stored before it was kept (built at finalize) */
    char *key_type;              /* identifier workflow: "ec-256"...; else "" */
    int64_t creation_date, last_update, next_work_date, expires;
    char *last_error;
    char *serial;                /* colon form, "" until completed */
    char *acme_url, *finalize_url, *cert_url;   /* "" until the CA gave them */
    struct order_authz *authzs;
    size_t n_authzs;
    int attempts;                /* consecutive transient failures, for backoff */
    int64_t ca_placing;          /* unix seconds a newOrder was first sent for this order
                                    without its URL stored yet; 0 none. Set, the next
                                    placement first looks for that CA order (adopt) */
    int dns_polls;               /* propagation checks so far (order_dns.c backoff) */
    int64_t revocation_time;
    char *revocation_reason;
    char *profile;               /* the role's acme_profile when the order was placed, sent
                                    in newOrder; "" the CA's default */
    /* -- renewal (order_renew.c; issue 14 §1) -- */
    struct order_renewal {
        int64_t window_start, window_end;   /* the CA's ARI window, else the last third of
                                               the lifetime; 0 until completed */
        char *explanation_url;              /* ARI explanationURL, "" when none */
        bool ari;                           /* the window came from the CA */
        int64_t renew_at;                   /* the point chosen in the ARI window (RFC 9773
                                               4.2: uniform random); 0 none */
        int64_t check_at;                   /* next renewalInfo fetch (Retry-After) */
        int checks;                         /* failed fetches in a row, for backoff */
        char *replaces_order_id;            /* this order renews that one; "" none */
        char *replaced_by_order_id;         /* claimed (stored) before the replacement is
                                               created: at most one renewal per certificate */
        char *replaces_cert_id;             /* ARI id sent as newOrder `replaces`; "" none */
    } renewal;
};

/* A fresh order in status new, id and dates set, identifiers copied. *out is new. */
int order_new(const char *role, const char *account, enum order_workflow wf,
              const char *const *identifiers, size_t n, struct order **out, struct err *e);
void order_free(struct order *o);
/* Frees what the authz owns and zeroes it (the struct itself is the caller's). */
void order_authz_clear(struct order_authz *a);

/* JSON form used in storage (not the API). order_to_json's result is new (cJSON_Delete). */
struct cJSON *order_to_json(const struct order *o);
int order_from_json(const struct cJSON *j, struct order **out, struct err *e);

/* ERR_NOT_FOUND when there is no order/<id>. id must be uuid7_valid (checked). */
int order_load(struct fw_storage *s, const char *id, struct order **out, struct err *e);
/* Writes order/<id> and its indexes: for a new order role-active/<role>/<id> and
 * order-hour/<hour>/<id> first, then the object; for one turning terminal the object, then
 * its role-active/ entry is deleted (once: a later save of a terminal order leaves the index
 * alone, and an entry a failed delete left behind is the worker scan's to remove). Sets
 * o->stored_status. */
int order_save(struct fw_storage *s, struct order *o, struct err *e);
/* Loads the order and checks it belongs to role (ERR_NOT_FOUND otherwise, so ids of other
 * roles are not revealed). */
int order_load_for_role(struct fw_storage *s, const char *role, const char *id,
                        struct order **out, struct err *e);
/* order_load_for_role for the request's name (the role) and order_id fields. */
int order_load_req(const struct fw_req *req, const struct fw_data *d, struct order **out,
                   struct err *e);
/* order_load_for_role for a handler that changes the order: waits for the order's lock in
 * eng->order_locks first (id must stay valid while held). On 0 the caller holds the lock in
 * *hold and releases it with keylock_release(&eng->order_locks, hold); on -1 it is not
 * held. */
int order_load_for_update(struct engine *eng, struct fw_storage *s, const char *role,
                          const char *id, struct keylock *hold, struct order **out,
                          struct err *e);

/* "order-hour/<YYYYMMDDHH of creation>/<id>" into buf (>= 128 bytes). */
void order_hour_key(const struct order *o, char *buf, size_t len);

/* The API's date form, RFC 3339 UTC; 0 becomes "0001-01-01T00:00:00Z". buf >= 32. */
const char *order_time_str(int64_t t, char *buf, size_t len);
/* RFC 3339 (as the CA sends) -> unix seconds; 0 when s is NULL or unparsable. */
int64_t order_time_parse(const char *s);
int64_t order_now(void);

/* Sets last_error (copied, "" clears). */
void order_set_error(struct order *o, const char *msg);


/* ---- key authorizations (order_keyauth.c) ------------------------------------------- */

/* Sets c's key_auth (token.thumbprint) and, for dns-01, dns_value. */
int order_challenge_key_auth(struct order_challenge *c, const char *thumbprint, struct err *e);
/* Brings the key authorizations of o's pending challenges up to the account's current key
 * (RFC 8555 §8.1), before o is shown, with the thumbprint of the mount's client of the
 * account (order_client.c: current until the account changes; a miss reads the account).
 * Nothing to do unless some challenge is pending. Not saved. */
int order_key_auths_current(struct engine *eng, struct fw_storage *s, struct order *o,
                            struct err *e);

/* ---- the status reply (order_view.c) ------------------------------------------------- */

/* The identifiers replies show: as the user sent them (o->requested, else o->identifiers),
 * so Terraform reads back what it wrote. Borrowed, n_identifiers long. */
char *const *order_shown_identifiers(const struct order *o);

/* The status / lookup-order reply: union of the old and new shapes. New object. */
struct cJSON *order_view_status(const struct order *o);
/* The new-order reply, spec-000 shape (the newest docs only need order_id). New object. */
struct cJSON *order_view_created(const struct order *o);
/* Index of the authz for identifier (exact, or "*.x" for "x" wildcard forms); -1 if none. */
int order_find_authz(const struct order *o, const char *identifier);
/* The challenge of the given type in authz a; NULL if none. */
struct order_challenge *order_find_challenge(struct order_authz *a, const char *type);

/* The authz and challenge the request's identifier and challenge_type fields name
 * (path_order_challenge.c). ERR_INVALID naming the field otherwise. Both borrowed from o. */
int order_pick_challenge(struct order *o, const struct fw_data *d, struct order_authz **az,
                         struct order_challenge **ch, struct err *e);

/* ---- certificates (order_cert.c) -------------------------------------------------- */

/* Splits and parses the CA's chain, writes cert/<serial>, sets o->serial (not saved) and
 * *not_before / *not_after (unix seconds) of the leaf. */
int order_cert_store(struct fw_storage *s, struct order *o, const char *chain_pem,
                     int64_t *not_before, int64_t *not_after, struct err *e);
/* The stored record of a serial (colon form); ERR_NOT_FOUND when absent. *out is new. */
int order_cert_load(struct fw_storage *s, const char *serial, struct cJSON **out,
                    struct err *e);
/* Deletes cert/<serial> when its record belongs to order_id (tidy). Missing: 0. */
int order_cert_delete(struct fw_storage *s, const char *serial, const char *order_id,
                      struct err *e);
/* "role-cache/<role>/<sha-256 hex of the sorted, lower-cased identifiers>" into buf. */
int order_cache_key(const char *role, char *const *ids, size_t n, char *buf, size_t len,
                    struct err *e);
/* The fetch-cert / cached reply for a completed order in format pem, der or pem_bundle
 * (checked by the caller): certificate, issuing_ca, ca_chain (never null), serial_number,
 * expiration, not_before, not_after, authority_key_id, certificate_format, order_id, and for
 * identifier orders private_key and private_key_type. *out is new. */
int order_cert_reply(struct fw_storage *s, const struct order *o, const char *format,
                     struct cJSON **out, struct err *e);

/* The request's certificate_format field, "pem" when empty; ERR_INVALID naming the field
 * unless pem, der or pem_bundle. *out is borrowed from d (path_order_fetch.c). */
int order_cert_format(const struct fw_data *d, const char **out, struct err *e);

/* ---- reuse_pending_orders (order_reuse.c) ---------------------------------------------- */

/* What a new-order asks for, to compare with a pending order. Borrowed. */
struct order_reuse_want {
    const char *role;
    enum order_workflow workflow;
    char *const *ids;     /* A-labels / canonical IPs, as the order would carry them */
    size_t n;
    const char *csr;      /* CSR workflow: the PEM; else NULL */
    const char *profile;  /* the role's acme_profile */
};
/* "role-pending/<role>/<workflow>-<sha-256 of the set>" into buf: the index key, and the
 * key of the lock in eng->reuse_locks new-order holds while it looks up and places. */
int order_reuse_key(const char *role, enum order_workflow wf, char *const *ids, size_t n,
                    char *buf, size_t len, struct err *e);
/* The non-terminal order the index names when it matches want (same role, workflow,
 * identifier set ignoring order and case, profile, and CSR); *out NULL (and 0) when none. */
int order_reuse_find(struct fw_storage *s, const char *key, const struct order_reuse_want *want,
                     struct order **out, struct err *e);
/* Points the index at order id (after the order is saved). */
int order_reuse_record(struct fw_storage *s, const char *key, const char *id, struct err *e);

/* ---- shared ACME clients (order_client.c) --------------------------------------------- */

/* A mount's cache of ACME clients (struct engine's clients). */
int order_clients_new(struct order_clients **out, struct err *e);
void order_clients_free(struct order_clients *cc);   /* NULL ok; no entry may be held */
/* Forgets the account's client (account written, deleted, or invalidated). NULL cc ok. */
void order_clients_drop(struct order_clients *cc, const char *account);
size_t order_clients_count(struct order_clients *cc);

/* A cached ACME client for an account, shared across orders and threads. */
struct order_client;
/* The mount's client for the account; *out is held until order_client_put(eng->clients, *out).
 * ERR_NOT_FOUND when the account does not exist. Its calls are cancelled once the mount's
 * worker stops (eng->stopping). */
int order_client_get(struct engine *eng, struct fw_storage *s, const char *account,
                     struct order_client **out, struct err *e);
/* The client (borrowed while held). */
struct acme_client *order_client_acme(const struct order_client *c);
/* RFC 7638 thumbprint of the client's account key, computed when the client was built. */
const char *order_client_thumbprint(const struct order_client *c);
void order_client_put(struct order_clients *cc, struct order_client *c);   /* NULL c ok */

/* ---- advancing (order_advance.c) ---------------------------------------------------- */

/* Moves the order as far as it can without waiting, storing each step before the next
 * (CA URLs before anything else happens, so a restart never places a second CA order).
 * Each step runs under the order's lock in eng->order_locks (waiting for it: a request
 * handler holds it for one read-modify-write), and the order is reloaded for each step, so
 * a change made between steps (fulfilled-challenge) is never overwritten. Stops between
 * steps when the mount's worker is stopping. CA trouble is not an error here: it lands in
 * last_error, with a next_work_date for transient trouble. -1 only for storage failures.
 * *next_ms (may be NULL): unix milliseconds of the order's next look (polling the CA soon,
 * or its stored next_work_date while it waits on the user), 0 when it is terminal or gone. */
int order_advance(struct engine *eng, struct fw_storage *s, const char *id, int64_t *next_ms,
                  struct err *e);

/* ---- worker (order_worker.c) ------------------------------------------------------ */

/* Asks the mount's worker to advance the order now (non-blocking, never lost: an order
 * being advanced is advanced once more afterwards). eng may be NULL (nothing happens). */
void order_worker_kick(struct engine *eng, const char *id);
/* True once orders_stop has begun: long work should end at the next step. */
bool order_worker_stopping(struct engine *eng);
/* ---- CA orders lost to a crash (order_ca_adopt.c) ---------------------------------------- */

struct acme_client;
struct acme_order;
/* Claims the CA order at url for order_id (index ca-order/<sha256 of url>): 0 claimed (or
 * already ours), 1 another order's, -1 storage error. */
int order_ca_claim(struct engine *eng, struct fw_storage *s, const char *order_id,
                   const char *url, struct err *e);
/* Tidy: deletes the claim of url when order_id holds it. */
int order_ca_release(struct engine *eng, struct fw_storage *s, const char *order_id,
                     const char *url, struct err *e);
/* Tidy: deletes the claim stored at key ("ca-order/...") when no order of that id exists
 * any more; *deleted says whether it did. */
int order_ca_tidy_claim(struct engine *eng, struct fw_storage *s, const char *key,
                        bool *deleted, struct err *e);
/* Looks through the account's orders list for a live, unclaimed CA order with exactly o's
 * identifiers: 1 found, claimed for o and in *out (acme_order_clear); 0 none; -1 the CA has
 * no list or a call failed (e says which). */
int order_ca_find(struct engine *eng, struct fw_storage *s, struct acme_client *c,
                  const struct order *o, struct acme_order *out, struct err *e);


/* ---- renewal (order_renew.c; issue 14 §1) --------------------------------------------- */
struct renew_before;   /* internal.h */

/* The computed window of a certificate without ARI: the last third of its lifetime. */
void order_renewal_default_window(int64_t not_before, int64_t not_after, int64_t *start,
                                  int64_t *end);
/* When the certificate is due for renewal: the role's renew_before (rb; NULL or zero: the
 * default) counted back from not_after, else the point chosen in the ARI window, else the
 * computed window's start. An ARI window that ends before the role's own point wins. */
int64_t order_renewal_due(const struct order_renewal *rn, const struct renew_before *rb,
                          int64_t not_before, int64_t not_after);
/* A uniformly random second in [max(start, now), end); start when the range is empty. */
int64_t order_renewal_pick(int64_t start, int64_t end, int64_t now);
/* For an order about to be stored completed (its certificate, valid not_before..not_after,
 * already stored): sets the computed window, asks for an ARI fetch at once, writes
 * renewal-watch/<id>. */
int order_renewal_start(struct fw_storage *s, struct order *o, int64_t not_before,
                        int64_t not_after, struct err *e);
/* One look at a completed order, under its lock: keeps the window current (renewalInfo,
 * honouring Retry-After) and, when the role renews automatically and it is due, places the
 * replacement (claim first). *dirty when o must be saved; *next_ms (unix ms) the next
 * look, 0 when the order is watched no more. */
int order_renewal_tick(struct engine *eng, struct fw_storage *s, struct order *o, bool *dirty,
                       int64_t *next_ms, struct err *e);
/* The ids in renewal-watch/ (*ids new, never NULL on success). */
int order_list_watched(struct fw_storage *s, char ***ids, struct err *e);
/* Adds renewal_window_start, renewal_window_end, renewal_explanation_url,
 * renewal_window_source, replaces_order_id, replaced_by_order_id to a reply. */
bool order_renewal_view(const struct order *o, struct cJSON *j);

/* What a worker has done since orders_start, for tests and benchmarks. */
struct order_worker_stats {
    uint64_t scans;          /* role-active/ scans */
    uint64_t scan_loads;     /* orders loaded by scans */
    uint64_t sysview_calls;  /* "may this node write?" asked of the host */
    uint64_t advances;       /* order_advance calls */
    uint64_t dns_sweeps;     /* dns-record/ sweeps (scans while records may be left) */
    size_t scheduled;        /* orders in the schedule now */
};
void order_worker_stats(struct engine *eng, struct order_worker_stats *out);

/* ---- due index (order.c) ------------------------------------------------------------ */

/* Lists the work queue: every role-active/ entry as "<role>/<id>"; *entries is a new
 * NULL-terminated array (fw_strv_free). -1 (nothing returned) on any storage or memory
 * failure, never a shortened list. */
int order_list_active(struct fw_storage *s, char ***entries, struct err *e);

#endif

/* ---- Vault-managed dns-01 (order_dns.c) ----------------------------------------------- */

enum order_dns_outcome {
    ORDER_DNS_DONE = 0,   /* every record is published / visible */
    ORDER_DNS_WAIT,       /* look again at next_ms */
    ORDER_DNS_REPUBLISH,  /* a record went missing from tracking: publish again */
    ORDER_DNS_RETRY,      /* transient trouble (msg): retry with backoff */
    ORDER_DNS_FAILED      /* the order must end in error (msg) */
};
struct order_dns_result {
    enum order_dns_outcome outcome;
    int64_t next_ms;
    char msg[900];
};
/* Chooses the provider of every authorization not yet planned (role link or identifier
 * patterns; the role must allow dns-01 and the CA must offer it). Sets *changed. */
int order_dns_plan(struct fw_storage *s, struct order *o, bool *changed, struct err *e);
/* True while some pending authorization waits for a record Vault publishes. */
bool order_dns_pending(const struct order *o);
/* The provider calls below run in eng's context (its token cache; NULL: none).
 * Publishes every record not yet sent (each tracked before the change is sent). */
int order_dns_publish(struct engine *eng, struct fw_storage *s, struct order *o,
                      struct order_dns_result *r, struct err *e);
/* The propagation check; on DONE the dns-01 challenges are marked fulfilled. */
int order_dns_check(struct engine *eng, struct fw_storage *s, struct order *o,
                    struct order_dns_result *r, struct err *e);
/* Removes the records of authorizations the CA has finished with (all of them when the
 * order is terminal). Failures are logged and left to the next run or the sweep. */
void order_dns_cleanup(struct engine *eng, struct fw_storage *s, struct order *o,
                       bool *changed);
