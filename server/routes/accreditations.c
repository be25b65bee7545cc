/*
 * routes/accreditations: granting and changing accreditations (accreditors),
 * and the public directory of assessment bodies.
 */
#include <string.h>

#include "accreditation.h"
#include "certcache.h"
#include "http.h"
#include "party.h"
#include "router.h"
#include "routes.h"

static cf_err grant(struct request *rq, struct db *db, const json_t *body, json_t **out,
		    struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	return accreditation_grant(db, &actor, body, out, err);
}

void route_acc_grant(struct request *rq)
{
	request_run_created(rq, grant, "/v1/accreditations");
}

static cf_err list(struct request *rq, struct db *db, const json_t *body, json_t **out,
		   struct cf_error *err)
{
	/* an accreditor sees its own organisation's grants; an admin all */
	const char *accreditor = request_principal(rq)->roles & ROLE_ADMIN ? NULL : request_principal(rq)->org_id;
	(void)body;
	return accreditation_list(db, accreditor, request_query(rq, "body_id"),
				  request_query(rq, "scheme_id"), out, err);
}

void route_acc_list(struct request *rq)
{
	request_run(rq, list, 200);
}

static cf_err get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		  struct cf_error *err)
{
	(void)body;
	return accreditation_get(db, request_param(rq, "id"), out, err);
}

void route_acc_get(struct request *rq)
{
	request_run(rq, get, 200);
}

/* Suspend, reinstate, withdraw: the action is the last segment of the
 * route's pattern (".../{id}/suspend"). */
static cf_err change(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	struct audit_actor actor = party_actor(request_principal(rq));
	const char *action = strrchr(request_route(rq)->pattern, '/') + 1;
	cf_err e = accreditation_change(db, &actor, request_param(rq, "id"), action, body, out, err);
	if (!e)
		certcache_invalidate_all(); /* certificates show their accreditation's state */
	return e;
}

void route_acc_suspend(struct request *rq)
{
	request_run(rq, change, 200);
}

void route_acc_reinstate(struct request *rq)
{
	request_run(rq, change, 200);
}

void route_acc_withdraw(struct request *rq)
{
	request_run(rq, change, 200);
}

static cf_err bodies(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	(void)rq;
	(void)body;
	return accreditation_bodies(db, out, err);
}

void route_bodies_list(struct request *rq)
{
	request_run(rq, bodies, 200);
}

static cf_err body_get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		       struct cf_error *err)
{
	(void)body;
	return accreditation_body(db, request_param(rq, "id"), out, err);
}

void route_body_get(struct request *rq)
{
	request_run(rq, body_get, 200);
}
