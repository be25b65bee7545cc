/*
 * routes/schemes: the public scheme API (no token): schemes, versions,
 * requirements, checklists, OSCAL export and crosswalks.
 */
#include <string.h>

#include "catalog.h"
#include "http.h"
#include "oscal.h"
#include "page.h"
#include "routes.h"

static cf_err schemes(struct request *rq, struct db *db, const json_t *body, json_t **out,
		      struct cf_error *err)
{
	(void)rq;
	(void)body;
	return catalog_list(db, out, err);
}

void route_schemes_list(struct request *rq)
{
	request_run(rq, schemes, 200);
}

static cf_err scheme(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	(void)body;
	return catalog_scheme(db, request_param(rq, "id"), out, err);
}

void route_scheme_get(struct request *rq)
{
	request_run(rq, scheme, 200);
}

static cf_err version(struct request *rq, struct db *db, const json_t *body, json_t **out,
		      struct cf_error *err)
{
	(void)body;
	return catalog_version(db, request_param(rq, "id"), request_param(rq, "version"), out, err);
}

void route_scheme_version_get(struct request *rq)
{
	request_run(rq, version, 200);
}

static cf_err requirements(struct request *rq, struct db *db, const struct page *page,
			   json_t **out, struct cf_error *err)
{
	struct catalog_page q = { request_query(rq, "section"), request_query(rq, "keyword"),
				  page->after_key, page->limit };
	return catalog_requirements(db, request_param(rq, "id"), request_param(rq, "version"), &q,
				    out, err);
}

void route_scheme_requirements(struct request *rq)
{
	request_run_page(rq, requirements);
}

/* ?class=N, or ?confidentiality=&integrity=&availability= (all three). */
static cf_err checklist_query(const struct request *rq, struct checklist_query *q,
			      struct cf_error *err)
{
	memset(q, 0, sizeof *q);
	const char *c = request_query(rq, "confidentiality");
	const char *i = request_query(rq, "integrity");
	const char *a = request_query(rq, "availability");
	bool has_class = request_query(rq, "class") != NULL;
	if (!c && !i && !a) {
		if (!has_class)
			return cf_error_set(err, CF_EINVAL, NULL,
					    "give class=N, or confidentiality, integrity and availability "
					    "(basic, medium or high)");
		long n;
		cf_err e = request_query_int(rq, "class", 0, 0, 9, &n, err);
		q->class_number = (int)n;
		return e;
	}
	if (has_class)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "give either class or the three security objectives, not both");
	if (!c || !i || !a)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "confidentiality, integrity and availability go together: give all three");
	q->by_levels = true;
	cf_err e = scheme_level_parse(c, &q->confidentiality, err);
	if (e)
		cf_error_prefix(err, "confidentiality");
	if (!e && (e = scheme_level_parse(i, &q->integrity, err)))
		cf_error_prefix(err, "integrity");
	if (!e && (e = scheme_level_parse(a, &q->availability, err)))
		cf_error_prefix(err, "availability");
	return e;
}

void route_scheme_checklist(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct checklist_query q;
	cf_err e = checklist_query(rq, &q, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = catalog_checklist(db, request_param(rq, "id"), request_param(rq, "version"), &q, &out,
				      &err);
	reply_outcome(rq, e, &err, 200, out);
}

static cf_err oscal(struct request *rq, struct db *db, const json_t *body, json_t **out,
		    struct cf_error *err)
{
	json_t *doc = NULL;
	char digest[65], imported_at[40];
	(void)body;
	cf_err e = catalog_document(db, request_param(rq, "id"), request_param(rq, "version"), &doc,
				    digest, imported_at, err);
	if (!e)
		e = oscal_catalog(doc, digest, imported_at, out, err);
	json_decref(doc);
	return e;
}

void route_scheme_oscal(struct request *rq)
{
	request_run(rq, oscal, 200);
}

void route_crosswalk(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	const char *from = request_query(rq, "from"), *to = request_query(rq, "to");
	char fid[64], fver[40], tid[64], tver[40];
	bool fhas = false, thas = false;
	cf_err e = CF_OK;
	if (!from || !to)
		e = cf_error_set(&err, CF_EINVAL, NULL, "give from=ID@VERSION and to=ID@VERSION");
	if (!e && (e = catalog_split_ref(from, fid, fver, &fhas, &err)))
		cf_error_prefix(&err, "from");
	if (!e && (e = catalog_split_ref(to, tid, tver, &thas, &err)))
		cf_error_prefix(&err, "to");
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = catalog_crosswalk(db, fid, fhas ? fver : NULL, tid, thas ? tver : NULL, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}
