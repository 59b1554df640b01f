/* resp.c: struct fw_resp lifecycle and warnings (see fw.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fw_resp_init(struct fw_resp *r)
{
    memset(r, 0, sizeof *r);
    r->status = FW_STATUS_OK;
}

void fw_resp_clear(struct fw_resp *r)
{
    if (!r)
        return;
    cJSON_Delete(r->data);
    cJSON_Delete(r->warnings);
    fw_resp_init(r);
}

/* A warning that cannot be stored (out of memory) is dropped: warnings are advice, and the
 * response itself must still go out. */
void fw_resp_warn(struct fw_resp *r, const char *fmt, ...)
{
    char stack[512];
    char *text = stack;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof stack) {
        text = malloc((size_t)n + 1);
        if (!text)
            return;
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (!r->warnings)
        r->warnings = cJSON_CreateArray();
    if (r->warnings)
        cJSON_AddItemToArray(r->warnings, cJSON_CreateString(text));
    if (text != stack)
        free(text);
}
