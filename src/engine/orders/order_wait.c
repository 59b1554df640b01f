/* order_wait.c: requests that wait for an order to move (role/:name/issue). A waiter
 * registers the order id it waits for; the worker calls order_wait_notify after each
 * advance of that order, which wakes the waiter through one condition variable. Nothing
 * polls: a waiter sleeps on the condition until it is notified, the mount stops, or its
 * deadline passes.
 *
 * A waiter registers BEFORE it first reads the order, so an advance that completes between
 * that read and the wait is not lost (the woken flag is set while it reads). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../internal.h"
#include "order.h"
#include "order_wait.h"

/* Owned by struct engine (eng->waits): engine_new creates it, engine_free frees it. */
struct order_waits {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* CLOCK_MONOTONIC */
    struct order_waiter *head;
    int count;
    bool stopping;
};

int order_waits_new(struct order_waits **out, struct err *e)
{
    struct order_waits *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;
    if (!w)
        return err_set(e, ERR_INTERNAL, "order waits: out of memory");
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = w;
    return 0;
}

void order_waits_free(struct order_waits *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

void order_waits_stop(struct engine *eng)
{
    struct order_waits *w = eng ? eng->waits : NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void order_wait_notify(struct engine *eng, const char *id)
{
    struct order_waits *w = eng ? eng->waits : NULL;
    bool any = false;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    for (struct order_waiter *it = w->head; it; it = it->next) {
        if (strcmp(it->id, id) == 0) {
            it->woken = true;
            any = true;
        }
    }
    if (any)
        pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool order_wait_begin(struct engine *eng, const char *id, int max, struct order_waiter *me)
{
    struct order_waits *w = eng ? eng->waits : NULL;
    bool ok = false;
    memset(me, 0, sizeof *me);
    if (!w || strlen(id) >= sizeof me->id)
        return false;
    strcpy(me->id, id);
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->count < max) {
        me->next = w->head;
        w->head = me;
        w->count++;
        me->registered = true;
        ok = true;
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool order_wait_next(struct engine *eng, struct order_waiter *me, int64_t until_wall_ms)
{
    struct order_waits *w = eng->waits;
    bool woken = false;
    /* The deadline is a wall-clock date (the host's); it is turned into a monotonic time
     * once, so a clock step during the wait changes nothing. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t left = until_wall_ms - wall_ms();
    int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (left > 0 ? left : 0);
    struct timespec until = { .tv_sec = at / 1000, .tv_nsec = (at % 1000) * 1000000 };
    pthread_mutex_lock(&w->mu);
    while (!me->woken && !w->stopping && !atomic_load(&eng->stopping)) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
            break;   /* ETIMEDOUT */
    }
    woken = me->woken;
    me->woken = false;
    pthread_mutex_unlock(&w->mu);
    return woken;
}

void order_wait_end(struct engine *eng, struct order_waiter *me)
{
    struct order_waits *w = eng ? eng->waits : NULL;
    if (!w || !me->registered)
        return;
    pthread_mutex_lock(&w->mu);
    for (struct order_waiter **p = &w->head; *p; p = &(*p)->next) {
        if (*p == me) {
            *p = me->next;
            w->count--;
            break;
        }
    }
    me->registered = false;
    pthread_mutex_unlock(&w->mu);
}
