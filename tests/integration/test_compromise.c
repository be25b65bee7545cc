/*
 * A body's key revoked as compromised since T (conformctl key revoke
 * --compromised --since T): the certificate it signed before T stays valid,
 * the one it signed after verifies as key_compromised on every surface (GET,
 * POST /v1/verify, the register, the page, conformctl cert verify offline and
 * live); the key leaves the DID document's assertion methods and is marked in
 * the JWKS; the revocation is a transparency log entry and an audit record.
 * An ordinary retirement keeps what the key signed valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tcert.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "compromise", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

static void now_utc(char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The register's item for serial (searched by serial). */
static json_t *register_item(const char *serial, const char *status_filter)
{
	char path[160];
	if (status_filter)
		snprintf(path, sizeof path, "/v1/certificates?status=%s&limit=100", status_filter);
	else
		snprintf(path, sizeof path, "/v1/certificates?q=%s", serial);
	json_t *page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	json_t *found = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(page, "items"), i, it)
		if (strcmp(jsonx_str(it, "serial"), serial) == 0)
			found = json_incref(it);
	json_decref(page);
	return found;
}

/* Acceptance: compromise at T between two issuances. */
START_TEST(a_key_compromised_since_t_fails_what_it_signed_after_t)
{
	char before[40], after[40], since[32];
	world_certificate(&w, before);
	sleep(2);
	now_utc(since, sizeof since);
	sleep(2);
	world_certificate(&w, after);
	/* both valid, and cached so */
	json_t *c = tcert_get(&w.srv, after);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	json_decref(c);
	struct proc_result r;
	const char *revoke[] = { "key", "revoke", "--compromised", "--since", since, w.body_kid, NULL };
	world_ctl(&w, &r, revoke);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	ck_assert_msg(strstr(r.out, "1 certificate(s)"), "%s", r.out);
	proc_result_free(&r);
	/* conformctl's NOTIFY reaches conformd's cache a moment after its commit */
	for (int i = 0; i < 40; i++) {
		c = tcert_get(&w.srv, after);
		bool told = strcmp(jsonx_str(c, "status"), "key_compromised") == 0;
		json_decref(c);
		if (told)
			break;
		usleep(50000);
	}

	/* GET */
	c = tcert_get(&w.srv, before);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	ck_assert_str_eq(jsonx_str(json_object_get(c, "key"), "state"), "compromised");
	ck_assert_ptr_nonnull(jsonx_str(json_object_get(c, "key"), "compromised_since"));
	json_decref(c);
	c = tcert_get(&w.srv, after);
	ck_assert_str_eq(jsonx_str(c, "status"), "key_compromised");
	ck_assert_str_eq(jsonx_str(c, "status_reason_code"), "key_compromised");
	json_decref(c);
	/* POST /v1/verify */
	json_t *v = tcert_verify(&w.srv, before);
	char *dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(v, "valid")), "%s", dump);
	ck_assert(json_is_true(json_object_get(json_object_get(v, "key"), "compromised")));
	free(dump);
	json_decref(v);
	v = tcert_verify(&w.srv, after);
	dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_false(json_object_get(v, "valid")), "%s", dump);
	ck_assert_str_eq(jsonx_str(v, "status"), "key_compromised");
	ck_assert(json_is_true(json_object_get(v, "signature_valid"))); /* the bytes are the key's */
	free(dump);
	json_decref(v);
	/* the register, searched and filtered */
	json_t *it = register_item(after, NULL);
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(jsonx_str(it, "status"), "key_compromised");
	json_decref(it);
	it = register_item(before, NULL);
	ck_assert_str_eq(jsonx_str(it, "status"), "valid");
	json_decref(it);
	it = register_item(after, "key_compromised");
	ck_assert_ptr_nonnull(it);
	json_decref(it);
	ck_assert_ptr_null(register_item(before, "key_compromised"));
	char *export = testsrv_get_text(&w.srv, "/v1/register/export", 200);
	char line[96];
	snprintf(line, sizeof line, "{\"serial\":\"%s\",\"status\":\"key_compromised\"", after);
	ck_assert_msg(strstr(export, line), "%s not in %.400s", line, export);
	snprintf(line, sizeof line, "{\"serial\":\"%s\",\"status\":\"valid\"", before);
	ck_assert_msg(strstr(export, line), "%s not in %.400s", line, export);
	free(export);
	/* the page */
	char path[160];
	snprintf(path, sizeof path, "/verify/%s", after);
	char *html = testsrv_get_text(&w.srv, path, 200);
	ck_assert_msg(strstr(html, "KEY COMPROMISED") && !strstr(html, "<strong>VALID"), "%s", html);
	free(html);
	snprintf(path, sizeof path, "/verify/%s", before);
	html = testsrv_get_text(&w.srv, path, 200);
	ck_assert(strstr(html, "<strong>VALID</strong>"));
	free(html);
	/* conformctl cert verify: live, and offline with the JWKS alone */
	char *url = cf_asprintf("%s/.well-known/jwks.json", w.srv.base);
	char *out = NULL;
	ck_assert_msg(tcert_ctl_verify(&w, before, url, &out) == 0, "%s", out);
	free(out);
	ck_assert_int_eq(tcert_ctl_verify(&w, after, url, &out), 1);
	ck_assert_msg(strstr(out, "COMPROMISED") && strstr(out, "status:      key_compromised"), "%s", out);
	free(out);
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	char *jwks_file = testsrv_write_artifact("compromise-jwks.json", jwks);
	ck_assert_msg(tcert_ctl_verify(&w, before, jwks_file, &out) == 0, "%s", out);
	free(out);
	ck_assert_int_eq(tcert_ctl_verify(&w, after, jwks_file, &out), 1);
	ck_assert_msg(strstr(out, "COMPROMISED since"), "%s", out);
	free(out);
	/* the JWKS lists it, as compromised, not as a signing key */
	json_t *set = json_loads(jwks, 0, NULL);
	size_t i;
	json_t *k;
	bool listed = false;
	json_array_foreach(json_object_get(set, "keys"), i, k)
		if (strstr(jsonx_str(k, "kid"), w.body_kid)) {
			listed = true;
			ck_assert_ptr_nonnull(jsonx_str(k, "compromised_since"));
			ck_assert_ptr_null(json_object_get(k, "use"));
		}
	ck_assert(listed);
	json_decref(set);
	free(jwks);
	free(jwks_file);
	free(url);
	/* the DID document: a verification method, revoked, no assertion method */
	snprintf(path, sizeof path, "/bodies/%s/did.json", w.certifier.org);
	json_t *doc = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	listed = false;
	json_array_foreach(json_object_get(doc, "verificationMethod"), i, k)
		if (strstr(jsonx_str(k, "id"), w.body_kid)) {
			listed = true;
			ck_assert_ptr_nonnull(jsonx_str(k, "revoked"));
		}
	ck_assert(listed);
	json_array_foreach(json_object_get(doc, "assertionMethod"), i, k)
		ck_assert(!strstr(json_string_value(k), w.body_kid));
	json_decref(doc);
	/* the log: the revocation is an entry of it */
	json_t *entries = testsrv_api_ok(&w.srv, "GET", "/v1/log/entries?start=0&end=1000", NULL, NULL, 200);
	int found = 0;
	json_t *en;
	json_array_foreach(json_object_get(entries, "entries"), i, en) {
		const char *entry = jsonx_str(en, "entry");
		if (strstr(entry, "\"kind\":\"key-compromised\"") && strstr(entry, w.body_kid) &&
		    strstr(entry, "\"compromised_since\""))
			found++;
	}
	ck_assert_int_eq(found, 1);
	json_decref(entries);
	const char *lv[] = { "log", "verify", NULL };
	world_ctl(&w, &r, lv);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	PGresult *res = testdb_super_query(&w.db,
		"SELECT count(*) FROM audit_log WHERE action = 'key.compromise' AND object_id = $1", 1,
		(const char *[]){ w.body_kid });
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	/* once only; never from the future; not the log key */
	world_ctl(&w, &r, revoke);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "already"), "%s", r.err);
	proc_result_free(&r);
	const char *future[] = { "key", "revoke", "--compromised", "--since", "2999-01-01T00:00:00Z",
				 w.log_kid, NULL };
	world_ctl(&w, &r, future);
	ck_assert_int_eq(r.status, 1);
	proc_result_free(&r);
	const char *log_key[] = { "key", "revoke", "--compromised", "--since", since, w.log_kid, NULL };
	world_ctl(&w, &r, log_key);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "log"), "%s", r.err);
	proc_result_free(&r);
	const char *no_flag[] = { "key", "revoke", w.body_kid, NULL };
	world_ctl(&w, &r, no_flag);
	ck_assert_int_eq(r.status, 2);
	proc_result_free(&r);
}
END_TEST

/* Ordinary retirement: what the key signed stays valid everywhere. Runs
 * after the compromise, with a new key. */
START_TEST(a_retired_key_keeps_its_certificates_valid)
{
	struct proc_result r;
	const char *gen[] = { "key", "generate", "--org", w.certifier.org, NULL };
	world_ctl(&w, &r, gen);
	ck_assert_msg(r.status == 0, "%s", r.err);
	char kid[48];
	snprintf(kid, sizeof kid, "%.43s", strstr(r.out, "made key ") + 9);
	proc_result_free(&r);
	char serial[40];
	world_certificate(&w, serial);
	const char *retire[] = { "key", "retire", kid, NULL };
	world_ctl(&w, &r, retire);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	/* conformctl's NOTIFY reaches conformd a moment after its commit */
	json_t *c = NULL;
	for (int i = 0; i < 40; i++) {
		json_decref(c);
		c = tcert_get(&w.srv, serial);
		if (strcmp(jsonx_str(json_object_get(c, "key"), "state"), "retired") == 0)
			break;
		usleep(50000);
	}
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	ck_assert_str_eq(jsonx_str(json_object_get(c, "key"), "state"), "retired");
	json_decref(c);
	json_t *v = tcert_verify(&w.srv, serial);
	ck_assert(json_is_true(json_object_get(v, "valid")));
	json_decref(v);
	char *url = cf_asprintf("%s/.well-known/jwks.json", w.srv.base);
	char *out = NULL;
	ck_assert_msg(tcert_ctl_verify(&w, serial, url, &out) == 0, "%s", out);
	free(out);
	free(url);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compromise");
	TCase *tc = tcase_create("compromise");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_key_compromised_since_t_fails_what_it_signed_after_t);
	tcase_add_test(tc, a_retired_key_keeps_its_certificates_valid);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
