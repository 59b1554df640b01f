/* route53.c: placeholder while the provider is written. */
#include <cJSON.h>
#include "internal.h"
static int r53_validate(cJSON *cfg, struct err *e) { return 0; }
static int r53_publish(const cJSON *cfg, const char *fqdn, const char *value, int64_t ttl,
                       char **change, struct err *e)
{ *change = NULL; return err_set(e, ERR_UPSTREAM, "route53: not yet"); }
static int r53_remove(const cJSON *cfg, const char *fqdn, const char *value, int64_t ttl,
                      struct err *e)
{ return err_set(e, ERR_UPSTREAM, "route53: not yet"); }
const struct dns_provider_type dns_type_route53 = {
    .type = "aws-route53", .default_ttl = "60s", .validate = r53_validate,
    .publish = r53_publish, .remove = r53_remove,
};
