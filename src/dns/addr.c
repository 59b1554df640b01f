/* addr.c: DNS server addresses as operators write them ("IP", "IP:port", "[v6]:port",
 * "host", "host:port"). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static bool is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static bool is_hostname(const char *s)
{
    return dns_pattern_check("", s, NULL, NULL) == 0 && strncmp(s, "*.", 2) != 0;
}

int dns_server_parse(const char *field, const char *s, bool allow_host, struct dns_server *out,
                     struct err *e)
{
    char host[256];
    const char *port = NULL;
    size_t len = strlen(s);
    memset(out, 0, sizeof *out);
    if (len == 0 || len >= sizeof host)
        return err_set(e, ERR_INVALID, "%s: \"%.100s\" is not a server address (IP:port)",
                       field, s);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':'))
            return err_set(e, ERR_INVALID, "%s: \"%.100s\": write an IPv6 address with a port "
                           "as [addr]:port", field, s);
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(host, sizeof host, "%s", s);    /* a bare IPv6 address */
        } else {
            size_t hl = colon ? (size_t)(colon - s) : len;
            memcpy(host, s, hl);
            host[hl] = '\0';
            port = colon ? colon + 1 : NULL;
        }
    }
    if (!is_ip(host) && (!allow_host || !is_hostname(host)))
        return err_set(e, ERR_INVALID, "%s: \"%.100s\" is not %s", field, s,
                       allow_host ? "a host name or IP address, optionally with :port"
                                  : "an IP address, optionally with :port");
    long p = 53;
    if (port) {
        char *end = NULL;
        p = strtol(port, &end, 10);
        if (!port[0] || *end || p < 1 || p > 65535)
            return err_set(e, ERR_INVALID, "%s: \"%.100s\": the port must be 1-65535", field, s);
    }
    snprintf(out->host, sizeof out->host, "%s", host);
    out->port = (uint16_t)p;
    return 0;
}

const char *dns_server_str(const struct dns_server *s, char *buf, size_t cap)
{
    if (strchr(s->host, ':'))
        snprintf(buf, cap, "[%s]:%u", s->host, s->port);
    else
        snprintf(buf, cap, "%s:%u", s->host, s->port);
    return buf;
}
