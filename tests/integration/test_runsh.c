/*
 * deploy/local/run.sh as an operator runs it, with a data directory and a
 * port of its own (and the suite's database, so that no cluster is made):
 * when conformd dies (kill -9) run.sh starts it again; Ctrl-C (SIGINT to its
 * process group, as a terminal sends it) still stops everything.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "mem.h"
#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

/* The pid of the child of parent whose command is comm, or 0. */
static pid_t child_named(pid_t parent, const char *comm)
{
	DIR *d = opendir("/proc");
	ck_assert_ptr_nonnull(d);
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* pid (comm) state ppid ... */
		char *open = strchr(buf, '('), *close_ = strrchr(buf, ')');
		if (!open || !close_)
			continue;
		*close_ = '\0';
		char state;
		int ppid;
		if (sscanf(close_ + 2, "%c %d", &state, &ppid) != 2)
			continue;
		if (ppid == parent && state != 'Z' && strcmp(open + 1, comm) == 0)
			found = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* Waits (at most secs) until /v1/health answers 200 from a conformd child
 * of runsh other than not; returns its pid. */
static pid_t wait_serving(const char *base, pid_t runsh, pid_t not, double secs, const char *log)
{
	char url[96];
	snprintf(url, sizeof url, "%s/v1/health", base);
	for (double until = tsupport_now() + secs; tsupport_now() < until;) {
		ck_assert_msg(waitpid(runsh, NULL, WNOHANG) == 0, "run.sh ended; see %s", log);
		pid_t pid = child_named(runsh, "conformd");
		struct http_resp r;
		int rc = http_try(&r, "GET", url, NULL, NULL, 0);
		long status = r.status;
		http_resp_free(&r);
		if (pid && pid != not && rc == 0 && status == 200)
			return pid;
		usleep(100000);
	}
	ck_abort_msg("conformd did not answer within %.0f s; see %s", secs, log);
	return 0;
}

START_TEST(run_sh_restarts_conformd_and_ctrl_c_stops_all)
{
	struct testdb db;
	testdb_create(&db, "runsh");
	char tmpl[] = "/tmp/conform-runsh.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	char *log = testsrv_artifact_path("run-sh.log");
	char *bin = testsrv_binary("");
	const char *src = getenv("CONFORM_SOURCE_DIR");
	ck_assert_ptr_nonnull(src);
	char *script = cf_asprintf("%s/deploy/local/run.sh", src);
	unsigned short port = testsrv_free_port();
	char base[64];
	snprintf(base, sizeof base, "http://127.0.0.1:%u", port);

	char *env[] = {
		cf_asprintf("CONFORM_DATA_DIR=%s", tmpl),
		cf_asprintf("CONFORM_LISTEN=127.0.0.1:%u", port),
		cf_asprintf("CONFORM_DATABASE_URL=%s", db.app_url),
		cf_asprintf("CONFORM_DATABASE_OWNER_URL=%s", db.owner_url),
		cf_asprintf("CONFORM_BUILD_DIR=%s", bin),
		cf_asprintf("CONFORM_THREADS=2"),
		NULL,
	};
	pid_t parent = getpid();
	pid_t runsh = fork();
	ck_assert(runsh >= 0);
	if (runsh == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		setpgid(0, 0); /* a terminal's job: Ctrl-C goes to the whole group */
		FILE *f = freopen(log, "w", stdout);
		if (!f || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(1);
		for (char **e = env; *e; e++)
			putenv(*e);
		execl("/bin/bash", "bash", script, (char *)NULL);
		_exit(127);
	}
	setpgid(runsh, runsh);

	/* first start: builds nothing (all is built), migrates, imports */
	pid_t first = wait_serving(base, runsh, 0, 180, log);
	pid_t signer = child_named(runsh, "conform-signer");
	ck_assert_int_gt(signer, 0);

	/* The first hour: the log has a key from the start, the banner says
	 * which exports a second terminal needs, and nothing warns. */
	char vkey_url[96];
	snprintf(vkey_url, sizeof vkey_url, "%s/v1/log/vkey", base);
	struct http_resp vk;
	ck_assert_int_eq(http_try(&vk, "GET", vkey_url, NULL, NULL, 0), 0);
	ck_assert_msg(vk.status == 200, "/v1/log/vkey: %ld %s", vk.status, vk.body);
	http_resp_free(&vk);
	char *banner = tsupport_read_file(log, NULL);
	char *want = cf_asprintf("  export CONFORM_DATA_DIR=%s\n", tmpl);
	ck_assert_msg(strstr(banner, want), "no '%s' in %s", want, banner);
	ck_assert_msg(strstr(banner, "This terminal stays with conformd"), "%s", banner);
	ck_assert_msg(!strstr(banner, "warning") && !strstr(banner, " warn "), "%s", banner);
	free(want);
	free(banner);

	/* conformd dies: run.sh starts another */
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	pid_t second = wait_serving(base, runsh, first, 60, log);
	ck_assert_int_ne(second, first);
	ck_assert_int_eq(child_named(runsh, "conform-signer"), signer); /* the signer stayed */

	/* Ctrl-C: everything stops, and run.sh exits 0 */
	ck_assert_int_eq(kill(-runsh, SIGINT), 0);
	int status = -1;
	pid_t got = 0;
	for (double until = tsupport_now() + 60; tsupport_now() < until && got == 0; usleep(100000))
		got = waitpid(runsh, &status, WNOHANG);
	if (got == 0) {
		kill(-runsh, SIGKILL);
		waitpid(runsh, NULL, 0);
		ck_abort_msg("run.sh did not stop on Ctrl-C; see %s", log);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run.sh status %d; see %s", status,
		      log);
	ck_assert_msg(kill(second, 0) == -1 && errno == ESRCH, "conformd still runs");
	ck_assert_msg(kill(signer, 0) == -1 && errno == ESRCH, "conform-signer still runs");
	char url[96];
	snprintf(url, sizeof url, "%s/v1/health", base);
	struct http_resp r;
	ck_assert_int_ne(http_try(&r, "GET", url, NULL, NULL, 0), 0);
	http_resp_free(&r);

	char *text = tsupport_read_file(log, NULL);
	ck_assert_msg(strstr(text, "conformd died (status 137); restarting in 1s (1 of 5)"), "%s", text);
	free(text);

	char *cmd = cf_asprintf("rm -rf '%s'", tmpl);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	for (char **e = env; *e; e++)
		free(*e);
	free(script);
	free(bin);
	free(log);
	testdb_drop(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runsh");
	TCase *tc = tcase_create("runsh");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, run_sh_restarts_conformd_and_ctrl_c_stops_all);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
