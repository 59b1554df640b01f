/* http.c: JSON-over-HTTPS calls for the cloud DNS providers (Azure, Google, Cloudflare):
 * one call by libcurl with a bearer token, the reply's ETag and Retry-After kept, and the
 * retry loop for throttling and server errors those APIs document (429/5xx with
 * Retry-After). Tokens and bodies are never logged. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "internal.h"

enum { HTTP_MAX_BODY = 4 * 1024 * 1024, HTTP_TRIES = 4 };
static const int64_t HTTP_MAX_RETRY_AFTER_S = 10, HTTP_MAX_WAIT_S = 20;

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void http_init(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

void dns_http_reply_clear(struct dns_http_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

size_t dns_http_body_add(char **body, size_t *len, const char *data, size_t add)
{
    if (*len + add > HTTP_MAX_BODY)
        return 0;
    char *nb = realloc(*body, *len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + *len, data, add);
    *body = nb;
    *len += add;
    nb[*len] = '\0';
    return add;
}

static size_t on_body(char *data, size_t sz, size_t n, void *ud)
{
    struct dns_http_reply *r = ud;
    return dns_http_body_add(&r->body, &r->len, data, sz * n);
}

/* The value of header line `line` when its name is `name`, trimmed, into buf. */
static bool header_value(const char *line, size_t len, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return false;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    snprintf(buf, cap, "%.*s", (int)(end - v), v);
    return true;
}

static size_t on_header(char *data, size_t sz, size_t n, void *ud)
{
    struct dns_http_reply *r = ud;
    size_t len = sz * n;
    char v[300];
    /* A new status line (after a redirect or 100 Continue) starts a new set of headers. */
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->etag[0] = '\0';
        r->retry_after_s = -1;
    } else if (header_value(data, len, "ETag", v, sizeof v)) {
        snprintf(r->etag, sizeof r->etag, "%.255s", v);
    } else if (header_value(data, len, "Retry-After", v, sizeof v)) {
        char *endp = NULL;
        long s = strtol(v, &endp, 10);
        if (endp != v && *endp == '\0' && s >= 0) {
            r->retry_after_s = s;
        } else {
            time_t at = curl_getdate(v, NULL);   /* the HTTP-date form */
            time_t now = time(NULL);
            if (at != (time_t)-1)
                r->retry_after_s = at > now ? (int64_t)(at - now) : 0;
        }
    }
    return len;
}

int dns_http(const struct dns_http_req *q, struct dns_http_reply *r, struct err *e)
{
    pthread_once(&http_once, http_init);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(e, ERR_INTERNAL, "out of memory");
    struct curl_slist *hl = NULL;
    char *auth = NULL;
    for (size_t i = 0; q->headers && q->headers[i]; i++)
        hl = curl_slist_append(hl, q->headers[i]);
    if (q->bearer && q->bearer[0]) {
        size_t cap = strlen(q->bearer) + 32;
        auth = malloc(cap);
        if (auth) {
            snprintf(auth, cap, "Authorization: Bearer %s", q->bearer);
            hl = curl_slist_append(hl, auth);
        }
    }
    /* Without this, libcurl sends "Expect: 100-continue" for larger bodies. */
    hl = curl_slist_append(hl, "Expect:");
    long timeout = q->timeout_s > 0 ? q->timeout_s : 20;
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout < 5 ? timeout : 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (q->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body));
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    dns_secret_free(auth);
    if (rc == CURLE_OK && !r->body)
        r->body = calloc(1, 1);
    if (rc != CURLE_OK || !r->body) {
        dns_http_reply_clear(r);
        if (rc == CURLE_OK)
            return err_set(e, ERR_INTERNAL, "out of memory");
        return err_set(e, ERR_RETRY, "%s %s: %s", q->method, q->url, curl_easy_strerror(rc));
    }
    return 0;
}

/* Sleeps up to s seconds in short steps; false when the mount began stopping. */
static bool wait_s(const struct dns_ctx *ctx, int64_t s)
{
    for (int64_t ms = s * 1000; ms > 0; ms -= 100) {
        if (ctx && ctx->stopping && atomic_load(ctx->stopping))
            return false;
        struct timespec ts = { 0, (ms < 100 ? ms : 100) * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !(ctx && ctx->stopping && atomic_load(ctx->stopping));
}

int dns_http_retry(const struct dns_ctx *ctx, const struct dns_http_req *q,
                   struct dns_http_reply *r, struct err *e)
{
    int64_t waited = 0, backoff = 1;
    for (int attempt = 1;; attempt++) {
        int rc = dns_http(q, r, e);
        bool again = rc < 0 ? e->kind == ERR_RETRY : (r->status == 429 || r->status >= 500);
        if (!again || attempt >= HTTP_TRIES)
            return rc;
        int64_t pause = rc == 0 && r->retry_after_s >= 0 ? r->retry_after_s : backoff;
        if (pause > HTTP_MAX_RETRY_AFTER_S)
            pause = HTTP_MAX_RETRY_AFTER_S;
        if (waited + pause > HTTP_MAX_WAIT_S)
            return rc;   /* the caller reports this reply: retried later, by the order */
        backoff *= 2;
        if (rc == 0)
            dns_http_reply_clear(r);
        if (!wait_s(ctx, pause))
            return err_set(e, ERR_RETRY, "%s %s: the mount is stopping", q->method, q->url);
        waited += pause;
    }
}

cJSON *dns_http_json(const struct dns_http_reply *r)
{
    return r->body && r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
}

void dns_endpoint(const char *var, const char *dflt, char *buf, size_t cap)
{
    const char *v = getenv(var);
    snprintf(buf, cap, "%s", v && v[0] ? v : dflt);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/')
        buf[--n] = '\0';
}

void dns_url_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (; *s && o + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", ch);
    }
    out[o] = '\0';
}

int dns_http_bearer(const struct dns_ctx *ctx, const struct cJSON *cfg, const char *purpose,
                    dns_token_fetch_fn fetch, void *arg,
                    bool (*refused)(const struct dns_http_reply *r), struct dns_http_req *q,
                    struct dns_http_reply *r, struct err *e)
{
    for (int attempt = 0;; attempt++) {
        char *token = NULL;
        if (dns_token_get(ctx, cfg, purpose, fetch, arg, &token, e) < 0)
            return -1;
        q->bearer = token;
        int rc = dns_http_retry(ctx, q, r, e);
        q->bearer = NULL;
        dns_secret_free(token);
        if (rc < 0)
            return -1;
        bool stale = refused ? refused(r) : r->status == 401;
        if (attempt > 0 || !stale)
            return 0;
        dns_token_forget(ctx, cfg, purpose);
        dns_http_reply_clear(r);
    }
}
