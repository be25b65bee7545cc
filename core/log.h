/*
 * log: one line per event on standard error, with a UTC ISO-8601 millisecond
 * timestamp, the level and the current request id:
 *   2026-11-25T14:08:28.123Z info rid=5f2c... message
 * Control characters and bytes that are not well-formed UTF-8 are escaped
 * (\xNN) and anything shaped like an API token
 * (cfm_...) is redacted, as a second line of defence: secrets must never be
 * passed to a log call in the first place.
 *
 * In the json format (log_set_format) each line is instead one JSON object,
 * for log shippers that must not guess at a text layout:
 *   {"timestamp":"2026-11-25T14:08:28.123Z","level":"info",
 *    "request_id":"5f2c...","message":"..."}
 * (request_id only when there is one), with the same escaping and
 * redaction of the message, and access lines (log_access) carry their
 * fields as members.
 */
#ifndef CONFORM_LOG_H
#define CONFORM_LOG_H

#include <stdbool.h>

#include "error.h"

enum log_level { CF_LOG_ERROR, CF_LOG_WARN, CF_LOG_INFO, CF_LOG_DEBUG };

enum log_format { CF_LOG_TEXT, CF_LOG_JSON };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

/* Parses "error", "warn", "info" or "debug". */
cf_err log_parse_level(const char *s, enum log_level *out, struct cf_error *err) CF_MUST_CHECK;

void log_set_format(enum log_format format);
enum log_format log_get_format(void);

/* Parses "text" or "json". */
cf_err log_parse_format(const char *s, enum log_format *out, struct cf_error *err) CF_MUST_CHECK;

/* Sets the request id of the calling thread's log lines (NULL clears it). The
 * string is copied. */
void log_set_request_id(const char *rid);

/* Redirects log lines to fd (default 2). For tests. */
void log_set_fd(int fd);

/*
 * Buffered mode, for conformd's hot path: each thread collects its lines and
 * a background thread writes them out at least every 100 ms (a thread also
 * writes when its buffer fills; warning and error lines, and lines logged
 * with log_msg_now, are written at once, after the thread's earlier lines).
 * A line is still never split. log_async_stop writes everything out and
 * returns to direct writes. A crash may lose the last 100 ms of the other
 * info and debug lines.
 */
void log_async_start(void);
void log_async_stop(void);

/* Writes out every buffered line now. */
void log_flush(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_msg, and the line has been handed to the kernel (write(2)) when
 * it returns, whatever the mode: for lines that must survive a crash of the
 * process that follows at once (the access line of an answer). */
void log_msg_now(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The access line of one request, written like log_msg_now (handed to the
 * kernel before the call returns) at info level. Every string is borrowed
 * and may be NULL (then left out in text and null in json, except path,
 * which json carries only when no route matched: the route pattern names
 * the resource without the ids in it). path must already be escaped
 * for the log (no query string: it may carry secrets).
 * text: access method=GET path=/v1/x status=200 bytes=15 dur_ms=1.234
 * json: {...,"message":"access","method":"GET","route":"/v1/x/{id}",
 *        "status":200,"bytes":15,"duration_ms":1.234,"client":"192.0.2.1",
 *        "user_id":null}
 */
struct log_access {
	const char *method;
	const char *path;
	const char *route;   /* the matched route's pattern */
	unsigned status;
	size_t bytes;
	double dur_ms;
	const char *client;  /* the client's address (behind trusted proxies) */
	const char *user_id; /* the authenticated user */
	bool aborted;        /* the answer was not delivered, or never made */
};

void log_access(const struct log_access *a);

#define log_error(...) log_msg(CF_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(CF_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(CF_LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(CF_LOG_DEBUG)) log_msg(CF_LOG_DEBUG, __VA_ARGS__); } while (0)

/* Writes the current UTC time as YYYY-MM-DDTHH:MM:SS.mmmZ into out (>= 25 bytes). */
void log_timestamp(char *out, size_t size);

#endif
