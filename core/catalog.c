/*
 * catalog: storage and queries of imported schemes (see catalog.h).
 */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "digest.h"
#include "jsonx.h"
#include "mem.h"

cf_err catalog_split_ref(const char *ref, char id[64], char version[40], bool *has_version,
			 struct cf_error *err)
{
	const char *at = strchr(ref, '@');
	size_t idlen = at ? (size_t)(at - ref) : strlen(ref);
	if (idlen == 0 || idlen >= 64 || (at && (strlen(at + 1) == 0 || strlen(at + 1) >= 40)))
		return cf_error_set(err, CF_EINVAL, NULL,
				    "'%.80s' is not a scheme reference (ID or ID@VERSION)", ref);
	memcpy(id, ref, idlen);
	id[idlen] = '\0';
	snprintf(version, 40, "%s", at ? at + 1 : "");
	*has_version = at != NULL;
	return CF_OK;
}

/* ---- import ---- */

struct import_job {
	const json_t *doc;
	const char *canon;
	const struct audit_actor *actor;
	struct catalog_import *out;
};

static cf_err insert_classes(struct db *db, const char *id, const char *version, const json_t *doc,
			     struct cf_error *err)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(doc, "classes"), i, c) {
		char num[24];
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(json_object_get(c, "class")));
		const char *p[] = { id, version, num, jsonx_str(c, "confidentiality"),
				    jsonx_str(c, "integrity"), jsonx_str(c, "availability"),
				    jsonx_str(c, "description") };
		cf_err e = db_query_hot(db, NULL, err,
			"INSERT INTO scheme_class (scheme_id, version, class, confidentiality, integrity,"
			" availability, description) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, p);
		if (e)
			return e;
	}
	return CF_OK;
}

static cf_err insert_sections(struct db *db, const char *id, const char *version, const json_t *doc,
			      struct cf_error *err)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		char pos[24];
		snprintf(pos, sizeof pos, "%zu", i);
		const char *p[] = { id, version, jsonx_str(s, "id"), pos, jsonx_str(s, "title"),
				    jsonx_str(s, "audience") };
		cf_err e = db_query_hot(db, NULL, err,
			"INSERT INTO scheme_section (scheme_id, version, section_id, position, title,"
			" audience) VALUES ($1, $2, $3, $4, $5, $6)", 6, p);
		if (e)
			return e;
	}
	return CF_OK;
}

static cf_err insert_requirement(struct db *db, const char *id, const char *version, size_t pos,
				 const json_t *r, struct cf_error *err)
{
	char position[24], from[24] = "";
	snprintf(position, sizeof position, "%zu", pos);
	json_t *app = json_object_get(r, "applicability");
	bool mandatory = json_is_object(app);
	if (mandatory)
		snprintf(from, sizeof from, "%lld",
			 (long long)json_integer_value(json_object_get(app, "mandatory_from_class")));
	json_t *kw = json_object_get(r, "keywords");
	char *prim = json_dumps(json_object_get(kw, "primary"), JSON_COMPACT);
	char *sec = json_dumps(json_object_get(kw, "secondary"), JSON_COMPACT);
	char *data = json_dumps(r, JSON_COMPACT);
	const char *p[] = { id, version, jsonx_str(r, "ref"), position, jsonx_str(r, "section"),
			    jsonx_str(r, "title"), prim, sec, mandatory ? from : NULL,
			    json_object_get(r, "condition") ? "true" : "false", data };
	cf_err e = db_query_hot(db, NULL, err,
		"INSERT INTO requirement (scheme_id, version, ref, position, section_id, title,"
		" primary_keywords, secondary_keywords, mandatory_from_class, conditional, data)"
		" VALUES ($1, $2, $3, $4, $5, $6,"
		" ARRAY(SELECT json_array_elements_text($7::json)),"
		" ARRAY(SELECT json_array_elements_text($8::json)), $9, $10, $11)", 11, p);
	free(prim);
	free(sec);
	free(data);
	if (e)
		return e;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(r, "mappings"), i, m) {
		const char *to = jsonx_str(m, "to");
		const char *at = strchr(to, '@');
		char tid[64];
		snprintf(tid, sizeof tid, "%.*s", (int)(at - to), to);
		char *refs = json_dumps(json_object_get(m, "refs"), JSON_COMPACT);
		const char *mp[] = { id, version, jsonx_str(r, "ref"), tid, at + 1, refs,
				     jsonx_str(m, "relationship"), jsonx_str(m, "note") };
		e = db_query_hot(db, NULL, err,
			"INSERT INTO requirement_mapping (scheme_id, version, ref, target_scheme,"
			" target_version, target_refs, relationship, note) VALUES ($1, $2, $3, $4, $5,"
			" ARRAY(SELECT json_array_elements_text($6::json)), $7, $8)", 8, mp);
		free(refs);
		if (e)
			return e;
	}
	return CF_OK;
}

/* A copy of doc without its crosswalk: every requirement's mappings, and the
 * file's two prose texts, coverage and notes, which say where the mappings
 * come from. Nothing an assessor checks against (requirements, classes,
 * keywords, sections, validity) is left out. */
static json_t *without_crosswalk(const json_t *doc)
{
	json_t *copy = json_deep_copy(doc);
	json_object_del(copy, "coverage");
	json_object_del(copy, "notes");
	json_object_del(copy, "$schema");
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(copy, "requirements"), i, r)
		json_object_del(r, "mappings");
	return copy;
}

/* Does doc differ from the stored document of id@version only in its
 * crosswalk? */
static cf_err differs_in_crosswalk_only(struct db *db, const char *id, const char *version,
					const json_t *doc, bool *out, struct cf_error *err)
{
	const char *p[] = { id, version };
	PGresult *res = NULL;
	*out = false;
	cf_err e = db_query_hot(db, &res, err,
				"SELECT document FROM scheme_version WHERE scheme_id = $1 AND version = $2",
				2, p);
	if (e)
		return e;
	json_t *stored = PQntuples(res) == 1 ? json_loads(db_value(res, 0, 0), 0, NULL) : NULL;
	PQclear(res);
	if (stored) {
		json_t *a = without_crosswalk(stored), *b = without_crosswalk(doc);
		*out = json_equal(a, b);
		json_decref(a);
		json_decref(b);
		json_decref(stored);
	}
	return CF_OK;
}

static cf_err import_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct import_job *job = arg;
	const json_t *doc = job->doc;
	struct catalog_import *out = job->out;
	const char *id = out->id, *version = out->version;
	PGresult *res = NULL;

	/* Two imports of one version at once: the second waits, then sees the first. */
	char *lockname = cf_asprintf("scheme:%s@%s", id, version);
	const char *lp[] = { lockname };
	cf_err e = db_query_hot(db, NULL, err, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, lp);
	free(lockname);
	if (e)
		return e;
	const char *kp[] = { id, version };
	e = db_query_hot(db, &res, err,
			 "SELECT digest FROM scheme_version WHERE scheme_id = $1 AND version = $2", 2, kp);
	if (e)
		return e;
	if (PQntuples(res) == 1) {
		bool same = strcmp(db_value(res, 0, 0), out->digest) == 0;
		char old[65];
		snprintf(old, sizeof old, "%s", db_value(res, 0, 0));
		PQclear(res);
		if (same) {
			out->unchanged = true;
			return CF_OK;
		}
		bool crosswalk_only = false;
		e = differs_in_crosswalk_only(db, id, version, doc, &crosswalk_only, err);
		if (e)
			return e;
		if (crosswalk_only) {
			/* The imported version is immutable and stays as it is; the
			 * file's corrected crosswalk is not written (catalog.h). */
			out->unchanged = true;
			out->crosswalk_kept = true;
			snprintf(out->stored_digest, sizeof out->stored_digest, "%s", old);
			return CF_OK;
		}
		return cf_error_set(err, CF_ECONFLICT, "/version",
				    "%s@%s is already imported with other content (sha256 %.16s..., this "
				    "file %.16s...): an imported version never changes; give the changed "
				    "scheme a new version",
				    id, version, old, out->digest);
	}
	PQclear(res);

	e = db_query_hot(db, NULL, err, "INSERT INTO scheme (id) VALUES ($1) ON CONFLICT DO NOTHING",
			 1, kp);
	if (e)
		return e;
	const json_t *src = json_object_get(doc, "source");
	char days[24], highest[24];
	snprintf(days, sizeof days, "%lld",
		 (long long)json_integer_value(json_object_get(doc, "certificate_validity_days")));
	snprintf(highest, sizeof highest, "%d", scheme_highest_class(doc));
	char *keywords = json_dumps(json_object_get(doc, "keywords"), JSON_COMPACT);
	json_t *gs = json_object_get(doc, "guidance_sources");
	char *guidance = gs ? json_dumps(gs, JSON_COMPACT) : cf_strdup("[]");
	const char *vp[] = { id, version, jsonx_str(doc, "title"), jsonx_str(doc, "publisher"),
			     jsonx_str(src, "document"), jsonx_str(src, "date"), jsonx_str(src, "url"),
			     jsonx_str(doc, "coverage"), jsonx_str(doc, "notes"), days, highest,
			     keywords, guidance, job->canon, out->digest, job->actor->id };
	e = db_query(db, NULL, err,
		     "INSERT INTO scheme_version (scheme_id, version, title, publisher, source_document,"
		     " source_date, source_url, coverage, notes, certificate_validity_days,"
		     " highest_class, keywords, guidance_sources, document, digest, imported_by)"
		     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
		     16, vp);
	free(keywords);
	free(guidance);
	if (!e)
		e = insert_classes(db, id, version, doc, err);
	if (!e)
		e = insert_sections(db, id, version, doc, err);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(doc, "requirements"), i, r) {
		if (e)
			break;
		e = insert_requirement(db, id, version, i, r, err);
	}
	if (e)
		return e;
	char object[128];
	snprintf(object, sizeof object, "%s@%s", id, version);
	json_t *details = json_pack("{s:s,s:I,s:s}", "digest", out->digest, "requirements",
				    (json_int_t)out->requirements, "title", jsonx_str(doc, "title"));
	e = audit_append(db, job->actor, "scheme.import", "scheme_version", object, details, err);
	json_decref(details);
	return e;
}

/* Error 15 of the linter: mapped refs checked against imported targets. A
 * target that is not imported is one error per target, not one per
 * mapping: a dangling crosswalk would make coverage answers quietly
 * incomplete. */
static cf_err check_mapping_targets(struct db *db, const json_t *doc, struct lint_report *report,
				    struct cf_error *err)
{
	json_t *absent = json_object(); /* target -> number of mappings to it */
	cf_err e = CF_OK;
	size_t i, k;
	json_t *r, *m;
	json_array_foreach(json_object_get(doc, "requirements"), i, r) {
		json_array_foreach(json_object_get(r, "mappings"), k, m) {
			const char *to = jsonx_str(m, "to");
			json_t *seen = json_object_get(absent, to);
			if (seen) {
				json_integer_set(seen, json_integer_value(seen) + 1);
				continue;
			}
			const char *at = strchr(to, '@');
			char tid[64];
			snprintf(tid, sizeof tid, "%.*s", (int)(at - to), to);
			char *refs = json_dumps(json_object_get(m, "refs"), JSON_COMPACT);
			const char *p[] = { tid, at + 1, refs };
			PGresult *res = NULL;
			e = db_query_hot(db, &res, err,
				"SELECT EXISTS (SELECT 1 FROM scheme_version WHERE scheme_id = $1"
				" AND version = $2),"
				" (SELECT string_agg(t, ', ') FROM json_array_elements_text($3::json) t"
				"  WHERE NOT EXISTS (SELECT 1 FROM requirement q WHERE q.scheme_id = $1"
				"  AND q.version = $2 AND q.ref = t))", 3, p);
			free(refs);
			if (e)
				goto out;
			char ptr[200] = "/requirements";
			jsonx_pointer_push_index(ptr, sizeof ptr, i);
			jsonx_pointer_push(ptr, sizeof ptr, "mappings");
			jsonx_pointer_push_index(ptr, sizeof ptr, k);
			if (!db_value_bool(res, 0, 0))
				json_object_set_new(absent, to, json_integer(1));
			else if (db_value(res, 0, 1))
				lint_report_add(report, true, ptr, "%s has no ref %s", to,
						db_value(res, 0, 1));
			PQclear(res);
		}
	}
	const char *to;
	json_t *count;
	json_object_foreach(absent, to, count)
		lint_report_add(report, true, "", "%s is not imported: %lld mapping%s point%s at it "
				"(import it first, or in the same batch)", to,
				(long long)json_integer_value(count),
				json_integer_value(count) == 1 ? "" : "s",
				json_integer_value(count) == 1 ? "s" : "");
out:
	json_decref(absent);
	return e;
}

cf_err catalog_import(struct db *db, const struct audit_actor *actor, const char *text, size_t len,
		      const char *filename, struct lint_report *report, struct catalog_import *out,
		      struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	json_t *doc = NULL;
	char *canon = NULL;
	cf_err e = scheme_lint(text, len, filename, &doc, report, err);
	if (e)
		return e;
	canon = jsonx_canonical(doc);
	if (!canon) {
		e = cf_error_set(err, CF_EINVAL, "", "the scheme holds a number that is not whole");
		goto out;
	}
	snprintf(out->id, sizeof out->id, "%s", jsonx_str(doc, "id"));
	snprintf(out->version, sizeof out->version, "%s", jsonx_str(doc, "version"));
	digest_sha256_hex(canon, strlen(canon), out->digest);
	out->requirements = json_array_size(json_object_get(doc, "requirements"));
	e = check_mapping_targets(db, doc, report, err);
	if (e)
		goto out;
	if (report->errors) {
		e = cf_error_set(err, CF_EINVAL, "", "a crosswalk points at a scheme version or a "
				 "requirement that is not imported");
		goto out;
	}
	struct import_job job = { doc, canon, actor, out };
	e = db_transaction(db, DB_READ_COMMITTED, import_tx, &job, err);
out:
	free(canon);
	json_decref(doc);
	return e;
}

/* ---- queries ---- */

static cf_err resolve_version(struct db *db, const char *id, const char *version, char out[40],
			      struct cf_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { id, version && *version && strcmp(version, "latest") != 0 ? version : NULL };
	cf_err e = db_query_hot(db, &res, err,
		"SELECT version FROM scheme_version WHERE scheme_id = $1"
		" AND ($2::text IS NULL OR version = $2) ORDER BY imported_at DESC, version DESC LIMIT 1",
		2, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		e = db_query_hot(db, &res, err, "SELECT 1 FROM scheme WHERE id = $1", 1, p);
		if (e)
			return e;
		bool known = PQntuples(res) == 1;
		PQclear(res);
		if (known && p[1])
			return cf_error_set(err, CF_ENOTFOUND, NULL, "scheme %s has no version %s", id,
					    version);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no scheme %s", id);
	}
	snprintf(out, 40, "%s", db_value(res, 0, 0));
	PQclear(res);
	return CF_OK;
}

static json_t *version_summary(PGresult *res, int i)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:I,s:I,s:s}", "version", db_value(res, i, 0), "title",
			 db_value(res, i, 1), "digest", db_value(res, i, 2), "imported_at",
			 jsonx_string_or_null(db_value(res, i, 3)), "requirements",
			 (json_int_t)db_value_ll(res, i, 4), "highest_class",
			 (json_int_t)db_value_ll(res, i, 5), "publisher", db_value(res, i, 6));
}

#define VERSION_SUMMARY_SQL                                                                   \
	"SELECT v.version, v.title, v.digest,"                                                \
	" to_char(v.imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"        \
	" (SELECT count(*) FROM requirement r WHERE r.scheme_id = v.scheme_id"                \
	"  AND r.version = v.version), v.highest_class, v.publisher, v.scheme_id"              \
	" FROM scheme_version v"

cf_err catalog_list(struct db *db, json_t **out, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		VERSION_SUMMARY_SQL " ORDER BY v.scheme_id, v.imported_at DESC, v.version DESC", 0, NULL);
	if (e)
		return e;
	json_t *items = json_array();
	json_t *current = NULL;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = db_value(res, i, 7);
		if (!current || strcmp(jsonx_str(current, "id"), id) != 0) {
			current = json_pack("{s:s,s:s,s:s,s:[]}", "id", id, "title", db_value(res, i, 1),
					    "latest", db_value(res, i, 0), "versions");
			json_array_append_new(items, current);
		}
		json_array_append_new(json_object_get(current, "versions"), version_summary(res, i));
	}
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

cf_err catalog_scheme(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { id };
	cf_err e = db_query_hot(db, &res, err,
		VERSION_SUMMARY_SQL " WHERE v.scheme_id = $1 ORDER BY v.imported_at DESC, v.version DESC",
		1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no scheme %s", id);
	}
	json_t *versions = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(versions, version_summary(res, i));
	*out = json_pack("{s:s,s:s,s:s,s:o}", "id", id, "title", db_value(res, 0, 1), "latest",
			 db_value(res, 0, 0), "versions", versions);
	PQclear(res);
	return CF_OK;
}

static json_t *load_json(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	return j ? j : json_null();
}

cf_err catalog_version(struct db *db, const char *id, const char *version, json_t **out,
		       struct cf_error *err)
{
	char ver[40];
	PGresult *res = NULL, *cls = NULL, *secs = NULL;
	cf_err e = resolve_version(db, id, version, ver, err);
	if (e)
		return e;
	const char *p[] = { id, ver };
	e = db_query_hot(db, &res, err,
		"SELECT title, publisher, source_document, source_date, source_url, coverage, notes,"
		" certificate_validity_days, highest_class, keywords, guidance_sources, digest,"
		" to_char(imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), imported_by,"
		" (SELECT count(*) FROM requirement r WHERE r.scheme_id = $1 AND r.version = $2),"
		" (SELECT count(*) FROM requirement r WHERE r.scheme_id = $1 AND r.version = $2"
		"  AND r.mandatory_from_class IS NOT NULL)"
		" FROM scheme_version WHERE scheme_id = $1 AND version = $2", 2, p);
	if (!e)
		e = db_query_hot(db, &cls, err,
			"SELECT class, confidentiality, integrity, availability, description"
			" FROM scheme_class WHERE scheme_id = $1 AND version = $2 ORDER BY class", 2, p);
	if (!e)
		e = db_query_hot(db, &secs, err,
			"SELECT s.section_id, s.title, s.audience, count(r.ref) FROM scheme_section s"
			" LEFT JOIN requirement r ON r.scheme_id = s.scheme_id AND r.version = s.version"
			" AND r.section_id = s.section_id WHERE s.scheme_id = $1 AND s.version = $2"
			" GROUP BY s.section_id, s.title, s.audience, s.position ORDER BY s.position", 2, p);
	if (e)
		goto out;
	json_t *classes = json_array();
	for (int i = 0; i < PQntuples(cls); i++)
		json_array_append_new(classes,
			json_pack("{s:I,s:s,s:s,s:s,s:s}", "class", (json_int_t)db_value_ll(cls, i, 0),
				  "confidentiality", db_value(cls, i, 1), "integrity", db_value(cls, i, 2),
				  "availability", db_value(cls, i, 3), "description", db_value(cls, i, 4)));
	json_t *sections = json_array();
	for (int i = 0; i < PQntuples(secs); i++)
		json_array_append_new(sections,
			json_pack("{s:s,s:s,s:o,s:I}", "id", db_value(secs, i, 0), "title",
				  db_value(secs, i, 1), "audience", jsonx_string_or_null(db_value(secs, i, 2)),
				  "requirements", (json_int_t)db_value_ll(secs, i, 3)));
	char *base = cf_asprintf("/v1/schemes/%s/versions/%s", id, ver);
	char *lreq = cf_asprintf("%s/requirements", base);
	char *lchk = cf_asprintf("%s/checklist", base);
	char *losc = cf_asprintf("%s/oscal", base);
	*out = json_pack(
		"{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:o},s:o,s:o,s:I,s:I,s:b,s:o,s:o,s:o,s:s,s:s,s:s,"
		"s:o,s:{s:I,s:I,s:I},s:{s:s,s:s,s:s}}",
		"scheme", id, "version", ver, "title", db_value(res, 0, 0), "publisher",
		db_value(res, 0, 1), "source", "document", db_value(res, 0, 2), "date",
		db_value(res, 0, 3), "url", jsonx_string_or_null(db_value(res, 0, 4)), "coverage",
		jsonx_string_or_null(db_value(res, 0, 5)), "notes", jsonx_string_or_null(db_value(res, 0, 6)),
		"certificate_validity_days", (json_int_t)db_value_ll(res, 0, 7), "highest_class",
		(json_int_t)db_value_ll(res, 0, 8), "implicit_class", PQntuples(cls) == 0, "classes",
		classes, "keywords", load_json(db_value(res, 0, 9)), "guidance_sources",
		load_json(db_value(res, 0, 10)), "digest", db_value(res, 0, 11), "imported_at",
		db_value(res, 0, 12), "imported_by", db_value(res, 0, 13), "sections", sections,
		"counts", "requirements", (json_int_t)db_value_ll(res, 0, 14), "mandatory_somewhere",
		(json_int_t)db_value_ll(res, 0, 15), "sections", (json_int_t)PQntuples(secs), "links",
		"requirements", lreq, "checklist", lchk, "oscal", losc);
	free(base);
	free(lreq);
	free(lchk);
	free(losc);
out:
	PQclear(res);
	PQclear(cls);
	PQclear(secs);
	return e;
}

cf_err catalog_requirements(struct db *db, const char *id, const char *version,
			    const struct catalog_page *page, json_t **out, struct cf_error *err)
{
	char ver[40];
	PGresult *res = NULL;
	cf_err e = resolve_version(db, id, version, ver, err);
	if (e)
		return e;
	if (page->after) {
		const char *p[] = { id, ver, page->after };
		e = db_query_hot(db, &res, err,
			"SELECT 1 FROM requirement WHERE scheme_id = $1 AND version = $2 AND ref = $3", 3, p);
		if (e)
			return e;
		bool found = PQntuples(res) == 1;
		PQclear(res);
		if (!found)
			return cf_error_set(err, CF_EINVAL, NULL,
					    "after=%s: %s@%s has no such requirement", page->after, id, ver);
	}
	char limit[24];
	snprintf(limit, sizeof limit, "%d", page->limit + 1);
	const char *p[] = { id, ver, page->section, page->keyword, page->after, limit };
	e = db_query_hot(db, &res, err,
		"SELECT r.data, r.ref FROM requirement r WHERE r.scheme_id = $1 AND r.version = $2"
		" AND ($3::text IS NULL OR r.section_id = $3)"
		" AND ($4::text IS NULL OR lower($4) IN (SELECT lower(k) FROM"
		"  unnest(r.primary_keywords || r.secondary_keywords) k))"
		" AND r.position > coalesce((SELECT a.position FROM requirement a WHERE a.scheme_id = $1"
		"  AND a.version = $2 AND a.ref = $5), -1)"
		" ORDER BY r.position LIMIT $6", 6, p);
	if (e)
		return e;
	json_t *items = json_array();
	int n = PQntuples(res);
	int shown = n > page->limit ? page->limit : n;
	for (int i = 0; i < shown; i++)
		json_array_append_new(items, load_json(db_value(res, i, 0)));
	*out = json_pack("{s:s,s:s,s:o,s:o}", "scheme", id, "version", ver, "items", items, "next",
			 n > page->limit ? json_string(db_value(res, shown - 1, 1)) : json_null());
	PQclear(res);
	return CF_OK;
}

static cf_err load_classes(struct db *db, const char *id, const char *ver,
			   struct scheme_class **classes, size_t *n, struct cf_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { id, ver };
	cf_err e = db_query_hot(db, &res, err,
		"SELECT class, confidentiality, integrity, availability FROM scheme_class"
		" WHERE scheme_id = $1 AND version = $2 ORDER BY class", 2, p);
	if (e)
		return e;
	*n = (size_t)PQntuples(res);
	*classes = cf_calloc(*n ? *n : 1, sizeof **classes);
	for (size_t i = 0; i < *n && !e; i++) {
		(*classes)[i].number = (int)db_value_ll(res, (int)i, 0);
		e = scheme_level_parse(db_value(res, (int)i, 1), &(*classes)[i].confidentiality, err);
		if (!e)
			e = scheme_level_parse(db_value(res, (int)i, 2), &(*classes)[i].integrity, err);
		if (!e)
			e = scheme_level_parse(db_value(res, (int)i, 3), &(*classes)[i].availability, err);
	}
	PQclear(res);
	return e;
}

cf_err catalog_derive_class(struct db *db, const char *id, const char *version,
			    enum scheme_level c, enum scheme_level i, enum scheme_level a, int *out,
			    struct cf_error *err)
{
	char ver[40];
	struct scheme_class *classes = NULL;
	size_t n = 0;
	cf_err e = resolve_version(db, id, version, ver, err);
	if (!e)
		e = load_classes(db, id, ver, &classes, &n, err);
	if (!e)
		e = scheme_derive_class(classes, n, c, i, a, out, err);
	free(classes);
	return e;
}

/* Adds req to the group of each of its secondary keywords. */
static void group_requirement(json_t *groups, json_t *item, const json_t *secondary, bool mandatory)
{
	size_t i;
	json_t *k;
	json_array_foreach(secondary, i, k) {
		json_t *g = json_object_get(groups, json_string_value(k));
		if (!g)
			continue;
		json_array_append(json_object_get(g, "requirements"), item);
		json_t *count = json_object_get(g, mandatory ? "mandatory" : "advisory");
		json_integer_set(count, json_integer_value(count) + 1);
	}
}

cf_err catalog_checklist(struct db *db, const char *id, const char *version,
			 const struct checklist_query *q, json_t **out, struct cf_error *err)
{
	char ver[40];
	PGresult *res = NULL, *meta = NULL;
	struct scheme_class *classes = NULL;
	size_t nclasses = 0;
	json_t *groups = NULL, *order = NULL;
	cf_err e = resolve_version(db, id, version, ver, err);
	if (!e)
		e = load_classes(db, id, ver, &classes, &nclasses, err);
	if (e)
		goto out;
	int cls = q->class_number;
	if (q->by_levels) {
		e = scheme_derive_class(classes, nclasses, q->confidentiality, q->integrity,
					q->availability, &cls, err);
		if (e)
			goto out;
	} else {
		int highest = nclasses ? (int)nclasses - 1 : 0;
		if (cls < 0 || cls > highest) {
			e = cf_error_set(err, CF_EINVAL, NULL, "class=%d: %s@%s has classes 0 to %d", cls, id,
					 ver, highest);
			goto out;
		}
	}
	const char *p[] = { id, ver };
	e = db_query_hot(db, &meta, err,
		"SELECT keywords, digest, title FROM scheme_version WHERE scheme_id = $1 AND version = $2",
		2, p);
	if (!e)
		e = db_query_hot(db, &res, err,
			"SELECT data, section_id, mandatory_from_class FROM requirement"
			" WHERE scheme_id = $1 AND version = $2 ORDER BY position", 2, p);
	if (e)
		goto out;

	/* One group per secondary keyword, in the vocabulary's order. */
	groups = json_object();
	order = json_array();
	json_t *vocab = load_json(db_value(meta, 0, 0));
	size_t i, k;
	json_t *prim, *sec;
	json_array_foreach(json_object_get(vocab, "primary"), i, prim) {
		json_array_foreach(json_object_get(prim, "secondary"), k, sec) {
			json_t *g = json_pack("{s:s,s:O,s:i,s:i,s:[]}", "primary", jsonx_str(prim, "name"),
					      "keyword", sec, "mandatory", 0, "advisory", 0,
					      "requirements");
			json_object_set(groups, json_string_value(sec), g);
			json_array_append_new(order, g);
		}
	}
	json_decref(vocab);
	int mandatory = 0, advisory = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		json_t *data = load_json(db_value(res, r, 0));
		const char *from = db_value(res, r, 2);
		bool is_mandatory = from && atoi(from) <= cls;
		json_t *kw = json_object_get(data, "keywords");
		json_t *item = json_pack("{s:O,s:s,s:O,s:s,s:O,s:O}", "ref", json_object_get(data, "ref"),
			"section", db_value(res, r, 1), "title", json_object_get(data, "title"),
			"applicability", is_mandatory ? "mandatory" : "advisory", "mandatory_from_class",
			from ? json_integer(atoi(from)) : json_null(), "keywords", kw);
		/* json_integer above is a new reference that "O" took another of */
		json_decref(json_object_get(item, "mandatory_from_class"));
		json_t *cond = json_object_get(data, "condition");
		if (cond)
			json_object_set(item, "condition", cond);
		group_requirement(groups, item, json_object_get(kw, "secondary"), is_mandatory);
		json_decref(item);
		json_decref(data);
		if (is_mandatory)
			mandatory++;
		else
			advisory++;
	}
	*out = json_pack("{s:s,s:s,s:s,s:s,s:i,s:{s:i,s:i,s:i},s:O}", "scheme", id, "version", ver,
			 "title", db_value(meta, 0, 2), "digest", db_value(meta, 0, 1), "class", cls,
			 "counts", "requirements", PQntuples(res), "mandatory", mandatory, "advisory",
			 advisory, "groups", order);
	if (q->by_levels)
		json_object_set_new(*out, "declared",
			json_pack("{s:s,s:s,s:s}", "confidentiality", scheme_level_name(q->confidentiality),
				  "integrity", scheme_level_name(q->integrity), "availability",
				  scheme_level_name(q->availability)));
out:
	json_decref(groups);
	json_decref(order);
	free(classes);
	PQclear(res);
	PQclear(meta);
	return e;
}

/* ref -> title of a version's requirements (empty when not imported). */
static cf_err titles(struct db *db, const char *id, const char *ver, json_t **out,
		     struct cf_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { id, ver };
	cf_err e = db_query_hot(db, &res, err,
		"SELECT ref, title FROM requirement WHERE scheme_id = $1 AND version = $2 ORDER BY position",
		2, p);
	if (e)
		return e;
	*out = json_object();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(*out, db_value(res, i, 0), json_string(db_value(res, i, 1)));
	PQclear(res);
	return CF_OK;
}

static json_t *titled(const json_t *refs, const json_t *title_map, bool imported)
{
	json_t *a = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(refs, i, r) {
		json_t *t = json_object_get(title_map, json_string_value(r));
		json_t *item = json_pack("{s:O,s:O}", "ref", r, "title", t ? t : json_null());
		if (imported && !t)
			json_object_set_new(item, "unknown", json_true());
		json_array_append_new(a, item);
	}
	return a;
}

static const char *inverse_relationship(const char *rel)
{
	if (strcmp(rel, "subset-of") == 0)
		return "superset-of";
	if (strcmp(rel, "superset-of") == 0)
		return "subset-of";
	return rel; /* equivalent-to and intersects-with are symmetric */
}

cf_err catalog_crosswalk(struct db *db, const char *from_id, const char *from_version,
			 const char *to_id, const char *to_version, json_t **out,
			 struct cf_error *err)
{
	char fver[40], tver[40];
	PGresult *res = NULL;
	json_t *ftitles = NULL, *ttitles = NULL, *mapped = NULL;
	cf_err e = resolve_version(db, from_id, from_version, fver, err);
	if (e)
		return e;
	struct cf_error ignored;
	bool to_imported = resolve_version(db, to_id, to_version, tver, &ignored) == CF_OK;
	if (!to_imported)
		snprintf(tver, sizeof tver, "%s", to_version ? to_version : "");
	if (!*tver)
		return cf_error_set(err, CF_EINVAL, NULL, "%s is not imported: give its version",
				    to_id);
	e = titles(db, from_id, fver, &ftitles, err);
	if (!e)
		e = titles(db, to_id, tver, &ttitles, err);
	if (e)
		goto out;
	/* Declared on the "from" side, then on the "to" side read backwards. */
	const char *p[] = { from_id, fver, to_id, tver };
	e = db_query_hot(db, &res, err,
		"SELECT 'declared', array_to_json(ARRAY[m.ref])::text, array_to_json(m.target_refs)::text,"
		" m.relationship, m.note, r.position FROM requirement_mapping m JOIN requirement r"
		" USING (scheme_id, version, ref) WHERE m.scheme_id = $1 AND m.version = $2"
		" AND m.target_scheme = $3 AND m.target_version = $4"
		" UNION ALL"
		" SELECT 'inverse', array_to_json(m.target_refs)::text, array_to_json(ARRAY[m.ref])::text,"
		" m.relationship, m.note, 1000000 + r.position FROM requirement_mapping m JOIN requirement r"
		" USING (scheme_id, version, ref) WHERE m.scheme_id = $3 AND m.version = $4"
		" AND m.target_scheme = $1 AND m.target_version = $2 ORDER BY 6", 4, p);
	if (e)
		goto out;
	json_t *mappings = json_array();
	mapped = json_object();
	for (int i = 0; i < PQntuples(res); i++) {
		bool inverse = strcmp(db_value(res, i, 0), "inverse") == 0;
		json_t *from_refs = load_json(db_value(res, i, 1));
		json_t *to_refs = load_json(db_value(res, i, 2));
		const char *rel = db_value(res, i, 3);
		json_t *m = json_pack("{s:s,s:o,s:s,s:o,s:o}", "source", inverse ? "inverse" : "declared",
			"from", titled(from_refs, ftitles, true), "relationship",
			inverse ? inverse_relationship(rel) : rel, "to", titled(to_refs, ttitles, to_imported),
			"note", jsonx_string_or_null(db_value(res, i, 4)));
		size_t k;
		json_t *r;
		json_array_foreach(from_refs, k, r)
			json_object_set_new(mapped, json_string_value(r), json_true());
		json_array_append_new(mappings, m);
		json_decref(from_refs);
		json_decref(to_refs);
	}
	json_t *unmapped = json_array();
	const char *ref;
	json_t *t;
	json_object_foreach(ftitles, ref, t)
		if (!json_object_get(mapped, ref))
			json_array_append_new(unmapped, json_string(ref));
	char fref[128], tref[128];
	snprintf(fref, sizeof fref, "%s@%s", from_id, fver);
	snprintf(tref, sizeof tref, "%s@%s", to_id, tver);
	*out = json_pack("{s:s,s:s,s:b,s:o,s:o}", "from", fref, "to", tref, "to_imported", to_imported,
			 "mappings", mappings, "unmapped", unmapped);
out:
	PQclear(res);
	json_decref(ftitles);
	json_decref(ttitles);
	json_decref(mapped);
	return e;
}

cf_err catalog_document(struct db *db, const char *id, const char *version, json_t **doc,
			char digest[65], char imported_at[40], struct cf_error *err)
{
	char ver[40];
	PGresult *res = NULL;
	cf_err e = resolve_version(db, id, version, ver, err);
	if (e)
		return e;
	const char *p[] = { id, ver };
	e = db_query_hot(db, &res, err,
		"SELECT document, digest,"
		" to_char(imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		" FROM scheme_version WHERE scheme_id = $1 AND version = $2", 2, p);
	if (e)
		return e;
	*doc = load_json(db_value(res, 0, 0));
	snprintf(digest, 65, "%s", db_value(res, 0, 1));
	snprintf(imported_at, 40, "%s", db_value(res, 0, 2));
	PQclear(res);
	return CF_OK;
}
