/*
 * digest: SHA-256 through OpenSSL EVP, one-shot and streaming.
 */
#ifndef CONFORM_DIGEST_H
#define CONFORM_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA256_HEX_LEN 65 /* with the NUL */

void digest_sha256(const void *data, size_t n, unsigned char out[DIGEST_SHA256_LEN]);
void digest_sha256_hex(const void *data, size_t n, char out[DIGEST_SHA256_HEX_LEN]);

/* Streaming: new → update* → final (which frees the context). */
struct digest_ctx;
struct digest_ctx *digest_sha256_new(void);
void digest_update(struct digest_ctx *ctx, const void *data, size_t n);
void digest_final(struct digest_ctx *ctx, unsigned char out[DIGEST_SHA256_LEN]);
/* Frees a context without finishing it (safe on NULL). */
void digest_abort(struct digest_ctx *ctx);

#endif
