/*
 * statuslist: W3C Bitstring Status List v1.0 (see statuslist.h). The
 * bitstring is a plain byte array, index 0 in the high bit of byte 0; zlib
 * does the GZIP (RFC 1952) framing, base64url the rest.
 */
#include "statuslist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes next_in a pointer to const, so input need not be cast. */
#define ZLIB_CONST
#include <zlib.h>

#include "codec.h"
#include "jsonx.h"
#include "mem.h"
#include "rnd.h"

/* windowBits for deflateInit2/inflateInit2: a 32 KiB window, and +16 asks
 * for the gzip wrapper (header, CRC-32, size) instead of zlib's own. */
#define GZIP_WINDOW_BITS (15 + 16)

static unsigned char bit_mask(unsigned index)
{
	return (unsigned char)(0x80u >> (index & 7u));
}

/* Compresses the bitstring into a new gzip member (*out, *outlen). */
static cf_err gzip_bits(const unsigned char *bits, unsigned char **out, size_t *outlen,
			struct cf_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	unsigned char *gz = NULL;
	cf_err e = 0;
	/* zlib writes mtime 0 and no file name unless asked: the same bits
	 * always give the same encodedList. */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return cf_error_set(err, CF_EINTERNAL, NULL, "zlib: cannot start compression");
	/* deflateBound is enough for one deflate(Z_FINISH) call to finish. */
	uLong cap = deflateBound(&z, STATUSLIST_BYTES);
	gz = cf_malloc(cap);
	z.next_in = bits;
	z.avail_in = STATUSLIST_BYTES;
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "zlib: compression did not finish");
		goto out;
	}
	*out = gz;
	*outlen = z.total_out;
	gz = NULL;
out:
	deflateEnd(&z);
	free(gz);
	return e;
}

cf_err statuslist_encode(const unsigned *set, size_t n, char **encoded, struct cf_error *err)
{
	unsigned char *bits = cf_calloc(1, STATUSLIST_BYTES), *gz = NULL;
	char *b64 = NULL;
	size_t gzlen = 0;
	cf_err e = 0;
	*encoded = NULL;
	for (size_t i = 0; i < n; i++) {
		if (set[i] >= STATUSLIST_BITS) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "status list index %u is out of range (0..%u)", set[i],
					 STATUSLIST_BITS - 1);
			goto out;
		}
		bits[set[i] >> 3] |= bit_mask(set[i]);
	}
	e = gzip_bits(bits, &gz, &gzlen, err);
	if (e)
		goto out;
	b64 = codec_b64url_encode(gz, gzlen);
	/* 'u' is the multibase prefix of unpadded base64url. */
	*encoded = cf_asprintf("u%s", b64);
out:
	free(b64);
	free(gz);
	free(bits);
	return e;
}

/*
 * Inflates one gzip member of exactly STATUSLIST_BYTES bytes into out. The
 * output never grows: once out is full, one spare byte tells whether the
 * stream would go on, and if it would, inflation stops there.
 */
static cf_err gunzip_bits(const unsigned char *in, size_t n, unsigned char *out,
			  struct cf_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	cf_err e = 0;
	if (inflateInit2(&z, GZIP_WINDOW_BITS) != Z_OK)
		return cf_error_set(err, CF_EINTERNAL, NULL, "zlib: cannot start decompression");
	z.next_in = in;
	z.avail_in = (uInt)n; /* n <= STATUSLIST_MAX_ENCODED */
	z.next_out = out;
	z.avail_out = STATUSLIST_BYTES;
	int rc = inflate(&z, Z_NO_FLUSH);
	if (rc == Z_OK && z.avail_out == 0) {
		/* Full: a valid list ends here, and this call reads its trailer. */
		unsigned char spare;
		z.next_out = &spare;
		z.avail_out = 1;
		rc = inflate(&z, Z_NO_FLUSH);
		if (z.avail_out == 0) {
			e = cf_error_set(err, CF_ETOOLARGE, NULL,
					 "encodedList inflates to more than %u bytes",
					 STATUSLIST_BYTES);
			goto out;
		}
	}
	if (rc == Z_MEM_ERROR) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "zlib: out of memory");
		goto out;
	}
	if (rc != Z_STREAM_END) {
		/* Z_DATA_ERROR: not gzip, corrupt, or a bad CRC; Z_OK or
		 * Z_BUF_ERROR: the input ended before the stream did. */
		e = cf_error_set(err, CF_EINVAL, NULL, "encodedList is not valid GZIP data%s%s",
				 z.msg ? ": " : "", z.msg ? z.msg : "");
		goto out;
	}
	if (z.avail_in != 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "encodedList has data after its GZIP stream");
		goto out;
	}
	if (z.total_out != STATUSLIST_BYTES) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "encodedList inflates to %lu bytes, not %u", (unsigned long)z.total_out,
				 STATUSLIST_BYTES);
		goto out;
	}
out:
	inflateEnd(&z);
	return e;
}

cf_err statuslist_decode(const char *encoded, unsigned char **bits, struct cf_error *err)
{
	unsigned char *gz = NULL, *out = NULL;
	size_t gzlen = 0;
	cf_err e = 0;
	*bits = NULL;
	/* strnlen: an overlong input is refused without reading all of it. */
	size_t len = strnlen(encoded, STATUSLIST_MAX_ENCODED + 1);
	if (len > STATUSLIST_MAX_ENCODED)
		return cf_error_set(err, CF_ETOOLARGE, NULL,
				    "encodedList is longer than %u characters",
				    STATUSLIST_MAX_ENCODED);
	if (len == 0 || encoded[0] != 'u')
		return cf_error_set(err, CF_EINVAL, NULL,
				    "encodedList must be multibase base64url (start with 'u')");
	e = codec_b64url_decode(encoded + 1, len - 1, &gz, &gzlen, err);
	if (e) {
		cf_error_prefix(err, "encodedList");
		goto out;
	}
	out = cf_malloc(STATUSLIST_BYTES);
	e = gunzip_bits(gz, gzlen, out, err);
	if (e)
		goto out;
	*bits = out;
	out = NULL;
out:
	free(out);
	free(gz);
	return e;
}

bool statuslist_get(const unsigned char *bits, unsigned index)
{
	return index < STATUSLIST_BITS && (bits[index >> 3] & bit_mask(index)) != 0;
}

/* A uniform random integer in [0, bound), bound > 0: draws that fall in the
 * incomplete last span of 2^32 are redrawn, so there is no modulo bias. */
static uint32_t uniform_below(uint32_t bound)
{
	uint64_t span = (UINT64_C(1) << 32) / bound * bound;
	uint32_t r;
	do
		rnd_bytes(&r, sizeof r);
	while (r >= span);
	return r % bound;
}

cf_err statuslist_random_index(const unsigned *used, size_t n, unsigned *out,
			       struct cf_error *err)
{
	/* A bitmap of the used indexes turns "k-th free index" into one scan,
	 * whatever n is and however full the list: no retry loop that slows
	 * down as the list fills. */
	unsigned char *taken = cf_calloc(1, STATUSLIST_BYTES);
	cf_err e = 0;
	for (size_t i = 0; i < n; i++) {
		if (used[i] >= STATUSLIST_BITS) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "used status list index %u is out of range (0..%u)",
					 used[i], STATUSLIST_BITS - 1);
			goto out;
		}
		taken[used[i] >> 3] |= bit_mask(used[i]);
	}
	uint32_t free_count = 0;
	for (unsigned i = 0; i < STATUSLIST_BYTES; i++)
		free_count += 8u - (uint32_t)__builtin_popcount(taken[i]);
	if (free_count == 0) {
		e = cf_error_set(err, CF_ECONFLICT, NULL,
				 "the status list is full (%u indexes used)", STATUSLIST_BITS);
		goto out;
	}
	uint32_t k = uniform_below(free_count);
	for (unsigned i = 0; i < STATUSLIST_BITS; i++) {
		if (taken[i >> 3] & bit_mask(i))
			continue;
		if (k-- == 0) {
			*out = i;
			break;
		}
	}
out:
	free(taken);
	return e;
}

/* A VC 2.0 dateTimeStamp: an RFC 3339 time with its offset, not a date. */
static bool is_date_time(const char *s)
{
	return s && jsonx_is_time(s) && strchr(s, 'T') != NULL;
}

static bool is_purpose(const char *s)
{
	return s && (strcmp(s, "revocation") == 0 || strcmp(s, "suspension") == 0);
}

cf_err statuslist_credential(const char *list_url, const char *issuer, const char *purpose,
			     const char *valid_from, const char *valid_until, long ttl_ms,
			     const unsigned *set, size_t n, json_t **out, struct cf_error *err)
{
	char *encoded = NULL, *subject_id = NULL;
	cf_err e = 0;
	*out = NULL;
	/* The subject id is list_url "#list": a URL with its own fragment
	 * would make it ambiguous. */
	if (!list_url || !*list_url || strchr(list_url, '#'))
		return cf_error_set(err, CF_EINVAL, "/id",
				    "the status list URL must be non-empty and have no fragment");
	if (!issuer || !*issuer)
		return cf_error_set(err, CF_EINVAL, "/issuer", "the issuer must be non-empty");
	if (!is_purpose(purpose))
		return cf_error_set(err, CF_EINVAL, "/credentialSubject/statusPurpose",
				    "statusPurpose must be \"revocation\" or \"suspension\"");
	if (!is_date_time(valid_from))
		return cf_error_set(err, CF_EINVAL, "/validFrom",
				    "validFrom must be an RFC 3339 time (2026-01-31T12:00:00Z)");
	if (valid_until && !is_date_time(valid_until))
		return cf_error_set(err, CF_EINVAL, "/validUntil",
				    "validUntil must be an RFC 3339 time (2026-01-31T12:00:00Z)");
	if (ttl_ms < 0)
		return cf_error_set(err, CF_EINVAL, "/credentialSubject/ttl",
				    "ttl must be a number of milliseconds >= 0");
	for (size_t i = 0; i < n; i++)
		if (set[i] >= STATUSLIST_BITS)
			return cf_error_set(err, CF_EINVAL, "/credentialSubject/encodedList",
					    "status list index %u is out of range (0..%u)", set[i],
					    STATUSLIST_BITS - 1);
	e = statuslist_encode(set, n, &encoded, err);
	if (e)
		goto out;
	subject_id = cf_asprintf("%s#list", list_url);
	/* "s*" leaves validUntil out when it is NULL. */
	*out = json_pack("{s:[s],s:s,s:[s,s],s:s,s:s,s:s*,s:{s:s,s:s,s:s,s:s,s:I}}",
			 "@context", "https://www.w3.org/ns/credentials/v2",
			 "id", list_url,
			 "type", "VerifiableCredential", "BitstringStatusListCredential",
			 "issuer", issuer,
			 "validFrom", valid_from,
			 "validUntil", valid_until,
			 "credentialSubject",
			 "id", subject_id,
			 "type", "BitstringStatusList",
			 "statusPurpose", purpose,
			 "encodedList", encoded,
			 "ttl", (json_int_t)ttl_ms);
	/* The other strings are checked ASCII above: only the URL or the
	 * issuer can make jansson refuse (invalid UTF-8). */
	if (!*out)
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the status list URL and the issuer must be valid UTF-8");
out:
	free(subject_id);
	free(encoded);
	return e;
}

json_t *statuslist_entry(const char *list_url, const char *purpose, unsigned index)
{
	if (!list_url || !purpose || index >= STATUSLIST_BITS)
		return NULL;
	char index_text[16];
	snprintf(index_text, sizeof index_text, "%u", index);
	char *id = cf_asprintf("%s#%u", list_url, index);
	/* statusListIndex is a string holding the integer, as the spec says. */
	json_t *entry = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id,
				  "type", "BitstringStatusListEntry",
				  "statusPurpose", purpose,
				  "statusListIndex", index_text,
				  "statusListCredential", list_url);
	free(id);
	return entry;
}
