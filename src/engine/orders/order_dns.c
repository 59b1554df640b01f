/* order_dns.c: the order steps of Vault-managed dns-01. order_advance.c calls them:
 *
 *   pending at the CA   order_dns_plan picks a provider per identifier; when one of them
 *                       still needs its record: vault-challenge-fulfillment
 *   fulfillment         order_dns_publish: each record tracked (dns_record.c), then sent
 *   propagating         order_dns_check: provider in sync, then the record visible on the
 *                       servers that answer for the zone; first look at once, then backing
 *                       off (0.5 s doubling to 15 s) through next_work_date, never sleeping;
 *                       past propagation_timeout the order ends in error and the CA is not
 *                       told. Once all are visible the dns-01 challenges count as fulfilled
 *                       and the usual notify step reports them to the CA
 *   afterwards          order_dns_cleanup removes each record once its authorization is no
 *                       longer pending, and all of them when the order ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "dns.h"
#include "../internal.h"
#include "log.h"
#include "order.h"

static const int64_t POLL_FIRST_MS = 500, POLL_MAX_MS = 15000;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct order_challenge *dns_challenge(struct order_authz *a)
{
    return order_find_challenge(a, "dns-01");
}

int order_dns_plan(struct fw_storage *s, struct order *o, bool *changed, struct err *e)
{
    struct role *r = NULL;
    struct err le;
    bool loaded = false, dns_allowed = true;
    int rc = 0;
    *changed = false;
    for (size_t i = 0; i < o->n_authzs; i++) {
        struct order_authz *a = &o->authzs[i];
        if (a->dns_planned || !a->identifier[0])
            continue;
        if (!loaded) {
            loaded = true;
            if (role_load(s, o->role, &r, &le) < 0) {
                if (le.kind != ERR_NOT_FOUND) {
                    *e = le;
                    return -1;
                }
                r = NULL;   /* force-deleted role: its orders run on, matched by pattern */
            }
            dns_allowed = !r || role_check_challenge_type(r, "dns-01", &le) == 0;
        }
        a->dns_planned = true;
        a->dns_provider[0] = '\0';
        *changed = true;
        if (!dns_allowed || strcmp(a->status, "pending") != 0 || !dns_challenge(a))
            continue;
        char type[64], name[130];
        if (dns_config_pick(s, r, a->identifier, type, sizeof type, name, sizeof name, e) < 0) {
            a->dns_planned = false;
            rc = -1;
            break;
        }
        if (type[0]) {
            snprintf(a->dns_provider, sizeof a->dns_provider, "%s/%s", type, name);
            log_info("engine", "dns-01 will be fulfilled by Vault", "order_id", o->id,
                     "identifier", a->identifier, "provider", a->dns_provider, NULL);
        }
    }
    role_free(r);
    return rc;
}

bool order_dns_pending(const struct order *o)
{
    for (size_t i = 0; i < o->n_authzs; i++) {
        const struct order_authz *a = &o->authzs[i];
        if (a->dns_provider[0] && !a->dns_visible && strcmp(a->status, "pending") == 0)
            return true;
    }
    return false;
}

/* Fills rec for authz i of o. */
static int record_for(const struct order *o, size_t i, struct dns_record *rec, struct err *e)
{
    struct order_authz *a = &o->authzs[i];
    struct order_challenge *c = dns_challenge(a);
    memset(rec, 0, sizeof *rec);
    const char *slash = strchr(a->dns_provider, '/');
    if (!c || !slash)
        return err_set(e, ERR_INTERNAL, "order %s: no dns-01 challenge for %s", o->id,
                       a->identifier);
    snprintf(rec->owner, sizeof rec->owner, "%s", o->id);
    snprintf(rec->slot, sizeof rec->slot, "%zu", i);
    snprintf(rec->type, sizeof rec->type, "%.*s", (int)(slash - a->dns_provider), a->dns_provider);
    snprintf(rec->name, sizeof rec->name, "%s", slash + 1);
    snprintf(rec->value, sizeof rec->value, "%s", c->dns_value);
    return dns_challenge_name(a->identifier, rec->fqdn, sizeof rec->fqdn, e);
}

static void outcome(struct order_dns_result *r, enum order_dns_outcome o, const char *fmt,
                    const char *a1, const char *a2, const char *a3)
{
    r->outcome = o;
    snprintf(r->msg, sizeof r->msg, fmt, a1, a2, a3);
}

int order_dns_publish(struct engine *eng, struct fw_storage *s, struct order *o,
                      struct order_dns_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < o->n_authzs; i++) {
        struct order_authz *a = &o->authzs[i];
        struct dns_record rec;
        struct err le;
        if (!a->dns_provider[0] || a->dns_published || strcmp(a->status, "pending") != 0)
            continue;
        if (record_for(o, i, &rec, e) < 0)
            return -1;
        if (dns_record_publish(eng, s, &rec, &le) < 0) {
            if (le.kind == ERR_INTERNAL) {
                *e = le;
                return -1;
            }
            outcome(r, le.kind == ERR_RETRY ? ORDER_DNS_RETRY : ORDER_DNS_FAILED,
                    "DNS provider %.150s: publishing %.260s TXT failed: %.400s", a->dns_provider, rec.fqdn,
                    le.msg);
            return 0;
        }
        a->dns_published = order_now();
        a->dns_visible = false;
    }
    o->dns_polls = 0;
    r->outcome = ORDER_DNS_DONE;
    return 0;
}

/* Marks the dns-01 challenge fulfilled, and no other of the authz (the CA takes the first
 * challenge it is told about). */
static void mark_fulfilled(struct order_authz *a)
{
    for (size_t k = 0; k < a->n_challenges; k++) {
        struct order_challenge *c = &a->challenges[k];
        if (strcmp(c->type, "dns-01") == 0)
            c->fulfilled = true;
        else if (!c->responded)
            c->fulfilled = false;
    }
}

int order_dns_check(struct engine *eng, struct fw_storage *s, struct order *o,
                    struct order_dns_result *r, struct err *e)
{
    bool all = true;
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < o->n_authzs; i++) {
        struct order_authz *a = &o->authzs[i];
        struct dns_record rec;
        struct err le;
        cJSON *cfg = NULL;
        if (!a->dns_provider[0] || a->dns_visible || strcmp(a->status, "pending") != 0)
            continue;
        if (!a->dns_published) {
            r->outcome = ORDER_DNS_REPUBLISH;
            return 0;
        }
        char slot[24];
        snprintf(slot, sizeof slot, "%zu", i);
        if (dns_record_load(s, o->id, slot, &rec, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                return -1;
            }
            a->dns_published = 0;    /* never tracked: publish (again) */
            r->outcome = ORDER_DNS_REPUBLISH;
            return 0;
        }
        if (dns_config_load(s, rec.type, rec.name, &cfg, &le) < 0) {
            if (le.kind != ERR_NOT_FOUND) {
                *e = le;
                return -1;
            }
            outcome(r, ORDER_DNS_FAILED, "DNS provider %s was deleted while the order used it%s%s",
                    a->dns_provider, "", "");
            return 0;
        }
        int64_t timeout = dns_config_timeout(cfg);
        bool synced = false, visible = false;
        char asked[600] = "", missing[600] = "";
        struct dns_server servers[9];
        size_t ns = 0;
        if (dns_record_synced(eng, s, &rec, &synced, &le) < 0) {
            snprintf(missing, sizeof missing, "%.500s", le.msg);
        } else if (!synced) {
            snprintf(missing, sizeof missing, "the provider reports the change as not yet in "
                     "sync");
        } else if (dns_check_servers(s, cfg, o->account, rec.fqdn, servers, 9, &ns, asked,
                                     sizeof asked, &le) < 0) {
            snprintf(missing, sizeof missing, "%.500s", le.msg);
        } else if (ns == 0) {
            snprintf(missing, sizeof missing, "no DNS server to ask (set nameserver on the "
                     "provider or default_nameserver on the account)");
        } else if (dns_txt_visible(servers, ns, rec.fqdn, rec.value, &visible, missing,
                                   sizeof missing, &le) < 0) {
            snprintf(missing, sizeof missing, "%.500s", le.msg);
        }
        cJSON_Delete(cfg);
        if (visible) {
            a->dns_visible = true;
            mark_fulfilled(a);
            log_info("engine", "dns-01 record visible", "order_id", o->id, "record", rec.fqdn,
                     "servers", asked, NULL);
            continue;
        }
        all = false;
        if (order_now() - a->dns_published >= timeout) {
            char t[32];
            snprintf(t, sizeof t, "%llds", (long long)timeout);
            r->outcome = ORDER_DNS_FAILED;
            snprintf(r->msg, sizeof r->msg, "Vault's internal DNS propagation check timed out "
                     "after %s: %s TXT was not visible on %s (%s); the CA was not notified. "
                     "Check the provider's nameserver and the zone, then place a new order",
                     t, rec.fqdn, asked[0] ? asked : "any server", missing);
            return 0;
        }
        log_debug("engine", "dns-01 record not visible yet", "order_id", o->id, "record",
                  rec.fqdn, "detail", missing, NULL);
    }
    if (all) {
        o->dns_polls = 0;
        r->outcome = ORDER_DNS_DONE;
        return 0;
    }
    int64_t delay = POLL_FIRST_MS << (o->dns_polls < 5 ? o->dns_polls : 5);
    if (delay > POLL_MAX_MS)
        delay = POLL_MAX_MS;
    o->dns_polls++;
    r->outcome = ORDER_DNS_WAIT;
    r->next_ms = now_ms() + delay;
    return 0;
}

void order_dns_cleanup(struct engine *eng, struct fw_storage *s, struct order *o,
                       bool *changed)
{
    bool terminal = order_status_terminal(o->status);
    *changed = false;
    for (size_t i = 0; i < o->n_authzs; i++) {
        struct order_authz *a = &o->authzs[i];
        struct dns_record rec;
        struct err le;
        char slot[24];
        if (!a->dns_published || a->dns_removed)
            continue;
        if (!terminal && strcmp(a->status, "pending") == 0)
            continue;
        snprintf(slot, sizeof slot, "%zu", i);
        if (dns_record_load(s, o->id, slot, &rec, &le) == 0 &&
            dns_record_remove(eng, s, &rec, &le) < 0) {
            log_warn("engine", "removing a dns-01 TXT record failed; will retry", "order_id",
                     o->id, "record", rec.fqdn, "error", le.msg, NULL);
            continue;
        }
        a->dns_removed = true;
        *changed = true;
    }
}
