/*
 * conformctl from anywhere (issue 13, remote administration): with --url and
 * a token (CONFORM_TOKEN, or --token-file), run from a fresh directory with
 * no data directory, no database setting and nothing in the environment but
 * PATH, it lists the register as JSON that matches the API, suspends and
 * reinstates a certificate, lists tokens and keys, verifies the log from its
 * entries and signed checkpoint, and turns a problem answer into a message
 * with the API's detail and a non-zero exit; the commands that need the
 * database say so and name --url. Locally, every command that prints data
 * prints one JSON value with --json; and with no cluster, conformctl names
 * the settings that say where it looked (the first hour).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char serial1[40], serial2[40];

static void setup(void)
{
	world_create(&w, "remote_cli", NULL);
	world_certificate(&w, serial1);
	world_certificate(&w, serial2);
}

static void teardown(void)
{
	world_destroy(&w);
}

/* Is the directory empty (conformctl made nothing where it ran)? */
static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/*
 * Runs conformctl with args from a fresh temporary directory, with an
 * environment of PATH, the sanitizers' options when set, and env (NULL-
 * terminated "NAME=value", may be NULL): no CONFORM_DATA_DIR, no database.
 */
static void ctl_away(struct proc_result *r, const char *const *args, const char *const *env)
{
	char dir[] = "/tmp/conform-away.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *bin = testsrv_binary("conformctl");
	const char *argv[64];
	int n = 0;
	argv[n++] = bin;
	for (const char *const *a = args; *a && n < 63; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	const char *envp[32];
	int m = 0;
	envp[m++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char *san[3] = { NULL, NULL, NULL };
	const char *san_names[3] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS" };
	for (int i = 0; i < 3; i++)
		if (getenv(san_names[i])) {
			san[i] = cf_asprintf("%s=%s", san_names[i], getenv(san_names[i]));
			envp[m++] = san[i];
		}
	for (const char *const *e = env; e && *e && m < 31; e++)
		envp[m++] = *e;
	envp[m] = NULL;
	proc_run_in(r, dir, argv, envp);
	ck_assert_msg(dir_empty(dir), "conformctl left files in the directory it ran in");
	rmdir(dir);
	for (int i = 0; i < 3; i++)
		free(san[i]);
	free(bin);
}

/* Parses a run's whole stdout as one JSON value (jansson refuses anything
 * after it); aborts the test, naming the output, when it is not. */
static json_t *stdout_json(const struct proc_result *r)
{
	json_error_t je;
	json_t *j = json_loads(r->out, 0, &je);
	ck_assert_msg(j != NULL, "stdout is not one JSON value (%s): %.300s; stderr: %.300s", je.text,
		      r->out, r->err);
	return j;
}

/* No token of the world in what conformctl printed. */
static void no_secret_printed(const struct proc_result *r)
{
	size_t i;
	json_t *t;
	json_array_foreach(w.secrets, i, t) {
		const char *s = json_string_value(t);
		if (!s || !s[0])
			continue;
		ck_assert_msg(!strstr(r->out, s) && !strstr(r->err, s), "a token was printed");
	}
}

static char *env_token(const struct actor *a)
{
	return cf_asprintf("CONFORM_TOKEN=%s", a->token);
}

/* The register as the API gives it (everything on one page here). */
static json_t *api_register(void)
{
	json_t *page = testsrv_api_ok(&w.srv, "GET", "/v1/certificates?limit=500", NULL, NULL, 200);
	json_t *items = json_incref(json_object_get(page, "items"));
	json_decref(page);
	return items;
}

START_TEST(a_token_lists_the_register_as_json_from_anywhere)
{
	char *tok = env_token(&w.admin);
	const char *env[] = { tok, NULL };
	const char *args[] = { "--url", w.srv.base, "--json", "cert", "list", NULL };
	struct proc_result r;
	ctl_away(&r, args, env);
	ck_assert_msg(r.status == 0, "cert list: %s", r.err);
	json_t *got = stdout_json(&r);
	json_t *want = api_register();
	ck_assert_uint_ge(json_array_size(want), 2);
	ck_assert_msg(json_equal(json_object_get(got, "items"), want),
		      "conformctl's register differs from the API's");
	no_secret_printed(&r);
	json_decref(got);
	proc_result_free(&r);

	/* the token from a file (its first line), given after the command */
	char *file = testsrv_artifact_path("remote_cli_token");
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\nsecond line is ignored\n", w.admin.token);
	fclose(f);
	const char *args2[] = { "--url", w.srv.base, "cert", "list", "--json", "--token-file", file, NULL };
	ctl_away(&r, args2, NULL);
	ck_assert_msg(r.status == 0, "cert list --token-file: %s", r.err);
	got = stdout_json(&r);
	ck_assert(json_equal(json_object_get(got, "items"), want));
	json_decref(got);
	proc_result_free(&r);

	/* a page at a time: the same register, through after */
	const char *paged[] = { "--url", w.srv.base, "--json", "cert", "list", "--page-size", "1", NULL };
	ctl_away(&r, paged, env);
	ck_assert_msg(r.status == 0, "%s", r.err);
	got = stdout_json(&r);
	ck_assert(json_equal(json_object_get(got, "items"), want));
	json_decref(got);
	proc_result_free(&r);

	/* --limit stops early; a filter is the API's */
	const char *args3[] = { "--url", w.srv.base, "--json", "cert", "list", "--limit", "1", NULL };
	ctl_away(&r, args3, env);
	ck_assert_msg(r.status == 0, "%s", r.err);
	got = stdout_json(&r);
	ck_assert_uint_eq(json_array_size(json_object_get(got, "items")), 1);
	ck_assert(json_equal(json_array_get(json_object_get(got, "items"), 0), json_array_get(want, 0)));
	json_decref(got);
	proc_result_free(&r);
	const char *args4[] = { "--url", w.srv.base, "--json", "cert", "list", "--status", "withdrawn", NULL };
	ctl_away(&r, args4, env);
	ck_assert_msg(r.status == 0, "%s", r.err);
	got = stdout_json(&r);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(got, "items"), i, c)
		ck_assert_str_eq(jsonx_str(c, "status"), "withdrawn");
	json_decref(got);
	proc_result_free(&r);

	/* a file that is not there is named */
	const char *args5[] = { "--url", w.srv.base, "--token-file", "/nonexistent/token", "cert", "list", NULL };
	ctl_away(&r, args5, NULL);
	ck_assert_int_ne(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/token"));
	proc_result_free(&r);
	json_decref(want);
	free(file);
	free(tok);
}
END_TEST

static char *status_of(const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	char *s = cf_strdup(jsonx_str(c, "status"));
	json_decref(c);
	return s;
}

START_TEST(a_certifier_suspends_and_reinstates_through_the_api)
{
	char *tok = env_token(&w.certifier);
	const char *env[] = { tok, NULL };
	struct proc_result r;
	const char *s1[] = { "--url", w.srv.base, "--json", "cert", "suspend", serial1, "--reason",
			     "the maker reported a flaw", "--reason-code", "nonconformity", NULL };
	ctl_away(&r, s1, env);
	ck_assert_msg(r.status == 0, "suspend: %s", r.err);
	json_t *got = stdout_json(&r);
	ck_assert_str_eq(jsonx_str(got, "status"), "suspended");
	json_decref(got);
	proc_result_free(&r);
	char *st = status_of(serial1);
	ck_assert_str_eq(st, "suspended");
	free(st);

	const char *show[] = { "--url", w.srv.base, "--json", "cert", "show", serial1, NULL };
	ctl_away(&r, show, NULL); /* public: no token needed */
	ck_assert_msg(r.status == 0, "show: %s", r.err);
	got = stdout_json(&r);
	ck_assert_str_eq(jsonx_str(got, "serial"), serial1);
	ck_assert_str_eq(jsonx_str(got, "status"), "suspended");
	json_decref(got);
	proc_result_free(&r);

	const char *text[] = { "--url", w.srv.base, "cert", "show", serial1, NULL };
	ctl_away(&r, text, NULL);
	ck_assert_msg(r.status == 0, "show: %s", r.err);
	ck_assert_msg(strstr(r.out, "status:      suspended: the maker reported a flaw") &&
		      strstr(r.out, "log:         entry"), "%s", r.out);
	proc_result_free(&r);

	const char *s2[] = { "--url", w.srv.base, "cert", "reinstate", serial1, "--reason", "fixed", NULL };
	ctl_away(&r, s2, env);
	ck_assert_msg(r.status == 0, "reinstate: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "valid"));
	no_secret_printed(&r);
	proc_result_free(&r);
	st = status_of(serial1);
	ck_assert_str_eq(st, "valid");
	free(st);

	/* without --url, a status change says where it is made */
	const char *local[] = { "cert", "suspend", serial1, "--reason", "x", NULL };
	world_ctl(&w, &r, local);
	ck_assert_int_ne(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "--url"));
	proc_result_free(&r);
	free(tok);
}
END_TEST

START_TEST(a_problem_answer_is_a_message_with_the_detail)
{
	/* the detail the API gives for an unknown serial */
	json_t *p = testsrv_api_text(&w.srv, "POST", "/v1/certificates/NO-SUCH-SERIAL/suspend",
				     w.certifier.token,
				     "{\"reason_code\":\"administrative\",\"reason\":\"test\"}", 404);
	const char *detail = jsonx_str(p, "detail");
	ck_assert_ptr_nonnull(detail);
	char *tok = env_token(&w.certifier);
	const char *env[] = { tok, NULL };
	const char *args[] = { "--url", w.srv.base, "cert", "suspend", "NO-SUCH-SERIAL", "--reason",
			       "test", NULL };
	struct proc_result r;
	ctl_away(&r, args, env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, detail) != NULL, "the API's detail '%s' is not in: %s", detail, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "404"));
	ck_assert_str_eq(r.out, "");
	no_secret_printed(&r);
	proc_result_free(&r);
	json_decref(p);

	/* a bad token: 401, and the token is not echoed */
	const char *bad_env[] = { "CONFORM_TOKEN=cf_not-a-real-token-at-all", NULL };
	const char *me[] = { "--url", w.srv.base, "token", "list", NULL };
	ctl_away(&r, me, bad_env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "401"));
	ck_assert_ptr_null(strstr(r.err, "cf_not-a-real-token-at-all"));
	proc_result_free(&r);

	/* nothing listening: the message names the setting */
	const char *none[] = { "--url", "http://127.0.0.1:1", "cert", "list", NULL };
	ctl_away(&r, none, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--url"));
	proc_result_free(&r);
	free(tok);
}
END_TEST

START_TEST(tokens_and_keys_through_the_api)
{
	/* a person lists their own tokens: the API's list */
	char *tok = env_token(&w.applicant);
	const char *env[] = { tok, NULL };
	const char *args[] = { "--url", w.srv.base, "--json", "token", "list", NULL };
	struct proc_result r;
	ctl_away(&r, args, env);
	ck_assert_msg(r.status == 0, "token list: %s", r.err);
	json_t *got = stdout_json(&r);
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant.user);
	json_t *want = testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 200);
	ck_assert(json_equal(got, want));
	ck_assert_uint_ge(json_array_size(json_object_get(got, "items")), 1);
	no_secret_printed(&r);
	json_decref(got);
	json_decref(want);
	proc_result_free(&r);

	/* they make a token, list it, and revoke it */
	const char *mk[] = { "--url", w.srv.base, "--json", "token", "create", "--name", "ci", "--days", "7",
			     NULL };
	ctl_away(&r, mk, env);
	ck_assert_msg(r.status == 0, "token create: %s", r.err);
	got = stdout_json(&r);
	const char *id = jsonx_str(got, "id");
	ck_assert_ptr_nonnull(id);
	ck_assert_ptr_nonnull(jsonx_str(got, "token"));
	json_array_append(w.secrets, json_object_get(got, "token"));
	char idc[64];
	snprintf(idc, sizeof idc, "%s", id);
	json_decref(got);
	proc_result_free(&r);
	const char *rv[] = { "--url", w.srv.base, "--json", "token", "revoke", idc, NULL };
	ctl_away(&r, rv, env);
	ck_assert_msg(r.status == 0, "token revoke: %s", r.err);
	got = stdout_json(&r);
	ck_assert_str_eq(jsonx_str(got, "id"), idc);
	json_decref(got);
	proc_result_free(&r);
	free(tok);

	/* a body's administrator lists its keys: the API's list, its key in it */
	tok = env_token(&w.body_admin);
	const char *kenv[] = { tok, NULL };
	const char *kl[] = { "--url", w.srv.base, "--json", "key", "list", NULL };
	ctl_away(&r, kl, kenv);
	ck_assert_msg(r.status == 0, "key list: %s", r.err);
	got = stdout_json(&r);
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", w.body_admin.org);
	want = testsrv_api_ok(&w.srv, "GET", path, w.body_admin.token, NULL, 200);
	ck_assert(json_equal(got, want));
	ck_assert_ptr_nonnull(strstr(r.out, w.body_kid));
	json_decref(got);
	json_decref(want);
	proc_result_free(&r);
	free(tok);
}
END_TEST

START_TEST(the_log_verifies_over_the_api)
{
	json_t *head = NULL;
	for (int i = 0; i < 200; i++) { /* a checkpoint covering both certificates */
		long st;
		json_decref(head);
		head = testsrv_api(&w.srv, "GET", "/v1/log/tree-head", NULL, NULL, &st);
		if (st == 200 && json_integer_value(json_object_get(head, "size")) >= 2)
			break;
		usleep(50000);
	}
	long long size = json_integer_value(json_object_get(head, "size"));
	ck_assert_int_ge(size, 2);
	json_decref(head);

	const char *args[] = { "--url", w.srv.base, "--json", "log", "verify", NULL };
	struct proc_result r;
	ctl_away(&r, args, NULL);
	ck_assert_msg(r.status == 0, "log verify: %s %s", r.out, r.err);
	json_t *got = stdout_json(&r);
	ck_assert(json_is_true(json_object_get(got, "verified")));
	ck_assert_int_ge(json_integer_value(json_object_get(got, "entries")), size);
	json_decref(got);
	proc_result_free(&r);

	/* the key as known locally, pinned: it verifies; another key does not */
	const char *key[] = { "--json", "log", "key", NULL };
	world_ctl(&w, &r, key);
	ck_assert_msg(r.status == 0, "log key: %s", r.err);
	got = stdout_json(&r);
	char *vkey = cf_strdup(jsonx_str(got, "vkey"));
	json_decref(got);
	proc_result_free(&r);
	const char *pinned[] = { "--url", w.srv.base, "log", "verify", "--vkey", vkey, NULL };
	ctl_away(&r, pinned, NULL);
	ck_assert_msg(r.status == 0, "log verify --vkey: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "the log verifies"));
	proc_result_free(&r);
	const char *other[] = { "--url", w.srv.base, "log", "verify", "--vkey",
				"example.org/log+0f1e2d3c+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
				NULL };
	ctl_away(&r, other, NULL);
	ck_assert_int_ne(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "does not verify"));
	proc_result_free(&r);

	/* an entry changed under the log (its text and leaf hash together, so
	 * only the rebuilt tree can tell): the API's log no longer verifies */
	PGresult *old = testdb_super_exec(&w.db, "SELECT entry, leaf_hash FROM tlog_entry WHERE idx = 0");
	char *entry = cf_strdup(PQgetvalue(old, 0, 0)), *leaf = cf_strdup(PQgetvalue(old, 0, 1));
	PQclear(old);
	/* the log's immutability trigger stands in the way, as it should */
	PQclear(testdb_super_exec(&w.db, "ALTER TABLE tlog_entry DISABLE TRIGGER tlog_entry_immutable"));
	PQclear(testdb_super_exec(&w.db,
		"UPDATE tlog_entry SET entry = '{\"forged\":true}',"
		" leaf_hash = encode(sha256('\\x00'::bytea || convert_to('{\"forged\":true}', 'UTF8')), 'hex')"
		" WHERE idx = 0"));
	ctl_away(&r, pinned, NULL);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, "root") != NULL, "%s", r.err);
	proc_result_free(&r);
	const char *p[] = { entry, leaf };
	PQclear(testdb_super_query(&w.db, "UPDATE tlog_entry SET entry = $1, leaf_hash = $2 WHERE idx = 0",
				   2, p));
	PQclear(testdb_super_exec(&w.db, "ALTER TABLE tlog_entry ENABLE TRIGGER tlog_entry_immutable"));
	ctl_away(&r, pinned, NULL);
	ck_assert_msg(r.status == 0, "restored: %s", r.err);
	proc_result_free(&r);
	free(entry);
	free(leaf);
	free(vkey);
}
END_TEST

START_TEST(database_commands_name_url)
{
	const char *cmds[][4] = {
		{ "db", "migrate", NULL, NULL },
		{ "scheme", "import", "x.json", NULL },
		{ "identity", "set", "https://example.org", NULL },
		{ "evidence", "gc", NULL, NULL },
		{ "janitor", NULL, NULL, NULL },
		{ "audit", "verify", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const char *args[8] = { "--url", w.srv.base };
		int n = 2;
		for (int k = 0; k < 4 && cmds[i][k]; k++)
			args[n++] = cmds[i][k];
		args[n] = NULL;
		struct proc_result r;
		ctl_away(&r, args, NULL);
		ck_assert_msg(r.status == 1, "%s: %d %s", cmds[i][0], r.status, r.err);
		ck_assert_msg(strstr(r.err, "--url") && strstr(r.err, "database"), "%s %s: %s", cmds[i][0],
			      cmds[i][1] ? cmds[i][1] : "", r.err);
		proc_result_free(&r);
	}
	/* bootstrap too */
	const char *boot[] = { "--url", w.srv.base, "bootstrap", "--org-name", "X", "--country", "GB",
			       "--email", "x@example.org", "--admin-name", "X", "--admin-email",
			       "x@example.org", NULL };
	struct proc_result r;
	ctl_away(&r, boot, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--url"));
	proc_result_free(&r);
}
END_TEST

START_TEST(no_cluster_names_the_settings)
{
	const char *args[] = { "db", "status", NULL };
	struct proc_result r;
	ctl_away(&r, args, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "no PostgreSQL at the embedded cluster's socket ./var/pg/sock") &&
		      strstr(r.err, "CONFORM_DATA_DIR") && strstr(r.err, "deploy/local/run.sh") &&
		      strstr(r.err, "CONFORM_DATABASE_URL") && strstr(r.err, "--url"),
		      "%s", r.err);
	ck_assert_ptr_null(strstr(r.err, "could not translate host name"));
	proc_result_free(&r);

	/* a data directory given: it is the one named */
	const char *env[] = { "CONFORM_DATA_DIR=/nonexistent/conform", NULL };
	const char *list[] = { "cert", "list", NULL };
	ctl_away(&r, list, env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "/nonexistent/conform/pg/sock") && strstr(r.err, "data-dir /nonexistent/conform"),
		      "%s", r.err);
	proc_result_free(&r);
}
END_TEST

static bool port_open(unsigned short port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/*
 * An https peer is checked: a real TLS server (openssl s_server) on loopback
 * with a certificate for 127.0.0.1 from no trusted CA is refused, naming the
 * check; with that certificate as --ca-file the handshake goes through (and
 * what s_server answers, a page that is not JSON, is what is refused).
 */
START_TEST(an_https_peer_is_verified)
{
	char dir[] = "/tmp/conform-tls.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *key = cf_asprintf("%s/key.pem", dir), *crt = cf_asprintf("%s/cert.pem", dir);
	const char *req[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			      "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "1",
			      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", NULL };
	struct proc_result r;
	proc_run(&r, req, NULL);
	ck_assert_msg(r.status == 0, "openssl req: %s", r.err);
	proc_result_free(&r);
	pid_t server = 0;
	unsigned short port = 0;
	char *o = NULL, *e = NULL;
	for (int attempt = 0; attempt < 5 && !server; attempt++) {
		port = testsrv_free_port();
		char accept[32];
		snprintf(accept, sizeof accept, "127.0.0.1:%u", port);
		const char *srv[] = { "/usr/bin/openssl", "s_server", "-accept", accept, "-cert", crt, "-key", key,
				      "-www", "-quiet", NULL };
		pid_t pid = proc_start(srv, NULL, &o, &e);
		for (int i = 0; i < 200; i++) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				pid = 0; /* the port was taken meanwhile: another one */
				break;
			}
			if (port_open(port)) {
				server = pid;
				break;
			}
			usleep(50000);
		}
		if (!server) {
			if (pid) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
			unlink(o);
			unlink(e);
			CF_FREE(o);
			CF_FREE(e);
		}
	}
	ck_assert_msg(server, "openssl s_server did not start");
	char url[64];
	snprintf(url, sizeof url, "https://127.0.0.1:%u", port);
	const char *args[] = { "--url", url, "cert", "list", NULL };
	ctl_away(&r, args, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "--ca-file") && strstr(r.err, "certificate"), "%s", r.err);
	proc_result_free(&r);
	char *ca = cf_asprintf("CONFORM_CA_FILE=%s", crt);
	const char *env[] = { ca, NULL };
	ctl_away(&r, args, env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "not JSON") && !strstr(r.err, "--ca-file"), "%s", r.err);
	proc_result_free(&r);
	kill(server, SIGTERM);
	struct proc_result sr;
	proc_wait(&sr, server, o, e);
	proc_result_free(&sr);
	unlink(key);
	unlink(crt);
	rmdir(dir);
	free(ca);
	free(key);
	free(crt);
}
END_TEST

/* Runs a local conformctl command with --json; returns its one JSON value. */
static json_t *local_json(const char *const *args)
{
	struct proc_result r;
	world_ctl(&w, &r, args);
	ck_assert_msg(r.status == 0, "%s %s: %s", args[1], args[2] ? args[2] : "", r.err);
	json_t *j = stdout_json(&r);
	proc_result_free(&r);
	return j;
}

START_TEST(local_commands_print_json)
{
	json_t *j;
	j = local_json((const char *[]){ "--json", "scheme", "list", NULL });
	ck_assert(json_array_size(json_object_get(j, "items")) > 0);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "scheme", "show", "dcms-cop", NULL });
	ck_assert_str_eq(jsonx_str(j, "scheme"), "dcms-cop");
	json_decref(j);
	j = local_json((const char *[]){ "--json", "token", "list", NULL });
	ck_assert(json_array_size(json_object_get(j, "items")) > 0);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "key", "list", NULL });
	ck_assert(json_array_size(json_object_get(j, "items")) > 0);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "cert", "list", NULL });
	json_t *want = api_register();
	ck_assert(json_equal(json_object_get(j, "items"), want));
	json_decref(want);
	json_decref(j);
	j = local_json((const char *[]){ "cert", "show", serial2, "--json", NULL });
	ck_assert_str_eq(jsonx_str(j, "serial"), serial2);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "log", "verify", NULL });
	ck_assert(json_is_true(json_object_get(j, "verified")));
	json_decref(j);
	j = local_json((const char *[]){ "--json", "log", "key", NULL });
	ck_assert_ptr_nonnull(jsonx_str(j, "vkey"));
	json_decref(j);
	j = local_json((const char *[]){ "--json", "identity", "show", NULL });
	ck_assert_str_eq(jsonx_str(j, "public_url"), w.srv.base);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "audit", "verify", NULL });
	ck_assert(json_is_true(json_object_get(j, "intact")));
	json_decref(j);
	j = local_json((const char *[]){ "--json", "audit", "list", "--limit", "3", NULL });
	ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 3);
	json_decref(j);
	j = local_json((const char *[]){ "--json", "token", "create", "--user", "ada@example.org", "--days",
					 "1", NULL });
	ck_assert_ptr_nonnull(jsonx_str(j, "token"));
	json_array_append(w.secrets, json_object_get(j, "token"));
	json_decref(j);

	/* db status as the schema owner */
	char *owner = cf_asprintf("CONFORM_DATABASE_OWNER_URL=%s", w.db.owner_url);
	const char *env[] = { owner, NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w.db, (const char *[]){ "--json", "db", "status", NULL }, env);
	ck_assert_msg(r.status == 0, "db status: %s", r.err);
	j = stdout_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pending")), 0);
	ck_assert(json_array_size(json_object_get(j, "migrations")) > 0);
	json_decref(j);
	proc_result_free(&r);
	testsrv_ctl(&r, &w.db, (const char *[]){ "db", "migrate", "--json", NULL }, env);
	ck_assert_msg(r.status == 0, "db migrate: %s", r.err);
	j = stdout_json(&r);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "applied")), 0);
	ck_assert_int_gt(json_integer_value(json_object_get(j, "version")), 0);
	json_decref(j);
	proc_result_free(&r);
	free(owner);

	/* a command with no data to give refuses --json rather than print text */
	world_ctl(&w, &r, (const char *[]){ "--json", "demo", NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "--json"));
	proc_result_free(&r);

	/* cert verify, of the signed certificate against the live JWKS */
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", serial2);
	char *jws = testsrv_get_text(&w.srv, path, 200);
	char *file = testsrv_write_artifact("remote_cli.jws", jws);
	char *jwks = cf_asprintf("%s/.well-known/jwks.json", w.srv.base);
	j = local_json((const char *[]){ "--json", "cert", "verify", file, "--jwks", jwks, NULL });
	ck_assert(json_is_true(json_object_get(j, "verified")));
	ck_assert_str_eq(jsonx_str(j, "status"), "valid");
	json_decref(j);
	free(jwks);
	free(file);
	free(jws);

	/* key generate (last: it rotates the body's key) */
	char *org = cf_asprintf("--org=%s", w.body_admin.org);
	j = local_json((const char *[]){ "--json", "key", "generate", org, NULL });
	ck_assert_ptr_nonnull(jsonx_str(j, "kid"));
	json_decref(j);
	free(org);

	/* through the API too: a body's administrator makes a key */
	char *tok = env_token(&w.body_admin);
	const char *kenv[] = { tok, NULL };
	ctl_away(&r, (const char *[]){ "--url", w.srv.base, "--json", "key", "generate", NULL }, kenv);
	ck_assert_msg(r.status == 0, "remote key generate: %s", r.err);
	j = stdout_json(&r);
	ck_assert_ptr_nonnull(jsonx_str(j, "kid"));
	json_decref(j);
	proc_result_free(&r);
	free(tok);
}
END_TEST

START_TEST(bootstrap_prints_json)
{
	struct testdb db;
	testdb_create(&db, "remote_cli_boot");
	const char *args[] = { "--json", "bootstrap", "--org-name", "Boot Owner", "--country", "GB", "--email",
			       "boot@example.org", "--admin-name", "Bo Admin", "--admin-email",
			       "bo@example.org", NULL };
	struct proc_result r;
	testsrv_ctl(&r, &db, args, NULL);
	ck_assert_msg(r.status == 0, "bootstrap --json: %s", r.err);
	json_t *j = stdout_json(&r);
	ck_assert_ptr_nonnull(jsonx_str(json_object_get(j, "token"), "token"));
	ck_assert_ptr_nonnull(jsonx_str(json_object_get(j, "user"), "id"));
	ck_assert_ptr_nonnull(jsonx_str(json_object_get(j, "organisation"), "id"));
	json_decref(j);
	proc_result_free(&r);
	testdb_drop(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote_cli");
	TCase *tc = tcase_create("remote");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_token_lists_the_register_as_json_from_anywhere);
	tcase_add_test(tc, a_certifier_suspends_and_reinstates_through_the_api);
	tcase_add_test(tc, a_problem_answer_is_a_message_with_the_detail);
	tcase_add_test(tc, tokens_and_keys_through_the_api);
	tcase_add_test(tc, the_log_verifies_over_the_api);
	tcase_add_test(tc, database_commands_name_url);
	tcase_add_test(tc, no_cluster_names_the_settings);
	tcase_add_test(tc, an_https_peer_is_verified);
	tcase_add_test(tc, local_commands_print_json);
	tcase_add_test(tc, bootstrap_prints_json);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
