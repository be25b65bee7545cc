/*
 * metrics: lock-free request counters and their Prometheus text (see
 * metrics.h). Requests are counted per route and exact status code; the
 * latency histogram is per route too, with buckets in microseconds so that
 * sums stay integral.
 */
#include "metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "certcache.h"
#include "certificate.h"
#include "cosigning.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "router.h"
#include "server.h"
#include "tlog.h"
#include "webhook.h"
#include "logsigner.h"
#include "workerdb.h"

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

static const char *const change_kinds[] = { "suspend", "reinstate", "withdraw" };
#define NCHANGES (sizeof change_kinds / sizeof change_kinds[0])

static atomic_ulong issuances, changes[NCHANGES], auth_failures, throttled;

/* The /metrics allow-list: IPv6 networks, IPv4 ones in their mapped form. */
#define ALLOW_MAX 64
static struct net {
	struct in6_addr addr;
	int bits;
} allow[ALLOW_MAX];
static size_t nallow;

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

void metrics_count_issuance(void)
{
	atomic_fetch_add_explicit(&issuances, 1, memory_order_relaxed);
}

void metrics_count_status_change(const char *action)
{
	for (size_t i = 0; i < NCHANGES; i++)
		if (strcmp(action, change_kinds[i]) == 0)
			atomic_fetch_add_explicit(&changes[i], 1, memory_order_relaxed);
}

void metrics_count_auth_failure(bool was_throttled)
{
	atomic_fetch_add_explicit(&auth_failures, 1, memory_order_relaxed);
	if (was_throttled)
		atomic_fetch_add_explicit(&throttled, 1, memory_order_relaxed);
}

/* Parses "addr" or "addr/bits" (n characters) into an IPv6 network. */
static bool net_parse(const char *s, size_t n, struct net *out)
{
	char text[64];
	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	struct in_addr v4;
	int max;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memset(&out->addr, 0, sizeof out->addr);
		out->addr.s6_addr[10] = 0xff;
		out->addr.s6_addr[11] = 0xff;
		memcpy(&out->addr.s6_addr[12], &v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, text, &out->addr) == 1) {
		max = 128;
	} else {
		return false;
	}
	long bits = max;
	if (slash) {
		char *end = NULL;
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > max)
			return false;
	}
	out->bits = (int)bits + (max == 32 ? 96 : 0);
	return true;
}

static bool net_contains(const struct net *net, const struct in6_addr *a)
{
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr.s6_addr, a->s6_addr, (size_t)full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr.s6_addr[full] & mask) == (a->s6_addr[full] & mask);
}

cf_err metrics_allow_init(const char *list, struct cf_error *err)
{
	nallow = 0;
	const char *sep = ", \t";
	for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
		size_t n = strcspn(p, sep);
		if (nallow == ALLOW_MAX)
			return cf_error_set(err, CF_EINVAL, NULL, "at most %d entries", ALLOW_MAX);
		if (!net_parse(p, n, &allow[nallow]))
			return cf_error_set(err, CF_EINVAL, NULL,
					    "'%.*s' is not an IP address or CIDR block",
					    (int)(n > 60 ? 60 : n), p);
		nallow++;
		p += n;
	}
	return CF_OK;
}

bool metrics_allowed(const char *client)
{
	if (!nallow)
		return true;
	struct net c;
	if (!net_parse(client, strlen(client), &c))
		return false; /* "unknown": not an IP peer */
	for (size_t i = 0; i < nallow; i++)
		if (net_contains(&allow[i], &c.addr))
			return true;
	return false;
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

/* The process's own numbers from /proc/self (Linux), as the Prometheus
 * client libraries name them. A file that cannot be read leaves its
 * families out rather than report a wrong value. */
static cf_err render_process(struct buf *b, struct cf_error *err)
{
	cf_err e = CF_OK;
	long ticks = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	char line[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	bool have_stat = false;
	unsigned long long utime = 0, stime = 0, start = 0;
	long long rss = 0;
	if (f) {
		size_t n = fread(line, 1, sizeof line - 1, f);
		line[n] = '\0';
		fclose(f);
		/* after the command name, which may hold spaces and ')' */
		const char *p = strrchr(line, ')');
		have_stat = p && sscanf(p + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
			"%*d %llu %*u %lld", &utime, &stime, &start, &rss) == 4;
	}
	long long btime = -1;
	f = fopen("/proc/stat", "r");
	if (f) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "btime %lld", &btime) == 1)
				break;
		fclose(f);
	}
	if (have_stat && ticks > 0) {
		e = buf_printf(b, err,
			"# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n"
			"# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n"
			"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			"# TYPE process_resident_memory_bytes gauge\n"
			"process_resident_memory_bytes %lld\n",
			(double)(utime + stime) / (double)ticks, rss * page);
		if (!e && btime >= 0)
			e = buf_printf(b, err,
				"# HELP process_start_time_seconds Start time of the process since the Unix "
				"epoch, in seconds.\n"
				"# TYPE process_start_time_seconds gauge\n"
				"process_start_time_seconds %.2f\n",
				(double)btime + (double)start / (double)ticks);
	}
	long fds = -1;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		fds = 0;
		for (struct dirent *de; (de = readdir(d));)
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the directory's own descriptor */
	}
	if (!e && fds >= 0)
		e = buf_printf(b, err,
			"# HELP process_open_fds Number of open file descriptors.\n"
			"# TYPE process_open_fds gauge\n"
			"process_open_fds %ld\n", fds);
	struct rlimit rl;
	if (!e && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		e = buf_printf(b, err,
			"# HELP process_max_fds Maximum number of open file descriptors.\n"
			"# TYPE process_max_fds gauge\n"
			"process_max_fds %llu\n",
			rl.rlim_cur == RLIM_INFINITY ? 0ULL : (unsigned long long)rl.rlim_cur);
	return e;
}

/* What is read from the database at scrape time: two cheap queries. */
static cf_err render_database(struct buf *b, struct db *db, struct cf_error *err)
{
	struct cf_error qerr;
	json_t *by_status = NULL;
	struct tlog_stats ts;
	if (certificate_count_by_status(db, &by_status, &qerr) || tlog_stats(db, &ts, &qerr)) {
		json_decref(by_status);
		log_warn("metrics: %s", qerr.detail);
		return CF_OK; /* counted in conform_db_errors_total; the rest still answers */
	}
	/* every status is written, 0 included, so that a series never vanishes */
	static const char *const statuses[] = { "valid", "suspended", "withdrawn", "superseded",
						"expired", "key_compromised" };
	cf_err e = buf_puts(b,
		"# HELP conform_certificates Certificates by their effective status now.\n"
		"# TYPE conform_certificates gauge\n", err);
	for (size_t i = 0; !e && i < sizeof statuses / sizeof statuses[0]; i++)
		e = buf_printf(b, err, "conform_certificates{status=\"%s\"} %lld\n", statuses[i],
			       (long long)json_integer_value(json_object_get(by_status, statuses[i])));
	json_decref(by_status);
	if (!e)
		e = buf_printf(b, err,
			"# HELP conform_tlog_entries Entries in the transparency log.\n"
			"# TYPE conform_tlog_entries gauge\n"
			"conform_tlog_entries %lld\n"
			"# HELP conform_tlog_checkpoint_size Tree size of the latest signed checkpoint "
			"(0 before the first).\n"
			"# TYPE conform_tlog_checkpoint_size gauge\n"
			"conform_tlog_checkpoint_size %lld\n",
			ts.entries, ts.checkpoint_size);
	struct webhook_stats ws;
	if (!e && webhook_stats(db, &ws, &qerr) == CF_OK)
		e = buf_printf(b, err,
			"# HELP conform_webhook_deliveries_pending Webhook deliveries not yet delivered "
			"and still retried.\n"
			"# TYPE conform_webhook_deliveries_pending gauge\n"
			"conform_webhook_deliveries_pending %lld\n"
			"# HELP conform_webhook_deliveries_failed Webhook deliveries retried for "
			"webhook-retry-for without success (until replayed).\n"
			"# TYPE conform_webhook_deliveries_failed gauge\n"
			"conform_webhook_deliveries_failed %lld\n"
			"# HELP conform_webhook_oldest_due_seconds How long the oldest due delivery has "
			"waited for a delivery thread (0: none is waiting).\n"
			"# TYPE conform_webhook_oldest_due_seconds gauge\n"
			"conform_webhook_oldest_due_seconds %.3f\n",
			ws.pending, ws.failed, ws.oldest_due_age);
	if (!e && ts.checkpoint_age >= 0)
		e = buf_printf(b, err,
			"# HELP conform_tlog_checkpoint_age_seconds Seconds since the latest signed "
			"checkpoint (absent before the first).\n"
			"# TYPE conform_tlog_checkpoint_age_seconds gauge\n"
			"conform_tlog_checkpoint_age_seconds %.3f\n",
			ts.checkpoint_age);
	return e;
}

static cf_err render_counters(struct buf *b, const struct server *srv, struct cf_error *err)
{
	unsigned long hits, misses;
	certcache_stats(&hits, &misses);
	cf_err e = buf_printf(b, err,
		"# HELP conform_build_info The running conformd and its libraries.\n"
		"# TYPE conform_build_info gauge\n"
		"conform_build_info{version=\"%s\",libmicrohttpd=\"%s\",openssl=\"%s\","
		"libpq=\"%d\"} 1\n"
		"# HELP conform_http_requests_in_flight Requests begun and not yet completed.\n"
		"# TYPE conform_http_requests_in_flight gauge\n"
		"conform_http_requests_in_flight %d\n"
		"# HELP conform_db_connections Open database connections of worker and background "
		"threads.\n"
		"# TYPE conform_db_connections gauge\n"
		"conform_db_connections %d\n"
		"# HELP conform_db_pool_size HTTP worker threads, each with at most one database "
		"connection of its own.\n"
		"# TYPE conform_db_pool_size gauge\n"
		"conform_db_pool_size %u\n"
		"# HELP conform_certificates_issued_total Certificates issued by this process.\n"
		"# TYPE conform_certificates_issued_total counter\n"
		"conform_certificates_issued_total %lu\n"
		"# HELP conform_certificate_status_changes_total Certificate status changes by this "
		"process, by action.\n"
		"# TYPE conform_certificate_status_changes_total counter\n",
		CONFORM_VERSION, MHD_get_version(), OpenSSL_version(OPENSSL_VERSION_STRING),
		PQlibVersion(), atomic_load(&srv->in_flight), workerdb_open_count(), srv->threads,
		atomic_load(&issuances));
	for (size_t i = 0; !e && i < NCHANGES; i++)
		e = buf_printf(b, err, "conform_certificate_status_changes_total{action=\"%s\"} %lu\n",
			       change_kinds[i], atomic_load(&changes[i]));
	if (!e)
		e = buf_printf(b, err,
			"# HELP conform_auth_failures_total Failed authentications (bad, unknown or "
			"malformed tokens).\n"
			"# TYPE conform_auth_failures_total counter\n"
			"conform_auth_failures_total %lu\n"
			"# HELP conform_throttled_requests_total Failed authentications answered 429 "
			"because their address failed too often.\n"
			"# TYPE conform_throttled_requests_total counter\n"
			"conform_throttled_requests_total %lu\n"
			"# HELP conform_cert_cache_hits_total Certificate reads answered from the cache.\n"
			"# TYPE conform_cert_cache_hits_total counter\n"
			"conform_cert_cache_hits_total %lu\n"
			"# HELP conform_cert_cache_misses_total Certificate reads the cache could not "
			"answer while on.\n"
			"# TYPE conform_cert_cache_misses_total counter\n"
			"conform_cert_cache_misses_total %lu\n",
			atomic_load(&auth_failures), atomic_load(&throttled), hits, misses);
	unsigned long rreads, rerrors, rfallbacks;
	int rup;
	workerdb_replica_stats(&rreads, &rerrors, &rfallbacks, &rup);
	if (!e)
		e = buf_printf(b, err,
			"# HELP conform_log_signer 1 while this process holds the checkpoint signing "
			"lock (one conformd of a database at a time).\n"
			"# TYPE conform_log_signer gauge\n"
			"conform_log_signer %d\n",
			logsigner_holding() ? 1 : 0);
	if (!e)
		e = cosigning_metrics(b, err);
	if (!e && srv->cfg->database_read_url[0])
		e = buf_printf(b, err,
			"# HELP conform_replica_up 1 while the read replica answers, 0 while reads go "
			"to the primary after it failed.\n"
			"# TYPE conform_replica_up gauge\n"
			"conform_replica_up %d\n"
			"# HELP conform_replica_reads_total Public reads handed to the read replica.\n"
			"# TYPE conform_replica_reads_total counter\n"
			"conform_replica_reads_total %lu\n"
			"# HELP conform_replica_errors_total Failures of the read replica (connection "
			"refused or lost).\n"
			"# TYPE conform_replica_errors_total counter\n"
			"conform_replica_errors_total %lu\n"
			"# HELP conform_replica_fallbacks_total Public reads made on the primary instead: "
			"the replica away, or its answer a 404 or an error.\n"
			"# TYPE conform_replica_fallbacks_total counter\n"
			"conform_replica_fallbacks_total %lu\n",
			rup, rreads, rerrors, rfallbacks);
	return e;
}

cf_err metrics_render(struct buf *b, const struct server *srv, struct db *db, struct cf_error *err)
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
	if (!e)
		e = render_counters(b, srv, err);
	if (!e)
		e = render_process(b, err);
	if (!e && db)
		e = render_database(b, db, err);
	return e;
}
