/* strv.c: NULL-terminated string vectors (the form fw_strv_free() frees): growing one, and
 * the LIST reply made from one. */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "internal.h"

int engine_strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n + 2 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **tmp = realloc(*v, ncap * sizeof *tmp);
        if (!tmp)
            return -1;
        *v = tmp;
        *cap = ncap;
        (*v)[*n] = NULL;   /* a first allocation is not terminated yet */
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    (*v)[(*n)++] = copy;
    (*v)[*n] = NULL;
    return 0;
}

int engine_keys_reply(char *const *keys, struct fw_resp *resp, struct err *e)
{
    size_t n = 0;
    while (keys && keys[n])
        n++;
    if (n == 0)
        return 0;
    cJSON *arr = cJSON_CreateStringArray((const char *const *)keys, (int)n);
    cJSON *obj = cJSON_CreateObject();
    if (!arr || !obj || !cJSON_AddItemToObject(obj, "keys", arr)) {
        cJSON_Delete(arr);
        cJSON_Delete(obj);
        return err_set(e, ERR_INTERNAL, "list: out of memory");
    }
    resp->data = obj;
    return 0;
}
