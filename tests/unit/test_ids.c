/*
 * Unit tests of core/ids.c: the shapes of a UUID, an e-mail address and an
 * http(s) URL given as text, which every surface and domain module checks
 * before a value reaches the database; and the jsonx helpers that render a
 * stored value or its absence.
 */
#include <check.h>
#include <stdlib.h>

#include "ids.h"
#include "jsonx.h"
#include "tsupport.h"

START_TEST(a_uuid_is_36_characters_of_hex_and_dashes)
{
	static const struct {
		const char *s;
		bool uuid;
	} cases[] = {
		{ "00000000-0000-4000-8000-000000000000", true },
		{ "3f2504e0-4f89-41d3-9a0c-0305e82c3301", true },
		{ "3F2504E0-4F89-41D3-9A0C-0305E82C3301", true }, /* PostgreSQL reads either case */
		{ "3f2504e04f8941d39a0c0305e82c3301", false },
		{ "3f2504e0-4f89-41d3-9a0c-0305e82c330", false },
		{ "3f2504e0-4f89-41d3-9a0c-0305e82c33011", false },
		{ "3f2504e0-4f89-41d3-9a0c_0305e82c3301", false },
		{ "3f2504e0-4f89-41d3-9a0c-0305e82c330g", false },
		{ "3f2504e0-4f8941d3--9a0c-0305e82c3301", false },
		{ "{3f2504e0-4f89-41d3-9a0c-0305e82c330}", false },
		{ "3f2504e0-4f89-41d3-9a0c-0305e82c33\n1", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(ids_is_uuid(cases[i].s) == cases[i].uuid, "%s", cases[i].s);
	ck_assert(!ids_is_uuid(NULL));
}
END_TEST

START_TEST(an_email_address_has_one_at_with_text_on_both_sides)
{
	static const struct {
		const char *s;
		bool email;
	} cases[] = {
		{ "ada@example.org", true },
		{ "a@b", true },
		{ "first.last+tag@sub.example.org", true },
		{ "@example.org", false },
		{ "ada@", false },
		{ "ada", false },
		{ "ada@@example.org", false },
		{ "ada@example@org", false },
		{ "ada lovelace@example.org", false },
		{ "<ada@example.org>", false },
		{ "ada@example.org\r\nBcc: x@y", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(ids_is_email(cases[i].s) == cases[i].email, "%s", cases[i].s);
}
END_TEST

START_TEST(an_http_url_has_its_scheme_and_something_after)
{
	static const struct {
		const char *s;
		bool url;
	} cases[] = {
		{ "https://example.org/", true },
		{ "http://127.0.0.1:8080", true },
		{ "https://x", true },
		{ "https://", false },
		{ "http://", false },
		{ "ftp://example.org", false },
		{ "HTTPS://example.org", false },
		{ "example.org", false },
		{ "javascript:alert(1)", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(ids_is_http_url(cases[i].s) == cases[i].url, "%s", cases[i].s);
}
END_TEST

START_TEST(a_missing_value_is_null_and_an_empty_one_only_as_text)
{
	json_t *a = jsonx_string_or_null(NULL), *b = jsonx_string_or_null(""),
	       *c = jsonx_string_or_null("x"), *d = jsonx_text_or_null(NULL),
	       *e = jsonx_text_or_null(""), *f = jsonx_text_or_null("x");
	ck_assert(json_is_null(a));
	ck_assert_str_eq(json_string_value(b), "");
	ck_assert_str_eq(json_string_value(c), "x");
	ck_assert(json_is_null(d));
	ck_assert(json_is_null(e));
	ck_assert_str_eq(json_string_value(f), "x");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	json_decref(e);
	json_decref(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ids");
	TCase *tc = tcase_create("ids");
	tcase_add_test(tc, a_uuid_is_36_characters_of_hex_and_dashes);
	tcase_add_test(tc, an_email_address_has_one_at_with_text_on_both_sides);
	tcase_add_test(tc, an_http_url_has_its_scheme_and_something_after);
	tcase_add_test(tc, a_missing_value_is_null_and_an_empty_one_only_as_text);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
