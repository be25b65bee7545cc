/*
 * idempotency: the recorded answers of creations made with an
 * Idempotency-Key (table idempotency_key). The HTTP side, which decides
 * what a key and a repeat are, is server/creation.c; this module keeps
 * and finds the answers, inside the caller's open transaction.
 */
#ifndef CONFORM_IDEMPOTENCY_H
#define CONFORM_IDEMPOTENCY_H

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

#endif
