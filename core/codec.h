/*
 * codec: base64 (RFC 4648 section 4), base64url without padding (section 5,
 * as JOSE uses it) and lowercase hex. Decoders are strict: they refuse
 * characters outside the alphabet, wrong padding and non-zero trailing bits,
 * so that every value has exactly one encoding.
 */
#ifndef CONFORM_CODEC_H
#define CONFORM_CODEC_H

#include <stddef.h>

#include "error.h"

/* Returns a new NUL-terminated encoding of n bytes; the caller frees. */
char *codec_b64url_encode(const void *data, size_t n);
char *codec_b64_encode(const void *data, size_t n);

/* Decodes len characters of s into a new buffer (*out, *outlen; the caller
 * frees *out). On error *out is NULL. */
cf_err codec_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *outlen,
			   struct cf_error *err) CF_MUST_CHECK;
cf_err codec_b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen,
			struct cf_error *err) CF_MUST_CHECK;

/* Writes 2n lowercase hex digits and a NUL to out (at least 2n+1 bytes). */
void codec_hex_encode(const void *data, size_t n, char *out);

/* Decodes exactly 2n hex digits of s into out (n bytes). */
cf_err codec_hex_decode(const char *s, unsigned char *out, size_t n, struct cf_error *err) CF_MUST_CHECK;

#endif
