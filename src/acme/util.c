/* util.c: small JSON, string-list and time helpers shared by the ACME object parsers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *acme_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *acme_json_strdup(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) && it->valuestring ? strdup(it->valuestring) : NULL;
}

char **acme_json_strv(const cJSON *obj, const char *name, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *it;
    size_t cnt = 0, i = 0;
    if (cJSON_IsArray(arr))
        cJSON_ArrayForEach(it, arr)
            if (cJSON_IsString(it))
                cnt++;
    char **v = calloc(cnt + 1, sizeof *v);
    if (!v)
        return NULL;
    if (cnt)
        cJSON_ArrayForEach(it, arr) {
            if (!cJSON_IsString(it))
                continue;
            v[i] = strdup(it->valuestring);
            if (!v[i]) {
                acme_strv_free(v);
                return NULL;
            }
            i++;
        }
    if (n)
        *n = cnt;
    return v;
}

void acme_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

size_t acme_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* n decimal digits at s -> *out; false if any is not a digit (or the string ends). */
static bool fixed_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 date-time, strictly: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". Fixed
 * positions, so a short or odd string can never be read past its end (fuzz_acme_headers
 * found sscanf's %2d taking "-4:23" as a 6-byte offset). */
time_t acme_time_parse(const char *s)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0;
    struct tm tm = { 0 };
    if (!s || strlen(s) < 20)
        return 0;
    if (!fixed_digits(s, 4, &Y) || s[4] != '-' || !fixed_digits(s + 5, 2, &M) ||
        s[7] != '-' || !fixed_digits(s + 8, 2, &D) || !strchr("Tt ", s[10]) || !s[10] ||
        !fixed_digits(s + 11, 2, &h) || s[13] != ':' || !fixed_digits(s + 14, 2, &m) ||
        s[16] != ':' || !fixed_digits(s + 17, 2, &sec))
        return 0;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {                     /* fractional seconds: dropped */
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (!fixed_digits(p + 1, 2, &oh) || p[3] != ':' || !fixed_digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return 0;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return 0;
    }
    if (*p)
        return 0;
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? 0 : t - off;
}

time_t acme_json_time(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) ? acme_time_parse(it->valuestring) : 0;
}

void acme_time_format(time_t t, char buf[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int acme_identifier_from_json(const cJSON *obj, struct acme_identifier *out)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    memset(out, 0, sizeof *out);
    out->type = cJSON_IsString(t) && !strcmp(t->valuestring, "ip") ? ACME_IDENT_IP
                                                                   : ACME_IDENT_DNS;
    out->value = acme_json_strdup(obj, "value");
    return out->value ? 0 : -1;
}

void acme_reply_fill(struct acme_reply *rep, const struct acme_http_resp *r)
{
    if (!rep)
        return;
    rep->http_status = (int)r->status;
    rep->retry_at = r->retry_at;
}

time_t acme_next_look(enum acme_status s, time_t retry_after)
{
    if (s != ACME_STATUS_PENDING && s != ACME_STATUS_PROCESSING)
        return 0;
    if (retry_after)
        return retry_after;
    return time(NULL) + 1;
}

static const char *const status_names[] = {
    [ACME_STATUS_UNKNOWN] = "unknown", [ACME_STATUS_PENDING] = "pending",
    [ACME_STATUS_READY] = "ready", [ACME_STATUS_PROCESSING] = "processing",
    [ACME_STATUS_VALID] = "valid", [ACME_STATUS_INVALID] = "invalid",
    [ACME_STATUS_EXPIRED] = "expired", [ACME_STATUS_DEACTIVATED] = "deactivated",
    [ACME_STATUS_REVOKED] = "revoked",
};

enum acme_status acme_status_parse(const char *s)
{
    for (size_t i = 1; s && i < sizeof status_names / sizeof status_names[0]; i++)
        if (!strcmp(s, status_names[i]))
            return (enum acme_status)i;
    return ACME_STATUS_UNKNOWN;
}

const char *acme_status_name(enum acme_status s)
{
    if ((size_t)s >= sizeof status_names / sizeof status_names[0])
        return "unknown";
    return status_names[s];
}

void acme_reply_clear(struct acme_reply *r)
{
    if (!r)
        return;
    acme_problem_clear(&r->problem);
    memset(r, 0, sizeof *r);
}
