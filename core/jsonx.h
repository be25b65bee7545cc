/*
 * jsonx: JSON helpers on top of jansson that know no domain type: the
 * canonical form that conform hashes and signs, and JSON pointers.
 */
#ifndef CONFORM_JSONX_H
#define CONFORM_JSONX_H

#include <stddef.h>

#include <jansson.h>

/*
 * The canonical text of j: no whitespace, object members sorted by key,
 * UTF-8, only the escapes JSON requires. For the documents conform hashes
 * (strings, integers, booleans, null, arrays, objects) this is the RFC 8785
 * form. Returns a new string (caller frees), or NULL if j holds a real number
 * or is not serialisable.
 */
char *jsonx_canonical(const json_t *j);

/* Appends "/token" to the pointer in buf (size bytes), escaping '~' and '/'
 * as RFC 6901 says. Truncates rather than overflows. */
void jsonx_pointer_push(char *buf, size_t size, const char *token);

/* Appends "/index". */
void jsonx_pointer_push_index(char *buf, size_t size, size_t index);

/* The string member key of object, or NULL when absent or not a string. */
const char *jsonx_str(const json_t *object, const char *key);

#endif
