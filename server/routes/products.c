/*
 * routes/products: a manufacturer's products.
 */
#include <stdio.h>

#include "http.h"
#include "jsonx.h"
#include "product.h"
#include "routes.h"

void route_product_create(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	cf_err e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = product_create(db, &rq->principal, body, &out, &err);
	json_decref(body);
	if (!e) {
		char loc[96];
		snprintf(loc, sizeof loc, "/v1/products/%s", jsonx_str(out, "id"));
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
	}
	reply_outcome(rq, e, &err, 201, out);
}

void route_product_list(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	long limit;
	/* a manufacturer sees its own products, an admin all */
	const char *org = rq->principal.roles & ROLE_ADMIN ? NULL : rq->principal.org_id;
	cf_err e = request_query_int(rq, "limit", 100, 1, 500, &limit, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = product_list(db, org, request_query(rq, "after"), (int)limit, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_product_get(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = product_get(db, request_param(rq, "id"), &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_product_update(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	cf_err e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = product_update(db, &rq->principal, request_param(rq, "id"), body, &out, &err);
	json_decref(body);
	reply_outcome(rq, e, &err, 200, out);
}
