/* token.c: the bearer-token cache of a mount (struct dns_token_cache, dns.h) and
 * dns_token_get, through which the cloud providers get their OAuth access tokens.
 *
 * An entry is keyed by the configuration's identity "<type>/<name>" and a purpose, and holds
 * the SHA-256 of the configuration document the token was fetched for: a configuration
 * rewritten anywhere (this node or another) no longer matches, so no token outlives the
 * credentials it came from. While one thread fetches a token, an entry without a token
 * marks the fetch in progress and other threads wanting the same token wait for it rather
 * than asking the login endpoint again. The lock is never held across a fetch. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"

enum { TOKEN_MAX_ENTRIES = 512, TOKEN_FP_LEN = 32 };
/* Refresh this long before expiry at most; a fifth of the lifetime when that is less. */
static const int64_t TOKEN_MAX_MARGIN_S = 300;

struct token_entry {
    char id[200];                          /* "<type>/<name>" */
    char purpose[32];
    unsigned char fp[TOKEN_FP_LEN];        /* SHA-256 of the configuration document */
    char *token;                           /* owned, wiped; NULL while being fetched */
    int64_t fresh_until_ms;                /* monotonic; used only before this */
    bool dropped;                          /* dropped while being fetched: do not keep */
    struct token_entry *next;
};

/* Owns every entry and its token. */
struct dns_token_cache {
    pthread_mutex_t mu;
    pthread_cond_t fetched;                /* broadcast when a fetch ends */
    struct token_entry *head;
    size_t n;
};

void dns_secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct dns_token_cache *dns_token_cache_new(void)
{
    struct dns_token_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->fetched, NULL);
    return c;
}

static void entry_free(struct token_entry *t)
{
    dns_secret_free(t->token);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

/* Unlinks and frees *pp (the link pointing at the entry). Lock held. */
static void entry_unlink(struct dns_token_cache *c, struct token_entry **pp)
{
    struct token_entry *t = *pp;
    *pp = t->next;
    c->n--;
    entry_free(t);
}

void dns_token_cache_free(struct dns_token_cache *c)
{
    if (!c)
        return;
    while (c->head)
        entry_unlink(c, &c->head);
    pthread_cond_destroy(&c->fetched);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void config_id(const cJSON *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", dns_cfg_str(cfg, "type"), dns_cfg_str(cfg, "name"));
}

/* Removes the entries of id (all purposes); fetches in flight are only marked. Lock held. */
static void drop_locked(struct dns_token_cache *c, const char *id, const char *purpose)
{
    struct token_entry **pp = &c->head;
    while (*pp) {
        struct token_entry *t = *pp;
        if (strcmp(t->id, id) != 0 || (purpose && strcmp(t->purpose, purpose) != 0)) {
            pp = &t->next;
        } else if (!t->token) {
            t->dropped = true;
            pp = &t->next;
        } else {
            entry_unlink(c, pp);
        }
    }
}

void dns_token_cache_drop(struct dns_token_cache *c, const char *type, const char *name)
{
    char id[200];
    if (!c)
        return;
    snprintf(id, sizeof id, "%s/%s", type, name);
    pthread_mutex_lock(&c->mu);
    drop_locked(c, id, NULL);
    pthread_mutex_unlock(&c->mu);
}

void dns_token_forget(const struct dns_ctx *ctx, const cJSON *cfg, const char *purpose)
{
    char id[200];
    if (!ctx || !ctx->tokens)
        return;
    config_id(cfg, id, sizeof id);
    pthread_mutex_lock(&ctx->tokens->mu);
    drop_locked(ctx->tokens, id, purpose);
    pthread_mutex_unlock(&ctx->tokens->mu);
}

/* SHA-256 of the configuration as stored (secrets included, so a new secret is a new
 * configuration); the printed copy is wiped. */
static int fingerprint(const cJSON *cfg, unsigned char *fp, struct err *e)
{
    char *doc = cJSON_PrintUnformatted(cfg);
    unsigned int len = 0;
    if (!doc)
        return err_set(e, ERR_INTERNAL, "out of memory");
    int ok = EVP_Digest(doc, strlen(doc), fp, &len, EVP_sha256(), NULL);
    OPENSSL_cleanse(doc, strlen(doc));
    free(doc);
    if (!ok || len != TOKEN_FP_LEN)
        return err_set(e, ERR_INTERNAL, "SHA-256 failed");
    return 0;
}

/* Frees expired entries to make room. Lock held. */
static void evict_expired(struct dns_token_cache *c, int64_t now)
{
    struct token_entry **pp = &c->head;
    while (*pp) {
        if ((*pp)->token && (*pp)->fresh_until_ms <= now)
            entry_unlink(c, pp);
        else
            pp = &(*pp)->next;
    }
}

static int fetch_fresh(const struct dns_ctx *ctx, const cJSON *cfg, dns_token_fetch_fn fetch,
                       void *arg, char **token, int64_t *fresh_until_ms, struct err *e)
{
    int64_t life = 0, start = mono_ms();
    *token = NULL;
    if (fetch(ctx, cfg, arg, token, &life, e) < 0)
        return -1;
    if (!*token)
        return err_set(e, ERR_INTERNAL, "token fetch returned no token");
    int64_t margin = life / 5 < TOKEN_MAX_MARGIN_S ? life / 5 : TOKEN_MAX_MARGIN_S;
    *fresh_until_ms = life > 0 ? start + (life - margin) * 1000 : start;
    return 0;
}

int dns_token_get(const struct dns_ctx *ctx, const cJSON *cfg, const char *purpose,
                  dns_token_fetch_fn fetch, void *arg, char **token, struct err *e)
{
    struct dns_token_cache *c = ctx ? ctx->tokens : NULL;
    unsigned char fp[TOKEN_FP_LEN];
    char id[200];
    int64_t until = 0;
    *token = NULL;
    if (!c)
        return fetch_fresh(ctx, cfg, fetch, arg, token, &until, e);
    if (fingerprint(cfg, fp, e) < 0)
        return -1;
    config_id(cfg, id, sizeof id);

    struct token_entry *mine = NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        struct token_entry **pp = &c->head, *t = NULL;
        while (*pp && (strcmp((*pp)->id, id) != 0 || strcmp((*pp)->purpose, purpose) != 0))
            pp = &(*pp)->next;
        t = *pp;
        if (t && !t->token) {
            pthread_cond_wait(&c->fetched, &c->mu);   /* someone is fetching it */
            continue;
        }
        if (t && memcmp(t->fp, fp, sizeof fp) == 0 && t->fresh_until_ms > mono_ms()) {
            *token = strdup(t->token);
            pthread_mutex_unlock(&c->mu);
            return *token ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
        }
        if (t)
            entry_unlink(c, pp);   /* expired, or fetched for an older configuration */
        break;
    }
    if (c->n >= TOKEN_MAX_ENTRIES)
        evict_expired(c, mono_ms());
    if (c->n < TOKEN_MAX_ENTRIES && (mine = calloc(1, sizeof *mine)) != NULL) {
        snprintf(mine->id, sizeof mine->id, "%s", id);
        snprintf(mine->purpose, sizeof mine->purpose, "%s", purpose);
        memcpy(mine->fp, fp, sizeof fp);
        mine->next = c->head;
        c->head = mine;
        c->n++;
    }
    pthread_mutex_unlock(&c->mu);

    int rc = fetch_fresh(ctx, cfg, fetch, arg, token, &until, e);
    if (!mine)
        return rc;   /* the cache is full of live tokens: this one is not kept */

    pthread_mutex_lock(&c->mu);
    struct token_entry **pp = &c->head;
    while (*pp && *pp != mine)
        pp = &(*pp)->next;
    char *copy = rc == 0 && !mine->dropped ? strdup(*token) : NULL;
    if (copy && until > mono_ms()) {
        mine->token = copy;
        mine->fresh_until_ms = until;
    } else {
        dns_secret_free(copy);
        if (*pp)   /* always: an entry without a token is only ever unlinked here */
            entry_unlink(c, pp);
    }
    pthread_cond_broadcast(&c->fetched);
    pthread_mutex_unlock(&c->mu);
    return rc;
}
