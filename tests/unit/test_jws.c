/*
 * Unit tests of core/jws: the exact RFC 8037 JWS from its known key, parsing
 * and verifying it, refusal of other algs, crit, wrong part counts, bad
 * base64url and trailing garbage, and a changed byte anywhere failing.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "jws.h"
#include "keys.h"
#include "mem.h"
#include "tsupport.h"

#define MAX_JWS 65536

static json_t *vectors;
static struct keys_private *rfc_key;
static unsigned char rfc_pub[32];
static const char *rfc_jws;

static void setup(void)
{
	char *path = tsupport_source_path("tests/data/vectors/rfc8037-ed25519-jws.json");
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	json_error_t jerr;
	vectors = json_loadb(text, len, 0, &jerr);
	ck_assert_msg(vectors != NULL, "%s: %s", path, jerr.text);
	free(text);
	free(path);

	const json_t *priv = json_object_get(vectors, "private_jwk");
	const char *d64 = json_string_value(json_object_get(priv, "d"));
	unsigned char *d = NULL;
	size_t dn = 0;
	ck_assert_int_eq(codec_b64url_decode(d64, strlen(d64), &d, &dn, NULL), 0);
	ck_assert_uint_eq(dn, 32);
	ck_assert_int_eq(keys_from_raw_private(&rfc_key, d, NULL), 0);
	free(d);
	ck_assert_int_eq(keys_public_from_jwk(json_object_get(vectors, "public_jwk"), rfc_pub, NULL), 0);
	rfc_jws = json_string_value(json_object_get(vectors, "jws"));
}

static void teardown(void)
{
	keys_free(rfc_key);
	rfc_key = NULL;
	json_decref(vectors);
	vectors = NULL;
}

/* A compact JWS with the given header text and payload, and a signature of
 * sig_len bytes that is not valid (to test parsing alone). */
static char *make_compact(const char *header, const char *payload, size_t sig_len)
{
	unsigned char sig[80];
	memset(sig, 0x42, sizeof sig);
	char *h = codec_b64url_encode(header, strlen(header));
	char *p = codec_b64url_encode(payload, strlen(payload));
	char *s = codec_b64url_encode(sig, sig_len);
	char *c = cf_asprintf("%s.%s.%s", h, p, s);
	free(s);
	free(p);
	free(h);
	return c;
}

static void expect_refused(const char *compact, enum cf_code code, const char *why)
{
	struct jws j;
	struct cf_error err;
	memset(&j, 0x5a, sizeof j);
	ck_assert_msg(jws_parse(compact, MAX_JWS, &j, &err) == (int)code, "%s: accepted or wrong code", why);
	ck_assert_int_eq(err.code, code);
	/* nothing allocated, all zero */
	ck_assert_ptr_null(j.header);
	ck_assert_ptr_null(j.payload);
	ck_assert_ptr_null(j.signing_input);
	ck_assert_uint_eq(j.payload_len, 0);
	jws_clear(&j);
}

START_TEST(rfc8037_exact_bytes)
{
	json_t *header = json_pack("{s:s}", "alg", "EdDSA");
	const char payload[] = "Example of Ed25519 signing";
	char *out = NULL;
	ck_assert_int_eq(jws_sign(rfc_key, header, payload, sizeof payload - 1, &out, NULL), 0);
	ck_assert_str_eq(out, rfc_jws);
	free(out);
	json_decref(header);
}
END_TEST

START_TEST(rfc8037_parse_verify)
{
	struct jws j;
	ck_assert_int_eq(jws_parse(rfc_jws, MAX_JWS, &j, NULL), 0);
	ck_assert_str_eq(json_string_value(json_object_get(j.header, "alg")), "EdDSA");
	ck_assert_uint_eq(j.payload_len, strlen("Example of Ed25519 signing"));
	ck_assert_str_eq((const char *)j.payload, "Example of Ed25519 signing");
	ck_assert_str_eq(j.signing_input, "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
	ck_assert(jws_verify(&j, rfc_pub));

	unsigned char other[32];
	memcpy(other, rfc_pub, 32);
	other[0] ^= 1;
	ck_assert(!jws_verify(&j, other));
	jws_clear(&j);
	jws_clear(&j); /* safe twice */
	ck_assert(!jws_verify(&j, rfc_pub));
}
END_TEST

START_TEST(any_changed_byte_fails)
{
	size_t len = strlen(rfc_jws);
	char *copy = cf_strdup(rfc_jws);
	size_t parsed = 0;
	static const char subs[] = { 'A', 'B', '-', '_', '.', '=', ' ' };
	for (size_t i = 0; i < len; i++) {
		for (size_t s = 0; s < sizeof subs; s++) {
			if (rfc_jws[i] == subs[s])
				continue;
			copy[i] = subs[s];
			struct jws j;
			if (jws_parse(copy, MAX_JWS, &j, NULL) == 0) {
				parsed++;
				ck_assert_msg(!jws_verify(&j, rfc_pub), "byte %zu changed to %c verifies", i,
					      subs[s]);
				jws_clear(&j);
			}
			copy[i] = rfc_jws[i];
		}
	}
	ck_assert_uint_gt(parsed, len); /* most changes parse: verification catches them */
	free(copy);
}
END_TEST

START_TEST(refuses_other_algs)
{
	static const char *const headers[] = {
		"{\"alg\":\"none\"}",
		"{\"alg\":\"HS256\"}",
		"{\"alg\":\"ES256\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"eddsa\"}",
		"{\"alg\":\"EdDSA \"}",
		"{\"alg\":null}",
		"{\"alg\":[\"EdDSA\"]}",
		"{\"typ\":\"JWT\"}",
		"{}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *c = make_compact(headers[i], "payload", 64);
		expect_refused(c, CF_EINVAL, headers[i]);
		free(c);
	}
	/* alg "none" with an empty signature, as attackers send it */
	char *c = make_compact("{\"alg\":\"none\"}", "payload", 0);
	expect_refused(c, CF_EINVAL, "none, unsigned");
	free(c);
	/* a sound header parses with the same dummy signature */
	c = make_compact("{\"alg\":\"EdDSA\"}", "payload", 64);
	struct jws j;
	ck_assert_int_eq(jws_parse(c, MAX_JWS, &j, NULL), 0);
	ck_assert(!jws_verify(&j, rfc_pub));
	jws_clear(&j);
	free(c);
}
END_TEST

START_TEST(refuses_bad_headers)
{
	static const char *const headers[] = {
		"{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}",
		"{\"alg\":\"EdDSA\",\"crit\":[]}",
		"{\"alg\":\"EdDSA\",\"b64\":false,\"crit\":[\"b64\"]}",
		"{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\"}",       /* duplicate member */
		"{\"alg\":\"none\",\"alg\":\"EdDSA\"}",
		"[\"EdDSA\"]",
		"\"EdDSA\"",
		"{\"alg\":\"EdDSA\"",
		"{\"alg\":\"EdDSA\"}x",
		"",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *c = make_compact(headers[i], "payload", 64);
		expect_refused(c, CF_EINVAL, headers[i]);
		free(c);
	}
}
END_TEST

START_TEST(refuses_bad_structure)
{
	const char *dot1 = strchr(rfc_jws, '.');
	const char *dot2 = strrchr(rfc_jws, '.');
	char *two = cf_strndup(rfc_jws, (size_t)(dot2 - rfc_jws));
	expect_refused(two, CF_EINVAL, "two parts");
	char *one = cf_strndup(rfc_jws, (size_t)(dot1 - rfc_jws));
	expect_refused(one, CF_EINVAL, "one part");
	char *four = cf_asprintf("%s.%s", rfc_jws, dot2 + 1);
	expect_refused(four, CF_EINVAL, "four parts");
	char *empty4 = cf_asprintf("%s.", rfc_jws);
	expect_refused(empty4, CF_EINVAL, "trailing dot");
	expect_refused("", CF_EINVAL, "empty");
	expect_refused("..", CF_EINVAL, "dots only");

	/* trailing garbage after the signature */
	static const char *const tails[] = { " ", "\n", "\r\n", "x", "A", "==", "=" };
	for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		char *c = cf_asprintf("%s%s", rfc_jws, tails[i]);
		expect_refused(c, CF_EINVAL, "trailing garbage");
		free(c);
	}
	/* leading garbage */
	char *lead = cf_asprintf(" %s", rfc_jws);
	expect_refused(lead, CF_EINVAL, "leading space");

	/* bad base64url in each part: standard alphabet, padding, stray bytes */
	size_t len = strlen(rfc_jws);
	size_t at[3] = { 3, (size_t)(dot1 - rfc_jws) + 3, (size_t)(dot2 - rfc_jws) + 3 };
	static const char bad[] = { '+', '/', '=', '*', '\t', '\x80' };
	char *copy = cf_strdup(rfc_jws);
	for (size_t p = 0; p < 3; p++) {
		for (size_t b = 0; b < sizeof bad; b++) {
			copy[at[p]] = bad[b];
			expect_refused(copy, CF_EINVAL, "bad base64url");
			copy[at[p]] = rfc_jws[at[p]];
		}
	}
	/* non-zero trailing bits in the signature's last character */
	copy[len - 1] = 'h'; /* the vector ends in 'g': same bytes in a lax decoder */
	expect_refused(copy, CF_EINVAL, "trailing bits");
	free(copy);

	/* signatures of the wrong length */
	char *c = make_compact("{\"alg\":\"EdDSA\"}", "p", 63);
	expect_refused(c, CF_EINVAL, "63-byte signature");
	free(c);
	c = make_compact("{\"alg\":\"EdDSA\"}", "p", 65);
	expect_refused(c, CF_EINVAL, "65-byte signature");
	free(c);

	free(lead);
	free(empty4);
	free(four);
	free(one);
	free(two);
}
END_TEST

START_TEST(length_cap)
{
	size_t len = strlen(rfc_jws);
	struct jws j;
	struct cf_error err;
	ck_assert_int_eq(jws_parse(rfc_jws, len - 1, &j, &err), CF_ETOOLARGE);
	ck_assert_ptr_null(j.header);
	ck_assert_int_eq(jws_parse(rfc_jws, len, &j, &err), 0);
	jws_clear(&j);
	ck_assert_int_eq(jws_parse(rfc_jws, (size_t)-1, &j, &err), 0);
	jws_clear(&j);
}
END_TEST

START_TEST(sign_round_trip)
{
	struct keys_private *k = NULL;
	unsigned char pub[32];
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	keys_public_raw(k, pub);

	/* members stay in the order given, serialised once, compactly */
	json_t *header = json_object();
	json_object_set_new(header, "alg", json_string("EdDSA"));
	json_object_set_new(header, "typ", json_string("vc+jwt"));
	json_object_set_new(header, "cty", json_string("vc"));
	json_object_set_new(header, "kid", json_string("did:web:example.com:bodies:1#x"));
	const unsigned char payload[] = { 0x00, 0xff, 0x10, '{', '}', 0x00 };
	char *out = NULL;
	ck_assert_int_eq(jws_sign(k, header, payload, sizeof payload, &out, NULL), 0);

	const char *dot = strchr(out, '.');
	unsigned char *h = NULL;
	size_t hn = 0;
	ck_assert_int_eq(codec_b64url_decode(out, (size_t)(dot - out), &h, &hn, NULL), 0);
	const char want[] = "{\"alg\":\"EdDSA\",\"typ\":\"vc+jwt\",\"cty\":\"vc\","
			    "\"kid\":\"did:web:example.com:bodies:1#x\"}";
	ck_assert_uint_eq(hn, sizeof want - 1);
	ck_assert(memcmp(h, want, hn) == 0);
	free(h);

	struct jws j;
	ck_assert_int_eq(jws_parse(out, MAX_JWS, &j, NULL), 0);
	ck_assert_uint_eq(j.payload_len, sizeof payload);
	ck_assert(memcmp(j.payload, payload, sizeof payload) == 0);
	ck_assert(jws_verify(&j, pub));
	ck_assert(!jws_verify(&j, rfc_pub));
	ck_assert(json_equal(j.header, header));
	jws_clear(&j);
	free(out);

	/* an empty payload */
	ck_assert_int_eq(jws_sign(k, header, NULL, 0, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, ".."));
	ck_assert_int_eq(jws_parse(out, MAX_JWS, &j, NULL), 0);
	ck_assert_uint_eq(j.payload_len, 0);
	ck_assert(jws_verify(&j, pub));
	jws_clear(&j);
	free(out);

	/* the signer refuses headers that would not verify as EdDSA */
	struct cf_error err;
	json_object_set_new(header, "alg", json_string("none"));
	ck_assert_int_eq(jws_sign(k, header, "x", 1, &out, &err), CF_EINVAL);
	ck_assert_ptr_null(out);
	json_object_del(header, "alg");
	ck_assert_int_eq(jws_sign(k, header, "x", 1, &out, &err), CF_EINVAL);
	json_t *arr = json_array();
	ck_assert_int_eq(jws_sign(k, arr, "x", 1, &out, &err), CF_EINVAL);
	json_decref(arr);
	json_decref(header);
	keys_free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jws");
	TCase *tc = tcase_create("jws");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rfc8037_exact_bytes);
	tcase_add_test(tc, rfc8037_parse_verify);
	tcase_add_test(tc, any_changed_byte_fails);
	tcase_add_test(tc, refuses_other_algs);
	tcase_add_test(tc, refuses_bad_headers);
	tcase_add_test(tc, refuses_bad_structure);
	tcase_add_test(tc, length_cap);
	tcase_add_test(tc, sign_round_trip);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
