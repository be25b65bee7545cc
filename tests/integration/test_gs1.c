/*
 * Shelf check by barcode (issue 15): the GS1 Digital Link resolver
 * (/01/{gtin} with its /10/ and /21/ qualifiers) redirects to the page of a
 * GTIN's certificate, lists them when there are several, and answers an
 * RFC 9264 linkset when asked for application/linkset+json or ?linkType=all;
 * a bad check digit is a 400 problem. POST /v1/shelf-check answers each GTIN
 * of a list, in order and chunked, with per-item errors, and refuses more
 * than 10,000 with 413. GET /v1/register/export.csv is RFC 4180 as
 * Python's csv module reads it, a product name with a comma and a quote
 * included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char one[40];       /* the certificate of GTIN_ONE */
static char two[2][40];    /* the two certificates of GTIN_TWO */

#define GTIN_ONE "5012345678900"  /* GTIN-13, as the product states it */
#define GTIN_ONE14 "05012345678900"
#define GTIN_TWO "96385074"        /* GTIN-8 */
#define GTIN_TWO14 "00000096385074"
#define GTIN_NONE "4006381333931" /* valid, and no product has it */
#define GTIN_BAD "4006381333932"  /* its check digit is wrong */
#define GTIN_RENEWED "5000000000012" /* a product recertified under the same GTIN */
#define GTIN_REPLACED "5000000000029" /* a product whose successor has another GTIN */

static void product_gtin(const char *gtin)
{
	char path[96], body[64];
	snprintf(path, sizeof path, "/v1/products/%s", world_product(&w));
	snprintf(body, sizeof body, "{\"gtin\":\"%s\"}", gtin);
	json_decref(testsrv_api_text(&w.srv, "PATCH", path, w.applicant.token, body, 200));
}

#define TRICKY_NAME "Plug \"Mini\", 2-pack"

static void product_patch(const char *field, const char *value)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/products/%s", world_product(&w));
	json_t *b = json_pack("{s:s}", field, value);
	json_decref(testsrv_api_ok(&w.srv, "PATCH", path, w.applicant.token, b, 200));
	json_decref(b);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "gs1", NULL);
	/* the product snapshot is taken at submission: each certificate
	 * states the GTIN the product had when its application was made */
	product_gtin(GTIN_ONE);
	product_patch("name", TRICKY_NAME);
	world_certificate(&w, one);
	product_patch("name", "Acme Smart Plug");
	product_gtin(GTIN_TWO);
	world_certificate(&w, two[0]);
	world_certificate(&w, two[1]);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

static void get(struct http_resp *r, const char *path, const char *accept)
{
	char h[96];
	snprintf(h, sizeof h, "Accept: %s", accept ? accept : "text/html");
	const char *headers[] = { h, NULL };
	testsrv_req(&w.srv, r, "GET", path, headers, NULL);
}

static void assert_redirect(const char *path, const char *serial)
{
	struct http_resp r;
	get(&r, path, NULL);
	ck_assert_msg(r.status == 307, "%s: %ld %.200s", path, r.status, r.body);
	char loc[256], want[128];
	ck_assert_ptr_nonnull(http_header(&r, "Location", loc, sizeof loc));
	snprintf(want, sizeof want, "/verify/%s", serial);
	size_t n = strlen(loc), m = strlen(want);
	ck_assert_msg(n >= m && strcmp(loc + n - m, want) == 0, "%s: Location %s", path, loc);
	http_resp_free(&r);
}

START_TEST(a_gtin_with_one_certificate_redirects_to_its_page_with_any_qualifier)
{
	assert_redirect("/01/" GTIN_ONE14, one);
	assert_redirect("/01/" GTIN_ONE, one);   /* GTIN-13 accepted, normalised */
	assert_redirect("/01/" GTIN_ONE14 "/10/LOT-42", one);
	assert_redirect("/01/" GTIN_ONE14 "/21/SN12345", one);
	assert_redirect("/01/" GTIN_ONE14 "/10/ABC/21/1", one);
	/* and the page it points to is there */
	char path[128];
	snprintf(path, sizeof path, "/verify/%s", one);
	free(testsrv_get_text(&w.srv, path, 200));
}
END_TEST

static void assert_problem(const char *path, long status, const char *words)
{
	struct http_resp r;
	get(&r, path, NULL);
	ck_assert_msg(r.status == status, "%s: %ld %.200s", path, r.status, r.body);
	char ct[96];
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof ct));
	ck_assert_msg(strstr(ct, "application/problem+json"), "%s", ct);
	ck_assert_msg(strstr(r.body, words), "%s: %s", path, r.body);
	http_resp_free(&r);
}

START_TEST(a_bad_gtin_is_a_problem_and_an_unknown_one_is_not_found)
{
	assert_problem("/01/" GTIN_BAD, 400, "check digit is 2, it should be 1");
	assert_problem("/01/12345", 400, "8, 12, 13 or 14 digits");
	assert_problem("/01/0501234567890A", 400, "only digits");
	assert_problem("/01/" GTIN_ONE14 "/10/ABCDEFGHIJKLMNOPQRSTU", 400, "1 to 20 characters");
	assert_problem("/01/" GTIN_NONE, 404, "no certificate in the register names GTIN 04006381333931");
}
END_TEST

START_TEST(several_current_certificates_are_listed_then_the_one_left_is_chosen)
{
	struct http_resp r;
	get(&r, "/01/" GTIN_TWO, NULL);
	ck_assert_msg(r.status == 300, "%ld %.200s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(r.body, two[0]));
	ck_assert_ptr_nonnull(strstr(r.body, two[1]));
	ck_assert_ptr_null(strstr(r.body, one));
	ck_assert_ptr_nonnull(strstr(r.body, "<h1>"));
	ck_assert_ptr_null(strstr(r.body, "<script"));
	http_resp_free(&r);
	char path[160];
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", two[0]);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet open\"}", 200));
	assert_redirect("/01/" GTIN_TWO14, two[1]);
	snprintf(path, sizeof path, "/v1/certificates/%s/reinstate", two[0]);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"fixed\"}", 200));
}
END_TEST

/* The linkset: {"linkset":[{"anchor": the Digital Link URI,
 * "https://gs1.org/voc/certificationInfo": [targets]}]}, each target with
 * href, type, title and status (an array, RFC 9264 4.2.4.3). */
static json_t *linkset(const char *path, const char *accept)
{
	struct http_resp r;
	get(&r, path, accept);
	ck_assert_msg(r.status == 200, "%s: %ld %.200s", path, r.status, r.body);
	char ct[96];
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof ct));
	ck_assert_str_eq(ct, "application/linkset+json");
	json_error_t je;
	json_t *doc = json_loads(r.body, 0, &je);
	ck_assert_msg(doc, "%s: not JSON: %s", path, je.text);
	http_resp_free(&r);
	json_t *ls = json_object_get(doc, "linkset");
	ck_assert(json_is_array(ls));
	ck_assert_int_eq(json_array_size(ls), 1);
	json_t *ctx = json_array_get(ls, 0);
	ck_assert(json_is_string(json_object_get(ctx, "anchor")));
	const char *k;
	json_t *v;
	json_object_foreach(ctx, k, v) {
		if (strcmp(k, "anchor") == 0)
			continue;
		ck_assert_str_eq(k, "https://gs1.org/voc/certificationInfo");
		ck_assert(json_is_array(v));
		size_t i;
		json_t *t;
		json_array_foreach(v, i, t) {
			ck_assert(json_is_string(json_object_get(t, "href")));
			ck_assert(json_is_string(json_object_get(t, "type")));
			ck_assert(json_is_string(json_object_get(t, "title")));
			ck_assert(json_is_array(json_object_get(t, "status")));
		}
	}
	return doc;
}

static int count_href(const json_t *doc, const char *tail)
{
	json_t *targets = json_object_get(json_array_get(json_object_get(doc, "linkset"), 0),
					  "https://gs1.org/voc/certificationInfo");
	size_t i, n = strlen(tail);
	json_t *t;
	int found = 0;
	json_array_foreach(targets, i, t) {
		const char *h = jsonx_str(t, "href");
		if (strlen(h) >= n && strcmp(h + strlen(h) - n, tail) == 0)
			found++;
	}
	return found;
}

START_TEST(the_linkset_lists_the_gtins_certificates_with_their_status)
{
	json_t *doc = linkset("/01/" GTIN_TWO "/21/X1", "application/linkset+json");
	const char *anchor = jsonx_str(json_array_get(json_object_get(doc, "linkset"), 0), "anchor");
	size_t al = strlen(anchor);
	const char *want = "/01/" GTIN_TWO14 "/21/X1";
	ck_assert_msg(al >= strlen(want) && strcmp(anchor + al - strlen(want), want) == 0, "%s", anchor);
	char tail[160];
	for (int i = 0; i < 2; i++) {
		snprintf(tail, sizeof tail, "/verify/%s", two[i]);
		ck_assert_int_eq(count_href(doc, tail), 1);
		snprintf(tail, sizeof tail, "/v1/certificates/%s", two[i]);
		ck_assert_int_eq(count_href(doc, tail), 1);
	}
	snprintf(tail, sizeof tail, "/verify/%s", one);
	ck_assert_int_eq(count_href(doc, tail), 0);
	json_decref(doc);
	/* ?linkType=all as GS1 resolvers do, whatever the Accept header */
	doc = linkset("/01/" GTIN_ONE14 "?linkType=all", "text/html");
	json_t *t = json_array_get(json_object_get(json_array_get(json_object_get(doc, "linkset"), 0),
						   "https://gs1.org/voc/certificationInfo"), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(t, "status"), 0)), "valid");
	json_decref(doc);
}
END_TEST

/* POST /v1/shelf-check of body: the status, the raw response (headers in
 * r->headers) for the caller to free. */
static void shelf(struct http_resp *r, const char *body)
{
	const char *headers[] = { "Content-Type: application/json", NULL };
	testsrv_req(&w.srv, r, "POST", "/v1/shelf-check", headers, body);
}

START_TEST(the_shelf_check_answers_each_gtin_in_order_chunked)
{
	struct http_resp r;
	shelf(&r, "{\"gtins\":[\"" GTIN_ONE "\",\"" GTIN_NONE "\",\"" GTIN_BAD "\",\"" GTIN_TWO14
		  "\",42]}");
	ck_assert_msg(r.status == 200, "%ld %.200s", r.status, r.body);
	char te[64];
	ck_assert_ptr_nonnull(http_header(&r, "Transfer-Encoding", te, sizeof te));
	ck_assert_str_eq(te, "chunked");
	json_t *lines[5];
	int n = 0;
	for (char *save = NULL, *l = strtok_r(r.body, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(n, 5);
		lines[n] = json_loads(l, 0, NULL);
		ck_assert_msg(lines[n], "not JSON: %s", l);
		n++;
	}
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(jsonx_str(lines[0], "gtin"), GTIN_ONE);
	ck_assert_str_eq(jsonx_str(lines[0], "gtin14"), GTIN_ONE14);
	ck_assert_str_eq(jsonx_str(lines[0], "status"), "certified");
	json_t *c = json_array_get(json_object_get(lines[0], "certificates"), 0);
	ck_assert_str_eq(jsonx_str(c, "serial"), one);
	ck_assert_str_eq(jsonx_str(c, "scheme"), "dcms-cop@2018");
	ck_assert(jsonx_str(c, "valid_until") != NULL);
	ck_assert_str_eq(jsonx_str(lines[1], "status"), "none");
	ck_assert_int_eq(json_array_size(json_object_get(lines[1], "certificates")), 0);
	ck_assert_str_eq(jsonx_str(lines[2], "gtin"), GTIN_BAD);
	ck_assert_ptr_nonnull(strstr(jsonx_str(lines[2], "error"), "check digit"));
	ck_assert_str_eq(jsonx_str(lines[3], "status"), "certified");
	ck_assert_int_eq(json_array_size(json_object_get(lines[3], "certificates")), 2);
	ck_assert(json_is_null(json_object_get(lines[4], "gtin")));
	ck_assert(jsonx_str(lines[4], "error") != NULL);
	for (int i = 0; i < n; i++)
		json_decref(lines[i]);
	http_resp_free(&r);
}
END_TEST

START_TEST(a_suspended_gtin_says_suspended)
{
	char path[160];
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", one);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet open\"}", 200));
	struct http_resp r;
	shelf(&r, "[\"" GTIN_ONE14 "\"]");
	ck_assert_msg(r.status == 200, "%ld %.200s", r.status, r.body);
	json_t *l = json_loads(r.body, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_str_eq(jsonx_str(l, "status"), "suspended");
	json_decref(l);
	http_resp_free(&r);
	snprintf(path, sizeof path, "/v1/certificates/%s/reinstate", one);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"fixed\"}", 200));
}
END_TEST

/* A list of n GTINs (all GTIN_NONE) as a JSON array. */
static char *many(int n)
{
	size_t size = (size_t)n * 17 + 3;
	char *b = cf_malloc(size), *p = b;
	*p++ = '[';
	for (int i = 0; i < n; i++) {
		memcpy(p, i ? ",\"" GTIN_NONE "\"" : "\"" GTIN_NONE "\"", i ? 16 : 15);
		p += i ? 16 : 15;
	}
	*p++ = ']';
	*p = '\0';
	return b;
}

START_TEST(ten_thousand_gtins_are_answered_and_one_more_is_413)
{
	char *body = many(10000);
	struct http_resp r;
	shelf(&r, body);
	free(body);
	ck_assert_msg(r.status == 200, "%ld %.200s", r.status, r.body);
	int lines = 0;
	for (size_t i = 0; i < r.len; i++)
		lines += r.body[i] == '\n';
	ck_assert_int_eq(lines, 10000);
	http_resp_free(&r);
	body = many(10001);
	shelf(&r, body);
	free(body);
	ck_assert_msg(r.status == 413, "%ld %.200s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "up to 10000 GTINs"));
	http_resp_free(&r);
	shelf(&r, "{\"gtin\":\"x\"}");
	ck_assert_int_eq(r.status, 400);
	http_resp_free(&r);
}
END_TEST

/* The CSV export as Python's csv module reads it: {"header": [...],
 * "rows": [[...], ...]} as JSON. */
START_TEST(the_register_csv_reads_back_with_pythons_csv_module)
{
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", "/v1/register/export.csv", NULL, NULL);
	ck_assert_msg(r.status == 200, "%ld %.200s", r.status, r.body);
	char h[96];
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type", h, sizeof h));
	ck_assert_ptr_nonnull(strstr(h, "text/csv"));
	ck_assert_ptr_nonnull(http_header(&r, "Transfer-Encoding", h, sizeof h));
	ck_assert_str_eq(h, "chunked");
	ck_assert_ptr_nonnull(strstr(r.body, "\r\n"));
	char *file = testsrv_write_artifact("register.csv", r.body);
	http_resp_free(&r);
	const char *argv[] = { "/usr/bin/python3", "-c",
			       "import csv, json, sys\n"
			       "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
			       "    rows = list(csv.reader(f, strict=True))\n"
			       "print(json.dumps({'header': rows[0], 'rows': rows[1:]}))\n",
			       file, NULL };
	struct proc_result pr;
	proc_run(&pr, argv, NULL);
	ck_assert_msg(pr.status == 0, "python3 csv: %s", pr.err);
	json_t *doc = json_loads(pr.out, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	proc_result_free(&pr);
	free(file);
	json_t *header = json_object_get(doc, "header");
	ck_assert_int_eq(json_array_size(header), 20);
	ck_assert_str_eq(json_string_value(json_array_get(header, 0)), "serial");
	ck_assert_str_eq(json_string_value(json_array_get(header, 3)), "product_name");
	ck_assert_str_eq(json_string_value(json_array_get(header, 10)), "support_period_end");
	ck_assert_str_eq(json_string_value(json_array_get(header, 19)), "certificate_url");
	json_t *rows = json_object_get(doc, "rows");
	ck_assert_int_eq(json_array_size(rows), 3);
	size_t i;
	json_t *row;
	int seen = 0;
	json_array_foreach(rows, i, row) {
		ck_assert_int_eq(json_array_size(row), 20);
		if (strcmp(json_string_value(json_array_get(row, 0)), one) != 0)
			continue;
		seen++;
		ck_assert_str_eq(json_string_value(json_array_get(row, 3)), TRICKY_NAME);
		ck_assert_str_eq(json_string_value(json_array_get(row, 7)), GTIN_ONE);
		ck_assert_str_eq(json_string_value(json_array_get(row, 10)), "2031-06-30");
		ck_assert_str_eq(json_string_value(json_array_get(row, 13)), "dcms-cop@2018");
		ck_assert_int_gt(strlen(json_string_value(json_array_get(row, 8))), 0);
		ck_assert_int_eq(strlen(json_string_value(json_array_get(row, 9))), 2);
		const char *url = json_string_value(json_array_get(row, 19));
		char tail[64];
		snprintf(tail, sizeof tail, "/verify/%s", one);
		ck_assert_msg(strlen(url) >= strlen(tail) && strcmp(url + strlen(url) - strlen(tail), tail) == 0,
			      "%s", url);
	}
	ck_assert_int_eq(seen, 1);
	json_decref(doc);
}
END_TEST

/* The shelf check's status of one GTIN. */
static void assert_shelf(const char *gtin, const char *status)
{
	struct http_resp r;
	char body[64];
	snprintf(body, sizeof body, "[\"%s\"]", gtin);
	shelf(&r, body);
	ck_assert_msg(r.status == 200, "%ld %.200s", r.status, r.body);
	json_t *l = json_loads(r.body, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_msg(strcmp(jsonx_str(l, "status"), status) == 0, "%s: %s, not %s", gtin,
		      jsonx_str(l, "status"), status);
	json_decref(l);
	http_resp_free(&r);
}

/* Last: it adds certificates. A certificate superseded by a newer one of the
 * same GTIN leads to the newer; one whose successor has another GTIN says
 * superseded, never withdrawn. */
START_TEST(a_superseded_gtin_leads_to_its_successor)
{
	char old[40], renewed[40], replaced[40], successor[40];
	product_gtin(GTIN_RENEWED);
	world_certificate(&w, old);
	world_certificate(&w, renewed);
	world_supersede(&w, old, renewed);
	assert_redirect("/01/" GTIN_RENEWED, renewed);
	assert_shelf(GTIN_RENEWED, "certified");

	product_gtin(GTIN_REPLACED);
	world_certificate(&w, replaced);
	product_gtin(GTIN_NONE);
	world_certificate(&w, successor);
	world_supersede(&w, replaced, successor);
	assert_shelf(GTIN_REPLACED, "superseded");
	assert_redirect("/01/" GTIN_REPLACED, replaced); /* its page names the successor */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gs1");
	TCase *tc = tcase_create("gs1");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_gtin_with_one_certificate_redirects_to_its_page_with_any_qualifier);
	tcase_add_test(tc, a_bad_gtin_is_a_problem_and_an_unknown_one_is_not_found);
	tcase_add_test(tc, several_current_certificates_are_listed_then_the_one_left_is_chosen);
	tcase_add_test(tc, the_linkset_lists_the_gtins_certificates_with_their_status);
	tcase_add_test(tc, the_shelf_check_answers_each_gtin_in_order_chunked);
	tcase_add_test(tc, a_suspended_gtin_says_suspended);
	tcase_add_test(tc, ten_thousand_gtins_are_answered_and_one_more_is_413);
	tcase_add_test(tc, the_register_csv_reads_back_with_pythons_csv_module);
	tcase_add_test(tc, a_superseded_gtin_leads_to_its_successor);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
