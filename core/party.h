/*
 * party: organisations, people, API tokens and who is calling. A token is
 * cfm_ followed by 256 random bits in base64url; only its SHA-256 is stored
 * and it is shown once. A principal is the authenticated caller that the
 * authorisation rules and the audit trail are about.
 */
#ifndef CONFORM_PARTY_H
#define CONFORM_PARTY_H

#include <stdbool.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"

enum role {
	ROLE_ADMIN = 1 << 0,      /* scheme owner */
	ROLE_ACCREDITOR = 1 << 1, /* accreditation body */
	ROLE_ASSESSOR = 1 << 2,   /* assessment body */
	ROLE_CERTIFIER = 1 << 3,  /* assessment body */
	ROLE_APPLICANT = 1 << 4,  /* manufacturer */
	/* An organisation's own administrator, in any kind of organisation: its
	 * people, their roles and first tokens and, for a body, its keys. It
	 * reaches nothing outside its own organisation. */
	ROLE_ORG_ADMIN = 1 << 5,
};
#define ROLE_COUNT 6
#define ROLE_ALL (ROLE_ADMIN | ROLE_ACCREDITOR | ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_APPLICANT | \
		  ROLE_ORG_ADMIN)

#define TOKEN_PREFIX "cfm_"
#define TOKEN_LEN 47 /* "cfm_" + 43 base64url characters */
#define TOKEN_DAYS_DEFAULT 90
#define TOKEN_DAYS_MAX 730

struct principal {
	char user_id[37];
	char org_id[37];
	char org_kind[24];
	char token_id[37];
	unsigned roles;
};

/* "admin" -> ROLE_ADMIN; 0 when unknown. */
unsigned party_role_parse(const char *name);
const char *party_role_name(unsigned role);

/* The audit actor of a principal (borrows from p). */
struct audit_actor party_actor(const struct principal *p);

/*
 * Checks a bearer token. CF_EUNAUTH (with a message that never repeats the
 * token) when it is malformed, unknown, expired or revoked, or its user is
 * inactive. Notes the token's use (at most once a minute).
 */
cf_err party_authenticate(struct db *db, const char *token, struct principal *out,
			  struct cf_error *err) CF_MUST_CHECK;

/* GET /v1/me: the caller's user, organisation, roles and token. */
cf_err party_me(struct db *db, const struct principal *p, json_t **out,
		struct cf_error *err) CF_MUST_CHECK;

/* Organisations. Bodies are validated (errors carry the JSON pointer);
 * changes run in one transaction with their audit record. */
cf_err party_org_create(struct db *db, const struct audit_actor *actor, const json_t *body,
			json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err party_org_update(struct db *db, const struct audit_actor *actor, const char *id,
			const json_t *patch, json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err party_org_get(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;
/* kind may be NULL; after is the last id of the previous page (may be NULL). */
cf_err party_org_list(struct db *db, const char *kind, const char *after, int limit, json_t **out,
		      struct cf_error *err) CF_MUST_CHECK;

/*
 * People. An organisation's administrator (org_admin) adds, changes and
 * deactivates its own organisation's people (org_id defaults to theirs) in
 * roles that fit its kind; the scheme owner's admin (and conformctl) its own
 * organisation's, and another organisation's first administrator only
 * (roles ["org_admin"], while it has no active one). Only an admin makes
 * or changes admins. CF_EFORBIDDEN otherwise. actor of kind "cli" acts as
 * the scheme owner's admin.
 */
cf_err party_user_create(struct db *db, const struct audit_actor *actor, const json_t *body,
			 json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err party_user_update(struct db *db, const struct audit_actor *actor, const char *id,
			 const json_t *patch, json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err party_user_get(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err party_user_list(struct db *db, const char *org_id, const char *after, int limit, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;
/* The organisation of a user (for the authorisation rule "person of own
 * organisation"); CF_ENOTFOUND when there is no such user. */
cf_err party_user_org(struct db *db, const char *user_id, char org_id[37],
		      struct cf_error *err) CF_MUST_CHECK;
/* Resolves a user given by id or e-mail address to its id. */
cf_err party_user_find(struct db *db, const char *id_or_email, char id[37],
		       struct cf_error *err) CF_MUST_CHECK;

/*
 * Makes a token for user_id, valid for days (1..TOKEN_DAYS_MAX). *out holds
 * the token itself under "token": the only time it exists outside the
 * caller's hands. name may be NULL. with_token is the id of the token the
 * request came with (NULL from the command line), kept as its lineage (see
 * party_token_revoke). A token for someone else: only their organisation's
 * administrator (org_admin) makes it, or the scheme owner's admin (and
 * conformctl) for the scheme owner's people and for another organisation's
 * administrator who holds no other role (CF_EFORBIDDEN otherwise); and only
 * while that someone has no active token: the first one, or a replacement
 * once all are revoked; the rest people make themselves (CF_ECONFLICT).
 * conformctl may always make one for the scheme owner's people.
 */
cf_err party_token_create(struct db *db, const struct audit_actor *actor, const char *with_token,
			  const char *user_id, const char *name, int days, json_t **out,
			  struct cf_error *err) CF_MUST_CHECK;
cf_err party_token_list(struct db *db, const char *user_id, json_t **out,
			struct cf_error *err) CF_MUST_CHECK;
/*
 * Revokes a token. compromised: also every token made with it, at any
 * depth, that belongs to the same person (what a thief could have made);
 * otherwise that token alone, so rotation (make a new token with the old,
 * revoke the old) keeps the new one, and tokens handed to other people stay
 * theirs. *out is the token, with "also_revoked" (the ids of the others
 * revoked) and "handed_out" (compromised only: the live tokens made with it
 * or its offspring for other people, listed for review, left live). Who may
 * revoke is the route table's rule, but for one: only an admin revokes
 * another admin's token (CF_EFORBIDDEN).
 */
cf_err party_token_revoke(struct db *db, const struct audit_actor *actor, const char *token_id,
			  bool compromised, json_t **out, struct cf_error *err) CF_MUST_CHECK;
/* The owner of a token (for the authorisation rule "own token"). */
cf_err party_token_owner(struct db *db, const char *token_id, char user_id[37],
			 struct cf_error *err) CF_MUST_CHECK;

/*
 * conformctl bootstrap: the scheme owner organisation, its first admin and
 * the admin's token, in one transaction. Refused (CF_ECONFLICT) when a
 * scheme owner exists. org is an organisation body, admin {name, email}.
 */
cf_err party_bootstrap(struct db *db, const struct audit_actor *actor, const json_t *org,
		       const json_t *admin, json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
