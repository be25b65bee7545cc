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
#include "ids.h"
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
	return application_open_for(a, "evidence is added", err);
}

/* The media type as stored: lower case, parameters dropped. */
static cf_err normal_media(const char *given, char out[208], struct cf_error *err)
{
	snprintf(out, 208, "%s", given ? given : "application/octet-stream");
	out[strcspn(out, "; ")] = '\0';
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!media_type_ok(out))
		return cf_error_set(err, CF_EINVAL, NULL, "Content-Type '%.60s' is not a media type", out);
	return CF_OK;
}

/* Has refs any requirement reference (not only commas and spaces)? */
static bool refs_given(const char *refs)
{
	return refs && refs[strspn(refs, ", ")] != '\0';
}

/* Advisory lock keys (pg_advisory_xact_lock): an organisation's quota, a
 * blob's digest, the one janitor. */
#define LOCK_QUOTA "SELECT pg_advisory_xact_lock(hashtextextended('conform.quota:' || $1, 0))"
#define LOCK_BLOB "SELECT pg_advisory_xact_lock(hashtextextended('conform.blob:' || $1, 0))"
#define LOCK_JANITOR "SELECT pg_try_advisory_xact_lock(hashtextextended('conform.janitor', 0))"

/* The parameters of an upload, against the application (see
 * evidence_check_upload). size < 0: not known yet. */
static cf_err check_params(struct db *db, const struct application_row *a,
			   const struct evidence_upload *u, long long size, struct cf_error *err)
{
	char media[208];
	PGresult *res = NULL;
	cf_err e = normal_media(u->media_type, media, err);
	if (e)
		return e;
	if (u->supersedes) {
		if (!ids_is_uuid(u->supersedes))
			return cf_error_set(err, CF_EINVAL, NULL,
					    "supersedes: '%.40s' is not an evidence id", u->supersedes);
		const char *sp[] = { u->supersedes, a->id };
		e = db_query_hot(db, &res, err, "SELECT 1 FROM evidence WHERE id = $1 AND application_id = $2"
				 " AND superseded_by IS NULL", 2, sp);
		if (e)
			return e;
		bool found = PQntuples(res) == 1;
		PQclear(res);
		if (!found)
			return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
					    "supersedes: %s is not current evidence of this application",
					    u->supersedes);
	}
	if (refs_given(u->refs)) {
		char *copy = cf_strdup(u->refs), *save = NULL;
		for (char *r = strtok_r(copy, ",", &save); r && !e; r = strtok_r(NULL, ",", &save)) {
			while (*r == ' ')
				r++;
			if (!*r)
				continue;
			const char *lp[] = { a->scheme_id, a->scheme_version, r };
			e = db_query_hot(db, &res, err, "SELECT 1 FROM requirement WHERE scheme_id = $1"
					 " AND version = $2 AND ref = $3", 3, lp);
			if (e)
				break;
			bool known = PQntuples(res) == 1;
			PQclear(res);
			if (!known)
				e = cf_error_set(err, CF_EUNPROCESSABLE, NULL, "refs: %s@%s has no requirement %.40s",
						 a->scheme_id, a->scheme_version, r);
		}
		free(copy);
		if (e)
			return e;
	} else if (!u->supersedes) {
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "refs: evidence must be linked to at least one requirement of %s@%s "
				    "(refs=REF,REF...), or supersede current evidence (supersedes=ID)",
				    a->scheme_id, a->scheme_version);
	}
	if (size == 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "the file is empty (0 bytes): an empty file is no evidence");
	e = application_check_unsettled(db, a, refs_given(u->refs) ? u->refs : NULL, u->supersedes, err);
	if (e)
		return e;
	/* the quota: an organisation's every evidence row, however deduplicated
	 * on disk, counts (its files are its records). A size not yet known
	 * (chunked) is at least one byte. */
	return evidence_quota_check(db, a->manufacturer_id, size < 0 ? 1 : (uint64_t)size, u->quota,
				    size < 0 ? "the file has at least" : "the file has", err);
}

cf_err evidence_quota_check(struct db *db, const char *org_id, uint64_t need, uint64_t quota,
			    const char *what, struct cf_error *err)
{
	uint64_t used = 0;
	cf_err e = evidence_usage(db, org_id, &used, err);
	if (e)
		return e;
	if (need <= quota && used <= quota - need)
		return CF_OK;
	cf_error_set(err, CF_ETOOLARGE, NULL,
		     "the organisation's evidence quota of %llu bytes would be exceeded: %llu bytes are "
		     "used and %s %llu", (unsigned long long)quota, (unsigned long long)used, what,
		     (unsigned long long)need);
	char extra[128];
	snprintf(extra, sizeof extra, "{\"quota\":%llu,\"used\":%llu}", (unsigned long long)quota,
		 (unsigned long long)used);
	cf_error_set_extra(err, extra);
	return CF_ETOOLARGE;
}

cf_err evidence_quota_lock(struct db *db, const char *org_id, struct cf_error *err)
{
	const char *op[] = { org_id };
	return db_query_hot(db, NULL, err, LOCK_QUOTA, 1, op);
}

cf_err evidence_usage(struct db *db, const char *org_id, uint64_t *used, struct cf_error *err)
{
	*used = 0;
	const char *p[] = { org_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT coalesce(sum(e.size), 0) FROM evidence e JOIN application a ON a.id = e.application_id"
		" WHERE a.manufacturer_id = $1", 1, p);
	if (e)
		return e;
	long long n = db_value_ll(res, 0, 0);
	*used = n > 0 ? (uint64_t)n : 0;
	PQclear(res);
	return CF_OK;
}

cf_err evidence_check_upload(struct db *db, const struct principal *p, const struct evidence_upload *u,
			     long long announced, struct cf_error *err)
{
	struct application_row a;
	cf_err e = application_load(db, u->application_id, false, &a, err);
	if (!e)
		e = may_upload(&a, p, err);
	if (!e)
		e = check_params(db, &a, u, announced, err);
	return e;
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
	if (e)
		return e;
	/* the quota is checked and used under one lock per organisation */
	e = evidence_quota_lock(db, a.manufacturer_id, err);
	if (!e)
		e = check_params(db, &a, u, (long long)u->size, err);
	if (e)
		return e;
	/* the file goes in its place under its digest's lock, held until the row
	 * that references it commits: the janitor takes the same lock */
	const char *dp[] = { u->digest };
	e = db_query_hot(db, NULL, err, LOCK_BLOB, 1, dp);
	if (!e && u->blob)
		e = blob_place(u->blob, err);
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
			if (!*r)
				continue;
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
			if (!known)
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
	cf_err e = normal_media(u->media_type, media, err);
	if (e)
		return e;
	struct evidence_upload copy = *u;
	if (!refs_given(copy.refs))
		copy.refs = NULL; /* refs= says nothing: a superseding file keeps the old links */
	struct record_job j = { p, &copy, name, media, "" };
	e = db_transaction(db, DB_READ_COMMITTED, record_tx, &j, err);
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
	if (!ids_is_uuid(application_id))
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
	if (!ids_is_uuid(application_id) || !ids_is_uuid(evidence_id))
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
	char digest[65];
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
	if (found)
		snprintf(j->digest, sizeof j->digest, "%s", db_value(res, 0, 0));
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

cf_err evidence_delete(struct db *db, const struct principal *p, const char *root,
		       const char *application_id, const char *evidence_id, struct cf_error *err)
{
	if (!ids_is_uuid(evidence_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no evidence %.40s", evidence_id);
	struct delete_job j = { p, application_id, evidence_id, "" };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, delete_tx, &j, err);
	/* the janitor's grace period counts from now, not from the upload */
	if (!e && j.digest[0])
		blob_touch(root, j.digest);
	return e;
}

struct gc_job {
	const struct audit_actor *actor;
	const char *root;
	long long grace;
	struct evidence_gc_result *out;
	long long young;    /* blobs too young to look at */
	json_t *candidates; /* digests old enough, found before the transaction */
};

static bool gc_visit(const char *digest, uint64_t size, long long age, void *arg)
{
	struct gc_job *j = arg;
	(void)size;
	if (age >= j->grace)
		json_array_append_new(j->candidates, json_string(digest));
	else
		j->young++;
	return json_array_size(j->candidates) < 10000; /* the rest next time */
}

static cf_err gc_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct gc_job *j = arg;
	struct evidence_gc_result *o = j->out;
	o->removed = 0; /* the transaction may be tried again */
	o->bytes = 0;
	o->kept = j->young;
	o->skipped = false;
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, LOCK_JANITOR, 0, NULL);
	if (e)
		return e;
	bool mine = db_value_bool(res, 0, 0);
	PQclear(res);
	if (!mine) {
		o->skipped = true;
		return CF_OK;
	}
	json_t *removed = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(j->candidates, i, v) {
		const char *dp[] = { json_string_value(v) };
		/* an upload of the same content holds this lock from placing the
		 * file to committing its row: after it, the row is visible */
		e = db_query_hot(db, NULL, err, LOCK_BLOB, 1, dp);
		if (!e)
			e = db_query_hot(db, &res, err, "SELECT EXISTS (SELECT 1 FROM evidence WHERE digest = $1)",
					 1, dp);
		if (e)
			break;
		bool referenced = db_value_bool(res, 0, 0);
		PQclear(res);
		if (referenced) {
			o->kept++;
			continue;
		}
		bool gone = false;
		uint64_t size = 0;
		/* looked at again: a file placed again since the walk is young */
		e = blob_remove_if_old(j->root, dp[0], j->grace, &gone, &size, err);
		if (e)
			break;
		if (!gone) {
			o->kept++;
			continue;
		}
		o->removed++;
		o->bytes += size;
		json_array_append_new(removed, json_string(dp[0]));
	}
	if (!e && o->removed) {
		json_t *details = json_pack("{s:I,s:I,s:I,s:O}", "removed", (json_int_t)o->removed, "bytes",
					    (json_int_t)o->bytes, "grace_seconds", (json_int_t)j->grace,
					    "digests", removed);
		e = audit_append(db, j->actor, "evidence.gc", "blobstore", "evidence", details, err);
		json_decref(details);
	}
	json_decref(removed);
	return e;
}

cf_err evidence_gc(struct db *db, const struct audit_actor *actor, const char *root, long long grace,
		   struct evidence_gc_result *out, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	if (grace < 0)
		grace = 0;
	struct gc_job j = { actor, root, grace, out, 0, json_array() };
	cf_err e = blob_each(root, gc_visit, &j, err);
	if (!e && json_array_size(j.candidates))
		e = db_transaction(db, DB_READ_COMMITTED, gc_tx, &j, err);
	else
		out->kept = j.young;
	/* a temporary file is an upload under way: one a day old is abandoned */
	if (!e && !out->skipped)
		out->tmp_removed = blob_sweep_tmp(root, grace > 86400 ? grace : 86400);
	json_decref(j.candidates);
	return e;
}
