/*
 * world: the populated test conform (see world.h).
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certificate.h"
#include "db.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"

static int counter;

static void remember(struct world *w, const char *token)
{
	json_array_append_new(w->secrets, json_string(token));
}

/* Makes a person in org with roles as maker, and their first token. */
static void person_by(struct world *w, const struct actor *maker, struct actor *a, const char *org,
		      const char *roles, const char *name)
{
	char email[96];
	snprintf(email, sizeof email, "person%d.%d@example.org", ++counter, (int)getpid());
	json_t *body = json_pack("{s:s,s:s,s:s,s:o}", "org_id", org, "name", name, "email", email,
				 "roles", json_loads(roles, 0, NULL));
	json_t *u = testsrv_api_ok(&w->srv, "POST", "/v1/users", maker->token, body, 201);
	snprintf(a->user, sizeof a->user, "%s", json_string_value(json_object_get(u, "id")));
	snprintf(a->org, sizeof a->org, "%s", org);
	json_decref(u);
	json_decref(body);
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", a->user);
	json_t *tb = json_pack("{s:s}", "name", "tests");
	json_t *t = testsrv_api_ok(&w->srv, "POST", path, maker->token, tb, 201);
	snprintf(a->token, sizeof a->token, "%s", json_string_value(json_object_get(t, "token")));
	remember(w, a->token);
	json_decref(t);
	json_decref(tb);
}

void world_org(struct world *w, const char *kind, const char *name, char out[37])
{
	char admin_email[96], admin_name[256];
	snprintf(admin_email, sizeof admin_email, "orgadmin%d.%d@example.org", ++counter, (int)getpid());
	snprintf(admin_name, sizeof admin_name, "Administrator of %s", name);
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:s,s:s}}", "kind", kind, "name", name,
				 "country", "GB", "contact", "email", "contact@example.org",
				 "administrator", "name", admin_name, "email", admin_email);
	if (strcmp(kind, "manufacturer") == 0)
		json_object_set_new(body, "vulnerability_disclosure",
			json_pack("{s:s,s:s,s:i}", "contact", "security@example.org", "policy_url",
				  "https://example.org/security", "response_days", 5));
	json_t *o = testsrv_api_ok(&w->srv, "POST", "/v1/organisations", w->admin.token, body, 201);
	snprintf(out, 37, "%s", json_string_value(json_object_get(o, "id")));
	/* its first administrator came with it; the scheme owner hands them
	 * their first token */
	ck_assert_int_lt(w->norg_admins, (int)(sizeof w->org_admins / sizeof w->org_admins[0]));
	struct actor *admin = cf_calloc(1, sizeof *admin);
	snprintf(admin->user, sizeof admin->user, "%s",
		 json_string_value(json_object_get(json_object_get(o, "administrator"), "id")));
	snprintf(admin->org, sizeof admin->org, "%s", out);
	json_decref(o);
	json_decref(body);
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", admin->user);
	json_t *tb = json_pack("{s:s}", "name", "tests");
	json_t *t = testsrv_api_ok(&w->srv, "POST", path, w->admin.token, tb, 201);
	snprintf(admin->token, sizeof admin->token, "%s", json_string_value(json_object_get(t, "token")));
	remember(w, admin->token);
	json_decref(t);
	json_decref(tb);
	w->org_admins[w->norg_admins++] = admin;
}

const struct actor *world_org_admin(struct world *w, const char *org)
{
	if (strcmp(org, w->admin.org) == 0)
		return &w->admin;
	for (int i = 0; i < w->norg_admins; i++)
		if (strcmp(w->org_admins[i]->org, org) == 0)
			return w->org_admins[i];
	ck_abort_msg("organisation %s has no administrator in the test world", org);
	return NULL;
}

void world_person(struct world *w, struct actor *a, const char *org, const char *roles,
		  const char *name)
{
	person_by(w, world_org_admin(w, org), a, org, roles, name);
}

static void day(char *out, size_t size, int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void world_accredit(struct world *w, const char *body_org, const char *scheme, int max_class,
		    char out[37])
{
	char from[32], until[32], ref[64];
	day(from, sizeof from, -1);
	day(until, sizeof until, 3 * 365);
	snprintf(ref, sizeof ref, "ACC-%d-%d", (int)getpid(), ++counter);
	json_t *body = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", body_org, "scheme_id", scheme,
				 "max_class", max_class, "reference", ref, "valid_from", from,
				 "valid_until", until);
	json_t *a = testsrv_api_ok(&w->srv, "POST", "/v1/accreditations", w->accreditor.token, body, 201);
	snprintf(out, 37, "%s", json_string_value(json_object_get(a, "id")));
	json_decref(a);
	json_decref(body);
}

static void import_schemes(struct world *w)
{
	const char *files[] = { "schemes/dcms-cop-2018.json", "schemes/etsi-en-303-645-2.1.1.json",
				"schemes/iotsf-cf-2.0.json", "schemes/uk-psti-2023.json" };
	const char *args[8] = { "scheme", "import" };
	char *paths[4];
	for (int i = 0; i < 4; i++)
		args[2 + i] = paths[i] = tsupport_source_path(files[i]);
	args[6] = NULL;
	struct proc_result r;
	testsrv_ctl(&r, &w->db, args, NULL);
	ck_assert_msg(r.status == 0, "scheme import: %s", r.err);
	proc_result_free(&r);
	for (int i = 0; i < 4; i++)
		free(paths[i]);
}

static void bootstrap(struct world *w)
{
	const char *args[] = { "bootstrap", "--org-name", "Test Scheme Owner", "--country", "GB",
			       "--email", "owner@example.org", "--admin-name", "Ada Admin",
			       "--admin-email", "ada@example.org", NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w->db, args, NULL);
	ck_assert_msg(r.status == 0, "bootstrap: %s", r.err);
	const char *t = strstr(r.out, "token:");
	ck_assert_ptr_nonnull(t);
	t += 6;
	while (*t == ' ')
		t++;
	size_t n = strcspn(t, "\n");
	ck_assert_uint_lt(n, sizeof w->admin.token);
	memcpy(w->admin.token, t, n);
	w->admin.token[n] = '\0';
	remember(w, w->admin.token);
	proc_result_free(&r);
}

void world_ctl(struct world *w, struct proc_result *r, const char *const *args)
{
	const char *env[] = { w->signer.env, NULL };
	testsrv_ctl(r, &w->db, args, env);
}

/* The line "made key <kid>" of conformctl key generate. */
static void keygen(struct world *w, const char *const *args, char kid[48])
{
	struct proc_result r;
	world_ctl(w, &r, args);
	ck_assert_msg(r.status == 0, "key generate: %s", r.err);
	const char *k = strstr(r.out, "made key ");
	ck_assert_ptr_nonnull(k);
	snprintf(kid, 48, "%.43s", k + 9);
	proc_result_free(&r);
}

void world_create(struct world *w, const char *suite, const char *const *extra_env)
{
	memset(w, 0, sizeof *w);
	w->secrets = json_array();
	testdb_create(&w->db, suite);
	import_schemes(w);
	bootstrap(w);
	snprintf(w->keys_dir, sizeof w->keys_dir, "/tmp/conform-keys.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w->keys_dir));
	/* the private keys live in conform-signer, never in conformd */
	testsrv_signer_start(&w->signer, suite);
	const char *env[8];
	int n = 0;
	env[n++] = w->signer.env;
	for (const char *const *e = extra_env; e && *e && n < 7; e++)
		env[n++] = *e;
	env[n] = NULL;
	testsrv_start(&w->srv, &w->db, env);
	json_t *me = testsrv_api_ok(&w->srv, "GET", "/v1/me", w->admin.token, NULL, 200);
	snprintf(w->admin.user, sizeof w->admin.user, "%s",
		 json_string_value(json_object_get(json_object_get(me, "user"), "id")));
	snprintf(w->admin.org, sizeof w->admin.org, "%s",
		 json_string_value(json_object_get(json_object_get(me, "organisation"), "id")));
	json_decref(me);

	char ab[37], body[37], maker[37], maker2[37];
	world_org(w, "accreditation_body", "UKAS-like Accreditation", ab);
	world_org(w, "assessment_body", "Test Lab Certification", body);
	world_org(w, "manufacturer", "Acme Devices", maker);
	world_org(w, "manufacturer", "Other Devices", maker2);
	w->ab_admin = *world_org_admin(w, ab);
	w->body_admin = *world_org_admin(w, body);
	w->maker_admin = *world_org_admin(w, maker);
	w->maker2_admin = *world_org_admin(w, maker2);
	world_person(w, &w->accreditor, ab, "[\"accreditor\"]", "Alice Accreditor");
	world_person(w, &w->assessor, body, "[\"assessor\"]", "Sam Assessor");
	world_person(w, &w->assessor2, body, "[\"assessor\"]", "Sue Assessor");
	world_person(w, &w->certifier, body, "[\"certifier\"]", "Cat Certifier");
	world_person(w, &w->certifier2, body, "[\"assessor\", \"certifier\"]", "Chris Both");
	world_person(w, &w->applicant, maker, "[\"applicant\"]", "Ann Applicant");
	world_person(w, &w->applicant2, maker2, "[\"applicant\"]", "Otto Applicant");
	world_accredit(w, body, "dcms-cop", 0, w->accreditation_dcms);
	world_accredit(w, body, "iotsf-cf", 4, w->accreditation_iotsf);
	const char *bk[] = { "key", "generate", "--org", body, NULL };
	keygen(w, bk, w->body_kid);
	const char *lk[] = { "key", "generate", "--log", NULL };
	keygen(w, lk, w->log_kid);
}

void world_destroy(struct world *w)
{
	testsrv_stop(&w->srv);
	testsrv_signer_stop(&w->signer);
	testdb_drop(&w->db);
	json_decref(w->secrets);
	w->secrets = NULL;
	for (int i = 0; i < w->norg_admins; i++)
		CF_FREE(w->org_admins[i]);
	w->norg_admins = 0;
	char *cmd = cf_asprintf("rm -rf '%s'", w->keys_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", w->keys_dir);
	free(cmd);
}

const char *world_product(struct world *w)
{
	static char product[37];
	static const struct world *made_for;
	if (made_for == w && product[0])
		return product;
	json_t *b = json_loads("{\"name\":\"Acme Smart Plug\",\"model\":\"SP-1\","
			       "\"hardware_version\":\"1.0\",\"firmware_version\":\"1.0.3\","
			       "\"support_end\":\"2031-06-30\"}", 0, NULL);
	json_t *p = testsrv_api_ok(&w->srv, "POST", "/v1/products", w->applicant.token, b, 201);
	snprintf(product, sizeof product, "%s", json_string_value(json_object_get(p, "id")));
	made_for = w;
	json_decref(p);
	json_decref(b);
	return product;
}

void world_etag(struct world *w, const char *id, char out[24])
{
	char path[96];
	snprintf(path, sizeof path, "/v1/applications/%s", id);
	json_t *a = testsrv_api_ok(&w->srv, "GET", path, w->applicant.token, NULL, 200);
	snprintf(out, 24, "%s", json_string_value(json_object_get(a, "etag")));
	json_decref(a);
}

json_t *world_act(struct world *w, const char *id, const struct actor *who, const char *action,
		  const char *body_text, long expect)
{
	char path[160], etag[24], auth[96], im[64];
	world_etag(w, id, etag);
	snprintf(path, sizeof path, "/v1/applications/%s/actions/%s", id, action);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", who->token);
	snprintf(im, sizeof im, "If-Match: %s", etag);
	const char *headers[] = { auth, im, "Content-Type: application/json", NULL };
	struct http_resp r;
	testsrv_req(&w->srv, &r, "POST", path, headers, body_text ? body_text : "{}");
	ck_assert_msg(r.status == expect, "%s %s: %ld, expected %ld: %.300s", action, id, r.status,
		      expect, r.body);
	json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	http_resp_free(&r);
	return j;
}

static void world_verdicts(struct world *w, const char *id, const char *verdict)
{
	char body[2048] = "{\"verdicts\":[";
	size_t n = strlen(body);
	for (int i = 1; i <= 13; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
				      "%s{\"ref\":\"DCMS-%d\",\"verdict\":\"%s\",\"comment\":\"seen\"}",
				      i > 1 ? "," : "", i, verdict);
	snprintf(body + n, sizeof body - n, "]}");
	json_t *b = json_loads(body, 0, NULL);
	char path[128];
	snprintf(path, sizeof path, "/v1/applications/%s/verdicts", id);
	json_decref(testsrv_api_ok(&w->srv, "POST", path, w->assessor.token, b, 200));
	json_decref(b);
}

void world_application(struct world *w, const char *state, char id[37])
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "product_id",
			      world_product(w), "scheme_id", "dcms-cop", "scheme_version", "2018",
			      "assessment_type", "third-party", "body_id", w->certifier.org, "owners",
			      "Software", "Firmware lead", "Hardware", "Hardware lead", "Policy", "CISO",
			      "Process", "PSIRT");
	json_t *a = testsrv_api_ok(&w->srv, "POST", "/v1/applications", w->applicant.token, b, 201);
	snprintf(id, 37, "%s", json_string_value(json_object_get(a, "id")));
	json_decref(a);
	json_decref(b);
	if (strcmp(state, "draft") == 0)
		return;
	if (strcmp(state, "withdrawn") == 0) {
		json_decref(world_act(w, id, &w->applicant, "withdraw", NULL, 200));
		return;
	}
	json_t *ans = json_loads("{\"statement\":\"compliant\",\"text\":\"as documented\"}", 0, NULL);
	for (int i = 1; i <= 13; i++) {
		char path[160];
		snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
		json_decref(testsrv_api_ok(&w->srv, "PUT", path, w->applicant.token, ans, 200));
	}
	json_decref(ans);
	json_decref(world_act(w, id, &w->applicant, "submit", NULL, 200));
	if (strcmp(state, "submitted") == 0)
		return;
	json_decref(world_act(w, id, &w->assessor, "take", NULL, 200));
	if (strcmp(state, "in_evaluation") == 0)
		return;
	if (strcmp(state, "info_requested") == 0) {
		world_verdicts(w, id, "info_needed");
		json_decref(world_act(w, id, &w->assessor, "request-info", NULL, 200));
		return;
	}
	world_verdicts(w, id, "pass");
	json_decref(world_act(w, id, &w->assessor, "complete", NULL, 200));
	if (strcmp(state, "evaluated") == 0)
		return;
	json_decref(world_act(w, id, &w->certifier, "decide",
			      "{\"decision\":\"approve\",\"rationale\":\"all passed\"}", 200));
}

void world_certificate(struct world *w, char serial[40])
{
	char id[37], path[128];
	world_application(w, "decided", id);
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	json_t *c = testsrv_api_ok(&w->srv, "POST", path, w->certifier.token, NULL, 201);
	snprintf(serial, 40, "%s", json_string_value(json_object_get(c, "serial")));
	json_decref(c);
}

struct supersession {
	struct principal p;
	const char *old_serial, *new_serial;
};

static cf_err supersede_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct supersession *s = arg;
	return certificate_supersede(db, &s->p, s->old_serial, s->new_serial, err);
}

void world_supersede(struct world *w, const char *old_serial, const char *new_serial)
{
	struct supersession s = { .p = { .roles = ROLE_CERTIFIER }, old_serial, new_serial };
	snprintf(s.p.user_id, sizeof s.p.user_id, "%s", w->certifier.user);
	snprintf(s.p.org_id, sizeof s.p.org_id, "%s", w->certifier.org);
	snprintf(s.p.org_kind, sizeof s.p.org_kind, "assessment_body");
	struct cf_error err;
	struct db *db = NULL;
	ck_assert_msg(db_connect(w->db.app_url, &db, &err) == CF_OK, "%s", err.detail);
	cf_err e = db_transaction(db, DB_READ_COMMITTED, supersede_tx, &s, &err);
	db_close(db);
	ck_assert_msg(e == CF_OK, "superseding %s by %s: %s", old_serial, new_serial, err.detail);
}

void world_wait_checkpoint(struct world *w, long long size)
{
	for (int i = 0; i < 200; i++) {
		long status;
		json_t *h = testsrv_api(&w->srv, "GET", "/v1/log/tree-head", NULL, NULL, &status);
		long long got = status == 200 ? json_integer_value(json_object_get(h, "size")) : 0;
		json_decref(h);
		if (got >= size)
			return;
		usleep(50000);
	}
	ck_abort_msg("no signed tree head of size %lld within 10 s", size);
}
