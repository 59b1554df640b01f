/* order_lock.c: per-order locks, so that no two threads (worker, rollback, a request)
 * advance or change the same order at once. A small set of held ids under one mutex:
 * orders are locked for one step's CA round trips, and few are in flight at a time.
 *
 * Process-wide on purpose: order ids are unique across mounts, and several mounts may
 * share one plugin process, so the table cannot belong to one mount. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"

struct held {
    char id[37];
    struct held *next;
};

static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lock_cv = PTHREAD_COND_INITIALIZER;
static struct held *lock_held;

static struct held **find(const char *id)
{
    struct held **p = &lock_held;
    while (*p && strcmp((*p)->id, id) != 0)
        p = &(*p)->next;
    return p;
}

/* Caller holds lock_mu. False only when out of memory (treated as "busy": the order is
 * then simply advanced by a later trigger). */
static bool take(const char *id)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        return false;
    strncpy(h->id, id, sizeof h->id - 1);
    h->next = lock_held;
    lock_held = h;
    return true;
}

bool order_lock_try(const char *id)
{
    bool ok = false;
    pthread_mutex_lock(&lock_mu);
    if (!*find(id))
        ok = take(id);
    pthread_mutex_unlock(&lock_mu);
    return ok;
}

void order_lock_wait(const char *id)
{
    pthread_mutex_lock(&lock_mu);
    for (;;) {
        /* Out of memory taking a free lock: go on unlocked rather than wait forever. */
        if (!*find(id)) {
            take(id);
            break;
        }
        pthread_cond_wait(&lock_cv, &lock_mu);
    }
    pthread_mutex_unlock(&lock_mu);
}

void order_lock_release(const char *id)
{
    pthread_mutex_lock(&lock_mu);
    struct held **p = find(id);
    if (*p) {
        struct held *h = *p;
        *p = h->next;
        free(h);
    }
    pthread_cond_broadcast(&lock_cv);
    pthread_mutex_unlock(&lock_mu);
}
