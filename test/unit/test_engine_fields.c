/* test_engine_fields.c: rules every field of the engine's path table follows.
 * An enum field with a default takes "" as that default (the Terraform provider >= 5.9
 * sends "" for an attribute left out of the config, issue 9 item 2): the flag is set per
 * field in the tables, and this test keeps a new enum field from forgetting it. Fields whose
 * value set the handler checks (aliases, its own message) are listed by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../src/engine/internal.h"

/* Enum fields checked by their handler rather than by `allowed`. */
static const char *const handler_enums[] = { "certificate_format", "reason", NULL };

static bool is_handler_enum(const char *name)
{
    for (const char *const *n = handler_enums; *n; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}

static void test_enum_defaults_take_empty(void **state)
{
    const struct fw_path *const *tables[] = { account_paths, role_paths, order_paths };
    int failed = 0, enums = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (size_t i = 0; tables[t][i]; i++) {
            const struct fw_path *p = tables[t][i];
            for (const struct fw_field *f = p->fields; f && f->name; f++) {
                bool is_enum = f->allowed || is_handler_enum(f->name);
                if (!is_enum || !f->def || f->type != FW_TYPE_STRING)
                    continue;
                enums++;
                if (!f->empty_is_default) {
                    fprintf(stderr, "FAIL %s: field %s has a default but refuses \"\"\n",
                            p->pattern, f->name);
                    failed++;
                }
            }
        }
    }
    /* key_type x2, csr_generate_key_type, csr_identifier_population, certificate_format x2,
     * reason */
    assert_true(enums >= 7);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_defaults_take_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
