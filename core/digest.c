/*
 * digest: SHA-256 (see digest.h). OpenSSL failures here mean a broken
 * library or no memory, so they abort.
 */
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "codec.h"

struct digest_ctx {
	EVP_MD_CTX *md;
};

static void digest_fail(void) __attribute__((noreturn));
static void digest_fail(void)
{
	fputs("conform: SHA-256 failed\n", stderr);
	abort();
}

void digest_sha256(const void *data, size_t n, unsigned char out[DIGEST_SHA256_LEN])
{
	unsigned int len = 0;
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
		digest_fail();
}

void digest_sha256_hex(const void *data, size_t n, char out[DIGEST_SHA256_HEX_LEN])
{
	unsigned char d[DIGEST_SHA256_LEN];
	digest_sha256(data, n, d);
	codec_hex_encode(d, sizeof d, out);
}

struct digest_ctx *digest_sha256_new(void)
{
	struct digest_ctx *ctx = malloc(sizeof *ctx);
	if (!ctx)
		digest_fail();
	ctx->md = EVP_MD_CTX_new();
	if (!ctx->md || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1)
		digest_fail();
	return ctx;
}

void digest_update(struct digest_ctx *ctx, const void *data, size_t n)
{
	if (EVP_DigestUpdate(ctx->md, data, n) != 1)
		digest_fail();
}

void digest_final(struct digest_ctx *ctx, unsigned char out[DIGEST_SHA256_LEN])
{
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx->md, out, &len) != 1)
		digest_fail();
	digest_abort(ctx);
}

void digest_abort(struct digest_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}
