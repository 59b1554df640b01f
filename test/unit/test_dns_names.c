/* test_dns_names.c: src/dns name handling: `identifiers` patterns (check and match, most
 * specific wins), dns-01 record names, server addresses. One table per function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"

static void test_pattern_check(void **state)
{
    static const struct { const char *in, *want; } good[] = {
        { "example.com", "example.com" }, { "Example.COM.", "example.com" },
        { "*.example.com", "*.example.com" }, { "_acme.example.com", "_acme.example.com" },
        { "a-b.example.com", "a-b.example.com" },
    };
    static const char *const bad[] = {
        "", ".", "exa mple.com", "a.*.example.com", "*example.com", "*.com", "-a.example.com",
        "a-.example.com", "a..example.com", "example.com/", "*",
    };
    struct err e;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *out = NULL;
        assert_int_equal(dns_pattern_check("identifiers", good[i].in, &out, &e), 0);
        assert_string_equal(out, good[i].want);
        free(out);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        if (dns_pattern_check("identifiers", bad[i], &out, &e) == 0)
            fail_msg("accepted bad pattern \"%s\"", bad[i]);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_non_null(strstr(e.msg, "identifiers"));
    }
}

static void test_pattern_match(void **state)
{
    static const struct { const char *pat, *name; bool match; } cases[] = {
        { "example.com", "example.com", true },
        { "example.com", "www.example.com", false },
        { "*.example.com", "www.example.com", true },
        { "*.example.com", "a.b.example.com", true },
        { "*.example.com", "example.com", false },
        { "*.example.com", "badexample.com", false },
        { "*.example.com", "www.example.org", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(dns_pattern_match(cases[i].pat, cases[i].name) > 0, cases[i].match);
    /* the most specific pattern scores highest: exact > longer wildcard > shorter wildcard */
    assert_true(dns_pattern_match("www.example.com", "www.example.com") >
                dns_pattern_match("*.example.com", "www.example.com"));
    assert_true(dns_pattern_match("*.sub.example.com", "a.sub.example.com") >
                dns_pattern_match("*.example.com", "a.sub.example.com"));
}

static void test_challenge_name(void **state)
{
    char buf[300];
    struct err e;
    assert_int_equal(dns_challenge_name("www.Example.com", buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "_acme-challenge.www.example.com.");
    assert_int_equal(dns_challenge_name("*.example.com", buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "_acme-challenge.example.com.");
    assert_int_equal(dns_challenge_name("example.com.", buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "_acme-challenge.example.com.");
}

static void test_server_parse(void **state)
{
    static const struct { const char *in; bool host; const char *host_want; int port; } good[] = {
        { "192.0.2.1", false, "192.0.2.1", 53 },
        { "192.0.2.1:5353", false, "192.0.2.1", 5353 },
        { "[2001:db8::1]:53", false, "2001:db8::1", 53 },
        { "2001:db8::1", false, "2001:db8::1", 53 },
        { "ns1.example.com", true, "ns1.example.com", 53 },
        { "ns1.example.com:8053", true, "ns1.example.com", 8053 },
    };
    static const struct { const char *in; bool host; } bad[] = {
        { "", true }, { "ns1.example.com", false }, { "192.0.2.1:0", false },
        { "192.0.2.1:65536", false }, { "192.0.2.1:", false }, { "[2001:db8::1]x", false },
        { "not an ip", true }, { "1.2.3.4:53x", false },
    };
    struct dns_server s;
    struct err e;
    char buf[300];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(dns_server_parse("nameserver", good[i].in, good[i].host, &s, &e), 0);
        assert_string_equal(s.host, good[i].host_want);
        assert_int_equal(s.port, good[i].port);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dns_server_parse("nameserver", bad[i].in, bad[i].host, &s, &e) == 0)
            fail_msg("accepted bad server \"%s\"", bad[i].in);
        assert_non_null(strstr(e.msg, "nameserver"));
    }
    assert_int_equal(dns_server_parse("n", "[::1]:5300", false, &s, &e), 0);
    assert_string_equal(dns_server_str(&s, buf, sizeof buf), "[::1]:5300");
}

static void test_provider_table(void **state)
{
    char names[100];
    assert_non_null(dns_provider_find("rfc2136"));
    assert_non_null(dns_provider_find("aws-route53"));
    assert_non_null(dns_provider_find("azure-dns"));
    assert_non_null(dns_provider_find("google-cloud-dns"));
    assert_non_null(dns_provider_find("cloudflare"));
    assert_null(dns_provider_find("google-cloud-dns-nope"));
    assert_string_equal(dns_provider_type_names(names, sizeof names),
                        "rfc2136, aws-route53, azure-dns, google-cloud-dns, cloudflare");
    for (size_t i = 0; dns_provider_types[i]; i++) {
        assert_non_null(dns_provider_types[i]->validate);
        assert_non_null(dns_provider_types[i]->publish);
        assert_non_null(dns_provider_types[i]->remove);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_check),  cmocka_unit_test(test_pattern_match),
        cmocka_unit_test(test_challenge_name), cmocka_unit_test(test_server_parse),
        cmocka_unit_test(test_provider_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
