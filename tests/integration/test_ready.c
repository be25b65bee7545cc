/*
 * Integration test: readiness follows the database. PostgreSQL is stopped
 * under a running conformd: /v1/ready must answer 503 within 2 s, and 200
 * within 5 s of PostgreSQL's return, without a restart of conformd. This
 * suite stops the shared test cluster, so ctest runs it alone (RUN_SERIAL).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

static void pg_ctl(const char *action)
{
	const char *ctl = getenv("CONFORM_TEST_PG_CTL");
	ck_assert_msg(ctl && *ctl, "CONFORM_TEST_PG_CTL is not set: run through tests/run.sh");
	char *cmd = cf_asprintf("%s %s >/dev/null", ctl, action);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	free(cmd);
}

static long ready_status(const struct testsrv *srv)
{
	struct http_resp r;
	testsrv_req(srv, &r, "GET", "/v1/ready", NULL, NULL);
	long status = r.status;
	if (status == 503) {
		char ct[64];
		ck_assert_str_eq(http_header(&r, "Content-Type", ct, sizeof ct), "application/problem+json");
	}
	http_resp_free(&r);
	return status;
}

START_TEST(ready_follows_the_database)
{
	struct testdb db;
	struct testsrv srv;
	testdb_create(&db, "ready");
	testsrv_start(&srv, &db, NULL);
	pid_t pid = srv.pid;
	ck_assert_int_eq(ready_status(&srv), 200);

	pg_ctl("stop -m fast");
	double t0 = tsupport_now();
	long st = 0;
	while ((st = ready_status(&srv)) != 503 && tsupport_now() - t0 < 2.0)
		usleep(50000);
	double down = tsupport_now() - t0;
	ck_assert_msg(st == 503, "still %ld after %.2f s without PostgreSQL", st, down);
	ck_assert(down < 2.0);
	/* liveness does not depend on the database */
	struct http_resp r;
	testsrv_req(&srv, &r, "GET", "/v1/health", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);

	pg_ctl("start");
	t0 = tsupport_now();
	while ((st = ready_status(&srv)) != 200 && tsupport_now() - t0 < 5.0)
		usleep(100000);
	double up = tsupport_now() - t0;
	ck_assert_msg(st == 200, "still %ld %.2f s after PostgreSQL came back", st, up);
	ck_assert(up < 5.0);
	ck_assert_int_eq(srv.pid, pid);
	ck_assert_int_eq(kill(pid, 0), 0);
	printf("ready: 503 after %.3f s down, 200 after %.3f s up\n", down, up);

	testsrv_stop(&srv);
	testdb_drop(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ready");
	TCase *tc = tcase_create("ready");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ready_follows_the_database);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
