/*
 * GET /v1/certificates/{serial}/coverage?scheme=ID@VERSION: what a
 * certificate's verdicts cover of another scheme version (core/coverage.h),
 * public like the certificate; GET /v1/applications/{id}/coverage the same
 * for an application's verdicts so far, for those who may read it.
 */
#include <stdbool.h>

#include "catalog.h"
#include "coverage.h"
#include "http.h"
#include "routes.h"

/* The target of ?scheme=ID@VERSION into id and version; a version is
 * required: coverage is of one version. */
static cf_err target_of(struct request *rq, char id[64], char version[40], struct cf_error *err)
{
	const char *scheme = request_query(rq, "scheme");
	bool has_version = false;
	if (!scheme)
		return cf_error_set(err, CF_EINVAL, "/scheme", "give scheme=ID@VERSION: the scheme "
				    "version to read the verdicts against");
	cf_err e = catalog_split_ref(scheme, id, version, &has_version, err);
	if (e) {
		cf_error_prefix(err, "scheme");
		return e;
	}
	if (!has_version)
		return cf_error_set(err, CF_EINVAL, "/scheme", "scheme=%.63s names no version: give "
				    "scheme=ID@VERSION (coverage is of one version)", id);
	return CF_OK;
}

/* The coverage of the target named by ?scheme= by what the path's param
 * (a certificate's serial, an application's id) names. */
static void answer(struct request *rq, const char *param,
		   cf_err (*of)(struct db *, const char *, const char *, const char *, json_t **,
				struct cf_error *))
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	char id[64], version[40];
	cf_err e = target_of(rq, id, version, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = of(db, request_param(rq, param), id, version, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_cert_coverage(struct request *rq)
{
	answer(rq, "serial", coverage_certificate);
}

/* Authorised by the route table as reading the application is. */
void route_app_coverage(struct request *rq)
{
	answer(rq, "id", coverage_application);
}
