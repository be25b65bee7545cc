/*
 * routes/ics: an ETSI EN 303 645 application's Annex B table (core/ics.h),
 * exported as CSV or JSON and imported from either.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "application.h"
#include "http.h"
#include "ics.h"
#include "jsonx.h"
#include "routes.h"

/* The media type without parameters is name. */
static bool media_is(const char *ct, const char *name)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && ct[n - 1] == ' ')
		n--;
	return n == strlen(name) && strncasecmp(ct, name, n) == 0;
}

/* CSV or JSON: ?format= when given (anything else is 400), else Accept
 * (text/csv asked for and application/json not: CSV). */
static cf_err wants_csv(const struct request *rq, bool *csv, struct cf_error *err)
{
	const char *format = request_query(rq, "format");
	if (format) {
		if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
			return cf_error_set(err, CF_EINVAL, NULL, "format must be csv or json, not \"%s\"",
					    format);
		*csv = strcmp(format, "csv") == 0;
		return CF_OK;
	}
	const char *accept = request_header(rq, "Accept");
	*csv = accept && strstr(accept, "text/csv") && !strstr(accept, "application/json");
	return CF_OK;
}

void route_app_ics_get(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	struct ics_table t = { 0 };
	char version[40], etag[24];
	bool csv = false;
	reply_header(rq, "Vary", "Accept");
	cf_err e = wants_csv(rq, &csv, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = ics_export(db, request_param(rq, "id"), &t, version, etag, &err);
	if (e) {
		ics_table_free(&t);
		reply_problem(rq, &err);
		return;
	}
	reply_header(rq, MHD_HTTP_HEADER_ETAG, etag);
	if (csv) {
		struct buf b;
		buf_init(&b, 64u << 20);
		e = ics_write_csv(&t, &b, &err);
		ics_table_free(&t);
		if (e) {
			buf_free(&b);
			reply_problem(rq, &err);
			return;
		}
		size_t len = 0;
		char *data = buf_steal(&b, &len);
		buf_free(&b);
		reply_taken(rq, 200, "text/csv; charset=utf-8; header=present", data, len);
		return;
	}
	json_t *out = ics_write_json(&t, version);
	ics_table_free(&t);
	reply_json(rq, 200, out);
}

void route_app_ics_put(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	struct ics_table t = { 0 };
	json_t *out = NULL;
	cf_err e = CF_OK;
	const char *ct = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (media_is(ct, "text/csv")) {
		size_t n = 0;
		const char *data = request_body(rq, &n);
		e = ics_parse_csv(data ? data : "", n, &t, &err);
	} else if (media_is(ct, "application/json")) {
		json_t *body = NULL;
		e = request_json(rq, &body, &err);
		if (!e)
			e = ics_parse_json(body, &t, &err);
		json_decref(body);
	} else {
		e = cf_error_set(&err, CF_EMEDIA, NULL,
				 "send the Annex B table as text/csv or application/json");
	}
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = ics_import(db, request_principal(rq), request_param(rq, "id"),
			       request_header(rq, MHD_HTTP_HEADER_IF_MATCH), &t, &out, &err);
	ics_table_free(&t);
	if (!e && jsonx_str(out, "etag"))
		reply_header(rq, MHD_HTTP_HEADER_ETAG, jsonx_str(out, "etag"));
	reply_outcome(rq, e, &err, 200, out);
}
