/*
 * routes/parties: who is calling (/v1/me), organisations, people and their
 * API tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "evidence.h"
#include "page.h"
#include "party.h"
#include "routes.h"
#include "server.h"

static cf_err me(struct request *rq, struct db *db, const json_t *body, json_t **out,
		 struct cf_error *err)
{
	(void)body;
	return party_me(db, request_principal(rq), out, err);
}

void route_me(struct request *rq)
{
	request_run(rq, me, 200);
}

static cf_err org_create(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return party_org_create(db, &actor, body, out, err);
}

void route_org_create(struct request *rq)
{
	request_run_created(rq, org_create, "/v1/organisations");
}

static cf_err org_list(struct request *rq, struct db *db, const struct page *page, json_t **out,
		       struct cf_error *err)
{
	return party_org_list(db, request_query(rq, "kind"), page->after_key, page->limit, out, err);
}

void route_org_list(struct request *rq)
{
	request_run_page(rq, org_list);
}

static cf_err org_get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		      struct cf_error *err)
{
	(void)body;
	cf_err e = party_org_get(db, request_param(rq, "id"), out, err);
	uint64_t used = 0;
	if (!e && evidence_usage(db, request_param(rq, "id"), &used, err)) {
		json_decref(*out);
		*out = NULL;
		return err->code;
	}
	if (!e)
		json_object_set_new(*out, "evidence_storage",
				    json_pack("{s:I,s:I}", "used", (json_int_t)used, "quota",
					      (json_int_t)request_server(rq)->cfg->evidence_quota));
	return e;
}

void route_org_get(struct request *rq)
{
	request_run(rq, org_get, 200);
}

static cf_err org_update(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return party_org_update(db, &actor, request_param(rq, "id"), body, out, err);
}

void route_org_update(struct request *rq)
{
	request_run(rq, org_update, 200);
}

static cf_err user_create(struct request *rq, struct db *db, const json_t *body, json_t **out,
			  struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return party_user_create(db, &actor, body, out, err);
}

void route_user_create(struct request *rq)
{
	request_run_created(rq, user_create, "/v1/users");
}

/* The scheme owner's admin lists everyone; an organisation's administrator
 * its own people only. */
static cf_err user_list(struct request *rq, struct db *db, const struct page *page, json_t **out,
			struct cf_error *err)
{
	const char *org = request_query(rq, "org_id");
	if (!(request_principal(rq)->roles & ROLE_ADMIN)) {
		if (org && strcmp(org, request_principal(rq)->org_id) != 0)
			return cf_error_set(err, CF_EFORBIDDEN, NULL,
					    "an organisation's administrator lists its own people only");
		org = request_principal(rq)->org_id;
	}
	return party_user_list(db, org, page->after_key, page->limit, out, err);
}

void route_user_list(struct request *rq)
{
	request_run_page(rq, user_list);
}

static cf_err user_get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		       struct cf_error *err)
{
	(void)body;
	return party_user_get(db, request_param(rq, "id"), out, err);
}

void route_user_get(struct request *rq)
{
	request_run(rq, user_get, 200);
}

static cf_err user_update(struct request *rq, struct db *db, const json_t *body, json_t **out,
			  struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return party_user_update(db, &actor, request_param(rq, "id"), body, out, err);
}

void route_user_update(struct request *rq)
{
	request_run(rq, user_update, 200);
}

void route_token_create(struct request *rq)
{
	static const char *const keys[] = { "name", "expires_in_days", NULL };
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	struct audit_actor actor = party_actor(request_principal(rq));
	const char *name = NULL;
	long long days = TOKEN_DAYS_DEFAULT;
	cf_err e = request_refuse_key(rq, "a token is shown once and never kept, so a repeat could "
				      "not answer it; list the tokens to see whether it was made", &err);
	if (!e)
		e = request_json(rq, &body, &err);
	if (!e)
		e = jsonx_check_object(body, "", keys, &err);
	if (!e)
		e = jsonx_get_text(body, "", "name", false, 100, &name, &err);
	if (!e)
		e = jsonx_get_int(body, "", "expires_in_days", false, 1, TOKEN_DAYS_MAX, &days, NULL, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = party_token_create(db, &actor, request_principal(rq)->token_id, request_param(rq, "id"), name,
				       (int)days, &out, &err);
	json_decref(body);
	/* The token is in this response and nowhere else: keep it out of caches. */
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (!e && jsonx_str(out, "id")) {
		char *location = cf_asprintf("/v1/tokens/%s", jsonx_str(out, "id"));
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, location);
		free(location);
	}
	reply_outcome(rq, e, &err, 201, out);
}

static cf_err token_list(struct request *rq, struct db *db, const json_t *body, json_t **out,
			 struct cf_error *err)
{
	(void)body;
	return party_token_list(db, request_param(rq, "id"), out, err);
}

void route_token_list(struct request *rq)
{
	request_run(rq, token_list, 200);
}

/* No body, or {"compromised": true} to also revoke what the token made for
 * its person (see party_token_revoke). */
static cf_err token_revoke(struct request *rq, struct db *db, const json_t *body, json_t **out,
			   struct cf_error *err)
{
	static const char *const keys[] = { "compromised", NULL };
	struct audit_actor actor = party_actor(request_principal(rq));
	bool compromised = false, given = false;
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_bool(body, "", "compromised", &compromised, &given, err);
	if (!e)
		e = party_token_revoke(db, &actor, request_param(rq, "id"), compromised, out, err);
	return e;
}

void route_token_revoke(struct request *rq)
{
	request_run(rq, token_revoke, 200);
}
