/*
 * proc: child processes for tests (see proc.h).
 */
#include "proc.h"

#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "tsupport.h"

/* Starts argv with env added to the environment, or (exact) as the whole of
 * it; in dir when not NULL. */
static pid_t start(const char *const *argv, const char *const *env, bool exact, const char *dir,
		   char **out_path, char **err_path)
{
	char otmp[] = "/tmp/conform-out.XXXXXX", etmp[] = "/tmp/conform-err.XXXXXX";
	int ofd = mkstemp(otmp), efd = mkstemp(etmp);
	ck_assert(ofd >= 0 && efd >= 0);
	*out_path = cf_strdup(otmp);
	*err_path = cf_strdup(etmp);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		int nfd = open("/dev/null", O_RDONLY);
		if (nfd >= 0)
			dup2(nfd, STDIN_FILENO);
		if (dir && chdir(dir) != 0)
			_exit(126);
		if (exact) {
			execve(argv[0], (char *const *)(uintptr_t)argv, (char *const *)(uintptr_t)env);
			_exit(127);
		}
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)(uintptr_t)*e);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	return pid;
}

pid_t proc_start(const char *const *argv, const char *const *env, char **out_path, char **err_path)
{
	return start(argv, env, false, NULL, out_path, err_path);
}

void proc_run_in(struct proc_result *r, const char *dir, const char *const *argv, const char *const *envp)
{
	char *o, *e;
	pid_t pid = start(argv, envp, true, dir, &o, &e);
	proc_wait(r, pid, o, e);
}

void proc_wait(struct proc_result *r, pid_t pid, char *out_path, char *err_path)
{
	int status = 0;
	ck_assert(waitpid(pid, &status, 0) == pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = tsupport_read_file(out_path, NULL);
	r->err = tsupport_read_file(err_path, NULL);
	unlink(out_path);
	unlink(err_path);
	free(out_path);
	free(err_path);
}

void proc_run(struct proc_result *r, const char *const *argv, const char *const *env)
{
	char *o, *e;
	pid_t pid = proc_start(argv, env, &o, &e);
	proc_wait(r, pid, o, e);
}

void proc_result_free(struct proc_result *r)
{
	CF_FREE(r->out);
	CF_FREE(r->err);
}
