/*
 * Unit tests of core/complaint.c against the database: complaints (about a
 * certificate, about a body), appeals (a refusal, a withdrawal), the
 * decision by a certifier not involved in the original, checked by the C
 * code and refused by migration 0027's trigger on a direct INSERT or
 * UPDATE, the suspension an upheld complaint carries, the audit records of
 * each change, pages and the overdue list. One world (conformctl demo: one
 * certificate, decided and issued by the demo's certifier, evaluated by its
 * assessor) serves the suite; the tests run in order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certificate.h"
#include "complaint.h"
#include "coreworld.h"
#include "jsonx.h"
#include "tsupport.h"

static struct coreworld f;
static struct principal certifier2, certifier3;
static const struct audit_actor public_actor = { "system", "public", NULL };

static void setup(void)
{
	coreworld_open(&f, "complaint");
	coreworld_demo(&f);
	coreworld_person(&f, &f.body_admin, "certifier", "Cleo Certifier", &certifier2);
	coreworld_person(&f, &f.body_admin, "certifier", "Cyd Certifier", &certifier3);
	coreworld_person(&f, &f.body_admin, "assessor", "Sue Assessor", &f.assessor2);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

/* Lodges a complaint from body_text (must succeed); its id in id. */
static void lodge(const char *body_text, char id[37], char reference[16])
{
	json_t *b = coreworld_json(body_text), *out = NULL;
	struct cf_error err;
	cf_err e = complaint_lodge(f.db, &public_actor, b, &out, &err);
	coreworld_expect("lodge", e, &err, CF_OK, NULL, NULL);
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	if (reference)
		snprintf(reference, 16, "%s", jsonx_str(out, "reference"));
	json_decref(out);
	json_decref(b);
}

static cf_err decide(const struct principal *p, const char *id, const char *body_text,
		     json_t **out, struct cf_error *err)
{
	json_t *b = coreworld_json(body_text);
	cf_err e = complaint_decide(f.db, p, f.public_url, id, b, out, err);
	json_decref(b);
	return e;
}

static long long audit_count(const char *action, const char *object_id)
{
	char n[24];
	const char *p[] = { action, object_id };
	coreworld_value(&f, n, sizeof n,
			"SELECT count(*) FROM audit_log WHERE action = $1 AND object_id = $2", 2, p);
	return atoll(n);
}

START_TEST(an_upheld_complaint_suspends_the_certificate_in_its_decision)
{
	char body[200], id[37], ref[16];
	snprintf(body, sizeof body, "{\"certificate\":\"%s\",\"text\":\"The hub ships with a default "
		 "password.\",\"contact\":\"jo@example.org\"}", f.serial);
	lodge(body, id, ref);
	ck_assert_msg(strncmp(ref, "CMP-", 4) == 0 && strlen(ref) == 14, "%s", ref);
	ck_assert_int_eq(audit_count("complaint.lodged", id), 1);

	/* the body's staff see it, with the contact; due in the default days */
	json_t *c = NULL;
	struct cf_error err;
	coreworld_expect("get", complaint_get(f.db, &f.assessor, id, &c, &err), &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(jsonx_str(c, "contact"), "jo@example.org");
	ck_assert_str_eq(jsonx_str(c, "subject"), "certificate");
	ck_assert(json_is_null(json_object_get(c, "decision")));
	ck_assert(json_is_false(json_object_get(c, "overdue")));
	json_decref(c);
	const char *ip[] = { id };
	char days[16];
	coreworld_value(&f, days, sizeof days,
			"SELECT extract(day FROM due_at - lodged_at)::int FROM complaint_case WHERE id = $1",
			1, ip);
	ck_assert_int_eq(atoi(days), COMPLAINT_DUE_DAYS);
	/* a manufacturer's person is no staff of the body: nothing to see */
	coreworld_refused(complaint_get(f.db, &f.applicant, id, &c, &err), &err, CF_ENOTFOUND, "",
			  "no case");

	/* the certifier who decided and issued the certificate may not decide,
	 * nor its assessor (no certifier either) */
	json_t *out = NULL;
	coreworld_refused(decide(&f.certifier, id, "{\"outcome\":\"upheld\",\"rationale\":\"r\"}", &out,
				 &err), &err, CF_EFORBIDDEN, "", "certifier who decided");
	/* suspension goes with an upheld complaint only */
	coreworld_refused(decide(&certifier2, id,
				 "{\"outcome\":\"dismissed\",\"rationale\":\"r\",\"suspend\":true}", &out, &err),
			  &err, CF_EUNPROCESSABLE, "/suspend", "upheld");
	coreworld_refused(decide(&certifier2, id, "{\"outcome\":\"maybe\",\"rationale\":\"r\"}", &out,
				 &err), &err, CF_EINVAL, "/outcome", "upheld or dismissed");
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM complaint_case WHERE id = $1"
					 " AND outcome IS NULL", id), 1);

	coreworld_expect("decide", decide(&certifier2, id, "{\"outcome\":\"upheld\",\"rationale\":"
					  "\"Confirmed on a sample.\",\"suspend\":true}", &out, &err),
			 &err, CF_OK, NULL, NULL);
	json_t *d = json_object_get(out, "decision");
	ck_assert_str_eq(jsonx_str(d, "outcome"), "upheld");
	ck_assert_str_eq(jsonx_str(d, "decided_by"), certifier2.user_id);
	ck_assert(json_is_true(json_object_get(d, "suspended")));
	json_decref(out);
	const char *sp[] = { f.serial };
	char status[16], reason[64];
	coreworld_value(&f, status, sizeof status, "SELECT status FROM certificate WHERE serial = $1",
			1, sp);
	ck_assert_str_eq(status, "suspended");
	coreworld_value(&f, reason, sizeof reason,
			"SELECT status_reason_code || ' ' || status_reason FROM certificate WHERE serial = $1",
			1, sp);
	char want[64];
	snprintf(want, sizeof want, "nonconformity complaint %s upheld", ref);
	ck_assert_str_eq(reason, want);
	ck_assert_int_eq(audit_count("complaint.decided", id), 1);
	ck_assert_int_eq(audit_count("certificate.suspend", f.serial), 1);

	/* decided once */
	coreworld_refused(decide(&certifier3, id, "{\"outcome\":\"dismissed\",\"rationale\":\"r\"}",
				 &out, &err), &err, CF_ESTATE, "", "decided already");
}
END_TEST

START_TEST(a_failed_suspension_leaves_the_complaint_undecided)
{
	/* the certificate is suspended already: the decision that would suspend
	 * it again fails, and with it the whole transaction */
	char body[160], id[37];
	snprintf(body, sizeof body, "{\"certificate\":\"%s\",\"text\":\"again\"}", f.serial);
	lodge(body, id, NULL);
	json_t *out = NULL;
	struct cf_error err;
	coreworld_refused(decide(&certifier3, id, "{\"outcome\":\"upheld\",\"rationale\":\"r\","
				 "\"suspend\":true}", &out, &err), &err, CF_ESTATE, "", "suspended");
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM complaint_case WHERE id = $1"
					 " AND outcome IS NULL", id), 1);
	ck_assert_int_eq(audit_count("complaint.decided", id), 0);
}
END_TEST

START_TEST(the_database_refuses_a_decider_who_was_involved)
{
	char body[160], id[37];
	snprintf(body, sizeof body, "{\"certificate\":\"%s\",\"text\":\"direct\"}", f.serial);
	lodge(body, id, NULL);
	/* as conformd's role, past the C code: the certifier who decided */
	const char *p[] = { id, f.certifier.user_id };
	const char *upd = "UPDATE complaint_case SET outcome = 'dismissed', rationale = 'x',"
			  " decided_by = $2, decided_at = now() WHERE id = $1";
	PGresult *r = testdb_app_query(&f.tdb, upd, 2, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(r), "not involved"));
	PQclear(r);
	/* an assessor is no certifier; nor is someone of another organisation */
	const char *pa[] = { id, f.assessor2.user_id };
	r = testdb_app_query(&f.tdb, upd, 2, pa);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(r), "certifier of the body concerned"));
	PQclear(r);
	/* a decided case inserted directly, with the certificate's assessor */
	const char *ins[] = { f.serial, f.assessor.user_id, f.body };
	r = testdb_app_query(&f.tdb,
		"INSERT INTO complaint_case (reference, kind, subject, body_id, serial, text, due_at,"
		" outcome, rationale, decided_by, decided_at) VALUES ('CMP-0000000001', 'complaint',"
		" 'certificate', $3, $1, 't', now() + interval '1 day', 'dismissed', 'x', $2, now())", 3, ins);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	/* the same as the uninvolved certifier goes through; then it stands */
	const char *ok[] = { id, certifier3.user_id };
	r = testdb_app_query(&f.tdb, upd, 2, ok);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
	PQclear(r);
	r = testdb_app_query(&f.tdb, "UPDATE complaint_case SET outcome = 'upheld' WHERE id = $1", 1, p);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(r), "decision stands"));
	PQclear(r);
}
END_TEST

START_TEST(a_refusal_is_appealed_by_its_manufacturer)
{
	char app[37];
	coreworld_application(&f, "third-party", "evaluated", app);
	coreworld_act_ok(&f, &f.certifier, app, "decide",
			 "{\"decision\":\"reject\",\"rationale\":\"DCMS-1 fails\"}");
	char body[200];
	snprintf(body, sizeof body, "{\"application_id\":\"%s\",\"text\":\"DCMS-1 was met.\"}", app);
	json_t *b = coreworld_json(body), *out = NULL;
	struct cf_error err;
	/* the body's administrator is not the manufacturer */
	coreworld_refused(complaint_appeal(f.db, &f.body_admin, b, &out, &err), &err, CF_EFORBIDDEN, "",
			  "manufacturer");
	coreworld_expect("appeal", complaint_appeal(f.db, &f.applicant, b, &out, &err), &err, CF_OK,
			 NULL, NULL);
	char id[37];
	snprintf(id, sizeof id, "%s", jsonx_str(out, "id"));
	ck_assert_str_eq(jsonx_str(out, "subject"), "refusal");
	ck_assert(strncmp(jsonx_str(out, "reference"), "APL-", 4) == 0);
	json_decref(out);
	ck_assert_int_eq(audit_count("appeal.lodged", id), 1);
	/* one open appeal at a time */
	coreworld_refused(complaint_appeal(f.db, &f.maker_admin, b, &out, &err), &err, CF_ECONFLICT, "",
			  "still open");
	json_decref(b);
	/* an approval is no refusal */
	snprintf(body, sizeof body, "{\"application_id\":\"%s\",\"text\":\"x\"}", f.application);
	b = coreworld_json(body);
	coreworld_refused(complaint_appeal(f.db, &f.applicant, b, &out, &err), &err, CF_ESTATE,
			  "/application_id", "not refused");
	json_decref(b);

	/* neither the certifier who refused nor the assessor's colleague who
	 * is no certifier; another certifier decides */
	coreworld_refused(decide(&f.certifier, id, "{\"outcome\":\"upheld\",\"rationale\":\"r\"}", &out,
				 &err), &err, CF_EFORBIDDEN, "", "certifier who decided");
	coreworld_expect("decide", decide(&certifier2, id, "{\"outcome\":\"dismissed\",\"rationale\":"
					  "\"The refusal stands.\"}", &out, &err), &err, CF_OK, NULL, NULL);
	json_decref(out);
	ck_assert_int_eq(audit_count("appeal.decided", id), 1);
}
END_TEST

START_TEST(a_withdrawal_is_appealed_and_not_decided_by_who_withdrew)
{
	struct cf_error err;
	json_t *out = NULL;
	char body[200];
	snprintf(body, sizeof body, "{\"certificate\":\"%s\",\"text\":\"x\"}", f.serial);
	json_t *b = coreworld_json(body);
	/* not withdrawn (yet): nothing to appeal */
	coreworld_refused(complaint_appeal(f.db, &f.applicant, b, &out, &err), &err, CF_ESTATE,
			  "/certificate", "only a withdrawal");
	json_t *why = coreworld_json("{\"reason_code\":\"administrative\",\"reason\":\"appeal test\"}");
	coreworld_expect("withdraw", certificate_change(f.db, &certifier3, f.public_url, f.serial,
							"withdraw", why, &out, &err),
			 &err, CF_OK, NULL, NULL);
	json_decref(out);
	json_decref(why);
	coreworld_expect("appeal", complaint_appeal(f.db, &f.maker_admin, b, &out, &err), &err, CF_OK,
			 NULL, NULL);
	json_decref(b);
	char id[37];
	snprintf(id, sizeof id, "%s", jsonx_str(out, "id"));
	ck_assert_str_eq(jsonx_str(out, "subject"), "withdrawal");
	json_decref(out);
	coreworld_refused(decide(&certifier3, id, "{\"outcome\":\"upheld\",\"rationale\":\"r\"}", &out,
				 &err), &err, CF_EFORBIDDEN, "", "changed its status");
	/* certifier2 suspended it (the upheld complaint): involved too */
	coreworld_refused(decide(&certifier2, id, "{\"outcome\":\"upheld\",\"rationale\":\"r\"}", &out,
				 &err), &err, CF_EFORBIDDEN, "", "changed its status");
	struct principal certifier4;
	coreworld_person(&f, &f.body_admin, "certifier", "Cal Certifier", &certifier4);
	coreworld_expect("decide", decide(&certifier4, id, "{\"outcome\":\"upheld\",\"rationale\":"
					  "\"The withdrawal lacked grounds.\"}", &out, &err), &err, CF_OK,
			 NULL, NULL);
	json_decref(out);
}
END_TEST

START_TEST(complaints_about_a_body_pages_and_overdue)
{
	struct cf_error err;
	json_t *out = NULL;
	/* what is lodged is checked */
	const char *bad[][4] = {
		{ "{\"text\":\"x\"}", "", "either" },
		{ "{\"certificate\":\"CF-2026-000999\",\"body_id\":\"x\",\"text\":\"x\"}", "", "either" },
		{ "{\"certificate\":\"CF-2026-999999\",\"text\":\"x\"}", "/certificate", "no certificate" },
		{ "{\"body_id\":\"00000000-0000-4000-8000-000000000000\",\"text\":\"x\"}", "/body_id",
		  "no assessment body" },
		{ "{\"body_id\":\"nope\",\"text\":\"x\"}", "/body_id", "organisation id" },
		{ "{\"certificate\":\"CF-2026-000001\"}", "/text", NULL },
		{ "{\"certificate\":\"CF-2026-000001\",\"text\":\"x\",\"name\":\"x\"}", "/name", NULL },
	};
	const enum cf_code codes[] = { CF_EINVAL, CF_EINVAL, CF_EUNPROCESSABLE, CF_EUNPROCESSABLE,
				       CF_EINVAL, CF_EINVAL, CF_EINVAL };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *b = coreworld_json(bad[i][0]);
		cf_err e = complaint_lodge(f.db, &public_actor, b, &out, &err);
		coreworld_expect(bad[i][0], e, &err, codes[i], bad[i][1][0] ? bad[i][1] : NULL, bad[i][2]);
		json_decref(b);
	}
	char big[COMPLAINT_TEXT_MAX + 64];
	int n = snprintf(big, sizeof big, "{\"body_id\":\"%s\",\"text\":\"", f.body);
	memset(big + n, 'a', COMPLAINT_TEXT_MAX + 1);
	snprintf(big + n + COMPLAINT_TEXT_MAX + 1, sizeof big - (size_t)n - COMPLAINT_TEXT_MAX - 1, "\"}");
	json_t *b = coreworld_json(big);
	coreworld_refused(complaint_lodge(f.db, &public_actor, b, &out, &err), &err, CF_EINVAL, "/text",
			  NULL);
	json_decref(b);

	/* about the body: nobody was involved, the demo's certifier decides */
	char body[160], id[37];
	snprintf(body, sizeof body, "{\"body_id\":\"%s\",\"text\":\"Nobody answers the phone.\"}", f.body);
	lodge(body, id, NULL);
	coreworld_expect("decide", decide(&f.certifier, id, "{\"outcome\":\"dismissed\",\"rationale\":"
					  "\"It does.\"}", &out, &err), &err, CF_OK, NULL, NULL);
	json_decref(out);

	/* one lodged long ago and still open is overdue */
	const char *bp[] = { f.body };
	char old[37];
	coreworld_value(&f, old, sizeof old,
		"INSERT INTO complaint_case (reference, kind, subject, body_id, text, lodged_at, due_at)"
		" VALUES ('CMP-0VERDVE000', 'complaint', 'body', $1, 'old', now() - interval '90 days',"
		" now() - interval '30 days') RETURNING id", 1, bp);
	struct complaint_query q = { NULL, "overdue" };
	struct page page = { .limit = 50, .after = 0 };
	coreworld_expect("overdue", complaint_list(f.db, &f.body_admin, &q, &page, &out, &err), &err,
			 CF_OK, NULL, NULL);
	json_t *items = json_object_get(out, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_str_eq(jsonx_str(json_array_get(items, 0), "id"), old);
	ck_assert(json_is_true(json_object_get(json_array_get(items, 0), "overdue")));
	json_decref(out);

	/* every case of the body, a page of two at a time */
	q.state = NULL;
	long long total = coreworld_count(&f, "SELECT count(*) FROM complaint_case WHERE body_id = $1",
					  f.body);
	long long seen = 0;
	page.limit = 2;
	for (;;) {
		coreworld_expect("list", complaint_list(f.db, &f.assessor, &q, &page, &out, &err), &err,
				 CF_OK, NULL, NULL);
		seen += (long long)json_array_size(json_object_get(out, "items"));
		json_t *next = json_object_get(out, "next");
		bool more = json_is_integer(next);
		if (more)
			page.after = json_integer_value(next);
		json_decref(out);
		if (!more)
			break;
	}
	ck_assert_int_eq(seen, total);
	ck_assert_int_ge(total, 5);
	q.kind = "appeal";
	page.limit = 50;
	page.after = 0;
	coreworld_expect("appeals", complaint_list(f.db, &f.assessor, &q, &page, &out, &err), &err,
			 CF_OK, NULL, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(out, "items")), 2);
	json_decref(out);
	q.kind = "grievance";
	coreworld_refused(complaint_list(f.db, &f.assessor, &q, &page, &out, &err), &err, CF_EINVAL, "",
			  "kind must be");
	/* a manufacturer's person sees no body's cases */
	q.kind = NULL;
	coreworld_expect("maker", complaint_list(f.db, &f.applicant, &q, &page, &out, &err), &err,
			 CF_OK, NULL, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("complaint");
	TCase *tc = tcase_create("complaint");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_upheld_complaint_suspends_the_certificate_in_its_decision);
	tcase_add_test(tc, a_failed_suspension_leaves_the_complaint_undecided);
	tcase_add_test(tc, the_database_refuses_a_decider_who_was_involved);
	tcase_add_test(tc, a_refusal_is_appealed_by_its_manufacturer);
	tcase_add_test(tc, a_withdrawal_is_appealed_and_not_decided_by_who_withdrew);
	tcase_add_test(tc, complaints_about_a_body_pages_and_overdue);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
