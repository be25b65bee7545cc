/*
 * rnd: CSPRNG bytes and identifiers (see rnd.h).
 */
#include "rnd.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "codec.h"

void rnd_bytes(void *out, size_t n)
{
	if (n > (size_t)0x7fffffff || RAND_bytes(out, (int)n) != 1) {
		fputs("conform: the random number generator failed\n", stderr);
		abort();
	}
}

void rnd_uuid(char out[37])
{
	unsigned char b[16];
	rnd_bytes(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

void rnd_hex(char *out, size_t n)
{
	unsigned char b[64];
	while (n) {
		size_t k = n < sizeof b ? n : sizeof b;
		rnd_bytes(b, k);
		codec_hex_encode(b, k, out);
		out += 2 * k;
		n -= k;
	}
	*out = '\0';
}
