/*
 * Unit tests of the platform modules: error, buf, config, log.
 */
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "tsupport.h"

START_TEST(error_codes_map_to_http)
{
	ck_assert_int_eq(cf_code_http_status(CF_EINVAL), 400);
	ck_assert_int_eq(cf_code_http_status(CF_ENOTFOUND), 404);
	ck_assert_int_eq(cf_code_http_status(CF_EMETHOD), 405);
	ck_assert_int_eq(cf_code_http_status(CF_ETOOLARGE), 413);
	ck_assert_int_eq(cf_code_http_status(CF_EUNAVAILABLE), 503);
	/* every code has a slug and a status */
	for (int c = 1; c < CF_CODE_COUNT; c++) {
		ck_assert_int_ge(cf_code_http_status((enum cf_code)c), 400);
		ck_assert_ptr_nonnull(cf_code_slug((enum cf_code)c));
		ck_assert_str_ne(cf_code_slug((enum cf_code)c), "ok");
	}
	struct cf_error err;
	ck_assert_int_eq(cf_error_set(&err, CF_EINVAL, "/a/b", "bad %s", "thing"), CF_EINVAL);
	ck_assert_str_eq(err.pointer, "/a/b");
	ck_assert_str_eq(err.detail, "bad thing");
	cf_error_prefix(&err, "file.json");
	ck_assert_str_eq(err.detail, "file.json: bad thing");
}
END_TEST

START_TEST(error_prefix_never_overflows)
{
	struct cf_error err;
	char longmsg[2000];
	memset(longmsg, 'x', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = '\0';
	cf_error_set(&err, CF_EINVAL, NULL, "%s", longmsg);
	cf_error_prefix(&err, "%s", longmsg);
	ck_assert_uint_lt(strlen(err.detail), sizeof err.detail);
}
END_TEST

/* A streamed answer's reader hands out a page in pieces of the size asked,
 * then nothing until the page is refilled. */
START_TEST(buf_drain_hands_out_a_page_in_pieces)
{
	struct buf b;
	buf_init(&b, 64);
	ck_assert_int_eq(buf_append(&b, "hello world", 11, NULL), CF_OK);
	char out[16];
	size_t pos = 0;
	ck_assert_uint_eq(buf_drain(&b, &pos, out, 4), 4);
	ck_assert(memcmp(out, "hell", 4) == 0);
	ck_assert_uint_eq(buf_drain(&b, &pos, out, sizeof out), 7);
	ck_assert(memcmp(out, "o world", 7) == 0);
	ck_assert_uint_eq(pos, 11);
	ck_assert_uint_eq(buf_drain(&b, &pos, out, sizeof out), 0);
	buf_free(&b);
}
END_TEST

START_TEST(buf_caps)
{
	struct buf b;
	struct cf_error err;
	buf_init(&b, 8);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_puts(&b, "12345", &err), 0);
	ck_assert_int_eq(buf_printf(&b, &err, "%d", 678), 0);
	ck_assert_str_eq(buf_str(&b), "12345678");
	/* one byte over the cap: refused, and the buffer is unchanged */
	ck_assert_int_eq(buf_puts(&b, "9", &err), CF_ETOOLARGE);
	ck_assert_int_eq(buf_printf(&b, &err, "%s", "9"), CF_ETOOLARGE);
	ck_assert_str_eq(buf_str(&b), "12345678");
	ck_assert(strstr(err.detail, "too large") != NULL);
	size_t len;
	char *s = buf_steal(&b, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(s, "12345678");
	free(s);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(config_precedence)
{
	struct config cfg;
	struct cf_error err;
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	ck_assert_uint_eq(cfg.max_body, 1u << 20);
	setenv("CONFORM_LISTEN", "127.0.0.1:9999", 1);
	setenv("CONFORM_MAX_BODY", "2MiB", 1);
	ck_assert_int_eq(config_from_env(&cfg, CONFIG_SERVER, &err), 0);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:9999");
	ck_assert_uint_eq(cfg.max_body, 2u << 20);
	char *argv[] = { (char *)"conformd", (char *)"--listen", (char *)"0.0.0.0:1",
			 (char *)"--threads=3", (char *)"--other" };
	int i = 1;
	bool matched;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 5, argv, &i, &matched, &err), 0);
	ck_assert(matched);
	ck_assert_int_eq(i, 3);
	ck_assert_str_eq(cfg.listen, "0.0.0.0:1");
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 5, argv, &i, &matched, &err), 0);
	ck_assert(matched);
	ck_assert_int_eq(cfg.threads, 3);
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 5, argv, &i, &matched, &err), 0);
	ck_assert(!matched);
	unsetenv("CONFORM_LISTEN");
	unsetenv("CONFORM_MAX_BODY");
	config_free(&cfg);
}
END_TEST

/* config_load: the environment, then flags up to a program's own flag or,
 * for conformctl, its first operand; anything else is an unknown option. */
START_TEST(config_load_stops_at_own_flags_and_operands)
{
	struct config cfg;
	struct cf_error err;
	const char *own = NULL;
	int operand = -1;
	const char *const own_flags[] = { "--help", "--version", NULL };
	config_defaults(&cfg);
	setenv("CONFORM_THREADS", "5", 1);
	char *argv[] = { (char *)"conformctl", (char *)"--listen=127.0.0.1:7", (char *)"key",
			 (char *)"--version" };
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER | CONFIG_CLI, 4, argv, own_flags, &own,
				     &operand, &err), 0);
	ck_assert_int_eq(cfg.threads, 5);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:7");
	ck_assert_int_eq(operand, 2);
	ck_assert_ptr_null(own);
	/* without operands: an own flag ends the parsing... */
	char *argv2[] = { (char *)"conformd", (char *)"--threads=3", (char *)"--version",
			  (char *)"--bogus" };
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 4, argv2, own_flags, &own, NULL, &err), 0);
	ck_assert_str_eq(own, "--version");
	ck_assert_int_eq(cfg.threads, 3);
	/* ...and an argument that is no flag of the program is refused by name */
	char *argv3[] = { (char *)"conform-signer", (char *)"key" };
	ck_assert_int_eq(config_load(&cfg, CONFIG_SIGNER, 2, argv3, NULL, &own, NULL, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "unknown option 'key' (see conform-signer --help)");
	char *argv4[] = { (char *)"conformd", (char *)"--bogus" };
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 2, argv4, own_flags, &own, NULL, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "unknown option '--bogus' (see conformd --help)");
	ck_assert_ptr_null(own);
	unsetenv("CONFORM_THREADS");
	config_free(&cfg);
}
END_TEST

START_TEST(config_errors_name_the_setting)
{
	struct config cfg;
	struct cf_error err;
	config_defaults(&cfg);
	setenv("CONFORM_THREADS", "many", 1);
	ck_assert_int_eq(config_from_env(&cfg, CONFIG_SERVER, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "CONFORM_THREADS") != NULL);
	unsetenv("CONFORM_THREADS");
	setenv("CONFORM_LOG_LEVEL", "loud", 1);
	ck_assert_int_eq(config_from_env(&cfg, CONFIG_SERVER, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "CONFORM_LOG_LEVEL") != NULL);
	unsetenv("CONFORM_LOG_LEVEL");
	char *argv[] = { (char *)"x", (char *)"--connection-limit=0" };
	int i = 1;
	bool matched;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 2, argv, &i, &matched, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "--connection-limit") != NULL);
	char *argv2[] = { (char *)"x", (char *)"--listen" };
	i = 1;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 2, argv2, &i, &matched, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "needs a value") != NULL);
	/* a server-only key is not a CLI flag */
	char *argv3[] = { (char *)"x", (char *)"--listen=1" };
	i = 1;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_CLI, 2, argv3, &i, &matched, &err), 0);
	ck_assert(!matched);
	config_free(&cfg);
}
END_TEST

START_TEST(config_sizes)
{
	size_t n;
	ck_assert_int_eq(config_parse_size("100", &n, NULL), 0);
	ck_assert_uint_eq(n, 100);
	ck_assert_int_eq(config_parse_size("64K", &n, NULL), 0);
	ck_assert_uint_eq(n, 65536);
	ck_assert_int_eq(config_parse_size("100MiB", &n, NULL), 0);
	ck_assert_uint_eq(n, 100u << 20);
	ck_assert_int_eq(config_parse_size("1G", &n, NULL), 0);
	ck_assert_uint_eq(n, 1u << 30);
	ck_assert_int_ne(config_parse_size("1T", &n, NULL), 0);
	ck_assert_int_ne(config_parse_size("-1", &n, NULL), 0);
	ck_assert_int_ne(config_parse_size("", &n, NULL), 0);
	ck_assert_int_ne(config_parse_size("99999999999999999999999", &n, NULL), 0);
}
END_TEST

START_TEST(config_public_url)
{
	struct config cfg;
	struct cf_error err;
	config_defaults(&cfg);
	char *argv[] = { "conformd", "--public-url=https://certs.example.org:8443/conform/" };
	int i = 1;
	bool matched = false;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 2, argv, &i, &matched, &err), 0);
	ck_assert_str_eq(cfg.public_url, "https://certs.example.org:8443/conform"); /* no trailing / */
	char *bad[] = { "--public-url=ftp://x", "--public-url=https://", "--public-url=https://h/a?b",
			      "--public-url=https://h/a#b", "--public-url=https://us er@h",
			      "--public-url=https://h:x" };
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char *a[] = { "conformd", bad[k] };
		i = 1;
		ck_assert_msg(config_parse_flag(&cfg, CONFIG_SERVER, 2, a, &i, &matched, &err) == CF_EINVAL,
			      "%s accepted", bad[k]);
		ck_assert(strstr(err.detail, "--public-url") != NULL);
	}
	char long_url[CONFIG_URL_MAX + 32];
	snprintf(long_url, sizeof long_url, "--public-url=https://h/%0*d", CONFIG_URL_MAX, 0);
	char *a[] = { "conformd", long_url };
	i = 1;
	ck_assert_int_eq(config_parse_flag(&cfg, CONFIG_SERVER, 2, a, &i, &matched, &err), CF_EINVAL);
	config_free(&cfg);
}
END_TEST

START_TEST(config_embedded_conninfo)
{
	struct config cfg;
	config_defaults(&cfg);
	free(cfg.data_dir);
	cfg.data_dir = cf_strdup("/nonexistent/it's here");
	char *rt = config_runtime_conninfo(&cfg);
	char *own = config_owner_conninfo(&cfg);
	ck_assert_str_eq(rt, "host='/nonexistent/it\\'s here/pg/sock' dbname=conform user=conform_app connect_timeout=2");
	ck_assert(strstr(own, "user=conform_owner") != NULL);
	free(rt);
	free(own);
	free(cfg.database_url);
	cfg.database_url = cf_strdup("postgresql://app@db/conform");
	rt = config_runtime_conninfo(&cfg);
	own = config_owner_conninfo(&cfg);
	ck_assert_str_eq(rt, "postgresql://app@db/conform");
	ck_assert_str_eq(own, "postgresql://app@db/conform");
	free(rt);
	free(own);
	config_free(&cfg);
}
END_TEST

/* Captures log lines into a pipe and returns what was written. */
static char *capture_log(void (*emit)(void))
{
	int fds[2];
	ck_assert(pipe(fds) == 0);
	log_set_fd(fds[1]);
	emit();
	log_set_fd(2);
	close(fds[1]);
	char *out = cf_calloc(1, 8192);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fds[0], out + n, 8191 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	return out;
}

static void emit_lines(void)
{
	log_set_level(CF_LOG_INFO);
	log_set_request_id("req-1");
	log_info("hello %s", "world");
	log_debug("not shown at info");
	log_warn("Authorization: Bearer cfm_abcdefABCDEF0123456789_-xyz end");
	log_info("line\nbreak");
	log_set_request_id(NULL);
	log_error("no request");
}

START_TEST(log_format_and_hygiene)
{
	char *out = capture_log(emit_lines);
	regex_t re;
	ck_assert_int_eq(regcomp(&re,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z info rid=req-1 hello world$",
		REG_EXTENDED | REG_NEWLINE), 0);
	ck_assert_msg(regexec(&re, out, 0, NULL, 0) == 0, "unexpected log: %s", out);
	regfree(&re);
	ck_assert(strstr(out, "not shown") == NULL);
	ck_assert(strstr(out, "abcdefABCDEF") == NULL);
	ck_assert(strstr(out, "cfm_[redacted] end") != NULL);
	ck_assert(strstr(out, "line\\x0abreak") != NULL);
	ck_assert(strstr(out, "error rid=- no request") != NULL);
	/* exactly one line per event */
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 4);
	free(out);
}
END_TEST

static void emit_raw_bytes(void)
{
	log_set_level(CF_LOG_INFO);
	/* a percent-decoded path: invalid UTF-8, a lone continuation byte, an
	 * overlong '/', a surrogate, a C1 CSI, an escape sequence, a newline,
	 * and well-formed UTF-8 that stays as it is */
	log_info("path=/v1/\xff\x80\xc0\xaf\xed\xa0\x80\xc2\x9b\x1b[31m\nX caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 \xe2\x82");
}

START_TEST(log_escapes_raw_path_bytes)
{
	char *out = capture_log(emit_raw_bytes);
	ck_assert_msg(strstr(out, "path=/v1/\\xff\\x80\\xc0\\xaf\\xed\\xa0\\x80\\xc2\\x9b\\x1b[31m\\x0aX "
				  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 \\xe2\\x82\n") != NULL,
		      "unexpected log: %s", out);
	/* nothing below 0x20 but the line's end, no byte that is not UTF-8 */
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		ck_assert(*p >= 0x20 || *p == '\n');
		ck_assert(*p != 0x7f && *p != 0xff && *p != 0x9b);
	}
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("platform");
	TCase *tc = tcase_create("platform");
	tcase_add_test(tc, error_codes_map_to_http);
	tcase_add_test(tc, error_prefix_never_overflows);
	tcase_add_test(tc, buf_caps);
	tcase_add_test(tc, buf_drain_hands_out_a_page_in_pieces);
	tcase_add_test(tc, config_precedence);
	tcase_add_test(tc, config_errors_name_the_setting);
	tcase_add_test(tc, config_load_stops_at_own_flags_and_operands);
	tcase_add_test(tc, config_sizes);
	tcase_add_test(tc, config_public_url);
	tcase_add_test(tc, config_embedded_conninfo);
	tcase_add_test(tc, log_format_and_hygiene);
	tcase_add_test(tc, log_escapes_raw_path_bytes);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
