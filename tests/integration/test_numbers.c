/*
 * Numbers and raw bytes from outside: every numeric query parameter of every
 * route given numbers past what a long holds (400 problem+json naming the
 * parameter), the extremes it does hold (never 5xx, and conformd survives:
 * an UBSan build stops at the first signed overflow), a Content-Length past
 * 64 bits, and a percent-decoded path of control and non-UTF-8 bytes,
 * which the access log must show escaped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	world_create(&w, "numbers", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
}

struct numeric {
	const char *path;  /* with any other parameter the route needs, ending in ? or & */
	const char *param;
	bool admin;        /* needs the admin's token */
};

static const struct numeric params[] = {
	{ "/v1/schemes/dcms-cop/versions/2018/requirements?", "limit", false },
	{ "/v1/schemes/dcms-cop/versions/2018/checklist?", "class", false },
	{ "/v1/organisations?", "limit", true },
	{ "/v1/users?", "limit", true },
	{ "/v1/audit?", "limit", true },
	{ "/v1/audit?", "after", true },
	{ "/v1/products?", "limit", true },
	{ "/v1/applications?", "limit", true },
	{ "/v1/applications?", "after", true },
	{ "/v1/certificates?", "limit", false },
	{ "/v1/certificates?", "after", false },
	{ "/v1/log/entries?", "start", false },
	{ "/v1/log/entries?start=0&", "end", false },
	{ "/v1/log/entries?end=10&", "start", false },
	{ "/v1/log/proof/inclusion?tree_size=1&", "index", false },
	{ "/v1/log/proof/inclusion?index=0&", "tree_size", false },
	{ "/v1/log/proof/consistency?second=1&", "first", false },
	{ "/v1/log/proof/consistency?first=1&", "second", false },
};

/* Not numbers a long holds: always 400. */
static const char *const beyond[] = {
	"9223372036854775808", "-9223372036854775809", "18446744073709551616",
	"99999999999999999999999999999999999999", "1e999", "0x7fffffffffffffff", "12abc", "",
};

/* The extremes a long holds: whatever the answer, never 5xx. */
static const char *const extremes[] = {
	"9223372036854775807", "9223372036854775806", "9223372036854775707",
	"-9223372036854775808", "-1", "0",
};

static long get(const struct numeric *n, const char *value, json_t **body)
{
	char *path = cf_asprintf("%s%s=%s", n->path, n->param, value);
	long status;
	*body = testsrv_api(&w.srv, "GET", path, n->admin ? w.admin.token : NULL, NULL, &status);
	free(path);
	return status;
}

START_TEST(numbers_past_a_long_are_400_naming_the_parameter)
{
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		for (size_t v = 0; v < sizeof beyond / sizeof beyond[0]; v++) {
			json_t *b = NULL;
			long status = get(&params[i], beyond[v], &b);
			const char *detail = json_string_value(json_object_get(b, "detail"));
			ck_assert_msg(status == 400 && detail && strstr(detail, params[i].param),
				      "%s%s=%s: %ld %s", params[i].path, params[i].param, beyond[v], status,
				      detail ? detail : "(no detail)");
			ck_assert_int_eq(json_integer_value(json_object_get(b, "status")), 400);
			json_decref(b);
		}
	}
}
END_TEST

START_TEST(extreme_numbers_are_never_5xx)
{
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		for (size_t v = 0; v < sizeof extremes / sizeof extremes[0]; v++) {
			json_t *b = NULL;
			long status = get(&params[i], extremes[v], &b);
			ck_assert_msg(status >= 200 && status < 500, "%s%s=%s: %ld", params[i].path,
				      params[i].param, extremes[v], status);
			if (status >= 400)
				ck_assert_msg(json_is_string(json_object_get(b, "detail")),
					      "%s%s=%s: %ld without a problem detail", params[i].path,
					      params[i].param, extremes[v], status);
			json_decref(b);
		}
	}
	/* the observation: start at the very top, no end */
	json_t *b = NULL;
	long status;
	b = testsrv_api(&w.srv, "GET", "/v1/log/entries?start=9223372036854775807", NULL, NULL, &status);
	ck_assert_int_eq(status, 400);
	json_decref(b);
	/* and conformd is still there */
	b = testsrv_api(&w.srv, "GET", "/v1/health", NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(b);
}
END_TEST

/* Sends raw bytes to conformd; returns the status of its answer (0: none). */
static int raw_request(const char *text)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(w.srv.port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ck_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(send(fd, text, strlen(text), MSG_NOSIGNAL) == (ssize_t)strlen(text));
	char buf[512] = "";
	size_t got = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	while (got < 12 && poll(&p, 1, 20000) == 1) {
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 ? atoi(buf + 9) : 0;
}

START_TEST(content_length_past_64_bits_is_refused)
{
	static const char *const lengths[] = { "18446744073709551616", "99999999999999999999999999",
					       "9223372036854775808", "-1" };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		char *req = cf_asprintf("POST /v1/organisations HTTP/1.1\r\nHost: x\r\n"
					"Content-Type: application/json\r\nContent-Length: %s\r\n"
					"Connection: close\r\n\r\n{}",
					lengths[i]);
		int status = raw_request(req);
		free(req);
		ck_assert_msg(status >= 400 && status < 500, "Content-Length: %s: %d", lengths[i], status);
	}
	long status;
	json_t *b = testsrv_api(&w.srv, "GET", "/v1/health", NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(b);
}
END_TEST

START_TEST(decoded_path_bytes_are_escaped_in_the_log)
{
	struct http_resp r;
	const char *h[] = { "X-Request-Id: rawpath-1", NULL };
	testsrv_req(&w.srv, &r, "GET", "/v1/%ff%0a%1b%5b31mX%20status=200%c2%9b%e2%82%ac", h, NULL);
	ck_assert_int_eq(r.status, 404);
	/* the problem keeps its detail and instance: bytes JSON cannot carry
	 * are written %XX */
	json_t *problem = http_json(&r);
	const char *detail = json_string_value(json_object_get(problem, "detail"));
	const char *instance = json_string_value(json_object_get(problem, "instance"));
	ck_assert_msg(detail && strstr(detail, "/v1/%FF\n\x1b[31mX status=200%C2%9B%E2%82%AC"),
		      "detail: %s", detail ? detail : "(none)");
	ck_assert_msg(instance && strcmp(instance, "/v1/%FF\n\x1b[31mX status=200%C2%9B%E2%82%AC") == 0,
		      "instance: %s", instance ? instance : "(none)");
	json_decref(problem);
	http_resp_free(&r);
	char *log = NULL;
	const char *line = NULL;
	/* the access line is written within 100 ms (buffered) */
	for (int i = 0; i < 100 && !line; i++) {
		usleep(50000);
		free(log);
		log = tsupport_read_file(w.srv.log_path, NULL);
		line = strstr(log, "rid=rawpath-1 access ");
	}
	ck_assert_msg(line != NULL, "no access line in %s", w.srv.log_path);
	static const char expect[] = "rid=rawpath-1 access method=GET path=/v1/%FF%0A%1B%5B31mX%20"
				     "status=200%C2%9B%E2%82%AC status=404 ";
	ck_assert_msg(strncmp(line, expect, strlen(expect)) == 0, "access line: %.200s", line);
	/* no raw byte of the path anywhere in the log (0x1b and 0xff are in no
	 * well-formed UTF-8), nor a C1 control in the access line */
	for (const unsigned char *p = (const unsigned char *)log; *p; p++)
		ck_assert_msg(*p != 0x1b && *p != 0xff, "a raw byte 0x%02x in %s", *p, w.srv.log_path);
	for (const unsigned char *p = (const unsigned char *)line; *p && *p != '\n'; p++)
		ck_assert_msg(*p >= 0x20 && *p < 0x7f, "a raw byte 0x%02x in the access line", *p);
	free(log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("numbers");
	TCase *tc = tcase_create("numbers");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, numbers_past_a_long_are_400_naming_the_parameter);
	tcase_add_test(tc, extreme_numbers_are_never_5xx);
	tcase_add_test(tc, content_length_past_64_bits_is_refused);
	tcase_add_test(tc, decoded_path_bytes_are_escaped_in_the_log);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
