/*
 * idempotency: recorded answers of creations (see idempotency.h).
 */
#include "idempotency.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)

cf_err idempotency_recall(struct db *db, const char *user_id, const char *key,
			  const char *fingerprint, json_t **headers, json_t **answer,
			  struct cf_error *err)
{
	*headers = *answer = NULL;
	char *lock = cf_asprintf("idempotency:%s:%s", user_id, key);
	const char *lp[] = { lock };
	cf_err e = db_query_hot(db, NULL, err, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, lp);
	free(lock);
	const char *p[] = { user_id, key };
	if (!e)
		e = db_query_hot(db, NULL, err,
			"DELETE FROM idempotency_key WHERE user_id = $1 AND created_at < now() -"
			" interval '" STR(IDEMPOTENCY_HOURS) " hours'", 1, p);
	PGresult *res = NULL;
	if (!e)
		e = db_query_hot(db, &res, err,
			"SELECT fingerprint, headers::text, response FROM idempotency_key"
			" WHERE user_id = $1 AND key = $2", 2, p);
	if (e || PQntuples(res) == 0) {
		PQclear(res);
		return e;
	}
	if (strcmp(db_value(res, 0, 0), fingerprint) != 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "this Idempotency-Key was used for a different request: use a new key "
				 "for a new request");
	if (!e) {
		*headers = json_loads(db_value(res, 0, 1), 0, NULL);
		*answer = json_loads(db_value(res, 0, 2), 0, NULL);
		if (!*headers || !*answer)
			e = cf_error_set(err, CF_EINTERNAL, NULL, "a recorded answer is not JSON");
	}
	PQclear(res);
	if (e) {
		json_decref(*headers);
		json_decref(*answer);
		*headers = *answer = NULL;
	}
	return e;
}

cf_err idempotency_record(struct db *db, const char *user_id, const char *key,
			  const char *fingerprint, const json_t *headers, const json_t *answer,
			  struct cf_error *err)
{
	char *h = json_dumps(headers, JSON_COMPACT);
	char *body = json_dumps(answer, JSON_COMPACT);
	const char *p[] = { user_id, key, fingerprint, h, body };
	cf_err e = db_query_hot(db, NULL, err,
		"INSERT INTO idempotency_key (user_id, key, fingerprint, status, headers, response)"
		" VALUES ($1, $2, $3, 201, $4::jsonb, $5)", 5, p);
	free(h);
	free(body);
	return e;
}
