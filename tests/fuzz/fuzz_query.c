/*
 * fuzz_query: query numbers (core/page.c's page_parse_long, behind every
 * ?limit=, ?after=, ?start=, ?tree_size=): a value is accepted only whole,
 * decimal and within its bounds, and its neighbours computed by the routes
 * (start + 100 for the end of a log range) must not overflow for any
 * accepted value. The input is the value as libmicrohttpd decodes it.
 */
#include <limits.h>

#include "fuzz.h"
#include "page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = fuzz_cstr(data, size);
	static const struct {
		long min, max;
	} bounds[] = { { 0, LONG_MAX }, { 1, LONG_MAX }, { 1, 1000 }, { 0, 9 }, { LONG_MIN, -1 } };
	for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
		struct cf_error err;
		long n = 12345;
		if (page_parse_long(v, "start", bounds[i].min, bounds[i].max, &n, &err) == CF_OK) {
			FUZZ_ASSERT(n >= bounds[i].min && n <= bounds[i].max);
			FUZZ_ASSERT(v[0] != '\0');
		} else {
			FUZZ_ASSERT(n == 12345);
			FUZZ_ASSERT(err.code == CF_EINVAL);
		}
	}
	free(v);
	return 0;
}
