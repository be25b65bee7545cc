/*
 * What a credential says, and who can read it: the manufacturer and product
 * are signed as they were submitted (a rename and a new disclosure contact
 * after the decision reach neither the credential, nor the register, nor
 * the page); an issued credential survives JSON-LD processing by node's
 * `jsonld` with the W3C VC 2.0 context in safe mode, with quads for the
 * scheme, its version and its digest, and matches the JSON Schema conform
 * publishes (node's ajv); public artifacts can be fetched by
 * browser verifiers on any origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tcert.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "credential", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/* Whether the register's answer to query lists serial; the item in *item
 * (borrowed from the returned page, which the caller releases). */
static json_t *register_page(const char *query, const char *serial, json_t **item)
{
	char path[256];
	snprintf(path, sizeof path, "/v1/certificates?%s&limit=500", query);
	json_t *page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	*item = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(page, "items"), i, it)
		if (strcmp(jsonx_str(it, "serial"), serial) == 0)
			*item = it;
	return page;
}

START_TEST(a_rename_after_the_decision_signs_and_shows_what_was_submitted)
{
	/* submitted and decided under the names the body assessed... */
	char decided[37], draft[37], path[160];
	world_application(&w, "decided", decided);
	world_application(&w, "draft", draft);

	/* ...then the manufacturer renames itself, points its disclosure contact
	 * elsewhere and renames the product */
	snprintf(path, sizeof path, "/v1/organisations/%s", w.applicant.org);
	json_t *patch = json_loads("{\"name\":\"Renamed Devices Ltd\",\"vulnerability_disclosure\":"
				   "{\"contact\":\"elsewhere@renamed.example\",\"policy_url\":"
				   "\"https://renamed.example/psirt\",\"response_days\":30}}", 0, NULL);
	json_decref(testsrv_api_ok(&w.srv, "PATCH", path, w.applicant.token, patch, 200));
	json_decref(patch);
	snprintf(path, sizeof path, "/v1/products/%s", world_product(&w));
	patch = json_loads("{\"name\":\"Renamed Plug Pro\"}", 0, NULL);
	json_decref(testsrv_api_ok(&w.srv, "PATCH", path, w.applicant.token, patch, 200));
	json_decref(patch);

	/* the application past draft keeps the submitted manufacturer; a draft
	 * follows the organisation */
	snprintf(path, sizeof path, "/v1/applications/%s", decided);
	json_t *a = testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 200);
	ck_assert_str_eq(jsonx_str(json_object_get(a, "manufacturer"), "name"), "Acme Devices");
	ck_assert_str_eq(jsonx_str(json_object_get(a, "product"), "name"), "Acme Smart Plug");
	json_decref(a);
	snprintf(path, sizeof path, "/v1/applications/%s", draft);
	a = testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 200);
	ck_assert_str_eq(jsonx_str(json_object_get(a, "manufacturer"), "name"), "Renamed Devices Ltd");
	json_decref(a);

	/* issued after the change */
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", decided);
	json_t *c = testsrv_api_ok(&w.srv, "POST", path, w.certifier.token, NULL, 201);
	char serial[40];
	snprintf(serial, sizeof serial, "%s", jsonx_str(c, "serial"));
	json_decref(c);

	/* the signed credential: the submitted name, contact, policy and product */
	json_t *payload = tcert_payload(&w.srv, serial);
	json_t *subject = json_object_get(payload, "credentialSubject");
	json_t *maker = json_object_get(subject, "manufacturer");
	json_t *vd = json_object_get(maker, "vulnerabilityDisclosure");
	ck_assert_str_eq(jsonx_str(maker, "name"), "Acme Devices");
	ck_assert_str_eq(jsonx_str(vd, "contact"), "security@example.org");
	ck_assert_str_eq(jsonx_str(vd, "policy"), "https://example.org/security");
	ck_assert_int_eq(json_integer_value(json_object_get(vd, "responseDays")), 5);
	ck_assert_str_eq(jsonx_str(json_object_get(subject, "product"), "name"), "Acme Smart Plug");
	char *text = json_dumps(payload, JSON_COMPACT);
	ck_assert_msg(!strstr(text, "Renamed") && !strstr(text, "renamed.example"),
		      "the credential carries what was never assessed: %s", text);
	free(text);
	json_decref(payload);

	/* GET certificate: the credential and the issuer as issued */
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	json_t *cs = json_object_get(json_object_get(c, "credential"), "credentialSubject");
	ck_assert_str_eq(jsonx_str(json_object_get(cs, "manufacturer"), "name"), "Acme Devices");
	ck_assert_str_eq(jsonx_str(json_object_get(c, "issuer"), "name"), "Test Lab Certification");
	json_decref(c);

	/* the register: listed and found under the submitted names, not the new */
	json_t *item = NULL;
	json_t *page = register_page("q=Acme%20Devices", serial, &item);
	ck_assert_msg(item != NULL, "?q= with the submitted name does not find %s", serial);
	ck_assert_str_eq(jsonx_str(item, "manufacturer"), "Acme Devices");
	ck_assert_str_eq(jsonx_str(json_object_get(item, "product"), "name"), "Acme Smart Plug");
	ck_assert_str_eq(jsonx_str(item, "body"), "Test Lab Certification");
	json_decref(page);
	page = register_page("q=Renamed", serial, &item);
	ck_assert_msg(item == NULL, "?q= with the new name finds %s", serial);
	json_decref(page);
	page = register_page("manufacturer=Acme", serial, &item);
	ck_assert_ptr_nonnull(item);
	json_decref(page);
	page = register_page("manufacturer=Renamed", serial, &item);
	ck_assert_ptr_null(item);
	json_decref(page);
	page = register_page("q=Renamed%20Plug", serial, &item);
	ck_assert_ptr_null(item);
	json_decref(page);
	page = register_page("status=valid", serial, &item);
	ck_assert_ptr_nonnull(item);
	ck_assert_str_eq(jsonx_str(item, "manufacturer"), "Acme Devices");
	json_decref(page);

	/* the signed export carries the credential as issued */
	char *export = testsrv_get_text(&w.srv, "/v1/register/export", 200);
	ck_assert_ptr_nonnull(strstr(export, serial));
	ck_assert_ptr_null(strstr(export, "Renamed"));
	free(export);

	/* the buyer's page */
	snprintf(path, sizeof path, "/verify/%s", serial);
	char *html = testsrv_get_text(&w.srv, path, 200);
	ck_assert_ptr_nonnull(strstr(html, "Acme Devices"));
	ck_assert_ptr_nonnull(strstr(html, "security@example.org"));
	ck_assert_ptr_nonnull(strstr(html, "Acme Smart Plug"));
	ck_assert_msg(!strstr(html, "Renamed") && !strstr(html, "renamed.example"),
		      "the page shows the live organisation");
	free(html);

	/* the database holds to it too: conformd's own role can neither change
	 * the snapshot past draft nor record a certificate that states other
	 * names than the snapshot's */
	const char *up[] = { decided };
	PGresult *res = testdb_app_query(&w.db,
		"UPDATE application SET manufacturer_snapshot = json_build_object('name', 'Renamed"
		" Devices Ltd') WHERE id = $1", 1, up);
	ck_assert_int_ne(PQresultStatus(res), PGRES_COMMAND_OK);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(res), "keeps the product and manufacturer"));
	PQclear(res);
	const char *ins[] = { serial };
	res = testdb_app_query(&w.db,
		"INSERT INTO certificate (serial, seq, application_id, body_id, manufacturer_id,"
		" scheme_id, scheme_version, class, accreditation_id, kid, valid_from, valid_until, payload,"
		" jws, revocation_index, suspension_index, log_index, issued_by, manufacturer_name,"
		" product_name, product_model, firmware_version, issuer_name)"
		" SELECT 'CF-2099-999999', 999999, application_id, body_id, manufacturer_id, scheme_id,"
		" scheme_version, class, accreditation_id, kid, valid_from, valid_until, payload, jws,"
		" revocation_index, suspension_index, log_index, issued_by, 'Renamed Devices Ltd',"
		" product_name, product_model, firmware_version, issuer_name FROM certificate"
		" WHERE serial = $1", 1, ins);
	ck_assert_int_ne(PQresultStatus(res), PGRES_COMMAND_OK);
	ck_assert_msg(strstr(PQresultErrorMessage(res), "states the manufacturer and product as submitted"),
		      "%s", PQresultErrorMessage(res));
	PQclear(res);
}
END_TEST

/* node tests/js/jsonld-check.mjs CONTEXT CREDENTIAL */
static int jsonld_check(const char *context_path, const char *credential_path, char **out)
{
	return tsupport_node("jsonld-check.mjs", context_path, credential_path, out);
}

START_TEST(an_issued_credential_survives_jsonld_safe_mode_and_rdf)
{
	char serial[40];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	char *context = testsrv_get_text(&w.srv, "/contexts/conformity/v1", 200);
	ck_assert_ptr_null(strstr(context, "@vocab"));
	char *context_path = testsrv_write_artifact("conformity-context.jsonld", context);
	char *jws_path = testsrv_write_artifact("credential-jsonld.jws", jws);
	char *out = NULL;
	int status = jsonld_check(context_path, jws_path, &out);
	ck_assert_msg(status == 0, "jsonld: %s", out);
	json_t *r = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_gt(json_integer_value(json_object_get(r, "quads")), 30);
	const char *scheme = jsonx_str(json_object_get(r, "scheme"), "id");
	char expect[256];
	snprintf(expect, sizeof expect, "%s/v1/schemes/dcms-cop/versions/2018", w.srv.base);
	ck_assert_str_eq(scheme, expect);
	ck_assert_str_eq(jsonx_str(json_object_get(r, "scheme"), "version"), "2018");
	/* the scheme's id is a URL that serves that scheme version */
	json_decref(testsrv_api_ok(&w.srv, "GET", scheme + strlen(w.srv.base), NULL, NULL, 200));
	json_decref(r);
	free(out);

	/* so does the credential conformctl demo issues */
	char demo[40];
	tcert_demo(&w, w.srv.base, NULL, demo);
	char *demo_jws = tcert_jws(&w.srv, demo);
	char *demo_file = testsrv_write_artifact("credential-demo.jws", demo_jws);
	ck_assert_msg(jsonld_check(context_path, demo_file, &out) == 0, "jsonld, demo: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "/v1/schemes/dcms-cop/versions/2018"));
	free(out);
	free(demo_file);
	free(demo_jws);

	/* the check can fail: the same credential with a bare scheme id (as
	 * before) or a term the context does not define is refused */
	json_t *payload = tcert_payload(&w.srv, serial);
	json_t *sch = json_object_get(json_object_get(payload, "credentialSubject"), "scheme");
	json_object_set_new(sch, "id", json_string("dcms-cop"));
	char *text = json_dumps(payload, JSON_COMPACT);
	char *bad_path = testsrv_write_artifact("credential-bare-scheme.json", text);
	ck_assert_int_eq(jsonld_check(context_path, bad_path, &out), 1);
	ck_assert_msg(strstr(out, "relative @id reference") && strstr(out, "dcms-cop"), "%s", out);
	free(out);
	free(text);
	free(bad_path);
	json_object_set_new(sch, "id", json_string(expect));
	json_object_set_new(sch, "colour", json_string("blue"));
	text = json_dumps(payload, JSON_COMPACT);
	bad_path = testsrv_write_artifact("credential-undefined-term.json", text);
	ck_assert_int_eq(jsonld_check(context_path, bad_path, &out), 1);
	ck_assert_msg(strstr(out, "Safe mode"), "%s", out);
	free(out);
	free(text);
	free(bad_path);
	json_decref(payload);

	free(context_path);
	free(jws_path);
	free(context);
	free(jws);
}
END_TEST

START_TEST(an_issued_credential_matches_its_published_schema)
{
	char serial[40];
	world_certificate(&w, serial);
	char *jws = tcert_jws(&w.srv, serial);
	char *schema = testsrv_get_text(&w.srv, "/schemas/conformity-certificate/v1", 200);
	char *schema_path = testsrv_write_artifact("conformity-schema.json", schema);
	char *jws_path = testsrv_write_artifact("credential-schema.jws", jws);
	char *out = NULL;
	ck_assert_msg(tsupport_node("schema-check.mjs", schema_path, jws_path, &out) == 0, "ajv: %s", out);
	free(out);
	/* it can fail: a bare scheme id, as credentials had, is not the schema's */
	json_t *payload = tcert_payload(&w.srv, serial);
	json_object_set_new(json_object_get(json_object_get(payload, "credentialSubject"), "scheme"),
			    "id", json_string("dcms-cop"));
	char *text = json_dumps(payload, JSON_COMPACT);
	char *bad_path = testsrv_write_artifact("credential-schema-bare.json", text);
	ck_assert_int_eq(tsupport_node("schema-check.mjs", schema_path, bad_path, &out), 1);
	ck_assert_msg(strstr(out, "/credentialSubject/scheme/id"), "%s", out);
	free(out);
	free(bad_path);
	free(text);
	json_decref(payload);
	free(jws_path);
	free(schema_path);
	free(schema);
	free(jws);
}
END_TEST

static void expect_cors(const char *path, bool cors)
{
	struct http_resp r;
	const char *headers[] = { "Origin: https://verifier.example", NULL };
	testsrv_req(&w.srv, &r, "GET", path, headers, NULL);
	ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
	char value[64];
	const char *v = http_header(&r, "Access-Control-Allow-Origin", value, sizeof value);
	if (cors)
		ck_assert_msg(v && strcmp(v, "*") == 0, "GET %s: Access-Control-Allow-Origin is %s",
			      path, v ? v : "absent");
	else
		ck_assert_msg(!v, "GET %s is not a public artifact but allows origin %s", path, v);
	http_resp_free(&r);
}

START_TEST(public_artifacts_allow_any_origin)
{
	char serial[40], path[128];
	world_certificate(&w, serial);
	world_wait_checkpoint(&w, 1);
	expect_cors("/.well-known/jwks.json", true);
	snprintf(path, sizeof path, "/bodies/%s/did.json", w.certifier.org);
	expect_cors(path, true);
	snprintf(path, sizeof path, "/v1/bodies/%s/status/revocation", w.certifier.org);
	expect_cors(path, true);
	snprintf(path, sizeof path, "/v1/bodies/%s/status/suspension", w.certifier.org);
	expect_cors(path, true);
	expect_cors("/contexts/conformity/v1", true);
	expect_cors("/schemas/conformity-certificate/v1", true);
	expect_cors("/v1/log/checkpoint", true);
	expect_cors("/v1/log/vkey", true);
	expect_cors("/v1/log/tree-head", true);
	expect_cors("/v1/schemes/dcms-cop/versions/2018", true); /* the credential's scheme id */
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", serial);
	expect_cors(path, true);
	/* what is not an artifact for verifiers stays same-origin */
	snprintf(path, sizeof path, "/verify/%s", serial);
	expect_cors(path, false);
	expect_cors("/v1/health", false);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("credential");
	TCase *tc = tcase_create("credential");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_rename_after_the_decision_signs_and_shows_what_was_submitted);
	tcase_add_test(tc, an_issued_credential_survives_jsonld_safe_mode_and_rdf);
	tcase_add_test(tc, an_issued_credential_matches_its_published_schema);
	tcase_add_test(tc, public_artifacts_allow_any_origin);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
