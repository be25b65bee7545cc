/*
 * fuzz_codec: base64url, base64 and hex (core/codec.c), which every token,
 * key and signature passes through. The decoders are strict, so a value
 * that decodes has exactly one encoding: encoding it again gives the input
 * back (hex: up to the case of its letters).
 */
#include <strings.h>

#include "codec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct cf_error err;
	unsigned char *out = NULL;
	size_t n = 0;
	if (codec_b64url_decode(s, size, &out, &n, &err) == CF_OK) {
		char *back = codec_b64url_encode(out, n);
		FUZZ_ASSERT(strlen(back) == size && memcmp(back, s, size) == 0);
		free(back);
		free(out);
	} else {
		FUZZ_ASSERT(out == NULL);
	}
	out = NULL;
	if (codec_b64_decode(s, size, &out, &n, &err) == CF_OK) {
		char *back = codec_b64_encode(out, n);
		FUZZ_ASSERT(strlen(back) == size && memcmp(back, s, size) == 0);
		free(back);
		free(out);
	} else {
		FUZZ_ASSERT(out == NULL);
	}
	char *hex = fuzz_cstr(data, size);
	size_t half = strlen(hex) / 2;
	unsigned char *bytes = cf_malloc(half + 1);
	if (codec_hex_decode(hex, bytes, half, &err) == CF_OK) {
		char *back = cf_malloc(2 * half + 1);
		codec_hex_encode(bytes, half, back);
		FUZZ_ASSERT(strcasecmp(back, hex) == 0);
		free(back);
	}
	free(bytes);
	free(hex);
	return 0;
}
