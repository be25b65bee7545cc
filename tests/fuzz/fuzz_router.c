/*
 * fuzz_router: a request line's method and decoded path through the route
 * table (server/router.c): "METHOD PATH" in, a route, 404 or 405 out. A
 * match names a route of that method, its path parameters are single
 * non-empty segments, and the Allow list of a 405 fits its buffer.
 */
#include "fuzz.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char *sp = strchr(in, ' ');
	const char *method = "GET", *path = in;
	if (sp) {
		*sp = '\0';
		method = in;
		path = sp + 1;
	}
	struct router_params rq;
	memset(&rq, 0, sizeof rq);
	char allow[128];
	int index = -2;
	size_t count = 0;
	const struct route *routes = router_routes(&count);
	enum router_result r = router_match(method, path, &index, &rq, allow, sizeof allow);
	if (r == ROUTER_MATCH) {
		FUZZ_ASSERT(index >= 0 && (size_t)index < count);
		FUZZ_ASSERT(strcmp(routes[index].method, method) == 0);
		FUZZ_ASSERT(rq.n >= 0 && rq.n <= ROUTER_MAX_PARAMS);
		for (int i = 0; i < rq.n; i++) {
			FUZZ_ASSERT(rq.values[i] && rq.values[i][0]);
			FUZZ_ASSERT(strchr(rq.values[i], '/') == NULL);
			FUZZ_ASSERT(router_param(&rq, rq.names[i]) != NULL);
		}
	} else {
		FUZZ_ASSERT(index == -1 && rq.n == 0);
		FUZZ_ASSERT(strlen(allow) < sizeof allow);
		FUZZ_ASSERT(r == ROUTER_NOT_FOUND || allow[0]);
	}
	router_params_free(&rq);
	free(in);
	return 0;
}
