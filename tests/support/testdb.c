/*
 * testdb: per-suite databases (see testdb.h).
 */
#include "testdb.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "%s is not set: run the tests through tests/run.sh, which starts "
				"the test PostgreSQL\n", name);
		exit(EXIT_FAILURE);
	}
	return v;
}

static PGconn *connect_or_die(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect to the test database: %s", PQerrorMessage(c));
		exit(EXIT_FAILURE);
	}
	return c;
}

static void exec_or_die(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(EXIT_FAILURE);
	}
	PQclear(r);
}

void testdb_create(struct testdb *t, const char *suite)
{
	const char *host = env_or_die("CONFORM_TEST_PGHOST");
	const char *tmpl = env_or_die("CONFORM_TEST_TEMPLATE");
	t->name = cf_asprintf("t_%s_%ld", suite, (long)getpid());
	t->app_url = cf_asprintf("host=%s dbname=%s user=conform_app", host, t->name);
	t->owner_url = cf_asprintf("host=%s dbname=%s user=conform_owner", host, t->name);
	t->super_url = cf_asprintf("host=%s dbname=%s user=postgres", host, t->name);

	char *admin = cf_asprintf("host=%s dbname=postgres user=postgres "
				  "options='-c client_min_messages=warning'", host);
	PGconn *c = connect_or_die(admin);
	char *sql = cf_asprintf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", t->name);
	exec_or_die(c, sql);
	free(sql);
	sql = cf_asprintf("CREATE DATABASE \"%s\" TEMPLATE \"%s\" OWNER conform_owner", t->name, tmpl);
	/* Suites start at once: a concurrent clone of the template may be
	 * refused for a moment ("being accessed by other users"). */
	for (int attempt = 0;; attempt++) {
		PGresult *r = PQexec(c, sql);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok)
			break;
		if (attempt == 50) {
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
			exit(EXIT_FAILURE);
		}
		usleep(100000);
	}
	free(sql);
	PQfinish(c);
	free(admin);
}

void testdb_drop(struct testdb *t)
{
	if (!t->name)
		return;
	const char *host = getenv("CONFORM_TEST_PGHOST");
	char *admin = cf_asprintf("host=%s dbname=postgres user=postgres", host);
	PGconn *c = PQconnectdb(admin);
	if (PQstatus(c) == CONNECTION_OK) {
		char *sql = cf_asprintf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", t->name);
		PQclear(PQexec(c, sql));
		free(sql);
	}
	PQfinish(c);
	free(admin);
	CF_FREE(t->name);
	CF_FREE(t->app_url);
	CF_FREE(t->owner_url);
	CF_FREE(t->super_url);
}

PGresult *testdb_super_query(const struct testdb *t, const char *sql, int n, const char *const *params)
{
	PGconn *c = connect_or_die(t->super_url);
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(EXIT_FAILURE);
	}
	PQfinish(c);
	return r;
}

PGresult *testdb_super_exec(const struct testdb *t, const char *sql)
{
	PGconn *c = connect_or_die(t->super_url);
	PGresult *r = PQexec(c, sql); /* a script of several statements, for tampering tests */
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(EXIT_FAILURE);
	}
	PQfinish(c);
	return r;
}

PGresult *testdb_app_query(const struct testdb *t, const char *sql, int n, const char *const *params)
{
	PGconn *c = connect_or_die(t->app_url);
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	PQfinish(c);
	return r;
}
