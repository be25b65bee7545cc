/*
 * routes/keys: an assessment body's signing keys, managed by the body's own
 * administrator (org_admin). conform-signer makes and holds the private
 * halves (core/signer.h); the scheme owner's admin has no say over them.
 * Rotation is making a new key (the newest signs from then on) and, when
 * the body wishes, retiring the old one, whose certificates stay verifiable.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "http.h"
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
	struct audit_actor actor = party_actor(&rq->principal);
	return signer_generate(db, &actor, request_param(rq, "id"), rq->srv->signer_socket, out, err);
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
	if (!party_is_uuid(org))
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
	struct audit_actor actor = party_actor(&rq->principal);
	/* the route's rule made sure the key is the caller's organisation's */
	return signer_retire(db, &actor, request_param(rq, "id"), rq->principal.org_id,
			     rq->srv->signer_socket, out, err);
}

void route_key_retire(struct request *rq)
{
	request_run(rq, key_retire, 200);
}
