/* order_status.c: order status and workflow names. The API returns the hyphenated
 * spellings (the Terraform provider and Vault's UI match on them); the underscore
 * spellings of the older docs are accepted wherever a status is input. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "order.h"

static const char *const status_names[ORDER_STATUS_COUNT] = {
    [ORDER_NEW] = "new",
    [ORDER_SUBMITTED] = "submitted",
    [ORDER_AWAITING] = "awaiting-challenge-fulfillment",
    [ORDER_VAULT_FULFILLING] = "vault-challenge-fulfillment",
    [ORDER_VAULT_PROPAGATING] = "vault-challenge-propagating",
    [ORDER_NOTIFY] = "notify-acme-server-challenges-completed",
    [ORDER_PROCESSING] = "processing-challenge",
    [ORDER_FETCHING] = "fetching-certificate",
    [ORDER_COMPLETED] = "completed",
    [ORDER_EXPIRED] = "expired",
    [ORDER_REVOKED] = "revoked",
    [ORDER_ERROR] = "error",
};

const char *order_status_name(enum order_status s)
{
    if ((unsigned)s >= ORDER_STATUS_COUNT)
        return "error";
    return status_names[s];
}

/* Compares treating '_' and '-' as the same character, ignoring case. */
static bool status_name_eq(const char *want, const char *got)
{
    for (; *want && *got; want++, got++) {
        char a = *want == '_' ? '-' : *want;
        char b = *got == '_' ? '-' : *got;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return *want == '\0' && *got == '\0';
}

int order_status_parse(const char *name, enum order_status *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        if (status_name_eq(status_names[i], name)) {
            *out = (enum order_status)i;
            return 0;
        }
    }
    return -1;
}

bool order_status_terminal(enum order_status s)
{
    return s == ORDER_COMPLETED || s == ORDER_EXPIRED || s == ORDER_REVOKED ||
           s == ORDER_ERROR;
}

const char *order_workflow_name(enum order_workflow w)
{
    return w == ORDER_WF_CSR ? "csr" : "identifiers";
}

/* RFC 5280 CRLReason codes (7 is unused). */
static const struct { const char *name; int code; } revoke_reasons[] = {
    { "unspecified", 0 },         { "key_compromise", 1 },
    { "ca_compromise", 2 },       { "affiliation_changed", 3 },
    { "superseded", 4 },          { "cessation_of_operation", 5 },
    { "certificate_hold", 6 },    { "remove_from_crl", 8 },
    { "privilege_withdrawn", 9 }, { "aa_compromise", 10 },
};

int order_revoke_reason_parse(const char *name)
{
    char buf[64];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = name[i] == '-' ? '_' : name[i];
    for (size_t i = 0; i < sizeof revoke_reasons / sizeof revoke_reasons[0]; i++) {
        if (strcasecmp(revoke_reasons[i].name, buf) == 0)
            return revoke_reasons[i].code;
    }
    return -1;
}

const char *order_revoke_reason_name(int code)
{
    for (size_t i = 0; i < sizeof revoke_reasons / sizeof revoke_reasons[0]; i++) {
        if (revoke_reasons[i].code == code)
            return revoke_reasons[i].name;
    }
    return "unspecified";
}
