/*
 * proc: running a program (conformctl) from a test and collecting its exit
 * status, standard output and standard error.
 */
#ifndef CONFORM_PROC_H
#define CONFORM_PROC_H

#include <sys/types.h>

struct proc_result {
	int status;  /* exit status, or 128+signal */
	char *out;
	char *err;
};

/* Runs argv (argv[0] a path) with extra "NAME=value" environment entries
 * (NULL-terminated, may be NULL) and waits for it. */
void proc_run(struct proc_result *r, const char *const *argv, const char *const *env);

/* Runs argv in dir with exactly the environment envp (NULL-terminated
 * "NAME=value") and waits for it. */
void proc_run_in(struct proc_result *r, const char *dir, const char *const *argv, const char *const *envp);

/* Starts argv without waiting; output goes to files whose contents
 * proc_wait collects. */
pid_t proc_start(const char *const *argv, const char *const *env, char **out_path, char **err_path);
void proc_wait(struct proc_result *r, pid_t pid, char *out_path, char *err_path);

void proc_result_free(struct proc_result *r);

#endif
