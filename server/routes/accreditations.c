/*
 * routes/accreditations: granting and changing accreditations (accreditors),
 * and the public directory of assessment bodies.
 */
#include "accreditation.h"
#include "certcache.h"
#include "http.h"
#include "party.h"
#include "routes.h"

void route_acc_grant(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	struct audit_actor actor = party_actor(&rq->principal);
	cf_err e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_grant(db, &actor, body, &out, &err);
	json_decref(body);
	reply_outcome(rq, e, &err, 201, out);
}

void route_acc_list(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	/* an accreditor sees its own organisation's grants; an admin all */
	const char *accreditor = rq->principal.roles & ROLE_ADMIN ? NULL : rq->principal.org_id;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_list(db, accreditor, request_query(rq, "body_id"),
				       request_query(rq, "scheme_id"), &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_acc_get(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_get(db, request_param(rq, "id"), &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

static void change(struct request *rq, const char *action)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	struct audit_actor actor = party_actor(&rq->principal);
	cf_err e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_change(db, &actor, request_param(rq, "id"), action, body, &out, &err);
	if (!e)
		certcache_invalidate_all(); /* certificates show their accreditation's state */
	json_decref(body);
	reply_outcome(rq, e, &err, 200, out);
}

void route_acc_suspend(struct request *rq)
{
	change(rq, "suspend");
}

void route_acc_reinstate(struct request *rq)
{
	change(rq, "reinstate");
}

void route_acc_withdraw(struct request *rq)
{
	change(rq, "withdraw");
}

void route_bodies_list(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_bodies(db, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_body_get(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = accreditation_body(db, request_param(rq, "id"), &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}
