/* test_engine_ipaddr.c: IP identifiers and allowed_ip_ranges (issue 14 §2): canonical text
 * (RFC 5952 for IPv6), CIDR parsing (bare addresses, bad prefixes, host bits), containment
 * across prefix lengths and families, and identifiers canonicalised on their way into
 * orders (idn_to_alabel) and the role's IP policy (role_check_identifiers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "../../src/engine/internal.h"

static void expect_canon(const char *in, const char *want)
{
    struct err e = { 0 };
    char buf[INET6_ADDRSTRLEN];
    if (ip_canon(in, buf, sizeof buf, &e) < 0)
        fail_msg("%s: %s", in, e.msg);
    assert_string_equal(buf, want);
    /* the identifier path gives the same text */
    char *alabel = NULL;
    if (idn_to_alabel(in, &alabel, &e) < 0)
        fail_msg("%s: %s", in, e.msg);
    assert_string_equal(alabel, want);
    free(alabel);
}

static void test_canonical_addresses(void **state)
{
    expect_canon("127.0.0.1", "127.0.0.1");
    expect_canon("::1", "::1");
    expect_canon("0:0:0:0:0:0:0:1", "::1");
    expect_canon("2001:DB8::1", "2001:db8::1");                     /* §4.3 lower case */
    expect_canon("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");  /* §4.1 zeros */
    expect_canon("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");      /* §4.2.3 first run */
    expect_canon("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");   /* §4.2.2 one group */
    expect_canon("2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0");        /* §4.2.3 longest */
    expect_canon("::ffff:10.0.0.1", "::ffff:10.0.0.1");             /* §5 mapped */
    expect_canon("::FFFF:a00:1", "::ffff:10.0.0.1");
    assert_true(ip_is_literal("10.0.0.1"));
    assert_true(ip_is_literal("fe80::1"));
    assert_false(ip_is_literal("fe80::1%eth0"));   /* zones are no identifiers */
    assert_false(ip_is_literal("[::1]"));
    assert_false(ip_is_literal("010.0.0.1"));      /* leading zero: octal in some parsers */
    assert_false(ip_is_literal("10.0.0"));
    assert_false(ip_is_literal("example.com"));
    assert_false(ip_is_literal("1.2.3.4/32"));
    struct err e = { 0 };
    char buf[INET6_ADDRSTRLEN];
    assert_int_equal(ip_canon("example.com", buf, sizeof buf, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    /* names stay as given */
    char *alabel = NULL;
    assert_int_equal(idn_to_alabel("Example.COM", &alabel, &e), 0);
    assert_string_equal(alabel, "Example.COM");
    free(alabel);
}

static void expect_range(const char *in, const char *want)
{
    struct err e = { 0 };
    struct ip_range r;
    char buf[INET6_ADDRSTRLEN + 8];
    if (ip_range_parse(in, &r, &e) < 0)
        fail_msg("%s: %s", in, e.msg);
    ip_range_format(&r, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void expect_bad_range(const char *in, const char *says)
{
    struct err e = { 0 };
    struct ip_range r;
    assert_int_equal(ip_range_parse(in, &r, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    if (!strstr(e.msg, says))
        fail_msg("%s: \"%s\" does not say \"%s\"", in, e.msg, says);
}

static void test_range_parse(void **state)
{
    expect_range("10.0.0.0/8", "10.0.0.0/8");
    expect_range("127.0.0.1", "127.0.0.1/32");
    expect_range("0.0.0.0/0", "0.0.0.0/0");
    expect_range("192.168.1.128/25", "192.168.1.128/25");
    expect_range("2001:DB8:0::/32", "2001:db8::/32");
    expect_range("::1", "::1/128");
    expect_range("::/0", "::/0");
    expect_range("fd00::/8", "fd00::/8");
    expect_range("::ffff:0:0/96", "::ffff:0.0.0.0/96");
    expect_bad_range("", "not a CIDR range");
    expect_bad_range("/8", "not a CIDR range");
    expect_bad_range("10.0.0.0/", "prefix length");
    expect_bad_range("10.0.0.0/33", "from 0 to 32");
    expect_bad_range("2001:db8::/129", "from 0 to 128");
    expect_bad_range("10.0.0.0/08", "prefix length");
    expect_bad_range("10.0.0.0/+8", "prefix length");
    expect_bad_range("10.0.0.0/8/8", "prefix length");
    expect_bad_range("10.0.0.0/1000", "prefix length");
    expect_bad_range("10.0.0.0/ 8", "prefix length");
    expect_bad_range("example.com/8", "not a CIDR range");
    expect_bad_range("10.0.0/8", "not a CIDR range");
    expect_bad_range("fe80::1%eth0/64", "not a CIDR range");
    expect_bad_range("10.0.0.5/8", "the range is 10.0.0.0/8");
    expect_bad_range("2001:db8::1/32", "the range is 2001:db8::/32");
    expect_bad_range("192.168.1.129/25", "the range is 192.168.1.128/25");
}

static void test_range_contains(void **state)
{
    struct err e = { 0 };
    struct ip_range r;
    assert_int_equal(ip_range_parse("192.168.1.128/25", &r, &e), 0);
    assert_true(ip_range_contains(&r, "192.168.1.128"));
    assert_true(ip_range_contains(&r, "192.168.1.255"));
    assert_false(ip_range_contains(&r, "192.168.1.127"));
    assert_false(ip_range_contains(&r, "192.168.2.128"));
    assert_false(ip_range_contains(&r, "::ffff:192.168.1.200"));   /* other family */
    assert_false(ip_range_contains(&r, "example.com"));
    assert_int_equal(ip_range_parse("0.0.0.0/0", &r, &e), 0);
    assert_true(ip_range_contains(&r, "255.255.255.255"));
    assert_false(ip_range_contains(&r, "::"));
    assert_int_equal(ip_range_parse("2001:db8::/33", &r, &e), 0);
    assert_true(ip_range_contains(&r, "2001:db8:7fff::1"));
    assert_false(ip_range_contains(&r, "2001:db8:8000::1"));
    assert_true(ip_range_contains(&r, "2001:DB8::"));
    assert_int_equal(ip_range_parse("::1", &r, &e), 0);
    assert_true(ip_range_contains(&r, "0:0::1"));
    assert_false(ip_range_contains(&r, "::2"));
    char *list[] = { "10.0.0.0/8", "not a range", "::1/128", NULL };
    assert_true(ip_ranges_contain(list, "10.1.2.3"));
    assert_true(ip_ranges_contain(list, "::1"));
    assert_false(ip_ranges_contain(list, "11.0.0.1"));
    assert_false(ip_ranges_contain(NULL, "10.0.0.1"));
}

static void test_role_policy(void **state)
{
    char *domains[] = { "example.com", NULL };
    char *types[] = { "http-01", NULL };
    char *none[] = { NULL };
    char *ranges[] = { "127.0.0.0/8", "::1/128", NULL };
    struct role r = { .name = "web", .allowed_domains = domains, .allowed_challenge_types = types,
                      .allowed_ip_ranges = none };
    struct fw_req req = { 0 };
    struct err e = { 0 };
    const char *ip4[] = { "127.0.0.1" };
    const char *mixed[] = { "example.com", "::1" };
    const char *outside[] = { "10.0.0.1" };
    /* no ranges: refused, naming the field */
    assert_int_equal(role_check_identifiers(&r, &req, ip4, 1, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_non_null(strstr(e.msg, "allowed_ip_ranges"));
    r.allowed_ip_ranges = ranges;
    assert_int_equal(role_check_identifiers(&r, &req, ip4, 1, &e), 0);
    assert_int_equal(role_check_identifiers(&r, &req, mixed, 2, &e), 0);
    assert_int_equal(role_check_identifiers(&r, &req, outside, 1, &e), -1);
    assert_non_null(strstr(e.msg, "not inside the allowed_ip_ranges"));
    /* allowed_domains never admits an address, even a glob of everything */
    char *all[] = { "*", NULL };
    r.allowed_domains = all;
    r.domain_opts = ROLE_DOM_GLOBS;
    assert_int_equal(role_check_identifiers(&r, &req, outside, 1, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_addresses),
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_range_contains),
        cmocka_unit_test(test_role_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
