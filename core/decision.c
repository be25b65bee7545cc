/*
 * decision: decisions and declarations (see decision.h).
 */
#include "decision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "carry.h"
#include "digest.h"
#include "jsonx.h"
#include "mem.h"

cf_err decision_evidence_digest(struct db *db, const char *application_id, char out[65],
				struct cf_error *err)
{
	const char *p[] = { application_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT e.digest, e.name, coalesce((SELECT json_agg(l.ref ORDER BY l.ref)"
		" FROM evidence_link l WHERE l.evidence_id = e.id), '[]')::text"
		" FROM evidence e WHERE e.application_id = $1 AND e.superseded_by IS NULL"
		" ORDER BY e.digest, e.name, e.id", 1, p);
	if (e)
		return e;
	json_t *set = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(set, json_pack("{s:s,s:s,s:o}", "digest", db_value(res, i, 0),
						     "name", db_value(res, i, 1), "refs",
						     json_loads(db_value(res, i, 2), 0, NULL)));
	PQclear(res);
	char *canon = jsonx_canonical(set);
	json_decref(set);
	digest_sha256_hex(canon, strlen(canon), out);
	free(canon);
	return CF_OK;
}

/* Mandatory requirements whose current verdict is neither pass nor not applicable. */
static cf_err unpassed(struct db *db, const struct application_row *a, char *list, size_t size,
		       int *count, struct cf_error *err)
{
	char cls[24];
	snprintf(cls, sizeof cls, "%d", a->class_number);
	const char *p[] = { a->id, a->scheme_id, a->scheme_version, cls };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT r.ref FROM requirement r LEFT JOIN LATERAL (SELECT v.verdict FROM current_verdict v"
		" WHERE v.application_id = $1 AND v.ref = r.ref) v ON true"
		" WHERE r.scheme_id = $2 AND r.version = $3 AND r.mandatory_from_class <= $4::integer"
		" AND coalesce(v.verdict, '') NOT IN ('pass', 'not_applicable') ORDER BY r.position",
		4, p);
	if (e)
		return e;
	*count = PQntuples(res);
	size_t used = 0;
	list[0] = '\0';
	for (int i = 0; i < *count && used + 40 < size; i++)
		used += (size_t)snprintf(list + used, size - used, "%s%s", i ? ", " : "", db_value(res, i, 0));
	PQclear(res);
	return CF_OK;
}

/* ISO/IEC 17065 7.5: whoever held the application for evaluation, now or
 * before a reassignment (a take's actor, or the assessor an event handed it
 * to), or recorded any verdict on it (superseded ones too), does not decide. */
static cf_err check_independent(struct db *db, const struct application_row *a,
				const struct principal *p, struct cf_error *err)
{
	const char *params[] = { a->id, p->user_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT EXISTS (SELECT 1 FROM review_verdict WHERE application_id = $1"
		" AND assessor_id = $2), EXISTS (SELECT 1 FROM application_event"
		" WHERE application_id = $1 AND (assessor_id = $2 OR (action = 'take'"
		" AND actor_id = $2)))", 2, params);
	if (e)
		return e;
	if (strcmp(a->assessor_id, p->user_id) == 0 || db_value_bool(res, 0, 1))
		e = cf_error_set(err, CF_EFORBIDDEN, NULL,
				 "you held this application for evaluation: the decision is taken by "
				 "someone who did not evaluate it (ISO/IEC 17065 7.5)");
	else if (db_value_bool(res, 0, 0))
		e = cf_error_set(err, CF_EFORBIDDEN, NULL,
				 "you recorded verdicts on this application: the decision is taken by "
				 "someone who did not evaluate it (ISO/IEC 17065 7.5)");
	PQclear(res);
	return e;
}

cf_err decision_check(struct db *db, const struct application_row *a, const struct principal *p,
		      bool approve, const char *rationale, bool self_declaration,
		      struct cf_error *err)
{
	if (!self_declaration) {
		cf_err e = check_independent(db, a, p, err);
		if (e)
			return e;
	}
	if (!rationale || !*rationale)
		return cf_error_set(err, CF_EINVAL, self_declaration ? "/statement" : "/rationale",
				    self_declaration ? "a declaration needs its statement"
						     : "a decision needs its rationale");
	if (approve && !self_declaration) {
		char list[512];
		int n = 0;
		cf_err e = unpassed(db, a, list, sizeof list, &n, err);
		if (e)
			return e;
		if (n)
			return cf_error_set(err, CF_EUNPROCESSABLE, "/decision",
					    "approval needs every mandatory requirement passed; %d did "
					    "not: %s", n, list);
		/* what was carried still stands on a certificate that vouches for it */
		e = carry_sound(db, a, "/decision", err);
		if (e)
			return e;
	}
	return CF_OK;
}

cf_err decision_record(struct db *db, const struct application_row *a, const struct principal *p,
		       bool approve, const char *rationale, bool self_declaration,
		       struct cf_error *err)
{
	char digest[65];
	cf_err e = decision_evidence_digest(db, a->id, digest, err);
	if (e)
		return e;
	const char *params[] = { a->id, approve ? "approved" : "rejected", rationale, p->user_id, digest,
				 self_declaration ? "true" : "false" };
	return db_query_hot(db, NULL, err,
		"INSERT INTO application_decision (application_id, decision, rationale, decided_by,"
		" evidence_digest, self_declaration) VALUES ($1, $2, $3, $4, $5, $6)", 6, params);
}

cf_err decision_get(struct db *db, const char *application_id, json_t **out, struct cf_error *err)
{
	const char *p[] = { application_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT d.decision, d.rationale, d.decided_by, u.name, " DB_TS("d.decided_at") ","
		" d.evidence_digest, d.self_declaration FROM application_decision d"
		" LEFT JOIN app_user u ON u.id = d.decided_by WHERE d.application_id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0)
		*out = json_null();
	else
		*out = json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:b}", "decision", db_value(res, 0, 0),
				 "rationale", db_value(res, 0, 1), "decided_by", "id",
				 db_value(res, 0, 2), "name", db_value(res, 0, 3), "decided_at",
				 db_value(res, 0, 4), "evidence_digest", db_value(res, 0, 5),
				 "self_declaration", db_value_bool(res, 0, 6));
	PQclear(res);
	return CF_OK;
}
