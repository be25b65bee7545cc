/*
 * Unit tests of core/evidence.c against the throwaway database, with no
 * conformd: upload bookkeeping (name, media type, size, digest, the file in
 * the blob store, the quota), links to requirements, superseding, deletion
 * of a draft's evidence, the janitor, and what the database itself refuses
 * once a requirement has been settled by the assessor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "application.h"
#include "blobstore.h"
#include "coreworld.h"
#include "evidence.h"
#include "tsupport.h"

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1) and of "abcd". */
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABCD_SHA256 "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"

#define QUOTA (1ull << 30)

static struct coreworld c;

static void setup(void)
{
	coreworld_create(&c, "evidence");
}

static void teardown(void)
{
	coreworld_destroy(&c);
}

struct up {
	const struct principal *who;
	const char *name, *media, *refs, *supersedes, *content;
	uint64_t quota; /* 0: QUOTA */
};

/* Writes content into the blob store and records it as evidence of app as
 * up says; *out is the evidence (NULL on error). */
static cf_err upload(const char *app, const struct up *up, json_t **out, struct cf_error *err)
{
	struct blob_writer *w = NULL;
	struct evidence_upload u = { 0 };
	u.application_id = app;
	u.name = up->name ? up->name : "report.pdf";
	u.media_type = up->media;
	u.refs = up->refs;
	u.supersedes = up->supersedes;
	u.quota = up->quota ? up->quota : QUOTA;
	cf_err e = blob_begin(c.blobs, 1 << 20, &w, err);
	ck_assert_int_eq(e, 0);
	e = blob_write(w, up->content, strlen(up->content), err);
	if (!e)
		e = blob_finish(w, u.digest, &u.size, err);
	ck_assert_int_eq(e, 0);
	u.blob = w;
	e = evidence_record(c.db, up->who ? up->who : &c.applicant, &u, out, err);
	blob_abort(w);
	return e;
}

/* upload, which must succeed; the evidence's id in id (may be NULL). */
static json_t *upload_ok(const char *app, const struct up *up, char id[37])
{
	json_t *ev = NULL;
	struct cf_error err;
	cf_err e = upload(app, up, &ev, &err);
	ck_assert_msg(!e, "upload: %s", err.detail);
	if (id)
		snprintf(id, 37, "%s", json_string_value(json_object_get(ev, "id")));
	return ev;
}

/* upload, which must fail with code; its message in detail (may be NULL). */
static void upload_refused(const char *app, const struct up *up, enum cf_code code, char *detail,
			   size_t size)
{
	json_t *ev = NULL;
	struct cf_error err;
	cf_err e = upload(app, up, &ev, &err);
	ck_assert_msg(e, "the upload (refs %s) was accepted", up->refs ? up->refs : "none");
	ck_assert_msg(err.code == code, "code %d, expected %d: %s", err.code, code, err.detail);
	ck_assert_ptr_null(ev);
	if (detail)
		snprintf(detail, size, "%s", err.detail);
}

static long long rows(const char *sql, const char *arg)
{
	return coreworld_count(&c, sql, arg);
}

static long long audit_count(const char *action)
{
	return rows("SELECT count(*) FROM audit_log WHERE action = $1", action);
}

/* The refs of evidence as "A,B" (sorted). */
static void refs_of(const json_t *ev, char *out, size_t size)
{
	out[0] = '\0';
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(ev, "refs"), i, r) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", i ? "," : "", json_string_value(r));
	}
}

static int app_version(const char *app)
{
	struct application_row row;
	struct cf_error err;
	cf_err e = application_load(c.db, app, false, &row, &err);
	ck_assert_msg(!e, "%s", err.detail);
	return row.version;
}

/* A draft with two files: "abc" for DCMS-1 (first) and "abcd" for DCMS-2
 * (second). */
static void draft_with_two(char app[37], char first[37], char second[37])
{
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, first));
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-2", .content = "abcd" }, second));
}

/* sql, run by conformd's own role, must be refused by the database; its
 * message must name what (may be NULL). */
static void db_refuses(const char *sql, int n, const char *const *params, const char *what)
{
	PGresult *r = testdb_app_query(&c.tdb, sql, n, params);
	ck_assert_msg(PQresultStatus(r) == PGRES_FATAL_ERROR, "the database allowed %s", sql);
	ck_assert_msg(!what || strstr(PQresultErrorMessage(r), what), "%s: %s", sql,
		      PQresultErrorMessage(r));
	PQclear(r);
}

START_TEST(upload_keeps_its_bookkeeping)
{
	char app[37], id[37];
	coreworld_application(&c, "third-party", "draft", app);
	int before = app_version(app);
	long long audits = audit_count("application.evidence");
	json_t *ev = upload_ok(app, &(struct up){ .name = "../../etc/Test Report.pdf",
						  .media = "Application/PDF; charset=binary",
						  .refs = "DCMS-2, DCMS-1", .content = "abc" }, id);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "name")), "Test Report.pdf");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "media_type")), "application/pdf");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "size")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "digest")), ABC_SHA256);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "uploaded_by")), c.applicant.user_id);
	ck_assert(json_is_null(json_object_get(ev, "superseded_by")));
	char refs[128];
	refs_of(ev, refs, sizeof refs);
	ck_assert_str_eq(refs, "DCMS-1,DCMS-2");
	char href[160];
	snprintf(href, sizeof href, "/v1/applications/%s/evidence/%s", app, id);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "href")), href);
	/* the file is in its place under its digest */
	char path[256];
	snprintf(path, sizeof path, "%s/ba/78/%s", c.blobs, ABC_SHA256);
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "%s is missing", path);
	ck_assert_int_eq(st.st_size, 3);
	/* the application changed (its ETag), and the audit trail says so */
	ck_assert_int_eq(app_version(app), before + 1);
	ck_assert_int_eq(audit_count("application.evidence"), audits + 1);
	char digest[80];
	coreworld_value(&c, digest, sizeof digest, "SELECT details->>'digest' FROM audit_log"
			" WHERE action = 'application.evidence' AND details->>'evidence_id' = $1", 1,
			(const char *[]){ id });
	ck_assert_str_eq(digest, ABC_SHA256);
	json_decref(ev);
}
END_TEST

START_TEST(no_media_type_is_octet_stream)
{
	char app[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_t *ev = upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "media_type")),
			 "application/octet-stream");
	json_decref(ev);
	upload_refused(app, &(struct up){ .media = "not a media type", .refs = "DCMS-1",
					  .content = "abc" }, CF_EINVAL, NULL, 0);
	upload_refused(app, &(struct up){ .media = "text/", .refs = "DCMS-1", .content = "abc" },
		       CF_EINVAL, NULL, 0);
}
END_TEST

static bool count_blob(const char *digest, uint64_t size, long long age, void *arg)
{
	(void)age;
	ck_assert_str_eq(digest, ABCD_SHA256);
	ck_assert_uint_eq(size, 4);
	++*(int *)arg;
	return true;
}

START_TEST(same_content_is_stored_once)
{
	char app[37], a[37], b[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abcd" }, a));
	json_decref(upload_ok(app, &(struct up){ .name = "copy.pdf", .refs = "DCMS-2",
						 .content = "abcd" }, b));
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE digest = $1", ABCD_SHA256), 2);
	/* one file on disk, both rows against the quota */
	int files = 0;
	struct cf_error err;
	cf_err e = blob_each(c.blobs, count_blob, &files, &err);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(files, 1);
	uint64_t used = 0;
	e = evidence_usage(c.db, c.applicant.org_id, &used, &err);
	ck_assert_int_eq(e, 0);
	ck_assert_uint_eq(used, 8);
}
END_TEST

START_TEST(refs_must_name_requirements)
{
	char app[37], detail[768];
	coreworld_application(&c, "third-party", "draft", app);
	long long audits = audit_count("application.evidence");
	upload_refused(app, &(struct up){ .refs = "DCMS-1,DCMS-99", .content = "abc" },
		       CF_EUNPROCESSABLE, detail, sizeof detail);
	ck_assert_msg(strstr(detail, "DCMS-99"), "%s", detail);
	upload_refused(app, &(struct up){ .content = "abc" }, CF_EUNPROCESSABLE, NULL, 0);
	upload_refused(app, &(struct up){ .refs = " , ,", .content = "abc" }, CF_EUNPROCESSABLE,
		       NULL, 0);
	/* nothing of a refused upload is written, the trail included */
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE application_id = $1", app), 0);
	ck_assert_int_eq(audit_count("application.evidence"), audits);
}
END_TEST

START_TEST(an_empty_file_is_no_evidence)
{
	char app[37], detail[768];
	coreworld_application(&c, "third-party", "draft", app);
	upload_refused(app, &(struct up){ .refs = "DCMS-1", .content = "" }, CF_EUNPROCESSABLE,
		       detail, sizeof detail);
	ck_assert_msg(strstr(detail, "empty"), "%s", detail);
	struct evidence_upload u = { .application_id = app, .refs = "DCMS-1", .quota = QUOTA };
	struct cf_error err;
	ck_assert_int_eq(evidence_check_upload(c.db, &c.applicant, &u, 0, &err), CF_EUNPROCESSABLE);
	ck_assert_int_eq(evidence_check_upload(c.db, &c.applicant, &u, 10, &err), CF_OK);
}
END_TEST

START_TEST(the_quota_counts_every_file)
{
	char app[37];
	coreworld_application(&c, "third-party", "draft", app);
	/* 7 bytes: "abc" fits, "abcd" after it would make 7, "abcd" again 11 */
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abc", .quota = 7 },
			      NULL));
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abcd", .quota = 7 },
			      NULL));
	upload_refused(app, &(struct up){ .refs = "DCMS-1", .content = "abcd", .quota = 7 },
		       CF_ETOOLARGE, NULL, 0);
	/* announced sizes are checked before a byte is read */
	struct evidence_upload u = { .application_id = app, .refs = "DCMS-1", .quota = 8 };
	struct cf_error err;
	ck_assert_int_eq(evidence_check_upload(c.db, &c.applicant, &u, 2, &err), CF_ETOOLARGE);
	ck_assert_msg(strstr(err.extra, "\"used\":7"), "%s", err.extra);
	ck_assert_int_eq(evidence_check_upload(c.db, &c.applicant, &u, 1, &err), CF_OK);
	/* another organisation's quota is its own */
	uint64_t used = 1;
	ck_assert_int_eq(evidence_usage(c.db, c.other_applicant.org_id, &used, &err), CF_OK);
	ck_assert_uint_eq(used, 0);
}
END_TEST

START_TEST(only_the_manufacturer_uploads)
{
	char app[37];
	coreworld_application(&c, "third-party", "draft", app);
	upload_refused(app, &(struct up){ .who = &c.other_applicant, .refs = "DCMS-1", .content = "abc" },
		       CF_EFORBIDDEN, NULL, 0);
	upload_refused(app, &(struct up){ .who = &c.assessor, .refs = "DCMS-1", .content = "abc" },
		       CF_EFORBIDDEN, NULL, 0);
}
END_TEST

START_TEST(only_while_draft_or_info_requested)
{
	char app[37];
	coreworld_application(&c, "third-party", "submitted", app);
	char detail[768];
	upload_refused(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, CF_ESTATE, detail,
		       sizeof detail);
	ck_assert_msg(strstr(detail, "submitted"), "%s", detail);
	coreworld_act_ok(&c, &c.assessor, app, "take", NULL);
	upload_refused(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, CF_ESTATE, NULL, 0);
	/* no such application */
	upload_refused("00000000-0000-4000-8000-000000000000",
		       &(struct up){ .refs = "DCMS-1", .content = "abc" }, CF_ENOTFOUND, NULL, 0);
}
END_TEST

START_TEST(superseding_keeps_the_links)
{
	char app[37], old[37], new[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-3,DCMS-1", .content = "abc" }, old));
	long long audits = audit_count("application.evidence");
	json_t *ev = upload_ok(app, &(struct up){ .supersedes = old, .content = "abcd" }, new);
	char refs[128];
	refs_of(ev, refs, sizeof refs);
	ck_assert_str_eq(refs, "DCMS-1,DCMS-3");
	json_decref(ev);
	struct cf_error err;
	ck_assert_int_eq(evidence_get(c.db, app, old, &ev, &err), CF_OK);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "superseded_by")), new);
	ck_assert(json_is_string(json_object_get(ev, "superseded_at")));
	json_decref(ev);
	ck_assert_int_eq(audit_count("application.evidence"), audits + 1);
	char sup[37];
	coreworld_value(&c, sup, sizeof sup, "SELECT details->>'supersedes' FROM audit_log WHERE"
			" details->>'evidence_id' = $1", 1, (const char *[]){ new });
	ck_assert_str_eq(sup, old);
	/* what is superseded is no longer current: superseding it again is refused */
	upload_refused(app, &(struct up){ .supersedes = old, .content = "abc" }, CF_EUNPROCESSABLE,
		       NULL, 0);
	/* new refs replace the old links */
	char third[37];
	ev = upload_ok(app, &(struct up){ .supersedes = new, .refs = "DCMS-4", .content = "abc" },
		       third);
	refs_of(ev, refs, sizeof refs);
	ck_assert_str_eq(refs, "DCMS-4");
	json_decref(ev);
}
END_TEST

START_TEST(supersedes_names_current_evidence_of_this_application)
{
	char app[37], other[37], theirs[37];
	coreworld_application(&c, "third-party", "draft", app);
	coreworld_application(&c, "third-party", "draft", other);
	json_decref(upload_ok(other, &(struct up){ .refs = "DCMS-1", .content = "abc" }, theirs));
	upload_refused(app, &(struct up){ .supersedes = theirs, .content = "abc" }, CF_EUNPROCESSABLE,
		       NULL, 0);
	upload_refused(app, &(struct up){ .supersedes = "not-an-id", .content = "abc" }, CF_EINVAL,
		       NULL, 0);
	/* the other application's evidence is untouched */
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE id = $1 AND superseded_by IS NULL",
			      theirs), 1);
}
END_TEST

START_TEST(list_and_get)
{
	char app[37], a[37], b[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .name = "first.txt", .refs = "DCMS-1",
						 .content = "abc" }, a));
	json_decref(upload_ok(app, &(struct up){ .name = "second.txt", .refs = "DCMS-2",
						 .content = "abcd" }, b));
	json_t *list = NULL;
	struct cf_error err;
	ck_assert_int_eq(evidence_list(c.db, app, &list, &err), CF_OK);
	json_t *items = json_object_get(list, "items");
	ck_assert_uint_eq(json_array_size(items), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "id")), a);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 1), "id")), b);
	json_decref(list);
	json_t *ev = NULL;
	ck_assert_int_eq(evidence_get(c.db, app, b, &ev, &err), CF_OK);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "name")), "second.txt");
	json_decref(ev);
	/* another application's id with this evidence: not found, as a bad id */
	char other[37];
	coreworld_application(&c, "third-party", "draft", other);
	ck_assert_int_eq(evidence_get(c.db, other, b, &ev, &err), CF_ENOTFOUND);
	ck_assert_ptr_null(ev);
	ck_assert_int_eq(evidence_get(c.db, app, "x", &ev, &err), CF_ENOTFOUND);
	ck_assert_int_eq(evidence_list(c.db, "x", &list, &err), CF_ENOTFOUND);
}
END_TEST

START_TEST(a_drafts_evidence_is_deleted_and_the_old_one_is_current_again)
{
	char app[37], old[37], new[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, old));
	json_decref(upload_ok(app, &(struct up){ .supersedes = old, .content = "abcd" }, new));
	struct cf_error err;
	ck_assert_int_eq(evidence_delete(c.db, &c.other_applicant, c.blobs, app, new, &err), CF_EFORBIDDEN);
	long long audits = audit_count("application.evidence_delete");
	ck_assert_int_eq(evidence_delete(c.db, &c.applicant, c.blobs, app, new, &err), CF_OK);
	ck_assert_int_eq(audit_count("application.evidence_delete"), audits + 1);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE id = $1", new), 0);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence_link WHERE evidence_id = $1", new), 0);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE id = $1 AND superseded_by IS NULL"
			      " AND superseded_at IS NULL", old), 1);
	/* twice: not found, and no second audit record */
	ck_assert_int_eq(evidence_delete(c.db, &c.applicant, c.blobs, app, new, &err), CF_ENOTFOUND);
	ck_assert_int_eq(audit_count("application.evidence_delete"), audits + 1);
}
END_TEST

START_TEST(submitted_evidence_is_never_deleted)
{
	char app[37], id[37];
	coreworld_application(&c, "third-party", "draft", app);
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-1", .content = "abc" }, id));
	coreworld_advance(&c, app, "submitted", 0);
	struct cf_error err;
	ck_assert_int_eq(evidence_delete(c.db, &c.applicant, c.blobs, app, id, &err), CF_ESTATE);
	/* and the database refuses it to conformd's own role as well */
	db_refuses("DELETE FROM evidence WHERE id = $1", 1, (const char *[]){ id }, NULL);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE id = $1", id), 1);
}
END_TEST

/*
 * A requirement the assessor settled (pass) keeps the evidence it was judged
 * on: no new link to it, no link dropped, the file not superseded; while a
 * requirement asked about (info_needed) takes new evidence. core refuses
 * first (CF_ESTATE naming the requirement); the database refuses a direct
 * write by conformd's role too.
 */
START_TEST(a_settled_requirement_keeps_its_evidence)
{
	char app[37], judged[37], asked[37];
	draft_with_two(app, judged, asked);
	coreworld_advance(&c, app, "info_requested", 1);

	char detail[768];
	upload_refused(app, &(struct up){ .refs = "DCMS-1", .content = "abcd" }, CF_ESTATE, detail,
		       sizeof detail);
	ck_assert_msg(strstr(detail, "DCMS-1"), "%s", detail);
	upload_refused(app, &(struct up){ .refs = "DCMS-2,DCMS-1", .content = "abcd" }, CF_ESTATE,
		       NULL, 0);
	upload_refused(app, &(struct up){ .supersedes = judged, .content = "abcd" }, CF_ESTATE, NULL,
		       0);
	/* what was asked about takes new evidence, and superseding */
	json_decref(upload_ok(app, &(struct up){ .refs = "DCMS-2", .content = "abc" }, NULL));
	json_decref(upload_ok(app, &(struct up){ .supersedes = asked, .content = "abc" }, NULL));

	/* the database, to conformd's role: a link added, a link dropped, the
	 * judged file superseded */
	db_refuses("INSERT INTO evidence_link (evidence_id, ref) VALUES ($1, 'DCMS-1')", 1,
		   (const char *[]){ asked }, "DCMS-1");
	db_refuses("DELETE FROM evidence_link WHERE evidence_id = $1", 1, (const char *[]){ judged },
		   "DCMS-1");
	db_refuses("UPDATE evidence SET superseded_by = $2, superseded_at = now() WHERE id = $1", 2,
		   (const char *[]){ judged, asked }, "DCMS-1");
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence WHERE id = $1 AND superseded_by IS NULL",
			      judged), 1);
	ck_assert_int_eq(rows("SELECT count(*) FROM evidence_link WHERE evidence_id = $1", judged), 1);
}
END_TEST

START_TEST(the_janitor_removes_only_unreferenced_files)
{
	char app[37], keep[37], drop[37];
	draft_with_two(app, keep, drop);
	struct cf_error err;
	struct evidence_gc_result gc;
	/* referenced, or too young: kept */
	ck_assert_int_eq(evidence_delete(c.db, &c.applicant, c.blobs, app, drop, &err), CF_OK);
	ck_assert_int_eq(evidence_gc(c.db, &c.cli, c.blobs, 3600, &gc, &err), CF_OK);
	ck_assert_int_eq(gc.removed, 0);
	ck_assert_int_eq(gc.kept, 2);
	long long audits = audit_count("evidence.gc");
	/* grace 0: the unreferenced one goes, with one audit record naming it */
	ck_assert_int_eq(evidence_gc(c.db, &c.cli, c.blobs, 0, &gc, &err), CF_OK);
	ck_assert_int_eq(gc.removed, 1);
	ck_assert_uint_eq(gc.bytes, 4);
	ck_assert_int_eq(gc.kept, 1);
	ck_assert_int_eq(audit_count("evidence.gc"), audits + 1);
	char path[256];
	struct stat st;
	snprintf(path, sizeof path, "%s/88/d4/%s", c.blobs, ABCD_SHA256);
	ck_assert_msg(stat(path, &st) != 0, "%s is still there", path);
	snprintf(path, sizeof path, "%s/ba/78/%s", c.blobs, ABC_SHA256);
	ck_assert_msg(stat(path, &st) == 0, "%s was removed", path);
	/* nothing left to do: no audit record for nothing */
	ck_assert_int_eq(evidence_gc(c.db, &c.cli, c.blobs, 0, &gc, &err), CF_OK);
	ck_assert_int_eq(gc.removed, 0);
	ck_assert_int_eq(audit_count("evidence.gc"), audits + 1);
}
END_TEST

/* One janitor at a time: while another holds the janitor's lock, a run
 * does nothing and says it skipped; after, it does its work. */
START_TEST(one_janitor_at_a_time)
{
	char app[37], keep[37], drop[37];
	draft_with_two(app, keep, drop);
	struct cf_error err;
	ck_assert_int_eq(evidence_delete(c.db, &c.applicant, c.blobs, app, drop, &err), CF_OK);
	PGconn *other = PQconnectdb(c.tdb.super_url);
	ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
	PQclear(PQexec(other, "BEGIN"));
	PGresult *r = PQexec(other, "SELECT pg_advisory_xact_lock(hashtextextended('conform.janitor', 0))");
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	struct evidence_gc_result gc;
	ck_assert_int_eq(evidence_gc(c.db, &c.cli, c.blobs, 0, &gc, &err), CF_OK);
	ck_assert(gc.skipped);
	ck_assert_int_eq(gc.removed, 0);
	PQclear(PQexec(other, "ROLLBACK"));
	PQfinish(other);
	ck_assert_int_eq(evidence_gc(c.db, &c.cli, c.blobs, 0, &gc, &err), CF_OK);
	ck_assert(!gc.skipped);
	ck_assert_int_eq(gc.removed, 1);
}
END_TEST

START_TEST(safe_names)
{
	static const struct {
		const char *given, *safe;
	} cases[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "..hidden", "hidden" },
		{ "  .profile", "profile" },
		{ "a\"b;c\r\n.txt", "a_b_c__.txt" },
		{ "Test (v2)+final.pdf", "Test (v2)+final.pdf" },
		{ "trailing. . ", "trailing" },
		{ "", "evidence" },
		{ "/", "evidence" },
		{ "...", "evidence" },
		{ NULL, "evidence" },
		{ "caf\xc3\xa9.txt", "caf__.txt" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[208];
		evidence_safe_name(cases[i].given, out, sizeof out);
		ck_assert_msg(strcmp(out, cases[i].safe) == 0, "'%s' -> '%s', expected '%s'",
			      cases[i].given ? cases[i].given : "(null)", out, cases[i].safe);
	}
	/* at most 200 characters kept */
	char longname[400], out[400];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	evidence_safe_name(longname, out, sizeof out);
	ck_assert_uint_eq(strlen(out), 200);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("upload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, upload_keeps_its_bookkeeping);
	tcase_add_test(tc, no_media_type_is_octet_stream);
	tcase_add_test(tc, same_content_is_stored_once);
	tcase_add_test(tc, refs_must_name_requirements);
	tcase_add_test(tc, an_empty_file_is_no_evidence);
	tcase_add_test(tc, the_quota_counts_every_file);
	tcase_add_test(tc, only_the_manufacturer_uploads);
	tcase_add_test(tc, only_while_draft_or_info_requested);
	tcase_add_test(tc, superseding_keeps_the_links);
	tcase_add_test(tc, supersedes_names_current_evidence_of_this_application);
	tcase_add_test(tc, list_and_get);
	tcase_add_test(tc, a_drafts_evidence_is_deleted_and_the_old_one_is_current_again);
	tcase_add_test(tc, submitted_evidence_is_never_deleted);
	tcase_add_test(tc, a_settled_requirement_keeps_its_evidence);
	tcase_add_test(tc, the_janitor_removes_only_unreferenced_files);
	tcase_add_test(tc, one_janitor_at_a_time);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, safe_names);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
