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
#include "audit.h"
#include "blobstore.h"
#include "error.h"
#include "party.h"

struct evidence_upload {
	const char *application_id;
	const char *name;        /* as given; sanitised here */
	const char *media_type;  /* Content-Type; NULL: application/octet-stream */
	const char *refs;        /* comma-separated requirement refs; may be NULL */
	const char *supersedes;  /* evidence id, may be NULL */
	uint64_t quota;          /* bytes of evidence an organisation may hold */
	struct blob_writer *blob; /* evidence_record: the finished file (borrowed) */
	char digest[65];
	uint64_t size;
};

/*
 * May the caller upload this evidence to the application now? Checked
 * before a byte of the file is read or stored, and again when it is
 * recorded: the caller's organisation and the application's state, the
 * parameters (refs: known requirements, at least one unless supersedes
 * names current evidence whose links it keeps; supersedes; the media type)
 * and, when the size is announced (announced >= 0), that it is not empty and
 * fits in the organisation's quota (CF_ETOOLARGE, 413).
 */
cf_err evidence_check_upload(struct db *db, const struct principal *p, const struct evidence_upload *u,
			     long long announced, struct cf_error *err) CF_MUST_CHECK;

/* Takes the organisation's quota lock (until the transaction ends): the
 * quota is checked and used under it. */
cf_err evidence_quota_lock(struct db *db, const char *org_id, struct cf_error *err) CF_MUST_CHECK;

/* CF_OK when need more bytes of evidence fit in the organisation's quota;
 * else CF_ETOOLARGE (413, with members quota and used) saying "... bytes
 * are used and <what> <need>". */
cf_err evidence_quota_check(struct db *db, const char *org_id, uint64_t need, uint64_t quota,
			    const char *what, struct cf_error *err) CF_MUST_CHECK;

/*
 * Records a finished blob (u->blob, after blob_finish) as evidence: checks
 * again as evidence_check_upload with the real size, holds the blob's
 * digest lock while it puts the file in its place (blob_place) and inserts
 * the row, so that the janitor (evidence_gc) never removes a file between
 * the two. One transaction, one audit record. On error no row is written;
 * a file already placed is left for the janitor.
 */
cf_err evidence_record(struct db *db, const struct principal *p, const struct evidence_upload *u,
		       json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Bytes of evidence the organisation holds (every row, superseded ones too:
 * they are kept as records). */
cf_err evidence_usage(struct db *db, const char *org_id, uint64_t *used,
		      struct cf_error *err) CF_MUST_CHECK;

struct evidence_gc_result {
	long long removed;        /* blobs removed */
	unsigned long long bytes; /* their bytes */
	long long kept;           /* blobs still referenced, or too young */
	int tmp_removed;          /* abandoned temporary files removed */
	bool skipped;             /* another janitor was running: nothing done */
};

/*
 * The janitor: removes every blob under root that no evidence row
 * references and that was placed or released at least grace seconds ago.
 * One janitor at a time (a PostgreSQL advisory lock; another finds it
 * taken and returns with skipped). Each candidate is looked at under its
 * digest's lock, the one an upload holds from placing the file to
 * committing its row, so an upload of the same content is never robbed of
 * its file. Evidence of a submitted application is never deleted (the
 * database refuses), so its files, decided applications' above all, always
 * stay. One transaction with one audit record when anything was removed.
 */
cf_err evidence_gc(struct db *db, const struct audit_actor *actor, const char *root, long long grace,
		   struct evidence_gc_result *out, struct cf_error *err) CF_MUST_CHECK;

cf_err evidence_list(struct db *db, const char *application_id, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/* One evidence file's metadata (name, media_type, digest, size). */
cf_err evidence_get(struct db *db, const char *application_id, const char *evidence_id,
		    json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Deletes evidence of a draft. The blob stays (others may share it) and its
 * grace period starts: evidence_gc removes it later if nothing references
 * it. root: the blob store. */
cf_err evidence_delete(struct db *db, const struct principal *p, const char *root,
		       const char *application_id, const char *evidence_id,
		       struct cf_error *err) CF_MUST_CHECK;

/* A file name made safe for headers and file systems (out: size bytes). */
void evidence_safe_name(const char *name, char *out, size_t size);

#endif
