/*
 * Integration test: conformd under systemd's Type=notify, and the programs
 * started with a configuration file. The test is the service manager: it
 * binds an AF_UNIX datagram socket, starts the real conformd with
 * NOTIFY_SOCKET pointing at it and every setting in a --config file, reads
 * READY=1 (and checks that conformd answers at that moment), sends SIGTERM and
 * reads STOPPING=1 before conformd exits 0. conformctl then reads the same
 * file, and a bad file is refused by file, line and setting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "mem.h"
#include "proc.h"
#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

/* The next datagram on fd within ms milliseconds, as a string in buf; false
 * when none came. */
static bool notify_read(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1)
		return false;
	ssize_t n = recv(fd, buf, size - 1, 0);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Reads datagrams until one holds the line want ("READY=1"), for at most ms
 * milliseconds; all that was read goes into seen. */
static bool notify_wait_for(int fd, const char *want, int ms, char *seen, size_t seen_size)
{
	char msg[1024];
	for (int waited = 0; waited < ms; waited += 100) {
		if (!notify_read(fd, msg, sizeof msg, 100))
			continue;
		snprintf(seen + strlen(seen), seen_size - strlen(seen), "[%s]", msg);
		for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
			if (strcmp(line, want) == 0)
				return true;
	}
	return false;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(ready_and_stopping_arrive)
{
	struct testdb db;
	testdb_create(&db, "notify");
	char tmpl[] = "/tmp/conform-notify.XXXXXX";
	ck_assert(mkdtemp(tmpl) != NULL);
	char *sock_path = cf_asprintf("%s/notify", tmpl);
	char *conf = cf_asprintf("%s/conform.conf", tmpl);
	char *data = cf_asprintf("%s/data", tmpl);

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(fd >= 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path);
	ck_assert(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);

	char *bin = testsrv_binary("conformd");
	char *env_sock = cf_asprintf("NOTIFY_SOCKET=%s", sock_path);
	char *env_conf = cf_asprintf("CONFORM_CONFIG=%s", conf);
	const char *const argv[] = { bin, NULL };
	const char *const env[] = { env_sock, env_conf, NULL };
	char seen[4096] = "";
	char *out = NULL, *err = NULL, url[96] = "";
	pid_t pid = 0;
	unsigned short port = 0;
	bool ready = false;
	for (int attempt = 0; attempt < 5 && !ready; attempt++) {
		port = testsrv_free_port();
		/* every setting conformd needs comes from the file */
		char *text = cf_asprintf("# written by test_notify\ndata-dir = %s\n"
					 "listen = 127.0.0.1:%u\ndatabase-url = %s\n",
					 data, port, db.app_url);
		write_file(conf, text);
		free(text);
		pid = proc_start(argv, env, &out, &err);
		/* READY=1, or conformd's exit (the port was taken: try another) */
		for (int waited = 0; waited < 60000 && !ready; waited += 100) {
			ready = notify_wait_for(fd, "READY=1", 100, seen, sizeof seen);
			int status;
			if (!ready && waitpid(pid, &status, WNOHANG) == pid) {
				struct proc_result r;
				r.status = 0;
				r.out = tsupport_read_file(out, NULL);
				r.err = tsupport_read_file(err, NULL);
				fprintf(stderr, "conformd exited before READY=1: %s\n", r.err);
				proc_result_free(&r);
				unlink(out);
				unlink(err);
				CF_FREE(out);
				CF_FREE(err);
				pid = 0;
				break;
			}
		}
	}
	ck_assert_msg(ready, "no READY=1 from conformd (datagrams: %s)", seen);
	/* READY=1 comes once conformd listens: it answers now, not later */
	snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/health", port);
	struct http_resp resp;
	ck_assert_int_eq(http_try(&resp, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(resp.status, 200);
	http_resp_free(&resp);
	char want_status[64];
	snprintf(want_status, sizeof want_status, "STATUS=listening on 127.0.0.1:%u", port);
	ck_assert_msg(strstr(seen, want_status) != NULL, "%s", seen);

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	seen[0] = '\0';
	ck_assert_msg(notify_wait_for(fd, "STOPPING=1", 30000, seen, sizeof seen),
		      "no STOPPING=1 after SIGTERM (datagrams: %s)", seen);
	struct proc_result r;
	proc_wait(&r, pid, out, err);
	ck_assert_msg(r.status == 0, "conformd exited %d: %s", r.status, r.err);
	proc_result_free(&r);

	/* conformctl reads the same file: the database, and the identity that
	 * conformd stored from its listen address */
	char *ctl = testsrv_binary("conformctl");
	const char *const show[] = { ctl, "--config", conf, "identity", "show", NULL };
	proc_run(&r, show, NULL);
	char want_url[64];
	snprintf(want_url, sizeof want_url, "http://127.0.0.1:%u", port);
	ck_assert_msg(r.status == 0 && strstr(r.out, want_url) != NULL, "status %d: %s%s", r.status,
		      r.out, r.err);
	proc_result_free(&r);

	/* a bad file is refused by file, line and setting, and nothing starts */
	write_file(conf, "listen = 127.0.0.1:1\nthreds = 4\n");
	proc_run(&r, show, NULL);
	char *want = cf_asprintf("%s:2: unknown setting 'threds'", conf);
	ck_assert_msg(r.status != 0 && strstr(r.err, want) != NULL, "status %d: %s", r.status, r.err);
	free(want);
	proc_result_free(&r);
	proc_run(&r, argv, env);
	ck_assert_msg(r.status == 2 && strstr(r.err, "unknown setting 'threds'") != NULL, "status %d: %s",
		      r.status, r.err);
	proc_result_free(&r);

	close(fd);
	char *cmd = cf_asprintf("rm -rf '%s'", tmpl);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(ctl);
	free(env_sock);
	free(env_conf);
	free(bin);
	free(data);
	free(conf);
	free(sock_path);
	testdb_drop(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, ready_and_stopping_arrive);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
