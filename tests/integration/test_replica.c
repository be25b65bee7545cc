/*
 * A read replica (docs/operations.md "A read replica"): conformd with
 * CONFORM_DATABASE_READ_URL on a real streaming replica (pg_basebackup -R)
 * of a primary this suite starts (tests/deploy/replica.sh, which this
 * program runs itself under). Public reads come from the replica, shown by
 * the replica's own statistics and by a read that misses what the paused
 * replica has not replayed; a certificate issued a moment ago is never a
 * 404 (the primary is asked first); while the replica is down every read
 * works from the primary and /v1/ready says degraded (200); when it is back,
 * ready again and reads go to it again.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "testsrv.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static struct testsrv reader; /* conformd with the replica */

/* SQL as the superuser on the replica (not through conformd). */
static char *replica_sql(const char *sql, const char *param)
{
	char *url = cf_asprintf("host=%s dbname=postgres user=postgres",
				getenv("CONFORM_TEST_REPLICA_HOST"));
	PGconn *c = PQconnectdb(url);
	free(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "replica: %s", PQerrorMessage(c));
	const char *p[] = { param };
	PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? p : NULL, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	char *v = cf_strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

static void replica_ctl(const char *what)
{
	char *cmd = cf_asprintf("%s %s >/dev/null", getenv("CONFORM_TEST_REPLICA_CTL"), what);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	free(cmd);
}

/* How many certificates GET /v1/certificates?q=serial lists through s. */
static size_t listed(const struct testsrv *s, const char *serial)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/certificates?q=%s", serial);
	json_t *page = testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
	size_t n = json_array_size(json_object_get(page, "items"));
	json_decref(page);
	return n;
}

/* /v1/ready of s: its status member (copied to out); asserts 200. */
static void ready(const struct testsrv *s, char *out, size_t size, char *replica, size_t rsize)
{
	json_t *r = testsrv_api_ok(s, "GET", "/v1/ready", NULL, NULL, 200);
	snprintf(out, size, "%s", jsonx_str(r, "status"));
	const char *rep = jsonx_str(r, "replica");
	snprintf(replica, rsize, "%s", rep ? rep : "");
	json_decref(r);
}

static void wait_ready(const struct testsrv *s, const char *status, const char *replica, double limit)
{
	char st[32] = "", rep[32] = "";
	double until = tsupport_now() + limit;
	while (tsupport_now() < until) {
		ready(s, st, sizeof st, rep, sizeof rep);
		if (strcmp(st, status) == 0 && strcmp(rep, replica) == 0)
			return;
		usleep(100000);
	}
	ck_abort_msg("/v1/ready said %s (replica %s), not %s (replica %s), for %.0f s", st, rep,
		     status, replica, limit);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "replica", NULL);
	char *read_url = testsrv_read_url_env(&w.db, getenv("CONFORM_TEST_REPLICA_HOST"));
	const char *env[] = { w.signer.env, read_url, NULL };
	testsrv_start(&reader, &w.db, env);
	free(read_url);
}

static void teardown(void)
{
	testsrv_stop(&reader);
	world_destroy(&w);
	curl_global_cleanup();
}

START_TEST(public_reads_come_from_the_replica_and_fall_back_to_the_primary)
{
	/* the plain conformd (w.srv) says nothing of a replica */
	char st[32], rep[32];
	ready(&w.srv, st, sizeof st, rep, sizeof rep);
	ck_assert_str_eq(st, "ready");
	ck_assert_str_eq(rep, "");
	wait_ready(&reader, "ready", "ok", 10);
	json_t *r = testsrv_api_ok(&reader, "GET", "/v1/ready", NULL, NULL, 200);
	ck_assert(json_is_true(json_object_get(r, "replica_standby")));
	ck_assert(json_number_value(json_object_get(r, "replica_lag_seconds")) >= 0);
	json_decref(r);

	/* issued on the primary, read through the replica within the lag */
	char serial[40];
	world_certificate(&w, serial);
	double issued = tsupport_now();
	double reads = testsrv_metric(&reader, "conform_replica_reads_total");
	while (listed(&reader, serial) == 0)
		ck_assert_msg(tsupport_now() - issued < 10, "the replica did not show %s within 10 s", serial);
	printf("replica: the register showed the new certificate after %.3f s\n", tsupport_now() - issued);
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_reads_total") > reads, "no read went to the replica");
	/* the replica's own view: conformd's sessions on it, and reads there */
	char *sessions = replica_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
				     "usename = 'conform_app'", w.db.name);
	ck_assert_msg(atoi(sessions) >= 1, "no conformd session on the replica");
	free(sessions);

	/* the replica paused: a read that lists misses what it has not
	 * replayed (so it was the replica that answered), and a certificate
	 * issued meanwhile is still no 404 anywhere: the primary is asked */
	free(replica_sql("SELECT pg_wal_replay_pause()::text", NULL));
	char late[40], path[160];
	world_certificate(&w, late);
	double fallbacks = testsrv_metric(&reader, "conform_replica_fallbacks_total");
	ck_assert_int_eq(listed(&reader, late), 0);
	/* ready shows the lag (still ready: a replica behind is not away) */
	double lag = 0, lag_until = tsupport_now() + 10;
	while (lag <= 0) {
		ck_assert_msg(tsupport_now() < lag_until, "/v1/ready showed no lag of the paused replica");
		json_t *rd = testsrv_api_ok(&reader, "GET", "/v1/ready", NULL, NULL, 200);
		ck_assert_str_eq(jsonx_str(rd, "status"), "ready");
		lag = json_number_value(json_object_get(rd, "replica_lag_seconds"));
		json_decref(rd);
		if (lag <= 0)
			usleep(100000);
	}
	snprintf(path, sizeof path, "/v1/certificates/%s", late);
	json_t *c = testsrv_api_ok(&reader, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(c, "serial"), late);
	json_decref(c);
	snprintf(path, sizeof path, "/verify/%s", late);
	free(testsrv_get_text(&reader, path, 200));
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", late);
	free(testsrv_get_text(&reader, path, 200));
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_fallbacks_total") >= fallbacks + 2,
		      "the 404s of the replica were not asked of the primary");
	/* what is not anywhere is still 404 */
	free(testsrv_get_text(&reader, "/verify/CF-NO-SUCH-SERIAL", 404));
	free(replica_sql("SELECT pg_wal_replay_resume()::text", NULL));
	issued = tsupport_now();
	while (listed(&reader, late) == 0)
		ck_assert_msg(tsupport_now() - issued < 10, "the replica did not catch up within 10 s");

	/* the replica stops: every read works from the primary, ready says
	 * degraded with 200 (the instance still serves everything) */
	replica_ctl("stop -m fast");
	double stopped = tsupport_now();
	ck_assert_int_eq(listed(&reader, late), 1);
	snprintf(path, sizeof path, "/verify/%s", serial);
	free(testsrv_get_text(&reader, path, 200));
	free(testsrv_get_text(&reader, "/v1/schemes", 200));
	ready(&reader, st, sizeof st, rep, sizeof rep);
	ck_assert_str_eq(st, "degraded");
	ck_assert_str_eq(rep, "unreachable");
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_up") == 0, "conform_replica_up is not 0");
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_errors_total") >= 1, "no replica error counted");
	/* and keeps working, fast, while it is away */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(listed(&reader, serial), 1);
	printf("replica: 20 reads with the replica down in %.3f s\n", tsupport_now() - stopped);

	/* back: ready again, and reads go to it again */
	replica_ctl("start");
	wait_ready(&reader, "ready", "ok", 30);
	reads = testsrv_metric(&reader, "conform_replica_reads_total");
	ck_assert_int_eq(listed(&reader, late), 1);
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_reads_total") > reads,
		      "reads did not return to the replica");
	ck_assert_msg(testsrv_metric(&reader, "conform_replica_up") == 1, "conform_replica_up is not 1");
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	if (!getenv("CONFORM_TEST_REPLICA_CTL")) {
		/* the clusters come from the script, which removes them on exit */
		const char *src = getenv("CONFORM_SOURCE_DIR");
		if (!src) {
			fprintf(stderr, "CONFORM_SOURCE_DIR is not set: run through tests/run.sh\n");
			return 1;
		}
		char *script = cf_asprintf("%s/tests/deploy/replica.sh", src);
		execl("/bin/sh", "sh", script, argv[0], (char *)NULL);
		perror(script);
		return 1;
	}
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("replica");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, public_reads_come_from_the_replica_and_fall_back_to_the_primary);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
