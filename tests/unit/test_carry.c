/*
 * Unit tests of core/carry.c (issue 17): settled verdicts carried into a new
 * application, and change applications (delta recertification), against
 * the suite's database with the shipped schemes imported by conformctl and
 * the DCMS certificate conformctl demo issues (all thirteen guidelines
 * answered compliant and judged pass) through a real conform-signer.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accreditation.h"
#include "application.h"
#include "certificate.h"
#include "coreworld.h"
#include "evidence.h"
#include "jsonx.h"
#include "oscal.h"
#include "product.h"
#include "review.h"
#include "tsupport.h"

static struct coreworld f;

static void setup(void)
{
	coreworld_open(&f, "carry");
	coreworld_demo(&f);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

static cf_err create(const char *text, json_t **out, struct cf_error *err)
{
	json_t *body = coreworld_json(text);
	cf_err e = application_create(f.db, &f.applicant, body, APPLICATION_NO_QUOTA, out, err);
	json_decref(body);
	return e;
}

/* Asks for a change application of the demo's certificate: product, scheme
 * version and the change (JSON text; NULL: none given). */
static cf_err create_change(const char *product, const char *scheme, const char *version,
			    const char *change, json_t **out, struct cf_error *err)
{
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"%s\",\"scheme_version\":\"%s\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"supersedes\":\"%s\"%s%s}",
		 product, scheme, version, f.body, f.serial, change ? ",\"change\":" : "",
		 change ? change : "");
	return create(text, out, err);
}

/* A change application of the demo's certificate, for its product. */
static void open_change(const char *requirements, char id[37])
{
	char change[256];
	snprintf(change, sizeof change,
		 "{\"description\":\"firmware 1.1.0: a new update client\",\"requirements\":%s}",
		 requirements);
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("change application",
			 create_change(f.product, "dcms-cop", "2018", change, &out, &err), &err, CF_OK,
			 NULL, NULL);
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	json_decref(out);
}

/* A change application, submitted and taken by the assessor. */
static void open_taken(const char *requirements, char id[37])
{
	open_change(requirements, id);
	coreworld_act_ok(&f, &f.applicant, id, "submit", NULL);
	coreworld_act_ok(&f, &f.assessor, id, "take", NULL);
}

static cf_err review(const char *id, const char *text, struct cf_error *err)
{
	json_t *body = coreworld_json(text), *out = NULL;
	cf_err e = review_record(f.db, &f.assessor, id, body, &out, err);
	json_decref(body);
	json_decref(out);
	return e;
}

static json_t *get(const char *id)
{
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("get", application_get(f.db, id, &out, &err), &err, CF_OK, NULL, NULL);
	return out;
}

/* The checklist item of ref in an application's answer. */
static const json_t *item(const json_t *app, const char *ref)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(app, "requirements"), i, it)
		if (strcmp(jsonx_str(it, "ref"), ref) == 0)
			return it;
	ck_abort_msg("no requirement %s", ref);
	return NULL;
}

static void answer(const char *id, const char *ref, const char *text)
{
	char body_text[512];
	snprintf(body_text, sizeof body_text, "{\"statement\":\"compliant\",\"text\":\"%s\"}", text);
	json_t *body = coreworld_json(body_text), *out = NULL;
	struct cf_error err;
	coreworld_expect(ref, application_answer(f.db, &f.applicant, id, ref, body, &out, &err), &err,
			 CF_OK, NULL, NULL);
	json_decref(body);
	json_decref(out);
}

/* Completes and decides (another person). */
static void decide(const char *id)
{
	coreworld_act_ok(&f, &f.assessor, id, "complete", NULL);
	coreworld_act_ok(&f, &f.certifier, id, "decide",
			 "{\"decision\":\"approve\",\"rationale\":\"the change was assessed\"}");
}

static cf_err issue(const char *id, json_t **out, struct cf_error *err)
{
	struct cert_ctx ctx = { f.public_url, f.signer.socket };
	bool created = false;
	return certificate_issue(f.db, &f.certifier, &ctx, id, out, &created, err);
}

/* Issues the certificate of a decided application; the new serial in
 * serial and its credential (new reference). */
static json_t *finish_issued(const char *id, char serial[40])
{
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("issue", issue(id, &out, &err), &err, CF_OK, NULL, NULL);
	snprintf(serial, 40, "%s", jsonx_str(out, "serial"));
	json_t *credential = json_incref(json_object_get(out, "credential"));
	json_decref(out);
	return credential;
}

/* Completes, decides and issues, as finish_issued. */
static json_t *finish(const char *id, char serial[40])
{
	decide(id);
	return finish_issued(id, serial);
}

/* The refs of a JSON array of strings, comma-joined. */
static void joined(const json_t *a, char *out, size_t size)
{
	out[0] = '\0';
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", n ? "," : "", json_string_value(v));
	}
}

START_TEST(a_firmware_change_re_reviews_only_what_changed)
{
	json_t *patch = coreworld_json("{\"firmware_version\":\"1.1.0\"}"), *prod = NULL;
	struct cf_error err;
	coreworld_expect("firmware", product_update(f.db, &f.applicant, f.product, patch, &prod, &err), &err,
			 CF_OK, NULL, NULL);
	json_decref(patch);
	json_decref(prod);
	char id[37];
	open_change("[\"DCMS-3\"]", id);

	/* it starts from what was judged: the answers, and every verdict offered */
	json_t *app = get(id);
	ck_assert_str_eq(jsonx_str(app, "supersedes"), f.serial);
	ck_assert_str_eq(jsonx_str(app, "carried_from"), f.serial);
	ck_assert_str_eq(jsonx_str(json_object_get(app, "change"), "description"),
			 "firmware 1.1.0: a new update client");
	for (int n = 1; n <= 13; n++) {
		char ref[16];
		snprintf(ref, sizeof ref, "DCMS-%d", n);
		const json_t *it = item(app, ref);
		ck_assert_msg(json_is_object(json_object_get(it, "answer")), "%s has no answer", ref);
		const json_t *c = json_object_get(it, "carried");
		ck_assert_msg(json_is_object(c), "%s carries nothing", ref);
		ck_assert_str_eq(jsonx_str(c, "verdict"), "pass");
		const json_t *o = json_array_get(json_object_get(c, "origins"), 0);
		ck_assert_str_eq(jsonx_str(o, "ref"), ref);
		ck_assert_str_eq(jsonx_str(o, "relationship"), "equivalent-to");
		ck_assert(json_is_integer(json_object_get(o, "verdict_id")));
		if (n == 3) {
			ck_assert_str_eq(jsonx_str(c, "changed"), "declared");
			ck_assert(json_is_false(json_object_get(c, "acceptable")));
		} else {
			ck_assert(json_is_null(json_object_get(c, "changed")));
			ck_assert(json_is_true(json_object_get(c, "acceptable")));
		}
	}
	json_decref(app);

	/* the manufacturer rewrites one answer: that requirement changed too */
	answer(id, "DCMS-5", "Signed updates now come through the new client.");
	app = get(id);
	ck_assert_str_eq(jsonx_str(json_object_get(item(app, "DCMS-5"), "carried"), "changed"), "answer");
	json_decref(app);
	coreworld_act_ok(&f, &f.applicant, id, "submit", NULL);
	coreworld_act_ok(&f, &f.assessor, id, "take", NULL);

	/* what changed cannot carry: the assessor reviews it anew */
	coreworld_refused(review(id, "{\"ref\":\"DCMS-3\",\"verdict\":\"carried\"}", &err), &err, CF_ESTATE,
			  "/verdicts/0/ref", "the manufacturer declared it changed");
	coreworld_refused(review(id, "{\"ref\":\"DCMS-5\",\"verdict\":\"carried\"}", &err), &err, CF_ESTATE,
			  "/verdicts/0/ref", "its answer differs");
	char text[2048] = "{\"verdicts\":[";
	for (int n = 1; n <= 13; n++) {
		size_t len = strlen(text);
		if (n == 3 || n == 5)
			snprintf(text + len, sizeof text - len,
				 "{\"ref\":\"DCMS-%d\",\"verdict\":\"pass\",\"comment\":\"re-tested on 1.1.0\"}%s",
				 n, n < 13 ? "," : "");
		else
			snprintf(text + len, sizeof text - len, "{\"ref\":\"DCMS-%d\",\"verdict\":\"carried\"}%s",
				 n, n < 13 ? "," : "");
	}
	snprintf(text + strlen(text), sizeof text - strlen(text), "]}");
	coreworld_expect("review", review(id, text, &err), &err, CF_OK, NULL, NULL);
	app = get(id);
	ck_assert_str_eq(jsonx_str(json_object_get(item(app, "DCMS-1"), "verdict"), "basis"), "carried");
	ck_assert_str_eq(jsonx_str(json_object_get(item(app, "DCMS-3"), "verdict"), "basis"), "assessed");
	json_decref(app);
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM review_verdict WHERE application_id = $1"
				  " AND carried_from IS NOT NULL", id), 11);

	/* the certificate says what was carried and what assessed anew, and what it replaces */
	char serial[40], all[512];
	json_t *cred = finish(id, serial);
	const json_t *subject = json_object_get(cred, "credentialSubject");
	const json_t *as = json_object_get(subject, "assessment");
	joined(json_object_get(as, "assessedAnew"), all, sizeof all);
	ck_assert_str_eq(all, "DCMS-3,DCMS-5");
	ck_assert_uint_eq(json_array_size(json_object_get(as, "carried")), 11);
	const json_t *first = json_array_get(json_object_get(as, "carried"), 0);
	ck_assert_str_eq(jsonx_str(first, "requirement"), "DCMS-1");
	ck_assert_str_eq(jsonx_str(first, "verdict"), "pass");
	char url[256];
	snprintf(url, sizeof url, "%s/v1/certificates/%s", f.public_url, f.serial);
	ck_assert_str_eq(jsonx_str(as, "carriedFrom"), url);
	ck_assert_str_eq(jsonx_str(subject, "supersedes"), url);
	ck_assert_str_eq(jsonx_str(json_object_get(subject, "product"), "firmwareVersion"), "1.1.0");
	json_decref(cred);

	/* the OSCAL results say which findings were carried, and from where */
	json_t *ar = NULL;
	coreworld_expect("oscal", oscal_assessment_results(f.db, f.public_url, id, &ar, &err), &err, CF_OK,
			 NULL, NULL);
	const json_t *findings = json_object_get(json_array_get(json_object_get(
		json_object_get(ar, "assessment-results"), "results"), 0), "findings");
	int carried_findings = 0;
	size_t k;
	json_t *fi;
	json_array_foreach(findings, k, fi) {
		const char *remarks = jsonx_str(fi, "remarks");
		if (remarks && strstr(remarks, "accepted the verdict carried from DCMS-"))
			carried_findings++;
	}
	ck_assert_int_eq(carried_findings, 11);
	char *ar_text = json_dumps(ar, JSON_INDENT(1));
	char *ar_path = testsrv_write_artifact("carry-oscal-ar.json", ar_text);
	char *model = tsupport_source_path("tests/js/oscal-ar-model.json");
	char *said_model = NULL;
	ck_assert_msg(tsupport_node("schema-check.mjs", model, ar_path, &said_model) == 0,
		      "OSCAL model: %s", said_model);
	free(said_model);
	free(model);
	free(ar_path);
	free(ar_text);
	json_decref(ar);

	/* its new terms are defined: JSON-LD safe mode drops nothing */
	char *jws = NULL;
	coreworld_expect("jws", certificate_jws(f.db, serial, &jws, &err), &err, CF_OK, NULL, NULL);
	char *context_file = tsupport_source_path("docs/credentials/conformity-v1.jsonld");
	char *context = tsupport_read_file(context_file, NULL);
	char *context_path = testsrv_write_artifact("carry-context.jsonld", context);
	char *jws_path = testsrv_write_artifact("carry-credential.jws", jws);
	char *said = NULL;
	ck_assert_msg(tsupport_node("jsonld-check.mjs", context_path, jws_path, &said) == 0, "jsonld: %s",
		      said);
	free(said);
	free(jws_path);
	free(context_path);
	free(context);
	free(context_file);
	free(jws);

	/* the old one is superseded by the new, not withdrawn */
	json_t *old = NULL;
	coreworld_expect("old", certificate_get(f.db, f.public_url, f.serial, &old, &err), &err, CF_OK,
			 NULL, NULL);
	ck_assert_str_eq(jsonx_str(old, "status"), "superseded");
	ck_assert_str_eq(jsonx_str(json_object_get(old, "superseded_by"), "serial"), serial);
	json_decref(old);

	/* the log names both: the new one's issuance names the old, and the old
	 * one's status entry, right after it, the new */
	const char *sp[] = { serial }, *op[] = { f.serial };
	char entry[1024], idx_new[24], idx_old[24];
	coreworld_value(&f, entry, sizeof entry,
			"SELECT entry FROM tlog_entry WHERE serial = $1 AND kind = 'issuance'", 1, sp);
	json_t *e = coreworld_json(entry);
	ck_assert_str_eq(jsonx_str(e, "supersedes"), f.serial);
	json_decref(e);
	coreworld_value(&f, entry, sizeof entry,
			"SELECT entry FROM tlog_entry WHERE serial = $1 AND kind = 'status'", 1, op);
	e = coreworld_json(entry);
	ck_assert_str_eq(jsonx_str(e, "status"), "superseded");
	ck_assert_str_eq(jsonx_str(e, "superseded_by"), serial);
	json_decref(e);
	coreworld_value(&f, idx_new, sizeof idx_new, "SELECT log_index FROM certificate WHERE serial = $1",
			1, sp);
	coreworld_value(&f, idx_old, sizeof idx_old,
			"SELECT idx FROM tlog_entry WHERE serial = $1 AND kind = 'status'", 1, op);
	ck_assert_int_eq(atoll(idx_old), atoll(idx_new) + 1);
}
END_TEST

START_TEST(the_evidence_judged_before_is_copied_and_changed_evidence_reviewed_anew)
{
	/* the demo judged without files: the certificate's application gets one
	 * on DCMS-2 (past the settled-requirement check, as if it had been
	 * uploaded before the verdict) */
	const char *op[] = { f.application };
	PQclear(testdb_super_exec(&f.tdb, "ALTER TABLE evidence_link DISABLE TRIGGER"
				      " evidence_link_settled_check"));
	PQclear(testdb_super_query(&f.tdb,
		"WITH e AS (INSERT INTO evidence (application_id, digest, name, media_type, size,"
		" uploaded_by) SELECT $1, repeat('ab', 32), 'update-client.pdf', 'application/pdf', 10,"
		" created_by FROM application WHERE id = $1 RETURNING id)"
		" INSERT INTO evidence_link (evidence_id, ref) SELECT id, 'DCMS-2' FROM e", 1, op));
	PQclear(testdb_super_exec(&f.tdb, "ALTER TABLE evidence_link ENABLE TRIGGER"
				      " evidence_link_settled_check"));

	/* copies count against the evidence quota as uploads do */
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"supersedes\":\"%s\","
		 "\"change\":{\"description\":\"x\"}}", f.product, f.body, f.serial);
	json_t *body = coreworld_json(text), *out = NULL;
	struct cf_error err;
	uint64_t used = 0;
	coreworld_expect("usage", evidence_usage(f.db, f.maker, &used, &err), &err, CF_OK, NULL, NULL);
	coreworld_refused(application_create(f.db, &f.applicant, body, used + 9, &out, &err), &err,
			  CF_ETOOLARGE, "", "the carried evidence has 10");
	coreworld_expect("quota", application_create(f.db, &f.applicant, body, used + 10, &out, &err), &err,
			 CF_OK, NULL, NULL);
	json_decref(body);
	char id[37];
	snprintf(id, sizeof id, "%s", jsonx_str(out, "id"));
	/* every evidence file judged before is there again, on the same requirements */
	const json_t *ev = json_object_get(item(out, "DCMS-2"), "evidence");
	ck_assert_uint_eq(json_array_size(ev), 1);
	const json_t *c = json_object_get(item(out, "DCMS-2"), "carried");
	ck_assert(json_is_null(json_object_get(c, "changed")));
	json_decref(out);
	const char *ap[] = { id };
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM evidence e JOIN evidence_link l"
				  " ON l.evidence_id = e.id WHERE e.application_id = $1 AND l.ref = 'DCMS-2'"
				  " AND e.digest = repeat('ab', 32)", id), 1);

	/* a file taken off the requirement changes what it would be judged on */
	PQclear(testdb_super_query(&f.tdb,
		"DELETE FROM evidence_link l USING evidence e WHERE e.id = l.evidence_id"
		" AND e.application_id = $1 AND l.ref = 'DCMS-2'", 1, ap));
	json_t *app = get(id);
	c = json_object_get(item(app, "DCMS-2"), "carried");
	ck_assert_str_eq(jsonx_str(c, "changed"), "evidence");
	ck_assert(json_is_false(json_object_get(c, "acceptable")));
	json_decref(app);
	coreworld_act_ok(&f, &f.applicant, id, "submit", NULL);
	coreworld_act_ok(&f, &f.assessor, id, "take", NULL);
	coreworld_refused(review(id, "{\"ref\":\"DCMS-2\",\"verdict\":\"carried\"}", &err), &err,
			  CF_ESTATE, "/verdicts/0/ref", "its evidence differs");
}
END_TEST

START_TEST(the_database_refuses_a_carried_verdict_nobody_could_accept)
{
	char id[37];
	open_taken("[\"DCMS-3\"]", id);
	/* straight to the table, past core/carry.c: the trigger holds to the rule */
	const char *p[] = { id, f.assessor.user_id };
	struct cf_error err;
	cf_err e = db_query(f.db, NULL, &err,
		"INSERT INTO review_verdict (application_id, ref, verdict, assessor_id, carried_from)"
		" SELECT $1, o.ref, o.verdict, $2, (o.origins->0->>'verdict_id')::bigint FROM carry_offer o"
		" WHERE o.application_id = $1 AND o.ref = 'DCMS-3'", 2, p);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "changed (declared)");
	/* a verdict other than the one offered */
	e = db_query(f.db, NULL, &err,
		"INSERT INTO review_verdict (application_id, ref, verdict, comment, assessor_id, carried_from)"
		" SELECT $1, o.ref, 'fail', 'x', $2, (o.origins->0->>'verdict_id')::bigint FROM carry_offer o"
		" WHERE o.application_id = $1 AND o.ref = 'DCMS-1'", 2, p);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "only the verdict offered");
	/* an offer, once made, stays as it was */
	e = db_query(f.db, NULL, &err, "UPDATE carry_offer SET verdict = 'fail' WHERE application_id = $1",
		     1, p);
	ck_assert_int_ne(e, CF_OK);
	/* and so does what the application carries from */
	e = db_query(f.db, NULL, &err, "UPDATE application SET change_requirements = '{}' WHERE id = $1",
		     1, p);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "set once, when it is created");
	char plain[37];
	coreworld_application(&f, "third-party", "draft", plain);
	const char *pp[] = { plain, f.serial };
	e = db_query(f.db, NULL, &err, "UPDATE application SET carried_from = $2 WHERE id = $1", 2, pp);
	ck_assert_int_eq(e, CF_OK); /* a fresh draft: as creation does it, in its transaction */
	e = db_query(f.db, NULL, &err, "UPDATE application SET carried_from = NULL WHERE id = $1", 1, pp);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "set once, when it is created");
}
END_TEST

START_TEST(what_a_change_application_may_start_from)
{
	json_t *out = NULL;
	struct cf_error err;
	char text[1024];
	/* a change says what changed */
	coreworld_refused(create_change(f.product, "dcms-cop", "2018", NULL, &out, &err), &err, CF_EINVAL,
			  "/change", "what changed");
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"change\":{\"description\":\"x\"}}",
		 f.product, f.body);
	coreworld_refused(create(text, &out, &err), &err, CF_EINVAL, "/change", "give supersedes");
	/* a certificate that exists, of the caller's organisation */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"carried_from\":\"CF-2001-000001\"}",
		 f.product, f.body);
	coreworld_refused(create(text, &out, &err), &err, CF_EUNPROCESSABLE, "/carried_from",
			  "no certificate CF-2001-000001");
	/* a self declaration has no assessor to accept anything */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"self\",\"carried_from\":\"%s\"}", f.product, f.serial);
	coreworld_refused(create(text, &out, &err), &err, CF_EINVAL, "/carried_from", "self declaration");
	/* the same product */
	json_t *pb = coreworld_json("{\"name\":\"Smart Plug Pro\",\"model\":\"SP-2\","
				    "\"hardware_version\":\"2.0\",\"firmware_version\":\"2.0.0\","
				    "\"support_end\":\"2031-06-30\"}");
	json_t *prod = NULL;
	coreworld_expect("product", product_create(f.db, &f.applicant, pb, &prod, &err), &err, CF_OK,
			 NULL, NULL);
	coreworld_refused(create_change(jsonx_str(prod, "id"), "dcms-cop", "2018", "{\"description\":\"x\"}",
					&out, &err), &err, CF_EUNPROCESSABLE, "/product_id",
			  "certifies another product");
	/* nor a plain carry-over: verdicts are about the product they judged */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"uk-psti\",\"scheme_version\":\"2023\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"carried_from\":\"%s\"}",
		 jsonx_str(prod, "id"), f.body, f.serial);
	coreworld_refused(create(text, &out, &err), &err, CF_EUNPROCESSABLE, "/product_id",
			  "verdicts carry to the same product only");
	json_decref(pb);
	json_decref(prod);
	/* within its own scheme version, a certificate is carried by a change application */
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"carried_from\":\"%s\"}",
		 f.product, f.body, f.serial);
	coreworld_refused(create(text, &out, &err), &err, CF_EUNPROCESSABLE, "/carried_from",
			  "a new version of the product is a change application");
	/* the same scheme version */
	coreworld_refused(create_change(f.product, "uk-psti", "2023", "{\"description\":\"x\"}", &out,
					&err), &err, CF_EUNPROCESSABLE, "/scheme_version",
			  "keeps the scheme version");
	/* requirements of that version */
	coreworld_refused(create_change(f.product, "dcms-cop", "2018",
					"{\"description\":\"x\",\"requirements\":[\"DCMS-2\",\"5.1-1\"]}",
					&out, &err), &err, CF_EUNPROCESSABLE, "/change/requirements/1",
			  "no requirement 5.1-1");
	/* the body that issued it */
	coreworld_unaccredited(&f);
	char other[1024];
	snprintf(other, sizeof other,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"supersedes\":\"%s\","
		 "\"change\":{\"description\":\"x\"}}", f.product, f.other_body, f.serial);
	coreworld_refused(create(other, &out, &err), &err, CF_EUNPROCESSABLE, "/body_id",
			  "goes to the body that issued");
	/* one open change application at a time */
	char id[37];
	open_change("[]", id);
	coreworld_refused(create_change(f.product, "dcms-cop", "2018", "{\"description\":\"x\"}", &out,
					&err), &err, CF_ECONFLICT, "/supersedes",
			  "already the change application of");
	/* and it stays with that body: the database refuses another */
	const char *bp[] = { id, f.other_body };
	cf_err moved = db_query(f.db, NULL, &err, "UPDATE application SET body_id = $2 WHERE id = $1", 2, bp);
	coreworld_refused(moved, &err, CF_EUNPROCESSABLE, "", "goes to the body that issued");
	coreworld_act_ok(&f, &f.applicant, id, "withdraw", NULL);
	coreworld_expect("after withdrawal", create_change(f.product, "dcms-cop", "2018",
							   "{\"description\":\"x\"}", &out, &err),
			 &err, CF_OK, NULL, NULL);
	json_decref(out);
	/* nothing refused left a row behind: one audit record per creation made */
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM application WHERE carried_from IS NOT NULL",
				  NULL), 2);
}
END_TEST

/* A change application walked to its decision, every verdict carried. */
static void change_decided(char id[37])
{
	open_taken("[]", id);
	char text[1024] = "{\"verdicts\":[";
	for (int n = 1; n <= 13; n++) {
		size_t len = strlen(text);
		snprintf(text + len, sizeof text - len, "{\"ref\":\"DCMS-%d\",\"verdict\":\"carried\"}%s", n,
			 n < 13 ? "," : "]}");
	}
	struct cf_error err;
	coreworld_expect("carried", review(id, text, &err), &err, CF_OK, NULL, NULL);
	decide(id);
}

/* Suspends, reinstates or withdraws a certificate, as its body's certifier. */
static void status_of(const char *serial, const char *action)
{
	json_t *body = coreworld_json("{\"reason_code\":\"nonconformity\",\"reason\":\"debug shell\"}");
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect(action, certificate_change(f.db, &f.certifier, f.public_url, serial, action, body,
						    &out, &err), &err, CF_OK, NULL, NULL);
	json_decref(body);
	json_decref(out);
}

/* The same for the demo's certificate. */
static void status_change(const char *action)
{
	status_of(f.serial, action);
}

START_TEST(one_change_at_a_time_until_its_certificate)
{
	char first[37], second[37], serial[40];
	change_decided(first);
	/* approved, its certificate not yet issued: it would supersede first */
	json_t *out = NULL;
	struct cf_error err;
	coreworld_refused(create_change(f.product, "dcms-cop", "2018", "{\"description\":\"x\"}", &out,
					&err), &err, CF_ECONFLICT, "/supersedes",
			  "wait for its refusal or its certificate");
	json_decref(finish_issued(first, serial));
	/* issued: the old certificate is superseded, and the next change is of the new one */
	coreworld_refused(create_change(f.product, "dcms-cop", "2018", "{\"description\":\"x\"}", &out,
					&err), &err, CF_EUNPROCESSABLE, "/supersedes", "is superseded");
	snprintf(f.serial, sizeof f.serial, "%s", serial);
	change_decided(second);
	char third[40];
	json_decref(finish_issued(second, third));
	/* and the database keeps a superseded certificate superseded */
	const char *sp[] = { serial };
	cf_err e = db_query(f.db, NULL, &err,
		"UPDATE certificate SET status = 'valid', superseded_by = NULL WHERE serial = $1", 1, sp);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "that status is final");
}
END_TEST

START_TEST(a_withdrawn_certificate_is_replaced_but_stays_withdrawn)
{
	char id[37], serial[40];
	change_decided(id);
	status_change("withdraw");
	json_t *cred = finish_issued(id, serial);
	char url[256];
	snprintf(url, sizeof url, "%s/v1/certificates/%s", f.public_url, f.serial);
	ck_assert_str_eq(jsonx_str(json_object_get(cred, "credentialSubject"), "supersedes"), url);
	json_decref(cred);
	const char *sp[] = { f.serial };
	char status[24];
	coreworld_value(&f, status, sizeof status, "SELECT status FROM certificate WHERE serial = $1", 1, sp);
	ck_assert_str_eq(status, "withdrawn");
}
END_TEST

START_TEST(an_offer_follows_the_certificate_it_comes_from)
{
	char change[37];
	open_taken("[]", change);
	/* a change mends a suspended certificate: its verdicts still carry into it */
	status_change("suspend");
	struct cf_error err;
	coreworld_expect("suspended", review(change, "{\"ref\":\"DCMS-1\",\"verdict\":\"carried\"}",
					     &err), &err, CF_OK, NULL, NULL);
	/* a withdrawn one vouches for nothing: its offers are not acceptable any more ... */
	status_change("withdraw");
	json_t *app = get(change);
	ck_assert(json_is_false(json_object_get(json_object_get(item(app, "DCMS-2"), "carried"),
						"acceptable")));
	json_decref(app);
	coreworld_refused(review(change, "{\"ref\":\"DCMS-2\",\"verdict\":\"carried\"}", &err), &err,
			  CF_ESTATE, "/verdicts/0/ref", "is withdrawn now");
	/* ... and what was accepted from it before is reviewed anew before the evaluation ends */
	char text[1024] = "{\"verdicts\":[";
	for (int n = 2; n <= 13; n++) {
		size_t len = strlen(text);
		snprintf(text + len, sizeof text - len,
			 "{\"ref\":\"DCMS-%d\",\"verdict\":\"pass\",\"comment\":\"re-tested\"}%s", n,
			 n < 13 ? "," : "]}");
	}
	coreworld_expect("reviewed", review(change, text, &err), &err, CF_OK, NULL, NULL);
	coreworld_refused(coreworld_act(&f, &f.assessor, change, "complete", NULL, &err), &err,
			  CF_EUNPROCESSABLE, "", "1 verdict was carried from");
	coreworld_expect("DCMS-1", review(change, "{\"ref\":\"DCMS-1\",\"verdict\":\"pass\","
					  "\"comment\":\"re-tested\"}", &err), &err, CF_OK, NULL, NULL);
	coreworld_act_ok(&f, &f.assessor, change, "complete", NULL);
}
END_TEST

START_TEST(a_plain_application_carries_nothing)
{
	char id[37];
	coreworld_application(&f, "third-party", "in_evaluation", id);
	struct cf_error err;
	coreworld_refused(review(id, "{\"ref\":\"DCMS-1\",\"verdict\":\"carried\"}", &err), &err,
			  CF_EUNPROCESSABLE, "/verdicts/0/ref", "no verdict is carried to DCMS-1");
	json_t *app = get(id);
	ck_assert(json_is_null(json_object_get(item(app, "DCMS-1"), "carried")));
	ck_assert(json_is_null(json_object_get(app, "carried_from")));
	json_decref(app);
}
END_TEST

/* Who owns each keyword group of EN 303 645 and UK PSTI (the same six). */
#define OWNERS                                                                                     \
	"\"owners\":{\"Software\":\"Firmware lead\",\"Hardware\":\"Hardware lead\","            \
	"\"Mechanical\":\"Hardware lead\",\"Process\":\"PSIRT\",\"Policy\":\"CISO\","           \
	"\"Responsibility\":\"CISO\"}"

/* Grants the demo's body an accreditation for scheme. */
static void accredit(const char *scheme)
{
	char from[32], until[32];
	coreworld_day(from, sizeof from, -1);
	coreworld_day(until, sizeof until, 3 * 365);
	struct audit_actor acc = party_actor(&f.accreditor);
	json_t *grant = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", f.body, "scheme_id", scheme,
				  "max_class", 0, "reference", scheme, "valid_from", from,
				  "valid_until", until);
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("accreditation", accreditation_grant(f.db, &acc, grant, &out, &err), &err, CF_OK,
			 NULL, NULL);
	json_decref(out);
	json_decref(grant);
}

/* Every requirement of an application answered compliant, submitted and
 * taken; then each ref in carry carried and every other judged pass. */
static void evaluate(const char *id, const char *scheme, const char *version, const char *carry)
{
	const char *sp[] = { scheme, version };
	PGresult *r = testdb_super_query(&f.tdb,
		"SELECT ref FROM requirement WHERE scheme_id = $1 AND version = $2 ORDER BY position", 2, sp);
	for (int i = 0; i < PQntuples(r); i++)
		answer(id, PQgetvalue(r, i, 0), "Done as the requirement asks.");
	coreworld_act_ok(&f, &f.applicant, id, "submit", NULL);
	coreworld_act_ok(&f, &f.assessor, id, "take", NULL);
	json_t *list = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		const char *ref = PQgetvalue(r, i, 0);
		char needle[48];
		snprintf(needle, sizeof needle, ",%s,", ref);
		if (strstr(carry, needle))
			json_array_append_new(list, json_pack("{s:s,s:s}", "ref", ref, "verdict", "carried"));
		else
			json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "ref", ref, "verdict", "pass",
							      "comment", "tested"));
	}
	PQclear(r);
	json_t *body = json_pack("{s:o}", "verdicts", list), *out = NULL;
	struct cf_error err;
	coreworld_expect("verdicts", review_record(f.db, &f.assessor, id, body, &out, &err), &err, CF_OK,
			 NULL, NULL);
	json_decref(body);
	json_decref(out);
}

/*
 * The hand-checked table of what an ETSI EN 303 645 certificate carries into
 * UK PSTI 2023, from schemes/uk-psti-2023.json (SI 2023/1007 Schedule 2,
 * each requirement declared a subset-of the EN 303 645 provisions it
 * restates; no mapping the other way): a requirement is covered when every
 * provision it is a subset of passed, so read from EN 303 645 each route is
 * superset-of, declared by the target.
 */
static const struct {
	const char *ref, *sources;
} psti_table[] = {
	{ "PSTI-1", "5.1-1,5.1-2" },
	{ "PSTI-2", "5.2-1" },
	{ "PSTI-3", "5.3-13" },
};

START_TEST(an_etsi_certificate_carries_into_uk_psti)
{
	accredit("etsi-en-303-645");
	accredit("uk-psti");
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"etsi-en-303-645\",\"scheme_version\":\"2.1.1\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",%s}", f.product, f.body, OWNERS);
	json_t *out = NULL;
	struct cf_error err;
	coreworld_expect("etsi", create(text, &out, &err), &err, CF_OK, NULL, NULL);
	char etsi[37], etsi_serial[40];
	snprintf(etsi, sizeof etsi, "%s", jsonx_str(out, "id"));
	json_decref(out);
	evaluate(etsi, "etsi-en-303-645", "2.1.1", "");
	json_decref(finish(etsi, etsi_serial));

	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"uk-psti\",\"scheme_version\":\"2023\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\",\"carried_from\":\"%s\",%s}",
		 f.product, f.body, etsi_serial, OWNERS);
	coreworld_expect("psti", create(text, &out, &err), &err, CF_OK, NULL, NULL);
	char psti[37];
	snprintf(psti, sizeof psti, "%s", jsonx_str(out, "id"));
	/* nothing is copied across schemes: the answers are to other requirements */
	ck_assert(json_is_null(json_object_get(item(out, "PSTI-1"), "answer")));
	for (size_t i = 0; i < sizeof psti_table / sizeof psti_table[0]; i++) {
		const json_t *c = json_object_get(item(out, psti_table[i].ref), "carried");
		ck_assert_msg(json_is_object(c), "%s carries nothing", psti_table[i].ref);
		ck_assert_str_eq(jsonx_str(c, "verdict"), "pass");
		ck_assert(json_is_true(json_object_get(c, "acceptable")));
		char refs[128] = "";
		size_t k;
		json_t *o;
		json_array_foreach(json_object_get(c, "origins"), k, o) {
			ck_assert_str_eq(jsonx_str(o, "relationship"), "superset-of");
			ck_assert_str_eq(jsonx_str(o, "declared_by"), "target");
			ck_assert_str_eq(jsonx_str(o, "verdict"), "pass");
			size_t n = strlen(refs);
			snprintf(refs + n, sizeof refs - n, "%s%s", n ? "," : "", jsonx_str(o, "ref"));
		}
		ck_assert_str_eq(refs, psti_table[i].sources);
	}
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM carry_offer WHERE application_id = $1",
				  psti), 3);
	json_decref(out);

	/* only a valid certificate's verdicts carry into another scheme: not while
	 * it is suspended, neither accepted nor standing at the end */
	status_of(etsi_serial, "suspend");
	out = get(psti);
	ck_assert(json_is_false(json_object_get(json_object_get(item(out, "PSTI-2"), "carried"),
						"acceptable")));
	json_decref(out);
	status_of(etsi_serial, "reinstate");
	evaluate(psti, "uk-psti", "2023", ",PSTI-1,PSTI-2,PSTI-3,");
	status_of(etsi_serial, "suspend");
	coreworld_refused(coreworld_act(&f, &f.assessor, psti, "complete", NULL, &err), &err,
			  CF_EUNPROCESSABLE, "", "3 verdicts were carried from");
	status_of(etsi_serial, "reinstate");
	coreworld_act_ok(&f, &f.assessor, psti, "complete", NULL);
	status_of(etsi_serial, "suspend");
	coreworld_refused(coreworld_act(&f, &f.certifier, psti, "decide",
					"{\"decision\":\"approve\",\"rationale\":\"carried\"}", &err),
			  &err, CF_EUNPROCESSABLE, "/decision", "is suspended now and vouches for them no more");
	status_of(etsi_serial, "reinstate");
	coreworld_act_ok(&f, &f.certifier, psti, "decide",
			 "{\"decision\":\"approve\",\"rationale\":\"the provisions it restates passed\"}");
	char serial[40];
	json_t *cred = finish_issued(psti, serial);
	const json_t *subject = json_object_get(cred, "credentialSubject");
	const json_t *as = json_object_get(subject, "assessment");
	const json_t *carried = json_object_get(as, "carried");
	ck_assert_uint_eq(json_array_size(carried), 3);
	const json_t *first = json_array_get(carried, 0);
	ck_assert_str_eq(jsonx_str(first, "requirement"), "PSTI-1");
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(first, "source"), 1), "requirement"),
			 "5.1-2");
	ck_assert_uint_eq(json_array_size(json_object_get(as, "assessedAnew")), 0);
	ck_assert(json_object_get(subject, "supersedes") == NULL);
	json_decref(cred);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("carry");
	TCase *tc = tcase_create("carry");
	/* each test its own world: a change application supersedes the demo's certificate */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_firmware_change_re_reviews_only_what_changed);
	tcase_add_test(tc, the_evidence_judged_before_is_copied_and_changed_evidence_reviewed_anew);
	tcase_add_test(tc, the_database_refuses_a_carried_verdict_nobody_could_accept);
	tcase_add_test(tc, what_a_change_application_may_start_from);
	tcase_add_test(tc, one_change_at_a_time_until_its_certificate);
	tcase_add_test(tc, a_withdrawn_certificate_is_replaced_but_stays_withdrawn);
	tcase_add_test(tc, an_offer_follows_the_certificate_it_comes_from);
	tcase_add_test(tc, a_plain_application_carries_nothing);
	tcase_add_test(tc, an_etsi_certificate_carries_into_uk_psti);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
