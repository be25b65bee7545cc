/*
 * routes/keys: an assessment body's signing keys, managed by the body's own
 * administrator (org_admin). conform-signer makes and holds the private
 * halves (core/signer.h); the scheme owner's admin has no say over them.
 * Rotation is making a new key (the newest signs from then on) and, when
 * the body wishes, retiring the old one, whose certificates stay verifiable.
 * A key that leaked is revoked as compromised since a time: what it signed
 * from then on stops verifying.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "certcache.h"
#include "http.h"
#include "ids.h"
#include "jsonx.h"
#include "party.h"
#include "routes.h"
#include "server.h"
#include "signer.h"

/* A key creation takes no members: what is made is decided by the body
 * alone ({} or no body at all). */
static cf_err no_members(const json_t *body, struct cf_error *err)
{
	const char *name;
	json_t *v;
	if (body && !json_is_object(body))
		return cf_error_set(err, CF_EINVAL, "", "the body must be a JSON object");
	json_object_foreach((json_t *)(uintptr_t)body, name, v) {
		char pointer[80];
		snprintf(pointer, sizeof pointer, "/%.60s", name);
		return cf_error_set(err, CF_EINVAL, pointer,
				    "a key takes no \"%.60s\": the signer decides everything about it",
				    name);
	}
	return CF_OK;
}

static cf_err key_create(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	cf_err e = no_members(body, err);
	if (e)
		return e;
	struct audit_actor actor = party_actor(request_principal(rq));
	e = signer_generate(db, &actor, request_param(rq, "id"), request_server(rq)->signer_socket, out, err);
	if (!e)
		certcache_invalidate_all(); /* verification here knows the new key at once */
	return e;
}

void route_key_create(struct request *rq)
{
	request_run_created(rq, key_create, "/v1/keys");
}

static cf_err key_list(struct request *rq, struct db *db, const json_t *body, json_t **out,
		       struct cf_error *err)
{
	(void)body;
	const char *org = request_param(rq, "id");
	if (!ids_is_uuid(org))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no organisation %.40s", org);
	return signer_list(db, org, out, err);
}

void route_key_list(struct request *rq)
{
	request_run(rq, key_list, 200);
}

static cf_err key_retire(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	cf_err e = no_members(body, err);
	if (e)
		return e;
	struct audit_actor actor = party_actor(request_principal(rq));
	/* the route's rule made sure the key is the caller's organisation's */
	e = signer_retire(db, &actor, request_param(rq, "id"), request_principal(rq)->org_id,
			  request_server(rq)->signer_socket, out, err);
	if (!e)
		certcache_invalidate_all(); /* answers show their key's state */
	return e;
}

void route_key_retire(struct request *rq)
{
	request_run(rq, key_retire, 200);
}

/*
 * {"compromised": true, "since": T, "reason": text}. Only a compromise is
 * a revocation: a key that is simply no longer used is retired, so
 * "compromised" must be given and true rather than defaulting to a plain
 * end of use that retire already is.
 */
static cf_err key_revoke(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	static const char *const keys[] = { "compromised", "since", "reason", NULL };
	bool compromised = false, given = false;
	const char *since = NULL, *reason = NULL;
	if (!json_is_object(body))
		return cf_error_set(err, CF_EINVAL, "",
				    "the body must be a JSON object: {\"compromised\": true, \"since\": "
				    "\"<RFC 3339 time>\", \"reason\": \"...\"}");
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_bool(body, "", "compromised", &compromised, &given, err);
	if (!e && !given)
		e = cf_error_set(err, CF_EINVAL, "/compromised",
				 "/compromised is required: a key is revoked here only as compromised");
	if (!e && !compromised)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/compromised",
				 "a key that is not compromised is retired, not revoked: "
				 "POST /v1/keys/%.60s/retire",
				 request_param(rq, "id"));
	if (!e)
		e = jsonx_get_text(body, "", "since", true, 64, &since, err);
	if (!e)
		e = jsonx_get_text(body, "", "reason", true, SIGNER_REASON_MAX, &reason, err);
	if (e)
		return e;
	struct audit_actor actor = party_actor(request_principal(rq));
	/* the route's rule made sure the key is the caller's organisation's */
	e = signer_compromise(db, &actor, request_server(rq)->cfg->public_url, request_server(rq)->signer_socket,
			      request_param(rq, "id"), request_principal(rq)->org_id, since, reason, out, err);
	if (!e)
		certcache_invalidate_all(); /* answers show their key's state, here and now */
	return e;
}

void route_key_revoke(struct request *rq)
{
	request_run(rq, key_revoke, 200);
}
