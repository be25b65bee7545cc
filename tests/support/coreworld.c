/*
 * coreworld: the domain unit suites' world, made through core/ or by
 * conformctl (see coreworld.h).
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
#include "mem.h"
#include "proc.h"
#include "product.h"
#include "review.h"
#include "tsupport.h"

static void ok(cf_err e, const struct cf_error *err, const char *what)
{
	ck_assert_msg(e == CF_OK, "%s: %s (%s)", what, err->detail, err->pointer);
}

static void principal_of(struct principal *p, const char *user, const char *org, const char *kind,
			 unsigned roles)
{
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", user);
	snprintf(p->org_id, sizeof p->org_id, "%s", org);
	snprintf(p->org_kind, sizeof p->org_kind, "%s", kind);
	p->roles = roles;
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
	ok(party_org_create(w->db, &w->cli, body, &out, &err), &err, "organisation");
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	principal_of(admin, jsonx_str(json_object_get(out, "administrator"), "id"), id, kind,
		     ROLE_ORG_ADMIN);
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
	principal_of(p, jsonx_str(out, "id"), admin->org_id, admin->org_kind, party_role_parse(role));
	json_decref(out);
	json_decref(body);
}

void coreworld_day(char *out, size_t size, int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cf_err coreworld_import(struct coreworld *w, const char *relative, struct cf_error *err)
{
	char *path = tsupport_source_path(relative);
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	struct lint_report report = { 0 };
	struct catalog_import imported;
	cf_err e = catalog_import(w->db, &w->cli, text, len, path, &report, &imported, err);
	lint_report_free(&report);
	free(text);
	free(path);
	return e;
}

/* The database, its connection as conformd's role, the actor of conformctl. */
static void begin(struct coreworld *w, const char *suite)
{
	memset(w, 0, sizeof *w);
	testdb_create(&w->tdb, suite);
	struct cf_error err;
	ok(db_connect(w->tdb.app_url, &w->db, &err), &err, "connect");
	w->cli = (struct audit_actor){ "cli", "tests", NULL };
}

void coreworld_create(struct coreworld *w, const char *suite)
{
	begin(w, suite);
	struct cf_error err;
	/* the schemes dcms-cop's crosswalk points at first: a dangling
	 * crosswalk is refused */
	ok(coreworld_import(w, "schemes/etsi-en-303-645-2.1.1.json", &err), &err, "etsi-en-303-645");
	ok(coreworld_import(w, "schemes/iotsf-cf-2.0.json", &err), &err, "iotsf-cf");
	ok(coreworld_import(w, "schemes/dcms-cop-2018.json", &err), &err, "dcms-cop");

	make_org(w, "accreditation_body", "Accreditation Service", w->accreditation_body, &w->ab_admin);
	make_org(w, "assessment_body", "Test Laboratory", w->body, &w->body_admin);
	make_org(w, "manufacturer", "Devices Ltd", w->maker, &w->maker_admin);
	make_org(w, "manufacturer", "Other Devices Ltd", w->other_maker, &w->other_maker_admin);
	coreworld_person(w, &w->ab_admin, "accreditor", "Alex Accreditor", &w->accreditor);
	coreworld_person(w, &w->body_admin, "assessor", "Sam Assessor", &w->assessor);
	coreworld_person(w, &w->body_admin, "assessor", "Sue Assessor", &w->assessor2);
	coreworld_person(w, &w->body_admin, "certifier", "Cat Certifier", &w->certifier);
	coreworld_person(w, &w->body_admin, "certifier", "Cid Certifier", &w->certifier2);
	coreworld_person(w, &w->maker_admin, "applicant", "Ann Applicant", &w->applicant);
	coreworld_person(w, &w->other_maker_admin, "applicant", "Olga Applicant", &w->other_applicant);

	char from[32], until[32];
	coreworld_day(from, sizeof from, -1);
	coreworld_day(until, sizeof until, 3 * 365);
	struct audit_actor acc = party_actor(&w->accreditor);
	json_t *grant = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", w->body, "scheme_id",
				  "dcms-cop", "max_class", 0, "reference", "ACC-UNIT-1", "valid_from",
				  from, "valid_until", until);
	json_t *out = NULL;
	ok(accreditation_grant(w->db, &acc, grant, &out, &err), &err, "accreditation");
	snprintf(w->accreditation, sizeof w->accreditation, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(grant);

	char support[32];
	coreworld_day(support, sizeof support, 5 * 365);
	support[10] = '\0'; /* a date */
	json_t *pb = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "Smart Plug", "model", "SP-1",
			       "hardware_version", "1.0", "firmware_version", "1.0.3", "support_end",
			       support);
	out = NULL;
	ok(product_create(w->db, &w->applicant, pb, &out, &err), &err, "product");
	snprintf(w->product, sizeof w->product, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(pb);

	snprintf(w->blobs, sizeof w->blobs, "/tmp/conform-coreworld.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w->blobs));
}

void coreworld_unaccredited(struct coreworld *w)
{
	make_org(w, "assessment_body", "Unaccredited Laboratory", w->other_body, &w->other_body_admin);
	coreworld_person(w, &w->other_body_admin, "assessor", "Oscar Assessor", &w->other_assessor);
	coreworld_person(w, &w->other_body_admin, "certifier", "Otto Certifier", &w->other_certifier);
}

static void ctl_ok(struct coreworld *w, struct proc_result *r, const char *const *args,
		   const char *const *env)
{
	testsrv_ctl(r, &w->tdb, args, env);
	ck_assert_msg(r->status == 0, "conformctl %s %s: %s", args[0], args[1] ? args[1] : "", r->err);
}

void coreworld_principal(struct coreworld *w, const char *user_id, struct principal *out)
{
	char id[37]; /* user_id may be out's own */
	snprintf(id, sizeof id, "%s", user_id);
	const char *p[] = { id };
	PGresult *r = testdb_super_query(&w->tdb,
		"SELECT u.org_id, o.kind, array_to_string(u.roles, ',') FROM app_user u"
		" JOIN organisation o ON o.id = u.org_id WHERE u.id = $1", 1, p);
	ck_assert_msg(PQntuples(r) == 1, "no user %s", id);
	principal_of(out, id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), 0);
	char roles[128];
	snprintf(roles, sizeof roles, "%s", PQgetvalue(r, 0, 2));
	PQclear(r);
	char *save = NULL;
	for (char *t = strtok_r(roles, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned bit = party_role_parse(t);
		ck_assert_msg(bit != 0, "unknown role %s", t);
		out->roles |= bit;
	}
}

/* The first user holding role (in an organisation of kind, when not NULL). */
static void find_person(struct coreworld *w, const char *role, const char *kind,
			struct principal *out)
{
	char id[37];
	const char *p[] = { role, kind ? kind : "" };
	coreworld_value(w, id, sizeof id,
		"SELECT u.id FROM app_user u JOIN organisation o ON o.id = u.org_id"
		" WHERE $1 = ANY (u.roles::text[]) AND ($2 = '' OR o.kind::text = $2)"
		" ORDER BY u.created_at LIMIT 1", 2, p);
	ck_assert_msg(id[0], "nobody holds %s (%s)", role, kind ? kind : "any kind");
	coreworld_principal(w, id, out);
}

static const char *const shipped[] = {
	"schemes/dcms-cop-2018.json", "schemes/etsi-en-303-645-2.1.1.json",
	"schemes/iotsf-cf-2.0.json", "schemes/uk-psti-2023.json", "schemes/scheme.schema.json",
};

void coreworld_open(struct coreworld *w, const char *suite)
{
	begin(w, suite);
	struct proc_result r;
	const char *imp[8] = { "scheme", "import" };
	char *paths[5];
	for (int i = 0; i < 5; i++)
		imp[2 + i] = paths[i] = tsupport_source_path(shipped[i]);
	imp[7] = NULL;
	ctl_ok(w, &r, imp, NULL);
	proc_result_free(&r);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
	const char *boot[] = { "bootstrap", "--org-name", "Unit Scheme Owner", "--country", "GB",
			       "--email", "owner@example.org", "--admin-name", "Ada Admin",
			       "--admin-email", "ada@example.org", NULL };
	ctl_ok(w, &r, boot, NULL);
	proc_result_free(&r);
	find_person(w, "admin", NULL, &w->admin);
}

void coreworld_demo_again(struct coreworld *w, char serial[40])
{
	const char *env[] = { w->signer.env, NULL };
	const char *args[] = { "demo", NULL };
	struct proc_result r;
	ctl_ok(w, &r, args, env);
	const char *c = strstr(r.out, "certificate CF-");
	ck_assert_msg(c != NULL, "conformctl demo issued nothing: %s", r.out);
	snprintf(serial, 40, "%.*s", (int)strcspn(c + 12, " \n"), c + 12);
	proc_result_free(&r);
}

void coreworld_demo(struct coreworld *w)
{
	testsrv_signer_start(&w->signer, w->tdb.name);
	w->demo = true;
	struct proc_result r;
	/* the service's identity, as conformd would store it at its first start */
	const char *id[] = { "identity", "set", "http://127.0.0.1:7", NULL };
	ctl_ok(w, &r, id, NULL);
	proc_result_free(&r);
	coreworld_demo_again(w, w->serial);

	const char *s[] = { w->serial };
	coreworld_value(w, w->public_url, sizeof w->public_url,
			"SELECT public_url FROM service_identity", 0, NULL);
	coreworld_value(w, w->application, sizeof w->application,
			"SELECT application_id FROM certificate WHERE serial = $1", 1, s);
	coreworld_value(w, w->accreditation, sizeof w->accreditation,
			"SELECT accreditation_id FROM certificate WHERE serial = $1", 1, s);
	coreworld_value(w, w->kid, sizeof w->kid, "SELECT kid FROM certificate WHERE serial = $1", 1,
			s);
	const char *a[] = { w->application };
	coreworld_value(w, w->product, sizeof w->product,
			"SELECT product_id FROM application WHERE id = $1", 1, a);
	find_person(w, "accreditor", NULL, &w->accreditor);
	find_person(w, "assessor", NULL, &w->assessor);
	find_person(w, "certifier", NULL, &w->certifier);
	find_person(w, "applicant", NULL, &w->applicant);
	find_person(w, "org_admin", "accreditation_body", &w->ab_admin);
	find_person(w, "org_admin", "assessment_body", &w->body_admin);
	find_person(w, "org_admin", "manufacturer", &w->maker_admin);
	snprintf(w->accreditation_body, sizeof w->accreditation_body, "%s", w->ab_admin.org_id);
	snprintf(w->body, sizeof w->body, "%s", w->body_admin.org_id);
	snprintf(w->maker, sizeof w->maker, "%s", w->maker_admin.org_id);
}

void coreworld_destroy(struct coreworld *w)
{
	db_close(w->db);
	w->db = NULL;
	if (w->demo)
		testsrv_signer_stop(&w->signer);
	w->demo = false;
	testdb_drop(&w->tdb);
	if (w->blobs[0]) {
		char *cmd = cf_asprintf("rm -rf '%s'", w->blobs);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", w->blobs);
		free(cmd);
		w->blobs[0] = '\0';
	}
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
	json_t *body = coreworld_json(body_text ? body_text : "{}");
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
	ok(application_create(w->db, &w->applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, "application");
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(b);
	if (third || strcmp(state, "draft") == 0 || strcmp(state, "withdrawn") == 0) {
		coreworld_advance(w, id, state, 0);
		return;
	}
	coreworld_answer_all(w, id, "compliant");
	ck_assert_str_eq(state, "decided");
	coreworld_act_ok(w, &w->applicant, id, "declare", "{\"statement\":\"we declare\"}");
}

void coreworld_advance(struct coreworld *w, const char *id, const char *state, int passed)
{
	struct cf_error err;
	if (strcmp(state, "draft") == 0)
		return;
	if (strcmp(state, "withdrawn") == 0) {
		coreworld_act_ok(w, &w->applicant, id, "withdraw", NULL);
		return;
	}
	coreworld_answer_all(w, id, "compliant");
	coreworld_act_ok(w, &w->applicant, id, "submit", NULL);
	if (strcmp(state, "submitted") == 0)
		return;
	coreworld_act_ok(w, &w->assessor, id, "take", NULL);
	if (strcmp(state, "in_evaluation") == 0)
		return;
	if (strcmp(state, "info_requested") == 0) {
		if (passed > 0)
			ok(coreworld_verdicts(w, &w->assessor, id, 1, passed, "pass", &err), &err,
			   "verdicts");
		ok(coreworld_verdicts(w, &w->assessor, id, passed + 1, 13, "info_needed", &err), &err,
		   "verdicts");
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

void coreworld_value(struct coreworld *w, char *out, size_t size, const char *sql, int n,
		     const char *const *params)
{
	PGresult *r = testdb_super_query(&w->tdb, sql, n, params);
	snprintf(out, size, "%s", PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

long long coreworld_count(struct coreworld *w, const char *sql, const char *param)
{
	const char *p[] = { param };
	char v[32];
	coreworld_value(w, v, sizeof v, sql, param ? 1 : 0, p);
	return strtoll(v, NULL, 10);
}

json_t *coreworld_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	ck_assert_msg(j != NULL, "bad JSON in a test: %s: %s", je.text, text);
	return j;
}

void coreworld_expect(const char *what, cf_err got, const struct cf_error *err, cf_err code,
		      const char *pointer, const char *part)
{
	ck_assert_msg(got == code, "%s: code %d, expected %d (%s)", what, (int)got, (int)code,
		      got ? err->detail : "no error");
	if (code == CF_OK)
		return;
	if (pointer)
		ck_assert_msg(strcmp(err->pointer, pointer) == 0, "%s: pointer '%s', expected '%s' (%s)",
			      what, err->pointer, pointer, err->detail);
	if (part)
		ck_assert_msg(strstr(err->detail, part) != NULL, "%s: '%s' does not say '%s'", what,
			      err->detail, part);
}

void coreworld_refused(cf_err e, const struct cf_error *err, enum cf_code code, const char *pointer,
		       const char *words)
{
	coreworld_expect("refused", e, err, (cf_err)code, pointer ? pointer : "", words);
}
