/* route53.c: AWS Route 53 (API 2013-04-01). The zone is hosted_zone_id or the hosted zone
 * whose name is the longest suffix of the record name; a change reads the TXT RRset and
 * writes it back with the value added (UPSERT) or taken out (UPSERT, or DELETE of the last
 * value), so values other orders put at the same name survive. Publishing returns the
 * change id; `synced` asks GetChange until INSYNC. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "aws.h"
#include "internal.h"

enum { MAX_VALUES = 50 };
static const char API[] = "2013-04-01";
static const char XMLNS[] = "https://route53.amazonaws.com/doc/2013-04-01/";

struct r53 {
    char ep[512];
    char sig[200];
    struct aws_creds creds;
};

static int r53_open(const cJSON *cfg, struct r53 *r, struct err *e)
{
    const char *region = dns_cfg_str(cfg, "region")[0] ? dns_cfg_str(cfg, "region") : "us-east-1";
    aws_endpoint("ROUTE_53", "https://route53.amazonaws.com", r->ep, sizeof r->ep);
    /* Route 53 is a global service signed in us-east-1 (aws partition). */
    snprintf(r->sig, sizeof r->sig, "aws:amz:%s:route53",
             strncmp(region, "cn-", 3) == 0 ? "cn-northwest-1"
             : strncmp(region, "us-gov-", 7) == 0 ? "us-gov-west-1" : "us-east-1");
    return aws_credentials(cfg, &r->creds, e);
}

static void r53_close(struct r53 *r)
{
    aws_creds_wipe(&r->creds);
}

static int call(struct r53 *r, const char *method, const char *path, const char *body,
                const char *what, xmlDoc **doc, struct err *e)
{
    char url[1200];
    struct aws_reply rep;
    static const char *const hdr[] = { "Content-Type: application/xml", NULL };
    *doc = NULL;
    snprintf(url, sizeof url, "%s/%s%s", r->ep, API, path);
    if (aws_http(method, url, r->sig, &r->creds, body ? hdr : NULL, body, 20, &rep, e) < 0)
        return err_wrap(e, "%s", what);
    if (rep.status < 200 || rep.status > 299) {
        int rc = aws_error(what, &rep, e);
        aws_reply_clear(&rep);
        return rc;
    }
    *doc = aws_xml_parse(&rep);
    aws_reply_clear(&rep);
    if (!*doc)
        return err_set(e, ERR_RETRY, "%s: the reply is not XML", what);
    return 0;
}

/* "/hostedzone/Z1" or "Z1" -> "Z1". */
static void zone_id_of(const char *s, char *buf, size_t cap)
{
    const char *p = strrchr(s, '/');
    snprintf(buf, cap, "%s", p ? p + 1 : s);
}

static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* True when zone (a name) is fqdn or a parent of it. */
static bool zone_holds(const char *zone, const char *fqdn)
{
    char z[300], f[300];
    snprintf(z, sizeof z, "%s", zone);
    snprintf(f, sizeof f, "%s", fqdn);
    size_t lz = strlen(z), lf = strlen(f);
    if (lz && z[lz - 1] == '.')
        z[--lz] = '\0';
    if (lf && f[lf - 1] == '.')
        f[--lf] = '\0';
    if (lz > lf)
        return false;
    return strcasecmp(f + lf - lz, z) == 0 && (lz == lf || f[lf - lz - 1] == '.');
}

static int find_zone(struct r53 *r, const char *fqdn, char *id, size_t cap, struct err *e)
{
    char marker[200] = "", best_name[300] = "";
    id[0] = '\0';
    for (int page = 0; page < 50; page++) {
        char path[400];
        xmlDoc *d = NULL;
        snprintf(path, sizeof path, "/hostedzone%s%s", marker[0] ? "?marker=" : "", marker);
        if (call(r, "GET", path, NULL, "Route 53 ListHostedZones", &d, e) < 0)
            return -1;
        static const char *const zp[] = { "ListHostedZonesResponse", "HostedZones", NULL };
        xmlNode *zones = aws_xml_path(d, zp);
        for (xmlNode *z = zones ? zones->children : NULL; z; z = z->next) {
            char name[300], zid[200], priv[16];
            if (z->type != XML_ELEMENT_NODE || strcmp((const char *)z->name, "HostedZone"))
                continue;
            aws_xml_text(aws_xml_child(z, "Name"), name, sizeof name);
            aws_xml_text(aws_xml_child(z, "Id"), zid, sizeof zid);
            aws_xml_text(aws_xml_child(aws_xml_child(z, "Config"), "PrivateZone"), priv,
                         sizeof priv);
            if (strcmp(priv, "true") == 0 || !zone_holds(name, fqdn))
                continue;
            if (strlen(name) > strlen(best_name)) {
                snprintf(best_name, sizeof best_name, "%s", name);
                zone_id_of(zid, id, cap);
            }
        }
        static const char *const tp[] = { "ListHostedZonesResponse", "IsTruncated", NULL };
        static const char *const mp[] = { "ListHostedZonesResponse", "NextMarker", NULL };
        char trunc[16];
        aws_xml_text(aws_xml_path(d, tp), trunc, sizeof trunc);
        aws_xml_text(aws_xml_path(d, mp), marker, sizeof marker);
        xmlFreeDoc(d);
        if (strcmp(trunc, "true") != 0 || !marker[0])
            break;
    }
    if (!id[0])
        return err_set(e, ERR_UPSTREAM, "zone not found: no public Route 53 hosted zone holds %s "
                       "(create it, or set hosted_zone_id)", fqdn);
    return 0;
}

/* The values (quotes stripped) and TTL of the TXT RRset at fqdn. */
static int read_rrset(struct r53 *r, const char *zone, const char *fqdn, char vals[][130],
                      size_t *n, long *ttl, struct err *e)
{
    char path[700];
    xmlDoc *d = NULL;
    *n = 0;
    *ttl = 0;
    /* Parameters in sorted order: AWS checks a signature over the query sorted by name,
     * and libcurl 7.88 (Debian 12) signs it as written: any other order is refused as
     * SignatureDoesNotMatch. */
    snprintf(path, sizeof path, "/hostedzone/%s/rrset?maxitems=1&name=%s&type=TXT", zone, fqdn);
    if (call(r, "GET", path, NULL, "Route 53 ListResourceRecordSets (check hosted_zone_id)", &d,
             e) < 0)
        return -1;
    static const char *const sp[] = { "ListResourceRecordSetsResponse", "ResourceRecordSets",
                                      NULL };
    xmlNode *sets = aws_xml_path(d, sp);
    for (xmlNode *s = sets ? sets->children : NULL; s; s = s->next) {
        char name[300], type[16], t[32];
        if (s->type != XML_ELEMENT_NODE)
            continue;
        aws_xml_text(aws_xml_child(s, "Name"), name, sizeof name);
        aws_xml_text(aws_xml_child(s, "Type"), type, sizeof type);
        if (!name_eq(name, fqdn) || strcmp(type, "TXT") != 0)
            continue;
        aws_xml_text(aws_xml_child(s, "TTL"), t, sizeof t);
        *ttl = strtol(t, NULL, 10);
        xmlNode *rrs = aws_xml_child(s, "ResourceRecords");
        for (xmlNode *rr = rrs ? rrs->children : NULL; rr && *n < MAX_VALUES; rr = rr->next) {
            char v[200];
            if (rr->type != XML_ELEMENT_NODE)
                continue;
            aws_xml_text(aws_xml_child(rr, "Value"), v, sizeof v);
            size_t vl = strlen(v);
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v[vl - 1] = '\0';
                memmove(v, v + 1, vl - 1);
            }
            snprintf(vals[(*n)++], 130, "%s", v);
        }
        break;
    }
    xmlFreeDoc(d);
    return 0;
}

/* Sends one change of the RRset (action UPSERT or DELETE); *change gets the change id. */
static int write_rrset(struct r53 *r, const char *zone, const char *action, const char *fqdn,
                       long ttl, char vals[][130], size_t n, char **change, struct err *e)
{
    size_t cap = 1200 + n * 200;
    char *body = malloc(cap), path[300], what[400];
    if (!body)
        return err_set(e, ERR_INTERNAL, "out of memory");
    int o = snprintf(body, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<ChangeResourceRecordSetsRequest xmlns=\"%s\"><ChangeBatch>"
                     "<Comment>vault pki-external-ca dns-01</Comment><Changes><Change>"
                     "<Action>%s</Action><ResourceRecordSet><Name>%s</Name><Type>TXT</Type>"
                     "<TTL>%ld</TTL><ResourceRecords>", XMLNS, action, fqdn, ttl);
    for (size_t i = 0; i < n; i++)
        o += snprintf(body + o, cap - (size_t)o,
                      "<ResourceRecord><Value>\"%s\"</Value></ResourceRecord>", vals[i]);
    snprintf(body + o, cap - (size_t)o, "</ResourceRecords></ResourceRecordSet></Change>"
             "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    snprintf(path, sizeof path, "/hostedzone/%s/rrset", zone);
    snprintf(what, sizeof what, "Route 53 ChangeResourceRecordSets (%s %s TXT)", action, fqdn);
    xmlDoc *d = NULL;
    int rc = call(r, "POST", path, body, what, &d, e);
    free(body);
    if (rc < 0)
        return -1;
    static const char *const ip[] = { "ChangeResourceRecordSetsResponse", "ChangeInfo", "Id",
                                      NULL };
    char id[200];
    aws_xml_text(aws_xml_path(d, ip), id, sizeof id);
    xmlFreeDoc(d);
    if (change) {
        char bare[200];
        zone_id_of(id, bare, sizeof bare);
        *change = bare[0] ? strdup(bare) : NULL;
    }
    return 0;
}

static int with_zone(const cJSON *cfg, struct r53 *r, const char *fqdn, char *zone, size_t cap,
                     struct err *e)
{
    if (r53_open(cfg, r, e) < 0)
        return -1;
    const char *hz = dns_cfg_str(cfg, "hosted_zone_id");
    if (hz[0]) {
        zone_id_of(hz, zone, cap);
        return 0;
    }
    return find_zone(r, fqdn, zone, cap, e);
}

static int r53_publish(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                       const char *value, int64_t ttl, char **change, struct err *e)
{
    struct r53 r;
    char zone[200], vals[MAX_VALUES + 1][130];
    size_t n = 0;
    long cur_ttl = 0;
    int rc = -1;
    *change = NULL;
    if (with_zone(cfg, &r, fqdn, zone, sizeof zone, e) < 0 ||
        read_rrset(&r, zone, fqdn, vals, &n, &cur_ttl, e) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (strcmp(vals[i], value) == 0) {
            rc = 0;   /* already there: nothing to send */
            goto out;
        }
    if (n >= MAX_VALUES) {
        rc = err_set(e, ERR_RETRY, "%s already holds %d TXT values", fqdn, MAX_VALUES);
        goto out;
    }
    snprintf(vals[n++], 130, "%s", value);
    rc = write_rrset(&r, zone, "UPSERT", fqdn, (long)ttl, vals, n, change, e);
out:
    r53_close(&r);
    return rc;
}

static int r53_remove(const struct dns_ctx *ctx, const cJSON *cfg, const char *fqdn,
                      const char *value, int64_t ttl, struct err *e)
{
    struct r53 r;
    char zone[200], vals[MAX_VALUES + 1][130];
    size_t n = 0, k = 0;
    long cur_ttl = 0;
    int rc = -1;
    bool found = false;
    if (with_zone(cfg, &r, fqdn, zone, sizeof zone, e) < 0 ||
        read_rrset(&r, zone, fqdn, vals, &n, &cur_ttl, e) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vals[i], value) == 0) {
            found = true;
            continue;
        }
        if (k != i)
            memcpy(vals[k], vals[i], sizeof vals[k]);
        k++;
    }
    if (!found) {
        rc = 0;
        goto out;
    }
    if (k == 0) {
        /* DELETE must name the RRset exactly as it is. */
        snprintf(vals[0], 130, "%s", value);
        rc = write_rrset(&r, zone, "DELETE", fqdn, cur_ttl, vals, 1, NULL, e);
    } else {
        rc = write_rrset(&r, zone, "UPSERT", fqdn, cur_ttl ? cur_ttl : (long)ttl, vals, k, NULL, e);
    }
out:
    r53_close(&r);
    return rc;
}

static int r53_synced(const struct dns_ctx *ctx, const cJSON *cfg, const char *change,
                      bool *done, struct err *e)
{
    struct r53 r;
    char path[300], st[32];
    xmlDoc *d = NULL;
    *done = false;
    if (r53_open(cfg, &r, e) < 0)
        return -1;
    snprintf(path, sizeof path, "/change/%s", change);
    int rc = call(&r, "GET", path, NULL, "Route 53 GetChange", &d, e);
    r53_close(&r);
    if (rc < 0)
        return -1;
    static const char *const sp[] = { "GetChangeResponse", "ChangeInfo", "Status", NULL };
    aws_xml_text(aws_xml_path(d, sp), st, sizeof st);
    xmlFreeDoc(d);
    *done = strcmp(st, "INSYNC") == 0;
    return 0;
}

static bool word_ok(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return false;
    return true;
}

static int r53_validate(cJSON *cfg, struct err *e)
{
    const char *id = dns_cfg_str(cfg, "access_key_id");
    const char *secret = dns_cfg_str(cfg, "secret_access_key");
    if (id[0] && !secret[0])
        return err_set(e, ERR_INVALID, "secret_access_key: required with access_key_id");
    if (!id[0] && secret[0])
        return err_set(e, ERR_INVALID, "access_key_id: required with secret_access_key");
    if (!word_ok(id, ""))
        return err_set(e, ERR_INVALID, "access_key_id: letters and digits only");
    const char *region = dns_cfg_str(cfg, "region");
    if (!region[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "region");
        cJSON_AddStringToObject(cfg, "region", "us-east-1");
    } else if (!word_ok(region, "-") || strlen(region) > 40) {
        return err_set(e, ERR_INVALID, "region: \"%.64s\" is not an AWS region name", region);
    }
    if (!word_ok(dns_cfg_str(cfg, "hosted_zone_id"), "/"))
        return err_set(e, ERR_INVALID, "hosted_zone_id: not a hosted zone id (Z...)");
    const char *arn = dns_cfg_str(cfg, "assume_role_arn");
    if (arn[0] && (strncmp(arn, "arn:", 4) != 0 || !strstr(arn, ":role/")))
        return err_set(e, ERR_INVALID, "assume_role_arn: \"%.100s\" is not a role ARN "
                       "(arn:aws:iam::<account>:role/<name>)", arn);
    if (dns_cfg_str(cfg, "external_id")[0] && !arn[0])
        return err_set(e, ERR_INVALID, "external_id: only used with assume_role_arn");
    return 0;
}

const struct dns_provider_type dns_type_route53 = {
    .type = "aws-route53",
    .default_ttl = "60s",
    .validate = r53_validate,
    .publish = r53_publish,
    .remove = r53_remove,
    .synced = r53_synced,
};
