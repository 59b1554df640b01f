/* test_dns_replies.c: the readers of DNS replies (src/dns), on the fuzzer's seed replies
 * (test/fuzz/seeds/make_dns_seeds.py): a TSIG-signed update reply verifies with its key and
 * fails with one MAC byte changed; an unsigned NOTAUTH reply names the TSIG fields; TXT
 * values, the SOA owner and glue addresses are read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dns/internal.h"

static const struct dns_tsig_key key = {
    "fuzz-key", "hmac-sha256", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
};

/* The seed file `name` (next to this source, whatever the working directory under it). */
static uint8_t *seed(const char *name, size_t *len)
{
    char path[1024];
    const char *src = __FILE__, *slash = strrchr(src, '/');
    snprintf(path, sizeof path, "%.*s/../fuzz/seeds/fuzz_dns_reply/%s",
             slash ? (int)(slash - src) : 1, slash ? src : ".", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static void verify(const uint8_t *w, size_t n, int want_rc, const char *want_msg)
{
    uint8_t mac[32];
    memset(mac, 0x11, sizeof mac);
    ldns_pkt *reply = NULL;
    struct err e = { 0 };
    int rc = dns_tsig_verify_reply(w, n, &key, mac, sizeof mac, "ns", &reply, &e);
    assert_int_equal(rc, want_rc);
    if (want_msg)
        assert_non_null(strstr(e.msg, want_msg));
    assert_true(rc == 0 ? reply != NULL : reply == NULL);
    ldns_pkt_free(reply);
}

static void test_tsig(void **state)
{
    size_t n;
    uint8_t *w = seed("tsig_update.bin", &n);
    verify(w, n, 0, NULL);
    w[n - 10] ^= 1;   /* inside the MAC (followed by id, error, other len) */
    verify(w, n, -1, "failed TSIG verification");
    verify(w, 11, -1, "malformed reply");
    free(w);
    w = seed("tsig_badsig.bin", &n);
    verify(w, n, -1, "refused the TSIG signature (NOTAUTH)");
    free(w);
}

static ldns_pkt *pkt(const char *name)
{
    size_t n;
    uint8_t *w = seed(name, &n);
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, w, n), LDNS_STATUS_OK);
    free(w);
    return p;
}

static void test_answers(void **state)
{
    ldns_pkt *p = pkt("txt.bin");
    assert_int_equal(dns_txt_has(p, "_acme-challenge.www.example.com.", "value-1"), 1);
    assert_int_equal(dns_txt_has(p, "_acme-challenge.www.example.com.", "parttwo"), 1);
    assert_int_equal(dns_txt_has(p, "_acme-challenge.www.example.com.", "part"), 0);
    ldns_pkt_free(p);
    char zone[300];
    p = pkt("soa.bin");
    assert_true(dns_soa_owner(p, zone, sizeof zone));
    assert_string_equal(zone, "example.com.");
    ldns_pkt_free(p);
    struct dns_server out[4];
    size_t found = 0;
    p = pkt("ns_glue.bin");
    dns_add_addresses(ldns_pkt_additional(p), out, 4, &found);
    dns_add_addresses(ldns_pkt_additional(p), out, 4, &found);   /* no duplicates */
    assert_int_equal(found, 2);
    assert_string_equal(out[0].host, "127.0.0.1");
    assert_int_equal(out[0].port, 53);
    assert_string_equal(out[1].host, "::1");
    ldns_pkt_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsig),
        cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
