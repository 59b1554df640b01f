/* ipaddr.c: IP address identifiers (RFC 8738) and the CIDR ranges of a role's
 * allowed_ip_ranges. Addresses are kept in one text form everywhere (storage, replies,
 * lookups, the CA): dotted quad for IPv4, RFC 5952 for IPv6 (lower case, the longest run
 * of two or more zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d), which is what glibc's
 * inet_ntop writes. The two families never match each other: an IPv4-mapped IPv6 address
 * is an IPv6 identifier (it is one at the CA), inside ::ffff:0:0/96, not 10.0.0.0/8. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../internal.h"

bool ip_is_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The address in s (family, bytes); false when s is no address literal. */
static bool ip_bytes(const char *s, int *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, s, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        *family = AF_INET6;
        return true;
    }
    return false;
}

int ip_canon(const char *in, char *buf, size_t cap, struct err *e)
{
    int family;
    unsigned char addr[16];
    if (!ip_bytes(in, &family, addr))
        return err_set(e, ERR_INVALID, "\"%.64s\" is not an IP address", in);
    if (!inet_ntop(family, addr, buf, (socklen_t)cap))
        return err_set(e, ERR_INTERNAL, "ip address: buffer too small");
    return 0;
}

int ip_range_parse(const char *in, struct ip_range *out, struct err *e)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(in, '/');
    size_t hlen = slash ? (size_t)(slash - in) : strlen(in);
    memset(out, 0, sizeof *out);
    if (hlen == 0 || hlen >= sizeof host)
        return err_set(e, ERR_INVALID, "\"%.64s\" is not a CIDR range (address/prefix, such "
                       "as 10.0.0.0/8 or 2001:db8::/32)", in);
    memcpy(host, in, hlen);
    host[hlen] = '\0';
    if (!ip_bytes(host, &out->family, out->addr))
        return err_set(e, ERR_INVALID, "\"%.64s\" is not a CIDR range (address/prefix, such "
                       "as 10.0.0.0/8 or 2001:db8::/32)", in);
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;   /* a bare address is the range of itself */
    if (slash) {
        const char *p = slash + 1;
        unsigned v = 0;
        size_t digits = strspn(p, "0123456789");
        /* Digits only, no sign, no leading zero ("08"), at most three of them. */
        if (digits == 0 || digits > 3 || p[digits] != '\0' || (p[0] == '0' && digits > 1))
            return err_set(e, ERR_INVALID, "\"%.64s\": the prefix length must be a number "
                           "from 0 to %u", in, max);
        for (size_t i = 0; i < digits; i++)
            v = v * 10 + (unsigned)(p[i] - '0');
        if (v > max)
            return err_set(e, ERR_INVALID, "\"%.64s\": the prefix length must be a number "
                           "from 0 to %u", in, max);
        out->prefix = v;
    }
    /* Host bits set (10.0.0.5/8) are refused, not masked: silently widening what the
     * operator wrote to 10.0.0.0/8 would hide a typo in a security setting. */
    for (unsigned bit = out->prefix; bit < max; bit++) {
        if (out->addr[bit / 8] & (0x80u >> (bit % 8))) {
            struct ip_range net = *out;
            char canon[INET6_ADDRSTRLEN + 8];
            for (unsigned b = out->prefix; b < max; b++)
                net.addr[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
            ip_range_format(&net, canon, sizeof canon);
            return err_set(e, ERR_INVALID, "\"%.64s\" has bits set after the prefix (the "
                           "range is %s)", in, canon);
        }
    }
    return 0;
}

void ip_range_format(const struct ip_range *r, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (!inet_ntop(r->family, r->addr, host, sizeof host))
        host[0] = '\0';
    snprintf(buf, cap, "%s/%u", host, r->prefix);
}

bool ip_range_contains(const struct ip_range *r, const char *ip)
{
    int family;
    unsigned char addr[16];
    if (!ip_bytes(ip, &family, addr) || family != r->family)
        return false;
    unsigned full = r->prefix / 8, rest = r->prefix % 8;
    if (memcmp(addr, r->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (addr[full] & mask) == (r->addr[full] & mask);
}

bool ip_ranges_contain(char *const *ranges, const char *ip)
{
    for (size_t i = 0; ranges && ranges[i]; i++) {
        struct ip_range r;
        struct err ignored;
        /* Stored ranges were checked at role write; one that no longer parses allows
         * nothing. */
        if (ip_range_parse(ranges[i], &r, &ignored) == 0 && ip_range_contains(&r, ip))
            return true;
    }
    return false;
}
