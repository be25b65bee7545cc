/*
 * workerdb: one PostgreSQL connection per worker thread. A thread's
 * connection is opened on its first use and re-established after a failure;
 * all of them are closed together when the server stops.
 */
#ifndef CONFORM_WORKERDB_H
#define CONFORM_WORKERDB_H

#include "db.h"
#include "error.h"

/* The calling thread's connection to conninfo (borrowed: do not close). */
cf_err workerdb_get(const char *conninfo, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/* How many worker connections are open (for metrics). */
int workerdb_open_count(void);

/* Closes every thread's connection. Call only when no worker runs. */
void workerdb_close_all(void);

#endif
