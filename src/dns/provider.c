/* provider.c: the table of DNS provider types. A new type is one file defining a struct
 * dns_provider_type and one row here. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "internal.h"

const struct dns_provider_type *const dns_provider_types[] = {
    &dns_type_rfc2136,
    &dns_type_route53,
    &dns_type_azure,
    &dns_type_google,
    &dns_type_cloudflare,
    NULL
};

const struct dns_provider_type *dns_provider_find(const char *type)
{
    for (size_t i = 0; type && dns_provider_types[i]; i++)
        if (strcmp(dns_provider_types[i]->type, type) == 0)
            return dns_provider_types[i];
    return NULL;
}

const char *dns_provider_type_names(char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; dns_provider_types[i] && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                         dns_provider_types[i]->type);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

const char *dns_cfg_str(const cJSON *cfg, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, field);
    return cJSON_IsString(v) ? v->valuestring : "";
}
