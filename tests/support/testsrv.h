/*
 * testsrv: the real conformd, started on a free port against a suite's
 * database, and stopped with SIGTERM (its exit status is checked: a clean
 * shutdown is part of every integration test).
 */
#ifndef CONFORM_TESTSRV_H
#define CONFORM_TESTSRV_H

#include <sys/types.h>

#include "http.h"
#include "testdb.h"

struct testsrv {
	pid_t pid;
	unsigned short port;
	char base[64];      /* "http://127.0.0.1:PORT"; also the public URL of the first
			     * conformd on a database (see testsrv.c) */
	char *data_dir;     /* a temporary CONFORM_DATA_DIR */
	char *log_path;     /* conformd's standard error */
};

/* conform-signer, the process that holds the private keys, in a temporary
 * directory of its own. */
struct testsigner {
	pid_t pid;
	char *dir;          /* its CONFORM_SIGNER_DIR (mode 0700) */
	char *socket;       /* its socket */
	char *env;          /* "CONFORM_SIGNER_SOCKET=..." for conformd and conformctl */
	char *log_path;     /* its standard error */
};

/* Starts conform-signer; waits until it answers on its socket. name makes
 * its log file's name. */
void testsrv_signer_start(struct testsigner *g, const char *name);

/* Sends SIGTERM, waits, asserts exit status 0, removes its directory. */
void testsrv_signer_stop(struct testsigner *g);

/* Starts conformd; extra_env is a NULL-terminated list of "NAME=value" (may
 * be NULL). Waits until /v1/health answers. */
void testsrv_start(struct testsrv *s, const struct testdb *db, const char *const *extra_env);

/*
 * "CONFORM_DATABASE_READ_URL=..." for testsrv_start's extra_env (a new
 * string): db's database, as the runtime role, on the read replica whose
 * socket directory (or host) is host.
 */
char *testsrv_read_url_env(const struct testdb *db, const char *host);

/* Sends SIGTERM, waits, and asserts exit status 0. */
void testsrv_stop(struct testsrv *s);

/* A loopback TCP port free at the time of the call (another process may
 * take it before it is used: retry on a clash). */
unsigned short testsrv_free_port(void);

/* The value of a metric without labels on s's /metrics; -1 when absent. */
double testsrv_metric(const struct testsrv *s, const char *name);

/* A request to path on the server (see http_do). */
void testsrv_req(const struct testsrv *s, struct http_resp *r, const char *method, const char *path,
		 const char *const *headers, const char *body);

/*
 * A JSON API call: Authorization with token (may be NULL), Content-Type
 * application/json when body is given. Returns the parsed body (new
 * reference, NULL when the body is empty) and sets *status.
 */
json_t *testsrv_api(const struct testsrv *s, const char *method, const char *path, const char *token,
		    const json_t *body, long *status);

/* Like testsrv_api, and asserts the status. */
json_t *testsrv_api_ok(const struct testsrv *s, const char *method, const char *path,
		       const char *token, const json_t *body, long expect);

/* Like testsrv_api_ok with the body given as JSON text (may be NULL). */
json_t *testsrv_api_text(const struct testsrv *s, const char *method, const char *path,
			 const char *token, const char *body_text, long expect);

/* GET path as text (no token); asserts the status; returns a new string. */
char *testsrv_get_text(const struct testsrv *s, const char *path, long expect);

/* Returns a new path "ARTIFACTS/name" for files the tests keep. */
char *testsrv_artifact_path(const char *name);

/* Writes content to a new artifact file name; returns its new path. */
char *testsrv_write_artifact(const char *name, const char *content);

struct proc_result;

/*
 * Runs conformctl with args (NULL-terminated, without the program name)
 * against the suite's database as the runtime role, plus extra "NAME=value"
 * environment entries (may be NULL).
 */
void testsrv_ctl(struct proc_result *r, const struct testdb *db, const char *const *args,
		 const char *const *env);

/* The path of a built program ("conformctl"). */
char *testsrv_binary(const char *name);

#endif
