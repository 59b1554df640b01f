/* test_acme_fakeca.c: the client against a scripted fake CA on loopback (plain HTTP, one
 * thread), for what Pebble does not do on demand: badNonce on every try (bounded re-sends),
 * rateLimited and 503 with Retry-After (ERR_RETRY with retry_at), a CA that never answers
 * (timeout, not a hang), and alternate-chain Link headers on a certificate download. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "crypto.h"

static int port;
/* Written by the test thread between cases, read by connection threads while a case runs;
 * the client is sequential, so a case's connections see its values. */
static volatile int posts;              /* POSTs seen (badNonce bound) */
static const char *volatile mode;       /* what POST /order answers */

static void reply(int fd, const char *status, const char *headers, const char *body)
{
    char buf[8192];
    int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\nReplay-Nonce: nonce-%d\r\n%s\r\n%s", status,
                     strlen(body), posts, headers, body);
    /* MSG_NOSIGNAL: the client may have given up (the "slow" case); no SIGPIPE. */
    if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        return;
}

static void serve(int fd)
{
    char req[16384];
    size_t len = 0;
    ssize_t r;
    /* Read headers, then the body by Content-Length. */
    while (len < sizeof req - 1 && (r = read(fd, req + len, sizeof req - 1 - len)) > 0) {
        len += (size_t)r;
        req[len] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        if (!end)
            continue;
        char *cl = strcasestr(req, "Content-Length:");
        size_t want = cl && cl < end ? (size_t)atol(cl + 15) : 0;
        if (len >= (size_t)(end + 4 - req) + want)
            break;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "{\"newNonce\":\"http://127.0.0.1:%d/nonce\",\"newAccount\":"
             "\"http://127.0.0.1:%d/acct\",\"newOrder\":\"http://127.0.0.1:%d/order\","
             "\"revokeCert\":\"http://127.0.0.1:%d/revoke\",\"keyChange\":"
             "\"http://127.0.0.1:%d/kc\",\"meta\":{\"caaIdentities\":[\"ca.test\"],"
             "\"externalAccountRequired\":true,\"profiles\":{\"p1\":\"first\"}}}",
             port, port, port, port, port);
    if (!strncmp(req, "GET /dir ", 9)) {
        reply(fd, "200 OK", "Content-Type: application/json\r\n", dir);
    } else if (!strncmp(req, "HEAD /nonce ", 12)) {
        reply(fd, "200 OK", "", "");
    } else if (!strncmp(req, "POST /order ", 12)) {
        posts++;
        if (!strcmp(mode, "badnonce"))
            reply(fd, "400 Bad Request", "Content-Type: application/problem+json\r\n",
                  "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"stale\"}");
        else if (!strcmp(mode, "ratelimit"))
            reply(fd, "429 Too Many Requests", "Retry-After: 120\r\n",
                  "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"slow\"}");
        else if (!strcmp(mode, "503"))
            reply(fd, "503 Service Unavailable", "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n"
                  "Content-Type: text/html\r\n", "<html>maintenance</html>");
        else if (!strcmp(mode, "slow"))
            sleep(3);   /* the client gives up first */
    } else if (!strncmp(req, "POST /cert ", 11)) {
        posts++;
        char links[512];
        snprintf(links, sizeof links, "Content-Type: application/pem-certificate-chain\r\n"
                 "Link: <http://127.0.0.1:%d/cert/alt/1>;rel=\"alternate\"\r\n"
                 "Link: <http://127.0.0.1:%d/dir>;rel=\"index\", "
                 "<http://127.0.0.1:%d/cert/alt/2>; rel=\"alternate\"\r\n", port, port, port);
        reply(fd, "200 OK", links, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    } else {
        reply(fd, "404 Not Found", "", "");
    }
}

static void *conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    serve(fd);
    close(fd);
    return NULL;
}

/* A thread per connection, so the "slow" answer does not hold up the next case. */
static void *server(void *arg)
{
    int ls = *(int *)arg;
    for (;;) {
        pthread_t t;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_create(&t, NULL, conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const struct {
    const char *name, *mode;
    enum err_kind want_kind;
    int want_posts;         /* -1: don't care */
    time_t retry_min, retry_max;  /* rep.retry_at window relative to now (0,0: absolute) */
    time_t retry_abs;
    double max_seconds;
    const char *want_msg;
} cases[] = {
    { "badNonce every time: 1 + 3 re-sends, then retry", "badnonce", ERR_RETRY, 4, 0, 0, 0, 2,
      "acme: urn:ietf:params:acme:error:badNonce: stale" },
    { "rateLimited with Retry-After seconds", "ratelimit", ERR_RETRY, 1, 115, 125, 0, 2,
      "acme: urn:ietf:params:acme:error:rateLimited: slow" },
    { "503 html with Retry-After date", "503", ERR_RETRY, 1, 0, 0, 1792567680, 2,
      "acme: HTTP 503 from http://127.0.0.1:" },
    { "no answer: timeout", "slow", ERR_RETRY, 1, 0, 0, 0, 2.5, "acme: POST http://127.0.0.1:" },
};

int main(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int ls = socket(AF_INET, SOCK_STREAM, 0), failed = 0, one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 16) ||
        getsockname(ls, (struct sockaddr *)&a, &alen)) {
        perror("fake CA socket");
        return 1;
    }
    port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, server, &ls);
    pthread_detach(t);

    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_client *c = NULL;
    char url[128], kid[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/dir", port);
    snprintf(kid, sizeof kid, "http://127.0.0.1:%d/acct/1", port);
    struct acme_client_opts o = { .directory_url = url, .account_url = kid,
                                  .connect_timeout_ms = 1000, .timeout_ms = 1000 };
    if (crypto_key_generate(CRYPTO_KEY_EC256, &k, &e))
        return fprintf(stderr, "key: %s\n", e.msg), 1;
    o.account_key = k;
    if (acme_client_new(&o, &c, &e))
        return fprintf(stderr, "client: %s\n", e.msg), 1;

    /* Directory meta, as parsed. */
    struct acme_directory d = { 0 };
    if (acme_get_directory(c, false, &d, NULL, &e) || !d.external_account_required ||
        strcmp(d.caa_identities[0], "ca.test") || strcmp(d.profile_names[0], "p1") ||
        strcmp(d.profile_descriptions[0], "first") || d.renewal_info) {
        fprintf(stderr, "FAIL directory meta: %s\n", e.msg);
        failed++;
    }
    acme_directory_clear(&d);

    const char *ids[] = { "a.test", NULL };
    struct acme_order_req req = { .identifiers = ids };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct acme_order ord = { 0 };
        struct acme_reply rep = { 0 };
        mode = cases[i].mode;
        posts = 0;
        err_clear(&e);
        double t0 = now_s();
        int rc = acme_new_order(c, &req, &ord, &rep, &e);
        double dt = now_s() - t0;
        time_t now = time(NULL);
        bool ok = rc == -1 && e.kind == cases[i].want_kind && dt < cases[i].max_seconds &&
                  (cases[i].want_posts < 0 || posts == cases[i].want_posts) &&
                  !strncmp(e.msg, cases[i].want_msg, strlen(cases[i].want_msg));
        if (cases[i].retry_abs)
            ok = ok && rep.retry_at == cases[i].retry_abs;
        else if (cases[i].retry_max)
            ok = ok && rep.retry_at >= now + cases[i].retry_min &&
                 rep.retry_at <= now + cases[i].retry_max;
        if (!ok) {
            fprintf(stderr, "FAIL %s: rc %d kind %d posts %d retry_at %lld (%.2f s): %s\n",
                    cases[i].name, rc, e.kind, posts, (long long)rep.retry_at, dt, e.msg);
            failed++;
        }
        acme_reply_clear(&rep);
        acme_order_clear(&ord);
    }

    /* Certificate download: both alternates from two Link headers, index ignored. */
    struct acme_cert_chain ch = { 0 };
    char cert_url[128], alt1[128], alt2[128];
    snprintf(cert_url, sizeof cert_url, "http://127.0.0.1:%d/cert", port);
    snprintf(alt1, sizeof alt1, "http://127.0.0.1:%d/cert/alt/1", port);
    snprintf(alt2, sizeof alt2, "http://127.0.0.1:%d/cert/alt/2", port);
    if (acme_download_cert(c, cert_url, &ch, NULL, &e) || !ch.alternates[0] ||
        strcmp(ch.alternates[0], alt1) || !ch.alternates[1] || strcmp(ch.alternates[1], alt2) ||
        ch.alternates[2] || !strstr(ch.pem, "BEGIN CERTIFICATE")) {
        fprintf(stderr, "FAIL cert alternates: %s\n", e.msg);
        failed++;
    }
    acme_cert_chain_clear(&ch);

    acme_client_free(c);
    crypto_key_free(k);
    close(ls);
    printf("%s\n", failed ? "FAILED" : "ok");
    return failed != 0;
}
