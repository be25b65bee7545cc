/*
 * db: libpq connections, parameterised queries, per-connection prepared
 * statements, and transactions with retry (see db.h).
 */
#include "db.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

#define DB_MAX_PREPARED 128
#define DB_TX_ATTEMPTS 5

struct db {
	PGconn *conn;
	char *conninfo;
	bool in_tx;
	char sqlstate[6];
	/* Statements prepared on this connection, identified by the address
	 * of their static SQL text; cleared when the connection is renewed. */
	const char *prepared[DB_MAX_PREPARED];
	size_t nprepared;
};

static atomic_ulong db_errors;

unsigned long db_error_count(void)
{
	return atomic_load(&db_errors);
}

static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgres: %s", message);
}

/* The first line of libpq's message, without the trailing newline. */
static void first_line(const char *msg, char *out, size_t size)
{
	size_t n = strcspn(msg ? msg : "", "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, msg ? msg : "", n);
	out[n] = '\0';
}

/* Ends a connection that failed at what (libpq's first line of why after it). */
static cf_err conn_failed(struct db *db, const char *what, struct cf_error *err)
{
	char line[400];
	first_line(PQerrorMessage(db->conn), line, sizeof line);
	PQfinish(db->conn);
	db->conn = NULL;
	atomic_fetch_add(&db_errors, 1);
	return cf_error_set(err, CF_EUNAVAILABLE, NULL, "%s: %s", what, line);
}

static cf_err db_open_conn(struct db *db, struct cf_error *err)
{
	db->conn = PQconnectdb(db->conninfo);
	db->nprepared = 0;
	db->in_tx = false;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return conn_failed(db, "cannot connect to PostgreSQL", err);
	PQsetNoticeProcessor(db->conn, notice_ignore, NULL);
	/* A date without a time is midnight UTC, and current_date is UTC's
	 * (docs/architecture.md, "Dates and periods"), whatever the server's zone. */
	PGresult *tz = PQexec(db->conn, "SET TIME ZONE 'UTC'");
	bool ok = PQresultStatus(tz) == PGRES_COMMAND_OK;
	PQclear(tz);
	if (!ok)
		return conn_failed(db, "cannot set the session's time zone", err);
	return CF_OK;
}

cf_err db_connect(const char *conninfo, struct db **out, struct cf_error *err)
{
	struct db *db = cf_calloc(1, sizeof *db);
	db->conninfo = cf_strdup(conninfo);
	cf_err e = db_open_conn(db, err);
	if (e) {
		db_close(db);
		*out = NULL;
		return e;
	}
	*out = db;
	return CF_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	if (db->conninfo)
		cf_wipe(db->conninfo, strlen(db->conninfo));
	free(db->conninfo);
	free(db);
}

cf_err db_ensure(struct db *db, struct cf_error *err)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return CF_OK;
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	return db_open_conn(db, err);
}

cf_err db_try_session_lock(struct db *db, const char *name, bool *got, struct cf_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { name };
	*got = false;
	cf_err e = db_query(db, &res, err, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", 1, p);
	if (e)
		return e;
	*got = db_value_bool(res, 0, 0);
	PQclear(res);
	return CF_OK;
}

cf_err db_replay_lag(struct db *db, bool *is_standby, double *lag, struct cf_error *err)
{
	PGresult *res = NULL;
	*is_standby = false;
	*lag = 0;
	cf_err e = db_query(db, &res, err,
			    "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() OR "
			    "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 ELSE "
			    "coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END",
			    0, NULL);
	if (e)
		return e;
	*is_standby = db_value_bool(res, 0, 0);
	*lag = atof(db_value(res, 0, 1));
	PQclear(res);
	return CF_OK;
}

bool db_alive(const struct db *db)
{
	return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

/* Maps a failed result to a cf error; frees res. */
static cf_err db_fail(struct db *db, PGresult *res, struct cf_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
	char msg[400];
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	first_line(primary ? primary : PQerrorMessage(db->conn), msg, sizeof msg);
	PQclear(res);
	atomic_fetch_add(&db_errors, 1);

	if (PQstatus(db->conn) != CONNECTION_OK || strncmp(db->sqlstate, "08", 2) == 0 ||
	    strncmp(db->sqlstate, "57P", 3) == 0) {
		db->in_tx = false;
		return cf_error_set(err, CF_EUNAVAILABLE, NULL, "the database is unavailable: %s", msg);
	}
	if (strcmp(db->sqlstate, "23505") == 0)
		return cf_error_set(err, CF_ECONFLICT, NULL, "already exists: %s", msg);
	if (strcmp(db->sqlstate, "23514") == 0 || strcmp(db->sqlstate, "P0001") == 0 ||
	    strcmp(db->sqlstate, "23503") == 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL, "%s", msg);
	if (strncmp(db->sqlstate, "22", 2) == 0)
		return cf_error_set(err, CF_EINVAL, NULL, "invalid value: %s", msg);
	if (strcmp(db->sqlstate, "42501") == 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the database refused: %s", msg);
	log_error("database error %s: %s", db->sqlstate, msg);
	return cf_error_set(err, CF_EDB, NULL, "database error %s: %s", db->sqlstate, msg);
}

static cf_err db_result(struct db *db, PGresult *r, PGresult **res, struct cf_error *err)
{
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		return db_fail(db, r, err);
	db->sqlstate[0] = '\0';
	if (res)
		*res = r;
	else
		PQclear(r);
	return CF_OK;
}

cf_err db_query(struct db *db, PGresult **res, struct cf_error *err, const char *sql, int n,
		const char *const *params)
{
	if (res)
		*res = NULL;
	if (!db->in_tx) {
		cf_err e = db_ensure(db, err);
		if (e)
			return e;
	}
	PGresult *r = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	return db_result(db, r, res, err);
}

cf_err db_query_hot(struct db *db, PGresult **res, struct cf_error *err, const char *sql, int n,
		    const char *const *params)
{
	if (res)
		*res = NULL;
	if (!db->in_tx) {
		cf_err e = db_ensure(db, err);
		if (e)
			return e;
	}
	size_t i = 0;
	while (i < db->nprepared && db->prepared[i] != sql)
		i++;
	if (i == db->nprepared && i == DB_MAX_PREPARED)
		return db_query(db, res, err, sql, n, params);
	char name[16];
	snprintf(name, sizeof name, "cf%zu", i);
	if (i == db->nprepared) {
		PGresult *p = PQprepare(db->conn, name, sql, n, NULL);
		if (PQresultStatus(p) != PGRES_COMMAND_OK)
			return db_fail(db, p, err);
		PQclear(p);
		db->prepared[db->nprepared++] = sql;
	}
	PGresult *r = PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
	return db_result(db, r, res, err);
}

cf_err db_exec_script(struct db *db, const char *sql, struct cf_error *err)
{
	if (!db->in_tx) {
		cf_err e = db_ensure(db, err);
		if (e)
			return e;
	}
	PGresult *r = PQexec(db->conn, sql);
	return db_result(db, r, NULL, err);
}

cf_err db_begin(struct db *db, enum db_isolation iso, struct cf_error *err)
{
	static const char *const begin[] = {
		[DB_READ_COMMITTED] = "BEGIN ISOLATION LEVEL READ COMMITTED",
		[DB_REPEATABLE_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
		[DB_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
	};
	cf_err e = db_exec_script(db, begin[iso], err);
	if (!e)
		db->in_tx = true;
	return e;
}

cf_err db_commit(struct db *db, struct cf_error *err)
{
	cf_err e = db_exec_script(db, "COMMIT", err);
	db->in_tx = false;
	return e;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->in_tx = false;
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}

bool db_in_transaction(const struct db *db)
{
	return db->in_tx;
}

static bool db_retryable(const struct db *db)
{
	return strcmp(db->sqlstate, "40001") == 0 || strcmp(db->sqlstate, "40P01") == 0;
}

cf_err db_transaction(struct db *db, enum db_isolation iso, db_tx_fn fn, void *arg,
		      struct cf_error *err)
{
	if (db->in_tx) /* joins the caller's transaction, which commits or retries */
		return fn(db, arg, err);
	cf_err e = CF_OK;
	for (int attempt = 1; attempt <= DB_TX_ATTEMPTS; attempt++) {
		db->sqlstate[0] = '\0';
		e = db_begin(db, iso, err);
		if (e)
			return e;
		e = fn(db, arg, err);
		if (!e)
			e = db_commit(db, err);
		if (!e)
			return CF_OK;
		bool retry = db_retryable(db);
		db_rollback(db);
		if (!retry)
			return e;
		log_debug("transaction attempt %d hit %s; retrying", attempt, db->sqlstate);
	}
	return e;
}

struct json_tx {
	db_tx_fn fn;
	void *arg;
	json_t **out;
};

static cf_err json_tx_attempt(struct db *db, void *arg, struct cf_error *err)
{
	struct json_tx *t = arg;
	json_decref(*t->out); /* what an attempt that was rolled back made */
	*t->out = NULL;
	return t->fn(db, t->arg, err);
}

cf_err db_transaction_json(struct db *db, enum db_isolation iso, db_tx_fn fn, void *arg,
			   json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct json_tx t = { fn, arg, out };
	cf_err e = db_transaction(db, iso, json_tx_attempt, &t, err);
	if (e) {
		json_decref(*out);
		*out = NULL;
	}
	return e;
}

json_t *db_page(const PGresult *res, int limit, db_row_fn row, int next_col, enum db_cursor cursor)
{
	json_t *items = json_array();
	int n = PQntuples(res), shown = n > limit ? limit : n;
	for (int i = 0; i < shown; i++)
		json_array_append_new(items, row(res, i));
	json_t *next = json_null();
	if (n > limit)
		next = cursor == DB_CURSOR_NUMBER ? json_integer(db_value_ll(res, shown - 1, next_col))
						  : json_string(db_value(res, shown - 1, next_col));
	return json_pack("{s:o,s:o}", "items", items, "next", next);
}

const char *db_value(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long long db_value_ll(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

bool db_value_bool(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	return v && v[0] == 't';
}

cf_err db_listen(struct db *db, const char *const *channels, struct cf_error *err)
{
	for (const char *const *c = channels; *c; c++) {
		/* a channel is an identifier, not a value: ours are fixed names */
		char *escaped = PQescapeIdentifier(db->conn, *c, strlen(*c));
		if (!escaped)
			return cf_error_set(err, CF_EDB, NULL, "cannot listen on %s", *c);
		char *sql = cf_asprintf("LISTEN %s", escaped);
		PQfreemem(escaped);
		cf_err e = db_exec_script(db, sql, err);
		free(sql);
		if (e)
			return e;
	}
	return CF_OK;
}

cf_err db_wait_notifications(struct db *db, int timeout_ms, db_notify_fn fn, void *arg,
			     struct cf_error *err)
{
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
		return cf_error_set(err, CF_EUNAVAILABLE, NULL, "the listening connection is lost");
	struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return CF_OK; /* interrupted: the caller loops */
	if (r > 0 && (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)) {
		atomic_fetch_add(&db_errors, 1);
		return cf_error_set(err, CF_EUNAVAILABLE, NULL, "the listening connection is lost");
	}
	PGnotify *n;
	while ((n = PQnotifies(db->conn))) {
		fn(n->relname, n->extra, arg);
		PQfreemem(n);
	}
	return CF_OK;
}
