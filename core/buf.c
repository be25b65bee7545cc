/*
 * buf: growable byte buffer with a cap (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

static void buf_reserve(struct buf *b, size_t need)
{
	if (need + 1 <= b->alloc)
		return;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need + 1)
		n = n > ((size_t)-1) / 2 ? need + 1 : n * 2;
	b->data = cf_realloc(b->data, n);
	b->alloc = n;
}

void buf_expect(struct buf *b, size_t n)
{
	if (n <= b->max && b->len <= b->max - n)
		buf_reserve(b, b->len + n);
}

cf_err buf_append(struct buf *b, const void *p, size_t n, struct cf_error *err)
{
	if (n > b->max || b->len > b->max - n)
		return cf_error_set(err, CF_ETOOLARGE, NULL, "too large: more than %zu bytes", b->max);
	buf_reserve(b, b->len + n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return CF_OK;
}

cf_err buf_puts(struct buf *b, const char *s, struct cf_error *err)
{
	return buf_append(b, s, strlen(s), err);
}

cf_err buf_vprintf(struct buf *b, struct cf_error *err, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return cf_error_set(err, CF_EINTERNAL, NULL, "bad format");
	if ((size_t)n > b->max || b->len > b->max - (size_t)n)
		return cf_error_set(err, CF_ETOOLARGE, NULL, "too large: more than %zu bytes", b->max);
	buf_reserve(b, b->len + (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return CF_OK;
}

cf_err buf_printf(struct buf *b, struct cf_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cf_err e = buf_vprintf(b, err, fmt, ap);
	va_end(ap);
	return e;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data ? b->data : cf_strdup("");
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	CF_FREE(b->data);
	b->len = 0;
	b->alloc = 0;
}

size_t buf_drain(const struct buf *b, size_t *pos, char *out, size_t max)
{
	size_t n = b->len - *pos;
	if (n > max)
		n = max;
	if (n)
		memcpy(out, b->data + *pos, n);
	*pos += n;
	return n;
}

cf_err buf_puts_markup(struct buf *b, const char *s, struct cf_error *err)
{
	cf_err e = CF_OK;
	for (const char *p = s ? s : ""; *p && !e; p++) {
		switch (*p) {
		case '&': e = buf_puts(b, "&amp;", err); break;
		case '<': e = buf_puts(b, "&lt;", err); break;
		case '>': e = buf_puts(b, "&gt;", err); break;
		case '"': e = buf_puts(b, "&quot;", err); break;
		case '\'': e = buf_puts(b, "&#39;", err); break;
		default: e = buf_append(b, p, 1, err);
		}
	}
	return e;
}
