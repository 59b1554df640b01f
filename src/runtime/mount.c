/* mount.c: what one pb.Backend/Setup creates: the brokered channel to the host's Storage
 * and SystemView, the fw interfaces over it, and the backend instance. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.pb-c.h"
#include "log.h"

/* go-plugin's broker gives the host 5 s to announce the connection for a Setup. */
#define MOUNT_BROKER_WAIT_MS 5000

static cJSON *config_json(const Pb__SetupArgs *args)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < args->n_config; i++)
        cJSON_AddStringToObject(o, args->config[i]->key, args->config[i]->value);
    return o;
}

int mount_setup(struct runtime *rt, const ProtobufCMessage *setup_args, const char *mux_id,
                struct mount **out, struct err *e)
{
    const Pb__SetupArgs *args = (const Pb__SetupArgs *)setup_args;
    char target[200];
    *out = NULL;
    if (broker_wait(rt->broker, args->broker_id, MOUNT_BROKER_WAIT_MS, target, sizeof target,
                    e) != 0)
        return -1;
    struct mount *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, ERR_INTERNAL, "setup: out of memory");
    snprintf(m->mux_id, sizeof m->mux_id, "%s", mux_id);
    atomic_init(&m->refs, 1);   /* the runtime's list */
    m->chan = client_channel_new(target, &rt->ident, rt->host_cert_pem);
    m->config = config_json(args);
    m->uuid = strdup(args->backenduuid ? args->backenduuid : "");
    if (!m->chan || !m->config || !m->uuid) {
        mount_free(NULL, m);
        return err_set(e, ERR_INTERNAL, "setup: cannot open the brokered connection");
    }
    storage_client_init(&m->storage, m->chan);
    sysview_client_init(&m->sysview, m->chan);
    m->env.storage = &m->storage;
    m->env.sysview = &m->sysview;
    m->env.config = m->config;
    m->env.backend_uuid = m->uuid;
    if (rt->backend->setup) {
        err_clear(e);
        m->instance = rt->backend->setup(&m->env, e);
        if (!m->instance && e && e->kind != ERR_OK) {
            mount_free(NULL, m);
            return -1;
        }
    }
    *out = m;
    return 0;
}

void mount_free(const struct fw_backend *b, struct mount *m)
{
    if (!m)
        return;
    if (b && b->cleanup && m->instance)
        b->cleanup(m->instance);
    if (m->chan)
        grpc_channel_destroy(m->chan);
    cJSON_Delete(m->config);
    free(m->uuid);
    free(m);
}

/* Finds mux_id in the list; caller holds mount_lock. */
static struct mount **mount_find(struct runtime *rt, const char *mux_id)
{
    struct mount **p = &rt->mounts;
    while (*p && strcmp((*p)->mux_id, mux_id) != 0)
        p = &(*p)->next;
    return p;
}

struct mount *mount_acquire(struct runtime *rt, const char *mux_id)
{
    pthread_mutex_lock(&rt->mount_lock);
    struct mount *m = *mount_find(rt, mux_id);
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&rt->mount_lock);
    return m;
}

void mount_release(struct runtime *rt, struct mount *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        mount_free(rt->backend, m);
}

void mount_replace(struct runtime *rt, const char *mux_id, struct mount *m)
{
    pthread_mutex_lock(&rt->mount_lock);
    struct mount **p = mount_find(rt, mux_id);
    struct mount *old = *p;
    if (old)
        *p = old->next;
    if (m) {
        m->next = rt->mounts;
        rt->mounts = m;
    }
    pthread_mutex_unlock(&rt->mount_lock);
    mount_release(rt, old);
}

void mount_release_all(struct runtime *rt)
{
    pthread_mutex_lock(&rt->mount_lock);
    struct mount *all = rt->mounts;
    rt->mounts = NULL;
    pthread_mutex_unlock(&rt->mount_lock);
    for (struct mount *next, *m = all; m; m = next) {
        next = m->next;
        mount_release(rt, m);
    }
}
