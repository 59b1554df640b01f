/* fw.h: the C equivalent of Vault's sdk/framework. A backend is data: a table of paths,
 * each a PCRE2 pattern with named captures, typed fields and one handler per operation.
 * The runtime (src/runtime) turns a pb.Request into a struct fw_req, calls
 * fw_handle_request / fw_existence_check, and turns the struct fw_resp back into protobuf.
 * The framework never sees protobuf or gRPC; the engine never sees them either.
 *
 * JSON values are cJSON trees. Ownership: fw_req and everything it points to is borrowed by
 * handlers; fw_resp.data and fw_resp.warnings are owned by the response (fw_resp_clear frees).
 * All functions are thread-safe; handlers run concurrently on several threads. */
#ifndef PKIEXT_FW_H
#define PKIEXT_FW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct fw_req;

/* ---- Storage: Vault's logical.Storage, reached over the broker ---------------------- */

/* One mount's storage view. Keys are relative to the mount. Safe to use from any thread
 * between the backend's setup and cleanup. */
struct fw_storage {
    void *ctx;
    /* *val is new (malloc, NUL-terminated for convenience, *len excludes the NUL), caller
     * frees. A missing key is success with *val == NULL. */
    int (*get)(void *ctx, const char *key, char **val, size_t *len, struct err *e);
    /* seal_wrap asks Vault to seal-wrap the entry (also declare the path in SpecialPaths). */
    int (*put)(void *ctx, const char *key, const char *val, size_t len, bool seal_wrap,
               struct err *e);
    int (*del)(void *ctx, const char *key, struct err *e);
    /* Keys directly under prefix (prefix ends in '/' or is ""); sub-folders end in '/'.
     * *keys is a new NULL-terminated array; free with fw_strv_free. */
    int (*list)(void *ctx, const char *prefix, char ***keys, struct err *e);
};

/* JSON helpers over a storage. *out is new (cJSON_Delete), NULL when the key is missing. */
int fw_storage_get_json(struct fw_storage *s, const char *key, struct cJSON **out,
                        struct err *e);
int fw_storage_put_json(struct fw_storage *s, const char *key, const struct cJSON *val,
                        bool seal_wrap, struct err *e);
void fw_strv_free(char **v);

/* The text of Vault's logical.ErrReadOnly. A storage error carrying it is ERR_READ_ONLY; a
 * handler failing with ERR_READ_ONLY is answered with exactly this text (pb.ProtoError type
 * 0), which the host reads back as logical.ErrReadOnly: OpenBao's logical.ShouldForward then
 * forwards the request from a standby to the active node. */
extern const char fw_read_only_msg[];

/* True when a storage error text (the host's reply) is logical.ErrReadOnly's. */
bool fw_storage_err_is_read_only(const char *host_err);

/* ---- SystemView: Vault's logical.SystemView ----------------------------------------- */

/* The framework's own bits; the runtime translates Vault's wire values (consts.Replication*)
 * into these, so nothing above the runtime depends on the wire numbering. */
enum fw_replication {
    FW_REPL_PERF_SECONDARY = 1 << 1,
    FW_REPL_DR_SECONDARY = 1 << 3,
    FW_REPL_PERF_STANDBY = 1 << 8
};

struct fw_sysview {
    void *ctx;
    /* *entity is a new JSON object shaped like logical.Entity's JSON form
     * ({"id","name","metadata":{...},"aliases":[...],"namespace_id",...}), or NULL when
     * there is no such entity. */
    int (*entity_info)(void *ctx, const char *entity_id, struct cJSON **entity, struct err *e);
    /* *groups is a new JSON array of logical.Group objects ({"id","name","metadata",...}). */
    int (*groups_for_entity)(void *ctx, const char *entity_id, struct cJSON **groups,
                             struct err *e);
    /* Bit set of enum fw_replication. */
    int (*replication_state)(void *ctx, uint32_t *state, struct err *e);
    int (*local_mount)(void *ctx, bool *local, struct err *e);
};

/* True when this node may write storage and do background work (not a performance standby,
 * DR secondary or performance secondary). On error, returns false (do no work). */
bool fw_sysview_can_write(struct fw_sysview *sv);

/* For a handler about to cause a side effect outside Vault (a CA call) that it must then
 * store: ERR_READ_ONLY when the SystemView says this node cannot write (performance standby,
 * DR or performance secondary), else 0. An unanswered SystemView is not a refusal: the
 * handler's first storage write decides then. */
int fw_require_writable(const struct fw_req *req, struct err *e);
/* ERR_RETRY when the host has cancelled req (see fw_req.cancelled), else 0. A handler calls
 * it between a remote call and the write that records its outcome: the client has been
 * told the request failed, so nothing may be stored after that. */
int fw_req_cancelled(const struct fw_req *req, struct err *e);

/* ---- Requests and responses ------------------------------------------------------- */

enum fw_op { FW_READ = 0, FW_CREATE, FW_UPDATE, FW_PATCH, FW_DELETE, FW_LIST, FW_OP_COUNT };

/* What one mount of the backend is given at setup; lives until cleanup. */
struct fw_env {
    struct fw_storage *storage;
    struct fw_sysview *sysview;
    const struct cJSON *config;  /* Setup's config map as a JSON object of strings */
    const char *backend_uuid;
};

/* A request as a handler sees it; all borrowed. */
struct fw_req {
    const char *operation;    /* the wire string: "read", "update", "help", "rollback", ... */
    enum fw_op op;            /* for the six HTTP operations */
    const char *path;         /* relative to the mount, no leading '/' */
    const struct cJSON *data; /* the request body/query as JSON, or NULL */
    const char *id;           /* request id, for logs */
    const char *entity_id;    /* may be "" */
    const char *mount_point;
    struct fw_storage *storage;
    struct fw_sysview *sysview;
    void *backend;            /* the instance returned by fw_backend.setup */
    int64_t deadline_ms;      /* when the host stops waiting (wall-clock ms); 0: none */
    /* Becomes true when the host cancels the request (its client went away, its context
     * ended): the host has already answered it with an error. NULL: never. Handlers hand
     * it to their CA client (acme_client_set_cancel) and check fw_req_cancelled before
     * storing what a remote call returned. */
    const atomic_bool *cancelled;
};

/* How the framework tells the runtime which protocol error to send (pb.ProtoError). */
enum fw_status {
    FW_STATUS_OK = 0,           /* resp.data (maybe NULL = nil response) */
    FW_STATUS_UNSUPPORTED_PATH, /* err_type 6 -> 404 */
    FW_STATUS_UNSUPPORTED_OP,   /* err_type 5 -> 405 */
    FW_STATUS_USER_ERROR,       /* existence check: err_type 1 (400); HandleRequest: the
                                   runtime sends an {"error": msg} response (400) */
    FW_STATUS_INTERNAL,         /* err_type 0 with a generic message -> 500 */
    FW_STATUS_READ_ONLY,        /* err_type 0 with fw_read_only_msg: the host forwards the
                                   request to the active node (a standby's 500 otherwise) */
    FW_STATUS_NOT_FOUND         /* the object the request names does not exist; err_msg
                                   names it. 404 {"errors":[msg]} for every operation (a nil
                                   response would be a 204 "success" on writes) */
};

struct fw_resp {
    enum fw_status status;
    char err_msg[512];         /* for non-OK statuses */
    struct cJSON *data;        /* owned object, or NULL for a nil response */
    struct cJSON *warnings;    /* owned array of strings, or NULL */
};

void fw_resp_init(struct fw_resp *r);
void fw_resp_clear(struct fw_resp *r);
/* Appends a warning (copied). */
void fw_resp_warn(struct fw_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Fields ----------------------------------------------------------------------- */

enum fw_type {
    FW_TYPE_STRING = 1,
    FW_TYPE_INT,                 /* int64 */
    FW_TYPE_BOOL,
    FW_TYPE_DURATION,            /* whole seconds, >= 0 */
    FW_TYPE_COMMA_STRING_SLICE,  /* "a,b" or ["a","b"] */
    FW_TYPE_STRING_SLICE,        /* ["a","b"]; a string is one element */
    FW_TYPE_MAP,                 /* JSON object */
    FW_TYPE_NAME,                /* string matching ^\w(([\w-.]+)?\w)?$ */
    FW_TYPE_LOWERCASE_STRING
};

/* A field of a path. `def` is the default in the string form `vault write` would send
 * ("ec-256", "true", "72h", "a,b"), parsed by the same rules as input; NULL = zero value. */
struct fw_field {
    const char *name;
    enum fw_type type;
    const char *desc;
    const char *def;
    bool required;                       /* documentation, as in Vault */
    const char *const *allowed;          /* NULL-terminated enum values, or NULL */
    bool query;                          /* also documented as a query parameter */
    /* "" means the default (set, with `def`, on enum fields: a fixed value set checked by
     * `allowed` or by the handler). Clients send "" for an optional value left unset: the
     * Terraform provider >= 5.9 copies the user's config, so an omitted key_type arrives
     * as "". The field then reads as present with the default value; any other value not
     * in the set is still refused. */
    bool empty_is_default;
    /* For text fields holding PEM: the block labels the value may consist of ("CERTIFICATE",
     * NULL). Such a value may span lines; it must be one or more of these blocks and nothing
     * else (400 otherwise). Every other text field refuses line breaks and tabs, unless
     * multiline is set (a JSON document such as a key file, checked by its handler). */
    const char *const *pem;
    bool multiline;
};

/* The request body as the host sends it (JSON text of len bytes) -> *out, a new object
 * (NULL for "" and "null"). Refuses, with ERR_INVALID and a message naming the top-level
 * field: NUL and other control characters (except line breaks and tabs, which the field
 * rules check), invalid UTF-8, nesting deeper than FW_JSON_MAX_DEPTH, text that is not a JSON
 * object. */
#define FW_JSON_MAX_DEPTH 300
/* Longest request path (relative to the mount) the framework routes; longer is a 400. */
#define FW_MAX_PATH_LEN 2048
int fw_request_data_parse(const char *text, size_t len, struct cJSON **out, struct err *e);

/* Parsed, typed field values of one request. Opaque; borrowed by handlers. */
struct fw_data;

/* True when the request (body, query or path capture) set the field. */
bool fw_data_present(const struct fw_data *d, const char *name);
/* Typed getters: the request's value, else the field's default, else the zero value.
 * Strings are never NULL. Asking for an undeclared field returns the zero value. */
const char *fw_data_str(const struct fw_data *d, const char *name);
int64_t fw_data_int(const struct fw_data *d, const char *name);
bool fw_data_bool(const struct fw_data *d, const char *name);
int64_t fw_data_duration(const struct fw_data *d, const char *name);
/* A Vault duration ("90s", "1h30m", "3600") as whole seconds; ERR_INVALID when malformed
 * (for fields whose value is a duration or something else, e.g. "30%"). */
int fw_parse_duration_seconds(const char *s, int64_t *secs, struct err *e);
/* For the slice types: a JSON array of strings, never NULL (possibly empty). */
const struct cJSON *fw_data_list(const struct fw_data *d, const char *name);
/* For FW_TYPE_MAP: a JSON object, never NULL (possibly empty). */
const struct cJSON *fw_data_map(const struct fw_data *d, const char *name);

/* ---- Paths and backends ------------------------------------------------------------ */

/* A handler returns 0 with resp->data set (or left NULL for a nil response: 404 on read and
 * list, 204 on writes), or -1 with *e set: ERR_INVALID becomes a 400 {"error": msg} response,
 * ERR_NOT_FOUND a 404 whose errors name the missing object (FW_STATUS_NOT_FOUND, whatever
 * the operation), ERR_READ_ONLY FW_STATUS_READ_ONLY (forwarded by the host), anything else
 * is logged in full and returned as a generic 500. */
typedef int (*fw_handler)(const struct fw_req *req, const struct fw_data *d,
                          struct fw_resp *resp, struct err *e);
/* Existence check: *exists true means the resource is there (update), false means create. */
typedef int (*fw_exists_fn)(const struct fw_req *req, const struct fw_data *d, bool *exists,
                            struct err *e);

struct fw_operation {
    fw_handler fn;          /* NULL: operation not supported on this path (405) */
    const char *summary;
};


struct fw_path {
    /* PCRE2 pattern relative to the mount, anchored by the framework (^...$); named
     * captures (?<name>...) fill fields of the same name. */
    const char *pattern;
    const struct fw_field *fields;   /* terminated by { 0 } (name == NULL) */
    fw_exists_fn exists;             /* NULL: no existence check (POST/PUT arrive as update) */
    struct fw_operation ops[FW_OP_COUNT];
    const char *synopsis;
    const char *description;
    bool take_arbitrary_input;       /* no "ignored unrecognized parameters" warning */
    /* Operations (bit 1u << op) whose handler waits on a remote service (an ACME CA). The
     * runtime runs those requests on threads of their own, so they cannot hold up the
     * others; such handlers bound their remote calls by req->deadline_ms. */
    unsigned remote_ops;
};

/* Named-capture helpers for patterns, matching Vault's framework.GenericNameRegex. */
/* The '-' stands last in the class: PCRE2, unlike Go's RE2, reads "[\w-.]" as a bad range. */
#define FW_NAME_RE(name) "(?<" name ">\\w(([\\w.-]+)?\\w)?)"
#define FW_OPT_TRAILING_SLASH "/?"

struct fw_special_paths {
    const char *const *root;              /* NULL-terminated lists, each may be NULL */
    const char *const *unauthenticated;
    const char *const *local_storage;
    const char *const *seal_wrap_storage;
};

struct fw_backend {
    const char *name;          /* e.g. "pki-external-ca", for logs and OpenAPI */
    const char *version;       /* semver with leading v, e.g. "v0.1.0" */
    const char *help;          /* backend help shown on the mount root */
    const struct fw_path *const *paths;   /* NULL-terminated */
    struct fw_special_paths special;
    /* Creates one mount's instance (req->backend). May read but not write storage. */
    void *(*setup)(const struct fw_env *env, struct err *e);
    /* First point where storage writes are allowed. NULL ok. */
    int (*initialize)(void *backend, const struct fw_env *env, struct err *e);
    /* Vault's periodic "rollback" request, about once a minute. NULL ok. */
    int (*periodic)(const struct fw_req *req, struct err *e);
    /* Drop caches for a storage key changed on another node. NULL ok. */
    void (*invalidate)(void *backend, const char *key);
    /* Stop background work and free the instance. NULL ok. */
    void (*cleanup)(void *backend);
};

/* True when the request (wire path and operation) would run a handler marked remote. */
bool fw_request_is_remote(const struct fw_backend *b, const char *path, const char *operation);

/* Routes, parses fields, calls the handler, builds the response (including "help" and
 * "rollback" operations). Always returns with *resp filled; never fails otherwise. */
void fw_handle_request(const struct fw_backend *b, const struct fw_req *req,
                       struct fw_resp *resp);
/* pb.Backend.HandleExistenceCheck: *check_found false when the path has no existence
 * function. Returns status like fw_resp (FW_STATUS_USER_ERROR for bad field values). */
enum fw_status fw_existence_check(const struct fw_backend *b, const struct fw_req *req,
                                  bool *check_found, bool *exists, char *msg, size_t msg_len);

#endif
