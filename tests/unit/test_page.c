/*
 * Unit tests of core/page: each kind of list's rule (the limits and the
 * cursor every list accepts today), page_parse's values and errors, the
 * whole-number reader beneath it, and the route table's lists against the
 * OpenAPI description: every list names a rule, and the rule is what the
 * description promises.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"
#include "router.h"
#include "tsupport.h"

/* A page that parse must leave alone on error. */
static const struct page untouched = { -7, -7, "untouched" };

static void ok(const struct page_rule *rule, const char *limit, const char *after, struct page *out)
{
	struct cf_error err;
	*out = untouched;
	ck_assert_msg(page_parse(rule, limit, after, out, &err) == CF_OK, "limit=%s after=%s: %s",
		      limit ? limit : "(none)", after ? after : "(none)", err.detail);
}

/* A refusal: CF_EINVAL with exactly detail, and *out unchanged. */
static void refused(const struct page_rule *rule, const char *limit, const char *after,
		    const char *detail)
{
	struct cf_error err;
	struct page out = untouched;
	ck_assert_int_eq(page_parse(rule, limit, after, &out, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, detail);
	ck_assert_int_eq(out.limit, untouched.limit);
	ck_assert(out.after == untouched.after && out.after_key == untouched.after_key);
}

START_TEST(the_rules_of_the_lists)
{
	/* what each list accepted before the parser was one (server/routes/) */
	ck_assert_int_eq(page_keyed.limit_default, 100);
	ck_assert_int_eq(page_keyed.limit_max, 500);
	ck_assert_int_eq(page_keyed.after, PAGE_AFTER_KEY);
	ck_assert_int_eq(page_numbered.limit_default, 100);
	ck_assert_int_eq(page_numbered.limit_max, 500);
	ck_assert_int_eq(page_numbered.after, PAGE_AFTER_NUMBER);
	ck_assert_int_eq(page_numbered.after_first, 0);
	ck_assert_int_eq(page_audit.limit_default, 100);
	ck_assert_int_eq(page_audit.limit_max, 1000);
	ck_assert_int_eq(page_audit.after, PAGE_AFTER_NUMBER);
	ck_assert_int_eq(page_audit.after_first, 0);
	ck_assert_int_eq(page_feed.limit_default, 100);
	ck_assert_int_eq(page_feed.limit_max, 500);
	ck_assert_int_eq(page_feed.after, PAGE_AFTER_NUMBER);
	ck_assert_int_eq(page_feed.after_first, -1);
}
END_TEST

START_TEST(without_values_a_list_starts_at_its_beginning)
{
	struct page p;
	ok(&page_keyed, NULL, NULL, &p);
	ck_assert_int_eq(p.limit, 100);
	ck_assert_ptr_null(p.after_key);
	ck_assert_int_eq(p.after, 0);
	ok(&page_numbered, NULL, NULL, &p);
	ck_assert_int_eq(p.limit, 100);
	ck_assert_int_eq(p.after, 0);
	ck_assert_ptr_null(p.after_key);
	ok(&page_audit, NULL, NULL, &p);
	ck_assert_int_eq(p.limit, 100);
	ck_assert_int_eq(p.after, 0);
	ok(&page_feed, NULL, NULL, &p);
	ck_assert_int_eq(p.limit, 100);
	ck_assert_int_eq(p.after, -1); /* the log's first index is 0 */
}
END_TEST

START_TEST(limit_within_each_lists_bounds)
{
	static const struct {
		const struct page_rule *rule;
		const char *max, *over, *message;
	} lists[] = {
		{ &page_keyed, "500", "501", "limit must be a whole number from 1 to 500" },
		{ &page_numbered, "500", "501", "limit must be a whole number from 1 to 500" },
		{ &page_audit, "1000", "1001", "limit must be a whole number from 1 to 1000" },
		{ &page_feed, "500", "501", "limit must be a whole number from 1 to 500" },
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		const struct page_rule *r = lists[i].rule;
		struct page p;
		ok(r, "1", NULL, &p);
		ck_assert_int_eq(p.limit, 1);
		ok(r, lists[i].max, NULL, &p);
		ck_assert_int_eq(p.limit, atoi(lists[i].max));
		ok(r, "37", NULL, &p);
		ck_assert_int_eq(p.limit, 37);
		refused(r, lists[i].over, NULL, lists[i].message);
		refused(r, "0", NULL, lists[i].message);
		refused(r, "-1", NULL, lists[i].message);
		refused(r, "", NULL, lists[i].message);
		refused(r, "ten", NULL, lists[i].message);
		refused(r, "10x", NULL, lists[i].message);
		refused(r, "1.5", NULL, lists[i].message);
		refused(r, "0x10", NULL, lists[i].message);
		refused(r, "99999999999999999999", NULL, lists[i].message);
	}
}
END_TEST

START_TEST(a_numbered_after_is_a_position_from_the_first)
{
	struct page p;
	ok(&page_numbered, NULL, "0", &p);
	ck_assert_int_eq(p.after, 0);
	ok(&page_numbered, "5", "123456789012", &p);
	ck_assert_int_eq(p.after, 123456789012LL);
	ck_assert_int_eq(p.limit, 5);
	ck_assert_ptr_null(p.after_key);
	ok(&page_audit, NULL, "9223372036854775807", &p);
	ck_assert(p.after == LLONG_MAX);
	const char *from0 = "after must be a whole number from 0 to 9223372036854775807";
	refused(&page_numbered, NULL, "-1", from0);
	refused(&page_audit, NULL, "-1", from0);
	refused(&page_numbered, NULL, "9223372036854775808", from0);
	refused(&page_numbered, NULL, "abc", from0);
	refused(&page_numbered, NULL, "", from0);
	refused(&page_audit, NULL, "7 ", from0);
	/* the feed's cursor starts before the log's first index */
	ok(&page_feed, NULL, "-1", &p);
	ck_assert_int_eq(p.after, -1);
	ok(&page_feed, NULL, "0", &p);
	ck_assert_int_eq(p.after, 0);
	const char *from_minus1 = "after must be a whole number from -1 to 9223372036854775807";
	refused(&page_feed, NULL, "-2", from_minus1);
	refused(&page_feed, NULL, "first", from_minus1);
}
END_TEST

START_TEST(a_keyed_after_is_passed_on_as_given)
{
	/* the domain checks keys (an id must be a UUID, a ref must exist):
	 * the parser neither reads nor copies them */
	static const char *const keys[] = { "4c0fdd4e-0d5e-4d2a-9f0a-0c1d2e3f4a5b", "2.4.3.1", "5.1-1",
					    "-1", "not a number", "" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		struct page p;
		ok(&page_keyed, "20", keys[i], &p);
		ck_assert_ptr_eq(p.after_key, keys[i]);
		ck_assert_int_eq(p.after, 0);
		ck_assert_int_eq(p.limit, 20);
	}
	refused(&page_keyed, "0", "2.4.3.1", "limit must be a whole number from 1 to 500");
}
END_TEST

START_TEST(limit_is_named_before_after)
{
	refused(&page_numbered, "0", "-5", "limit must be a whole number from 1 to 500");
	refused(&page_feed, "x", "y", "limit must be a whole number from 1 to 500");
	refused(&page_audit, "2", "y", "after must be a whole number from 0 to 9223372036854775807");
}
END_TEST

START_TEST(whole_numbers_only)
{
	struct cf_error err;
	long n = 12345;
	ck_assert_int_eq(page_parse_long("9", "start", 0, 9, &n, &err), CF_OK);
	ck_assert_int_eq(n, 9);
	ck_assert_int_eq(page_parse_long("-3", "x", LONG_MIN, -1, &n, &err), CF_OK);
	ck_assert_int_eq(n, -3);
	n = 12345;
	ck_assert_int_eq(page_parse_long("10", "class", 0, 9, &n, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "class must be a whole number from 0 to 9");
	ck_assert_int_eq(err.code, CF_EINVAL);
	ck_assert_int_eq(n, 12345);
	ck_assert_int_eq(page_parse_long("-9223372036854775809", "start", LONG_MIN, LONG_MAX, &n, &err),
			 CF_EINVAL);
	ck_assert_int_eq(page_parse_long("5e3", "start", 0, LONG_MAX, &n, &err), CF_EINVAL);
	ck_assert_int_eq(n, 12345);
}
END_TEST

/* docs/openapi.json's parameter (resolved through $ref) named name of
 * operation op, or NULL. */
static const json_t *param_of(const json_t *api, const json_t *op, const json_t *item,
			      const char *name)
{
	const json_t *lists[] = { json_object_get(op, "parameters"), json_object_get(item, "parameters") };
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		const json_t *p;
		json_array_foreach(lists[l], i, p) {
			const char *ref = json_string_value(json_object_get(p, "$ref"));
			if (ref && strncmp(ref, "#/components/parameters/", 24) == 0)
				p = json_object_get(json_object_get(json_object_get(api, "components"),
								    "parameters"),
						    ref + 24);
			const char *n = json_string_value(json_object_get(p, "name"));
			if (n && strcmp(n, name) == 0)
				return p;
		}
	}
	return NULL;
}

static long long schema_int(const json_t *param, const char *key, long long none)
{
	const json_t *v = json_object_get(json_object_get(param, "schema"), key);
	return v ? json_integer_value(v) : none;
}

START_TEST(every_list_pages_as_the_api_description_says)
{
	json_t *api = tsupport_load_json("docs/openapi.json");
	const json_t *paths = json_object_get(api, "paths");
	size_t count = 0, lists = 0;
	const struct route *routes = router_routes(&count);
	for (size_t i = 0; i < count; i++) {
		const struct route *r = &routes[i];
		const json_t *item = json_object_get(paths, r->pattern);
		char method[8];
		size_t m = 0;
		for (; r->method[m] && m + 1 < sizeof method; m++)
			method[m] = (char)(r->method[m] | 0x20);
		method[m] = '\0';
		const json_t *op = json_object_get(item, method);
		const json_t *limit = param_of(api, op, item, "limit");
		const json_t *after = param_of(api, op, item, "after");
		/* a list in the description is a list in the table, and back */
		ck_assert_msg(!limit == !r->page, "%s %s: ?limit= %s but the route table %s", r->method,
			      r->pattern, limit ? "is described" : "is not described",
			      r->page ? "names a page rule" : "names none");
		if (!r->page)
			continue;
		lists++;
		ck_assert_msg(after != NULL, "%s: no ?after= described", r->pattern);
		const char *type = json_string_value(json_object_get(json_object_get(after, "schema"), "type"));
		ck_assert_msg(type && strcmp(type, r->page->after == PAGE_AFTER_NUMBER ? "integer" : "string") == 0,
			      "%s: after is described as %s", r->pattern, type ? type : "nothing");
		/* the bounds, where the description states them */
		long long max = schema_int(limit, "maximum", r->page->limit_max);
		long long min = schema_int(limit, "minimum", 1);
		long long def = schema_int(limit, "default", r->page->limit_default);
		ck_assert_msg(max == r->page->limit_max && min == 1 && def == r->page->limit_default,
			      "%s: limit %lld..%lld (default %lld) described, %ld..%ld (default %ld) "
			      "enforced",
			      r->pattern, min, max, def, 1L, r->page->limit_max, r->page->limit_default);
	}
	/* requirements, organisations, people, products, applications, the
	 * register, the feed, deliveries, the audit trail, the cases */
	ck_assert_int_eq(lists, 10);
	json_decref(api);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, the_rules_of_the_lists);
	tcase_add_test(tc, without_values_a_list_starts_at_its_beginning);
	tcase_add_test(tc, limit_within_each_lists_bounds);
	tcase_add_test(tc, a_numbered_after_is_a_position_from_the_first);
	tcase_add_test(tc, a_keyed_after_is_passed_on_as_given);
	tcase_add_test(tc, limit_is_named_before_after);
	tcase_add_test(tc, whole_numbers_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("routes");
	tcase_add_test(tc, every_list_pages_as_the_api_description_says);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
