/*
 * coverage: a certificate's verdicts read through the crosswalk (see
 * coverage.h for the rule).
 */
#include "coverage.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

/* Every route of every target requirement, as JSON, in the target's order.
 * $1 application, $2/$3 source scheme version, $4/$5 target. A mapping is
 * read as "source refs <relationship> target refs": one declared by the
 * target (target <rel> sources) is inverted. Only settled verdicts count:
 * info_needed is no verdict. */
static const char routes_sql[] =
	"WITH route AS ("
	" SELECT t.ref AS target_ref, 'source' AS declared_by, m.relationship, m.note,"
	"  ARRAY[m.ref] AS sources,"
	"  m.relationship IN ('equivalent-to', 'superset-of') AS sound, r.position AS pos"
	" FROM requirement_mapping m JOIN requirement r ON r.scheme_id = m.scheme_id"
	"  AND r.version = m.version AND r.ref = m.ref"
	" CROSS JOIN LATERAL unnest(m.target_refs) AS t(ref)"
	" WHERE m.scheme_id = $2 AND m.version = $3 AND m.target_scheme = $4"
	"  AND m.target_version = $5"
	" UNION ALL"
	" SELECT m.ref, 'target',"
	"  CASE m.relationship WHEN 'subset-of' THEN 'superset-of'"
	"   WHEN 'superset-of' THEN 'subset-of' ELSE m.relationship END, m.note, m.target_refs,"
	"  m.relationship IN ('equivalent-to', 'subset-of'), 0"
	" FROM requirement_mapping m"
	" WHERE m.scheme_id = $4 AND m.version = $5 AND m.target_scheme = $2"
	"  AND m.target_version = $3"
	" UNION ALL"
	" SELECT r.ref, 'identity', 'equivalent-to', NULL, ARRAY[r.ref], true, r.position"
	" FROM requirement r WHERE $2 = $4 AND $3 = $5 AND r.scheme_id = $4 AND r.version = $5)"
	" SELECT q.ref, q.title, q.mandatory_from_class,"
	"  (SELECT coalesce(json_agg(json_build_object('declared_by', ro.declared_by,"
	"    'relationship', ro.relationship, 'sound', ro.sound, 'note', ro.note,"
	"    'verdicts', (SELECT json_agg(json_build_object('ref', s.ref, 'verdict', cv.verdict)"
	"      ORDER BY s.ord) FROM unnest(ro.sources) WITH ORDINALITY AS s(ref, ord)"
	"      LEFT JOIN current_verdict cv ON cv.application_id = $1 AND cv.ref = s.ref"
	"      AND cv.verdict <> 'info_needed'))"
	"    ORDER BY ro.declared_by, ro.pos), '[]'::json)"
	"   FROM route ro WHERE ro.target_ref = q.ref)"
	" FROM requirement q WHERE q.scheme_id = $4 AND q.version = $5 ORDER BY q.position";

/* Marks each route's "carries" and returns the requirement's status. */
static const char *judge(json_t *routes)
{
	bool covered = false, related = false;
	size_t i, k;
	json_t *ro, *v;
	json_array_foreach(routes, i, ro) {
		bool all_pass = json_array_size(json_object_get(ro, "verdicts")) > 0;
		json_array_foreach(json_object_get(ro, "verdicts"), k, v) {
			const char *verdict = json_string_value(json_object_get(v, "verdict"));
			bool pass = verdict && strcmp(verdict, "pass") == 0;
			all_pass = all_pass && pass;
			if (pass || (verdict && strcmp(verdict, "not_applicable") == 0))
				related = true;
		}
		bool carries = all_pass && json_is_true(json_object_get(ro, "sound"));
		json_object_set_new(ro, "carries", json_boolean(carries));
		covered = covered || carries;
	}
	return covered ? "covered" : related ? "partly_covered" : "not_covered";
}

/* The answer for the verdicts of application app (of scheme src_id@src_version),
 * with the target's digest; adds to head (which it owns). */
static cf_err answer(struct db *db, const char *app, const char *src_id, const char *src_version,
		     const char *src_digest, const char *target_id, const char *target_version,
		     json_t *head, json_t **out, struct cf_error *err)
{
	PGresult *target = NULL, *rows = NULL;
	json_t *reqs = NULL;
	const char *tp[] = { target_id, target_version };
	cf_err e = db_query_hot(db, &target, err,
			 "SELECT digest FROM scheme_version WHERE scheme_id = $1 AND version = $2", 2, tp);
	if (e)
		goto out;
	if (PQntuples(target) != 1) {
		e = cf_error_set(err, CF_ENOTFOUND, "/scheme", "scheme version %.63s@%.39s is not imported",
				 target_id, target_version);
		goto out;
	}
	const char *rp[] = { app, src_id, src_version, target_id, target_version };
	e = db_query_hot(db, &rows, err, routes_sql, 5, rp);
	if (e)
		goto out;
	reqs = json_array();
	long long counts[3] = { 0, 0, 0 };
	static const char *const names[3] = { "covered", "partly_covered", "not_covered" };
	for (int i = 0; i < PQntuples(rows); i++) {
		json_t *routes = json_loads(db_value(rows, i, 3), 0, NULL);
		if (!routes) {
			e = cf_error_set(err, CF_EINTERNAL, NULL, "unreadable coverage routes");
			goto out;
		}
		const char *status = judge(routes);
		for (int k = 0; k < 3; k++)
			if (strcmp(status, names[k]) == 0)
				counts[k]++;
		const char *mfc = db_value(rows, i, 2);
		json_array_append_new(reqs, json_pack("{s:s,s:s,s:o,s:s,s:o}", "ref",
			db_value(rows, i, 0), "title", db_value(rows, i, 1), "mandatory_from_class",
			mfc ? json_integer(atoll(mfc)) : json_null(), "status", status, "routes", routes));
	}
	long long total = counts[0] + counts[1] + counts[2];
	/* covered only when every requirement is; not covered when nothing is
	 * even partly */
	const char *overall = total > 0 && counts[0] == total ? "covered"
			      : counts[0] + counts[1] > 0 ? "partly_covered" : "not_covered";
	char source[128], tscheme[128];
	snprintf(source, sizeof source, "%s@%s", src_id, src_version);
	snprintf(tscheme, sizeof tscheme, "%s@%s", target_id, target_version);
	json_t *rest = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:s,s:{s:I,s:I,s:I},s:O}", "source",
				 "scheme", source, "digest", src_digest, "target", "scheme", tscheme,
				 "digest", db_value(target, 0, 0), "overall", overall, "counts",
				 "covered", (json_int_t)counts[0], "partly_covered",
				 (json_int_t)counts[1], "not_covered", (json_int_t)counts[2],
				 "requirements", reqs);
	json_object_update(head, rest);
	json_decref(rest);
	*out = head;
	head = NULL;
out:
	json_decref(head);
	json_decref(reqs);
	PQclear(target);
	PQclear(rows);
	return e;
}

cf_err coverage_certificate(struct db *db, const char *serial, const char *target_id,
			    const char *target_version, json_t **out, struct cf_error *err)
{
	*out = NULL;
	PGresult *cert = NULL;
	const char *cp[] = { serial };
	cf_err e = db_query_hot(db, &cert, err,
		"SELECT c.application_id, c.scheme_id, c.scheme_version, s.status, v.digest"
		" FROM certificate c CROSS JOIN LATERAL conform_certificate_state(c, now()) s"
		" JOIN scheme_version v ON v.scheme_id = c.scheme_id AND v.version = c.scheme_version"
		" WHERE c.serial = $1", 1, cp);
	if (e)
		return e;
	if (PQntuples(cert) != 1)
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	else
		e = answer(db, db_value(cert, 0, 0), db_value(cert, 0, 1), db_value(cert, 0, 2),
			   db_value(cert, 0, 4), target_id, target_version,
			   json_pack("{s:s,s:s}", "certificate", serial, "certificate_status",
				     db_value(cert, 0, 3)), out, err);
	PQclear(cert);
	return e;
}

cf_err coverage_application(struct db *db, const char *id, const char *target_id,
			    const char *target_version, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", id);
	PGresult *app = NULL;
	const char *ap[] = { id };
	cf_err e = db_query_hot(db, &app, err,
		"SELECT a.scheme_id, a.scheme_version, a.state, v.digest FROM application a"
		" JOIN scheme_version v ON v.scheme_id = a.scheme_id AND v.version = a.scheme_version"
		" WHERE a.id = $1", 1, ap);
	if (e)
		return e;
	if (PQntuples(app) != 1)
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", id);
	else
		e = answer(db, id, db_value(app, 0, 0), db_value(app, 0, 1), db_value(app, 0, 3),
			   target_id, target_version,
			   json_pack("{s:s,s:s}", "application", id, "application_state",
				     db_value(app, 0, 2)), out, err);
	PQclear(app);
	return e;
}
