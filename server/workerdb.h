/*
 * workerdb: one PostgreSQL connection per worker thread, and one more to the
 * read replica (a hot standby) when one is configured. A thread's
 * connection is opened on its first use and re-established after a failure;
 * all of them are closed together when the server stops.
 *
 * The replica's health is one state for the process: after a failure
 * (workerdb_replica_failed) it is not used for WORKERDB_REPLICA_BACKOFF_MS,
 * so that while it is away each request goes straight to the primary
 * instead of first waiting for a refused or timed-out connection.
 */
#ifndef CONFORM_WORKERDB_H
#define CONFORM_WORKERDB_H

#include <stdbool.h>

#include "db.h"
#include "error.h"

#define WORKERDB_REPLICA_BACKOFF_MS 2000

/* The calling thread's connection to conninfo (borrowed: do not close). */
cf_err workerdb_get(const char *conninfo, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The calling thread's connection to the replica at conninfo (borrowed). A
 * failure to connect marks the replica failed (the caller falls back to the
 * primary).
 */
cf_err workerdb_get_read(const char *conninfo, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/* Records that a request reads from the replica. */
void workerdb_count_replica_read(void);

/* Whether the replica may be tried now: not within the back-off after a
 * failure. */
bool workerdb_replica_usable(void);

/* Records that the replica failed a request (connecting, or a query on it):
 * it is left alone for the back-off. Counts a replica error. */
void workerdb_replica_failed(void);

/* Records that the replica answered (clears the back-off). */
void workerdb_replica_ok(void);

/* Records that a read meant for the replica was made on the primary. */
void workerdb_count_fallback(void);

/* For metrics: reads handed to the replica, its failures, reads made on the
 * primary instead, and whether it is usable now (1) or backed off (0). */
void workerdb_replica_stats(unsigned long *reads, unsigned long *errors, unsigned long *fallbacks,
			    int *up);

/* How many worker connections are open (for metrics). */
int workerdb_open_count(void);

/* Closes every thread's connection. Call only when no worker runs. */
void workerdb_close_all(void);

#endif
