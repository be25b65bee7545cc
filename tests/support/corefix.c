/*
 * corefix: a populated database for the domain unit suites (see corefix.h).
 */
#include "corefix.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "proc.h"
#include "tsupport.h"

static const char *const shipped[] = {
	"schemes/dcms-cop-2018.json", "schemes/etsi-en-303-645-2.1.1.json",
	"schemes/iotsf-cf-2.0.json", "schemes/uk-psti-2023.json", "schemes/scheme.schema.json",
};

static void ctl_ok(struct corefix *f, struct proc_result *r, const char *const *args,
		   const char *const *env)
{
	testsrv_ctl(r, &f->db, args, env);
	ck_assert_msg(r->status == 0, "conformctl %s %s: %s", args[0], args[1] ? args[1] : "", r->err);
}

void corefix_value(struct corefix *f, char *out, size_t size, const char *sql, int n,
		   const char *const *params)
{
	PGresult *r = testdb_super_query(&f->db, sql, n, params);
	snprintf(out, size, "%s", PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

void corefix_principal(struct corefix *f, const char *user_id, struct principal *out)
{
	char id[37]; /* user_id may be out's own */
	snprintf(id, sizeof id, "%s", user_id);
	const char *p[] = { id };
	PGresult *r = testdb_super_query(&f->db,
		"SELECT u.org_id, o.kind, array_to_string(u.roles, ',') FROM app_user u"
		" JOIN organisation o ON o.id = u.org_id WHERE u.id = $1", 1, p);
	ck_assert_msg(PQntuples(r) == 1, "no user %s", id);
	memset(out, 0, sizeof *out);
	snprintf(out->user_id, sizeof out->user_id, "%s", id);
	snprintf(out->org_id, sizeof out->org_id, "%s", PQgetvalue(r, 0, 0));
	snprintf(out->org_kind, sizeof out->org_kind, "%s", PQgetvalue(r, 0, 1));
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

/* The one user holding role (in an organisation of kind, when not NULL). */
static void find_person(struct corefix *f, const char *role, const char *kind, struct principal *out)
{
	char id[37];
	const char *p[] = { role, kind ? kind : "" };
	corefix_value(f, id, sizeof id,
		"SELECT u.id FROM app_user u JOIN organisation o ON o.id = u.org_id"
		" WHERE $1 = ANY (u.roles::text[]) AND ($2 = '' OR o.kind::text = $2)"
		" ORDER BY u.created_at LIMIT 1", 2, p);
	ck_assert_msg(id[0], "nobody holds %s (%s)", role, kind ? kind : "any kind");
	corefix_principal(f, id, out);
}

void corefix_open(struct corefix *f, const char *suite)
{
	memset(f, 0, sizeof *f);
	testdb_create(&f->db, suite);
	struct proc_result r;
	const char *imp[8] = { "scheme", "import" };
	char *paths[5];
	for (int i = 0; i < 5; i++)
		imp[2 + i] = paths[i] = tsupport_source_path(shipped[i]);
	imp[7] = NULL;
	ctl_ok(f, &r, imp, NULL);
	proc_result_free(&r);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
	const char *boot[] = { "bootstrap", "--org-name", "Unit Scheme Owner", "--country", "GB",
			       "--email", "owner@example.org", "--admin-name", "Ada Admin",
			       "--admin-email", "ada@example.org", NULL };
	ctl_ok(f, &r, boot, NULL);
	proc_result_free(&r);
	find_person(f, "admin", NULL, &f->admin);
	f->cli = (struct audit_actor){ "cli", "unit-test", NULL };
	struct cf_error err;
	ck_assert_msg(db_connect(f->db.app_url, &f->conn, &err) == CF_OK, "%s", err.detail);
}

void corefix_demo_again(struct corefix *f, char serial[40])
{
	const char *env[] = { f->signer.env, NULL };
	const char *args[] = { "demo", NULL };
	struct proc_result r;
	ctl_ok(f, &r, args, env);
	const char *c = strstr(r.out, "certificate CF-");
	ck_assert_msg(c != NULL, "conformctl demo issued nothing: %s", r.out);
	snprintf(serial, 40, "%.*s", (int)strcspn(c + 12, " \n"), c + 12);
	proc_result_free(&r);
}

void corefix_demo(struct corefix *f)
{
	testsrv_signer_start(&f->signer, f->db.name);
	f->demo = true;
	struct proc_result r;
	/* the service's identity, as conformd would store it at its first start */
	const char *id[] = { "identity", "set", "http://127.0.0.1:7", NULL };
	ctl_ok(f, &r, id, NULL);
	proc_result_free(&r);
	corefix_demo_again(f, f->serial);

	const char *s[] = { f->serial };
	corefix_value(f, f->public_url, sizeof f->public_url, "SELECT public_url FROM service_identity", 0,
		      NULL);
	corefix_value(f, f->application, sizeof f->application,
		      "SELECT application_id FROM certificate WHERE serial = $1", 1, s);
	corefix_value(f, f->accreditation, sizeof f->accreditation,
		      "SELECT accreditation_id FROM certificate WHERE serial = $1", 1, s);
	corefix_value(f, f->kid, sizeof f->kid, "SELECT kid FROM certificate WHERE serial = $1", 1, s);
	const char *a[] = { f->application };
	corefix_value(f, f->product, sizeof f->product, "SELECT product_id FROM application WHERE id = $1",
		      1, a);
	find_person(f, "accreditor", NULL, &f->accreditor);
	find_person(f, "assessor", NULL, &f->assessor);
	find_person(f, "certifier", NULL, &f->certifier);
	find_person(f, "applicant", NULL, &f->applicant);
	find_person(f, "org_admin", "accreditation_body", &f->ab_admin);
	find_person(f, "org_admin", "assessment_body", &f->body_admin);
	find_person(f, "org_admin", "manufacturer", &f->maker_admin);
}

void corefix_close(struct corefix *f)
{
	db_close(f->conn);
	f->conn = NULL;
	if (f->demo)
		testsrv_signer_stop(&f->signer);
	f->demo = false;
	testdb_drop(&f->db);
}

json_t *corefix_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	ck_assert_msg(j != NULL, "bad JSON in a test: %s: %s", je.text, text);
	return j;
}

void corefix_expect(const char *what, cf_err got, const struct cf_error *err, cf_err code,
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
