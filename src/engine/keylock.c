/* keylock.c: exclusive locks on names (order ids, account names, role names), one table per
 * kind per mount (struct engine). Like Vault's sdk/helper/locksutil the table is a fixed set
 * of stripes chosen by a hash of the key, so unrelated keys rarely share a mutex; unlike
 * locksutil a stripe does not lock every key that hashes to it: each stripe keeps the list
 * of keys actually held. That matters because some holders wait on a CA (an account create
 * registers the account, an advance talks to the order's CA): two keys that share a stripe
 * must not wait for each other's CA.
 *
 * The hold record is the caller's (usually on its stack), so taking a lock never allocates
 * and cannot fail. A release wakes waiters only when the released key had some, and only
 * those of its stripe. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

static struct keylock_stripe *stripe_of(struct keylocks *l, const char *key)
{
    /* FNV-1a: cheap and spreads short ASCII keys well. */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &l->stripes[h % KEYLOCK_STRIPES];
}

/* Caller holds st->mu. */
static struct keylock *held(struct keylock_stripe *st, const char *key)
{
    for (struct keylock *k = st->held; k; k = k->next)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

static void take(struct keylock_stripe *st, const char *key, struct keylock *h)
{
    h->key = key;
    h->waiters = 0;
    h->next = st->held;
    st->held = h;
}

void keylocks_init(struct keylocks *l)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (size_t i = 0; i < KEYLOCK_STRIPES; i++) {
        pthread_mutex_init(&l->stripes[i].mu, NULL);
        pthread_cond_init(&l->stripes[i].cv, &ca);
        l->stripes[i].held = NULL;
    }
    pthread_condattr_destroy(&ca);
}

void keylocks_destroy(struct keylocks *l)
{
    for (size_t i = 0; i < KEYLOCK_STRIPES; i++) {
        pthread_mutex_destroy(&l->stripes[i].mu);
        pthread_cond_destroy(&l->stripes[i].cv);
    }
}

bool keylock_try(struct keylocks *l, const char *key, struct keylock *h)
{
    struct keylock_stripe *st = stripe_of(l, key);
    bool ok = false;
    pthread_mutex_lock(&st->mu);
    if (!held(st, key)) {
        take(st, key, h);
        ok = true;
    }
    pthread_mutex_unlock(&st->mu);
    return ok;
}

void keylock_wait(struct keylocks *l, const char *key, struct keylock *h)
{
    struct keylock_stripe *st = stripe_of(l, key);
    struct keylock *k;
    pthread_mutex_lock(&st->mu);
    while ((k = held(st, key)) != NULL) {
        k->waiters++;   /* tells the holder's release to wake this stripe */
        pthread_cond_wait(&st->cv, &st->mu);
    }
    take(st, key, h);
    pthread_mutex_unlock(&st->mu);
}

void keylock_release(struct keylocks *l, struct keylock *h)
{
    if (!h || !h->key)
        return;
    struct keylock_stripe *st = stripe_of(l, h->key);
    pthread_mutex_lock(&st->mu);
    for (struct keylock **p = &st->held; *p; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            break;
        }
    }
    if (h->waiters > 0)
        pthread_cond_broadcast(&st->cv);
    h->key = NULL;
    pthread_mutex_unlock(&st->mu);
}
