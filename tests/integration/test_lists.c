/*
 * Every list over real HTTP, walked from the route table: each route that
 * names a page rule (router.c .page) answers ?limit= and ?after= by that
 * rule, with the same 400 and detail on every list for a bad value, the
 * limit named first; its largest page is accepted and one more refused; a
 * route that names no rule and is described without ?limit= is no list.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "page.h"
#include "router.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char webhook[37];

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* a webhook to a loopback address, for its deliveries' list */
	const char *env[] = { "CONFORM_WEBHOOK_ALLOW_PRIVATE=1", NULL };
	world_create(&w, "lists", env);
	char *path = cf_asprintf("/v1/organisations/%s/webhooks", w.maker_admin.org);
	json_t *h = testsrv_api_text(&w.srv, "POST", path, w.maker_admin.token,
				     "{\"url\": \"http://127.0.0.1:9/hook\"}", 201);
	snprintf(webhook, sizeof webhook, "%s", jsonx_str(h, "id"));
	json_decref(h);
	free(path);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/* The route's pattern with its parameters filled in by things of the world. */
static char *concrete(const char *pattern)
{
	struct {
		const char *name, *value;
	} values[] = {
		{ "{id}/versions/{version}", "dcms-cop/versions/2018" },
		{ "{id}/webhooks/{webhook}", NULL },
	};
	char *path = cf_strdup(pattern);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char *at = strstr(path, values[i].name);
		if (!at)
			continue;
		char *v = values[i].value ? cf_strdup(values[i].value)
					  : cf_asprintf("%s/webhooks/%s", w.maker_admin.org, webhook);
		char *next = cf_asprintf("%.*s%s%s", (int)(at - path), path, v,
					 at + strlen(values[i].name));
		free(v);
		free(path);
		path = next;
	}
	ck_assert_msg(!strchr(path, '{'), "no value for a parameter of %s", pattern);
	return path;
}

/* GET base?query as the scheme owner's admin (who may read every list):
 * the status, and the problem's detail in detail (empty when none). */
static long get(const char *base, const char *query, char *detail, size_t size)
{
	char *path = cf_asprintf("%s?%s", base, query);
	long status = 0;
	json_t *j = testsrv_api(&w.srv, "GET", path, w.admin.token, NULL, &status);
	const char *d = jsonx_str(j, "detail");
	snprintf(detail, size, "%s", d ? d : "");
	if (status == 400)
		ck_assert_str_eq(jsonx_str(j, "type"), "urn:conform:problem:invalid-request");
	json_decref(j);
	free(path);
	return status;
}

static void expect_400(const char *base, const char *query, const char *detail)
{
	char got[512];
	long status = get(base, query, got, sizeof got);
	ck_assert_msg(status == 400, "%s?%s: %ld (%s)", base, query, status, got);
	ck_assert_msg(strcmp(got, detail) == 0, "%s?%s: \"%s\", not \"%s\"", base, query, got, detail);
}

static void expect_200(const char *base, const char *query)
{
	char got[512];
	long status = get(base, query, got, sizeof got);
	ck_assert_msg(status == 200, "%s?%s: %ld (%s)", base, query, status, got);
}

START_TEST(every_list_pages_by_its_rule)
{
	size_t count = 0, lists = 0;
	const struct route *routes = router_routes(&count);
	for (size_t i = 0; i < count; i++) {
		const struct page_rule *rule = routes[i].page;
		if (!rule)
			continue;
		lists++;
		ck_assert_str_eq(routes[i].method, "GET");
		char *base = concrete(routes[i].pattern);
		char q[96], limit_msg[96], after_msg[96];
		snprintf(limit_msg, sizeof limit_msg, "limit must be a whole number from 1 to %ld",
			 rule->limit_max);
		snprintf(after_msg, sizeof after_msg, "after must be a whole number from %ld to %ld",
			 rule->after_first, LONG_MAX);

		expect_200(base, "");
		expect_200(base, "limit=1");
		snprintf(q, sizeof q, "limit=%ld", rule->limit_max);
		expect_200(base, q);
		snprintf(q, sizeof q, "limit=%ld", rule->limit_max + 1);
		expect_400(base, q, limit_msg);
		expect_400(base, "limit=0", limit_msg);
		expect_400(base, "limit=-3", limit_msg);
		expect_400(base, "limit=many", limit_msg);
		expect_400(base, "limit=", limit_msg);
		expect_400(base, "limit=2.5", limit_msg);
		/* both bad: the limit is named */
		expect_400(base, "limit=0&after=x", limit_msg);
		if (rule->after == PAGE_AFTER_NUMBER) {
			snprintf(q, sizeof q, "after=%ld", rule->after_first);
			expect_200(base, q);
			snprintf(q, sizeof q, "limit=3&after=%ld", LONG_MAX);
			expect_200(base, q);
			snprintf(q, sizeof q, "after=%ld", rule->after_first - 1);
			expect_400(base, q, after_msg);
			expect_400(base, "after=x", after_msg);
			expect_400(base, "after=9223372036854775808", after_msg);
			expect_400(base, "limit=5&after=1e3", after_msg);
		} else {
			/* a key is the domain's to judge: never refused as a number */
			char got[512];
			long status = get(base, "after=-1", got, sizeof got);
			ck_assert_msg(!strstr(got, "whole number"), "%s: a key read as a number: %s", base, got);
			ck_assert_msg(status == 200 || status == 400, "%s?after=-1: %ld", base, status);
		}
		free(base);
	}
	/* requirements, organisations, people, products, applications, the
	 * register, the feed, a webhook's deliveries, the audit trail, a body's
	 * complaints and appeals */
	ck_assert_int_eq(lists, 10);
}
END_TEST

START_TEST(a_keyed_list_goes_on_after_the_key_it_gave)
{
	/* page_keyed passes the key on as given: the next page of the
	 * requirements begins after the last ref of the page before */
	const char *base = "/v1/schemes/iotsf-cf/versions/2.0/requirements";
	char *path = cf_asprintf("%s?limit=3", base);
	json_t *first = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	free(path);
	const char *next = jsonx_str(first, "next");
	ck_assert_ptr_nonnull(next);
	ck_assert_int_eq(json_array_size(json_object_get(first, "items")), 3);
	char *escaped = curl_easy_escape(NULL, next, 0);
	path = cf_asprintf("%s?limit=3&after=%s", base, escaped);
	curl_free(escaped);
	json_t *second = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	free(path);
	const json_t *items = json_object_get(second, "items");
	ck_assert_int_eq(json_array_size(items), 3);
	/* no item of the first page comes again */
	size_t i, j;
	const json_t *a, *b;
	json_array_foreach(json_object_get(first, "items"), i, a)
		json_array_foreach(items, j, b)
			ck_assert(!json_equal(a, b));
	json_decref(first);
	json_decref(second);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lists");
	TCase *tc = tcase_create("lists");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_list_pages_by_its_rule);
	tcase_add_test(tc, a_keyed_list_goes_on_after_the_key_it_gave);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
