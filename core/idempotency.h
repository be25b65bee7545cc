/*
 * idempotency: creations made with an Idempotency-Key, and their recorded
 * answers (table idempotency_key). idempotency_run makes the creation and
 * the record of its answer one transaction, so that a key is recorded
 * exactly when its creation committed; repeats of one key are answered one
 * at a time, so two at once still create once. A key is its user's own,
 * kept for a day; reused for a different request it is refused; failures
 * are not recorded, so a repeat tries again. The HTTP side (which header,
 * what a request's fingerprint covers, replaying headers) is server/http.c's
 * request_create.
 */
#ifndef CONFORM_IDEMPOTENCY_H
#define CONFORM_IDEMPOTENCY_H

#include <stdbool.h>

#include <jansson.h>

#include "error.h"

struct db;

/* How long an answer is kept, in hours. */
#define IDEMPOTENCY_HOURS 24

/*
 * The answer recorded for user's key: *headers (an object of header name
 * to value) and *answer, both new references, or both NULL when there is
 * none. CF_EUNPROCESSABLE when the key was used with another request
 * (fingerprint). Holds a lock on the key until the transaction ends, so
 * that repeats are answered one at a time; forgets the user's answers older
 * than IDEMPOTENCY_HOURS.
 */
cf_err idempotency_recall(struct db *db, const char *user_id, const char *key,
			  const char *fingerprint, json_t **headers, json_t **answer,
			  struct cf_error *err) CF_MUST_CHECK;

/* Records the answer (status 201) to user's key in the open transaction. */
cf_err idempotency_record(struct db *db, const char *user_id, const char *key,
			  const char *fingerprint, const json_t *headers, const json_t *answer,
			  struct cf_error *err) CF_MUST_CHECK;

/* A creation under a key. */
struct idempotency_key {
	const char *user_id;     /* whose key it is (keys are a user's own) */
	const char *key;
	const char *fingerprint; /* what a repeat must match (a digest of the request) */
};

/*
 * The creation itself, run by idempotency_run inside its transaction (the
 * domain's own db_transaction calls join it). It may run more than once (a
 * serialisation failure or a deadlock retries the whole transaction), so it
 * must only touch the database. On success *answer (new reference) is its
 * answer and *headers NULL or an object of header name to string value (new
 * reference), both recorded; on error whatever it left in them is released.
 */
typedef cf_err (*idempotency_fn)(struct db *db, void *arg, json_t **answer, json_t **headers,
				 struct cf_error *err);

/*
 * Runs fn as the creation under k, in one READ COMMITTED transaction
 * retried as db_transaction retries (serialisation failure, deadlock): it
 * waits for any other creation under k (idempotency_recall's lock), then
 * either finds k's recorded answer (*replayed true, fn not run) or runs fn
 * and records its answer (*replayed false). CF_EUNPROCESSABLE when k was
 * used with another fingerprint. On success *answer and *headers (an
 * object, possibly empty) are new references the caller frees; on error
 * both are NULL, and nothing is recorded or created.
 */
cf_err idempotency_run(struct db *db, const struct idempotency_key *k, idempotency_fn fn, void *arg,
		       json_t **answer, json_t **headers, bool *replayed,
		       struct cf_error *err) CF_MUST_CHECK;

#endif
