/*
 * cast: a domain unit test's parties and things, through core/ (see cast.h).
 */
#include "cast.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accreditation.h"
#include "application.h"
#include "catalog.h"
#include "mem.h"
#include "product.h"
#include "review.h"
#include "tsupport.h"

static int counter;

static void principal_of(struct principal *p, const char *user, const char *org, const char *kind,
			 unsigned roles)
{
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", user);
	snprintf(p->org_id, sizeof p->org_id, "%s", org);
	snprintf(p->org_kind, sizeof p->org_kind, "%s", kind);
	p->roles = roles;
}

void cast_org(struct cast *c, const char *kind, const char *name, struct principal *admin)
{
	char email[96];
	snprintf(email, sizeof email, "admin%d.%d@example.org", ++counter, (int)getpid());
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:s,s:s}}", "kind", kind, "name", name,
				 "country", "GB", "contact", "email", "contact@example.org",
				 "administrator", "name", "The Administrator", "email", email);
	if (strcmp(kind, "manufacturer") == 0)
		json_object_set_new(body, "vulnerability_disclosure",
				    json_pack("{s:s,s:s,s:i}", "contact", "security@example.org",
					      "policy_url", "https://example.org/security",
					      "response_days", 5));
	json_t *o = NULL;
	struct cf_error err;
	cf_err e = party_org_create(c->db, &c->cli, body, &o, &err);
	ck_assert_msg(!e, "organisation %s: %s", name, err.detail);
	principal_of(admin,
		     json_string_value(json_object_get(json_object_get(o, "administrator"), "id")),
		     json_string_value(json_object_get(o, "id")), kind, ROLE_ORG_ADMIN);
	json_decref(o);
	json_decref(body);
}

void cast_person(struct cast *c, const struct principal *admin, const char *roles,
		 struct principal *out)
{
	char email[96];
	snprintf(email, sizeof email, "person%d.%d@example.org", ++counter, (int)getpid());
	json_t *r = json_loads(roles, 0, NULL);
	ck_assert_ptr_nonnull(r);
	unsigned mask = 0;
	size_t i;
	json_t *v;
	json_array_foreach(r, i, v)
		mask |= party_role_parse(json_string_value(v));
	json_t *body = json_pack("{s:s,s:s,s:s,s:o}", "org_id", admin->org_id, "name", "A Person",
				 "email", email, "roles", r);
	struct audit_actor actor = party_actor(admin);
	json_t *u = NULL;
	struct cf_error err;
	cf_err e = party_user_create(c->db, &actor, body, &u, &err);
	ck_assert_msg(!e, "person %s: %s", roles, err.detail);
	principal_of(out, json_string_value(json_object_get(u, "id")), admin->org_id, admin->org_kind,
		     mask);
	json_decref(u);
	json_decref(body);
}

cf_err cast_import(struct cast *c, const char *relative, struct cf_error *err)
{
	char *path = tsupport_source_path(relative);
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	struct lint_report report = { 0 };
	struct catalog_import result;
	cf_err e = catalog_import(c->db, &c->cli, text, len, path, &report, &result, err);
	lint_report_free(&report);
	free(text);
	free(path);
	return e;
}

void cast_day(char *out, size_t size, int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cast_create(struct cast *c, const char *suite)
{
	memset(c, 0, sizeof *c);
	testdb_create(&c->tdb, suite);
	struct cf_error err;
	cf_err e = db_connect(c->tdb.app_url, &c->db, &err);
	ck_assert_msg(!e, "connect: %s", err.detail);
	c->cli = (struct audit_actor){ "cli", "tests", NULL };
	e = cast_import(c, "schemes/dcms-cop-2018.json", &err);
	ck_assert_msg(!e, "dcms-cop: %s", err.detail);
	cast_org(c, "accreditation_body", "Accreditation Service", &c->ab_admin);
	cast_org(c, "assessment_body", "Test Lab", &c->body_admin);
	cast_org(c, "manufacturer", "Acme Devices", &c->maker_admin);
	cast_org(c, "manufacturer", "Other Devices", &c->maker2_admin);
	cast_person(c, &c->ab_admin, "[\"accreditor\"]", &c->accreditor);
	cast_person(c, &c->body_admin, "[\"assessor\"]", &c->assessor);
	cast_person(c, &c->body_admin, "[\"certifier\"]", &c->certifier);
	cast_person(c, &c->maker_admin, "[\"applicant\"]", &c->applicant);
	cast_person(c, &c->maker2_admin, "[\"applicant\"]", &c->applicant2);

	char from[32], until[32];
	cast_day(from, sizeof from, -1);
	cast_day(until, sizeof until, 3 * 365);
	json_t *acc = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", c->body_admin.org_id,
				"scheme_id", "dcms-cop", "max_class", 0, "reference", "ACC-1",
				"valid_from", from, "valid_until", until);
	struct audit_actor accreditor = party_actor(&c->accreditor);
	json_t *a = NULL;
	e = accreditation_grant(c->db, &accreditor, acc, &a, &err);
	ck_assert_msg(!e, "accreditation: %s", err.detail);
	snprintf(c->accreditation, sizeof c->accreditation, "%s",
		 json_string_value(json_object_get(a, "id")));
	json_decref(a);
	json_decref(acc);

	json_t *pb = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "Acme Smart Plug", "model", "SP-1",
			       "hardware_version", "1.0", "firmware_version", "1.0.3", "support_end",
			       "2031-06-30");
	json_t *p = NULL;
	e = product_create(c->db, &c->applicant, pb, &p, &err);
	ck_assert_msg(!e, "product: %s", err.detail);
	snprintf(c->product, sizeof c->product, "%s", json_string_value(json_object_get(p, "id")));
	json_decref(p);
	json_decref(pb);

	snprintf(c->blobs, sizeof c->blobs, "/tmp/conform-cast.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(c->blobs));
}

void cast_destroy(struct cast *c)
{
	db_close(c->db);
	c->db = NULL;
	testdb_drop(&c->tdb);
	if (c->blobs[0]) {
		char *cmd = cf_asprintf("rm -rf '%s'", c->blobs);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", c->blobs);
		free(cmd);
	}
}

void cast_act(struct cast *c, const struct principal *who, const char *id, const char *action,
	      const char *body)
{
	struct application_row row;
	struct cf_error err;
	cf_err e = application_load(c->db, id, false, &row, &err);
	ck_assert_msg(!e, "load %s: %s", id, err.detail);
	char etag[24];
	application_etag(row.version, etag);
	json_t *b = json_loads(body ? body : "{}", 0, NULL);
	json_t *out = NULL;
	e = application_act(c->db, who, id, action, etag, b, &out, &err);
	ck_assert_msg(!e, "%s %s: %s", action, id, err.detail);
	json_decref(out);
	json_decref(b);
}

void cast_verdict(struct cast *c, const char *id, const char *ref, const char *verdict)
{
	json_t *b = json_pack("{s:s,s:s,s:s}", "ref", ref, "verdict", verdict, "comment",
			      "please show the test report");
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = review_record(c->db, &c->assessor, id, b, &out, &err);
	ck_assert_msg(!e, "verdict %s on %s: %s", verdict, ref, err.detail);
	json_decref(out);
	json_decref(b);
}

/* Is ref in the comma-separated list (may be NULL)? */
static bool listed(const char *list, const char *ref)
{
	size_t n = strlen(ref);
	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0))
		if (strncmp(p, ref, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

void cast_application(struct cast *c, const char *state, const char *pass, char id[37])
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id", c->product,
			      "scheme_id", "dcms-cop", "scheme_version", "2018", "assessment_type",
			      "third-party", "body_id", c->body_admin.org_id, "owners", "Software",
			      "Firmware lead", "Hardware", "Hardware lead", "Policy", "CISO",
			      "Process", "PSIRT");
	json_t *a = NULL;
	struct cf_error err;
	cf_err e = application_create(c->db, &c->applicant, b, &a, &err);
	ck_assert_msg(!e, "application: %s (%s)", err.detail, err.pointer);
	snprintf(id, 37, "%s", json_string_value(json_object_get(a, "id")));
	json_decref(a);
	json_decref(b);
	cast_advance(c, id, state, pass);
}

void cast_advance(struct cast *c, const char *id, const char *state, const char *pass)
{
	struct cf_error err;
	cf_err e;
	if (strcmp(state, "draft") == 0)
		return;
	json_t *ans = json_loads("{\"statement\":\"compliant\",\"text\":\"as documented\"}", 0, NULL);
	for (int i = 1; i <= 13; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "DCMS-%d", i);
		json_t *out = NULL;
		e = application_answer(c->db, &c->applicant, id, ref, ans, &out, &err);
		ck_assert_msg(!e, "answer %s: %s", ref, err.detail);
		json_decref(out);
	}
	json_decref(ans);
	cast_act(c, &c->applicant, id, "submit", NULL);
	if (strcmp(state, "submitted") == 0)
		return;
	cast_act(c, &c->assessor, id, "take", NULL);
	if (strcmp(state, "in_evaluation") == 0)
		return;
	ck_assert_str_eq(state, "info_requested");
	for (int i = 1; i <= 13; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "DCMS-%d", i);
		cast_verdict(c, id, ref, listed(pass, ref) ? "pass" : "info_needed");
	}
	cast_act(c, &c->assessor, id, "request-info", NULL);
}

char *cast_value(struct cast *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = testdb_super_query(&c->tdb, sql, n, params);
	char *v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? cf_strdup(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	return v;
}

long long cast_count(struct cast *c, const char *sql, int n, const char *const *params)
{
	char *v = cast_value(c, sql, n, params);
	long long x = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return x;
}
