/*
 * jws: compact JWS with EdDSA (see jws.h). The signing input is kept as
 * received, never re-serialised, since a verifier must check the exact bytes
 * that were signed (RFC 7515 section 5.2).
 */
#include "jws.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mem.h"

static cf_err check_alg(const json_t *header, struct cf_error *err)
{
	const json_t *alg = json_object_get(header, "alg");
	if (!alg)
		return cf_error_set(err, CF_EINVAL, NULL, "the JWS header has no \"alg\"");
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "EdDSA") != 0)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "the JWS alg must be \"EdDSA\"; no other algorithm is accepted");
	return CF_OK;
}

cf_err jws_sign(const struct keys_private *k, const json_t *header, const void *payload,
		size_t n, char **out, struct cf_error *err)
{
	cf_err e = CF_OK;
	char *hjson = NULL, *h64 = NULL, *p64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char sig[64];

	*out = NULL;
	if (!json_is_object(header)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS header must be a JSON object");
		goto out;
	}
	e = check_alg(header, err);
	if (e)
		goto out;
	/* jansson keeps insertion order, so the header reads as it was built. */
	hjson = json_dumps(header, JSON_COMPACT);
	if (!hjson) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "cannot serialise the JWS header");
		goto out;
	}
	h64 = codec_b64url_encode(hjson, strlen(hjson));
	p64 = codec_b64url_encode(payload, n);
	input = cf_asprintf("%s.%s", h64, p64);
	e = keys_sign(k, input, strlen(input), sig, err);
	if (e)
		goto out;
	s64 = codec_b64url_encode(sig, sizeof sig);
	*out = cf_asprintf("%s.%s", input, s64);
out:
	free(s64);
	free(input);
	free(p64);
	free(h64);
	free(hjson);
	return e;
}

cf_err jws_parse(const char *compact, size_t max_len, struct jws *out, struct cf_error *err)
{
	cf_err e = CF_OK;
	unsigned char *hbytes = NULL, *sig = NULL;
	size_t hlen = 0, siglen = 0;
	struct jws j = { 0 };

	memset(out, 0, sizeof *out);
	size_t len = strnlen(compact, max_len < (size_t)-1 ? max_len + 1 : max_len);
	if (len > max_len) {
		e = cf_error_set(err, CF_ETOOLARGE, NULL, "the JWS is too large: more than %zu bytes",
				 max_len);
		goto out;
	}
	const char *d1 = memchr(compact, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact)) : NULL;
	if (!d2) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a compact JWS has three parts separated by dots; this has %d",
				 d1 ? 2 : 1);
		goto out;
	}
	const char *end = compact + len;
	if (memchr(d2 + 1, '.', (size_t)(end - (d2 + 1)))) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a compact JWS has three parts separated by dots; this has more");
		goto out;
	}

	if (d1 == compact) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS header is empty");
		goto out;
	}
	if (codec_b64url_decode(compact, (size_t)(d1 - compact), &hbytes, &hlen, NULL)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS header is not base64url");
		goto out;
	}
	json_error_t jerr;
	j.header = json_loadb((const char *)hbytes, hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!j.header || !json_is_object(j.header)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS header is not a JSON object");
		goto out;
	}
	e = check_alg(j.header, err);
	if (e)
		goto out;
	/* RFC 7515 4.1.11: a recipient must refuse extensions it does not
	 * understand, and conform understands none. */
	if (json_object_get(j.header, "crit")) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the JWS header has \"crit\"; no extension is understood");
		goto out;
	}

	if (codec_b64url_decode(d1 + 1, (size_t)(d2 - (d1 + 1)), &j.payload, &j.payload_len,
				NULL)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS payload is not base64url");
		goto out;
	}
	/* A NUL after the bytes lets a caller read a text payload as a string. */
	j.payload = cf_realloc(j.payload, j.payload_len + 1);
	j.payload[j.payload_len] = '\0';

	if (codec_b64url_decode(d2 + 1, (size_t)(end - (d2 + 1)), &sig, &siglen, NULL)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the JWS signature is not base64url");
		goto out;
	}
	if (siglen != sizeof j.sig) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the JWS signature has %zu bytes; Ed25519 signatures have 64", siglen);
		goto out;
	}
	memcpy(j.sig, sig, sizeof j.sig);
	j.signing_input = cf_strndup(compact, (size_t)(d2 - compact));
	*out = j;
	memset(&j, 0, sizeof j);
out:
	jws_clear(&j);
	free(sig);
	free(hbytes);
	return e;
}

bool jws_verify(const struct jws *j, const unsigned char pub[32])
{
	if (!j || !j->signing_input)
		return false;
	return keys_verify(pub, j->signing_input, strlen(j->signing_input), j->sig);
}

void jws_clear(struct jws *j)
{
	if (!j)
		return;
	json_decref(j->header);
	free(j->payload);
	free(j->signing_input);
	memset(j, 0, sizeof *j);
}
