/*
 * review: verdicts (see review.h).
 */
#include "review.h"

#include <stdio.h>
#include <string.h>

#include "application.h"
#include "audit.h"
#include "carry.h"
#include "ids.h"
#include "jsonx.h"

struct review_job {
	const struct principal *p;
	const char *id;
	const json_t *verdicts;
};

static bool verdict_known(const char *v)
{
	return strcmp(v, "pass") == 0 || strcmp(v, "fail") == 0 || strcmp(v, "not_applicable") == 0 ||
	       strcmp(v, "info_needed") == 0 || strcmp(v, "carried") == 0;
}

static cf_err review_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct review_job *j = arg;
	struct application_row a;
	cf_err e = application_load(db, j->id, true, &a, err);
	if (e)
		return e;
	if (strcmp(a.state, "in_evaluation") != 0) {
		char extra[64];
		snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", a.state);
		cf_error_set(err, CF_ESTATE, NULL,
			     "verdicts are recorded while the application is in evaluation; it is %s",
			     a.state);
		cf_error_set_extra(err, extra);
		return CF_ESTATE;
	}
	if (strcmp(a.assessor_id, j->p->user_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "only the assessor who took the application records verdicts");
	json_t *refs = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(j->verdicts, i, v) {
		const char *ref = jsonx_str(v, "ref");
		const char *rp[] = { a.scheme_id, a.scheme_version, ref };
		PGresult *res = NULL;
		e = db_query_hot(db, &res, err,
			"SELECT 1 FROM requirement WHERE scheme_id = $1 AND version = $2 AND ref = $3", 3, rp);
		if (e)
			break;
		bool known = PQntuples(res) == 1;
		PQclear(res);
		if (!known) {
			char ptr[64];
			snprintf(ptr, sizeof ptr, "/verdicts/%zu/ref", i);
			e = cf_error_set(err, CF_EUNPROCESSABLE, ptr, "%s@%s has no requirement %.40s",
					 a.scheme_id, a.scheme_version, ref);
			break;
		}
		const char *verdict = jsonx_str(v, "verdict");
		bool carried = strcmp(verdict, "carried") == 0;
		if (carried) {
			char ptr[64];
			snprintf(ptr, sizeof ptr, "/verdicts/%zu/ref", i);
			e = carry_accept(db, j->p, &a, ref, jsonx_str(v, "comment"), ptr, &verdict, err);
		} else {
			const char *params[] = { a.id, ref, verdict, jsonx_str(v, "comment"), j->p->user_id };
			e = db_query_hot(db, NULL, err,
				"INSERT INTO review_verdict (application_id, ref, verdict, comment, assessor_id)"
				" VALUES ($1, $2, $3, $4, $5)", 5, params);
		}
		if (e)
			break;
		json_array_append_new(refs, json_pack("{s:s,s:s,s:b}", "ref", ref, "verdict", verdict,
						      "carried", carried));
	}
	if (!e) {
		const char *vp[] = { a.id };
		e = db_query_hot(db, NULL, err,
			"UPDATE application SET version = version + 1, updated_at = now() WHERE id = $1",
			1, vp);
	}
	if (!e) {
		struct audit_actor actor = party_actor(j->p);
		json_t *details = json_pack("{s:I,s:O}", "number", (json_int_t)a.number, "verdicts", refs);
		e = audit_append(db, &actor, "application.review", "application", a.id, details, err);
		json_decref(details);
	}
	json_decref(refs);
	return e;
}

/* Validates one verdict object at base. */
static cf_err verdict_validate(const json_t *v, const char *base, struct cf_error *err)
{
	static const char *const keys[] = { "ref", "verdict", "comment", NULL };
	const char *ref, *verdict, *comment;
	cf_err e = jsonx_check_object(v, base, keys, err);
	if (!e)
		e = jsonx_get_text(v, base, "ref", true, 40, &ref, err);
	if (!e)
		e = jsonx_get_text(v, base, "verdict", true, 20, &verdict, err);
	if (!e)
		e = jsonx_get_text(v, base, "comment", false, 20000, &comment, err);
	if (e)
		return e;
	char ptr[64];
	snprintf(ptr, sizeof ptr, "%s/verdict", base);
	if (!verdict_known(verdict))
		return cf_error_set(err, CF_EINVAL, ptr,
				    "%s must be pass, fail, not_applicable, info_needed or carried", ptr);
	snprintf(ptr, sizeof ptr, "%s/comment", base);
	if (strcmp(verdict, "info_needed") == 0 && !comment)
		return cf_error_set(err, CF_EINVAL, ptr, "info_needed needs the question in comment");
	if (strcmp(verdict, "fail") == 0 && !comment)
		return cf_error_set(err, CF_EINVAL, ptr, "a fail needs its reason in comment");
	return CF_OK;
}

cf_err review_record(struct db *db, const struct principal *p, const char *application_id,
		     const json_t *body, json_t **out, struct cf_error *err)
{
	*out = NULL;
	json_t *list = json_object_get(body, "verdicts");
	json_t *single = NULL;
	cf_err e = CF_OK;
	if (list) {
		static const char *const keys[] = { "verdicts", NULL };
		e = jsonx_check_object(body, "", keys, err);
		if (!e && (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 1000))
			e = cf_error_set(err, CF_EINVAL, "/verdicts", "/verdicts must list 1 to 1000 verdicts");
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v) {
			if (e)
				break;
			char base[32];
			snprintf(base, sizeof base, "/verdicts/%zu", i);
			e = verdict_validate(v, base, err);
		}
	} else {
		e = verdict_validate(body, "", err);
		single = json_pack("[O]", body);
		list = single;
	}
	struct review_job j = { p, application_id, list };
	if (!e)
		e = db_transaction(db, DB_READ_COMMITTED, review_tx, &j, err);
	json_decref(single);
	if (!e)
		e = application_get(db, application_id, out, err);
	return e;
}

cf_err review_history(struct db *db, const char *application_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(application_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", application_id);
	const char *p[] = { application_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT v.id, v.ref, v.verdict, v.comment, v.assessor_id, u.name, " DB_TS_US("v.recorded_at")
		", v.carried_from FROM review_verdict v JOIN app_user u ON u.id = v.assessor_id"
		" WHERE v.application_id = $1 ORDER BY v.id", 1, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *c = db_value(res, i, 3);
		json_array_append_new(items,
			json_pack("{s:I,s:s,s:s,s:o,s:{s:s,s:s},s:s,s:o}", "id",
				  (json_int_t)db_value_ll(res, i, 0), "ref", db_value(res, i, 1), "verdict",
				  db_value(res, i, 2), "comment", c ? json_string(c) : json_null(),
				  "assessor", "id", db_value(res, i, 4), "name", db_value(res, i, 5),
				  "recorded_at", db_value(res, i, 6), "carried_from",
				  db_value(res, i, 7) ? json_integer(db_value_ll(res, i, 7)) : json_null()));
	}
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}
