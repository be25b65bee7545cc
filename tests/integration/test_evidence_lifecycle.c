/*
 * The evidence lifecycle (issue 11): an upload's parameters are checked
 * before a byte is stored; empty and unlinked evidence is refused with 422;
 * a file no evidence references is removed by the janitor (conformctl
 * janitor, and conformd's own thread) once its grace period has passed,
 * while a decided application's evidence stays; an organisation's quota is
 * answered 413 with nothing stored, and its usage is in the API.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

#define QUOTA (1024 * 1024)

static struct world w;

static void setup(void)
{
	const char *env[] = { "CONFORM_EVIDENCE_QUOTA=1MiB", NULL };
	world_create(&w, "evidence_lifecycle", env);
}

static void teardown(void)
{
	world_destroy(&w);
}

/* POSTs data as evidence through srv (query: after "evidence?"), chunked
 * (no Content-Length) when asked; returns the answer's JSON (or NULL), the
 * status in *status. */
static json_t *upload_to(const struct testsrv *srv, const char *id, const char *query, const void *data,
			 size_t len, bool chunked, long *status)
{
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, "Content-Type: text/plain",
				  chunked ? "Transfer-Encoding: chunked" : NULL, NULL };
	char *url = cf_asprintf("%s/v1/applications/%s/evidence?%s", srv->base, id, query);
	struct http_resp r;
	http_do(&r, "POST", url, headers, data, len);
	free(url);
	*status = r.status;
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	if (r.status >= 400) {
		char ct[128];
		ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof ct));
		ck_assert_str_eq(ct, "application/problem+json");
	}
	http_resp_free(&r);
	return j;
}

static json_t *upload(const char *id, const char *query, const void *data, size_t len, bool chunked,
		      long expect)
{
	long status = 0;
	json_t *j = upload_to(&w.srv, id, query, data, len, chunked, &status);
	ck_assert_msg(status == expect, "upload ?%s: %ld, expected %ld: %s", query, status, expect,
		      j ? jsonx_str(j, "detail") : "");
	return j;
}

/* The stored file of digest under a conformd's data directory. */
static char *blob_file(const struct testsrv *srv, const char *digest)
{
	return cf_asprintf("%s/blobs/%.2s/%.2s/%s", srv->data_dir, digest, digest + 2, digest);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Every file under the blob store, temporary ones included. */
static int files(const struct testsrv *srv)
{
	char *cmd = cf_asprintf("find '%s/blobs' -type f 2>/dev/null | wc -l", srv->data_dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	ck_assert(fscanf(f, "%d", &n) == 1);
	pclose(f);
	free(cmd);
	return n;
}

static long long rows(void)
{
	PGresult *r = testdb_super_exec(&w.db, "SELECT count(*) FROM evidence");
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

/* conformctl janitor over the world's conformd's blob store with a grace
 * period of grace seconds; asserts success. */
static void janitor(const char *grace)
{
	char *dd = cf_asprintf("CONFORM_DATA_DIR=%s", w.srv.data_dir);
	char *g = cf_asprintf("CONFORM_EVIDENCE_GRACE=%s", grace);
	const char *env[] = { dd, g, NULL };
	const char *args[] = { "janitor", NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w.db, args, env);
	ck_assert_msg(r.status == 0, "conformctl janitor: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "removed "));
	proc_result_free(&r);
	free(dd);
	free(g);
}

static void delete_evidence(const char *href, long expect)
{
	long status = 0;
	json_decref(testsrv_api(&w.srv, "DELETE", href, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, expect);
}

START_TEST(deleted_evidence_is_removed_after_the_grace_period)
{
	char id[37];
	world_application(&w, "draft", id);
	char content[128], kept[128];
	snprintf(content, sizeof content, "report of %s, soon deleted", id);
	snprintf(kept, sizeof kept, "report of %s, kept", id);
	json_t *e = upload(id, "name=r.txt&refs=DCMS-1", content, strlen(content), false, 201);
	json_t *k = upload(id, "name=k.txt&refs=DCMS-2", kept, strlen(kept), false, 201);
	char *path = blob_file(&w.srv, jsonx_str(e, "digest"));
	char *kept_path = blob_file(&w.srv, jsonx_str(k, "digest"));
	ck_assert(exists(path));
	delete_evidence(jsonx_str(e, "href"), 204);
	ck_assert(exists(path)); /* the row went; the file waits for the janitor */

	/* within its grace period (counted from the deletion) it stays */
	janitor("3600");
	ck_assert(exists(path));

	/* past it, it is gone; a file still referenced stays */
	bool gone = false;
	for (int i = 0; i < 40 && !gone; i++) {
		usleep(500000);
		janitor("1");
		gone = !exists(path);
	}
	ck_assert_msg(gone, "%s is still there", path);
	ck_assert(exists(kept_path));
	long status = 0;
	char *href = cf_asprintf("%s", jsonx_str(k, "href"));
	json_decref(testsrv_api(&w.srv, "GET", href, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 200);

	/* and the janitor's work is in the audit trail */
	PGresult *r = testdb_super_exec(&w.db, "SELECT count(*) FROM audit_log WHERE action = 'evidence.gc'");
	ck_assert_int_ge(atoi(PQgetvalue(r, 0, 0)), 1);
	PQclear(r);
	free(href);
	free(path);
	free(kept_path);
	json_decref(e);
	json_decref(k);
}
END_TEST

START_TEST(conformd_runs_the_janitor_itself)
{
	/* a second conformd on the same database, with its own blob store and
	 * a janitor every second */
	const char *env[] = { w.signer.env, "CONFORM_JANITOR_INTERVAL=1", "CONFORM_EVIDENCE_GRACE=1",
			      NULL };
	struct testsrv srv2;
	testsrv_start(&srv2, &w.db, env);
	char id[37];
	world_application(&w, "draft", id);
	char content[128];
	snprintf(content, sizeof content, "a file of %s for the janitor thread", id);
	long status = 0;
	json_t *e = upload_to(&srv2, id, "name=t.txt&refs=DCMS-3", content, strlen(content), false, &status);
	ck_assert_int_eq(status, 201);
	char *path = blob_file(&srv2, jsonx_str(e, "digest"));
	ck_assert(exists(path));
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, NULL };
	struct http_resp r;
	testsrv_req(&srv2, &r, "DELETE", jsonx_str(e, "href"), headers, NULL);
	ck_assert_int_eq(r.status, 204);
	http_resp_free(&r);
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		usleep(200000);
		gone = !exists(path);
	}
	ck_assert_msg(gone, "conformd's janitor did not remove %s", path);
	testsrv_stop(&srv2);
	free(path);
	json_decref(e);
}
END_TEST

struct racer {
	const char *id;
	const char *content;
	json_t *e;
};

static void *upload_again(void *arg)
{
	struct racer *r = arg;
	long status = 0;
	r->e = upload_to(&w.srv, r->id, "name=same.txt&refs=DCMS-5", r->content, strlen(r->content), false,
			 &status);
	return status == 201 ? r : NULL;
}

START_TEST(the_janitor_never_robs_an_upload_of_the_same_content)
{
	char id[37];
	world_application(&w, "draft", id);
	char content[128];
	snprintf(content, sizeof content, "the same content, again and again, for %s", id);
	for (int round = 0; round < 6; round++) {
		/* the content is stored and no longer referenced ... */
		json_t *old = upload(id, "name=same.txt&refs=DCMS-5", content, strlen(content), false, 201);
		delete_evidence(jsonx_str(old, "href"), 204);
		json_decref(old);
		/* ... when it is uploaded again while the janitor runs with no grace */
		struct racer r = { id, content, NULL };
		pthread_t t;
		ck_assert_int_eq(pthread_create(&t, NULL, upload_again, &r), 0);
		janitor("0");
		void *ok = NULL;
		pthread_join(t, &ok);
		ck_assert_msg(ok != NULL, "the upload failed");
		/* the evidence that was recorded has its file */
		char *path = blob_file(&w.srv, jsonx_str(r.e, "digest"));
		ck_assert_msg(exists(path), "round %d: evidence %s has no file", round, jsonx_str(r.e, "id"));
		char auth[96];
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
		const char *headers[] = { auth, NULL };
		struct http_resp resp;
		testsrv_req(&w.srv, &resp, "GET", jsonx_str(r.e, "href"), headers, NULL);
		ck_assert_int_eq(resp.status, 200);
		http_resp_free(&resp);
		delete_evidence(jsonx_str(r.e, "href"), 204);
		free(path);
		json_decref(r.e);
	}
}
END_TEST

START_TEST(decided_applications_evidence_survives_the_janitor)
{
	char id[37], path[160];
	world_application(&w, "draft", id);
	char content[128];
	snprintf(content, sizeof content, "the penetration test report of %s", id);
	json_t *e = upload(id, "name=pentest.txt&refs=DCMS-1,DCMS-2", content, strlen(content), false, 201);
	json_t *ans = json_loads("{\"statement\":\"compliant\",\"text\":\"as documented\"}", 0, NULL);
	for (int i = 1; i <= 13; i++) {
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		json_decref(testsrv_api_ok(&w.srv, "PUT", path, w.applicant.token, ans, 200));
	}
	json_decref(ans);
	json_decref(world_act(&w, id, &w.applicant, "submit", NULL, 200));
	json_decref(world_act(&w, id, &w.assessor, "take", NULL, 200));
	char body[2048] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = 1; i <= 13; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"pass\",\"comment\":\"seen\"}",
				      i > 1 ? "," : "", i);
	snprintf(body + n, sizeof body - n, "]}");
	json_t *b = json_loads(body, 0, NULL);
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(testsrv_api_ok(&w.srv, "POST", path, w.assessor.token, b, 200));
	json_decref(b);
	json_decref(world_act(&w, id, &w.assessor, "complete", NULL, 200));
	json_decref(world_act(&w, id, &w.certifier, "decide",
			      "{\"decision\":\"approve\",\"rationale\":\"all passed\"}", 200));

	/* its evidence is a record: never deleted, and its file never removed */
	delete_evidence(jsonx_str(e, "href"), 409);
	char *file = blob_file(&w.srv, jsonx_str(e, "digest"));
	janitor("0");
	ck_assert(exists(file));
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, NULL };
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", jsonx_str(e, "href"), headers, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, strlen(content));
	ck_assert(memcmp(r.body, content, r.len) == 0);
	http_resp_free(&r);
	free(file);
	json_decref(e);
}
END_TEST

/* An upload refused with status, whose detail names what; nothing stored. */
static void refused(const char *id, const char *query, const void *data, size_t len, bool chunked,
		    long status, const char *what)
{
	int before = files(&w.srv);
	long long before_rows = rows();
	json_t *p = upload(id, query, data, len, chunked, status);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), what), "?%s: %s", query, jsonx_str(p, "detail"));
	json_decref(p);
	ck_assert_int_eq(rows(), before_rows);
	/* no file, not even a temporary one (the request is over when answered) */
	ck_assert_msg(files(&w.srv) == before, "?%s left a file", query);
}

START_TEST(an_invalid_upload_stores_nothing)
{
	char id[37];
	world_application(&w, "draft", id);
	char content[128];
	snprintf(content, sizeof content, "never stored, for %s", id);
	size_t len = strlen(content);
	for (int chunked = 0; chunked <= 1; chunked++) {
		refused(id, "name=a.txt&refs=DCMS-1&supersedes=not-a-uuid", content, len, chunked, 400,
			"supersedes");
		refused(id, "name=a.txt&refs=DCMS-1&supersedes=00000000-0000-4000-8000-000000000000", content,
			len, chunked, 422, "supersedes");
		refused(id, "name=a.txt&refs=DCMS-1,NOPE-9", content, len, chunked, 422, "NOPE-9");
	}
	/* the same, valid, is stored */
	json_decref(upload(id, "name=a.txt&refs=DCMS-1", content, len, false, 201));
}
END_TEST

START_TEST(empty_and_unlinked_evidence_is_422)
{
	char id[37];
	world_application(&w, "draft", id);
	char content[128];
	snprintf(content, sizeof content, "linked to nothing, for %s", id);
	size_t len = strlen(content);
	for (int chunked = 0; chunked <= 1; chunked++) {
		/* linked to no requirement */
		refused(id, "name=a.txt", content, len, chunked, 422, "refs");
		refused(id, "name=a.txt&refs=", content, len, chunked, 422, "refs");
		refused(id, "name=a.txt&refs=,%20", content, len, chunked, 422, "refs");
		/* empty */
		refused(id, "name=a.txt&refs=DCMS-1", "", 0, chunked, 422, "empty");
	}
	/* superseding current evidence keeps its links: no refs needed */
	json_t *e = upload(id, "name=a.txt&refs=DCMS-1", content, len, false, 201);
	char *q = cf_asprintf("name=b.txt&supersedes=%s", jsonx_str(e, "id"));
	json_t *e2 = upload(id, q, "v2", 2, false, 201);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e2, "refs"), 0)), "DCMS-1");
	free(q);
	json_decref(e);
	json_decref(e2);
}
END_TEST

START_TEST(the_quota_is_answered_413_and_its_usage_is_in_the_api)
{
	char id[37], org_path[96];
	world_application(&w, "draft", id);
	snprintf(org_path, sizeof org_path, "/v1/organisations/%s", w.applicant.org);
	json_t *o = testsrv_api_ok(&w.srv, "GET", org_path, w.applicant.token, NULL, 200);
	json_t *s = json_object_get(o, "evidence_storage");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "quota")), QUOTA);
	long long used = json_integer_value(json_object_get(s, "used"));
	const char *org[] = { w.applicant.org };
	PGresult *r = testdb_super_query(&w.db, "SELECT coalesce(sum(e.size), 0) FROM evidence e JOIN application a"
					 " ON a.id = e.application_id WHERE a.manufacturer_id = $1", 1, org);
	ck_assert_int_eq(atoll(PQgetvalue(r, 0, 0)), used);
	PQclear(r);
	json_decref(o);
	ck_assert_int_lt(used, QUOTA);

	/* one byte too many: announced, and not (chunked) */
	size_t room = (size_t)(QUOTA - used);
	char *data = cf_malloc(room + 1);
	memset(data, 'q', room + 1);
	snprintf(data, room, "quota of %s:", id);
	data[strlen(data)] = 'q';
	for (int chunked = 0; chunked <= 1; chunked++) {
		int before = files(&w.srv);
		json_t *p = upload(id, "name=big.txt&refs=DCMS-1", data, room + 1, chunked, 413);
		ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:too-large");
		ck_assert_ptr_nonnull(strstr(jsonx_str(p, "detail"), "quota"));
		ck_assert_int_eq(json_integer_value(json_object_get(p, "quota")), QUOTA);
		json_decref(p);
		ck_assert_int_eq(files(&w.srv), before);
	}
	/* exactly the room left fits; then the usage is the quota */
	json_t *e = upload(id, "name=big.txt&refs=DCMS-1", data, room, true, 201);
	o = testsrv_api_ok(&w.srv, "GET", org_path, w.applicant.token, NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "evidence_storage"), "used")),
			 QUOTA);
	json_decref(o);
	json_decref(upload(id, "name=one.txt&refs=DCMS-1", "x", 1, false, 413));
	json_decref(upload(id, "name=one.txt&refs=DCMS-1", "x", 1, true, 413));
	/* deleting frees the room again */
	delete_evidence(jsonx_str(e, "href"), 204);
	json_decref(upload(id, "name=one.txt&refs=DCMS-1", "x", 1, false, 201));
	json_decref(e);
	free(data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence_lifecycle");
	TCase *tc = tcase_create("evidence_lifecycle");
	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_invalid_upload_stores_nothing);
	tcase_add_test(tc, empty_and_unlinked_evidence_is_422);
	tcase_add_test(tc, the_janitor_never_robs_an_upload_of_the_same_content);
	tcase_add_test(tc, the_quota_is_answered_413_and_its_usage_is_in_the_api);
	tcase_add_test(tc, deleted_evidence_is_removed_after_the_grace_period);
	tcase_add_test(tc, decided_applications_evidence_survives_the_janitor);
	tcase_add_test(tc, conformd_runs_the_janitor_itself);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
