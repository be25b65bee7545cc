/*
 * authz: evaluation of route policies (see authz.h).
 */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#include "accreditation.h"
#include "application.h"
#include "certificate.h"
#include "product.h"

const char *authz_rule_name(enum authz_rule rule)
{
	switch (rule) {
	case AUTHZ_ANY:
		return "any";
	case AUTHZ_OWN_ORG:
		return "own organisation";
	case AUTHZ_SELF:
		return "self";
	case AUTHZ_OWN_TOKEN:
		return "own token";
	case AUTHZ_GRANTOR:
		return "granted by own organisation";
	case AUTHZ_OWN_PRODUCT:
		return "own product";
	case AUTHZ_APPLICANT:
		return "own application";
	case AUTHZ_BODY_STAFF:
		return "submitted to own body";
	case AUTHZ_NAMED_BODY:
		return "naming own body";
	case AUTHZ_ISSUER:
		return "issued by own body";
	case AUTHZ_MEMBER:
		return "person of own organisation";
	case AUTHZ_MEMBER_TOKEN:
		return "token of own organisation";
	}
	return "?";
}

/* Does the rule hold? CF_OK yes, CF_EFORBIDDEN no, other errors as they come. */
static cf_err rule_holds(struct db *db, const struct principal *p, enum authz_rule rule,
			 const char *id, struct cf_error *err)
{
	char owner[37];
	cf_err e;
	switch (rule) {
	case AUTHZ_ANY:
		return CF_OK;
	case AUTHZ_OWN_ORG:
		return id && strcmp(id, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_SELF:
		return id && strcmp(id, p->user_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_OWN_TOKEN:
		e = party_token_owner(db, id, owner, err);
		if (e)
			return e;
		return strcmp(owner, p->user_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_GRANTOR:
		e = accreditation_grantor(db, id, owner, err);
		if (e)
			return e;
		return strcmp(owner, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_OWN_PRODUCT:
		e = product_owner(db, id, owner, err);
		if (e)
			return e;
		return strcmp(owner, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_APPLICANT:
	case AUTHZ_BODY_STAFF:
	case AUTHZ_NAMED_BODY: {
		char body[37];
		e = application_parties(db, id, owner, body, rule == AUTHZ_NAMED_BODY, err);
		if (e)
			return e;
		if (rule == AUTHZ_APPLICANT)
			return strcmp(owner, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
		/* a body sees an application once it is submitted to it; it may be
		 * told the state of one that names it (actions answer 409) */
		return body[0] && strcmp(body, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	}
	case AUTHZ_ISSUER:
		e = certificate_issuer(db, id, owner, err);
		if (e)
			return e;
		return strcmp(owner, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	case AUTHZ_MEMBER:
	case AUTHZ_MEMBER_TOKEN: {
		char org[37];
		e = rule == AUTHZ_MEMBER ? CF_OK : party_token_owner(db, id, owner, err);
		if (!e)
			e = party_user_org(db, rule == AUTHZ_MEMBER ? id : owner, org, err);
		if (e)
			return e;
		return strcmp(org, p->org_id) == 0 ? CF_OK : CF_EFORBIDDEN;
	}
	}
	return CF_EFORBIDDEN;
}

cf_err authz_check(struct db *db, const struct principal *p, const struct authz_policy *policy,
		   authz_param_fn param, void *ctx, struct cf_error *err)
{
	if (policy->public_access)
		return CF_OK;
	cf_err found = CF_OK;
	for (int i = 0; i < AUTHZ_MAX_GRANTS && policy->grants[i].roles; i++) {
		const struct authz_grant *g = &policy->grants[i];
		if (!(g->roles & p->roles))
			continue;
		/* certificates are named by their serial, everything else by id */
		const char *id = param(ctx, g->rule == AUTHZ_ISSUER ? "serial" : "id");
		cf_err e = rule_holds(db, p, g->rule, id, err);
		if (e == CF_OK)
			return CF_OK;
		if (e == CF_ENOTFOUND)
			found = e;
		else if (e != CF_EFORBIDDEN)
			return e;
	}
	if (found)
		return found;
	return cf_error_set(err, CF_EFORBIDDEN, NULL,
			    "your roles do not allow this here (see GET /v1/me for what you hold)");
}
