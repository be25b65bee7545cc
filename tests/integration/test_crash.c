/*
 * Crash safety: conformd is killed (-9) in the middle of a burst of
 * issuances and started again, five rounds. Every certificate whose 201 a
 * client received is there, with its access line in the log of the killed
 * process; the transparency log has no gap; `conformctl log verify` and
 * `audit verify` pass.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

#define APPS 80
#define THREADS 4

static struct world w;

static void setup(void)
{
	world_create(&w, "crash", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
}

struct burst {
	const struct actor *who;
	char (*ids)[37];
	char (*serials)[40]; /* "" unless a 201 came back */
	size_t from, count;
	atomic_int *acked;
};

static void *issue(void *arg)
{
	struct burst *b = arg;
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->who->token);
	const char *h[] = { auth, NULL };
	for (size_t i = b->from; i < b->from + b->count; i++) {
		char url[256];
		snprintf(url, sizeof url, "%s/v1/applications/%s/certificate", w.srv.base, b->ids[i]);
		struct http_resp r;
		if (http_try(&r, "POST", url, h, NULL, 0) == 0 && r.status == 201) {
			json_t *c = json_loadb(r.body, r.len, 0, NULL);
			const char *serial = jsonx_str(c, "serial");
			snprintf(b->serials[i], 40, "%s", serial ? serial : "?");
			json_decref(c);
			atomic_fetch_add(b->acked, 1);
		}
		http_resp_free(&r);
	}
	return NULL;
}

/* APPS approved applications, made directly in the database from a real
 * one (the workflow has its own tests); the decision trigger checks each. */
static void decided_applications(const char *template_id, char (*ids)[37])
{
	char n[16];
	snprintf(n, sizeof n, "%d", APPS);
	const char *params[] = { template_id, w.certifier.user, n };
	PGresult *res = testdb_super_query(&w.db,
		"WITH a AS (INSERT INTO application (product_id, manufacturer_id, scheme_id, scheme_version,"
		" class, assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot,"
		" created_by, submitted_at)"
		" SELECT product_id, manufacturer_id, scheme_id, scheme_version, class, assessment_type,"
		" body_id, owners, 'decided', product_snapshot, manufacturer_snapshot, created_by, now()"
		" FROM application, generate_series(1, $3::int) WHERE id = $1 RETURNING id),"
		" d AS (INSERT INTO application_decision (application_id, decision, rationale, decided_by,"
		" evidence_digest, self_declaration) SELECT id, 'approved', 'bulk approval for the test',"
		" $2, repeat('0', 64), false FROM a RETURNING application_id)"
		" SELECT application_id FROM d", 3, params);
	ck_assert_int_eq(PQntuples(res), APPS);
	for (int i = 0; i < APPS; i++)
		snprintf(ids[i], 37, "%s", PQgetvalue(res, i, 0));
	PQclear(res);
}

START_TEST(kill_9_during_issuances_loses_no_acknowledged_certificate)
{
	char template_id[37];
	world_application(&w, "decided", template_id);
	struct actor certifiers[THREADS];
	for (int t = 0; t < THREADS; t++) {
		char name[32];
		snprintf(name, sizeof name, "Crash certifier %d", t);
		world_person(&w, &certifiers[t], w.certifier.org, "[\"certifier\"]", name);
	}
	char (*ids)[37] = cf_calloc(APPS, 37);
	char (*serials)[40] = cf_calloc(APPS, 40);
	for (int round = 0; round < 5; round++) {
		decided_applications(template_id, ids);
		memset(serials, 0, (size_t)APPS * 40);
		atomic_int acked = 0;
		pthread_t threads[THREADS];
		struct burst work[THREADS];
		for (int t = 0; t < THREADS; t++) {
			work[t] = (struct burst){ &certifiers[t], ids, serials, (size_t)t * (APPS / THREADS),
						  APPS / THREADS, &acked };
			pthread_create(&threads[t], NULL, issue, &work[t]);
		}
		/* a few acknowledged, the rest in flight: kill */
		time_t until = time(NULL) + 120;
		while (atomic_load(&acked) < 5 && time(NULL) < until)
			usleep(2000);
		ck_assert_int_ge(atomic_load(&acked), 5);
		ck_assert_int_eq(kill(w.srv.pid, SIGKILL), 0);
		int status;
		ck_assert_int_eq(waitpid(w.srv.pid, &status, 0), w.srv.pid);
		w.srv.pid = 0;
		for (int t = 0; t < THREADS; t++)
			pthread_join(threads[t], NULL);
		int got = atomic_load(&acked);
		ck_assert_msg(got < APPS, "round %d: the burst was over before the kill", round);

		/* the killed process logged the answer of every acknowledged one */
		char *log = tsupport_read_file(w.srv.log_path, NULL);
		for (int i = 0; i < APPS; i++) {
			if (!serials[i][0])
				continue;
			char line[160];
			snprintf(line, sizeof line, "path=/v1/applications/%s/certificate status=201", ids[i]);
			ck_assert_msg(strstr(log, line), "round %d: no access line for %s", round, ids[i]);
		}
		free(log);

		testsrv_stop(&w.srv); /* its data directory */
		const char *env[] = { w.signer.env, NULL };
		testsrv_start(&w.srv, &w.db, env);

		/* every acknowledged certificate is there and logged */
		for (int i = 0; i < APPS; i++) {
			if (!serials[i][0])
				continue;
			char path[128];
			snprintf(path, sizeof path, "/v1/certificates/%s", serials[i]);
			json_decref(testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200));
			const char *p[] = { serials[i] };
			PGresult *res = testdb_super_query(&w.db,
				"SELECT 1 FROM certificate c JOIN tlog_entry t ON t.idx = c.log_index"
				" AND t.serial = c.serial AND t.kind = 'issuance' WHERE c.serial = $1", 1, p);
			ck_assert_msg(PQntuples(res) == 1, "round %d: %s is not in the log", round, serials[i]);
			PQclear(res);
		}
		/* no gap, no duplicate; each certificate's issuance logged once */
		PGresult *res = testdb_super_exec(&w.db,
			"SELECT (SELECT count(*) FROM tlog_entry) = (SELECT coalesce(max(idx) + 1, 0) FROM tlog_entry),"
			" (SELECT count(*) FROM certificate) ="
			" (SELECT count(*) FROM tlog_entry WHERE kind = 'issuance')");
		ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
		ck_assert_str_eq(PQgetvalue(res, 0, 1), "t");
		PQclear(res);

		struct proc_result r;
		const char *lv[] = { "log", "verify", NULL };
		world_ctl(&w, &r, lv);
		ck_assert_msg(r.status == 0, "round %d: log verify: %s", round, r.err);
		proc_result_free(&r);
		const char *av[] = { "audit", "verify", NULL };
		world_ctl(&w, &r, av);
		ck_assert_msg(r.status == 0, "round %d: audit verify: %s", round, r.err);
		proc_result_free(&r);
	}
	free(ids);
	free(serials);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, kill_9_during_issuances_loses_no_acknowledged_certificate);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
