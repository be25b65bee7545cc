/*
 * Integration tests of /metrics as an operator reads it: every family with
 * its HELP and TYPE, each line valid Prometheus text, the counters moved by
 * what they count (an issuance, a status change, a bad token, throttling,
 * certificate-cache hits and misses), the database-read gauges (certificates
 * by status, the log's size and last checkpoint), and the allow-list
 * (CONFORM_METRICS_ALLOW) that refuses other addresses with 403.
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	/* 127.0.0.1 and a network that is not ours: 127.0.0.2 is neither */
	static const char *const env[] = { "CONFORM_METRICS_ALLOW=127.0.0.1, 10.0.0.0/8, ::1/128",
					   "CONFORM_AUTH_FAIL_LIMIT=2", NULL };
	world_create(&w, "metrics", env);
}

static void teardown(void)
{
	world_destroy(&w);
}

/* The exposition, every line checked against the text format, every
 * sample's family announced by HELP and TYPE before it. New string. */
static char *scrape(void)
{
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", "/metrics", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	char ct[128];
	ck_assert(strncmp(http_header(&r, "Content-Type", ct, sizeof ct), "text/plain; version=0.0.4", 25) == 0);
	regex_t sample, comment;
	ck_assert_int_eq(regcomp(&sample,
		"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*\\})? "
		"[-+]?([0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|\\+Inf|NaN)$", REG_EXTENDED), 0);
	ck_assert_int_eq(regcomp(&comment, "^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$", REG_EXTENDED), 0);
	char *text = cf_strdup(r.body), *save = NULL;
	char typed[128] = "";
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[3];
		if (line[0] == '#') {
			ck_assert_msg(regexec(&comment, line, 3, m, 0) == 0, "bad comment: %s", line);
			if (strncmp(line, "# TYPE ", 7) == 0)
				snprintf(typed, sizeof typed, "%.*s", (int)(m[2].rm_eo - m[2].rm_so),
					 line + m[2].rm_so);
		} else {
			ck_assert_msg(regexec(&sample, line, 2, m, 0) == 0, "bad sample: %s", line);
			/* a histogram's samples carry _bucket, _sum, _count */
			size_t n = strlen(typed);
			ck_assert_msg(n && strncmp(line, typed, n) == 0, "sample %s is not of family %s", line,
				      typed);
		}
	}
	regfree(&sample);
	regfree(&comment);
	free(text);
	char *body = cf_strdup(r.body);
	http_resp_free(&r);
	return body;
}

/* The value of the sample "name" or "name{labels}" exactly; NAN if absent. */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

static void assert_family(const char *text, const char *name, const char *type)
{
	char help[160], typed[160];
	snprintf(help, sizeof help, "# HELP %s ", name);
	snprintf(typed, sizeof typed, "# TYPE %s %s\n", name, type);
	ck_assert_msg(strstr(text, help), "no HELP for %s", name);
	ck_assert_msg(strstr(text, typed), "no TYPE %s for %s", type, name);
}

START_TEST(every_family_is_there_with_help_and_type)
{
	char *t = scrape();
	static const struct {
		const char *name, *type;
	} families[] = {
		{ "process_cpu_seconds_total", "counter" },
		{ "process_resident_memory_bytes", "gauge" },
		{ "process_open_fds", "gauge" },
		{ "process_max_fds", "gauge" },
		{ "process_start_time_seconds", "gauge" },
		{ "conform_build_info", "gauge" },
		{ "conform_http_requests_in_flight", "gauge" },
		{ "conform_http_requests_total", "counter" },
		{ "conform_db_errors_total", "counter" },
		{ "conform_db_connections", "gauge" },
		{ "conform_db_pool_size", "gauge" },
		{ "conform_certificates_issued_total", "counter" },
		{ "conform_certificate_status_changes_total", "counter" },
		{ "conform_certificates", "gauge" },
		{ "conform_auth_failures_total", "counter" },
		{ "conform_throttled_requests_total", "counter" },
		{ "conform_cert_cache_hits_total", "counter" },
		{ "conform_cert_cache_misses_total", "counter" },
		{ "conform_tlog_entries", "gauge" },
		{ "conform_tlog_checkpoint_size", "gauge" },
		{ "conform_webhook_deliveries_pending", "gauge" },
		{ "conform_webhook_deliveries_failed", "gauge" },
		{ "conform_webhook_oldest_due_seconds", "gauge" },
	};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		assert_family(t, families[i].name, families[i].type);
	/* the process numbers are this process's, not zeros */
	ck_assert(value(t, "process_resident_memory_bytes") > 1e6);
	ck_assert(value(t, "process_open_fds") >= 3);
	ck_assert(value(t, "process_max_fds") >= value(t, "process_open_fds"));
	double start = value(t, "process_start_time_seconds");
	double now = (double)time(NULL);
	ck_assert_msg(start > now - 600 && start <= now + 1, "start %f, now %f", start, now);
	ck_assert(value(t, "process_cpu_seconds_total") >= 0);
	ck_assert(strstr(t, "conform_build_info{version=\"" CONFORM_VERSION "\","));
	/* this very request is in flight while it is rendered */
	ck_assert(value(t, "conform_http_requests_in_flight") >= 1);
	ck_assert(value(t, "conform_db_connections") >= 1);
	ck_assert(value(t, "conform_db_pool_size") >= 1);
	free(t);
}
END_TEST

START_TEST(counters_move_with_what_they_count)
{
	char *t = scrape();
	double issued = value(t, "conform_certificates_issued_total");
	double suspended = value(t, "conform_certificate_status_changes_total{action=\"suspend\"}");
	double valid = value(t, "conform_certificates{status=\"valid\"}");
	double entries = value(t, "conform_tlog_entries");
	double failures = value(t, "conform_auth_failures_total");
	double throttled = value(t, "conform_throttled_requests_total");
	ck_assert(!isnan(issued) && !isnan(suspended) && !isnan(valid) && !isnan(entries));
	free(t);

	char serial[40], path[128];
	world_certificate(&w, serial);
	t = scrape();
	ck_assert(value(t, "conform_certificates_issued_total") == issued + 1);
	ck_assert(value(t, "conform_certificates{status=\"valid\"}") == valid + 1);
	ck_assert(value(t, "conform_tlog_entries") == entries + 1);
	free(t);

	/* a miss fills the cache, then a hit; the cache is on once its
	 * listening connection is up (and an entry may be dropped when a
	 * checkpoint covers it), so this polls, bounded */
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	t = scrape();
	double h0 = value(t, "conform_cert_cache_hits_total");
	double m0 = value(t, "conform_cert_cache_misses_total");
	free(t);
	bool moved = false;
	for (int i = 0; i < 100 && !moved; i++) {
		json_decref(testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200));
		json_decref(testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200));
		t = scrape();
		moved = value(t, "conform_cert_cache_misses_total") > m0 &&
			value(t, "conform_cert_cache_hits_total") > h0;
		free(t);
		if (!moved)
			usleep(50000);
	}
	ck_assert_msg(moved, "the certificate cache counted no miss and hit within 5 s");

	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", serial);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet is open\"}", 200));
	t = scrape();
	ck_assert(value(t, "conform_certificate_status_changes_total{action=\"suspend\"}") == suspended + 1);
	ck_assert(value(t, "conform_certificates{status=\"suspended\"}") >= 1);
	ck_assert(value(t, "conform_certificates{status=\"valid\"}") == valid);
	free(t);

	/* superseded by a newer certificate: a series of its own (0 before) */
	ck_assert(value(t = scrape(), "conform_certificates{status=\"superseded\"}") == 0);
	free(t);
	char successor[40];
	world_certificate(&w, successor);
	world_supersede(&w, serial, successor);
	t = scrape();
	ck_assert(value(t, "conform_certificates{status=\"superseded\"}") == 1);
	ck_assert(value(t, "conform_certificates{status=\"valid\"}") == valid + 1);
	free(t);

	/* the log's checkpoint: its size and a small age once signed */
	world_wait_checkpoint(&w, (long long)entries + 1);
	t = scrape();
	ck_assert(value(t, "conform_tlog_checkpoint_size") >= entries + 1);
	assert_family(t, "conform_tlog_checkpoint_age_seconds", "gauge");
	double age = value(t, "conform_tlog_checkpoint_age_seconds");
	ck_assert_msg(age >= 0 && age < 600, "checkpoint age %f", age);
	free(t);

	/* bad tokens from their own address (limit 2 a minute): three
	 * failures, the last of them answered 429 */
	http_set_source("127.0.0.5");
	long status;
	int refused = 0;
	for (int i = 0; i < 3; i++) {
		json_decref(testsrv_api(&w.srv, "GET", "/v1/me", "cfm_notatoken", NULL, &status));
		ck_assert(status == 401 || status == 429);
		refused += status == 429;
	}
	http_set_source(NULL);
	ck_assert_int_ge(refused, 1);
	t = scrape();
	ck_assert(value(t, "conform_auth_failures_total") == failures + 3);
	ck_assert(value(t, "conform_throttled_requests_total") == throttled + refused);
	free(t);
}
END_TEST

START_TEST(only_listed_addresses_read_the_metrics)
{
	struct http_resp r;
	http_set_source("127.0.0.2");
	testsrv_req(&w.srv, &r, "GET", "/metrics", NULL, NULL);
	http_set_source(NULL);
	ck_assert_int_eq(r.status, 403);
	char ct[128];
	ck_assert_str_eq(http_header(&r, "Content-Type", ct, sizeof ct), "application/problem+json");
	json_t *p = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), 403);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "127.0.0.2 may not read the metrics"), "%s",
		      jsonx_str(p, "detail"));
	ck_assert(strstr(r.body, "conform_") == NULL);
	json_decref(p);
	http_resp_free(&r);
	/* the rest of the service answers 127.0.0.2 as before */
	http_set_source("127.0.0.2");
	testsrv_req(&w.srv, &r, "GET", "/v1/health", NULL, NULL);
	http_set_source(NULL);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	/* the listed address is admitted */
	free(scrape());
}
END_TEST

/* A list that does not parse stops conformd at start, naming the setting. */
START_TEST(a_bad_allow_list_is_refused_at_start)
{
	char *bin = testsrv_binary("conformd");
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "CONFORM_METRICS_ALLOW=10.0.0.0/33 CONFORM_DATABASE_URL=postgresql:///nowhere "
		 "CONFORM_LISTEN=127.0.0.1:0 %s 2>&1",
		 bin);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	char out[4096];
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	int rc = pclose(f);
	free(bin);
	ck_assert_int_ne(rc, 0);
	ck_assert_msg(strstr(out, "metrics-allow") || strstr(out, "METRICS_ALLOW"), "%s", out);
	ck_assert_msg(strstr(out, "prefix"), "%s", out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_family_is_there_with_help_and_type);
	tcase_add_test(tc, counters_move_with_what_they_count);
	tcase_add_test(tc, only_listed_addresses_read_the_metrics);
	tcase_add_test(tc, a_bad_allow_list_is_refused_at_start);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
