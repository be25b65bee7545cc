/*
 * jws: JSON Web Signatures (RFC 7515) in compact serialisation with the one
 * algorithm conform uses, EdDSA over Ed25519 (RFC 8037). Parsing is strict
 * and refuses every other alg, so "none" and HMAC confusion cannot arise.
 */
#ifndef CONFORM_JWS_H
#define CONFORM_JWS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"
#include "keys.h"

/*
 * Signs payload (n bytes; may be NULL when n is 0) under the protected
 * header, a JSON object (borrowed) that must have "alg":"EdDSA". The header
 * is serialised once, compactly, with its members in their order in the
 * object; the result is BASE64URL(header) "." BASE64URL(payload) "."
 * BASE64URL(signature). On success *out is a new string the caller frees; on
 * error *out is NULL.
 */
cf_err jws_sign(const struct keys_private *k, const json_t *header, const void *payload,
		size_t n, char **out, struct cf_error *err) CF_MUST_CHECK;

/* A parsed compact JWS. All members are owned by it (jws_clear). */
struct jws {
	json_t *header;          /* the protected header, a JSON object */
	unsigned char *payload;  /* decoded payload, NUL-terminated (not counted) */
	size_t payload_len;
	unsigned char sig[64];
	char *signing_input;     /* the first two parts with their dot, as received */
};

/*
 * Parses a compact JWS strictly: exactly three parts of strict base64url;
 * the header a JSON object without duplicate members, "alg" exactly "EdDSA"
 * and no "crit" (conform understands no extension); the signature 64 bytes.
 * A compact form longer than max_len bytes is CF_ETOOLARGE, anything else
 * malformed CF_EINVAL. The signature is not checked: see jws_verify. *out is
 * overwritten; on error it is all zero and holds nothing (jws_clear on it is
 * harmless).
 */
cf_err jws_parse(const char *compact, size_t max_len, struct jws *out,
		 struct cf_error *err) CF_MUST_CHECK;

/* True when j's signature is valid over its signing input under pub. */
bool jws_verify(const struct jws *j, const unsigned char pub[32]);

/* Frees what j holds and zeroes it (safe twice and on a zeroed struct). */
void jws_clear(struct jws *j);

#endif
