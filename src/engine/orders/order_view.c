/* order_view.c: the order as the API shows it (status and lookup/order replies), and
 * finding an order's authorization and challenge by identifier and type.
 *
 * The reply is the union of the old (spec 000) and newest shapes: flat fields, the
 * `challenges` map (identifier -> list of objects whose values are all strings, as the
 * Terraform provider decodes them) and the older `authorizations` list. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "order.h"

/* Identifiers compare without case; "*.example.com" and the CA's "example.com" with
 * wildcard set are stored in the ordered form, so one comparison suffices. */
int order_find_authz(const struct order *o, const char *identifier)
{
    for (size_t i = 0; i < o->n_authzs; i++) {
        if (strcasecmp(o->authzs[i].identifier, identifier) == 0)
            return (int)i;
    }
    return -1;
}

struct order_challenge *order_find_challenge(struct order_authz *a, const char *type)
{
    for (size_t i = 0; i < a->n_challenges; i++) {
        if (strcmp(a->challenges[i].type, type) == 0)
            return &a->challenges[i];
    }
    return NULL;
}

static bool add_time(cJSON *j, const char *name, int64_t t)
{
    char buf[32];
    return cJSON_AddStringToObject(j, name, order_time_str(t, buf, sizeof buf)) != NULL;
}

static cJSON *string_array(char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* {"challenge_type","challenge_status","expires","requires_manual_fulfillment",
 *  "challenge_token","challenge_url"}: strings only (the provider's decoder insists). */
static cJSON *challenge_entry(const struct order_authz *a, const struct order_challenge *c)
{
    char buf[32];
    /* Vault fulfils the dns-01 challenge of an identifier a DNS provider serves. */
    bool automatic = a->dns_provider[0] && strcmp(c->type, "dns-01") == 0;
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "challenge_type", c->type) &&
              cJSON_AddStringToObject(j, "challenge_status", c->status) &&
              cJSON_AddStringToObject(j, "expires", order_time_str(a->expires, buf, sizeof buf)) &&
              cJSON_AddStringToObject(j, "requires_manual_fulfillment",
                                      automatic ? "false" : "true") &&
              cJSON_AddStringToObject(j, "challenge_token", c->token) &&
              cJSON_AddStringToObject(j, "challenge_url", c->url);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* The spec-000 entry: {"type","url","token","ready": bool}. */
static cJSON *authz_challenge_entry(const struct order_challenge *c)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "type", c->type) &&
              cJSON_AddStringToObject(j, "url", c->url) &&
              cJSON_AddStringToObject(j, "token", c->token) &&
              cJSON_AddStringToObject(j, "status", c->status) &&
              cJSON_AddBoolToObject(j, "ready", c->fulfilled || c->responded);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static bool add_challenges(cJSON *j, const struct order *o)
{
    cJSON *map = cJSON_AddObjectToObject(j, "challenges");
    cJSON *list = cJSON_AddArrayToObject(j, "authorizations");
    if (!map || !list)
        return false;
    for (size_t i = 0; i < o->n_authzs; i++) {
        const struct order_authz *a = &o->authzs[i];
        cJSON *entries = cJSON_AddArrayToObject(map, a->identifier);
        cJSON *az = cJSON_CreateObject();
        if (!entries || !az || !cJSON_AddItemToArray(list, az)) {
            cJSON_Delete(az);
            return false;
        }
        cJSON *azch = NULL;
        char buf[32];
        if (!cJSON_AddStringToObject(az, "identifier", a->identifier) ||
            !cJSON_AddStringToObject(az, "status", a->status) ||
            !cJSON_AddStringToObject(az, "expires", order_time_str(a->expires, buf, sizeof buf)) ||
            !(azch = cJSON_AddArrayToObject(az, "challenges")))
            return false;
        for (size_t k = 0; k < a->n_challenges; k++) {
            cJSON *c1 = challenge_entry(a, &a->challenges[k]);
            if (!c1 || !cJSON_AddItemToArray(entries, c1)) {
                cJSON_Delete(c1);
                return false;
            }
            cJSON *c2 = authz_challenge_entry(&a->challenges[k]);
            if (!c2 || !cJSON_AddItemToArray(azch, c2)) {
                cJSON_Delete(c2);
                return false;
            }
        }
    }
    return true;
}

char *const *order_shown_identifiers(const struct order *o)
{
    return o->requested ? o->requested : o->identifiers;
}

/* The fields every order reply starts with: identifiers (as sent), acme_identifiers (only
 * when some were sent as U-labels), order_id, order_status, workflow_type, role_name,
 * acme_profile. New
 * object, NULL when out of memory. */
static cJSON *view_head(const struct order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *ids = string_array(order_shown_identifiers(o), o->n_identifiers);
    if (!j || !ids || !cJSON_AddItemToObject(j, "identifiers", ids)) {
        cJSON_Delete(ids);
        cJSON_Delete(j);
        return NULL;
    }
    /* Unicode names: the A-labels the CA and the certificate carry, beside them. */
    cJSON *acme = o->requested ? string_array(o->identifiers, o->n_identifiers) : NULL;
    if (o->requested && (!acme || !cJSON_AddItemToObject(j, "acme_identifiers", acme))) {
        cJSON_Delete(acme);
        cJSON_Delete(j);
        return NULL;
    }
    if (!cJSON_AddStringToObject(j, "order_id", o->id) ||
        !cJSON_AddStringToObject(j, "order_status", order_status_name(o->status)) ||
        !cJSON_AddStringToObject(j, "workflow_type", order_workflow_name(o->workflow)) ||
        !cJSON_AddStringToObject(j, "role_name", o->role) ||
        /* The CA profile the order asked for ("": the CA's default). */
        !cJSON_AddStringToObject(j, "acme_profile", o->profile)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *order_view_created(const struct order *o)
{
    cJSON *j = view_head(o);
    if (!j)
        return NULL;
    if (!add_time(j, "creation_date", o->creation_date) ||
        !add_time(j, "next_work_date", o->next_work_date) ||
        !add_time(j, "expires", o->expires)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *order_view_status(const struct order *o)
{
    cJSON *j = view_head(o);
    if (!j)
        return NULL;
    bool ok = cJSON_AddStringToObject(j, "csr", o->csr) &&
              add_time(j, "creation_date", o->creation_date) &&
              add_time(j, "next_work_date", o->next_work_date) &&
              add_time(j, "last_update", o->last_update) &&
              add_time(j, "expires", o->expires) &&
              cJSON_AddStringToObject(j, "last_error", o->last_error) &&
              cJSON_AddStringToObject(j, "serial_number", o->serial) &&
              add_challenges(j, o);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
