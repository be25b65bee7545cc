/*
 * OSCAL assessment results (issue 17): GET /v1/applications/{id}/oscal of a
 * decided application, checked against the OSCAL 1.1 assessment-results
 * model. No npm or Debian package carries NIST's generated JSON schema, so
 * tests/js/oscal-ar-model.json transcribes the model for every assembly
 * conform writes (members allowed and required, datatype patterns) and ajv
 * validates against it (tests/js/schema-check.mjs); the cross-references
 * that a JSON Schema cannot state (what oscal-cli checks with its
 * constraints: observation, party and role references, control ids of the
 * imported catalog, unique uuids) are checked here. Both checks are shown
 * to fail on documents that break the model.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "digest.h"
#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "oscal", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/* Uploads content as evidence for refs (the applicant); the evidence. */
static json_t *upload(const char *id, const char *name, const char *refs, const char *content)
{
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, "Content-Type: text/plain", NULL };
	char *url = cf_asprintf("%s/v1/applications/%s/evidence?name=%s&refs=%s", w.srv.base, id, name,
				refs);
	struct http_resp r;
	http_do(&r, "POST", url, headers, content, strlen(content));
	free(url);
	ck_assert_msg(r.status == 201, "upload %s: %ld %s", name, r.status, r.body);
	json_t *j = json_loadb(r.body, r.len, 0, NULL);
	http_resp_free(&r);
	return j;
}

/* The application's OSCAL document (expect 200). */
static json_t *get_oscal(const char *id)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/oscal", id);
	return testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 200);
}

/* ajv against the transcribed model: 0 valid, 1 not; the errors in *out. */
static int model_check(const json_t *doc, const char *artifact, char **out)
{
	char *text = json_dumps(doc, JSON_INDENT(1));
	char *path = testsrv_write_artifact(artifact, text);
	char *schema = tsupport_source_path("tests/js/oscal-ar-model.json");
	int rc = tsupport_node("schema-check.mjs", schema, path, out);
	free(schema);
	free(path);
	free(text);
	return rc;
}

static bool set_has(const json_t *set, const char *s)
{
	return s && json_object_get(set, s) != NULL;
}

/*
 * The cross-references of the model (oscal-cli's index constraints) that
 * JSON Schema cannot state: "" when they hold, else what breaks them
 * (static buffer). catalog is the OSCAL catalog that import-ap points at.
 */
static const char *refs_check(const json_t *doc, const json_t *catalog)
{
	static char why[256];
	const json_t *ar = json_object_get(doc, "assessment-results");
	const json_t *md = json_object_get(ar, "metadata");
	json_t *uuids = json_object(), *parties = json_object(), *roles = json_object();
	json_t *controls = json_object(), *statements = json_object(), *obs = json_object();
	why[0] = '\0';
	size_t i, k, n;
	json_t *x, *y, *z;
	/* the controls and statement parts of the catalog */
	json_array_foreach(json_object_get(json_object_get(catalog, "catalog"), "groups"), i, x)
		json_array_foreach(json_object_get(x, "controls"), k, y) {
			json_object_set_new(controls, jsonx_str(y, "id"), json_true());
			json_array_foreach(json_object_get(y, "parts"), n, z)
				if (strcmp(jsonx_str(z, "name"), "statement") == 0)
					json_object_set_new(statements, jsonx_str(z, "id"), json_true());
		}
#define FAIL(...)                                              \
	do {                                                   \
		if (!why[0])                                   \
			snprintf(why, sizeof why, __VA_ARGS__); \
	} while (0)
#define UNIQUE(obj)                                                                       \
	do {                                                                              \
		const char *u_ = jsonx_str(obj, "uuid");                                  \
		if (u_ && set_has(uuids, u_))                                             \
			FAIL("uuid %s is used twice", u_);                                \
		if (u_)                                                                   \
			json_object_set_new(uuids, u_, json_true());                      \
	} while (0)
	UNIQUE(ar);
	json_array_foreach(json_object_get(md, "roles"), i, x)
		json_object_set_new(roles, jsonx_str(x, "id"), json_true());
	json_array_foreach(json_object_get(md, "parties"), i, x) {
		UNIQUE(x);
		json_object_set_new(parties, jsonx_str(x, "uuid"), json_true());
	}
	json_array_foreach(json_object_get(md, "responsible-parties"), i, x) {
		if (!set_has(roles, jsonx_str(x, "role-id")))
			FAIL("responsible-party role-id %s is no role", jsonx_str(x, "role-id"));
		json_array_foreach(json_object_get(x, "party-uuids"), k, y)
			if (!set_has(parties, json_string_value(y)))
				FAIL("party-uuid %s is no party", json_string_value(y));
	}
	json_array_foreach(json_object_get(ar, "results"), i, x) {
		UNIQUE(x);
		json_array_foreach(json_object_get(x, "observations"), k, y) {
			UNIQUE(y);
			json_object_set_new(obs, jsonx_str(y, "uuid"), json_true());
		}
		json_array_foreach(json_object_get(json_object_get(x, "reviewed-controls"),
						   "control-selections"), k, y)
			json_array_foreach(json_object_get(y, "include-controls"), n, z)
				if (!set_has(controls, jsonx_str(z, "control-id")))
					FAIL("control-id %s is not a control of the imported catalog",
					     jsonx_str(z, "control-id"));
		json_array_foreach(json_object_get(x, "attestations"), k, y)
			json_array_foreach(json_object_get(y, "responsible-parties"), n, z) {
				if (!set_has(roles, jsonx_str(z, "role-id")))
					FAIL("attestation role-id %s is no role", jsonx_str(z, "role-id"));
				if (!set_has(parties, json_string_value(
							      json_array_get(json_object_get(z, "party-uuids"), 0))))
					FAIL("an attestation names no party of the metadata");
			}
		json_array_foreach(json_object_get(x, "findings"), k, y) {
			UNIQUE(y);
			const json_t *t = json_object_get(y, "target");
			if (!set_has(statements, jsonx_str(t, "target-id")))
				FAIL("finding target-id %s is no statement of the imported catalog",
				     jsonx_str(t, "target-id"));
			json_array_foreach(json_object_get(y, "related-observations"), n, z)
				if (!set_has(obs, jsonx_str(z, "observation-uuid")))
					FAIL("related observation %s is no observation",
					     jsonx_str(z, "observation-uuid"));
			json_array_foreach(json_object_get(y, "origins"), n, z) {
				const json_t *a = json_array_get(json_object_get(z, "actors"), 0);
				if (!set_has(parties, jsonx_str(a, "actor-uuid")))
					FAIL("actor %s is no party", jsonx_str(a, "actor-uuid"));
				if (jsonx_str(a, "role-id") && !set_has(roles, jsonx_str(a, "role-id")))
					FAIL("actor role-id %s is no role", jsonx_str(a, "role-id"));
			}
		}
	}
#undef UNIQUE
#undef FAIL
	json_decref(uuids);
	json_decref(parties);
	json_decref(roles);
	json_decref(controls);
	json_decref(statements);
	json_decref(obs);
	return why;
}

/* The catalog import-ap names (its href is on this server). */
static json_t *imported_catalog(const json_t *doc)
{
	const char *href = jsonx_str(json_object_get(json_object_get(doc, "assessment-results"),
						     "import-ap"), "href");
	ck_assert_ptr_nonnull(href);
	ck_assert_msg(strncmp(href, w.srv.base, strlen(w.srv.base)) == 0, "import-ap %s", href);
	return testsrv_api_ok(&w.srv, "GET", href + strlen(w.srv.base), NULL, NULL, 200);
}

/* The finding whose prop "requirement" is ref (borrowed; NULL if none). */
static const json_t *finding_of(const json_t *result, const char *ref)
{
	size_t i, k;
	json_t *f, *p;
	json_array_foreach(json_object_get(result, "findings"), i, f)
		json_array_foreach(json_object_get(f, "props"), k, p)
			if (strcmp(jsonx_str(p, "name"), "requirement") == 0 &&
			    strcmp(jsonx_str(p, "value"), ref) == 0)
				return f;
	return NULL;
}

/* The value of prop name in an array of props (NULL if none). */
static const char *prop_of(const json_t *props, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(props, i, p)
		if (strcmp(jsonx_str(p, "name"), name) == 0)
			return jsonx_str(p, "value");
	return NULL;
}

static char rejected[37];
static json_t *ev_report; /* the first of the two evidence files of rejected */
static const char report_text[] = "penetration test report, firmware 1.0\n";
static const char policy_text[] = "vulnerability disclosure policy\n";

/* A DCMS application with two evidence files, evaluated with a pass, a fail
 * and a not-applicable among its verdicts, and refused. */
static void make_rejected(void)
{
	if (rejected[0])
		return;
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id",
			      world_product(&w), "scheme_id", "dcms-cop", "scheme_version", "2018",
			      "assessment_type", "third-party", "body_id", w.certifier.org, "owners",
			      "Software", "Firmware lead", "Hardware", "Hardware lead", "Policy", "CISO",
			      "Process", "PSIRT");
	json_t *a = testsrv_api_ok(&w.srv, "POST", "/v1/applications", w.applicant.token, b, 201);
	snprintf(rejected, sizeof rejected, "%s", jsonx_str(a, "id"));
	json_decref(a);
	json_decref(b);
	for (int i = 1; i <= 13; i++) {
		char path[160];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", rejected, i);
		json_decref(testsrv_api_text(&w.srv, "PUT", path, w.applicant.token,
					     "{\"statement\":\"compliant\",\"text\":\"as documented\"}", 200));
	}
	ev_report = upload(rejected, "report.txt", "DCMS-1,DCMS-2", report_text);
	json_decref(upload(rejected, "policy.txt", "DCMS-2", policy_text));
	json_decref(world_act(&w, rejected, &w.applicant, "submit", NULL, 200));
	json_decref(world_act(&w, rejected, &w.assessor, "take", NULL, 200));
	char body[2048] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = 1; i <= 13; i++) {
		const char *v = i == 2 ? "fail" : i == 3 ? "not_applicable" : "pass";
		const char *c = i == 2 ? "the policy names no contact point" : "seen";
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"%s\",\"comment\":\"%s\"}",
				      i > 1 ? "," : "", i, v, c);
	}
	snprintf(body + n, sizeof body - n, "]}");
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", rejected);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.assessor.token, body, 200));
	json_decref(world_act(&w, rejected, &w.assessor, "complete", NULL, 200));
	json_decref(world_act(&w, rejected, &w.certifier, "decide",
			      "{\"decision\":\"reject\",\"rationale\":\"DCMS-2 failed\"}", 200));
}

START_TEST(a_refused_application_exports_valid_assessment_results)
{
	make_rejected();
	json_t *doc = get_oscal(rejected);
	char *out = NULL;
	ck_assert_msg(model_check(doc, "oscal-ar-rejected.json", &out) == 0, "model: %s", out);
	free(out);
	json_t *catalog = imported_catalog(doc);
	const char *why = refs_check(doc, catalog);
	ck_assert_msg(why[0] == '\0', "references: %s", why);

	const json_t *ar = json_object_get(doc, "assessment-results");
	const json_t *r = json_array_get(json_object_get(ar, "results"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(ar, "results")), 1);
	ck_assert_str_eq(prop_of(json_object_get(r, "props"), "decision"), "rejected");
	ck_assert_int_eq(json_array_size(json_object_get(r, "findings")), 13);
	ck_assert_int_eq(json_array_size(json_object_get(json_array_get(json_object_get(
		json_object_get(r, "reviewed-controls"), "control-selections"), 0), "include-controls")), 13);
	/* the verdicts, as targets' statuses */
	const json_t *f1 = finding_of(r, "DCMS-1"), *f2 = finding_of(r, "DCMS-2"),
		     *f3 = finding_of(r, "DCMS-3");
	ck_assert_ptr_nonnull(f1);
	ck_assert_ptr_nonnull(f2);
	ck_assert_ptr_nonnull(f3);
	const json_t *t1 = json_object_get(f1, "target"), *t2 = json_object_get(f2, "target"),
		     *t3 = json_object_get(f3, "target");
	ck_assert_str_eq(jsonx_str(t1, "target-id"), "req-DCMS-1_smt");
	ck_assert_str_eq(jsonx_str(json_object_get(t1, "status"), "state"), "satisfied");
	ck_assert_str_eq(jsonx_str(json_object_get(t2, "status"), "state"), "not-satisfied");
	ck_assert_str_eq(jsonx_str(json_object_get(t2, "status"), "reason"), "fail");
	ck_assert_str_eq(jsonx_str(f2, "description"), "the policy names no contact point");
	ck_assert_str_eq(jsonx_str(json_object_get(t3, "status"), "state"), "satisfied");
	ck_assert_str_eq(jsonx_str(json_object_get(t3, "implementation-status"), "state"),
			 "not-applicable");
	/* the assessor is the finding's actor */
	const json_t *actor = json_array_get(json_object_get(json_array_get(json_object_get(f1, "origins"),
									    0), "actors"), 0);
	ck_assert_str_eq(jsonx_str(actor, "role-id"), "assessor");

	/* observations point at the evidence by href and SHA-256 */
	const json_t *obs = json_object_get(r, "observations");
	ck_assert_int_eq(json_array_size(obs), 2);
	const json_t *o1 = json_array_get(obs, 0);
	const json_t *re = json_array_get(json_object_get(o1, "relevant-evidence"), 0);
	char *href = cf_asprintf("%s%s", w.srv.base, jsonx_str(ev_report, "href"));
	ck_assert_str_eq(jsonx_str(re, "href"), href);
	char hex[DIGEST_SHA256_HEX_LEN], dv[80];
	digest_sha256_hex(report_text, strlen(report_text), hex);
	snprintf(dv, sizeof dv, "sha256:%s", hex);
	ck_assert_str_eq(prop_of(json_object_get(re, "props"), "digest"), dv);
	/* the file at href is the one the digest names */
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.applicant.token);
	const char *headers[] = { auth, NULL };
	struct http_resp resp;
	http_do(&resp, "GET", href, headers, NULL, 0);
	ck_assert_int_eq(resp.status, 200);
	char got[DIGEST_SHA256_HEX_LEN];
	digest_sha256_hex(resp.body, resp.len, got);
	ck_assert_str_eq(got, hex);
	http_resp_free(&resp);
	free(href);
	/* a finding relates the observations of the evidence linked to it */
	ck_assert_int_eq(json_array_size(json_object_get(f2, "related-observations")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(f1, "related-observations")), 1);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(f1, "related-observations"), 0),
				   "observation-uuid"), jsonx_str(o1, "uuid"));
	ck_assert_ptr_null(json_object_get(f3, "related-observations"));

	/* reproducible: the same document twice */
	json_t *again = get_oscal(rejected);
	ck_assert(json_equal(doc, again));
	json_decref(again);
	json_decref(catalog);
	json_decref(doc);
}
END_TEST

/* A copy of doc with the member at pointer (a JSON pointer to an object
 * member) replaced by value (NULL: removed). */
static json_t *broken(const json_t *doc, const char *pointer, json_t *value)
{
	json_t *copy = json_deep_copy(doc);
	char path[256];
	snprintf(path, sizeof path, "%s", pointer);
	char *last = strrchr(path, '/');
	*last = '\0';
	json_t *parent = copy;
	for (char *tok = strtok(path + 1, "/"); tok; tok = strtok(NULL, "/"))
		parent = json_is_array(parent) ? json_array_get(parent, (size_t)atoi(tok))
					       : json_object_get(parent, tok);
	ck_assert_msg(json_is_object(parent), "no object at %s", pointer);
	if (value)
		json_object_set_new(parent, last + 1, value);
	else
		ck_assert_int_eq(json_object_del(parent, last + 1), 0);
	return copy;
}

START_TEST(the_checks_fail_on_documents_that_break_the_model)
{
	make_rejected();
	json_t *doc = get_oscal(rejected);
	static const char *const R = "/assessment-results/results/0";
	struct {
		const char *what, *pointer, *value; /* value: JSON text, NULL removes */
	} bad[] = {
		{ "no import-ap", "/assessment-results/import-ap", NULL },
		{ "a result without reviewed-controls", "/reviewed-controls", NULL },
		{ "a version 1 uuid", "/assessment-results/uuid",
		  "\"c232ab00-9414-11ec-b3c8-9f6bdeced846\"" },
		{ "a time without a time zone", "/assessment-results/metadata/last-modified",
		  "\"2026-01-01T10:00:00\"" },
		{ "a finding state outside the model", "/findings/0/target/status/state", "\"passed\"" },
		{ "an empty array", "/findings", "[]" },
		{ "a member the model does not have", "/verdict", "\"pass\"" },
		{ "an id that is not a token", "/findings/0/target/target-id", "\"5.1-1\"" },
		{ "a prop value with a line break", "/props/0/value", "\"rejected\\nreally\"" },
		{ "an observation without methods", "/observations/0/methods", NULL },
		{ "a relevant-evidence without description",
		  "/observations/0/relevant-evidence/0/description", NULL },
		{ "a finding without a target", "/findings/0/target", NULL },
		{ "a party of a kind the model does not have", "/assessment-results/metadata/parties/0/type",
		  "\"company\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char pointer[256];
		snprintf(pointer, sizeof pointer, "%s%s", bad[i].pointer[0] == '/' &&
			 strncmp(bad[i].pointer, "/assessment-results", 19) != 0 ? R : "", bad[i].pointer);
		json_t *value = bad[i].value ? json_loads(bad[i].value, JSON_DECODE_ANY, NULL) : NULL;
		json_t *b = broken(doc, pointer, value);
		char name[64], *out = NULL;
		snprintf(name, sizeof name, "oscal-ar-broken-%zu.json", i);
		ck_assert_msg(model_check(b, name, &out) == 1, "%s passed the model check", bad[i].what);
		free(out);
		json_decref(b);
	}

	/* references that resolve to nothing */
	json_t *catalog = imported_catalog(doc);
	struct {
		const char *what, *pointer, *value, *words;
	} dangling[] = {
		{ "an unknown observation", "/findings/1/related-observations/0/observation-uuid",
		  "\"0b9c7a4e-5d1f-4c3a-9e2b-7f6d5c4b3a21\"", "is no observation" },
		{ "a control the catalog lacks",
		  "/reviewed-controls/control-selections/0/include-controls/0/control-id", "\"req-DCMS-99\"",
		  "is not a control of the imported catalog" },
		{ "a statement the catalog lacks", "/findings/0/target/target-id", "\"req-DCMS-1\"",
		  "is no statement" },
		{ "an actor that is no party", "/findings/0/origins/0/actors/0/actor-uuid",
		  "\"0b9c7a4e-5d1f-4c3a-9e2b-7f6d5c4b3a21\"", "is no party" },
	};
	for (size_t i = 0; i < sizeof dangling / sizeof dangling[0]; i++) {
		char pointer[256];
		snprintf(pointer, sizeof pointer, "%s%s", R, dangling[i].pointer);
		json_t *b = broken(doc, pointer, json_loads(dangling[i].value, JSON_DECODE_ANY, NULL));
		const char *why = refs_check(b, catalog);
		ck_assert_msg(strstr(why, dangling[i].words), "%s: '%s'", dangling[i].what, why);
		json_decref(b);
	}
	/* a uuid used twice */
	json_t *b = json_deep_copy(doc);
	json_t *r = json_array_get(json_object_get(json_object_get(b, "assessment-results"), "results"), 0);
	json_object_set(json_array_get(json_object_get(r, "findings"), 1), "uuid",
			json_object_get(json_array_get(json_object_get(r, "findings"), 0), "uuid"));
	ck_assert_ptr_nonnull(strstr(refs_check(b, catalog), "is used twice"));
	json_decref(b);
	json_decref(catalog);
	json_decref(doc);
}
END_TEST

START_TEST(a_self_declaration_exports_without_findings)
{
	char id[37];
	json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "product_id", world_product(&w), "scheme_id",
			      "dcms-cop", "scheme_version", "2018", "assessment_type", "self");
	json_t *a = testsrv_api_ok(&w.srv, "POST", "/v1/applications", w.applicant.token, b, 201);
	snprintf(id, sizeof id, "%s", jsonx_str(a, "id"));
	json_decref(a);
	json_decref(b);
	for (int i = 1; i <= 13; i++) {
		char path[160];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		json_decref(testsrv_api_text(&w.srv, "PUT", path, w.applicant.token,
					     "{\"statement\":\"compliant\",\"text\":\"as documented\"}", 200));
	}
	json_decref(upload(id, "sbom.txt", "DCMS-3", "sbom\n"));
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/oscal", id);
	json_t *p = testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 409);
	ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:invalid-state");
	json_decref(p);
	json_decref(world_act(&w, id, &w.applicant, "declare",
			      "{\"statement\":\"We declare conformity.\"}", 200));
	json_t *doc = get_oscal(id);
	char *out = NULL;
	ck_assert_msg(model_check(doc, "oscal-ar-self.json", &out) == 0, "model: %s", out);
	free(out);
	json_t *catalog = imported_catalog(doc);
	const char *why = refs_check(doc, catalog);
	ck_assert_msg(why[0] == '\0', "references: %s", why);
	const json_t *r = json_array_get(json_object_get(json_object_get(doc, "assessment-results"),
							 "results"), 0);
	/* no assessor, no verdicts: no findings; the evidence is still observed */
	ck_assert_ptr_null(json_object_get(r, "findings"));
	ck_assert_int_eq(json_array_size(json_object_get(r, "observations")), 1);
	const json_t *att = json_array_get(json_object_get(r, "attestations"), 0);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(att, "responsible-parties"), 0),
				   "role-id"), "manufacturer");
	json_decref(catalog);
	json_decref(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oscal");
	TCase *tc = tcase_create("oscal");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_refused_application_exports_valid_assessment_results);
	tcase_add_test(tc, the_checks_fail_on_documents_that_break_the_model);
	tcase_add_test(tc, a_self_declaration_exports_without_findings);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
