/*
 * Unit tests of core/idempotency against the suite's throwaway database,
 * with no HTTP: idempotency_run (a repeat gives the first answer and runs
 * nothing, another fingerprint is refused, a failure records nothing, old
 * keys are forgotten, two runs of one key at once create once, a deadlock
 * is retried) and idempotency_recall/record beneath it. The creation is a
 * real one: an organisation, with its audit record.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "idempotency.h"
#include "jsonx.h"
#include "mem.h"
#include "party.h"
#include "testdb.h"
#include "tsupport.h"

static struct testdb tdb;
static struct db *db;
static char user[37];   /* the scheme owner's admin: keys are a user's own */
static const struct audit_actor cli = { "cli", "unit-test", NULL };

/* Two fingerprints (SHA-256 hex, as the table insists). */
#define FP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct db *connect_app(void)
{
	struct db *d = NULL;
	struct cf_error err;
	ck_assert_msg(db_connect(tdb.app_url, &d, &err) == CF_OK, "%s", err.detail);
	return d;
}

static long long super_count(const char *sql, const char *param)
{
	const char *p[] = { param };
	PGresult *r = testdb_super_query(&tdb, sql, param ? 1 : 0, p);
	long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

static long long orgs_named(const char *name)
{
	return super_count("SELECT count(*) FROM organisation WHERE name = $1", name);
}

static long long keys_recorded(const char *key)
{
	return super_count("SELECT count(*) FROM idempotency_key WHERE key = $1", key);
}

static void setup(void)
{
	testdb_create(&tdb, "unit_idempotency");
	db = connect_app();
	json_t *org = json_pack("{s:s,s:s,s:{s:s}}", "name", "Owner", "country", "GB", "contact",
				"email", "owner@example.org");
	json_t *admin = json_pack("{s:s,s:s}", "name", "Ada", "email", "ada@example.org");
	json_t *out = NULL;
	struct cf_error err;
	ck_assert_msg(party_bootstrap(db, &cli, org, admin, &out, &err) == CF_OK, "%s", err.detail);
	snprintf(user, sizeof user, "%s", jsonx_str(json_object_get(out, "user"), "id"));
	ck_assert_int_eq(strlen(user), 36);
	json_decref(org);
	json_decref(admin);
	json_decref(out);
}

static void teardown(void)
{
	db_close(db);
	db = NULL;
	testdb_drop(&tdb);
}

/* The creation: an organisation named name (an accreditation body), with a
 * Location header; fail_after makes it fail once the organisation is made,
 * as a creation whose last step is refused. */
struct make {
	const char *name;
	bool fail_after;
	atomic_int calls;
	/* concurrency and deadlock tests */
	const char *lock_sql;       /* run first, on every attempt */
	const char *first_only_sql; /* run on the first attempt only, after lock_sql */
	atomic_bool entered;        /* set once the first attempt is in the creation */
	atomic_bool go;             /* the first attempt goes on once set */
};

static cf_err make_org(struct db *d, void *arg, json_t **answer, json_t **headers,
		       struct cf_error *err)
{
	struct make *m = arg;
	int call = atomic_fetch_add(&m->calls, 1) + 1;
	cf_err e = CF_OK;
	if (m->lock_sql)
		e = db_query(d, NULL, err, m->lock_sql, 0, NULL);
	if (!e && call == 1) {
		atomic_store(&m->entered, true);
		while (!atomic_load(&m->go))
			usleep(10000);
		if (m->first_only_sql)
			e = db_query(d, NULL, err, m->first_only_sql, 0, NULL);
	}
	if (e)
		return e;
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s}}", "kind", "accreditation_body", "name", m->name,
				 "country", "GB", "contact", "email", "ab@example.org");
	e = party_org_create(d, &cli, body, answer, err);
	json_decref(body);
	if (!e && m->fail_after)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL, "refused after the creation");
	if (!e) {
		char *loc = cf_asprintf("/v1/organisations/%s", jsonx_str(*answer, "id"));
		*headers = json_pack("{s:s}", "Location", loc);
		free(loc);
	}
	return e;
}

static void make_init(struct make *m, const char *name)
{
	memset(m, 0, sizeof *m);
	m->name = name;
	atomic_store(&m->go, true);
}

struct outcome {
	cf_err e;
	struct cf_error err;
	json_t *answer, *headers;
	bool replayed;
};

static void run(struct db *d, const char *key, const char *fp, struct make *m, struct outcome *o)
{
	struct idempotency_key k = { user, key, fp };
	memset(o, 0, sizeof *o);
	o->e = idempotency_run(d, &k, make_org, m, &o->answer, &o->headers, &o->replayed, &o->err);
}

/* run on the suite's connection, which must succeed. */
static void run_ok(const char *key, const char *fp, struct make *m, struct outcome *o)
{
	run(db, key, fp, m, o);
	ck_assert_msg(o->e == CF_OK, "%s: %s", key, o->err.detail);
}

static void outcome_free(struct outcome *o)
{
	json_decref(o->answer);
	json_decref(o->headers);
	o->answer = o->headers = NULL;
}

START_TEST(a_repeat_gives_the_first_answer_and_creates_nothing)
{
	struct make m;
	make_init(&m, "Repeat Ltd");
	struct outcome first, again;
	run_ok("k-repeat", FP_A, &m, &first);
	ck_assert(!first.replayed);
	ck_assert_ptr_nonnull(jsonx_str(first.answer, "id"));
	ck_assert_int_eq(keys_recorded("k-repeat"), 1);

	run_ok("k-repeat", FP_A, &m, &again);
	ck_assert(again.replayed);
	ck_assert_int_eq(atomic_load(&m.calls), 1); /* the creation ran once */
	ck_assert_int_eq(orgs_named("Repeat Ltd"), 1);
	ck_assert_msg(json_equal(first.answer, again.answer), "the repeat answered something else");
	/* the headers come back as they were recorded */
	ck_assert(json_equal(first.headers, again.headers));
	char want[80];
	snprintf(want, sizeof want, "/v1/organisations/%s", jsonx_str(first.answer, "id"));
	ck_assert_str_eq(jsonx_str(again.headers, "Location"), want);
	/* one audit record: the one creation's */
	ck_assert_int_eq(super_count("SELECT count(*) FROM audit_log WHERE action = 'organisation.create'"
				     " AND object_id = $1", jsonx_str(first.answer, "id")),
			 1);
	outcome_free(&first);
	outcome_free(&again);
}
END_TEST

START_TEST(a_creation_without_headers_records_an_empty_object)
{
	/* recall and record directly: what run records is what recall gives */
	json_t *answer = json_pack("{s:s}", "id", "x"), *headers = json_object();
	json_t *got_h = NULL, *got_a = NULL;
	struct cf_error err;
	ck_assert(db_begin(db, DB_READ_COMMITTED, &err) == CF_OK);
	ck_assert(idempotency_recall(db, user, "k-direct", FP_A, &got_h, &got_a, &err) == CF_OK);
	ck_assert_ptr_null(got_a);
	ck_assert_ptr_null(got_h);
	ck_assert_msg(idempotency_record(db, user, "k-direct", FP_A, headers, answer, &err) == CF_OK, "%s",
		      err.detail);
	ck_assert(db_commit(db, &err) == CF_OK);
	ck_assert(db_begin(db, DB_READ_COMMITTED, &err) == CF_OK);
	ck_assert(idempotency_recall(db, user, "k-direct", FP_A, &got_h, &got_a, &err) == CF_OK);
	db_rollback(db);
	ck_assert(json_equal(got_a, answer));
	ck_assert(json_is_object(got_h) && json_object_size(got_h) == 0);
	json_decref(got_a);
	json_decref(got_h);
	json_decref(answer);
	json_decref(headers);
}
END_TEST

START_TEST(another_fingerprint_is_refused)
{
	struct make m;
	make_init(&m, "Fingerprint Ltd");
	struct outcome first, other;
	run_ok("k-fp", FP_A, &m, &first);
	run(db, "k-fp", FP_B, &m, &other);
	ck_assert_int_eq(other.e, CF_EUNPROCESSABLE);
	ck_assert_msg(strstr(other.err.detail, "used for a different request"), "%s", other.err.detail);
	ck_assert_ptr_null(other.answer);
	ck_assert_ptr_null(other.headers);
	ck_assert(!other.replayed);
	ck_assert_int_eq(atomic_load(&m.calls), 1);
	ck_assert_int_eq(orgs_named("Fingerprint Ltd"), 1);
	outcome_free(&first);
}
END_TEST

START_TEST(a_failure_is_not_recorded_and_a_repeat_tries_again)
{
	struct make m;
	make_init(&m, "Failure Ltd");
	m.fail_after = true;
	struct outcome failed, again;
	run(db, "k-fail", FP_A, &m, &failed);
	ck_assert_int_eq(failed.e, CF_EUNPROCESSABLE);
	ck_assert_str_eq(failed.err.detail, "refused after the creation");
	ck_assert_ptr_null(failed.answer); /* what the rolled back creation answered is dropped */
	ck_assert_ptr_null(failed.headers);
	ck_assert_int_eq(keys_recorded("k-fail"), 0);
	ck_assert_int_eq(orgs_named("Failure Ltd"), 0); /* the creation went with it */

	m.fail_after = false;
	run_ok("k-fail", FP_A, &m, &again);
	ck_assert(!again.replayed);
	ck_assert_int_eq(atomic_load(&m.calls), 2);
	ck_assert_int_eq(orgs_named("Failure Ltd"), 1);
	ck_assert_int_eq(keys_recorded("k-fail"), 1);
	outcome_free(&again);
}
END_TEST

START_TEST(a_refused_creation_is_not_recorded)
{
	/* the domain refuses the body itself: nothing recorded, the refusal
	 * named as the domain named it */
	struct make m;
	make_init(&m, "");
	struct outcome o;
	run(db, "k-invalid", FP_A, &m, &o);
	ck_assert_int_eq(o.e, CF_EINVAL);
	ck_assert_str_eq(o.err.pointer, "/name");
	ck_assert_int_eq(keys_recorded("k-invalid"), 0);
}
END_TEST

START_TEST(keys_older_than_a_day_are_forgotten)
{
	struct make m;
	make_init(&m, "Old Ltd");
	struct outcome first, later;
	run_ok("k-old", FP_A, &m, &first);
	const char *p[] = { "k-old" };
	PQclear(testdb_super_query(&tdb,
				   "UPDATE idempotency_key SET created_at = now() - interval '"
				   "25 hours' WHERE key = $1",
				   1, p));
	/* a day later the key is free again: another request may use it */
	run_ok("k-old", FP_B, &m, &later);
	ck_assert(!later.replayed);
	ck_assert_int_eq(atomic_load(&m.calls), 2);
	ck_assert_int_eq(orgs_named("Old Ltd"), 2);
	ck_assert_int_eq(keys_recorded("k-old"), 1);
	outcome_free(&first);
	outcome_free(&later);
}
END_TEST

/* Waits up to 30 s until a session of the suite's database waits for an
 * advisory lock: the test's lock objid (classid 4242), or any (NULL). False
 * when none showed up (no ck_assert: threads call it too). */
static bool lock_wait_seen(const char *objid)
{
	double deadline = tsupport_now() + 30;
	const char *sql =
		objid ? "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
			" AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
			" AND classid = 4242 AND objid = $1::oid"
		      : "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
			" AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
	while (super_count(sql, objid) < 1) {
		if (tsupport_now() > deadline)
			return false;
		usleep(20000);
	}
	return true;
}

struct runner {
	const char *key;
	struct make *m;
	struct outcome o;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	struct db *d = connect_app();
	run(d, r->key, FP_A, r->m, &r->o);
	db_close(d);
	return NULL;
}

START_TEST(two_runs_of_one_key_at_once_create_once)
{
	struct make m;
	make_init(&m, "Race Ltd");
	atomic_store(&m.go, false);
	struct runner a = { "k-race", &m, { 0 } }, b = { "k-race", &m, { 0 } };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, run_thread, &a);
	/* the first is inside its creation, holding the key's lock */
	double deadline = tsupport_now() + 30;
	while (!atomic_load(&m.entered)) {
		ck_assert_msg(tsupport_now() < deadline, "the first run never began its creation");
		usleep(10000);
	}
	pthread_create(&tb, NULL, run_thread, &b);
	/* the second waits for the key while the first has not committed */
	bool waits = lock_wait_seen(NULL);
	atomic_store(&m.go, true);
	if (!waits) {
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		ck_abort_msg("the second run never waited for the first");
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_msg(a.o.e == CF_OK, "%s", a.o.err.detail);
	ck_assert_msg(b.o.e == CF_OK, "%s", b.o.err.detail);
	ck_assert_int_eq(atomic_load(&m.calls), 1);
	ck_assert_int_eq(orgs_named("Race Ltd"), 1);
	ck_assert(!a.o.replayed);
	ck_assert(b.o.replayed);
	ck_assert(json_equal(a.o.answer, b.o.answer));
	outcome_free(&a.o);
	outcome_free(&b.o);
}
END_TEST

/* The other side of the deadlock: a superuser session (so that its
 * deadlock_timeout can be long, leaving the detection, and the abort, to
 * the creation) holds lock 2, then asks for lock 1 once the creation waits
 * for 2. */
struct other_side {
	atomic_bool holds;
	const char *error;
};

static void *other_side(void *arg)
{
	struct other_side *o = arg;
	PGconn *c = PQconnectdb(tdb.super_url);
	static const char *const steps[] = { "SET deadlock_timeout = '60s'", "BEGIN",
					     "SELECT pg_advisory_xact_lock(4242, 2)" };
	for (size_t i = 0; i < 3 && !o->error; i++) {
		PGresult *r = PQexec(c, steps[i]);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			o->error = "could not take lock 2";
		PQclear(r);
	}
	atomic_store(&o->holds, true);
	if (!o->error) {
		if (!lock_wait_seen("2")) /* the creation waits for lock 2 */
			o->error = "the creation never waited for lock 2";
	}
	if (!o->error) {
		PGresult *r = PQexec(c, "SELECT pg_advisory_xact_lock(4242, 1)");
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			o->error = "the other side was the one aborted";
		PQclear(r);
		PQclear(PQexec(c, "COMMIT"));
	}
	PQfinish(c);
	return NULL;
}

START_TEST(a_deadlock_is_retried)
{
	struct make m;
	make_init(&m, "Deadlock Ltd");
	/* every attempt takes lock 1; the first then asks for lock 2, which
	 * the other side holds while it waits for lock 1: a real deadlock,
	 * which PostgreSQL breaks by aborting the creation (40P01) */
	m.lock_sql = "SELECT pg_advisory_xact_lock(4242, 1)";
	m.first_only_sql = "SELECT pg_advisory_xact_lock(4242, 2)";
	struct other_side o = { 0 };
	pthread_t t;
	pthread_create(&t, NULL, other_side, &o);
	double deadline = tsupport_now() + 30;
	while (!atomic_load(&o.holds)) {
		ck_assert_msg(tsupport_now() < deadline, "the other side never took lock 2");
		usleep(10000);
	}
	struct outcome out;
	run(db, "k-deadlock", FP_A, &m, &out);
	pthread_join(t, NULL);
	ck_assert_msg(!o.error, "%s", o.error);
	ck_assert_msg(out.e == CF_OK, "%s (SQLSTATE %s)", out.err.detail, db_last_sqlstate(db));
	ck_assert_int_eq(atomic_load(&m.calls), 2); /* aborted once, then again */
	ck_assert(!out.replayed);
	ck_assert_int_eq(orgs_named("Deadlock Ltd"), 1);
	ck_assert_int_eq(keys_recorded("k-deadlock"), 1);
	outcome_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idempotency");
	TCase *tc = tcase_create("core");
	/* one database for the suite: each test has keys and names of its own */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_repeat_gives_the_first_answer_and_creates_nothing);
	tcase_add_test(tc, a_creation_without_headers_records_an_empty_object);
	tcase_add_test(tc, another_fingerprint_is_refused);
	tcase_add_test(tc, a_failure_is_not_recorded_and_a_repeat_tries_again);
	tcase_add_test(tc, a_refused_creation_is_not_recorded);
	tcase_add_test(tc, keys_older_than_a_day_are_forgotten);
	tcase_add_test(tc, two_runs_of_one_key_at_once_create_once);
	tcase_add_test(tc, a_deadlock_is_retried);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
