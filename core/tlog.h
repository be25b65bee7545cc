/*
 * tlog: the transparency log of certificate issuance and status events and
 * of signing keys revoked as compromised, an RFC 9162 Merkle tree over
 * entries kept in PostgreSQL, with signed
 * checkpoints (C2SP tlog-checkpoint signed notes). Appends are serialised
 * in the appending transaction, so that indexes have no gap and no
 * duplicate. Each process keeps the tree of leaf hashes in memory, synced
 * from the database, so that roots and proofs cost O(log n).
 */
#ifndef CONFORM_TLOG_H
#define CONFORM_TLOG_H

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "keys.h"
#include "tiles.h"

/*
 * Appends entry (canonical JSON of its members; borrowed) inside the
 * caller's transaction; *index is its leaf index. kind is "issuance" or
 * "status" (serial: the certificate's), "key" (serial: the key's kid) or
 * "review" (serial: the accreditation's id). A trigger (migration 0022)
 * adds the entry's change feed item and webhook deliveries.
 */
cf_err tlog_append(struct db *db, const char *kind, const char *serial, const json_t *entry,
		   long long *index, struct cf_error *err) CF_MUST_CHECK;

/* The canonical text of entry (borrowed) into *canon (new, free) and its RFC
 * 9162 leaf hash in hex, as tlog_append stores them: for an appender that
 * inserts the entry itself (issuance, migration 0019). */
cf_err tlog_leaf(const json_t *entry, char **canon, char hex[65], struct cf_error *err) CF_MUST_CHECK;

/* The log's origin for a public URL: "<host[:port]>/log". */
void tlog_origin(const char *public_url, char *out, size_t size);

/* Entries [start, end) (at most 1000): {"entries": [{index, entry, leaf_hash}]} */
cf_err tlog_entries(struct db *db, long long start, long long end, json_t **out,
		    struct cf_error *err) CF_MUST_CHECK;

/* The latest signed checkpoint: {size, root_hash (base64), checkpoint (note
 * text with the cosignatures, as tlog_checkpoint_note), kid, timestamp}; CF_ENOTFOUND before the first. */
cf_err tlog_tree_head(struct db *db, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* The note of the latest checkpoint (new string): its text, the log's
 * signature line and the witnesses' cosignature lines stored for it. */
cf_err tlog_checkpoint_note(struct db *db, char **out, struct cf_error *err) CF_MUST_CHECK;

/* The same for the checkpoint of size size (CF_ENOTFOUND when the log
 * signed none of that size). */
cf_err tlog_cosigned_note(struct db *db, long long size, char **out,
			  struct cf_error *err) CF_MUST_CHECK;

/*
 * Proofs against a tree size (0: the latest checkpoint's). The leaf is
 * given by index, or by serial (its issuance entry) when serial is not NULL.
 */
cf_err tlog_inclusion(struct db *db, const char *serial, long long index, long long tree_size,
		      json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err tlog_consistency(struct db *db, long long first, long long second, json_t **out,
			struct cf_error *err) CF_MUST_CHECK;

/*
 * Signs a checkpoint of the current tree with the log key k (kid) when the
 * tree has grown past the last checkpoint; *made tells whether it did.
 */
cf_err tlog_sign_checkpoint(struct db *db, const struct keys_private *k, const char *kid,
			    const char *origin, bool *made, struct cf_error *err) CF_MUST_CHECK;

/*
 * The bytes of tile t (a Merkle tree tile or an entry bundle, C2SP
 * tlog-tiles) as of the checkpoint of size leaves: CF_ENOTFOUND when that
 * checkpoint does not cover the whole tile, so that what is served always
 * agrees with a signed head. On success *out (new, *len bytes) is the
 * caller's to free.
 */
cf_err tlog_tile(struct db *db, const struct tile *t, long long size, unsigned char **out,
		 size_t *len, struct cf_error *err) CF_MUST_CHECK;

/* The size of the latest signed checkpoint (0 before the first). */
cf_err tlog_signed_size(struct db *db, long long *size, struct cf_error *err) CF_MUST_CHECK;

/* Is leaf index of the log included under the latest checkpoint? *size is
 * that checkpoint's size (0 when there is none or it is older than the leaf). */
cf_err tlog_included(struct db *db, long long index, bool *yes, long long *size,
		     struct cf_error *err) CF_MUST_CHECK;

/* For metrics, in one query: the log's size (entries), the latest signed
 * checkpoint's size, and its age in seconds (-1 before the first). */
struct tlog_stats {
	long long entries;
	long long checkpoint_size;
	double checkpoint_age;
};
cf_err tlog_stats(struct db *db, struct tlog_stats *out, struct cf_error *err) CF_MUST_CHECK;

struct tlog_check {
	long long entries;
	long long checkpoints;
	char problem[300]; /* "" when all holds */
};

/* Rebuilds the tree from the database, checks every leaf hash and index,
 * and every checkpoint's root and signature (for conformctl log verify). */
cf_err tlog_verify(struct db *db, struct tlog_check *out, struct cf_error *err) CF_MUST_CHECK;

#endif
