/*
 * Idempotency-Key on creations over real HTTP: a repeat answers the first
 * creation (body, Location, ETag) and creates nothing; a key reused for
 * another request is 422; repeats racing each other still create once; a
 * failure is not remembered; keys are a person's own and forgotten after a
 * day; uploads take a key too; token creation refuses one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

struct answer {
	long status;
	json_t *body;
	char location[160];
	char etag[40];
	bool replayed;
};

static void answer_free(struct answer *a)
{
	json_decref(a->body);
	a->body = NULL;
}

/* POST path with token, key (NULL: none) and a body of content type. */
static void post(struct answer *a, const char *path, const char *token, const char *key,
		 const char *type, const void *body, size_t len)
{
	char auth[96], k[320], ct[96], url[512], hv[200];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	snprintf(k, sizeof k, "Idempotency-Key: %s", key ? key : "");
	snprintf(ct, sizeof ct, "Content-Type: %s", type);
	const char *h[] = { auth, ct, key ? k : NULL, NULL };
	snprintf(url, sizeof url, "%s%s", w.srv.base, path);
	struct http_resp r;
	http_do(&r, "POST", url, h, body, len);
	a->status = r.status;
	a->body = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	const char *v = http_header(&r, "Location", hv, sizeof hv);
	snprintf(a->location, sizeof a->location, "%s", v ? v : "");
	v = http_header(&r, "ETag", hv, sizeof hv);
	snprintf(a->etag, sizeof a->etag, "%s", v ? v : "");
	v = http_header(&r, "Idempotent-Replayed", hv, sizeof hv);
	a->replayed = v && strcmp(v, "true") == 0;
	http_resp_free(&r);
}

static void post_json(struct answer *a, const char *path, const char *token, const char *key,
		      const char *json)
{
	post(a, path, token, key, "application/json", json, strlen(json));
}

/* The count sql (one $1, or none when arg is NULL) answers. */
static long long count(const char *sql, const char *arg)
{
	const char *params[] = { arg };
	PGresult *r = testdb_super_query(&w.db, sql, arg ? 1 : 0, arg ? params : NULL);
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static const char product[] =
	"{\"name\":\"Idempotent Kettle\",\"model\":\"IK-1\",\"hardware_version\":\"1\","
	"\"firmware_version\":\"1.0\",\"support_end\":\"2030-12-31\"}";

static void setup(void)
{
	world_create(&w, "idempotency", NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

START_TEST(a_repeat_answers_the_first_creation)
{
	struct answer first, again;
	post_json(&first, "/v1/products", w.applicant.token, "\"kettle-1\"", product);
	ck_assert_int_eq(first.status, 201);
	ck_assert(!first.replayed);
	post_json(&again, "/v1/products", w.applicant.token, "kettle-1", product); /* bare, as many send it */
	ck_assert_int_eq(again.status, 201);
	ck_assert(again.replayed);
	ck_assert_str_eq(jsonx_str(again.body, "id"), jsonx_str(first.body, "id"));
	ck_assert_str_eq(again.location, first.location);
	ck_assert_int_eq(count("SELECT count(*) FROM product WHERE name = 'Idempotent Kettle'", NULL), 1);
	/* one audit record: the repeat changed nothing */
	ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE object_id = $1",
			       jsonx_str(first.body, "id")), 1);

	/* the same key with another request: refused, nothing made */
	struct answer other;
	post_json(&other, "/v1/products", w.applicant.token, "kettle-1",
		  "{\"name\":\"Another Kettle\",\"model\":\"IK-2\",\"support_end\":\"2030-12-31\"}");
	ck_assert_int_eq(other.status, 422);
	ck_assert(strstr(jsonx_str(other.body, "detail"), "different request"));
	ck_assert_int_eq(count("SELECT count(*) FROM product WHERE name = 'Another Kettle'", NULL), 0);
	/* the same key from another person is theirs alone */
	struct answer theirs;
	post_json(&theirs, "/v1/products", w.applicant2.token, "kettle-1", product);
	ck_assert_int_eq(theirs.status, 201);
	ck_assert(!theirs.replayed);
	ck_assert_str_ne(jsonx_str(theirs.body, "id"), jsonx_str(first.body, "id"));

	/* a day later the key is forgotten: a repeat creates anew */
	PQclear(testdb_super_exec(&w.db, "UPDATE idempotency_key SET created_at = now() - interval"
					 " '25 hours' WHERE key = 'kettle-1'"));
	struct answer later;
	post_json(&later, "/v1/products", w.applicant.token, "kettle-1", product);
	ck_assert_int_eq(later.status, 201);
	ck_assert(!later.replayed);
	ck_assert_str_ne(jsonx_str(later.body, "id"), jsonx_str(first.body, "id"));
	answer_free(&first);
	answer_free(&again);
	answer_free(&other);
	answer_free(&theirs);
	answer_free(&later);
}
END_TEST

START_TEST(a_failure_is_not_remembered_and_keys_are_checked)
{
	struct answer a;
	post_json(&a, "/v1/products", w.applicant.token, "retry-me", "{\"name\":\"No Model\"}");
	ck_assert_int_eq(a.status, 400);
	answer_free(&a);
	post_json(&a, "/v1/products", w.applicant.token, "retry-me",
		  "{\"name\":\"Fixed Kettle\",\"model\":\"FK\",\"hardware_version\":\"1\",\"firmware_version\":\"1\",\"support_end\":\"2030-12-31\"}");
	ck_assert_int_eq(a.status, 201);
	ck_assert(!a.replayed);
	answer_free(&a);

	char long_key[300];
	memset(long_key, 'k', 256);
	long_key[256] = '\0';
	const char *bad[] = { "\"\"", long_key, "\"a\\\"b\"" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		post_json(&a, "/v1/products", w.applicant.token, bad[i], product);
		ck_assert_msg(a.status == 400, "key %zu: %ld", i, a.status);
		ck_assert(strstr(jsonx_str(a.body, "detail"), "Idempotency-Key"));
		answer_free(&a);
	}
	/* a token is shown once and never kept: no key for it */
	char path[96];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant.user);
	post_json(&a, path, w.applicant.token, "token-1", "{}");
	ck_assert_int_eq(a.status, 400);
	ck_assert(strstr(jsonx_str(a.body, "detail"), "Idempotency-Key is not accepted"));
	answer_free(&a);
}
END_TEST

struct racer {
	const char *body;
	struct answer a;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	post_json(&r->a, "/v1/applications", w.applicant.token, "apply-once", r->body);
	return NULL;
}

START_TEST(racing_repeats_create_once)
{
	char body[640];
	snprintf(body, sizeof body,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"confidentiality\":\"basic\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\"}",
		 world_product(&w), w.certifier.org);
	struct racer r[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .body = body };
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	int replayed = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(r[i].a.status == 201, "%ld", r[i].a.status);
		replayed += r[i].a.replayed;
	}
	ck_assert_int_eq(replayed, 3);
	for (int i = 1; i < 4; i++) {
		ck_assert_str_eq(jsonx_str(r[i].a.body, "id"), jsonx_str(r[0].a.body, "id"));
		ck_assert_str_eq(r[i].a.etag, r[0].a.etag); /* the headers come back too */
		ck_assert_str_eq(r[i].a.location, r[0].a.location);
	}
	ck_assert_uint_gt(strlen(r[0].a.etag), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM application WHERE product_id = $1",
			       world_product(&w)), 1);
	for (int i = 0; i < 4; i++)
		answer_free(&r[i].a);
}
END_TEST

START_TEST(uploads_and_grants_take_a_key_too)
{
	char id[37], path[256];
	world_application(&w, "draft", id);
	const char file[] = "test report v1";
	snprintf(path, sizeof path, "/v1/applications/%s/evidence?name=report.txt&refs=DCMS-1", id);
	struct answer first, again, other;
	post(&first, path, w.applicant.token, "upload-1", "text/plain", file, sizeof file - 1);
	ck_assert_int_eq(first.status, 201);
	post(&again, path, w.applicant.token, "upload-1", "text/plain", file, sizeof file - 1);
	ck_assert_int_eq(again.status, 201);
	ck_assert(again.replayed);
	ck_assert_str_eq(jsonx_str(again.body, "id"), jsonx_str(first.body, "id"));
	ck_assert_str_eq(again.location, first.location);
	const char changed[] = "test report v2";
	post(&other, path, w.applicant.token, "upload-1", "text/plain", changed, sizeof changed - 1);
	ck_assert_int_eq(other.status, 422);
	ck_assert_int_eq(count("SELECT count(*) FROM evidence WHERE application_id = $1", id), 1);
	answer_free(&first);
	answer_free(&again);
	answer_free(&other);

	/* an accreditation grant answers with its Location, once */
	char body_org[37];
	world_org(&w, "assessment_body", "Keyed Lab", body_org);
	char grant[512];
	snprintf(grant, sizeof grant,
		 "{\"body_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"max_class\":0,\"reference\":"
		 "\"KEYED-1\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":"
		 "\"2028-01-01T00:00:00Z\"}", body_org);
	post_json(&first, "/v1/accreditations", w.accreditor.token, "grant-1", grant);
	ck_assert_int_eq(first.status, 201);
	char want[96];
	snprintf(want, sizeof want, "/v1/accreditations/%s", jsonx_str(first.body, "id"));
	ck_assert_str_eq(first.location, want);
	post_json(&again, "/v1/accreditations", w.accreditor.token, "grant-1", grant);
	ck_assert_int_eq(again.status, 201);
	ck_assert_str_eq(jsonx_str(again.body, "id"), jsonx_str(first.body, "id"));
	ck_assert_int_eq(count("SELECT count(*) FROM accreditation WHERE reference = 'KEYED-1'", NULL), 1);
	answer_free(&first);
	answer_free(&again);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idempotency");
	TCase *tc = tcase_create("idempotency");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_repeat_answers_the_first_creation);
	tcase_add_test(tc, a_failure_is_not_remembered_and_keys_are_checked);
	tcase_add_test(tc, racing_repeats_create_once);
	tcase_add_test(tc, uploads_and_grants_take_a_key_too);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
