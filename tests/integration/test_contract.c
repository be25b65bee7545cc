/*
 * The API contract: the route table and docs/openapi.json describe the same
 * API. A route missing from the description, or a described operation no
 * route serves, fails this suite.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "authz.h"
#include "mem.h"
#include "party.h"
#include "router.h"
#include "tsupport.h"

static json_t *load_openapi(void)
{
	char *path = tsupport_source_path("docs/openapi.json");
	json_error_t e;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(doc != NULL, "%s: %s (line %d)", path, e.text, e.line);
	free(path);
	return doc;
}

static char *lower(const char *s)
{
	char *l = cf_strdup(s);
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

START_TEST(every_route_is_described)
{
	json_t *doc = load_openapi();
	json_t *paths = json_object_get(doc, "paths");
	ck_assert(json_is_object(paths));
	size_t n;
	const struct route *routes = router_routes(&n);
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_object_get(paths, routes[i].pattern);
		ck_assert_msg(item != NULL, "%s is not in docs/openapi.json", routes[i].pattern);
		char *m = lower(routes[i].method);
		json_t *op = json_object_get(item, m);
		ck_assert_msg(op != NULL, "%s %s is not in docs/openapi.json", routes[i].method,
			      routes[i].pattern);
		ck_assert_msg(json_is_object(json_object_get(op, "responses")),
			      "%s %s has no responses", routes[i].method, routes[i].pattern);
		ck_assert_msg(json_is_string(json_object_get(op, "summary")),
			      "%s %s has no summary", routes[i].method, routes[i].pattern);
		free(m);
	}
	json_decref(doc);
}
END_TEST

START_TEST(every_described_operation_is_served)
{
	static const char *const methods[] = { "get", "put", "post", "delete", "patch", "head", "options" };
	json_t *doc = load_openapi();
	json_t *paths = json_object_get(doc, "paths");
	size_t n;
	const struct route *routes = router_routes(&n);
	const char *path;
	json_t *item;
	json_object_foreach(paths, path, item) {
		for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
			if (!json_object_get(item, methods[k]))
				continue;
			bool found = false;
			for (size_t i = 0; i < n && !found; i++) {
				char *m = lower(routes[i].method);
				found = strcmp(m, methods[k]) == 0 && strcmp(routes[i].pattern, path) == 0;
				free(m);
			}
			ck_assert_msg(found, "docs/openapi.json describes %s %s, which no route serves",
				      methods[k], path);
		}
	}
	ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	json_decref(doc);
}
END_TEST

/* "x-conform-access" of the description says what the route table enforces. */
static void check_access(const struct route *r, json_t *op)
{
	json_t *access = json_object_get(op, "x-conform-access");
	json_t *security = json_object_get(op, "security");
	ck_assert_msg(access != NULL, "%s %s has no x-conform-access", r->method, r->pattern);
	if (r->access.public_access) {
		ck_assert_msg(json_is_string(access) && strcmp(json_string_value(access), "public") == 0,
			      "%s %s is public but not described so", r->method, r->pattern);
		ck_assert_msg(json_is_array(security) && json_array_size(security) == 0,
			      "%s %s is public: its security must be []", r->method, r->pattern);
		return;
	}
	ck_assert_msg(json_is_array(security) && json_array_size(security) == 1,
		      "%s %s needs a token: its security must name bearer", r->method, r->pattern);
	ck_assert_msg(json_is_array(access), "%s %s: x-conform-access must list grants", r->method,
		      r->pattern);
	size_t n = 0;
	while (n < AUTHZ_MAX_GRANTS && r->access.grants[n].roles)
		n++;
	ck_assert_msg(json_array_size(access) == n, "%s %s: %zu grants described, %zu enforced",
		      r->method, r->pattern, json_array_size(access), n);
	for (size_t i = 0; i < n; i++) {
		const struct authz_grant *g = &r->access.grants[i];
		json_t *d = json_array_get(access, i);
		ck_assert_msg(strcmp(json_string_value(json_object_get(d, "rule")), authz_rule_name(g->rule)) == 0,
			      "%s %s grant %zu: rule %s, enforced %s", r->method, r->pattern, i,
			      json_string_value(json_object_get(d, "rule")), authz_rule_name(g->rule));
		unsigned described = 0;
		size_t k;
		json_t *role;
		json_array_foreach(json_object_get(d, "roles"), k, role)
			described |= party_role_parse(json_string_value(role));
		ck_assert_msg(described == g->roles, "%s %s grant %zu: roles differ from the route table",
			      r->method, r->pattern, i);
	}
}

START_TEST(access_is_described_as_enforced)
{
	json_t *doc = load_openapi();
	json_t *paths = json_object_get(doc, "paths");
	size_t n;
	const struct route *routes = router_routes(&n);
	for (size_t i = 0; i < n; i++) {
		char *m = lower(routes[i].method);
		json_t *op = json_object_get(json_object_get(paths, routes[i].pattern), m);
		free(m);
		ck_assert_ptr_nonnull(op);
		check_access(&routes[i], op);
	}
	json_decref(doc);
}
END_TEST

/* "x-conform-cors" says which routes allow any origin, as the table does;
 * only public routes may (a token-bearing answer stays same-origin). */
START_TEST(cross_origin_reads_are_described_as_served)
{
	json_t *doc = load_openapi();
	json_t *paths = json_object_get(doc, "paths");
	size_t n, marked = 0;
	const struct route *routes = router_routes(&n);
	for (size_t i = 0; i < n; i++) {
		char *m = lower(routes[i].method);
		json_t *op = json_object_get(json_object_get(paths, routes[i].pattern), m);
		free(m);
		ck_assert_ptr_nonnull(op);
		bool described = json_is_true(json_object_get(op, "x-conform-cors"));
		ck_assert_msg(described == routes[i].cors, "%s %s: x-conform-cors is %s, the table says %s",
			      routes[i].method, routes[i].pattern, described ? "true" : "absent",
			      routes[i].cors ? "true" : "false");
		ck_assert_msg(!routes[i].cors || routes[i].access.public_access,
			      "%s %s allows any origin but is not public", routes[i].method,
			      routes[i].pattern);
		marked += routes[i].cors;
	}
	ck_assert_uint_gt(marked, 0);
	json_decref(doc);
}
END_TEST

START_TEST(route_patterns_are_unique)
{
	size_t n;
	const struct route *routes = router_routes(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			ck_assert_msg(!(strcmp(routes[i].method, routes[j].method) == 0 &&
					strcmp(routes[i].pattern, routes[j].pattern) == 0),
				      "%s %s is in the route table twice", routes[i].method,
				      routes[i].pattern);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("contract");
	TCase *tc = tcase_create("contract");
	tcase_add_test(tc, every_route_is_described);
	tcase_add_test(tc, every_described_operation_is_served);
	tcase_add_test(tc, route_patterns_are_unique);
	tcase_add_test(tc, access_is_described_as_enforced);
	tcase_add_test(tc, cross_origin_reads_are_described_as_served);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
