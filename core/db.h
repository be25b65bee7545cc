/*
 * db: PostgreSQL connections through libpq. Queries always travel with
 * parameters (never values in SQL text); hot statements are prepared once per
 * connection. Transactions retry on serialization failure and deadlock, and
 * a lost connection is re-established on the next use.
 */
#ifndef CONFORM_DB_H
#define CONFORM_DB_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "error.h"

struct db; /* one connection; used by one thread at a time */

enum db_isolation { DB_READ_COMMITTED, DB_REPEATABLE_READ, DB_SERIALIZABLE };

/*
 * Opens a connection. On error *out is NULL and err names the problem (the
 * connection string is not repeated: it may hold a password).
 */
cf_err db_connect(const char *conninfo, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/* Closes the connection (safe on NULL). */
void db_close(struct db *db);

/* Re-establishes the connection if it was lost. */
cf_err db_ensure(struct db *db, struct cf_error *err) CF_MUST_CHECK;

/*
 * Runs sql with n text parameters (a NULL parameter is SQL NULL). On success
 * *res (may be NULL when the result is not wanted) holds the result, which the
 * caller frees with PQclear. Errors are mapped to cf codes: unique violation
 * → CF_ECONFLICT, check violation and exceptions raised by conform's triggers
 * → CF_EUNPROCESSABLE, lost connection → CF_EUNAVAILABLE, others CF_EDB.
 */
cf_err db_query(struct db *db, PGresult **res, struct cf_error *err, const char *sql, int n,
		const char *const *params) CF_MUST_CHECK;

/* As db_query, but the statement is prepared once per connection and then
 * executed by name. sql must be a string with static storage: its address
 * identifies the statement. */
cf_err db_query_hot(struct db *db, PGresult **res, struct cf_error *err, const char *sql, int n,
		    const char *const *params) CF_MUST_CHECK;

/* Runs sql (which may hold several statements) with no parameters: for
 * migrations and fixed commands only, never with values in it. */
cf_err db_exec_script(struct db *db, const char *sql, struct cf_error *err) CF_MUST_CHECK;

cf_err db_begin(struct db *db, enum db_isolation iso, struct cf_error *err) CF_MUST_CHECK;
cf_err db_commit(struct db *db, struct cf_error *err) CF_MUST_CHECK;
/* Rolls back if a transaction is open; never fails (a lost connection has
 * rolled back already). */
void db_rollback(struct db *db);
bool db_in_transaction(const struct db *db);

typedef cf_err (*db_tx_fn)(struct db *db, void *arg, struct cf_error *err);

/*
 * Runs fn inside one transaction and commits. fn must only touch the database
 * (it may run more than once: serialization failures and deadlocks are
 * retried up to five times). On error everything is rolled back.
 *
 * Inside a transaction already open (db_begin), fn joins it instead: it runs
 * once, at the open transaction's isolation level, and whoever opened it
 * commits, rolls back or retries. idempotency_run uses this to make a
 * domain change and the record of its Idempotency-Key one transaction.
 */
cf_err db_transaction(struct db *db, enum db_isolation iso, db_tx_fn fn, void *arg,
		      struct cf_error *err) CF_MUST_CHECK;

/*
 * db_transaction for an fn that leaves its result in *out (a jansson value):
 * *out is NULL before each attempt, and freed and NULL again unless the
 * transaction committed, so a failed COMMIT or a retry leaks nothing and
 * returns nothing that did not happen.
 */
cf_err db_transaction_json(struct db *db, enum db_isolation iso, db_tx_fn fn, void *arg,
			   json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* How a page's cursor is written: the column's text, or its number. */
enum db_cursor { DB_CURSOR_TEXT, DB_CURSOR_NUMBER };

/* One result row as JSON (a new reference). */
typedef json_t *(*db_row_fn)(const PGresult *res, int row);

/*
 * A keyset page from res, whose query asked for limit + 1 rows: {"items":
 * row(res, i) for the first limit rows, "next": column next_col of the last
 * of them when there are more, else null}. res stays the caller's.
 */
json_t *db_page(const PGresult *res, int limit, db_row_fn row, int next_col, enum db_cursor cursor);

/* Listens on channels (NULL-terminated) on this connection. */
cf_err db_listen(struct db *db, const char *const *channels, struct cf_error *err) CF_MUST_CHECK;

typedef void (*db_notify_fn)(const char *channel, const char *payload, void *arg);

/*
 * Waits up to timeout_ms for notifications on a listening connection and
 * hands each to fn. CF_EUNAVAILABLE when the connection is lost.
 */
cf_err db_wait_notifications(struct db *db, int timeout_ms, db_notify_fn fn, void *arg,
			     struct cf_error *err) CF_MUST_CHECK;

/*
 * Tries to take the session-level advisory lock named name (the key is
 * hashtextextended(name, 0), as the transaction-level locks of core/ are
 * named) on this connection, without waiting: *got says whether this
 * session holds it now. It is held until the session ends (a lost or closed
 * connection, a killed process); so a caller that holds it must never
 * re-establish this connection behind its own back (db_ensure) and keep
 * believing it holds the lock.
 */
cf_err db_try_session_lock(struct db *db, const char *name, bool *got, struct cf_error *err) CF_MUST_CHECK;

/*
 * On a hot standby: how far behind its primary it is, in seconds: 0 when it
 * has replayed all it received, else the age of the last transaction it
 * replayed. *is_standby false (and *lag 0) on a server that is no standby.
 */
cf_err db_replay_lag(struct db *db, bool *is_standby, double *lag, struct cf_error *err) CF_MUST_CHECK;

/* Whether the connection is up as far as libpq knows (a query that found
 * it lost says no); never reconnects. */
bool db_alive(const struct db *db);

/* The SQLSTATE of the last failed query ("" if none). */
const char *db_last_sqlstate(const struct db *db);

/* Database errors seen by this process (for metrics). */
unsigned long db_error_count(void);

/* SQL text of a timestamptz column as RFC 3339 UTC with seconds ("...Z"). */
#define DB_TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The same with microseconds ("...55.123456Z"), for times that order events. */
#define DB_TS_US(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Result helpers: the value at (row, col), or NULL for SQL NULL (borrowed
 * from res). */
const char *db_value(const PGresult *res, int row, int col);
long long db_value_ll(const PGresult *res, int row, int col);
bool db_value_bool(const PGresult *res, int row, int col);

#endif
