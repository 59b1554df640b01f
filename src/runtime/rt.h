/* rt.h: private interfaces of the plugin runtime (src/runtime). Only this folder includes
 * it. Threads: one completion-queue thread (server.c) drives every gRPC event; handler work
 * runs on a small worker pool (pool.c); brokered client calls block their worker on a private
 * completion queue (client.c). int functions return 0, or -1 with *e set. */
#ifndef PKIEXT_RT_H
#define PKIEXT_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <protobuf-c/protobuf-c.h>

#include "err.h"
#include "fw.h"

#define RT_LOG "runtime"

/* ---- handshake.c: environment, cookie, version negotiation, the stdout line ---------- */

#define RT_COOKIE_KEY "VAULT_BACKEND_PLUGIN"
#define RT_COOKIE_VALUE "6669da05-b1c8-4f49-97d9-c8e5bed98e20"
#define RT_PROTOCOL_VERSION 5

/* getenv("BAO_<suffix>"), else getenv("VAULT_<suffix>"); a present-but-empty BAO_ value
 * wins, as in OpenBao's api.ReadBaoVariable. Borrowed from the environment, or NULL. */
const char *rt_env(const char *suffix);
/* True when value is the backend plugin magic cookie. */
bool handshake_cookie_ok(const char *value);
/* Picks the app protocol version from PLUGIN_PROTOCOL_VERSIONS ("5", "3,4", ...): 0 and
 * *version = 5 when 5 is offered, else -1 with a message for the operator in *e. */
int handshake_pick_version(const char *offered, int *version, struct err *e);
/* Writes "1|<version>|unix|<path>|grpc|<cert_b64>\n" into buf; -1 if it does not fit. */
int handshake_format_line(char *buf, size_t len, int version, const char *sock_path,
                          const char *cert_b64);
/* The texts printed on stderr when the binary is started by hand or by a too old host. */
void handshake_print_not_a_program(const char *backend_name);

/* ---- tls.c: the ephemeral AutoMTLS identity ------------------------------------------ */

/* The plugin's one-time certificate. Owns its strings; tls_ident_clear frees them. */
struct tls_ident {
    char *key_pem;   /* PKCS#8 PEM private key */
    char *cert_pem;  /* PEM certificate */
    char *cert_b64;  /* DER, standard base64 without '=' padding (handshake field 6) */
};

/* Self-signed P-256 v3 cert, SAN DNS:localhost, EKU serverAuth+clientAuth. */
int tls_ident_generate(struct tls_ident *id, struct err *e);
void tls_ident_clear(struct tls_ident *id);
/* Standard-alphabet base64 without padding or newlines; new string, caller frees. */
char *tls_base64_raw(const unsigned char *data, size_t len);

/* ---- sockdir.c: a private directory holding the listening socket -------------------- */

struct sockdir {
    char dir[96];     /* leaves room for "/plugin.sock" within sun_path */
    char path[108];   /* dir + "/plugin.sock", < 108 bytes (sun_path) */
};

/* mkdtemp a 0700 directory in PLUGIN_UNIX_SOCKET_DIR, else $TMPDIR, else /tmp. */
int sockdir_create(struct sockdir *sd, struct err *e);
/* Unlinks the socket and removes the directory; safe to call twice. */
void sockdir_remove(struct sockdir *sd);

/* ---- deadline.c: waits on condition variables --------------------------------------- */

/* timeout_ms from now as a CLOCK_REALTIME time, for pthread_cond_timedwait. */
void rt_deadline_after_ms(int timeout_ms, struct timespec *until);

/* ---- pool.c: worker threads ---------------------------------------------------------- */

/* A unit of work; embedded in its owner, never allocated by the pool. */
struct pool_job {
    void (*fn)(struct pool_job *job);
    struct pool_job *next;
    const char *key;   /* pool_submit_keyed's; borrowed until fn runs */
};

#define POOL_KEY_MAX 64   /* keys longer than this are compared on their first 63 bytes */

struct pool;   /* opaque: pool_new() / pool_free() */
/* key_limit > 0: at most that many jobs of one key (pool_submit_keyed) run at once; the
 * others wait in the queue, in order, while jobs of other keys pass them. 0: no limit. */
struct pool *pool_new(int threads, int key_limit, struct err *e);
void pool_submit(struct pool *p, struct pool_job *job);
/* key NULL or "": no limit (as pool_submit). */
void pool_submit_keyed(struct pool *p, struct pool_job *job, const char *key);
/* Waits up to timeout_ms for queued and running jobs to finish; true when idle. */
bool pool_drain(struct pool *p, int timeout_ms);
/* Stops and joins the threads (after pool_drain returned true), frees the pool. */
void pool_free(struct pool *p);
/* Jobs run to the end so far (a measure of activity). */
uint64_t pool_finished(struct pool *p);

/* ---- heap.c: memory back to the system after a burst ------------------------------------ */

/* Owned by the signal thread, which ticks it once a second. */
struct heap_watch {
    uint64_t seen;     /* pool jobs finished at the last tick */
    int quiet_ticks;   /* ticks since that number last moved */
    bool freed_since;  /* work ran since the last trim */
};
void heap_tick(struct heap_watch *h, uint64_t finished);

/* ---- broker.c: ConnInfos received on plugin.GRPCBroker/StartStream ------------------- */

struct broker;   /* opaque: broker_new() / broker_free(); thread-safe */
struct broker *broker_new(void);
void broker_free(struct broker *b);
/* Records the address the host offers for service_id (from the CQ thread). */
void broker_put(struct broker *b, uint32_t service_id, const char *network, const char *addr);
/* Waits up to timeout_ms for service_id; copies "unix:<path>" style target into buf. */
int broker_wait(struct broker *b, uint32_t service_id, int timeout_ms, char *buf, size_t len,
                struct err *e);

/* ---- client.c: blocking unary calls on a brokered channel --------------------------- */

/* Calls method on ch with req; *reply is a new message of reply_desc (free with
 * protobuf_c_message_free_unpacked). Safe from any number of threads at once. */
int client_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **reply,
                struct err *e);
/* Opens the mTLS channel to a brokered host server ("unix:/path"). */
grpc_channel *client_channel_new(const char *target, const struct tls_ident *id,
                                 const char *host_cert_pem);

/* ---- storage_client.c / sysview_client.c: fw interfaces over the broker ------------- */

/* Both keep ch borrowed: the owner (struct mount) outlives them. */
void storage_client_init(struct fw_storage *s, grpc_channel *ch);
void sysview_client_init(struct fw_sysview *sv, grpc_channel *ch);

/* ---- mount.c: one Setup's backend instance ------------------------------------------ */

struct runtime;
/* A backend instance plus its brokered channel, for one multiplex_id (one Vault mount when
 * the host multiplexes; "" when it does not say). Owns everything it points to except
 * `next`. Reference counted: the runtime's list holds one reference and every request in
 * flight another, so Cleanup never frees an instance a handler still uses; the last
 * mount_release() runs the backend's cleanup and frees it. */
struct mount {
    char mux_id[64];
    struct mount *next;          /* the runtime's list, guarded by its mount_lock */
    atomic_int refs;
    grpc_channel *chan;
    struct fw_storage storage;
    struct fw_sysview sysview;
    struct fw_env env;
    struct cJSON *config;
    char *uuid;
    void *instance;
};

/* Pb__SetupArgs is passed as a ProtobufCMessage to keep generated types out of this header. */
int mount_setup(struct runtime *rt, const ProtobufCMessage *setup_args, const char *mux_id,
                struct mount **out, struct err *e);
void mount_free(const struct fw_backend *b, struct mount *m);

/* A new reference to the mount for mux_id (drop it with mount_release), or NULL when that
 * id has not been set up. */
struct mount *mount_acquire(struct runtime *rt, const char *mux_id);
/* Drops a reference; NULL ok. */
void mount_release(struct runtime *rt, struct mount *m);
/* Installs m (which carries its mux_id; the list takes its one reference) or, with m NULL,
 * removes mux_id; drops the list's reference to the mount it replaced. */
void mount_replace(struct runtime *rt, const char *mux_id, struct mount *m);
/* Removes every mount, dropping the list's references. */
void mount_release_all(struct runtime *rt);

/* ---- server.c / services.c: the gRPC server ---------------------------------------- */

/* Process-wide runtime state, built by runtime_serve before the first thread starts. The
 * mount list is guarded by mount_lock, held only to look up, link or unlink. */
struct runtime {
    const struct fw_backend *backend;
    struct tls_ident ident;
    const char *host_cert_pem;       /* PLUGIN_CLIENT_CERT, borrowed from the environment */
    struct sockdir sock;
    grpc_server *server;
    grpc_completion_queue *cq;
    struct pool *pool;
    /* Requests whose handler talks to a remote service (fw_request_is_remote): their own,
     * smaller set of threads, so a slow or silent CA can tie up at most these, never the
     * workers that answer reads. Keyed by multiplex_id: one mount takes at most half of
     * them, so a mount whose CA is a black hole cannot hold up another mount's CA calls. */
    struct pool *remote_pool;
    struct broker *broker;
    pthread_mutex_t mount_lock;
    struct mount *mounts;
    atomic_int shutting_down;        /* server shutdown started */
};

/* The reply of a unary handler: a packed message, or a non-OK status. */
struct rt_reply {
    uint8_t *buf;                     /* malloc'd packed message */
    size_t len;
    grpc_status_code status;
    char detail[256];
    bool shutdown_after;              /* stop the server once this reply is sent */
};

/* One incoming unary call as a handler sees it; all borrowed. */
struct rt_in {
    const uint8_t *buf;
    size_t len;
    const char *mux_id;               /* "multiplex_id" request metadata, or "" */
    int64_t deadline_ms;              /* the call's deadline, wall-clock ms; 0: none */
    const atomic_bool *cancelled;     /* true once the host cancelled the call; NULL: never */
};

typedef void (*rt_unary_fn)(struct runtime *rt, const struct rt_in *in, struct rt_reply *out);
/* True when the call should run on the remote lane (struct runtime.remote_pool). */
typedef bool (*rt_lane_fn)(struct runtime *rt, const struct rt_in *in);

enum rt_method_kind { RT_UNARY, RT_BROKER_STREAM, RT_STDIO_STREAM };

struct rt_method {
    const char *path;                 /* "/pb.Backend/HandleRequest" */
    enum rt_method_kind kind;
    rt_unary_fn fn;                   /* RT_UNARY only */
    rt_lane_fn remote_lane;           /* NULL: always the request pool */
};

/* NULL when the method is not served (answer UNIMPLEMENTED). */
const struct rt_method *services_find(const char *path, size_t len);
/* Packs msg into out->buf with status OK; on allocation failure sets RESOURCE_EXHAUSTED. */
void rt_reply_pack(struct rt_reply *out, const ProtobufCMessage *msg);
void rt_reply_status(struct rt_reply *out, grpc_status_code status, const char *detail);

int server_start(struct runtime *rt, struct err *e);
/* Runs the completion-queue loop until the server has shut down. True when every call has
 * finished (server_destroy may then free everything); false when the shutdown timed out with
 * handlers still running (the caller exits without freeing). */
bool server_run(struct runtime *rt);
void server_destroy(struct runtime *rt);
/* Starts the shutdown (idempotent, any thread). */
void server_stop(struct runtime *rt);

#endif
