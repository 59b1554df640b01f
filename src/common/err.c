/* err.c: error values (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    e->kind = kind;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[256];
    char old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* Bound the old text by the room left, so the compiler sees no truncation. */
    int room = (int)sizeof e->msg - 3 - (int)strlen(prefix);
    snprintf(e->msg, sizeof e->msg, "%s: %.*s", prefix, room > 0 ? room : 0, old);
    if (e->kind == ERR_OK)
        e->kind = ERR_INTERNAL;
    return -1;
}

void err_clear(struct err *e)
{
    if (e) {
        e->kind = ERR_OK;
        e->msg[0] = '\0';
    }
}
