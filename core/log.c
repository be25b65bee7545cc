/*
 * log: leveled, one-line-per-event logging to a file descriptor (see log.h).
 * Each line is written with one write(2), so lines from threads never mix.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = CF_LOG_INFO;
static atomic_int log_fd = STDERR_FILENO;
static atomic_int log_format = CF_LOG_TEXT;
static _Thread_local char log_rid[40];

/* Buffered mode: one buffer per thread that logs, all on a list that the
 * flusher walks. A buffer's mutex is almost never contended (its thread and,
 * every 100 ms, the flusher). */
#define TBUF_SIZE 32768

struct tbuf {
	pthread_mutex_t mu;
	size_t len;
	struct tbuf *next;
	char data[TBUF_SIZE];
};

static atomic_bool log_async;
static pthread_mutex_t tbufs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tbuf *tbufs;
static _Thread_local struct tbuf *tbuf_mine;
static pthread_t flusher;
static pthread_mutex_t flusher_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flusher_cv = PTHREAD_COND_INITIALIZER;
static bool flusher_stop;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

cf_err log_parse_level(const char *s, enum log_level *out, struct cf_error *err)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return CF_OK;
		}
	}
	return cf_error_set(err, CF_EINVAL, NULL,
			    "unknown log level '%.32s' (expected error, warn, info or debug)", s);
}

void log_set_format(enum log_format format)
{
	atomic_store(&log_format, (int)format);
}

enum log_format log_get_format(void)
{
	return (enum log_format)atomic_load(&log_format);
}

cf_err log_parse_format(const char *s, enum log_format *out, struct cf_error *err)
{
	if (strcmp(s, "text") == 0)
		*out = CF_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = CF_LOG_JSON;
	else
		return cf_error_set(err, CF_EINVAL, NULL,
				    "unknown log format '%.32s' (expected text or json)", s);
	return CF_OK;
}

void log_set_request_id(const char *rid)
{
	snprintf(log_rid, sizeof log_rid, "%s", rid ? rid : "");
}

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void log_timestamp(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000L);
}

static int is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. C1 controls
 * (U+0080..U+009F) count as not well-formed: some terminals obey them.
 */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		if (c == 0xc2 && p[1] < 0xa0)
			return 0; /* C1 control */
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Copies msg into out escaping control characters and bytes that are not
 * well-formed UTF-8 (as \xNN: a percent-decoded path may hold any byte, and
 * must neither break a line nor reach a terminal or a log parser raw) and
 * redacting cfm_ tokens.
 */
static size_t log_sanitize(char *out, size_t size, const char *msg)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < size; p++) {
		if (p[0] == 'c' && strncmp((const char *)p, "cfm_", 4) == 0 && is_token_char(p[4])) {
			static const char red[] = "cfm_[redacted]";
			if (o + sizeof red >= size)
				break;
			memcpy(out + o, red, sizeof red - 1);
			o += sizeof red - 1;
			p += 4;
			while (is_token_char(p[1]))
				p++;
			continue;
		}
		size_t n = *p < 0x80 ? 1 : utf8_len(p);
		if (*p < 0x20 || *p == 0x7f || n == 0) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
			continue;
		}
		if (o + n + 5 >= size)
			break;
		memcpy(out + o, p, n);
		o += n;
		p += n - 1;
	}
	out[o] = '\0';
	return o;
}

static void write_all(const char *p, size_t n)
{
	int fd = atomic_load(&log_fd);
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return; /* nowhere to report a failing log */
		p += w;
		n -= (size_t)w;
	}
}

/* Writes out b's lines; the caller holds b->mu. */
static void tbuf_drain(struct tbuf *b)
{
	write_all(b->data, b->len);
	b->len = 0;
}

static struct tbuf *tbuf_get(void)
{
	if (tbuf_mine)
		return tbuf_mine;
	struct tbuf *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_lock(&tbufs_mu);
	b->next = tbufs;
	tbufs = b;
	pthread_mutex_unlock(&tbufs_mu);
	tbuf_mine = b;
	return b;
}

void log_flush(void)
{
	pthread_mutex_lock(&tbufs_mu);
	for (struct tbuf *b = tbufs; b; b = b->next) {
		pthread_mutex_lock(&b->mu);
		tbuf_drain(b);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_mutex_unlock(&tbufs_mu);
}

static void *flusher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&flusher_mu);
	while (!flusher_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&flusher_cv, &flusher_mu, &until);
		pthread_mutex_unlock(&flusher_mu);
		log_flush();
		pthread_mutex_lock(&flusher_mu);
	}
	pthread_mutex_unlock(&flusher_mu);
	return NULL;
}

void log_async_start(void)
{
	if (atomic_load(&log_async))
		return;
	flusher_stop = false;
	if (pthread_create(&flusher, NULL, flusher_main, NULL) == 0)
		atomic_store(&log_async, true);
}

void log_async_stop(void)
{
	if (!atomic_exchange(&log_async, false))
		return;
	pthread_mutex_lock(&flusher_mu);
	flusher_stop = true;
	pthread_cond_signal(&flusher_cv);
	pthread_mutex_unlock(&flusher_mu);
	pthread_join(flusher, NULL);
	log_flush();
	pthread_mutex_lock(&tbufs_mu);
	struct tbuf *b = tbufs;
	tbufs = NULL;
	pthread_mutex_unlock(&tbufs_mu);
	while (b) {
		struct tbuf *next = b->next;
		pthread_mutex_destroy(&b->mu);
		free(b);
		b = next;
	}
	/* Threads that logged keep a stale pointer; this thread's is reset. The
	 * others have ended by now (log_async_stop runs after the workers). */
	tbuf_mine = NULL;
}

/* now: written out before the call returns, whatever the mode. */
static void emit(enum log_level level, bool now, const char *line, size_t len)
{
	struct tbuf *b = atomic_load(&log_async) ? tbuf_get() : NULL;
	if (!b) {
		write_all(line, len);
		return;
	}
	pthread_mutex_lock(&b->mu);
	if (b->len + len > TBUF_SIZE)
		tbuf_drain(b);
	memcpy(b->data + b->len, line, len);
	b->len += len;
	/* Warnings, errors and lines asked for now go out at once, after the
	 * lines before them. */
	if (now || level <= CF_LOG_WARN)
		tbuf_drain(b);
	pthread_mutex_unlock(&b->mu);
}

/*
 * A JSON line under construction: members are appended whole, or left out
 * when not even their name fits, and a string value that does not fit is cut
 * at a character, never inside one; JLINE_RESERVE bytes are always left for
 * the closing brace and newline. So a line cut short is still one valid
 * object.
 */
#define JLINE_RESERVE 2

struct jline {
	char *p;
	size_t len, cap;
};

static bool jl_room(const struct jline *j, size_t n)
{
	return j->len + n + JLINE_RESERVE <= j->cap;
}

static void jl_put(struct jline *j, const char *s, size_t n)
{
	memcpy(j->p + j->len, s, n);
	j->len += n;
}

/* The member "key": raw, a JSON value written as it is (a number), or
 * str, a string (null when NULL). str is well-formed UTF-8 (log_sanitize's
 * output or ASCII). */
static void jl_member(struct jline *j, const char *key, const char *raw, const char *str)
{
	char head[48];
	int hn = snprintf(head, sizeof head, "%s\"%s\":", j->len > 1 ? "," : "", key);
	if (hn < 0 || (size_t)hn >= sizeof head)
		return;
	if (raw || !str) {
		const char *v = raw ? raw : "null";
		if (!jl_room(j, (size_t)hn + strlen(v)))
			return;
		jl_put(j, head, (size_t)hn);
		jl_put(j, v, strlen(v));
		return;
	}
	if (!jl_room(j, (size_t)hn + 2))
		return;
	jl_put(j, head, (size_t)hn);
	jl_put(j, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
		char esc[8];
		size_t n;
		const char *out = esc;
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			n = 2;
		} else if (*c < 0x20 || *c == 0x7f) {
			n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *c);
		} else if ((n = *c < 0x80 ? 1 : utf8_len(c)) != 0) {
			out = (const char *)c;
			c += n - 1;
		} else { /* not expected of sanitized input */
			n = (size_t)snprintf(esc, sizeof esc, "\\ufffd");
		}
		if (!jl_room(j, n + 1)) /* and the closing quote */
			break;
		jl_put(j, out, n);
	}
	jl_put(j, "\"", 1);
}

/* {"timestamp":...,"level":...,["request_id":...,]"message":msg */
static void jl_begin(struct jline *j, enum log_level level, const char *msg)
{
	char ts[32];
	log_timestamp(ts, sizeof ts);
	jl_put(j, "{", 1);
	jl_member(j, "timestamp", NULL, ts);
	jl_member(j, "level", NULL, level_names[level]);
	if (log_rid[0])
		jl_member(j, "request_id", NULL, log_rid);
	jl_member(j, "message", NULL, msg);
}

static void jl_end(struct jline *j)
{
	jl_put(j, "}\n", 2);
}

static void log_vmsg(enum log_level level, bool now, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);

	char line[4096];
	size_t len;
	if (atomic_load(&log_format) == CF_LOG_JSON) {
		char clean[2048];
		log_sanitize(clean, sizeof clean, msg);
		struct jline j = { line, 0, sizeof line };
		jl_begin(&j, level, clean);
		jl_end(&j);
		len = j.len;
	} else {
		char ts[32];
		log_timestamp(ts, sizeof ts);
		int n = snprintf(line, sizeof line, "%s %s rid=%s ", ts, level_names[level],
				 log_rid[0] ? log_rid : "-");
		if (n < 0)
			return;
		len = (size_t)n;
		len += log_sanitize(line + len, sizeof line - len - 1, msg);
		line[len++] = '\n';
	}
	emit(level, now, line, len);
}

void log_access(const struct log_access *a)
{
	if (!log_enabled(CF_LOG_INFO))
		return;
	if (atomic_load(&log_format) != CF_LOG_JSON) {
		log_msg_now(CF_LOG_INFO, "access method=%s path=%s status=%u bytes=%zu dur_ms=%.3f%s",
			    a->method ? a->method : "-", a->path ? a->path : "-", a->status, a->bytes,
			    a->dur_ms, a->aborted ? " aborted=1" : "");
		return;
	}
	char line[4096], method[64], path[1024], num[32];
	struct jline j = { line, 0, sizeof line };
	jl_begin(&j, CF_LOG_INFO, "access");
	if (a->method)
		log_sanitize(method, sizeof method, a->method);
	jl_member(&j, "method", NULL, a->method ? method : NULL);
	jl_member(&j, "route", NULL, a->route);
	if (!a->route && a->path) {
		log_sanitize(path, sizeof path, a->path);
		jl_member(&j, "path", NULL, path);
	}
	snprintf(num, sizeof num, "%u", a->status);
	jl_member(&j, "status", num, NULL);
	snprintf(num, sizeof num, "%zu", a->bytes);
	jl_member(&j, "bytes", num, NULL);
	snprintf(num, sizeof num, "%.3f", a->dur_ms);
	jl_member(&j, "duration_ms", num, NULL);
	jl_member(&j, "client", NULL, a->client);
	jl_member(&j, "user_id", NULL, a->user_id);
	if (a->aborted)
		jl_member(&j, "aborted", "true", NULL);
	jl_end(&j);
	emit(CF_LOG_INFO, true, line, j.len);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, false, fmt, ap);
	va_end(ap);
}

void log_msg_now(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, true, fmt, ap);
	va_end(ap);
}
