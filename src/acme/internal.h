/* internal.h: what the files of src/acme share; not part of the public API (include/acme.h).
 * Unit tests include it to reach the pure helpers (header parsing, JWS envelope). */
#ifndef PKIEXT_ACME_INTERNAL_H
#define PKIEXT_ACME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "acme.h"
#include "err.h"

#define ACME_NONCE_POOL   16   /* nonces kept for reuse; more are dropped */
/* Idle curl handles kept, with their connections. At least as many as threads that share a
 * client at once (a mount's order worker runs 16 advances on one account's client, beside
 * requests): with fewer slots, every handle given back beyond them closes its connection,
 * and the next call pays a TCP and TLS handshake. With 24, test/bench/engine_load.sh's
 * 1,000 orders fulfilled at once closed no connection to the CA. */
#define ACME_HANDLE_POOL  24
#define ACME_BADNONCE_MAX 3    /* re-sends on badNonce (RFC 8555 6.5: clients SHOULD retry) */
#define ACME_BODY_MAX     (4u << 20)  /* a response body larger than this is an error */
/* Exchanges stop this long before a client's deadline, so the error reply still reaches
 * the host in time. */
#define ACME_DEADLINE_MARGIN_MS 2000

/* The client. Everything after `mu` is read and written under it, except the fields set in
 * acme_client_new() and never changed (dir_url, ca_pem, timeouts, ua). */
struct acme_client {
    char *dir_url;
    char *ca_pem;                 /* NULL: system store */
    long connect_timeout_ms, timeout_ms;
    int64_t deadline_ms;     /* wall clock; 0: none (acme_client_set_deadline) */
    char *ua;

    pthread_mutex_t mu;
    struct crypto_key *key;       /* borrowed */
    char *kid;                    /* account URL or NULL */
    bool have_dir;
    struct acme_directory dir;
    char *nonces[ACME_NONCE_POOL];
    size_t n_nonces;
    CURL *idle[ACME_HANDLE_POOL];
    size_t n_idle;
    const atomic_bool *cancel;    /* borrowed, NULL: never cancelled */
};

/* ---- http.c -------------------------------------------------------------------------- */

/* One HTTP response. Owns everything; acme_http_resp_clear(). */
struct acme_http_resp {
    long status;
    char *body;                   /* NUL-terminated; "" if none */
    size_t body_len;
    char *url;                    /* the URL it came from */
    char *content_type, *location, *replay_nonce;
    char **links_alternate;       /* Link rel="alternate", NULL-terminated, never NULL */
    char *link_up, *link_index;   /* first rel="up" / rel="index" or NULL */
    char *link_next;              /* first rel="next" (a list's next page) or NULL */
    time_t retry_at;              /* Retry-After, absolute; 0 none */
};
void acme_http_resp_clear(struct acme_http_resp *r);

/* One request: method "GET", "HEAD" or "POST" (body with content_type). Network and TLS
 * failures give -1: ERR_RETRY (unreachable, timeout) or ERR_UPSTREAM (TLS verification),
 * message naming the URL. Any HTTP status is success here; callers judge it. */
int acme_http_request(struct acme_client *c, const char *method, const char *url,
                      const char *body, const char *content_type, struct acme_http_resp *out,
                      struct err *e);

/* Header helpers (pure; tested in test/unit/test_acme_headers.c). */
/* Appends every URL with relation `rel` in one Link header value to *list (NULL-terminated,
 * grown with realloc). Returns 0, -1 on out of memory. */
int acme_link_parse(const char *value, const char *rel, char ***list);
/* Retry-After: delta-seconds or an HTTP-date -> absolute time; 0 if unparsable. */
time_t acme_retry_after_parse(const char *value, time_t now);
/* True when the media type of a Content-Type value (the part before any ';' parameters,
 * surrounding spaces ignored, compared case-insensitively: RFC 9110 8.3.1) is `want`.
 * NULL content_type: false. */
bool acme_media_type_is(const char *content_type, const char *want);
/* 0 when r's Content-Type is `want` (RFC 8555 says which for each reply); else ERR_UPSTREAM
 * naming `what`, the URL and the type the CA sent. Parameters (`; charset=utf-8`) and case
 * are accepted, as real CAs vary there. */
int acme_http_expect_type(const struct acme_http_resp *r, const char *want, const char *what,
                          struct err *e);

/* ---- nonce.c ------------------------------------------------------------------------- */

/* A nonce from the pool, else from newNonce. *out is new. */
int acme_nonce_get(struct acme_client *c, char **out, struct err *e);
/* Keeps a nonce for the next request (takes ownership; NULL ok). */
void acme_nonce_put(struct acme_client *c, char *nonce);

/* ---- directory.c --------------------------------------------------------------------- */

/* A copy of one directory URL (e.g. offsetof new_order): new string, or -1 with e set
 * (ERR_UPSTREAM if the CA does not offer it). */
int acme_dir_url(struct acme_client *c, size_t field_offset, const char *name, char **out,
                 struct err *e);
int acme_directory_copy(const struct acme_directory *from, struct acme_directory *to);

/* ---- jws.c --------------------------------------------------------------------------- */

/* The protected header JSON: {"alg","kid"|"jwk","nonce","url"}. Exactly one of kid and
 * jwk_json is non-NULL. nonce may be NULL (keyChange inner JWS). New string or NULL. */
char *acme_jws_protected(const char *alg, const char *kid, const char *jwk_json,
                         const char *nonce, const char *url);

/* ---- post.c -------------------------------------------------------------------------- */

enum acme_signer { ACME_SIGN_KID = 0, ACME_SIGN_JWK };

/* Signed POST to url. payload NULL = POST-as-GET. signer KID uses the account URL (ERR_INVALID
 * if there is none); JWK embeds the key. key NULL = the client's account key. Retries on
 * badNonce at most ACME_BADNONCE_MAX times. HTTP >= 400 becomes -1 with rep->problem and e
 * set (acme_problem_to_err). On success *out holds the response. */
int acme_post(struct acme_client *c, const char *url, const char *payload,
              enum acme_signer signer, const struct crypto_key *key,
              struct acme_http_resp *out, struct acme_reply *rep, struct err *e);
/* Parses out->body as a JSON object (Content-Type application/json); ERR_UPSTREAM naming
 * `what` and the URL if the type is another or the body is not one. */
cJSON *acme_json_body(const struct acme_http_resp *r, const char *what, struct err *e);

/* ---- problem.c ----------------------------------------------------------------------- */

/* Maps an error response to e (and rep): 5xx, rateLimited, badNonce -> ERR_RETRY, others ->
 * ERR_UPSTREAM "acme: <type>: <detail>". Fills rep->problem when the body is a problem
 * (or a synthetic one for a non-JSON body). Returns -1. */
int acme_problem_to_err(const struct acme_http_resp *r, const char *url, struct acme_reply *rep,
                        struct err *e);
int acme_problem_from_json(const cJSON *obj, int http_status, struct acme_problem *out);

/* ---- order.c, challenge.c ------------------------------------------------------------ */

/* Object parsers shared between files (and reached by the fuzz targets, test/fuzz). */
int acme_account_parse(const struct acme_http_resp *r, const char *url,
                       struct acme_account *out, struct err *e);
int acme_authz_parse(const struct acme_http_resp *r, const char *url, struct acme_authz *out,
                     struct err *e);
/* The directory object root -> *d (zeroed by the caller); -1 on out of memory. */
int acme_directory_parse(const cJSON *root, struct acme_directory *d);
int acme_order_parse(const struct acme_http_resp *r, const char *url, struct acme_order *out,
                     struct err *e);
int acme_challenge_from_json(const cJSON *obj, time_t retry_after, struct acme_challenge *out);

/* ---- ari.c -------------------------------------------------------------------------- */

/* ARI id from colon hex (crypto_cert_info's authority_key_id and serial). New or NULL. */
char *acme_ari_id_from_hex(const char *aki_hex, const char *serial_hex);

/* ---- util.c -------------------------------------------------------------------------- */

char *acme_strdup(const char *s);                     /* NULL in, NULL out */
char *acme_json_strdup(const cJSON *obj, const char *name);  /* string member or NULL */
/* String array member -> NULL-terminated list (never NULL unless out of memory). */
char **acme_json_strv(const cJSON *obj, const char *name, size_t *n);
void acme_strv_free(char **v);
size_t acme_strv_len(char *const *v);
/* RFC 3339 -> unix seconds; 0 if absent or unparsable. */
time_t acme_time_parse(const char *s);
time_t acme_json_time(const cJSON *obj, const char *name);
/* Writes RFC 3339 UTC "2026-01-02T15:04:05Z" into buf[32]. */
void acme_time_format(time_t t, char buf[32]);
int acme_identifier_from_json(const cJSON *obj, struct acme_identifier *out);
/* Fills rep's non-problem fields from a response. rep may be NULL. */
void acme_reply_fill(struct acme_reply *rep, const struct acme_http_resp *r);
/* "next look" for a pollable object, as documented on acme_order.retry_at. */
time_t acme_next_look(enum acme_status s, time_t retry_after);

#endif
