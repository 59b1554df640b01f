/* path_order_challenge.c: role/:name/order/:order_id/challenge (and the older spelling
 * .../challenges). What a client must publish for one identifier and challenge type. A
 * pending challenge's key authorization follows the account's current key (a forced
 * rotate-key changes it, RFC 8555 §8.1); once the CA validated it, it stays as it was, so
 * a completed order reads the same forever (Terraform re-reads it on every plan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../internal.h"
#include "order.h"

static const char *const challenge_types[] = { "http-01", "dns-01", "tls-alpn-01", NULL };

static const struct fw_field challenge_fields[] = {
    { .name = "name", .type = FW_TYPE_NAME, .required = true, .desc = "Name of the role." },
    { .name = "order_id", .type = FW_TYPE_STRING, .required = true, .desc = "The order id." },
    { .name = "identifier", .type = FW_TYPE_STRING, .required = true, .query = true,
      .desc = "The identifier (DNS name or IP address, any spelling) of the order to answer "
              "for." },
    { .name = "challenge_type", .type = FW_TYPE_STRING, .required = true, .query = true,
      .desc = "http-01, dns-01 or tls-alpn-01." },
    { 0 }
};

int order_pick_challenge(struct order *o, const struct fw_data *d, struct order_authz **az,
                         struct order_challenge **ch, struct err *e)
{
    const char *ident = fw_data_str(d, "identifier");
    const char *type = fw_data_str(d, "challenge_type");
    bool known = false;

    if (!ident[0])
        return err_set(e, ERR_INVALID, "identifier: required");
    if (!type[0])
        return err_set(e, ERR_INVALID, "challenge_type: required (http-01, dns-01 or tls-alpn-01)");
    for (size_t i = 0; challenge_types[i]; i++)
        known = known || strcmp(challenge_types[i], type) == 0;
    if (!known)
        return err_set(e, ERR_INVALID,
                       "challenge_type: %s is not one of http-01, dns-01, tls-alpn-01", type);
    if (o->n_authzs == 0) {
        return err_set(e, ERR_INVALID,
                       "order_id: order %s has no challenges yet (status %s); read its status "
                       "until it is awaiting-challenge-fulfillment", o->id,
                       order_status_name(o->status));
    }
    /* The authorizations carry A-labels; a user may ask with the U-label sent. */
    char *alabel = NULL;
    if (idn_to_alabel(ident, &alabel, e) < 0)
        return e->kind == ERR_INVALID ? err_wrap(e, "identifier") : -1;
    int i = order_find_authz(o, alabel);
    bool ip = ip_is_literal(alabel);
    free(alabel);
    if (i < 0)
        return err_set(e, ERR_INVALID, "identifier: %s is not an identifier of order %s",
                       ident, o->id);
    if (ip && strcmp(type, "dns-01") == 0)
        return err_set(e, ERR_INVALID, "challenge_type: dns-01 cannot validate the IP address "
                       "%s (RFC 8738: a DNS record proves control of a name, not of an "
                       "address); use http-01 or tls-alpn-01", ident);
    struct order_challenge *c = order_find_challenge(&o->authzs[i], type);
    if (!c)
        return err_set(e, ERR_INVALID, "challenge_type: the CA offers no %s challenge for %s",
                       type, ident);
    *az = &o->authzs[i];
    *ch = c;
    return 0;
}

/* "example.com" for both "example.com" and "*.example.com". */
static const char *base_name(const char *ident)
{
    return strncmp(ident, "*.", 2) == 0 ? ident + 2 : ident;
}

/* The spec-000 form of one challenge: token, key_authorization and what to publish. */
static cJSON *challenge_detail(const struct order_authz *a, const struct order_challenge *c)
{
    char buf[600];
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "type", c->type) &&
              cJSON_AddStringToObject(j, "url", c->url) &&
              cJSON_AddStringToObject(j, "token", c->token) &&
              cJSON_AddStringToObject(j, "status", c->status) &&
              cJSON_AddStringToObject(j, "key_authorization", c->key_auth);
    if (ok && strcmp(c->type, "http-01") == 0) {
        snprintf(buf, sizeof buf, "http://%s/.well-known/acme-challenge/%s",
                 base_name(a->identifier), c->token);
        ok = cJSON_AddStringToObject(j, "validation_url", buf) != NULL;
    } else if (ok && strcmp(c->type, "dns-01") == 0) {
        snprintf(buf, sizeof buf, "_acme-challenge.%s", base_name(a->identifier));
        ok = cJSON_AddStringToObject(j, "dns_record_name", buf) &&
             cJSON_AddStringToObject(j, "dns_record_value", c->dns_value);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static cJSON *challenge_reply(const struct order *o, const struct order_authz *a,
                              const struct order_challenge *c)
{
    char buf[600];
    cJSON *j = cJSON_CreateObject();
    cJSON *list = NULL, *az = NULL, *chs = NULL;
    bool ok = j && cJSON_AddStringToObject(j, "order_id", o->id) &&
              cJSON_AddStringToObject(j, "identifier", a->identifier) &&
              cJSON_AddStringToObject(j, "challenge_type", c->type) &&
              cJSON_AddStringToObject(j, "challenge_token", c->token) &&
              cJSON_AddStringToObject(j, "challenge_auth", c->key_auth) &&
              cJSON_AddStringToObject(j, "challenge_status", c->status) &&
              cJSON_AddStringToObject(j, "challenge_url", c->url) &&
              cJSON_AddStringToObject(j, "expires", order_time_str(a->expires, buf, sizeof buf));
    if (ok && strcmp(c->type, "dns-01") == 0) {
        snprintf(buf, sizeof buf, "_acme-challenge.%s", base_name(a->identifier));
        ok = cJSON_AddStringToObject(j, "dns_record_name", buf) &&
             cJSON_AddStringToObject(j, "dns_record_value", c->dns_value);
    } else if (ok && strcmp(c->type, "http-01") == 0) {
        snprintf(buf, sizeof buf, "http://%s/.well-known/acme-challenge/%s",
                 base_name(a->identifier), c->token);
        ok = cJSON_AddStringToObject(j, "validation_url", buf) != NULL;
    }
    ok = ok && (list = cJSON_AddArrayToObject(j, "authorizations")) &&
         (az = cJSON_CreateObject()) && cJSON_AddItemToArray(list, az);
    ok = ok && cJSON_AddStringToObject(az, "identifier", a->identifier) &&
         (chs = cJSON_AddArrayToObject(az, "challenges"));
    for (size_t i = 0; ok && i < a->n_challenges; i++) {
        cJSON *d = challenge_detail(a, &a->challenges[i]);
        ok = d && cJSON_AddItemToArray(chs, d);
        if (!ok)
            cJSON_Delete(d);
    }
    if (!ok) {
        if (!list)
            cJSON_Delete(az);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int challenge_read(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e)
{
    struct order *o = NULL;
    struct order_authz *a = NULL;
    struct order_challenge *c = NULL;
    if (order_load_req(req, d, &o, e) < 0)
        return -1;
    int rc = order_key_auths_current(req->backend, req->storage, o, e);
    if (rc == 0)
        rc = order_pick_challenge(o, d, &a, &c, e);
    if (rc == 0) {
        resp->data = challenge_reply(o, a, c);
        if (!resp->data)
            rc = err_set(e, ERR_INTERNAL, "challenge: out of memory");
    }
    order_free(o);
    return rc;
}

const struct fw_path path_order_challenge = {
    .pattern = ORDER_ROLE_RE "/order/(?<order_id>[^/]+)/challenges?",
    .fields = challenge_fields,
    .ops = {
        [FW_READ] = { challenge_read, "Read what to publish for a challenge." },
        /* The spec-000 sample sends the parameters as a body, which some clients POST. */
        [FW_UPDATE] = { challenge_read, "Read what to publish for a challenge." },
    },
    .synopsis = "The token and key authorization of one challenge of an order.",
    .description = "challenge_auth is the RFC 8555 key authorization (what http-01 serves); "
                   "for dns-01 the TXT record value is dns_record_value. A pending "
                   "challenge's values follow the account's current key (they change after "
                   "rotate-key force=true); a validated one keeps its value. identifier may "
                   "be the name as sent or its A-label.",
};
