/*
 * jsonx: canonical JSON and JSON pointers (see jsonx.h).
 */
#include "jsonx.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int has_real(const json_t *j)
{
	if (json_is_real(j))
		return 1;
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if (has_real(v))
				return 1;
	} else if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
			if (has_real(v))
				return 1;
	}
	return 0;
}

cf_err jsonx_append_string(struct buf *b, const char *s, struct cf_error *err)
{
	if (!s)
		return buf_puts(b, "null", err);
	cf_err e = buf_append(b, "\"", 1, err);
	const char *run = s;
	for (; !e && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		e = buf_append(b, run, (size_t)(s - run), err);
		if (e)
			break;
		if (ch == '"' || ch == '\\') {
			char esc[2] = { '\\', (char)ch };
			e = buf_append(b, esc, 2, err);
		} else {
			e = buf_printf(b, err, "\\u%04x", ch);
		}
		run = s + 1;
	}
	if (!e)
		e = buf_append(b, run, (size_t)(s - run), err);
	if (!e)
		e = buf_append(b, "\"", 1, err);
	return e;
}

char *jsonx_canonical(const json_t *j)
{
	if (!j || has_real(j))
		return NULL;
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

void jsonx_pointer_push(char *buf, size_t size, const char *token)
{
	size_t n = strlen(buf);
	if (n + 1 >= size)
		return;
	buf[n++] = '/';
	for (const char *p = token; *p && n + 2 < size; p++) {
		if (*p == '~' || *p == '/') {
			buf[n++] = '~';
			buf[n++] = *p == '~' ? '0' : '1';
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
}

void jsonx_pointer_push_index(char *buf, size_t size, size_t index)
{
	char tok[32];
	snprintf(tok, sizeof tok, "%zu", index);
	jsonx_pointer_push(buf, size, tok);
}

const char *jsonx_str(const json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

json_t *jsonx_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *jsonx_text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static void member_pointer(char *out, size_t size, const char *base, const char *key)
{
	snprintf(out, size, "%s", base);
	jsonx_pointer_push(out, size, key);
}

cf_err jsonx_check_object(const json_t *obj, const char *base, const char *const *allowed,
			  struct cf_error *err)
{
	if (!json_is_object(obj))
		return cf_error_set(err, CF_EINVAL, base, "%s must be a JSON object",
				    base[0] ? base : "the body");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char p[256];
			member_pointer(p, sizeof p, base, key);
			return cf_error_set(err, CF_EINVAL, p, "unknown member '%.64s'", key);
		}
	}
	return CF_OK;
}

cf_err jsonx_get_text(const json_t *obj, const char *base, const char *key, bool required,
		      size_t max, const char **out, struct cf_error *err)
{
	*out = NULL;
	char p[256];
	member_pointer(p, sizeof p, base, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return cf_error_set(err, CF_EINVAL, p, "%s is required", p);
		return CF_OK;
	}
	if (!json_is_string(v))
		return cf_error_set(err, CF_EINVAL, p, "%s must be a string", p);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || strspn(s, " \t") == n)
		return cf_error_set(err, CF_EINVAL, p, "%s must not be empty", p);
	if (n > max)
		return cf_error_set(err, CF_EINVAL, p, "%s is too long (%zu bytes; at most %zu)", p, n, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
			return cf_error_set(err, CF_EINVAL, p, "%s contains a control character", p);
	*out = s;
	return CF_OK;
}

cf_err jsonx_get_int(const json_t *obj, const char *base, const char *key, bool required,
		     long long min, long long max, long long *out, bool *present,
		     struct cf_error *err)
{
	char p[256];
	member_pointer(p, sizeof p, base, key);
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return cf_error_set(err, CF_EINVAL, p, "%s is required", p);
		return CF_OK;
	}
	if (!json_is_integer(v))
		return cf_error_set(err, CF_EINVAL, p, "%s must be a whole number", p);
	long long n = json_integer_value(v);
	if (n < min || n > max)
		return cf_error_set(err, CF_EINVAL, p, "%s must be from %lld to %lld", p, min, max);
	*out = n;
	if (present)
		*present = true;
	return CF_OK;
}

cf_err jsonx_get_bool(const json_t *obj, const char *base, const char *key, bool *out,
		      bool *present, struct cf_error *err)
{
	char p[256];
	member_pointer(p, sizeof p, base, key);
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return CF_OK;
	if (!json_is_boolean(v))
		return cf_error_set(err, CF_EINVAL, p, "%s must be true or false", p);
	*out = json_is_true(v);
	return CF_OK;
}

bool jsonx_is_time(const char *s)
{
	regex_t re;
	if (regcomp(&re,
		    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
		    "(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2}))?$",
		    REG_EXTENDED | REG_NOSUB))
		abort();
	bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

cf_err jsonx_get_time(const json_t *obj, const char *base, const char *key, bool required,
		      const char **out, struct cf_error *err)
{
	cf_err e = jsonx_get_text(obj, base, key, required, 40, out, err);
	if (e || !*out || jsonx_is_time(*out))
		return e;
	char p[256];
	member_pointer(p, sizeof p, base, key);
	*out = NULL;
	return cf_error_set(err, CF_EINVAL, p,
			    "%s must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)", p);
}
