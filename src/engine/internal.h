/* internal.h (private to src/engine): what the engine's files share. Accounts and roles (account.c,
 * role.c, policy.c, path_account.c, path_role.c, backend.c) and orders (order*.c,
 * path_order*.c, path_lookup.c) meet only through this header. */
#ifndef PKIEXT_ENGINE_INTERNAL_H
#define PKIEXT_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "fw.h"

struct acme_client;   /* include/acme.h */
struct order_worker;  /* orders: background worker, owned by struct engine */

/* One mount's instance (fw_req.backend). Created by backend.c's setup, freed in cleanup. */
struct engine {
    struct fw_env env;              /* borrowed from the runtime, valid until cleanup */
    struct order_worker *worker;    /* NULL until orders_start */
};

/* ---- accounts (account.c) ------------------------------------------------------------ */

/* An ACME account as stored at account/<name>. Opaque; account_free() frees (NULL ok). */
struct account;

/* *out is new; ERR_NOT_FOUND when there is no such account. */
int account_load(struct fw_storage *s, const char *name, struct account **out, struct err *e);
/* A new ACME client for the account's directory, active key and account URL, honouring
 * its trusted_ca. *out is freed by the caller with acme_client_free(). */
int account_client(const struct account *a, struct acme_client **out, struct err *e);
void account_free(struct account *a);

/* ---- roles (role.c, policy.c) --------------------------------------------------------- */

enum role_domain_opt {
    ROLE_DOM_BARE = 1 << 0,
    ROLE_DOM_SUBDOMAINS = 1 << 1,
    ROLE_DOM_WILDCARDS = 1 << 2,
    ROLE_DOM_GLOBS = 1 << 3
};

/* A role as stored at role/<name>. Owns every pointer; role_free() frees (NULL ok). */
struct role {
    char *name;
    char *acme_account_name;
    char **allowed_domains;          /* NULL-terminated, as given (may hold templates) */
    unsigned domain_opts;            /* enum role_domain_opt bits */
    char **allowed_challenge_types;  /* NULL-terminated: "http-01", "dns-01", "tls-alpn-01" */
    enum crypto_key_type csr_key_type;
    enum crypto_csr_population csr_population;
    char *dns_provider_name, *dns_provider_type;   /* "" when unset */
    int64_t creation_date, last_updated_date;      /* unix seconds */
};

/* *out is new; ERR_NOT_FOUND when there is no such role. */
int role_load(struct fw_storage *s, const char *name, struct role **out, struct err *e);
void role_free(struct role *r);

/* Checks every identifier against the role's domain policy, resolving identity templates
 * in allowed_domains for req->entity_id through req->sysview. ERR_INVALID names the first
 * identifier refused. */
int role_check_identifiers(const struct role *r, const struct fw_req *req,
                           const char *const *identifiers, size_t n, struct err *e);
/* ERR_INVALID unless `type` is one of the role's allowed challenge types. */
int role_check_challenge_type(const struct role *r, const char *type, struct err *e);

/* ---- orders (order*.c) -------------------------------------------------------------- */

/* Order paths, NULL-terminated; backend.c puts them in the backend's path table. */
extern const struct fw_path *const order_paths[];

/* Starts / stops the order worker of a mount. */
int orders_start(struct engine *eng, struct err *e);
void orders_stop(struct engine *eng);
/* Vault's periodic rollback: advance every order whose next_work_date has passed. */
int orders_periodic(const struct fw_req *req, struct err *e);
/* True when the role has non-terminal orders (prefix list of role-active/<role>/). */
int orders_role_has_active(struct fw_storage *s, const char *role, bool *has, struct err *e);

#endif
