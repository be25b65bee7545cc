/*
 * Certificates end to end: issued, verified by an independent JOSE
 * implementation (node's jose) with only the published JWKS, broken by any
 * changed byte; status changes told truthfully by the API, the verifier, the
 * status lists and the buyer's page (screenshot kept as an artefact); the
 * transparency log checked against an independent RFC 9162 computation,
 * also after 8 issuers made 1,600 certificates at once; keys retired,
 * accreditations withdrawn, the register exported and its signature checked,
 * conformctl cert verify and conformctl demo.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "codec.h"
#include "jsonx.h"
#include "jws.h"
#include "keys.h"
#include "mem.h"
#include "proc.h"
#include "tcert.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

/* node tests/js/verify-jws.mjs JWKS JWS: 0 verified, 1 not. */
static int jose_verify(const char *jwks_path, const char *jws_path)
{
	return tsupport_node("verify-jws.mjs", jwks_path, jws_path, NULL);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "certificates", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

START_TEST(an_independent_jose_verifies_and_any_changed_byte_breaks_it)
{
	char serial[40];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	char *jwks_path = testsrv_write_artifact("certificate-jwks.json", jwks);
	char *jws_path = testsrv_write_artifact("certificate.jws", jws);
	ck_assert_int_eq(jose_verify(jwks_path, jws_path), 0);

	/* the harness itself rejects every tampering (it can fail) */
	char *script = tsupport_source_path("tests/js/verify-jws.mjs");
	const char *argv[] = { "/usr/bin/env", "node", script, "--selftest", NULL };
	struct proc_result r;
	proc_run(&r, argv, NULL);
	ck_assert_msg(r.status == 0, "jose selftest: %s %s", r.out, r.err);
	proc_result_free(&r);
	free(script);

	/* one changed byte anywhere: jose refuses (a sample of positions in every
	 * part and at the dots)... */
	size_t n = strlen(jws);
	const char *d1 = strchr(jws, '.'), *d2 = strrchr(jws, '.');
	size_t spots[] = { 0, (size_t)(d1 - jws) / 2, (size_t)(d1 - jws), (size_t)(d1 - jws) + 1,
			   (size_t)(d1 - jws) + (size_t)(d2 - d1) / 2, (size_t)(d2 - jws),
			   (size_t)(d2 - jws) + 1, (size_t)(d2 - jws) + (n - (size_t)(d2 - jws)) / 2, n - 1 };
	for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
		char *bad = cf_strdup(jws);
		bad[spots[k]] = bad[spots[k]] == 'A' ? 'B' : 'A';
		char *bad_path = testsrv_write_artifact("certificate-tampered.jws", bad);
		ck_assert_msg(jose_verify(jwks_path, bad_path) == 1, "jose accepted a change at %zu", spots[k]);
		free(bad_path);
		free(bad);
	}
	/* ...and so does conform's own verifier, at every single position */
	json_t *keys = json_loads(jwks, 0, NULL);
	struct jws parsed = { 0 };
	ck_assert_int_eq(jws_parse(jws, 65536, &parsed, NULL), 0);
	const char *kid = jsonx_str(parsed.header, "kid");
	unsigned char pub[32];
	size_t i;
	json_t *k;
	bool found = false;
	json_array_foreach(json_object_get(keys, "keys"), i, k)
		if (strcmp(jsonx_str(k, "kid"), kid) == 0)
			found = keys_public_from_jwk(k, pub, NULL) == CF_OK;
	ck_assert(found);
	ck_assert(jws_verify(&parsed, pub));
	jws_clear(&parsed);
	for (size_t pos = 0; pos < n; pos++) {
		char *bad = cf_strdup(jws);
		bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
		struct jws t = { 0 };
		bool ok = jws_parse(bad, 65536, &t, NULL) == CF_OK && jws_verify(&t, pub);
		ck_assert_msg(!ok, "a change at %zu still verifies", pos);
		jws_clear(&t);
		free(bad);
	}
	json_decref(keys);
	free(jwks_path);
	free(jws_path);
	free(jwks);
	free(jws);
}
END_TEST

/* Waits until the certificate's log entry is under a signed tree head. */
static void wait_logged(const char *serial)
{
	for (int i = 0; i < 200; i++) {
		json_t *c = tcert_get(&w.srv, serial);
		bool in = json_is_true(json_object_get(json_object_get(c, "log"), "in_signed_tree_head"));
		json_decref(c);
		if (in)
			return;
		usleep(50000);
	}
	ck_abort_msg("%s is not under a signed tree head within 10 s", serial);
}

/* Is the certificate's bit set in its body's status list of purpose? The
 * list is a vc+jwt of that purpose with a ttl. */
static bool listed(const char *serial, const char *purpose)
{
	unsigned index;
	json_t *header = NULL;
	json_t *cred = tcert_status_list(&w.srv, serial, purpose, &index, &header);
	ck_assert_str_eq(jsonx_str(header, "typ"), "vc+jwt");
	json_t *subject = json_object_get(cred, "credentialSubject");
	ck_assert_str_eq(jsonx_str(subject, "statusPurpose"), purpose);
	ck_assert(json_is_integer(json_object_get(subject, "ttl")));
	bool set = tcert_list_bit(cred, index);
	json_decref(cred);
	json_decref(header);
	return set;
}

/* Opens the page in headless Chromium: a screenshot (kept) and the DOM. */
static char *chromium(const char *serial, const char *shot)
{
	char *png = testsrv_artifact_path(shot);
	char *dom = testsrv_artifact_path("page-dom.html");
	char *profile = cf_asprintf("/tmp/conform-chromium.%d", (int)getpid());
	char *flags = cf_asprintf("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
				  "--disable-background-networking --disable-component-update --disable-sync "
				  "--hide-scrollbars --user-data-dir=%s", profile);
	char *cmd = cf_asprintf("chromium %s --window-size=390,1500 --screenshot='%s' '%s/verify/%s' "
				">/dev/null 2>&1 && chromium %s --dump-dom '%s/verify/%s' > '%s' 2>/dev/null",
				flags, png, w.srv.base, serial, flags, w.srv.base, serial, dom);
	ck_assert_msg(system(cmd) == 0, "chromium failed: %s", cmd);
	struct stat st;
	ck_assert_int_eq(stat(png, &st), 0);
	ck_assert_int_gt(st.st_size, 10000);
	char *text = tsupport_read_file(dom, NULL);
	char *rm = cf_asprintf("rm -rf '%s'", profile);
	ck_assert_int_eq(system(rm), 0);
	free(rm);
	free(cmd);
	free(flags);
	free(profile);
	free(dom);
	free(png);
	return text;
}

START_TEST(status_changes_are_told_truthfully_everywhere)
{
	char serial[40], path[128];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	wait_logged(serial);
	json_t *v = tcert_verify_jws(&w.srv, jws);
	ck_assert(json_is_true(json_object_get(v, "valid")));
	ck_assert(json_is_true(json_object_get(json_object_get(v, "logged"), "included")));
	json_decref(v);
	char *page = chromium(serial, "verify-page-valid.png");
	ck_assert(strstr(page, "VALID"));
	free(page);

	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_decref(testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200)); /* cached */
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", serial);
	json_t *c = testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
			 "{\"reason_code\":\"nonconformity\",\"reason\":\"Firmware 2.4.2 reopened telnet\"}", 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "suspended");
	json_decref(c);
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "suspended"); /* at once, not after a cache expires */
	json_decref(c);
	ck_assert(listed(serial, "suspension"));
	ck_assert(!listed(serial, "revocation"));
	snprintf(path, sizeof path, "/v1/certificates/%s/reinstate", serial);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
			 "{\"reason_code\":\"nonconformity\",\"reason\":\"2.4.3 closes it\"}", 200));
	ck_assert(!listed(serial, "suspension"));

	snprintf(path, sizeof path, "/v1/certificates/%s/withdraw", serial);
	c = testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
		 "{\"reason_code\":\"product_change\",\"reason\":\"Hardware changed outside the scope\"}", 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "withdrawn");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "history")), 4);
	json_decref(c);
	/* final */
	snprintf(path, sizeof path, "/v1/certificates/%s/reinstate", serial);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token, "{\"reason_code\":\"other\",\"reason\":\"undo\"}", 409));
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "withdrawn");
	ck_assert_str_eq(jsonx_str(c, "status_reason"), "Hardware changed outside the scope");
	json_decref(c);
	v = tcert_verify_jws(&w.srv, jws);
	ck_assert(json_is_true(json_object_get(v, "signature_valid")));
	ck_assert_str_eq(jsonx_str(v, "status"), "withdrawn");
	ck_assert(json_is_false(json_object_get(v, "valid")));
	json_decref(v);
	ck_assert(listed(serial, "revocation"));
	page = chromium(serial, "verify-page-withdrawn.png");
	ck_assert(strstr(page, "WITHDRAWN"));
	ck_assert(strstr(page, "Hardware changed outside the scope"));
	free(page);
	/* the buyer's page for a serial that does not exist */
	char *unknown = testsrv_get_text(&w.srv, "/verify/CF-2026-999999", 404);
	ck_assert(strstr(unknown, "UNKNOWN"));
	free(unknown);
	/* reason codes are checked */
	char other[40];
	world_certificate(&w, other);
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", other);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token, "{\"reason_code\":\"bored\",\"reason\":\"x\"}", 400));
	/* the log holds every event */
	json_t *all = testsrv_api_ok(&w.srv, "GET", "/v1/log/entries?start=0&end=1000", NULL, NULL, 200);
	int events = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(all, "entries"), i, e)
		events += strstr(jsonx_str(e, "entry"), serial) != NULL;
	ck_assert_int_eq(events, 4);
	json_decref(all);
	free(jws);
}
END_TEST

/* A DCMS application for a new product (product_text, its JSON), answered,
 * submitted and taken; returns the application id in id. */
static void taken_application(const char *product_text, char id[37])
{
	json_t *pb = json_loads(product_text, 0, NULL);
	ck_assert_ptr_nonnull(pb);
	json_t *p = testsrv_api_ok(&w.srv, "POST", "/v1/products", w.applicant.token, pb, 201);
	json_decref(pb);
	json_t *ab = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id", jsonx_str(p, "id"),
			       "scheme_id", "dcms-cop", "scheme_version", "2018", "assessment_type",
			       "third-party", "body_id", w.certifier.org, "owners", "Software", "a",
			       "Hardware", "b", "Policy", "c", "Process", "d");
	json_t *a = testsrv_api_ok(&w.srv, "POST", "/v1/applications", w.applicant.token, ab, 201);
	snprintf(id, 37, "%s", jsonx_str(a, "id"));
	json_decref(a);
	json_decref(ab);
	json_decref(p);
	json_t *ans = json_loads("{\"statement\":\"compliant\",\"text\":\"yes\"}", 0, NULL);
	for (int i = 1; i <= 13; i++) {
		char path[128];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		json_decref(testsrv_api_ok(&w.srv, "PUT", path, w.applicant.token, ans, 200));
	}
	json_decref(ans);
	json_decref(world_act(&w, id, &w.applicant, "submit", NULL, 200));
	json_decref(world_act(&w, id, &w.assessor, "take", NULL, 200));
}

/* The application id, taken, passed on every requirement, approved, and
 * issued; returns the certificate. */
static json_t *issued_from(const char *id)
{
	char vb[2048] = "{\"verdicts\":[";
	for (int i = 1; i <= 13; i++) {
		char one[96];
		snprintf(one, sizeof one, "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"pass\"}", i > 1 ? "," : "", i);
		strncat(vb, one, sizeof vb - strlen(vb) - 1);
	}
	strncat(vb, "]}", sizeof vb - strlen(vb) - 1);
	char path[160];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.assessor.token, vb, 200));
	json_decref(world_act(&w, id, &w.assessor, "complete", NULL, 200));
	json_decref(world_act(&w, id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 200));
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	return testsrv_api_text(&w.srv, "POST", path, w.certifier.token, NULL, 201);
}

START_TEST(the_page_escapes_what_it_shows)
{
	char id[37];
	taken_application("{\"name\":\"<script>alert(1)</script> & \\\"Co\\\"\",\"model\":\"<b>X</b>\","
			  "\"hardware_version\":\"1\",\"firmware_version\":\"1\",\"support_end\":\"2031-01-01\"}",
			  id);
	json_t *c = issued_from(id);
	char path[160];
	snprintf(path, sizeof path, "/verify/%s", jsonx_str(c, "serial"));
	char *html = testsrv_get_text(&w.srv, path, 200);
	ck_assert_ptr_null(strstr(html, "<script>"));
	ck_assert_ptr_null(strstr(html, "<b>X</b>"));
	ck_assert(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"));
	ck_assert(strstr(html, "name=\"viewport\""));
	free(html);
	/* the second call returns the same certificate */
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	json_t *again = testsrv_api_text(&w.srv, "POST", path, w.certifier.token, NULL, 200);
	ck_assert_str_eq(jsonx_str(again, "serial"), jsonx_str(c, "serial"));
	json_decref(again);
	json_decref(c);
}
END_TEST

/* The UTC date days from today, "YYYY-MM-DD". */
static void utc_date(int days, char out[11])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The dates rule (docs/architecture.md, "Dates and periods"): support_end
 * names the last day of support, so a product whose support ends today may
 * still be submitted, and a certificate its support bounds is valid until
 * the first instant after that day: the next midnight UTC, not a second
 * before it (valid_until, like every end, is exclusive). */
START_TEST(support_end_is_the_last_day_and_valid_until_the_instant_after)
{
	char today[11], soon[11], after_soon[11];
	utc_date(0, today);
	utc_date(100, soon);
	utc_date(101, after_soon);
	char text[512], id[37];
	snprintf(text, sizeof text, "{\"name\":\"Last-day Lamp\",\"model\":\"LL-1\",\"hardware_version\":\"1\","
		 "\"firmware_version\":\"1\",\"support_end\":\"%s\"}", today);
	taken_application(text, id); /* submitted on its last day of support */

	snprintf(text, sizeof text, "{\"name\":\"Soon Lamp\",\"model\":\"SL-1\",\"hardware_version\":\"1\","
		 "\"firmware_version\":\"1\",\"support_end\":\"%s\"}", soon);
	taken_application(text, id);
	json_t *c = issued_from(id);
	char want[32];
	snprintf(want, sizeof want, "%sT00:00:00Z", after_soon);
	ck_assert_str_eq(jsonx_str(c, "valid_until"), want);
	json_decref(c);
}
END_TEST

/* RFC 9162 section 2.1.1, written out again with OpenSSL alone: not the
 * project's Merkle code. */
static void sha256(const unsigned char *a, size_t n, unsigned char out[32])
{
	unsigned int len;
	EVP_Digest(a, n, out, &len, EVP_sha256(), NULL);
}

static void mth(unsigned char (*leaves)[32], size_t n, unsigned char out[32])
{
	if (n == 0) {
		sha256((const unsigned char *)"", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	unsigned char in[65];
	in[0] = 1;
	mth(leaves, k, in + 1);
	mth(leaves + k, n - k, in + 33);
	sha256(in, 65, out);
}

/* Every entry, its leaf hash recomputed here; returns the count. */
static size_t load_leaves(unsigned char (**leaves)[32])
{
	size_t n = 0, cap = 1024;
	*leaves = cf_calloc(cap, 32);
	for (;;) {
		char path[96];
		snprintf(path, sizeof path, "/v1/log/entries?start=%zu&end=%zu", n, n + 1000);
		json_t *page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		json_t *entries = json_object_get(page, "entries");
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e) {
			ck_assert_int_eq(json_integer_value(json_object_get(e, "index")), (json_int_t)n);
			const char *entry = jsonx_str(e, "entry");
			size_t len = strlen(entry);
			unsigned char *buf = cf_malloc(len + 1);
			buf[0] = 0;
			memcpy(buf + 1, entry, len);
			if (n == cap) {
				cap *= 2;
				*leaves = cf_reallocarray(*leaves, cap, 32);
			}
			sha256(buf, len + 1, (*leaves)[n]);
			free(buf);
			char *b64 = codec_b64_encode((*leaves)[n], 32);
			ck_assert_str_eq(b64, jsonx_str(e, "leaf_hash"));
			free(b64);
			n++;
		}
		size_t got = json_array_size(entries);
		json_decref(page);
		if (got < 1000)
			return n;
	}
}

static void b64_32(const char *s, unsigned char out[32])
{
	unsigned char *raw = NULL;
	size_t n = 0;
	ck_assert_int_eq(codec_b64_decode(s, strlen(s), &raw, &n, NULL), 0);
	ck_assert_uint_eq(n, 32);
	memcpy(out, raw, 32);
	free(raw);
}

/* RFC 9162 2.1.3.2, again independently: the audit path recomputes the root. */
static bool check_inclusion(size_t index, size_t size, const unsigned char leaf[32], json_t *path,
			    const unsigned char root[32])
{
	if (index >= size)
		return false;
	size_t fn = index, sn = size - 1;
	unsigned char r[32], in[65];
	memcpy(r, leaf, 32);
	size_t i;
	json_t *p;
	json_array_foreach(path, i, p) {
		unsigned char h[32];
		b64_32(json_string_value(p), h);
		if (sn == 0)
			return false;
		in[0] = 1;
		if ((fn & 1) || fn == sn) {
			memcpy(in + 1, h, 32);
			memcpy(in + 33, r, 32);
			sha256(in, 65, r);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			memcpy(in + 1, r, 32);
			memcpy(in + 33, h, 32);
			sha256(in, 65, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, 32) == 0;
}

static void check_log_independently(void)
{
	unsigned char (*leaves)[32] = NULL;
	size_t n = load_leaves(&leaves);
	world_wait_checkpoint(&w, (long long)n);
	json_t *head = testsrv_api_ok(&w.srv, "GET", "/v1/log/tree-head", NULL, NULL, 200);
	size_t size = (size_t)json_integer_value(json_object_get(head, "size"));
	ck_assert_uint_eq(size, n);
	unsigned char root[32], mine[32];
	b64_32(jsonx_str(head, "root_hash"), root);
	mth(leaves, size, mine);
	ck_assert_msg(memcmp(root, mine, 32) == 0, "the signed root is not the RFC 9162 root of the entries");
	/* every inclusion proof against that head; consistency with half of it */
	for (size_t i = 0; i < size; i++) {
		char path[96];
		snprintf(path, sizeof path, "/v1/log/proof/inclusion?index=%zu&tree_size=%zu", i, size);
		json_t *pr = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		ck_assert_msg(check_inclusion(i, size, leaves[i], json_object_get(pr, "audit_path"), root),
			      "the inclusion proof of %zu does not verify", i);
		json_decref(pr);
	}
	if (size > 1) {
		char path[96];
		snprintf(path, sizeof path, "/v1/log/proof/consistency?first=%zu&second=%zu", size / 2, size);
		json_t *pr = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		unsigned char r1[32];
		mth(leaves, size / 2, mine);
		b64_32(jsonx_str(pr, "first_root"), r1);
		ck_assert(memcmp(r1, mine, 32) == 0);
		json_decref(pr);
	}
	json_decref(head);
	free(leaves);
	/* the checkpoint is a C2SP note that the log's vkey verifies */
	char *note = testsrv_get_text(&w.srv, "/v1/log/checkpoint", 200);
	char *vkey = testsrv_get_text(&w.srv, "/v1/log/vkey", 200);
	ck_assert(strstr(note, "/log\n"));
	ck_assert(strstr(note, "\n\n\xe2\x80\x94 "));
	ck_assert(strstr(vkey, "/log+"));
	free(note);
	free(vkey);
}

struct issuer {
	const struct actor *who;
	char (*ids)[37];
	size_t from, count;
	int failures;
};

static void *issue_many(void *arg)
{
	struct issuer *is = arg;
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", is->who->token);
	const char *h[] = { auth, NULL };
	for (size_t i = is->from; i < is->from + is->count; i++) {
		char url[256];
		snprintf(url, sizeof url, "%s/v1/applications/%s/certificate", w.srv.base, is->ids[i]);
		struct http_resp r;
		if (http_try(&r, "POST", url, h, NULL, 0) != 0 || r.status != 201)
			is->failures++;
		http_resp_free(&r);
	}
	return NULL;
}

START_TEST(eight_issuers_1600_certificates_and_a_log_without_a_gap)
{
	/* 1,600 approved applications, made directly in the database (the
	 * workflow has its own tests); the decision trigger still checks each */
	char template_id[37];
	world_application(&w, "decided", template_id);
	const char *params[] = { template_id, w.certifier.user };
	PGresult *res = testdb_super_query(&w.db,
		"WITH a AS (INSERT INTO application (product_id, manufacturer_id, scheme_id, scheme_version,"
		" class, assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot,"
		" created_by, submitted_at)"
		" SELECT product_id, manufacturer_id, scheme_id, scheme_version, class, assessment_type,"
		" body_id, owners, 'decided', product_snapshot, manufacturer_snapshot, created_by, now()"
		" FROM application,"
		" generate_series(1, 1600) WHERE id = $1 RETURNING id),"
		" d AS (INSERT INTO application_decision (application_id, decision, rationale, decided_by,"
		" evidence_digest, self_declaration) SELECT id, 'approved', 'bulk approval for the test',"
		" $2, repeat('0', 64), false FROM a RETURNING application_id)"
		" SELECT application_id FROM d", 2, params);
	ck_assert_int_eq(PQntuples(res), 1600);
	char (*ids)[37] = cf_calloc(1600, 37);
	for (int i = 0; i < 1600; i++)
		snprintf(ids[i], 37, "%s", PQgetvalue(res, i, 0));
	PQclear(res);

	/* eight certifiers of the body, each issuing 200 at once */
	struct actor certifiers[8];
	pthread_t threads[8];
	struct issuer work[8];
	for (int t = 0; t < 8; t++) {
		char name[32];
		snprintf(name, sizeof name, "Certifier %d", t);
		world_person(&w, &certifiers[t], w.certifier.org, "[\"certifier\"]", name);
		work[t] = (struct issuer){ &certifiers[t], ids, (size_t)t * 200, 200, 0 };
	}
	for (int t = 0; t < 8; t++)
		pthread_create(&threads[t], NULL, issue_many, &work[t]);
	int failures = 0;
	for (int t = 0; t < 8; t++) {
		pthread_join(threads[t], NULL);
		failures += work[t].failures;
	}
	ck_assert_int_eq(failures, 0);
	free(ids);
	res = testdb_super_exec(&w.db,
		"SELECT count(*), count(DISTINCT serial), (SELECT count(*) FROM tlog_entry),"
		" (SELECT max(idx) + 1 FROM tlog_entry), (SELECT count(DISTINCT idx) FROM tlog_entry)"
		" FROM certificate WHERE application_id IN (SELECT id FROM application WHERE"
		" product_snapshot IS NOT NULL)");
	ck_assert_int_ge(atoi(PQgetvalue(res, 0, 0)), 1600);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	/* no gap, no duplicate */
	ck_assert_str_eq(PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	ck_assert_str_eq(PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4));
	PQclear(res);
	/* every status position handed out is claimed, each once */
	res = testdb_super_exec(&w.db,
		"SELECT count(*) FROM certificate c WHERE NOT EXISTS (SELECT 1 FROM status_index_claim s"
		" WHERE s.body_id = c.body_id AND s.purpose = 'revocation' AND s.idx = c.revocation_index)"
		" OR NOT EXISTS (SELECT 1 FROM status_index_claim s WHERE s.body_id = c.body_id"
		" AND s.purpose = 'suspension' AND s.idx = c.suspension_index)");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);

	check_log_independently();
	struct proc_result r;
	const char *lv[] = { "log", "verify", NULL };
	world_ctl(&w, &r, lv);
	ck_assert_msg(r.status == 0, "log verify: %s", r.err);
	proc_result_free(&r);
	const char *av[] = { "audit", "verify", NULL };
	world_ctl(&w, &r, av);
	ck_assert_msg(r.status == 0, "audit verify: %s", r.err);
	proc_result_free(&r);
}
END_TEST

/* Issues application id as who; the HTTP status in *status. */
struct one_issue {
	const struct actor *who;
	char id[37];
	long status;
};

static void *issue_one(void *arg)
{
	struct one_issue *o = arg;
	char auth[96], url[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->who->token);
	snprintf(url, sizeof url, "%s/v1/applications/%s/certificate", w.srv.base, o->id);
	const char *h[] = { auth, NULL };
	struct http_resp r;
	o->status = http_try(&r, "POST", url, h, NULL, 0) == 0 ? r.status : -1;
	http_resp_free(&r);
	return NULL;
}

/* Status positions are claimed one row each (migration 0019), with no lock
 * of the body: two issuers racing for a list with two free positions left
 * get one each, never the same, and the next issue is refused with a
 * reason. It fills the body's revocation list, and empties it again behind
 * itself. */
START_TEST(the_last_free_status_positions_go_to_one_issuer_each)
{
	const char *body[] = { w.certifier.org };
	PGresult *res = testdb_super_query(&w.db,
		"SELECT g FROM generate_series(0, 131071) g WHERE NOT EXISTS (SELECT 1 FROM"
		" status_index_claim s WHERE s.body_id = $1 AND s.purpose = 'revocation' AND s.idx = g)"
		" ORDER BY g DESC LIMIT 2", 1, body);
	ck_assert_int_eq(PQntuples(res), 2);
	char free_a[16], free_b[16];
	snprintf(free_a, sizeof free_a, "%s", PQgetvalue(res, 0, 0));
	snprintf(free_b, sizeof free_b, "%s", PQgetvalue(res, 1, 0));
	PQclear(res);
	const char *fill[] = { w.certifier.org, free_a, free_b };
	PQclear(testdb_super_query(&w.db,
		"INSERT INTO status_index_claim (body_id, purpose, idx) SELECT $1, 'revocation', g"
		" FROM generate_series(0, 131071) g WHERE g NOT IN ($2::integer, $3::integer)"
		" ON CONFLICT DO NOTHING", 3, fill));

	struct one_issue two[2] = { { &w.certifier, "", 0 }, { &w.certifier2, "", 0 } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		world_application(&w, "decided", two[i].id);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, issue_one, &two[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(two[0].status, 201);
	ck_assert_int_eq(two[1].status, 201);
	const char *apps[] = { two[0].id, two[1].id };
	res = testdb_super_query(&w.db,
		"SELECT string_agg(revocation_index::text, ',' ORDER BY revocation_index DESC)"
		" FROM certificate WHERE application_id IN ($1, $2)", 2, apps);
	char want[40];
	snprintf(want, sizeof want, "%s,%s", free_a, free_b);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);

	char third[37], path[128];
	world_application(&w, "decided", third);
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", third);
	json_t *p = testsrv_api_ok(&w.srv, "POST", path, w.certifier.token, NULL, 409);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "status list is full"), "%s",
		      jsonx_str(p, "detail"));
	json_decref(p);

	/* the filling claims go again (the superuser sets the guard aside) */
	PQclear(testdb_super_query(&w.db,
		"ALTER TABLE status_index_claim DISABLE TRIGGER status_index_claim_immutable", 0, NULL));
	PQclear(testdb_super_query(&w.db,
		"DELETE FROM status_index_claim s WHERE s.body_id = $1 AND s.purpose = 'revocation'"
		" AND NOT EXISTS (SELECT 1 FROM certificate c WHERE c.body_id = s.body_id"
		" AND c.revocation_index = s.idx)", 1, body));
	PQclear(testdb_super_query(&w.db,
		"ALTER TABLE status_index_claim ENABLE TRIGGER status_index_claim_immutable", 0, NULL));
}
END_TEST

/* A certificate takes its log position once, after its row (migration
 * 0019): the position of an issued certificate cannot be moved, not even by
 * the role conformd connects as, which may set it. */
START_TEST(a_certificate_keeps_its_log_position)
{
	char serial[40];
	world_certificate(&w, serial);
	const char *p[] = { serial };
	PGresult *res = testdb_app_query(&w.db,
		"UPDATE certificate SET log_index = log_index + 1 WHERE serial = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_msg(strstr(PQresultErrorMessage(res), "is fixed"), "%s", PQresultErrorMessage(res));
	PQclear(res);
	res = testdb_super_query(&w.db,
		"SELECT c.log_index = l.idx AND l.kind = 'issuance' FROM certificate c"
		" JOIN tlog_entry l ON l.serial = c.serial WHERE c.serial = $1", 1, p);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
}
END_TEST

struct racing_post {
	const struct actor *who;
	char path[160];
	const char *body;
	long status;
	char serial[40];
	char detail[400];
};

static void *race_post(void *arg)
{
	struct racing_post *rp = arg;
	char auth[96], url[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", rp->who->token);
	snprintf(url, sizeof url, "%s%s", w.srv.base, rp->path);
	const char *h[] = { auth, "Content-Type: application/json", NULL };
	struct http_resp r;
	rp->status = http_try(&r, "POST", url, h, rp->body, rp->body ? strlen(rp->body) : 0) == 0 ?
		     r.status : -1;
	json_t *j = rp->status > 0 && r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	snprintf(rp->serial, sizeof rp->serial, "%s", jsonx_str(j, "serial") ? jsonx_str(j, "serial") : "");
	snprintf(rp->detail, sizeof rp->detail, "%s", jsonx_str(j, "detail") ? jsonx_str(j, "detail") : "");
	json_decref(j);
	if (rp->status > 0)
		http_resp_free(&r);
	return NULL;
}

static void run_race(struct racing_post *rp, int n)
{
	pthread_t t[8];
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, race_post, &rp[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

START_TEST(racing_issues_and_status_changes_never_collide)
{
	/* four certifiers issuing one approval at once: one certificate, told to all */
	for (int round = 0; round < 6; round++) {
		char id[37];
		world_application(&w, "decided", id);
		struct racing_post rp[4];
		for (int i = 0; i < 4; i++) {
			rp[i] = (struct racing_post){ .who = &w.certifier };
			snprintf(rp[i].path, sizeof rp[i].path, "/v1/applications/%s/certificate", id);
		}
		run_race(rp, 4);
		int created = 0;
		for (int i = 0; i < 4; i++) {
			ck_assert_msg(rp[i].status == 201 || rp[i].status == 200, "round %d: %ld %s", round,
				      rp[i].status, rp[i].detail);
			created += rp[i].status == 201;
			ck_assert_str_eq(rp[i].serial, rp[0].serial);
		}
		ck_assert_int_eq(created, 1);
	}
	/* suspend racing withdraw: withdrawal always succeeds (from valid or from
	 * suspended); the suspension succeeds or finds it withdrawn */
	for (int round = 0; round < 6; round++) {
		char serial[40];
		world_certificate(&w, serial);
		struct racing_post rp[2] = {
			{ .who = &w.certifier, .body = "{\"reason_code\":\"nonconformity\",\"reason\":\"r\"}" },
			{ .who = &w.certifier, .body = "{\"reason_code\":\"nonconformity\",\"reason\":\"r\"}" },
		};
		snprintf(rp[0].path, sizeof rp[0].path, "/v1/certificates/%s/suspend", serial);
		snprintf(rp[1].path, sizeof rp[1].path, "/v1/certificates/%s/withdraw", serial);
		run_race(rp, 2);
		ck_assert_msg(rp[1].status == 200, "round %d: withdraw %ld %s", round, rp[1].status,
			      rp[1].detail);
		ck_assert_msg(rp[0].status == 200 || (rp[0].status == 409 && strstr(rp[0].detail, "withdrawn")),
			      "round %d: suspend %ld %s", round, rp[0].status, rp[0].detail);
		char path[128];
		snprintf(path, sizeof path, "/v1/certificates/%s", serial);
		json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		ck_assert_str_eq(jsonx_str(c, "status"), "withdrawn");
		json_decref(c);
	}
}
END_TEST

START_TEST(a_tampered_log_is_caught)
{
	char serial[40];
	world_certificate(&w, serial);
	world_wait_checkpoint(&w, 1);
	struct proc_result r;
	const char *lv[] = { "log", "verify", NULL };
	world_ctl(&w, &r, lv);
	ck_assert_int_eq(r.status, 0);
	proc_result_free(&r);
	/* the superuser rewrites an entry (with its trigger off) */
	PQclear(testdb_super_exec(&w.db,
		"ALTER TABLE tlog_entry DISABLE TRIGGER tlog_entry_immutable;"
		" UPDATE tlog_entry SET entry = replace(entry, 'issuance', 'issuancE') WHERE idx = 0;"
		" ALTER TABLE tlog_entry ENABLE TRIGGER tlog_entry_immutable"));
	world_ctl(&w, &r, lv);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "entry 0"), "%s", r.err);
	proc_result_free(&r);
	PQclear(testdb_super_exec(&w.db,
		"ALTER TABLE tlog_entry DISABLE TRIGGER tlog_entry_immutable;"
		" UPDATE tlog_entry SET entry = replace(entry, 'issuancE', 'issuance') WHERE idx = 0;"
		" ALTER TABLE tlog_entry ENABLE TRIGGER tlog_entry_immutable"));
}
END_TEST

START_TEST(a_retired_key_keeps_its_certificates_verifiable)
{
	char serial[40], path[96];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *before = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200); /* cached now */
	ck_assert_str_eq(jsonx_str(json_object_get(before, "key"), "state"), "active");
	json_decref(before);
	struct proc_result r;
	const char *retire[] = { "key", "retire", "--", w.body_kid, NULL }; /* a kid may begin with - */
	world_ctl(&w, &r, retire);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	json_t *v = tcert_verify_jws(&w.srv, jws);
	ck_assert(json_is_true(json_object_get(v, "signature_valid")));
	ck_assert(json_is_true(json_object_get(json_object_get(v, "key"), "retired")));
	json_decref(v);
	/* another process changed the key: conformd's cached answer goes too
	 * (within a second when the machine is quiet; the deadline is for a
	 * loaded one, test_status measures the second) */
	bool told = false;
	for (int i = 0; i < 500 && !told; i++) {
		json_t *after = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		told = strcmp(jsonx_str(json_object_get(after, "key"), "state"), "retired") == 0;
		json_decref(after);
		if (!told)
			usleep(20000);
	}
	ck_assert_msg(told, "the cached answer still shows the key active");
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	ck_assert(strstr(jwks, w.body_kid));
	free(jwks);
	/* without an active key the body cannot issue... */
	char id[37];
	world_application(&w, "decided", id);
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	json_t *p = testsrv_api_text(&w.srv, "POST", path, w.certifier.token, NULL, 422);
	ck_assert(strstr(jsonx_str(p, "detail"), "no signing key"));
	json_decref(p);
	/* ...until it has a new one */
	const char *gen[] = { "key", "generate", "--org", w.certifier.org, NULL };
	world_ctl(&w, &r, gen);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	json_t *c = testsrv_api_text(&w.srv, "POST", path, w.certifier.token, NULL, 201);
	ck_assert_str_ne(jsonx_str(json_object_get(c, "key"), "kid"), w.body_kid);
	json_decref(c);
	free(jws);
}
END_TEST

START_TEST(the_register_and_its_signed_export)
{
	char serial[40];
	world_certificate(&w, serial);
	world_wait_checkpoint(&w, 1);
	json_t *page = testsrv_api_ok(&w.srv, "GET", "/v1/certificates?scheme=dcms-cop@2018&limit=2", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 2);
	ck_assert(json_is_integer(json_object_get(page, "next")));
	json_decref(page);
	char path[160];
	snprintf(path, sizeof path, "/v1/certificates?q=%s", serial);
	page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
	json_decref(page);
	snprintf(path, sizeof path, "/v1/certificates?manufacturer=%s&status=valid&limit=500", w.applicant.org);
	page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_uint_ge(json_array_size(json_object_get(page, "items")), 1);
	json_decref(page);
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/certificates?status=lost", NULL, NULL, 400));

	char *export = testsrv_get_text(&w.srv, "/v1/register/export", 200);
	char *jwks_text = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	json_t *jwks = json_loads(jwks_text, 0, NULL);
	/* the last line signs the SHA-256 of all before it */
	size_t len = strlen(export);
	ck_assert(len > 2 && export[len - 1] == '\n');
	export[len - 1] = '\0';
	char *last = strrchr(export, '\n');
	ck_assert_ptr_nonnull(last);
	size_t prefix = (size_t)(last - export) + 1;
	struct jws sig = { 0 };
	ck_assert_int_eq(jws_parse(last + 1, 65536, &sig, NULL), 0);
	unsigned char pub[32];
	bool found = false;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(jwks, "keys"), i, k)
		if (strcmp(jsonx_str(k, "kid"), jsonx_str(sig.header, "kid")) == 0)
			found = keys_public_from_jwk(k, pub, NULL) == CF_OK;
	ck_assert(found);
	ck_assert(jws_verify(&sig, pub));
	json_t *claims = json_loadb((const char *)sig.payload, sig.payload_len, 0, NULL);
	unsigned char d[32];
	unsigned int dl;
	EVP_Digest(export, prefix, d, &dl, EVP_sha256(), NULL);
	char hex[65];
	codec_hex_encode(d, 32, hex);
	ck_assert_str_eq(jsonx_str(claims, "sha256"), hex);
	/* header, then one line per certificate, each JWS verifying */
	json_t *head = json_loadb(export, strcspn(export, "\n"), 0, NULL);
	ck_assert_str_eq(jsonx_str(head, "type"), "conform-register-export");
	ck_assert(jsonx_str(head, "next_update"));
	long long lines = 0;
	for (char *line = strchr(export, '\n') + 1; line < last; line = strchr(line, '\n') + 1) {
		json_t *cert = json_loadb(line, strcspn(line, "\n"), 0, NULL);
		ck_assert_ptr_nonnull(cert);
		lines++;
		json_decref(cert);
	}
	ck_assert_int_eq(lines, json_integer_value(json_object_get(claims, "certificates")));
	ck_assert_int_eq(lines, json_integer_value(json_object_get(head, "certificates")));
	json_decref(head);
	json_decref(claims);
	jws_clear(&sig);
	json_decref(jwks);
	free(jwks_text);
	free(export);
	/* the DID document names the keys of the JWS headers */
	snprintf(path, sizeof path, "/bodies/%s/did.json", w.certifier.org);
	char *did = testsrv_get_text(&w.srv, path, 200);
	ck_assert(strstr(did, "\"JsonWebKey\""));
	free(did);
	char *ctx = testsrv_get_text(&w.srv, "/contexts/conformity/v1", 200);
	ck_assert(strstr(ctx, "ConformityCertificate"));
	ck_assert_ptr_null(strstr(ctx, "@vocab"));
	free(ctx);
}
END_TEST

START_TEST(conformctl_cert_verify_offline_and_live)
{
	char serial[40], path[96];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	char *jws_path = testsrv_write_artifact("cli.jws", jws);
	char *jwks_path = testsrv_write_artifact("cli-jwks.json", jwks);
	struct proc_result r;
	const char *offline[] = { "cert", "verify", jws_path, "--jwks", jwks_path, NULL };
	world_ctl(&w, &r, offline);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	ck_assert(strstr(r.out, "VERIFIED"));
	proc_result_free(&r);
	char *url = cf_asprintf("%s/.well-known/jwks.json", w.srv.base);
	const char *live[] = { "cert", "verify", jws_path, "--jwks", url, NULL };
	world_ctl(&w, &r, live);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	ck_assert(strstr(r.out, "status:      valid"));
	proc_result_free(&r);
	snprintf(path, sizeof path, "/v1/certificates/%s/withdraw", serial);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.admin.token, "{\"reason_code\":\"administrative\",\"reason\":\"test\"}", 200));
	world_ctl(&w, &r, live);
	ck_assert_int_eq(r.status, 1);
	ck_assert(strstr(r.out, "status:      withdrawn"));
	proc_result_free(&r);
	/* a changed byte: not verified, offline */
	jws[strlen(jws) / 2] = jws[strlen(jws) / 2] == 'A' ? 'B' : 'A';
	char *bad_path = testsrv_write_artifact("cli-bad.jws", jws);
	const char *bad[] = { "cert", "verify", bad_path, "--jwks", jwks_path, NULL };
	world_ctl(&w, &r, bad);
	ck_assert_int_eq(r.status, 1);
	proc_result_free(&r);
	free(bad_path);
	free(url);
	free(jws_path);
	free(jwks_path);
	free(jws);
	free(jwks);
}
END_TEST

START_TEST(conformctl_demo_walks_to_a_certificate)
{
	char serial[40];
	tcert_demo(&w, NULL, NULL, serial);
	char path[96];
	snprintf(path, sizeof path, "/verify/%s", serial);
	char *html = testsrv_get_text(&w.srv, path, 200);
	ck_assert(strstr(html, "VALID"));
	ck_assert(strstr(html, "Demo Smart Doorbell"));
	free(html);
}
END_TEST

/* Last: it withdraws the world's DCMS accreditation. */
START_TEST(a_withdrawn_accreditation_marks_certificates_for_review)
{
	char serial[40], path[160], id[37];
	world_certificate(&w, serial);
	world_application(&w, "evaluated", id);
	snprintf(path, sizeof path, "/v1/accreditations/%s/withdraw", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token, "{\"reason\":\"the body failed its reassessment\"}", 200));
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid"); /* not changed silently */
	ck_assert(json_is_true(json_object_get(json_object_get(c, "review"), "required")));
	json_decref(c);
	snprintf(path, sizeof path, "/verify/%s", serial);
	char *html = testsrv_get_text(&w.srv, path, 200);
	ck_assert(strstr(html, "Under review"));
	free(html);
	/* and no new decision is taken under it */
	json_t *p = world_act(&w, id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"x\"}", 422);
	json_decref(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certificates");
	TCase *tc = tcase_create("certificates");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, an_independent_jose_verifies_and_any_changed_byte_breaks_it);
	tcase_add_test(tc, status_changes_are_told_truthfully_everywhere);
	tcase_add_test(tc, the_page_escapes_what_it_shows);
	tcase_add_test(tc, support_end_is_the_last_day_and_valid_until_the_instant_after);
	tcase_add_test(tc, eight_issuers_1600_certificates_and_a_log_without_a_gap);
	tcase_add_test(tc, racing_issues_and_status_changes_never_collide);
	tcase_add_test(tc, a_tampered_log_is_caught);
	tcase_add_test(tc, the_register_and_its_signed_export);
	tcase_add_test(tc, conformctl_cert_verify_offline_and_live);
	tcase_add_test(tc, conformctl_demo_walks_to_a_certificate);
	tcase_add_test(tc, a_retired_key_keeps_its_certificates_verifiable);
	tcase_add_test(tc, the_last_free_status_positions_go_to_one_issuer_each);
	tcase_add_test(tc, a_certificate_keeps_its_log_position);
	tcase_add_test(tc, a_withdrawn_accreditation_marks_certificates_for_review);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
