/* test_acme_problem.c: RFC 8555 problem documents -> struct acme_problem, and HTTP error
 * responses -> struct err kinds and messages. No network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/acme/internal.h"

static const struct {
    const char *name, *json;
    int http;
    const char *type, *short_name, *detail;
    int status;
    size_t n_sub;
    const char *sub0_type, *sub0_id;
    enum acme_ident_type sub0_id_type;
} parse_cases[] = {
    { "rfc 8555 6.7.1 example",
      "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"Some of the identifiers "
      "requested were rejected\",\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:"
      "malformed\",\"detail\":\"Invalid underscore in DNS name \\\"_example.org\\\"\","
      "\"identifier\":{\"type\":\"dns\",\"value\":\"_example.org\"}},{\"type\":\"urn:ietf:"
      "params:acme:error:rejectedIdentifier\",\"detail\":\"This CA will not issue for "
      "\\\"example.net\\\"\",\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}]}",
      400, "urn:ietf:params:acme:error:malformed", "malformed",
      "Some of the identifiers requested were rejected", 400, 2,
      "urn:ietf:params:acme:error:malformed", "_example.org", ACME_IDENT_DNS },
    { "status member wins", "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"x\","
      "\"status\":400}", 503, "urn:ietf:params:acme:error:badNonce", "badNonce", "x", 400, 0,
      NULL, NULL, 0 },
    { "no type", "{\"detail\":\"boom\"}", 500, "about:blank", "about:blank", "boom", 500, 0,
      NULL, NULL, 0 },
    { "other namespace", "{\"type\":\"https://ca.example/problems/quota\"}", 403,
      "https://ca.example/problems/quota", "https://ca.example/problems/quota", NULL, 403, 0,
      NULL, NULL, 0 },
    { "ip subproblem", "{\"type\":\"urn:ietf:params:acme:error:compound\",\"subproblems\":"
      "[{\"type\":\"urn:ietf:params:acme:error:connection\",\"identifier\":{\"type\":\"ip\","
      "\"value\":\"10.0.0.1\"}}]}", 400, "urn:ietf:params:acme:error:compound", "compound",
      NULL, 400, 1, "urn:ietf:params:acme:error:connection", "10.0.0.1", ACME_IDENT_IP },
};

static const struct {
    const char *name;
    long status;
    const char *body;
    enum err_kind want_kind;
    const char *want_msg;   /* prefix */
} err_cases[] = {
    { "rejected identifier", 400, "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
      "\"detail\":\"no thanks\"}", ERR_UPSTREAM,
      "acme: urn:ietf:params:acme:error:rejectedIdentifier: no thanks" },
    { "rate limited", 429, "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":"
      "\"slow down\"}", ERR_RETRY, "acme: urn:ietf:params:acme:error:rateLimited: slow down" },
    { "bad nonce", 400, "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}", ERR_RETRY,
      "acme: urn:ietf:params:acme:error:badNonce: (no detail)" },
    { "server error", 500, "{\"type\":\"urn:ietf:params:acme:error:serverInternal\"}",
      ERR_RETRY, "acme: urn:ietf:params:acme:error:serverInternal" },
    { "html 502", 502, "<html>bad gateway</html>", ERR_RETRY, "acme: HTTP 502 from https://ca/x" },
    { "empty 403", 403, "", ERR_UPSTREAM, "acme: HTTP 403 from https://ca/x" },
    { "unauthorized", 403, "{\"type\":\"urn:ietf:params:acme:error:unauthorized\",\"detail\":"
      "\"no\",\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA\","
      "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}}]}", ERR_UPSTREAM,
      "acme: urn:ietf:params:acme:error:unauthorized: no (urn:ietf:params:acme:error:caa "
      "a.example: CAA)" },
};

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int main(void)
{
    int failed = 0;
    struct err e = { 0 };
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        struct acme_problem p = { 0 };
        const char *j = parse_cases[i].json;
        if (acme_problem_parse(j, strlen(j), parse_cases[i].http, &p, &e)) {
            fprintf(stderr, "FAIL parse %s: %s\n", parse_cases[i].name, e.msg);
            failed++;
            continue;
        }
        bool ok = streq(p.type, parse_cases[i].type) &&
                  !strcmp(acme_problem_name(&p), parse_cases[i].short_name) &&
                  streq(p.detail, parse_cases[i].detail) && p.status == parse_cases[i].status &&
                  p.n_subproblems == parse_cases[i].n_sub;
        if (ok && p.n_subproblems)
            ok = streq(p.subproblems[0].type, parse_cases[i].sub0_type) &&
                 p.subproblems[0].has_identifier &&
                 streq(p.subproblems[0].identifier.value, parse_cases[i].sub0_id) &&
                 p.subproblems[0].identifier.type == parse_cases[i].sub0_id_type;
        if (!ok) {
            char buf[512];
            fprintf(stderr, "FAIL parse %s: got %s (status %d, %zu sub)\n",
                    parse_cases[i].name, acme_problem_format(&p, buf, sizeof buf), p.status,
                    p.n_subproblems);
            failed++;
        }
        acme_problem_clear(&p);
        acme_problem_clear(&p);   /* clearing twice is safe */
    }
    struct acme_problem p = { 0 };
    if (acme_problem_parse("[1]", 3, 400, &p, &e) != -1 || e.kind != ERR_INVALID) {
        fprintf(stderr, "FAIL parse: a JSON array accepted\n");
        failed++;
    }
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        struct acme_http_resp r = { .status = err_cases[i].status,
                                    .body = (char *)err_cases[i].body,
                                    .body_len = strlen(err_cases[i].body), .retry_at = 42 };
        struct acme_reply rep = { 0 };
        err_clear(&e);
        int rc = acme_problem_to_err(&r, "https://ca/x", &rep, &e);
        if (rc != -1 || e.kind != err_cases[i].want_kind ||
            strncmp(e.msg, err_cases[i].want_msg, strlen(err_cases[i].want_msg)) ||
            rep.http_status != (int)err_cases[i].status || rep.retry_at != 42 ||
            !rep.problem.type) {
            fprintf(stderr, "FAIL err %s: kind %d msg \"%s\"\n", err_cases[i].name, e.kind,
                    e.msg);
            failed++;
        }
        acme_reply_clear(&rep);
        /* rep NULL is allowed and gives the same error. */
        struct err e2 = { 0 };
        acme_problem_to_err(&r, "https://ca/x", NULL, &e2);
        if (strcmp(e.msg, e2.msg) || e.kind != e2.kind) {
            fprintf(stderr, "FAIL err %s: differs without rep\n", err_cases[i].name);
            failed++;
        }
    }
    {
        /* A JSON problem under text/html (a proxy page) is not read as the CA's problem. */
        const char *body = "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}";
        struct acme_http_resp r = { .status = 502, .body = (char *)body,
                                    .body_len = strlen(body), .content_type = "text/html" };
        struct acme_reply rep = { 0 };
        err_clear(&e);
        acme_problem_to_err(&r, "https://ca/x", &rep, &e);
        if (!strstr(e.msg, "HTTP 502 from https://ca/x (Content-Type \"text/html\", not a "
                           "problem document)") ||
            strcmp(acme_problem_name(&rep.problem), "about:blank")) {
            fprintf(stderr, "FAIL err text/html problem: %s\n", e.msg);
            failed++;
        }
        acme_reply_clear(&rep);
        r.content_type = "application/problem+json; charset=utf-8";
        err_clear(&e);
        acme_problem_to_err(&r, "https://ca/x", &rep, &e);
        if (strcmp(acme_problem_name(&rep.problem), "badNonce")) {
            fprintf(stderr, "FAIL err problem+json with parameters not read: %s\n", e.msg);
            failed++;
        }
        acme_reply_clear(&rep);
    }
    printf("%s\n", failed ? "FAILED" : "ok");
    return failed != 0;
}
