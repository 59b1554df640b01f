/* memstore.c: in-memory storage for unit tests (see memstore.h). A sorted array of entries;
 * tests hold a handful of keys, so linear work per call is fine. */
#include "memstore.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct mem_entry {
    char *key;
    char *val;
    size_t len;
};

struct memstore {
    struct fw_storage iface;     /* first: a struct fw_storage * is a struct memstore * */
    pthread_mutex_t lock;
    struct mem_entry *v;
    size_t n, cap;
    int fail;
    bool read_only;
    int write_fail_skip;     /* < 0: off */
    int writes;              /* puts and deletes asked for so far */
};

/* Index of key, or of the slot where it would go (*found false). */
static size_t find(struct memstore *m, const char *key, int *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->v[mid].key, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static int injected_failure(struct memstore *m, struct err *e)
{
    if (m->fail <= 0)
        return 0;
    m->fail--;
    return err_set(e, ERR_INTERNAL, "memstore: injected failure") != 0;
}

/* A refused write: read-only mode or the armed write failure. */
static int write_refused(struct memstore *m, struct err *e)
{
    m->writes++;
    if (m->read_only)
        return err_set(e, ERR_READ_ONLY, "%s", fw_read_only_msg) != 0;
    if (m->write_fail_skip < 0)
        return 0;
    if (m->write_fail_skip-- > 0)
        return 0;
    return err_set(e, ERR_INTERNAL, "memstore: injected write failure") != 0;
}

static int mem_get(void *ctx, const char *key, char **val, size_t *len, struct err *e)
{
    struct memstore *m = ctx;
    int found, rc = 0;
    *val = NULL;
    *len = 0;
    pthread_mutex_lock(&m->lock);
    if (injected_failure(m, e)) {
        rc = -1;
        goto out;
    }
    size_t i = find(m, key, &found);
    if (found) {
        *val = malloc(m->v[i].len + 1);
        if (!*val) {
            rc = err_set(e, ERR_INTERNAL, "memstore: out of memory");
            goto out;
        }
        memcpy(*val, m->v[i].val, m->v[i].len + 1);
        *len = m->v[i].len;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_put(void *ctx, const char *key, const char *val, size_t len, bool seal_wrap,
                   struct err *e)
{
    struct memstore *m = ctx;
    int found, rc = 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return err_set(e, ERR_INTERNAL, "memstore: out of memory");
    memcpy(copy, val, len);
    copy[len] = '\0';
    pthread_mutex_lock(&m->lock);
    if (injected_failure(m, e) || write_refused(m, e)) {
        free(copy);
        rc = -1;
        goto out;
    }
    size_t i = find(m, key, &found);
    if (found) {
        free(m->v[i].val);
        m->v[i].val = copy;
        m->v[i].len = len;
        goto out;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct mem_entry *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv) {
            free(copy);
            rc = err_set(e, ERR_INTERNAL, "memstore: out of memory");
            goto out;
        }
        m->v = nv;
        m->cap = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(copy);
        rc = err_set(e, ERR_INTERNAL, "memstore: out of memory");
        goto out;
    }
    memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *m->v);
    m->v[i] = (struct mem_entry){ k, copy, len };
    m->n++;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_del(void *ctx, const char *key, struct err *e)
{
    struct memstore *m = ctx;
    int found, rc = 0;
    pthread_mutex_lock(&m->lock);
    if (injected_failure(m, e) || write_refused(m, e)) {
        rc = -1;
        goto out;
    }
    size_t i = find(m, key, &found);
    if (found) {
        free(m->v[i].key);
        free(m->v[i].val);
        memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
        m->n--;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Direct children of prefix: "a/b" under "a/" is "b", "a/b/c" is the folder "b/". */
static int mem_list(void *ctx, const char *prefix, char ***keys, struct err *e)
{
    struct memstore *m = ctx;
    size_t plen = strlen(prefix), n = 0;
    int rc = 0;
    *keys = NULL;
    pthread_mutex_lock(&m->lock);
    if (injected_failure(m, e)) {
        rc = -1;
        goto out;
    }
    char **out = calloc(m->n + 1, sizeof *out);
    if (!out) {
        rc = err_set(e, ERR_INTERNAL, "memstore: out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->v[i].key;
        if (strncmp(k, prefix, plen) != 0)
            continue;
        const char *rest = k + plen;
        const char *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) + 1 : strlen(rest);
        if (n > 0 && strlen(out[n - 1]) == len && strncmp(out[n - 1], rest, len) == 0)
            continue;   /* keys are sorted, so a folder's entries are adjacent */
        out[n] = strndup(rest, len);
        if (!out[n]) {
            fw_strv_free(out);
            rc = err_set(e, ERR_INTERNAL, "memstore: out of memory");
            goto out;
        }
        n++;
    }
    *keys = out;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

struct fw_storage *memstore_new(void)
{
    struct memstore *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->write_fail_skip = -1;
    m->iface = (struct fw_storage){ m, mem_get, mem_put, mem_del, mem_list };
    return &m->iface;
}

void memstore_free(struct fw_storage *s)
{
    struct memstore *m = (struct memstore *)s;
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    free(m->v);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

size_t memstore_count(struct fw_storage *s)
{
    struct memstore *m = (struct memstore *)s;
    pthread_mutex_lock(&m->lock);
    size_t n = m->n;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void memstore_fail_next(struct fw_storage *s, int n)
{
    struct memstore *m = (struct memstore *)s;
    pthread_mutex_lock(&m->lock);
    m->fail = n;
    pthread_mutex_unlock(&m->lock);
}

void memstore_set_read_only(struct fw_storage *s, bool on)
{
    struct memstore *m = (struct memstore *)s;
    pthread_mutex_lock(&m->lock);
    m->read_only = on;
    pthread_mutex_unlock(&m->lock);
}

void memstore_fail_write_after(struct fw_storage *s, int skip)
{
    struct memstore *m = (struct memstore *)s;
    pthread_mutex_lock(&m->lock);
    m->write_fail_skip = skip;
    pthread_mutex_unlock(&m->lock);
}

int memstore_writes(struct fw_storage *s)
{
    struct memstore *m = (struct memstore *)s;
    pthread_mutex_lock(&m->lock);
    int n = m->writes;
    pthread_mutex_unlock(&m->lock);
    return n;
}

size_t memstore_count_prefix(struct fw_storage *s, const char *prefix)
{
    struct memstore *m = (struct memstore *)s;
    size_t n = 0, plen = strlen(prefix);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++)
        n += strncmp(m->v[i].key, prefix, plen) == 0;
    pthread_mutex_unlock(&m->lock);
    return n;
}
