/* fuzz_acme_docs.c: a CA's reply body (and status, Content-Type) -> every ACME object
 * parser: directory, account, order, authorization, challenge, problem, identifier. */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "../../src/acme/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* first byte: the HTTP status to pretend */
    static const int statuses[] = { 200, 201, 400, 403, 404, 429, 500, 503 };
    int status = statuses[data[0] % 8];
    char *body = fuzz_cstr(data + 1, size - 1);
    if (!body)
        return 0;
    struct acme_http_resp r = { .status = status, .body = body, .body_len = size - 1,
                                .content_type = (char *)"application/json" };
    struct err e = { 0 };
    struct acme_account acct;
    if (acme_account_parse(&r, "https://ca.test/acct/1", &acct, &e) == 0)
        acme_account_clear(&acct);
    struct acme_authz az;
    if (acme_authz_parse(&r, "https://ca.test/authz/1", &az, &e) == 0) {
        acme_authz_challenge(&az, "dns-01");
        acme_authz_clear(&az);
    }
    struct acme_order o;
    if (acme_order_parse(&r, "https://ca.test/order/1", &o, &e) == 0)
        acme_order_clear(&o);
    struct acme_reply rep;
    memset(&rep, 0, sizeof rep);
    acme_problem_to_err(&r, "https://ca.test/x", &rep, &e);
    acme_reply_clear(&rep);
    struct acme_problem p;
    if (acme_problem_parse(body, size - 1, status, &p, &e) == 0)
        acme_problem_clear(&p);
    cJSON *root = cJSON_ParseWithLength(body, size - 1);
    if (cJSON_IsObject(root)) {
        struct acme_directory d;
        if (acme_directory_parse(root, &d) == 0)
            acme_directory_clear(&d);
        struct acme_challenge ch;
        memset(&ch, 0, sizeof ch);
        if (acme_challenge_from_json(root, 0, &ch) == 0)
            acme_challenge_clear(&ch);
        struct acme_identifier id;
        memset(&id, 0, sizeof id);
        if (acme_identifier_from_json(root, &id) == 0)
            free(id.value);
    }
    cJSON_Delete(root);
    free(body);
    return 0;
}
