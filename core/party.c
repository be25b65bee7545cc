/*
 * party: organisations, people, tokens and authentication (see party.h).
 */
#include "party.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "digest.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "rnd.h"

static const char *const role_names[ROLE_COUNT] = { "admin", "accreditor", "assessor",
						     "certifier", "applicant", "org_admin" };

unsigned party_role_parse(const char *name)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (strcmp(name, role_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *party_role_name(unsigned role)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (role == 1u << i)
			return role_names[i];
	return "?";
}

/* The roles an organisation's people may hold (as conform_roles_fit):
 * every kind has its own administrators. */
static unsigned roles_for_kind(const char *kind)
{
	if (strcmp(kind, "scheme_owner") == 0)
		return ROLE_ADMIN | ROLE_ORG_ADMIN;
	if (strcmp(kind, "accreditation_body") == 0)
		return ROLE_ACCREDITOR | ROLE_ORG_ADMIN;
	if (strcmp(kind, "assessment_body") == 0)
		return ROLE_ASSESSOR | ROLE_CERTIFIER | ROLE_ORG_ADMIN;
	if (strcmp(kind, "manufacturer") == 0)
		return ROLE_APPLICANT | ROLE_ORG_ADMIN;
	/* they follow the change feed: their administrator manages webhooks */
	if (strcmp(kind, "retailer") == 0 || strcmp(kind, "regulator") == 0)
		return ROLE_ORG_ADMIN;
	return 0;
}

struct audit_actor party_actor(const struct principal *p)
{
	struct audit_actor a = { "user", p->user_id, p->org_id };
	return a;
}

static cf_err require_uuid(const char *s, const char *what, struct cf_error *err)
{
	if (ids_is_uuid(s))
		return CF_OK;
	return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no %s %.40s", what, s ? s : "");
}

/* ---- who may staff whom ---- */

struct caller;

/* A person to add or change. */
struct user_job {
	const struct audit_actor *actor;
	const char *id, *org_id, *name, *email, *roles_pg;
	bool active, has_active;
	json_t **out;
	const struct caller *caller; /* NULL: no staffing rule (bootstrap, a new organisation) */
	unsigned roles;
};

/*
 * The one who acts, as the staffing rules see them. conformctl is the
 * operator beside the database: it acts as the scheme owner's admin (its
 * own organisation, and other organisations' first administrators), never
 * as any body's administrator.
 */
struct caller {
	bool operator;
	char user_id[37], org_id[37];
	unsigned roles;
};

static unsigned roles_parse_list(const char *list)
{
	char buf[128];
	unsigned mask = 0;
	snprintf(buf, sizeof buf, "%s", list);
	char *save = NULL;
	for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save))
		mask |= party_role_parse(r);
	return mask;
}

static cf_err caller_of(struct db *db, const struct audit_actor *actor, struct caller *c,
			struct cf_error *err)
{
	memset(c, 0, sizeof *c);
	PGresult *res = NULL;
	cf_err e;
	if (strcmp(actor->kind, "user") == 0) {
		const char *p[] = { actor->id };
		e = db_query_hot(db, &res, err,
			"SELECT org_id, array_to_string(roles, ',') FROM app_user WHERE id = $1 AND active",
			1, p);
		if (e)
			return e;
		if (PQntuples(res) == 1) {
			snprintf(c->user_id, sizeof c->user_id, "%s", actor->id);
			snprintf(c->org_id, sizeof c->org_id, "%s", db_value(res, 0, 0));
			c->roles = roles_parse_list(db_value(res, 0, 1));
		}
		PQclear(res);
		return CF_OK;
	}
	if (strcmp(actor->kind, "cli") != 0)
		return CF_OK; /* no roles: staffs no one */
	c->operator = true;
	c->roles = ROLE_ADMIN;
	e = db_query_hot(db, &res, err, "SELECT id FROM organisation WHERE kind = 'scheme_owner'", 0,
			 NULL);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(c->org_id, sizeof c->org_id, "%s", db_value(res, 0, 0));
	PQclear(res);
	return CF_OK;
}

/* A person as the rules see them: their organisation and roles. */
struct person {
	char org_id[37];
	unsigned roles;
};

static cf_err person_of(struct db *db, const char *user_id, struct person *p, struct cf_error *err)
{
	const char *params[] = { user_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT org_id, array_to_string(roles, ',') FROM app_user WHERE id = $1", 1, params);
	if (e)
		return e;
	if (PQntuples(res) == 1) {
		snprintf(p->org_id, sizeof p->org_id, "%s", db_value(res, 0, 0));
		p->roles = roles_parse_list(db_value(res, 0, 1));
	} else {
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no user %s", user_id);
	}
	PQclear(res);
	return e;
}

/* Only the scheme owner's admin makes admins, and only in its organisation
 * (the database lets no other kind hold the role). */
static cf_err may_grant(const struct caller *c, unsigned adding, struct cf_error *err)
{
	if ((adding & ROLE_ADMIN) && !(c->roles & ROLE_ADMIN))
		return cf_error_set(err, CF_EFORBIDDEN, "/roles",
				    "only the scheme owner's admin makes admins");
	return CF_OK;
}

/*
 * May c add a person with roles to org_id? An organisation's administrator
 * staffs its own organisation; the scheme owner's admin its own, and
 * another organisation's first administrator only: while it has no active
 * one (the way back when the last has gone), never its other people.
 */
static cf_err may_add_person(struct db *db, const struct caller *c, const char *org_id,
			     unsigned roles, struct cf_error *err)
{
	bool own = c->org_id[0] && strcmp(c->org_id, org_id) == 0;
	if (own && (c->roles & (ROLE_ORG_ADMIN | ROLE_ADMIN)))
		return may_grant(c, roles, err);
	if (!(c->roles & ROLE_ADMIN))
		return cf_error_set(err, CF_EFORBIDDEN, "/org_id",
				    "an organisation's administrator adds people to their own "
				    "organisation only");
	if (roles != ROLE_ORG_ADMIN)
		return cf_error_set(err, CF_EFORBIDDEN, "/roles",
				    "the scheme owner makes an organisation's first administrator "
				    "(roles [\"org_admin\"]) only: that administrator adds its people");
	/* the organisation's row is locked so that two such requests at once
	 * make one administrator, not two */
	const char *p[] = { org_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, NULL, err, "SELECT 1 FROM organisation WHERE id = $1 FOR UPDATE", 1,
				p);
	if (!e)
		e = db_query_hot(db, &res, err,
			"SELECT count(*) FROM app_user WHERE org_id = $1 AND active"
			" AND 'org_admin' = ANY(roles::text[])", 1, p);
	if (e)
		return e;
	long long admins = db_value_ll(res, 0, 0);
	PQclear(res);
	if (admins)
		return cf_error_set(err, CF_EFORBIDDEN, "/org_id",
				    "organisation %s has an administrator already: its administrators "
				    "add its people", org_id);
	return CF_OK;
}

/*
 * May c make a token for someone else, the person target (id user_id)? Their
 * own organisation's administrator may; the scheme owner's admin (and
 * conformctl) for its own organisation's people, and for another
 * organisation's administrator who holds no other role: never a token
 * that acts as a body's, an accreditor's or a manufacturer's staff.
 */
static cf_err may_token_for(const struct caller *c, const char *user_id, const struct person *target,
			    struct cf_error *err)
{
	if ((target->roles & ROLE_ADMIN) && !(c->roles & ROLE_ADMIN))
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "only the scheme owner's admin makes a token for an admin");
	bool own = c->org_id[0] && strcmp(c->org_id, target->org_id) == 0;
	if (own && (c->roles & (ROLE_ORG_ADMIN | ROLE_ADMIN)))
		return CF_OK;
	if ((c->roles & ROLE_ADMIN) && target->roles == ROLE_ORG_ADMIN)
		return CF_OK;
	if (c->roles & ROLE_ADMIN)
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "the scheme owner hands a first token only to its own people and to "
				    "other organisations' administrators: user %s's organisation's "
				    "administrator hands out theirs", user_id);
	return cf_error_set(err, CF_EFORBIDDEN, NULL,
			    "an organisation's administrator makes tokens for their own organisation's "
			    "people only");
}

/* ---- authentication ---- */

cf_err party_authenticate(struct db *db, const char *token, struct principal *out,
			  struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	size_t n = token ? strlen(token) : 0;
	if (n != TOKEN_LEN || strncmp(token, TOKEN_PREFIX, 4) != 0)
		return cf_error_set(err, CF_EUNAUTH, NULL, "the bearer token is not a conform token");
	char hash[DIGEST_SHA256_HEX_LEN];
	digest_sha256_hex(token, n, hash);
	const char *p[] = { hash };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT t.id, u.id, u.org_id, o.kind, array_to_string(u.roles, ','),"
		" t.expires_at <= now(), t.revoked_at IS NOT NULL, u.active,"
		" t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds'"
		" FROM api_token t JOIN app_user u ON u.id = t.user_id"
		" JOIN organisation o ON o.id = u.org_id WHERE t.token_hash = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cf_error_set(err, CF_EUNAUTH, NULL, "the bearer token is not known");
	}
	if (db_value_bool(res, 0, 5) || db_value_bool(res, 0, 6) || !db_value_bool(res, 0, 7)) {
		const char *why = db_value_bool(res, 0, 6) ? "revoked" :
				  db_value_bool(res, 0, 5) ? "expired" : "of a deactivated user";
		cf_error_set(err, CF_EUNAUTH, NULL, "the bearer token is %s", why);
		PQclear(res);
		return CF_EUNAUTH;
	}
	snprintf(out->token_id, sizeof out->token_id, "%s", db_value(res, 0, 0));
	snprintf(out->user_id, sizeof out->user_id, "%s", db_value(res, 0, 1));
	snprintf(out->org_id, sizeof out->org_id, "%s", db_value(res, 0, 2));
	snprintf(out->org_kind, sizeof out->org_kind, "%s", db_value(res, 0, 3));
	char roles[128];
	snprintf(roles, sizeof roles, "%s", db_value(res, 0, 4));
	bool touch = db_value_bool(res, 0, 8);
	PQclear(res);
	char *save = NULL;
	for (char *r = strtok_r(roles, ",", &save); r; r = strtok_r(NULL, ",", &save))
		out->roles |= party_role_parse(r);
	if (touch) {
		const char *tp[] = { out->token_id };
		e = db_query_hot(db, NULL, err,
				 "UPDATE api_token SET last_used_at = now() WHERE id = $1", 1, tp);
	}
	return e;
}

/* ---- organisations ---- */

#define ORG_COLUMNS                                                                            \
	"id, kind, name, country, contact_email, contact_phone, address, website,"              \
	" security_contact, disclosure_policy_url, response_days, " DB_TS("created_at") ", "     \
	DB_TS("updated_at")

static json_t *org_json(const PGresult *res, int i)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:o,s:o},s:o,s:s,s:s}", "id",
			      db_value(res, i, 0), "kind", db_value(res, i, 1), "name",
			      db_value(res, i, 2), "country", db_value(res, i, 3), "contact", "email",
			      db_value(res, i, 4), "phone", jsonx_string_or_null(db_value(res, i, 5)), "address",
			      jsonx_string_or_null(db_value(res, i, 6)), "website",
			      jsonx_string_or_null(db_value(res, i, 7)), "created_at", db_value(res, i, 11),
			      "updated_at", db_value(res, i, 12));
	if (strcmp(db_value(res, i, 1), "manufacturer") == 0)
		json_object_set_new(o, "vulnerability_disclosure",
			json_pack("{s:s,s:s,s:I}", "contact", db_value(res, i, 8), "policy_url",
				  db_value(res, i, 9), "response_days",
				  (json_int_t)db_value_ll(res, i, 10)));
	return o;
}

/* The validated fields of an organisation body (borrowed from the body). */
struct org_fields {
	const char *kind, *name, *country, *email, *phone, *address, *website;
	const char *security_contact, *policy_url;
	long long response_days;
	bool has_vd;
};

/* Validates a create (full) or patch (partial) organisation body. kind is
 * the existing kind for a patch. */
static cf_err org_validate(const json_t *body, bool patch, const char *kind, struct org_fields *f,
			   struct cf_error *err)
{
	static const char *const keys[] = { "kind", "name", "country", "contact", "website",
					    "vulnerability_disclosure", "administrator", NULL };
	static const char *const contact_keys[] = { "email", "phone", "address", NULL };
	static const char *const vd_keys[] = { "contact", "policy_url", "response_days", NULL };
	memset(f, 0, sizeof *f);
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (e)
		return e;
	if (patch) {
		if (json_object_get(body, "kind"))
			return cf_error_set(err, CF_EINVAL, "/kind", "an organisation's kind cannot change");
		if (json_object_get(body, "administrator"))
			return cf_error_set(err, CF_EINVAL, "/administrator",
					    "an organisation's administrators are its people: its "
					    "administrator adds more with POST /v1/users");
		f->kind = kind;
	} else {
		e = jsonx_get_text(body, "", "kind", true, 32, &f->kind, err);
		if (e)
			return e;
		if (!roles_for_kind(f->kind))
			return cf_error_set(err, CF_EINVAL, "/kind",
					    "/kind must be accreditation_body, assessment_body, "
					    "manufacturer, retailer or regulator");
	}
	if ((e = jsonx_get_text(body, "", "name", !patch, 200, &f->name, err)) ||
	    (e = jsonx_get_text(body, "", "country", !patch, 2, &f->country, err)) ||
	    (e = jsonx_get_text(body, "", "website", false, 500, &f->website, err)))
		return e;
	if (f->country && !(isupper((unsigned char)f->country[0]) && isupper((unsigned char)f->country[1])))
		return cf_error_set(err, CF_EINVAL, "/country",
				    "/country must be an ISO 3166-1 alpha-2 code such as GB");
	if (f->website && !ids_is_http_url(f->website))
		return cf_error_set(err, CF_EINVAL, "/website", "/website must be an http(s) URL");
	json_t *contact = json_object_get(body, "contact");
	if (!contact && !patch)
		return cf_error_set(err, CF_EINVAL, "/contact", "/contact is required (at least an email)");
	if (contact) {
		if ((e = jsonx_check_object(contact, "/contact", contact_keys, err)) ||
		    (e = jsonx_get_text(contact, "/contact", "email", !patch, 254, &f->email, err)) ||
		    (e = jsonx_get_text(contact, "/contact", "phone", false, 40, &f->phone, err)) ||
		    (e = jsonx_get_text(contact, "/contact", "address", false, 500, &f->address, err)))
			return e;
		if (f->email && !ids_is_email(f->email))
			return cf_error_set(err, CF_EINVAL, "/contact/email",
					    "/contact/email is not an e-mail address");
	}
	json_t *vd = json_object_get(body, "vulnerability_disclosure");
	bool manufacturer = strcmp(f->kind, "manufacturer") == 0;
	if (vd && !manufacturer)
		return cf_error_set(err, CF_EINVAL, "/vulnerability_disclosure",
				    "only a manufacturer has a vulnerability disclosure contact");
	if (!vd && manufacturer && !patch)
		return cf_error_set(err, CF_EINVAL, "/vulnerability_disclosure",
				    "/vulnerability_disclosure is required for a manufacturer: buyers see "
				    "it on its certificates");
	if (vd) {
		f->has_vd = true;
		if ((e = jsonx_check_object(vd, "/vulnerability_disclosure", vd_keys, err)) ||
		    (e = jsonx_get_text(vd, "/vulnerability_disclosure", "contact", true, 500,
					&f->security_contact, err)) ||
		    (e = jsonx_get_text(vd, "/vulnerability_disclosure", "policy_url", true, 500,
					&f->policy_url, err)) ||
		    (e = jsonx_get_int(vd, "/vulnerability_disclosure", "response_days", true, 1, 365,
				       &f->response_days, NULL, err)))
			return e;
		if (!ids_is_email(f->security_contact) && !ids_is_http_url(f->security_contact) &&
		    strncmp(f->security_contact, "mailto:", 7) != 0)
			return cf_error_set(err, CF_EINVAL, "/vulnerability_disclosure/contact",
					    "the contact must be an e-mail address or a URL");
		if (!ids_is_http_url(f->policy_url))
			return cf_error_set(err, CF_EINVAL, "/vulnerability_disclosure/policy_url",
					    "the policy must be an http(s) URL");
	}
	return CF_OK;
}

struct org_job {
	const struct audit_actor *actor;
	const struct org_fields *f;
	const char *id;     /* for updates */
	json_t **out;
	const char *admin_name, *admin_email; /* its first administrator, when given */
};

static cf_err org_insert(struct db *db, const struct audit_actor *actor, const struct org_fields *f,
			 json_t **out, struct cf_error *err)
{
	char days[24];
	snprintf(days, sizeof days, "%lld", f->response_days);
	const char *p[] = { f->kind, f->name, f->country, f->email, f->phone, f->address, f->website,
			    f->security_contact, f->policy_url, f->has_vd ? days : NULL };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO organisation (kind, name, country, contact_email, contact_phone, address,"
		" website, security_contact, disclosure_policy_url, response_days)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING " ORG_COLUMNS, 10, p);
	if (e)
		return e;
	*out = org_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s,s:s}", "kind", f->kind, "name", f->name);
	e = audit_append(db, actor, "organisation.create", "organisation", jsonx_str(*out, "id"),
			 details, err);
	json_decref(details);
	if (e) {
		json_decref(*out);
		*out = NULL;
	}
	return e;
}

static cf_err user_insert(struct db *db, struct user_job *job, struct cf_error *err);

/* The organisation and, when given, its first administrator: one
 * transaction, an audit record each. */
static cf_err org_create_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct org_job *job = arg;
	cf_err e = org_insert(db, job->actor, job->f, job->out, err);
	if (e || !job->admin_name)
		return e;
	json_t *user = NULL;
	struct user_job uj = { job->actor, NULL, jsonx_str(*job->out, "id"), job->admin_name,
			       job->admin_email, "{org_admin}", true, false, &user, NULL,
			       ROLE_ORG_ADMIN };
	e = user_insert(db, &uj, err);
	if (e) {
		if (e == CF_ECONFLICT)
			snprintf(err->pointer, sizeof err->pointer, "/administrator/email");
		json_decref(*job->out);
		*job->out = NULL;
		return e;
	}
	json_object_set_new(*job->out, "administrator", user);
	return CF_OK;
}

/* The optional first administrator {name, email} of a new organisation. */
static cf_err org_admin_validate(const json_t *body, const char **name, const char **email,
				 struct cf_error *err)
{
	static const char *const keys[] = { "name", "email", NULL };
	*name = *email = NULL;
	const json_t *admin = json_object_get(body, "administrator");
	if (!admin)
		return CF_OK;
	cf_err e = jsonx_check_object(admin, "/administrator", keys, err);
	if (!e)
		e = jsonx_get_text(admin, "/administrator", "name", true, 200, name, err);
	if (!e)
		e = jsonx_get_text(admin, "/administrator", "email", true, 254, email, err);
	if (!e && !ids_is_email(*email))
		e = cf_error_set(err, CF_EINVAL, "/administrator/email",
				 "/administrator/email is not an e-mail address");
	return e;
}

cf_err party_org_create(struct db *db, const struct audit_actor *actor, const json_t *body,
			json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct org_fields f;
	cf_err e = org_validate(body, false, NULL, &f, err);
	if (e)
		return e;
	if (strcmp(f.kind, "scheme_owner") == 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/kind",
				    "there is one scheme owner, made by conformctl bootstrap");
	struct org_job job = { actor, &f, NULL, out, NULL, NULL };
	e = org_admin_validate(body, &job.admin_name, &job.admin_email, err);
	if (e)
		return e;
	return db_transaction_json(db, DB_READ_COMMITTED, org_create_tx, &job, out, err);
}

cf_err party_org_get(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = require_uuid(id, "organisation", err);
	if (e)
		return e;
	const char *p[] = { id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err, "SELECT " ORG_COLUMNS " FROM organisation WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = org_json(res, 0);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no organisation %s", id);
	PQclear(res);
	return e;
}

static cf_err org_update_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct org_job *job = arg;
	const struct org_fields *f = job->f;
	char days[24];
	snprintf(days, sizeof days, "%lld", f->response_days);
	const char *p[] = { job->id, f->name, f->country, f->email, f->phone, f->address, f->website,
			    f->security_contact, f->policy_url, f->has_vd ? days : NULL };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"UPDATE organisation SET name = coalesce($2, name), country = coalesce($3, country),"
		" contact_email = coalesce($4, contact_email), contact_phone = coalesce($5, contact_phone),"
		" address = coalesce($6, address), website = coalesce($7, website),"
		" security_contact = coalesce($8, security_contact),"
		" disclosure_policy_url = coalesce($9, disclosure_policy_url),"
		" response_days = coalesce($10::integer, response_days), updated_at = now()"
		" WHERE id = $1 RETURNING " ORG_COLUMNS, 10, p);
	if (e)
		return e;
	*job->out = org_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:[]}", "changed");
	static const char *const names[] = { "name", "country", "contact.email", "contact.phone",
					     "contact.address", "website", "vulnerability_disclosure" };
	const char *vals[] = { f->name, f->country, f->email, f->phone, f->address, f->website,
			       f->has_vd ? "x" : NULL };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (vals[i])
			json_array_append_new(json_object_get(details, "changed"), json_string(names[i]));
	e = audit_append(db, job->actor, "organisation.update", "organisation", job->id, details, err);
	json_decref(details);
	return e;
}

cf_err party_org_update(struct db *db, const struct audit_actor *actor, const char *id,
			const json_t *patch, json_t **out, struct cf_error *err)
{
	json_t *current = NULL;
	*out = NULL;
	cf_err e = party_org_get(db, id, &current, err);
	if (e)
		return e;
	struct org_fields f;
	e = org_validate(patch, true, jsonx_str(current, "kind"), &f, err);
	json_decref(current);
	if (e)
		return e;
	struct org_job job = { actor, &f, id, out, NULL, NULL };
	return db_transaction_json(db, DB_READ_COMMITTED, org_update_tx, &job, out, err);
}

cf_err party_org_list(struct db *db, const char *kind, const char *after, int limit, json_t **out,
		      struct cf_error *err)
{
	*out = NULL;
	if (kind && !roles_for_kind(kind))
		return cf_error_set(err, CF_EINVAL, NULL, "kind=%.32s is not a kind of organisation", kind);
	if (after && !ids_is_uuid(after))
		return cf_error_set(err, CF_EINVAL, NULL, "after must be an organisation id");
	char lim[24];
	snprintf(lim, sizeof lim, "%d", limit + 1);
	const char *p[] = { kind, after, lim };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " ORG_COLUMNS " FROM organisation WHERE ($1::org_kind IS NULL OR kind = $1)"
		" AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3", 3, p);
	if (e)
		return e;
	*out = db_page(res, limit, org_json, 0, DB_CURSOR_TEXT);
	PQclear(res);
	return CF_OK;
}

/* ---- people ---- */

#define USER_COLUMNS                                                                           \
	"u.id, u.org_id, u.name, u.email, array_to_json(u.roles)::text, u.active, "             \
	DB_TS("u.created_at") ", " DB_TS("u.updated_at") ", o.name, o.kind"

static json_t *user_json(const PGresult *res, int i)
{
	json_t *roles = json_loads(db_value(res, i, 4), 0, NULL);
	return json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:o,s:b,s:s,s:s}", "id", db_value(res, i, 0),
			 "organisation", "id", db_value(res, i, 1), "name", db_value(res, i, 8), "kind",
			 db_value(res, i, 9), "name", db_value(res, i, 2), "email", db_value(res, i, 3),
			 "roles", roles ? roles : json_array(), "active", db_value_bool(res, i, 5),
			 "created_at", db_value(res, i, 6), "updated_at", db_value(res, i, 7));
}

/* Validates a roles array; *mask gets the roles, *pg the PostgreSQL array text. */
static cf_err roles_validate(const json_t *roles, unsigned *mask, char *pg, size_t size,
			     struct cf_error *err)
{
	*mask = 0;
	if (!json_is_array(roles) || json_array_size(roles) == 0)
		return cf_error_set(err, CF_EINVAL, "/roles", "/roles must be a non-empty array of roles");
	size_t used = (size_t)snprintf(pg, size, "{");
	size_t i;
	json_t *r;
	json_array_foreach(roles, i, r) {
		char ptr[32];
		snprintf(ptr, sizeof ptr, "/roles/%zu", i);
		unsigned role = json_is_string(r) ? party_role_parse(json_string_value(r)) : 0;
		if (!role)
			return cf_error_set(err, CF_EINVAL, ptr,
					    "%s must be admin, org_admin, accreditor, assessor, certifier "
					    "or applicant",
					    ptr);
		if (*mask & role)
			return cf_error_set(err, CF_EINVAL, ptr, "role %s is listed twice",
					    party_role_name(role));
		*mask |= role;
		used += (size_t)snprintf(pg + used, size - used, "%s%s", i ? "," : "", party_role_name(role));
	}
	snprintf(pg + used, size - used, "}");
	return CF_OK;
}

static cf_err org_kind_of(struct db *db, const char *org_id, char kind[24], struct cf_error *err)
{
	const char *p[] = { org_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT kind FROM organisation WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(kind, 24, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/org_id", "there is no organisation %s", org_id);
	PQclear(res);
	return e;
}

static cf_err user_insert(struct db *db, struct user_job *job, struct cf_error *err)
{
	const char *p[] = { job->org_id, job->name, job->email, job->roles_pg };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"WITH u AS (INSERT INTO app_user (org_id, name, email, roles) VALUES ($1, $2, $3, $4)"
		" RETURNING *) SELECT " USER_COLUMNS " FROM u JOIN organisation o ON o.id = u.org_id",
		4, p);
	if (e) {
		if (e == CF_ECONFLICT)
			cf_error_set(err, CF_ECONFLICT, "/email", "a user with e-mail %s exists already",
				     job->email);
		return e;
	}
	*job->out = user_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s,s:O}", "org_id", job->org_id, "roles",
				    json_object_get(*job->out, "roles"));
	e = audit_append(db, job->actor, "user.create", "user", jsonx_str(*job->out, "id"), details,
			 err);
	json_decref(details);
	return e;
}

static cf_err user_create_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct user_job *job = arg;
	/* in the transaction, so that "has no administrator yet" still holds
	 * when the new one is inserted */
	cf_err e = job->caller ? may_add_person(db, job->caller, job->org_id, job->roles, err) : CF_OK;
	return e ? e : user_insert(db, job, err);
}

cf_err party_user_create(struct db *db, const struct audit_actor *actor, const json_t *body,
			 json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "org_id", "name", "email", "roles", NULL };
	*out = NULL;
	const char *org_id = NULL, *name, *email;
	struct caller caller;
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = caller_of(db, actor, &caller, err);
	/* an organisation's administrator adds to their own by default */
	if (!e)
		e = jsonx_get_text(body, "", "org_id", !(caller.roles & ROLE_ORG_ADMIN), 36, &org_id, err);
	if (!e && !org_id)
		org_id = caller.org_id;
	if (!e)
		e = jsonx_get_text(body, "", "name", true, 200, &name, err);
	if (!e)
		e = jsonx_get_text(body, "", "email", true, 254, &email, err);
	if (e)
		return e;
	if (!ids_is_email(email))
		return cf_error_set(err, CF_EINVAL, "/email", "/email is not an e-mail address");
	if (!ids_is_uuid(org_id))
		return cf_error_set(err, CF_EINVAL, "/org_id", "/org_id must be an organisation id");
	unsigned mask;
	char roles_pg[128];
	e = roles_validate(json_object_get(body, "roles"), &mask, roles_pg, sizeof roles_pg, err);
	if (e)
		return e;
	char kind[24];
	e = org_kind_of(db, org_id, kind, err);
	if (e)
		return e;
	if (mask & ~roles_for_kind(kind))
		return cf_error_set(err, CF_EUNPROCESSABLE, "/roles",
				    "these roles do not fit an organisation of kind %s", kind);
	struct user_job job = { actor, NULL, org_id, name, email, roles_pg, true, false, out,
				&caller, mask };
	return db_transaction_json(db, DB_READ_COMMITTED, user_create_tx, &job, out, err);
}

cf_err party_user_get(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = require_uuid(id, "user", err);
	if (e)
		return e;
	const char *p[] = { id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT " USER_COLUMNS " FROM app_user u JOIN organisation o ON o.id = u.org_id"
		" WHERE u.id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = user_json(res, 0);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no user %s", id);
	PQclear(res);
	return e;
}

static cf_err user_update_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct user_job *job = arg;
	const char *p[] = { job->id, job->name, job->roles_pg,
			    job->has_active ? (job->active ? "true" : "false") : NULL };
	cf_err e = db_query_hot(db, NULL, err,
		"UPDATE app_user SET name = coalesce($2, name), roles = coalesce($3::user_role[], roles),"
		" active = coalesce($4::boolean, active), updated_at = now() WHERE id = $1", 4, p);
	if (!e)
		e = party_user_get(db, job->id, job->out, err);
	if (e)
		return e;
	json_t *details = json_pack("{s:O,s:O}", "roles", json_object_get(*job->out, "roles"),
				    "active", json_object_get(*job->out, "active"));
	e = audit_append(db, job->actor, "user.update", "user", job->id, details, err);
	json_decref(details);
	return e;
}

cf_err party_user_update(struct db *db, const struct audit_actor *actor, const char *id,
			 const json_t *patch, json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "name", "roles", "active", NULL };
	json_t *current = NULL;
	*out = NULL;
	cf_err e = party_user_get(db, id, &current, err);
	if (e)
		return e;
	struct user_job job = { actor, id, NULL, NULL, NULL, NULL, true, false, out, NULL, 0 };
	char roles_pg[128];
	struct caller caller;
	struct person target;
	e = jsonx_check_object(patch, "", keys, err);
	if (!e)
		e = caller_of(db, actor, &caller, err);
	if (!e)
		e = person_of(db, id, &target, err);
	/* the people of one's own organisation only, whoever one is */
	if (!e && !((caller.roles & (ROLE_ADMIN | ROLE_ORG_ADMIN)) && caller.org_id[0] &&
		    strcmp(caller.org_id, target.org_id) == 0))
		e = cf_error_set(err, CF_EFORBIDDEN, NULL,
				 "an organisation's administrator changes their own organisation's "
				 "people only");
	/* an org_admin of the scheme owner manages its people, not its admins */
	if (!e && (target.roles & ROLE_ADMIN) && !(caller.roles & ROLE_ADMIN))
		e = cf_error_set(err, CF_EFORBIDDEN, NULL, "only the scheme owner's admin changes an admin");
	if (!e)
		e = jsonx_get_text(patch, "", "name", false, 200, &job.name, err);
	if (!e)
		e = jsonx_get_bool(patch, "", "active", &job.active, &job.has_active, err);
	if (!e && json_object_get(patch, "roles")) {
		unsigned mask;
		e = roles_validate(json_object_get(patch, "roles"), &mask, roles_pg, sizeof roles_pg, err);
		const char *kind = jsonx_str(json_object_get(current, "organisation"), "kind");
		if (!e && (mask & ~roles_for_kind(kind)))
			e = cf_error_set(err, CF_EUNPROCESSABLE, "/roles",
					 "these roles do not fit an organisation of kind %s", kind);
		if (!e)
			e = may_grant(&caller, mask & ~target.roles, err);
		job.roles_pg = roles_pg;
	}
	json_decref(current);
	if (e)
		return e;
	return db_transaction_json(db, DB_READ_COMMITTED, user_update_tx, &job, job.out, err);
}

cf_err party_user_list(struct db *db, const char *org_id, const char *after, int limit, json_t **out,
		       struct cf_error *err)
{
	*out = NULL;
	if (org_id && !ids_is_uuid(org_id))
		return cf_error_set(err, CF_EINVAL, NULL, "org_id must be an organisation id");
	if (after && !ids_is_uuid(after))
		return cf_error_set(err, CF_EINVAL, NULL, "after must be a user id");
	char lim[24];
	snprintf(lim, sizeof lim, "%d", limit + 1);
	const char *p[] = { org_id, after, lim };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " USER_COLUMNS " FROM app_user u JOIN organisation o ON o.id = u.org_id"
		" WHERE ($1::uuid IS NULL OR u.org_id = $1) AND ($2::uuid IS NULL OR u.id > $2)"
		" ORDER BY u.id LIMIT $3", 3, p);
	if (e)
		return e;
	*out = db_page(res, limit, user_json, 0, DB_CURSOR_TEXT);
	PQclear(res);
	return CF_OK;
}

cf_err party_user_org(struct db *db, const char *user_id, char org_id[37], struct cf_error *err)
{
	cf_err e = require_uuid(user_id, "user", err);
	if (e)
		return e;
	const char *p[] = { user_id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err, "SELECT org_id FROM app_user WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(org_id, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no user %s", user_id);
	PQclear(res);
	return e;
}

cf_err party_user_find(struct db *db, const char *id_or_email, char id[37], struct cf_error *err)
{
	const char *p[] = { ids_is_uuid(id_or_email) ? id_or_email : NULL, id_or_email };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT id FROM app_user WHERE id = $1::uuid OR lower(email) = lower($2)", 2, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(id, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no user %.100s", id_or_email);
	PQclear(res);
	return e;
}

/* ---- tokens ---- */

#define TOKEN_COLUMNS                                                                          \
	"id, user_id, name, hint, " DB_TS("created_at") ", " DB_TS("expires_at") ", "           \
	DB_TS("revoked_at") ", " DB_TS("last_used_at") ", expires_at <= now(), created_by,"     \
	" created_with"

static json_t *token_json(const PGresult *res, int i)
{
	const char *state = db_value(res, i, 6) ? "revoked" : db_value_bool(res, i, 8) ? "expired" : "active";
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o}", "id", db_value(res, i, 0),
			 "user_id", db_value(res, i, 1), "name", db_value(res, i, 2), "hint",
			 db_value(res, i, 3), "created_at", db_value(res, i, 4), "expires_at",
			 db_value(res, i, 5), "revoked_at", jsonx_string_or_null(db_value(res, i, 6)),
			 "last_used_at", jsonx_string_or_null(db_value(res, i, 7)), "state", state, "created_by",
			 jsonx_string_or_null(db_value(res, i, 9)), "created_with", jsonx_string_or_null(db_value(res, i, 10)));
}

struct token_job {
	const struct audit_actor *actor;
	const char *with_token; /* the token the request came with, or NULL */
	const char *user_id, *name, *id;
	int days;
	json_t **out;
	bool compromised; /* revoke: with what it made for its person */
};

/* An administrator hands out a person's first token, or a replacement once
 * none is active (may_token_for says who); every other token the person
 * makes for themselves. conformctl may always make one for the scheme
 * owner's own people: it is the way back to a lost admin token. */
static cf_err token_for_someone_else(struct db *db, const struct token_job *job, struct cf_error *err)
{
	if (strcmp(job->actor->kind, "user") == 0 && strcmp(job->actor->id, job->user_id) == 0)
		return CF_OK;
	struct caller c;
	struct person target;
	cf_err e = caller_of(db, job->actor, &c, err);
	if (!e)
		e = person_of(db, job->user_id, &target, err);
	if (!e)
		e = may_token_for(&c, job->user_id, &target, err);
	if (e)
		return e;
	if (c.operator && strcmp(c.org_id, target.org_id) == 0)
		return CF_OK;
	const char *p[] = { job->user_id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT count(*) FROM api_token WHERE user_id = $1 AND revoked_at IS NULL"
		" AND expires_at > now()", 1, p);
	if (e)
		return e;
	long long active = db_value_ll(res, 0, 0);
	PQclear(res);
	if (active)
		return cf_error_set(err, CF_ECONFLICT, NULL,
				    "user %s has %lld active token%s: they make further tokens "
				    "themselves; their organisation's administrator hands out the first, "
				    "or a replacement once all are revoked", job->user_id, active,
				    active == 1 ? "" : "s");
	return CF_OK;
}

/* Makes a token inside the caller's transaction. */
static cf_err token_insert(struct db *db, struct token_job *job, struct cf_error *err)
{
	unsigned char raw[32];
	rnd_bytes(raw, sizeof raw);
	char *b64 = codec_b64url_encode(raw, sizeof raw);
	cf_wipe(raw, sizeof raw);
	char token[TOKEN_LEN + 1];
	snprintf(token, sizeof token, "%s%s", TOKEN_PREFIX, b64);
	cf_wipe(b64, strlen(b64));
	free(b64);
	char hash[DIGEST_SHA256_HEX_LEN], days[24];
	digest_sha256_hex(token, strlen(token), hash);
	snprintf(days, sizeof days, "%d", job->days);
	const char *by = strcmp(job->actor->kind, "user") == 0 ? job->actor->id : NULL;
	const char *p[] = { job->user_id, job->name ? job->name : "api", hash, token + TOKEN_LEN - 4,
			    days, by, job->with_token };
	PGresult *res = NULL;
	cf_err e = token_for_someone_else(db, job, err);
	if (!e)
		e = db_query_hot(db, &res, err,
			"INSERT INTO api_token (user_id, name, token_hash, hint, expires_at, created_by,"
			" created_with) SELECT $1, $2, $3, $4, now() + make_interval(days => $5::integer),"
			" $6, $7 FROM app_user WHERE id = $1 AND active RETURNING " TOKEN_COLUMNS, 7, p);
	if (!e && PQntuples(res) == 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL, "user %s is not active", job->user_id);
	if (e) {
		PQclear(res);
		cf_wipe(token, sizeof token);
		return e;
	}
	*job->out = token_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s,s:s,s:O}", "user_id", job->user_id, "name",
				    job->name ? job->name : "api", "expires_at",
				    json_object_get(*job->out, "expires_at"));
	e = audit_append(db, job->actor, "token.create", "token", jsonx_str(*job->out, "id"), details,
			 err);
	json_decref(details);
	if (!e)
		json_object_set_new(*job->out, "token", json_string(token));
	cf_wipe(token, sizeof token);
	return e;
}

static cf_err token_create_tx(struct db *db, void *arg, struct cf_error *err)
{
	return token_insert(db, arg, err);
}

cf_err party_token_create(struct db *db, const struct audit_actor *actor, const char *with_token,
			  const char *user_id, const char *name, int days, json_t **out,
			  struct cf_error *err)
{
	*out = NULL;
	if (days < 1 || days > TOKEN_DAYS_MAX)
		return cf_error_set(err, CF_EINVAL, "/expires_in_days",
				    "a token lives from 1 to %d days", TOKEN_DAYS_MAX);
	cf_err e = require_uuid(user_id, "user", err);
	if (e)
		return e;
	struct token_job job = { actor, with_token, user_id, name, NULL, days, out, false };
	return db_transaction_json(db, DB_READ_COMMITTED, token_create_tx, &job, out, err);
}

cf_err party_token_list(struct db *db, const char *user_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (user_id && !ids_is_uuid(user_id)) { /* no one has that id: no tokens */
		*out = json_pack("{s:[]}", "items");
		return CF_OK;
	}
	const char *p[] = { user_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " TOKEN_COLUMNS " FROM api_token WHERE ($1::uuid IS NULL OR user_id = $1)"
		" ORDER BY created_at DESC, id", 1, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, token_json(res, i));
	*out = json_pack("{s:o}", "items", items);
	PQclear(res);
	return CF_OK;
}

/* The ids in the first column of res, as a JSON array (new reference). */
static json_t *id_array(const PGresult *res)
{
	json_t *ids = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(ids, json_string(db_value(res, i, 0)));
	return ids;
}

/*
 * A plain revoke ends one token: a person's rotation (make a new token with
 * the old, revoke the old) keeps the new one, and revoking an
 * administrator's token leaves the first tokens it handed out to their
 * people. A revoke as compromised also ends every token made with it, at
 * any depth, for the same person: what a thief holding it could have made
 * to stay in. The live tokens it made for other people are listed
 * ("handed_out") for their administrators to judge, not revoked: they are
 * their owners' now.
 */
static cf_err token_revoke_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct token_job *job = arg;
	const char *p[] = { job->id };
	PGresult *res = NULL;
	json_t *also = NULL, *handed = NULL;
	char owner[37];
	struct caller c;
	struct person target;
	/* an org_admin of the scheme owner does not switch its admins off */
	cf_err e = party_token_owner(db, job->id, owner, err);
	if (!e && strcmp(job->actor->kind, "user") == 0 && strcmp(job->actor->id, owner) != 0) {
		e = caller_of(db, job->actor, &c, err);
		if (!e)
			e = person_of(db, owner, &target, err);
		if (!e && (target.roles & ROLE_ADMIN) && !(c.roles & ROLE_ADMIN))
			e = cf_error_set(err, CF_EFORBIDDEN, NULL,
					 "only the scheme owner's admin revokes an admin's token");
	}
	if (e)
		return e;
	e = db_query_hot(db, &res, err,
		"UPDATE api_token SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1"
		" RETURNING " TOKEN_COLUMNS, 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no token %s", job->id);
	}
	*job->out = token_json(res, 0);
	PQclear(res);
	res = NULL;
	const char *pu[] = { job->id, jsonx_str(*job->out, "user_id") };
	if (job->compromised) {
		e = db_query_hot(db, &res, err,
			"WITH RECURSIVE made (id) AS (SELECT id FROM api_token WHERE created_with = $1"
			" AND user_id = $2 UNION SELECT t.id FROM api_token t JOIN made m"
			" ON t.created_with = m.id WHERE t.user_id = $2)"
			" UPDATE api_token SET revoked_at = now() WHERE id IN (SELECT id FROM made)"
			" AND revoked_at IS NULL RETURNING id", 2, pu);
		if (e)
			return e;
		also = id_array(res);
		PQclear(res);
		e = db_query_hot(db, &res, err,
			"WITH RECURSIVE mine (id) AS (SELECT $1::uuid UNION SELECT t.id FROM api_token t"
			" JOIN mine m ON t.created_with = m.id WHERE t.user_id = $2)"
			" SELECT id FROM api_token WHERE created_with IN (SELECT id FROM mine)"
			" AND user_id <> $2 AND revoked_at IS NULL AND expires_at > now() ORDER BY id",
			2, pu);
		if (e) {
			json_decref(also);
			return e;
		}
		handed = id_array(res);
		PQclear(res);
	} else {
		also = json_array();
		handed = json_array();
	}
	json_object_set_new(*job->out, "compromised", json_boolean(job->compromised));
	json_object_set_new(*job->out, "also_revoked", also);
	json_object_set_new(*job->out, "handed_out", handed);
	json_t *details = json_pack("{s:O,s:b,s:O,s:O}", "user_id",
				    json_object_get(*job->out, "user_id"), "compromised",
				    job->compromised, "also_revoked", also, "handed_out", handed);
	e = audit_append(db, job->actor, "token.revoke", "token", job->id, details, err);
	json_decref(details);
	return e;
}

cf_err party_token_revoke(struct db *db, const struct audit_actor *actor, const char *token_id,
			  bool compromised, json_t **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = require_uuid(token_id, "token", err);
	if (e)
		return e;
	struct token_job job = { actor, NULL, NULL, NULL, token_id, 0, out, compromised };
	return db_transaction_json(db, DB_READ_COMMITTED, token_revoke_tx, &job, out, err);
}

cf_err party_token_owner(struct db *db, const char *token_id, char user_id[37], struct cf_error *err)
{
	cf_err e = require_uuid(token_id, "token", err);
	if (e)
		return e;
	const char *p[] = { token_id };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err, "SELECT user_id FROM api_token WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(user_id, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no token %s", token_id);
	PQclear(res);
	return e;
}

/* ---- me, bootstrap ---- */

cf_err party_me(struct db *db, const struct principal *p, json_t **out, struct cf_error *err)
{
	json_t *user = NULL, *org = NULL;
	*out = NULL;
	cf_err e = party_user_get(db, p->user_id, &user, err);
	if (!e)
		e = party_org_get(db, p->org_id, &org, err);
	if (e) {
		json_decref(user);
		return e;
	}
	*out = json_pack("{s:o,s:o,s:O,s:{s:s}}", "user", user, "organisation", org, "roles",
			 json_object_get(user, "roles"), "token", "id", p->token_id);
	return CF_OK;
}

struct bootstrap_job {
	const struct audit_actor *actor;
	const struct org_fields *org;
	const char *name, *email;
	json_t **out;
};

static cf_err bootstrap_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct bootstrap_job *job = arg;
	json_t *org = NULL, *user = NULL, *token = NULL;
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
				"SELECT 1 FROM organisation WHERE kind = 'scheme_owner'", 0, NULL);
	if (e)
		return e;
	bool exists = PQntuples(res) > 0;
	PQclear(res);
	if (exists)
		return cf_error_set(err, CF_ECONFLICT, NULL,
				    "conform is bootstrapped already: the scheme owner exists (an admin "
				    "can make more admins and tokens)");
	e = org_insert(db, job->actor, job->org, &org, err);
	if (e)
		return e;
	struct user_job uj = { job->actor, NULL, jsonx_str(org, "id"), job->name, job->email,
			       "{admin}", true, false, &user, NULL, ROLE_ADMIN };
	e = user_insert(db, &uj, err);
	if (!e) {
		struct token_job tj = { job->actor, NULL, jsonx_str(user, "id"), "bootstrap", NULL,
					TOKEN_DAYS_DEFAULT, &token, false };
		e = token_insert(db, &tj, err);
	}
	if (e) {
		json_decref(org);
		json_decref(user);
		return e;
	}
	*job->out = json_pack("{s:o,s:o,s:o}", "organisation", org, "user", user, "token", token);
	return CF_OK;
}

cf_err party_bootstrap(struct db *db, const struct audit_actor *actor, const json_t *org,
		       const json_t *admin, json_t **out, struct cf_error *err)
{
	static const char *const admin_keys[] = { "name", "email", NULL };
	*out = NULL;
	/* The scheme owner's body is validated like any organisation's that has
	 * no disclosure contact, then given its own kind. */
	json_t *o = json_deep_copy(org);
	json_object_set_new(o, "kind", json_string("accreditation_body"));
	struct org_fields f;
	cf_err e = org_validate(o, false, NULL, &f, err);
	if (e) {
		json_decref(o);
		return e;
	}
	f.kind = "scheme_owner";
	const char *name, *email;
	e = jsonx_check_object(admin, "/admin", admin_keys, err);
	if (!e)
		e = jsonx_get_text(admin, "/admin", "name", true, 200, &name, err);
	if (!e)
		e = jsonx_get_text(admin, "/admin", "email", true, 254, &email, err);
	if (!e && !ids_is_email(email))
		e = cf_error_set(err, CF_EINVAL, "/admin/email", "the admin's e-mail address is not one");
	if (!e) {
		struct bootstrap_job job = { actor, &f, name, email, out };
		e = db_transaction_json(db, DB_READ_COMMITTED, bootstrap_tx, &job, out, err);
	}
	json_decref(o);
	return e;
}
