/*
 * router: the route table and path matching (see router.h). The table is
 * the one place that lists what conformd serves; tests walk it to check the
 * OpenAPI description and the authorisation of every route.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "mem.h"
#include "routes/routes.h"

static const struct route routes[] = {
	{ "GET", "/v1/health", route_health, ROUTE_BODY_NONE, "the process is running" },
	{ "GET", "/v1/ready", route_ready, ROUTE_BODY_NONE, "the database answers and the schema is current" },
	{ "GET", "/metrics", route_metrics, ROUTE_BODY_NONE, "Prometheus metrics" },
	{ "GET", "/v1/openapi.json", route_openapi, ROUTE_BODY_NONE, "this API's OpenAPI description" },
	{ "GET", "/v1/schemes", route_schemes_list, ROUTE_BODY_NONE, "the imported schemes" },
	{ "GET", "/v1/schemes/{id}", route_scheme_get, ROUTE_BODY_NONE, "a scheme and its versions" },
	{ "GET", "/v1/schemes/{id}/versions/{version}", route_scheme_version_get, ROUTE_BODY_NONE,
	  "a scheme version" },
	{ "GET", "/v1/schemes/{id}/versions/{version}/requirements", route_scheme_requirements,
	  ROUTE_BODY_NONE, "a version's requirements" },
	{ "GET", "/v1/schemes/{id}/versions/{version}/checklist", route_scheme_checklist,
	  ROUTE_BODY_NONE, "the checklist for a class" },
	{ "GET", "/v1/schemes/{id}/versions/{version}/oscal", route_scheme_oscal, ROUTE_BODY_NONE,
	  "the version as an OSCAL catalog" },
	{ "GET", "/v1/crosswalk", route_crosswalk, ROUTE_BODY_NONE, "mappings between two versions" },
};

const struct route *router_routes(size_t *count)
{
	if (count)
		*count = sizeof routes / sizeof routes[0];
	return routes;
}

/*
 * Matches path against pattern segment by segment. On a match, fills the
 * parameters of rq when rq is not NULL.
 */
static bool pattern_match(const char *pattern, const char *path, struct request *rq)
{
	const char *p = pattern, *s = path;
	int nparams = 0;
	const char *names[HTTP_MAX_PARAMS];
	const char *values[HTTP_MAX_PARAMS];
	size_t lens[HTTP_MAX_PARAMS];
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t vlen = strcspn(s, "/");
			if (!close || vlen == 0 || nparams == HTTP_MAX_PARAMS)
				return false;
			names[nparams] = p + 1;
			values[nparams] = s;
			lens[nparams] = vlen;
			nparams++;
			p = close + 1;
			s += vlen;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	if (rq) {
		for (int i = 0; i < nparams; i++) {
			/* names point into the pattern: "id}/..." is cut at the brace */
			int nlen = (int)strcspn(names[i], "}");
			snprintf(rq->param_names[rq->nparams], sizeof rq->param_names[0], "%.*s", nlen,
				 names[i]);
			rq->param_values[rq->nparams] = cf_strndup(values[i], lens[i]);
			rq->nparams++;
		}
	}
	return true;
}

enum router_result router_match(struct request *rq, const char *method, const char *path,
				int *index, char *allow, size_t allow_size)
{
	size_t n = sizeof routes / sizeof routes[0];
	bool path_known = false;
	size_t used = 0;
	if (allow_size)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(routes[i].pattern, path, NULL))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			pattern_match(routes[i].pattern, path, rq);
			*index = (int)i;
			return ROUTER_MATCH;
		}
		path_known = true;
		if (used < allow_size) {
			int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "",
					 routes[i].method);
			if (w > 0)
				used += (size_t)w;
		}
	}
	*index = -1;
	return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
