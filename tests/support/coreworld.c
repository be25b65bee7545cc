/*
 * coreworld: the unit suites' world, made through core/ (see coreworld.h).
 */
#include "coreworld.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accreditation.h"
#include "application.h"
#include "catalog.h"
#include "jsonx.h"
#include "product.h"
#include "review.h"
#include "scheme.h"
#include "tsupport.h"

static const struct audit_actor cli = { "cli", "tests", NULL };

static void ok(cf_err e, const struct cf_error *err, const char *what)
{
	ck_assert_msg(e == CF_OK, "%s: %s (%s)", what, err->detail, err->pointer);
}

static void make_org(struct coreworld *w, const char *kind, const char *name, char id[37],
		     struct principal *admin)
{
	static int n;
	char email[96];
	snprintf(email, sizeof email, "admin%d@%s.example.org", ++n, kind);
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:s,s:s}}", "kind", kind, "name", name,
				 "country", "GB", "contact", "email", "contact@example.org",
				 "administrator", "name", "Administrator", "email", email);
	if (strcmp(kind, "manufacturer") == 0)
		json_object_set_new(body, "vulnerability_disclosure",
			json_pack("{s:s,s:s,s:i}", "contact", "security@example.org", "policy_url",
				  "https://example.org/security", "response_days", 5));
	json_t *out = NULL;
	struct cf_error err;
	ok(party_org_create(w->db, &cli, body, &out, &err), &err, "organisation");
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	memset(admin, 0, sizeof *admin);
	snprintf(admin->user_id, sizeof admin->user_id, "%s",
		 jsonx_str(json_object_get(out, "administrator"), "id"));
	snprintf(admin->org_id, sizeof admin->org_id, "%s", id);
	snprintf(admin->org_kind, sizeof admin->org_kind, "%s", kind);
	admin->roles = ROLE_ORG_ADMIN;
	json_decref(out);
	json_decref(body);
}

void coreworld_person(struct coreworld *w, const struct principal *admin, const char *role,
		      const char *name, struct principal *p)
{
	static int n;
	char email[96];
	snprintf(email, sizeof email, "person%d.%s@example.org", ++n, role);
	json_t *body = json_pack("{s:s,s:s,s:s,s:[s]}", "org_id", admin->org_id, "name", name, "email",
				 email, "roles", role);
	json_t *out = NULL;
	struct cf_error err;
	struct audit_actor by = party_actor(admin);
	ok(party_user_create(w->db, &by, body, &out, &err), &err, "person");
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", jsonx_str(out, "id"));
	snprintf(p->org_id, sizeof p->org_id, "%s", admin->org_id);
	snprintf(p->org_kind, sizeof p->org_kind, "%s", admin->org_kind);
	p->roles = party_role_parse(role);
	json_decref(out);
	json_decref(body);
}

static void day(char *out, size_t size, int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

static void import_scheme(struct coreworld *w, const char *file)
{
	char *path = tsupport_source_path(file);
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	struct lint_report report = { 0 };
	struct catalog_import imported;
	struct cf_error err;
	ok(catalog_import(w->db, &cli, text, len, path, &report, &imported, &err), &err, file);
	lint_report_free(&report);
	free(text);
	free(path);
}

void coreworld_create(struct coreworld *w, const char *suite)
{
	memset(w, 0, sizeof *w);
	testdb_create(&w->tdb, suite);
	struct cf_error err;
	ok(db_connect(w->tdb.app_url, &w->db, &err), &err, "connect");
	import_scheme(w, "schemes/dcms-cop-2018.json");

	make_org(w, "accreditation_body", "Accreditation Service", w->accreditation_body, &w->ab_admin);
	make_org(w, "assessment_body", "Test Laboratory", w->body, &w->body_admin);
	make_org(w, "assessment_body", "Unaccredited Laboratory", w->other_body, &w->other_body_admin);
	make_org(w, "manufacturer", "Devices Ltd", w->maker, &w->maker_admin);
	make_org(w, "manufacturer", "Other Devices Ltd", w->other_maker, &w->other_maker_admin);
	coreworld_person(w, &w->ab_admin, "accreditor", "Alex Accreditor", &w->accreditor);
	coreworld_person(w, &w->body_admin, "assessor", "Sam Assessor", &w->assessor);
	coreworld_person(w, &w->body_admin, "assessor", "Sue Assessor", &w->assessor2);
	coreworld_person(w, &w->body_admin, "certifier", "Cat Certifier", &w->certifier);
	coreworld_person(w, &w->body_admin, "certifier", "Cid Certifier", &w->certifier2);
	coreworld_person(w, &w->maker_admin, "applicant", "Ann Applicant", &w->applicant);
	coreworld_person(w, &w->other_maker_admin, "applicant", "Olga Applicant", &w->other_applicant);
	coreworld_person(w, &w->other_body_admin, "assessor", "Oscar Assessor", &w->other_assessor);
	coreworld_person(w, &w->other_body_admin, "certifier", "Otto Certifier", &w->other_certifier);

	char from[16], until[16];
	day(from, sizeof from, -1);
	day(until, sizeof until, 3 * 365);
	struct audit_actor acc = party_actor(&w->accreditor);
	json_t *grant = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", w->body, "scheme_id",
				  "dcms-cop", "max_class", 0, "reference", "ACC-UNIT-1", "valid_from",
				  from, "valid_until", until);
	json_t *out = NULL;
	ok(accreditation_grant(w->db, &acc, grant, &out, &err), &err, "accreditation");
	snprintf(w->accreditation, sizeof w->accreditation, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(grant);

	char support[16];
	day(support, sizeof support, 5 * 365);
	json_t *pb = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "Smart Plug", "model", "SP-1",
			       "hardware_version", "1.0", "firmware_version", "1.0.3", "support_end",
			       support);
	out = NULL;
	ok(product_create(w->db, &w->applicant, pb, &out, &err), &err, "product");
	snprintf(w->product, sizeof w->product, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(pb);
}

void coreworld_destroy(struct coreworld *w)
{
	db_close(w->db);
	testdb_drop(&w->tdb);
}

cf_err coreworld_act(struct coreworld *w, const struct principal *p, const char *id,
		     const char *action, const char *body_text, struct cf_error *err)
{
	struct application_row a;
	cf_err e = application_load(w->db, id, false, &a, err);
	if (e)
		return e;
	char etag[24];
	application_etag(a.version, etag);
	json_t *body = json_loads(body_text ? body_text : "{}", 0, NULL);
	ck_assert_msg(body != NULL, "bad test body %s", body_text);
	json_t *out = NULL;
	e = application_act(w->db, p, id, action, etag, body, &out, err);
	json_decref(out);
	json_decref(body);
	return e;
}

void coreworld_act_ok(struct coreworld *w, const struct principal *p, const char *id,
		      const char *action, const char *body_text)
{
	struct cf_error err;
	cf_err e = coreworld_act(w, p, id, action, body_text, &err);
	ck_assert_msg(e == CF_OK, "%s: %s", action, err.detail);
}

void coreworld_answer_all(struct coreworld *w, const char *id, const char *statement)
{
	json_t *ans = json_pack("{s:s,s:s}", "statement", statement, "text", "as documented");
	if (strcmp(statement, "not_applicable") == 0)
		json_object_set_new(ans, "justification", json_string("no such interface"));
	for (int i = 1; i <= 13; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "DCMS-%d", i);
		json_t *out = NULL;
		struct cf_error err;
		ok(application_answer(w->db, &w->applicant, id, ref, ans, &out, &err), &err, ref);
		json_decref(out);
	}
	json_decref(ans);
}

cf_err coreworld_verdicts(struct coreworld *w, const struct principal *p, const char *id, int first,
			  int last, const char *verdict, struct cf_error *err)
{
	json_t *list = json_array();
	for (int i = first; i <= last; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "DCMS-%d", i);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "ref", ref, "verdict", verdict,
						      "comment", "seen"));
	}
	json_t *body = json_pack("{s:o}", "verdicts", list);
	json_t *out = NULL;
	cf_err e = review_record(w->db, p, id, body, &out, err);
	json_decref(out);
	json_decref(body);
	return e;
}

void coreworld_application(struct coreworld *w, const char *type, const char *state, char id[37])
{
	bool third = strcmp(type, "third-party") == 0;
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id", w->product,
			      "scheme_id", "dcms-cop", "scheme_version", "2018", "assessment_type", type,
			      "owners", "Software", "Firmware lead", "Hardware", "Hardware lead",
			      "Policy", "CISO", "Process", "PSIRT");
	if (third)
		json_object_set_new(b, "body_id", json_string(w->body));
	json_t *out = NULL;
	struct cf_error err;
	ok(application_create(w->db, &w->applicant, b, &out, &err), &err, "application");
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(b);
	if (strcmp(state, "draft") == 0)
		return;
	if (strcmp(state, "withdrawn") == 0) {
		coreworld_act_ok(w, &w->applicant, id, "withdraw", NULL);
		return;
	}
	coreworld_answer_all(w, id, "compliant");
	if (!third) {
		ck_assert_str_eq(state, "decided");
		coreworld_act_ok(w, &w->applicant, id, "declare", "{\"statement\":\"we declare\"}");
		return;
	}
	coreworld_act_ok(w, &w->applicant, id, "submit", NULL);
	if (strcmp(state, "submitted") == 0)
		return;
	coreworld_act_ok(w, &w->assessor, id, "take", NULL);
	if (strcmp(state, "in_evaluation") == 0)
		return;
	if (strcmp(state, "info_requested") == 0) {
		ok(coreworld_verdicts(w, &w->assessor, id, 1, 13, "info_needed", &err), &err, "verdicts");
		coreworld_act_ok(w, &w->assessor, id, "request-info", NULL);
		return;
	}
	ok(coreworld_verdicts(w, &w->assessor, id, 1, 13, "pass", &err), &err, "verdicts");
	coreworld_act_ok(w, &w->assessor, id, "complete", NULL);
	if (strcmp(state, "evaluated") == 0)
		return;
	ck_assert_str_eq(state, "decided");
	coreworld_act_ok(w, &w->certifier, id, "decide",
			 "{\"decision\":\"approve\",\"rationale\":\"all passed\"}");
}

const char *coreworld_state(struct coreworld *w, const char *id)
{
	static struct application_row a;
	struct cf_error err;
	ok(application_load(w->db, id, false, &a, &err), &err, "load");
	return a.state;
}

long long coreworld_count(struct coreworld *w, const char *sql, const char *param)
{
	const char *p[] = { param };
	PGresult *r = testdb_super_query(&w->tdb, sql, param ? 1 : 0, p);
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

void coreworld_refused(cf_err e, const struct cf_error *err, enum cf_code code, const char *pointer,
		       const char *words)
{
	ck_assert_msg(e == (cf_err)code, "expected code %d, got %d: %s", (int)code, e,
		      e ? err->detail : "accepted");
	ck_assert_str_eq(err->pointer, pointer ? pointer : "");
	ck_assert_msg(strstr(err->detail, words), "'%s' not in '%s'", words, err->detail);
}
