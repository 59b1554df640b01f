/* pool.c: a fixed set of worker threads fed by a FIFO of embedded jobs. Handlers may block
 * for seconds (brokered storage calls, an ACME CA), so they never run on the
 * completion-queue thread. */
#include "rt.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* Owns its threads; jobs are borrowed from their submitters until fn runs. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a job was queued, or stopping */
    pthread_cond_t idle;     /* a job finished */
    struct pool_job *head, *tail;
    int running;             /* jobs being run right now */
    uint64_t finished;       /* jobs run to the end since pool_new */
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        if (!p->head)
            break;
        struct pool_job *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        job->fn(job);
        pthread_mutex_lock(&p->mu);
        p->running--;
        p->finished++;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct pool *pool_new(int threads, struct err *e)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p)
        p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p || !p->threads) {
        free(p);
        err_set(e, ERR_INTERNAL, "worker pool: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (; p->nthreads < threads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) != 0)
            break;
    }
    if (p->nthreads == 0) {
        pool_free(p);
        err_set(e, ERR_INTERNAL, "worker pool: cannot start threads");
        return NULL;
    }
    return p;
}

void pool_submit(struct pool *p, struct pool_job *job)
{
    job->next = NULL;
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
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
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
    free(p);
}
