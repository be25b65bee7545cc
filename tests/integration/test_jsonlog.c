/*
 * Integration test of CONFORM_LOG_FORMAT=json: conformd, started with it,
 * writes every line as one JSON object (startup messages, warnings and the
 * access line of each request), with an RFC 3339 millisecond UTC timestamp,
 * the level and the message; an access line names the request id, method,
 * route pattern, status, duration, client address (the forwarded one behind
 * a trusted proxy, the peer otherwise) and the authenticated user; no token,
 * good or bad, and no query string appears anywhere.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonx.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static const char bad_token[] = "cfm_JSONLOGBADTOKENJSONLOGBADTOKENJSONLOGBADTOK";

static void setup(void)
{
	/* 127.0.0.7 stands for a reverse proxy in front of conformd */
	const char *env[] = { "CONFORM_LOG_FORMAT=json", "CONFORM_TRUSTED_PROXIES=127.0.0.7", NULL };
	world_create(&w, "jsonlog", env);
}

static void teardown(void)
{
	world_destroy(&w);
}

static long get(const char *path, const char *rid, const char *token, const char *xff)
{
	char auth[128], ridh[80], xffh[128];
	const char *h[4];
	int n = 0;
	snprintf(ridh, sizeof ridh, "X-Request-Id: %s", rid);
	h[n++] = ridh;
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h[n++] = auth;
	}
	if (xff) {
		snprintf(xffh, sizeof xffh, "X-Forwarded-For: %s", xff);
		h[n++] = xffh;
	}
	h[n] = NULL;
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", path, h, NULL);
	long status = r.status;
	http_resp_free(&r);
	return status;
}

/* Every line of the log parsed; asserts that each one is a JSON object with
 * the members every line has. */
static json_t *parse_log(char **text_out)
{
	char *text = tsupport_read_file(w.srv.log_path, NULL);
	regex_t ts;
	ck_assert_int_eq(regcomp(&ts,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
		REG_EXTENDED | REG_NOSUB), 0);
	json_t *lines = json_array();
	char *save = NULL;
	char *copy = strdup(text);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &e);
		ck_assert_msg(json_is_object(j), "not a JSON object (%s): %s", e.text, line);
		const char *t = jsonx_str(j, "timestamp");
		ck_assert_msg(t && regexec(&ts, t, 0, NULL, 0) == 0, "timestamp: %s", line);
		const char *lvl = jsonx_str(j, "level");
		ck_assert_msg(lvl && (strcmp(lvl, "error") == 0 || strcmp(lvl, "warn") == 0 ||
				      strcmp(lvl, "info") == 0 || strcmp(lvl, "debug") == 0),
			      "level: %s", line);
		ck_assert_msg(json_is_string(json_object_get(j, "message")), "message: %s", line);
		json_array_append_new(lines, j);
	}
	free(copy);
	regfree(&ts);
	*text_out = text;
	return lines;
}

/* The line with this request id and message ("access"), or NULL. */
static json_t *find(json_t *lines, const char *rid, const char *message)
{
	size_t i;
	json_t *j;
	json_array_foreach(lines, i, j) {
		const char *r = jsonx_str(j, "request_id");
		const char *m = jsonx_str(j, "message");
		if (r && strcmp(r, rid) == 0 && m && strncmp(m, message, strlen(message)) == 0)
			return j;
	}
	return NULL;
}

static void assert_access(json_t *lines, const char *rid, const char *method, const char *route,
			  long status, const char *client, const char *user)
{
	json_t *a = find(lines, rid, "access");
	ck_assert_msg(a != NULL, "no access line for %s", rid);
	ck_assert_str_eq(jsonx_str(a, "level"), "info");
	ck_assert_str_eq(jsonx_str(a, "method"), method);
	if (route) {
		ck_assert_str_eq(jsonx_str(a, "route"), route);
		ck_assert(json_object_get(a, "path") == NULL);
	} else {
		ck_assert(json_is_null(json_object_get(a, "route")));
	}
	ck_assert_int_eq(json_integer_value(json_object_get(a, "status")), status);
	ck_assert(json_is_integer(json_object_get(a, "bytes")));
	json_t *dur = json_object_get(a, "duration_ms");
	ck_assert(json_is_number(dur) && json_number_value(dur) >= 0);
	ck_assert_str_eq(jsonx_str(a, "client"), client);
	if (user)
		ck_assert_str_eq(jsonx_str(a, "user_id"), user);
	else
		ck_assert(json_is_null(json_object_get(a, "user_id")));
}

START_TEST(every_line_is_one_json_object_and_no_token_is_in_any)
{
	char path[128];
	ck_assert_int_eq(get("/v1/schemes", "jl-anon", NULL, NULL), 200);
	ck_assert_int_eq(get("/v1/schemes/dcms-cop", "jl-param", NULL, NULL), 200);
	ck_assert_int_eq(get("/v1/me", "jl-token", w.applicant.token, NULL), 200);
	snprintf(path, sizeof path, "/v1/users/%s", w.admin.user);
	ck_assert_int_eq(get(path, "jl-forbidden", w.applicant.token, NULL), 403);
	ck_assert_int_eq(get("/v1/me", "jl-badtoken", bad_token, NULL), 401);
	ck_assert_int_eq(get("/v1/no/such/thing", "jl-404", NULL, NULL), 404);
	ck_assert_int_eq(get("/v1/health?token=cfm_JSONLOGQUERYSECRET&pin=12345678", "jl-query", NULL,
			     NULL), 200);
	/* a client's own X-Forwarded-For is not believed from an untrusted peer */
	ck_assert_int_eq(get("/v1/health", "jl-forged", NULL, "192.0.2.66"), 200);
	/* through the trusted proxy: the address it appended */
	http_set_source("127.0.0.7");
	ck_assert_int_eq(get("/v1/me", "jl-proxied", w.applicant.token, "192.0.2.66, 198.51.100.4"), 200);
	http_set_source(NULL);

	/* access lines and warnings are written at once; the rest within 100 ms */
	json_t *lines = NULL;
	char *text = NULL;
	for (int i = 0; i < 100; i++) {
		json_decref(lines);
		free(text);
		lines = parse_log(&text);
		if (find(lines, "jl-proxied", "access"))
			break;
		usleep(50000);
	}
	ck_assert_int_gt(json_array_size(lines), 10);

	assert_access(lines, "jl-anon", "GET", "/v1/schemes", 200, "127.0.0.1", NULL);
	assert_access(lines, "jl-param", "GET", "/v1/schemes/{id}", 200, "127.0.0.1", NULL);
	assert_access(lines, "jl-token", "GET", "/v1/me", 200, "127.0.0.1", w.applicant.user);
	assert_access(lines, "jl-forbidden", "GET", "/v1/users/{id}", 403, "127.0.0.1",
		      w.applicant.user);
	assert_access(lines, "jl-badtoken", "GET", "/v1/me", 401, "127.0.0.1", NULL);
	assert_access(lines, "jl-404", "GET", NULL, 404, "127.0.0.1", NULL);
	ck_assert_str_eq(jsonx_str(find(lines, "jl-404", "access"), "path"), "/v1/no/such/thing");
	assert_access(lines, "jl-query", "GET", "/v1/health", 200, "127.0.0.1", NULL);
	assert_access(lines, "jl-forged", "GET", "/v1/health", 200, "127.0.0.1", NULL);
	assert_access(lines, "jl-proxied", "GET", "/v1/me", 200, "198.51.100.4", w.applicant.user);
	/* the failed authentication's warning, in the request's line */
	json_t *warn = find(lines, "jl-badtoken", "authentication failed");
	ck_assert_msg(warn != NULL, "no warning for the bad token");
	ck_assert_str_eq(jsonx_str(warn, "level"), "warn");
	/* a line outside any request has no request id */
	size_t i;
	json_t *j;
	int outside = 0;
	json_array_foreach(lines, i, j)
		outside += json_object_get(j, "request_id") == NULL;
	ck_assert_int_gt(outside, 0);

	/* no secret anywhere: the bad token, the query, every token handed out */
	ck_assert(strstr(text, "JSONLOGBADTOKEN") == NULL);
	ck_assert(strstr(text, "JSONLOGQUERYSECRET") == NULL);
	ck_assert(strstr(text, "12345678") == NULL);
	ck_assert(strstr(text, "token=") == NULL);
	json_t *s;
	json_array_foreach(w.secrets, i, s) {
		const char *tok = json_string_value(s);
		/* the part after the prefix: unique to the token */
		ck_assert_msg(strstr(text, tok + 8) == NULL, "a token is in the log");
	}
	ck_assert(strstr(text, w.applicant.token + 8) == NULL);
	json_decref(lines);
	free(text);
}
END_TEST

START_TEST(a_bad_log_format_is_refused_naming_the_setting)
{
	struct proc_result r;
	char *bin = testsrv_binary("conformd");
	const char *argv[] = { bin, "--log-format", "yaml", NULL };
	proc_run(&r, argv, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "log-format") && strstr(r.err, "'yaml'") &&
			      strstr(r.err, "text or json"),
		      "stderr: %s", r.err);
	proc_result_free(&r);
	free(bin);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonlog");
	TCase *tc = tcase_create("jsonlog");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_line_is_one_json_object_and_no_token_is_in_any);
	tcase_add_test(tc, a_bad_log_format_is_refused_naming_the_setting);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
