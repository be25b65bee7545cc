/*
 * Unit tests of core/accreditation.c against the suite's database: what a
 * grant must state (field by field, nothing written on refusal), who grants,
 * cover by scheme version, class and time, the event history as a state
 * machine, scheduled events, and what a suspension does to the certificates
 * issued before it (a review, logged).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accreditation.h"
#include "certificate.h"
#include "coreworld.h"
#include "jsonx.h"
#include "tsupport.h"

static struct coreworld f;
static int refs;

static void setup(void)
{
	coreworld_open(&f, "accreditation");
	coreworld_demo(&f);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

/* A date offset_days from today (UTC), as "YYYY-MM-DD". */
static void day(char out[16], int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* An RFC 3339 time offset_seconds from now. */
static void moment(char out[32], long offset_seconds)
{
	time_t t = time(NULL) + offset_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A grant's body at class 0 (new reference); from and until NULL: from
 * today for 30 days. */
static json_t *grant_body(const char *body_id, const char *scheme, const char *reference,
			  const char *from, const char *until)
{
	char d0[16], d1[16];
	day(d0, 0);
	day(d1, 30);
	return json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", body_id, "scheme_id", scheme, "max_class",
			 0, "reference", reference, "valid_from", from ? from : d0, "valid_until",
			 until ? until : d1);
}

static long long count(const char *sql)
{
	char v[24];
	coreworld_value(&f, v, sizeof v, sql, 0, NULL);
	return atoll(v);
}

/* Grants as the demo's accreditor; extra is more members ("" or ",..."). */
static cf_err grant(const char *scheme, int max_class, const char *extra, json_t **out,
		    struct cf_error *err)
{
	char from[16], until[16], text[512];
	day(from, -1);
	day(until, 700);
	snprintf(text, sizeof text,
		 "{\"body_id\":\"%s\",\"scheme_id\":\"%s\",\"max_class\":%d,\"reference\":\"UNIT-%d\","
		 "\"valid_from\":\"%s\",\"valid_until\":\"%s\"%s}",
		 f.certifier.org_id, scheme, max_class, ++refs, from, until, extra);
	json_t *body = coreworld_json(text);
	struct audit_actor by = party_actor(&f.accreditor);
	cf_err e = accreditation_grant(f.db, &by, body, out, err);
	json_decref(body);
	return e;
}

static void granted(const char *scheme, int max_class, const char *extra, char id[37])
{
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("grant", grant(scheme, max_class, extra, &out, &err), &err, CF_OK, NULL, NULL);
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	json_decref(out);
}

static cf_err change(const char *id, const char *action, const char *effective_at, json_t **out,
		     struct cf_error *err)
{
	json_t *body = json_pack("{s:s}", "reason", "a unit test");
	if (effective_at)
		json_object_set_new(body, "effective_at", json_string(effective_at));
	struct audit_actor by = party_actor(&f.accreditor);
	cf_err e = accreditation_change(f.db, &by, id, action, body, out, err);
	json_decref(body);
	return e;
}

static bool covers(const char *scheme, const char *version, int class_number, const char *at)
{
	bool yes = false;
	struct cf_error err;
	cf_err e = accreditation_covers(f.db, f.certifier.org_id, scheme, version, class_number, at, &yes,
					&err);
	ck_assert_msg(e == CF_OK, "%s", err.detail);
	return yes;
}

static const struct {
	const char *scheme, *extra, *pointer;
	int max_class;
	cf_err code;
} bad_grants[] = {
	{ "no-such-scheme", "", "/scheme_id", 0, CF_EUNPROCESSABLE },
	{ "dcms-cop", "", "/max_class", 1, CF_EUNPROCESSABLE },  /* DCMS has no classes */
	{ "iotsf-cf", "", "/max_class", 10, CF_EINVAL },
	{ "iotsf-cf", ",\"versions\":{\"from\":\"3.0\",\"to\":\"2.0\"}", "/versions/to", 0, CF_EINVAL },
	{ "iotsf-cf", ",\"versions\":{\"since\":\"2.0\"}", NULL, 0, CF_EINVAL },
	{ "iotsf-cf", ",\"note\":\"x\"", NULL, 0, CF_EINVAL },
};

START_TEST(a_grant_is_refused_field_by_field_and_nothing_is_written)
{
	long long before = count("SELECT count(*) FROM accreditation");
	for (size_t i = 0; i < sizeof bad_grants / sizeof bad_grants[0]; i++) {
		json_t *out = NULL;
		struct cf_error err;
		cf_err e = grant(bad_grants[i].scheme, bad_grants[i].max_class, bad_grants[i].extra, &out, &err);
		coreworld_expect(bad_grants[i].extra[0] ? bad_grants[i].extra : bad_grants[i].scheme, e, &err,
				 bad_grants[i].code, bad_grants[i].pointer, NULL);
		ck_assert_ptr_null(out);
	}
	/* dates: the end after the start, and a cycle of at most five years */
	struct audit_actor by = party_actor(&f.accreditor);
	static const struct {
		const char *from, *until, *part;
	} dates[] = {
		{ "2026-01-01", "2025-12-31", "after valid_from" },
		{ "2026-01-01", "2026-01-01", "after valid_from" },
		{ "2026-01-01", "2031-01-02", "five years" },
		{ "2026-01-01", "tomorrow", NULL },
	};
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		json_t *body = grant_body(f.certifier.org_id, "iotsf-cf", "DATES", dates[i].from,
					  dates[i].until);
		json_t *out = NULL;
		struct cf_error err;
		coreworld_expect(dates[i].until, accreditation_grant(f.db, &by, body, &out, &err), &err,
				 CF_EINVAL, "/valid_until", dates[i].part);
		json_decref(body);
	}
	/* five years to the day is a full cycle, and allowed */
	json_t *body = grant_body(f.certifier.org_id, "iotsf-cf", "FIVE-YEARS", "2026-01-01", "2031-01-01");
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("five years", accreditation_grant(f.db, &by, body, &out, &err), &err, CF_OK, NULL,
			 NULL);
	json_decref(out);
	json_decref(body);
	ck_assert_int_eq(count("SELECT count(*) FROM accreditation"), before + 1);
}
END_TEST

START_TEST(only_an_accreditation_body_grants_and_only_to_an_assessment_body)
{
	json_t *to_body = grant_body(f.certifier.org_id, "iotsf-cf", "WHO", NULL, NULL);
	json_t *to_maker = grant_body(f.applicant.org_id, "iotsf-cf", "WHO", NULL, NULL);
	json_t *out = NULL;
	struct cf_error err;
	struct audit_actor body_admin = party_actor(&f.body_admin);
	coreworld_expect("a body for itself", accreditation_grant(f.db, &body_admin, to_body, &out, &err),
			 &err, CF_EFORBIDDEN, NULL, "accreditation body");
	coreworld_expect("conformctl", accreditation_grant(f.db, &f.cli, to_body, &out, &err), &err,
			 CF_EFORBIDDEN, NULL, NULL);
	struct audit_actor accreditor = party_actor(&f.accreditor);
	coreworld_expect("a manufacturer", accreditation_grant(f.db, &accreditor, to_maker, &out, &err), &err,
			 CF_EUNPROCESSABLE, "/body_id", "not an assessment body");
	json_object_set_new(to_body, "body_id", json_string("not-an-id"));
	coreworld_expect("not an id", accreditation_grant(f.db, &accreditor, to_body, &out, &err), &err,
			 CF_EINVAL, "/body_id", NULL);
	json_decref(to_body);
	json_decref(to_maker);
}
END_TEST

START_TEST(a_reference_is_used_once_by_its_accreditor)
{
	json_t *body = grant_body(f.certifier.org_id, "uk-psti", "ONCE", NULL, NULL);
	json_t *out = NULL;
	struct audit_actor by = party_actor(&f.accreditor);
	struct cf_error err;
	coreworld_expect("first", accreditation_grant(f.db, &by, body, &out, &err), &err, CF_OK, NULL, NULL);
	json_decref(out);
	coreworld_expect("again", accreditation_grant(f.db, &by, body, &out, &err), &err, CF_ECONFLICT,
			 "/reference", "ONCE");
	json_decref(body);
}
END_TEST

START_TEST(a_grant_reads_back_with_its_history_grantor_and_directory_entry)
{
	char id[37];
	granted("iotsf-cf", 3, ",\"versions\":{\"from\":\"2.0\"}", id);
	json_t *a = NULL, *list = NULL, *dir = NULL;
	struct cf_error err;
	ck_assert(accreditation_get(f.db, id, &a, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(a, "status"), "active");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "max_class")), 3);
	ck_assert_str_eq(jsonx_str(json_object_get(a, "versions"), "from"), "2.0");
	ck_assert(json_is_null(json_object_get(json_object_get(a, "versions"), "to")));
	json_t *history = json_object_get(a, "history");
	ck_assert_uint_eq(json_array_size(history), 1);
	ck_assert_str_eq(jsonx_str(json_array_get(history, 0), "action"), "granted");
	json_decref(a);
	char org[37];
	ck_assert(accreditation_grantor(f.db, id, org, &err) == CF_OK);
	ck_assert_str_eq(org, f.accreditor.org_id);
	coreworld_expect("grantor of nothing", accreditation_grantor(f.db, "00000000-0000-4000-8000-000000000000",
								    org, &err), &err, CF_ENOTFOUND, NULL, NULL);
	coreworld_expect("get nothing", accreditation_get(f.db, "nope", &a, &err), &err, CF_ENOTFOUND, NULL,
			 NULL);
	ck_assert(accreditation_list(f.db, f.accreditor.org_id, f.certifier.org_id, "iotsf-cf", &list,
				     &err) == CF_OK);
	bool listed = false;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(list, "items"), i, item) {
		listed = listed || strcmp(jsonx_str(item, "id"), id) == 0;
		ck_assert_str_eq(jsonx_str(item, "scheme_id"), "iotsf-cf");
	}
	ck_assert(listed);
	json_decref(list);
	ck_assert(accreditation_list(f.db, f.body_admin.org_id, NULL, NULL, &list, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 0); /* a body grants nothing */
	json_decref(list);
	ck_assert(accreditation_body(f.db, f.certifier.org_id, &dir, &err) == CF_OK);
	listed = false;
	json_array_foreach(json_object_get(dir, "accreditations"), i, item)
		listed = listed || strcmp(jsonx_str(item, "id"), id) == 0;
	ck_assert_msg(listed, "the body's directory entry does not list %s", id);
	json_decref(dir);
	/* the directory lists the body, with only what is active now */
	ck_assert(accreditation_bodies(f.db, &dir, &err) == CF_OK);
	listed = false;
	json_t *b;
	json_array_foreach(json_object_get(dir, "items"), i, b) {
		if (strcmp(jsonx_str(b, "id"), f.certifier.org_id) != 0)
			continue;
		size_t k;
		json_array_foreach(json_object_get(b, "accreditations"), k, item) {
			ck_assert_str_eq(jsonx_str(item, "status"), "active");
			listed = listed || strcmp(jsonx_str(item, "id"), id) == 0;
		}
	}
	ck_assert(listed);
	json_decref(dir);
	coreworld_expect("a manufacturer is no body", accreditation_body(f.db, f.applicant.org_id, &dir, &err),
			 &err, CF_ENOTFOUND, NULL, NULL);
}
END_TEST

START_TEST(cover_follows_versions_classes_and_time)
{
	char id[37], before[32], long_after[32];
	granted("etsi-en-303-645", 0, ",\"versions\":{\"from\":\"2.1.1\",\"to\":\"2.1.1\"}", id);
	moment(before, -3 * 86400);
	moment(long_after, 800L * 86400);
	ck_assert(covers("etsi-en-303-645", "2.1.1", 0, NULL));
	ck_assert(!covers("etsi-en-303-645", "2.1.1", 1, NULL));     /* above its class */
	ck_assert(!covers("etsi-en-303-645", "2.1.2", 0, NULL));     /* past versions.to */
	ck_assert(!covers("etsi-en-303-645", "2.1.0", 0, NULL));     /* before versions.from */
	ck_assert(!covers("etsi-en-303-645", "2.1.1", 0, before));   /* before valid_from */
	ck_assert(!covers("etsi-en-303-645", "2.1.1", 0, long_after)); /* after valid_until */
	ck_assert(!covers("uk-psti-unknown", "2023", 0, NULL));
	json_t *out = NULL;
	struct cf_error err;
	ck_assert(change(id, "suspend", NULL, &out, &err) == CF_OK);
	json_decref(out);
	ck_assert(!covers("etsi-en-303-645", "2.1.1", 0, NULL));
	ck_assert(change(id, "reinstate", NULL, &out, &err) == CF_OK);
	json_decref(out);
	ck_assert(covers("etsi-en-303-645", "2.1.1", 0, NULL));
	/* the database's own function answers the same */
	const char *p[] = { f.certifier.org_id };
	char v[8];
	coreworld_value(&f, v, sizeof v,
			"SELECT conform_covers($1, 'etsi-en-303-645', '2.1.1', 0, now())::text", 1, p);
	ck_assert_str_eq(v, "true");
	coreworld_value(&f, v, sizeof v,
			"SELECT conform_covers($1, 'etsi-en-303-645', '2.1.10', 0, now())::text", 1, p);
	ck_assert_str_eq(v, "false"); /* 2.1.10 comes after 2.1.1, numerically */
}
END_TEST

START_TEST(events_follow_the_state_machine_and_withdrawal_is_final)
{
	char id[37];
	granted("iotsf-cf", 1, "", id);
	static const struct {
		const char *action, *status;
		cf_err code;
		const char *state; /* the last event named in a refusal */
	} steps[] = {
		{ "reinstate", NULL, CF_ESTATE, "granted" },
		{ "suspend", "suspended", CF_OK, NULL },
		{ "suspend", NULL, CF_ESTATE, "suspended" },
		{ "reinstate", "active", CF_OK, NULL },
		{ "reinstate", NULL, CF_ESTATE, "reinstated" },
		{ "suspend", "suspended", CF_OK, NULL },
		{ "withdraw", "withdrawn", CF_OK, NULL },
		{ "reinstate", NULL, CF_ESTATE, "withdrawn" },
		{ "suspend", NULL, CF_ESTATE, "withdrawn" },
		{ "withdraw", NULL, CF_ESTATE, "withdrawn" },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		json_t *out = NULL;
		struct cf_error err = { 0 };
		cf_err e = change(id, steps[i].action, NULL, &out, &err);
		coreworld_expect(steps[i].action, e, &err, steps[i].code, NULL, NULL);
		if (steps[i].status)
			ck_assert_str_eq(jsonx_str(out, "status"), steps[i].status);
		else
			ck_assert_msg(strstr(err.extra, steps[i].state) != NULL, "step %zu: %s", i, err.extra);
		json_decref(out);
	}
	/* four events recorded, each logged as a review and audited */
	const char *p[] = { id };
	char v[24];
	coreworld_value(&f, v, sizeof v, "SELECT count(*) FROM accreditation_event WHERE accreditation_id = $1",
			1, p);
	ck_assert_str_eq(v, "5");
	coreworld_value(&f, v, sizeof v, "SELECT count(*) FROM tlog_entry WHERE kind = 'review' AND serial = $1",
			1, p);
	ck_assert_str_eq(v, "4");
	coreworld_value(&f, v, sizeof v, "SELECT count(*) FROM audit_log WHERE object_id = $1", 1, p);
	ck_assert_str_eq(v, "5");
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("unknown action", change(id, "pause", NULL, &out, &err), &err, CF_ESTATE, NULL, NULL);
	coreworld_expect("no such accreditation", change("00000000-0000-4000-8000-000000000000", "suspend", NULL,
							 &out, &err), &err, CF_ENOTFOUND, NULL, NULL);
}
END_TEST

START_TEST(a_scheduled_suspension_waits_and_history_is_never_rewritten)
{
	char id[37], soon[32], later[32], past[32];
	granted("iotsf-cf", 4, ",\"versions\":{\"to\":\"2.0\"}", id);
	moment(soon, 10 * 86400);
	moment(later, 20 * 86400);
	moment(past, -3600);
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("in the past", change(id, "suspend", past, &out, &err), &err, CF_EINVAL, "/effective_at",
			 "past");
	coreworld_expect("scheduled", change(id, "suspend", later, &out, &err), &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(jsonx_str(out, "status"), "active"); /* not yet */
	json_decref(out);
	/* class 4: no other accreditation of the suite's body reaches it */
	ck_assert(covers("iotsf-cf", "2.0", 4, NULL));
	ck_assert(!covers("iotsf-cf", "2.0", 4, later));
	/* what follows is decided by the last event, scheduled ones included, and
	 * never placed before it */
	coreworld_expect("before the last", change(id, "reinstate", soon, &out, &err), &err, CF_EINVAL,
			 "/effective_at", "last event");
	coreworld_expect("suspended twice", change(id, "suspend", NULL, &out, &err), &err, CF_ESTATE, NULL, NULL);
}
END_TEST

START_TEST(a_suspension_puts_earlier_certificates_under_review_until_reinstated)
{
	json_t *state = NULL, *out = NULL;
	struct cf_error err;
	ck_assert(certificate_state(f.db, f.serial, NULL, &state, &err) == CF_OK);
	ck_assert(json_is_null(json_object_get(state, "review")));
	json_decref(state);
	long long logged = count("SELECT count(*) FROM tlog_entry");
	coreworld_expect("suspend", change(f.accreditation, "suspend", NULL, &out, &err), &err, CF_OK, NULL, NULL);
	json_decref(out);
	ck_assert_int_eq(count("SELECT count(*) FROM tlog_entry"), logged + 1);
	ck_assert(certificate_state(f.db, f.serial, NULL, &state, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(state, "status"), "valid"); /* a review, not a withdrawal */
	ck_assert_str_eq(jsonx_str(json_object_get(state, "review"), "code"), "accreditation_suspended");
	json_decref(state);
	/* the demo's body no longer covers dcms-cop: nothing new is certified */
	ck_assert(!covers("dcms-cop", "2018", 0, NULL));
	coreworld_expect("reinstate", change(f.accreditation, "reinstate", NULL, &out, &err), &err, CF_OK, NULL,
			 NULL);
	json_decref(out);
	ck_assert(certificate_state(f.db, f.serial, NULL, &state, &err) == CF_OK);
	ck_assert(json_is_null(json_object_get(state, "review")));
	json_decref(state);
	ck_assert(covers("dcms-cop", "2018", 0, NULL));
	/* the feed carries both */
	const char *p[] = { f.accreditation };
	char v[96];
	coreworld_value(&f, v, sizeof v, "SELECT string_agg(type, ' ' ORDER BY idx) FROM feed_item"
			" WHERE accreditation_id = $1", 1, p);
	ck_assert_str_eq(v, "review.accreditation_suspended review.accreditation_reinstated");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accreditation");
	TCase *tc = tcase_create("accreditation");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_grant_is_refused_field_by_field_and_nothing_is_written);
	tcase_add_test(tc, only_an_accreditation_body_grants_and_only_to_an_assessment_body);
	tcase_add_test(tc, a_reference_is_used_once_by_its_accreditor);
	tcase_add_test(tc, a_grant_reads_back_with_its_history_grantor_and_directory_entry);
	tcase_add_test(tc, cover_follows_versions_classes_and_time);
	tcase_add_test(tc, events_follow_the_state_machine_and_withdrawal_is_final);
	tcase_add_test(tc, a_scheduled_suspension_waits_and_history_is_never_rewritten);
	tcase_add_test(tc, a_suspension_puts_earlier_certificates_under_review_until_reinstated);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
