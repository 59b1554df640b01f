/* data.c: the typed field set handed to handlers (struct fw_data) and its getters.
 *
 * Unlike Go's FieldData, which converts lazily on every Get, every field is converted once
 * here, before the handler runs: validation must happen up front anyway (Vault's
 * fd.Validate), and handlers then get values that cannot fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Returned for lists and maps that are absent without a default, and for undeclared names:
 * a valid, empty, immutable cJSON array/object that needs no allocation. */
static const cJSON empty_array = { .type = cJSON_Array };
static const cJSON empty_object = { .type = cJSON_Object };

void fw_data_free(struct fw_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nfields; i++)
        fw_value_clear(&d->vals[i]);
    free(d->vals);
    free(d);
}

/* The value's text for the allowed-values check: strings as is, ints in decimal. */
static bool value_allowed(const struct fw_field *f, const char *s)
{
    for (const char *const *a = f->allowed; *a; a++) {
        if (strcmp(*a, s) == 0)
            return true;
    }
    return false;
}

static int check_allowed(const struct fw_field *f, const struct fw_value *v, struct err *e)
{
    char num[32];
    char list[256];
    size_t o = 0;

    if (!f->allowed)
        return 0;
    switch (f->type) {
    case FW_TYPE_STRING:
    case FW_TYPE_NAME:
    case FW_TYPE_LOWERCASE_STRING:
        if (value_allowed(f, v->str))
            return 0;
        break;
    case FW_TYPE_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->num);
        if (value_allowed(f, num))
            return 0;
        break;
    case FW_TYPE_COMMA_STRING_SLICE:
    case FW_TYPE_STRING_SLICE: {
        const cJSON *el;
        bool all = true;
        cJSON_ArrayForEach(el, v->json) {
            if (!value_allowed(f, el->valuestring))
                all = false;
        }
        if (all)
            return 0;
        break;
    }
    default:
        return 0;   /* enums only make sense for text and numbers */
    }
    list[0] = '\0';
    for (const char *const *a = f->allowed; *a && o < sizeof list; a++) {
        int n = snprintf(list + o, sizeof list - o, "%s%s", a == f->allowed ? "" : " ", *a);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return err_set(e, ERR_INVALID, "value is not one of the allowed values [%s]", list);
}

/* Text content rules for the string-valued types, applied to the converted value (body and
 * path captures alike): no control characters; line breaks only in PEM fields, whose blocks
 * must carry one of the declared labels. */
static int check_text(const struct fw_field *f, const struct fw_value *v, struct err *e)
{
    const cJSON *el;
    switch (f->type) {
    case FW_TYPE_STRING:
    case FW_TYPE_NAME:
    case FW_TYPE_LOWERCASE_STRING:
        if (fw_text_check(v->str, f->pem != NULL || f->multiline, e) != 0)
            return -1;
        return f->pem && v->str[0] ? fw_pem_check(v->str, f->pem, e) : 0;
    case FW_TYPE_COMMA_STRING_SLICE:
    case FW_TYPE_STRING_SLICE:
        cJSON_ArrayForEach(el, v->json) {
            if (fw_text_check(el->valuestring, false, e) != 0)
                return -1;
        }
        return 0;
    default:
        return 0;
    }
}

/* Converts the field's default (string form) into v; a default that fails to convert is a
 * bug in the path table, reported as ERR_INTERNAL so tests catch it. */
static int convert_default(const struct fw_field *f, struct fw_value *v, struct err *e)
{
    cJSON s = { .type = cJSON_String, .valuestring = (char *)f->def };
    if (fw_convert(f->type, &s, v, e) != 0) {
        e->kind = ERR_INTERNAL;
        return err_wrap(e, "default of field \"%s\"", f->name);
    }
    v->present = false;
    return 0;
}

int fw_data_build(const struct fw_path *p, const cJSON *body, const cJSON *captures,
                  struct fw_data **out, struct err *e)
{
    struct fw_data *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_INTERNAL, "out of memory");
    d->fields = p->fields;
    for (const struct fw_field *f = p->fields; f && f->name; f++)
        d->nfields++;
    if (d->nfields) {
        d->vals = calloc(d->nfields, sizeof *d->vals);
        if (!d->vals) {
            free(d);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    if (!cJSON_IsObject(body))
        body = NULL;
    for (size_t i = 0; i < d->nfields; i++) {
        const struct fw_field *f = &d->fields[i];
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(captures, f->name);
        if (!in)
            in = cJSON_GetObjectItemCaseSensitive(body, f->name);
        if (in && f->def && f->empty_is_default && cJSON_IsString(in) &&
            in->valuestring && !in->valuestring[0]) {
            if (convert_default(f, &d->vals[i], e) != 0)
                goto fail;
            d->vals[i].present = true;   /* the client did ask, for the default */
        } else if (in && !cJSON_IsNull(in)) {
            if (fw_convert(f->type, in, &d->vals[i], e) != 0 ||
                check_text(f, &d->vals[i], e) != 0 ||
                check_allowed(f, &d->vals[i], e) != 0) {
                err_wrap(e, "error converting input for field \"%s\"", f->name);
                goto fail;
            }
        } else if (f->def && convert_default(f, &d->vals[i], e) != 0) {
            goto fail;
        }
    }
    *out = d;
    return 0;
fail:
    if (e->kind == ERR_OK)
        e->kind = ERR_INVALID;
    fw_data_free(d);
    return -1;
}

/* The value of a declared field, or NULL. */
static const struct fw_value *lookup(const struct fw_data *d, const char *name,
                                     const struct fw_field **field)
{
    if (!d || !name)
        return NULL;
    for (size_t i = 0; i < d->nfields; i++) {
        if (strcmp(d->fields[i].name, name) == 0) {
            if (field)
                *field = &d->fields[i];
            return &d->vals[i];
        }
    }
    return NULL;
}

bool fw_data_present(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v && v->present;
}

const char *fw_data_str(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v && v->str ? v->str : "";
}

int64_t fw_data_int(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v ? v->num : 0;
}

bool fw_data_bool(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v && v->num != 0;
}

int64_t fw_data_duration(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v ? v->num : 0;
}

const struct cJSON *fw_data_list(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v && cJSON_IsArray(v->json) ? v->json : &empty_array;
}

const struct cJSON *fw_data_map(const struct fw_data *d, const char *name)
{
    const struct fw_value *v = lookup(d, name, NULL);
    return v && cJSON_IsObject(v->json) ? v->json : &empty_object;
}
