/*
 * Unit tests of core/statuslist: the bitstring's bit order and encoding
 * against an independent zlib, strict decoding (malformed input, wrong sizes,
 * a zip bomb under a memory limit), random index assignment, and the exact
 * JSON of the status list credential and the credentialStatus entry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>

#include "codec.h"
#include "jsonx.h"
#include "mem.h"
#include "statuslist.h"
#include "tsupport.h"

#define LIST_URL "https://conform.example/status/revocation"
#define ISSUER "did:web:conform.example:bodies:b1"

/* gzip (or, with gzip false, zlib-wrapped deflate) of n bytes of data. The
 * test's own compressor, so that decode is checked against another encoder. */
static unsigned char *compress_bytes(const void *data, size_t n, bool gzip, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 15 + 16 : 15,
				      8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	uLong cap = deflateBound(&z, n);
	unsigned char *out = cf_malloc(cap);
	z.next_in = data;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* gzip of total zero bytes, compressed piecewise so that the test never
 * holds them all (deflate reaches about 1000:1 on zeros). */
static unsigned char *gzip_zeros(size_t total, size_t *outlen)
{
	static const unsigned char zeros[65536];
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = total / 512 + 4096, left = total;
	unsigned char *out = cf_malloc(cap);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc;
	do {
		size_t chunk = left < sizeof zeros ? left : sizeof zeros;
		z.next_in = zeros;
		z.avail_in = (uInt)chunk;
		left -= chunk;
		rc = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
		ck_assert(rc == Z_OK || rc == Z_STREAM_END);
		ck_assert_uint_eq(z.avail_in, 0);
	} while (left);
	ck_assert_int_eq(rc, Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* Inflates a gzip member with the test's own zlib; the whole output. */
static unsigned char *gunzip_all(const unsigned char *in, size_t n, size_t max, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	unsigned char *out = cf_malloc(max);
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)max;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

/* "u" + base64url(data): an encodedList around arbitrary bytes. */
static char *multibase(const void *data, size_t n)
{
	char *b64 = codec_b64url_encode(data, n);
	char *s = cf_asprintf("u%s", b64);
	free(b64);
	return s;
}

static void assert_refused(const char *encoded, enum cf_code code)
{
	unsigned char *bits = (unsigned char *)"sentinel";
	struct cf_error err;
	cf_error_clear(&err);
	ck_assert_int_eq(statuslist_decode(encoded, &bits, &err), code);
	ck_assert_int_eq(err.code, code);
	ck_assert_ptr_null(bits);
	ck_assert(err.detail[0] != '\0');
}

START_TEST(round_trip)
{
	const unsigned set[] = { 0, 1, 7, 8, 131071 };
	char *enc = NULL;
	unsigned char *bits = NULL;
	ck_assert_int_eq(statuslist_encode(set, 5, &enc, NULL), 0);
	ck_assert_int_eq(statuslist_decode(enc, &bits, NULL), 0);
	unsigned count = 0;
	for (unsigned i = 0; i < STATUSLIST_BITS; i++) {
		bool want = i == 0 || i == 1 || i == 7 || i == 8 || i == 131071;
		ck_assert_msg(statuslist_get(bits, i) == want, "bit %u", i);
		count += statuslist_get(bits, i);
	}
	ck_assert_uint_eq(count, 5);
	ck_assert(!statuslist_get(bits, STATUSLIST_BITS));
	free(bits);
	free(enc);
}
END_TEST

START_TEST(bit_order)
{
	/* Index 0 is the left-most bit: bits 0, 1, 7 make byte 0 1100 0001,
	 * bit 8 is the high bit of byte 1, the last index the low bit of the
	 * last byte. */
	const unsigned set[] = { 0, 1, 7, 8, 131071 };
	char *enc = NULL;
	unsigned char *bits = NULL;
	ck_assert_int_eq(statuslist_encode(set, 5, &enc, NULL), 0);
	ck_assert_int_eq(statuslist_decode(enc, &bits, NULL), 0);
	ck_assert_uint_eq(bits[0], 0xc1);
	ck_assert_uint_eq(bits[1], 0x80);
	ck_assert_uint_eq(bits[STATUSLIST_BYTES - 1], 0x01);
	for (size_t i = 2; i < STATUSLIST_BYTES - 1; i++)
		ck_assert_uint_eq(bits[i], 0);
	free(bits);

	/* The same bytes as another gzip implementation reads them. */
	unsigned char *gz = NULL;
	size_t gzlen = 0, rawlen = 0;
	ck_assert_int_eq(codec_b64url_decode(enc + 1, strlen(enc + 1), &gz, &gzlen, NULL), 0);
	ck_assert(gzlen >= 18 && gz[0] == 0x1f && gz[1] == 0x8b); /* RFC 1952 ID1 ID2 */
	unsigned char *raw = gunzip_all(gz, gzlen, 2 * STATUSLIST_BYTES, &rawlen);
	ck_assert_uint_eq(rawlen, STATUSLIST_BYTES);
	ck_assert_uint_eq(raw[0], 0xc1);
	ck_assert_uint_eq(raw[1], 0x80);
	ck_assert_uint_eq(raw[STATUSLIST_BYTES - 1], 0x01);
	free(raw);
	free(gz);
	free(enc);

	/* And a list built by hand is read with the same order. */
	unsigned char *mine = cf_calloc(1, STATUSLIST_BYTES);
	mine[0] = 0x10;  /* index 3 */
	mine[2] = 0x01;  /* index 23 */
	gz = compress_bytes(mine, STATUSLIST_BYTES, true, &gzlen);
	enc = multibase(gz, gzlen);
	ck_assert_int_eq(statuslist_decode(enc, &bits, NULL), 0);
	for (unsigned i = 0; i < 64; i++)
		ck_assert_msg(statuslist_get(bits, i) == (i == 3 || i == 23), "bit %u", i);
	free(bits);
	free(enc);
	free(gz);
	free(mine);
}
END_TEST

START_TEST(encoded_form)
{
	char *empty = NULL, *again = NULL;
	ck_assert_int_eq(statuslist_encode(NULL, 0, &empty, NULL), 0);
	ck_assert_int_eq(empty[0], 'u');
	ck_assert_ptr_null(strpbrk(empty, "=+/"));
	/* 16 KiB of zeros: a few dozen bytes of gzip. */
	ck_assert_uint_lt(strlen(empty), 200);
	/* The same bits always give the same text (no timestamp in the header). */
	ck_assert_int_eq(statuslist_encode(NULL, 0, &again, NULL), 0);
	ck_assert_str_eq(empty, again);
	free(again);
	free(empty);

	/* Many bits set: still the multibase base64url alphabet only. */
	unsigned *set = cf_calloc(4096, sizeof *set);
	for (unsigned i = 0; i < 4096; i++)
		set[i] = (i * 2654435761u) % STATUSLIST_BITS;
	char *enc = NULL;
	ck_assert_int_eq(statuslist_encode(set, 4096, &enc, NULL), 0);
	ck_assert_int_eq(enc[0], 'u');
	ck_assert_uint_eq(strspn(enc + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			  strlen(enc + 1));
	unsigned char *bits = NULL;
	ck_assert_int_eq(statuslist_decode(enc, &bits, NULL), 0);
	for (unsigned i = 0; i < 4096; i++)
		ck_assert(statuslist_get(bits, set[i]));
	free(bits);
	free(enc);
	free(set);
}
END_TEST

START_TEST(encode_refuses_out_of_range)
{
	const unsigned set[] = { 5, STATUSLIST_BITS };
	char *enc = (char *)"sentinel";
	struct cf_error err;
	ck_assert_int_eq(statuslist_encode(set, 2, &enc, &err), CF_EINVAL);
	ck_assert_ptr_null(enc);
	ck_assert_int_eq(err.code, CF_EINVAL);
}
END_TEST

START_TEST(decode_refuses_malformed)
{
	char *good = NULL;
	const unsigned set[] = { 42 };
	ck_assert_int_eq(statuslist_encode(set, 1, &good, NULL), 0);

	/* multibase: no prefix, or another base's prefix */
	assert_refused("", CF_EINVAL);
	assert_refused(good + 1, CF_EINVAL);
	char *z = cf_strdup(good);
	z[0] = 'z';
	assert_refused(z, CF_EINVAL);
	free(z);
	/* base64url: padding, the standard alphabet, a stray character */
	assert_refused("uH4sIAAAAAAAAA==", CF_EINVAL);
	assert_refused("uH4sI+AAAAAAA/", CF_EINVAL);
	char *bad = cf_asprintf("%s!", good);
	assert_refused(bad, CF_EINVAL);
	free(bad);
	assert_refused("u", CF_EINVAL);

	unsigned char *list = cf_calloc(1, STATUSLIST_BYTES + 1);
	size_t n = 0;
	unsigned char *gz;
	char *enc;
	/* not gzip: plain bytes, and zlib-wrapped deflate of a valid list */
	enc = multibase("not gzip at all", 15);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	gz = compress_bytes(list, STATUSLIST_BYTES, false, &n);
	enc = multibase(gz, n);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	free(gz);
	/* the wrong size: one byte short, one byte over, empty */
	gz = compress_bytes(list, STATUSLIST_BYTES - 1, true, &n);
	enc = multibase(gz, n);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	free(gz);
	gz = compress_bytes(list, STATUSLIST_BYTES + 1, true, &n);
	enc = multibase(gz, n);
	assert_refused(enc, CF_ETOOLARGE);
	free(enc);
	free(gz);
	gz = compress_bytes(list, 0, true, &n);
	enc = multibase(gz, n);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	free(gz);

	/* the right size, but damaged: truncated trailer, bad CRC-32, data
	 * after the member (a second member included) */
	gz = compress_bytes(list, STATUSLIST_BYTES, true, &n);
	enc = multibase(gz, n);
	unsigned char *ok = NULL;
	ck_assert_int_eq(statuslist_decode(enc, &ok, NULL), 0); /* the control */
	free(ok);
	free(enc);
	enc = multibase(gz, n - 4);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	gz[n - 8] ^= 0x01;
	enc = multibase(gz, n);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	gz[n - 8] ^= 0x01;
	unsigned char *two = cf_malloc(2 * n);
	memcpy(two, gz, n);
	memcpy(two + n, gz, n);
	enc = multibase(two, n + 1);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	enc = multibase(two, 2 * n);
	assert_refused(enc, CF_EINVAL);
	free(enc);
	free(two);
	free(gz);

	/* longer than the cap: refused before decoding */
	char *huge = cf_malloc(STATUSLIST_MAX_ENCODED + 2);
	memset(huge, 'A', STATUSLIST_MAX_ENCODED + 1);
	huge[0] = 'u';
	huge[STATUSLIST_MAX_ENCODED + 1] = '\0';
	assert_refused(huge, CF_ETOOLARGE);
	free(huge);

	free(list);
	free(good);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
/* Reads this process's virtual memory size from /proc/self/statm. */
static size_t vm_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

START_TEST(zip_bomb)
{
	/* 32 MiB of zeros: about 32 KiB of gzip, well inside the input cap,
	 * so the refusal comes from the inflation limit. */
	const size_t bomb = (size_t)32 << 20;
	size_t n = 0;
	unsigned char *gz = gzip_zeros(bomb, &n);
	char *enc = multibase(gz, n);
	free(gz);
	ck_assert_uint_le(strlen(enc), STATUSLIST_MAX_ENCODED);
	assert_refused(enc, CF_ETOOLARGE);

	/* Again in a child whose address space may grow by 8 MiB only: a
	 * decoder that inflated the bomb whole would die there. (AddressSanitizer
	 * reserves terabytes of shadow memory, so there the limit cannot be set;
	 * the plain build runs this check.) */
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
#ifndef UNDER_ASAN
		size_t vm = vm_bytes();
		if (vm == 0)
			_exit(10);
		struct rlimit rl = { vm + ((size_t)8 << 20), vm + ((size_t)8 << 20) };
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(11);
		/* The limit must bite, or this check proves nothing. */
		void *probe = malloc(bomb);
		if (probe) {
			free(probe);
			_exit(12);
		}
#endif
		unsigned char *bits = NULL;
		struct cf_error err;
		cf_err e = statuslist_decode(enc, &bits, &err);
		_exit(e == CF_ETOOLARGE && bits == NULL ? 0 : 13);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "the child died (signal %d)",
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(enc);
}
END_TEST

START_TEST(random_index_avoids_used)
{
	unsigned used[101];
	for (unsigned i = 0; i < 100; i++)
		used[i] = i * 1000;
	used[100] = STATUSLIST_BITS - 1;
	for (int round = 0; round < 2000; round++) {
		unsigned idx = STATUSLIST_BITS;
		ck_assert_int_eq(statuslist_random_index(used, 101, &idx, NULL), 0);
		ck_assert_uint_lt(idx, STATUSLIST_BITS);
		for (unsigned j = 0; j < 101; j++)
			ck_assert_uint_ne(idx, used[j]);
	}
}
END_TEST

START_TEST(random_index_nearly_full)
{
	/* Every index but three used (and one used twice): the picks are the
	 * three free ones, each of them reached, so the choice is random rather
	 * than "the first free". */
	const unsigned freeidx[3] = { 5, 70000, STATUSLIST_BITS - 1 };
	unsigned *used = cf_calloc(STATUSLIST_BITS, sizeof *used);
	size_t n = 0;
	for (unsigned i = 0; i < STATUSLIST_BITS; i++)
		if (i != freeidx[0] && i != freeidx[1] && i != freeidx[2])
			used[n++] = i;
	used[n++] = 6;
	unsigned seen[3] = { 0, 0, 0 };
	for (int round = 0; round < 300; round++) {
		unsigned idx = 0;
		ck_assert_int_eq(statuslist_random_index(used, n, &idx, NULL), 0);
		bool hit = false;
		for (int k = 0; k < 3; k++)
			if (idx == freeidx[k]) {
				seen[k]++;
				hit = true;
			}
		ck_assert_msg(hit, "index %u is used", idx);
	}
	/* each has probability 1/3 per pick: missing one in 300 is ~1e-52 */
	for (int k = 0; k < 3; k++)
		ck_assert_uint_gt(seen[k], 0);
	free(used);
}
END_TEST

START_TEST(random_index_full)
{
	unsigned *used = cf_calloc(STATUSLIST_BITS, sizeof *used);
	for (unsigned i = 0; i < STATUSLIST_BITS; i++)
		used[i] = STATUSLIST_BITS - 1 - i;
	unsigned idx = 12345;
	struct cf_error err;
	ck_assert_int_eq(statuslist_random_index(used, STATUSLIST_BITS, &idx, &err), CF_ECONFLICT);
	ck_assert_int_eq(err.code, CF_ECONFLICT);
	ck_assert_uint_eq(idx, 12345);

	used[0] = STATUSLIST_BITS;
	ck_assert_int_eq(statuslist_random_index(used, 1, &idx, &err), CF_EINVAL);
	ck_assert_uint_eq(idx, 12345);
	/* an empty used set: any index */
	ck_assert_int_eq(statuslist_random_index(NULL, 0, &idx, NULL), 0);
	ck_assert_uint_lt(idx, STATUSLIST_BITS);
	free(used);
}
END_TEST

START_TEST(credential_json)
{
	const unsigned set[] = { 3, 94567 };
	json_t *vc = NULL;
	ck_assert_int_eq(statuslist_credential(LIST_URL, ISSUER, "revocation", "2026-01-31T12:00:00Z",
					       "2026-02-01T12:00:00Z", 300000, set, 2, &vc, NULL),
			 0);
	char *enc = NULL;
	ck_assert_int_eq(statuslist_encode(set, 2, &enc, NULL), 0);
	/* The whole document, member for member (canonical: keys sorted). */
	char *want = cf_asprintf(
		"{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"],"
		"\"credentialSubject\":{\"encodedList\":\"%s\",\"id\":\"" LIST_URL "#list\","
		"\"statusPurpose\":\"revocation\",\"ttl\":300000,\"type\":\"BitstringStatusList\"},"
		"\"id\":\"" LIST_URL "\",\"issuer\":\"" ISSUER "\","
		"\"type\":[\"VerifiableCredential\",\"BitstringStatusListCredential\"],"
		"\"validFrom\":\"2026-01-31T12:00:00Z\",\"validUntil\":\"2026-02-01T12:00:00Z\"}",
		enc);
	char *got = jsonx_canonical(vc);
	ck_assert_str_eq(got, want);
	/* ttl is a JSON integer, and the list decodes to the set bits */
	const json_t *subject = json_object_get(vc, "credentialSubject");
	ck_assert(json_is_integer(json_object_get(subject, "ttl")));
	unsigned char *bits = NULL;
	ck_assert_int_eq(statuslist_decode(jsonx_str(subject, "encodedList"), &bits, NULL), 0);
	ck_assert(statuslist_get(bits, 3) && statuslist_get(bits, 94567) && !statuslist_get(bits, 4));
	free(bits);
	free(got);
	free(want);
	free(enc);
	json_decref(vc);

	/* suspension, no validUntil: the member is left out */
	ck_assert_int_eq(statuslist_credential(LIST_URL, ISSUER, "suspension", "2026-01-31T12:00:00+02:00",
					       NULL, 0, NULL, 0, &vc, NULL),
			 0);
	ck_assert_ptr_null(json_object_get(vc, "validUntil"));
	ck_assert_uint_eq(json_object_size(vc), 6);
	ck_assert_str_eq(jsonx_str(json_object_get(vc, "credentialSubject"), "statusPurpose"),
			 "suspension");
	json_decref(vc);
}
END_TEST

START_TEST(credential_refuses)
{
	static const unsigned big[] = { STATUSLIST_BITS };
	static const struct {
		const char *url, *issuer, *purpose, *from, *until;
		long ttl;
		const unsigned *set;
		size_t n;
		const char *pointer;
	} cases[] = {
		{ "", ISSUER, "revocation", "2026-01-31T12:00:00Z", NULL, 0, NULL, 0, "/id" },
		{ LIST_URL "#x", ISSUER, "revocation", "2026-01-31T12:00:00Z", NULL, 0, NULL, 0, "/id" },
		{ LIST_URL, "", "revocation", "2026-01-31T12:00:00Z", NULL, 0, NULL, 0, "/issuer" },
		{ LIST_URL, ISSUER, "message", "2026-01-31T12:00:00Z", NULL, 0, NULL, 0,
		  "/credentialSubject/statusPurpose" },
		{ LIST_URL, ISSUER, "revocation", "2026-01-31", NULL, 0, NULL, 0, "/validFrom" },
		{ LIST_URL, ISSUER, "revocation", "2026-01-31T12:00:00Z", "tomorrow", 0, NULL, 0,
		  "/validUntil" },
		{ LIST_URL, ISSUER, "revocation", "2026-01-31T12:00:00Z", NULL, -1, NULL, 0,
		  "/credentialSubject/ttl" },
		{ LIST_URL, ISSUER, "revocation", "2026-01-31T12:00:00Z", NULL, 0, big, 1,
		  "/credentialSubject/encodedList" },
		{ LIST_URL, "did:web:\xff", "revocation", "2026-01-31T12:00:00Z", NULL, 0, NULL, 0, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *vc = json_object();
		json_t *keep = vc;
		struct cf_error err;
		cf_error_clear(&err);
		ck_assert_int_eq(statuslist_credential(cases[i].url, cases[i].issuer, cases[i].purpose,
						       cases[i].from, cases[i].until, cases[i].ttl,
						       cases[i].set, cases[i].n, &vc, &err),
				 CF_EINVAL);
		ck_assert_ptr_null(vc);
		ck_assert_str_eq(err.pointer, cases[i].pointer);
		json_decref(keep);
	}
}
END_TEST

START_TEST(entry_json)
{
	json_t *e = statuslist_entry(LIST_URL, "revocation", 94567);
	ck_assert_ptr_nonnull(e);
	char *got = jsonx_canonical(e);
	ck_assert_str_eq(got, "{\"id\":\"" LIST_URL "#94567\","
			      "\"statusListCredential\":\"" LIST_URL "\","
			      "\"statusListIndex\":\"94567\","
			      "\"statusPurpose\":\"revocation\","
			      "\"type\":\"BitstringStatusListEntry\"}");
	ck_assert(json_is_string(json_object_get(e, "statusListIndex")));
	free(got);
	json_decref(e);

	e = statuslist_entry(LIST_URL, "suspension", 0);
	ck_assert_str_eq(jsonx_str(e, "statusListIndex"), "0");
	ck_assert_str_eq(jsonx_str(e, "id"), LIST_URL "#0");
	ck_assert_str_eq(jsonx_str(e, "statusPurpose"), "suspension");
	json_decref(e);

	ck_assert_ptr_null(statuslist_entry(LIST_URL, "revocation", STATUSLIST_BITS));
	ck_assert_ptr_null(statuslist_entry(NULL, "revocation", 1));
	ck_assert_ptr_null(statuslist_entry(LIST_URL, NULL, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("statuslist");
	TCase *tc = tcase_create("statuslist");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, bit_order);
	tcase_add_test(tc, encoded_form);
	tcase_add_test(tc, encode_refuses_out_of_range);
	tcase_add_test(tc, decode_refuses_malformed);
	tcase_add_test(tc, zip_bomb);
	tcase_add_test(tc, random_index_avoids_used);
	tcase_add_test(tc, random_index_nearly_full);
	tcase_add_test(tc, random_index_full);
	tcase_add_test(tc, credential_json);
	tcase_add_test(tc, credential_refuses);
	tcase_add_test(tc, entry_json);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
