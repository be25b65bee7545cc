/*
 * The label and the badge (issue 15): GET /v1/certificates/{serial}/qr.svg
 * drawn to PNG (rsvg-convert) and decoded (zbarimg), as a phone would read
 * it, gives exactly the product's GS1 Digital Link URI when it has a GTIN
 * and the buyer's page otherwise (a GTIN whose check digit is wrong
 * included); GET .../badge.svg says the live status
 * and says "suspended" right after a suspension (no server-side cache
 * between them; HTTP caches keep it a minute at most).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "tcert.h"
#include "world.h"

static struct world w;
static char plain[40], with_gtin[40];

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "labels", NULL);
	world_certificate(&w, plain);
	/* the product gets a GTIN-13; the next application (and certificate)
	 * carries it */
	char path[80];
	snprintf(path, sizeof path, "/v1/products/%s", world_product(&w));
	json_decref(testsrv_api_text(&w.srv, "PATCH", path, w.applicant.token,
				     "{\"gtin\":\"5012345678900\"}", 200));
	world_certificate(&w, with_gtin);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/* GET path: 200, image/svg+xml, CORS for any origin, the Cache-Control
 * expected; the SVG (caller frees). */
static char *get_svg(const char *path, const char *cache_control)
{
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", path, NULL, NULL);
	ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
	char h[120];
	ck_assert_str_eq(http_header(&r, "Content-Type", h, sizeof h), "image/svg+xml");
	ck_assert_str_eq(http_header(&r, "Access-Control-Allow-Origin", h, sizeof h), "*");
	ck_assert_str_eq(http_header(&r, "Cache-Control", h, sizeof h), cache_control);
	char *svg = r.body;
	r.body = NULL;
	http_resp_free(&r);
	return svg;
}

/* The text a scanner reads from the certificate's QR label. */
static char *scan(const char *serial)
{
	char path[120];
	snprintf(path, sizeof path, "/v1/certificates/%s/qr.svg", serial);
	char *svg = get_svg(path, "public, max-age=86400");
	char dir[] = "/tmp/conform-qr-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *svg_path = cf_asprintf("%s/qr.svg", dir), *png_path = cf_asprintf("%s/qr.png", dir);
	FILE *f = fopen(svg_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(svg, f);
	fclose(f);
	struct proc_result r;
	const char *draw[] = { "/usr/bin/rsvg-convert", "-w", "400", "-o", png_path, svg_path, NULL };
	proc_run(&r, draw, NULL);
	ck_assert_msg(r.status == 0, "rsvg-convert: %s", r.err);
	free(r.out);
	free(r.err);
	const char *read[] = { "/usr/bin/zbarimg", "--quiet", "--raw", png_path, NULL };
	proc_run(&r, read, NULL);
	ck_assert_msg(r.status == 0, "zbarimg found no code: %s", r.err);
	free(r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	unlink(svg_path);
	unlink(png_path);
	rmdir(dir);
	free(svg_path);
	free(png_path);
	free(svg);
	return r.out;
}

START_TEST(a_label_with_a_gtin_scans_to_its_digital_link)
{
	char *text = scan(with_gtin);
	char expect[120];
	snprintf(expect, sizeof expect, "%s/01/05012345678900", w.srv.base);
	ck_assert_str_eq(text, expect);
	free(text);
	/* which the resolver turns into the certificate's page */
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", "/01/05012345678900", NULL, NULL);
	ck_assert_int_eq(r.status, 307);
	char location[200], page[200];
	snprintf(page, sizeof page, "%s/verify/%s", w.srv.base, with_gtin);
	ck_assert_str_eq(http_header(&r, "Location", location, sizeof location), page);
	http_resp_free(&r);
}
END_TEST

START_TEST(a_label_without_a_gtin_scans_to_the_page)
{
	char *text = scan(plain);
	char expect[120];
	snprintf(expect, sizeof expect, "%s/verify/%s", w.srv.base, plain);
	ck_assert_str_eq(text, expect);
	free(text);
	/* and the page is there */
	char path[80];
	snprintf(path, sizeof path, "/verify/%s", plain);
	free(testsrv_get_text(&w.srv, path, 200));
}
END_TEST

START_TEST(an_unknown_serial_has_no_label_nor_badge)
{
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", "/v1/certificates/CF-2026-999999/qr.svg", NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	char h[120];
	ck_assert_str_eq(http_header(&r, "Content-Type", h, sizeof h), "application/problem+json");
	http_resp_free(&r);
	testsrv_req(&w.srv, &r, "GET", "/v1/certificates/CF-2026-999999/badge.svg", NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
}
END_TEST

static char *badge(const char *serial)
{
	char path[120];
	snprintf(path, sizeof path, "/v1/certificates/%s/badge.svg", serial);
	return get_svg(path, "public, max-age=60");
}

START_TEST(the_badge_shows_the_live_status)
{
	char other[40], path[120], title[160];
	world_certificate(&w, other);
	char *b = badge(other);
	snprintf(title, sizeof title, "<title id=\"t\">Certificate %s: valid (checked ", other);
	ck_assert_msg(strstr(b, title) != NULL, "%s", b);
	ck_assert_ptr_nonnull(strstr(b, "data-status=\"valid\">valid</text>"));
	ck_assert_ptr_nonnull(strstr(b, "fill=\"#116329\""));
	free(b);
	/* read once through GET /v1/certificates/{serial} too, so that its cache
	 * holds the certificate when it is suspended */
	json_decref(tcert_get(&w.srv, other));
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", other);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet open\"}", 200));
	b = badge(other);
	snprintf(title, sizeof title, "<title id=\"t\">Certificate %s: suspended (checked ", other);
	ck_assert_msg(strstr(b, title) != NULL, "%s", b);
	ck_assert_ptr_nonnull(strstr(b, "data-status=\"suspended\">suspended</text>"));
	free(b);
	snprintf(path, sizeof path, "/v1/certificates/%s/withdraw", other);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"not fixed\"}", 200));
	b = badge(other);
	ck_assert_msg(strstr(b, "data-status=\"withdrawn\">withdrawn</text>") != NULL, "%s", b);
	free(b);
}
END_TEST

/* GTINs stored before anything checked their check digit: the label never
 * carries a Digital Link that no GS1 scanner accepts; it leads to the page. */
START_TEST(a_gtin_with_a_wrong_check_digit_gives_the_page)
{
	char bad[40], path[80];
	snprintf(path, sizeof path, "/v1/products/%s", world_product(&w));
	json_decref(testsrv_api_text(&w.srv, "PATCH", path, w.applicant.token,
				     "{\"gtin\":\"5012345678901\"}", 200));
	world_certificate(&w, bad);
	char *text = scan(bad);
	char expect[120];
	snprintf(expect, sizeof expect, "%s/verify/%s", w.srv.base, bad);
	ck_assert_str_eq(text, expect);
	free(text);
}
END_TEST

/* The fenced block of docs/verify.md whose info string is "LANG verify-jws",
 * written to path. */
static void doc_block(const char *lang, const char *path)
{
	char *doc_path = tsupport_source_path("docs/verify.md");
	char *doc = tsupport_read_file(doc_path, NULL);
	char fence[64];
	snprintf(fence, sizeof fence, "```%s verify-jws\n", lang);
	char *start = strstr(doc, fence);
	ck_assert_msg(start != NULL, "docs/verify.md has no %s block", fence);
	start += strlen(fence);
	char *end = strstr(start, "\n```\n");
	ck_assert_ptr_nonnull(end);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(start, 1, (size_t)(end - start) + 1, f);
	fclose(f);
	free(doc);
	free(doc_path);
}

/* docs/verify.md's 20-line offline checks, in Python and in JavaScript, run
 * as written there: a certificate and the JWKS pass; a changed signature
 * does not. */
START_TEST(the_documented_offline_checks_pass_and_catch_a_change)
{
	char *jws = tcert_jws(&w.srv, plain);
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	char *jws_path = testsrv_write_artifact("verify-doc.jws", jws);
	char *jwks_path = testsrv_write_artifact("verify-doc-jwks.json", jwks);
	/* the script beside tests/js/node_modules, where node finds jose */
	char rel[64];
	snprintf(rel, sizeof rel, "tests/js/.verify-doc-%d.mjs", (int)getpid());
	char *js = tsupport_source_path(rel);
	char *py = testsrv_artifact_path("verify-doc.py");
	doc_block("js", js);
	doc_block("python", py);
	size_t n = strlen(jws);
	char *bad = cf_strdup(jws);
	bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A'; /* in the signature */
	char *bad_path = testsrv_write_artifact("verify-doc-bad.jws", bad);
	for (int broken = 0; broken < 2; broken++) {
		const char *which = broken ? bad_path : jws_path;
		const char *pyv[] = { "/usr/bin/env", "python3", py, which, jwks_path, NULL };
		const char *jsv[] = { "/usr/bin/env", "node", js, which, jwks_path, NULL };
		const char *const *runs[] = { pyv, jsv };
		for (int i = 0; i < 2; i++) {
			struct proc_result r;
			proc_run(&r, runs[i], NULL);
			if (broken)
				ck_assert_msg(r.status != 0, "%s passed a changed signature: %s", runs[i][1], r.out);
			else
				ck_assert_msg(r.status == 0 && strstr(r.out, "signature valid"), "%s: %s %s",
					      runs[i][1], r.out, r.err);
			proc_result_free(&r);
		}
	}
	unlink(js);
	free(bad_path);
	free(bad);
	free(py);
	free(js);
	free(jwks_path);
	free(jws_path);
	free(jwks);
	free(jws);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("labels");
	TCase *tc = tcase_create("labels");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_label_with_a_gtin_scans_to_its_digital_link);
	tcase_add_test(tc, a_label_without_a_gtin_scans_to_the_page);
	tcase_add_test(tc, an_unknown_serial_has_no_label_nor_badge);
	tcase_add_test(tc, the_badge_shows_the_live_status);
	tcase_add_test(tc, a_gtin_with_a_wrong_check_digit_gives_the_page);
	tcase_add_test(tc, the_documented_offline_checks_pass_and_catch_a_change);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
