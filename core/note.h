/*
 * note: C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note)
 * and the tlog-checkpoint text they carry for the transparency log
 * (https://c2sp.org/tlog-checkpoint), in the exact format that Go's sumdb
 * note package and transparency-log witnesses read.
 */
#ifndef CONFORM_NOTE_H
#define CONFORM_NOTE_H

#include <stddef.h>

#include "error.h"
#include "keys.h"

/* The most signature lines note_verify reads (the spec asks for 16 at least). */
#define NOTE_MAX_SIGNATURES 100

/* Writes the key id of an Ed25519 note key to out: the first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || pub), a big-endian uint32. */
void note_key_id(const char *name, const unsigned char pub[32], unsigned char out[4]);

/*
 * Returns a new string (the caller frees) with the verifier key
 * "<name>+<8 hex digits of the key id>+<base64(0x01 || pub)>". name must be a
 * valid key name (non-empty, no Unicode space, no '+'); note_sign refuses
 * others.
 */
char *note_vkey(const char *name, const unsigned char pub[32]);

/*
 * Parses a verifier key: a valid key name, a key id of 8 hex digits that
 * must match the name and key, and base64 of 0x01 (Ed25519; other signature
 * types are refused) and a 32-byte key. On success *name is a new string the
 * caller frees; on error (CF_EINVAL) *name is NULL and pub unchanged.
 */
cf_err note_parse_vkey(const char *vkey, char **name, unsigned char pub[32],
		       struct cf_error *err) CF_MUST_CHECK;

/*
 * Signs text with k under the key name name and returns the signed note:
 * text, a blank line and "<U+2014> <name> <base64(key id || signature)>\n".
 * text must be non-empty, end in a newline, be valid UTF-8 and contain no
 * control character other than newline; name must be a valid key name
 * (CF_EINVAL). On success *out is a new string the caller frees; on error
 * NULL.
 */
cf_err note_sign(const struct keys_private *k, const char *name, const char *text, char **out,
		 struct cf_error *err) CF_MUST_CHECK;

/*
 * Verifies that note carries a valid signature by the key vkey (in
 * note_vkey's form). Signature lines of other keys (another name or another
 * key id) are ignored, as the spec requires; a line with vkey's name and key
 * id whose signature does not verify is an error even when another one does.
 * Errors: CF_EINVAL for a malformed vkey or note, CF_ETOOLARGE for more than
 * NOTE_MAX_SIGNATURES signature lines, CF_EUNPROCESSABLE when no signature by
 * vkey verifies. On success *text (if text is not NULL) is a new string
 * holding the signed text, which the caller frees; on error it is NULL.
 */
cf_err note_verify(const char *note, const char *vkey, char **text,
		   struct cf_error *err) CF_MUST_CHECK;

/*
 * Returns a new string (the caller frees) with the checkpoint text
 * "<origin>\n<size>\n<base64 root>\n". origin must be a non-empty line
 * without control characters; note_parse_checkpoint refuses anything else.
 */
char *note_checkpoint_text(const char *origin, unsigned long long size,
			   const unsigned char root[32]);

/*
 * Parses checkpoint text (a verified note's text): an origin line, the tree
 * size in decimal without leading zeroes, the base64 of a 32-byte root hash,
 * then optional non-empty extension lines, which are ignored. Every line ends
 * with a newline. On success *origin is a new string the caller frees; on
 * error (CF_EINVAL naming the line) *origin is NULL and *size, root are
 * unchanged.
 */
cf_err note_parse_checkpoint(const char *text, char **origin, unsigned long long *size,
			     unsigned char root[32], struct cf_error *err) CF_MUST_CHECK;

#endif
