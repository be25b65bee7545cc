/*
 * GET /v1/certificates/{serial}/coverage?scheme=ID@VERSION: what a
 * certificate's verdicts cover of another scheme version (core/coverage.h).
 * Public, like the certificate itself.
 */
#include <stdbool.h>

#include "catalog.h"
#include "coverage.h"
#include "http.h"
#include "routes.h"

void route_cert_coverage(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	const char *scheme = request_query(rq, "scheme");
	char id[64], version[40];
	bool has_version = false;
	cf_err e = CF_OK;
	if (!scheme)
		e = cf_error_set(&err, CF_EINVAL, "/scheme", "give scheme=ID@VERSION: the scheme "
				 "version to read the certificate against");
	if (!e && (e = catalog_split_ref(scheme, id, version, &has_version, &err)))
		cf_error_prefix(&err, "scheme");
	if (!e && !has_version)
		e = cf_error_set(&err, CF_EINVAL, "/scheme", "scheme=%.63s names no version: give "
				 "scheme=ID@VERSION (coverage is of one version)", id);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = coverage_certificate(db, request_param(rq, "serial"), id, version, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}
