/*
 * Unit tests of what the database itself refuses since migration 0026: the
 * values the C code knows as lists (reason codes, application actions and
 * states) agree with the database's, and each constraint refuses a row
 * that breaks it, by a direct INSERT or UPDATE, while the row that keeps it
 * goes through. Each statement runs in a transaction that is rolled back,
 * so the suite's one certificate (conformctl demo) serves every test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "certificate.h"
#include "coreworld.h"
#include "tsupport.h"

static struct coreworld f;
static char log_index[24];

static void setup(void)
{
	coreworld_open(&f, "constraints");
	coreworld_demo(&f);
	const char *s[] = { f.serial };
	coreworld_value(&f, log_index, sizeof log_index, "SELECT log_index FROM certificate WHERE serial = $1",
			1, s);
	ck_assert(log_index[0]);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

/*
 * Runs, as the role of url, in one transaction rolled back at the end:
 * prelude (statements without values, each must succeed), then sql with
 * params. refused_by NULL: sql must succeed; otherwise it must fail, and by
 * the constraint of that name (not by any other error).
 */
static void attempt(const char *url, const char *const *prelude, const char *sql, int n,
		    const char *const *params, const char *refused_by)
{
	PGconn *c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQclear(PQexec(c, "BEGIN"));
	for (const char *const *p = prelude; p && *p; p++) {
		PGresult *r = PQexec(c, *p);
		ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
			      "%s: %s", *p, PQerrorMessage(c));
		PQclear(r);
	}
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	const char *name = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	if (!refused_by)
		ck_assert_msg(ok, "refused: %s: %s", sql, PQerrorMessage(c));
	else {
		ck_assert_msg(!ok, "accepted, should be refused by %s: %s", refused_by, sql);
		ck_assert_msg(name && strcmp(name, refused_by) == 0, "refused by %s, not %s: %s",
			      name ? name : "no constraint", refused_by, PQerrorMessage(c));
	}
	PQclear(r);
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
}

static void as_app(const char *sql, int n, const char *const *params, const char *refused_by)
{
	attempt(f.tdb.app_url, NULL, sql, n, params, refused_by);
}

/* As the superuser with the certificate table's own triggers off: what the
 * foreign key alone refuses (the triggers of 0018 and 0019 refuse a wrong
 * log position before it, for every role but this one). */
static void bare_certificate(const char *sql, int n, const char *const *params, const char *refused_by)
{
	static const char *const prelude[] = { "ALTER TABLE certificate DISABLE TRIGGER USER", NULL };
	attempt(f.tdb.super_url, prelude, sql, n, params, refused_by);
}

static int rows(const char *sql)
{
	PGresult *r = testdb_super_exec(&f.tdb, sql);
	int n = PQntuples(r);
	PQclear(r);
	return n;
}

START_TEST(reason_codes_are_the_same_in_c_and_in_the_database)
{
	PGresult *r = testdb_super_exec(&f.tdb, "SELECT code FROM certificate_reason ORDER BY code");
	ck_assert_int_eq(PQntuples(r), 8);
	for (int i = 0; i < PQntuples(r); i++)
		ck_assert_msg(certificate_reason_known(PQgetvalue(r, i, 0)), "C does not know %s",
			      PQgetvalue(r, i, 0));
	PQclear(r);
	/* and the other way: the codes C lists in its refusal are the table's */
	json_t *body = coreworld_json("{\"reason_code\":\"bogus\",\"reason\":\"x\"}"), *out = NULL;
	struct cf_error err;
	cf_err e = certificate_change(f.db, &f.certifier, f.public_url, f.serial, "suspend", body, &out, &err);
	coreworld_expect("unknown code", e, &err, CF_EINVAL, "/reason_code", "nonconformity");
	json_decref(body);
	char *list = strstr(err.detail, "must be ") + 8;
	int listed = 0;
	for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (strcmp(t, "or") == 0)
			continue;
		const char *p[] = { t };
		char found[48];
		coreworld_value(&f, found, sizeof found, "SELECT code FROM certificate_reason WHERE code = $1",
				1, p);
		ck_assert_msg(found[0], "C accepts %s, the database does not", t);
		listed++;
	}
	ck_assert_int_eq(listed, 7);
	ck_assert(!certificate_reason_known("key_compromised")); /* shown, never stored */
	/* superseded: a code of the table and of C, which only supersession
	 * stores; a person's change is refused it, naming why */
	ck_assert(certificate_reason_known("superseded"));
	body = coreworld_json("{\"reason_code\":\"superseded\",\"reason\":\"x\"}");
	e = certificate_change(f.db, &f.certifier, f.public_url, f.serial, "withdraw", body, &out, &err);
	coreworld_expect("superseded by hand", e, &err, CF_EINVAL, "/reason_code", "only when a newer certificate");
	json_decref(body);
}
END_TEST

START_TEST(application_actions_are_the_transition_table_and_create)
{
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	int distinct = 1; /* create */
	for (size_t i = 0; i < n; i++) {
		const char *p[] = { t[i].action };
		char found[48];
		coreworld_value(&f, found, sizeof found,
				"SELECT action FROM application_action WHERE action = $1", 1, p);
		ck_assert_msg(found[0], "the database refuses the action %s", t[i].action);
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen = seen || strcmp(t[k].action, t[i].action) == 0;
		distinct += !seen;
	}
	ck_assert_int_eq(rows("SELECT 1 FROM application_action WHERE action = 'create'"), 1);
	ck_assert_int_eq(rows("SELECT 1 FROM application_action"), distinct);
	/* every event the demo's walk wrote names one of them */
	ck_assert_int_ge(rows("SELECT 1 FROM application_event"), 5);
}
END_TEST

#define EVENT_SQL                                                                                  \
	"INSERT INTO application_event (application_id, seq, action, from_state, to_state)"      \
	" VALUES ($1, 1000, $2, $3, $4)"

START_TEST(every_state_of_c_is_an_event_state_and_nothing_else)
{
	size_t n;
	const char *const *states = application_states(&n);
	for (size_t i = 0; i < n; i++) {
		const char *p[] = { f.application, "withdraw", states[i], states[i] };
		as_app(EVENT_SQL, 4, p, NULL);
	}
	const char *to[] = { f.application, "withdraw", "draft", "archived" };
	as_app(EVENT_SQL, 4, to, "application_event_states_check");
	const char *from[] = { f.application, "withdraw", "Draft", "withdrawn" };
	as_app(EVENT_SQL, 4, from, "application_event_states_check");
	const char *create[] = { f.application, "create", NULL, "draft" };
	as_app(EVENT_SQL, 4, create, NULL);
}
END_TEST

START_TEST(an_unknown_application_action_is_refused)
{
	const char *bad[] = { f.application, "approve", "evaluated", "decided" };
	as_app(EVENT_SQL, 4, bad, "application_event_action_fkey");
	const char *good[] = { f.application, "decide", "evaluated", "decided" };
	as_app(EVENT_SQL, 4, good, NULL);
}
END_TEST

START_TEST(a_certificate_status_reason_is_a_known_code)
{
	static const char sql[] = "UPDATE certificate SET status = 'suspended', status_reason_code = $2,"
				  " status_reason = 'x', status_changed_at = now() WHERE serial = $1";
	const char *bad[] = { f.serial, "because" };
	as_app(sql, 2, bad, "certificate_status_reason_code_fkey");
	const char *good[] = { f.serial, "nonconformity" };
	as_app(sql, 2, good, NULL);
}
END_TEST

#define CERT_EVENT_SQL                                                                             \
	"INSERT INTO certificate_event (serial, seq, action, reason_code, reason, log_index)"    \
	" VALUES ($1, 2, $2, $3, 'x', $4)"

START_TEST(a_certificate_event_reason_is_a_known_code)
{
	const char *bad[] = { f.serial, "suspended", "because", log_index };
	as_app(CERT_EVENT_SQL, 4, bad, "certificate_event_reason_code_fkey");
	const char *good[] = { f.serial, "suspended", "other", log_index };
	as_app(CERT_EVENT_SQL, 4, good, NULL);
}
END_TEST

START_TEST(a_status_change_has_a_reason_code_and_an_issuance_none)
{
	const char *change[] = { f.serial, "withdrawn", NULL, log_index };
	as_app(CERT_EVENT_SQL, 4, change, "certificate_event_reason_with_change");
	const char *issue[] = { f.serial, "issued", "other", log_index };
	as_app(CERT_EVENT_SQL, 4, issue, "certificate_event_reason_with_change");
	const char *plain[] = { f.serial, "issued", NULL, log_index };
	as_app(CERT_EVENT_SQL, 4, plain, NULL);
}
END_TEST

/* 0028: a superseded certificate names its successor, and only it does */
START_TEST(a_certificate_names_its_successor_exactly_when_superseded)
{
	static const char sql[] = "UPDATE certificate SET status = $2, superseded_by = $3,"
				  " status_reason_code = 'superseded', status_reason = 'x',"
				  " status_changed_at = now() WHERE serial = $1";
	const char *unnamed[] = { f.serial, "superseded", NULL };
	as_app(sql, 3, unnamed, "certificate_superseded_by_check");
	const char *itself[] = { f.serial, "superseded", f.serial };
	as_app(sql, 3, itself, "certificate_superseded_by_check");
	const char *named[] = { f.serial, "withdrawn", f.serial };
	as_app(sql, 3, named, "certificate_superseded_by_check");
	const char *unknown[] = { f.serial, "superseded", "CF-2099-999999" };
	as_app(sql, 3, unknown, "certificate_superseded_by_fkey");
	const char *bogus[] = { f.serial, "replaced", NULL };
	as_app(sql, 3, bogus, "certificate_status_check");
	/* its event, with the code only supersession uses */
	const char *event[] = { f.serial, "superseded", "superseded", log_index };
	as_app(CERT_EVENT_SQL, 4, event, NULL);
}
END_TEST

START_TEST(a_certificate_event_names_an_entry_of_the_log)
{
	const char *bad[] = { f.serial, "suspended", "other", "999999" };
	as_app(CERT_EVENT_SQL, 4, bad, "certificate_event_log_index_fkey");
}
END_TEST

START_TEST(a_certificate_names_an_entry_of_the_log)
{
	static const char sql[] = "UPDATE certificate SET log_index = $2 WHERE serial = $1";
	const char *bad[] = { f.serial, "999999" };
	bare_certificate(sql, 2, bad, "certificate_log_index_fkey");
	const char *same[] = { f.serial, log_index };
	bare_certificate(sql, 2, same, NULL);
}
END_TEST

START_TEST(a_certificate_names_an_imported_scheme_version)
{
	static const char sql[] = "UPDATE certificate SET scheme_id = $2, scheme_version = $3 WHERE serial = $1";
	const char *version[] = { f.serial, "dcms-cop", "1999" };
	bare_certificate(sql, 3, version, "certificate_scheme_version_fkey");
	const char *scheme[] = { f.serial, "no-such-scheme", "2018" };
	bare_certificate(sql, 3, scheme, "certificate_scheme_version_fkey");
	const char *other[] = { f.serial, "iotsf-cf", "2.0" };
	bare_certificate(sql, 3, other, NULL);
}
END_TEST

/* A status entry appended to the log as core/certificate.c does; the
 * trigger of 0022 makes its feed item from it. */
#define LOG_SQL                                                                                    \
	"INSERT INTO tlog_entry (idx, entry, leaf_hash, kind, serial)"                           \
	" SELECT max(idx) + 1, json_build_object('kind', 'status', 'serial', $1::text, 'status',"  \
	" 'suspended', 'reason_code', $2::text, 'at', '2026-01-01T00:00:00Z')::text,"           \
	" repeat('0', 64), 'status', $1 FROM tlog_entry"

START_TEST(a_feed_item_reason_is_a_known_code)
{
	const char *bad[] = { f.serial, "because" };
	as_app(LOG_SQL, 2, bad, "feed_item_reason_code_fkey");
	const char *good[] = { f.serial, "product_change" };
	as_app(LOG_SQL, 2, good, NULL);
}
END_TEST

START_TEST(a_webhook_delivery_has_a_type_of_the_feed)
{
	const char *p[] = { f.admin.org_id };
	char sub[37];
	coreworld_value(&f, sub, sizeof sub,
			"INSERT INTO webhook_subscription (org_id, url, secret) VALUES ($1,"
		      " 'https://hooks.example.org/in', 'whsec_AAAA') RETURNING id", 1, p);
	static const char sql[] = "INSERT INTO webhook_delivery (id, subscription_id, log_index, type, payload)"
				  " VALUES ('msg_' || repeat('a', 32), $1, $2, $3, '{}')";
	const char *bad[] = { sub, log_index, "certificate.renewed" };
	as_app(sql, 3, bad, "webhook_delivery_type_check");
	/* every type feed_item allows, the delivery allows */
	PGresult *r = testdb_super_exec(&f.tdb,
		"SELECT unnest(regexp_matches(pg_get_constraintdef(oid), '''([a-z_.]+)''', 'g'))"
		" FROM pg_constraint WHERE conname = 'feed_item_type_check'");
	ck_assert_int_eq(PQntuples(r), 9);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *good[] = { sub, log_index, PQgetvalue(r, i, 0) };
		as_app(sql, 3, good, NULL);
	}
	PQclear(r);
}
END_TEST

START_TEST(the_lookup_tables_are_read_only_to_conformd)
{
	const char *p[] = { "made_up" };
	PGresult *r = testdb_app_query(&f.tdb, "INSERT INTO certificate_reason VALUES ($1, 'x')", 1, p);
	ck_assert_int_ne(PQresultStatus(r), PGRES_COMMAND_OK);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(r), "permission denied"));
	PQclear(r);
	r = testdb_app_query(&f.tdb, "INSERT INTO application_action VALUES ($1)", 1, p);
	ck_assert_int_ne(PQresultStatus(r), PGRES_COMMAND_OK);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(r), "permission denied"));
	PQclear(r);
	r = testdb_app_query(&f.tdb, "SELECT count(*) FROM certificate_reason, application_action", 0, NULL);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("constraints");
	TCase *tc = tcase_create("constraints");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reason_codes_are_the_same_in_c_and_in_the_database);
	tcase_add_test(tc, application_actions_are_the_transition_table_and_create);
	tcase_add_test(tc, every_state_of_c_is_an_event_state_and_nothing_else);
	tcase_add_test(tc, an_unknown_application_action_is_refused);
	tcase_add_test(tc, a_certificate_status_reason_is_a_known_code);
	tcase_add_test(tc, a_certificate_event_reason_is_a_known_code);
	tcase_add_test(tc, a_status_change_has_a_reason_code_and_an_issuance_none);
	tcase_add_test(tc, a_certificate_names_its_successor_exactly_when_superseded);
	tcase_add_test(tc, a_certificate_event_names_an_entry_of_the_log);
	tcase_add_test(tc, a_certificate_names_an_entry_of_the_log);
	tcase_add_test(tc, a_certificate_names_an_imported_scheme_version);
	tcase_add_test(tc, a_feed_item_reason_is_a_known_code);
	tcase_add_test(tc, a_webhook_delivery_has_a_type_of_the_feed);
	tcase_add_test(tc, the_lookup_tables_are_read_only_to_conformd);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
