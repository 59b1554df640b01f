/* runtime.c: runtime_serve, the plugin's life from exec to exit: check the launch, build
 * the AutoMTLS identity, start the gRPC server, print the handshake line, serve until the
 * host's Shutdown (or SIGTERM), then remove the socket. */
#include "runtime.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rt.h"

/* Handler threads; each may block on the broker or an ACME CA for seconds. */
#define RUNTIME_WORKERS 16
/* Threads for requests that wait on a CA (account create/import/rotate/delete, revoke). */
#define RUNTIME_REMOTE_WORKERS 6
/* Of those, what one mount (multiplex_id) may hold at once: a mount whose CA never answers
 * ties up 3, and every other mount's CA calls still find threads. */
#define RUNTIME_REMOTE_PER_MOUNT 3

/* Refuses launches this runtime cannot serve, with a message for the operator; 0 to go on. */
static int launch_check(const struct fw_backend *backend, int *version)
{
    struct err e = { 0 };
    if (!handshake_cookie_ok(getenv(RT_COOKIE_KEY))) {
        handshake_print_not_a_program(backend->name);
        return -1;
    }
    const char *meta = rt_env("PLUGIN_METADATA_MODE");
    if (handshake_pick_version(getenv("PLUGIN_PROTOCOL_VERSIONS"), version, &e) != 0 ||
        (meta && strcmp(meta, "true") == 0)) {
        if (e.kind == ERR_OK)
            err_set(&e, ERR_INVALID, "metadata mode is a pre-1.12 launch: this plugin needs "
                                     "Vault >= 1.12 or OpenBao 2.x");
        log_error(RT_LOG, "unsupported plugin launch", "error", e.msg, NULL);
        return -1;
    }
    const char *cert = getenv("PLUGIN_CLIENT_CERT");
    if (!cert || !*cert) {
        log_error(RT_LOG, "PLUGIN_CLIENT_CERT is not set: the host did not enable AutoMTLS",
                  NULL);
        return -1;
    }
    return 0;
}

/* The signals the signal thread owns. SIGUSR1 is only our own wake-up call at exit. */
static void signals_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

/* SIGTERM/SIGHUP become a clean shutdown on a dedicated thread; every other thread
 * (gRPC's included) inherits the blocked mask, so this is the only receiver. It also stops
 * the plugin when the host process is gone (we were reparented), checked once a second, and
 * gives freed memory back after a burst of requests (heap.c). */
static void *signal_main(void *arg)
{
    struct runtime *rt = arg;
    pid_t parent = getppid();
    sigset_t set;
    struct timespec tick = { 1, 0 };
    struct heap_watch heap = { 0 };
    signals_set(&set);
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGUSR1)
            break;
        heap_tick(&heap, pool_finished(rt->pool) + pool_finished(rt->remote_pool));
        if (sig > 0 || getppid() != parent) {
            log_info(RT_LOG, sig > 0 ? "signal received, shutting down"
                                     : "host process gone, shutting down", NULL);
            server_stop(rt);
        }
    }
    return NULL;
}

static void signals_setup(void)
{
    /* go-plugin ignores SIGINT: a Ctrl-C on the host's terminal is the host's to handle. */
    signal(SIGINT, SIG_IGN);
    sigset_t set;
    signals_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int runtime_start(struct runtime *rt, int version, struct err *e)
{
    char line[4096];
    if (tls_ident_generate(&rt->ident, e) != 0 || sockdir_create(&rt->sock, e) != 0)
        return -1;
    rt->broker = broker_new();
    rt->pool = rt->broker ? pool_new(RUNTIME_WORKERS, 0, e) : NULL;
    rt->remote_pool = rt->pool ? pool_new(RUNTIME_REMOTE_WORKERS, RUNTIME_REMOTE_PER_MOUNT, e)
                               : NULL;
    if (!rt->pool || !rt->remote_pool)
        return err_set(e, ERR_INTERNAL, "cannot start worker threads");
    grpc_init();
    if (server_start(rt, e) != 0)
        return -1;
    if (handshake_format_line(line, sizeof line, version, rt->sock.path, rt->ident.cert_b64)
        != 0)
        return err_set(e, ERR_INTERNAL, "handshake line too long");
    /* The first and only stdout output; stdout is a pipe, so flush it now. */
    fputs(line, stdout);
    fflush(stdout);
    return 0;
}

static void runtime_free(struct runtime *rt, bool clean)
{
    if (clean && pool_drain(rt->remote_pool, 500) && pool_drain(rt->pool, 500)) {
        mount_release_all(rt);
        server_destroy(rt);
        pool_free(rt->remote_pool);
        pool_free(rt->pool);
        broker_free(rt->broker);
        grpc_shutdown();
        pthread_mutex_destroy(&rt->mount_lock);
    }
    /* Otherwise handlers are still running: leave their memory alone, the process exits. */
    sockdir_remove(&rt->sock);
    tls_ident_clear(&rt->ident);
}

int runtime_serve(const struct fw_backend *backend, int argc, char **argv)
{
    struct runtime *rt;
    struct err e = { 0 };
    int version = 0;
    const char *level = rt_env("LOG_LEVEL");
    log_init(level ? level : "info");
    if (launch_check(backend, &version) != 0)
        return 1;
    signals_setup();
    rt = calloc(1, sizeof *rt);
    if (!rt)
        return 1;
    rt->backend = backend;
    rt->host_cert_pem = getenv("PLUGIN_CLIENT_CERT");
    pthread_mutex_init(&rt->mount_lock, NULL);
    atomic_init(&rt->shutting_down, 0);
    if (runtime_start(rt, version, &e) != 0) {
        log_error(RT_LOG, "plugin start failed", "error", e.msg, NULL);
        fprintf(stderr, "plugin start failed: %s\n", e.msg);
        sockdir_remove(&rt->sock);
        return 1;
    }
    pthread_t sig_thread;
    bool sig_running = pthread_create(&sig_thread, NULL, signal_main, rt) == 0;
    log_debug(RT_LOG, "plugin serving", "socket", rt->sock.path, "version", backend->version,
              NULL);
    bool clean = server_run(rt);
    log_debug(RT_LOG, "plugin stopped", "clean", clean ? "true" : "false", NULL);
    if (sig_running) {
        pthread_kill(sig_thread, SIGUSR1);
        pthread_join(sig_thread, NULL);
    }
    runtime_free(rt, clean);
    if (clean)
        free(rt);
    return 0;
}
