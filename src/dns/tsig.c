/* tsig.c: TSIG (RFC 8945) for the RFC 2136 provider: signs a request with HMAC-SHA1/224/
 * 256/384/512, exchanges it over UDP and verifies the reply's MAC. ldns builds and parses
 * the messages; the MAC is computed here because the Debian build of ldns signs only with
 * SHA-1, SHA-256 and SHA-512 (its digest table lacks SHA-224 and SHA-384), and RFC 2136
 * servers are configured with any of the five. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "internal.h"

enum { TSIG_FUDGE = 300, TSIG_TYPE = 250, CLASS_ANY = 255, MAX_MSG = 65535 };

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put16(struct wbuf *b, unsigned v)
{
    uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(b, x, 2);
}

static void put48(struct wbuf *b, uint64_t v)
{
    uint8_t x[6];
    for (int i = 5; i >= 0; i--, v >>= 8)
        x[i] = (uint8_t)v;
    put(b, x, 6);
}

/* A name in canonical wire form (lower case, uncompressed). */
static int put_name(struct wbuf *b, const char *name, struct err *e)
{
    const char *p = name;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n > 63)
            return err_set(e, ERR_INVALID, "tsig_key_name: \"%.100s\" is not a DNS name", name);
        uint8_t l = (uint8_t)n;
        put(b, &l, 1);
        for (size_t i = 0; i < n; i++) {
            uint8_t c = (uint8_t)tolower((unsigned char)p[i]);
            put(b, &c, 1);
        }
        p += n;
        if (*p == '.')
            p++;
    }
    put(b, "", 1);
    return 0;
}

static const EVP_MD *tsig_md(const char *alg)
{
    if (strcmp(alg, "hmac-sha1") == 0)
        return EVP_sha1();
    if (strcmp(alg, "hmac-sha224") == 0)
        return EVP_sha224();
    if (strcmp(alg, "hmac-sha256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "hmac-sha384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "hmac-sha512") == 0)
        return EVP_sha512();
    return NULL;
}

/* The TSIG variables of RFC 8945 4.3.3 (no MAC, no original id). */
static int put_variables(struct wbuf *b, const struct dns_tsig_key *k, uint64_t when,
                         unsigned error, struct err *e)
{
    if (put_name(b, k->name, e) < 0)
        return -1;
    put16(b, CLASS_ANY);
    put16(b, 0);
    put16(b, 0);   /* TTL 0 */
    if (put_name(b, k->algorithm, e) < 0)
        return -1;
    put48(b, when);
    put16(b, TSIG_FUDGE);
    put16(b, error);
    put16(b, 0);   /* other len */
    return 0;
}

static int hmac(const struct dns_tsig_key *k, const uint8_t *d, size_t n, uint8_t *mac,
                unsigned *mlen, struct err *e)
{
    const EVP_MD *md = tsig_md(k->algorithm);
    unsigned char *secret = NULL;
    size_t slen = 0;
    if (!md)
        return err_set(e, ERR_INVALID, "tsig_algorithm: unknown value \"%.64s\"", k->algorithm);
    if (crypto_b64_decode(k->secret, &secret, &slen, e) < 0 || slen == 0) {
        free(secret);
        return err_set(e, ERR_INVALID, "tsig_secret: not valid base64");
    }
    bool ok = HMAC(md, secret, (int)slen, d, n, mac, mlen) != NULL;
    memset(secret, 0, slen);
    free(secret);
    return ok ? 0 : err_set(e, ERR_INTERNAL, "TSIG: HMAC failed");
}

/* Skips a (possibly compressed) name at *off. */
static bool skip_name(const uint8_t *w, size_t len, size_t *off)
{
    while (*off < len) {
        uint8_t l = w[*off];
        if ((l & 0xc0) == 0xc0) {
            *off += 2;
            return *off <= len;
        }
        *off += 1 + l;
        if (l == 0)
            return *off <= len;
    }
    return false;
}

/* Offset of the last RR of the message (where a TSIG RR must be); 0 when malformed. */
static size_t last_rr_offset(const uint8_t *w, size_t len)
{
    if (len < 12)
        return 0;
    unsigned qd = (unsigned)(w[4] << 8 | w[5]);
    unsigned rr = (unsigned)(w[6] << 8 | w[7]) + (unsigned)(w[8] << 8 | w[9]) +
                  (unsigned)(w[10] << 8 | w[11]);
    size_t off = 12, last = 0;
    for (unsigned i = 0; i < qd; i++) {
        if (!skip_name(w, len, &off) || off + 4 > len)
            return 0;
        off += 4;
    }
    for (unsigned i = 0; i < rr; i++) {
        last = off;
        if (!skip_name(w, len, &off) || off + 10 > len)
            return 0;
        size_t rdlen = (size_t)(w[off + 8] << 8 | w[off + 9]);
        off += 10 + rdlen;
        if (off > len)
            return 0;
    }
    return rr ? last : 0;
}

static int udp_exchange(const struct dns_server *srv, const uint8_t *q, size_t qlen,
                        uint8_t *ans, size_t *alen, struct err *e)
{
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
    char pbuf[8], sbuf[300];
    snprintf(pbuf, sizeof pbuf, "%u", srv->port);
    dns_server_str(srv, sbuf, sizeof sbuf);
    if (getaddrinfo(srv->host, pbuf, &hints, &ai) != 0 || !ai)
        return err_set(e, ERR_RETRY, "%s: cannot resolve the server's address", sbuf);
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        err_set(e, ERR_RETRY, "%s: cannot reach the server", sbuf);
        goto out;
    }
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (send(fd, q, qlen, 0) != (ssize_t)qlen) {
            err_set(e, ERR_RETRY, "%s: send failed", sbuf);
            goto out;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        while (poll(&pfd, 1, 2000) == 1) {
            ssize_t n = recv(fd, ans, MAX_MSG, 0);
            if (n >= 12 && ans[0] == q[0] && ans[1] == q[1]) {
                *alen = (size_t)n;
                rc = 0;
                break;
            }
            if (n < 0) {
                err_set(e, ERR_RETRY, "%s: the server refused the connection", sbuf);
                goto out;
            }
        }
    }
    if (rc < 0)
        err_set(e, ERR_RETRY, "%s did not answer within 4 s", sbuf);
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

static const char *tsig_error_name(unsigned err)
{
    switch (err) {
    case 16: return "BADSIG";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 22: return "BADTRUNC";
    default: return "error";
    }
}

/* Parses the reply ans (alen bytes) to a request whose MAC was mac, and checks its TSIG
 * with k: its error code first (an unsigned BADSIG/BADKEY reply), then its MAC. *reply is
 * new on success (ldns_pkt_free), NULL on failure. server names the sender in messages. */
int dns_tsig_verify_reply(const uint8_t *ans, size_t alen, const struct dns_tsig_key *k,
                          const uint8_t *mac, unsigned mlen, const char *server,
                          ldns_pkt **reply, struct err *e)
{
    int rc = -1;
    *reply = NULL;
    if (ldns_wire2pkt(reply, ans, alen) != LDNS_STATUS_OK) {
        err_set(e, ERR_RETRY, "%s sent a malformed reply", server);
        goto out;
    }
    /* The reply's TSIG: error code first (an unsigned BADSIG/BADKEY reply), then its MAC. */
    size_t toff = last_rr_offset(ans, alen);
    const ldns_rr *trr = ldns_pkt_tsig(*reply);
    if (!toff || !trr || ldns_rr_rd_count(trr) < 7) {
        if (ldns_pkt_get_rcode(*reply) == LDNS_RCODE_NOTAUTH)
            rc = err_set(e, ERR_UPSTREAM, "%s refused the TSIG signature (NOTAUTH): check "
                         "tsig_key_name, tsig_secret and tsig_algorithm", server);
        else
            rc = err_set(e, ERR_UPSTREAM, "%s sent an unsigned reply to a signed request: "
                         "check tsig_key_name, tsig_secret and tsig_algorithm", server);
        goto out;
    }
    const ldns_rdf *terr = ldns_rr_rdf(trr, 5);
    unsigned tsig_err = ldns_rdf_size(terr) >= 2 ? (unsigned)(ldns_rdf_data(terr)[0] << 8 |
                                                              ldns_rdf_data(terr)[1]) : 0;
    if (tsig_err) {
        rc = err_set(e, ERR_UPSTREAM, "%s refused the TSIG signature (%s): check "
                     "tsig_key_name, tsig_secret and tsig_algorithm%s", server,
                     tsig_error_name(tsig_err), tsig_err == 18 ? " (and this host's clock)" : "");
        goto out;
    }
    const ldns_rdf *rmac = ldns_rr_rdf(trr, 3);      /* INT16_DATA: length + MAC */
    const ldns_rdf *rtime = ldns_rr_rdf(trr, 1);
    if (ldns_rdf_size(rmac) < 2 || ldns_rdf_size(rtime) != 6) {
        rc = err_set(e, ERR_UPSTREAM, "%s sent a malformed TSIG record", server);
        goto out;
    }
    uint64_t rwhen = 0;
    for (int i = 0; i < 6; i++)
        rwhen = rwhen << 8 | ldns_rdf_data(rtime)[i];
    struct wbuf vin = { 0 };
    put16(&vin, mlen);
    put(&vin, mac, mlen);
    size_t body = toff;
    uint8_t hdr[12];
    memcpy(hdr, ans, 12);
    unsigned rar = (unsigned)(hdr[10] << 8 | hdr[11]) - 1;
    hdr[10] = (uint8_t)(rar >> 8);
    hdr[11] = (uint8_t)rar;
    put(&vin, hdr, 12);
    put(&vin, ans + 12, body - 12);
    uint8_t vmac[EVP_MAX_MD_SIZE];
    unsigned vlen = 0;
    int vrc = put_variables(&vin, k, rwhen, 0, e);
    if (vrc == 0 && !vin.oom)
        vrc = hmac(k, vin.p, vin.len, vmac, &vlen, e);
    free(vin.p);
    if (vrc < 0)
        goto out;
    size_t got = (size_t)(ldns_rdf_data(rmac)[0] << 8 | ldns_rdf_data(rmac)[1]);
    if (got != vlen || ldns_rdf_size(rmac) < 2 + got ||
        CRYPTO_memcmp(vmac, ldns_rdf_data(rmac) + 2, vlen) != 0) {
        rc = err_set(e, ERR_UPSTREAM, "the reply of %s failed TSIG verification: check "
                     "tsig_secret and tsig_algorithm", server);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        ldns_pkt_free(*reply);
        *reply = NULL;
    }
    return rc;
}

int dns_tsig_exchange(const struct dns_server *srv, ldns_pkt *q, const struct dns_tsig_key *k,
                      ldns_pkt **reply, struct err *e)
{
    uint8_t *wire = NULL, mac[EVP_MAX_MD_SIZE];
    size_t wlen = 0;
    unsigned mlen = 0;
    struct wbuf in = { 0 }, msg = { 0 };
    uint8_t *ans = NULL;
    size_t alen = 0;
    char sbuf[300];
    int rc = -1;
    *reply = NULL;
    dns_server_str(srv, sbuf, sizeof sbuf);
    if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK || wlen < 12)
        return err_set(e, ERR_INTERNAL, "TSIG: cannot encode the request");
    uint64_t now = (uint64_t)time(NULL);
    /* The request MAC covers the message and the TSIG variables. */
    put(&in, wire, wlen);
    if (put_variables(&in, k, now, 0, e) < 0 || in.oom ||
        hmac(k, in.p, in.len, mac, &mlen, e) < 0)
        goto out;
    /* The message with its TSIG RR appended (ARCOUNT + 1). */
    put(&msg, wire, wlen);
    struct wbuf rd = { 0 };
    if (put_name(&msg, k->name, e) < 0 || put_name(&rd, k->algorithm, e) < 0) {
        free(rd.p);
        goto out;
    }
    put48(&rd, now);
    put16(&rd, TSIG_FUDGE);
    put16(&rd, mlen);
    put(&rd, mac, mlen);
    put(&rd, wire, 2);          /* original id */
    put16(&rd, 0);
    put16(&rd, 0);
    put16(&msg, TSIG_TYPE);
    put16(&msg, CLASS_ANY);
    put16(&msg, 0);
    put16(&msg, 0);
    put16(&msg, (unsigned)rd.len);
    put(&msg, rd.p, rd.len);
    free(rd.p);
    if (msg.oom || rd.oom) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    unsigned ar = (unsigned)(msg.p[10] << 8 | msg.p[11]) + 1;
    msg.p[10] = (uint8_t)(ar >> 8);
    msg.p[11] = (uint8_t)ar;

    if (!(ans = malloc(MAX_MSG))) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (udp_exchange(srv, msg.p, msg.len, ans, &alen, e) < 0)
        goto out;
    rc = dns_tsig_verify_reply(ans, alen, k, mac, mlen, sbuf, reply, e);
out:
    if (rc < 0) {
        ldns_pkt_free(*reply);
        *reply = NULL;
    }
    free(ans);
    free(in.p);
    free(msg.p);
    LDNS_FREE(wire);
    return rc;
}
