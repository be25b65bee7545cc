/*
 * Unit tests of core/audit.c against the throwaway database, with no
 * conformd: the hash chain (each record's hash covers its canonical form and
 * the previous record's hash), audit_verify finding an edited, deleted or
 * rewritten record, the runtime role's append-only rights, the list's
 * filters, and, for the mutating core functions walked here, that the audit
 * record is written in the operation's own transaction: an audit record the
 * database refuses leaves no change, and a change the database refuses at
 * commit leaves no audit record.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accreditation.h"
#include "application.h"
#include "audit.h"
#include "blobstore.h"
#include "coreworld.h"
#include "catalog.h"
#include "digest.h"
#include "evidence.h"
#include "mem.h"
#include "product.h"
#include "tsupport.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

static struct coreworld c;

static void setup(void)
{
	coreworld_create(&c, "audit");
}

static void teardown(void)
{
	coreworld_destroy(&c);
}

static long long count(const char *sql)
{
	return coreworld_count(&c, sql, NULL);
}

static long long last_seq(void)
{
	return count("SELECT coalesce(max(seq), 0) FROM audit_log");
}

static void super(const char *sql)
{
	PQclear(testdb_super_exec(&c.tdb, sql));
}

/* super with the record's seq as $1: a value never goes into the text */
static void super_at(const char *sql, long long seq)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", seq);
	const char *p[] = { v };
	PQclear(testdb_super_query(&c.tdb, sql, 1, p));
}

struct append_job {
	const char *action, *object_id;
	json_t *details;
};

static cf_err append_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct append_job *j = arg;
	struct audit_actor actor = { "system", "test_audit", NULL };
	return audit_append(db, &actor, j->action, "thing", j->object_id, j->details, err);
}

/* Appends one record in its own transaction. */
static cf_err append(const char *action, const char *object_id, json_t *details,
		     struct cf_error *err)
{
	struct append_job j = { action, object_id, details };
	return db_transaction(c.db, DB_READ_COMMITTED, append_tx, &j, err);
}

static void append_some(int n)
{
	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "thing-%d", i);
		json_t *d = json_pack("{s:i,s:s,s:[i,b]}", "n", i, "note", "ünïcödé \"q\"", "list", i,
				      1);
		struct cf_error err;
		cf_err e = append("test.append", id, d, &err);
		ck_assert_msg(!e, "append: %s", err.detail);
		json_decref(d);
	}
}

/* Appends n records; returns the seq of the last but one (n >= 2). */
static long long chain_but_one(int n)
{
	append_some(n);
	return last_seq() - 1;
}

static void verify(struct audit_check *out)
{
	struct cf_error err;
	cf_err e = audit_verify(c.db, out, &err);
	ck_assert_msg(!e, "audit verify: %s", err.detail);
}

static void verify_clean(void)
{
	struct audit_check chk;
	verify(&chk);
	ck_assert_msg(chk.first_broken == 0, "record %lld: %s", chk.first_broken, chk.problem);
	ck_assert_int_eq(chk.records, last_seq());
}

/*
 * Every record, read back as the superuser: seq 1.. with no gap, prev_hash
 * the previous record's hash (64 zeros for the first), and hash the SHA-256
 * of its canonical form, computed here from the stored columns.
 */
START_TEST(the_records_form_a_chain)
{
	append_some(5);
	PGresult *r = testdb_super_exec(&c.tdb,
		"SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		" actor_kind, actor_id, actor_org, action, object_type, object_id, details::text,"
		" prev_hash, hash FROM audit_log ORDER BY seq");
	int n = PQntuples(r);
	ck_assert_int_ge(n, 5);
	char prev[65] = GENESIS;
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(strtoll(PQgetvalue(r, i, 0), NULL, 10), i + 1);
		ck_assert_str_eq(PQgetvalue(r, i, 9), prev);
		struct audit_actor a = { PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
					 PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4) };
		json_t *d = json_loads(PQgetvalue(r, i, 8), 0, NULL);
		char *canon = audit_canonical(i + 1, PQgetvalue(r, i, 1), &a, PQgetvalue(r, i, 5),
					      PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), d, prev);
		json_decref(d);
		ck_assert_ptr_nonnull(canon);
		char hash[65];
		digest_sha256_hex(canon, strlen(canon), hash);
		free(canon);
		ck_assert_msg(strcmp(hash, PQgetvalue(r, i, 10)) == 0, "record %d: hash %s, stored %s",
			      i + 1, hash, PQgetvalue(r, i, 10));
		snprintf(prev, sizeof prev, "%s", hash);
	}
	PQclear(r);
	verify_clean();
}
END_TEST

/* The canonical form, written out by hand: keys sorted, no spaces, UTF-8 as
 * it is, the organisation null when there is none. */
START_TEST(the_canonical_form)
{
	struct audit_actor a = { "user", "u-1", NULL };
	json_t *d = json_pack("{s:s,s:i,s:{s:b,s:n}}", "zeta", "é\"", "alpha", 7, "mid", "y", 1, "x");
	char *canon = audit_canonical(42, "2026-12-03T10:00:00.000001Z", &a, "thing.make", "thing",
				      "t-1", d, GENESIS);
	ck_assert_str_eq(canon,
			 "{\"action\":\"thing.make\",\"actor\":{\"id\":\"u-1\",\"kind\":\"user\","
			 "\"org\":null},\"at\":\"2026-12-03T10:00:00.000001Z\",\"details\":{"
			 "\"alpha\":7,\"mid\":{\"x\":null,\"y\":true},\"zeta\":\"é\\\"\"},"
			 "\"object\":{\"id\":\"t-1\",\"type\":\"thing\"},\"prev\":\"" GENESIS
			 "\",\"seq\":42}");
	free(canon);
	/* no details: an empty object */
	canon = audit_canonical(1, "t", &a, "thing.make", "thing", "t-1", NULL, GENESIS);
	ck_assert_ptr_nonnull(strstr(canon, "\"details\":{}"));
	free(canon);
	json_decref(d);
}
END_TEST

/* A real number has no canonical form: the append fails and writes nothing. */
START_TEST(real_numbers_are_refused)
{
	long long before = last_seq();
	json_t *d = json_pack("{s:f}", "ratio", 0.5);
	struct audit_actor a = { "system", "x", NULL };
	ck_assert_ptr_null(audit_canonical(1, "t", &a, "thing.make", "thing", "t", d, GENESIS));
	struct cf_error err;
	ck_assert_int_ne(append("test.real", "t", d, &err), 0);
	json_decref(d);
	ck_assert_int_eq(last_seq(), before);
}
END_TEST

/*
 * Each column of a middle record changed as the superuser could (to a value
 * the table's checks accept): audit verify names that record, and is clean
 * again once the value is put back.
 */
static const struct {
	const char *column;
	const char *edit;    /* the change, $1 the record's seq */
	const char *restore; /* the column put back from the saved copy */
	const char *problem;
} edits[] = {
#define EDIT(col, expr, problem)                                                                   \
	{ col, "UPDATE audit_log SET " col " = " expr " WHERE seq = $1::bigint",                   \
	  "UPDATE audit_log SET " col " = s." col " FROM saved s WHERE audit_log.seq = s.seq", problem }
	EDIT("at", "at + interval '1 microsecond'", "changed"),
	EDIT("actor_kind", "'cli'", "changed"),
	EDIT("actor_id", "'mallory'", "changed"),
	EDIT("actor_org", "'00000000-0000-4000-8000-000000000000'", "changed"),
	EDIT("action", "'test.other'", "changed"),
	EDIT("object_type", "'other'", "changed"),
	EDIT("object_id", "'thing-x'", "changed"),
	EDIT("details", "details || '{\"n\": 99}'", "changed"),
	EDIT("hash", "repeat('a', 64)", "changed"),
	EDIT("prev_hash", "repeat('0', 64)", "previous hash"),
#undef EDIT
};

START_TEST(an_edited_record_is_detected)
{
	append_some(5);
	long long target = last_seq() - 2;
	super_at("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = $1::bigint", target);
	super_at(edits[_i].edit, target);
	struct audit_check chk;
	verify(&chk);
	ck_assert_msg(chk.first_broken == target, "%s edited in %lld: verify says %lld (%s)",
		      edits[_i].column, target, chk.first_broken, chk.problem);
	ck_assert_msg(strstr(chk.problem, edits[_i].problem), "%s: %s", edits[_i].column,
		      chk.problem);
	ck_assert_int_eq(chk.records, target - 1);
	super(edits[_i].restore);
	verify_clean();
}
END_TEST

START_TEST(a_deleted_record_is_detected)
{
	long long target = chain_but_one(4);
	super_at("DELETE FROM audit_log WHERE seq = $1::bigint", target);
	struct audit_check chk;
	verify(&chk);
	ck_assert_int_eq(chk.first_broken, target);
	ck_assert_msg(strstr(chk.problem, "missing"), "%s", chk.problem);
	/* the first record too */
	super("DELETE FROM audit_log WHERE seq = 1");
	verify(&chk);
	ck_assert_int_eq(chk.first_broken, 1);
	ck_assert_int_eq(chk.records, 0);
}
END_TEST

/*
 * Whoever rewrites a record and recomputes its hash (the algorithm is no
 * secret) still breaks the next record's link.
 */
START_TEST(a_rewritten_record_breaks_the_next_link)
{
	long long target = chain_but_one(4);
	char seq[24];
	snprintf(seq, sizeof seq, "%lld", target);
	PGresult *r = testdb_super_query(&c.tdb,
		"SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		" actor_kind, actor_id, action, object_type, object_id, prev_hash FROM audit_log"
		" WHERE seq = $1", 1, (const char *[]){ seq });
	struct audit_actor a = { PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), NULL };
	json_t *d = json_pack("{s:s}", "forged", "yes");
	char *canon = audit_canonical(target, PQgetvalue(r, 0, 0), &a, PQgetvalue(r, 0, 3),
				      PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5), d,
				      PQgetvalue(r, 0, 6));
	char hash[65];
	digest_sha256_hex(canon, strlen(canon), hash);
	PQclear(testdb_super_query(&c.tdb, "UPDATE audit_log SET details = '{\"forged\":\"yes\"}',"
					   " hash = $2 WHERE seq = $1", 2,
				   (const char *[]){ seq, hash }));
	free(canon);
	json_decref(d);
	PQclear(r);
	struct audit_check chk;
	verify(&chk);
	ck_assert_int_eq(chk.first_broken, target + 1);
	ck_assert_msg(strstr(chk.problem, "previous hash"), "%s", chk.problem);
}
END_TEST

struct second {
	struct db *db;
	cf_err e;
	struct cf_error err;
};

/* The second appender: its own connection, its own transaction. */
static void *second_append(void *arg)
{
	struct second *b = arg;
	struct append_job j = { "test.second", "second", NULL };
	b->e = db_transaction(b->db, DB_READ_COMMITTED, append_tx, &j, &b->err);
	return NULL;
}

/*
 * Appenders take turns: while one transaction holds an appended record, a
 * second appender waits (on the audit lock) until it commits, then chains
 * its record onto the first's. Without the lock both would read the same
 * head and one would fail, or fork the chain.
 */
START_TEST(appenders_take_turns)
{
	struct cf_error err;
	cf_err e = db_begin(c.db, DB_READ_COMMITTED, &err);
	ck_assert_msg(!e, "%s", err.detail);
	struct append_job first = { "test.first", "first", NULL };
	e = append_tx(c.db, &first, &err);
	ck_assert_msg(!e, "%s", err.detail);
	struct second b = { 0 };
	e = db_connect(c.tdb.app_url, &b.db, &err);
	ck_assert_msg(!e, "%s", err.detail);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, second_append, &b), 0);
	/* the second appender is seen waiting for a lock (deadline 10 s) */
	long long waiting = 0;
	for (double end = tsupport_now() + 10; waiting == 0 && tsupport_now() < end; usleep(10000))
		waiting = count("SELECT count(*) FROM pg_stat_activity WHERE datname ="
				" current_database() AND wait_event_type = 'Lock'");
	ck_assert_msg(waiting == 1, "the second appender did not wait for the first");
	e = db_commit(c.db, &err);
	ck_assert_msg(!e, "%s", err.detail);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(!b.e, "the second append: %s", b.err.detail);
	db_close(b.db);
	ck_assert_int_eq(count("SELECT seq FROM audit_log WHERE action = 'test.second'"),
			 count("SELECT seq FROM audit_log WHERE action = 'test.first'") + 1);
	verify_clean();
}
END_TEST

/* conformd's role reads and appends; it neither changes nor deletes. */
START_TEST(the_runtime_role_only_appends)
{
	append_some(1);
	long long before = last_seq();
	static const char *const sql[] = {
		"UPDATE audit_log SET actor_id = 'mallory'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		PGresult *r = testdb_app_query(&c.tdb, sql[i], 0, NULL);
		ck_assert_msg(PQresultStatus(r) == PGRES_FATAL_ERROR, "%s was allowed", sql[i]);
		PQclear(r);
	}
	ck_assert_int_eq(last_seq(), before);
	verify_clean();
}
END_TEST

START_TEST(the_list_filters_and_pages)
{
	append_some(5);
	struct audit_filter f = { .action = "test.append", .limit = 2 };
	json_t *page = NULL;
	struct cf_error err;
	long long seen = 0, last = 0;
	for (int pages = 0;; pages++) {
		ck_assert_int_lt(pages, 5);
		ck_assert_int_eq(audit_list(c.db, &f, &page, &err), CF_OK);
		size_t i;
		json_t *rec;
		json_array_foreach(json_object_get(page, "items"), i, rec) {
			long long s = json_integer_value(json_object_get(rec, "seq"));
			ck_assert_int_gt(s, last);
			last = s;
			ck_assert_str_eq(json_string_value(json_object_get(rec, "action")), "test.append");
			seen++;
		}
		json_t *next = json_object_get(page, "next");
		if (json_is_null(next) || !next) {
			json_decref(page);
			break;
		}
		f.after = json_integer_value(next);
		json_decref(page);
	}
	ck_assert_int_eq(seen, 5);
	/* a prefix ending in '.', an object, an actor */
	f = (struct audit_filter){ .action = "organisation.", .limit = 100 };
	ck_assert_int_eq(audit_list(c.db, &f, &page, &err), CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 4);
	json_decref(page);
	f = (struct audit_filter){ .object_type = "thing", .object_id = "thing-3", .limit = 100 };
	ck_assert_int_eq(audit_list(c.db, &f, &page, &err), CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
	json_decref(page);
	f = (struct audit_filter){ .actor_id = c.accreditor.user_id, .limit = 100 };
	ck_assert_int_eq(audit_list(c.db, &f, &page, &err), CF_OK);
	json_t *items = json_object_get(page, "items");
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "action")),
			 "accreditation.grant");
	json_decref(page);
}
END_TEST

/* ---- one transaction, one audit record ---- */

static int serial;
static char draft[37];      /* an application for the evidence operations */
static char to_delete[37];  /* evidence the delete operation removes */

/* An operation's request body and its answer, released after each run. */
static json_t *body, *result;

static void release(void)
{
	json_decref(body);
	json_decref(result);
	body = result = NULL;
}

static cf_err op_org(struct cf_error *err)
{
	char name[64], email[64];
	snprintf(name, sizeof name, "Org %d", ++serial);
	snprintf(email, sizeof email, "first%d@example.org", serial);
	body = json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:s,s:s}}", "kind", "retailer", "name", name,
			 "country", "GB", "contact", "email", "c@example.org", "administrator", "name",
			 "Admin", "email", email);
	return party_org_create(c.db, &c.cli, body, &result, err);
}

static cf_err op_user(struct cf_error *err)
{
	char email[64];
	snprintf(email, sizeof email, "assessor%d@example.org", ++serial);
	body = json_pack("{s:s,s:s,s:s,s:[s]}", "org_id", c.body_admin.org_id, "name", "Another",
			 "email", email, "roles", "assessor");
	struct audit_actor actor = party_actor(&c.body_admin);
	return party_user_create(c.db, &actor, body, &result, err);
}

static cf_err op_token(struct cf_error *err)
{
	struct audit_actor actor = party_actor(&c.applicant);
	return party_token_create(c.db, &actor, NULL, c.applicant.user_id, "own", 30, &result, err);
}

static cf_err op_product(struct cf_error *err)
{
	body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "Hub", "model", "H-2", "hardware_version",
			 "2", "firmware_version", "2.0", "support_end", "2030-01-31");
	return product_create(c.db, &c.applicant, body, &result, err);
}

static cf_err op_accreditation(struct cf_error *err)
{
	char ref[32], from[32], until[32];
	snprintf(ref, sizeof ref, "ACC-T-%d", ++serial);
	coreworld_day(from, sizeof from, 0);
	coreworld_day(until, sizeof until, 3 * 365);
	body = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", c.body_admin.org_id, "scheme_id",
			 "iotsf-cf", "max_class", 2, "reference", ref, "valid_from", from,
			 "valid_until", until);
	struct audit_actor actor = party_actor(&c.accreditor);
	return accreditation_grant(c.db, &actor, body, &result, err);
}

static cf_err op_scheme(struct cf_error *err)
{
	return coreworld_import(&c, "schemes/uk-psti-2023.json", err);
}

static cf_err op_application(struct cf_error *err)
{
	body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id", c.product,
			 "scheme_id", "dcms-cop", "scheme_version", "2018", "assessment_type",
			 "third-party", "body_id", c.body_admin.org_id, "owners", "Software", "Dev",
			 "Hardware", "HW", "Policy", "CISO", "Process", "PSIRT");
	return application_create(c.db, &c.applicant, body, APPLICATION_NO_QUOTA, &result, err);
}

static cf_err op_answer(struct cf_error *err)
{
	body = json_pack("{s:s,s:s}", "statement", "compliant", "text", "we do");
	return application_answer(c.db, &c.applicant, draft, "DCMS-2", body, &result, err);
}

/* Evidence of app with content, linked to DCMS-1; its id in id (may be NULL). */
static cf_err evidence_in(const char *app, const char *content, char id[37], struct cf_error *err)
{
	struct blob_writer *w = NULL;
	struct evidence_upload u = { .application_id = app, .name = "r.txt", .refs = "DCMS-1",
				     .quota = 1 << 20 };
	cf_err e = blob_begin(c.blobs, 1 << 20, &w, err);
	if (!e)
		e = blob_write(w, content, strlen(content), err);
	if (!e)
		e = blob_finish(w, u.digest, &u.size, err);
	u.blob = w;
	if (!e)
		e = evidence_record(c.db, &c.applicant, &u, &result, err);
	if (!e && id)
		snprintf(id, 37, "%s", json_string_value(json_object_get(result, "id")));
	blob_abort(w);
	return e;
}

static cf_err op_evidence(struct cf_error *err)
{
	return evidence_in(draft, "evidence", NULL, err);
}

static cf_err op_evidence_delete(struct cf_error *err)
{
	return evidence_delete(c.db, &c.applicant, c.blobs, draft, to_delete, err);
}

static cf_err op_withdraw(struct cf_error *err)
{
	struct application_row row;
	cf_err e = application_load(c.db, draft, false, &row, err);
	if (e)
		return e;
	char etag[24];
	application_etag(row.version, etag);
	body = json_pack("{s:s}", "message", "not now");
	return application_act(c.db, &c.applicant, draft, "withdraw", etag, body, &result, err);
}

/*
 * A mutating core function, the table its change lands in (and how: the
 * trigger event), the count that shows the change, its audit action and
 * the one more it writes in the same transaction, if any.
 */
static const struct {
	const char *name;
	cf_err (*run)(struct cf_error *err);
	const char *table, *event, *count, *action, *also;
} ops[] = {
	/* an organisation comes with its first administrator: two records */
	{ "party_org_create", op_org, "organisation", "INSERT", "SELECT count(*) FROM organisation",
	  "organisation.create", "user.create" },
	{ "party_user_create", op_user, "app_user", "INSERT", "SELECT count(*) FROM app_user",
	  "user.create" },
	{ "party_token_create", op_token, "api_token", "INSERT", "SELECT count(*) FROM api_token",
	  "token.create" },
	{ "product_create", op_product, "product", "INSERT", "SELECT count(*) FROM product",
	  "product.create" },
	{ "accreditation_grant", op_accreditation, "accreditation", "INSERT",
	  "SELECT count(*) FROM accreditation", "accreditation.grant" },
	{ "catalog_import", op_scheme, "scheme_version", "INSERT",
	  "SELECT count(*) FROM scheme_version", "scheme.import" },
	{ "application_create", op_application, "application", "INSERT",
	  "SELECT count(*) FROM application", "application.create" },
	{ "application_answer", op_answer, "application_answer", "INSERT",
	  "SELECT count(*) FROM application_answer", "application.answer" },
	{ "evidence_record", op_evidence, "evidence", "INSERT", "SELECT count(*) FROM evidence",
	  "application.evidence" },
	{ "evidence_delete", op_evidence_delete, "evidence", "DELETE",
	  "SELECT count(*) FROM evidence", "application.evidence_delete" },
	{ "application_act (withdraw)", op_withdraw, "application", "UPDATE",
	  "SELECT count(*) FROM application WHERE state = 'withdrawn'", "application.withdraw" },
};

static long long audit_of(const char *action)
{
	return coreworld_count(&c, "SELECT count(*) FROM audit_log WHERE action = $1", action);
}

START_TEST(the_audit_record_is_in_the_same_transaction)
{
	/* what the operations need: a scheme of iotsf-cf for the grant, a draft
	 * with evidence to delete */
	struct cf_error err;
	cf_err e = coreworld_import(&c, "schemes/iotsf-cf-2.0.json", &err);
	ck_assert_msg(!e, "%s", err.detail);
	coreworld_application(&c, "third-party", "draft", draft);
	e = evidence_in(draft, "to be deleted", to_delete, &err);
	release();
	ck_assert_msg(!e, "%s", err.detail);
	super("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
	      " $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$");
	/* the refusing trigger at commit, on the table and event of a row of ops:
	 * both go in as parameters, quoted by format() */
	super("CREATE FUNCTION refuse_at_commit(tbl text, ev text) RETURNS void LANGUAGE plpgsql AS"
	      " $$ BEGIN IF ev NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN RAISE EXCEPTION 'event %', ev;"
	      " END IF; EXECUTE format('CREATE CONSTRAINT TRIGGER refuse_change AFTER %s ON %I"
	      " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()', ev, tbl); END $$");
	super("CREATE FUNCTION refuse_no_more(tbl text) RETURNS void LANGUAGE plpgsql AS"
	      " $$ BEGIN EXECUTE format('DROP TRIGGER refuse_change ON %I', tbl); END $$");

	const char *name = ops[_i].name;
	long long rows = coreworld_count(&c, ops[_i].count, NULL);
	long long audits = audit_of(ops[_i].action), seq = last_seq();
	long long also = ops[_i].also ? audit_of(ops[_i].also) : 0;
	int records = ops[_i].also ? 2 : 1;

	/* 1. the audit record is refused: the change is not made */
	super("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW"
	      " EXECUTE FUNCTION refuse()");
	e = ops[_i].run(&err);
	release();
	super("DROP TRIGGER refuse_audit ON audit_log");
	ck_assert_msg(e, "%s: succeeded without its audit record", name);
	ck_assert_msg(coreworld_count(&c, ops[_i].count, NULL) == rows,
		      "%s: changed %s though its audit record was refused", name, ops[_i].table);

	/* 2. the change is refused at commit, after the audit record was
	 * written: the audit record goes with it */
	const char *tp[] = { ops[_i].table, ops[_i].event };
	PQclear(testdb_super_query(&c.tdb, "SELECT refuse_at_commit($1, $2)", 2, tp));
	e = ops[_i].run(&err);
	release();
	PQclear(testdb_super_query(&c.tdb, "SELECT refuse_no_more($1)", 1, tp));
	ck_assert_msg(e, "%s: succeeded though %s refused it at commit", name, ops[_i].table);
	ck_assert_msg(last_seq() == seq, "%s: an audit record outlived its refused change", name);
	ck_assert_int_eq(coreworld_count(&c, ops[_i].count, NULL), rows);

	/* 3. and done: the change and exactly one audit record */
	e = ops[_i].run(&err);
	release();
	ck_assert_msg(!e, "%s: %s", name, err.detail);
	ck_assert_msg(coreworld_count(&c, ops[_i].count, NULL) != rows, "%s: changed nothing", name);
	ck_assert_msg(audit_of(ops[_i].action) == audits + 1, "%s: %lld %s records, expected %lld",
		      name, audit_of(ops[_i].action), ops[_i].action, audits + 1);
	if (ops[_i].also)
		ck_assert_int_eq(audit_of(ops[_i].also), also + 1);
	ck_assert_int_eq(last_seq(), seq + records);
	verify_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_records_form_a_chain);
	tcase_add_test(tc, real_numbers_are_refused);
	tcase_add_loop_test(tc, an_edited_record_is_detected, 0, (int)(sizeof edits / sizeof edits[0]));
	tcase_add_test(tc, a_deleted_record_is_detected);
	tcase_add_test(tc, a_rewritten_record_breaks_the_next_link);
	tcase_add_test(tc, the_runtime_role_only_appends);
	tcase_add_test(tc, appenders_take_turns);
	tcase_add_test(tc, the_list_filters_and_pages);
	suite_add_tcase(s, tc);
	tc = tcase_create("canonical");
	tcase_add_test(tc, the_canonical_form);
	suite_add_tcase(s, tc);
	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, the_audit_record_is_in_the_same_transaction, 0,
			    (int)(sizeof ops / sizeof ops[0]));
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
