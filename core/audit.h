/*
 * audit: the tamper-evident audit trail. One domain operation = one
 * transaction = one audit record, appended with audit_append inside that
 * transaction. Records are hash-chained (see migrations/0002_audit.sql);
 * audit_verify recomputes the chain and names the first broken record.
 */
#ifndef CONFORM_AUDIT_H
#define CONFORM_AUDIT_H

#include <jansson.h>

#include "db.h"
#include "error.h"

/* Who did it: kind "user" (id = user id, org = the user's organisation),
 * "cli" (id = operating-system user) or "system" (id = component). */
struct audit_actor {
	const char *kind;
	const char *id;
	const char *org; /* may be NULL */
};

/*
 * Appends a record in the caller's open transaction (which it serialises
 * with other appenders until commit). details (borrowed, may be NULL) must
 * hold no secret and no real numbers.
 */
cf_err audit_append(struct db *db, const struct audit_actor *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details,
		    struct cf_error *err) CF_MUST_CHECK;

/*
 * audit_append for a caller that already holds the audit lock and has read
 * the chain's head in this transaction: last_seq and last_hash (0 and NULL
 * for an empty trail). Issuance takes the lock and reads the head in the same
 * database call as its log append (migration 0019), one round trip less
 * while every issuer waits.
 */
cf_err audit_append_at(struct db *db, long long last_seq, const char *last_hash,
		       const struct audit_actor *actor, const char *action, const char *object_type,
		       const char *object_id, const json_t *details,
		       struct cf_error *err) CF_MUST_CHECK;

struct audit_check {
	long long records;       /* records checked */
	long long first_broken;  /* seq of the first bad record, 0 if none */
	char problem[256];       /* what is wrong with it */
};

/* Recomputes the whole chain. A broken chain is not an error: it is
 * reported in *out (first_broken != 0). */
cf_err audit_verify(struct db *db, struct audit_check *out, struct cf_error *err) CF_MUST_CHECK;

struct audit_filter {
	const char *action;       /* exact, or a prefix ending in '.' ("scheme.") */
	const char *object_type;
	const char *object_id;
	const char *actor_id;
	const char *since, *until; /* RFC 3339 times, may be NULL */
	long long after;           /* seq of the last record of the previous page */
	int limit;
};

/* Records matching the filter, oldest first: {"items": [...], "next": seq or null}. */
cf_err audit_list(struct db *db, const struct audit_filter *f, json_t **out,
		  struct cf_error *err) CF_MUST_CHECK;

/*
 * Builds the canonical record text whose SHA-256 is the record's hash (new
 * string, caller frees; NULL if details hold a real number).
 */
char *audit_canonical(long long seq, const char *at, const struct audit_actor *actor,
		      const char *action, const char *object_type, const char *object_id,
		      const json_t *details, const char *prev_hash);

#endif
