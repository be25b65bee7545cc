/*
 * Unit tests of core/codec: RFC 4648 section 10 vectors and strictness.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "tsupport.h"

static const struct {
	const char *plain, *b64, *b64url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

START_TEST(rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		size_t n = strlen(vectors[i].plain);
		char *e = codec_b64_encode(vectors[i].plain, n);
		ck_assert_str_eq(e, vectors[i].b64);
		free(e);
		e = codec_b64url_encode(vectors[i].plain, n);
		ck_assert_str_eq(e, vectors[i].b64url);
		free(e);

		unsigned char *d = NULL;
		size_t dn = 0;
		ck_assert_int_eq(codec_b64_decode(vectors[i].b64, strlen(vectors[i].b64), &d, &dn, NULL), 0);
		ck_assert_uint_eq(dn, n);
		ck_assert(memcmp(d, vectors[i].plain, n) == 0);
		free(d);
		ck_assert_int_eq(codec_b64url_decode(vectors[i].b64url, strlen(vectors[i].b64url), &d, &dn, NULL), 0);
		ck_assert_uint_eq(dn, n);
		ck_assert(memcmp(d, vectors[i].plain, n) == 0);
		free(d);
	}
}
END_TEST

START_TEST(url_alphabet)
{
	const unsigned char bytes[] = { 0xfb, 0xff, 0xfe };
	char *e = codec_b64url_encode(bytes, sizeof bytes);
	ck_assert_str_eq(e, "-__-");
	free(e);
	e = codec_b64_encode(bytes, sizeof bytes);
	ck_assert_str_eq(e, "+//+");
	free(e);
}
END_TEST

START_TEST(strict_decoding)
{
	unsigned char *d = NULL;
	size_t dn = 0;
	struct cf_error err;
	/* padding in base64url, standard characters in base64url */
	ck_assert_int_ne(codec_b64url_decode("Zg==", 4, &d, &dn, &err), 0);
	ck_assert_ptr_null(d);
	ck_assert_int_ne(codec_b64url_decode("+//+", 4, &d, &dn, &err), 0);
	/* non-zero trailing bits: "Zh" would also decode to "f" in a lax decoder */
	ck_assert_int_ne(codec_b64url_decode("Zh", 2, &d, &dn, &err), 0);
	/* impossible length */
	ck_assert_int_ne(codec_b64url_decode("Z", 1, &d, &dn, &err), 0);
	/* missing padding in standard base64 */
	ck_assert_int_ne(codec_b64_decode("Zg", 2, &d, &dn, &err), 0);
	ck_assert_int_eq(err.code, CF_EINVAL);
}
END_TEST

START_TEST(hex_round_trip)
{
	const unsigned char bytes[] = { 0x00, 0x01, 0xab, 0xff };
	char hex[9];
	codec_hex_encode(bytes, sizeof bytes, hex);
	ck_assert_str_eq(hex, "0001abff");
	unsigned char back[4];
	ck_assert_int_eq(codec_hex_decode("0001ABff", back, 4, NULL), 0);
	ck_assert(memcmp(back, bytes, 4) == 0);
	ck_assert_int_ne(codec_hex_decode("0001abf", back, 4, NULL), 0);
	ck_assert_int_ne(codec_hex_decode("0001abfg", back, 4, NULL), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, rfc4648_vectors);
	tcase_add_test(tc, url_alphabet);
	tcase_add_test(tc, strict_decoding);
	tcase_add_test(tc, hex_round_trip);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
