/*
 * jsonx: canonical JSON and JSON pointers (see jsonx.h).
 */
#include "jsonx.h"

#include <stdint.h>
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
