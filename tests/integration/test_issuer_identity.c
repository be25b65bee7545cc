/*
 * One issuer identity: conformd stores its public URL at its first start
 * (derived from a loopback listen address when none is given) and conformctl
 * takes it from the database, so that `conformctl demo` beside a conformd
 * on any port signs what that conformd verifies; a restart with another
 * public URL is refused with a message that names both, and what was issued
 * stays verifiable; a URL did:web cannot resolve is refused unless it is
 * loopback, which is accepted with a warning.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tcert.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "identity", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/*
 * Runs conformd with env (on a free port, the world's database unless env
 * names another) expecting it to refuse to start: it must exit non-zero
 * within 10 s (a conformd that serves instead is stopped and the test
 * fails). Returns what it wrote.
 */
static char *conformd_refuses(const char *const *env)
{
	char *bin = testsrv_binary("conformd");
	const char *argv[] = { bin, NULL };
	char *out_path = NULL, *err_path = NULL;
	pid_t pid = proc_start(argv, env, &out_path, &err_path);
	int waited = 0;
	for (; waited < 200; waited++) {
		/* WNOWAIT: proc_wait reaps it */
		siginfo_t info = { 0 };
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
			break;
		usleep(50000);
	}
	bool serving = waited >= 200;
	if (serving)
		kill(pid, SIGTERM);
	struct proc_result r;
	proc_wait(&r, pid, out_path, err_path);
	char *text = cf_asprintf("%s%s", r.out, r.err);
	ck_assert_msg(!serving, "conformd started instead of refusing: %s", text);
	ck_assert_msg(r.status != 0, "conformd exited 0: %s", text);
	proc_result_free(&r);
	free(bin);
	return text;
}

/* Acceptance: conformctl demo beside a conformd on a random free port, the
 * same database, no public URL given to either: the demo's certificate
 * verifies through that conformd and with conformctl against its JWKS. */
START_TEST(demo_beside_a_service_on_a_free_port_verifies)
{
	/* the demo names the service's own URL, not a default */
	char page[128];
	snprintf(page, sizeof page, "%s/verify/", w.srv.base);
	char serial[40];
	tcert_demo(&w, NULL, page, serial);

	json_t *v = tcert_verify(&w.srv, serial);
	char *dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(v, "valid")), "POST /v1/verify: %s", dump);
	ck_assert(json_is_true(json_object_get(json_object_get(v, "issuer"), "matches_key")));
	free(dump);
	json_decref(v);
	/* conformctl against the JWKS this conformd serves (and its live status) */
	char *jwks_url = cf_asprintf("%s/.well-known/jwks.json", w.srv.base);
	char *out = NULL;
	ck_assert_msg(tcert_ctl_verify(&w, serial, jwks_url, &out) == 0, "cert verify: %s", out);
	ck_assert(strstr(out, "VERIFIED") && !strstr(out, "NOT VERIFIED"));
	free(out);
	free(jwks_url);
	/* the same identity everywhere: the DID document and the JWKS name it */
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	char did[160];
	snprintf(did, sizeof did, "did:web:127.0.0.1%%3A%u:bodies:", w.srv.port);
	ck_assert_msg(strncmp(jsonx_str(json_object_get(c, "issuer"), "id"), did, strlen(did)) == 0,
		      "issuer %s", jsonx_str(json_object_get(c, "issuer"), "id"));
	json_decref(c);
}
END_TEST

/* conformctl identity show tells the stored URL; a CLI --public-url other
 * than it is refused, naming both: the CLI never signs as another service. */
START_TEST(conformctl_takes_the_identity_from_the_database)
{
	struct proc_result r;
	const char *show[] = { "identity", "show", NULL };
	world_ctl(&w, &r, show);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	char line[128];
	snprintf(line, sizeof line, "public URL:  %s\n", w.srv.base);
	ck_assert_msg(strstr(r.out, line), "%s", r.out);
	ck_assert(strstr(r.out, "conformd (listen address)"));
	ck_assert(strstr(r.out, "not resolvable by the did:web rules"));
	proc_result_free(&r);
	char *data_dir = cf_asprintf("CONFORM_DATA_DIR=%s", w.keys_dir);
	const char *env[] = { w.signer.env, data_dir, "CONFORM_PUBLIC_URL=http://127.0.0.1:8080", NULL };
	const char *demo[] = { "demo", NULL };
	testsrv_ctl(&r, &w.db, demo, env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "http://127.0.0.1:8080") && strstr(r.err, w.srv.base), "%s", r.err);
	ck_assert(!strstr(r.out, "issued"));
	proc_result_free(&r);
	/* identity set cannot change it either */
	const char *set[] = { "identity", "set", "https://certs.example.org", NULL };
	world_ctl(&w, &r, set);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "https://certs.example.org") && strstr(r.err, w.srv.base), "%s", r.err);
	proc_result_free(&r);
	free(data_dir);
}
END_TEST

/* Acceptance: a restart with another public URL is refused with the
 * documented message naming both values; every earlier certificate still
 * verifies, also after a restart on another port with no URL given. */
START_TEST(a_restart_with_another_public_url_is_refused)
{
	char serial[40];
	world_certificate(&w, serial);
	char stored[64];
	snprintf(stored, sizeof stored, "%s", w.srv.base);
	testsrv_stop(&w.srv);

	char *db = cf_asprintf("CONFORM_DATABASE_URL=%s", w.db.app_url);
	const char *env[] = { db, w.signer.env, "CONFORM_LISTEN=127.0.0.1:0",
			      "CONFORM_PUBLIC_URL=https://certs.example.org", NULL };
	char *text = conformd_refuses(env);
	ck_assert_msg(strstr(text, "https://certs.example.org") && strstr(text, stored) &&
		      strstr(text, "Moving to another public URL"), "unclear refusal: %s", text);
	free(text);

	/* started again on another port, with no URL: the stored identity */
	testsrv_start(&w.srv, &w.db, (const char *[]){ w.signer.env, NULL });
	ck_assert_str_ne(w.srv.base, stored);
	json_t *v = tcert_verify(&w.srv, serial);
	char *dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(v, "valid")), "after the restart: %s", dump);
	free(dump);
	json_decref(v);
	char *jwks = testsrv_get_text(&w.srv, "/.well-known/jwks.json", 200);
	char kid[256];
	snprintf(kid, sizeof kid, "did:web:127.0.0.1%%3A%s:bodies:%s#%s", strrchr(stored, ':') + 1,
		 w.certifier.org, w.body_kid);
	ck_assert_msg(strstr(jwks, kid), "the JWKS lost %s: %s", kid, jwks);
	free(jwks);
	/* the same URL given explicitly is the identity: accepted */
	testsrv_stop(&w.srv);
	char *same = cf_asprintf("CONFORM_PUBLIC_URL=%s", stored);
	testsrv_start(&w.srv, &w.db, (const char *[]){ w.signer.env, same, NULL });
	v = tcert_verify(&w.srv, serial);
	ck_assert(json_is_true(json_object_get(v, "valid")));
	json_decref(v);
	free(same);
	free(db);
}
END_TEST

/* A URL did:web cannot resolve: http on a public host and a non-loopback IP
 * address are refused at the first start; a loopback one is stored with a
 * warning; a wildcard listen address with no URL names the setting. */
START_TEST(only_loopback_may_be_unresolvable)
{
	struct testdb fresh;
	testdb_create(&fresh, "identity_fresh");
	char *db = cf_asprintf("CONFORM_DATABASE_URL=%s", fresh.app_url);
	static const struct {
		const char *listen, *url, *says;
	} refused[] = {
		{ "CONFORM_LISTEN=127.0.0.1:0", "CONFORM_PUBLIC_URL=http://certs.example.org", "https://certs.example.org" },
		{ "CONFORM_LISTEN=127.0.0.1:0", "CONFORM_PUBLIC_URL=https://192.0.2.10:8443", "IP address" },
		{ "CONFORM_LISTEN=127.0.0.1:0", "CONFORM_PUBLIC_URL=http://10.1.2.3", "IP address" },
		{ "CONFORM_LISTEN=0.0.0.0:0", NULL, "CONFORM_PUBLIC_URL" },
		{ "CONFORM_LISTEN=0.0.0.0:18080", NULL, "CONFORM_PUBLIC_URL" },
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		const char *env[] = { db, refused[i].listen, refused[i].url, NULL };
		char *text = conformd_refuses(env);
		ck_assert_msg(strstr(text, refused[i].says), "%zu: %s", i, text);
		free(text);
	}
	/* nothing was stored by the refusals */
	PGresult *res = testdb_super_exec(&fresh, "SELECT count(*) FROM service_identity");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	/* loopback: accepted, with the warning */
	struct testsrv s;
	testsrv_start(&s, &fresh, (const char *[]){ "CONFORM_PUBLIC_URL=http://localhost:1234", NULL });
	char *log = tsupport_read_file(s.log_path, NULL);
	ck_assert_msg(strstr(log, "public URL http://localhost:1234 stored"), "%s", log);
	ck_assert_msg(strstr(log, "not resolvable by the did:web rules"), "%s", log);
	free(log);
	testsrv_stop(&s);
	res = testdb_super_exec(&fresh, "SELECT public_url, set_by FROM service_identity");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "http://localhost:1234");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "conformd (CONFORM_PUBLIC_URL)");
	PQclear(res);
	/* stored once, with its audit record */
	res = testdb_super_exec(&fresh, "SELECT count(*) FROM audit_log WHERE action = 'identity.set'");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	free(db);
	testdb_drop(&fresh);
}
END_TEST

/* https on a host name: stored by conformctl identity set before the first
 * start, without a warning; conformd then serves under it. */
START_TEST(conformctl_identity_set_before_the_first_start)
{
	struct testdb fresh;
	testdb_create(&fresh, "identity_set");
	struct proc_result r;
	const char *bad[] = { "identity", "set", "http://certs.example.org", NULL };
	testsrv_ctl(&r, &fresh, bad, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "https"), "%s", r.err);
	proc_result_free(&r);
	const char *set[] = { "identity", "set", "https://certs.example.org/conform/", NULL };
	testsrv_ctl(&r, &fresh, set, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(strstr(r.out, "stored the public URL https://certs.example.org/conform"));
	ck_assert(!strstr(r.err, "warning"));
	proc_result_free(&r);
	struct testsrv s;
	testsrv_start(&s, &fresh, NULL);
	char *log = tsupport_read_file(s.log_path, NULL);
	ck_assert(!strstr(log, "not resolvable by the did:web rules"));
	free(log);
	testsrv_stop(&s);
	/* conformd on its loopback listen address stored nothing of its own */
	PGresult *res = testdb_super_exec(&fresh, "SELECT public_url, set_by FROM service_identity");
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "https://certs.example.org/conform");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "conformctl identity set");
	PQclear(res);
	const char *show[] = { "identity", "show", NULL };
	testsrv_ctl(&r, &fresh, show, NULL);
	ck_assert_msg(strstr(r.out, "issuer DIDs: did:web:certs.example.org:conform:bodies:"), "%s", r.out);
	ck_assert(!strstr(r.out, "warning"));
	proc_result_free(&r);
	testdb_drop(&fresh);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("issuer_identity");
	TCase *tc = tcase_create("issuer_identity");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, demo_beside_a_service_on_a_free_port_verifies);
	tcase_add_test(tc, conformctl_takes_the_identity_from_the_database);
	tcase_add_test(tc, a_restart_with_another_public_url_is_refused);
	tcase_add_test(tc, only_loopback_may_be_unresolvable);
	tcase_add_test(tc, conformctl_identity_set_before_the_first_start);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
