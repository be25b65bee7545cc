/*
 * metrics: Prometheus counters of conformd: requests by route and status, a
 * latency histogram, database errors. Counting is lock-free (atomics) so that
 * it costs the hot path almost nothing.
 */
#ifndef CONFORM_METRICS_H
#define CONFORM_METRICS_H

#include "buf.h"
#include "error.h"

/* Prepares counters for the route table. Call once before serving. */
void metrics_init(void);

/* Counts one request. route is an index into the route table, -1 if none. */
void metrics_observe(int route, unsigned status, double seconds);

/* Appends the Prometheus text exposition (version 0.0.4) to b. */
cf_err metrics_render(struct buf *b, struct cf_error *err) CF_MUST_CHECK;

#endif
