/*
 * carry: settled verdicts carried into a new application (see carry.h).
 */
#include "carry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "evidence.h"
#include "jsonx.h"
#include "mem.h"

cf_err carry_parse(const json_t *body, struct carry_request *out, struct cf_error *err)
{
	static const char *const change_keys[] = { "description", "requirements", NULL };
	memset(out, 0, sizeof *out);
	const char *from = NULL, *supersedes = NULL;
	cf_err e = jsonx_get_text(body, "", "carried_from", false, 40, &from, err);
	if (!e)
		e = jsonx_get_text(body, "", "supersedes", false, 40, &supersedes, err);
	if (e)
		return e;
	const json_t *change = json_object_get(body, "change");
	if (from && supersedes && strcmp(from, supersedes) != 0)
		return cf_error_set(err, CF_EINVAL, "/carried_from",
				    "a change application carries from the certificate it supersedes: "
				    "give supersedes alone");
	if (change && !supersedes)
		return cf_error_set(err, CF_EINVAL, "/change",
				    "change describes a change application: give supersedes, the "
				    "certificate it replaces");
	if (supersedes && !change)
		return cf_error_set(err, CF_EINVAL, "/change",
				    "a change application says what changed: give change.description");
	if (change) {
		e = jsonx_check_object(change, "/change", change_keys, err);
		if (!e)
			e = jsonx_get_text(change, "/change", "description", true, 4000, &out->description,
					   err);
		if (e)
			return e;
		const json_t *refs = json_object_get(change, "requirements");
		if (refs && (!json_is_array(refs) || json_array_size(refs) > 1000))
			return cf_error_set(err, CF_EINVAL, "/change/requirements",
					    "/change/requirements must list up to 1000 requirement refs");
		size_t i;
		json_t *ref;
		json_array_foreach(refs, i, ref) {
			if (!json_is_string(ref) || json_string_length(ref) < 1 || json_string_length(ref) > 40) {
				char ptr[48];
				snprintf(ptr, sizeof ptr, "/change/requirements/%zu", i);
				return cf_error_set(err, CF_EINVAL, ptr, "%s must be a requirement ref", ptr);
			}
		}
		out->changed = refs;
	}
	out->from = supersedes ? supersedes : from;
	out->change = supersedes != NULL;
	return CF_OK;
}

/* Writes the carry into the application just inserted (once: migration
 * 0029 refuses a later change). */
static cf_err carry_columns(struct db *db, const struct application_row *a,
			    const struct carry_request *rq, struct cf_error *err)
{
	char *changed = rq->changed ? json_dumps(rq->changed, JSON_COMPACT) : cf_strdup("[]");
	const char *p[] = { a->id, rq->from, rq->change ? rq->from : NULL,
			    rq->change ? rq->description : NULL, changed };
	cf_err e = db_query_hot(db, NULL, err,
		"UPDATE application SET carried_from = $2, supersedes = $3, change_description = $4,"
		" change_requirements = ARRAY(SELECT json_array_elements_text($5::json)) WHERE id = $1",
		5, p);
	free(changed);
	return e;
}

cf_err carry_check(struct db *db, const struct principal *p, const struct application_row *a,
		   const struct carry_request *rq, struct carry_origin *o, struct cf_error *err)
{
	memset(o, 0, sizeof *o);
	if (!rq->from)
		return CF_OK;
	const char *ptr = rq->change ? "/supersedes" : "/carried_from";
	if (strcmp(a->assessment_type, "third-party") != 0)
		return cf_error_set(err, CF_EINVAL, ptr,
				    "a self declaration carries nothing: an assessor accepts carried "
				    "verdicts");
	const char *cp[] = { rq->from };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.application_id, c.manufacturer_id, c.scheme_id, c.scheme_version, s.status,"
		" src.product_id, c.body_id FROM certificate c CROSS JOIN LATERAL conform_certificate_state(c, now()) s"
		" JOIN application src ON src.id = c.application_id WHERE c.serial = $1", 1, cp);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, ptr, "there is no certificate %.40s", rq->from);
		goto out;
	}
	if (strcmp(db_value(res, 0, 1), p->org_id) != 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, ptr, "%s is not a certificate of your organisation",
				 rq->from);
		goto out;
	}
	const char *status = db_value(res, 0, 4);
	if (strcmp(status, "valid") != 0 && !(rq->change && strcmp(status, "suspended") == 0)) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, ptr,
				 rq->change ? "%s is %s: a change application replaces a valid or "
					      "suspended certificate"
					    : "%s is %s: only a valid certificate's verdicts carry",
				 rq->from, status);
		goto out;
	}
	snprintf(o->application, sizeof o->application, "%s", db_value(res, 0, 0));
	snprintf(o->scheme, sizeof o->scheme, "%s", db_value(res, 0, 2));
	snprintf(o->version, sizeof o->version, "%s", db_value(res, 0, 3));
	snprintf(o->product, sizeof o->product, "%s", db_value(res, 0, 5));
	/* verdicts are about a product: they carry to the same product only */
	if (strcmp(o->product, a->product_id) != 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/product_id",
				 "%s certifies another product (%s): verdicts carry to the same product "
				 "only", rq->from, o->product);
		goto out;
	}
	bool same_version = strcmp(o->scheme, a->scheme_id) == 0 && strcmp(o->version, a->scheme_version) == 0;
	if (!rq->change) {
		/* within its own version a certificate is renewed or changed, not copied */
		if (same_version)
			e = cf_error_set(err, CF_EUNPROCESSABLE, ptr,
					 "%s is already a certificate of %s@%s for this product: a new "
					 "version of the product is a change application (supersedes and "
					 "change)", rq->from, o->scheme, o->version);
		goto out;
	}
	if (!same_version) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/scheme_version",
				 "a change application keeps the scheme version of %s (%s@%s)", rq->from,
				 o->scheme, o->version);
		goto out;
	}
	if (strcmp(db_value(res, 0, 6), a->body_id) != 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/body_id",
				 "a change application goes to the body that issued %s (%s): its "
				 "certificate supersedes that body's", rq->from, db_value(res, 0, 6));
		goto out;
	}
	PQclear(res);
	res = NULL;
	const char *op[] = { rq->from };
	/* open, or approved and waiting for its certificate: either would
	 * supersede the certificate first */
	e = db_query_hot(db, &res, err,
		"SELECT a.number FROM application a LEFT JOIN application_decision d"
		" ON d.application_id = a.id WHERE a.supersedes = $1 AND (a.state NOT IN ('withdrawn',"
		" 'decided') OR (d.decision = 'approved' AND NOT EXISTS (SELECT 1 FROM certificate c"
		" WHERE c.application_id = a.id)))", 1, op);
	if (!e && PQntuples(res) > 0)
		e = cf_error_set(err, CF_ECONFLICT, "/supersedes",
				 "application %s is already the change application of %s: withdraw it, "
				 "or wait for its refusal or its certificate", db_value(res, 0, 0), rq->from);
out:
	PQclear(res);
	return e;
}

/* Every declared requirement is one of the application's scheme version. */
static cf_err declared_check(struct db *db, const struct application_row *a, struct cf_error *err)
{
	const char *p[] = { a->id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT u.i - 1, u.r FROM application a, unnest(a.change_requirements) WITH ORDINALITY"
		" u(r, i) WHERE a.id = $1 AND NOT EXISTS (SELECT 1 FROM requirement q WHERE"
		" q.scheme_id = a.scheme_id AND q.version = a.scheme_version AND q.ref = u.r)"
		" ORDER BY u.i LIMIT 1", 1, p);
	if (!e && PQntuples(res) == 1) {
		char ptr[48];
		snprintf(ptr, sizeof ptr, "/change/requirements/%s", db_value(res, 0, 0));
		e = cf_error_set(err, CF_EUNPROCESSABLE, ptr, "%s@%s has no requirement %.40s",
				 a->scheme_id, a->scheme_version, db_value(res, 0, 1));
	}
	PQclear(res);
	return e;
}

/* Within one scheme version: the answers and current evidence judged
 * before, as the new application's first draft (the blobs are shared: the
 * store keeps a file while any evidence row names it). */
static cf_err copy_draft(struct db *db, const struct principal *p, const struct application_row *a,
			 const struct carry_origin *o, uint64_t rq_quota, json_t *details,
			 struct cf_error *err)
{
	const char *cp[] = { a->id, o->application, p->user_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO application_answer (application_id, ref, statement, text, justification,"
		" answered_by) SELECT $1, ref, statement, text, justification, $3 FROM application_answer"
		" WHERE application_id = $2 RETURNING ref", 3, cp);
	if (e)
		return e;
	json_object_set_new(details, "answers_copied", json_integer(PQntuples(res)));
	PQclear(res);
	/* the copies count against the quota as the uploads did */
	const char *qp[] = { o->application };
	e = evidence_quota_lock(db, a->manufacturer_id, err);
	if (!e)
		e = db_query_hot(db, &res, err,
			"SELECT coalesce(sum(size), 0) FROM evidence WHERE application_id = $1"
			" AND superseded_by IS NULL", 1, qp);
	if (e)
		return e;
	long long need = db_value_ll(res, 0, 0);
	PQclear(res);
	res = NULL;
	e = evidence_quota_check(db, a->manufacturer_id, need > 0 ? (uint64_t)need : 0, rq_quota,
				 "the carried evidence has", err);
	if (e)
		return e;
	/* who owns each keyword stays, unless the manufacturer named them anew */
	e = db_query_hot(db, NULL, err,
		"UPDATE application SET owners = (SELECT owners FROM application WHERE id = $2)"
		" WHERE id = $1 AND owners::text = '{}'", 2, cp);
	if (e)
		return e;
	e = db_query_hot(db, &res, err,
		"WITH src AS MATERIALIZED (SELECT gen_random_uuid() AS copy, e.* FROM evidence e"
		"  WHERE e.application_id = $2 AND e.superseded_by IS NULL),"
		" ins AS (INSERT INTO evidence (id, application_id, digest, name, media_type, size,"
		"  uploaded_by) SELECT copy, $1, digest, name, media_type, size, $3 FROM src RETURNING id),"
		" links AS (INSERT INTO evidence_link (evidence_id, ref) SELECT s.copy, l.ref FROM src s"
		"  JOIN evidence_link l ON l.evidence_id = s.id RETURNING 1)"
		" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM links)", 3, cp);
	if (e)
		return e;
	json_object_set_new(details, "evidence_copied", json_integer(db_value_ll(res, 0, 0)));
	PQclear(res);
	return CF_OK;
}

/* Into another scheme version: the target requirements the crosswalk covers
 * soundly, as [{ref, origins: [{ref, relationship, declared_by}]}] (new
 * reference). */
static cf_err covered_routes(struct db *db, const struct application_row *a, const struct carry_origin *o,
			     json_t **out, struct cf_error *err)
{
	json_t *cov = NULL;
	cf_err e = coverage_application(db, o->application, a->scheme_id, a->scheme_version, &cov, err);
	if (e)
		return e;
	*out = json_array();
	size_t i, k, n;
	json_t *req, *ro, *v;
	json_array_foreach(json_object_get(cov, "requirements"), i, req) {
		json_t *origins = json_array();
		json_array_foreach(json_object_get(req, "routes"), k, ro) {
			if (!json_is_true(json_object_get(ro, "carries")))
				continue;
			json_array_foreach(json_object_get(ro, "verdicts"), n, v)
				json_array_append_new(origins,
					json_pack("{s:O,s:O,s:O}", "ref", json_object_get(v, "ref"),
						  "relationship", json_object_get(ro, "relationship"),
						  "declared_by", json_object_get(ro, "declared_by")));
		}
		if (json_array_size(origins) > 0)
			json_array_append_new(*out, json_pack("{s:O,s:o}", "ref", json_object_get(req, "ref"),
							      "origins", origins));
		else
			json_decref(origins);
	}
	json_decref(cov);
	return CF_OK;
}

static cf_err record_offers(struct db *db, const struct application_row *a, const struct carry_origin *o,
			    json_t *details, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e;
	if (strcmp(o->scheme, a->scheme_id) == 0 && strcmp(o->version, a->scheme_version) == 0) {
		const char *p[] = { a->id, o->application };
		e = db_query_hot(db, &res, err,
			"INSERT INTO carry_offer (application_id, ref, verdict, origins)"
			" SELECT $1, v.ref, v.verdict, jsonb_build_array(jsonb_build_object('ref', v.ref,"
			" 'verdict', v.verdict, 'verdict_id', v.id, 'relationship', 'equivalent-to',"
			" 'declared_by', 'identity')) FROM current_verdict v WHERE v.application_id = $2"
			" AND v.verdict <> 'info_needed' RETURNING ref", 2, p);
	} else {
		json_t *routes = NULL;
		e = covered_routes(db, a, o, &routes, err);
		if (e)
			return e;
		char *text = json_dumps(routes, JSON_COMPACT);
		json_decref(routes);
		const char *p[] = { a->id, o->application, text };
		/* a covered requirement's sources all passed: the offer is a pass */
		e = db_query_hot(db, &res, err,
			"INSERT INTO carry_offer (application_id, ref, verdict, origins)"
			" SELECT $1, t->>'ref', 'pass', (SELECT jsonb_agg(x || jsonb_build_object('verdict',"
			" v.verdict, 'verdict_id', v.id) ORDER BY x.i) FROM jsonb_array_elements(t->'origins')"
			" WITH ORDINALITY AS x(x, i) JOIN current_verdict v ON v.application_id = $2"
			" AND v.ref = x.x->>'ref') FROM jsonb_array_elements($3::jsonb) t RETURNING ref",
			3, p);
		free(text);
	}
	if (e)
		return e;
	json_object_set_new(details, "offers", json_integer(PQntuples(res)));
	PQclear(res);
	return CF_OK;
}

cf_err carry_open(struct db *db, const struct principal *p, const struct application_row *a,
		  const struct carry_request *rq, const struct carry_origin *o, json_t **details,
		  struct cf_error *err)
{
	*details = NULL;
	if (!rq->from)
		return CF_OK;
	cf_err e = carry_columns(db, a, rq, err);
	if (!e && rq->change)
		e = declared_check(db, a, err);
	if (e)
		return e;
	json_t *d = json_pack("{s:s,s:o}", "carried_from", rq->from, "supersedes",
			      rq->change ? json_string(rq->from) : json_null());
	if (strcmp(o->scheme, a->scheme_id) == 0 && strcmp(o->version, a->scheme_version) == 0)
		e = copy_draft(db, p, a, o, rq->quota, d, err);
	if (!e)
		e = record_offers(db, a, o, d, err);
	if (e) {
		json_decref(d);
		return e;
	}
	*details = d;
	return CF_OK;
}

/*
 * Whether the certificate application id carries from still vouches for
 * its verdicts, by the rule of its creation: valid (a change application's
 * also suspended: the change is what mends it). *serial and *status say
 * which and what it is now ("" when the application carries nothing).
 */
static cf_err origin_usable(struct db *db, const char *id, bool *usable, char serial[40],
			    char status[24], struct cf_error *err)
{
	*usable = false;
	serial[0] = status[0] = '\0';
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.serial, s.status, a.supersedes IS NOT NULL FROM application a"
		" JOIN certificate c ON c.serial = a.carried_from"
		" CROSS JOIN LATERAL conform_certificate_state(c, now()) s WHERE a.id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1) {
		snprintf(serial, 40, "%s", db_value(res, 0, 0));
		snprintf(status, 24, "%s", db_value(res, 0, 1));
		*usable = strcmp(status, "valid") == 0 ||
			  (db_value_bool(res, 0, 2) && strcmp(status, "suspended") == 0);
	}
	PQclear(res);
	return CF_OK;
}

cf_err carry_offers(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	const char *p[] = { id };
	PGresult *res = NULL;
	bool usable = false;
	char serial[40], status[24];
	cf_err e = db_query_hot(db, &res, err,
		"SELECT ref, verdict, origins::text, conform_carry_changed(application_id, ref)"
		" FROM carry_offer WHERE application_id = $1", 1, p);
	/* the certificate is looked at only when something is offered from it */
	if (!e && PQntuples(res) > 0)
		e = origin_usable(db, id, &usable, serial, status, err);
	if (e) {
		PQclear(res);
		return e;
	}
	*out = json_object();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *changed = db_value(res, i, 3);
		json_t *origins = json_loads(db_value(res, i, 2), 0, NULL);
		json_object_set_new(*out, db_value(res, i, 0),
			json_pack("{s:s,s:o,s:o,s:b}", "verdict", db_value(res, i, 1), "origins",
				  origins ? origins : json_array(), "changed", jsonx_text_or_null(changed),
				  "acceptable", changed == NULL && usable));
	}
	PQclear(res);
	return CF_OK;
}

cf_err carry_sound(struct db *db, const struct application_row *a, const char *pointer,
		   struct cf_error *err)
{
	bool usable;
	char serial[40], status[24];
	cf_err e = origin_usable(db, a->id, &usable, serial, status, err);
	if (e || usable || !serial[0])
		return e;
	const char *p[] = { a->id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT count(*), string_agg(v.ref, ', ' ORDER BY r.position) FROM application a"
		" JOIN current_verdict v ON v.application_id = a.id JOIN requirement r"
		" ON r.scheme_id = a.scheme_id AND r.version = a.scheme_version AND r.ref = v.ref"
		" WHERE a.id = $1 AND v.carried_from IS NOT NULL", 1, p);
	if (e)
		return e;
	long long n = db_value_ll(res, 0, 0);
	if (n > 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, pointer,
				 "%lld verdict%s carried from %s, which is %s now and vouches for them no "
				 "more: review %s anew (%.300s)", n, n == 1 ? " was" : "s were", serial,
				 status, n == 1 ? "it" : "them", db_value(res, 0, 1));
	PQclear(res);
	return e;
}

/* The static name of a stored verdict. */
static const char *verdict_name(const char *v)
{
	static const char *const names[] = { "pass", "fail", "not_applicable" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(v, names[i]) == 0)
			return names[i];
	return NULL;
}

cf_err carry_accept(struct db *db, const struct principal *p, const struct application_row *a,
		    const char *ref, const char *comment, const char *ptr, const char **verdict,
		    struct cf_error *err)
{
	*verdict = NULL;
	const char *op[] = { a->id, ref };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT verdict, origins->0->>'verdict_id', conform_carry_changed(application_id, ref)"
		" FROM carry_offer WHERE application_id = $1 AND ref = $2", 2, op);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, ptr,
				 "no verdict is carried to %.40s: review it", ref);
		goto out;
	}
	const char *changed = db_value(res, 0, 2);
	if (changed) {
		static const char *const why[][2] = {
			{ "declared", "the manufacturer declared it changed" },
			{ "answer", "its answer differs from the one judged" },
			{ "evidence", "its evidence differs from the one judged" },
		};
		const char *said = changed;
		for (size_t i = 0; i < sizeof why / sizeof why[0]; i++)
			if (strcmp(changed, why[i][0]) == 0)
				said = why[i][1];
		char extra[64];
		snprintf(extra, sizeof extra, "{\"changed\":\"%s\"}", changed);
		cf_error_set(err, CF_ESTATE, ptr, "%.40s cannot carry its verdict: %s; review it anew", ref,
			     said);
		cf_error_set_extra(err, extra);
		e = CF_ESTATE;
		goto out;
	}
	bool usable;
	char serial[40], status[24];
	e = origin_usable(db, a->id, &usable, serial, status, err);
	if (e)
		goto out;
	if (!usable) {
		char extra[64];
		snprintf(extra, sizeof extra, "{\"origin_status\":\"%s\"}", status);
		cf_error_set(err, CF_ESTATE, ptr,
			     "%.40s cannot carry its verdict: %s, the certificate it comes from, is %s "
			     "now; review it anew", ref, serial, status);
		cf_error_set_extra(err, extra);
		e = CF_ESTATE;
		goto out;
	}
	*verdict = verdict_name(db_value(res, 0, 0));
	const char *vp[] = { a->id, ref, db_value(res, 0, 0), comment, p->user_id, db_value(res, 0, 1) };
	e = db_query_hot(db, NULL, err,
		"INSERT INTO review_verdict (application_id, ref, verdict, comment, assessor_id,"
		" carried_from) VALUES ($1, $2, $3, $4, $5, $6)", 6, vp);
out:
	PQclear(res);
	return e;
}

cf_err carry_statement(struct db *db, const char *public_url, const char *id, json_t **out,
		       char supersedes[40], struct cf_error *err)
{
	*out = NULL;
	supersedes[0] = '\0';
	const char *p[] = { id };
	PGresult *head = NULL, *res = NULL;
	cf_err e = db_query_hot(db, &head, err,
		"SELECT carried_from, coalesce(supersedes, '') FROM application WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(head) != 1 || !db_value(head, 0, 0))
		goto out;
	snprintf(supersedes, 40, "%s", db_value(head, 0, 1));
	e = db_query_hot(db, &res, err,
		"SELECT v.ref, v.verdict, v.carried_from IS NOT NULL, o.origins::text"
		" FROM application a JOIN requirement r ON r.scheme_id = a.scheme_id"
		" AND r.version = a.scheme_version JOIN current_verdict v ON v.application_id = a.id"
		" AND v.ref = r.ref LEFT JOIN carry_offer o ON o.application_id = a.id AND o.ref = r.ref"
		" WHERE a.id = $1 AND v.verdict <> 'info_needed' ORDER BY r.position", 1, p);
	if (e)
		goto out;
	json_t *anew = json_array(), *carried = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		if (!db_value_bool(res, i, 2)) {
			json_array_append_new(anew, json_string(db_value(res, i, 0)));
			continue;
		}
		json_t *origins = json_loads(db_value(res, i, 3), 0, NULL);
		json_t *source = json_array();
		size_t k;
		json_t *x;
		json_array_foreach(origins, k, x)
			json_array_append_new(source, json_pack("{s:O,s:O}", "requirement",
				json_object_get(x, "ref"), "relationship", json_object_get(x, "relationship")));
		json_decref(origins);
		json_array_append_new(carried, json_pack("{s:s,s:s,s:o}", "requirement", db_value(res, i, 0),
							 "verdict", db_value(res, i, 1), "source", source));
	}
	char url[512];
	snprintf(url, sizeof url, "%s/v1/certificates/%s", public_url, db_value(head, 0, 0));
	*out = json_pack("{s:s,s:o,s:o}", "carriedFrom", url, "assessedAnew", anew, "carried", carried);
out:
	PQclear(head);
	PQclear(res);
	return e;
}
