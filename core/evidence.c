/*
 * evidence: evidence metadata and links (see evidence.h).
 */
#include "evidence.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "audit.h"
#include "jsonx.h"
#include "mem.h"

void evidence_safe_name(const char *name, char *out, size_t size)
{
	size_t n = 0;
	const char *base = name ? strrchr(name, '/') : NULL;
	const char *s = base ? base + 1 : name ? name : "";
	while (*s == '.' || *s == ' ')
		s++; /* no hidden files, no "..": */
	for (; *s && n + 1 < size && n < 200; s++) {
		unsigned char c = (unsigned char)*s;
		out[n++] = (isalnum(c) || c == '.' || c == '-' || c == '_' || c == ' ' || c == '(' ||
			    c == ')' || c == '+')
				   ? (char)c : '_';
	}
	while (n && (out[n - 1] == ' ' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "evidence");
}

static bool media_type_ok(const char *t)
{
	/* type/subtype with token characters, optional parameters dropped by caller */
	const char *slash = strchr(t, '/');
	if (!slash || slash == t || !slash[1] || strlen(t) > 200)
		return false;
	for (const char *p = t; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("/!#$&^_.+-", *p)))
			return false;
	return true;
}

static cf_err may_upload(const struct application_row *a, const struct principal *p,
			 struct cf_error *err)
{
	if (strcmp(a->manufacturer_id, p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the application is not your organisation's");
	if (strcmp(a->state, "draft") != 0 && strcmp(a->state, "info_requested") != 0) {
		cf_error_set(err, CF_ESTATE, NULL,
			     "evidence is added while the application is a draft or information is "
			     "requested; it is %s", a->state);
		char extra[64];
		snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", a->state);
		cf_error_set_extra(err, extra);
		return CF_ESTATE;
	}
	return CF_OK;
}

cf_err evidence_may_upload(struct db *db, const struct principal *p, const char *application_id,
			   struct cf_error *err)
{
	struct application_row a;
	cf_err e = application_load(db, application_id, false, &a, err);
	return e ? e : may_upload(&a, p, err);
}

struct record_job {
	const struct principal *p;
	const struct evidence_upload *u;
	const char *name, *media_type;
	char id[37];
};

static cf_err record_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct record_job *j = arg;
	const struct evidence_upload *u = j->u;
	struct application_row a;
	cf_err e = application_load(db, u->application_id, true, &a, err);
	if (!e)
		e = may_upload(&a, j->p, err);
	if (!e && u->supersedes && !party_is_uuid(u->supersedes))
		e = cf_error_set(err, CF_EINVAL, NULL, "supersedes must be an evidence id");
	if (!e)
		e = application_check_unsettled(db, &a, u->refs, u->supersedes, err);
	if (e)
		return e;
	char size[24];
	snprintf(size, sizeof size, "%llu", (unsigned long long)u->size);
	const char *params[] = { a.id, u->digest, j->name, j->media_type, size, j->p->user_id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"INSERT INTO evidence (application_id, digest, name, media_type, size, uploaded_by)"
		" VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", 6, params);
	if (e)
		return e;
	snprintf(j->id, sizeof j->id, "%s", db_value(res, 0, 0));
	PQclear(res);

	/* links: the refs given, or those of the evidence it supersedes */
	if (u->supersedes) {
		const char *sp[] = { u->supersedes, a.id, j->id };
		e = db_query_hot(db, &res, err,
			"UPDATE evidence SET superseded_by = $3, superseded_at = now() WHERE id = $1"
			" AND application_id = $2 AND superseded_by IS NULL RETURNING id", 3, sp);
		if (e)
			return e;
		bool found = PQntuples(res) == 1;
		PQclear(res);
		if (!found)
			return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
					    "supersedes: %s is not current evidence of this application",
					    u->supersedes);
		if (!u->refs) {
			e = db_query_hot(db, NULL, err,
				"INSERT INTO evidence_link (evidence_id, ref) SELECT $3, ref FROM evidence_link"
				" WHERE evidence_id = $1 AND $2::uuid IS NOT NULL", 3, sp);
			if (e)
				return e;
		}
	}
	if (u->refs) {
		char *copy = cf_strdup(u->refs), *save = NULL;
		for (char *r = strtok_r(copy, ",", &save); r && !e; r = strtok_r(NULL, ",", &save)) {
			while (*r == ' ')
				r++;
			const char *lp[] = { j->id, r, a.scheme_id, a.scheme_version };
			e = db_query_hot(db, &res, err,
				"WITH req AS (SELECT ref FROM requirement WHERE scheme_id = $3 AND version = $4"
				" AND ref = $2), link AS (INSERT INTO evidence_link (evidence_id, ref)"
				" SELECT $1, ref FROM req ON CONFLICT DO NOTHING) SELECT count(*) FROM req",
				4, lp);
			if (e)
				break;
			bool known = db_value_ll(res, 0, 0) == 1;
			PQclear(res);
			if (!known && *r)
				e = cf_error_set(err, CF_EUNPROCESSABLE, NULL, "refs: %s@%s has no requirement %.40s",
						 a.scheme_id, a.scheme_version, r);
		}
		free(copy);
		if (e)
			return e;
	}
	const char *vp[] = { a.id };
	e = db_query_hot(db, NULL, err,
		"UPDATE application SET version = version + 1, updated_at = now() WHERE id = $1", 1, vp);
	if (e)
		return e;
	struct audit_actor actor = party_actor(j->p);
	json_t *details = json_pack("{s:I,s:s,s:s,s:s,s:I}", "number", (json_int_t)a.number,
				    "evidence_id", j->id, "name", j->name, "digest", u->digest, "size",
				    (json_int_t)u->size);
	if (u->supersedes)
		json_object_set_new(details, "supersedes", json_string(u->supersedes));
	e = audit_append(db, &actor, "application.evidence", "application", a.id, details, err);
	json_decref(details);
	return e;
}

cf_err evidence_record(struct db *db, const struct principal *p, const struct evidence_upload *u,
		       json_t **out, struct cf_error *err)
{
	*out = NULL;
	char name[208];
	evidence_safe_name(u->name, name, sizeof name);
	char media[208];
	snprintf(media, sizeof media, "%s", u->media_type ? u->media_type : "application/octet-stream");
	media[strcspn(media, "; ")] = '\0';
	for (char *c = media; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!media_type_ok(media))
		return cf_error_set(err, CF_EINVAL, NULL, "Content-Type '%.60s' is not a media type", media);
	struct evidence_upload copy = *u;
	if (copy.refs && !*copy.refs)
		copy.refs = NULL; /* refs= says nothing: a superseding file keeps the old links */
	struct record_job j = { p, &copy, name, media, "" };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, record_tx, &j, err);
	if (!e)
		e = evidence_get(db, u->application_id, j.id, out, err);
	return e;
}

#define EVIDENCE_COLUMNS                                                                       \
	"e.id, e.name, e.media_type, e.size, e.digest, " DB_TS("e.uploaded_at") ", e.uploaded_by," \
	" e.superseded_by, " DB_TS("e.superseded_at") ", coalesce((SELECT json_agg(l.ref ORDER BY" \
	" l.ref) FROM evidence_link l WHERE l.evidence_id = e.id), '[]')::text"

static json_t *evidence_json(const PGresult *res, int i, const char *application_id)
{
	const char *sup = db_value(res, i, 7);
	char *href = cf_asprintf("/v1/applications/%s/evidence/%s", application_id, db_value(res, i, 0));
	json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "id", db_value(res, i, 0),
			      "name", db_value(res, i, 1), "media_type", db_value(res, i, 2), "size",
			      (json_int_t)db_value_ll(res, i, 3), "digest", db_value(res, i, 4),
			      "uploaded_at", db_value(res, i, 5), "uploaded_by", db_value(res, i, 6),
			      "superseded_by", sup ? json_string(sup) : json_null(), "superseded_at",
			      db_value(res, i, 8) ? json_string(db_value(res, i, 8)) : json_null(),
			      "refs", json_loads(db_value(res, i, 9), 0, NULL), "href", href);
	free(href);
	return j;
}

cf_err evidence_list(struct db *db, const char *application_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!party_is_uuid(application_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", application_id);
	const char *p[] = { application_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " EVIDENCE_COLUMNS " FROM evidence e WHERE e.application_id = $1"
		" ORDER BY e.uploaded_at, e.id", 1, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, evidence_json(res, i, application_id));
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

cf_err evidence_get(struct db *db, const char *application_id, const char *evidence_id,
		    json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!party_is_uuid(application_id) || !party_is_uuid(evidence_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no such evidence");
	const char *p[] = { application_id, evidence_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " EVIDENCE_COLUMNS " FROM evidence e WHERE e.application_id = $1 AND e.id = $2",
		2, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = evidence_json(res, 0, application_id);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "application %s has no evidence %s",
				 application_id, evidence_id);
	PQclear(res);
	return e;
}

struct delete_job {
	const struct principal *p;
	const char *application_id, *evidence_id;
};

static cf_err delete_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct delete_job *j = arg;
	struct application_row a;
	cf_err e = application_load(db, j->application_id, true, &a, err);
	if (e)
		return e;
	if (strcmp(a.manufacturer_id, j->p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the application is not your organisation's");
	if (strcmp(a.state, "draft") != 0)
		return cf_error_set(err, CF_ESTATE, NULL,
				    "evidence is never deleted once the application is submitted: "
				    "supersede it with a new upload instead");
	const char *p[] = { j->evidence_id, a.id };
	PGresult *res = NULL;
	/* only this application's evidence; a file it replaced is current again */
	e = db_query_hot(db, NULL, err, "DELETE FROM evidence_link WHERE evidence_id = $1"
			 " AND EXISTS (SELECT 1 FROM evidence WHERE id = $1 AND application_id = $2)",
			 2, p);
	if (!e)
		e = db_query_hot(db, NULL, err, "UPDATE evidence SET superseded_by = NULL,"
				 " superseded_at = NULL WHERE superseded_by = $1 AND application_id = $2",
				 2, p);
	if (!e)
		e = db_query_hot(db, &res, err,
				 "DELETE FROM evidence WHERE id = $1 AND application_id = $2 RETURNING digest",
				 2, p);
	if (e)
		return e;
	bool found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "application %s has no evidence %s", a.id,
				    j->evidence_id);
	struct audit_actor actor = party_actor(j->p);
	json_t *details = json_pack("{s:I,s:s}", "number", (json_int_t)a.number, "evidence_id",
				    j->evidence_id);
	e = audit_append(db, &actor, "application.evidence_delete", "application", a.id, details, err);
	json_decref(details);
	return e;
}

cf_err evidence_delete(struct db *db, const struct principal *p, const char *application_id,
		       const char *evidence_id, struct cf_error *err)
{
	if (!party_is_uuid(evidence_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no evidence %.40s", evidence_id);
	struct delete_job j = { p, application_id, evidence_id };
	return db_transaction(db, DB_READ_COMMITTED, delete_tx, &j, err);
}
