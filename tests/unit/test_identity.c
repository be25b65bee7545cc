/*
 * identity: which public URLs may be an issuer identity (did:web needs
 * https on a host name; loopback is the only exception), and the URL a
 * loopback listen address gives.
 */
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "tsupport.h"

START_TEST(https_on_a_host_name_is_an_identity)
{
	struct cf_error err;
	bool loopback = true;
	ck_assert_int_eq(identity_check("https://certs.example.org", &loopback, &err), CF_OK);
	ck_assert(!loopback);
	ck_assert_int_eq(identity_check("https://certs.example.org:8443/conform", &loopback, &err), CF_OK);
	ck_assert(!loopback);
	ck_assert_int_eq(identity_check("https://CERTS.example.org", &loopback, &err), CF_OK);
}
END_TEST

START_TEST(loopback_is_accepted_and_marked)
{
	static const char *const ok[] = { "http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:9",
					  "https://localhost/x", "http://LOCALHOST:1", "https://127.0.0.1" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct cf_error err;
		bool loopback = false;
		ck_assert_msg(identity_check(ok[i], &loopback, &err) == CF_OK, "%s: %s", ok[i], err.detail);
		ck_assert_msg(loopback, "%s", ok[i]);
	}
}
END_TEST

START_TEST(unresolvable_urls_are_refused)
{
	static const struct {
		const char *url, *says;
	} bad[] = {
		{ "http://certs.example.org", "https://certs.example.org" },
		{ "http://certs.example.org:8080/conform", "https" },
		{ "https://192.0.2.1", "IP address" },
		{ "http://10.0.0.5:8080", "IP address" },
		{ "https://128.0.0.1", "IP address" },
		{ "https://1.2.3", "neither a host name" },
		{ "http://localhost.example.org", "https" },
		{ "ftp://x", "http(s)" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cf_error err;
		bool loopback = false;
		ck_assert_msg(identity_check(bad[i].url, &loopback, &err) == CF_EINVAL, "%s", bad[i].url);
		ck_assert_msg(strstr(err.detail, bad[i].says), "%s: %s", bad[i].url, err.detail);
	}
}
END_TEST

START_TEST(a_loopback_listen_address_gives_the_url)
{
	struct cf_error err;
	char *url = NULL;
	ck_assert_int_eq(identity_from_listen("127.0.0.1:8080", &url, &err), CF_OK);
	ck_assert_str_eq(url, "http://127.0.0.1:8080");
	free(url);
	ck_assert_int_eq(identity_from_listen("localhost:9000", &url, &err), CF_OK);
	ck_assert_str_eq(url, "http://localhost:9000");
	free(url);
	ck_assert_int_eq(identity_from_listen("[::1]:7000", &url, &err), CF_OK);
	ck_assert_str_eq(url, "http://localhost:7000");
	free(url);
	static const char *const none[] = { "0.0.0.0:8080", ":8080", "*:8080", "192.0.2.1:80",
					    "127.0.0.1:0", "[::]:80", "nonsense" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		ck_assert_msg(identity_from_listen(none[i], &url, &err) == CF_EINVAL, "%s", none[i]);
		ck_assert_ptr_null(url);
		ck_assert(strstr(err.detail, "CONFORM_PUBLIC_URL"));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("identity");
	tcase_add_test(tc, https_on_a_host_name_is_an_identity);
	tcase_add_test(tc, loopback_is_accepted_and_marked);
	tcase_add_test(tc, unresolvable_urls_are_refused);
	tcase_add_test(tc, a_loopback_listen_address_gives_the_url);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
