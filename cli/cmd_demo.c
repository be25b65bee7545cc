/*
 * conformctl demo: the whole scheme in a minute. Makes demo organisations
 * and people, a signing key, an accreditation, a product, and walks one DCMS
 * application from draft to an issued certificate with the same core
 * functions the API uses, under the service's stored public URL (identity.h);
 * prints the serial and the buyer's page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accreditation.h"
#include "application.h"
#include "catalog.h"
#include "certificate.h"
#include "cli.h"
#include "jsonx.h"
#include "keys.h"
#include "mem.h"
#include "party.h"
#include "product.h"
#include "review.h"
#include "signer.h"

struct demo {
	struct cli *cli;
	struct db *db;
	struct audit_actor actor;
	int run;
	char *signer_socket; /* conform-signer: it makes and holds the keys */
};

/* An organisation and its first administrator (the scheme owner makes
 * both, and nothing more of it: the administrator staffs it). */
static cf_err make_org(struct demo *d, const char *kind, const char *name, char id[37],
		       struct principal *admin, struct cf_error *err)
{
	char full[128], admin_email[128];
	snprintf(full, sizeof full, "%s (demo %d)", name, d->run);
	snprintf(admin_email, sizeof admin_email, "demo%d-admin-%.16s@example.org", d->run, kind);
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s},s:s,s:{s:s,s:s}}", "kind", kind, "name", full,
				 "country", "GB", "contact", "email", "demo@example.org", "website",
				 "https://example.org/", "administrator", "name", "Ada Administrator",
				 "email", admin_email);
	if (strcmp(kind, "manufacturer") == 0)
		json_object_set_new(body, "vulnerability_disclosure",
			json_pack("{s:s,s:s,s:i}", "contact", "security@example.org", "policy_url",
				  "https://example.org/security/disclosure", "response_days", 5));
	json_t *out = NULL;
	cf_err e = party_org_create(d->db, &d->actor, body, &out, err);
	if (!e) {
		snprintf(id, 37, "%s", jsonx_str(out, "id"));
		memset(admin, 0, sizeof *admin);
		snprintf(admin->user_id, sizeof admin->user_id, "%s",
			 jsonx_str(json_object_get(out, "administrator"), "id"));
		snprintf(admin->org_id, sizeof admin->org_id, "%s", id);
		snprintf(admin->org_kind, sizeof admin->org_kind, "%s", kind);
		admin->roles = ROLE_ORG_ADMIN;
	}
	json_decref(body);
	json_decref(out);
	return e;
}

/* A person of the organisation of admin, made by its administrator. */
static cf_err make_person(struct demo *d, const struct principal *admin, const char *role,
			  const char *name, struct principal *p, struct cf_error *err)
{
	char email[128];
	snprintf(email, sizeof email, "demo%d-%s@example.org", d->run, role);
	json_t *body = json_pack("{s:s,s:s,s:s,s:[s]}", "org_id", admin->org_id, "name", name, "email",
				 email, "roles", role);
	json_t *out = NULL;
	struct audit_actor by = party_actor(admin);
	cf_err e = party_user_create(d->db, &by, body, &out, err);
	json_decref(body);
	if (e)
		return e;
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", jsonx_str(out, "id"));
	snprintf(p->org_id, sizeof p->org_id, "%s", admin->org_id);
	snprintf(p->org_kind, sizeof p->org_kind, "%s", admin->org_kind);
	p->roles = party_role_parse(role);
	json_decref(out);
	return CF_OK;
}

static void day(char *out, size_t size, int offset_days)
{
	time_t t = time(NULL) + (time_t)offset_days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

static cf_err act(struct demo *d, const struct principal *p, const char *app, const char *action,
		  const char *body_text, struct cf_error *err)
{
	json_t *current = NULL, *out = NULL;
	cf_err e = application_get(d->db, app, &current, err);
	if (e)
		return e;
	json_t *body = json_loads(body_text ? body_text : "{}", 0, NULL);
	e = application_act(d->db, p, app, action, jsonx_str(current, "etag"), body, &out, err);
	printf("  %-13s -> %s\n", action, e ? "refused" : jsonx_str(out, "state"));
	json_decref(current);
	json_decref(body);
	json_decref(out);
	return e;
}

static cf_err walk(struct demo *d, struct cf_error *err)
{
	char ab[37], body[37], maker[37], acc[37], product[37], app[37], kid[SIGNER_KID_LEN];
	unsigned char pub[32];
	struct principal accreditor, assessor, certifier, applicant, ab_admin, body_admin, maker_admin;
	json_t *out = NULL;
	cf_err e = make_org(d, "accreditation_body", "Demo Accreditation Service", ab, &ab_admin, err);
	if (!e)
		e = make_org(d, "assessment_body", "Demo Test Laboratory", body, &body_admin, err);
	if (!e)
		e = make_org(d, "manufacturer", "Demo Devices Ltd", maker, &maker_admin, err);
	if (!e)
		e = make_person(d, &ab_admin, "accreditor", "Alex Accreditor", &accreditor, err);
	if (!e)
		e = make_person(d, &body_admin, "assessor", "Sam Assessor", &assessor, err);
	if (!e)
		e = make_person(d, &body_admin, "certifier", "Cat Certifier", &certifier, err);
	if (!e)
		e = make_person(d, &maker_admin, "applicant", "Ann Applicant", &applicant, err);
	if (e)
		return e;
	printf("organisations, each with its administrator, who made its people: made\n");

	/* the body's certificate key; the service's log key if it has none */
	e = signer_generate(d->db, &d->actor, body, d->signer_socket, &out, err);
	if (e)
		return e;
	printf("signing key of the body: %s\n", jsonx_str(out, "kid"));
	json_decref(out);
	out = NULL;
	struct cf_error none;
	if (signer_current(d->db, NULL, kid, pub, &none) != CF_OK) {
		e = signer_generate(d->db, &d->actor, NULL, d->signer_socket, &out, err);
		if (e)
			return e;
		printf("log key of the service: %s\n", jsonx_str(out, "kid"));
		json_decref(out);
		out = NULL;
	}

	char from[16], until[16], ref[48];
	day(from, sizeof from, -1);
	day(until, sizeof until, 3 * 365);
	snprintf(ref, sizeof ref, "DEMO-ACC-%d", d->run);
	struct audit_actor acc_actor = party_actor(&accreditor);
	json_t *grant = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", body, "scheme_id", "dcms-cop",
				  "max_class", 0, "reference", ref, "valid_from", from, "valid_until", until);
	e = accreditation_grant(d->db, &acc_actor, grant, &out, err);
	json_decref(grant);
	if (e)
		return e;
	snprintf(acc, sizeof acc, "%s", jsonx_str(out, "id"));
	json_decref(out);
	out = NULL;
	printf("accreditation %s for dcms-cop: granted\n", ref);

	char support[16];
	day(support, sizeof support, 5 * 365);
	json_t *pb = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", "Demo Smart Doorbell", "model",
			       "DB-1", "hardware_version", "rev A", "firmware_version", "1.2.0",
			       "product_page", "https://example.org/doorbell", "description",
			       "A video doorbell with a companion app", "support_end", support);
	e = product_create(d->db, &applicant, pb, &out, err);
	json_decref(pb);
	if (e)
		return e;
	snprintf(product, sizeof product, "%s", jsonx_str(out, "id"));
	json_decref(out);
	out = NULL;

	json_t *ab_body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}",
		"product_id", product, "scheme_id", "dcms-cop", "scheme_version", "2018",
		"confidentiality", "basic", "integrity", "basic", "availability", "basic",
		"assessment_type", "third-party", "body_id", body, "owners", "Software",
		"Head of firmware", "Hardware", "Hardware lead", "Policy", "CISO", "Process", "PSIRT lead");
	e = application_create(d->db, &applicant, ab_body, d->cli->cfg.evidence_quota, &out, err);
	json_decref(ab_body);
	if (e)
		return e;
	snprintf(app, sizeof app, "%s", jsonx_str(out, "id"));
	json_decref(out);
	out = NULL;
	printf("application %s for the DCMS Code of Practice:\n", app);
	for (int i = 1; i <= 13 && !e; i++) {
		char ref_i[16];
		snprintf(ref_i, sizeof ref_i, "DCMS-%d", i);
		json_t *ans = json_pack("{s:s,s:s}", "statement", "compliant", "text",
					"Described in the security design document, section 4.");
		e = application_answer(d->db, &applicant, app, ref_i, ans, &out, err);
		json_decref(ans);
		json_decref(out);
		out = NULL;
	}
	printf("  answered      13 guidelines\n");
	if (!e)
		e = act(d, &applicant, app, "submit", NULL, err);
	if (!e)
		e = act(d, &assessor, app, "take", NULL, err);
	if (!e) {
		json_t *v = json_pack("{s:[]}", "verdicts");
		for (int i = 1; i <= 13; i++) {
			char ref_i[16];
			snprintf(ref_i, sizeof ref_i, "DCMS-%d", i);
			json_array_append_new(json_object_get(v, "verdicts"),
				json_pack("{s:s,s:s,s:s}", "ref", ref_i, "verdict", "pass", "comment",
					  "Evidence reviewed and tested."));
		}
		e = review_record(d->db, &assessor, app, v, &out, err);
		json_decref(v);
		json_decref(out);
		out = NULL;
		if (!e)
			printf("  verdicts      13 passes\n");
	}
	if (!e)
		e = act(d, &assessor, app, "complete", NULL, err);
	if (!e)
		e = act(d, &certifier, app, "decide",
			"{\"decision\":\"approve\",\"rationale\":\"Every guideline met on the evidence.\"}", err);
	if (e)
		return e;
	struct cert_ctx ctx = { d->cli->cfg.public_url, d->signer_socket };
	bool created = false;
	e = certificate_issue(d->db, &certifier, &ctx, app, &out, &created, err);
	if (e)
		return e;
	printf("\ncertificate %s issued, valid until %s\n", jsonx_str(out, "serial"),
	       jsonx_str(out, "valid_until"));
	printf("  the buyer's page:  %s/verify/%s\n", d->cli->cfg.public_url, jsonx_str(out, "serial"));
	printf("  the certificate:   %s/v1/certificates/%s\n", d->cli->cfg.public_url, jsonx_str(out, "serial"));
	printf("  the signed JWS:    %s/v1/certificates/%s/jws\n", d->cli->cfg.public_url,
	       jsonx_str(out, "serial"));
	printf("  verify offline:    conformctl cert verify FILE --jwks %s/.well-known/jwks.json\n",
	       d->cli->cfg.public_url);
	json_decref(out);
	return CF_OK;
}

static int demo_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct demo d = { .cli = cli, .actor = cli_actor(cli) };
	json_t *scheme = NULL;
	cf_err e = cli_db(cli, &d.db, &err);
	if (!e) /* the service's identity, never one of our own */
		e = cli_public_url(cli, d.db, &err);
	if (!e && catalog_version(d.db, "dcms-cop", "2018", &scheme, &err) != CF_OK) {
		char *shipped = config_shipped_path("schemes");
		e = cf_error_set(&err, CF_EUNPROCESSABLE, NULL,
				 "dcms-cop@2018 is not imported: conformctl scheme import %s/*.json",
				 shipped ? shipped : "schemes");
		free(shipped);
	}
	json_decref(scheme);
	if (!e) {
		/* a number for this run, so that demo names never collide */
		json_t *orgs = NULL;
		e = party_org_list(d.db, "manufacturer", NULL, 500, &orgs, &err);
		size_t i;
		json_t *o;
		d.run = 1;
		json_array_foreach(json_object_get(orgs, "items"), i, o)
			if (strncmp(jsonx_str(o, "name"), "Demo Devices Ltd", 16) == 0)
				d.run++;
		json_decref(orgs);
	}
	d.signer_socket = config_signer_socket(&cli->cfg);
	if (!e)
		e = walk(&d, &err);
	free(d.signer_socket);
	db_close(d.db);
	if (e)
		return cli_fail(&err);
	return CLI_OK;
}

const struct cli_command cli_demo_commands[] = {
	{ "demo", "", "", "Walk one DCMS application to an issued certificate, with demo parties",
	  demo_cmd },
	{ NULL, NULL, NULL, NULL, NULL },
};
