/* test_engine_policy.c: the domain policy (src/engine/accounts/policy.c, template.c, punycode.c).
 * The first block of cases is the overview's matching table (spec 001, "Domain matching
 * behavior"), one row per allowed or forbidden identifier; the rest are IDN, wildcard,
 * case, trailing-dot, www and template cases. One table, one loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../src/engine/internal.h"

enum {
    BARE = ROLE_DOM_BARE, SUB = ROLE_DOM_SUBDOMAINS, WILD = ROLE_DOM_WILDCARDS,
    GLOB = ROLE_DOM_GLOBS
};

struct policy_case {
    const char *name;
    const char *allowed;   /* comma-separated allowed_domains */
    unsigned opts;
    const char *ident;
    bool want;
};

static const struct policy_case cases[] = {
    /* spec 001 table, row by row ("All" is exercised with representative names) */
    { "001 r1 *.example.com none: foo", "*.example.com", 0, "foo.example.com", false },
    { "001 r1 *.example.com none: bare", "*.example.com", 0, "example.com", false },
    { "001 r1 *.example.com none: wildcard", "*.example.com", 0, "*.example.com", false },
    /* r2 (its options cell is empty) and r5's note, "bare_domains does nothing": with no
     * option an entry allows exactly its own name, and nothing else */
    { "001 r2 foo.example.com none", "foo.example.com", 0, "foo.example.com", true },
    { "001 r2 foo.example.com none: parent", "foo.example.com", 0, "example.com", false },
    { "001 r2 foo.example.com none: child", "foo.example.com", 0, "a.foo.example.com", false },
    { "001 r2 foo.example.com none: wildcard", "foo.example.com", 0, "*.foo.example.com",
      false },
    { "001 r3 *.example.com bare: foo", "*.example.com", BARE, "foo.example.com", false },
    { "001 r3 *.example.com bare: bare", "*.example.com", BARE, "example.com", false },
    { "001 r3 *.example.com bare: wildcard", "*.example.com", BARE, "*.example.com", false },
    { "001 r4 example.com bare", "example.com", BARE, "example.com", true },
    { "001 r5 foo.example.com bare: allowed", "foo.example.com", BARE, "foo.example.com",
      true },
    { "001 r5 foo.example.com bare: parent", "foo.example.com", BARE, "example.com", false },
    { "001 r6 *.example.com wildcards: wildcard", "*.example.com", WILD, "*.example.com",
      true },
    { "001 r6 *.example.com wildcards: foo", "*.example.com", WILD, "foo.example.com", false },
    { "001 r7 bare,subdomains: bare", "example.com", BARE | SUB, "example.com", true },
    { "001 r7 bare,subdomains: foo", "example.com", BARE | SUB, "foo.example.com", true },
    { "001 r8 subdomains: foo", "example.com", SUB, "foo.example.com", true },
    { "001 r8 subdomains: bare", "example.com", SUB, "example.com", false },
    { "001 r9 globs: foo", "*.example.com", GLOB, "foo.example.com", true },
    { "001 r9 globs: baz.foo", "*.example.com", GLOB, "baz.foo.example.com", true },
    { "001 r9 globs: bare", "*.example.com", GLOB, "example.com", false },
    { "001 r9 globs: wildcard", "*.example.com", GLOB, "*.example.com", false },
    { "001 r10 globs,wildcards: foo", "*.example.com", GLOB | WILD, "foo.example.com", true },
    { "001 r10 globs,wildcards: baz.foo", "*.example.com", GLOB | WILD, "baz.foo.example.com",
      true },
    { "001 r10 globs,wildcards: *.", "*.example.com", GLOB | WILD, "*.example.com", true },
    { "001 r10 globs,wildcards: *.foo", "*.example.com", GLOB | WILD, "*.foo.example.com",
      true },
    { "001 r10 globs,wildcards: bare", "*.example.com", GLOB | WILD, "example.com", false },
    { "001 r11 punycode entry: unicode", "xn--rksmrgs-5wao1o.se", BARE, "räksmörgås.se",
      true },
    { "001 r11 punycode entry: punycode", "xn--rksmrgs-5wao1o.se", BARE,
      "xn--rksmrgs-5wao1o.se", true },
    { "001 r12 unicode entry: unicode", "räksmörgås.se", BARE, "räksmörgås.se", true },
    { "001 r12 unicode entry: punycode", "räksmörgås.se", BARE, "xn--rksmrgs-5wao1o.se",
      true },

    /* the exact match of no option, and what the other options do to it */
    { "no option: second entry", "a.example.com,b.example.com", 0, "b.example.com", true },
    { "no option: unicode entry", "räksmörgås.se", 0, "xn--rksmrgs-5wao1o.se", true },
    { "wildcards alone: entry itself refused", "example.com", WILD, "example.com", false },
    { "bare,wildcards: entry itself", "example.com", BARE | WILD, "example.com", true },

    /* overview prose examples */
    { "bare example: www listed", "example.com,www.example.com", BARE, "www.example.com",
      true },
    { "bare example: api refused", "example.com,www.example.com", BARE, "api.example.com",
      false },
    { "subdomains example: www", "example.com", SUB, "www.example.com", true },
    { "subdomains example: sub.sub", "example.com", SUB, "a.sub.example.com", true },
    { "wildcards www rule", "*.example.com", WILD, "www.example.com", true },
    { "wildcards: no grandchild wildcard", "*.example.com", WILD, "*.a.example.com", false },
    { "globs example: api.prod", "*.prod.example.com,*.staging.example.com", GLOB,
      "api.prod.example.com", true },
    { "globs example: web.staging", "*.prod.example.com,*.staging.example.com", GLOB,
      "web.staging.example.com", true },
    { "globs example: prod", "*.prod.example.com,*.staging.example.com", GLOB,
      "prod.example.com", false },
    { "glob in the middle", "api-*.example.com", GLOB, "api-eu.example.com", true },
    { "glob in the middle: other", "api-*.example.com", GLOB, "web-eu.example.com", false },

    /* label boundaries, case, trailing dots */
    { "suffix trick", "example.com", SUB, "badexample.com", false },
    { "suffix trick glob", "*.example.com", GLOB, "fooexample.com", false },
    { "upper-case identifier", "example.com", BARE, "EXAMPLE.Com", true },
    { "upper-case entry", "Example.COM", SUB, "www.example.com", true },
    { "trailing dot identifier", "example.com", BARE, "example.com.", true },
    { "trailing dot entry", "example.com.", BARE, "example.com", true },
    { "upper-case unicode", "räksmörgås.se", BARE, "RÄKSMÖRGÅS.SE", true },
    { "upper-case punycode", "räksmörgås.se", BARE, "XN--RKSMRGS-5WAO1O.SE", true },
    { "unicode subdomain", "xn--rksmrgs-5wao1o.se", SUB, "www.räksmörgås.se", true },

    /* wildcards */
    { "wildcard via subdomains", "example.com", SUB | WILD, "*.example.com", true },
    { "wildcard via subdomains deeper", "example.com", SUB | WILD, "*.a.example.com", true },
    { "wildcard needs wildcards", "example.com", SUB, "*.example.com", false },
    { "wildcard bare only", "example.com", BARE | WILD, "*.example.com", false },
    { "wildcard other domain", "example.com", SUB | WILD, "*.example.org", false },

    /* invalid identifiers are refused whatever the options */
    { "empty label", "example.com", BARE | SUB, "a..example.com", false },
    { "bad punycode", "example.com", SUB, "xn--zz9.example.com", false },
    { "punycode of upper case", "example.com", SUB, "xn--7ba.example.com", false },
    { "punycode of lower case", "example.com", SUB, "xn--4ca.example.com", true },
    { "leading hyphen", "example.com", SUB, "-a.example.com", false },
    { "underscore", "example.com", SUB, "a_b.example.com", false },
    { "space", "example.com", SUB, "a b.example.com", false },
    { "-- in 3/4", "example.com", SUB, "ab--c.example.com", false },
    { "label 64 long", "example.com", SUB,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", false },
    { "bad utf-8", "example.com", SUB, "\xc3(.example.com", false },
    { "star inside identifier", "*.example.com", GLOB | WILD, "a*.example.com", false },
    { "ip address", "*", GLOB, "192.0.2.1", false },
    { "ipv6 address", "*", GLOB, "2001:db8::1", false },
    { "empty identifier", "example.com", BARE, "", false },
    { "only a dot", "example.com", BARE, ".", false },
    { "no entries", "", BARE | SUB | WILD | GLOB, "example.com", false },
};

/* Splits "a,b" into a NULL-terminated array the policy takes. */
static char **split(const char *s, size_t *n)
{
    char **v = calloc(16, sizeof *v);
    char *copy = strdup(s), *save = NULL;
    *n = 0;
    for (char *t = strtok_r(copy, ",", &save); t && *n < 15; t = strtok_r(NULL, ",", &save))
        v[(*n)++] = strdup(t);
    free(copy);
    return v;
}

static void test_matching_table(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct policy_case *c = &cases[i];
        size_t n;
        char **entries = split(c->allowed, &n);
        struct err e = { 0 };
        bool got = policy_check((const char *const *)entries, n, c->opts, c->ident, &e) == 0;
        if (got != c->want) {
            fprintf(stderr, "FAIL %s: allowed=%s opts=%#x ident=%s -> %s (%s)\n", c->name,
                    c->allowed, c->opts, c->ident, got ? "allowed" : "refused", e.msg);
            failed++;
        }
        for (size_t k = 0; k < n; k++)
            free(entries[k]);
        free(entries);
    }
    assert_int_equal(failed, 0);
}

/* RFC 3492 section 7.1 samples, plus the overview's name. */
static void test_punycode(void **state)
{
    (void)state;
    static const struct { const char *name; uint32_t cp[32]; size_t n; const char *ace; }
    pc[] = {
        { "räksmörgås", { 'r', 0xe4, 'k', 's', 'm', 0xf6, 'r', 'g', 0xe5, 's' }, 10,
          "rksmrgs-5wao1o" },
        { "7.1 (A) arabic", { 0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643,
          0x0644, 0x0645, 0x0648, 0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F }, 17,
          "egbpdaj6bu4bxfgehfvwxn" },
        { "7.1 (B) chinese", { 0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D,
          0x6587 }, 9, "ihqwcrb4cv8a8dqg056pqjye" },
        { "7.1 (L) 3年B組金八先生", { 0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148,
          0x751F }, 8, "3B-ww4c5e180e575a65lsy2b" },
    };
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        char out[128];
        struct err e = { 0 };
        assert_int_equal(punycode_encode(pc[i].cp, pc[i].n, out, sizeof out, &e), 0);
        if (strcmp(out, pc[i].ace) != 0)
            fprintf(stderr, "FAIL punycode %s: %s\n", pc[i].name, out);
        assert_string_equal(out, pc[i].ace);
        uint32_t back[64];
        size_t n = 64;
        assert_int_equal(punycode_decode(pc[i].ace, strlen(pc[i].ace), back, &n, &e), 0);
        assert_int_equal(n, pc[i].n);
        assert_memory_equal(back, pc[i].cp, n * sizeof back[0]);
    }
}

/* Identity templating: one entity, two groups; every placeholder form, and denials. */
static void test_templates(void **state)
{
    (void)state;
    cJSON *entity = cJSON_Parse("{\"id\":\"ent-1\",\"name\":\"alice\",\"metadata\":"
                                "{\"team\":\"blue\",\"bad\":\"*\"},\"aliases\":[{\"id\":"
                                "\"al-1\",\"name\":\"alice-gh\",\"mount_accessor\":"
                                "\"auth_gh_1\",\"metadata\":{\"org\":\"acme\"}}]}");
    cJSON *groups = cJSON_Parse("[{\"id\":\"g-1\",\"name\":\"ops\",\"metadata\":{\"zone\":"
                                "\"eu\"}},{\"id\":\"g-2\",\"name\":\"dev\"}]");
    static const struct { const char *tmpl; const char *want; } tc[] = {
        { "{{identity.entity.name}}.users.example.com", "alice.users.example.com" },
        { "{{ identity.entity.name }}.users.example.com", "alice.users.example.com" },
        { "{{identity.entity.id}}.example.com", "ent-1.example.com" },
        { "{{identity.entity.metadata.team}}.example.com", "blue.example.com" },
        { "{{identity.entity.aliases.auth_gh_1.name}}.example.com", "alice-gh.example.com" },
        { "{{identity.entity.aliases.auth_gh_1.metadata.org}}.example.com", "acme.example.com" },
        { "{{identity.groups.names.ops}}.example.com", "ops.example.com" },
        { "{{identity.groups.names.ops.id}}.example.com", "g-1.example.com" },
        { "{{identity.groups.names.ops.metadata.zone}}.example.com", "eu.example.com" },
        { "{{identity.groups.ids.g-2.name}}.example.com", "dev.example.com" },
        { "a.{{identity.entity.name}}.{{identity.entity.metadata.team}}.com", "a.alice.blue.com" },
        /* unresolvable: denied (NULL) */
        { "{{identity.entity.metadata.missing}}.example.com", NULL },
        { "{{identity.groups.names.admins}}.example.com", NULL },
        { "{{identity.entity.metadata.bad}}.example.com", NULL },
        { "{{identity.entity.aliases.nope.name}}.example.com", NULL },
        { "{{identity.entity.name.example.com", NULL },
        { "{{something.else}}.example.com", NULL },
    };
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        char *out = NULL;
        struct err e = { 0 };
        int rc = template_expand(tc[i].tmpl, entity, groups, &out, &e);
        if (tc[i].want) {
            if (rc != 0)
                fprintf(stderr, "FAIL template %s: %s\n", tc[i].tmpl, e.msg);
            assert_int_equal(rc, 0);
            assert_string_equal(out, tc[i].want);
        } else {
            if (rc == 0)
                fprintf(stderr, "FAIL template %s: expanded to %s\n", tc[i].tmpl, out);
            assert_int_equal(rc, -1);
        }
        free(out);
    }
    /* no entity (e.g. a root token): every template denies */
    char *out = NULL;
    struct err e = { 0 };
    assert_int_equal(template_expand("{{identity.entity.name}}.x.com", NULL, NULL, &out, &e),
                     -1);
    /* write-time syntax check */
    assert_int_equal(template_check("{{identity.entity.name}}.example.com", &e), 0);
    assert_int_equal(template_check("{{identity.entity.name.example.com", &e), -1);
    assert_int_equal(template_check("{{foo}}.example.com", &e), -1);
    cJSON_Delete(entity);
    cJSON_Delete(groups);
}

/* role_check_identifiers end to end with a fake SystemView: alice gets her own name,
 * bob's name is refused; with no entity the template entry allows nothing. */
static int fake_entity(void *ctx, const char *id, cJSON **entity, struct err *e)
{
    (void)ctx;
    (void)e;
    *entity = strcmp(id, "ent-alice") == 0 ? cJSON_Parse("{\"id\":\"ent-alice\",\"name\":"
                                                         "\"alice\"}") : NULL;
    return 0;
}

static int fake_groups(void *ctx, const char *id, cJSON **groups, struct err *e)
{
    (void)ctx;
    (void)id;
    (void)e;
    *groups = cJSON_CreateArray();
    return 0;
}

static void test_role_templates(void **state)
{
    (void)state;
    struct fw_sysview sv = { .entity_info = fake_entity, .groups_for_entity = fake_groups };
    char *domains[] = { "{{identity.entity.name}}.users.example.com", NULL };
    char *types[] = { "http-01", "dns-01", NULL };
    struct role r = { .name = "user-certs", .allowed_domains = domains,
                      .domain_opts = ROLE_DOM_BARE, .allowed_challenge_types = types };
    struct fw_req req = { .sysview = &sv, .entity_id = "ent-alice" };
    struct err e = { 0 };
    const char *alice[] = { "alice.users.example.com" };
    const char *bob[] = { "bob.users.example.com" };
    assert_int_equal(role_check_identifiers(&r, &req, alice, 1, &e), 0);
    assert_int_equal(role_check_identifiers(&r, &req, bob, 1, &e), -1);
    assert_non_null(strstr(e.msg, "identifiers: bob.users.example.com"));
    req.entity_id = "";
    assert_int_equal(role_check_identifiers(&r, &req, alice, 1, &e), -1);
    req.entity_id = "ent-unknown";
    assert_int_equal(role_check_identifiers(&r, &req, alice, 1, &e), -1);
    assert_int_equal(role_check_challenge_type(&r, "dns-01", &e), 0);
    assert_int_equal(role_check_challenge_type(&r, "tls-alpn-01", &e), -1);
    assert_non_null(strstr(e.msg, "challenge_type"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching_table),
        cmocka_unit_test(test_punycode),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_role_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
