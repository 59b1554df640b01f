/* pool.c: a fixed set of worker threads fed by a FIFO of embedded jobs. Handlers may block
 * for seconds (brokered storage calls, an ACME CA), so they never run on the
 * completion-queue thread. */
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Owns its threads; jobs are borrowed from their submitters until fn runs. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a job was queued or a keyed job finished, or stopping */
    pthread_cond_t idle;     /* a job finished */
    struct pool_job *head, *tail;
    int running;             /* jobs being run right now */
    uint64_t finished;       /* jobs run to the end since pool_new */
    bool stopping;
    int key_limit;           /* keyed jobs of one key running at once; 0: no limit */
    /* [nthreads]: a copy of the key of the job thread i runs ("" none); a copy, because
     * the job (and its key) may be freed by its own fn before the thread is back. */
    char (*running_keys)[POOL_KEY_MAX];
    int nthreads;
    pthread_t *threads;
};

struct worker_arg {
    struct pool *p;
    int slot;
};

/* Under p->mu: true when a job with `key` may start now. */
static bool key_has_room(const struct pool *p, const char *key)
{
    if (!key || !*key || p->key_limit <= 0)
        return true;
    int n = 0;
    for (int i = 0; i < p->nthreads; i++)
        if (strcmp(p->running_keys[i], key) == 0)
            n++;
    return n < p->key_limit;
}

/* Under p->mu: unlinks and returns the oldest job that may start, NULL when none can. A job
 * whose key is at its limit stays queued, in order, while later jobs of other keys pass. */
static struct pool_job *take_next(struct pool *p)
{
    struct pool_job *prev = NULL;
    for (struct pool_job *j = p->head; j; prev = j, j = j->next) {
        if (!key_has_room(p, j->key))
            continue;
        if (prev)
            prev->next = j->next;
        else
            p->head = j->next;
        if (p->tail == j)
            p->tail = prev;
        return j;
    }
    return NULL;
}

static void *pool_main(void *arg)
{
    struct worker_arg *w = arg;
    struct pool *p = w->p;
    int slot = w->slot;
    free(w);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct pool_job *job = NULL;
        while (!p->stopping && !(job = take_next(p)))
            pthread_cond_wait(&p->work, &p->mu);
        if (!job)
            break;
        p->running++;
        snprintf(p->running_keys[slot], POOL_KEY_MAX, "%s", job->key ? job->key : "");
        pthread_mutex_unlock(&p->mu);
        job->fn(job);   /* may free the job (and its key): not read after this */
        pthread_mutex_lock(&p->mu);
        bool keyed = p->running_keys[slot][0] != '\0';
        p->running_keys[slot][0] = '\0';
        p->running--;
        p->finished++;
        if (keyed && p->head)   /* a job held back by its key's limit may start now */
            pthread_cond_broadcast(&p->work);
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct pool *pool_new(int threads, int key_limit, struct err *e)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p) {
        p->threads = calloc((size_t)threads, sizeof *p->threads);
        p->running_keys = calloc((size_t)threads, sizeof *p->running_keys);
        p->key_limit = key_limit;
    }
    if (!p || !p->threads || !p->running_keys) {
        if (p) {
            free(p->threads);
            free(p->running_keys);
        }
        free(p);
        err_set(e, ERR_INTERNAL, "worker pool: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    pthread_mutex_lock(&p->mu);   /* nthreads grows under the lock key_has_room reads */
    for (; p->nthreads < threads; p->nthreads++) {
        struct worker_arg *w = malloc(sizeof *w);
        if (!w)
            break;
        *w = (struct worker_arg){ p, p->nthreads };
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, w) != 0) {
            free(w);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (p->nthreads == 0) {
        pool_free(p);
        err_set(e, ERR_INTERNAL, "worker pool: cannot start threads");
        return NULL;
    }
    return p;
}

void pool_submit(struct pool *p, struct pool_job *job)
{
    pool_submit_keyed(p, job, NULL);
}

void pool_submit_keyed(struct pool *p, struct pool_job *job, const char *key)
{
    job->next = NULL;
    job->key = key;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

bool pool_drain(struct pool *p, int timeout_ms)
{
    struct timespec until;
    rt_deadline_after_ms(timeout_ms, &until);
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while ((p->head || p->running) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->idle, &p->mu, &until);
    bool idle = !p->head && !p->running;
    pthread_mutex_unlock(&p->mu);
    return idle;
}

uint64_t pool_finished(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = p->finished;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->running_keys);
    free(p);
}
