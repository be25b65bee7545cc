/*
 * buf: a growable byte buffer with a cap. Every buffer that grows from input
 * is created with the most it may hold; going past it is CF_ETOOLARGE, never
 * a truncation. The contents are always NUL-terminated (not counted in len).
 */
#ifndef CONFORM_BUF_H
#define CONFORM_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

struct buf {
	char *data;   /* NULL until the first append */
	size_t len;
	size_t alloc;
	size_t max;   /* the cap on len */
};

/* Initialises b, empty, holding at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Makes room for n more bytes at once (within the cap), for a caller that
 * knows about how much it will append: no growing step by step. */
void buf_expect(struct buf *b, size_t n);

/* Appends n bytes. On error (CF_ETOOLARGE) b is unchanged. */
cf_err buf_append(struct buf *b, const void *p, size_t n, struct cf_error *err) CF_MUST_CHECK;
cf_err buf_puts(struct buf *b, const char *s, struct cf_error *err) CF_MUST_CHECK;
cf_err buf_printf(struct buf *b, struct cf_error *err, const char *fmt, ...)
	CF_MUST_CHECK __attribute__((format(printf, 3, 4)));
cf_err buf_vprintf(struct buf *b, struct cf_error *err, const char *fmt, va_list ap) CF_MUST_CHECK;

/* Returns the contents ("" when empty); the buffer still owns them. */
const char *buf_str(const struct buf *b);

/* Hands the contents (NUL-terminated, never NULL) to the caller, who frees
 * them; b is left empty with the same cap. */
char *buf_steal(struct buf *b, size_t *len);

void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Appends s (NULL: nothing) with &, <, >, " and ' escaped, for text and
 * attribute values of HTML and XML (SVG). */
cf_err buf_puts_markup(struct buf *b, const char *s, struct cf_error *err) CF_MUST_CHECK;

/* Copies what b holds past *pos into out (at most max bytes) and advances
 * *pos: the body of a streamed answer's reader, whose buffer is refilled
 * page by page once *pos reaches b->len. Returns the bytes copied. */
size_t buf_drain(const struct buf *b, size_t *pos, char *out, size_t max);

#endif
