/*
 * testsrv: conformd as a child process (see testsrv.h).
 */
#include "testsrv.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "proc.h"
#include "signerlink.h"

extern char **environ;

char *testsrv_binary(const char *name)
{
	const char *bin = getenv("CONFORM_BINARY_DIR");
	return cf_asprintf("%s/%s", bin ? bin : CONFORM_BINARY_DIR, name);
}

char *testsrv_artifact_path(const char *name)
{
	const char *dir = getenv("CONFORM_TEST_ARTIFACTS");
	if (!dir || !*dir)
		dir = "/tmp";
	mkdir(dir, 0755);
	return cf_asprintf("%s/%s", dir, name);
}

unsigned short testsrv_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* No public URL is given: conformd stores http://127.0.0.1:PORT (its loopback
 * listen address) at its first start on a database and keeps that identity
 * when it starts again there, on whatever port. */
static pid_t spawn(struct testsrv *s, const struct testdb *db, const char *const *extra_env)
{
	char *bin = testsrv_binary("conformd");
	char listen[64];
	snprintf(listen, sizeof listen, "CONFORM_LISTEN=127.0.0.1:%u", s->port);
	char *dburl = cf_asprintf("CONFORM_DATABASE_URL=%s", db->app_url);
	char *datadir = cf_asprintf("CONFORM_DATA_DIR=%s", s->data_dir);
	pid_t parent = getpid();
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		/* a test that dies must not leave conformd behind, holding ctest's
		 * output pipe open until the suite's timeout */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		putenv(listen);
		putenv(dburl);
		putenv(datadir);
		putenv((char *)"CONFORM_THREADS=4");
		for (const char *const *e = extra_env; e && *e; e++)
			putenv((char *)(uintptr_t)*e);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	free(bin);
	free(dburl);
	free(datadir);
	return pid;
}

void testsrv_start(struct testsrv *s, const struct testdb *db, const char *const *extra_env)
{
	memset(s, 0, sizeof *s);
	char tmpl[] = "/tmp/conform-srv.XXXXXX";
	ck_assert(mkdtemp(tmpl) != NULL);
	s->data_dir = cf_strdup(tmpl);
	char name[64];
	snprintf(name, sizeof name, "conformd-%s.log", db->name);
	s->log_path = testsrv_artifact_path(name);
	for (int attempt = 0; attempt < 5; attempt++) {
		s->port = testsrv_free_port();
		snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", s->port);
		s->pid = spawn(s, db, extra_env);
		for (int i = 0; i < 200; i++) {
			int status;
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->pid = 0;
				break; /* exited: port taken, or a real failure (see the log) */
			}
			struct http_resp r;
			char url[96];
			snprintf(url, sizeof url, "%s/v1/health", s->base);
			if (http_try(&r, "GET", url, NULL, NULL, 0) == 0 && r.status == 200) {
				http_resp_free(&r);
				return;
			}
			http_resp_free(&r);
			usleep(25000);
		}
		if (s->pid) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
		}
	}
	ck_abort_msg("conformd did not start; see %s", s->log_path);
}

char *testsrv_read_url_env(const struct testdb *db, const char *host)
{
	return cf_asprintf("CONFORM_DATABASE_READ_URL=host=%s dbname=%s user=conform_app", host,
			   db->name);
}

void testsrv_stop(struct testsrv *s)
{
	if (s->pid) {
		kill(s->pid, SIGTERM);
		int status = 0;
		ck_assert(waitpid(s->pid, &status, 0) == s->pid);
		s->pid = 0;
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "conformd did not exit cleanly (status %d); see %s", status, s->log_path);
	}
	if (s->data_dir) {
		char *cmd = cf_asprintf("rm -rf '%s'", s->data_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->data_dir);
		free(cmd);
	}
	CF_FREE(s->data_dir);
	CF_FREE(s->log_path);
}

void testsrv_signer_start(struct testsigner *g, const char *name)
{
	memset(g, 0, sizeof *g);
	char tmpl[] = "/tmp/conform-signer.XXXXXX";
	ck_assert(mkdtemp(tmpl) != NULL);
	g->dir = cf_asprintf("%s/signer", tmpl);
	g->socket = cf_asprintf("%s/signer.sock", g->dir);
	g->env = cf_asprintf("CONFORM_SIGNER_SOCKET=%s", g->socket);
	char logname[96];
	snprintf(logname, sizeof logname, "conform-signer-%s.log", name);
	g->log_path = testsrv_artifact_path(logname);
	char *bin = testsrv_binary("conform-signer");
	char *dir_env = cf_asprintf("CONFORM_SIGNER_DIR=%s", g->dir);
	char *data_env = cf_asprintf("CONFORM_DATA_DIR=%s", tmpl);
	/* Under AddressSanitizer: full stacks, so that tests/lsan.supp can name
	 * the leak of SoftHSM2 (built without frame pointers) */
	const char *asan = getenv("ASAN_OPTIONS");
	char *asan_env = asan ? cf_asprintf("ASAN_OPTIONS=%s:fast_unwind_on_malloc=0", asan) : NULL;
	pid_t parent = getpid();
	g->pid = fork();
	ck_assert(g->pid >= 0);
	if (g->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int fd = open(g->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		putenv(g->env);
		putenv(dir_env);
		putenv(data_env);
		if (asan_env)
			putenv(asan_env);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	free(bin);
	free(dir_env);
	free(data_env);
	free(asan_env);
	json_t *ping = json_pack("{s:s}", "op", "ping");
	bool up = false;
	for (int i = 0; i < 400 && !up; i++) {
		json_t *ok = NULL;
		struct cf_error err;
		up = signerlink_call(g->socket, ping, &ok, &err) == CF_OK;
		json_decref(ok);
		if (!up) {
			int status;
			ck_assert_msg(waitpid(g->pid, &status, WNOHANG) == 0,
				      "conform-signer exited; see %s", g->log_path);
			usleep(25000);
		}
	}
	json_decref(ping);
	ck_assert_msg(up, "conform-signer did not answer; see %s", g->log_path);
}

void testsrv_signer_stop(struct testsigner *g)
{
	if (g->pid) {
		kill(g->pid, SIGTERM);
		int status = 0;
		ck_assert(waitpid(g->pid, &status, 0) == g->pid);
		g->pid = 0;
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "conform-signer did not exit cleanly (status %d); see %s", status,
			      g->log_path);
	}
	if (g->dir) {
		/* the temporary directory above the signer's own */
		char *cmd = cf_asprintf("rm -rf \"$(dirname '%s')\"", g->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", g->dir);
		free(cmd);
	}
	CF_FREE(g->dir);
	CF_FREE(g->socket);
	CF_FREE(g->env);
	CF_FREE(g->log_path);
}

void testsrv_req(const struct testsrv *s, struct http_resp *r, const char *method, const char *path,
		 const char *const *headers, const char *body)
{
	char *url = cf_asprintf("%s%s", s->base, path);
	http_do(r, method, url, headers, body, body ? strlen(body) : 0);
	free(url);
}

void testsrv_ctl(struct proc_result *r, const struct testdb *db, const char *const *args,
		 const char *const *env)
{
	const char *argv[64];
	int n = 0;
	char *bin = testsrv_binary("conformctl");
	argv[n++] = bin;
	for (const char *const *a = args; *a && n < 63; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	char *dburl = cf_asprintf("CONFORM_DATABASE_URL=%s", db->app_url);
	const char *envs[32];
	int m = 0;
	envs[m++] = dburl;
	for (const char *const *e = env; e && *e && m < 31; e++)
		envs[m++] = *e;
	envs[m] = NULL;
	proc_run(r, argv, envs);
	free(dburl);
	free(bin);
}

json_t *testsrv_api(const struct testsrv *s, const char *method, const char *path, const char *token,
		    const json_t *body, long *status)
{
	char auth[128];
	const char *headers[4];
	int n = 0;
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (text)
		headers[n++] = "Content-Type: application/json";
	headers[n] = NULL;
	struct http_resp r;
	testsrv_req(s, &r, method, path, headers, text);
	free(text);
	*status = r.status;
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	http_resp_free(&r);
	return j;
}

json_t *testsrv_api_ok(const struct testsrv *s, const char *method, const char *path,
		       const char *token, const json_t *body, long expect)
{
	long status;
	json_t *j = testsrv_api(s, method, path, token, body, &status);
	if (status != expect) {
		char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
		ck_abort_msg("%s %s: %ld, expected %ld: %s", method, path, status, expect,
			     dump ? dump : "(no body)");
	}
	return j;
}

json_t *testsrv_api_text(const struct testsrv *s, const char *method, const char *path,
			 const char *token, const char *body_text, long expect)
{
	json_t *b = body_text ? json_loads(body_text, 0, NULL) : NULL;
	json_t *r = testsrv_api_ok(s, method, path, token, b, expect);
	json_decref(b);
	return r;
}

char *testsrv_get_text(const struct testsrv *s, const char *path, long expect)
{
	struct http_resp r;
	testsrv_req(s, &r, "GET", path, NULL, NULL);
	ck_assert_msg(r.status == expect, "GET %s%s: %ld: %.200s", s->base, path, r.status, r.body);
	char *t = cf_strdup(r.body);
	http_resp_free(&r);
	return t;
}

char *testsrv_write_artifact(const char *name, const char *content)
{
	char *path = testsrv_artifact_path(name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
	return path;
}

double testsrv_metric(const struct testsrv *s, const char *name)
{
	struct http_resp r;
	testsrv_req(s, &r, "GET", "/metrics", NULL, NULL);
	double v = -1;
	if (r.status == 200) {
		size_t n = strlen(name);
		for (const char *p = r.body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (strncmp(p, name, n) == 0 && p[n] == ' ') {
				v = atof(p + n + 1);
				break;
			}
	}
	http_resp_free(&r);
	return v;
}
