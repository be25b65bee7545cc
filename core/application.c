/*
 * application: applications, answers and the transition table (see
 * application.h).
 */
#include "application.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accreditation.h"
#include "audit.h"
#include "carry.h"
#include "catalog.h"
#include "decision.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "scheme.h"

static const char *const states[] = { "draft", "submitted", "in_evaluation", "info_requested",
				      "evaluated", "decided", "withdrawn" };

const char *const *application_states(size_t *n)
{
	*n = sizeof states / sizeof states[0];
	return states;
}

void application_etag(int version, char out[24])
{
	snprintf(out, 24, "\"%d\"", version);
}

#define APP_COLUMNS                                                                            \
	"a.id, a.number, a.product_id, a.manufacturer_id, a.scheme_id, a.scheme_version, a.class," \
	" a.assessment_type, coalesce(a.body_id::text, ''), a.state, a.version,"                 \
	" coalesce(a.assessor_id::text, ''), a.submitted_at IS NOT NULL"

static void row_from(const PGresult *res, int i, struct application_row *a)
{
	snprintf(a->id, sizeof a->id, "%s", db_value(res, i, 0));
	a->number = db_value_ll(res, i, 1);
	snprintf(a->product_id, sizeof a->product_id, "%s", db_value(res, i, 2));
	snprintf(a->manufacturer_id, sizeof a->manufacturer_id, "%s", db_value(res, i, 3));
	snprintf(a->scheme_id, sizeof a->scheme_id, "%s", db_value(res, i, 4));
	snprintf(a->scheme_version, sizeof a->scheme_version, "%s", db_value(res, i, 5));
	a->class_number = (int)db_value_ll(res, i, 6);
	snprintf(a->assessment_type, sizeof a->assessment_type, "%s", db_value(res, i, 7));
	snprintf(a->body_id, sizeof a->body_id, "%s", db_value(res, i, 8));
	snprintf(a->state, sizeof a->state, "%s", db_value(res, i, 9));
	a->version = (int)db_value_ll(res, i, 10);
	snprintf(a->assessor_id, sizeof a->assessor_id, "%s", db_value(res, i, 11));
	a->submitted = db_value_bool(res, i, 12);
}

cf_err application_load(struct db *db, const char *id, bool lock, struct application_row *out,
			struct cf_error *err)
{
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", id);
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = lock ? db_query_hot(db, &res, err,
				       "SELECT " APP_COLUMNS " FROM application a WHERE a.id = $1 FOR UPDATE",
				       1, p)
			: db_query_hot(db, &res, err,
				       "SELECT " APP_COLUMNS " FROM application a WHERE a.id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		row_from(res, 0, out);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %s", id);
	PQclear(res);
	return e;
}

cf_err application_parties(struct db *db, const char *id, char manufacturer[37], char body[37],
			   bool named, struct cf_error *err)
{
	struct application_row a;
	cf_err e = application_load(db, id, false, &a, err);
	if (e)
		return e;
	snprintf(manufacturer, 37, "%s", a.manufacturer_id);
	snprintf(body, 37, "%s", a.submitted || named ? a.body_id : "");
	return CF_OK;
}

static cf_err audit_app(struct db *db, const struct principal *p, const char *action,
			const struct application_row *a, json_t *details, struct cf_error *err)
{
	struct audit_actor actor = party_actor(p);
	json_object_set_new(details, "number", json_integer(a->number));
	cf_err e = audit_append(db, &actor, action, "application", a->id, details, err);
	json_decref(details);
	return e;
}

/* assessor: who holds the application after the event (take, reassign), or NULL. */
static cf_err add_event(struct db *db, const struct application_row *a, const struct principal *p,
			const char *action, const char *from, const char *to, const char *message,
			const char *assessor, struct cf_error *err)
{
	const char *params[] = { a->id, action, from, to, p->user_id, message, assessor };
	return db_query_hot(db, NULL, err,
		"INSERT INTO application_event (application_id, seq, action, from_state, to_state,"
		" actor_id, message, assessor_id) SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5,"
		" $6, $7 FROM application_event WHERE application_id = $1", 7, params);
}

/* ---- owners ---- */

/* owners must be an object of secondary keyword -> a person or role. */
static cf_err owners_validate(struct db *db, const char *scheme, const char *version,
			      const json_t *owners, struct cf_error *err)
{
	if (!json_is_object(owners))
		return cf_error_set(err, CF_EINVAL, "/owners",
				    "/owners must map keywords to a person or role");
	const char *p[] = { scheme, version };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT keywords::text FROM scheme_version WHERE scheme_id = $1 AND version = $2", 2, p);
	if (e)
		return e;
	json_t *vocab = json_loads(db_value(res, 0, 0), 0, NULL);
	PQclear(res);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)(uintptr_t)owners, key, v) {
		bool known = false;
		size_t i, k;
		json_t *prim, *sec;
		json_array_foreach(json_object_get(vocab, "primary"), i, prim)
			json_array_foreach(json_object_get(prim, "secondary"), k, sec)
				known = known || strcmp(json_string_value(sec), key) == 0;
		char ptr[128] = "/owners";
		jsonx_pointer_push(ptr, sizeof ptr, key);
		const char *text;
		if (!known)
			e = cf_error_set(err, CF_EINVAL, ptr, "'%.40s' is not a keyword of %s@%s", key,
					 scheme, version);
		else
			e = jsonx_get_text(owners, "/owners", key, true, 200, &text, err);
		if (e)
			break;
	}
	json_decref(vocab);
	return e;
}

/* ---- create ---- */

struct create_job {
	const struct principal *p;
	const char *product, *scheme, *version, *type, *body;
	const char *levels[3];
	int class_number;
	char *owners;
	struct carry_request carry;
	json_t **out;
	char id[37];
};

static cf_err create_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct create_job *j = arg;
	char cls[24];
	snprintf(cls, sizeof cls, "%d", j->class_number);
	struct application_row t = { 0 };
	snprintf(t.product_id, sizeof t.product_id, "%s", j->product);
	snprintf(t.scheme_id, sizeof t.scheme_id, "%s", j->scheme);
	snprintf(t.scheme_version, sizeof t.scheme_version, "%s", j->version);
	snprintf(t.assessment_type, sizeof t.assessment_type, "%s", j->type);
	snprintf(t.body_id, sizeof t.body_id, "%s", j->body ? j->body : "");
	struct carry_origin origin;
	cf_err e = carry_check(db, j->p, &t, &j->carry, &origin, err);
	if (e)
		return e;
	const char *params[] = { j->product, j->p->org_id, j->scheme, j->version, j->levels[0],
				 j->levels[1], j->levels[2], cls, j->type, j->body, j->owners,
				 j->p->user_id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"WITH a AS (INSERT INTO application (product_id, manufacturer_id, scheme_id,"
		" scheme_version, confidentiality, integrity, availability, class, assessment_type,"
		" body_id, owners, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		" RETURNING *) SELECT " APP_COLUMNS " FROM a", 12, params);
	if (e)
		return e;
	struct application_row a;
	row_from(res, 0, &a);
	PQclear(res);
	snprintf(j->id, sizeof j->id, "%s", a.id);
	json_t *carried = NULL;
	e = carry_open(db, j->p, &a, &j->carry, &origin, &carried, err);
	if (!e)
		e = add_event(db, &a, j->p, "create", NULL, "draft", NULL, NULL, err);
	if (!e)
		e = audit_app(db, j->p, "application.create", &a,
			      json_pack("{s:s,s:s,s:i,s:s,s:o}", "product_id", j->product, "scheme",
					j->scheme, "class", j->class_number, "assessment_type", j->type,
					"carry", carried ? carried : json_null()),
			      err);
	else
		json_decref(carried);
	return e;
}

cf_err application_create(struct db *db, const struct principal *p, const json_t *body,
			  uint64_t evidence_quota, json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "product_id", "scheme_id", "scheme_version",
					    "confidentiality", "integrity", "availability", "class",
					    "assessment_type", "body_id", "owners", "carried_from",
					    "supersedes", "change", NULL };
	static const char *const level_keys[] = { "confidentiality", "integrity", "availability" };
	*out = NULL;
	struct create_job j = { .p = p, .out = out };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "product_id", true, 36, &j.product, err);
	if (!e)
		e = jsonx_get_text(body, "", "scheme_id", true, 64, &j.scheme, err);
	if (!e)
		e = jsonx_get_text(body, "", "scheme_version", true, 40, &j.version, err);
	if (!e)
		e = jsonx_get_text(body, "", "assessment_type", true, 16, &j.type, err);
	for (int i = 0; i < 3 && !e; i++)
		e = jsonx_get_text(body, "", level_keys[i], false, 8, &j.levels[i], err);
	if (!e)
		e = carry_parse(body, &j.carry, err);
	j.carry.quota = evidence_quota;
	if (e)
		return e;
	if (strcmp(j.type, "self") != 0 && strcmp(j.type, "third-party") != 0)
		return cf_error_set(err, CF_EINVAL, "/assessment_type",
				    "/assessment_type must be self or third-party");
	bool third = strcmp(j.type, "third-party") == 0;
	e = jsonx_get_text(body, "", "body_id", third, 36, &j.body, err);
	if (e)
		return e;
	if (!third && j.body)
		return cf_error_set(err, CF_EINVAL, "/body_id", "a self declaration has no assessment body");
	if (!ids_is_uuid(j.product))
		return cf_error_set(err, CF_EINVAL, "/product_id", "/product_id must be a product id");
	if (j.body && !ids_is_uuid(j.body))
		return cf_error_set(err, CF_EINVAL, "/body_id", "/body_id must be an organisation id");

	/* the product is the caller's; the body an assessment body */
	const char *pp[] = { j.product, p->org_id, j.body };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT EXISTS (SELECT 1 FROM product WHERE id = $1 AND manufacturer_id = $2),"
		" $3::uuid IS NULL OR EXISTS (SELECT 1 FROM organisation WHERE id = $3"
		" AND kind = 'assessment_body')", 3, pp);
	if (e)
		return e;
	bool product_ok = db_value_bool(res, 0, 0), body_ok = db_value_bool(res, 0, 1);
	PQclear(res);
	if (!product_ok)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/product_id",
				    "your organisation has no product %s", j.product);
	if (!body_ok)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/body_id", "%s is not an assessment body",
				    j.body);

	/* the class: derived from the objectives, or explicit for a scheme without classes */
	json_t *version = NULL;
	e = catalog_version(db, j.scheme, j.version, &version, err);
	if (e == CF_ENOTFOUND)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/scheme_version",
				    "there is no scheme %.64s version %.40s", j.scheme, j.version);
	if (e)
		return e;
	if (strcmp(jsonx_str(version, "version"), j.version) != 0) {
		json_decref(version);
		return cf_error_set(err, CF_EINVAL, "/scheme_version", "give the version itself, not %s",
				    j.version);
	}
	bool implicit = json_is_true(json_object_get(version, "implicit_class"));
	json_decref(version);
	int given = (j.levels[0] != NULL) + (j.levels[1] != NULL) + (j.levels[2] != NULL);
	long long cls = 0;
	bool has_class = false;
	e = jsonx_get_int(body, "", "class", false, 0, 9, &cls, &has_class, err);
	if (e)
		return e;
	if (given != 0 && given != 3)
		return cf_error_set(err, CF_EINVAL, "/confidentiality",
				    "confidentiality, integrity and availability go together");
	if (given == 3) {
		enum scheme_level lv[3];
		for (int i = 0; i < 3; i++) {
			e = scheme_level_parse(j.levels[i], &lv[i], err);
			if (e) {
				snprintf(err->pointer, sizeof err->pointer, "/%s", level_keys[i]);
				return e;
			}
		}
		e = catalog_derive_class(db, j.scheme, j.version, lv[0], lv[1], lv[2], &j.class_number, err);
		if (e)
			return e;
		if (has_class && cls != j.class_number)
			return cf_error_set(err, CF_EINVAL, "/class",
					    "the security objectives give class %d, not %lld", j.class_number,
					    cls);
	} else if (implicit) {
		if (has_class && cls != 0)
			return cf_error_set(err, CF_EINVAL, "/class", "%s@%s has only class 0", j.scheme,
					    j.version);
		j.class_number = 0;
	} else {
		return cf_error_set(err, CF_EINVAL, "/confidentiality",
				    "%s@%s has compliance classes: declare confidentiality, integrity "
				    "and availability (basic, medium or high)", j.scheme, j.version);
	}
	json_t *owners = json_object_get(body, "owners");
	if (owners) {
		e = owners_validate(db, j.scheme, j.version, owners, err);
		if (e)
			return e;
	}
	j.owners = owners ? json_dumps(owners, JSON_COMPACT) : cf_strdup("{}");
	e = db_transaction(db, DB_READ_COMMITTED, create_tx, &j, err);
	free(j.owners);
	if (!e)
		e = application_get(db, j.id, out, err);
	return e;
}

/* ---- If-Match ---- */

static cf_err check_if_match(const char *if_match, int version, struct cf_error *err)
{
	if (!if_match)
		return cf_error_set(err, CF_EPRECOND_REQ, NULL,
				    "send If-Match with the application's ETag (from GET): changes "
				    "are made to the version you have seen");
	char etag[24];
	application_etag(version, etag);
	char weak[28];
	snprintf(weak, sizeof weak, "W/%s", etag);
	if (strcmp(if_match, etag) == 0 || strcmp(if_match, weak) == 0 || strcmp(if_match, "*") == 0)
		return CF_OK;
	return cf_error_set(err, CF_EPRECONDITION, NULL,
			    "the application has changed since you read it (it is now at %s); read it "
			    "again", etag);
}

cf_err application_open_for(const struct application_row *a, const char *what, struct cf_error *err)
{
	if (strcmp(a->state, "draft") == 0 || strcmp(a->state, "info_requested") == 0)
		return CF_OK;
	cf_error_set(err, CF_ESTATE, NULL,
		     "%s while the application is a draft or information is requested; it is %s", what,
		     a->state);
	char extra[64];
	snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", a->state);
	cf_error_set_extra(err, extra);
	return CF_ESTATE;
}

cf_err application_if_match(const char *if_match, int version, struct cf_error *err)
{
	return check_if_match(if_match, version, err);
}

/* ---- update ---- */

struct update_job {
	const struct principal *p;
	const char *id, *if_match, *body_id;
	char *owners;
	bool has_body;
};

static cf_err update_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct update_job *j = arg;
	struct application_row a;
	cf_err e = application_load(db, j->id, true, &a, err);
	if (e)
		return e;
	if (strcmp(a.manufacturer_id, j->p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the application is not your organisation's");
	e = check_if_match(j->if_match, a.version, err);
	if (e)
		return e;
	bool draft = strcmp(a.state, "draft") == 0;
	if (!draft && !(strcmp(a.state, "info_requested") == 0 && !j->has_body))
		return cf_error_set(err, CF_ESTATE, NULL,
				    "an application in state %s cannot be changed that way", a.state);
	if (j->has_body && strcmp(a.assessment_type, "self") == 0)
		return cf_error_set(err, CF_EINVAL, "/body_id", "a self declaration has no assessment body");
	const char *params[] = { j->id, j->owners, j->has_body ? j->body_id : NULL };
	e = db_query_hot(db, NULL, err,
		"UPDATE application SET owners = coalesce($2::json, owners),"
		" body_id = coalesce($3::uuid, body_id), version = version + 1, updated_at = now()"
		" WHERE id = $1", 3, params);
	if (!e)
		e = audit_app(db, j->p, "application.update", &a,
			      json_pack("{s:b,s:b}", "owners", j->owners != NULL, "body", j->has_body), err);
	return e;
}

cf_err application_update(struct db *db, const struct principal *p, const char *id,
			  const char *if_match, const json_t *body, json_t **out,
			  struct cf_error *err)
{
	static const char *const keys[] = { "owners", "body_id", NULL };
	*out = NULL;
	struct application_row a;
	struct update_job j = { p, id, if_match, NULL, NULL, false };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = application_load(db, id, false, &a, err);
	if (!e)
		e = jsonx_get_text(body, "", "body_id", false, 36, &j.body_id, err);
	if (e)
		return e;
	if (j.body_id) {
		j.has_body = true;
		const char *pp[] = { j.body_id };
		PGresult *res = NULL;
		bool ok = ids_is_uuid(j.body_id);
		if (ok) {
			e = db_query_hot(db, &res, err,
				"SELECT 1 FROM organisation WHERE id = $1 AND kind = 'assessment_body'", 1, pp);
			if (e)
				return e;
			ok = PQntuples(res) == 1;
			PQclear(res);
		}
		if (!ok)
			return cf_error_set(err, CF_EUNPROCESSABLE, "/body_id", "%.40s is not an assessment body",
					    j.body_id);
	}
	json_t *owners = json_object_get(body, "owners");
	if (owners) {
		e = owners_validate(db, a.scheme_id, a.scheme_version, owners, err);
		if (e)
			return e;
		j.owners = json_dumps(owners, JSON_COMPACT);
	}
	e = db_transaction(db, DB_READ_COMMITTED, update_tx, &j, err);
	free(j.owners);
	if (!e)
		e = application_get(db, id, out, err);
	return e;
}

/* ---- answers ---- */

struct answer_job {
	const struct principal *p;
	const char *id, *ref, *statement, *text, *justification;
};

static cf_err answer_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct answer_job *j = arg;
	struct application_row a;
	cf_err e = application_load(db, j->id, true, &a, err);
	if (e)
		return e;
	if (strcmp(a.manufacturer_id, j->p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the application is not your organisation's");
	e = application_open_for(&a, "answers change", err);
	if (e)
		return e;
	const char *rp[] = { a.scheme_id, a.scheme_version, j->ref };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT 1 FROM requirement WHERE scheme_id = $1 AND version = $2 AND ref = $3", 3, rp);
	if (e)
		return e;
	bool known = PQntuples(res) == 1;
	PQclear(res);
	if (!known)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "%s@%s has no requirement %s", a.scheme_id,
				    a.scheme_version, j->ref);
	e = application_check_unsettled(db, &a, j->ref, NULL, err);
	if (e)
		return e;
	const char *params[] = { j->id, j->ref, j->statement, j->text, j->justification, j->p->user_id };
	e = db_query_hot(db, NULL, err,
		"INSERT INTO application_answer (application_id, ref, statement, text, justification,"
		" answered_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id, ref) DO"
		" UPDATE SET statement = $3, text = $4, justification = $5, answered_by = $6,"
		" answered_at = now()", 6, params);
	if (!e) {
		const char *vp[] = { j->id };
		e = db_query_hot(db, NULL, err,
			"UPDATE application SET version = version + 1, updated_at = now() WHERE id = $1",
			1, vp);
	}
	if (!e)
		e = audit_app(db, j->p, "application.answer", &a,
			      json_pack("{s:s,s:s}", "ref", j->ref, "statement", j->statement), err);
	return e;
}

cf_err application_check_unsettled(struct db *db, const struct application_row *a, const char *refs,
				   const char *evidence_id, struct cf_error *err)
{
	const char *params[] = { a->id, refs ? refs : "", evidence_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT r, conform_settled($1, r) FROM (SELECT btrim(unnest(string_to_array($2, ',')))"
		" UNION SELECT ref FROM evidence_link WHERE evidence_id = $3::uuid) s (r)"
		" WHERE conform_settled($1, r) IS NOT NULL ORDER BY r LIMIT 1", 3, params);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		e = cf_error_set(err, CF_ESTATE, NULL,
				 "requirement %s was judged %s: its answer and evidence stay as they were "
				 "judged; while information is requested, change what the assessor asked "
				 "about (info_needed)", db_value(res, 0, 0), db_value(res, 0, 1));
	PQclear(res);
	return e;
}

cf_err application_answer(struct db *db, const struct principal *p, const char *id, const char *ref,
			  const json_t *body, json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "statement", "text", "justification", NULL };
	*out = NULL;
	struct answer_job j = { p, id, ref, NULL, NULL, NULL };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "statement", true, 20, &j.statement, err);
	if (!e)
		e = jsonx_get_text(body, "", "text", true, 20000, &j.text, err);
	if (!e)
		e = jsonx_get_text(body, "", "justification", false, 20000, &j.justification, err);
	if (e)
		return e;
	if (strcmp(j.statement, "compliant") != 0 && strcmp(j.statement, "not_applicable") != 0 &&
	    strcmp(j.statement, "not_compliant") != 0)
		return cf_error_set(err, CF_EINVAL, "/statement",
				    "/statement must be compliant, not_applicable or not_compliant");
	if (strcmp(j.statement, "not_applicable") == 0 && !j.justification)
		return cf_error_set(err, CF_EINVAL, "/justification",
				    "not applicable needs a justification");
	e = db_transaction(db, DB_READ_COMMITTED, answer_tx, &j, err);
	if (!e)
		e = application_get(db, id, out, err);
	return e;
}

/* ---- the transitions: guards and changes ---- */

/* Mandatory refs of the application's class that fail pred (a SQL
 * condition on answer a and current verdict v), listed in *list. */
static cf_err mandatory_where(struct db *db, const struct application_row *a, const char *sql,
			      char *list, size_t size, int *count, struct cf_error *err)
{
	char cls[24];
	snprintf(cls, sizeof cls, "%d", a->class_number);
	const char *p[] = { a->id, a->scheme_id, a->scheme_version, cls };
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err, sql, 4, p);
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

#define MANDATORY_SQL(cond)                                                                    \
	"SELECT r.ref FROM requirement r LEFT JOIN application_answer a"                         \
	" ON a.application_id = $1 AND a.ref = r.ref"                                            \
	" LEFT JOIN LATERAL (SELECT v.verdict FROM current_verdict v WHERE v.application_id = $1" \
	" AND v.ref = r.ref) v ON true"                                                          \
	" WHERE r.scheme_id = $2 AND r.version = $3 AND r.mandatory_from_class <= $4::integer"   \
	" AND (" cond ") ORDER BY r.position"

static cf_err require_none(struct db *db, const struct application_row *a, const char *sql,
			   const char *what, struct cf_error *err)
{
	char list[512];
	int n = 0;
	cf_err e = mandatory_where(db, a, sql, list, sizeof list, &n, err);
	if (e)
		return e;
	if (n)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL, "%d mandatory requirement%s %s: %s", n,
				    n == 1 ? "" : "s", what, list);
	return CF_OK;
}

/* Owners for every keyword group with a mandatory requirement. */
static cf_err require_owners(struct db *db, const struct application_row *a, struct cf_error *err)
{
	char cls[24];
	snprintf(cls, sizeof cls, "%d", a->class_number);
	const char *p[] = { a->id, a->scheme_id, a->scheme_version, cls };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT string_agg(k, ', ' ORDER BY k) FROM (SELECT DISTINCT unnest(r.secondary_keywords) k"
		" FROM requirement r WHERE r.scheme_id = $2 AND r.version = $3"
		" AND r.mandatory_from_class <= $4::integer) ks WHERE NOT EXISTS (SELECT 1 FROM"
		" application x, json_each_text(x.owners) o WHERE x.id = $1 AND o.key = ks.k"
		" AND length(trim(o.value)) > 0)", 4, p);
	if (e)
		return e;
	const char *missing = db_value(res, 0, 0);
	if (missing)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/owners",
				 "give an owner (a person or role) for each keyword group; missing: %s",
				 missing);
	PQclear(res);
	return e;
}

/* What leaves draft is a product still within its security support period. */
static cf_err require_supported(struct db *db, const struct application_row *a, struct cf_error *err)
{
	const char *p[] = { a->id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT (p.support_end + 1)::timestamp AT TIME ZONE 'UTC' > now() FROM application x JOIN product p"
		" ON p.id = x.product_id WHERE x.id = $1", 1, p);
	if (e)
		return e;
	bool supported = db_value_bool(res, 0, 0);
	PQclear(res);
	if (!supported)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "the product's security support period has ended");
	return CF_OK;
}

/*
 * What leaves draft is what is assessed and, later, signed: the product and
 * the manufacturer (identity and vulnerability disclosure) as they are now.
 * Issuance reads only these snapshots; a later PATCH of the product or the
 * organisation changes neither.
 */
static cf_err snapshot_submission(struct db *db, const struct application_row *a,
				  struct cf_error *err)
{
	const char *p[] = { a->id };
	return db_query_hot(db, NULL, err,
		"UPDATE application x SET product_snapshot = json_build_object('id', p.id, 'name', p.name,"
		" 'model', p.model, 'hardware_version', p.hardware_version, 'firmware_version',"
		" p.firmware_version, 'description', p.description, 'product_page', p.product_page,"
		" 'gtin', p.gtin, 'support_end', p.support_end),"
		" manufacturer_snapshot = json_build_object('id', m.id, 'name', m.name, 'country',"
		" m.country, 'contact_email', m.contact_email, 'contact_phone', m.contact_phone,"
		" 'address', m.address, 'website', m.website, 'security_contact', m.security_contact,"
		" 'disclosure_policy_url', m.disclosure_policy_url, 'response_days', m.response_days)"
		" FROM product p, organisation m"
		" WHERE x.id = $1 AND p.id = x.product_id AND m.id = x.manufacturer_id", 1, p);
}

static cf_err require_holder(const struct application_row *a, const struct principal *p,
			     struct cf_error *err)
{
	if (strcmp(a->assessor_id, p->user_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "only the assessor who took the application evaluates it");
	return CF_OK;
}

/* submit: every mandatory requirement answered, owners, a supported product,
 * a body accredited for the scheme version and class now. */
static cf_err guard_submit(struct db *db, const struct app_act *x, struct cf_error *err)
{
	const struct application_row *a = x->a;
	cf_err e = require_none(db, a, MANDATORY_SQL("a.ref IS NULL"), "have no answer", err);
	if (!e)
		e = require_owners(db, a, err);
	if (!e)
		e = require_supported(db, a, err);
	if (e)
		return e;
	bool covered = false;
	e = accreditation_covers(db, a->body_id, a->scheme_id, a->scheme_version, a->class_number, NULL,
				 &covered, err);
	if (e)
		return e;
	if (!covered)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/body_id",
				    "the chosen body is not accredited for %s@%s at class %d now: "
				    "choose an accredited body (GET /v1/bodies)",
				    a->scheme_id, a->scheme_version, a->class_number);
	return CF_OK;
}

static cf_err apply_submit(struct db *db, const struct app_act *x, struct app_step *step,
			   struct cf_error *err)
{
	step->submitted = true;
	return snapshot_submission(db, x->a, err);
}

/* declare: every mandatory requirement answered and none answered not
 * compliant, a supported product, the declaration's statement. */
static cf_err guard_declare(struct db *db, const struct app_act *x, struct cf_error *err)
{
	cf_err e = require_none(db, x->a, MANDATORY_SQL("a.ref IS NULL"), "have no answer", err);
	if (!e)
		e = require_none(db, x->a, MANDATORY_SQL("a.statement = 'not_compliant'"),
				 "are answered not compliant: the product cannot be declared "
				 "conformant", err);
	if (!e)
		e = require_supported(db, x->a, err);
	if (!e)
		e = decision_check(db, x->a, x->p, true, x->statement, true, err);
	return e;
}

static cf_err apply_declare(struct db *db, const struct app_act *x, struct app_step *step,
			    struct cf_error *err)
{
	(void)step;
	cf_err e = snapshot_submission(db, x->a, err);
	if (!e)
		e = decision_record(db, x->a, x->p, true, x->statement, true, err);
	return e;
}

static cf_err apply_take(struct db *db, const struct app_act *x, struct app_step *step,
			 struct cf_error *err)
{
	const char *params[] = { x->a->id, x->p->user_id };
	step->holder = x->p->user_id;
	return db_query_hot(db, NULL, err, "UPDATE application SET assessor_id = $2 WHERE id = $1", 2,
			    params);
}

/*
 * reassign: an active assessor of the application's body other than the
 * one holding it, and why (the reason is the event's message and goes into
 * the audit record).
 */
static cf_err guard_reassign(struct db *db, const struct app_act *x, struct cf_error *err)
{
	const struct application_row *a = x->a;
	const char *assessor = x->assessor_id;
	if (!assessor)
		return cf_error_set(err, CF_EINVAL, "/assessor_id",
				    "/assessor_id is required: the assessor of the body who takes "
				    "the evaluation over");
	if (!ids_is_uuid(assessor))
		return cf_error_set(err, CF_EINVAL, "/assessor_id", "/assessor_id must be a user id");
	if (!x->reason || !*x->reason)
		return cf_error_set(err, CF_EINVAL, "/reason",
				    "/reason is required: why the application changes hands");
	if (strcmp(assessor, a->assessor_id) == 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/assessor_id",
				    "user %s already holds this application", assessor);
	const char *params[] = { assessor };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT coalesce(org_id::text, ''), active, 'assessor' = ANY (roles) FROM app_user"
		" WHERE id = $1", 1, params);
	if (e)
		return e;
	if (PQntuples(res) != 1)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/assessor_id", "there is no user %s", assessor);
	else if (strcmp(db_value(res, 0, 0), a->body_id) != 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/assessor_id",
				 "user %s is not a person of the application's body", assessor);
	else if (!db_value_bool(res, 0, 2))
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/assessor_id",
				 "user %s is not an assessor: give them the role first", assessor);
	else if (!db_value_bool(res, 0, 1))
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/assessor_id",
				 "user %s is deactivated", assessor);
	PQclear(res);
	return e;
}

static cf_err apply_reassign(struct db *db, const struct app_act *x, struct app_step *step,
			     struct cf_error *err)
{
	const char *params[] = { x->a->id, x->assessor_id };
	step->holder = x->assessor_id;
	step->said = x->reason;
	step->details = json_pack("{s:o,s:s,s:s}", "previous_assessor", jsonx_text_or_null(x->a->assessor_id),
				  "assessor", x->assessor_id, "reason", x->reason);
	return db_query_hot(db, NULL, err, "UPDATE application SET assessor_id = $2 WHERE id = $1", 2,
			    params);
}

/* request-info: by the holder, with at least one requirement (mandatory or
 * not) whose current verdict asks for information. */
static cf_err guard_request_info(struct db *db, const struct app_act *x, struct cf_error *err)
{
	cf_err e = require_holder(x->a, x->p, err);
	if (e)
		return e;
	const char *params[] = { x->a->id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT count(*) FROM current_verdict WHERE application_id = $1"
		" AND verdict = 'info_needed'", 1, params);
	if (!e && db_value_ll(res, 0, 0) == 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "record a verdict 'info_needed' with your question on the "
				 "requirements concerned first");
	PQclear(res);
	return e;
}

/* complete: by the holder, every mandatory requirement with a final verdict,
 * none carried from a certificate that vouches for it no more. */
static cf_err guard_complete(struct db *db, const struct app_act *x, struct cf_error *err)
{
	cf_err e = require_holder(x->a, x->p, err);
	if (!e)
		e = require_none(db, x->a, MANDATORY_SQL("v.verdict IS NULL OR v.verdict = 'info_needed'"),
				 "have no final verdict", err);
	if (!e)
		e = carry_sound(db, x->a, NULL, err);
	return e;
}

/* decide: approve or reject, by someone independent of the evaluation
 * (decision_check). */
static cf_err guard_decide(struct db *db, const struct app_act *x, struct cf_error *err)
{
	const char *d = x->decision;
	if (!d || (strcmp(d, "approve") != 0 && strcmp(d, "reject") != 0))
		return cf_error_set(err, CF_EINVAL, "/decision", "/decision must be approve or reject");
	return decision_check(db, x->a, x->p, strcmp(d, "approve") == 0, x->rationale, false, err);
}

static cf_err apply_decide(struct db *db, const struct app_act *x, struct app_step *step,
			   struct cf_error *err)
{
	(void)step;
	return decision_record(db, x->a, x->p, strcmp(x->decision, "approve") == 0, x->rationale,
			       false, err);
}

#define LEAD (ROLE_CERTIFIER | ROLE_ORG_ADMIN) /* the body's lead */

static const struct app_transition transitions[] = {
	{ "submit", "draft", "submitted", ROLE_APPLICANT, APP_MANUFACTURER, APP_THIRD_PARTY,
	  guard_submit, apply_submit, false },
	{ "declare", "draft", "decided", ROLE_APPLICANT, APP_MANUFACTURER, APP_SELF, guard_declare,
	  apply_declare, false },
	{ "take", "submitted", "in_evaluation", ROLE_ASSESSOR, APP_BODY, APP_THIRD_PARTY, NULL,
	  apply_take, false },
	{ "request-info", "in_evaluation", "info_requested", ROLE_ASSESSOR, APP_BODY, APP_THIRD_PARTY,
	  guard_request_info, NULL, false },
	{ "resubmit", "info_requested", "in_evaluation", ROLE_APPLICANT, APP_MANUFACTURER,
	  APP_THIRD_PARTY, NULL, NULL, false },
	{ "complete", "in_evaluation", "evaluated", ROLE_ASSESSOR, APP_BODY, APP_THIRD_PARTY,
	  guard_complete, NULL, false },
	{ "decide", "evaluated", "decided", ROLE_CERTIFIER, APP_BODY, APP_THIRD_PARTY, guard_decide,
	  apply_decide, false },
	/* the body's lead hands the evaluation to another assessor of the body
	 * (the one who took it may have left); the state does not change */
	{ "reassign", "in_evaluation", "in_evaluation", LEAD, APP_BODY, APP_THIRD_PARTY, guard_reassign,
	  apply_reassign, true },
	{ "reassign", "info_requested", "info_requested", LEAD, APP_BODY, APP_THIRD_PARTY,
	  guard_reassign, apply_reassign, true },
	{ "withdraw", "draft", "withdrawn", ROLE_APPLICANT, APP_MANUFACTURER, APP_ANY, NULL, NULL, false },
	{ "withdraw", "submitted", "withdrawn", ROLE_APPLICANT, APP_MANUFACTURER, APP_ANY, NULL, NULL,
	  false },
	{ "withdraw", "in_evaluation", "withdrawn", ROLE_APPLICANT, APP_MANUFACTURER, APP_ANY, NULL,
	  NULL, false },
	{ "withdraw", "info_requested", "withdrawn", ROLE_APPLICANT, APP_MANUFACTURER, APP_ANY, NULL,
	  NULL, false },
	{ "withdraw", "evaluated", "withdrawn", ROLE_APPLICANT, APP_MANUFACTURER, APP_ANY, NULL, NULL,
	  false },
};

const struct app_transition *application_transitions(size_t *n)
{
	*n = sizeof transitions / sizeof transitions[0];
	return transitions;
}

/* ---- act ---- */

struct act_job {
	const struct principal *p;
	const char *id, *action, *if_match;
	const json_t *body;
};

static bool kind_fits(const struct app_transition *t, const char *type)
{
	return t->kind == APP_ANY || (t->kind == APP_SELF) == (strcmp(type, "self") == 0);
}

static json_t *allowed_from(const char *state, const char *type)
{
	json_t *list = json_array();
	for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
		const struct app_transition *t = &transitions[i];
		if (strcmp(t->from, state) == 0 && kind_fits(t, type))
			json_array_append_new(list, json_string(t->action));
	}
	return list;
}

static cf_err refuse_state(const struct application_row *a, const char *action, struct cf_error *err)
{
	json_t *allowed = allowed_from(a->state, a->assessment_type);
	json_t *extra = json_pack("{s:s,s:o}", "state", a->state, "allowed_actions", allowed);
	char *text = json_dumps(extra, JSON_COMPACT);
	char *list = json_dumps(allowed, JSON_COMPACT);
	json_decref(extra);
	cf_error_set(err, CF_ESTATE, NULL,
		     "cannot %s a%s application in state %s; allowed: %s", action,
		     strcmp(a->assessment_type, "self") == 0 ? " self-declared" : "", a->state, list);
	cf_error_set_extra(err, text);
	free(text);
	free(list);
	return CF_ESTATE;
}

/*
 * The rows of the table for action: *any, one of them (every row of an
 * action has the same role and side), and *t, the one from the
 * application's state for its assessment type (NULL if none).
 */
static void lookup(const char *action, const struct application_row *a,
		   const struct app_transition **any, const struct app_transition **t)
{
	*any = *t = NULL;
	for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
		const struct app_transition *x = &transitions[i];
		if (strcmp(x->action, action) != 0)
			continue;
		*any = x;
		if (strcmp(x->from, a->state) == 0 && kind_fits(x, a->assessment_type))
			*t = x;
	}
}

/* The caller holds the transition's role in the application's party on its side. */
static cf_err check_role(const struct app_transition *t, const struct application_row *a,
			 const struct principal *p, struct cf_error *err)
{
	const char *party = t->side == APP_MANUFACTURER ? a->manufacturer_id : a->body_id;
	if ((p->roles & t->role) && strcmp(party, p->org_id) == 0)
		return CF_OK;
	return cf_error_set(err, CF_EFORBIDDEN, NULL, "%s is for the application's %s", t->action,
			    t->role == LEAD ? "body's lead (a certifier or its org_admin)"
					    : party_role_name(t->role));
}

/* The fields of an action's body into x (borrowed from body). */
static cf_err parse_body(const json_t *body, const struct app_transition *t, struct app_act *x,
			 struct cf_error *err)
{
	static const char *const keys[] = { "message", "decision", "rationale", "statement",
					    "assessor_id", "reason", NULL };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "message", false, 20000, &x->message, err);
	if (!e)
		e = jsonx_get_text(body, "", "decision", false, 16, &x->decision, err);
	if (!e)
		e = jsonx_get_text(body, "", "rationale", false, 20000, &x->rationale, err);
	if (!e)
		e = jsonx_get_text(body, "", "statement", false, 20000, &x->statement, err);
	if (!e)
		e = jsonx_get_text(body, "", "assessor_id", false, 64, &x->assessor_id, err);
	if (!e)
		e = jsonx_get_text(body, "", "reason", false, 20000, &x->reason, err);
	if (!e && (x->assessor_id || x->reason) && !t->hand_over)
		e = cf_error_set(err, CF_EINVAL, x->assessor_id ? "/assessor_id" : "/reason",
				 "%s is for the reassign action only",
				 x->assessor_id ? "/assessor_id" : "/reason");
	return e;
}

static cf_err act_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct act_job *j = arg;
	struct application_row a;
	cf_err e = application_load(db, j->id, true, &a, err);
	if (e)
		return e;

	const struct app_transition *any, *t;
	lookup(j->action, &a, &any, &t);
	if (!any) {
		json_t *all = allowed_from(a.state, a.assessment_type);
		char *list = json_dumps(all, JSON_COMPACT);
		json_decref(all);
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no action %.40s (from %s: %s)",
				 j->action, a.state, list);
		free(list);
		return e;
	}
	e = check_role(any, &a, j->p, err);
	if (!e)
		e = check_if_match(j->if_match, a.version, err);
	if (e)
		return e;
	if (!t)
		return refuse_state(&a, j->action, err);

	struct app_act x = { .a = &a, .p = j->p };
	e = parse_body(j->body, t, &x, err);
	if (!e && t->guard)
		e = t->guard(db, &x, err);
	if (e)
		return e;
	struct app_step step = { .said = x.message ? x.message : x.rationale ? x.rationale : x.statement };
	if (t->apply)
		e = t->apply(db, &x, &step, err);

	/* what every transition changes: the state, an event, one audit record */
	const char *params[] = { a.id, t->to, step.submitted ? "t" : "f" };
	if (!e)
		e = db_query_hot(db, NULL, err,
			"UPDATE application SET state = $2, version = version + 1, updated_at = now(),"
			" submitted_at = CASE WHEN $3::boolean THEN now() ELSE submitted_at END WHERE id = $1",
			3, params);
	if (!e)
		e = add_event(db, &a, j->p, t->action, a.state, t->to, step.said, step.holder, err);
	if (!e) {
		json_t *details = json_pack("{s:s,s:s}", "from", a.state, "to", t->to);
		if (x.decision)
			json_object_set_new(details, "decision", json_string(x.decision));
		if (step.details)
			json_object_update(details, step.details);
		char action[48];
		snprintf(action, sizeof action, "application.%s", t->action);
		for (char *c = action; *c; c++)
			if (*c == '-')
				*c = '_'; /* audit actions are dotted snake_case */
		e = audit_app(db, j->p, action, &a, details, err);
	}
	json_decref(step.details);
	return e;
}

cf_err application_act(struct db *db, const struct principal *p, const char *id, const char *action,
		       const char *if_match, const json_t *body, json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct act_job j = { p, id, action, if_match, body };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, act_tx, &j, err);
	if (!e)
		e = application_get(db, id, out, err);
	return e;
}

/* ---- reading ---- */

/* The checklist with answers, current verdicts and evidence, and counts. */
static cf_err requirements_status(struct db *db, const struct application_row *a, json_t *owners,
				  json_t **items, json_t **counts, struct cf_error *err)
{
	char cls[24];
	snprintf(cls, sizeof cls, "%d", a->class_number);
	const char *p[] = { a->id, a->scheme_id, a->scheme_version, cls };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT r.ref, r.title, r.section_id, coalesce(r.mandatory_from_class <= $4::integer, false),"
		" array_to_json(r.secondary_keywords)::text, r.conditional,"
		" ans.statement, ans.text, ans.justification, " DB_TS("ans.answered_at") ","
		" v.verdict, v.comment, v.assessor_id, " DB_TS("v.recorded_at") ","
		" (SELECT json_agg(l.evidence_id ORDER BY e.uploaded_at) FROM evidence_link l"
		"  JOIN evidence e ON e.id = l.evidence_id WHERE e.application_id = $1"
		"  AND e.superseded_by IS NULL AND l.ref = r.ref)::text, v.carried_from IS NOT NULL"
		" FROM requirement r LEFT JOIN application_answer ans ON ans.application_id = $1"
		" AND ans.ref = r.ref LEFT JOIN LATERAL (SELECT verdict, comment, assessor_id, recorded_at,"
		" carried_from FROM current_verdict x WHERE x.application_id = $1 AND x.ref = r.ref) v"
		" ON true"
		" WHERE r.scheme_id = $2 AND r.version = $3 ORDER BY r.position",
		4, p);
	json_t *offers = NULL;
	if (!e)
		e = carry_offers(db, a->id, &offers, err);
	if (e) {
		PQclear(res);
		return e;
	}
	*items = json_array();
	static const char *const tallies[] = { "pass", "fail", "not_applicable", "info_needed" };
	json_t *c[2];
	for (int k = 0; k < 2; k++)
		c[k] = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "requirements", 0, "answered", 0,
				 "pass", 0, "fail", 0, "not_applicable", 0, "info_needed", 0,
				 "without_verdict", 0);
	for (int i = 0; i < PQntuples(res); i++) {
		bool mandatory = db_value_bool(res, i, 3);
		json_t *kw = json_loads(db_value(res, i, 4), 0, NULL);
		json_t *owner = json_array();
		size_t k;
		json_t *s;
		json_array_foreach(kw, k, s) {
			json_t *o = json_object_get(owners, json_string_value(s));
			if (o)
				json_array_append(owner, o);
		}
		json_t *item = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o}", "ref", db_value(res, i, 0),
			"title", db_value(res, i, 1), "section", db_value(res, i, 2), "applicability",
			mandatory ? "mandatory" : "advisory", "keywords", kw, "conditional",
			db_value_bool(res, i, 5), "owners", owner);
		json_t *tally = c[mandatory ? 0 : 1];
		json_object_set_new(tally, "requirements",
				    json_integer(json_integer_value(json_object_get(tally, "requirements")) + 1));
		if (db_value(res, i, 6)) {
			json_object_set_new(item, "answer",
				json_pack("{s:s,s:s,s:o,s:s}", "statement", db_value(res, i, 6), "text",
					  db_value(res, i, 7), "justification",
					  jsonx_text_or_null(db_value(res, i, 8)), "answered_at", db_value(res, i, 9)));
			json_object_set_new(tally, "answered",
				json_integer(json_integer_value(json_object_get(tally, "answered")) + 1));
		} else {
			json_object_set_new(item, "answer", json_null());
		}
		const char *verdict = db_value(res, i, 10);
		if (verdict) {
			json_object_set_new(item, "verdict",
				json_pack("{s:s,s:o,s:s,s:s,s:s}", "verdict", verdict, "comment",
					  jsonx_text_or_null(db_value(res, i, 11)), "assessor_id", db_value(res, i, 12),
					  "recorded_at", db_value(res, i, 13), "basis",
					  db_value_bool(res, i, 15) ? "carried" : "assessed"));
			for (size_t t = 0; t < 4; t++)
				if (strcmp(verdict, tallies[t]) == 0)
					json_object_set_new(tally, tallies[t],
						json_integer(json_integer_value(json_object_get(tally, tallies[t])) + 1));
		} else {
			json_object_set_new(item, "verdict", json_null());
			json_object_set_new(tally, "without_verdict",
				json_integer(json_integer_value(json_object_get(tally, "without_verdict")) + 1));
		}
		json_t *ev = db_value(res, i, 14) ? json_loads(db_value(res, i, 14), 0, NULL) : NULL;
		json_object_set_new(item, "evidence", ev ? ev : json_array());
		json_t *offer = json_object_get(offers, db_value(res, i, 0));
		json_object_set(item, "carried", offer ? offer : json_null());
		json_array_append_new(*items, item);
	}
	json_decref(offers);
	PQclear(res);
	*counts = json_pack("{s:o,s:o}", "mandatory", c[0], "advisory", c[1]);
	return CF_OK;
}

cf_err application_get(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct application_row a;
	cf_err e = application_load(db, id, false, &a, err);
	if (e)
		return e;
	const char *p[] = { id };
	PGresult *res = NULL, *ev = NULL;
	json_t *items = NULL, *counts = NULL, *decision = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT a.owners::text, a.confidentiality, a.integrity, a.availability,"
		" coalesce(a.product_snapshot, json_build_object('id', p.id, 'name', p.name, 'model',"
		" p.model, 'hardware_version', p.hardware_version, 'firmware_version',"
		" p.firmware_version, 'description', p.description, 'product_page', p.product_page,"
		" 'gtin', p.gtin, 'support_end', p.support_end))::text,"
		" coalesce(a.manufacturer_snapshot->>'name', m.name), b.name, u.name, "
		DB_TS("a.created_at") ", " DB_TS("a.updated_at") ", "
		DB_TS("a.submitted_at") ", a.product_snapshot IS NOT NULL, a.carried_from, a.supersedes,"
		" a.change_description, array_to_json(a.change_requirements)::text"
		" FROM application a JOIN product p ON p.id = a.product_id"
		" JOIN organisation m ON m.id = a.manufacturer_id"
		" LEFT JOIN organisation b ON b.id = a.body_id LEFT JOIN app_user u ON u.id = a.assessor_id"
		" WHERE a.id = $1", 1, p);
	if (!e)
		e = db_query_hot(db, &ev, err,
			"SELECT e.seq, e.action, e.from_state, e.to_state, e.actor_id, u.name, e.message, "
			DB_TS("e.at") ", e.assessor_id, h.name FROM application_event e"
			" LEFT JOIN app_user u ON u.id = e.actor_id"
			" LEFT JOIN app_user h ON h.id = e.assessor_id"
			" WHERE e.application_id = $1 ORDER BY e.seq", 1, p);
	json_t *owners = !e ? json_loads(db_value(res, 0, 0), 0, NULL) : NULL;
	if (!e)
		e = requirements_status(db, &a, owners, &items, &counts, err);
	if (!e)
		e = decision_get(db, id, &decision, err);
	if (e)
		goto out;
	json_t *events = json_array();
	for (int i = 0; i < PQntuples(ev); i++)
		json_array_append_new(events,
			json_pack("{s:I,s:s,s:o,s:s,s:{s:o,s:o},s:o,s:s,s:o}", "seq",
				  (json_int_t)db_value_ll(ev, i, 0), "action", db_value(ev, i, 1), "from",
				  jsonx_text_or_null(db_value(ev, i, 2)), "to", db_value(ev, i, 3), "actor", "id",
				  jsonx_text_or_null(db_value(ev, i, 4)), "name", jsonx_text_or_null(db_value(ev, i, 5)),
				  "message", jsonx_text_or_null(db_value(ev, i, 6)), "at", db_value(ev, i, 7),
				  "assessor",
				  db_value(ev, i, 8) ? json_pack("{s:s,s:s}", "id", db_value(ev, i, 8),
								 "name", db_value(ev, i, 9))
						     : json_null()));
	char etag[24];
	application_etag(a.version, etag);
	json_t *declared = db_value(res, 0, 1)
		? json_pack("{s:s,s:s,s:s}", "confidentiality", db_value(res, 0, 1), "integrity",
			    db_value(res, 0, 2), "availability", db_value(res, 0, 3))
		: json_null();
	*out = json_pack("{s:s,s:I,s:s,s:s,s:s,s:b,s:{s:s,s:s},s:i,s:o,s:o,s:{s:s,s:s},s:o,s:o,s:o,"
			 "s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}",
		"id", a.id, "number", (json_int_t)a.number, "state", a.state, "etag", etag,
		"assessment_type", a.assessment_type, "self_declaration",
		strcmp(a.assessment_type, "self") == 0, "scheme", "id", a.scheme_id, "version",
		a.scheme_version, "class", a.class_number, "declared", declared, "product",
		json_loads(db_value(res, 0, 4), 0, NULL), "manufacturer", "id", a.manufacturer_id, "name",
		db_value(res, 0, 5), "body",
		a.body_id[0] ? json_pack("{s:s,s:s}", "id", a.body_id, "name", db_value(res, 0, 6))
			     : json_null(),
		"assessor",
		a.assessor_id[0] ? json_pack("{s:s,s:s}", "id", a.assessor_id, "name", db_value(res, 0, 7))
				 : json_null(),
		"owners", owners, "created_at", db_value(res, 0, 8), "updated_at", db_value(res, 0, 9),
		"submitted_at", jsonx_text_or_null(db_value(res, 0, 10)), "allowed_actions",
		allowed_from(a.state, a.assessment_type), "counts", counts, "requirements", items,
		"decision", decision, "events", events);
	json_object_set_new(*out, "carried_from", jsonx_text_or_null(db_value(res, 0, 12)));
	json_object_set_new(*out, "supersedes", jsonx_text_or_null(db_value(res, 0, 13)));
	json_object_set_new(*out, "change", db_value(res, 0, 14)
		? json_pack("{s:s,s:o}", "description", db_value(res, 0, 14), "requirements",
			    json_loads(db_value(res, 0, 15), 0, NULL))
		: json_null());
	owners = items = counts = decision = NULL; /* stolen */
out:
	json_decref(owners);
	json_decref(items);
	json_decref(counts);
	json_decref(decision);
	PQclear(res);
	PQclear(ev);
	return e;
}

/* A row of the application list. */
static json_t *summary_json(const PGresult *res, int i)
{
	char etag[24];
	application_etag((int)db_value_ll(res, i, 12), etag);
	return json_pack("{s:s,s:I,s:s,s:s,s:{s:s,s:s},s:I,s:{s:s,s:s},s:s,s:o,s:s,s:s}", "id",
			 db_value(res, i, 0), "number", (json_int_t)db_value_ll(res, i, 1), "state",
			 db_value(res, i, 2), "assessment_type", db_value(res, i, 3), "scheme", "id",
			 db_value(res, i, 4), "version", db_value(res, i, 5), "class",
			 (json_int_t)db_value_ll(res, i, 6), "product", "name", db_value(res, i, 7),
			 "model", db_value(res, i, 8), "manufacturer", db_value(res, i, 9), "body",
			 jsonx_text_or_null(db_value(res, i, 10)), "updated_at", db_value(res, i, 11), "etag",
			 etag);
}

cf_err application_list(struct db *db, const struct principal *p, const char *state,
			long long after, int limit, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (state) {
		bool known = false;
		for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
			known = known || strcmp(states[i], state) == 0;
		if (!known)
			return cf_error_set(err, CF_EINVAL, NULL, "state=%.32s is not a state", state);
	}
	/* who sees what: the manufacturer its own, a body what was submitted to it */
	const char *scope = p->roles & ROLE_ADMIN ? "all"
			    : p->roles & ROLE_APPLICANT ? "manufacturer" : "body";
	char aft[24], lim[24];
	snprintf(aft, sizeof aft, "%lld", after);
	snprintf(lim, sizeof lim, "%d", limit + 1);
	const char *params[] = { scope, p->org_id, state, aft, lim };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT a.id, a.number, a.state, a.assessment_type, a.scheme_id, a.scheme_version,"
		" a.class, coalesce(a.product_snapshot->>'name', p.name),"
		" coalesce(a.product_snapshot->>'model', p.model),"
		" coalesce(a.manufacturer_snapshot->>'name', m.name), b.name, " DB_TS("a.updated_at") ","
		" a.version"
		" FROM application a JOIN product p ON p.id = a.product_id"
		" JOIN organisation m ON m.id = a.manufacturer_id"
		" LEFT JOIN organisation b ON b.id = a.body_id"
		" WHERE CASE $1 WHEN 'all' THEN true WHEN 'manufacturer' THEN a.manufacturer_id = $2::uuid"
		"  ELSE a.body_id = $2::uuid AND a.submitted_at IS NOT NULL END"
		" AND ($3::text IS NULL OR a.state = $3) AND a.number > $4::bigint"
		" ORDER BY a.number LIMIT $5", 5, params);
	if (e)
		return e;
	*out = db_page(res, limit, summary_json, 1, DB_CURSOR_NUMBER);
	PQclear(res);
	return CF_OK;
}
