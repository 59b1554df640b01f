/* fuzz_template.c: identity templates in allowed_domains ({{identity.entity.name}} ...):
 * the write-time check and the expansion against a fixed entity and groups. */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "../../src/engine/internal.h"

static const char entity_json[] =
    "{\"id\":\"e1\",\"name\":\"alice\",\"metadata\":{\"team\":\"web\",\"x\":\"\"},"
    "\"aliases\":[{\"id\":\"a1\",\"name\":\"alice@corp\",\"mount_accessor\":\"auth_1\","
    "\"metadata\":{\"k\":\"v\"}}],\"namespace_id\":\"root\"}";
static const char groups_json[] =
    "[{\"id\":\"g1\",\"name\":\"ops\",\"metadata\":{\"zone\":\"eu\"}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *entity, *groups;
    if (!entity) {
        entity = cJSON_Parse(entity_json);
        groups = cJSON_Parse(groups_json);
    }
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    struct err e = { 0 };
    char *out = NULL;
    template_has(s);
    template_check(s, &e);
    if (template_expand(s, entity, groups, &out, &e) == 0)
        free(out);
    free(s);
    return 0;
}
