/*
 * routes/applications: applications, their answers, actions (the state
 * machine), verdicts and evidence (streamed uploads, downloads with digest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "application.h"
#include "blobstore.h"
#include "codec.h"
#include "evidence.h"
#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "oscal.h"
#include "page.h"
#include "review.h"
#include "routes.h"
#include "server.h"

/* A step's ending for applications: on success the reply carries the
 * application's ETag (for If-Match). */
static cf_err with_etag(struct request *rq, cf_err e, const json_t *out)
{
	if (!e && jsonx_str(out, "etag"))
		reply_header(rq, MHD_HTTP_HEADER_ETAG, jsonx_str(out, "etag"));
	return e;
}

static cf_err create(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	cf_err e = application_create(db, request_principal(rq), body,
				      request_server(rq)->cfg->evidence_quota, out, err);
	return with_etag(rq, e, *out);
}

void route_app_create(struct request *rq)
{
	request_run_created(rq, create, "/v1/applications");
}

static cf_err list(struct request *rq, struct db *db, const struct page *page, json_t **out,
		   struct cf_error *err)
{
	return application_list(db, request_principal(rq), request_query(rq, "state"), page->after,
				page->limit, out, err);
}

void route_app_list(struct request *rq)
{
	request_run_page(rq, list);
}

static cf_err get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		  struct cf_error *err)
{
	(void)body;
	cf_err e = application_get(db, request_param(rq, "id"), out, err);
	return with_etag(rq, e, *out);
}

void route_app_get(struct request *rq)
{
	request_run(rq, get, 200);
}

static cf_err oscal(struct request *rq, struct db *db, const json_t *body, json_t **out,
		    struct cf_error *err)
{
	(void)body;
	return oscal_assessment_results(db, request_server(rq)->cfg->public_url,
					request_param(rq, "id"), out, err);
}

void route_app_oscal(struct request *rq)
{
	request_run(rq, oscal, 200);
}

static cf_err update(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	cf_err e = application_update(db, request_principal(rq), request_param(rq, "id"),
				      request_header(rq, MHD_HTTP_HEADER_IF_MATCH), body, out, err);
	return with_etag(rq, e, *out);
}

void route_app_update(struct request *rq)
{
	request_run(rq, update, 200);
}

static cf_err answer(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	cf_err e = application_answer(db, request_principal(rq), request_param(rq, "id"),
				      request_param(rq, "ref"), body, out, err);
	return with_etag(rq, e, *out);
}

void route_app_answer(struct request *rq)
{
	request_run(rq, answer, 200);
}

static cf_err act(struct request *rq, struct db *db, const json_t *body, json_t **out,
		  struct cf_error *err)
{
	cf_err e = application_act(db, request_principal(rq), request_param(rq, "id"),
				   request_param(rq, "action"), request_header(rq, MHD_HTTP_HEADER_IF_MATCH),
				   body, out, err);
	return with_etag(rq, e, *out);
}

void route_app_action(struct request *rq)
{
	request_run(rq, act, 200);
}

static cf_err verdicts(struct request *rq, struct db *db, const json_t *body, json_t **out,
		       struct cf_error *err)
{
	cf_err e = review_record(db, request_principal(rq), request_param(rq, "id"), body, out, err);
	return with_etag(rq, e, *out);
}

void route_app_verdicts(struct request *rq)
{
	request_run(rq, verdicts, 200);
}

static cf_err verdict_history(struct request *rq, struct db *db, const json_t *body, json_t **out,
			      struct cf_error *err)
{
	(void)body;
	return review_history(db, request_param(rq, "id"), out, err);
}

void route_app_verdict_history(struct request *rq)
{
	request_run(rq, verdict_history, 200);
}

/* The upload's parameters, from the query and the headers. */
static struct evidence_upload upload_params(struct request *rq)
{
	struct evidence_upload u = {
		.application_id = request_param(rq, "id"),
		.name = request_query(rq, "name"),
		.media_type = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE),
		.refs = request_query(rq, "refs"),
		.supersedes = request_query(rq, "supersedes"),
		.quota = request_server(rq)->cfg->evidence_quota,
	};
	return u;
}

/* Before a byte of an upload is read or stored: may this caller add this
 * evidence now (parameters, an announced size against the quota)? */
void route_evidence_precheck(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	struct evidence_upload u = upload_params(rq);
	long long announced = -1; /* chunked: checked once the size is known */
	const char *cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && *cl && strlen(cl) <= 18 && strspn(cl, "0123456789") == strlen(cl))
		announced = strtoll(cl, NULL, 10);
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = evidence_check_upload(db, request_principal(rq), &u, announced, &err);
	if (e)
		reply_problem(rq, &err);
}

static cf_err record_evidence(struct request *rq, struct db *db, void *arg, json_t **out,
			      struct cf_error *err)
{
	cf_err e = evidence_record(db, request_principal(rq), arg, out, err);
	if (!e)
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, jsonx_str(*out, "href"));
	return e;
}

void route_evidence_upload(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct evidence_upload u = upload_params(rq);
	/* the file is flushed but not in its place: evidence_record places it
	 * once every check passed, and blob_abort below drops it otherwise */
	struct blob_writer *blob = request_take_blob(rq);
	cf_err e = blob ? blob_finish(blob, u.digest, &u.size, &err)
			: cf_error_set(&err, CF_EINTERNAL, NULL, "the upload was not stored");
	u.blob = blob;
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e) {
		/* a repeat must bring the same file with the same parameters */
		char *what = cf_asprintf("name=%s\nrefs=%s\nsupersedes=%s\ntype=%s\ndigest=%s",
					 u.name ? u.name : "", u.refs ? u.refs : "",
					 u.supersedes ? u.supersedes : "", u.media_type ? u.media_type : "",
					 u.digest);
		e = request_create(rq, db, what, strlen(what), record_evidence, &u, &out, &err);
		free(what);
	}
	blob_abort(blob);
	reply_outcome(rq, e, &err, 201, out);
}

static cf_err evidence_items(struct request *rq, struct db *db, const json_t *body, json_t **out,
			     struct cf_error *err)
{
	(void)body;
	return evidence_list(db, request_param(rq, "id"), out, err);
}

void route_evidence_list(struct request *rq)
{
	request_run(rq, evidence_items, 200);
}

void route_evidence_get(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *meta = NULL;
	int fd = -1;
	uint64_t size = 0;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = evidence_get(db, request_param(rq, "id"), request_param(rq, "eid"), &meta, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	const char *digest = jsonx_str(meta, "digest");
	char etag[72];
	snprintf(etag, sizeof etag, "\"%s\"", digest);
	const char *inm = request_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && strstr(inm, etag)) {
		reply_header(rq, MHD_HTTP_HEADER_ETAG, etag);
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		reply_response(rq, MHD_HTTP_NOT_MODIFIED, resp, 0);
		json_decref(meta);
		return;
	}
	e = blob_open(request_server(rq)->blob_root, digest, &fd, &size, &err);
	if (e) {
		json_decref(meta);
		reply_problem(rq, &err);
		return;
	}
	/* RFC 9530: the digest of the content, base64 of the raw SHA-256 */
	unsigned char raw[32];
	char content_digest[80];
	if (codec_hex_decode(digest, raw, sizeof raw, &err) == CF_OK) {
		char *b64 = codec_b64_encode(raw, sizeof raw);
		snprintf(content_digest, sizeof content_digest, "sha-256=:%s:", b64);
		free(b64);
		reply_header(rq, "Content-Digest", content_digest);
	}
	char disposition[300];
	snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", jsonx_str(meta, "name"));
	reply_header(rq, MHD_HTTP_HEADER_ETAG, etag);
	reply_header(rq, "Content-Disposition", disposition);
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
	reply_header(rq, "X-Content-Type-Options", "nosniff");
	/* the media type is the uploader's word: a browser that opens the file
	 * anyway (say text/html) runs nothing of it in this origin */
	reply_header(rq, "Content-Security-Policy", "sandbox; default-src 'none'");
	/* libmicrohttpd sends the file from its descriptor and closes it */
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		json_decref(meta);
		reply_problem_msg(rq, CF_EINTERNAL, "the evidence file could not be sent");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, jsonx_str(meta, "media_type"));
	json_decref(meta);
	reply_response(rq, 200, resp, (size_t)size);
}

void route_evidence_delete(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = evidence_delete(db, request_principal(rq), request_server(rq)->blob_root, request_param(rq, "id"),
				    request_param(rq, "eid"), &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	reply_response(rq, MHD_HTTP_NO_CONTENT, resp, 0);
}
