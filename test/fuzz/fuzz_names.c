/* fuzz_names.c: DNS names from clients: punycode (both ways), IDNA canonicalisation of
 * identifiers and allowed_domains entries, the domain matcher, name checks. */
#include "fuzz_util.h"

#include "../../src/engine/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    struct err e = { 0 };
    uint32_t cp[256];
    size_t n = sizeof cp / sizeof cp[0];
    if (punycode_decode(s, size, cp, &n, &e) == 0) {
        char enc[1024];
        punycode_encode(cp, n, enc, sizeof enc, &e);
    }
    char *canon = NULL, *pat = NULL;
    if (policy_identifier_canon(s, &canon, &e) == 0) {
        policy_entry_allows("example.com", 0xff, canon);
        policy_entry_allows("*.example.com", 0xff, canon);
    }
    if (policy_name_canon(s, true, &pat, &e) == 0 && canon)
        policy_entry_allows(pat, 0xff, canon);
    const char *entries[] = { s };
    policy_check(entries, 1, 0xff, "www.example.com", &e);
    engine_name_check("name", s, &e);
    free(canon);
    free(pat);
    free(s);
    return 0;
}
