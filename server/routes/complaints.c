/*
 * routes/complaints: complaints (anyone, no account; counted per client
 * address), appeals (a manufacturer's people) and the cases a body handles
 * (its staff read them, a certifier not involved decides).
 */
#include <stdio.h>

#include "certcache.h"
#include "complaint.h"
#include "http.h"
#include "metrics.h"
#include "party.h"
#include "routes.h"
#include "server.h"
#include "throttle.h"

static cf_err lodge(struct request *rq, struct db *db, const json_t *body, json_t **out,
		    struct cf_error *err)
{
	long wait = throttle_lodge(request_client(rq));
	if (wait > 0) {
		char secs[24];
		snprintf(secs, sizeof secs, "%ld", wait);
		reply_header(rq, "Retry-After", secs);
		return cf_error_set(err, CF_ETHROTTLED, NULL,
				    "too many complaints from your address; try again in %ld s", wait);
	}
	/* a caller who sent a valid token is named; anyone else is "public" */
	const struct principal *p = request_principal(rq);
	struct audit_actor actor = { "system", "public", NULL };
	if (p->user_id[0])
		actor = party_actor(p);
	return complaint_lodge(db, &actor, body, out, err);
}

void route_complaint_lodge(struct request *rq)
{
	/* keys are kept per person: without a token, anyone who sent the same
	 * key and body would be answered another complainant's reference */
	struct cf_error err;
	cf_err e = request_principal(rq)->user_id[0]
		? CF_OK
		: request_refuse_key(rq, "a complaint lodged without a token is not replayed", &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	request_run_created(rq, lodge, "/v1/cases");
}

static cf_err appeal(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	return complaint_appeal(db, request_principal(rq), body, out, err);
}

void route_appeal_lodge(struct request *rq)
{
	request_run_created(rq, appeal, "/v1/cases");
}

static cf_err list(struct request *rq, struct db *db, const struct page *page, json_t **out,
		   struct cf_error *err)
{
	struct complaint_query q = { request_query(rq, "kind"), request_query(rq, "state") };
	return complaint_list(db, request_principal(rq), &q, page, out, err);
}

void route_case_list(struct request *rq)
{
	request_run_page(rq, list);
}

static cf_err get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		  struct cf_error *err)
{
	(void)body;
	return complaint_get(db, request_principal(rq), request_param(rq, "id"), out, err);
}

void route_case_get(struct request *rq)
{
	request_run(rq, get, 200);
}

static cf_err decide(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	cf_err e = complaint_decide(db, request_principal(rq), request_server(rq)->cfg->public_url,
				    request_param(rq, "id"), body, out, err);
	const json_t *decision = json_object_get(*out, "decision");
	if (!e && json_is_true(json_object_get(decision, "suspended"))) {
		/* read your writes, here and now (other processes: the notification) */
		certcache_invalidate(json_string_value(json_object_get(*out, "certificate")));
		metrics_count_status_change("suspend");
	}
	return e;
}

void route_case_decide(struct request *rq)
{
	request_run(rq, decide, 200);
}
