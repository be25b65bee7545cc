/*
 * routes/products: a manufacturer's products.
 */
#include "http.h"
#include "page.h"
#include "product.h"
#include "routes.h"

static cf_err create(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	return product_create(db, request_principal(rq), body, out, err);
}

void route_product_create(struct request *rq)
{
	request_run_created(rq, create, "/v1/products");
}

static cf_err list(struct request *rq, struct db *db, const struct page *page, json_t **out,
		   struct cf_error *err)
{
	/* a manufacturer sees its own products, an admin all */
	const char *org = request_principal(rq)->roles & ROLE_ADMIN ? NULL : request_principal(rq)->org_id;
	return product_list(db, org, page->after_key, page->limit, out, err);
}

void route_product_list(struct request *rq)
{
	request_run_page(rq, list);
}

static cf_err get(struct request *rq, struct db *db, const json_t *body, json_t **out,
		  struct cf_error *err)
{
	(void)body;
	return product_get(db, request_param(rq, "id"), out, err);
}

void route_product_get(struct request *rq)
{
	request_run(rq, get, 200);
}

static cf_err update(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	return product_update(db, request_principal(rq), request_param(rq, "id"), body, out, err);
}

void route_product_update(struct request *rq)
{
	request_run(rq, update, 200);
}
