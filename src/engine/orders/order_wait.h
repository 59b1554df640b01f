/* orders/order_wait.h (private to src/engine): waiting for an order to move, for requests
 * that answer with the order's outcome (role/:name/issue). Event-driven: the worker's
 * advance of an order wakes its waiters (order_wait.c). Thread-safe. */
#ifndef PKIEXT_ENGINE_ORDER_WAIT_H
#define PKIEXT_ENGINE_ORDER_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct engine;
struct order_waits;   /* the mount's registry (struct engine's waits) */

/* One waiting request; the caller owns it (on its stack) from begin to end. */
struct order_waiter {
    char id[37];
    bool woken;         /* notified since the last order_wait_next */
    bool registered;
    struct order_waiter *next;
};

int order_waits_new(struct order_waits **out, struct err *e);
void order_waits_free(struct order_waits *w);   /* NULL ok; no waiter may be registered */
/* Wakes every waiter for good (mount stopping); later begins fail. */
void order_waits_stop(struct engine *eng);

/* Wakes the waiters of order id (called after each advance of it). eng may be NULL. */
void order_wait_notify(struct engine *eng, const char *id);
/* Registers me for order id unless max waiters are registered already or the mount is
 * stopping: false then (do not wait). Call before the first read of the order. */
bool order_wait_begin(struct engine *eng, const char *id, int max, struct order_waiter *me);
/* Sleeps until the order was notified (true), or until until_wall_ms (unix ms) passes or the
 * mount stops (false). A notification since the last call returns at once. */
bool order_wait_next(struct engine *eng, struct order_waiter *me, int64_t until_wall_ms);
void order_wait_end(struct engine *eng, struct order_waiter *me);   /* unregistered ok */

#endif
