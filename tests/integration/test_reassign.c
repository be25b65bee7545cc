/*
 * Reassignment over real HTTP: an application whose assessor left (was
 * deactivated) is handed by the body's lead (a certifier or the body's
 * org_admin) to another assessor of the body, who finishes it; the verdicts
 * stay attributed to whoever recorded them; the history and the audit trail
 * have the reassignment; nobody who held the application decides it, and the
 * database refuses that too; reassignments to anyone but an active assessor
 * of the body, or by anyone but the lead, are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char product[37];
static int people; /* for unique names and e-mail addresses */

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

/* Takes action with the current ETag (read by the manufacturer, who can
 * always read its application); asserts the status; returns the body. */
static json_t *act(const char *id, const struct actor *who, const char *action, const char *body,
		   long expect)
{
	char path[160], etag[24];
	snprintf(path, sizeof path, "/v1/applications/%s", id);
	json_t *a = call("GET", path, w.applicant.token, NULL, NULL, 200);
	snprintf(etag, sizeof etag, "%s", jsonx_str(a, "etag"));
	json_decref(a);
	snprintf(path, sizeof path, "/v1/applications/%s/actions/%s", id, action);
	return call("POST", path, who->token, body, etag, expect);
}

/* Reassigns to user with a reason; asserts the status; returns the body. */
static json_t *reassign(const char *id, const struct actor *lead, const char *user, long expect)
{
	char body[256];
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\",\"reason\":\"%s left the lab\"}", user,
		 "the assessor");
	return act(id, lead, "reassign", body, expect);
}

/* A submitted DCMS application to the world's body, every requirement answered. */
static void submitted(char id[37])
{
	char text[512];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"confidentiality\":\"medium\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"owners\":{\"Software\":"
		 "\"Head of firmware\",\"Hardware\":\"Hardware lead\",\"Policy\":\"CISO\",\"Process\":"
		 "\"PSIRT lead\"}}", product, w.certifier.org);
	json_t *a = call("POST", "/v1/applications", w.applicant.token, text, NULL, 201);
	snprintf(id, 37, "%s", jsonx_str(a, "id"));
	json_decref(a);
	for (int i = 1; i <= 13; i++) {
		char path[160], body[160];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		snprintf(body, sizeof body, "{\"statement\":\"compliant\",\"text\":\"How we meet %d.\"}", i);
		json_decref(call("PUT", path, w.applicant.token, body, NULL, 200));
	}
	json_decref(act(id, &w.applicant, "submit", NULL, 200));
}

/* Verdict on DCMS-from..to by who; asserts the status. */
static void verdicts(const char *id, const struct actor *who, const char *verdict, int from, int to,
		     long expect)
{
	char body[4096] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = from; i <= to; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"%s\",\"comment\":\"checked\"}",
				      i > from ? "," : "", i, verdict);
	snprintf(body + n, sizeof body - n, "]}");
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(call("POST", path, who->token, body, NULL, expect));
}

/* A new assessor of the world's body, made by its administrator. */
static void new_assessor(struct actor *a, const char *roles)
{
	char name[64];
	snprintf(name, sizeof name, "Reassign Assessor %d", ++people);
	world_person(&w, a, w.certifier.org, roles, name);
}

/* The problem's pointer must be /assessor_id. */
static void refused_at_assessor(json_t *p)
{
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/assessor_id");
	json_decref(p);
}

#define DECISION_SQL                                                                          \
	"INSERT INTO application_decision (application_id, decision, rationale, decided_by,"   \
	" evidence_digest, self_declaration) VALUES ($1, 'approved', 'x', $2, repeat('0', 64),"  \
	" false)"

/* SQL as conformd's own role, which the database must refuse (because: a
 * part of its message). */
static void sql_refused(const char *because, const char *sql, int n, const char *const *params)
{
	PGresult *res = testdb_app_query(&w.db, sql, n, params);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s: not refused", sql);
	ck_assert_msg(strstr(PQresultErrorMessage(res), because), "%s", PQresultErrorMessage(res));
	PQclear(res);
}

static void setup(void)
{
	world_create(&w, "reassign", NULL);
	json_t *p = call("POST", "/v1/products", w.applicant.token,
			 "{\"name\":\"Acme Hub\",\"model\":\"H-1\",\"hardware_version\":\"rev A\","
			 "\"firmware_version\":\"1.0.0\",\"support_end\":\"2031-12-31\"}", NULL, 201);
	snprintf(product, sizeof product, "%s", jsonx_str(p, "id"));
	json_decref(p);
}

static void teardown(void)
{
	world_destroy(&w);
}

START_TEST(a_new_assessor_finishes_what_one_who_left_began)
{
	struct actor first, second;
	new_assessor(&first, "[\"assessor\"]");
	new_assessor(&second, "[\"assessor\"]");
	char id[37], path[160];
	submitted(id);
	json_decref(act(id, &first, "take", NULL, 200));
	verdicts(id, &first, "pass", 1, 6, 200);

	/* the first assessor leaves: deactivated by the body's administrator */
	snprintf(path, sizeof path, "/v1/users/%s", first.user);
	json_decref(call("PATCH", path, w.body_admin.token, "{\"active\":false}", NULL, 200));
	/* nobody else may act on it yet */
	verdicts(id, &second, "pass", 7, 13, 403);
	json_decref(act(id, &second, "complete", NULL, 403));

	/* only the body's lead reassigns, and only to an active assessor of the body */
	json_decref(reassign(id, &w.applicant, second.user, 403));
	json_decref(reassign(id, &w.admin, second.user, 403));
	json_decref(reassign(id, &w.assessor, second.user, 403)); /* an assessor is no lead */
	refused_at_assessor(reassign(id, &w.certifier, w.applicant.user, 422)); /* outside the body */
	refused_at_assessor(reassign(id, &w.certifier, w.certifier.user, 422)); /* no assessor */
	refused_at_assessor(reassign(id, &w.certifier, first.user, 422));       /* holds it */
	char other[37];
	struct actor stranger;
	world_org(&w, "assessment_body", "Another Lab", other);
	world_person(&w, &stranger, other, "[\"assessor\"]", "Stranger Assessor");
	refused_at_assessor(reassign(id, &w.certifier, stranger.user, 422)); /* another body */
	struct actor gone;
	new_assessor(&gone, "[\"assessor\"]");
	snprintf(path, sizeof path, "/v1/users/%s", gone.user);
	json_decref(call("PATCH", path, w.body_admin.token, "{\"active\":false}", NULL, 200));
	refused_at_assessor(reassign(id, &w.certifier, gone.user, 422)); /* deactivated */
	char body[160];
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\"}", second.user);
	json_t *p = act(id, &w.certifier, "reassign", body, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/reason");
	json_decref(p);
	/* the database names no one else either, whatever the C code did */
	const char *to_stranger[] = { id, stranger.user };
	sql_refused("active assessor of its body",
		    "UPDATE application SET assessor_id = $2 WHERE id = $1", 2, to_stranger);

	/* the certifier hands it over */
	json_t *a = reassign(id, &w.certifier, second.user, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "in_evaluation");
	ck_assert_str_eq(jsonx_str(json_object_get(a, "assessor"), "id"), second.user);
	json_t *events = json_object_get(a, "events");
	json_t *last = json_array_get(events, json_array_size(events) - 1);
	ck_assert_str_eq(jsonx_str(last, "action"), "reassign");
	ck_assert_str_eq(jsonx_str(json_object_get(last, "actor"), "id"), w.certifier.user);
	ck_assert_str_eq(jsonx_str(json_object_get(last, "assessor"), "id"), second.user);
	ck_assert_str_eq(jsonx_str(last, "message"), "the assessor left the lab");
	json_decref(a);

	/* the second assessor finishes */
	verdicts(id, &second, "pass", 7, 13, 200);
	json_decref(act(id, &second, "complete", NULL, 200));

	/* every verdict stays with the one who recorded it */
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_t *history = call("GET", path, w.certifier.token, NULL, NULL, 200);
	json_t *items = json_is_array(history) ? history : json_object_get(history, "items");
	ck_assert_uint_eq(json_array_size(items), 13);
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v) {
		int ref = atoi(jsonx_str(v, "ref") + strlen("DCMS-"));
		const char *by = jsonx_str(json_object_get(v, "assessor"), "id");
		ck_assert_str_eq(by, ref <= 6 ? first.user : second.user);
	}
	json_decref(history);

	/* a certifier who assessed nothing decides */
	a = act(id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "decided");
	json_decref(a);

	/* the audit trail has the reassignment, with both assessors and the reason */
	snprintf(path, sizeof path, "/v1/audit?action=application.reassign&object_id=%s", id);
	json_t *audit = call("GET", path, w.admin.token, NULL, NULL, 200);
	json_t *recs = json_object_get(audit, "items");
	ck_assert_uint_eq(json_array_size(recs), 1);
	json_t *d = json_object_get(json_array_get(recs, 0), "details");
	ck_assert_str_eq(jsonx_str(d, "previous_assessor"), first.user);
	ck_assert_str_eq(jsonx_str(d, "assessor"), second.user);
	ck_assert_str_eq(jsonx_str(d, "reason"), "the assessor left the lab");
	ck_assert_str_eq(jsonx_str(json_object_get(json_array_get(recs, 0), "actor"), "id"),
			 w.certifier.user);
	json_decref(audit);
}
END_TEST

START_TEST(nobody_who_held_it_decides)
{
	/* certifier2 (assessor and certifier) takes it and records nothing; the
	 * body's org_admin hands it on while it is in evaluation, then a
	 * certifier while information is requested */
	struct actor third, fourth;
	new_assessor(&third, "[\"assessor\"]");
	new_assessor(&fourth, "[\"assessor\"]");
	char id[37];
	submitted(id);
	json_decref(act(id, &w.certifier2, "take", NULL, 200));
	json_decref(reassign(id, &w.body_admin, third.user, 200));
	verdicts(id, &w.certifier2, "pass", 1, 1, 403); /* no longer theirs */
	verdicts(id, &third, "info_needed", 1, 1, 200);
	json_decref(act(id, &third, "request-info", "{\"message\":\"how?\"}", 200));
	json_t *a = reassign(id, &w.certifier, fourth.user, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "info_requested");
	json_decref(a);
	json_decref(act(id, &w.applicant, "resubmit", "{\"message\":\"like this\"}", 200));
	verdicts(id, &fourth, "pass", 1, 13, 200);
	json_decref(act(id, &fourth, "complete", NULL, 200));

	/* certifier2 took it and recorded no verdict: still not the one to decide */
	json_t *p = act(id, &w.certifier2, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 403);
	ck_assert(strstr(jsonx_str(p, "detail"), "17065"));
	json_decref(p);
	const char *by_taker[] = { id, w.certifier2.user };
	sql_refused("assessor who took", DECISION_SQL, 2, by_taker);
	/* nor any assessor it was handed to, even one who later became a certifier */
	char path[160];
	snprintf(path, sizeof path, "/v1/users/%s", third.user);
	json_decref(call("PATCH", path, w.body_admin.token, "{\"roles\":[\"assessor\",\"certifier\"]}",
			 NULL, 200));
	const char *by_third[] = { id, third.user };
	sql_refused("ISO/IEC 17065", DECISION_SQL, 2, by_third);

	a = act(id, &w.certifier, "decide", "{\"decision\":\"approve\",\"rationale\":\"ok\"}", 200);
	ck_assert_str_eq(jsonx_str(json_object_get(a, "decision"), "decision"), "approved");
	json_decref(a);
}
END_TEST

START_TEST(reassign_is_for_applications_an_assessor_holds)
{
	char id[37];
	submitted(id);
	/* before anyone took it: 409 naming the state */
	json_t *p = reassign(id, &w.certifier, w.assessor2.user, 409);
	ck_assert_str_eq(jsonx_str(p, "state"), "submitted");
	json_decref(p);
	/* its fields are for reassign only */
	char body[160];
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\"}", w.assessor.user);
	p = act(id, &w.assessor, "take", body, 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/assessor_id");
	json_decref(p);
	json_decref(act(id, &w.assessor, "take", NULL, 200));
	/* a malformed id is named */
	p = act(id, &w.certifier, "reassign", "{\"assessor_id\":\"nobody\",\"reason\":\"x\"}", 400);
	ck_assert_str_eq(jsonx_str(p, "pointer"), "/assessor_id");
	json_decref(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reassign");
	TCase *tc = tcase_create("reassign");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_new_assessor_finishes_what_one_who_left_began);
	tcase_add_test(tc, nobody_who_held_it_decides);
	tcase_add_test(tc, reassign_is_for_applications_an_assessor_holds);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
