/*
 * jsonx: JSON helpers on top of jansson that know no domain type: the
 * canonical form that conform hashes and signs, and JSON pointers.
 */
#ifndef CONFORM_JSONX_H
#define CONFORM_JSONX_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"

/*
 * The canonical text of j: no whitespace, object members sorted by key,
 * UTF-8, only the escapes JSON requires. For the documents conform hashes
 * (strings, integers, booleans, null, arrays, objects) this is the RFC 8785
 * form. Returns a new string (caller frees), or NULL if j holds a real number
 * or is not serialisable.
 */
char *jsonx_canonical(const json_t *j);

/*
 * Appends s to b as a JSON string literal ("...", with the escapes JSON
 * requires; s is UTF-8), or null for NULL. For answers assembled from text
 * stored ready-made, where building a json_t only to print it would be the
 * cost.
 */
cf_err jsonx_append_string(struct buf *b, const char *s, struct cf_error *err) CF_MUST_CHECK;

/* Appends "/token" to the pointer in buf (size bytes), escaping '~' and '/'
 * as RFC 6901 says. Truncates rather than overflows. */
void jsonx_pointer_push(char *buf, size_t size, const char *token);

/* Appends "/index". */
void jsonx_pointer_push_index(char *buf, size_t size, size_t index);

/* The string member key of object, or NULL when absent or not a string. */
const char *jsonx_str(const json_t *object, const char *key);

/* s as a JSON string, or JSON null when s is NULL. New reference. */
json_t *jsonx_string_or_null(const char *s);

/* s as a JSON string, or JSON null when s is NULL or empty (a column read
 * with coalesce(..., '')). New reference. */
json_t *jsonx_text_or_null(const char *s);

/*
 * Input validation, for request bodies. base is the JSON pointer of obj
 * ("" for the document); errors are CF_EINVAL with the pointer of the member
 * at fault and a message that names it.
 */

/* obj must be an object whose keys are all in allowed (NULL-terminated). */
cf_err jsonx_check_object(const json_t *obj, const char *base, const char *const *allowed,
			  struct cf_error *err) CF_MUST_CHECK;

/* A string member of 1..max bytes without control characters; *out is NULL
 * when it is absent and not required (borrowed from obj). */
cf_err jsonx_get_text(const json_t *obj, const char *base, const char *key, bool required,
		      size_t max, const char **out, struct cf_error *err) CF_MUST_CHECK;

/* An integer member within min..max; *present tells whether it was given. */
cf_err jsonx_get_int(const json_t *obj, const char *base, const char *key, bool required,
		     long long min, long long max, long long *out, bool *present,
		     struct cf_error *err) CF_MUST_CHECK;

/* Is s a date (2026-01-31) or an RFC 3339 time? */
bool jsonx_is_time(const char *s);

/* A time member: RFC 3339 ("2026-01-31T12:00:00Z", offset or fraction
 * allowed) or a date ("2026-01-31", midnight UTC). */
cf_err jsonx_get_time(const json_t *obj, const char *base, const char *key, bool required,
		      const char **out, struct cf_error *err) CF_MUST_CHECK;

/* A boolean member. */
cf_err jsonx_get_bool(const json_t *obj, const char *base, const char *key, bool *out,
		      bool *present, struct cf_error *err) CF_MUST_CHECK;

#endif
