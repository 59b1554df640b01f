/* fuzz_request_body.c: the request body as the host sends it -> fw_request_data_parse, then
 * every member through every field type's conversion and the text and PEM rules (the
 * framework's parsers of client input: Go-duration, int, bool, comma lists, maps). */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "../../src/framework/internal.h"

static const char *const pem_labels[] = { "CERTIFICATE", "PRIVATE KEY", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *body = NULL;
    struct err e = { 0 };
    if (fw_request_data_parse((const char *)data, size, &body, &e) != 0)
        return 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, body) {
        if (cJSON_IsNull(m))
            continue;
        for (enum fw_type t = FW_TYPE_STRING; t <= FW_TYPE_LOWERCASE_STRING; t++) {
            struct fw_value v = { 0 };
            if (fw_convert(t, m, &v, &e) == 0 && v.str) {
                fw_text_check(v.str, true, &e);
                fw_pem_check(v.str, pem_labels, &e);
            }
            fw_value_clear(&v);
        }
        if (cJSON_IsString(m)) {
            int64_t n;
            bool b;
            fw_parse_go_duration(m->valuestring, &n, &e);
            fw_parse_duration_seconds(m->valuestring, &n, &e);
            fw_parse_int(m->valuestring, &n, &e);
            fw_parse_bool(m->valuestring, &b, &e);
        }
    }
    cJSON_Delete(body);
    return 0;
}
