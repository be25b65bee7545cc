/*
 * product: a manufacturer's products: name, model, hardware and firmware
 * versions, description, product page, GTIN, and the end of the security
 * support period, which no certificate outlasts.
 */
#ifndef CONFORM_PRODUCT_H
#define CONFORM_PRODUCT_H

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"

/* Creates a product of the caller's organisation. */
cf_err product_create(struct db *db, const struct principal *p, const json_t *body, json_t **out,
		      struct cf_error *err) CF_MUST_CHECK;
cf_err product_update(struct db *db, const struct principal *p, const char *id, const json_t *patch,
		      json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err product_get(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;
/* manufacturer NULL: all products (admin). */
cf_err product_list(struct db *db, const char *manufacturer, const char *after, int limit,
		    json_t **out, struct cf_error *err) CF_MUST_CHECK;
/* The manufacturer of a product (for the rule "own product"). */
cf_err product_owner(struct db *db, const char *id, char org[37], struct cf_error *err) CF_MUST_CHECK;

#endif
