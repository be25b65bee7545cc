/*
 * Several conformd on one database (docs/operations.md "Several
 * instances"): a second one on a port in use is refused with the address
 * named; two share the work while one of them, the one that signs the log's
 * checkpoints, is killed with SIGKILL in the middle of a burst of issuances:
 * nothing acknowledged is lost, the log has no gap, the survivor takes the
 * signing over within seconds, and across instances the caches follow
 * status changes, an Idempotency-Key answers the first creation, and the
 * four-eyes rule refuses an evaluator's decision.
 */
#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "testsrv.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void start_second(struct testsrv *s)
{
	const char *env[] = { w.signer.env, NULL };
	testsrv_start(s, &w.db, env);
}

/* Waits (up to limit seconds) until exactly one of the n instances holds
 * the signing lock; returns its index. */
static int wait_one_signer(struct testsrv *const *inst, int n, double limit)
{
	double until = tsupport_now() + limit;
	for (;;) {
		int holders = 0, which = -1;
		for (int i = 0; i < n; i++)
			if (testsrv_metric(inst[i], "conform_log_signer") == 1) {
				holders++;
				which = i;
			}
		if (holders == 1)
			return which;
		ck_assert_msg(holders <= 1, "%d instances sign the log at once", holders);
		ck_assert_msg(tsupport_now() < until, "no instance took the signing lock within %.0f s", limit);
		usleep(100000);
	}
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "instances", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

START_TEST(a_second_conformd_on_a_port_in_use_is_refused)
{
	char listen[64], dburl[512], data[] = "/tmp/conform-second.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(data));
	snprintf(listen, sizeof listen, "CONFORM_LISTEN=127.0.0.1:%u", w.srv.port);
	snprintf(dburl, sizeof dburl, "CONFORM_DATABASE_URL=%s", w.db.app_url);
	char *datadir = cf_asprintf("CONFORM_DATA_DIR=%s", data);
	char *bin = testsrv_binary("conformd");
	/* were the port shared (SO_REUSEPORT), it would serve on: timeout says 124 */
	const char *argv[] = { "/usr/bin/timeout", "20", bin, NULL };
	const char *env[] = { listen, dburl, datadir, w.signer.env, NULL };
	struct proc_result r;
	proc_run(&r, argv, env);
	ck_assert_msg(r.status != 0 && r.status != 124, "the second conformd started (status %d): %s",
		      r.status, r.err);
	char expect[128];
	snprintf(expect, sizeof expect, "cannot listen on 127.0.0.1:%u: the address is already in use",
		 w.srv.port);
	ck_assert_msg(strstr(r.err, expect) != NULL, "no clear message: %s", r.err);
	proc_result_free(&r);
	/* and the first still serves */
	free(testsrv_get_text(&w.srv, "/v1/health", 200));
	free(bin);
	free(datadir);
	char *rm = cf_asprintf("rm -rf '%s'", data);
	ck_assert_int_eq(system(rm), 0);
	free(rm);
}
END_TEST

/* The assessor's verdicts on every requirement of the DCMS application. */
static void verdicts(const struct testsrv *s, const char *id, const struct actor *who)
{
	char body[2048] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = 1; i <= 13; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"pass\",\"comment\":\"seen\"}",
				      i > 1 ? "," : "", i);
	snprintf(body + n, sizeof body - n, "]}");
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(testsrv_api_text(s, "POST", path, who->token, body, 200));
}

#define BURST 8

/*
 * SIGKILL to victim while it issues a certificate (the answer never comes),
 * then the same issuance through other: 201 if the killed one had not
 * committed it, 200 (the certificate already issued) if it had; either way
 * one certificate, whose serial goes to serial.
 */
static void in_flight_kill(struct testsrv *victim, const struct testsrv *other, char serial[40])
{
	char id[37], path[128], url[256], auth[128];
	w.srv = *victim;
	world_application(&w, "decided", id);
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	snprintf(url, sizeof url, "%s%s", victim->base, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.certifier.token);
	pid_t client = fork();
	ck_assert_int_ge(client, 0);
	if (client == 0) {
		const char *h[] = { auth, "Content-Type: application/json", NULL };
		struct http_resp r;
		http_try(&r, "POST", url, h, "{}", 2);
		_exit(0);
	}
	/* the kill lands while the issuance's transaction is open if it can
	 * be caught so (a session of the database in a transaction, waiting
	 * for conformd: it signs between its statements), else once it is
	 * committed; both are checked below */
	const char *db[] = { w.db.name, id };
	double sent = tsupport_now();
	for (int i = 0; i < 4000; i++) {
		PGresult *q = testdb_super_query(
			&w.db,
			"SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = "
			"'idle in transaction' AND usename = 'conform_app') + (SELECT count(*) FROM "
			"certificate WHERE application_id = $2)", 2, db);
		bool caught = atoi(PQgetvalue(q, 0, 0)) > 0;
		PQclear(q);
		if (caught)
			break;
		usleep(500);
	}
	ck_assert_int_eq(kill(victim->pid, SIGKILL), 0);
	double waited_ms = (tsupport_now() - sent) * 1e3;
	ck_assert_int_eq(waitpid(victim->pid, NULL, 0), victim->pid);
	victim->pid = 0;
	ck_assert_int_eq(waitpid(client, NULL, 0), client);
	const char *p[] = { id };
	PGresult *res = testdb_super_query(&w.db, "SELECT count(*) FROM certificate WHERE application_id = $1",
					   1, p);
	bool committed = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	PQclear(res);
	long status;
	json_t *c = testsrv_api(other, "POST", path, w.certifier.token, NULL, &status);
	ck_assert_msg(status == (committed ? 200 : 201), "issuing again: %ld (%s before)", status,
		      committed ? "committed" : "not committed");
	snprintf(serial, 40, "%s", jsonx_str(c, "serial"));
	json_decref(c);
	printf("instances: the issuance in flight at the kill (%.1f ms after it was sent) was %s\n",
	       waited_ms, committed ? "committed (the survivor answers it, 200)" : "not committed (the survivor "
	       "issues it, 201)");
}

START_TEST(two_instances_lose_nothing_when_the_signer_is_killed)
{
	struct testsrv a = w.srv, b, c;
	start_second(&b);
	struct testsrv *inst[2] = { &a, &b };
	int holder = wait_one_signer(inst, 2, 15);
	printf("instances: %s signs the checkpoints\n", inst[holder]->base);

	/* a burst alternating between the two; the signer is killed with
	 * SIGKILL half-way, and the rest goes to the survivor */
	char serials[BURST + 1][40]; /* and the one in flight at the kill */
	int survivor = 1 - holder;
	double killed_at = 0;
	for (int i = 0; i < BURST; i++) {
		int to = killed_at > 0 ? survivor : i % 2;
		w.srv = *inst[to];
		world_certificate(&w, serials[i]);
		if (i == BURST / 2 - 1) {
			in_flight_kill(inst[holder], inst[survivor], serials[BURST]);
			killed_at = tsupport_now();
		}
	}
	w.srv = *inst[survivor];

	/* the survivor signs, within seconds of the kill */
	struct testsrv *alive[1] = { inst[survivor] };
	wait_one_signer(alive, 1, 10);
	double took_over = tsupport_now() - killed_at;
	/* every acknowledged issuance is there, served by the survivor */
	for (int i = 0; i <= BURST; i++) {
		char path[512];
		snprintf(path, sizeof path, "/v1/certificates/%s", serials[i]);
		json_decref(testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200));
	}
	/* the log: no gap (entries 0..n-1, each issuance in it), a signed
	 * checkpoint covering all of it, and conformctl's own check */
	PGresult *res = testdb_super_exec(&w.db, "SELECT count(*), max(idx) + 1 FROM tlog_entry");
	long long entries = atoll(PQgetvalue(res, 0, 0)), span = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	ck_assert_int_eq(entries, span);
	for (int i = 0; i <= BURST; i++) {
		const char *p[] = { serials[i] };
		res = testdb_super_query(&w.db,
					 "SELECT count(*) FROM tlog_entry WHERE serial = $1 AND kind = "
					 "'issuance'", 1, p);
		ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
		PQclear(res);
	}
	world_wait_checkpoint(&w, entries);
	double covered = tsupport_now() - killed_at;
	printf("instances: survivor signing %.2f s after the kill, checkpoint of %lld entries "
	       "after %.2f s\n", took_over, entries, covered);
	ck_assert_msg(covered < 10, "the log was not signed for %.2f s after the kill", covered);
	struct proc_result r;
	const char *lv[] = { "log", "verify", NULL };
	world_ctl(&w, &r, lv);
	ck_assert_msg(r.status == 0, "log verify: %s %s", r.out, r.err);
	proc_result_free(&r);

	/* a new instance joins beside the survivor: it does not sign */
	start_second(&c);
	struct testsrv *both[2] = { inst[survivor], &c };
	ck_assert_int_eq(wait_one_signer(both, 2, 5), 0);

	/* a status change through one is seen through the other's cache */
	char path[512];
	snprintf(path, sizeof path, "/v1/certificates/%s", serials[0]);
	/* warm: read until the answer comes from its cache (the new instance's
	 * listener loads what it needs first) */
	json_t *cert = NULL;
	double hits = testsrv_metric(&c, "conform_cert_cache_hits_total"), warm_until = tsupport_now() + 10;
	for (;;) {
		cert = testsrv_api_ok(&c, "GET", path, NULL, NULL, 200);
		ck_assert_str_eq(jsonx_str(cert, "status"), "valid");
		json_decref(cert);
		if (testsrv_metric(&c, "conform_cert_cache_hits_total") > hits)
			break;
		ck_assert_msg(tsupport_now() < warm_until, "the answer was never cached");
		usleep(50000);
	}
	char action[512];
	snprintf(action, sizeof action, "/v1/certificates/%s/suspend", serials[0]);
	json_decref(testsrv_api_text(inst[survivor], "POST", action, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"two instances\"}",
				     200));
	double changed = tsupport_now(), seen = -1;
	while (tsupport_now() - changed < 5) {
		cert = testsrv_api_ok(&c, "GET", path, NULL, NULL, 200);
		bool suspended = strcmp(jsonx_str(cert, "status"), "suspended") == 0;
		json_decref(cert);
		if (suspended) {
			seen = tsupport_now() - changed;
			break;
		}
		usleep(20000);
	}
	printf("instances: the suspension was seen through the other cache after %.3f s\n", seen);
	ck_assert_msg(seen >= 0 && seen < 1.5, "the other instance served the old status (%.3f s)",
		      seen);

	/* an Idempotency-Key replayed against the other instance: the same
	 * product, made once */
	const char *product = "{\"name\":\"Twice Kettle\",\"model\":\"TK-1\",\"hardware_version\":\"1\","
			      "\"firmware_version\":\"1.0\",\"support_end\":\"2030-12-31\"}";
	char auth[128];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *h[] = { auth, "Content-Type: application/json", "Idempotency-Key: twice-1", NULL };
	struct http_resp r1, r2;
	testsrv_req(inst[survivor], &r1, "POST", "/v1/products", h, product);
	testsrv_req(&c, &r2, "POST", "/v1/products", h, product);
	ck_assert_int_eq(r1.status, 201);
	ck_assert_int_eq(r2.status, 201);
	char replayed[16];
	ck_assert_ptr_nonnull(http_header(&r2, "Idempotent-Replayed", replayed, sizeof replayed));
	ck_assert_str_eq(replayed, "true");
	json_t *p1 = json_loads(r1.body, 0, NULL), *p2 = json_loads(r2.body, 0, NULL);
	ck_assert_str_eq(jsonx_str(p1, "id"), jsonx_str(p2, "id"));
	json_decref(p1);
	json_decref(p2);
	http_resp_free(&r1);
	http_resp_free(&r2);
	res = testdb_super_exec(&w.db, "SELECT count(*) FROM product WHERE name = 'Twice Kettle'");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	PQclear(res);

	/* four eyes: certifier2 evaluates through one instance and may not
	 * decide through the other */
	char id[37];
	w.srv = *inst[survivor];
	world_application(&w, "submitted", id);
	json_decref(world_act(&w, id, &w.certifier2, "take", NULL, 200));
	verdicts(inst[survivor], id, &w.certifier2);
	json_decref(world_act(&w, id, &w.certifier2, "complete", NULL, 200));
	w.srv = c;
	json_t *refused = world_act(&w, id, &w.certifier2, "decide",
				    "{\"decision\":\"approve\",\"rationale\":\"mine\"}", 403);
	ck_assert_msg(strstr(jsonx_str(refused, "detail"), "17065") != NULL, "%s",
		      jsonx_str(refused, "detail"));
	json_decref(refused);

	testsrv_stop(&c);
	w.srv = *inst[survivor];
	testsrv_stop(inst[holder]); /* killed: only its directory is left */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("instances");
	TCase *tc = tcase_create("instances");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_second_conformd_on_a_port_in_use_is_refused);
	tcase_add_test(tc, two_instances_lose_nothing_when_the_signer_is_killed);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
