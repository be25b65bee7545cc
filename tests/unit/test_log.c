/*
 * Unit tests of the log's json format: each event one line that parses as
 * one JSON object, whatever the message holds (quotes, backslashes,
 * control characters, bytes that are not UTF-8, an API token) and however
 * long it is; access lines carry their fields as members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jsonx.h"
#include "log.h"
#include "mem.h"
#include "tsupport.h"

static char *capture(void (*emit)(void))
{
	int fds[2];
	ck_assert(pipe(fds) == 0);
	log_set_fd(fds[1]);
	log_set_format(CF_LOG_JSON);
	emit();
	log_set_format(CF_LOG_TEXT);
	log_set_fd(2);
	close(fds[1]);
	size_t cap = 65536, n = 0;
	char *out = cf_calloc(1, cap);
	ssize_t r;
	while ((r = read(fds[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	return out;
}

static void emit_hostile(void)
{
	log_set_level(CF_LOG_INFO);
	log_set_request_id("req-7");
	log_info("quote \" backslash \\ tab\tnewline\nbell\x07 raw \xff\xc2\x9b caf\xc3\xa9 "
		 "Bearer cfm_abcdefABCDEF0123456789_-xyz end");
	log_set_request_id(NULL);
	/* far longer than a line: cut, and still an object */
	char big[3000];
	for (size_t i = 0; i + 2 < sizeof big; i += 2) {
		big[i] = '\xc3';
		big[i + 1] = '\xa9';
	}
	big[sizeof big - 2] = '"';
	big[sizeof big - 1] = '\0';
	log_warn("%s", big);
	/* escaping doubles it past the line: cut in the JSON, not in an escape */
	memset(big, '"', 2100);
	big[2100] = '\0';
	log_error("%s", big);
	log_debug("not shown at info");
	struct log_access a = { .method = "GET", .path = "/v1/x/1", .route = "/v1/x/{id}",
				.status = 200, .bytes = 15, .dur_ms = 1.5, .client = "192.0.2.1",
				.user_id = "u-1" };
	log_set_request_id("req-8");
	log_access(&a);
	struct log_access nf = { .method = "GET", .path = "/v1/%FF", .status = 404, .client = "::1",
				 .aborted = true };
	log_access(&nf);
	log_set_request_id(NULL);
}

START_TEST(json_lines_are_objects_whatever_the_message)
{
	char *out = capture(emit_hostile);
	json_t *lines[8] = { 0 };
	int n = 0;
	char *save = NULL;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(n, 8);
		ck_assert_msg(strlen(l) < 4096, "line too long");
		json_error_t e;
		lines[n] = json_loads(l, JSON_REJECT_DUPLICATES, &e);
		ck_assert_msg(json_is_object(lines[n]), "not JSON (%s): %s", e.text, l);
		n++;
	}
	ck_assert_int_eq(n, 5);

	ck_assert_str_eq(jsonx_str(lines[0], "level"), "info");
	ck_assert_str_eq(jsonx_str(lines[0], "request_id"), "req-7");
	const char *m = jsonx_str(lines[0], "message");
	ck_assert_msg(strstr(m, "quote \" backslash \\ tab\\x09newline\\x0abell\\x07 raw \\xff\\xc2\\x9b "
				"caf\xc3\xa9 Bearer cfm_[redacted] end") != NULL,
		      "message: %s", m);
	ck_assert(strstr(m, "abcdefABCDEF") == NULL);

	ck_assert_str_eq(jsonx_str(lines[1], "level"), "warn");
	ck_assert(json_object_get(lines[1], "request_id") == NULL);
	m = jsonx_str(lines[1], "message");
	ck_assert_uint_gt(strlen(m), 1000);
	ck_assert_uint_eq(strlen(m) % 2, 0); /* cut between two-byte characters */

	ck_assert_str_eq(jsonx_str(lines[2], "level"), "error");
	m = jsonx_str(lines[2], "message");
	ck_assert_uint_gt(strlen(m), 1000);
	ck_assert_uint_eq(strspn(m, "\""), strlen(m));

	json_t *a = lines[3];
	ck_assert_str_eq(jsonx_str(a, "message"), "access");
	ck_assert_str_eq(jsonx_str(a, "request_id"), "req-8");
	ck_assert_str_eq(jsonx_str(a, "method"), "GET");
	ck_assert_str_eq(jsonx_str(a, "route"), "/v1/x/{id}");
	ck_assert(json_object_get(a, "path") == NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "status")), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "bytes")), 15);
	ck_assert(json_real_value(json_object_get(a, "duration_ms")) == 1.5);
	ck_assert_str_eq(jsonx_str(a, "client"), "192.0.2.1");
	ck_assert_str_eq(jsonx_str(a, "user_id"), "u-1");
	ck_assert(json_object_get(a, "aborted") == NULL);

	a = lines[4];
	ck_assert(json_is_null(json_object_get(a, "route")));
	ck_assert_str_eq(jsonx_str(a, "path"), "/v1/%FF");
	ck_assert(json_is_null(json_object_get(a, "user_id")));
	ck_assert(json_is_true(json_object_get(a, "aborted")));
	for (int i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
}
END_TEST

START_TEST(log_formats_parse)
{
	enum log_format f;
	struct cf_error err;
	ck_assert_int_eq(log_parse_format("json", &f, &err), CF_OK);
	ck_assert_int_eq(f, CF_LOG_JSON);
	ck_assert_int_eq(log_parse_format("text", &f, &err), CF_OK);
	ck_assert_int_eq(f, CF_LOG_TEXT);
	ck_assert_int_ne(log_parse_format("JSON ", &f, &err), CF_OK);
	ck_assert(strstr(err.detail, "text or json"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_test(tc, json_lines_are_objects_whatever_the_message);
	tcase_add_test(tc, log_formats_parse);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
