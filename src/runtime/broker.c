/* broker.c: the addresses the host announces on plugin.GRPCBroker/StartStream, kept by
 * service id. A ConnInfo may arrive before, during or after the Setup that needs it, so
 * Setup waits on a condition variable (go-plugin waits 5 s). */
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One announced service; owns its target string. */
struct broker_entry {
    uint32_t id;
    char *target;            /* "unix:/path" or "ipv4:127.0.0.1:port" */
    struct broker_entry *next;
};

/* Owns its entries. */
struct broker {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct broker_entry *entries;
};

struct broker *broker_new(void)
{
    struct broker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->changed, NULL);
    return b;
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    for (struct broker_entry *n, *x = b->entries; x; x = n) {
        n = x->next;
        free(x->target);
        free(x);
    }
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

void broker_put(struct broker *b, uint32_t service_id, const char *network, const char *addr)
{
    struct broker_entry *x = calloc(1, sizeof *x);
    size_t len = strlen(addr) + 16;
    if (x)
        x->target = malloc(len);
    if (!x || !x->target) {
        free(x);
        return;
    }
    x->id = service_id;
    snprintf(x->target, len, "%s:%s", strcmp(network, "tcp") == 0 ? "ipv4" : "unix", addr);
    pthread_mutex_lock(&b->mu);
    x->next = b->entries;
    b->entries = x;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->mu);
}

static const struct broker_entry *broker_find(const struct broker *b, uint32_t id)
{
    for (const struct broker_entry *x = b->entries; x; x = x->next)
        if (x->id == id)
            return x;
    return NULL;
}

int broker_wait(struct broker *b, uint32_t service_id, int timeout_ms, char *buf, size_t len,
                struct err *e)
{
    struct timespec until;
    rt_deadline_after_ms(timeout_ms, &until);
    pthread_mutex_lock(&b->mu);
    const struct broker_entry *x = broker_find(b, service_id);
    int rc = 0;
    while (!x && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&b->changed, &b->mu, &until);
        x = broker_find(b, service_id);
    }
    int n = x ? snprintf(buf, len, "%s", x->target) : -1;
    pthread_mutex_unlock(&b->mu);
    if (!x)
        return err_set(e, ERR_INTERNAL, "timeout waiting for connection info %u", service_id);
    if (n < 0 || (size_t)n >= len)
        return err_set(e, ERR_INTERNAL, "broker address for %u too long", service_id);
    return 0;
}
