/*
 * routes/webhooks: the signed change feed (public) and organisations'
 * webhook subscriptions, their deliveries and replays (their own
 * administrator's). The outbox and its delivery thread: core/webhook.h,
 * server/webhooks.c.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "page.h"
#include "http.h"
#include "jsonx.h"
#include "jws.h"
#include "mem.h"
#include "party.h"
#include "routes.h"
#include "server.h"
#include "signer.h"
#include "webhook.h"

/*
 * The page is signed as a whole by the log key (one signature a request,
 * whatever the limit): "jws" is a compact JWS (typ conform-feed+jwt) whose
 * payload is the page without "jws". A consumer keeps the JWS to prove later
 * what it was served; each item's "entry" and "leaf_hash" also prove it
 * against any checkpoint by an inclusion proof.
 */
static cf_err sign_page(struct request *rq, struct db *db, json_t *page, struct cf_error *err)
{
	char kid[SIGNER_KID_LEN];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	char *payload = NULL, *jws = NULL;
	cf_err e = signer_current(db, NULL, kid, pub, err);
	if (e == CF_EUNPROCESSABLE)
		return cf_error_set(err, CF_EUNAVAILABLE, NULL, "the feed cannot be signed yet: the service "
				    "has no log key (its operator runs conformctl key generate --log)");
	if (!e)
		e = signer_private(db, kid, request_server(rq)->signer_socket, &key, err);
	if (e)
		return e;
	json_t *header = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "typ", "conform-feed+jwt", "kid", kid);
	payload = json_dumps(page, JSON_COMPACT);
	e = jws_sign(key, header, payload, strlen(payload), &jws, err);
	json_decref(header);
	free(payload);
	if (!e)
		json_object_set_new(page, "jws", json_string(jws));
	free(jws);
	return e;
}

void route_feed(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct page page;
	struct feed_filter f = { request_query(rq, "body"), request_query(rq, "manufacturer"),
				 request_query(rq, "scheme"), request_query(rq, "serial") };
	cf_err e = request_page(rq, &page, &err);
	if (!e)
		e = feed_filter_check(&f, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = feed_page(db, &f, page.after, page.limit, &out, &err);
	if (!e)
		e = sign_page(rq, db, out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

static cf_err webhook_create_step(struct request *rq, struct db *db, const json_t *body, json_t **out,
				  struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return webhook_create(db, &actor, request_param(rq, "id"), body,
			      request_server(rq)->cfg->webhook_allow_private != 0, out, err);
}

/* The secret is in this answer and nowhere but the subscription's row: no
 * Idempotency-Key (its record would keep a copy), no cache. */
void route_webhook_create(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	cf_err e = request_refuse_key(rq, "a webhook's secret is shown once and not kept with the "
				      "answer, so a repeat could not answer it; list the webhooks to see "
				      "whether it was made", &err);
	if (!e)
		e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = webhook_create_step(rq, db, body, &out, &err);
	json_decref(body);
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (!e && jsonx_str(out, "id")) {
		char *location = cf_asprintf("/v1/organisations/%s/webhooks/%s", request_param(rq, "id"),
					     jsonx_str(out, "id"));
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, location);
		free(location);
	}
	reply_outcome(rq, e, &err, 201, out);
}

static cf_err webhook_list_step(struct request *rq, struct db *db, const json_t *body, json_t **out,
				struct cf_error *err)
{
	(void)body;
	return webhook_list(db, request_param(rq, "id"), out, err);
}

void route_webhook_list(struct request *rq)
{
	request_run(rq, webhook_list_step, 200);
}

void route_webhook_delete(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	struct audit_actor actor = party_actor(request_principal(rq));
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = webhook_delete(db, &actor, request_param(rq, "id"), request_param(rq, "webhook"), &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	reply_response(rq, MHD_HTTP_NO_CONTENT, resp, 0);
}

void route_webhook_deliveries(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct page page;
	cf_err e = request_page(rq, &page, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = webhook_deliveries(db, request_param(rq, "id"), request_param(rq, "webhook"),
				       page.after, page.limit, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

static cf_err webhook_replay_step(struct request *rq, struct db *db, const json_t *body, json_t **out,
				  struct cf_error *err)
{
	static const char *const none[] = { NULL };
	if (body) { /* {} or nothing: a replay takes no members */
		cf_err e = jsonx_check_object(body, "", none, err);
		if (e)
			return e;
	}
	struct audit_actor actor = party_actor(request_principal(rq));
	return webhook_replay(db, &actor, request_param(rq, "id"), request_param(rq, "webhook"),
			      request_param(rq, "delivery"), out, err);
}

void route_webhook_replay(struct request *rq)
{
	request_run(rq, webhook_replay_step, 202);
}
