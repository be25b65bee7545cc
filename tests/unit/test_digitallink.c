/*
 * Unit tests of core/digitallink (the URI a QR label encodes and the GS1
 * resolver answers) and core/qrsvg (the label's SVG): GTIN-8, -12, -13 and
 * -14 padded to 14 digits, a wrong check digit, a wrong length and a
 * non-digit refused with a message that says so, the public URL's trailing
 * slash ignored; the SVG's shape (one path, quiet zone, escaped title).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digitallink.h"
#include "qrsvg.h"
#include "tsupport.h"

static void uri_is(const char *gtin, const char *expect)
{
	struct cf_error err;
	char *uri = NULL;
	cf_err e = digitallink_uri("https://conform.example", gtin, &uri, &err);
	ck_assert_msg(e == CF_OK, "%s: %s", gtin, err.detail);
	ck_assert_str_eq(uri, expect);
	free(uri);
}

START_TEST(gtins_of_every_length_are_padded_to_14)
{
	uri_is("96385074", "https://conform.example/01/00000096385074");        /* GTIN-8 */
	uri_is("036000291452", "https://conform.example/01/00036000291452");    /* GTIN-12 (UPC-A) */
	uri_is("5012345678900", "https://conform.example/01/05012345678900");   /* GTIN-13 */
	uri_is("10012345678902", "https://conform.example/01/10012345678902");  /* GTIN-14 */
	uri_is("05012345678900", "https://conform.example/01/05012345678900");  /* already padded */
}
END_TEST

START_TEST(the_public_urls_trailing_slash_is_ignored)
{
	struct cf_error err;
	char *uri = NULL;
	ck_assert_int_eq(digitallink_uri("http://127.0.0.1:8080/", "5012345678900", &uri, &err), CF_OK);
	ck_assert_str_eq(uri, "http://127.0.0.1:8080/01/05012345678900");
	free(uri);
}
END_TEST

static void refused(const char *gtin, const char *says)
{
	struct cf_error err;
	char *uri = (char *)"untouched";
	char g14[15] = "x";
	ck_assert_int_eq(digitallink_uri("https://conform.example", gtin, &uri, &err), CF_EINVAL);
	ck_assert_ptr_null(uri);
	ck_assert_msg(strstr(err.detail, says) != NULL, "%s: \"%s\" lacks \"%s\"", gtin ? gtin : "NULL",
		      err.detail, says);
	ck_assert_int_eq(digitallink_gtin14(gtin, g14, &err), CF_EINVAL);
	ck_assert_str_eq(g14, "");
}

START_TEST(a_bad_check_digit_is_refused)
{
	refused("5012345678901", "check digit is 1, it should be 0");
	refused("96385075", "it should be 4");
	refused("036000291453", "it should be 2");
	refused("10012345678900", "it should be 2");
}
END_TEST

START_TEST(not_a_gtin_is_refused)
{
	refused("1234567", "8, 12, 13 or 14 digits");
	refused("123456789", "8, 12, 13 or 14 digits");
	refused("123456789012345", "8, 12, 13 or 14 digits");
	refused("", "8, 12, 13 or 14 digits");
	refused(NULL, "8, 12, 13 or 14 digits");
	refused("5O12345678900", "only digits");
}
END_TEST

START_TEST(the_qr_svg_is_one_path_with_a_quiet_zone)
{
	struct cf_error err;
	char *svg = NULL;
	ck_assert_int_eq(qrsvg_render("https://conform.example/01/05012345678900", "a <label> & \"it\"",
				      &svg, &err), CF_OK);
	/* version 3 (29 modules) holds 42 bytes at level M: 29 + 2 × 4 */
	ck_assert_msg(strstr(svg, "viewBox=\"0 0 37 37\"") != NULL, "%s", svg);
	ck_assert_ptr_nonnull(strstr(svg, "<title>a &lt;label&gt; &amp; &quot;it&quot;</title>"));
	const char *p = strstr(svg, "<path");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p + 1, "<path"));
	/* the finder pattern's top-left corner sits 4 modules in */
	ck_assert_ptr_nonnull(strstr(svg, "d=\"M4 4h7v1h-7z"));
	free(svg);
	char big[QRSVG_TEXT_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(qrsvg_render(big, "t", &svg, &err), CF_ETOOLARGE);
	ck_assert_ptr_null(svg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("digitallink");
	TCase *tc = tcase_create("digitallink");
	tcase_add_test(tc, gtins_of_every_length_are_padded_to_14);
	tcase_add_test(tc, the_public_urls_trailing_slash_is_ignored);
	tcase_add_test(tc, a_bad_check_digit_is_refused);
	tcase_add_test(tc, not_a_gtin_is_refused);
	tcase_add_test(tc, the_qr_svg_is_one_path_with_a_quiet_zone);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
