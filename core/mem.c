/*
 * mem: allocation wrappers that abort on out-of-memory (see mem.h).
 */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

static void cf_oom(void) __attribute__((noreturn));

static void cf_oom(void)
{
	static const char msg[] = "conform: out of memory\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)r;
	abort();
}

void *cf_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		cf_oom();
	return p;
}

void *cf_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		cf_oom();
	return p;
}

void *cf_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		cf_oom();
	return q;
}

void *cf_reallocarray(void *p, size_t count, size_t size)
{
	if (size && count > (size_t)-1 / size)
		cf_oom();
	return cf_realloc(p, count * size);
}

char *cf_strdup(const char *s)
{
	if (!s)
		return NULL;
	return cf_strndup(s, strlen(s));
}

char *cf_strndup(const char *s, size_t n)
{
	char *p = cf_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *cf_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		cf_oom();
	char *p = cf_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void cf_wipe(void *p, size_t n)
{
	if (p)
		OPENSSL_cleanse(p, n);
}
