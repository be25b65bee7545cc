/*
 * statuslist: W3C Bitstring Status List v1.0 (Recommendation, May 2025), the
 * parts conform needs to publish revocation and suspension: the bitstring and
 * its encodedList, random index assignment, the status list credential's
 * payload and the credentialStatus entry a certificate carries. Signing the
 * credential (vc+jwt) is the caller's business (jws_sign).
 */
#ifndef CONFORM_STATUSLIST_H
#define CONFORM_STATUSLIST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* Every conform list has exactly this many bits (16 KiB), the minimum size the
 * spec recommends so that a list hides which credential a verifier checks. */
#define STATUSLIST_BITS 131072u
#define STATUSLIST_BYTES (STATUSLIST_BITS / 8u)

/* The longest encodedList statuslist_decode reads (CF_ETOOLARGE beyond). Even
 * a stored (uncompressed) gzip of 16 KiB is about 22,000 characters. */
#define STATUSLIST_MAX_ENCODED 65536u

/*
 * Builds the bitstring with the n indexes of set set (duplicates allowed) and
 * every other bit clear, and returns its encodedList: "u" (multibase
 * base64url) followed by unpadded base64url of the GZIP-compressed bitstring
 * (the spec's Bitstring Generation Algorithm). Index 0 is the left-most (most
 * significant) bit of the first byte. An index >= STATUSLIST_BITS is
 * CF_EINVAL. On success *encoded is a new string the caller frees; on error
 * it is NULL.
 */
cf_err statuslist_encode(const unsigned *set, size_t n, char **encoded,
			 struct cf_error *err) CF_MUST_CHECK;

/*
 * Decodes an encodedList strictly: the "u" prefix, strict base64url, one gzip
 * member and nothing after it, exactly STATUSLIST_BYTES bytes once inflated.
 * Inflation writes into the fixed-size result and stops as soon as the data
 * would exceed it, so a "zip bomb" costs no more memory than a valid list.
 * Errors: CF_ETOOLARGE for an input longer than STATUSLIST_MAX_ENCODED or data
 * that inflates past STATUSLIST_BYTES, CF_EINVAL for anything else malformed
 * (including a list shorter than STATUSLIST_BYTES). On success *bits is a new
 * buffer of STATUSLIST_BYTES bytes the caller frees; on error it is NULL.
 */
cf_err statuslist_decode(const char *encoded, unsigned char **bits,
			 struct cf_error *err) CF_MUST_CHECK;

/* Is bit index of the bitstring bits (STATUSLIST_BYTES bytes) set? An index
 * >= STATUSLIST_BITS reads as clear. */
bool statuslist_get(const unsigned char *bits, unsigned index);

/*
 * Picks an index in [0, STATUSLIST_BITS) that is none of the n entries of
 * used (duplicates allowed), uniformly at random among the free ones from the
 * CSPRNG: the spec asks for random assignment so that an index says nothing
 * about when or to whom a credential was issued (Privacy Considerations).
 * Errors: CF_EINVAL for a used entry >= STATUSLIST_BITS, CF_ECONFLICT when
 * every index is used. On error *out is unchanged.
 */
cf_err statuslist_random_index(const unsigned *used, size_t n, unsigned *out,
			       struct cf_error *err) CF_MUST_CHECK;

/*
 * Builds the payload of a status list credential (a VC 2.0 JSON object):
 *   {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": list_url,
 *    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
 *    "issuer": issuer, "validFrom": valid_from, "validUntil": valid_until,
 *    "credentialSubject": {"id": list_url "#list", "type": "BitstringStatusList",
 *      "statusPurpose": purpose, "encodedList": ..., "ttl": ttl_ms}}
 * with the n indexes of set set (as statuslist_encode). list_url and issuer
 * are non-empty; list_url has no fragment ('#'); purpose is "revocation" or
 * "suspension"; valid_from and valid_until (NULL omits validUntil) are RFC
 * 3339 date-times ("2026-01-31T12:00:00Z"); ttl_ms (milliseconds a verifier
 * may cache the list) is >= 0. Anything else is CF_EINVAL with the pointer of
 * the member at fault. On success *out is a new reference; on error NULL.
 */
cf_err statuslist_credential(const char *list_url, const char *issuer, const char *purpose,
			     const char *valid_from, const char *valid_until, long ttl_ms,
			     const unsigned *set, size_t n, json_t **out,
			     struct cf_error *err) CF_MUST_CHECK;

/*
 * Returns the credentialStatus entry of a credential at index of the list
 * (a new reference):
 *   {"id": list_url "#" index, "type": "BitstringStatusListEntry",
 *    "statusPurpose": purpose, "statusListIndex": "<index in decimal>",
 *    "statusListCredential": list_url}
 * statusListIndex is a string, as the spec requires. Returns NULL when
 * list_url or purpose is NULL or not valid UTF-8 (jansson refuses it) or
 * index >= STATUSLIST_BITS; the arguments are otherwise the caller's to check
 * (as for statuslist_credential).
 */
json_t *statuslist_entry(const char *list_url, const char *purpose, unsigned index);

#endif
