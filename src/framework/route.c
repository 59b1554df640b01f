/* route.c: matching a request path against a backend's path table.
 *
 * Patterns are compiled once per backend and kept for the life of the process in a
 * process-wide, append-only list keyed by the backend pointer (backends are static tables,
 * so there is nothing to free). Readers walk the list without a lock: an entry is fully
 * built before it is published with a release store, and entries are never changed or
 * removed. Writers (the first request of each backend) serialise on a mutex. A compiled
 * pcre2_code is read-only during matching, so threads share it; each match uses its own
 * match data. This is the framework's only global state. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

struct route_cache {
    const struct fw_backend *backend;
    size_t npaths;
    pcre2_code **codes;        /* one per path; NULL when the pattern did not compile */
    uint32_t max_pairs;        /* ovector pairs the largest pattern needs */
    struct route_cache *next;
};

static _Atomic(struct route_cache *) cache_head;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct route_cache *cache_find(const struct fw_backend *b)
{
    struct route_cache *c = atomic_load_explicit(&cache_head, memory_order_acquire);
    for (; c; c = c->next) {
        if (c->backend == b)
            return c;
    }
    return NULL;
}

/* Compiles one pattern anchored at both ends (PCRE2_ANCHORED | PCRE2_ENDANCHORED, the
 * same as Go's "^" + pattern with its trailing "$", but safe for alternations). A pattern
 * that does not compile is logged and never matches. */
static pcre2_code *compile_pattern(const char *pattern)
{
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    pcre2_code *re = NULL;
    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                       PCRE2_ANCHORED | PCRE2_ENDANCHORED, &errcode, &erroff, NULL);
    if (re)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* optional speed-up; falls back if absent */
    if (!re) {
        char msg[256], off[32];
        pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof msg);
        snprintf(off, sizeof off, "%zu", (size_t)erroff);
        log_error(FW_LOG_MODULE, "path pattern does not compile", "pattern", pattern,
                  "error", msg, "offset", off, NULL);
    }
    return re;
}

static struct route_cache *cache_build(const struct fw_backend *b)
{
    struct route_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->backend = b;
    for (const struct fw_path *const *p = b->paths; p && *p; p++)
        c->npaths++;
    c->codes = calloc(c->npaths ? c->npaths : 1, sizeof *c->codes);
    if (!c->codes) {
        free(c);
        return NULL;
    }
    c->max_pairs = 1;
    for (size_t i = 0; i < c->npaths; i++) {
        uint32_t groups = 0;
        if (b->paths[i]->pattern)
            c->codes[i] = compile_pattern(b->paths[i]->pattern);
        if (c->codes[i] &&
            pcre2_pattern_info(c->codes[i], PCRE2_INFO_CAPTURECOUNT, &groups) == 0 &&
            groups + 1 > c->max_pairs)
            c->max_pairs = groups + 1;
    }
    return c;
}

static struct route_cache *cache_get(const struct fw_backend *b)
{
    struct route_cache *c = cache_find(b);
    if (c)
        return c;
    pthread_mutex_lock(&cache_lock);
    c = cache_find(b);
    if (!c) {
        c = cache_build(b);
        if (c) {
            c->next = atomic_load_explicit(&cache_head, memory_order_relaxed);
            atomic_store_explicit(&cache_head, c, memory_order_release);
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return c;
}

/* Adds the set, non-empty named groups of a match to a new object (Go's framework skips
 * empty captures too). */
static cJSON *collect_captures(const pcre2_code *re, pcre2_match_data *md, const char *path)
{
    uint32_t count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;

    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0)
        return NULL;
    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    cJSON *caps = cJSON_CreateObject();
    if (!caps)
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR ent = table + (size_t)i * entry_size;
        uint32_t group = ((uint32_t)ent[0] << 8) | ent[1];
        const char *name = (const char *)ent + 2;
        if (group >= pairs || ov[2 * group] == PCRE2_UNSET)
            continue;
        size_t start = ov[2 * group], end = ov[2 * group + 1];
        if (end <= start)
            continue;
        char *val = strndup(path + start, end - start);
        if (val)
            cJSON_AddItemToObject(caps, name, cJSON_CreateString(val));
        free(val);
    }
    if (!caps->child) {
        cJSON_Delete(caps);
        return NULL;
    }
    return caps;
}

const struct fw_path *fw_route_checked(const struct fw_backend *b, const char *path,
                                       cJSON **captures, struct err *e)
{
    *captures = NULL;
    if (!b || !path)
        return NULL;
    size_t len = strlen(path);
    if (len > FW_MAX_PATH_LEN) {
        err_set(e, ERR_INVALID, "request path is %zu bytes long; the longest accepted is %d",
                len, FW_MAX_PATH_LEN);
        return NULL;
    }
    struct route_cache *c = cache_get(b);
    if (!c)
        return NULL;
    const struct fw_path *found = NULL;
    /* one match block, sized for the pattern with the most groups, serves every attempt */
    pcre2_match_data *md = pcre2_match_data_create(c->max_pairs, NULL);
    if (!md)
        return NULL;
    for (size_t i = 0; i < c->npaths && !found; i++) {
        if (!c->codes[i])
            continue;
        int rc = pcre2_match(c->codes[i], (PCRE2_SPTR)path, len, 0, 0, md, NULL);
        /* The JIT's small stack gives out on long subjects: the interpreter, whose frames
         * live on the heap, decides instead. A failure there is not "no match". */
        if (rc < PCRE2_ERROR_NOMATCH)
            rc = pcre2_match(c->codes[i], (PCRE2_SPTR)path, len, 0, PCRE2_NO_JIT, md, NULL);
        if (rc >= 0) {
            *captures = collect_captures(c->codes[i], md, path);
            found = b->paths[i];
        } else if (rc < PCRE2_ERROR_NOMATCH) {
            char msg[128];
            pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
            err_set(e, ERR_INVALID, "request path could not be matched against the path "
                    "table: %s", msg);
            break;
        }
    }
    pcre2_match_data_free(md);
    return found;
}

const struct fw_path *fw_route(const struct fw_backend *b, const char *path,
                               cJSON **captures)
{
    struct err e = { 0 };
    return fw_route_checked(b, path, captures, &e);
}
