/*
 * Unit tests of core/gtin's parsing and core/regcsv's quoting: GTIN-8, -12,
 * -13 and -14 normalise to 14 digits with their check digit verified (GS1
 * General Specifications 7.9.1; the examples are GS1's own), anything else
 * is refused with a detail saying why; a CSV field is quoted exactly when
 * RFC 4180 needs it.
 */
#include <string.h>

#include "buf.h"
#include "digitallink.h"
#include "gtin.h"
#include "regcsv.h"
#include "tsupport.h"

static void ok(const char *in, const char *want)
{
	char out[GTIN_LEN + 1];
	struct cf_error err;
	ck_assert_msg(digitallink_gtin14(in, out, &err) == CF_OK, "%s: %s", in, err.detail);
	ck_assert_str_eq(out, want);
}

static void bad(const char *in, const char *why)
{
	char out[GTIN_LEN + 1];
	struct cf_error err;
	ck_assert_int_eq(digitallink_gtin14(in, out, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, why), "%s: %s", in ? in : "(null)", err.detail);
}

START_TEST(every_gtin_length_normalises_to_fourteen_digits)
{
	ok("96385074", "00000096385074");         /* GTIN-8 */
	ok("614141000036", "00614141000036");     /* GTIN-12 (UPC-A) */
	ok("4006381333931", "04006381333931");    /* GTIN-13 */
	ok("09506000134352", "09506000134352");   /* GTIN-14, GS1's Digital Link example */
	ok("10614141000033", "10614141000033");
}
END_TEST

START_TEST(a_wrong_check_digit_length_or_character_is_refused)
{
	bad("4006381333932", "check digit is 2, it should be 1");
	bad("09506000134353", "it should be 2");
	bad("1234567", "this one has 7");
	bad("12345678901", "8, 12, 13 or 14 digits");
	bad("123456789012345", "this one has 15");
	bad("4006381 33931", "only digits");
	bad("", "this one has 0");
	bad(NULL, "this one has 0");
}
END_TEST

static void csv(const char *in, const char *want)
{
	struct buf b;
	struct cf_error err;
	buf_init(&b, 1024);
	ck_assert_int_eq(regcsv_field(&b, in, &err), CF_OK);
	ck_assert_str_eq(buf_str(&b), want);
	buf_free(&b);
}

START_TEST(csv_fields_are_quoted_when_rfc4180_needs_it)
{
	csv("plain", "plain");
	csv(NULL, "");
	csv("a,b", "\"a,b\"");
	csv("Plug \"Mini\", 2-pack", "\"Plug \"\"Mini\"\", 2-pack\"");
	csv("two\nlines", "\"two\nlines\"");
	csv("cr\r", "\"cr\r\"");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gtin");
	TCase *tc = tcase_create("gtin");
	tcase_add_test(tc, every_gtin_length_normalises_to_fourteen_digits);
	tcase_add_test(tc, a_wrong_check_digit_length_or_character_is_refused);
	tcase_add_test(tc, csv_fields_are_quoted_when_rfc4180_needs_it);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
