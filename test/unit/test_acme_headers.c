/* test_acme_headers.c: Link and Retry-After header parsing, RFC 3339 times, statuses,
 * dns-01 record names, ARI ids (RFC 9773 example). No network. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/acme/internal.h"

static const struct {
    const char *name, *value, *rel;
    const char *want[3];
} link_cases[] = {
    { "one alternate", "<https://ca/cert/1/alt/1>;rel=\"alternate\"", "alternate",
      { "https://ca/cert/1/alt/1" } },
    { "spaces, unquoted", "<https://ca/a> ; rel=alternate", "alternate", { "https://ca/a" } },
    { "two in one header", "<https://ca/a>;rel=\"alternate\", <https://ca/b>;rel=\"alternate\"",
      "alternate", { "https://ca/a", "https://ca/b" } },
    { "other rel skipped", "<https://ca/dir>;rel=\"index\", <https://ca/a>;rel=\"alternate\"",
      "alternate", { "https://ca/a" } },
    { "index", "<https://ca/dir>;rel=\"index\"", "index", { "https://ca/dir" } },
    { "up", "<https://ca/authz/1>;rel=\"up\"", "up", { "https://ca/authz/1" } },
    { "multi-valued rel", "<https://ca/a>;rel=\"index alternate\"", "alternate",
      { "https://ca/a" } },
    { "case-insensitive", "<https://ca/a>; REL=\"Alternate\"", "alternate", { "https://ca/a" } },
    { "comma in quoted param", "<https://ca/a>;title=\"x, y\";rel=\"alternate\"", "alternate",
      { "https://ca/a" } },
    { "prefix of rel", "<https://ca/a>;rel=\"alternates\"", "alternate", { NULL } },
    { "no rel", "<https://ca/a>", "alternate", { NULL } },
    { "garbage", "no angle brackets", "alternate", { NULL } },
    { "empty", "", "alternate", { NULL } },
};

static const struct {
    const char *name, *value;
    time_t now, want;
} retry_cases[] = {
    { "seconds", "120", 1000, 1120 },
    { "zero", "0", 1000, 1000 },
    { "spaces", "  30 ", 1000, 1030 },
    { "imf date", "Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777 },
    { "negative", "-5", 1000, 0 },
    { "junk", "soon", 1000, 0 },
    { "trailing junk", "10s", 1000, 0 },
    { "absurd", "999999999999", 1000, 0 },
    { "null", NULL, 1000, 0 },
};

static const struct {
    const char *name, *s;
    time_t want;
} time_cases[] = {
    { "zulu", "2026-01-02T15:04:05Z", 1767366245 },
    { "fraction", "2026-01-02T15:04:05.123456789Z", 1767366245 },
    { "offset", "2026-01-02T16:04:05+01:00", 1767366245 },
    { "negative offset", "2026-01-02T10:04:05-05:00", 1767366245 },
    { "lower t and z", "2026-01-02t15:04:05z", 1767366245 },
    { "no zone", "2026-01-02T15:04:05", 0 },
    { "date only", "2026-01-02", 0 },
    { "empty", "", 0 },
    /* fuzz_acme_headers crash (heap-buffer-overflow): a short offset read past the end */
    { "short offset", "2-1-02T15:4:0-4:23", 0 },
    { "short offset, full date", "2026-01-02T15:04:05-4:23", 0 },
    { "one-digit fields", "2026-1-2T15:04:05Z", 0 },
    { "month 13", "2026-13-02T15:04:05Z", 0 },
};

/* Content-Type media types: parameters and case pass, other types and prefixes do not. */
static const struct {
    const char *value, *want;
    bool match;
} type_cases[] = {
    { "application/json", "application/json", true },
    { "application/json; charset=utf-8", "application/json", true },
    { "Application/JSON;charset=UTF-8", "application/json", true },
    { "  application/json  ; q=1", "application/json", true },
    { "application/problem+json", "application/problem+json", true },
    { "application/pem-certificate-chain", "application/pem-certificate-chain", true },
    { "text/html", "application/json", false },
    { "application/jsonx", "application/json", false },
    { "application/problem+json", "application/json", false },
    { "application/js", "application/json", false },
    { "", "application/json", false },
    { NULL, "application/json", false },
};

int main(void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof type_cases / sizeof type_cases[0]; i++) {
        if (acme_media_type_is(type_cases[i].value, type_cases[i].want) != type_cases[i].match) {
            fprintf(stderr, "FAIL content type \"%s\" vs %s\n",
                    type_cases[i].value ? type_cases[i].value : "(none)", type_cases[i].want);
            failed++;
        }
    }
    {
        struct acme_http_resp r = { .content_type = "text/html; charset=\x01x",
                                    .url = "https://ca/order/1" };
        struct err e = { 0 };
        if (acme_http_expect_type(&r, "application/json", "order", &e) != -1 ||
            e.kind != ERR_UPSTREAM || !strstr(e.msg, "https://ca/order/1") ||
            !strstr(e.msg, "\"text/html; charset=?x\" where RFC 8555 requires "
                           "application/json")) {
            fprintf(stderr, "FAIL expect_type message: %s\n", e.msg);
            failed++;
        }
        r.content_type = NULL;
        if (acme_http_expect_type(&r, "application/json", "order", &e) != -1 ||
            !strstr(e.msg, "no Content-Type")) {
            fprintf(stderr, "FAIL expect_type without a type: %s\n", e.msg);
            failed++;
        }
    }
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        char **got = NULL;
        if (acme_link_parse(link_cases[i].value, link_cases[i].rel, &got) || !got) {
            fprintf(stderr, "FAIL link %s: error\n", link_cases[i].name);
            failed++;
            continue;
        }
        for (size_t j = 0; j < 3; j++) {
            const char *w = link_cases[i].want[j], *g = got[j];
            if ((w == NULL) != (g == NULL) || (w && strcmp(w, g))) {
                fprintf(stderr, "FAIL link %s [%zu]: want %s, got %s\n", link_cases[i].name, j,
                        w ? w : "(end)", g ? g : "(end)");
                failed++;
                break;
            }
            if (!w)
                break;
        }
        acme_strv_free(got);
    }
    for (size_t i = 0; i < sizeof retry_cases / sizeof retry_cases[0]; i++) {
        time_t got = acme_retry_after_parse(retry_cases[i].value, retry_cases[i].now);
        if (got != retry_cases[i].want) {
            fprintf(stderr, "FAIL retry-after %s: want %lld, got %lld\n", retry_cases[i].name,
                    (long long)retry_cases[i].want, (long long)got);
            failed++;
        }
    }
    for (size_t i = 0; i < sizeof time_cases / sizeof time_cases[0]; i++) {
        time_t got = acme_time_parse(time_cases[i].s);
        if (got != time_cases[i].want) {
            fprintf(stderr, "FAIL time %s: want %lld, got %lld\n", time_cases[i].name,
                    (long long)time_cases[i].want, (long long)got);
            failed++;
        }
    }
    char buf[32];
    acme_time_format(1767366245, buf);
    if (strcmp(buf, "2026-01-02T15:04:05Z")) {
        fprintf(stderr, "FAIL time format: %s\n", buf);
        failed++;
    }
    /* Statuses round-trip; unknown text maps to UNKNOWN. */
    for (int s = ACME_STATUS_PENDING; s <= ACME_STATUS_REVOKED; s++)
        if (acme_status_parse(acme_status_name((enum acme_status)s)) != (enum acme_status)s) {
            fprintf(stderr, "FAIL status %d\n", s);
            failed++;
        }
    if (acme_status_parse("Valid") != ACME_STATUS_UNKNOWN || acme_status_parse(NULL) != 0) {
        fprintf(stderr, "FAIL status: case or NULL\n");
        failed++;
    }
    /* dns-01 record names: the wildcard label is dropped (RFC 8555 8.4). */
    char *n1 = acme_dns01_record_name("*.example.com"), *n2 = acme_dns01_record_name("a.b");
    if (strcmp(n1, "_acme-challenge.example.com") || strcmp(n2, "_acme-challenge.a.b")) {
        fprintf(stderr, "FAIL dns01 names: %s %s\n", n1, n2);
        failed++;
    }
    free(n1);
    free(n2);
    /* RFC 9773 section 4.1 example. */
    char *id = acme_ari_id_from_hex("69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4",
                                    "00:87:65:43:21");
    if (!id || strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")) {
        fprintf(stderr, "FAIL ari id (leading zero kept): %s\n", id ? id : "NULL");
        failed++;
    }
    free(id);
    /* Vault-style serial without the DER sign byte: the zero is added back. */
    id = acme_ari_id_from_hex("69:88:5b:6b:87:46:40:41:e1:b3:7b:84:7b:a0:ae:2c:de:01:c8:d4",
                              "87:65:43:21");
    if (!id || strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")) {
        fprintf(stderr, "FAIL ari id (zero added): %s\n", id ? id : "NULL");
        failed++;
    }
    free(id);
    printf("%s\n", failed ? "FAILED" : "ok");
    return failed != 0;
}
