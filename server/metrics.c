/*
 * metrics: lock-free request counters and their Prometheus text (see
 * metrics.h). Requests are counted per route and exact status code; the
 * latency histogram is per route too, with buckets in microseconds so that
 * sums stay integral.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "db.h"
#include "mem.h"
#include "router.h"

#define STATUS_MIN 100
#define STATUS_SPAN 500 /* 100..599 */

static const double bucket_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])

struct route_metrics {
	atomic_ulong status[STATUS_SPAN];
	atomic_ulong buckets[NBUCKETS + 1]; /* last: +Inf */
	atomic_ulong sum_us;
	atomic_ulong count;
};

/* One slot per route, plus the last for requests that matched none. */
static struct route_metrics *slots;
static size_t nslots;

void metrics_init(void)
{
	if (slots)
		return;
	size_t n;
	router_routes(&n);
	nslots = n + 1;
	slots = cf_calloc(nslots, sizeof *slots);
}

void metrics_observe(int route, unsigned status, double seconds)
{
	if (!slots)
		return;
	struct route_metrics *m = &slots[route >= 0 && (size_t)route < nslots - 1 ? (size_t)route : nslots - 1];
	if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SPAN)
		atomic_fetch_add_explicit(&m->status[status - STATUS_MIN], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < NBUCKETS && seconds > bucket_bounds[b])
		b++;
	atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

static void route_labels(size_t i, const struct route *routes, size_t nroutes, const char **method,
			 const char **pattern)
{
	if (i < nroutes) {
		*method = routes[i].method;
		*pattern = routes[i].pattern;
	} else {
		*method = "";
		*pattern = "unmatched";
	}
}

cf_err metrics_render(struct buf *b, struct cf_error *err)
{
	size_t nroutes;
	const struct route *routes = router_routes(&nroutes);
	cf_err e = buf_puts(b,
		"# HELP conform_http_requests_total HTTP requests answered, by route and status.\n"
		"# TYPE conform_http_requests_total counter\n", err);
	for (size_t i = 0; !e && i < nslots; i++) {
		const char *method, *pattern;
		route_labels(i, routes, nroutes, &method, &pattern);
		for (unsigned s = 0; !e && s < STATUS_SPAN; s++) {
			unsigned long v = atomic_load(&slots[i].status[s]);
			if (v)
				e = buf_printf(b, err,
					       "conform_http_requests_total{method=\"%s\",route=\"%s\","
					       "status=\"%u\"} %lu\n",
					       method, pattern, s + STATUS_MIN, v);
		}
	}
	if (!e)
		e = buf_puts(b,
			"# HELP conform_http_request_duration_seconds Time from the first byte of a "
			"request to its completion, by route.\n"
			"# TYPE conform_http_request_duration_seconds histogram\n", err);
	for (size_t i = 0; !e && i < nslots; i++) {
		unsigned long count = atomic_load(&slots[i].count);
		if (!count)
			continue;
		const char *method, *pattern;
		route_labels(i, routes, nroutes, &method, &pattern);
		unsigned long cumulative = 0;
		for (size_t k = 0; !e && k <= NBUCKETS; k++) {
			cumulative += atomic_load(&slots[i].buckets[k]);
			if (k < NBUCKETS)
				e = buf_printf(b, err,
					       "conform_http_request_duration_seconds_bucket{method=\"%s\","
					       "route=\"%s\",le=\"%g\"} %lu\n",
					       method, pattern, bucket_bounds[k], cumulative);
			else
				e = buf_printf(b, err,
					       "conform_http_request_duration_seconds_bucket{method=\"%s\","
					       "route=\"%s\",le=\"+Inf\"} %lu\n",
					       method, pattern, cumulative);
		}
		if (!e)
			e = buf_printf(b, err,
				       "conform_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} "
				       "%.6f\n"
				       "conform_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} "
				       "%lu\n",
				       method, pattern, (double)atomic_load(&slots[i].sum_us) / 1e6, method,
				       pattern, cumulative);
	}
	if (!e)
		e = buf_printf(b, err,
			       "# HELP conform_db_errors_total Failed database connections and queries.\n"
			       "# TYPE conform_db_errors_total counter\n"
			       "conform_db_errors_total %lu\n",
			       db_error_count());
	return e;
}
