/*
 * witness: the log's witnesses (C2SP tlog-witness) and their cosignatures
 * (C2SP tlog-cosignature, cosignature/v1 over Ed25519): the operator's list
 * of witnesses, the add-checkpoint request body, the verification of a
 * witness's answer, and the verified cosignatures kept in PostgreSQL
 * (migration 0021). The HTTP exchange itself is conformd's
 * (server/cosigning.c); this module knows no HTTP.
 */
#ifndef CONFORM_WITNESS_H
#define CONFORM_WITNESS_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

/* The most witnesses one log is submitted to. */
#define WITNESS_MAX 32

struct witness {
	char *vkey;               /* "<name>+<hex key id>+<base64(0x04 || pub)>" */
	char *name;               /* the key name of its signature lines */
	unsigned char pub[32];    /* Ed25519 */
	unsigned char key_id[4];  /* SHA-256(name || "\n" || 0x04 || pub)[:4] */
	char *url;                /* the submission prefix, no trailing '/' */
};

struct witness_set {
	struct witness w[WITNESS_MAX];
	size_t n;
	size_t quorum;            /* k of n: cosignatures that make a checkpoint witnessed */
};

/*
 * Parses a cosigner verifier key (signature type 0x04, Ed25519
 * cosignature/v1): a key name (non-empty, no space, no '+'), the key id in 8
 * hex digits, which must match, and base64 of 0x04 and 32 bytes. On success
 * *name is new (the caller frees); CF_EINVAL otherwise.
 */
cf_err witness_parse_vkey(const char *vkey, char **name, unsigned char pub[32],
			  unsigned char key_id[4], struct cf_error *err) CF_MUST_CHECK;

/*
 * Reads the witnesses file path ("" or NULL: no witnesses): one witness a
 * line, "<vkey> <URL>", blank lines and lines starting with '#' ignored;
 * URL http:// or https://. quorum is witness-quorum (0: every witness). On
 * success *out is new (witness_set_free), also when there is no witness;
 * errors (CF_EINVAL) name the setting, the file and the line.
 */
cf_err witness_load(const char *path, long quorum, struct witness_set **out,
		    struct cf_error *err) CF_MUST_CHECK;

void witness_set_free(struct witness_set *s);

/* The checkpoint text of a signed note (everything before the blank line
 * that precedes the signatures, with its final newline): a new string, or
 * NULL when note is not a signed note. */
char *witness_note_text(const char *note);

/* The message a cosignature/v1 signs: "cosignature/v1\ntime T\n" and text.
 * A new string. */
char *witness_cosigned_message(const char *text, unsigned long long timestamp);

/*
 * The add-checkpoint request body: "old <old>\n", one base64 hash a line of
 * the consistency proof (proof: a JSON array of base64 strings, may be
 * NULL), a blank line and the signed note. A new string.
 */
char *witness_request_body(long long old, const json_t *proof, const char *note);

/*
 * Looks in body (a witness's 200 answer: signature lines) for w's
 * cosignature of the checkpoint text and verifies it. Lines of other keys
 * are ignored; a line with w's name and key id that does not verify, or none
 * at all, is CF_EUNPROCESSABLE. On success *line (new, no newline) is the
 * signature line and *timestamp its time.
 */
cf_err witness_check_answer(const struct witness *w, const char *text, const char *body,
			    char **line, unsigned long long *timestamp,
			    struct cf_error *err) CF_MUST_CHECK;

/* Stores w's verified cosignature of the checkpoint of size size (a second
 * one of the same witness and size is ignored). */
cf_err witness_store(struct db *db, long long size, const struct witness *w,
		     unsigned long long timestamp, const char *line,
		     struct cf_error *err) CF_MUST_CHECK;

/* The size of the latest checkpoint w cosigned for this log (0: none). */
cf_err witness_cosigned_size(struct db *db, const struct witness *w, long long *size,
			     struct cf_error *err) CF_MUST_CHECK;

/*
 * The cosigners of the checkpoint of size size among the witnesses of s:
 * *out (new) is {"witnessed": bool, "quorum": k, "cosigners": [{name, vkey,
 * timestamp}]}. Without witnesses, witnessed is false.
 */
cf_err witness_status(struct db *db, const struct witness_set *s, long long size, json_t **out,
		      struct cf_error *err) CF_MUST_CHECK;

/* The size of the latest checkpoint cosigned by at least s->quorum of the
 * witnesses of s; 0 when there is none (or s has no witness). */
cf_err witness_latest_witnessed(struct db *db, const struct witness_set *s, long long *size,
				struct cf_error *err) CF_MUST_CHECK;

/* The latest signed checkpoint as the log signed it (its note without
 * cosignatures): *size (0 when there is none; *note NULL then), its root in
 * hex, and *note (new). */
cf_err witness_latest_checkpoint(struct db *db, long long *size, char root_hex[65], char **note,
				 struct cf_error *err) CF_MUST_CHECK;

#endif
