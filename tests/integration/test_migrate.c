/*
 * Integration tests of schema migrations (conformctl db migrate and db
 * status) and of conformd's refusal to serve an old schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "proc.h"
#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

static char *admin_url(void)
{
	return cf_asprintf("host=%s dbname=postgres user=postgres", getenv("CONFORM_TEST_PGHOST"));
}

/* A database with nothing in it, owned by the schema owner. */
static char *empty_database(const char *name)
{
	char *url = admin_url();
	PGconn *c = PQconnectdb(url);
	ck_assert(PQstatus(c) == CONNECTION_OK);
	char *sql = cf_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	PQclear(PQexec(c, sql));
	free(sql);
	sql = cf_asprintf("CREATE DATABASE %s OWNER conform_owner TEMPLATE template0", name);
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
	PQclear(r);
	free(sql);
	PQfinish(c);
	free(url);
	return cf_asprintf("host=%s dbname=%s user=conform_owner", getenv("CONFORM_TEST_PGHOST"), name);
}

/* A private copy of migrations/, which the tests may edit. */
static char *copy_migrations(void)
{
	char tmpl[] = "/tmp/conform-mig.XXXXXX";
	ck_assert(mkdtemp(tmpl));
	char *src = tsupport_source_path("migrations");
	char *cmd = cf_asprintf("cp '%s'/*.sql '%s'/", src, tmpl);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(src);
	return cf_strdup(tmpl);
}

static int count_files(const char *dir)
{
	char *cmd = cf_asprintf("ls '%s'/*.sql | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = 0;
	ck_assert(fscanf(p, "%d", &n) == 1);
	pclose(p);
	free(cmd);
	return n;
}

static int count_occurrences(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void migrate(struct proc_result *r, const char *owner_url, const char *dir, const char *cmd)
{
	char *bin = testsrv_binary("conformctl");
	char *dirflag = cf_asprintf("--migrations-dir=%s", dir);
	char *env_owner = cf_asprintf("CONFORM_DATABASE_OWNER_URL=%s", owner_url);
	const char *argv[] = { bin, "db", cmd, dirflag, NULL };
	const char *env[] = { env_owner, NULL };
	proc_run(r, argv, env);
	free(bin);
	free(dirflag);
	free(env_owner);
}

START_TEST(migrate_applies_once_and_reports_status)
{
	char *dir = copy_migrations();
	char *url = empty_database("t_migrate_once");
	struct proc_result r;

	migrate(&r, url, dir, "status");
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "pending"));
	proc_result_free(&r);

	migrate(&r, url, dir, "migrate");
	ck_assert_msg(r.status == 0, "migrate failed: %s", r.err);
	ck_assert_int_eq(count_occurrences(r.out, "applied "), count_files(dir));
	proc_result_free(&r);

	migrate(&r, url, dir, "migrate");
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "nothing to apply"));
	proc_result_free(&r);

	migrate(&r, url, dir, "status");
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "0 pending"));
	ck_assert(strstr(r.out, "0001_foundation.sql"));
	proc_result_free(&r);
	free(url);
	free(dir);
}
END_TEST

START_TEST(edited_applied_migration_is_refused)
{
	char *dir = copy_migrations();
	char *url = empty_database("t_migrate_edit");
	struct proc_result r;
	migrate(&r, url, dir, "migrate");
	ck_assert_int_eq(r.status, 0);
	proc_result_free(&r);

	char *file = cf_asprintf("%s/0001_foundation.sql", dir);
	FILE *f = fopen(file, "a");
	fputs("-- an innocent-looking edit\n", f);
	fclose(f);

	migrate(&r, url, dir, "migrate");
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, file) != NULL, "the error does not name %s: %s", file, r.err);
	ck_assert(strstr(r.err, "changed"));
	proc_result_free(&r);

	migrate(&r, url, dir, "status");
	ck_assert_int_ne(r.status, 0);
	ck_assert(strstr(r.out, "CHANGED"));
	proc_result_free(&r);
	free(file);
	free(url);
	free(dir);
}
END_TEST

START_TEST(concurrent_migrations_apply_each_file_once)
{
	char *dir = copy_migrations();
	char *url = empty_database("t_migrate_race");
	char *bin = testsrv_binary("conformctl");
	char *dirflag = cf_asprintf("--migrations-dir=%s", dir);
	char *env_owner = cf_asprintf("CONFORM_DATABASE_OWNER_URL=%s", url);
	const char *argv[] = { bin, "db", "migrate", dirflag, NULL };
	const char *env[] = { env_owner, NULL };

	enum { N = 4 };
	pid_t pids[N];
	char *outs[N], *errs[N];
	for (int i = 0; i < N; i++)
		pids[i] = proc_start(argv, env, &outs[i], &errs[i]);
	int applied = 0;
	for (int i = 0; i < N; i++) {
		struct proc_result r;
		proc_wait(&r, pids[i], outs[i], errs[i]);
		ck_assert_msg(r.status == 0, "a concurrent migrate failed: %s", r.err);
		applied += count_occurrences(r.out, "applied ");
		proc_result_free(&r);
	}
	ck_assert_int_eq(applied, count_files(dir));

	PGconn *c = PQconnectdb(url);
	PGresult *res = PQexec(c, "SELECT count(*), count(DISTINCT version) FROM schema_migrations");
	ck_assert_int_eq(atoi(PQgetvalue(res, 0, 0)), count_files(dir));
	ck_assert_int_eq(atoi(PQgetvalue(res, 0, 1)), count_files(dir));
	PQclear(res);
	PQfinish(c);
	free(bin);
	free(dirflag);
	free(env_owner);
	free(url);
	free(dir);
}
END_TEST

/*
 * Migration 0026 (constraints on what only C held to) applied to a database
 * that real programs filled under the schema before it: organisations,
 * people, keys, an accreditation, an application walked to a certificate
 * (conformctl demo with a conform-signer), a suspension with its reason code
 * (core, as conformd does it) and the webhook deliveries of every log entry.
 * Every row written so must satisfy the new constraints: the migration
 * applies, and so does every later one, and the constraints are in force
 * afterwards.
 *
 * The rows are tests/data/populated-0025.sql, written by the code of commit
 * 255e4f9, which ran on schema 0025 (tests/data/make-populated-0025.sh
 * regenerates it): today's code reads columns of later migrations and no
 * longer runs on 0025.
 */
START_TEST(constraints_apply_to_a_populated_database)
{
	char *dir = copy_migrations();
	char *later = cf_asprintf("%s.later", dir);
	ck_assert_int_eq(mkdir(later, 0700), 0);
	/* 0026 and every later migration: a later one must not apply before it */
	char *cmd = cf_asprintf("for f in '%s'/*.sql; do n=${f##*/}; [ \"${n%%%%_*}\" -lt 26 ] ||"
				" mv \"$f\" '%s'/ || exit 1; done", dir, later);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	struct testdb db = { 0 };
	db.name = cf_strdup("t_migrate_populated");
	db.owner_url = empty_database(db.name);
	const char *host = getenv("CONFORM_TEST_PGHOST");
	db.app_url = cf_asprintf("host=%s dbname=%s user=conform_app", host, db.name);
	db.super_url = cf_asprintf("host=%s dbname=%s user=postgres", host, db.name);
	struct proc_result r;
	migrate(&r, db.owner_url, dir, "migrate");
	ck_assert_msg(r.status == 0, "migrate to 0025: %s", r.err);
	proc_result_free(&r);

	/* the rows as the superuser with triggers off (the dump's own
	 * ALTER TABLE ... DISABLE TRIGGER): nothing is derived twice */
	char *fixture = tsupport_source_path("tests/data/populated-0025.sql");
	const char *restore[] = { "/bin/sh", "-c", "exec psql \"$@\"", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
				  "--single-transaction", "-h", host, "-U", "postgres", "-d", db.name,
				  "-f", fixture, NULL };
	proc_run(&r, restore, NULL);
	ck_assert_msg(r.status == 0, "restoring %s: %s", fixture, r.err);
	proc_result_free(&r);
	free(fixture);
	PGresult *res = testdb_super_exec(&db, "SELECT (SELECT count(*) FROM certificate_event WHERE reason_code"
					       " IS NOT NULL), (SELECT count(*) FROM webhook_delivery),"
					       " (SELECT count(*) FROM application_event),"
					       " (SELECT string_agg(serial || ' ' || status, ',') FROM certificate)");
	ck_assert_int_eq(atoi(PQgetvalue(res, 0, 0)), 1);
	ck_assert_int_ge(atoi(PQgetvalue(res, 0, 1)), 2);
	ck_assert_int_ge(atoi(PQgetvalue(res, 0, 2)), 5); /* create, submit, take, complete, decide */
	const char *cert = PQgetvalue(res, 0, 3);
	ck_assert_msg(strncmp(cert, "CF-", 3) == 0 && strchr(cert, ',') == NULL &&
			      strcmp(cert + strcspn(cert, " "), " suspended") == 0,
		      "one suspended certificate expected: %s", cert);
	char serial[40];
	snprintf(serial, sizeof serial, "%.*s", (int)strcspn(cert, " "), cert);
	PQclear(res);

	cmd = cf_asprintf("mv '%s'/*.sql '%s'/", later, dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	migrate(&r, db.owner_url, dir, "migrate");
	ck_assert_msg(r.status == 0, "0026 on a populated database: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "0026_"));
	proc_result_free(&r);
	migrate(&r, db.owner_url, dir, "status");
	ck_assert_msg(r.status == 0 && strstr(r.out, "0 pending"), "%s%s", r.out, r.err);
	proc_result_free(&r);
	res = testdb_super_exec(&db, "SELECT count(*) FROM pg_constraint WHERE convalidated AND conname IN"
				     " ('certificate_status_reason_code_fkey', 'certificate_event_reason_code_fkey',"
				     " 'certificate_event_reason_with_change', 'feed_item_reason_code_fkey',"
				     " 'application_event_action_fkey', 'application_event_states_check',"
				     " 'certificate_log_index_fkey', 'certificate_event_log_index_fkey',"
				     " 'certificate_scheme_version_fkey', 'webhook_delivery_type_check')");
	ck_assert_int_eq(atoi(PQgetvalue(res, 0, 0)), 10);
	PQclear(res);
	/* in force: the suspension's code could not be written now */
	const char *s[] = { serial };
	res = testdb_app_query(&db, "UPDATE certificate SET status_reason_code = 'made_up' WHERE serial = $1",
			       1, s);
	ck_assert_int_ne(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	testdb_drop(&db);
	cmd = cf_asprintf("rm -rf '%s' '%s'", dir, later);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(later);
	free(dir);
}
END_TEST

START_TEST(conformd_refuses_an_old_schema)
{
	char *url = empty_database("t_migrate_behind");
	char *bin = testsrv_binary("conformd");
	char *env_db = cf_asprintf("CONFORM_DATABASE_URL=%s", url);
	const char *argv[] = { bin, "--listen=127.0.0.1:0", NULL };
	const char *env[] = { env_db, NULL };
	struct proc_result r;
	proc_run(&r, argv, env);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, "conformctl db migrate") != NULL, "unclear message: %s", r.err);
	ck_assert(strstr(r.err, "schema is at version 0"));
	proc_result_free(&r);
	free(env_db);
	free(bin);
	free(url);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	struct proc_result r;
	char *ctl = testsrv_binary("conformctl");
	char *d = testsrv_binary("conformd");
	const char *a1[] = { ctl, "db", "migrate", "--no-such-flag", NULL };
	proc_run(&r, a1, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert(strstr(r.err, "--no-such-flag"));
	proc_result_free(&r);
	const char *a2[] = { d, "--no-such-flag", NULL };
	proc_run(&r, a2, NULL);
	ck_assert_int_eq(r.status, 2);
	proc_result_free(&r);
	const char *a2b[] = { d, "--trusted-proxies=proxy.example", NULL };
	proc_run(&r, a2b, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--trusted-proxies") && strstr(r.err, "not an IP address"), "%s", r.err);
	proc_result_free(&r);
	const char *a2c[] = { d, "--public-url=https://certs.example.org/a?b", NULL };
	proc_run(&r, a2c, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--public-url"), "%s", r.err);
	proc_result_free(&r);
	/* a word with one dash is an argument (a key id may begin with '-'), not an option */
	const char *a2d[] = { ctl, "key", "retire", "-4YTyuSQ9-Lo5e52S2a3ShONLJuKEqsDMMW3ZWat8bY",
			      "--database-url=postgresql:///nonexistent?host=/nonexistent", NULL };
	proc_run(&r, a2d, NULL);
	ck_assert_int_ne(r.status, 2);
	ck_assert_msg(!strstr(r.err, "unknown option"), "%s", r.err);
	proc_result_free(&r);
	const char *a3[] = { ctl, "nosuchgroup", NULL };
	proc_run(&r, a3, NULL);
	ck_assert_int_eq(r.status, 2);
	proc_result_free(&r);
	const char *a4[] = { ctl, "db", "status", "--help", NULL };
	proc_run(&r, a4, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "Usage: conformctl db status"));
	proc_result_free(&r);
	const char *a5[] = { d, "--help", NULL };
	proc_run(&r, a5, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "CONFORM_LISTEN"));
	proc_result_free(&r);
	free(ctl);
	free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("migrate");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, migrate_applies_once_and_reports_status);
	tcase_add_test(tc, edited_applied_migration_is_refused);
	tcase_add_test(tc, concurrent_migrations_apply_each_file_once);
	tcase_add_test(tc, conformd_refuses_an_old_schema);
	tcase_add_test(tc, usage_errors_exit_2);
	suite_add_tcase(s, tc);
	TCase *populated = tcase_create("populated");
	tcase_set_timeout(populated, 600);
	tcase_add_test(populated, constraints_apply_to_a_populated_database);
	suite_add_tcase(s, populated);
	return tsupport_run(s);
}
