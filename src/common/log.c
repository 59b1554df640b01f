/* log.c: hclog-compatible JSON lines on stderr (see log.h).
 *
 * Each entry is built in memory and written with one write(2), so lines from concurrent
 * threads never interleave (pipe writes up to PIPE_BUF are atomic; longer ones are still one
 * call). @level, @message and @timestamp are always JSON strings: the host type-asserts
 * them and a non-string would crash its log reader. @timestamp has exactly six fractional
 * digits, the only form go-plugin's parser accepts. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Set once by log_init before any thread starts; read-only afterwards. */
static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = { "trace", "debug", "info", "warn", "error", "off" };

void log_init(const char *level_name)
{
    if (!level_name)
        return;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(level_name, level_names[i]) == 0) {
            min_level = (enum log_level)i;
            return;
        }
    }
    if (strcasecmp(level_name, "warning") == 0)
        min_level = LOG_WARN;
    else if (strcasecmp(level_name, "err") == 0)
        min_level = LOG_ERROR;
}

enum log_level log_level_get(void)
{
    return min_level;
}

/* A growable line buffer that starts on the stack; on allocation failure it stops growing
 * and the line is truncated rather than lost. */
struct line {
    char *p;
    size_t len, cap;
    char stack[1024];
};

static void line_put(struct line *l, const char *s, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap * 2 > l->len + n ? l->cap * 2 : l->len + n + 256;
        char *np = l->p == l->stack ? malloc(cap) : realloc(l->p, cap);
        if (!np)
            return;
        if (l->p == l->stack)
            memcpy(np, l->stack, l->len);
        l->p = np;
        l->cap = cap;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
    line_put(l, s, strlen(s));
}

/* Appends s as a JSON string literal, escaping quotes, backslashes and control bytes so
 * that one entry stays on one line. */
static void line_json_str(struct line *l, const char *s)
{
    line_put(l, "\"", 1);
    if (!s)
        s = "";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        switch (*c) {
        case '"':  line_put(l, "\\\"", 2); break;
        case '\\': line_put(l, "\\\\", 2); break;
        case '\n': line_put(l, "\\n", 2); break;
        case '\r': line_put(l, "\\r", 2); break;
        case '\t': line_put(l, "\\t", 2); break;
        default:
            if (*c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *c);
                line_puts(l, esc);
            } else {
                line_put(l, (const char *)c, 1);
            }
        }
    }
    line_put(l, "\"", 1);
}

static void line_timestamp(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%06ldZ", ts.tv_nsec / 1000);
    line_json_str(l, buf);
}

static void log_vmsg(enum log_level lvl, const char *module, const char *message, va_list ap)
{
    if (lvl < min_level || lvl >= LOG_OFF)
        return;
    struct line l = { .len = 0, .cap = sizeof l.stack };
    l.p = l.stack;
    line_puts(&l, "{\"@level\":");
    line_json_str(&l, level_names[lvl]);
    line_puts(&l, ",\"@message\":");
    line_json_str(&l, message);
    line_puts(&l, ",\"@timestamp\":");
    line_timestamp(&l);
    if (module) {
        line_puts(&l, ",\"@module\":");
        line_json_str(&l, module);
    }
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *val = va_arg(ap, const char *);
        line_put(&l, ",", 1);
        line_json_str(&l, key);
        line_put(&l, ":", 1);
        line_json_str(&l, val ? val : "");
    }
    line_puts(&l, "}\n");
    /* Best effort: a log line that cannot be written is dropped. */
    ssize_t w = write(STDERR_FILENO, l.p, l.len);
    (void)w;
    if (l.p != l.stack)
        free(l.p);
}

void log_msg(enum log_level lvl, const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(lvl, module, message, ap);
    va_end(ap);
}

void log_trace(const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(LOG_TRACE, module, message, ap);
    va_end(ap);
}

void log_debug(const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(LOG_DEBUG, module, message, ap);
    va_end(ap);
}

void log_info(const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(LOG_INFO, module, message, ap);
    va_end(ap);
}

void log_warn(const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(LOG_WARN, module, message, ap);
    va_end(ap);
}

void log_error(const char *module, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_vmsg(LOG_ERROR, module, message, ap);
    va_end(ap);
}
