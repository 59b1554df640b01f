/* internal.h: private interfaces between the framework's files. Nothing here is seen by the
 * engine or the runtime; include/fw.h is the contract. */
#ifndef PKIEXT_FW_INTERNAL_H
#define PKIEXT_FW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "fw.h"

#define FW_LOG_MODULE "framework"

/* ---- convert.c: one input value -> one typed value (protocol doc §6.12) ----------- */

/* A converted field value. Owns str and json. Which member is meaningful depends on the
 * field's type: str for the string types, num for int/duration/bool (0/1), json (an array of
 * strings or an object) for the slice and map types. */
struct fw_value {
    bool present;
    char *str;
    int64_t num;
    cJSON *json;
};

void fw_value_clear(struct fw_value *v);

/* Converts `in` (any JSON type, never NULL, not null) by the rules of `type` into *out (which
 * must be zeroed). On failure returns -1 with e->kind ERR_INVALID and a reason without the
 * field name ("cannot provide negative value"); out is left clear. ERR_INTERNAL only when
 * memory runs out. */
int fw_convert(enum fw_type type, const cJSON *in, struct fw_value *out, struct err *e);

/* Go-compatible scalar parsers, exported for the tests. All return 0 or -1 with an
 * ERR_INVALID reason. */
int fw_parse_int(const char *s, int64_t *out, struct err *e);          /* ParseInt(s, 10, 64) */
int fw_parse_bool(const char *s, bool *out, struct err *e);            /* ParseBool, "" false */
int fw_parse_go_duration(const char *s, int64_t *ns, struct err *e);   /* time.ParseDuration */
int fw_parse_duration_seconds(const char *s, int64_t *secs, struct err *e); /* parseutil */

/* Go's fmt of a float64 for weak string decoding: shortest text that round-trips, never
 * in exponent form ("3", "1.5", "1000000"). buf must hold 352 bytes. */
void fw_format_number(double v, char *buf, size_t len);

/* Name of a type as Vault's help text prints it ("string", "duration (sec)", ...). */
const char *fw_type_name(enum fw_type type);

/* ---- json_in.c ---------------------------------------------------------------------- */

/* 0 when s holds no control character (line breaks and tabs allowed when multiline), else
 * -1 with an ERR_INVALID reason without the field name. */
int fw_text_check(const char *s, bool multiline, struct err *e);

/* ---- pem_field.c ----------------------------------------------------------------------- */

/* 0 when s is one or more PEM blocks whose labels are all in `labels` (whitespace around
 * them allowed), else -1 with an ERR_INVALID reason ("holds a PRIVATE KEY block; only
 * CERTIFICATE blocks are accepted"). */
int fw_pem_check(const char *s, const char *const *labels, struct err *e);

/* ---- data.c: the typed field set of one request ----------------------------------- */

/* Owns vals (one per field, in table order) and everything in them; borrows fields. */
struct fw_data {
    const struct fw_field *fields;
    size_t nfields;
    struct fw_value *vals;
};

/* Builds the field set of a request on path p from the request body (object or NULL) and
 * the path captures (object of strings or NULL; captures win). Every present field is
 * converted and checked against `allowed`; defaults are converted too. *out is new
 * (fw_data_free). Errors: ERR_INVALID with Vault's "error converting input for field ..."
 * text; ERR_INTERNAL for a default that does not parse (a bug in the path table) or OOM. */
int fw_data_build(const struct fw_path *p, const cJSON *body, const cJSON *captures,
                  struct fw_data **out, struct err *e);
void fw_data_free(struct fw_data *d);

/* ---- route.c: pattern matching ------------------------------------------------------ */

/* Finds the first path of b whose anchored pattern matches `path`. Returns NULL when none
 * does. *captures is set to a new object of the non-empty named captures (cJSON_Delete),
 * or NULL when there are none or the path did not match. */
const struct fw_path *fw_route(const struct fw_backend *b, const char *path,
                               cJSON **captures);

/* fw_route that tells "no path matches" (NULL, e untouched) from "this path cannot be
 * matched" (NULL, e->kind ERR_INVALID): longer than FW_MAX_PATH_LEN (fw.h), or a PCRE2 matching
 * error. The latter are the client's 400, never a 404. */
const struct fw_path *fw_route_checked(const struct fw_backend *b, const char *path,
                                       cJSON **captures, struct err *e);

/* ---- help.c / openapi.c --------------------------------------------------------------- */

/* The help operation for the mount root (p == NULL) or the path p matched by req->path.
 * Fills resp with {"help", "see_also", "openapi"}. */
void fw_help(const struct fw_backend *b, const struct fw_path *p, const struct fw_req *req,
             struct fw_resp *resp);

/* New OAS 3.0.2 document for one path (p) or for the whole backend (p == NULL). `prefix` is
 * the requestResponsePrefix used in operation ids ("" for none). NULL on OOM. */
cJSON *fw_openapi_doc(const struct fw_backend *b, const struct fw_path *p, const char *prefix);

/* Expands a route pattern into the OpenAPI paths it stands for (without the leading '/'),
 * captures written as {name}: "data/?" -> "data", "data/". Returns the number of paths
 * written to out (each new, free()), 0 when the pattern uses regex features that have no
 * OpenAPI form (Vault then documents the raw pattern with no operations). */
size_t fw_pattern_expand(const char *pattern, char **out, size_t max);

#endif
