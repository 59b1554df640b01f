/* convert.c: field value conversion with the Go framework's rules (protocol doc §6.12).
 *
 * A Go plugin sees request data after json.Unmarshal and converts it with mapstructure's
 * weak decoding, strconv and go-secure-stdlib's parseutil. `vault write` sends every value
 * as a string and API clients send native JSON types, so each type accepts both; the
 * parsers below reproduce Go's accepted syntax, not a C library's (strtoll would accept
 * leading blanks, "08", "1e3" ...). */
#include <ctype.h>
#include <math.h>   /* isfinite: a macro, no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fw_value_clear(struct fw_value *v)
{
    free(v->str);
    cJSON_Delete(v->json);
    memset(v, 0, sizeof *v);
}

const char *fw_type_name(enum fw_type type)
{
    switch (type) {
    case FW_TYPE_STRING:             return "string";
    case FW_TYPE_INT:                return "int";
    case FW_TYPE_BOOL:               return "bool";
    case FW_TYPE_DURATION:           return "duration (sec)";
    case FW_TYPE_COMMA_STRING_SLICE: return "slice";
    case FW_TYPE_STRING_SLICE:       return "slice";
    case FW_TYPE_MAP:                return "map";
    case FW_TYPE_NAME:               return "name string";
    case FW_TYPE_LOWERCASE_STRING:   return "lowercase string";
    }
    return "unknown type";
}

/* ---- scalar parsers ------------------------------------------------------------------ */

/* Base-10 strconv.Atoi/ParseInt(s, 10, 64): optional sign, digits only. -1 for bad syntax,
 * -2 for out of range. */
static int parse_dec(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    uint64_t v = 0;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return -1;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int rc = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (limit - d) / 10)
            rc = -2;
        else
            v = v * 10 + d;
    }
    if (rc == 0)
        *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return rc;
}

/* Departure (docs/departures.md): Go's weak decoding would read "0x10" as 16, "010" as 8 and
 * "1_000" as 1000; an API that takes counts and percentages has no use for that, and a typo
 * must not become a different number. Only decimal integers are accepted. */
int fw_parse_int(const char *s, int64_t *out, struct err *e)
{
    switch (parse_dec(s, out)) {
    case 0:
        return 0;
    case -2:
        return err_set(e, ERR_INVALID, "cannot parse \"%s\" as int: value out of range", s);
    default:
        return err_set(e, ERR_INVALID, "cannot parse \"%s\" as int: invalid syntax (a "
                       "decimal integer is expected)", s);
    }
}

int fw_parse_bool(const char *s, bool *out, struct err *e)
{
    static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *const no[] = { "", "0", "f", "F", "FALSE", "false", "False" };

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, "cannot parse \"%s\" as bool: invalid syntax", s);
}

static int64_t duration_unit(const char *u, size_t n)
{
    static const struct { const char *name; int64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
        { "ms", 1000000 }, { "s", 1000000000 }, { "m", 60LL * 1000000000 },
        { "h", 3600LL * 1000000000 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    }
    return 0;
}

/* time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0". */
int fw_parse_go_duration(const char *s, int64_t *ns, struct err *e)
{
    const char *p = s;
    bool neg = false;
    uint64_t total = 0;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*p)
        return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
    while (*p) {
        uint64_t v = 0, frac = 0;
        double scale = 1;
        bool pre = false, post = false, overflow = false;

        if (!(*p == '.' || isdigit((unsigned char)*p)))
            return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
        for (; isdigit((unsigned char)*p); p++) {
            pre = true;
            if (v > ((uint64_t)1 << 63) / 10)
                overflow = true;
            else
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
            p++;
            for (; isdigit((unsigned char)*p); p++) {
                post = true;
                if (frac <= ((uint64_t)1 << 63) / 10) {  /* extra digits only add precision */
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
            }
        }
        if (!pre && !post)
            return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
        const char *u = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        if (u == p)
            return err_set(e, ERR_INVALID, "time: missing unit in duration \"%s\"", s);
        int64_t unit = duration_unit(u, (size_t)(p - u));
        if (!unit)
            return err_set(e, ERR_INVALID, "time: unknown unit \"%.*s\" in duration \"%s\"",
                           (int)(p - u), u, s);
        if (overflow || v > ((uint64_t)1 << 63) / (uint64_t)unit)
            return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
        v *= (uint64_t)unit;
        if (frac > 0) {
            v += (uint64_t)((double)frac * ((double)unit / scale));
            if (v > (uint64_t)1 << 63)
                return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
        }
        total += v;
        if (total > (uint64_t)1 << 63)
            return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
    }
    if (!neg && total > (uint64_t)INT64_MAX)
        return err_set(e, ERR_INVALID, "time: invalid duration \"%s\"", s);
    *ns = neg ? (int64_t)(0 - total) : (int64_t)total;
    return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* parseutil.ParseDurationSecond for strings, in whole seconds (truncated toward zero). */
int fw_parse_duration_seconds(const char *s, int64_t *secs, struct err *e)
{
    const int64_t day = 86400;
    int64_t v = 0;

    if (!*s) {
        *secs = 0;
        return 0;
    }
    if (has_suffix(s, "s") || has_suffix(s, "m") || has_suffix(s, "h")) {
        int64_t ns;
        if (fw_parse_go_duration(s, &ns, e) != 0)
            return -1;
        *secs = ns / 1000000000;
        /* keep "-500ms" negative so the caller's sign check still sees it */
        if (ns < 0 && *secs == 0)
            *secs = -1;
        return 0;
    }
    if (has_suffix(s, "d")) {
        char num[32];
        size_t n = strlen(s) - 1;
        if (n == 0 || n >= sizeof num)
            return err_set(e, ERR_INVALID, "invalid duration \"%s\"", s);
        memcpy(num, s, n);
        num[n] = '\0';
        if (parse_dec(num, &v) != 0 || v > INT64_MAX / day || v < INT64_MIN / day)
            return err_set(e, ERR_INVALID, "invalid duration \"%s\"", s);
        *secs = v * day;
        return 0;
    }
    if (parse_dec(s, &v) != 0)
        return err_set(e, ERR_INVALID, "cannot parse \"%s\" as duration: invalid syntax", s);
    *secs = v;
    return 0;
}

/* ---- number text ---------------------------------------------------------------------- */

void fw_format_number(double v, char *buf, size_t len)
{
    char sci[64];
    int prec;

    if (!isfinite(v)) {
        snprintf(buf, len, "0");
        return;
    }
    /* shortest %e form that reads back as the same double */
    for (prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    snprintf(sci, sizeof sci, "%.*e", prec, v);
    /* sci = [-]d[.ddd]e[+-]XX: lay the digits out in fixed notation */
    char digits[32];
    size_t nd = 0;
    const char *p = sci;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++) {
        if (isdigit((unsigned char)*p) && nd < sizeof digits - 1)
            digits[nd++] = *p;
    }
    digits[nd] = '\0';
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    int point = exp10 + 1;   /* digits before the decimal point */
    size_t o = 0;
    char out[352];
    if (neg && v != 0)
        out[o++] = '-';
    if (point <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -point; i++)
            out[o++] = '0';
        for (size_t i = 0; i < nd; i++)
            out[o++] = digits[i];
    } else {
        for (int i = 0; i < point; i++)
            out[o++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)point < nd) {
            out[o++] = '.';
            for (size_t i = (size_t)point; i < nd; i++)
                out[o++] = digits[i];
        }
    }
    out[o] = '\0';
    snprintf(buf, len, "%s", out);
}

/* ---- conversion per type ---------------------------------------------------------------- */

static const char *json_type_name(const cJSON *in)
{
    if (cJSON_IsArray(in))
        return "array";
    if (cJSON_IsObject(in))
        return "object";
    if (cJSON_IsBool(in))
        return "bool";
    if (cJSON_IsNumber(in))
        return "number";
    if (cJSON_IsString(in))
        return "string";
    return "null";
}

/* mapstructure weak decoding of a scalar into a string. */
static int weak_string(const cJSON *in, char **out, struct err *e)
{
    char num[352];
    const char *s;

    if (cJSON_IsString(in) && in->valuestring) {
        s = in->valuestring;
    } else if (cJSON_IsNumber(in)) {
        fw_format_number(in->valuedouble, num, sizeof num);
        s = num;
    } else if (cJSON_IsBool(in)) {
        s = cJSON_IsTrue(in) ? "1" : "0";
    } else if (cJSON_IsNull(in)) {
        s = "";
    } else {
        return err_set(e, ERR_INVALID, "expected type 'string', got unconvertible type '%s'",
                       json_type_name(in));
    }
    *out = strdup(s);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

/* Integers only: a fraction, a bool or a hex string is refused rather than truncated or
 * reinterpreted (a request for 1.5 of something is a mistake, not a 1). */
static int conv_int(const cJSON *in, int64_t *out, struct err *e)
{
    if (cJSON_IsNumber(in)) {
        double t = in->valuedouble;
        if (!(t > -9223372036854775809.0 && t < 9223372036854775808.0))
            return err_set(e, ERR_INVALID, "value out of range");
        if (t != (double)(int64_t)t) {
            char num[352];
            fw_format_number(t, num, sizeof num);
            return err_set(e, ERR_INVALID, "cannot parse %s as int: not a whole number", num);
        }
        *out = (int64_t)t;
        return 0;
    }
    if (cJSON_IsString(in) && in->valuestring) {
        if (!in->valuestring[0]) {
            *out = 0;
            return 0;
        }
        return fw_parse_int(in->valuestring, out, e);
    }
    return err_set(e, ERR_INVALID, "expected type 'int64', got unconvertible type '%s'",
                   json_type_name(in));
}

static int conv_bool(const cJSON *in, bool *out, struct err *e)
{
    if (cJSON_IsBool(in)) {
        *out = cJSON_IsTrue(in);
        return 0;
    }
    if (cJSON_IsNumber(in)) {
        *out = in->valuedouble != 0;
        return 0;
    }
    if (cJSON_IsString(in) && in->valuestring)
        return fw_parse_bool(in->valuestring, out, e);
    return err_set(e, ERR_INVALID, "expected type 'bool', got unconvertible type '%s'",
                   json_type_name(in));
}

static int conv_duration(const cJSON *in, int64_t *out, struct err *e)
{
    int64_t secs;

    if (cJSON_IsNumber(in)) {
        double t = in->valuedouble;
        if (t < 0)
            return err_set(e, ERR_INVALID, "cannot provide negative value");
        if (!(t < 9223372036.0))   /* Go's time.Duration is int64 nanoseconds */
            return err_set(e, ERR_INVALID, "value out of range");
        *out = (int64_t)t;
        return 0;
    }
    if (cJSON_IsString(in) && in->valuestring) {
        if (fw_parse_duration_seconds(in->valuestring, &secs, e) != 0)
            return -1;
        if (secs < 0)
            return err_set(e, ERR_INVALID, "cannot provide negative value");
        *out = secs;
        return 0;
    }
    return err_set(e, ERR_INVALID, "could not parse duration from input");
}

/* Trims Go's ASCII whitespace set (strings.TrimSpace for the characters clients send). */
static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static int add_trimmed(cJSON *arr, const char *s, size_t n, struct err *e)
{
    char *t = trim_dup(s, n);
    cJSON *item = t ? cJSON_CreateString(t) : NULL;
    free(t);
    if (!item)
        return err_set(e, ERR_INTERNAL, "out of memory");
    cJSON_AddItemToArray(arr, item);
    return 0;
}

/* One array element or scalar, weakly decoded as a string and trimmed. */
static int add_weak(cJSON *arr, const cJSON *in, struct err *e)
{
    char *s = NULL;
    if (weak_string(in, &s, e) != 0)
        return -1;
    int rc = add_trimmed(arr, s, strlen(s), e);
    free(s);
    return rc;
}

static int conv_slice(enum fw_type type, const cJSON *in, cJSON **out, struct err *e)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (cJSON_IsString(in) && in->valuestring) {
        const char *s = in->valuestring;
        if (!*s) {
            /* "" is the empty list for both slice types */
        } else if (type == FW_TYPE_COMMA_STRING_SLICE) {
            for (;;) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t)(comma - s) : strlen(s);
                if (add_trimmed(arr, s, n, e) != 0)
                    goto fail;
                if (!comma)
                    break;
                s = comma + 1;
            }
        } else if (add_trimmed(arr, s, strlen(s), e) != 0) {
            goto fail;
        }
    } else if (cJSON_IsArray(in)) {
        const cJSON *el;
        cJSON_ArrayForEach(el, in) {
            if (add_weak(arr, el, e) != 0)
                goto fail;
        }
    } else if (cJSON_IsNumber(in) || cJSON_IsBool(in)) {
        if (add_weak(arr, in, e) != 0)
            goto fail;
    } else {
        err_set(e, ERR_INVALID, "expected a list of strings, got %s", json_type_name(in));
        goto fail;
    }
    *out = arr;
    return 0;
fail:
    cJSON_Delete(arr);
    return -1;
}

static int conv_map(const cJSON *in, cJSON **out, struct err *e)
{
    if (cJSON_IsObject(in))
        *out = cJSON_Duplicate(in, true);
    else if (cJSON_IsArray(in) && cJSON_GetArraySize(in) == 0)
        *out = cJSON_CreateObject();
    else
        return err_set(e, ERR_INVALID, "expected a map, got %s", json_type_name(in));
    if (!*out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 0;
}

static bool is_word(unsigned char c)
{
    return isalnum(c) || c == '_';
}

/* ^\w(([\w-.]+)?\w)?$ with Go's ASCII \w. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || !is_word((unsigned char)s[0]) || !is_word((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_word(c) && c != '-' && c != '.')
            return false;
    }
    return true;
}

int fw_convert(enum fw_type type, const cJSON *in, struct fw_value *out, struct err *e)
{
    bool b = false;

    switch (type) {
    case FW_TYPE_STRING:
    case FW_TYPE_LOWERCASE_STRING:
    case FW_TYPE_NAME:
        if (weak_string(in, &out->str, e) != 0)
            return -1;
        if (type == FW_TYPE_LOWERCASE_STRING) {
            for (char *c = out->str; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        }
        if (type == FW_TYPE_NAME && !name_ok(out->str)) {
            fw_value_clear(out);
            return err_set(e, ERR_INVALID, "field does not match the formatting rules");
        }
        break;
    case FW_TYPE_INT:
        if (conv_int(in, &out->num, e) != 0)
            return -1;
        break;
    case FW_TYPE_BOOL:
        if (conv_bool(in, &b, e) != 0)
            return -1;
        out->num = b;
        break;
    case FW_TYPE_DURATION:
        if (conv_duration(in, &out->num, e) != 0)
            return -1;
        break;
    case FW_TYPE_COMMA_STRING_SLICE:
    case FW_TYPE_STRING_SLICE:
        if (conv_slice(type, in, &out->json, e) != 0)
            return -1;
        break;
    case FW_TYPE_MAP:
        if (conv_map(in, &out->json, e) != 0)
            return -1;
        break;
    default:
        return err_set(e, ERR_INTERNAL, "unknown field type %d", (int)type);
    }
    out->present = true;
    return 0;
}
