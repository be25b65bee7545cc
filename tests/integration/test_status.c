/*
 * Status is one truth everywhere: a certificate's status and review (its
 * body's accreditation suspended or withdrawn after issue) come out the same
 * in GET /v1/certificates/{serial}, POST /v1/verify, the register, the
 * buyer's page, conformctl cert verify and the status lists, on two conformd
 * processes sharing one database; a withdrawal scheduled two seconds ahead
 * reaches every warmed cache within one second of taking effect, and a
 * suspension or reinstatement made on either instance is told by GET,
 * verification and the page of both within one second of its commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "certificate.h"
#include "db.h"
#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tcert.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static struct testsrv second; /* another conformd on the same database */
static struct testsrv *const instances[] = { &w.srv, &second };

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "status", NULL);
	/* behind one proxy, both instances are the same public service */
	char *public_url = cf_asprintf("CONFORM_PUBLIC_URL=%s", w.srv.base);
	const char *env[] = { w.signer.env, public_url, NULL };
	testsrv_start(&second, &w.db, env);
	free(public_url);
}

static void teardown(void)
{
	testsrv_stop(&second);
	world_destroy(&w);
	curl_global_cleanup();
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The review code an answer carries ("none" without one). */
static void code_of(const json_t *review, char out[40])
{
	snprintf(out, 40, "%s", json_is_object(review) ? jsonx_str(review, "code") : "none");
}

/* What each surface of instance s says of serial now. */
struct seen {
	char get[40], verify[40], reg[40], export[40], page[40], cli[40];
};

static void look(const struct testsrv *s, const char *serial, const char *jws, const char *jws_path,
		 struct seen *out)
{
	char path[160];
	/* the certificate (the cached surface) */
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	code_of(json_object_get(c, "review"), out->get);
	json_decref(c);
	/* verification: under review still valid, and says so */
	json_t *b = json_pack("{s:s}", "jws", jws);
	json_t *v = testsrv_api_ok(s, "POST", "/v1/verify", NULL, b, 200);
	json_decref(b);
	ck_assert(json_is_true(json_object_get(v, "valid")));
	ck_assert_str_eq(jsonx_str(v, "status"), "valid");
	ck_assert_msg(json_object_get(v, "review"), "Verification has no review member");
	code_of(json_object_get(v, "review"), out->verify);
	json_decref(v);
	/* the register: the item, and the status= filter at the same moment */
	snprintf(path, sizeof path, "/v1/certificates?q=%s&status=valid", serial);
	json_t *reg = testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(reg, "items")), 1);
	json_t *item = json_array_get(json_object_get(reg, "items"), 0);
	ck_assert_str_eq(jsonx_str(item, "status"), "valid");
	ck_assert_msg(json_object_get(item, "review"), "register items have no review member");
	code_of(json_object_get(item, "review"), out->reg);
	json_decref(reg);
	snprintf(path, sizeof path, "/v1/certificates?q=%s&status=suspended", serial);
	reg = testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(reg, "items")), 0);
	json_decref(reg);
	/* the register's export for mirrors: the certificate's line */
	char *all = testsrv_get_text(s, "/v1/register/export", 200);
	char needle[64];
	snprintf(needle, sizeof needle, "{\"serial\":\"%s\"", serial);
	const char *at = strstr(all, needle);
	ck_assert_ptr_nonnull(at);
	json_t *line = json_loadb(at, strcspn(at, "\n"), 0, NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(jsonx_str(line, "status"), "valid");
	code_of(json_object_get(line, "review"), out->export);
	json_decref(line);
	free(all);
	/* the buyer's page */
	snprintf(path, sizeof path, "/verify/%s", serial);
	char *html = testsrv_get_text(s, path, 200);
	ck_assert(strstr(html, "<strong>VALID</strong>"));
	snprintf(out->page, 40, "%s",
		 !strstr(html, "Under review") ? "none"
		 : strstr(html, "accreditation under which it was issued was withdrawn") ? "accreditation_withdrawn"
		 : strstr(html, "accreditation under which it was issued is suspended") ? "accreditation_suspended"
		 : "unexplained");
	free(html);
	/* conformctl cert verify against the instance's own JWKS: live */
	char *url = cf_asprintf("%s/.well-known/jwks.json", s->base);
	const char *args[] = { "cert", "verify", jws_path, "--jwks", url, NULL };
	struct proc_result r;
	world_ctl(&w, &r, args);
	ck_assert_msg(r.status == 0, "cert verify: %s %s", r.out, r.err);
	ck_assert(strstr(r.out, "status:      valid"));
	const char *rv = strstr(r.out, "review:      ");
	if (rv)
		snprintf(out->cli, 40, "%.*s", (int)strcspn(rv + 13, ":\n"), rv + 13);
	else
		snprintf(out->cli, 40, "none");
	ck_assert(strstr(r.out, rv ? "VERIFIED, UNDER REVIEW" : "VERIFIED\n"));
	proc_result_free(&r);
	free(url);
}

/* Every surface of every instance says code; at most wait_s for the NOTIFY
 * that carries an immediate change to the other instance. */
static void all_say(const char *serial, const char *jws, const char *jws_path, const char *code,
		    double wait_s)
{
	double until = now_s() + wait_s;
	for (size_t k = 0; k < 2; k++) {
		struct seen s;
		for (;;) {
			look(instances[k], serial, jws, jws_path, &s);
			bool same = strcmp(s.get, code) == 0 && strcmp(s.verify, code) == 0 &&
				    strcmp(s.reg, code) == 0 && strcmp(s.export, code) == 0 &&
				    strcmp(s.page, code) == 0 &&
				    strcmp(s.cli, code) == 0;
			if (same)
				break;
			ck_assert_msg(now_s() < until,
				      "instance %zu: expected %s; GET %s, verify %s, register %s, export %s, "
				      "page %s, cli %s", k, code, s.get, s.verify, s.reg, s.export, s.page, s.cli);
			usleep(50000);
		}
	}
}

/* Neither list names a certificate under review: it is valid. */
static void lists_say_valid(const char *serial)
{
	for (size_t k = 0; k < 2; k++) {
		ck_assert(!tcert_listed(instances[k], serial, "revocation"));
		ck_assert(!tcert_listed(instances[k], serial, "suspension"));
	}
}

/* An RFC 3339 UTC time with microseconds. */
static void rfc3339(double t, char out[40])
{
	time_t sec = (time_t)t;
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06ldZ", base, (long)((t - (double)sec) * 1e6));
}

static char serial[40], *jws, *jws_path;

/* Warms every cache of both instances: each surface read twice. */
static void warm(const char *code)
{
	all_say(serial, jws, jws_path, code, 0);
	all_say(serial, jws, jws_path, code, 0);
}

/* What GET, verification and the page of instance s say of serial's status
 * ("valid", "suspended"), or "mixed: ..." when they differ. */
static void status_seen(const struct testsrv *s, const char *serial_, const char *jws_, char out[200])
{
	char path[160];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial_);
	json_t *c = testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
	json_t *b = json_pack("{s:s}", "jws", jws_);
	json_t *v = testsrv_api_ok(s, "POST", "/v1/verify", NULL, b, 200);
	json_decref(b);
	snprintf(path, sizeof path, "/verify/%s", serial_);
	char *html = testsrv_get_text(s, path, 200);
	const char *get = jsonx_str(c, "status"), *ver = jsonx_str(v, "status");
	const char *page = strstr(html, "<strong>SUSPENDED</strong>") ? "suspended"
			   : strstr(html, "<strong>VALID</strong>") ? "valid" : "other";
	bool valid = json_is_true(json_object_get(v, "valid"));
	if (strcmp(get, ver) == 0 && strcmp(get, page) == 0 && valid == (strcmp(get, "valid") == 0))
		snprintf(out, 200, "%s", get);
	else
		snprintf(out, 200, "mixed: GET %s, verify %s (valid %d), page %s", get, ver, valid, page);
	json_decref(c);
	json_decref(v);
	free(html);
}

/* Seconds until every instance says want on every surface (asserted within
 * a second of t0). */
static double told_within(const char *serial_, const char *jws_, const char *want, double t0)
{
	double last = 0;
	for (size_t k = 0; k < 2; k++) {
		char seen[200];
		for (;;) {
			status_seen(instances[k], serial_, jws_, seen);
			if (strcmp(seen, want) == 0)
				break;
			ck_assert_msg(now_s() - t0 < 1.0, "instance %zu after %.2f s: %s, not %s", k,
				      now_s() - t0, seen, want);
			usleep(20000);
		}
		if (now_s() - t0 > last)
			last = now_s() - t0;
	}
	return last;
}

START_TEST(a_status_change_is_told_by_every_surface_of_every_instance_within_a_second)
{
	char one[40], path[160];
	world_certificate(&w, one);
	char *one_jws = tcert_jws(&w.srv, one);
	char seen[200];
	/* warm: the cached answer and the cached facts of verification, on both */
	for (int round = 0; round < 3; round++)
		for (size_t k = 0; k < 2; k++) {
			status_seen(instances[k], one, one_jws, seen);
			ck_assert_str_eq(seen, "valid");
		}
	static const char *const steps[][2] = { { "suspend", "suspended" }, { "reinstate", "valid" },
						{ "suspend", "suspended" } };
	for (size_t i = 0; i < 3; i++) {
		/* made on each instance in turn: the other hears of it by NOTIFY */
		const struct testsrv *at = instances[i % 2];
		snprintf(path, sizeof path, "/v1/certificates/%s/%s", one, steps[i][0]);
		json_decref(testsrv_api_text(at, "POST", path, w.certifier.token,
					     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet is open\"}",
					     200));
		double t0 = now_s(); /* committed before the answer came */
		double took = told_within(one, one_jws, steps[i][1], t0);
		fprintf(stderr, "status: %s told everywhere in %.3f s\n", steps[i][0], took);
	}
	free(one_jws);
}
END_TEST

START_TEST(an_accreditation_suspended_now_and_reinstated_is_told_alike_everywhere)
{
	world_certificate(&w, serial);
	char path[160];
	jws = tcert_jws(&w.srv, serial);
	jws_path = testsrv_write_artifact("status.jws", jws);
	warm("none");
	lists_say_valid(serial);

	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token, "{\"reason\":\"overdue surveillance visit\"}", 200));
	all_say(serial, jws, jws_path, "accreditation_suspended", 1.0);
	lists_say_valid(serial);
	warm("accreditation_suspended");

	snprintf(path, sizeof path, "/v1/accreditations/%s/reinstate", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token, "{\"reason\":\"visit done\"}", 200));
	all_say(serial, jws, jws_path, "none", 1.0);
	lists_say_valid(serial);
}
END_TEST

START_TEST(a_withdrawal_two_seconds_ahead_reaches_every_warm_cache_on_every_instance)
{
	warm("none");
	double effective = now_s() + 2.0;
	char at[40], path[160];
	rfc3339(effective, at);
	snprintf(path, sizeof path, "/v1/accreditations/%s/withdraw", w.accreditation_dcms);
	json_t *b = json_pack("{s:s,s:s}", "reason", "the body failed its reassessment", "effective_at", at);
	json_decref(testsrv_api_ok(&w.srv, "POST", path, w.accreditor.token, b, 200));
	json_decref(b);
	/* not yet: and every instance caches that answer again */
	for (int round = 0; round < 2; round++)
		for (size_t k = 0; k < 2; k++) {
			snprintf(path, sizeof path, "/v1/certificates/%s", serial);
			json_t *c = testsrv_api_ok(instances[k], "GET", path, NULL, NULL, 200);
			if (now_s() < effective - 0.2)
				ck_assert_msg(json_is_null(json_object_get(c, "review")),
					      "review before the withdrawal takes effect");
			json_decref(c);
		}

	/* the one definition at a moment: before, at and after the event */
	struct db *db = NULL;
	struct cf_error err;
	ck_assert_int_eq(db_connect(w.db.app_url, &db, &err), 0);
	char before[40];
	rfc3339(effective - 0.5, before);
	json_t *s = NULL;
	ck_assert_int_eq(certificate_state(db, serial, before, &s, &err), 0);
	ck_assert_str_eq(jsonx_str(s, "status"), "valid");
	ck_assert(json_is_null(json_object_get(s, "review")));
	ck_assert_msg(strncmp(jsonx_str(s, "next_change"), at, 23) == 0, "next change %s, not %s",
		      jsonx_str(s, "next_change"), at);
	json_decref(s);
	ck_assert_int_eq(certificate_state(db, serial, at, &s, &err), 0);
	ck_assert_str_eq(jsonx_str(s, "status"), "valid");
	ck_assert_str_eq(jsonx_str(json_object_get(s, "review"), "code"), "accreditation_withdrawn");
	json_decref(s);
	db_close(db);

	/* once in effect, every surface of both instances within one second: the
	 * cached answers first, then everything, all before three seconds have
	 * passed since the withdrawal was recorded */
	double wait = effective + 0.05 - now_s();
	if (wait > 0)
		usleep((useconds_t)(wait * 1e6));
	for (size_t k = 0; k < 2; k++) {
		snprintf(path, sizeof path, "/v1/certificates/%s", serial);
		json_t *c = testsrv_api_ok(instances[k], "GET", path, NULL, NULL, 200);
		ck_assert_msg(json_is_object(json_object_get(c, "review")),
			      "instance %zu still serves the answer from before", k);
		json_decref(c);
	}
	all_say(serial, jws, jws_path, "accreditation_withdrawn", effective + 1.0 - now_s());
	lists_say_valid(serial);
	free(jws);
	free(jws_path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_status_change_is_told_by_every_surface_of_every_instance_within_a_second);
	tcase_add_test(tc, an_accreditation_suspended_now_and_reinstated_is_told_alike_everywhere);
	tcase_add_test(tc, a_withdrawal_two_seconds_ahead_reaches_every_warm_cache_on_every_instance);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
