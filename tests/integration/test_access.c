/*
 * The authorisation table, walked: every route of conformd is called with
 * every role and with no token, and must answer 401 (no token), 403 (a role
 * the table does not allow) or its success status. A route that this
 * suite's table does not list fails the suite, so a new route cannot go
 * without a decision on who may call it. Ownership rules are checked
 * separately, by calls on other organisations' resources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "router.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

enum { NONE, ADMIN, ACCREDITOR, ASSESSOR, CERTIFIER, APPLICANT, ORG_ADMIN, NROLES };
static const char *const role_names[NROLES] = { "no token", "admin", "accreditor", "assessor",
						"certifier", "applicant", "org_admin" };
#define A(r) (1u << (r))
#define EVERYONE (A(ADMIN) | A(ACCREDITOR) | A(ASSESSOR) | A(CERTIFIER) | A(APPLICANT) | A(ORG_ADMIN))

static struct actor *actor_of(int role)
{
	switch (role) {
	case ADMIN:
		return &w.admin;
	case ACCREDITOR:
		return &w.accreditor;
	case ASSESSOR:
		return &w.assessor;
	case CERTIFIER:
		return &w.certifier;
	case APPLICANT:
		return &w.applicant;
	case ORG_ADMIN:
		return &w.body_admin; /* the assessment body's administrator */
	}
	return &w.admin; /* NONE: its token is never sent */
}

struct call {
	char path[256];
	json_t *body;
	char if_match[24];
};

typedef void (*prepare_fn)(struct call *c, int role);

struct access_case {
	const char *method, *pattern;
	bool public_access;
	unsigned allowed;   /* roles that succeed */
	long ok;            /* their status */
	prepare_fn prepare; /* NULL: the pattern is the path */
};

/* The caller's own things; the admin's for "no token" (the answer is 401
 * before anything is looked at). */
static struct actor *me(int role)
{
	return role == NONE ? &w.admin : actor_of(role);
}

static void own_org(struct call *c, int role)
{
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s", me(role)->org);
}

static void own_org_patch(struct call *c, int role)
{
	own_org(c, role);
	c->body = json_pack("{s:s}", "website", "https://example.org/updated");
}

static int serial;

/* The assessment body's keys: only its administrator manages them. */
static void body_keys(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s/keys", w.body_admin.org);
}

/* A fresh key of the body, made by its administrator, to retire. */
static void body_key_retire(struct call *c, int role)
{
	(void)role;
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", w.body_admin.org);
	json_t *k = testsrv_api_ok(&w.srv, "POST", path, w.body_admin.token, NULL, 201);
	snprintf(c->path, sizeof c->path, "/v1/keys/%s/retire", json_string_value(json_object_get(k, "kid")));
	json_decref(k);
}

/* A fresh key of the body, to revoke as compromised since a time before it
 * signed anything. */
static void body_key_revoke(struct call *c, int role)
{
	body_key_retire(c, role);
	char *end = strrchr(c->path, '/');
	snprintf(end, sizeof c->path - (size_t)(end - c->path), "/revoke");
	c->body = json_pack("{s:b,s:s,s:s}", "compromised", 1, "since", "2020-01-01T00:00:00Z",
			    "reason", "the access matrix declares it");
}

static void new_org(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/organisations");
	c->body = json_pack("{s:s,s:s,s:s,s:{s:s}}", "kind", "assessment_body", "name", "Matrix Lab",
			    "country", "DE", "contact", "email", "lab@example.org");
}

/* A person of the caller's own organisation, in a role that fits it: an
 * administrator staffs its own organisation only. */
static void new_user(struct call *c, int role)
{
	char email[64];
	snprintf(email, sizeof email, "matrix%d@example.org", ++serial);
	snprintf(c->path, sizeof c->path, "/v1/users");
	static const char *const fits[NROLES] = { "admin", "admin", "accreditor", "assessor",
						  "certifier", "applicant", "assessor" };
	const char *r = fits[role];
	c->body = json_pack("{s:s,s:s,s:s,s:[s]}", "org_id", me(role)->org, "name", "Matrix Person",
			    "email", email, "roles", r);
}

static void self(struct call *c, int role)
{
	snprintf(c->path, sizeof c->path, "/v1/users/%s", me(role)->user);
}

/* Another person of the caller's own organisation (the scheme owner's admin
 * has only itself there). */
static void user_patch(struct call *c, int role)
{
	const struct actor *who = role == ORG_ADMIN ? &w.assessor2 : me(role);
	snprintf(c->path, sizeof c->path, "/v1/users/%s", who->user);
	c->body = json_pack("{s:s}", "name", role == ORG_ADMIN ? "Sue B. Assessor" : "Renamed");
}

static void self_tokens(struct call *c, int role)
{
	snprintf(c->path, sizeof c->path, "/v1/users/%s/tokens", me(role)->user);
}

static void self_token_new(struct call *c, int role)
{
	self_tokens(c, role);
	c->body = json_pack("{s:s,s:i}", "name", "matrix", "expires_in_days", 1);
}

/* A fresh token of the caller's, made by the caller. */
static void own_token_revoke(struct call *c, int role)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", me(role)->user);
	json_t *t = testsrv_api_ok(&w.srv, "POST", path, me(role)->token, NULL, 201);
	json_array_append(w.secrets, json_object_get(t, "token"));
	snprintf(c->path, sizeof c->path, "/v1/tokens/%s/revoke", jsonx_str(t, "id"));
	json_decref(t);
}

static void new_accreditation(struct call *c, int role)
{
	(void)role;
	char ref[48];
	snprintf(ref, sizeof ref, "MATRIX-%d", ++serial);
	snprintf(c->path, sizeof c->path, "/v1/accreditations");
	c->body = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", w.certifier.org, "scheme_id",
			    "uk-psti", "max_class", 0, "reference", ref, "valid_from", "2026-01-01",
			    "valid_until", "2028-01-01");
}

static void existing_accreditation(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/accreditations/%s", w.accreditation_dcms);
}

/* A fresh accreditation for a change; suspended first when to reinstate. */
static void acc_change(struct call *c, const char *action, bool suspended)
{
	char id[37];
	world_accredit(&w, w.certifier.org, "etsi-en-303-645", 0, id);
	if (suspended) {
		char path[128];
		snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", id);
		json_t *b = json_pack("{s:s}", "reason", "matrix");
		json_decref(testsrv_api_ok(&w.srv, "POST", path, w.accreditor.token, b, 200));
		json_decref(b);
	}
	snprintf(c->path, sizeof c->path, "/v1/accreditations/%s/%s", id, action);
	c->body = json_pack("{s:s}", "reason", "matrix test");
}

static void acc_suspend(struct call *c, int role)
{
	(void)role;
	acc_change(c, "suspend", false);
}

static void acc_reinstate(struct call *c, int role)
{
	(void)role;
	acc_change(c, "reinstate", true);
}

static void acc_withdraw(struct call *c, int role)
{
	(void)role;
	acc_change(c, "withdraw", false);
}

static int apps_made;

static void product_own(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/products/%s", world_product(&w));
}

static void product_patch(struct call *c, int role)
{
	product_own(c, role);
	c->body = json_pack("{s:s}", "description", "updated by the access test");
}

static void new_product(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/products");
	c->body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "Matrix Hub", "model", "MX-1",
			    "hardware_version", "1", "firmware_version", "1.0", "support_end", "2030-01-01");
}

static void new_application(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/applications");
	c->body = json_pack("{s:s,s:s,s:s,s:s}", "product_id", world_product(&w), "scheme_id",
			    "dcms-cop", "scheme_version", "2018", "assessment_type", "self");
}

/* An application in state, at "/v1/applications/{id}" + suffix. */
static void app_path(struct call *c, const char *state, const char *suffix)
{
	char id[37];
	world_application(&w, state, id);
	apps_made++;
	snprintf(c->path, sizeof c->path, "/v1/applications/%s%s", id, suffix);
	world_etag(&w, id, c->if_match);
}

static void app_submitted(struct call *c, int role)
{
	(void)role;
	app_path(c, "submitted", "");
}

static void app_coverage(struct call *c, int role)
{
	(void)role;
	app_path(c, "submitted", "/coverage?scheme=uk-psti@2023");
}

static void app_draft_patch(struct call *c, int role)
{
	(void)role;
	app_path(c, "draft", "");
	c->body = json_pack("{s:{s:s}}", "owners", "Software", "Head of software");
}

static void app_answer(struct call *c, int role)
{
	(void)role;
	app_path(c, "draft", "/answers/DCMS-5");
	c->body = json_pack("{s:s,s:s}", "statement", "compliant", "text", "TLS 1.3 everywhere");
}

/* The Annex B table of a submitted DCMS application: every role the table
 * allows gets past the authorisation to the domain's 404 (a DCMS
 * application has none; the world's body is not accredited for ETSI EN
 * 303 645, so no ETSI application reaches it), the others 403. Its exports
 * themselves: api/ics, unit/test_ics. */
static void app_ics_read(struct call *c, int role)
{
	(void)role;
	app_path(c, "submitted", "/ics");
}

/* An ETSI EN 303 645 self declaration's draft, its Annex B table imported
 * as JSON. */
static void app_ics_import(struct call *c, int role)
{
	(void)role;
	json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "product_id", world_product(&w), "scheme_id",
			      "etsi-en-303-645", "scheme_version", "2.1.1", "assessment_type", "self");
	json_t *a = testsrv_api_ok(&w.srv, "POST", "/v1/applications", w.applicant.token, b, 201);
	json_decref(b);
	apps_made++;
	snprintf(c->path, sizeof c->path, "/v1/applications/%s/ics", jsonx_str(a, "id"));
	world_etag(&w, jsonx_str(a, "id"), c->if_match);
	json_decref(a);
	c->body = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "provisions", "reference", "5.1-3", "status",
			    "M", "support", "Y", "detail", "access walk");
}

/* Each role's own action, on an application in the state it needs. */
static void app_action(struct call *c, int role)
{
	if (role == ASSESSOR)
		app_path(c, "submitted", "/actions/take");
	else if (role == CERTIFIER) {
		app_path(c, "evaluated", "/actions/decide");
		c->body = json_pack("{s:s,s:s}", "decision", "approve", "rationale", "matrix");
	} else if (role == ORG_ADMIN) {
		/* the body's lead hands the evaluation to another assessor */
		app_path(c, "in_evaluation", "/actions/reassign");
		c->body = json_pack("{s:s,s:s}", "assessor_id", w.assessor2.user, "reason",
				    "access walk");
	} else
		app_path(c, "draft", "/actions/withdraw");
}

static void app_verdict(struct call *c, int role)
{
	(void)role;
	app_path(c, "in_evaluation", "/verdicts");
	c->body = json_pack("{s:s,s:s}", "ref", "DCMS-1", "verdict", "pass");
}

static void app_verdicts_read(struct call *c, int role)
{
	(void)role;
	app_path(c, "in_evaluation", "/verdicts");
}

static void evidence_new(struct call *c, int role)
{
	(void)role;
	app_path(c, "draft", "/evidence?name=matrix.json&refs=DCMS-1");
	c->body = json_pack("{s:s}", "evidence", "a JSON file is evidence too");
}

/* A submitted application with one evidence file; suffix "" lists, "/file" names it. */
static void evidence_of(struct call *c, const char *state, bool file)
{
	char id[37];
	world_application(&w, "draft", id);
	apps_made++;
	char path[160];
	snprintf(path, sizeof path, "/v1/applications/%s/evidence?name=f.txt&refs=DCMS-1", id);
	json_t *b = json_pack("{s:s}", "x", "y");
	json_t *e = testsrv_api_ok(&w.srv, "POST", path, w.applicant.token, b, 201);
	json_decref(b);
	if (strcmp(state, "submitted") == 0) {
		json_t *ans = json_pack("{s:s,s:s}", "statement", "compliant", "text", "yes");
		for (int i = 1; i <= 13; i++) {
			snprintf(path, sizeof path, "/v1/applications/%s/answers/DCMS-%d", id, i);
			json_decref(testsrv_api_ok(&w.srv, "PUT", path, w.applicant.token, ans, 200));
		}
		json_decref(ans);
		json_decref(world_act(&w, id, &w.applicant, "submit", NULL, 200));
	}
	if (file)
		snprintf(c->path, sizeof c->path, "%s", json_string_value(json_object_get(e, "href")));
	else
		snprintf(c->path, sizeof c->path, "/v1/applications/%s/evidence", id);
	json_decref(e);
}

static void evidence_list_of(struct call *c, int role)
{
	(void)role;
	evidence_of(c, "submitted", false);
}

static void evidence_file(struct call *c, int role)
{
	(void)role;
	evidence_of(c, "submitted", true);
}

static void evidence_draft_file(struct call *c, int role)
{
	(void)role;
	evidence_of(c, "draft", true);
}

static void app_decided_certificate(struct call *c, int role)
{
	(void)role;
	app_path(c, "decided", "/certificate");
	c->if_match[0] = '\0';
}

/* A decided application's OSCAL assessment results: one application for
 * every role (reading changes nothing). */
static char shared_decided[37];

static void app_decided_oscal(struct call *c, int role)
{
	(void)role;
	if (!shared_decided[0]) {
		world_application(&w, "decided", shared_decided);
		apps_made++;
	}
	snprintf(c->path, sizeof c->path, "/v1/applications/%s/oscal", shared_decided);
}

static char shared_serial[40];

static const char *a_serial(void)
{
	if (!shared_serial[0]) {
		world_certificate(&w, shared_serial);
		world_wait_checkpoint(&w, 1);
	}
	return shared_serial;
}

static void cert_path(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s", a_serial());
}

static void cert_jws(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/jws", a_serial());
}

static void cert_qr(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/qr.svg", a_serial());
}

static void cert_badge(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/badge.svg", a_serial());
}

static void cert_coverage(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/coverage?scheme=uk-psti@2023",
		 a_serial());
}

/* The bundle is 503 until a checkpoint covers the certificate: wait for that. */
static void cert_bundle(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/bundle", a_serial());
	double deadline = tsupport_now() + 20;
	for (;;) {
		struct http_resp r;
		testsrv_req(&w.srv, &r, "GET", c->path, NULL, NULL);
		long status = r.status;
		http_resp_free(&r);
		if (status != 503 || tsupport_now() > deadline)
			break;
		usleep(100000);
	}
}

static void cert_page(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/verify/%s", a_serial());
}

/* A fresh certificate for a status change; suspended first to reinstate. */
static void cert_change(struct call *c, const char *action, bool suspend_first)
{
	char fresh[40];
	world_certificate(&w, fresh);
	if (suspend_first) {
		char path[96];
		snprintf(path, sizeof path, "/v1/certificates/%s/suspend", fresh);
		json_t *b = json_pack("{s:s,s:s}", "reason_code", "nonconformity", "reason", "matrix");
		json_decref(testsrv_api_ok(&w.srv, "POST", path, w.certifier.token, b, 200));
		json_decref(b);
	}
	snprintf(c->path, sizeof c->path, "/v1/certificates/%s/%s", fresh, action);
	c->body = json_pack("{s:s,s:s}", "reason_code", "administrative", "reason", "matrix test");
}

static void cert_suspend(struct call *c, int role)
{
	(void)role;
	cert_change(c, "suspend", false);
}

static void cert_reinstate(struct call *c, int role)
{
	(void)role;
	cert_change(c, "reinstate", true);
}

static void cert_withdraw(struct call *c, int role)
{
	(void)role;
	cert_change(c, "withdraw", false);
}

static void verify_body(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/verify");
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", a_serial());
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", path, NULL, NULL);
	c->body = json_pack("{s:s#}", "jws", r.body, r.len);
	http_resp_free(&r);
}

static void did_doc(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/bodies/%s/did.json", w.certifier.org);
}

static void status_list(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/bodies/%s/status/revocation", w.certifier.org);
}

static void log_path(struct call *c, const char *path)
{
	a_serial(); /* a log with a signed head */
	snprintf(c->path, sizeof c->path, "%s", path);
}

static void log_head(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/tree-head");
}

static void log_checkpoint(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/checkpoint");
}

static void log_vkey(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/vkey");
}

static void log_entries(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/entries?start=0&end=5");
}

static void log_inclusion(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/proof/inclusion?index=0");
}

static void log_consistency(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/log/proof/consistency?first=1&second=1");
}

/* tlog-tiles: a partial tile of width 1 is covered by any signed head */
static void tiles_checkpoint(struct call *c, int role)
{
	(void)role;
	log_path(c, "/log/checkpoint");
}

static void tiles_entries(struct call *c, int role)
{
	(void)role;
	log_path(c, "/log/tile/entries/000.p/1");
}

static void tiles_tile(struct call *c, int role)
{
	(void)role;
	log_path(c, "/log/tile/0/000.p/1");
}

/* The feed (signed by the log key). */
static void feed_path(struct call *c, int role)
{
	(void)role;
	log_path(c, "/v1/feed?limit=5");
}

/* A webhook of the assessment body, made by its administrator; its target
 * is a closed loopback port (this suite's conformd allows loopback). */
static void body_webhook_id(char id[37])
{
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s/webhooks", w.body_admin.org);
	json_t *body = json_pack("{s:s}", "url", "http://127.0.0.1:9/access");
	json_t *h = testsrv_api_ok(&w.srv, "POST", path, w.body_admin.token, body, 201);
	snprintf(id, 37, "%s", jsonx_str(h, "id"));
	json_decref(h);
	json_decref(body);
}

static void webhooks_new(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s/webhooks", w.body_admin.org);
	c->body = json_pack("{s:s,s:{s:s}}", "url", "http://127.0.0.1:9/new", "filter", "scheme", "dcms-cop");
}

static void webhooks_list(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s/webhooks", w.body_admin.org);
}

static void webhook_one(struct call *c, int role)
{
	(void)role;
	char id[37];
	body_webhook_id(id);
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s/webhooks/%s", w.body_admin.org, id);
}

static void webhook_deliveries(struct call *c, int role)
{
	webhook_one(c, role);
	size_t n = strlen(c->path);
	snprintf(c->path + n, sizeof c->path - n, "/deliveries");
}

/* A delivery of a fresh webhook, written into the outbox as the log's
 * trigger would (its target never answers: the delivery stays due). */
static void webhook_replay(struct call *c, int role)
{
	(void)role;
	static unsigned made;
	char id[37], did[40];
	body_webhook_id(id);
	a_serial();
	snprintf(did, sizeof did, "msg_%024x%08x", (unsigned)rand(), ++made);
	const char *p[] = { did, id };
	PQclear(testdb_super_query(&w.db,
		"INSERT INTO webhook_delivery (id, subscription_id, log_index, type, payload)"
		" SELECT $1, $2, min(idx), 'certificate.issued', '{}' FROM tlog_entry", 2, p));
	snprintf(c->path, sizeof c->path, "/v1/organisations/%s/webhooks/%s/deliveries/%s/replay",
		 w.body_admin.org, id, did);
}

static void body_entry(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/bodies/%s", w.certifier.org);
}


static void gs1_path(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/01/04006381333931");
}

static void gs1_path_lot(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/01/04006381333931/10/L1");
}

static void gs1_path_ser(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/01/04006381333931/21/S1");
}

static void gs1_path_both(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/01/04006381333931/10/L1/21/S1");
}

/* The shelf check of two GTINs, one of them malformed (an answer line, not
 * a failure). */
static void shelf_body(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/shelf-check");
	c->body = json_pack("[s,s]", "4006381333931", "123");
}

/* Complaints and appeals: a complaint about the world's body (nobody was
 * involved in it, so the world's certifier decides), lodged without a
 * token. */
static void complaint_new(struct call *c, int role)
{
	(void)role;
	snprintf(c->path, sizeof c->path, "/v1/complaints");
	c->body = json_pack("{s:s,s:s}", "body_id", w.certifier.org, "text", "the access walk complains");
}

static void complaint_lodged(char id[37])
{
	json_t *b = json_pack("{s:s,s:s}", "body_id", w.certifier.org, "text", "a case to read");
	json_t *k = testsrv_api_ok(&w.srv, "POST", "/v1/complaints", NULL, b, 201);
	snprintf(id, 37, "%s", jsonx_str(k, "id"));
	json_decref(k);
	json_decref(b);
}

static void case_one(struct call *c, int role)
{
	(void)role;
	char id[37];
	complaint_lodged(id);
	snprintf(c->path, sizeof c->path, "/v1/cases/%s", id);
}

static void case_decision(struct call *c, int role)
{
	case_one(c, role);
	size_t n = strlen(c->path);
	snprintf(c->path + n, sizeof c->path - n, "/decision");
	c->body = json_pack("{s:s,s:s}", "outcome", "dismissed", "rationale", "the access walk");
}

/* A fresh application refused by the world's certifier, to appeal (one
 * open appeal per application). The body's administrator is not its
 * manufacturer's: the domain refuses it (403). */
static void appeal_new(struct call *c, int role)
{
	(void)role;
	char id[37];
	world_application(&w, "evaluated", id);
	apps_made++;
	json_decref(world_act(&w, id, &w.certifier, "decide",
			      "{\"decision\":\"reject\",\"rationale\":\"access walk\"}", 200));
	snprintf(c->path, sizeof c->path, "/v1/appeals");
	c->body = json_pack("{s:s,s:s}", "application_id", id, "text", "the access walk appeals");
}

static const struct access_case cases[] = {
	{ "GET", "/v1/health", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/ready", true, EVERYONE, 200, NULL },
	{ "GET", "/metrics", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/openapi.json", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes/{id}", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes/{id}/versions/{version}", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes/{id}/versions/{version}/requirements", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes/{id}/versions/{version}/checklist", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/schemes/{id}/versions/{version}/oscal", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/crosswalk", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/me", false, EVERYONE, 200, NULL },
	{ "POST", "/v1/organisations", false, A(ADMIN), 201, new_org },
	{ "GET", "/v1/organisations", false, A(ADMIN), 200, NULL },
	{ "GET", "/v1/organisations/{id}", false, EVERYONE, 200, own_org },
	{ "PATCH", "/v1/organisations/{id}", false, A(ADMIN) | A(APPLICANT) | A(ORG_ADMIN), 200,
	  own_org_patch },
	{ "POST", "/v1/users", false, A(ADMIN) | A(ORG_ADMIN), 201, new_user },
	{ "GET", "/v1/users", false, A(ADMIN) | A(ORG_ADMIN), 200, NULL },
	{ "GET", "/v1/users/{id}", false, EVERYONE, 200, self },
	{ "PATCH", "/v1/users/{id}", false, A(ADMIN) | A(ORG_ADMIN), 200, user_patch },
	{ "POST", "/v1/users/{id}/tokens", false, EVERYONE, 201, self_token_new },
	{ "GET", "/v1/users/{id}/tokens", false, EVERYONE, 200, self_tokens },
	{ "POST", "/v1/tokens/{id}/revoke", false, EVERYONE, 200, own_token_revoke },
	{ "POST", "/v1/organisations/{id}/keys", false, A(ORG_ADMIN), 201, body_keys },
	{ "GET", "/v1/organisations/{id}/keys", false, A(ADMIN) | A(ORG_ADMIN), 200, body_keys },
	{ "POST", "/v1/keys/{id}/retire", false, A(ORG_ADMIN), 200, body_key_retire },
	{ "POST", "/v1/keys/{id}/revoke", false, A(ORG_ADMIN), 200, body_key_revoke },
	{ "POST", "/v1/accreditations", false, A(ACCREDITOR), 201, new_accreditation },
	{ "GET", "/v1/accreditations", false, A(ADMIN) | A(ACCREDITOR), 200, NULL },
	{ "GET", "/v1/accreditations/{id}", false, A(ADMIN) | A(ACCREDITOR), 200, existing_accreditation },
	{ "POST", "/v1/accreditations/{id}/suspend", false, A(ACCREDITOR), 200, acc_suspend },
	{ "POST", "/v1/accreditations/{id}/reinstate", false, A(ACCREDITOR), 200, acc_reinstate },
	{ "POST", "/v1/accreditations/{id}/withdraw", false, A(ACCREDITOR), 200, acc_withdraw },
	{ "GET", "/v1/bodies", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/bodies/{id}", true, EVERYONE, 200, body_entry },
	{ "GET", "/v1/audit", false, A(ADMIN), 200, NULL },
	{ "POST", "/v1/products", false, A(APPLICANT), 201, new_product },
	{ "GET", "/v1/products", false, A(ADMIN) | A(APPLICANT), 200, NULL },
	{ "GET", "/v1/products/{id}", false, A(ADMIN) | A(APPLICANT), 200, product_own },
	{ "PATCH", "/v1/products/{id}", false, A(APPLICANT), 200, product_patch },
	{ "POST", "/v1/applications", false, A(APPLICANT), 201, new_application },
	{ "GET", "/v1/applications", false, A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER), 200, NULL },
	{ "GET", "/v1/applications/{id}", false,
	  A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200, app_submitted },
	{ "GET", "/v1/applications/{id}/coverage", false,
	  A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200, app_coverage },
	{ "PATCH", "/v1/applications/{id}", false, A(APPLICANT), 200, app_draft_patch },
	{ "PUT", "/v1/applications/{id}/answers/{ref}", false, A(APPLICANT), 200, app_answer },
	{ "GET", "/v1/applications/{id}/ics", false,
	  A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 404, app_ics_read },
	{ "PUT", "/v1/applications/{id}/ics", false, A(APPLICANT), 200, app_ics_import },
	{ "POST", "/v1/applications/{id}/actions/{action}", false,
	  A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200, app_action },
	{ "POST", "/v1/applications/{id}/verdicts", false, A(ASSESSOR), 200, app_verdict },
	{ "GET", "/v1/applications/{id}/verdicts", false, A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER),
	  200, app_verdicts_read },
	{ "GET", "/v1/applications/{id}/oscal", false,
	  A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200, app_decided_oscal },
	{ "POST", "/v1/applications/{id}/evidence", false, A(APPLICANT), 201, evidence_new },
	{ "GET", "/v1/applications/{id}/evidence", false, A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER),
	  200, evidence_list_of },
	{ "GET", "/v1/applications/{id}/evidence/{eid}", false,
	  A(ADMIN) | A(APPLICANT) | A(ASSESSOR) | A(CERTIFIER), 200, evidence_file },
	{ "DELETE", "/v1/applications/{id}/evidence/{eid}", false, A(APPLICANT), 204, evidence_draft_file },
	{ "POST", "/v1/applications/{id}/certificate", false, A(CERTIFIER), 201, app_decided_certificate },
	{ "GET", "/v1/certificates", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/certificates/{serial}", true, EVERYONE, 200, cert_path },
	{ "GET", "/v1/certificates/{serial}/jws", true, EVERYONE, 200, cert_jws },
	{ "GET", "/v1/certificates/{serial}/bundle", true, EVERYONE, 200, cert_bundle },
	{ "GET", "/v1/certificates/{serial}/qr.svg", true, EVERYONE, 200, cert_qr },
	{ "GET", "/v1/certificates/{serial}/badge.svg", true, EVERYONE, 200, cert_badge },
	{ "GET", "/v1/certificates/{serial}/coverage", true, EVERYONE, 200, cert_coverage },
	{ "POST", "/v1/certificates/{serial}/suspend", false, A(ADMIN) | A(CERTIFIER), 200, cert_suspend },
	{ "POST", "/v1/certificates/{serial}/reinstate", false, A(ADMIN) | A(CERTIFIER), 200, cert_reinstate },
	{ "POST", "/v1/certificates/{serial}/withdraw", false, A(ADMIN) | A(CERTIFIER), 200, cert_withdraw },
	{ "POST", "/v1/verify", true, EVERYONE, 200, verify_body },
	{ "GET", "/v1/register/export", true, EVERYONE, 200, NULL },
	{ "GET", "/v1/register/export.csv", true, EVERYONE, 200, NULL },
	{ "GET", "/.well-known/jwks.json", true, EVERYONE, 200, NULL },
	{ "GET", "/bodies/{id}/did.json", true, EVERYONE, 200, did_doc },
	{ "GET", "/v1/bodies/{id}/status/{purpose}", true, EVERYONE, 200, status_list },
	{ "GET", "/contexts/conformity/v1", true, EVERYONE, 200, NULL },
	{ "GET", "/schemas/conformity-certificate/v1", true, EVERYONE, 200, NULL },
	{ "GET", "/verify/{serial}", true, EVERYONE, 200, cert_page },
	{ "GET", "/v1/feed", true, EVERYONE, 200, feed_path },
	/* the resolver: a GTIN no product of this world states (public: 404
	 * to everyone, the same as to a token-less caller) */
	{ "GET", "/01/{gtin}", true, EVERYONE, 404, gs1_path },
	{ "GET", "/01/{gtin}/10/{lot}", true, EVERYONE, 404, gs1_path_lot },
	{ "GET", "/01/{gtin}/21/{ser}", true, EVERYONE, 404, gs1_path_ser },
	{ "GET", "/01/{gtin}/10/{lot}/21/{ser}", true, EVERYONE, 404, gs1_path_both },
	{ "POST", "/v1/shelf-check", true, EVERYONE, 200, shelf_body },
	{ "POST", "/v1/organisations/{id}/webhooks", false, A(ORG_ADMIN), 201, webhooks_new },
	{ "GET", "/v1/organisations/{id}/webhooks", false, A(ADMIN) | A(ORG_ADMIN), 200, webhooks_list },
	{ "DELETE", "/v1/organisations/{id}/webhooks/{webhook}", false, A(ORG_ADMIN), 204, webhook_one },
	{ "GET", "/v1/organisations/{id}/webhooks/{webhook}/deliveries", false, A(ADMIN) | A(ORG_ADMIN),
	  200, webhook_deliveries },
	{ "POST", "/v1/organisations/{id}/webhooks/{webhook}/deliveries/{delivery}/replay", false,
	  A(ORG_ADMIN), 202, webhook_replay },
	{ "GET", "/v1/log/tree-head", true, EVERYONE, 200, log_head },
	{ "GET", "/v1/log/checkpoint", true, EVERYONE, 200, log_checkpoint },
	{ "GET", "/v1/log/vkey", true, EVERYONE, 200, log_vkey },
	{ "GET", "/v1/log/entries", true, EVERYONE, 200, log_entries },
	{ "GET", "/v1/log/proof/inclusion", true, EVERYONE, 200, log_inclusion },
	{ "GET", "/v1/log/proof/consistency", true, EVERYONE, 200, log_consistency },
	{ "GET", "/log/checkpoint", true, EVERYONE, 200, tiles_checkpoint },
	{ "GET", "/log/tile/entries/{N}", true, EVERYONE, 200, tiles_entries },
	{ "GET", "/log/tile/{L}/{N}", true, EVERYONE, 200, tiles_tile },
	{ "POST", "/v1/complaints", true, EVERYONE, 201, complaint_new },
	{ "POST", "/v1/appeals", false, A(APPLICANT), 201, appeal_new },
	{ "GET", "/v1/cases", false, A(ADMIN) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200, NULL },
	{ "GET", "/v1/cases/{id}", false, A(ADMIN) | A(ASSESSOR) | A(CERTIFIER) | A(ORG_ADMIN), 200,
	  case_one },
	{ "POST", "/v1/cases/{id}/decision", false, A(CERTIFIER), 200, case_decision },
};

/* The concrete path of a parameterless case, or of the public scheme routes. */
static void default_path(const struct access_case *k, struct call *c)
{
	static const struct {
		const char *pattern, *path;
	} paths[] = {
		{ "/v1/schemes/{id}", "/v1/schemes/dcms-cop" },
		{ "/v1/schemes/{id}/versions/{version}", "/v1/schemes/dcms-cop/versions/2018" },
		{ "/v1/schemes/{id}/versions/{version}/requirements",
		  "/v1/schemes/dcms-cop/versions/2018/requirements" },
		{ "/v1/schemes/{id}/versions/{version}/checklist",
		  "/v1/schemes/dcms-cop/versions/2018/checklist?class=0" },
		{ "/v1/schemes/{id}/versions/{version}/oscal", "/v1/schemes/dcms-cop/versions/2018/oscal" },
		{ "/v1/crosswalk", "/v1/crosswalk?from=dcms-cop@2018&to=etsi-en-303-645@2.1.1" },
	};
	snprintf(c->path, sizeof c->path, "%s", k->pattern);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (strcmp(paths[i].pattern, k->pattern) == 0)
			snprintf(c->path, sizeof c->path, "%s", paths[i].path);
}

static const struct access_case *find_case(const char *method, const char *pattern)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(cases[i].method, method) == 0 && strcmp(cases[i].pattern, pattern) == 0)
			return &cases[i];
	return NULL;
}

START_TEST(every_route_every_role)
{
	size_t n;
	const struct route *routes = router_routes(&n);
	int calls = 0;
	for (size_t i = 0; i < n; i++) {
		const struct access_case *k = find_case(routes[i].method, routes[i].pattern);
		ck_assert_msg(k != NULL, "%s %s is not in the access table of this test: decide who "
					 "may call it", routes[i].method, routes[i].pattern);
		ck_assert_msg(k->public_access == routes[i].access.public_access,
			      "%s %s: public in one table, not in the other", k->method, k->pattern);
		for (int role = NONE; role < NROLES; role++) {
			struct call c = { .body = NULL };
			if (k->prepare)
				k->prepare(&c, role);
			else
				default_path(k, &c);
			long expect = k->public_access || (role != NONE && (k->allowed & A(role))) ? k->ok
				      : role == NONE ? 401 : 403;
			char auth[96], im[64];
			const char *headers[4];
			int nh = 0;
			if (role != NONE) {
				snprintf(auth, sizeof auth, "Authorization: Bearer %s", actor_of(role)->token);
				headers[nh++] = auth;
			}
			if (c.if_match[0]) {
				snprintf(im, sizeof im, "If-Match: %s", c.if_match);
				headers[nh++] = im;
			}
			char *text = c.body ? json_dumps(c.body, JSON_COMPACT) : NULL;
			if (text)
				headers[nh++] = "Content-Type: application/json";
			headers[nh] = NULL;
			struct http_resp h;
			testsrv_req(&w.srv, &h, k->method, c.path, headers, text);
			ck_assert_msg(h.status == expect, "%s %s as %s: %ld, expected %ld: %.300s", k->method,
				      c.path, role_names[role], h.status, expect, h.body);
			http_resp_free(&h);
			free(text);
			json_decref(c.body);
			calls++;
		}
	}
	printf("access: %zu routes x %d callers = %d calls (%d applications made)\n", n, NROLES, calls,
	       apps_made);
}
END_TEST

START_TEST(ownership_is_enforced)
{
	char path[160];
	long status;
	/* another organisation, another person, another person's tokens */
	snprintf(path, sizeof path, "/v1/organisations/%s", w.applicant2.org);
	json_decref(testsrv_api(&w.srv, "GET", path, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	json_t *patch = json_pack("{s:s}", "name", "Hijacked");
	json_decref(testsrv_api(&w.srv, "PATCH", path, w.applicant.token, patch, &status));
	ck_assert_int_eq(status, 403);
	json_decref(patch);
	snprintf(path, sizeof path, "/v1/users/%s", w.applicant2.user);
	json_decref(testsrv_api(&w.srv, "GET", path, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant2.user);
	json_decref(testsrv_api(&w.srv, "POST", path, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	const char *other = jsonx_str(json_array_get(json_object_get(list, "items"), 0), "id");
	snprintf(path, sizeof path, "/v1/tokens/%s/revoke", other);
	json_decref(testsrv_api(&w.srv, "POST", path, w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	json_decref(list);
	/* an unknown token is 404 for a role that could own one */
	json_decref(testsrv_api(&w.srv, "POST",
				"/v1/tokens/00000000-0000-4000-8000-000000000000/revoke",
				w.applicant.token, NULL, &status));
	ck_assert_int_eq(status, 404);

	/* an organisation's administrator reaches no other organisation's people,
	 * tokens or details */
	snprintf(path, sizeof path, "/v1/users/%s", w.applicant2.user);
	json_decref(testsrv_api(&w.srv, "GET", path, w.body_admin.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant2.user);
	json_decref(testsrv_api(&w.srv, "GET", path, w.body_admin.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	list = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	snprintf(path, sizeof path, "/v1/tokens/%s/revoke",
		 jsonx_str(json_array_get(json_object_get(list, "items"), 0), "id"));
	json_decref(list);
	json_decref(testsrv_api(&w.srv, "POST", path, w.body_admin.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	snprintf(path, sizeof path, "/v1/organisations/%s", w.applicant2.org);
	patch = json_pack("{s:s}", "name", "Taken Over");
	json_decref(testsrv_api(&w.srv, "PATCH", path, w.body_admin.token, patch, &status));
	ck_assert_int_eq(status, 403);
	json_decref(patch);
	/* nor does the scheme owner's admin change a body's people */
	snprintf(path, sizeof path, "/v1/users/%s", w.assessor.user);
	patch = json_pack("{s:[s,s]}", "roles", "assessor", "certifier");
	json_decref(testsrv_api(&w.srv, "PATCH", path, w.admin.token, patch, &status));
	ck_assert_int_eq(status, 403);
	json_decref(patch);

	/* an accreditation granted by another accreditation body */
	char ab2[37];
	world_org(&w, "accreditation_body", "Other Accreditation", ab2);
	struct actor other_acc;
	world_person(&w, &other_acc, ab2, "[\"accreditor\"]", "Oscar Accreditor");
	snprintf(path, sizeof path, "/v1/accreditations/%s", w.accreditation_dcms);
	json_decref(testsrv_api(&w.srv, "GET", path, other_acc.token, NULL, &status));
	ck_assert_int_eq(status, 403);
	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_t *b = json_pack("{s:s}", "reason", "not mine");
	json_decref(testsrv_api(&w.srv, "POST", path, other_acc.token, b, &status));
	ck_assert_int_eq(status, 403);
	json_decref(b);
	/* and its list holds none of the first body's grants */
	json_t *accs = testsrv_api_ok(&w.srv, "GET", "/v1/accreditations", other_acc.token, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(accs, "items")), 0);
	json_decref(accs);
}
END_TEST

START_TEST(a_bad_token_on_a_public_route_is_refused)
{
	long status;
	json_t *r = testsrv_api(&w.srv, "GET", "/v1/schemes", "cfm_not-a-real-token", NULL, &status);
	ck_assert_int_eq(status, 401);
	json_decref(r);
	struct http_resp h;
	const char *hdr[] = { "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL };
	testsrv_req(&w.srv, &h, "GET", "/v1/me", hdr, NULL);
	ck_assert_int_eq(h.status, 401);
	char www[128];
	ck_assert_ptr_nonnull(http_header(&h, "WWW-Authenticate", www, sizeof www));
	http_resp_free(&h);
}
END_TEST

static void setup(void)
{
	/* webhooks made here point at a closed loopback port */
	const char *env[] = { "CONFORM_WEBHOOK_ALLOW_PRIVATE=1",
			      /* every complaint of the walk comes from loopback */
			      "CONFORM_COMPLAINT_LIMIT=1000", NULL };
	world_create(&w, "access", env);
}

static void teardown(void)
{
	world_destroy(&w);
}

int main(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("access");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_route_every_role);
	tcase_add_test(tc, ownership_is_enforced);
	tcase_add_test(tc, a_bad_token_on_a_public_route_is_refused);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
