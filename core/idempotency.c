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

struct run {
	const struct idempotency_key *k;
	idempotency_fn fn;
	void *arg;
	json_t *answer, *headers;
	bool replayed;
};

/* Forgets what an attempt left (rolled back: none of it happened). */
static void run_forget(struct run *r)
{
	json_decref(r->answer);
	json_decref(r->headers);
	r->answer = r->headers = NULL;
	r->replayed = false;
}

static cf_err run_attempt(struct db *db, void *arg, struct cf_error *err)
{
	struct run *r = arg;
	const struct idempotency_key *k = r->k;
	run_forget(r);
	cf_err e = idempotency_recall(db, k->user_id, k->key, k->fingerprint, &r->headers, &r->answer,
				      err);
	if (e || r->answer) {
		r->replayed = r->answer != NULL;
		return e;
	}
	e = r->fn(db, r->arg, &r->answer, &r->headers, err);
	if (!e && !r->answer)
		e = cf_error_set(err, CF_EINTERNAL, NULL, "a creation gave no answer to record");
	if (!e && !r->headers)
		r->headers = json_object();
	if (!e)
		e = idempotency_record(db, k->user_id, k->key, k->fingerprint, r->headers, r->answer, err);
	return e;
}

cf_err idempotency_run(struct db *db, const struct idempotency_key *k, idempotency_fn fn, void *arg,
		       json_t **answer, json_t **headers, bool *replayed, struct cf_error *err)
{
	struct run r = { k, fn, arg, NULL, NULL, false };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, run_attempt, &r, err);
	if (e)
		run_forget(&r);
	*answer = r.answer;
	*headers = r.headers;
	*replayed = r.replayed;
	return e;
}
