/*
 * The in-memory mirror of a certificate's status (core/certstate.c, used by
 * conformd for first reads and verification) says what the one definition,
 * the SQL function conform_certificate_state, says: status, review, since
 * when, and the next scheduled change, case by case. The cases cross a
 * certificate's stored status, issue time and validity with an accreditation
 * that is suspended, reinstated, suspended and reinstated at one instant, and
 * withdrawn, and a key compromised or not, at moments around every event;
 * the stored status is each of valid, suspended, withdrawn and superseded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "certificate.h"
#include "certstate.h"
#include "db.h"
#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char serial[40];
static struct db *super;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "certstate", NULL);
	world_certificate(&w, serial);
	struct cf_error err;
	ck_assert_msg(db_connect(w.db.super_url, &super, &err) == CF_OK, "%s", err.detail);
}

static void teardown(void)
{
	db_close(super);
	world_destroy(&w);
	curl_global_cleanup();
}

static PGresult *sql(const char *q, int n, const char *const *p)
{
	struct cf_error err;
	PGresult *res = NULL;
	ck_assert_msg(db_query(super, &res, &err, q, n, p) == CF_OK, "%s: %s", q, err.detail);
	return res;
}

/* B: a moment well ahead, so that every event below is scheduled. */
#define B "2031-06-01 00:00:00+00"

static long long epoch_us(const char *ts)
{
	const char *p[] = { ts };
	PGresult *r = sql("SELECT floor(extract(epoch FROM $1::timestamptz) * 1000000)::bigint", 1, p);
	long long v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* What the SQL function says of the certificate, with some of its stored
 * columns replaced (row: a JSON object of them), at t. */
static void by_sql(const char *row, const char *t, char status[24], char review[40], char since[24],
		   long long *next_us)
{
	const char *p[] = { row, t, serial };
	PGresult *r = sql(
		"SELECT s.status, coalesce(s.review, ''), coalesce(" DB_TS("s.review_since") ", ''),"
		" coalesce(floor(extract(epoch FROM s.next_change) * 1000000)::bigint, 0)"
		" FROM certificate c, LATERAL conform_certificate_state("
		"  jsonb_populate_record(c, $1::jsonb), $2::timestamptz) s WHERE c.serial = $3",
		3, p);
	ck_assert_int_eq(PQntuples(r), 1);
	snprintf(status, 24, "%s", PQgetvalue(r, 0, 0));
	snprintf(review, 40, "%s", PQgetvalue(r, 0, 1));
	snprintf(since, 24, "%s", PQgetvalue(r, 0, 2));
	*next_us = atoll(PQgetvalue(r, 0, 3));
	PQclear(r);
}

START_TEST(the_mirror_says_what_the_definition_says)
{
	/* the certificate's key and accreditation */
	const char *sp[] = { serial };
	PGresult *r = sql("SELECT kid, accreditation_id FROM certificate WHERE serial = $1", 1, sp);
	char kid[64], acc[37];
	snprintf(kid, sizeof kid, "%s", PQgetvalue(r, 0, 0));
	snprintf(acc, sizeof acc, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);

	/* suspended at B+10s, reinstated at B+20s, suspended and reinstated at
	 * B+30s (the later seq wins a tie), withdrawn at B+40s */
	static const char *const events[][2] = {
		{ "suspended", "10" }, { "reinstated", "20" }, { "suspended", "30" },
		{ "reinstated", "30" }, { "withdrawn", "40" },
	};
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
		const char *ep[] = { acc, events[i][0], events[i][1] };
		PQclear(sql("INSERT INTO accreditation_event (accreditation_id, seq, action, effective_at,"
			    " reason) SELECT $1, max(seq) + 1, $2, '" B "'::timestamptz + make_interval(secs"
			    " => $3::int), 'test' FROM accreditation_event WHERE accreditation_id = $1",
			    3, ep));
	}

	static const char *const statuses[] = { "valid", "suspended", "withdrawn", "superseded" };
	static const char *const issued[] = { "-1", "15", "35", "45" };         /* seconds after B */
	static const char *const until[] = { "25", "86400" };
	static const char *const moments[] = { "-5", "10", "10.000001", "15", "20", "25", "30",
					       "35", "40", "50", "100000" };
	static const char *const compromised[] = { NULL, "15" };
	int cases = 0, reviews = 0;
	for (size_t k = 0; k < 2; k++) {
		if (compromised[k]) {
			const char *kp[] = { kid, compromised[k] };
			PQclear(sql("UPDATE signing_key SET retired_at = coalesce(retired_at, now()),"
				    " compromised_since = '" B "'::timestamptz + make_interval(secs => $2::int),"
				    " compromised_at = greatest(now(), '" B "'::timestamptz + make_interval("
				    "secs => $2::int)) WHERE kid = $1", 2, kp));
		}
		struct cf_error err;
		struct certstate_tables t;
		ck_assert_msg(certstate_read(super, &t, &err) == CF_OK, "%s", err.detail);
		const struct certstate_keyrec *key = certstate_find_key(&t, kid);
		ck_assert_ptr_nonnull(key);
		size_t n = 0;
		const struct certstate_eventrec *ev = certstate_find_events(&t, acc, &n);
		ck_assert_uint_ge(n, 6); /* the grant and the five above */
		struct certstate_event *list = cf_calloc(n, sizeof *list);
		for (size_t i = 0; i < n; i++)
			list[i] = (struct certstate_event){ ev[i].effective_us, ev[i].action, ev[i].effective };
		for (size_t a = 0; a < 4; a++)
			for (size_t b = 0; b < 4; b++)
				for (size_t c = 0; c < 2; c++)
					for (size_t m = 0; m < sizeof moments / sizeof moments[0]; m++) {
			char issued_ts[64], until_ts[64], at[64], row[256];
			PGresult *q;
			const char *ip[] = { issued[b], until[c], moments[m] };
			q = sql("SELECT to_char(('" B "'::timestamptz + make_interval(secs => $1::float8))"
				" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
				" to_char(('" B "'::timestamptz + make_interval(secs => $2::float8))"
				" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
				" to_char(('" B "'::timestamptz + make_interval(secs => $3::float8))"
				" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", 3, ip);
			snprintf(issued_ts, sizeof issued_ts, "%s", PQgetvalue(q, 0, 0));
			snprintf(until_ts, sizeof until_ts, "%s", PQgetvalue(q, 0, 1));
			snprintf(at, sizeof at, "%s", PQgetvalue(q, 0, 2));
			PQclear(q);
			snprintf(row, sizeof row,
				 "{\"status\":\"%s\",\"issued_at\":\"%s\",\"valid_from\":\"%s\",\"valid_until\":\"%s\"}",
				 statuses[a], issued_ts, issued_ts, until_ts);
			char s_status[24], s_review[40], s_since[24];
			long long s_next = 0;
			by_sql(row, at, s_status, s_review, s_since, &s_next);

			struct certstate_row cr = { statuses[a], epoch_us(issued_ts), epoch_us(until_ts) };
			struct certstate_key ck = { key->compromised_us };
			struct certstate st;
			certstate_decide(&cr, &ck, list, n, epoch_us(at), &st);
			ck_assert_msg(strcmp(st.status, s_status) == 0 &&
					      strcmp(st.review ? st.review : "", s_review) == 0 &&
					      strcmp(st.review_since ? st.review_since : "", s_since) == 0 &&
					      st.next_change_us == s_next,
				      "%s at %s (key compromised since +%s): the definition says %s/%s/%s/%lld, "
				      "the mirror %s/%s/%s/%lld",
				      row, at, compromised[k] ? compromised[k] : "never", s_status, s_review,
				      s_since, s_next, st.status, st.review ? st.review : "",
				      st.review_since ? st.review_since : "", st.next_change_us);
			cases++;
			reviews += st.review != NULL;
		}
		free(list);
		certstate_tables_free(&t);
	}
	/* the grid reaches every outcome it is meant to */
	ck_assert_int_eq(cases, 2 * 4 * 4 * 2 * 11);
	ck_assert_int_gt(reviews, 10);
}
END_TEST

/* The answer made from a certificate's row and what conformd holds equals the
 * one the database decides and builds (certificate_get), first read and
 * cached, for a valid, a suspended, a withdrawn and a superseded
 * certificate (and its successor), each also under review. */
static void same_answer(const char *one)
{
	struct cf_error err;
	struct db *db = NULL;
	ck_assert_msg(db_connect(w.db.app_url, &db, &err) == CF_OK, "%s", err.detail);
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", one);
	for (int round = 0; round < 2; round++) {
		json_t *want = NULL;
		ck_assert_msg(certificate_get(db, w.srv.base, one, &want, &err) == CF_OK, "%s", err.detail);
		json_t *got = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
		char *a = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT), *b = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
		if (!json_equal(want, got))
			fprintf(stderr, "%s: the database says\n%s\nconformd says\n%s\n", one, a, b);
		ck_assert_msg(json_equal(want, got), "%s (round %d): the answers differ (see above)", one, round);
		free(a);
		free(b);
		json_decref(want);
		json_decref(got);
	}
	db_close(db);
}

START_TEST(a_first_read_says_what_the_database_says)
{
	char serials[5][40], path[160];
	static const char *const change[] = { NULL, "suspend", "withdraw", NULL, NULL };
	for (int i = 0; i < 5; i++) {
		world_certificate(&w, serials[i]);
		if (!change[i])
			continue;
		snprintf(path, sizeof path, "/v1/certificates/%.40s/%s", serials[i], change[i]);
		json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
					     "{\"reason_code\":\"other\",\"reason\":\"a \\\"quoted\\\" reason\\n\"}",
					     200));
	}
	/* the fourth superseded by the fifth, as issuing a change application's
	 * certificate does */
	world_supersede(&w, serials[3], serials[4]);
	world_wait_checkpoint(&w, 9); /* six issuances and three changes */
	for (int i = 0; i < 5; i++)
		same_answer(serials[i]);
	snprintf(path, sizeof path, "/v1/certificates/%.40s", serials[3]);
	json_t *old = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(old, "status"), "superseded");
	ck_assert_str_eq(jsonx_str(json_object_get(old, "superseded_by"), "serial"), serials[4]);
	json_decref(old);
	/* verification (conformd's in-memory path, after the first read above)
	 * says it too, twice: from the row, then from the cache */
	snprintf(path, sizeof path, "/v1/certificates/%.40s/jws", serials[3]);
	char *jws = testsrv_get_text(&w.srv, path, 200);
	json_t *req = json_pack("{s:s}", "jws", jws);
	for (int round = 0; round < 2; round++) {
		json_t *v = testsrv_api_ok(&w.srv, "POST", "/v1/verify", NULL, req, 200);
		ck_assert_str_eq(jsonx_str(v, "status"), "superseded");
		ck_assert(json_is_false(json_object_get(v, "valid")));
		ck_assert_str_eq(jsonx_str(json_object_get(v, "superseded_by"), "serial"), serials[4]);
		json_decref(v);
	}
	json_decref(req);
	free(jws);
	/* under review: the accreditation suspended now */
	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token,
				     "{\"reason\":\"surveillance visit\"}", 200));
	for (int i = 0; i < 5; i++)
		same_answer(serials[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certstate");
	TCase *tc = tcase_create("certstate");
	/* one world: the first test issues, the second retires the key */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_first_read_says_what_the_database_says);
	tcase_add_test(tc, the_mirror_says_what_the_definition_says);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
