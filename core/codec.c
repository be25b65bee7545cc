/*
 * codec: strict base64, base64url and hex (see codec.h).
 */
#include "codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const char *alphabet, int pad, const void *data, size_t n)
{
	const unsigned char *in = data;
	char *out = cf_malloc((n + 2) / 3 * 4 + 1);
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

char *codec_b64url_encode(const void *data, size_t n)
{
	return b64_encode(b64_url, 0, data, n);
}

char *codec_b64_encode(const void *data, size_t n)
{
	return b64_encode(b64_std, 1, data, n);
}

static int b64_value(const char *alphabet, char c)
{
	const char *p = c ? memchr(alphabet, c, 64) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

static cf_err b64_decode(const char *alphabet, int pad, const char *s, size_t len,
			 unsigned char **out, size_t *outlen, struct cf_error *err)
{
	*out = NULL;
	*outlen = 0;
	if (pad) {
		if (len % 4)
			return cf_error_set(err, CF_EINVAL, NULL, "base64: length is not a multiple of 4");
		if (len && s[len - 1] == '=')
			len--;
		if (len && s[len - 1] == '=')
			len--;
	}
	if (len % 4 == 1)
		return cf_error_set(err, CF_EINVAL, NULL, "base64: impossible length");
	unsigned char *buf = cf_malloc(len / 4 * 3 + 3);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(alphabet, s[i]);
		if (v < 0) {
			free(buf);
			return cf_error_set(err, CF_EINVAL, NULL, "base64: invalid character at %zu", i);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	if (bits && (acc & ((1u << bits) - 1))) {
		free(buf);
		return cf_error_set(err, CF_EINVAL, NULL, "base64: non-zero trailing bits");
	}
	*out = buf;
	*outlen = o;
	return CF_OK;
}

cf_err codec_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *outlen,
			   struct cf_error *err)
{
	return b64_decode(b64_url, 0, s, len, out, outlen, err);
}

cf_err codec_b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen,
			struct cf_error *err)
{
	return b64_decode(b64_std, 1, s, len, out, outlen, err);
}

void codec_hex_encode(const void *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *in = data;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

cf_err codec_hex_decode(const char *s, unsigned char *out, size_t n, struct cf_error *err)
{
	if (strlen(s) != 2 * n)
		return cf_error_set(err, CF_EINVAL, NULL, "expected %zu hex digits", 2 * n);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return cf_error_set(err, CF_EINVAL, NULL, "not a hex digit at %zu", 2 * i);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return CF_OK;
}
