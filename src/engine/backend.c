/* backend.c: the pki-external-ca engine as a framework backend (include/engine.h): its
 * path table, special paths and lifecycle callbacks. */
#include "engine.h"
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "orders/order.h"
#include "orders/order_wait.h"
#include "orders/tidy.h"

/* The path table joins three NULL-terminated lists defined in other files (accounts,
 * roles, orders); C cannot concatenate extern arrays of unknown length in a constant
 * initializer. So the table is filled once, under pthread_once, from setup(): the runtime
 * calls Setup before it routes any request, and routing is the only reader of
 * engine_backend.paths. Until then the table is empty (a lone NULL), which is still a valid
 * table. Written exactly once and never changed after, it is the engine's one global that
 * is not constant; everything else the engine keeps in memory belongs to a mount
 * (struct engine: its worker, locks and ACME clients). */
enum { ENGINE_MAX_PATHS = 64 };
static const struct fw_path *engine_paths[ENGINE_MAX_PATHS + 1];
static pthread_once_t engine_paths_once = PTHREAD_ONCE_INIT;

static void engine_paths_fill(void)
{
    const struct fw_path *const *lists[] = { account_paths, role_paths, order_paths,
                                              dns_paths };
    size_t n = 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; lists[l][i] && n < ENGINE_MAX_PATHS; i++)
            engine_paths[n++] = lists[l][i];
    engine_paths[n] = NULL;
}

struct engine *engine_new(const struct fw_env *env, struct err *e)
{
    struct engine *eng = calloc(1, sizeof *eng);
    if (!eng) {
        err_set(e, ERR_INTERNAL, "engine setup: out of memory");
        return NULL;
    }
    eng->env = *env;
    eng->dns_tokens = dns_token_cache_new();
    if (!eng->dns_tokens) {
        free(eng);
        err_set(e, ERR_INTERNAL, "engine setup: out of memory");
        return NULL;
    }
    if (order_clients_new(&eng->clients, e) < 0) {
        dns_token_cache_free(eng->dns_tokens);
        free(eng);
        return NULL;
    }
    if (order_waits_new(&eng->waits, e) < 0 || tidy_new(&eng->tidy, e) < 0) {
        order_waits_free(eng->waits);
        order_clients_free(eng->clients);
        free(eng);
        return NULL;
    }
    keylocks_init(&eng->order_locks);
    keylocks_init(&eng->account_locks);
    keylocks_init(&eng->role_locks);
    atomic_init(&eng->dns_sweep_due, true);
    atomic_init(&eng->rotation_check_at, 0);
    atomic_init(&eng->tidy_check_at, 0);
    atomic_init(&eng->renewal_scan_due, true);
    keylocks_init(&eng->reuse_locks);
    return eng;
}

void engine_free(struct engine *eng)
{
    if (!eng)
        return;
    /* The tidy thread first: it takes order locks and uses the mount's storage. */
    tidy_stop(eng);
    orders_stop(eng);
    tidy_free(eng->tidy);
    order_waits_free(eng->waits);
    order_clients_free(eng->clients);
    dns_token_cache_free(eng->dns_tokens);
    keylocks_destroy(&eng->order_locks);
    keylocks_destroy(&eng->account_locks);
    keylocks_destroy(&eng->role_locks);
    keylocks_destroy(&eng->reuse_locks);
    free(eng);
}

void engine_invalidate(struct engine *eng, const char *key)
{
    /* The caches derived from storage: ACME clients, built from account/<name>, and DNS
     * provider tokens, fetched with dns-provider/<type>/<name>. */
    if (eng && strncmp(key, "account/", 8) == 0)
        order_clients_drop(eng->clients, key + 8);
    size_t pl = strlen(DNS_CONFIG_PREFIX);
    const char *slash = strncmp(key, DNS_CONFIG_PREFIX, pl) == 0 ? strchr(key + pl, '/') : NULL;
    if (eng && slash) {
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)(slash - key - pl), key + pl);
        dns_config_forget(eng, type, slash + 1);
    }
    /* A record tracked by another node is for the sweep to know of. */
    if (eng && strncmp(key, "dns-record/", 11) == 0)
        dns_records_expect(eng);
    engine_recheck(eng, key);
}

void engine_recheck(struct engine *eng, const char *key)
{
    if (!eng)
        return;
    if (!key || strncmp(key, "account/", 8) == 0)
        atomic_store(&eng->rotation_check_at, 0);
    if (!key || strcmp(key, TIDY_AUTO_KEY) == 0 || strcmp(key, TIDY_STATUS_KEY) == 0)
        atomic_store(&eng->tidy_check_at, 0);
    if (!key || strncmp(key, "renewal-watch/", 14) == 0)
        atomic_store(&eng->renewal_scan_due, true);
}

static void *engine_setup(const struct fw_env *env, struct err *e)
{
    pthread_once(&engine_paths_once, engine_paths_fill);
    struct engine *eng = engine_new(env, e);
    if (!eng)
        return NULL;
    if (orders_start(eng, e) < 0) {
        err_wrap(e, "engine setup");
        engine_free(eng);
        return NULL;
    }
    return eng;
}

/* Nothing to migrate or seed yet: storage layout version 1 is written lazily by the
 * handlers. Kept as the place where a future layout migration belongs. */
static int engine_initialize(void *backend, const struct fw_env *env, struct err *e)
{
    return 0;
}

/* Vault's rollback: one scan by the worker, which also sweeps dns-01 records when some may
 * be left (so the rollback costs one SystemView call, not one here and one in the scan). */
static int engine_periodic(const struct fw_req *req, struct err *e)
{
    if (orders_periodic(req, e) < 0)
        return -1;
    /* A tidy run a crash or restart interrupted resumes here; auto-tidy starts here. */
    return tidy_periodic(req, e);
}

static void engine_cleanup(void *backend)
{
    engine_free(backend);
}

/* InvalidateKey: Vault sends it when a key this node may have cached changed elsewhere
 * (replication). */
static void engine_invalidate_key(void *backend, const char *key)
{
    engine_invalidate(backend, key);
}

static const char *const engine_seal_wrap[] = { "account/", "account-pending/", "order-key/",
                                                DNS_CONFIG_PREFIX,
                                                NULL };

static const char engine_help[] =
    "The PKI External CA secrets engine obtains leaf certificates from external ACME\n"
    "certificate authorities (Let's Encrypt, a Vault PKI mount with ACME, any RFC 8555 CA).\n"
    "\n"
    "  config/acme-account/:name   ACME accounts (create, import, rotate-key, delete)\n"
    "  role/:name                  domain and challenge policy for orders\n"
    "  role/:name/new-order        start an order (identifiers or a CSR)\n"
    "  role/:name/order/:id/...    status, challenge, fulfilled-challenge, fetch-cert, revoke\n"
    "  role/:name/cached           the newest cached certificate for identifiers\n"
    "  role/:name/issue            one call: order, wait, and the certificate when it is done\n"
    "  lookup/...                  certificates by serial, orders by id\n"
    "  config/dns/<type>/:name     DNS providers (rfc2136, aws-route53, azure-dns,\n"
    "                              google-cloud-dns, cloudflare) for\n"
    "                              Vault-managed dns-01\n"
    "  dns/test/workflow           test a DNS provider with a real TXT record\n"
    "  tidy, tidy-status, tidy-cancel, config/auto-tidy   remove orders past retention\n"
    "\n"
    "All state lives in Vault storage; account keys, generated private keys and DNS\n"
    "provider secrets are seal-wrapped.";

const struct fw_backend engine_backend = {
    .name = "pki-external-ca",
    .version = PKIEXT_VERSION,
    .help = engine_help,
    .paths = engine_paths,
    .special = { .seal_wrap_storage = engine_seal_wrap },
    .setup = engine_setup,
    .initialize = engine_initialize,
    .periodic = engine_periodic,
    .invalidate = engine_invalidate_key,
    .cleanup = engine_cleanup,
};
