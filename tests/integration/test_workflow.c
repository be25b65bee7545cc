/*
 * The assessment workflow over real HTTP: the whole DCMS MVP flow from a
 * product to an approved decision; every illegal transition from every
 * state refused with 409, stale If-Match with 412; two assessors racing to
 * take one application; evidence streamed, stored once, served with its
 * digest, never left behind when too large; the decision rules enforced by
 * the database itself.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "application.h"
#include "codec.h"
#include "digest.h"
#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char product[37];

static json_t *call(const char *method, const char *path, const char *token, const char *body,
		    const char *if_match, long expect)
{
	char auth[96], im[64];
	const char *headers[4];
	int n = 0;
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	headers[n++] = auth;
	if (body)
		headers[n++] = "Content-Type: application/json";
	if (if_match) {
		snprintf(im, sizeof im, "If-Match: %s", if_match);
		headers[n++] = im;
	}
	headers[n] = NULL;
	struct http_resp r;
	testsrv_req(&w.srv, &r, method, path, headers, body);
	ck_assert_msg(r.status == expect, "%s %s: %ld, expected %ld: %.400s", method, path, r.status,
		      expect, r.body);
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	http_resp_free(&r);
	return j;
}

static void etag_of(const char *id, const char *token, char out[24])
{
	char path[96];
	snprintf(path, sizeof path, "/v1/applications/%s", id);
	json_t *a = call("GET", path, token, NULL, NULL, 200);
	snprintf(out, 24, "%s", jsonx_str(a, "etag"));
	json_decref(a);
}

/* Takes action with the current ETag; asserts the status; returns the body. */
static json_t *act(const char *id, const struct actor *who, const char *action, const char *body,
		   long expect)
{
	char path[160], etag[24];
	etag_of(id, w.applicant.token, etag); /* the manufacturer can always read its application */
	snprintf(path, sizeof path, "/v1/applications/%s/actions/%s", id, action);
	return call("POST", path, who->token, body, etag, expect);
}

static void new_application(char id[37], const char *type, const char *body_org)
{
	char text[512];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"confidentiality\":\"medium\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"%s\"%s%s%s,\"owners\":{\"Software\":\"Head of firmware\","
		 "\"Hardware\":\"Hardware lead\",\"Policy\":\"CISO\",\"Process\":\"PSIRT lead\"}}",
		 product, type, body_org ? ",\"body_id\":\"" : "", body_org ? body_org : "",
		 body_org ? "\"" : "");
	json_t *a = call("POST", "/v1/applications", w.applicant.token, text, NULL, 201);
	snprintf(id, 37, "%s", jsonx_str(a, "id"));
	ck_assert_str_eq(jsonx_str(a, "state"), "draft");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "class")), 0);
	json_decref(a);
}

static void answer_all(const char *id, const char *statement)
{
	for (int i = 1; i <= 13; i++) {
		char path[160], body[256];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		snprintf(body, sizeof body, "{\"statement\":\"%s\",\"text\":\"How we meet guideline %d.\"%s}",
			 statement, i,
			 strcmp(statement, "not_applicable") == 0 ? ",\"justification\":\"no such feature\"" : "");
		json_decref(call("PUT", path, w.applicant.token, body, NULL, 200));
	}
}

static void verdicts(const char *id, const struct actor *assessor, const char *verdict, int except)
{
	char body[4096] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = 1; i <= 13; i++) {
		if (i == except)
			continue;
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"%s\",\"comment\":\"checked\"}",
				      n > 13 ? "," : "", i, verdict);
	}
	snprintf(body + n, sizeof body - n, "]}");
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, assessor->token, body, NULL, 200));
}

static json_t *upload(const char *id, const char *name, const char *refs, const void *data, size_t len,
		      const char *extra_query, long expect)
{
	char path[512], auth[96];
	snprintf(path, sizeof path, "/v1/applications/%s/evidence?name=%s&refs=%s%s", id, name, refs,
		 extra_query ? extra_query : "");
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, "Content-Type: application/pdf", NULL };
	char *url = cf_asprintf("%s%s", w.srv.base, path);
	struct http_resp r;
	http_do(&r, "POST", url, headers, data, len);
	free(url);
	ck_assert_msg(r.status == expect, "upload: %ld: %.300s", r.status, r.body);
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	http_resp_free(&r);
	return j;
}

/* SQL with parameters as conformd's own role, which the database must
 * refuse (because: a part of its message; NULL: any refusal). */
static void sql_refused(const char *because, const char *sql, int n, const char *const *params)
{
	PGresult *res = testdb_app_query(&w.db, sql, n, params);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s: not refused", sql);
	ck_assert_msg(!because || strstr(PQresultErrorMessage(res), because), "%s",
		      PQresultErrorMessage(res));
	PQclear(res);
}

#define DECISION_SQL                                                                          \
	"INSERT INTO application_decision (application_id, decision, rationale, decided_by,"   \
	" evidence_digest, self_declaration) VALUES ($1, 'approved', 'x', $2, repeat('0', 64),"  \
	" false)"

static void setup(void)
{
	world_create(&w, "workflow", NULL);
	json_t *p = call("POST", "/v1/products", w.applicant.token,
			 "{\"name\":\"Acme Smart Camera\",\"model\":\"SC-100\",\"hardware_version\":\"rev B\","
			 "\"firmware_version\":\"2.4.1\",\"product_page\":\"https://acme.example/sc100\","
			 "\"gtin\":\"05012345678900\",\"support_end\":\"2031-12-31\"}", NULL, 201);
	snprintf(product, sizeof product, "%s", jsonx_str(p, "id"));
	json_decref(p);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

START_TEST(dcms_mvp_flow)
{
	char id[37], path[160];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	json_t *a = act(id, &w.applicant, "submit", NULL, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "submitted");
	ck_assert_str_eq(jsonx_str(json_object_get(a, "product"), "firmware_version"), "2.4.1");
	json_decref(a);

	/* the body sees it now, and an assessor takes it */
	json_t *list = call("GET", "/v1/applications?state=submitted", w.assessor.token, NULL, NULL, 200);
	bool listed = false;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it)
		listed = listed || strcmp(jsonx_str(it, "id"), id) == 0;
	ck_assert(listed);
	json_decref(list);
	a = act(id, &w.assessor, "take", NULL, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "in_evaluation");
	json_decref(a);

	/* a question on guideline 2; passes on the rest */
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, w.assessor.token,
			 "{\"ref\":\"DCMS-2\",\"verdict\":\"info_needed\",\"comment\":\"Where is the "
			 "vulnerability disclosure policy published?\"}", NULL, 200));
	verdicts(id, &w.assessor, "pass", 2);
	a = act(id, &w.assessor, "request-info", "{\"message\":\"One question, on DCMS-2.\"}", 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "info_requested");
	json_decref(a);

	/* the applicant answers with evidence and resubmits */
	const char pdf[] = "%PDF-1.4 vulnerability disclosure policy, published at /security";
	json_t *ev = upload(id, "vdp.pdf", "DCMS-2", pdf, sizeof pdf - 1, NULL, 201);
	ck_assert_str_eq(jsonx_str(ev, "media_type"), "application/pdf");
	json_decref(ev);
	snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-2", id);
	json_decref(call("PUT", path, w.applicant.token,
			 "{\"statement\":\"compliant\",\"text\":\"Published at https://acme.example/"
			 "security; see vdp.pdf.\"}", NULL, 200));
	a = act(id, &w.applicant, "resubmit", "{\"message\":\"See the policy attached.\"}", 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "in_evaluation");
	json_decref(a);

	/* the assessor passes everything and completes the evaluation */
	verdicts(id, &w.assessor, "pass", 0);
	a = act(id, &w.assessor, "complete", NULL, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "evaluated");
	json_t *m = json_object_get(json_object_get(a, "counts"), "mandatory");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "pass")), 13);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "fail")), 0);
	json_decref(a);

	/* the assessor may not decide: not a certifier */
	json_decref(act(id, &w.assessor, "decide", "{\"decision\":\"approve\",\"rationale\":\"mine\"}", 403));
	/* nor may someone who is both, having evaluated: here certifier2 takes
	 * no part, so make a second application where it does (below) */
	a = act(id, &w.certifier, "decide",
		"{\"decision\":\"approve\",\"rationale\":\"All thirteen guidelines met; evidence "
		"reviewed.\"}", 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "decided");
	json_t *d = json_object_get(a, "decision");
	ck_assert_str_eq(jsonx_str(d, "decision"), "approved");
	ck_assert_str_eq(jsonx_str(json_object_get(d, "decided_by"), "id"), w.certifier.user);
	ck_assert_uint_eq(strlen(jsonx_str(d, "evidence_digest")), 64);
	ck_assert(json_is_false(json_object_get(d, "self_declaration")));
	/* the history tells the whole story */
	json_t *events = json_object_get(a, "events");
	const char *expected[] = { "create", "submit", "take", "request-info", "resubmit", "complete",
				   "decide" };
	ck_assert_uint_eq(json_array_size(events), 7);
	for (size_t k = 0; k < 7; k++)
		ck_assert_str_eq(jsonx_str(json_array_get(events, k), "action"), expected[k]);
	ck_assert_str_eq(jsonx_str(json_array_get(events, 3), "message"), "One question, on DCMS-2.");
	json_decref(a);

	/* every verdict is kept */
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_t *h = call("GET", path, w.applicant.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(h, "items")), 1 + 12 + 13);
	json_decref(h);

	struct proc_result r;
	const char *verify[] = { "audit", "verify", NULL };
	testsrv_ctl(&r, &w.db, verify, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
}
END_TEST

START_TEST(an_evaluator_never_decides)
{
	/* certifier2 holds both roles: it evaluates, so it may not decide */
	char id[37];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	json_decref(act(id, &w.certifier2, "take", NULL, 200));
	verdicts(id, &w.certifier2, "pass", 0);
	json_decref(act(id, &w.certifier2, "complete", NULL, 200));
	json_t *p = act(id, &w.certifier2, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 403);
	ck_assert(strstr(jsonx_str(p, "detail"), "17065"));
	json_decref(p);

	/* the database refuses it too, whatever the C code says */
	const char *by_evaluator[] = { id, w.certifier2.user };
	sql_refused("recorded no verdict", DECISION_SQL, 2, by_evaluator);
	/* nor by an applicant, who is not a certifier of the body */
	const char *by_applicant[] = { id, w.applicant.user };
	sql_refused(NULL, DECISION_SQL, 2, by_applicant);

	/* a rejection needs its rationale too */
	json_decref(act(id, &w.certifier, "decide", "{\"decision\":\"reject\"}", 400));
	json_t *a = act(id, &w.certifier, "decide",
			"{\"decision\":\"reject\",\"rationale\":\"Tested: no.\"}", 200);
	ck_assert_str_eq(jsonx_str(json_object_get(a, "decision"), "decision"), "rejected");
	json_decref(a);
}
END_TEST

START_TEST(approval_needs_every_mandatory_pass_and_cover)
{
	char id[37];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	json_decref(act(id, &w.assessor, "take", NULL, 200));
	verdicts(id, &w.assessor, "pass", 7);
	/* one still without a verdict: not complete */
	json_t *p = act(id, &w.assessor, "complete", NULL, 422);
	ck_assert(strstr(jsonx_str(p, "detail"), "DCMS-7"));
	json_decref(p);
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, w.assessor.token,
			 "{\"ref\":\"DCMS-7\",\"verdict\":\"fail\",\"comment\":\"unsigned updates accepted\"}",
			 NULL, 200));
	json_decref(act(id, &w.assessor, "complete", NULL, 200));
	p = act(id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 422);
	ck_assert(strstr(jsonx_str(p, "detail"), "DCMS-7"));
	json_decref(p);

	/* a suspended accreditation: the database refuses the decision */
	char sus[160];
	snprintf(sus, sizeof sus, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_decref(call("POST", sus, w.accreditor.token, "{\"reason\":\"under review\"}", NULL, 200));
	p = act(id, &w.certifier, "decide", "{\"decision\":\"reject\",\"rationale\":\"DCMS-7 failed\"}", 422);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "accreditation does not cover"), "%s", jsonx_str(p, "detail"));
	json_decref(p);
	/* and a submission to that body is refused while it is suspended */
	char id2[37];
	new_application(id2, "third-party", w.certifier.org);
	answer_all(id2, "compliant");
	p = act(id2, &w.applicant, "submit", NULL, 422);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/body_id");
	json_decref(p);
	snprintf(sus, sizeof sus, "/v1/accreditations/%s/reinstate", w.accreditation_dcms);
	json_decref(call("POST", sus, w.accreditor.token, "{\"reason\":\"review closed\"}", NULL, 200));
	json_decref(act(id, &w.certifier, "decide", "{\"decision\":\"reject\",\"rationale\":\"DCMS-7 failed\"}", 200));
	json_decref(act(id2, &w.applicant, "submit", NULL, 200));
}
END_TEST

/* An application in state: a DCMS third-party application moved there. */
static void in_state(char id[37], const char *state)
{
	new_application(id, "third-party", w.certifier.org);
	if (strcmp(state, "draft") == 0)
		return;
	if (strcmp(state, "withdrawn") == 0) {
		json_decref(act(id, &w.applicant, "withdraw", NULL, 200));
		return;
	}
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	if (strcmp(state, "submitted") == 0)
		return;
	json_decref(act(id, &w.assessor, "take", NULL, 200));
	if (strcmp(state, "in_evaluation") == 0)
		return;
	if (strcmp(state, "info_requested") == 0) {
		char path[128];
		snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
		json_decref(call("POST", path, w.assessor.token,
				 "{\"ref\":\"DCMS-1\",\"verdict\":\"info_needed\",\"comment\":\"how?\"}",
				 NULL, 200));
		json_decref(act(id, &w.assessor, "request-info", NULL, 200));
		return;
	}
	verdicts(id, &w.assessor, "pass", 0);
	json_decref(act(id, &w.assessor, "complete", NULL, 200));
	if (strcmp(state, "evaluated") == 0)
		return;
	json_decref(act(id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 200));
}

static const struct actor *actor_for(unsigned role)
{
	return role == ROLE_APPLICANT ? &w.applicant : role == ROLE_ASSESSOR ? &w.assessor : &w.certifier;
}

START_TEST(every_illegal_transition_is_409)
{
	size_t nstates, ntrans;
	const char *const *states = application_states(&nstates);
	const struct app_transition *t = application_transitions(&ntrans);
	int refused = 0;
	for (size_t s = 0; s < nstates; s++) {
		char id[37];
		in_state(id, states[s]);
		for (size_t k = 0; k < ntrans; k++) {
			/* each action once, with a caller who holds its role */
			bool seen = false;
			for (size_t q = 0; q < k; q++)
				seen = seen || strcmp(t[q].action, t[k].action) == 0;
			if (seen)
				continue;
			bool legal = false;
			for (size_t q = 0; q < ntrans; q++)
				legal = legal || (strcmp(t[q].action, t[k].action) == 0 &&
						  strcmp(t[q].from, states[s]) == 0 && t[q].kind != APP_SELF);
			if (legal)
				continue;
			const char *body = strcmp(t[k].action, "decide") == 0
				? "{\"decision\":\"approve\",\"rationale\":\"x\"}" : NULL;
			json_t *p = act(id, actor_for(t[k].role), t[k].action, body, 409);
			ck_assert_str_eq(jsonx_str(p, "state"), states[s]);
			ck_assert(json_is_array(json_object_get(p, "allowed_actions")));
			ck_assert(strstr(jsonx_str(p, "detail"), states[s]));
			json_decref(p);
			refused++;
		}
	}
	printf("workflow: %d illegal transitions refused with 409\n", refused);
	ck_assert_int_ge(refused, 30);
}
END_TEST

START_TEST(if_match_guards_every_transition)
{
	char id[37], path[160], etag[24];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	snprintf(path, sizeof path, "/v1/applications/%s/actions/submit", id);
	json_t *p = call("POST", path, w.applicant.token, NULL, NULL, 428);
	ck_assert(strstr(jsonx_str(p, "detail"), "If-Match"));
	json_decref(p);
	etag_of(id, w.applicant.token, etag);
	/* a change in between: the ETag is stale */
	char apath[160];
	snprintf(apath, sizeof apath, "/v1/applications/%s/answers/DCMS-3", id);
	json_decref(call("PUT", apath, w.applicant.token,
			 "{\"statement\":\"compliant\",\"text\":\"edited\"}", NULL, 200));
	json_decref(call("POST", path, w.applicant.token, NULL, etag, 412));
	json_decref(call("POST", path, w.applicant.token, NULL, "\"999\"", 412));
	etag_of(id, w.applicant.token, etag);
	p = call("POST", path, w.applicant.token, NULL, etag, 200);
	ck_assert_str_eq(jsonx_str(p, "state"), "submitted");
	json_decref(p);
	/* unknown actions are named */
	snprintf(path, sizeof path, "/v1/applications/%s/actions/approve", id);
	json_decref(call("POST", path, w.applicant.token, NULL, etag, 404));
}
END_TEST

struct racer {
	const char *id;
	const struct actor *who;
	const char *etag;
	long status;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	char path[160], auth[96], im[64];
	snprintf(path, sizeof path, "%s/v1/applications/%s/actions/take", w.srv.base, r->id);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->who->token);
	snprintf(im, sizeof im, "If-Match: %s", r->etag);
	const char *headers[] = { auth, im, NULL };
	struct http_resp h;
	if (http_try(&h, "POST", path, headers, NULL, 0) == 0)
		r->status = h.status;
	http_resp_free(&h);
	return NULL;
}

START_TEST(two_assessors_race_to_take_one_wins)
{
	for (int round = 0; round < 5; round++) {
		char id[37], etag[24];
		in_state(id, "submitted");
		etag_of(id, w.assessor.token, etag);
		struct racer a = { id, &w.assessor, etag, 0 }, b = { id, &w.assessor2, etag, 0 };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		ck_assert_msg((a.status == 200) != (b.status == 200), "round %d: %ld and %ld", round,
			      a.status, b.status);
		long loser = a.status == 200 ? b.status : a.status;
		ck_assert(loser == 409 || loser == 412);
		char path[96];
		snprintf(path, sizeof path, "/v1/applications/%s", id);
		json_t *app = call("GET", path, w.assessor.token, NULL, NULL, 200);
		const struct actor *winner = a.status == 200 ? &w.assessor : &w.assessor2;
		ck_assert_str_eq(jsonx_str(json_object_get(app, "assessor"), "id"), winner->user);
		json_decref(app);
	}
}
END_TEST

static long long evidence_rows(void)
{
	PGresult *r = testdb_super_exec(&w.db, "SELECT count(*) FROM evidence");
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static int blob_files(void)
{
	char *cmd = cf_asprintf("find '%s/blobs' -type f 2>/dev/null | wc -l", w.srv.data_dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	ck_assert(fscanf(f, "%d", &n) == 1);
	pclose(f);
	free(cmd);
	return n;
}

START_TEST(an_upload_over_the_limit_leaves_nothing)
{
	char id[37];
	new_application(id, "third-party", w.certifier.org);
	long long rows = evidence_rows();
	int files = blob_files();
	size_t big = 200u << 20;
	char *data = cf_malloc(big);
	memset(data, 'x', big);
	char path[512], auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	snprintf(path, sizeof path, "%s/v1/applications/%s/evidence?name=big.bin&refs=DCMS-1", w.srv.base, id);

	/* announced: refused before a byte is read */
	const char *h1[] = { auth, "Content-Type: application/octet-stream", "Expect: 100-continue", NULL };
	struct http_resp r;
	http_try(&r, "POST", path, h1, data, big);
	ck_assert_int_eq(r.status, 413);
	json_t *p = http_json(&r);
	ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:too-large");
	json_decref(p);
	http_resp_free(&r);

	/* not announced (chunked): stored until the limit, then dropped */
	const char *h2[] = { auth, "Content-Type: application/octet-stream", "Transfer-Encoding: chunked", NULL };
	int rc = http_try(&r, "POST", path, h2, data, big);
	ck_assert_msg(r.status == 413, "status %ld, curl: %s", r.status,
		      curl_easy_strerror((CURLcode)rc));
	http_resp_free(&r);
	free(data);

	usleep(200000);
	ck_assert_int_eq(evidence_rows(), rows);
	ck_assert_int_eq(blob_files(), files);
	char *tmp = cf_asprintf("find '%s/blobs/tmp' -type f 2>/dev/null | wc -l", w.srv.data_dir);
	FILE *f = popen(tmp, "r");
	int left = -1;
	ck_assert(fscanf(f, "%d", &left) == 1);
	pclose(f);
	free(tmp);
	ck_assert_int_eq(left, 0);
}
END_TEST

/* The files under a conformd's data directory that are not yet evidence. */
static int tmp_files(const struct testsrv *s)
{
	char *cmd = cf_asprintf("find '%s/blobs/tmp' -type f 2>/dev/null | wc -l", s->data_dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	ck_assert(fscanf(f, "%d", &n) == 1);
	pclose(f);
	free(cmd);
	return n;
}

/* The disk gives out in the middle of an upload (as a shared CI machine's
 * did): the client still gets an answer, at once, and the body limit still
 * comes first. Before, the server tried to answer while the body was still
 * coming, libmicrohttpd refused to queue it, and the client got nothing
 * after the 30 s connection timeout (status 0). A file size limit on
 * conformd stands in for the full disk: writes past it fail like ENOSPC. */
START_TEST(an_upload_the_disk_cannot_hold_is_still_answered)
{
	char id[37];
	new_application(id, "third-party", w.certifier.org);
	long long rows = evidence_rows();
	struct rlimit before, small;
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &before), 0);
	small = before;
	small.rlim_cur = 8u << 20;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	struct testsrv full;
	const char *env[] = { w.signer.env, NULL };
	testsrv_start(&full, &w.db, env); /* inherits the limit */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &before), 0);

	size_t big = 200u << 20;
	char *data = cf_malloc(big);
	memset(data, 'x', big);
	char path[512], auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	snprintf(path, sizeof path, "%s/v1/applications/%s/evidence?name=big.bin&refs=DCMS-1",
		 full.base, id);
	const char *h[] = { auth, "Content-Type: application/octet-stream", "Transfer-Encoding: chunked",
			    NULL };
	struct http_resp r;

	/* over the limit: 413, whatever else went wrong on the way */
	int rc = http_try(&r, "POST", path, h, data, big);
	ck_assert_msg(r.status == 413, "status %ld, curl: %s", r.status,
		      curl_easy_strerror((CURLcode)rc));
	json_t *p = http_json(&r);
	ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:too-large");
	json_decref(p);
	http_resp_free(&r);

	/* within the limit but not storable: the server's error, promptly */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = http_try(&r, "POST", path, h, data, 16u << 20);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(r.status == 500, "status %ld, curl: %s", r.status,
		      curl_easy_strerror((CURLcode)rc));
	p = http_json(&r);
	ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:io-error");
	json_decref(p);
	http_resp_free(&r);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 20, "the answer took %lld s", (long long)(t1.tv_sec - t0.tv_sec));
	free(data);

	/* and the server still serves */
	char small_path[512];
	snprintf(small_path, sizeof small_path, "%s/v1/applications/%s/evidence?name=small.txt&refs=DCMS-1",
		 full.base, id);
	http_try(&r, "POST", small_path, h, "fits", 4);
	ck_assert_int_eq(r.status, 201);
	http_resp_free(&r);
	ck_assert_int_eq(evidence_rows(), rows + 1);
	ck_assert_int_eq(tmp_files(&full), 0);
	testsrv_stop(&full);
}
END_TEST

START_TEST(evidence_is_stored_once_served_with_its_digest_and_never_deleted)
{
	char id[37], path[256];
	new_application(id, "third-party", w.certifier.org);
	const char content[] = "test report: all ports closed except 443";
	int files = blob_files();
	json_t *e1 = upload(id, "report.txt", "DCMS-6", content, sizeof content - 1, NULL, 201);
	json_t *e2 = upload(id, "../../etc/passwd", "DCMS-6,DCMS-13", content, sizeof content - 1, NULL, 201);
	ck_assert_int_eq(blob_files(), files + 1); /* the same content, stored once */
	ck_assert_str_eq(jsonx_str(e1, "digest"), jsonx_str(e2, "digest"));
	ck_assert_str_eq(jsonx_str(e2, "name"), "passwd"); /* no path in a name */
	ck_assert_uint_eq(json_array_size(json_object_get(e2, "refs")), 2);
	char hex[65];
	digest_sha256_hex(content, sizeof content - 1, hex);
	ck_assert_str_eq(jsonx_str(e1, "digest"), hex);

	/* download: the bytes, their ETag and Content-Digest */
	snprintf(path, sizeof path, "%s%s", w.srv.base, jsonx_str(e1, "href"));
	char auth[96], hv[128];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *h[] = { auth, NULL };
	struct http_resp r;
	http_do(&r, "GET", path, h, NULL, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, sizeof content - 1);
	ck_assert(memcmp(r.body, content, r.len) == 0);
	unsigned char raw[32];
	digest_sha256(content, sizeof content - 1, raw);
	char *b64 = codec_b64_encode(raw, 32);
	char want[96];
	snprintf(want, sizeof want, "sha-256=:%s:", b64);
	free(b64);
	ck_assert_str_eq(http_header(&r, "Content-Digest", hv, sizeof hv), want);
	char etag[80];
	snprintf(etag, sizeof etag, "\"%s\"", hex);
	ck_assert_str_eq(http_header(&r, "ETag", hv, sizeof hv), etag);
	ck_assert_str_eq(http_header(&r, "Content-Type", hv, sizeof hv), "application/pdf");
	/* the uploader chose the media type: nothing of the file runs in our origin */
	ck_assert_str_eq(http_header(&r, "X-Content-Type-Options", hv, sizeof hv), "nosniff");
	ck_assert(strstr(http_header(&r, "Content-Security-Policy", hv, sizeof hv), "sandbox"));
	http_resp_free(&r);
	char inm[128];
	snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
	const char *h304[] = { auth, inm, NULL };
	http_do(&r, "GET", path, h304, NULL, 0);
	ck_assert_int_eq(r.status, 304);
	http_resp_free(&r);
	/* someone else's manufacturer may not read it */
	char other[96];
	snprintf(other, sizeof other, "Authorization: Bearer %s", w.applicant2.token);
	const char *ho[] = { other, NULL };
	http_do(&r, "GET", path, ho, NULL, 0);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);

	/* in a draft, evidence can be deleted */
	snprintf(path, sizeof path, "%s", jsonx_str(e2, "href"));
	json_decref(call("DELETE", path, w.applicant.token, NULL, NULL, 204));
	/* after submission: superseded, never deleted */
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	json_decref(act(id, &w.assessor, "take", NULL, 200));
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, w.assessor.token,
			 "{\"ref\":\"DCMS-6\",\"verdict\":\"info_needed\",\"comment\":\"443 with which TLS?\"}",
			 NULL, 200));
	json_decref(act(id, &w.assessor, "request-info", NULL, 200));
	snprintf(path, sizeof path, "%s", jsonx_str(e1, "href"));
	json_decref(call("DELETE", path, w.applicant.token, NULL, NULL, 409));
	const char better[] = "test report: 443 with TLS 1.3 only";
	char query[96];
	snprintf(query, sizeof query, "&supersedes=%s", jsonx_str(e1, "id"));
	json_t *e3 = upload(id, "report-v2.txt", "", better, sizeof better - 1, query, 201);
	ck_assert_uint_eq(json_array_size(json_object_get(e3, "refs")), 1); /* inherited */
	snprintf(path, sizeof path, "/v1/applications/%s/evidence", id);
	json_t *list = call("GET", path, w.assessor.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 2);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(list, "items"), 0), "superseded_by"),
			 jsonx_str(e3, "id"));
	json_decref(list);
	/* the database keeps its promise too */
	const char *e1_id[] = { jsonx_str(e1, "id") };
	sql_refused(NULL, "DELETE FROM evidence WHERE id = $1", 1, e1_id);
	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
}
END_TEST

START_TEST(what_was_judged_stays_as_judged)
{
	char id[37], path[256], query[96];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	const char report[] = "penetration test report, March";
	json_t *e1 = upload(id, "pentest.txt", "DCMS-3", report, sizeof report - 1, NULL, 201);
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	json_decref(act(id, &w.assessor, "take", NULL, 200));
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, w.assessor.token,
			 "{\"ref\":\"DCMS-2\",\"verdict\":\"info_needed\",\"comment\":\"Where is the "
			 "policy?\"}", NULL, 200));
	verdicts(id, &w.assessor, "pass", 2);
	json_decref(act(id, &w.assessor, "request-info", NULL, 200));

	/* DCMS-3 passed on its answer and the report: neither changes now */
	snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-3", id);
	json_t *p = call("PUT", path, w.applicant.token,
			 "{\"statement\":\"compliant\",\"text\":\"Something else.\"}", NULL, 409);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "DCMS-3 was judged pass"), "%s",
		      jsonx_str(p, "detail"));
	json_decref(p);
	const char other[] = "a different report";
	json_decref(upload(id, "other.txt", "DCMS-2,DCMS-3", other, sizeof other - 1, NULL, 409));
	snprintf(query, sizeof query, "&supersedes=%s", jsonx_str(e1, "id"));
	json_decref(upload(id, "pentest-v2.txt", "DCMS-2", other, sizeof other - 1, query, 409));
	/* the database says no as well */
	const char *app[] = { id }, *ev[] = { jsonx_str(e1, "id") };
	sql_refused("DCMS-3 was judged pass", "UPDATE application_answer SET text = 'x'"
		    " WHERE application_id = $1 AND ref = 'DCMS-3'", 1, app);
	sql_refused("DCMS-3 was judged", "UPDATE evidence SET superseded_by = id WHERE id = $1", 1, ev);
	sql_refused("DCMS-3 was judged pass", "DELETE FROM evidence_link WHERE evidence_id = $1", 1, ev);

	/* what was asked about changes freely; a ref named twice is linked once */
	json_t *e2 = upload(id, "vdp.txt", "DCMS-2,DCMS-2", other, sizeof other - 1, NULL, 201);
	ck_assert_uint_eq(json_array_size(json_object_get(e2, "refs")), 1);
	json_decref(e2);
	snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-2", id);
	json_decref(call("PUT", path, w.applicant.token,
			 "{\"statement\":\"compliant\",\"text\":\"At /security.\"}", NULL, 200));
	json_decref(act(id, &w.applicant, "resubmit", NULL, 200));
	json_decref(e1);
}
END_TEST

START_TEST(the_assessor_who_took_it_never_decides)
{
	/* certifier2 takes it and records nothing: still not the one to decide */
	char id[37];
	new_application(id, "third-party", w.certifier.org);
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
	json_decref(act(id, &w.certifier2, "take", NULL, 200));
	const char *by_taker[] = { id, w.certifier2.user };
	sql_refused("assessor who took", DECISION_SQL, 2, by_taker);
	/* and no certificate comes from an application that was not approved */
	const char *cert[] = { id, w.certifier.org, w.applicant.org, w.certifier.user };
	sql_refused("follows a body's approval",
		    "INSERT INTO certificate (serial, seq, application_id, body_id, manufacturer_id,"
		    " scheme_id, scheme_version, class, accreditation_id, kid, valid_from, valid_until,"
		    " payload, jws, revocation_index, suspension_index, log_index, issued_by) VALUES"
		    " ('CF-2026-999999', 999999, $1, $2, $3, 'dcms-cop', '2018', 0, gen_random_uuid(),"
		    " 'k', now(), now() + interval '1 day', '{}', 'j', 0, 0, 0, $4)", 4, cert);
}
END_TEST

START_TEST(deleting_a_replacement_brings_back_the_original)
{
	char id[37], query[96];
	new_application(id, "third-party", w.certifier.org);
	const char v1[] = "manual v1", v2[] = "manual v2";
	json_t *e1 = upload(id, "manual.txt", "DCMS-4", v1, sizeof v1 - 1, NULL, 201);
	snprintf(query, sizeof query, "&supersedes=%s", jsonx_str(e1, "id"));
	json_t *e2 = upload(id, "manual.txt", "", v2, sizeof v2 - 1, query, 201);
	json_decref(call("DELETE", jsonx_str(e2, "href"), w.applicant.token, NULL, NULL, 204));
	json_t *back = call("GET", jsonx_str(e1, "href"), w.applicant.token, NULL, NULL, 200);
	json_decref(back); /* the download itself; the record says it is current again: */
	char path[160];
	snprintf(path, sizeof path, "/v1/applications/%s/evidence", id);
	json_t *list = call("GET", path, w.applicant.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 1);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(list, "items"), 0),
					       "superseded_by")));
	json_decref(list);
	/* another application's evidence is not this one's to delete */
	char mine[37], path2[256];
	new_application(mine, "third-party", w.certifier.org);
	snprintf(path2, sizeof path2, "/v1/applications/%s/evidence/%s", mine, jsonx_str(e1, "id"));
	json_decref(call("DELETE", path2, w.applicant.token, NULL, NULL, 404));
	snprintf(path, sizeof path, "/v1/applications/%s/evidence", id);
	list = call("GET", path, w.applicant.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(json_object_get(list, "items"),
									  0), "refs")), 1);
	json_decref(list);
	json_decref(e1);
	json_decref(e2);
}
END_TEST

START_TEST(a_self_declaration_goes_its_own_way)
{
	char id[37];
	new_application(id, "self", NULL);
	answer_all(id, "compliant");
	json_decref(act(id, &w.applicant, "submit", NULL, 409)); /* not for a self declaration */
	json_t *p = act(id, &w.applicant, "declare", NULL, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/statement");
	json_decref(p);
	json_t *a = act(id, &w.applicant, "declare",
			"{\"statement\":\"Acme Devices declares that the SC-100 meets the Code of "
			"Practice.\"}", 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "decided");
	ck_assert(json_is_true(json_object_get(a, "self_declaration")));
	ck_assert(json_is_null(json_object_get(a, "body")));
	ck_assert(json_is_true(json_object_get(json_object_get(a, "decision"), "self_declaration")));
	json_decref(a);
	json_t *list = call("GET", "/v1/applications?state=decided", w.applicant.token, NULL, NULL, 200);
	bool marked = false;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it)
		if (strcmp(jsonx_str(it, "id"), id) == 0)
			marked = strcmp(jsonx_str(it, "assessment_type"), "self") == 0;
	ck_assert(marked);
	json_decref(list);
	/* a product answered not compliant cannot be declared conformant */
	new_application(id, "self", NULL);
	answer_all(id, "not_compliant");
	p = act(id, &w.applicant, "declare", "{\"statement\":\"ok\"}", 422);
	ck_assert(strstr(jsonx_str(p, "detail"), "not compliant"));
	json_decref(p);
}
END_TEST

START_TEST(lists_show_each_party_what_is_theirs)
{
	char draft[37];
	new_application(draft, "third-party", w.certifier.org);
	json_t *l = call("GET", "/v1/applications?limit=500", w.applicant2.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "items")), 0);
	json_decref(l);
	l = call("GET", "/v1/applications?limit=500&state=draft", w.assessor.token, NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "items")), 0); /* drafts stay private */
	json_decref(l);
	char path[96];
	snprintf(path, sizeof path, "/v1/applications/%s", draft);
	json_decref(call("GET", path, w.assessor.token, NULL, NULL, 403));
	json_decref(call("GET", path, w.applicant2.token, NULL, NULL, 403));
	/* keyset pages cover everything once */
	int total = 0;
	long long after = 0;
	for (int pages = 0; pages < 100; pages++) {
		char q[96];
		snprintf(q, sizeof q, "/v1/applications?limit=2&after=%lld", after);
		json_t *pg = call("GET", q, w.applicant.token, NULL, NULL, 200);
		total += (int)json_array_size(json_object_get(pg, "items"));
		json_t *next = json_object_get(pg, "next");
		bool more = json_is_integer(next);
		after = more ? json_integer_value(next) : 0;
		json_decref(pg);
		if (!more)
			break;
	}
	PGresult *r = testdb_super_exec(&w.db, "SELECT count(*) FROM application a JOIN organisation o"
					       " ON o.id = a.manufacturer_id WHERE o.name = 'Acme Devices'");
	ck_assert_int_eq(total, atoi(PQgetvalue(r, 0, 0)));
	PQclear(r);
	json_decref(call("GET", "/v1/applications?state=nonsense", w.applicant.token, NULL, NULL, 400));
}
END_TEST

START_TEST(inputs_are_checked)
{
	char text[512];
	/* a scheme with classes needs the security objectives */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"iotsf-cf\",\"scheme_version\":\"2.0\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\"}", product, w.certifier.org);
	json_t *p = call("POST", "/v1/applications", w.applicant.token, text, NULL, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/confidentiality");
	json_decref(p);
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"iotsf-cf\",\"scheme_version\":\"2.0\","
		 "\"confidentiality\":\"high\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\"}", product, w.certifier.org);
	p = call("POST", "/v1/applications", w.applicant.token, text, NULL, 201);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "class")), 3);
	json_t *req = json_object_get(p, "requirements");
	ck_assert_uint_eq(json_array_size(req), 226);
	json_decref(p);
	/* someone else's product */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"self\"}", product);
	json_decref(call("POST", "/v1/applications", w.applicant2.token, text, NULL, 422));
	/* not applicable needs a justification; unknown refs are 404 */
	char id[37], path[160];
	new_application(id, "third-party", w.certifier.org);
	snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-4", id);
	p = call("PUT", path, w.applicant.token, "{\"statement\":\"not_applicable\",\"text\":\"n/a\"}", NULL, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/justification");
	json_decref(p);
	snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-99", id);
	json_decref(call("PUT", path, w.applicant.token, "{\"statement\":\"compliant\",\"text\":\"x\"}", NULL, 404));
	/* owners name keywords of the scheme */
	snprintf(path, sizeof path, "/v1/applications/%s", id);
	char etag[24];
	etag_of(id, w.applicant.token, etag);
	p = call("PATCH", path, w.applicant.token, "{\"owners\":{\"Firmware\":\"x\"}}", etag, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/owners/Firmware");
	json_decref(p);
	/* submission needs an owner for each keyword group */
	answer_all(id, "compliant");
	etag_of(id, w.applicant.token, etag);
	json_decref(call("PATCH", path, w.applicant.token, "{\"owners\":{\"Software\":\"CTO\"}}", etag, 200));
	p = act(id, &w.applicant, "submit", NULL, 422);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/owners");
	json_decref(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc = tcase_create("workflow");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, dcms_mvp_flow);
	tcase_add_test(tc, an_evaluator_never_decides);
	tcase_add_test(tc, approval_needs_every_mandatory_pass_and_cover);
	tcase_add_test(tc, every_illegal_transition_is_409);
	tcase_add_test(tc, if_match_guards_every_transition);
	tcase_add_test(tc, two_assessors_race_to_take_one_wins);
	tcase_add_test(tc, an_upload_over_the_limit_leaves_nothing);
	tcase_add_test(tc, an_upload_the_disk_cannot_hold_is_still_answered);
	tcase_add_test(tc, evidence_is_stored_once_served_with_its_digest_and_never_deleted);
	tcase_add_test(tc, what_was_judged_stays_as_judged);
	tcase_add_test(tc, the_assessor_who_took_it_never_decides);
	tcase_add_test(tc, deleting_a_replacement_brings_back_the_original);
	tcase_add_test(tc, a_self_declaration_goes_its_own_way);
	tcase_add_test(tc, lists_show_each_party_what_is_theirs);
	tcase_add_test(tc, inputs_are_checked);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
