/* log.h: hclog-compatible JSON lines on stderr, one object per line:
 * {"@level":"info","@message":"...","@timestamp":"...","@module":"...","k":"v",...}
 * The level is set once at runtime startup (log_init); after that the logger only reads it,
 * so every function here is thread-safe. Never pass private keys, EAB keys, JWS bodies or
 * tokens as values. */
#ifndef PKIEXT_LOG_H
#define PKIEXT_LOG_H

enum log_level { LOG_TRACE = 0, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Called once at startup, before any thread starts. `level_name` is an hclog level name
 * ("trace", "debug", "info", "warn", "error", "off"); NULL or unknown keeps "info". */
void log_init(const char *level_name);
enum log_level log_level_get(void);

/* Key/value pairs as const char * strings, NULL-terminated:
 * log_info("engine", "order advanced", "order_id", id, "to", "completed", NULL); */
void log_msg(enum log_level lvl, const char *module, const char *message, ...)
    __attribute__((sentinel));
void log_trace(const char *module, const char *message, ...) __attribute__((sentinel));
void log_debug(const char *module, const char *message, ...) __attribute__((sentinel));
void log_info(const char *module, const char *message, ...) __attribute__((sentinel));
void log_warn(const char *module, const char *message, ...) __attribute__((sentinel));
void log_error(const char *module, const char *message, ...) __attribute__((sentinel));

#endif
