/*
 * Unit tests of core/webhook's pure parts: the Standard Webhooks signature
 * (the specification's own example), the SSRF address classes, and target
 * URL parsing and resolution (numeric hosts and localhost only: no network).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"
#include "webhook.h"

START_TEST(signature_matches_the_specification_example)
{
	/* github.com/standard-webhooks/standard-webhooks: the example every
	 * implementation's tests reproduce */
	const char *body = "{\"test\": 2432232314}";
	char *sig = webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265330, body, strlen(body));
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	/* one byte more of the body, a second later: another signature */
	sig = webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
				1614265331, body, strlen(body));
	ck_assert_str_ne(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	ck_assert_ptr_null(webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_x", 1, body, strlen(body)));
	ck_assert_ptr_null(webhook_signature("whsec_!!!", "msg_x", 1, body, strlen(body)));
}
END_TEST

static const char *refused(const char *text, bool allow)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(text, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, text, &a->sin_addr), 1);
	}
	return webhook_addr_refused((const struct sockaddr *)&ss, allow);
}

START_TEST(address_classes)
{
	static const char *const no[] = {
		"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1",
		"169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "240.0.0.1", "::1", "::", "fe80::1", "fc00::1",
		"fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
	};
	static const char *const yes[] = { "93.184.216.34", "8.8.8.8", "172.32.0.1", "172.15.255.255",
					   "100.128.0.1", "192.169.0.1", "2606:4700::1111",
					   "::ffff:93.184.216.34" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		ck_assert_msg(refused(no[i], false) != NULL, "%s is not refused", no[i]);
		ck_assert_msg(refused(no[i], true) == NULL, "%s is refused though allowed", no[i]);
	}
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(refused(yes[i], false) == NULL, "%s is refused: %s", yes[i], refused(yes[i], false));
	ck_assert_ptr_nonnull(strstr(refused("169.254.169.254", false), "link-local"));
	ck_assert_ptr_nonnull(strstr(refused("100.64.0.1", false), "CGNAT"));
	ck_assert_ptr_nonnull(strstr(refused("fd00::1", false), "unique local"));
}
END_TEST

START_TEST(target_urls)
{
	struct webhook_target t;
	struct cf_error err;
	ck_assert_int_eq(webhook_resolve("https://93.184.216.34/hook?x=1", false, &t, &err), 0);
	ck_assert(t.https);
	ck_assert_uint_eq(t.port, 443);
	ck_assert_str_eq(t.host, "93.184.216.34");
	ck_assert_str_eq(t.addr, "93.184.216.34");
	ck_assert_int_eq(webhook_resolve("http://[2606:4700::1111]:8443/", false, &t, &err), 0);
	ck_assert(!t.https);
	ck_assert_uint_eq(t.port, 8443);
	ck_assert_str_eq(t.addr, "2606:4700::1111");
	/* refused addresses: 422 on /url, naming the setting */
	static const char *const unsafe[] = { "http://127.0.0.1/", "http://localhost:8080/",
					      "http://[::1]/", "http://169.254.169.254/latest",
					      "http://10.0.0.1/", "http://0/" };
	for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
		ck_assert_msg(webhook_resolve(unsafe[i], false, &t, &err) == CF_EUNPROCESSABLE, "%s", unsafe[i]);
		ck_assert_str_eq(err.pointer, "/url");
		ck_assert_ptr_nonnull(strstr(err.detail, "webhook-allow-private"));
	}
	ck_assert_int_eq(webhook_resolve("http://127.0.0.1:9/x", true, &t, &err), 0);
	ck_assert_str_eq(t.addr, "127.0.0.1");
	/* malformed: 400 */
	static const char *const bad[] = { "ftp://93.184.216.34/", "93.184.216.34/", "http://",
					   "http://user:pw@93.184.216.34/", "http://93.184.216.34:0/",
					   "http://93.184.216.34:70000/", "http://[::1/", "http://a b/",
					   "http://93.184.216.34:80x/" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(webhook_resolve(bad[i], false, &t, &err) == CF_EINVAL, "%s", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("webhook");
	tcase_add_test(tc, signature_matches_the_specification_example);
	tcase_add_test(tc, address_classes);
	tcase_add_test(tc, target_urls);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
