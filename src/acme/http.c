/* http.c: one HTTP exchange over libcurl, and the header parsing ACME needs (Replay-Nonce,
 * Location, Link, Retry-After). Proxies come from the environment (libcurl's default). */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

void acme_http_resp_clear(struct acme_http_resp *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->url);
    free(r->content_type);
    free(r->location);
    free(r->replay_nonce);
    acme_strv_free(r->links_alternate);
    free(r->link_up);
    free(r->link_index);
    free(r->link_next);
    memset(r, 0, sizeof *r);
}

/* ---- Header parsing ------------------------------------------------------------------ */

static int strv_push(char ***list, const char *s, size_t len)
{
    size_t n = acme_strv_len(*list);
    char **nl = realloc(*list, (n + 2) * sizeof *nl);
    if (!nl)
        return -1;
    *list = nl;
    nl[n] = strndup(s, len);
    nl[n + 1] = NULL;
    return nl[n] ? 0 : -1;
}

/* Does the parameter list `p` (after "<url>", up to the next link or the end) carry
 * rel=<rel> or rel="... rel ..."? */
static bool link_has_rel(const char *p, const char *end, const char *rel)
{
    size_t rl = strlen(rel);
    while (p < end) {
        while (p < end && (*p == ';' || isspace((unsigned char)*p)))
            p++;
        if (end - p > 3 && !strncasecmp(p, "rel", 3)) {
            const char *q = p + 3;
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q < end && *q == '=') {
                q++;
                while (q < end && isspace((unsigned char)*q))
                    q++;
                bool quoted = q < end && *q == '"';
                if (quoted)
                    q++;
                /* rel may hold several space-separated relation types (RFC 8288 3.3). */
                while (q < end && *q != ';' && *q != '"') {
                    const char *w = q;
                    while (q < end && !isspace((unsigned char)*q) && *q != ';' && *q != '"')
                        q++;
                    if ((size_t)(q - w) == rl && !strncasecmp(w, rel, rl))
                        return true;
                    while (q < end && isspace((unsigned char)*q) && quoted)
                        q++;
                    if (!quoted)
                        break;
                }
            }
        }
        /* next parameter */
        bool inq = false;
        while (p < end && (inq || *p != ';')) {
            if (*p == '"')
                inq = !inq;
            p++;
        }
    }
    return false;
}

int acme_link_parse(const char *value, const char *rel, char ***list)
{
    const char *p = value;
    while (p && *p) {
        const char *lt = strchr(p, '<');
        if (!lt)
            break;
        const char *gt = strchr(lt + 1, '>');
        if (!gt)
            break;
        /* Parameters run to the next comma outside quotes. */
        const char *q = gt + 1;
        bool inq = false;
        while (*q && (inq || *q != ',')) {
            if (*q == '"')
                inq = !inq;
            q++;
        }
        if (link_has_rel(gt + 1, q, rel) && strv_push(list, lt + 1, (size_t)(gt - lt - 1)))
            return -1;
        p = *q ? q + 1 : q;
    }
    if (!*list) {
        *list = calloc(1, sizeof **list);
        if (!*list)
            return -1;
    }
    return 0;
}

time_t acme_retry_after_parse(const char *value, time_t now)
{
    if (!value)
        return 0;
    while (isspace((unsigned char)*value))
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        unsigned long long s = strtoull(value, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (*end || s > 10ull * 365 * 86400)
            return 0;
        return now + (time_t)s;
    }
    /* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"; curl_getdate also takes the obsolete
     * forms RFC 9110 says recipients must accept. */
    time_t t = curl_getdate(value, NULL);
    return t > 0 ? t : 0;
}

bool acme_media_type_is(const char *content_type, const char *want)
{
    if (!content_type)
        return false;
    const char *p = content_type, *end;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strcspn(p, ";");
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = strlen(want);
    return (size_t)(end - p) == n && strncasecmp(p, want, n) == 0;
}

int acme_http_expect_type(const struct acme_http_resp *r, const char *want, const char *what,
                          struct err *e)
{
    if (acme_media_type_is(r->content_type, want))
        return 0;
    if (!r->content_type)
        return err_set(e, ERR_UPSTREAM, "acme: %s %s: the CA's reply has no Content-Type "
                       "(RFC 8555 requires %s)", what, r->url ? r->url : "", want);
    /* The CA's words go into a message: cut, and only printable ASCII. */
    char got[81];
    size_t i = 0;
    for (const char *q = r->content_type; *q && i < sizeof got - 1; q++)
        got[i++] = (*q >= 0x20 && *q < 0x7f) ? *q : '?';
    got[i] = '\0';
    return err_set(e, ERR_UPSTREAM, "acme: %s %s: the CA answered with Content-Type \"%s\" "
                   "where RFC 8555 requires %s", what, r->url ? r->url : "", got, want);
}

/* ---- The exchange -------------------------------------------------------------------- */

struct xfer {
    struct acme_http_resp *r;
    char *body;
    size_t len, cap;
    bool too_big;
    char **links_up, **links_index, **links_next;
    int oom;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (x->len + n > ACME_BODY_MAX) {
        x->too_big = true;
        return 0;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *nb = realloc(x->body, cap);
        if (!nb) {
            x->oom = 1;
            return 0;
        }
        x->body = nb;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    return n;
}

/* Header value with surrounding whitespace trimmed, or NULL if `line` is not `name:`. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    return strndup(v, (size_t)(end - v));
}

static void set_once(char **dst, char *v)
{
    if (!v)
        return;
    free(*dst);
    *dst = v;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    char *v;
    /* A new status line (redirect, 100-continue) starts a new header block. */
    if (n > 5 && !strncmp(data, "HTTP/", 5)) {
        struct acme_http_resp *r = x->r;
        free(r->replay_nonce);
        free(r->location);
        free(r->content_type);
        r->replay_nonce = r->location = r->content_type = NULL;
        r->retry_at = 0;
        return n;
    }
    set_once(&x->r->replay_nonce, header_value(data, n, "Replay-Nonce"));
    set_once(&x->r->location, header_value(data, n, "Location"));
    set_once(&x->r->content_type, header_value(data, n, "Content-Type"));
    v = header_value(data, n, "Retry-After");
    if (v) {
        x->r->retry_at = acme_retry_after_parse(v, time(NULL));
        free(v);
    }
    v = header_value(data, n, "Link");
    if (v) {
        if (acme_link_parse(v, "alternate", &x->r->links_alternate) ||
            acme_link_parse(v, "up", &x->links_up) ||
            acme_link_parse(v, "index", &x->links_index) ||
            acme_link_parse(v, "next", &x->links_next))
            x->oom = 1;
        free(v);
    }
    return n;
}

/* Handles are pooled so that connections (and TLS sessions) are reused across calls. */
static CURL *handle_take(struct acme_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->n_idle)
        h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

static void handle_give(struct acme_client *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    if (c->n_idle < ACME_HANDLE_POOL) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_cleanup(h);
}

/* Maps a failed exchange to an error that says whose fault it is. Everything the remote
 * side causes (it is unreachable, slow, breaks TLS off, sends headers libcurl will not
 * buffer) is ERR_UPSTREAM or ERR_RETRY naming the URL, never ERR_INTERNAL: a CA's reply must
 * not become our 500. `timeout_ms` is the bound this exchange ran under. */
static int curl_fail(struct acme_client *c, CURLcode rc, const char *method, const char *url,
                     const char *errbuf, long timeout_ms, struct err *e)
{
    const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        /* Not transient: the operator has to fix trusted_ca (or the CA its certificate). */
        return err_set(e, ERR_UPSTREAM, "acme: %s %s: TLS certificate not trusted (checked "
                       "against %s): %s", method, url,
                       c->ca_pem ? "trusted_ca" : "the system store", why);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return err_set(e, ERR_INVALID, "acme: %s %s: bad URL: %s", method, url, why);
    case CURLE_SSL_CONNECT_ERROR:
        return err_set(e, ERR_UPSTREAM, "acme: %s %s: TLS handshake failed: %s", method,
                       url, why);
    case CURLE_OPERATION_TIMEDOUT:
        return err_set(e, ERR_RETRY, "acme: %s %s: the CA at %s did not answer within %ld s",
                       method, url, url, (timeout_ms + 999) / 1000);
    case CURLE_OUT_OF_MEMORY:
        /* Our callbacks report real allocation failures themselves (x.oom); from
         * libcurl this is its refusal to buffer a header line over 100 KB. */
        return err_set(e, ERR_UPSTREAM, "acme: %s %s: the CA's response headers are too "
                       "large (libcurl refuses header lines over 100 KB): %s", method, url,
                       why);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        return err_set(e, ERR_RETRY, "acme: %s %s: the CA closed the connection before its "
                       "response was complete: %s", method, url, why);
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return err_set(e, ERR_UPSTREAM, "acme: %s %s: the CA's response is not valid HTTP: "
                       "%s", method, url, why);
    case CURLE_ABORTED_BY_CALLBACK:
        return err_set(e, ERR_RETRY, "acme: %s %s: cancelled (the host cancelled the "
                       "request, or the plugin is stopping)", method, url);
    default:
        return err_set(e, ERR_RETRY, "acme: %s %s: unreachable: %s", method, url, why);
    }
}

/* The bound for one exchange: the client's timeout, cut to what is left before its
 * deadline (a request's), minus a margin for the reply to reach the host. 0 when nothing is
 * left. */
static long exchange_timeout_ms(const struct acme_client *c)
{
    long t = c->timeout_ms;
    if (c->deadline_ms <= 0)
        return t;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t left = c->deadline_ms - ACME_DEADLINE_MARGIN_MS -
                   ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (left <= 0)
        return 0;
    return left < t ? (long)left : t;
}

/* libcurl's progress callback (called about once a second even while a peer is silent):
 * non-zero aborts the transfer. */
static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const atomic_bool *cancel = p;
    return atomic_load(cancel) ? 1 : 0;
}

int acme_http_request(struct acme_client *c, const char *method, const char *url,
                      const char *body, const char *content_type, struct acme_http_resp *out,
                      struct err *e)
{
    struct xfer x = { .r = out };
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    char ct[128];
    int ret = -1;
    CURLcode rc;
    CURL *h;

    memset(out, 0, sizeof *out);
    long timeout_ms = exchange_timeout_ms(c);
    if (timeout_ms == 0)
        return err_set(e, ERR_RETRY, "acme: %s %s: the CA at %s did not answer before the "
                       "request's deadline; nothing was stored", method, url, url);
    pthread_mutex_lock(&c->mu);
    const atomic_bool *cancel = c->cancel;
    pthread_mutex_unlock(&c->mu);
    if (cancel && atomic_load(cancel))
        return err_set(e, ERR_RETRY, "acme: %s %s: cancelled (the host cancelled the "
                       "request, or the plugin is stopping)", method, url);
    h = handle_take(c);
    if (!h)
        return err_set(e, ERR_INTERNAL, "acme: curl_easy_init failed");

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     c->connect_timeout_ms < timeout_ms ? c->connect_timeout_ms : timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->ua);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  /* Location is data in ACME */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (c->ca_pem) {
        struct curl_blob blob = { .data = c->ca_pem, .len = strlen(c->ca_pem),
                                  .flags = CURL_BLOB_NOCOPY };
        /* Only trusted_ca: the built-in CA file and directory would widen trust. */
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "POST")) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type
                                                                   : "application/jose+json");
        hdrs = curl_slist_append(hdrs, ct);
        if (!hdrs) {
            err_set(e, ERR_INTERNAL, "acme: out of memory");
            goto out;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
    }

    rc = curl_easy_perform(h);
    if (x.oom) {
        err_set(e, ERR_INTERNAL, "acme: %s %s: out of memory", method, url);
        goto out;
    }
    if (x.too_big) {
        err_set(e, ERR_UPSTREAM, "acme: %s %s: the CA's response body is larger than %u "
                "bytes", method, url, ACME_BODY_MAX);
        goto out;
    }
    if (rc != CURLE_OK) {
        /* A timeout before the connection (TLS included) was up is the connect bound's. */
        curl_off_t up = 0;
        curl_easy_getinfo(h, strncmp(url, "https:", 6) == 0 ? CURLINFO_APPCONNECT_TIME_T
                                                            : CURLINFO_CONNECT_TIME_T, &up);
        long bound = up == 0 && c->connect_timeout_ms < timeout_ms ? c->connect_timeout_ms
                                                                   : timeout_ms;
        curl_fail(c, rc, method, url, errbuf, bound, e);
        log_debug("acme", "http request failed", "method", method, "url", url, "error",
                  e ? e->msg : "", NULL);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = x.body ? x.body : calloc(1, 1);
    x.body = NULL;
    out->body_len = x.len;
    out->url = strdup(url);
    if (!out->body || !out->url || (!out->links_alternate && acme_link_parse("", "alternate",
                                                                &out->links_alternate))) {
        err_set(e, ERR_INTERNAL, "acme: out of memory");
        goto out;
    }
    if (x.links_up && x.links_up[0])
        out->link_up = acme_strdup(x.links_up[0]);
    if (x.links_index && x.links_index[0])
        out->link_index = acme_strdup(x.links_index[0]);
    if (x.links_next && x.links_next[0])
        out->link_next = acme_strdup(x.links_next[0]);
    {
        char st[16];
        snprintf(st, sizeof st, "%ld", out->status);
        log_debug("acme", "http response", "method", method, "url", url, "status", st, NULL);
    }
    ret = 0;
out:
    curl_slist_free_all(hdrs);
    /* Handles left mid-transfer on error are still safe to reset and reuse. */
    handle_give(c, h);
    free(x.body);
    acme_strv_free(x.links_up);
    acme_strv_free(x.links_index);
    acme_strv_free(x.links_next);
    if (ret)
        acme_http_resp_clear(out);
    return ret;
}
