/* fuzz_dns_reply.c: DNS replies from a server we query or update (src/dns): the TSIG reply
 * check of an RFC 2136 update (dns_tsig_verify_reply: wire parse, locating the last RR,
 * the TSIG error and MAC), and the readers of answers: TXT at the challenge name, the SOA
 * owner (zone apex) and A/AAAA glue. Seeds: test/fuzz/seeds/make_dns_seeds.py (the
 * tsig_update seed verifies with the key below). */
#include "fuzz_util.h"

#include "../../src/dns/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct dns_tsig_key key = {
        "fuzz-key", "hmac-sha256", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
    };
    uint8_t req_mac[32];
    memset(req_mac, 0x11, sizeof req_mac);
    ldns_pkt *reply = NULL;
    struct err e = { 0 };
    if (dns_tsig_verify_reply(data, size, &key, req_mac, sizeof req_mac, "127.0.0.1:53",
                              &reply, &e) == 0)
        ldns_pkt_free(reply);

    ldns_pkt *p = NULL;
    if (ldns_wire2pkt(&p, data, size) != LDNS_STATUS_OK)
        return 0;
    char zone[300];
    struct dns_server out[8];
    size_t found = 0;
    dns_txt_has(p, "_acme-challenge.www.example.com.", "value-1");
    dns_soa_owner(p, zone, sizeof zone);
    dns_add_addresses(ldns_pkt_answer(p), out, 8, &found);
    dns_add_addresses(ldns_pkt_additional(p), out, 8, &found);
    ldns_pkt_free(p);
    return 0;
}
