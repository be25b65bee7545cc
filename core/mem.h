/*
 * mem: allocation wrappers. They abort the process on out-of-memory, so
 * callers never test for NULL; cf_calloc and cf_reallocarray also abort on
 * size overflow.
 */
#ifndef CONFORM_MEM_H
#define CONFORM_MEM_H

#include <stddef.h>

void *cf_malloc(size_t n);
void *cf_calloc(size_t count, size_t size);
void *cf_realloc(void *p, size_t n);
void *cf_reallocarray(void *p, size_t count, size_t size);
/* Returns a new copy of s (NULL stays NULL); the caller frees. */
char *cf_strdup(const char *s);
/* Returns a new NUL-terminated copy of the first n bytes of s. */
char *cf_strndup(const char *s, size_t n);
/* Returns a new string formatted like printf; the caller frees. */
char *cf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees p and sets it to NULL, so a second CF_FREE is harmless. */
#define CF_FREE(p) do { free(p); (p) = NULL; } while (0)

/* Overwrites n bytes at p in a way the compiler may not elide (secrets). */
void cf_wipe(void *p, size_t n);

#endif
