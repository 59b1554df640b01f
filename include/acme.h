/* acme.h: RFC 8555 ACME client (+ RFC 8738 IP identifiers, RFC 9773 ARI, EAB). Knows ACME,
 * not Vault.
 *
 * Shape: small steps. Each call is one request (plus at most 3 signed re-sends on badNonce)
 * and returns what the CA said; nothing keeps an order, authorization or challenge in memory
 * between calls. The engine stores URLs and resumes from them after a restart. No call
 * sleeps: polling is one fetch that returns a status and `retry_at`, the time to look again.
 *
 * Threading: one acme_client per (directory, account key); every function may be called from
 * several threads at once on the same client (nonce pool, directory cache, account URL and
 * curl handles are under the client's mutex).
 *
 * Return convention: int functions return 0, or -1 with *e set:
 *   ERR_INVALID   bad caller input (names the field)
 *   ERR_NOT_FOUND acme_lookup_account: no account for this key; ARI: no renewalInfo
 *   ERR_UPSTREAM  the CA said no: "acme: <problem type>: <detail>"; also TLS verification
 *                 failure (wrong trusted_ca) and replies that are not ACME
 *   ERR_RETRY     network error, timeout, HTTP 5xx, rateLimited, badNonce after retries;
 *                 rep->retry_at says when (0 = the CA gave no hint; caller picks a backoff)
 *   ERR_INTERNAL  out of memory, crypto failure
 * Every network call takes `struct acme_reply *rep` (NULL ok): the HTTP status, the
 * Retry-After time and the RFC 7807 problem document, filled on success and failure.
 *
 * Time values are unix seconds (time_t); 0 means absent. Strings given in are copied or only
 * read during the call unless stated. Results are caller's structs that own their contents:
 * each function zeroes its output first (so _clear() a filled one before reusing it), and the
 * matching _clear() frees the contents (safe on a zeroed or already-cleared struct). A CA
 * error inside an object (a failed challenge, an invalid order) is in that object's `error`
 * member, not in *e: the call itself succeeded. */
#ifndef PKIEXT_ACME_H
#define PKIEXT_ACME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

struct crypto_key;   /* include/crypto.h; always borrowed here, never freed */
struct acme_client;  /* opaque: acme_client_new() / acme_client_free() */

/* ---- Problems (RFC 7807 / RFC 8555 6.7) ------------------------------------------------ */

enum acme_ident_type { ACME_IDENT_DNS = 0, ACME_IDENT_IP };

/* One identifier. Owns `value`. */
struct acme_identifier {
    enum acme_ident_type type;
    char *value;                 /* "example.com", "*.example.com", "10.0.0.1", "::1" */
};

struct acme_subproblem {
    char *type;                  /* full URN, "urn:ietf:params:acme:error:caa" */
    char *detail;                /* may be NULL */
    bool has_identifier;
    struct acme_identifier identifier;
};

/* A problem document. Owns everything; acme_problem_clear(). type == NULL: no problem. */
struct acme_problem {
    char *type;                  /* full URN as sent ("about:blank" if the CA sent none) */
    char *detail;                /* may be NULL */
    char *instance;              /* may be NULL (e.g. a URL to agree to new terms) */
    int status;                  /* "status" member, else the HTTP status; 0 if neither */
    struct acme_subproblem *subproblems;
    size_t n_subproblems;
};

/* Parses a problem document (JSON). Missing members stay NULL/0. ERR_INVALID if the text is
 * not a JSON object. Used internally; exported for tests and for stored errors. */
int acme_problem_parse(const char *json, size_t len, int http_status, struct acme_problem *out,
                       struct err *e);
void acme_problem_clear(struct acme_problem *p);
/* The short name after "urn:ietf:params:acme:error:" ("badNonce"), or the whole type for
 * other namespaces; "" for NULL. Borrowed from p->type. */
const char *acme_problem_name(const struct acme_problem *p);
/* Writes "acme: <type>: <detail>[; <subtype> <identifier>: <subdetail>...]" into buf
 * (truncating). Returns buf. */
char *acme_problem_format(const struct acme_problem *p, char *buf, size_t len);

/* What the CA said, beside the result; filled by every network call when non-NULL. */
struct acme_reply {
    int http_status;             /* 0 if no HTTP response (network error) */
    time_t retry_at;             /* Retry-After as an absolute time, 0 if none */
    struct acme_problem problem; /* type NULL if the response was not a problem */
};
void acme_reply_clear(struct acme_reply *r);

/* ---- Client ----------------------------------------------------------------------------- */

struct acme_client_opts {
    const char *directory_url;       /* required, https:// (http:// allowed for tests) */
    /* Account key: BORROWED. It must stay alive until acme_client_free() or until it is
     * replaced by acme_key_change()/acme_client_set_key() and no call using it is running. */
    struct crypto_key *account_key;  /* required */
    const char *account_url;         /* "kid"; NULL before acme_new_account/lookup */
    /* PEM bundle of CA certificates trusted for the directory's HTTPS, held in memory
     * (copied). NULL or "": the system store. */
    const char *trusted_ca_pem;
    long connect_timeout_ms;         /* TCP + TLS connect; 0: 10 000 */
    long timeout_ms;                 /* whole request; 0: 30 000. A call makes at most
                                      * 4 signed requests (3 badNonce re-sends) plus one
                                      * newNonce and one directory fetch, each bounded. */
    const char *user_agent;          /* NULL: "vault-plugin-secrets-pki-external-ca/<ver>" */
};

/* *out is new; acme_client_free() frees it. Does no network I/O. */
int acme_client_new(const struct acme_client_opts *o, struct acme_client **out, struct err *e);
void acme_client_free(struct acme_client *c);   /* NULL ok */
/* The account URL (kid) as a new string, NULL if none yet. */
char *acme_client_account_url(struct acme_client *c);
int acme_client_set_account_url(struct acme_client *c, const char *url, struct err *e);
/* Switches to another borrowed key (after a rollover done elsewhere). */
void acme_client_set_key(struct acme_client *c, struct crypto_key *key);
/* Bounds every later exchange of c by deadline_ms (wall-clock milliseconds since the epoch,
 * e.g. the host's request deadline; 0 removes the bound): each one ends a margin before it,
 * and none starts after it (ERR_RETRY naming the CA). Not for clients shared across
 * threads. */
void acme_client_set_deadline(struct acme_client *c, int64_t deadline_ms);
/* flag (borrowed, NULL: none) cancels the client's calls: once *flag is true, a request in
 * flight ends within about a second with ERR_RETRY ("cancelled") and new ones fail at once.
 * The order worker sets it on shutdown so a hung CA cannot hold the plugin's exit; request
 * handlers pass the host's cancellation (fw_req.cancelled). */
void acme_client_set_cancel(struct acme_client *c, const atomic_bool *flag);

/* ---- Directory --------------------------------------------------------------------------- */

/* A copy of the directory. Owns everything; acme_directory_clear(). */
struct acme_directory {
    char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert, *key_change;
    char *renewal_info;              /* RFC 9773; NULL if the CA has no ARI */
    char *terms_of_service, *website; /* meta; NULL if absent */
    char **caa_identities;           /* meta; NULL-terminated, never NULL itself */
    bool external_account_required;  /* meta */
    char **profile_names;            /* meta.profiles keys, NULL-terminated, never NULL */
    char **profile_descriptions;     /* same order as profile_names */
};

/* Fetches the directory once per client and caches it; force re-fetches. A wrong trusted_ca
 * or an unreachable host fails within the connect timeout with a message saying which. */
int acme_get_directory(struct acme_client *c, bool force, struct acme_directory *out,
                       struct acme_reply *rep, struct err *e);
void acme_directory_clear(struct acme_directory *d);

/* ---- Accounts ---------------------------------------------------------------------------- */

/* External account binding (RFC 8555 7.3.4). Borrowed during the call. */
struct acme_eab {
    const char *kid;
    const char *hmac_key_b64url;     /* as CAs hand it out (Vault: "key"): base64url, or
                                      * standard base64 */
    const char *alg;                 /* "HS256" (NULL), "HS384", "HS512" */
};

/* Status of any ACME object (account, order, authz, challenge): one enum, RFC 8555 7.1.6. */
enum acme_status {
    ACME_STATUS_UNKNOWN = 0, ACME_STATUS_PENDING, ACME_STATUS_READY,
    ACME_STATUS_PROCESSING, ACME_STATUS_VALID, ACME_STATUS_INVALID,
    ACME_STATUS_EXPIRED, ACME_STATUS_DEACTIVATED, ACME_STATUS_REVOKED
};
/* "pending" -> ACME_STATUS_PENDING...; UNKNOWN for anything else. And back ("unknown"). */
enum acme_status acme_status_parse(const char *s);
const char *acme_status_name(enum acme_status s);

/* An account object. Owns everything; acme_account_clear(). */
struct acme_account {
    char *url;                       /* kid (Location) */
    char *status_str;                /* "valid", "deactivated", "revoked" */
    enum acme_status status;
    char **contacts;                 /* "mailto:..", NULL-terminated, never NULL */
    char *orders_url;                /* may be NULL */
    bool created;                    /* acme_new_account: 201 (true) vs existing 200 */
};
void acme_account_clear(struct acme_account *a);

/* newAccount. contacts: NULL-terminated "mailto:" URIs (a bare address gets "mailto:"), NULL
 * for none. eab NULL: none (fails with the CA's externalAccountRequired problem if needed).
 * On success the client uses out->url as its kid. An existing account for the key is
 * returned (created = false). */
int acme_new_account(struct acme_client *c, const char *const *contacts, bool tos_agreed,
                     const struct acme_eab *eab, struct acme_account *out,
                     struct acme_reply *rep, struct err *e);
/* newAccount with onlyReturnExisting: finds the account of the client's key (import).
 * ERR_NOT_FOUND if there is none. On success the client uses out->url as its kid. */
int acme_lookup_account(struct acme_client *c, struct acme_account *out,
                        struct acme_reply *rep, struct err *e);
/* POST-as-GET on the account URL. */
int acme_get_account(struct acme_client *c, struct acme_account *out, struct acme_reply *rep,
                     struct err *e);
/* Replaces the contact list (NULL or empty: none). */
int acme_update_account(struct acme_client *c, const char *const *contacts,
                        struct acme_account *out, struct acme_reply *rep, struct err *e);
/* keyChange rollover (RFC 8555 7.3.5) to new_key (BORROWED like account_key). On success the
 * client signs with new_key from then on; the old key may be freed once no call runs. */
int acme_key_change(struct acme_client *c, struct crypto_key *new_key, struct acme_reply *rep,
                    struct err *e);
/* Deactivates the account (irreversible). */
int acme_deactivate_account(struct acme_client *c, struct acme_account *out,
                            struct acme_reply *rep, struct err *e);

/* ---- Orders ------------------------------------------------------------------------------ */

/* newOrder input; borrowed during the call. */
struct acme_order_req {
    /* NULL-terminated. An IP literal (inet_pton v4/v6) becomes an "ip" identifier (RFC 8738),
     * anything else "dns" (lower-cased; "*.x" allowed). */
    const char *const *identifiers;
    time_t not_before, not_after;    /* 0: omitted */
    const char *profile;             /* NULL: omitted (draft-ietf-acme-profiles) */
    const char *replaces;            /* ARI cert id of the certificate renewed; NULL: omitted */
};

/* An order object. Owns everything; acme_order_clear(). */
struct acme_order {
    char *url;                       /* Location on newOrder; the URL fetched otherwise */
    char *status_str;
    enum acme_status status;         /* pending, ready, processing, valid, invalid */
    time_t expires, not_before, not_after;
    struct acme_identifier *identifiers;
    size_t n_identifiers;
    char **authorizations;           /* authz URLs, NULL-terminated, never NULL */
    size_t n_authorizations;
    char *finalize_url;
    char *certificate_url;           /* NULL until valid */
    char *profile, *replaces;        /* echoed by the CA; NULL if absent */
    struct acme_problem error;       /* type NULL if none */
    /* When to fetch again: Retry-After if sent, else now + 1 s while pending or processing;
     * 0 otherwise (ready, valid, invalid: nothing to wait for). */
    time_t retry_at;
};
void acme_order_clear(struct acme_order *o);

int acme_new_order(struct acme_client *c, const struct acme_order_req *req,
                   struct acme_order *out, struct acme_reply *rep, struct err *e);
/* POST-as-GET on a stored order URL. */
int acme_get_order(struct acme_client *c, const char *order_url, struct acme_order *out,
                   struct acme_reply *rep, struct err *e);
/* One page of an account's orders list (RFC 8555 7.1.2.1): POST-as-GET on url (the account's
 * orders_url, then each page's next). *urls: the order URLs, NULL-terminated, never NULL on
 * success; *next: the next page (Link rel="next") or NULL. Both new. */
int acme_account_orders(struct acme_client *c, const char *url, char ***urls, char **next,
                        struct acme_reply *rep, struct err *e);
/* finalize with a DER CSR. out is the order as returned (usually processing or valid). */
int acme_finalize(struct acme_client *c, const char *finalize_url, const unsigned char *csr_der,
                  size_t csr_der_len, struct acme_order *out, struct acme_reply *rep,
                  struct err *e);

/* ---- Authorizations and challenges ----------------------------------------------------- */

/* A challenge object. Owns everything; acme_challenge_clear(). */
struct acme_challenge {
    char *type;                      /* "http-01", "dns-01", "tls-alpn-01", ... */
    char *url;
    char *token;                     /* NULL for types without one */
    char *status_str;
    enum acme_status status;         /* pending, processing, valid, invalid */
    time_t validated;
    struct acme_problem error;       /* type NULL if none */
    time_t retry_at;                 /* as acme_order.retry_at */
};
void acme_challenge_clear(struct acme_challenge *ch);

/* An authorization object. Owns everything; acme_authz_clear(). */
struct acme_authz {
    char *url;
    struct acme_identifier identifier; /* as the CA sent it: no "*." even if wildcard */
    bool wildcard;
    char *status_str;
    enum acme_status status;         /* pending, valid, invalid, deactivated, expired, revoked */
    time_t expires;
    struct acme_challenge *challenges;
    size_t n_challenges;
    time_t retry_at;                 /* as acme_order.retry_at */
};
void acme_authz_clear(struct acme_authz *a);
/* The first challenge of `type`, borrowed from a; NULL if the CA offers none. */
const struct acme_challenge *acme_authz_challenge(const struct acme_authz *a, const char *type);

int acme_get_authz(struct acme_client *c, const char *authz_url, struct acme_authz *out,
                   struct acme_reply *rep, struct err *e);
int acme_deactivate_authz(struct acme_client *c, const char *authz_url, struct acme_authz *out,
                          struct acme_reply *rep, struct err *e);
int acme_get_challenge(struct acme_client *c, const char *challenge_url,
                       struct acme_challenge *out, struct acme_reply *rep, struct err *e);
/* Tells the CA the challenge is ready ("{}" POST). out: the challenge as returned. */
int acme_respond_challenge(struct acme_client *c, const char *challenge_url,
                           struct acme_challenge *out, struct acme_reply *rep, struct err *e);

/* Key authorization "token.thumbprint(account key)" (http-01 body, tls-alpn-01 digest input).
 * New string; NULL on failure (e set). */
char *acme_key_authorization(struct acme_client *c, const char *token, struct err *e);
/* dns-01 TXT value: base64url(SHA-256(key authorization)). New string; NULL on failure. */
char *acme_dns01_txt_value(struct acme_client *c, const char *token, struct err *e);
/* "_acme-challenge.<domain>" for an identifier (a leading "*." dropped). New string. */
char *acme_dns01_record_name(const char *identifier);

/* ---- Certificates ------------------------------------------------------------------------ */

/* A downloaded chain. Owns everything; acme_cert_chain_clear(). */
struct acme_cert_chain {
    char *pem;                       /* leaf first, then the chain, as the CA sent it */
    char **alternates;               /* Link rel="alternate" URLs, NULL-terminated, never NULL */
};
void acme_cert_chain_clear(struct acme_cert_chain *ch);

/* POST-as-GET on the order's certificate URL (or an alternate). */
int acme_download_cert(struct acme_client *c, const char *cert_url,
                       struct acme_cert_chain *out, struct acme_reply *rep, struct err *e);

/* revokeCert. cert_pem: the certificate (first PEM block used). reason: RFC 5280 code 0..10
 * (not 7), or -1 to omit. cert_key NULL: signed by the account key (kid); else signed by the
 * certificate's own key (jwk), which needs no account. */
int acme_revoke_cert(struct acme_client *c, const char *cert_pem, int reason,
                     const struct crypto_key *cert_key, struct acme_reply *rep, struct err *e);

/* ---- ACME Renewal Information (RFC 9773) ----------------------------------------------- */

/* The certificate's ARI id: base64url(AKI keyIdentifier) "." base64url(serial DER bytes).
 * New string. ERR_INVALID if the certificate has no AKI. No network. */
char *acme_ari_cert_id(const char *cert_pem, struct err *e);

/* Owns explanation_url; acme_renewal_info_clear(). */
struct acme_renewal_info {
    time_t window_start, window_end;
    char *explanation_url;           /* may be NULL */
    time_t retry_at;                 /* Retry-After: when to ask again */
};
void acme_renewal_info_clear(struct acme_renewal_info *ri);
/* GET <renewalInfo>/<cert id>. ERR_NOT_FOUND if the directory has no renewalInfo. */
int acme_get_renewal_info(struct acme_client *c, const char *cert_pem,
                          struct acme_renewal_info *out, struct acme_reply *rep,
                          struct err *e);

#endif
