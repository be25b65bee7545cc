/*
 * authz: the authorisation rules. A route's policy is public, or a list of
 * grants (roles × ownership rule); the router asks authz_check before any
 * handler runs. Ownership rules look the resource up, so they live here,
 * beside the data, and not in server/.
 */
#ifndef CONFORM_AUTHZ_H
#define CONFORM_AUTHZ_H

#include <stdbool.h>

#include "db.h"
#include "error.h"
#include "party.h"

enum authz_rule {
	AUTHZ_ANY,         /* holding the role suffices */
	AUTHZ_OWN_ORG,     /* {id} is the caller's organisation */
	AUTHZ_SELF,        /* {id} is the caller (a user id) */
	AUTHZ_OWN_TOKEN,   /* {id} is one of the caller's tokens */
	AUTHZ_GRANTOR,     /* {id} is an accreditation granted by the caller's organisation */
	AUTHZ_OWN_PRODUCT, /* {id} is a product of the caller's organisation */
	AUTHZ_APPLICANT,   /* {id} is an application of the caller's organisation */
	AUTHZ_BODY_STAFF,  /* {id} is an application submitted to the caller's body */
	AUTHZ_NAMED_BODY,  /* {id} is an application naming the caller's body (any state) */
	AUTHZ_ISSUER,      /* {serial} is a certificate issued by the caller's body */
	AUTHZ_MEMBER,      /* {id} is a person of the caller's organisation */
	AUTHZ_MEMBER_TOKEN, /* {id} is a token of a person of the caller's organisation */
};

struct authz_grant {
	unsigned roles;      /* ROLE_* bits; 0 ends the list */
	enum authz_rule rule;
};

#define AUTHZ_MAX_GRANTS 4

struct authz_policy {
	bool public_access;  /* no token needed */
	struct authz_grant grants[AUTHZ_MAX_GRANTS];
};

/* A path parameter of the request, for the ownership rules. */
typedef const char *(*authz_param_fn)(void *ctx, const char *name);

/*
 * Allows the call when one grant holds: the caller has one of its roles and
 * its rule holds. CF_EFORBIDDEN when none does (CF_ENOTFOUND when a grant's
 * role matched but the resource it names does not exist).
 */
cf_err authz_check(struct db *db, const struct principal *p, const struct authz_policy *policy,
		   authz_param_fn param, void *ctx, struct cf_error *err) CF_MUST_CHECK;

/* The rule's name, for documentation and tests ("own organisation", ...). */
const char *authz_rule_name(enum authz_rule rule);

#endif
