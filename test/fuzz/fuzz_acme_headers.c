/* fuzz_acme_headers.c: header values from a CA: Link (every relation we read) and
 * Retry-After (delta-seconds or HTTP-date). */
#include "fuzz_util.h"

#include "../../src/acme/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = fuzz_cstr(data, size);
    if (!v)
        return 0;
    static const char *const rels[] = { "alternate", "up", "index" };
    for (size_t i = 0; i < 3; i++) {
        char **list = NULL;
        acme_link_parse(v, rels[i], &list);
        acme_strv_free(list);
    }
    acme_retry_after_parse(v, 1700000000);
    acme_time_parse(v);
    free(v);
    return 0;
}
