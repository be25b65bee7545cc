/*
 * bundle: the offline proof bundle of a certificate (docs/certificates.md,
 * "The offline proof bundle"): one canonical JSON file with the signed
 * credential, the issuer's keys, the inclusion proof of its issuance entry,
 * the signed checkpoint, the log's verifier key and the status list
 * credentials as of the moment it was made; and its verification with no
 * network, strict enough that any change of any byte of the file fails.
 */
#ifndef CONFORM_BUNDLE_H
#define CONFORM_BUNDLE_H

#include <stddef.h>

#include <jansson.h>

#include "certificate.h"
#include "db.h"
#include "error.h"

/* The bundle's media type and the value of its "format" member. */
#define BUNDLE_MEDIA_TYPE "application/vnd.conform.bundle+json"
#define BUNDLE_FORMAT "conform-bundle/v1"

/* The largest bundle bundle_verify reads (CF_ETOOLARGE beyond). */
#define BUNDLE_MAX (1u << 20)

/*
 * Makes the bundle of certificate serial: its text (canonical JSON and a
 * newline) in *out, a new string the caller frees. The status lists are
 * signed by conform-signer (ctx->signer_socket). CF_ENOTFOUND for no such
 * certificate; CF_EUNAVAILABLE when the newest signed checkpoint does not
 * cover its issuance entry (or the revocation of its key) yet: a checkpoint
 * follows growth within seconds, so the caller retries. On error *out is NULL.
 */
cf_err bundle_make(struct db *db, const struct cert_ctx *ctx, const char *serial, char **out,
		   struct cf_error *err) CF_MUST_CHECK;

/*
 * Verifies a bundle (len bytes of text) with no network, at time now
 * (seconds since the epoch). log_vkey is the log's verifier key the caller
 * trusts (note_vkey form), or NULL to take the bundle's own (the report says
 * so). witnesses (NULL-terminated, may be NULL) are the cosigners' keys the
 * caller trusts ("<name>+<key id>+<base64(0x04 || pub)>", C2SP
 * tlog-cosignature): a cosignature line of one of them must verify; lines of
 * other keys are reported, not verified. Every byte counts: the text must be exactly the canonical
 * serialisation of its members and a newline, and every member is either
 * signed or checked against what is signed.
 * On success *out (new reference) is the report {verdict: valid | suspended
 * | withdrawn | superseded | expired, serial, issuer, kid, valid_from, valid_until,
 * made_at, log: {origin, index, tree_size, vkey, vkey_trusted,
 * cosignatures: [{name, key_id, verified, timestamp (when verified)}]}, status_list_bits: {revocation,
 * suspension}, key_compromised_since (when the key was), superseded_by (the
 * successor's serial, when the bundle proves a supersession)}. When the bundle
 * does not verify, the error is CF_EUNPROCESSABLE and its detail says why
 * (the verdict "invalid"); CF_EINVAL when it is not a bundle at all;
 * *out is NULL on error.
 */
cf_err bundle_verify(const char *text, size_t len, const char *log_vkey, const char *const *witnesses,
		     long long now, json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
