/*
 * The buyer's page, /verify/{serial}, for each thing a certificate can be:
 * valid, suspended, withdrawn, expired, superseded by a newer certificate
 * and under review (its body's
 * accreditation withdrawn). What it says in plain words, that an ended
 * certificate shows no "valid until", the links a buyer follows; then
 * axe-core (WCAG 2.1 AA) in headless Chromium with screenshots at phone and
 * desktop width in the test artifacts (tests/js/page-check.mjs).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "page", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

static char *page_of(const char *serial)
{
	char path[128];
	snprintf(path, sizeof path, "/verify/%s", serial);
	return testsrv_get_text(&w.srv, path, 200);
}

static void status_change(const char *serial, const char *action, const char *body)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/certificates/%s/%s", serial, action);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token, body, 200));
}

/* What every page says, whatever the status. */
static void common(const char *html, const char *serial)
{
	char want[160];
	snprintf(want, sizeof want, "<h1>Certificate %s", serial);
	ck_assert_msg(strstr(html, want), "no <h1> naming %s", serial);
	ck_assert(strstr(html, "Acme Smart Plug"));
	/* the scheme and the class in one sentence each, the requirements linked */
	ck_assert(strstr(html, "is a published set of security requirements"));
	snprintf(want, sizeof want, "<a href=\"%s/v1/schemes/dcms-cop/versions/2018\">Read the scheme",
		 w.srv.base);
	ck_assert_msg(strstr(html, want), "no link to the scheme's requirements");
	ck_assert(strstr(html, "<b>Compliance class "));
	/* the product's page, GTIN, the manufacturer's country */
	ck_assert(strstr(html, "<a href=\"https://example.org/plug\">https://example.org/plug</a>"));
	ck_assert(strstr(html, "4006381333931"));
	ck_assert(strstr(html, "Manufacturer&#39;s country</th><td>GB<"));
	/* the body's directory entry, its accreditation */
	snprintf(want, sizeof want, "<a href=\"/v1/bodies/%s\">", w.certifier.org);
	ck_assert_msg(strstr(html, want), "no link to the body's entry %s: %s", want, strstr(html, "Certified by"));
	ck_assert(strstr(html, "<th scope=\"row\">Accreditation</th>"));
	/* the history, the time of the check, the security contact as a link */
	ck_assert(strstr(html, "<h2>Status history</h2>"));
	ck_assert(strstr(html, "<td>Issued</td>"));
	ck_assert(strstr(html, "Checked at <time>20"));
	ck_assert(strstr(html, "<a href=\"mailto:security@example.org\">security@example.org</a>"));
	/* print, the QR code's place, no script */
	ck_assert(strstr(html, "@media print{"));
	snprintf(want, sizeof want, "<img class=\"qr\" width=\"128\" height=\"128\" "
		 "src=\"/v1/certificates/%s/qr.svg\" alt=\"", serial);
	ck_assert(strstr(html, want));
	ck_assert(!strstr(html, "<script"));
}

static bool has_valid_until(const char *html)
{
	return strstr(html, "Valid until") || strstr(html, "valid until");
}

/* axe-core and screenshots over a list of (name, serial); 0 when clean. */
static void axe(const char *const *names, const char *const *serials, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		char url[256];
		snprintf(url, sizeof url, "%s/verify/%s", w.srv.base, serials[i]);
		json_array_append_new(list, json_pack("{s:s,s:s}", "name", names[i], "url", url));
	}
	char *text = json_dumps(list, 0);
	char file[64];
	snprintf(file, sizeof file, "page-axe-%s.json", names[0]);
	char *path = testsrv_write_artifact(file, text);
	char *dir = testsrv_artifact_path("");
	char *out = NULL;
	int rc = tsupport_node("page-check.mjs", path, dir, &out);
	ck_assert_msg(rc == 0, "axe-core found violations (or did not run): %s", out);
	/* every page was checked: five rules that pass on any page of text */
	for (size_t i = 0; i < n; i++) {
		char png[160];
		snprintf(png, sizeof png, "%sverify-%s-desktop.png", dir, names[i]);
		size_t len = 0;
		free(tsupport_read_file(png, &len));
		ck_assert_uint_gt(len, 10000);
		snprintf(png, sizeof png, "%sverify-%s-phone.png", dir, names[i]);
		free(tsupport_read_file(png, &len));
		ck_assert_uint_gt(len, 10000);
	}
	ck_assert_msg(strstr(out, "\"passes\""), "axe did not report: %s", out);
	free(out);
	free(dir);
	free(path);
	free(text);
	json_decref(list);
}

START_TEST(each_status_reads_plainly_and_passes_axe)
{
	/* the product the certificates name gets a GTIN and a page (there is no
	 * route to change a product; its snapshot is taken at submission) */
	const char *product[] = { world_product(&w) };
	PQclear(testdb_super_query(&w.db, "UPDATE product SET gtin = '4006381333931',"
				   " product_page = 'https://example.org/plug' WHERE id = $1", 1, product));
	char valid[40], suspended[40], withdrawn[40], expired[40], superseded[40], successor[40];
	world_certificate(&w, valid);
	world_certificate(&w, suspended);
	world_certificate(&w, withdrawn);
	world_certificate(&w, expired);
	world_certificate(&w, superseded);
	world_certificate(&w, successor);
	world_supersede(&w, superseded, successor);
	status_change(suspended, "suspend",
		      "{\"reason_code\":\"nonconformity\",\"reason\":\"Firmware 2.4.2 reopened telnet\"}");
	status_change(withdrawn, "withdraw",
		      "{\"reason_code\":\"product_change\",\"reason\":\"Hardware changed outside the scope\"}");
	/* expiry is derived from valid_until: move the period into the past */
	const char *ex[] = { expired };
	PQclear(testdb_super_query(&w.db, "UPDATE certificate SET valid_from = now() - interval '400 days',"
				   " valid_until = now() - interval '30 days' WHERE serial = $1", 1, ex));

	char *html = page_of(valid);
	common(html, valid);
	ck_assert(strstr(html, "<strong>VALID</strong><p>Valid until 20"));
	ck_assert(strstr(html, "vouches for it today"));
	ck_assert(strstr(html, "<th scope=\"row\">Valid until</th>"));
	ck_assert(!strstr(html, "Under review"));
	free(html);

	html = page_of(suspended);
	common(html, suspended);
	ck_assert(strstr(html, "<strong>SUSPENDED</strong><p>Suspended on 20"));
	ck_assert(strstr(html, " because Firmware 2.4.2 reopened telnet — the certificate does not vouch"));
	ck_assert(strstr(html, "<td>Suspended</td><td>Firmware 2.4.2 reopened telnet</td>"));
	free(html);

	html = page_of(withdrawn);
	common(html, withdrawn);
	ck_assert(strstr(html, "<strong>WITHDRAWN</strong><p>Withdrawn on 20"));
	ck_assert(strstr(html, "because Hardware changed outside the scope — the manufacturer no longer "
			       "claims this product meets the scheme"));
	ck_assert(strstr(html, "<td>Withdrawn</td><td>Hardware changed outside the scope</td>"));
	ck_assert_msg(!has_valid_until(html), "a withdrawn certificate shows a \"valid until\"");
	ck_assert(strstr(html, "<th scope=\"row\">Ended on</th>"));
	free(html);

	html = page_of(expired);
	common(html, expired);
	ck_assert(strstr(html, "<strong>EXPIRED</strong><p>Expired on 20"));
	ck_assert(strstr(html, "no longer vouches for this product"));
	ck_assert_msg(!has_valid_until(html), "an expired certificate shows a \"valid until\"");
	ck_assert(strstr(html, "<th scope=\"row\">Expired on</th>"));
	free(html);

	/* superseded: the successor linked, never "withdrawn", no "valid until" */
	html = page_of(superseded);
	common(html, superseded);
	char want[200];
	snprintf(want, sizeof want, "<strong>SUPERSEDED</strong><p>Superseded by <a href=\"/verify/%s\">%s</a> on 20",
		 successor, successor);
	ck_assert_msg(strstr(html, want), "no link to the successor: %s", strstr(html, "<strong>"));
	ck_assert(strstr(html, "a newer version of this product was certified"));
	ck_assert(strstr(html, "<td>Superseded</td><td>superseded by "));
	ck_assert_msg(!strstr(html, "Withdrawn") && !strstr(html, "WITHDRAWN") && !strstr(html, " withdrawn"),
		      "a superseded certificate is called withdrawn");
	ck_assert_msg(!has_valid_until(html), "a superseded certificate shows a \"valid until\"");
	ck_assert(strstr(html, "<th scope=\"row\">Ended on</th>"));
	free(html);

	/* an unknown serial is told plainly too */
	html = testsrv_get_text(&w.srv, "/verify/CF-2026-999999", 404);
	ck_assert(strstr(html, "<h1>Unknown certificate</h1>"));
	ck_assert(strstr(html, "UNKNOWN"));
	free(html);

	const char *names[] = { "valid", "suspended", "withdrawn", "expired", "superseded" };
	const char *serials[] = { valid, suspended, withdrawn, expired, superseded };
	axe(names, serials, 5);

	/* under review: the body lost its accreditation; the certificate's
	 * status stays valid and the buyer is told to ask before relying on it */
	char path[160];
	snprintf(path, sizeof path, "/v1/accreditations/%s/withdraw", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token,
				     "{\"reason\":\"the body failed its reassessment\"}", 200));
	html = page_of(valid);
	common(html, valid);
	ck_assert(strstr(html, "<b>Under review</b> since 20"));
	ck_assert(strstr(html, "accreditation under which it was issued was withdrawn"));
	ck_assert(strstr(html, "Ask the manufacturer or the scheme owner before relying on it"));
	ck_assert(!strstr(html, "vouches for it today"));
	free(html);
	const char *rnames[] = { "under-review" };
	const char *rserials[] = { valid };
	axe(rnames, rserials, 1);
}
END_TEST

/* The page's policy: no script at all, images only from this site. */
START_TEST(the_page_keeps_a_strict_csp)
{
	char serial[40];
	world_certificate(&w, serial);
	char url[160];
	snprintf(url, sizeof url, "%s/verify/%s", w.srv.base, serial);
	CURL *c = curl_easy_init();
	struct curl_slist *none = NULL;
	char *csp = NULL;
	FILE *sink = fopen("/dev/null", "w");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, none);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	struct curl_header *h = NULL;
	ck_assert_int_eq(curl_easy_header(c, "Content-Security-Policy", 0, CURLH_HEADER, -1, &h), CURLHE_OK);
	csp = cf_strdup(h->value);
	curl_easy_cleanup(c);
	fclose(sink);
	ck_assert_msg(strstr(csp, "default-src 'none'"), "%s", csp);
	ck_assert_msg(strstr(csp, "img-src 'self'"), "%s", csp);
	ck_assert_msg(!strstr(csp, "script-src"), "%s", csp);
	free(csp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("page");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_page_keeps_a_strict_csp);
	tcase_add_test(tc, each_status_reads_plainly_and_passes_axe); /* last: it withdraws the accreditation */
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
