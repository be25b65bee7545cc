/*
 * fuzz_json: a JSON request body as conformd reads it (http_json_depth's
 * limit, then jansson refusing duplicate members, as request_json does),
 * then the helpers every handler uses on it (core/jsonx.c): member checks,
 * text, integer, time and boolean members, JSON pointers, and the canonical
 * form, which must parse back to itself.
 */
#include <stdbool.h>

#include <jansson.h>

#include "fuzz.h"
#include "http.h"
#include "jsonx.h"

/* config.c's default max-json-depth */
#define FUZZ_JSON_DEPTH 32

static void check_members(json_t *obj)
{
	static const char *const allowed[] = { "name", "id", "valid_from", "count", "public",
					       NULL };
	struct cf_error err;
	if (jsonx_check_object(obj, "/body", allowed, &err) == CF_OK)
		FUZZ_ASSERT(json_object_size(obj) <= 5);
	else
		FUZZ_ASSERT(strncmp(err.pointer, "/body", 5) == 0);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		char ptr[64] = "/body";
		jsonx_pointer_push(ptr, sizeof ptr, key);
		FUZZ_ASSERT(strlen(ptr) < sizeof ptr);
		const char *text = NULL;
		if (jsonx_get_text(obj, "", key, true, 40, &text, &err) == CF_OK)
			FUZZ_ASSERT(text && strlen(text) >= 1 && strlen(text) <= 40);
		long long n = 0;
		bool present = false;
		if (jsonx_get_int(obj, "", key, false, -1000, 1000, &n, &present, &err) == CF_OK &&
		    present)
			FUZZ_ASSERT(n >= -1000 && n <= 1000);
		const char *t = NULL;
		if (jsonx_get_time(obj, "", key, false, &t, &err) == CF_OK && t)
			FUZZ_ASSERT(jsonx_is_time(t));
		bool b = false;
		if (jsonx_get_bool(obj, "", key, &b, &present, &err) == CF_OK)
			FUZZ_ASSERT(present == json_is_boolean(v) && (!present || b == json_is_true(v)));
		(void)jsonx_str(obj, key);
		if (json_is_object(v))
			check_members(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	if (http_json_depth(text, size) > FUZZ_JSON_DEPTH)
		return 0;
	json_error_t jerr;
	json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return 0;
	char *canon = jsonx_canonical(j);
	if (canon) {
		json_t *again = json_loads(canon, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_ASSERT(again != NULL);
		char *canon2 = jsonx_canonical(again);
		FUZZ_ASSERT(canon2 && strcmp(canon, canon2) == 0);
		free(canon2);
		json_decref(again);
		free(canon);
	}
	if (json_is_object(j)) {
		check_members(j);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			char ptr[32] = "";
			jsonx_pointer_push_index(ptr, sizeof ptr, i);
			if (json_is_object(v))
				check_members(v);
			if (json_is_string(v))
				(void)jsonx_is_time(json_string_value(v));
		}
	}
	json_decref(j);
	return 0;
}
