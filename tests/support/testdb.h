/*
 * testdb: a fresh database per test suite, cloned from the migrated template
 * that tests/run.sh prepared (CREATE DATABASE ... TEMPLATE ...). Failures
 * abort the test run with a message: a suite without its database cannot
 * mean anything.
 */
#ifndef CONFORM_TESTDB_H
#define CONFORM_TESTDB_H

#include <libpq-fe.h>

struct testdb {
	char *name;
	char *app_url;    /* runtime role conform_app */
	char *owner_url;  /* schema owner conform_owner */
	char *super_url;  /* the cluster superuser, for tampering tests */
};

void testdb_create(struct testdb *t, const char *suite);
void testdb_drop(struct testdb *t);

/* Runs sql (one statement or a script of several, no values in it) as the
 * superuser in the suite's database; aborts on failure. Returns the result
 * (caller PQclear). */
PGresult *testdb_super_exec(const struct testdb *t, const char *sql);

/* testdb_super_exec with parameters ($1...): values never go into sql. */
PGresult *testdb_super_query(const struct testdb *t, const char *sql, int n, const char *const *params);

/* Runs sql with parameters as conformd's own role (conform_app) and returns
 * its result whatever it is: for what the database must refuse. */
PGresult *testdb_app_query(const struct testdb *t, const char *sql, int n, const char *const *params);

#endif
