/*
 * router: the route table and path matching (see router.h). The table is
 * the one place that lists what conformd serves; tests walk it to check the
 * OpenAPI description and the authorisation of every route.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "certificate.h"
#include "mem.h"
#include "page.h"
#include "routes/routes.h"

/* Access policies: PUBLIC, or grants of (roles, ownership rule). */
#define PUBLIC { .public_access = true }
#define ALLOW(...) { .grants = { __VA_ARGS__ } }
#define G(roles, rule) { (roles), (rule) }
#define ADMIN G(ROLE_ADMIN, AUTHZ_ANY)

static const struct route routes[] = {
	/* system */
	{ "GET", "/v1/health", route_health, ROUTE_BODY_NONE, PUBLIC, "the process is running" },
	{ "GET", "/v1/ready", route_ready, ROUTE_BODY_NONE, PUBLIC,
	  "the database answers and the schema is current" },
	{ "GET", "/metrics", route_metrics, ROUTE_BODY_NONE, PUBLIC, "Prometheus metrics" },
	{ "GET", "/v1/openapi.json", route_openapi, ROUTE_BODY_NONE, PUBLIC,
	  "this API's OpenAPI description" },

	/* schemes: public */
	{ "GET", "/v1/schemes", route_schemes_list, ROUTE_BODY_NONE, PUBLIC, "the imported schemes" },
	{ "GET", "/v1/schemes/{id}", route_scheme_get, ROUTE_BODY_NONE, PUBLIC,
	  "a scheme and its versions" },
	{ "GET", "/v1/schemes/{id}/versions/{version}", route_scheme_version_get, ROUTE_BODY_NONE,
	  PUBLIC, "a scheme version", .cors = true }, /* what credentials name as their scheme */
	{ "GET", "/v1/schemes/{id}/versions/{version}/requirements", route_scheme_requirements,
	  ROUTE_BODY_NONE, PUBLIC, "a version's requirements", .page = &page_keyed },
	{ "GET", "/v1/schemes/{id}/versions/{version}/checklist", route_scheme_checklist,
	  ROUTE_BODY_NONE, PUBLIC, "the checklist for a class" },
	{ "GET", "/v1/schemes/{id}/versions/{version}/oscal", route_scheme_oscal, ROUTE_BODY_NONE,
	  PUBLIC, "the version as an OSCAL catalog" },
	{ "GET", "/v1/crosswalk", route_crosswalk, ROUTE_BODY_NONE, PUBLIC,
	  "mappings between two versions" },

	/* parties */
	{ "GET", "/v1/me", route_me, ROUTE_BODY_NONE, ALLOW(G(ROLE_ALL, AUTHZ_ANY)),
	  "who the token belongs to" },
	{ "POST", "/v1/organisations", route_org_create, ROUTE_BODY_JSON, ALLOW(ADMIN),
	  "register an organisation and its first administrator" },
	{ "GET", "/v1/organisations", route_org_list, ROUTE_BODY_NONE, ALLOW(ADMIN),
	  "the organisations", .page = &page_keyed },
	{ "GET", "/v1/organisations/{id}", route_org_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ALL, AUTHZ_OWN_ORG)), "an organisation" },
	{ "PATCH", "/v1/organisations/{id}", route_org_update, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_APPLICANT | ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)),
	  "change an organisation's details" },
	/* people: an organisation's administrator staffs it; the scheme owner's
	 * admin only its own organisation and other organisations' first
	 * administrators (core/party.c holds what the body of a call decides) */
	{ "POST", "/v1/users", route_user_create, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_ANY)), "add a person" },
	{ "GET", "/v1/users", route_user_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_ANY)), "the people (an administrator's own organisation's)",
	  .page = &page_keyed },
	{ "GET", "/v1/users/{id}", route_user_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_MEMBER), G(ROLE_ALL, AUTHZ_SELF)), "a person" },
	{ "PATCH", "/v1/users/{id}", route_user_update, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ADMIN | ROLE_ORG_ADMIN, AUTHZ_MEMBER)),
	  "change a person's name, roles or activity" },
	{ "POST", "/v1/users/{id}/tokens", route_token_create, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_MEMBER), G(ROLE_ALL, AUTHZ_SELF)),
	  "make an API token (shown once)" },
	{ "GET", "/v1/users/{id}/tokens", route_token_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_MEMBER), G(ROLE_ALL, AUTHZ_SELF)),
	  "a person's tokens (never the secrets)" },
	{ "POST", "/v1/tokens/{id}/revoke", route_token_revoke, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_MEMBER_TOKEN), G(ROLE_ALL, AUTHZ_OWN_TOKEN)),
	  "revoke a token (as compromised: with what it made for its person)" },

	/* a body's signing keys: its own administrator's alone (conform-signer
	 * holds the private halves) */
	{ "POST", "/v1/organisations/{id}/keys", route_key_create, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)), "make a new signing key for the body (rotation)" },
	{ "GET", "/v1/organisations/{id}/keys", route_key_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)), "a body's signing keys" },
	{ "POST", "/v1/keys/{id}/retire", route_key_retire, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_KEY_HOLDER)),
	  "retire a key: the signer destroys it, its certificates stay verifiable" },
	{ "POST", "/v1/keys/{id}/revoke", route_key_revoke, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_KEY_HOLDER)),
	  "revoke a compromised key: what it signed since then stops verifying" },

	/* accreditation */
	{ "POST", "/v1/accreditations", route_acc_grant, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ACCREDITOR, AUTHZ_ANY)), "grant an accreditation" },
	{ "GET", "/v1/accreditations", route_acc_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ACCREDITOR, AUTHZ_ANY)), "accreditations (an accreditor's own)" },
	{ "GET", "/v1/accreditations/{id}", route_acc_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ACCREDITOR, AUTHZ_GRANTOR)), "an accreditation and its history" },
	{ "POST", "/v1/accreditations/{id}/suspend", route_acc_suspend, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ACCREDITOR, AUTHZ_GRANTOR)), "suspend an accreditation" },
	{ "POST", "/v1/accreditations/{id}/reinstate", route_acc_reinstate, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ACCREDITOR, AUTHZ_GRANTOR)), "reinstate a suspended accreditation" },
	{ "POST", "/v1/accreditations/{id}/withdraw", route_acc_withdraw, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ACCREDITOR, AUTHZ_GRANTOR)), "withdraw an accreditation (final)" },
	{ "GET", "/v1/bodies", route_bodies_list, ROUTE_BODY_NONE, PUBLIC,
	  "the directory of assessment bodies" },
	{ "GET", "/v1/bodies/{id}", route_body_get, ROUTE_BODY_NONE, PUBLIC,
	  "an assessment body and its accreditations" },

	/* products and applications */
	{ "POST", "/v1/products", route_product_create, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_ANY)), "register a product of the caller's organisation" },
	{ "GET", "/v1/products", route_product_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_ANY)), "products (a manufacturer's own)",
	  .page = &page_keyed },
	{ "GET", "/v1/products/{id}", route_product_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_OWN_PRODUCT)), "a product" },
	{ "PATCH", "/v1/products/{id}", route_product_update, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_OWN_PRODUCT)), "change a product" },
	{ "POST", "/v1/applications", route_app_create, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_ANY)), "start an application (a draft)" },
	{ "GET", "/v1/applications", route_app_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT | ROLE_ASSESSOR | ROLE_CERTIFIER, AUTHZ_ANY)),
	  "applications the caller may see", .page = &page_numbered },
	{ "GET", "/v1/applications/{id}", route_app_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_BODY_STAFF)),
	  "an application and the status of every requirement" },
	{ "GET", "/v1/applications/{id}/coverage", route_app_coverage, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_BODY_STAFF)),
	  "what an application's settled verdicts cover of another scheme version" },
	{ "PATCH", "/v1/applications/{id}", route_app_update, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT)), "change owners or body of a draft" },
	{ "PUT", "/v1/applications/{id}/answers/{ref}", route_app_answer, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT)), "answer a requirement" },
	{ "GET", "/v1/applications/{id}/ics", route_app_ics_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_BODY_STAFF)),
	  "an ETSI EN 303 645 application's Annex B table (CSV or JSON)" },
	{ "PUT", "/v1/applications/{id}/ics", route_app_ics_put, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT)), "fill the answers from an Annex B table" },
	{ "POST", "/v1/applications/{id}/actions/{action}", route_app_action, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_NAMED_BODY)),
	  "take an action: submit, take, request-info, resubmit, complete, decide, declare, withdraw,"
	  " reassign" },
	{ "POST", "/v1/applications/{id}/verdicts", route_app_verdicts, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ASSESSOR, AUTHZ_BODY_STAFF)), "record verdicts on requirements" },
	{ "GET", "/v1/applications/{id}/verdicts", route_app_verdict_history, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER, AUTHZ_BODY_STAFF)),
	  "every verdict recorded on the application" },
	{ "GET", "/v1/applications/{id}/oscal", route_app_oscal, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_BODY_STAFF)),
	  "a decided application as OSCAL 1.1 assessment results" },
	{ "POST", "/v1/applications/{id}/evidence", route_evidence_upload, ROUTE_BODY_UPLOAD,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT)), "upload an evidence file (streamed)",
	  route_evidence_precheck },
	{ "GET", "/v1/applications/{id}/evidence", route_evidence_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER, AUTHZ_BODY_STAFF)),
	  "the evidence of an application" },
	{ "GET", "/v1/applications/{id}/evidence/{eid}", route_evidence_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_APPLICANT, AUTHZ_APPLICANT),
		G(ROLE_ASSESSOR | ROLE_CERTIFIER, AUTHZ_BODY_STAFF)),
	  "download an evidence file" },
	{ "DELETE", "/v1/applications/{id}/evidence/{eid}", route_evidence_delete, ROUTE_BODY_NONE,
	  ALLOW(G(ROLE_APPLICANT, AUTHZ_APPLICANT)), "delete evidence from a draft" },

	/* certificates */
	{ "POST", "/v1/applications/{id}/certificate", route_cert_issue, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_CERTIFIER, AUTHZ_BODY_STAFF)), "issue the certificate of an approved application" },
	{ "GET", "/v1/certificates", route_cert_register, ROUTE_BODY_NONE, PUBLIC,
	  "the public register", .page = &page_numbered },
	{ "GET", "/v1/certificates/{serial}", route_cert_get, ROUTE_BODY_NONE, PUBLIC,
	  "a certificate, its live status and its log entry" },
	{ "GET", "/v1/certificates/{serial}/jws", route_cert_jws, ROUTE_BODY_NONE, PUBLIC,
	  "the signed certificate (application/vc+jwt)", .cors = true },
	/* the offline proof bundle (issue 14) */
	{ "GET", "/v1/certificates/{serial}/bundle", route_cert_bundle, ROUTE_BODY_NONE, PUBLIC,
	  "the offline proof bundle of a certificate (application/vnd.conform.bundle+json)",
	  .cors = true },
	/* the label and the badge (issue 15): SVG, for labels and web pages */
	{ "GET", "/v1/certificates/{serial}/qr.svg", route_cert_qr, ROUTE_BODY_NONE, PUBLIC,
	  "the certificate's QR label (image/svg+xml): its GS1 Digital Link URI or its page",
	  .cors = true },
	{ "GET", "/v1/certificates/{serial}/badge.svg", route_cert_badge, ROUTE_BODY_NONE, PUBLIC,
	  "an embeddable badge with the certificate's live status (image/svg+xml)", .cors = true },
	/* what a certificate's verdicts cover of another scheme (issue 17) */
	{ "GET", "/v1/certificates/{serial}/coverage", route_cert_coverage, ROUTE_BODY_NONE, PUBLIC,
	  "a certificate's coverage of another scheme version, through the crosswalk" },
	{ "POST", "/v1/certificates/{serial}/suspend", route_cert_suspend, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_CERTIFIER, AUTHZ_ISSUER)), "suspend a certificate" },
	{ "POST", "/v1/certificates/{serial}/reinstate", route_cert_reinstate, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_CERTIFIER, AUTHZ_ISSUER)), "reinstate a suspended certificate" },
	{ "POST", "/v1/certificates/{serial}/withdraw", route_cert_withdraw, ROUTE_BODY_JSON,
	  ALLOW(ADMIN, G(ROLE_CERTIFIER, AUTHZ_ISSUER)), "withdraw a certificate (final)" },
	{ "POST", "/v1/verify", route_verify, ROUTE_BODY_JSON, PUBLIC,
	  "verify a signed certificate", .max_body = CERTIFICATE_JWS_MAX + 1024 },
	{ "GET", "/v1/register/export", route_register_export, ROUTE_BODY_NONE, PUBLIC,
	  "the whole register as one signed, streamed document" },
	{ "GET", "/v1/register/export.csv", route_register_csv, ROUTE_BODY_NONE, PUBLIC,
	  "the register as CSV for market surveillance (RFC 4180, streamed, unsigned)" },
	{ "GET", "/.well-known/jwks.json", route_jwks, ROUTE_BODY_NONE, PUBLIC,
	  "every signing key, retired ones included", .cors = true },
	{ "GET", "/bodies/{id}/did.json", route_did, ROUTE_BODY_NONE, PUBLIC,
	  "an assessment body's DID document", .cors = true },
	{ "GET", "/v1/bodies/{id}/status/{purpose}", route_status_list, ROUTE_BODY_NONE, PUBLIC,
	  "a body's status list credential (revocation or suspension)", .cors = true },
	{ "GET", "/contexts/conformity/v1", route_context, ROUTE_BODY_NONE, PUBLIC,
	  "the JSON-LD context of conform's credentials", .cors = true },
	{ "GET", "/schemas/conformity-certificate/v1", route_schema, ROUTE_BODY_NONE, PUBLIC,
	  "the JSON Schema of a certificate's credential", .cors = true },
	{ "GET", "/verify/{serial}", route_verify_page, ROUTE_BODY_NONE, PUBLIC,
	  "the buyer's page" },

	/* shelf check by barcode (issue 15): the GS1 Digital Link resolver
	 * (the qualifiers are accepted; a certificate covers every lot and item
	 * of a product) and a retailer's catalogue in one streamed answer */
	{ "GET", "/01/{gtin}", route_gs1_resolve, ROUTE_BODY_NONE, PUBLIC,
	  "GS1 Digital Link: the certificate page of a GTIN, or its linkset", .cors = true },
	{ "GET", "/01/{gtin}/10/{lot}", route_gs1_resolve, ROUTE_BODY_NONE, PUBLIC,
	  "GS1 Digital Link with a batch/lot", .cors = true },
	{ "GET", "/01/{gtin}/21/{ser}", route_gs1_resolve, ROUTE_BODY_NONE, PUBLIC,
	  "GS1 Digital Link with a serial number", .cors = true },
	{ "GET", "/01/{gtin}/10/{lot}/21/{ser}", route_gs1_resolve, ROUTE_BODY_NONE, PUBLIC,
	  "GS1 Digital Link with a batch/lot and a serial number", .cors = true },
	{ "POST", "/v1/shelf-check", route_shelf_check, ROUTE_BODY_JSON, PUBLIC,
	  "the certification status of up to 10,000 GTINs, streamed as JSON lines",
	  .max_body = 1024 * 1024 },

	/* the change feed (public) and organisations' webhooks */
	{ "GET", "/v1/feed", route_feed, ROUTE_BODY_NONE, PUBLIC,
	  "every issuance and status change in log order, signed by the log key", .cors = true,
	  .page = &page_feed },
	{ "POST", "/v1/organisations/{id}/webhooks", route_webhook_create, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)), "subscribe to the feed (the secret is shown once)" },
	{ "GET", "/v1/organisations/{id}/webhooks", route_webhook_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)), "an organisation's webhooks" },
	{ "DELETE", "/v1/organisations/{id}/webhooks/{webhook}", route_webhook_delete, ROUTE_BODY_NONE,
	  ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)), "delete a webhook (pending deliveries are cancelled)" },
	{ "GET", "/v1/organisations/{id}/webhooks/{webhook}/deliveries", route_webhook_deliveries,
	  ROUTE_BODY_NONE, ALLOW(ADMIN, G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)),
	  "a webhook's deliveries and their attempts", .page = &page_feed },
	{ "POST", "/v1/organisations/{id}/webhooks/{webhook}/deliveries/{delivery}/replay",
	  route_webhook_replay, ROUTE_BODY_JSON, ALLOW(G(ROLE_ORG_ADMIN, AUTHZ_OWN_ORG)),
	  "deliver again (same webhook-id)" },

	/* the transparency log */
	{ "GET", "/v1/log/tree-head", route_log_tree_head, ROUTE_BODY_NONE, PUBLIC,
	  "the latest signed tree head", .cors = true },
	{ "GET", "/v1/log/checkpoint", route_log_checkpoint, ROUTE_BODY_NONE, PUBLIC,
	  "the latest signed tree head as a C2SP checkpoint", .cors = true },
	{ "GET", "/v1/log/vkey", route_log_vkey, ROUTE_BODY_NONE, PUBLIC,
	  "the log's verifier key (C2SP signed-note form)", .cors = true },
	{ "GET", "/v1/log/entries", route_log_entries, ROUTE_BODY_NONE, PUBLIC, "log entries",
	  .cors = true },
	{ "GET", "/v1/log/proof/inclusion", route_log_inclusion, ROUTE_BODY_NONE, PUBLIC,
	  "an inclusion proof", .cors = true },
	{ "GET", "/v1/log/proof/consistency", route_log_consistency, ROUTE_BODY_NONE, PUBLIC,
	  "a consistency proof", .cors = true },

	/* the log as C2SP tlog-tiles under its origin's prefix, <public host>/log:
	 * what `conformctl log publish` writes for a static host. Entry bundles
	 * first: "/log/tile/{L}/{N}" would take "entries" for a level. */
	{ "GET", "/log/checkpoint", route_tiles_checkpoint, ROUTE_BODY_NONE, PUBLIC,
	  "the latest signed tree head as a C2SP checkpoint (tlog-tiles)", .cors = true },
	{ "GET", "/log/tile/entries/{N}", route_tiles_entries, ROUTE_BODY_NONE, PUBLIC,
	  "an entry bundle (tlog-tiles)", .cors = true, .rest = true },
	{ "GET", "/log/tile/{L}/{N}", route_tiles_tile, ROUTE_BODY_NONE, PUBLIC,
	  "a Merkle tree tile (tlog-tiles)", .cors = true, .rest = true },

	/* complaints and appeals (ISO/IEC 17065 7.13): anyone complains (counted
	 * per client address), a manufacturer appeals; the body concerned's
	 * staff read its cases and a certifier not involved decides (core) */
	{ "POST", "/v1/complaints", route_complaint_lodge, ROUTE_BODY_JSON, PUBLIC,
	  "lodge a complaint about a certificate or an assessment body (no account)",
	  .max_body = 64 * 1024 },
	{ "POST", "/v1/appeals", route_appeal_lodge, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_APPLICANT | ROLE_ORG_ADMIN, AUTHZ_ANY)),
	  "appeal a refusal or a withdrawal (the manufacturer's people)" },
	{ "GET", "/v1/cases", route_case_list, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_ANY)),
	  "the complaints and appeals a body handles (its own)", .page = &page_numbered },
	{ "GET", "/v1/cases/{id}", route_case_get, ROUTE_BODY_NONE,
	  ALLOW(ADMIN, G(ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN, AUTHZ_ANY)),
	  "a complaint or appeal" },
	{ "POST", "/v1/cases/{id}/decision", route_case_decide, ROUTE_BODY_JSON,
	  ALLOW(G(ROLE_CERTIFIER, AUTHZ_ANY)),
	  "decide a complaint or appeal (a certifier not involved); may suspend the certificate" },

	/* audit */
	{ "GET", "/v1/audit", route_audit_list, ROUTE_BODY_NONE, ALLOW(ADMIN), "the audit trail",
	  .page = &page_audit },
};

const struct route *router_routes(size_t *count)
{
	if (count)
		*count = sizeof routes / sizeof routes[0];
	return routes;
}

/*
 * Matches path against pattern segment by segment. On a match, fills the
 * parameters in params when params is not NULL.
 */
static bool pattern_match(const char *pattern, bool rest, const char *path,
			  struct router_params *params)
{
	const char *p = pattern, *s = path;
	int nparams = 0;
	const char *names[ROUTER_MAX_PARAMS];
	const char *values[ROUTER_MAX_PARAMS];
	size_t lens[ROUTER_MAX_PARAMS];
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t vlen = rest && close && !close[1] ? strlen(s) : strcspn(s, "/");
			if (!close || vlen == 0 || nparams == ROUTER_MAX_PARAMS)
				return false;
			names[nparams] = p + 1;
			values[nparams] = s;
			lens[nparams] = vlen;
			nparams++;
			p = close + 1;
			s += vlen;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	if (params) {
		for (int i = 0; i < nparams; i++) {
			/* names point into the pattern: "id}/..." is cut at the brace */
			int nlen = (int)strcspn(names[i], "}");
			snprintf(params->names[params->n], sizeof params->names[0], "%.*s", nlen, names[i]);
			params->values[params->n] = cf_strndup(values[i], lens[i]);
			params->n++;
		}
	}
	return true;
}

const char *router_param(const struct router_params *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

void router_params_free(struct router_params *p)
{
	for (int i = 0; i < p->n; i++)
		CF_FREE(p->values[i]);
	p->n = 0;
}

enum router_result router_match(const char *method, const char *path, int *index,
				struct router_params *params, char *allow, size_t allow_size)
{
	size_t n = sizeof routes / sizeof routes[0];
	bool path_known = false;
	size_t used = 0;
	if (allow_size)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(routes[i].pattern, routes[i].rest, path, NULL))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			pattern_match(routes[i].pattern, routes[i].rest, path, params);
			*index = (int)i;
			return ROUTER_MATCH;
		}
		path_known = true;
		if (used < allow_size) {
			int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "",
					 routes[i].method);
			if (w > 0)
				used += (size_t)w;
		}
	}
	*index = -1;
	return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
