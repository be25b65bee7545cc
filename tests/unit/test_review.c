/*
 * Unit tests of core/review and of "the current verdict" (the view
 * current_verdict, migration 0025) against the suite's throwaway database:
 * who records verdicts and when, what a verdict must say, the append-only
 * history, the current verdict as the latest per requirement for every
 * reader (the view, conform_settled, the checklist), the database's own
 * refusals, and that reading the current verdict is an index scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "coreworld.h"
#include "jsonx.h"
#include "review.h"
#include "tsupport.h"

static struct coreworld w;

static void setup(void)
{
	coreworld_create(&w, "review");
}

static void teardown(void)
{
	coreworld_destroy(&w);
}

/* review_record with body_text as p. */
static cf_err record(const struct principal *p, const char *id, const char *body_text,
		     struct cf_error *err)
{
	json_t *body = json_loads(body_text, 0, NULL);
	ck_assert_msg(body != NULL, "bad test body %s", body_text);
	json_t *out = NULL;
	cf_err e = review_record(w.db, p, id, body, &out, err);
	if (!e)
		ck_assert_str_eq(jsonx_str(out, "id"), id);
	json_decref(out);
	json_decref(body);
	return e;
}


/* The current verdict on ref as the view has it ("" when none). */
static const char *current(const char *id, const char *ref)
{
	static char out[32];
	const char *p[] = { id, ref };
	PGresult *r = testdb_super_query(&w.tdb, "SELECT verdict FROM current_verdict"
					 " WHERE application_id = $1 AND ref = $2", 2, p);
	ck_assert_int_le(PQntuples(r), 1);
	snprintf(out, sizeof out, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

/* conform_settled(id, ref), "" for NULL. */
static const char *settled(const char *id, const char *ref)
{
	static char out[32];
	const char *p[] = { id, ref };
	PGresult *r = testdb_super_query(&w.tdb, "SELECT conform_settled($1, $2)", 2, p);
	snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return out;
}

static long long verdict_rows(const char *id)
{
	return coreworld_count(&w, "SELECT count(*) FROM review_verdict WHERE application_id = $1", id);
}

START_TEST(only_the_holder_records_and_only_in_evaluation)
{
	const char *states[] = { "draft", "submitted", "info_requested", "evaluated", "decided",
				 "withdrawn" };
	const char *one = "{\"ref\":\"DCMS-1\",\"verdict\":\"pass\"}";
	struct cf_error err;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		char id[37];
		coreworld_application(&w, "third-party", states[i], id);
		long long before = verdict_rows(id);
		cf_err e = record(&w.assessor, id, one, &err);
		coreworld_refused(e, &err, CF_ESTATE, NULL, "verdicts are recorded while the application is in evaluation");
		char extra[64];
		snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", states[i]);
		ck_assert_str_eq(err.extra, extra);
		ck_assert_int_eq(verdict_rows(id), before);
	}
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	coreworld_refused(record(&w.assessor2, id, one, &err), &err, CF_EFORBIDDEN, NULL,
		"only the assessor who took the application records verdicts");
	coreworld_refused(record(&w.certifier, id, one, &err), &err, CF_EFORBIDDEN, NULL, "only the assessor");
	ck_assert_int_eq(verdict_rows(id), 0);
	ck_assert_int_eq(record(&w.assessor, id, one, &err), CF_OK);
	ck_assert_int_eq(verdict_rows(id), 1);
	coreworld_refused(record(&w.assessor, "nope", one, &err), &err, CF_ENOTFOUND, NULL, "no application");
}
END_TEST

START_TEST(a_verdict_says_what_it_must)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	coreworld_refused(record(&w.assessor, id, "{\"ref\":\"DCMS-1\",\"verdict\":\"good\"}", &err), &err,
		CF_EINVAL, "/verdict", "must be pass, fail, not_applicable, info_needed or carried");
	coreworld_refused(record(&w.assessor, id, "{\"ref\":\"DCMS-1\",\"verdict\":\"fail\"}", &err), &err,
		CF_EINVAL, "/comment", "a fail needs its reason in comment");
	coreworld_refused(record(&w.assessor, id, "{\"ref\":\"DCMS-1\",\"verdict\":\"info_needed\"}", &err), &err,
		CF_EINVAL, "/comment", "info_needed needs the question in comment");
	coreworld_refused(record(&w.assessor, id, "{\"verdict\":\"pass\"}", &err), &err, CF_EINVAL, "/ref", "ref");
	coreworld_refused(record(&w.assessor, id, "{\"ref\":\"DCMS-1\",\"verdict\":\"pass\",\"score\":3}", &err),
		&err, CF_EINVAL, "/score", "score");
	coreworld_refused(record(&w.assessor, id, "{\"verdicts\":[]}", &err), &err, CF_EINVAL, "/verdicts",
		"1 to 1000 verdicts");
	coreworld_refused(record(&w.assessor, id, "{\"verdicts\":{}}", &err), &err, CF_EINVAL, "/verdicts",
		"1 to 1000 verdicts");
	coreworld_refused(record(&w.assessor, id, "{\"verdicts\":[{\"ref\":\"DCMS-1\",\"verdict\":\"pass\"},"
		"{\"ref\":\"DCMS-2\",\"verdict\":\"fail\"}]}", &err), &err, CF_EINVAL,
		"/verdicts/1/comment", "a fail needs its reason");
	coreworld_refused(record(&w.assessor, id, "{\"verdicts\":[{\"ref\":\"DCMS-1\",\"verdict\":\"pass\"}],"
		"\"extra\":1}", &err), &err, CF_EINVAL, "/extra", "extra");
	/* a requirement the scheme does not have: nothing of the batch is kept */
	coreworld_refused(record(&w.assessor, id, "{\"verdicts\":[{\"ref\":\"DCMS-1\",\"verdict\":\"pass\"},"
		"{\"ref\":\"DCMS-14\",\"verdict\":\"pass\"}]}", &err), &err, CF_EUNPROCESSABLE,
		"/verdicts/1/ref", "dcms-cop@2018 has no requirement DCMS-14");
	ck_assert_int_eq(verdict_rows(id), 0);
	/* what is acceptable: pass and not_applicable need no comment */
	ck_assert_int_eq(record(&w.assessor, id, "{\"verdicts\":[{\"ref\":\"DCMS-1\",\"verdict\":\"pass\"},"
		"{\"ref\":\"DCMS-2\",\"verdict\":\"not_applicable\"},{\"ref\":\"DCMS-3\","
		"\"verdict\":\"fail\",\"comment\":\"default password\"}]}", &err), CF_OK);
	ck_assert_int_eq(verdict_rows(id), 3);
}
END_TEST

START_TEST(a_batch_holds_at_most_1000_verdicts)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	/* the batch has a cap: 1001 is refused before anything is read */
	json_t *many = json_array();
	for (int i = 0; i < 1001; i++)
		json_array_append_new(many, json_pack("{s:s,s:s}", "ref", "DCMS-1", "verdict", "pass"));
	json_t *big = json_pack("{s:o}", "verdicts", many), *out = NULL;
	coreworld_refused(review_record(w.db, &w.assessor, id, big, &out, &err), &err, CF_EINVAL,
			  "/verdicts", "1 to 1000 verdicts");
	json_array_remove(many, 0);
	ck_assert_int_eq(review_record(w.db, &w.assessor, id, big, &out, &err), CF_OK);
	json_decref(out);
	json_decref(big);
	ck_assert_int_eq(verdict_rows(id), 1000);
	ck_assert_str_eq(current(id, "DCMS-1"), "pass");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM current_verdict"
					 " WHERE application_id = $1", id), 1);
}
END_TEST

START_TEST(one_batch_is_one_version_and_one_audit_record)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct application_row a;
	struct cf_error err;
	ck_assert_int_eq(application_load(w.db, id, false, &a, &err), CF_OK);
	long long audit = coreworld_count(&w, "SELECT count(*) FROM audit_log WHERE object_id = $1", id);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 13, "pass", &err), CF_OK);
	struct application_row b;
	ck_assert_int_eq(application_load(w.db, id, false, &b, &err), CF_OK);
	ck_assert_int_eq(b.version, a.version + 1);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM audit_log WHERE object_id = $1", id),
			 audit + 1);
	const char *p[] = { id };
	PGresult *r = testdb_super_query(&w.tdb,
		"SELECT action, details->>'number', jsonb_array_length(details->'verdicts'),"
		" details->'verdicts'->12->>'ref', details->'verdicts'->12->>'verdict', actor_id"
		" FROM audit_log WHERE object_id = $1 ORDER BY seq DESC LIMIT 1", 1, p);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "application.review");
	ck_assert_int_eq(atoll(PQgetvalue(r, 0, 1)), a.number);
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "13");
	ck_assert_str_eq(PQgetvalue(r, 0, 3), "DCMS-13");
	ck_assert_str_eq(PQgetvalue(r, 0, 4), "pass");
	ck_assert_str_eq(PQgetvalue(r, 0, 5), w.assessor.user_id);
	PQclear(r);
}
END_TEST

START_TEST(the_history_keeps_every_verdict_oldest_first)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_int_eq(record(&w.assessor, id, "{\"ref\":\"DCMS-2\",\"verdict\":\"info_needed\","
				"\"comment\":\"which cipher?\"}", &err), CF_OK);
	ck_assert_int_eq(record(&w.assessor, id, "{\"ref\":\"DCMS-2\",\"verdict\":\"pass\"}", &err), CF_OK);
	ck_assert_int_eq(record(&w.assessor, id, "{\"ref\":\"DCMS-1\",\"verdict\":\"fail\","
				"\"comment\":\"admin/admin\"}", &err), CF_OK);
	json_t *h = NULL;
	ck_assert_int_eq(review_history(w.db, id, &h, &err), CF_OK);
	json_t *items = json_object_get(h, "items");
	ck_assert_int_eq(json_array_size(items), 3);
	const char *refs[] = { "DCMS-2", "DCMS-2", "DCMS-1" };
	const char *verdicts[] = { "info_needed", "pass", "fail" };
	json_int_t last = 0;
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_array_get(items, i);
		ck_assert_str_eq(jsonx_str(v, "ref"), refs[i]);
		ck_assert_str_eq(jsonx_str(v, "verdict"), verdicts[i]);
		ck_assert_str_eq(jsonx_str(json_object_get(v, "assessor"), "id"), w.assessor.user_id);
		ck_assert_str_eq(jsonx_str(json_object_get(v, "assessor"), "name"), "Sam Assessor");
		ck_assert_int_gt(json_integer_value(json_object_get(v, "id")), last);
		last = json_integer_value(json_object_get(v, "id"));
	}
	ck_assert_str_eq(jsonx_str(json_array_get(items, 0), "comment"), "which cipher?");
	ck_assert(json_is_null(json_object_get(json_array_get(items, 1), "comment")));
	json_decref(h);
	/* another application's history is its own; a bad id is not found */
	char other[37];
	coreworld_application(&w, "third-party", "draft", other);
	ck_assert_int_eq(review_history(w.db, other, &h, &err), CF_OK);
	ck_assert_int_eq(json_array_size(json_object_get(h, "items")), 0);
	json_decref(h);
	coreworld_refused(review_history(w.db, "x'; --", &h, &err), &err, CF_ENOTFOUND, NULL, "no application");
}
END_TEST

START_TEST(the_current_verdict_is_the_latest_for_every_reader)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_str_eq(current(id, "DCMS-1"), "");
	ck_assert_str_eq(settled(id, "DCMS-1"), "");
	const char *sequence[] = { "pass", "fail", "info_needed", "not_applicable", "info_needed", "pass" };
	for (size_t i = 0; i < sizeof sequence / sizeof sequence[0]; i++) {
		ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 1, sequence[i], &err), CF_OK);
		ck_assert_str_eq(current(id, "DCMS-1"), sequence[i]);
		/* settled: the current verdict unless it asks for information */
		ck_assert_str_eq(settled(id, "DCMS-1"),
				 strcmp(sequence[i], "info_needed") == 0 ? "" : sequence[i]);
		json_t *app = NULL;
		ck_assert_int_eq(application_get(w.db, id, &app, &err), CF_OK);
		json_t *item = json_array_get(json_object_get(app, "requirements"), 0);
		ck_assert_str_eq(jsonx_str(item, "ref"), "DCMS-1");
		ck_assert_str_eq(jsonx_str(json_object_get(item, "verdict"), "verdict"), sequence[i]);
		json_decref(app);
	}
	/* one row per requirement judged, whatever the history's length */
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM current_verdict"
					 " WHERE application_id = $1", id), 1);
	ck_assert_int_eq(verdict_rows(id), 6);
	/* the latest is by recording order (id), not by verdict or time */
	PQclear(testdb_super_query(&w.tdb, "ALTER TABLE review_verdict DISABLE TRIGGER USER", 0, NULL));
	PQclear(testdb_super_query(&w.tdb, "UPDATE review_verdict SET recorded_at = recorded_at"
				   " - interval '1 day' WHERE application_id = $1 AND verdict = 'pass'"
				   " AND id = (SELECT max(id) FROM review_verdict WHERE application_id = $1)",
				   1, (const char *[]){ id }));
	PQclear(testdb_super_query(&w.tdb, "ALTER TABLE review_verdict ENABLE TRIGGER USER", 0, NULL));
	ck_assert_str_eq(current(id, "DCMS-1"), "pass");
}
END_TEST

START_TEST(the_view_agrees_with_the_history_across_applications)
{
	/* several applications, interleaved verdicts: the view is exactly the
	 * last row per (application, ref) of the history */
	char ids[3][37];
	struct cf_error err;
	for (int i = 0; i < 3; i++)
		coreworld_application(&w, "third-party", "in_evaluation", ids[i]);
	const char *verdicts[] = { "pass", "fail", "not_applicable", "info_needed" };
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, ids[i], 1 + round + i,
							    5 + round, verdicts[(round + i) % 4], &err), CF_OK);
	const char *p[] = { ids[0], ids[1], ids[2] };
	PGresult *r = testdb_super_query(&w.tdb,
		"SELECT count(*), count(*) FILTER (WHERE c.id = h.last AND c.verdict = h.verdict)"
		" FROM current_verdict c JOIN (SELECT application_id, ref, max(id) AS last,"
		"  (array_agg(verdict ORDER BY id DESC))[1] AS verdict FROM review_verdict"
		"  GROUP BY application_id, ref) h USING (application_id, ref)"
		" WHERE c.application_id IN ($1, $2, $3)", 3, p);
	long long rows = atoll(PQgetvalue(r, 0, 0)), agree = atoll(PQgetvalue(r, 0, 1));
	PQclear(r);
	ck_assert_int_gt(rows, 10);
	ck_assert_int_eq(agree, rows);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM (SELECT DISTINCT application_id, ref"
					 " FROM review_verdict WHERE application_id IN (SELECT id FROM application"
					 " WHERE assessor_id = $1::uuid)) x", w.assessor.user_id),
			 coreworld_count(&w, "SELECT count(*) FROM current_verdict WHERE application_id IN"
					 " (SELECT id FROM application WHERE assessor_id = $1::uuid)",
					 w.assessor.user_id));
}
END_TEST

START_TEST(conformd_may_read_the_view_but_never_rewrite_a_verdict)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 1, "fail", &err), CF_OK);
	const char *p[] = { id };
	PGresult *r = testdb_app_query(&w.tdb, "SELECT verdict FROM current_verdict"
				       " WHERE application_id = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "fail");
	PQclear(r);
	r = testdb_app_query(&w.tdb, "UPDATE review_verdict SET verdict = 'pass'"
			     " WHERE application_id = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	r = testdb_app_query(&w.tdb, "DELETE FROM review_verdict WHERE application_id = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	/* nor is the view a way round: conformd may only read it */
	r = testdb_app_query(&w.tdb, "UPDATE current_verdict SET verdict = 'pass'"
			     " WHERE application_id = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	ck_assert_str_eq(current(id, "DCMS-1"), "fail");
}
END_TEST

START_TEST(the_database_keeps_a_settled_answer_and_its_evidence)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 2, "pass", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 2, 2, "info_needed", &err), CF_OK);
	/* straight to the table as conformd's role: the trigger (on top of
	 * conform_settled, on top of the view) refuses DCMS-1, lets DCMS-2 */
	const char *p1[] = { id, "DCMS-1", w.applicant.user_id };
	PGresult *r = testdb_app_query(&w.tdb, "UPDATE application_answer SET text = 'changed'"
				       " WHERE application_id = $1 AND ref = $2 AND answered_by = $3", 3, p1);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_msg(strstr(PQresultErrorMessage(r), "requirement DCMS-1 was judged pass"), "%s",
		      PQresultErrorMessage(r));
	PQclear(r);
	const char *p2[] = { id, "DCMS-2", w.applicant.user_id };
	r = testdb_app_query(&w.tdb, "UPDATE application_answer SET text = 'changed'"
			     " WHERE application_id = $1 AND ref = $2 AND answered_by = $3", 3, p2);
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	ck_assert_str_eq(PQcmdTuples(r), "1");
	PQclear(r);
	/* evidence linked to a settled requirement stays linked */
	PGresult *ev = testdb_super_query(&w.tdb,
		"INSERT INTO evidence (application_id, digest, name, media_type, size, uploaded_by)"
		" VALUES ($1, repeat('a', 64), 'report.pdf', 'application/pdf', 10, $2) RETURNING id", 2,
		(const char *[]){ id, w.applicant.user_id });
	char evidence[37];
	snprintf(evidence, sizeof evidence, "%s", PQgetvalue(ev, 0, 0));
	PQclear(ev);
	r = testdb_app_query(&w.tdb, "INSERT INTO evidence_link (evidence_id, ref) VALUES ($1, $2)", 2,
			     (const char *[]){ evidence, "DCMS-1" });
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert(strstr(PQresultErrorMessage(r), "its evidence no longer changes"));
	PQclear(r);
	r = testdb_app_query(&w.tdb, "INSERT INTO evidence_link (evidence_id, ref) VALUES ($1, $2)", 2,
			     (const char *[]){ evidence, "DCMS-2" });
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}
END_TEST

/*
 * The generic plan of sql (what a statement prepared by db_query_hot comes
 * to after a few executions, whatever the values) with the arguments args
 * (constants of the test, never data), as text (free it).
 */
static char *generic_plan(const char *types, const char *sql, const char *args)
{
	char script[2048];
	snprintf(script, sizeof script,
		 "PREPARE q (%s) AS %s; SET plan_cache_mode = force_generic_plan; EXPLAIN EXECUTE q (%s)",
		 types, sql, args);
	PGresult *r = testdb_super_exec(&w.tdb, script);
	size_t size = 1, used = 0;
	for (int i = 0; i < PQntuples(r); i++)
		size += strlen(PQgetvalue(r, i, 0)) + 1;
	char *text = calloc(1, size);
	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < PQntuples(r); i++)
		used += (size_t)snprintf(text + used, size - used, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	return text;
}

#define ANY_APP "'00000000-0000-4000-8000-000000000000'"

START_TEST(reading_the_current_verdict_is_an_index_scan)
{
	/* a realistic history: 400 applications' worth of verdicts on 40
	 * requirements, each judged three times */
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	PQclear(testdb_super_query(&w.tdb,
		"INSERT INTO application (product_id, manufacturer_id, scheme_id, scheme_version,"
		" class, assessment_type, body_id, owners, created_by)"
		" SELECT product_id, manufacturer_id, scheme_id, scheme_version, class,"
		" assessment_type, body_id, owners, created_by FROM application a,"
		" generate_series(1, 400) WHERE a.id = $1", 1, (const char *[]){ id }));
	PQclear(testdb_super_query(&w.tdb,
		"INSERT INTO review_verdict (application_id, ref, verdict, comment, assessor_id)"
		" SELECT a.id, 'R-' || r, (ARRAY['pass','fail','info_needed'])[k], 'c', $1"
		" FROM application a, generate_series(1, 40) r, generate_series(1, 3) k"
		" ORDER BY k, a.id, r", 1, (const char *[]){ w.assessor.user_id }));
	PQclear(testdb_super_exec(&w.tdb, "ANALYZE review_verdict; ANALYZE application"));
	ck_assert_int_gt(coreworld_count(&w, "SELECT count(*) FROM review_verdict", NULL), 40000);

	/* one requirement of one application (conform_settled's query): its
	 * rows by the index, each checked against a later one by the index */
	char *one = generic_plan("uuid, text", "SELECT verdict FROM current_verdict"
				 " WHERE application_id = $1 AND ref = $2 AND verdict <> 'info_needed'",
				 ANY_APP ", 'R-7'");
	ck_assert_msg(strstr(one, "Index Cond: ((application_id = $1) AND (ref = $2))"), "%s", one);
	ck_assert_msg(strstr(one, "Anti Join"), "%s", one);
	ck_assert_msg(!strstr(one, "Sort") && !strstr(one, "Seq Scan"), "%s", one);
	free(one);
	/* a whole application (the request-info guard): its rows by the index,
	 * no sort, never the whole table */
	char *all = generic_plan("uuid", "SELECT count(*) FROM current_verdict"
				 " WHERE application_id = $1 AND verdict = 'info_needed'", ANY_APP);
	ck_assert_msg(strstr(all, "Index Cond: (application_id = $1)"), "%s", all);
	ck_assert_msg(!strstr(all, "Sort") && !strstr(all, "Seq Scan"), "%s", all);
	free(all);
	/* the checklist's and the guards' join: one index probe per requirement,
	 * as the ORDER BY id DESC LIMIT 1 it replaces (a DISTINCT ON view would
	 * sort the application's whole history once per requirement here) */
	char *lateral = generic_plan("uuid", "SELECT r.ref, v.verdict FROM requirement r LEFT JOIN"
				     " LATERAL (SELECT verdict FROM current_verdict x WHERE"
				     " x.application_id = $1 AND x.ref = r.ref) v ON true"
				     " WHERE r.scheme_id = 'dcms-cop'", ANY_APP);
	ck_assert_msg(strstr(lateral, "Index Cond: ((application_id = $1) AND (ref = r.ref))"), "%s",
		      lateral);
	ck_assert_msg(!strstr(lateral, "Sort") && !strstr(lateral, "Seq Scan on review_verdict"), "%s",
		      lateral);
	free(lateral);
	/* and the answers still come */
	json_t *app = NULL;
	struct cf_error err;
	ck_assert_int_eq(application_get(w.db, id, &app, &err), CF_OK);
	ck_assert_int_eq(json_array_size(json_object_get(app, "requirements")), 13);
	json_decref(app);
	const char *p[] = { id };
	PGresult *r = testdb_super_query(&w.tdb, "SELECT conform_settled($1, 'R-7'),"
					 " conform_settled($1, 'R-8')", 1, p);
	ck_assert(PQgetisnull(r, 0, 0)); /* its latest is info_needed */
	PQclear(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("review");
	TCase *tc = tcase_create("review");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, only_the_holder_records_and_only_in_evaluation);
	tcase_add_test(tc, a_verdict_says_what_it_must);
	tcase_add_test(tc, a_batch_holds_at_most_1000_verdicts);
	tcase_add_test(tc, one_batch_is_one_version_and_one_audit_record);
	tcase_add_test(tc, the_history_keeps_every_verdict_oldest_first);
	tcase_add_test(tc, the_current_verdict_is_the_latest_for_every_reader);
	tcase_add_test(tc, the_view_agrees_with_the_history_across_applications);
	tcase_add_test(tc, conformd_may_read_the_view_but_never_rewrite_a_verdict);
	tcase_add_test(tc, the_database_keeps_a_settled_answer_and_its_evidence);
	tcase_add_test(tc, reading_the_current_verdict_is_an_index_scan);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
