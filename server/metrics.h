/*
 * metrics: Prometheus counters of conformd: requests by route and status, a
 * latency histogram, database errors and connections, issuances and status
 * changes, authentication failures and throttling, the certificate cache,
 * the process (from /proc/self) and, read from the database at scrape time,
 * certificates by status and the transparency log's size and last
 * checkpoint. Counting is lock-free (atomics) so that it costs the hot path
 * almost nothing. Who may read /metrics is an allow-list of networks.
 */
#ifndef CONFORM_METRICS_H
#define CONFORM_METRICS_H

#include <stdbool.h>

#include "buf.h"
#include "error.h"

struct db;
struct server;

/* Prepares counters for the route table. Call once before serving. */
void metrics_init(void);

/* Counts one request. route is an index into the route table, -1 if none. */
void metrics_observe(int route, unsigned status, double seconds);

/* Counts a certificate issued (not an idempotent replay of one). */
void metrics_count_issuance(void);

/* Counts a committed certificate status change; action is the route's
 * verb: "suspend", "reinstate" or "withdraw". */
void metrics_count_status_change(const char *action);

/* Counts a failed authentication, and whether it was answered 429. */
void metrics_count_auth_failure(bool throttled);

/* Sets who may read /metrics: addresses or CIDR blocks separated by commas
 * or spaces; "" allows everyone. Errors name the entry at fault. */
cf_err metrics_allow_init(const char *list, struct cf_error *err) CF_MUST_CHECK;

/* May the client at this address (text, as clientaddr_of writes it) read
 * /metrics? */
bool metrics_allowed(const char *client);

/*
 * Appends the Prometheus text exposition (version 0.0.4) to b. srv gives
 * the in-flight requests and the worker count; db (NULL when the database
 * is not reachable: those families are then left out) the certificates by
 * status and the log's state.
 */
cf_err metrics_render(struct buf *b, const struct server *srv, struct db *db,
		      struct cf_error *err) CF_MUST_CHECK;

#endif
