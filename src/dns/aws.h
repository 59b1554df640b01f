/* aws.h (private to src/dns): AWS credentials, endpoints and SigV4 calls (aws.c). */
#ifndef PKIEXT_DNS_AWS_H
#define PKIEXT_DNS_AWS_H

#include <stdbool.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "dns.h"

/* One call's credentials; wiped with aws_creds_wipe when done. */
struct aws_creds {
    char access_key_id[256];
    char secret_access_key[256];
    char token[2100];
};
void aws_creds_wipe(struct aws_creds *c);
/* The configuration's keys, else the environment, the shared credentials file, IMDSv2;
 * then STS AssumeRole when assume_role_arn is set. ERR_UPSTREAM when none is found. */
int aws_credentials(const struct cJSON *cfg, struct aws_creds *c, struct err *e);

/* The credential sources' readers, separate so that they can be fuzzed
 * (test/fuzz/fuzz_aws.c). An INI stream (the shared credentials file) and its profile
 * `want`; an IMDS credentials JSON document (-1: not JSON; *found: it had keys); an STS
 * AssumeRole reply. True / *found when an access key id and secret were found. */
bool aws_creds_from_ini(FILE *fp, const char *want, struct aws_creds *c);
int aws_creds_from_imds_json(const char *body, struct aws_creds *c, bool *found);
bool aws_creds_from_sts(xmlDoc *d, struct aws_creds *c);

/* AWS_ENDPOINT_URL_<service_env>, else AWS_ENDPOINT_URL, else dflt; no trailing '/'. */
void aws_endpoint(const char *service_env, const char *dflt, char *buf, size_t cap);

struct aws_reply {
    long status;
    char *body;     /* NUL-terminated, owned */
    size_t len;
};
void aws_reply_clear(struct aws_reply *r);
/* One HTTP call; signed when sigv4 ("aws:amz:<region>:<service>") and c are given.
 * headers NULL-terminated (may be NULL). ERR_RETRY when no reply came. */
int aws_http(const char *method, const char *url, const char *sigv4, const struct aws_creds *c,
             const char *const *headers, const char *body, long timeout_s, struct aws_reply *r,
             struct err *e);
/* The error of a non-2xx reply, in words (ERR_RETRY for throttling and 5xx). Returns -1. */
int aws_error(const char *what, const struct aws_reply *r, struct err *e);

/* XML: the parsed reply (NULL when not XML; xmlFreeDoc), a child element by local name, the
 * element at path (root name first, NULL-terminated), an element's text into buf. */
xmlDoc *aws_xml_parse(const struct aws_reply *r);
xmlNode *aws_xml_child(xmlNode *n, const char *name);
xmlNode *aws_xml_path(xmlDoc *d, const char *const *path);
void aws_xml_text(xmlNode *n, char *buf, size_t cap);

/* ---- route53.c: the readers of its XML replies, separate so that they can be fuzzed ---- */

#define R53_MAX_VALUES 50   /* TXT values read per RRset (vals has room for them) */
/* One ListHostedZones page: the public zone holding fqdn with the longest name (longer than
 * best_name, which it updates) sets id; marker gets NextMarker. True when more pages follow. */
bool r53_zones_page(xmlDoc *d, const char *fqdn, char *best_name, size_t bcap, char *id,
                    size_t cap, char *marker, size_t mcap);
/* The values (quotes stripped, at most R53_MAX_VALUES) and TTL of the TXT RRset at fqdn in a
 * ListResourceRecordSets reply. */
void r53_rrset_parse(xmlDoc *d, const char *fqdn, char vals[][130], size_t *n, long *ttl);

#endif
