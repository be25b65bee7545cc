/*
 * Unit tests of core/decision against the suite's throwaway database: what
 * a decision asks (decision_check: independence from the evaluation, a
 * rationale, every mandatory requirement passed by its current verdict for
 * an approval), what it records (decision_record, decision_get, the
 * evidence digest), and independence enforced by the database too: a
 * direct INSERT by someone who evaluated is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "coreworld.h"
#include "decision.h"
#include "digest.h"
#include "jsonx.h"
#include "tsupport.h"

static struct coreworld w;
static struct principal both; /* an assessor and certifier of the body at once */

static void setup(void)
{
	coreworld_create(&w, "decision");
	coreworld_unaccredited(&w);
	json_t *body = json_pack("{s:s,s:s,s:s,s:[s,s]}", "org_id", w.body, "name", "Bo Both",
				 "email", "both@example.org", "roles", "assessor", "certifier");
	json_t *out = NULL;
	struct cf_error err;
	struct audit_actor by = party_actor(&w.body_admin);
	ck_assert_msg(party_user_create(w.db, &by, body, &out, &err) == CF_OK, "%s", err.detail);
	snprintf(both.user_id, sizeof both.user_id, "%s", jsonx_str(out, "id"));
	snprintf(both.org_id, sizeof both.org_id, "%s", w.body);
	snprintf(both.org_kind, sizeof both.org_kind, "assessment_body");
	both.roles = ROLE_ASSESSOR | ROLE_CERTIFIER;
	json_decref(out);
	json_decref(body);
}

static void teardown(void)
{
	coreworld_destroy(&w);
}

static void load(const char *id, struct application_row *a)
{
	struct cf_error err;
	ck_assert_int_eq(application_load(w.db, id, false, a, &err), CF_OK);
}


/* An application in evaluation held by holder, with verdicts on every
 * requirement (verdict), completed unless verdict leaves it open. */
static void evaluated_by(const struct principal *holder, const char *verdict, char id[37])
{
	coreworld_application(&w, "third-party", "submitted", id);
	coreworld_act_ok(&w, holder, id, "take", NULL);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, holder, id, 1, 13, verdict, &err), CF_OK);
}

/* A direct INSERT of a decision as conformd's own role: NULL when accepted,
 * else the database's message (static). */
static const char *insert_decision(const char *id, const char *decided_by, const char *self)
{
	static char message[512];
	const char *p[] = { id, decided_by, self };
	PGresult *r = testdb_app_query(&w.tdb,
		"INSERT INTO application_decision (application_id, decision, rationale, decided_by,"
		" evidence_digest, self_declaration) VALUES ($1, 'approved', 'by hand', $2,"
		" repeat('0', 64), $3::boolean)", 3, p);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	snprintf(message, sizeof message, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? NULL : message;
}

START_TEST(the_holder_never_decides)
{
	char id[37];
	evaluated_by(&both, "pass", id);
	struct application_row a;
	load(id, &a);
	struct cf_error err;
	coreworld_refused(decision_check(w.db, &a, &both, true, "fine", false, &err), &err, CF_EFORBIDDEN, NULL,
		"you held this application for evaluation");
	coreworld_refused(decision_check(w.db, &a, &both, false, "fine", false, &err), &err, CF_EFORBIDDEN, NULL,
		"ISO/IEC 17065 7.5");
	ck_assert_int_eq(decision_check(w.db, &a, &w.certifier, true, "fine", false, &err), CF_OK);
	/* through the state machine as well */
	coreworld_act_ok(&w, &both, id, "complete", NULL);
	coreworld_refused(coreworld_act(&w, &both, id, "decide", "{\"decision\":\"approve\",\"rationale\":\"x\"}",
			      &err), &err, CF_EFORBIDDEN, NULL, "you held this application");
	ck_assert_str_eq(coreworld_state(&w, id), "evaluated");
	/* and the database refuses it even when the C code is bypassed */
	const char *why = insert_decision(id, both.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "17065"), "%s", why);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision"
					 " WHERE application_id = $1", id), 0);
}
END_TEST

START_TEST(a_former_holder_never_decides)
{
	/* both takes it, the lead hands it to an assessor: both held it */
	char id[37], body[200];
	coreworld_application(&w, "third-party", "submitted", id);
	coreworld_act_ok(&w, &both, id, "take", NULL);
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\",\"reason\":\"conflict\"}", w.assessor.user_id);
	coreworld_act_ok(&w, &w.certifier, id, "reassign", body);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 13, "pass", &err), CF_OK);
	coreworld_act_ok(&w, &w.assessor, id, "complete", NULL);
	struct application_row a;
	load(id, &a);
	ck_assert_str_eq(a.assessor_id, w.assessor.user_id);
	coreworld_refused(decision_check(w.db, &a, &both, true, "fine", false, &err), &err, CF_EFORBIDDEN, NULL,
		"you held this application for evaluation");
	const char *why = insert_decision(id, both.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "held it after a reassignment"), "%s", why);
	/* someone who never held it decides */
	ck_assert_int_eq(decision_check(w.db, &a, &w.certifier2, true, "fine", false, &err), CF_OK);
	coreworld_act_ok(&w, &w.certifier2, id, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}");
}
END_TEST

START_TEST(whoever_recorded_a_verdict_never_decides)
{
	char id[37];
	evaluated_by(&w.assessor, "pass", id);
	/* a verdict by certifier2, slipped in past the C code (review_record
	 * would refuse them): the decision check and the database both see it */
	const char *p[] = { id, w.certifier2.user_id };
	PQclear(testdb_super_query(&w.tdb, "INSERT INTO review_verdict (application_id, ref, verdict,"
				   " assessor_id) VALUES ($1, 'DCMS-1', 'pass', $2)", 2, p));
	struct application_row a;
	load(id, &a);
	struct cf_error err;
	coreworld_refused(decision_check(w.db, &a, &w.certifier2, true, "fine", false, &err), &err, CF_EFORBIDDEN,
		NULL, "you recorded verdicts on this application");
	const char *why = insert_decision(id, w.certifier2.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "recorded no verdict"), "%s", why);
	/* superseded since: still theirs */
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 1, "pass", &err), CF_OK);
	coreworld_refused(decision_check(w.db, &a, &w.certifier2, true, "fine", false, &err), &err, CF_EFORBIDDEN,
		NULL, "you recorded verdicts");
	/* the independent certifier's direct INSERT is accepted: the refusals
	 * above are about the person, not the path */
	ck_assert_ptr_null(insert_decision(id, w.certifier.user_id, "false"));
}
END_TEST

START_TEST(the_database_checks_the_decider_s_role_body_and_kind)
{
	char id[37];
	evaluated_by(&w.assessor, "pass", id);
	const char *why = insert_decision(id, w.other_certifier.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "certifier of the application's body"), "%s", why);
	why = insert_decision(id, w.assessor2.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "certifier of the application's body"), "%s", why);
	why = insert_decision(id, w.applicant.user_id, "true");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "a third-party application is decided by its body"), "%s", why);
	char self[37];
	coreworld_application(&w, "self", "draft", self);
	why = insert_decision(self, w.certifier.user_id, "false");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "a self declaration has no body decision"), "%s", why);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision"
					 " WHERE application_id IN ($1::uuid)", id), 0);
}
END_TEST

START_TEST(a_decision_needs_its_rationale_and_a_declaration_its_statement)
{
	char id[37];
	evaluated_by(&w.assessor, "pass", id);
	struct application_row a;
	load(id, &a);
	struct cf_error err;
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, NULL, false, &err), &err, CF_EINVAL,
		"/rationale", "a decision needs its rationale");
	coreworld_refused(decision_check(w.db, &a, &w.certifier, false, "", false, &err), &err, CF_EINVAL,
		"/rationale", "a decision needs its rationale");
	char self[37];
	coreworld_application(&w, "self", "draft", self);
	load(self, &a);
	coreworld_refused(decision_check(w.db, &a, &w.applicant, true, NULL, true, &err), &err, CF_EINVAL,
		"/statement", "a declaration needs its statement");
	/* a self declaration asks no independence and no verdicts */
	ck_assert_int_eq(decision_check(w.db, &a, &w.applicant, true, "we declare", true, &err), CF_OK);
}
END_TEST

START_TEST(approval_needs_every_mandatory_requirement_passed_now)
{
	char id[37];
	evaluated_by(&w.assessor, "pass", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 3, 4, "fail", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 9, 9, "not_applicable", &err), CF_OK);
	struct application_row a;
	load(id, &a);
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, "fine", false, &err), &err,
		CF_EUNPROCESSABLE, "/decision", "approval needs every mandatory requirement passed; 2 did "
		"not: DCMS-3, DCMS-4");
	/* a rejection needs no passes */
	ck_assert_int_eq(decision_check(w.db, &a, &w.certifier, false, "two fails", false, &err), CF_OK);
	/* the current verdict counts, not an earlier one */
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 3, 4, "pass", &err), CF_OK);
	ck_assert_int_eq(decision_check(w.db, &a, &w.certifier, true, "fine", false, &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 13, 13, "info_needed", &err), CF_OK);
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, "fine", false, &err), &err,
		CF_EUNPROCESSABLE, "/decision", "1 did not: DCMS-13");
	/* no verdict at all is not a pass */
	char bare[37];
	coreworld_application(&w, "third-party", "in_evaluation", bare);
	load(bare, &a);
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, "fine", false, &err), &err,
		CF_EUNPROCESSABLE, "/decision", "13 did not: DCMS-1, DCMS-2");
}
END_TEST

START_TEST(independence_is_checked_before_the_rationale_and_the_verdicts)
{
	char id[37];
	evaluated_by(&w.assessor, "fail", id);
	struct application_row a;
	load(id, &a);
	struct cf_error err;
	/* every other fault at once: the first error is independence */
	coreworld_refused(decision_check(w.db, &a, &w.assessor, true, NULL, false, &err), &err, CF_EFORBIDDEN,
		NULL, "you held this application");
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, NULL, false, &err), &err, CF_EINVAL,
		"/rationale", "rationale");
	coreworld_refused(decision_check(w.db, &a, &w.certifier, true, "x", false, &err), &err,
		CF_EUNPROCESSABLE, "/decision", "13 did not");
}
END_TEST

START_TEST(the_decision_is_recorded_and_read_back)
{
	char id[37];
	evaluated_by(&w.assessor, "pass", id);
	coreworld_act_ok(&w, &w.assessor, id, "complete", NULL);
	struct cf_error err;
	json_t *d = NULL;
	ck_assert_int_eq(decision_get(w.db, id, &d, &err), CF_OK);
	ck_assert(json_is_null(d));
	json_decref(d);
	char digest[65];
	ck_assert_int_eq(decision_evidence_digest(w.db, id, digest, &err), CF_OK);
	coreworld_act_ok(&w, &w.certifier, id, "decide",
			 "{\"decision\":\"approve\",\"rationale\":\"every guideline met\"}");
	ck_assert_int_eq(decision_get(w.db, id, &d, &err), CF_OK);
	ck_assert_str_eq(jsonx_str(d, "decision"), "approved");
	ck_assert_str_eq(jsonx_str(d, "rationale"), "every guideline met");
	ck_assert_str_eq(jsonx_str(json_object_get(d, "decided_by"), "id"), w.certifier.user_id);
	ck_assert_str_eq(jsonx_str(json_object_get(d, "decided_by"), "name"), "Cat Certifier");
	ck_assert_str_eq(jsonx_str(d, "evidence_digest"), digest);
	ck_assert(json_is_false(json_object_get(d, "self_declaration")));
	json_decref(d);
	/* once: a second decision is refused by the table's key */
	struct application_row a;
	load(id, &a);
	cf_err e = decision_record(w.db, &a, &w.certifier2, false, "again", false, &err);
	ck_assert_int_eq(e, CF_ECONFLICT);
	/* and a decision is never changed */
	const char *p[] = { id };
	PGresult *r = testdb_app_query(&w.tdb, "UPDATE application_decision SET decision = 'rejected'"
				       " WHERE application_id = $1", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
}
END_TEST

START_TEST(the_evidence_digest_covers_the_current_evidence_set)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	char empty[65], expect[65];
	ck_assert_int_eq(decision_evidence_digest(w.db, id, empty, &err), CF_OK);
	digest_sha256_hex("[]", 2, expect);
	ck_assert_str_eq(empty, expect);
	const char *p[] = { id, w.applicant.user_id };
	PGresult *r = testdb_super_query(&w.tdb,
		"WITH e AS (INSERT INTO evidence (application_id, digest, name, media_type, size, uploaded_by)"
		" VALUES ($1, repeat('b', 64), 'b.pdf', 'application/pdf', 3, $2),"
		" ($1, repeat('a', 64), 'a.pdf', 'application/pdf', 3, $2) RETURNING id, name)"
		" INSERT INTO evidence_link (evidence_id, ref) SELECT id, 'DCMS-' || r FROM e,"
		" generate_series(1, 2) r RETURNING evidence_id", 2, p);
	PQclear(r);
	char two[65];
	ck_assert_int_eq(decision_evidence_digest(w.db, id, two, &err), CF_OK);
	const char *canon = "[{\"digest\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "\",\"name\":\"a.pdf\",\"refs\":[\"DCMS-1\",\"DCMS-2\"]},{\"digest\":\""
			    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			    "\",\"name\":\"b.pdf\",\"refs\":[\"DCMS-1\",\"DCMS-2\"]}]";
	digest_sha256_hex(canon, strlen(canon), expect);
	ck_assert_str_eq(two, expect);
	/* superseded evidence leaves the set */
	PQclear(testdb_super_query(&w.tdb, "UPDATE evidence SET superseded_by = (SELECT id FROM evidence"
				   " WHERE application_id = $1 AND name = 'a.pdf') WHERE application_id = $1"
				   " AND name = 'b.pdf'", 1, (const char *[]){ id }));
	char one[65];
	ck_assert_int_eq(decision_evidence_digest(w.db, id, one, &err), CF_OK);
	ck_assert_str_ne(one, two);
	ck_assert_str_ne(one, empty);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decision");
	TCase *tc = tcase_create("decision");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_holder_never_decides);
	tcase_add_test(tc, a_former_holder_never_decides);
	tcase_add_test(tc, whoever_recorded_a_verdict_never_decides);
	tcase_add_test(tc, the_database_checks_the_decider_s_role_body_and_kind);
	tcase_add_test(tc, a_decision_needs_its_rationale_and_a_declaration_its_statement);
	tcase_add_test(tc, approval_needs_every_mandatory_requirement_passed_now);
	tcase_add_test(tc, independence_is_checked_before_the_rationale_and_the_verdicts);
	tcase_add_test(tc, the_decision_is_recorded_and_read_back);
	tcase_add_test(tc, the_evidence_digest_covers_the_current_evidence_set);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
