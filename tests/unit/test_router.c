/*
 * Unit tests of server/router: matching a method and path to the route
 * table, the path parameters handed back (router_params), 404 and 405 with
 * its Allow list; and, walking the table, that every route is reached by its
 * own path: no earlier route takes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "router.h"
#include "tsupport.h"

START_TEST(a_match_hands_back_its_parameters)
{
	struct router_params p = { 0 };
	int index = -2;
	char allow[64];
	enum router_result r = router_match("GET", "/v1/schemes/dcms-cop/versions/2018/requirements",
					    &index, &p, allow, sizeof allow);
	ck_assert_int_eq(r, ROUTER_MATCH);
	const struct route *route = &router_routes(NULL)[index];
	ck_assert_str_eq(route->pattern, "/v1/schemes/{id}/versions/{version}/requirements");
	ck_assert_int_eq(p.n, 2);
	ck_assert_str_eq(router_param(&p, "id"), "dcms-cop");
	ck_assert_str_eq(router_param(&p, "version"), "2018");
	ck_assert_ptr_null(router_param(&p, "serial"));
	ck_assert_ptr_null(router_param(&p, "i")); /* names match whole */
	router_params_free(&p);
	ck_assert_int_eq(p.n, 0);
	ck_assert_ptr_null(router_param(&p, "id"));
	router_params_free(&p); /* safe twice */
}
END_TEST

START_TEST(a_rest_parameter_takes_the_rest_of_the_path)
{
	struct router_params p = { 0 };
	int index = -2;
	ck_assert_int_eq(router_match("GET", "/log/tile/0/x001/x234/067.p/12", &index, &p, NULL, 0),
			 ROUTER_MATCH);
	ck_assert_str_eq(router_routes(NULL)[index].pattern, "/log/tile/{L}/{N}");
	ck_assert_str_eq(router_param(&p, "L"), "0");
	ck_assert_str_eq(router_param(&p, "N"), "x001/x234/067.p/12");
	router_params_free(&p);
	/* entry bundles come first: "entries" is not a level */
	ck_assert_int_eq(router_match("GET", "/log/tile/entries/x001/067", &index, &p, NULL, 0),
			 ROUTER_MATCH);
	ck_assert_str_eq(router_routes(NULL)[index].pattern, "/log/tile/entries/{N}");
	ck_assert_str_eq(router_param(&p, "N"), "x001/067");
	router_params_free(&p);
}
END_TEST

START_TEST(an_unknown_path_is_not_found)
{
	struct router_params p = { 0 };
	int index = -2;
	char allow[64] = "junk";
	static const char *const paths[] = { "/v1/nothing", "/v1/schemes//versions/2018", "/v1/schemes/",
					     "", "/", "/v1/schemes/a/b", "/V1/SCHEMES" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		ck_assert_msg(router_match("GET", paths[i], &index, &p, allow, sizeof allow) ==
				      ROUTER_NOT_FOUND,
			      "%s was found", paths[i]);
		ck_assert_int_eq(index, -1);
		ck_assert_int_eq(p.n, 0); /* nothing to free */
		ck_assert_str_eq(allow, "");
	}
}
END_TEST

START_TEST(another_method_is_refused_with_the_allowed_ones)
{
	struct router_params p = { 0 };
	int index = -2;
	char allow[64];
	ck_assert_int_eq(router_match("DELETE", "/v1/organisations", &index, &p, allow, sizeof allow),
			 ROUTER_BAD_METHOD);
	ck_assert_int_eq(index, -1);
	ck_assert_int_eq(p.n, 0);
	ck_assert_msg(strstr(allow, "GET") && strstr(allow, "POST"), "Allow: %s", allow);
	ck_assert_ptr_null(strstr(allow, "PATCH"));
	/* a parameterised path: the methods of that path only */
	ck_assert_int_eq(router_match("PUT", "/v1/organisations/x", &index, &p, allow, sizeof allow),
			 ROUTER_BAD_METHOD);
	ck_assert_msg(strstr(allow, "GET") && strstr(allow, "PATCH") && !strstr(allow, "POST"),
		      "Allow: %s", allow);
	/* a small buffer is cut, never overrun */
	char tiny[4];
	ck_assert_int_eq(router_match("PUT", "/v1/organisations/x", &index, &p, tiny, sizeof tiny),
			 ROUTER_BAD_METHOD);
	ck_assert_uint_lt(strlen(tiny), sizeof tiny);
}
END_TEST

/* The route's pattern with every {param} filled with "p<i>" (a rest
 * parameter with two segments). */
static char *path_of(const struct route *r)
{
	char *out = cf_calloc(strlen(r->pattern) + 64, 1);
	size_t o = 0;
	int n = 0;
	for (const char *s = r->pattern; *s;) {
		if (*s == '{') {
			const char *close = strchr(s, '}');
			bool last = !close[1];
			o += (size_t)snprintf(out + o, 16, r->rest && last ? "p%d/q" : "p%d", n++);
			s = close + 1;
		} else {
			out[o++] = *s++;
		}
	}
	return out;
}

START_TEST(every_route_is_reached_by_its_own_path)
{
	size_t count = 0;
	const struct route *routes = router_routes(&count);
	ck_assert_uint_gt(count, 50);
	for (size_t i = 0; i < count; i++) {
		char *path = path_of(&routes[i]);
		struct router_params p = { 0 };
		int index = -2;
		char allow[128];
		ck_assert_int_eq(router_match(routes[i].method, path, &index, &p, allow, sizeof allow),
				 ROUTER_MATCH);
		ck_assert_msg((size_t)index == i, "%s %s is taken by %s %s", routes[i].method, path,
			      routes[index].method, routes[index].pattern);
		/* one parameter per {name}, each its own value */
		int braces = 0;
		for (const char *s = routes[i].pattern; (s = strchr(s, '{')); s++)
			braces++;
		ck_assert_int_eq(p.n, braces);
		ck_assert_int_le(p.n, ROUTER_MAX_PARAMS);
		for (int k = 0; k < p.n; k++) {
			char want[16];
			snprintf(want, sizeof want, "p%d", k);
			ck_assert_msg(strncmp(router_param(&p, p.names[k]), want, strlen(want)) == 0,
				      "%s: {%s} is %s", routes[i].pattern, p.names[k], p.values[k]);
		}
		router_params_free(&p);
		free(path);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("match");
	tcase_add_test(tc, a_match_hands_back_its_parameters);
	tcase_add_test(tc, a_rest_parameter_takes_the_rest_of_the_path);
	tcase_add_test(tc, an_unknown_path_is_not_found);
	tcase_add_test(tc, another_method_is_refused_with_the_allowed_ones);
	tcase_add_test(tc, every_route_is_reached_by_its_own_path);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
