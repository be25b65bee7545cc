/*
 * evidence: files an applicant gives as evidence, linked to requirements.
 * Their content is in the blob store (content-addressed); their metadata
 * here. Uploads are allowed while the application is a draft or information
 * is requested; after submission evidence is superseded, never deleted.
 */
#ifndef CONFORM_EVIDENCE_H
#define CONFORM_EVIDENCE_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"

struct evidence_upload {
	const char *application_id;
	const char *name;        /* as given; sanitised here */
	const char *media_type;  /* Content-Type; NULL: application/octet-stream */
	const char *refs;        /* comma-separated requirement refs; may be NULL */
	const char *supersedes;  /* evidence id, may be NULL */
	char digest[65];
	uint64_t size;
};

/* May the caller upload evidence to the application now? Checked before
 * the bytes are read, and again when they are recorded. */
cf_err evidence_may_upload(struct db *db, const struct principal *p, const char *application_id,
			   struct cf_error *err) CF_MUST_CHECK;

/* Records a stored blob as evidence (one transaction, one audit record). */
cf_err evidence_record(struct db *db, const struct principal *p, const struct evidence_upload *u,
		       json_t **out, struct cf_error *err) CF_MUST_CHECK;

cf_err evidence_list(struct db *db, const char *application_id, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/* One evidence file's metadata (name, media_type, digest, size). */
cf_err evidence_get(struct db *db, const char *application_id, const char *evidence_id,
		    json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Deletes evidence of a draft (the blob stays: others may share it). */
cf_err evidence_delete(struct db *db, const struct principal *p, const char *application_id,
		       const char *evidence_id, struct cf_error *err) CF_MUST_CHECK;

/* A file name made safe for headers and file systems (out: size bytes). */
void evidence_safe_name(const char *name, char *out, size_t size);

#endif
