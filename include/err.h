/* err.h: errors as values. Every fallible function returns 0, or -1 with *e filled.
 * Filling an error never allocates, so it is safe on out-of-memory paths. */
#ifndef PKIEXT_ERR_H
#define PKIEXT_ERR_H

enum err_kind {
    ERR_OK = 0,
    ERR_INVALID,    /* the caller's input is wrong: HTTP 400, message names the field */
    ERR_NOT_FOUND,  /* the thing asked for does not exist: nil response, HTTP 404 */
    ERR_UPSTREAM,   /* the ACME CA (or another remote) failed or refused */
    ERR_RETRY,      /* transient: try again later (see retry_at where the API has one) */
    ERR_INTERNAL,   /* a bug, storage or system failure: logged in full, 500 to the client */
    ERR_READ_ONLY   /* storage refused a write on this node (an HA standby, a secondary):
                       the host forwards the request to the active node */
};

struct err {
    enum err_kind kind;
    char msg[512];
};

/* Fills *e (may be NULL) and returns -1, so `return err_set(...)` is one line. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes e->msg with "<prefix>: " in place (truncating), returns -1. For adding context
 * on the way up: `return err_wrap(e, "account %s", name);` */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
