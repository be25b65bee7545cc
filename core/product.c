/*
 * product: products of manufacturers (see product.h).
 */
#include "product.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"

#define PRODUCT_COLUMNS                                                                        \
	"id, manufacturer_id, name, model, hardware_version, firmware_version, description,"     \
	" product_page, gtin, support_end::text, " DB_TS("created_at") ", " DB_TS("updated_at")

static json_t *product_json(const PGresult *res, int i)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s}", "id", db_value(res, i, 0),
			 "manufacturer_id", db_value(res, i, 1), "name", db_value(res, i, 2), "model",
			 db_value(res, i, 3), "hardware_version", db_value(res, i, 4),
			 "firmware_version", db_value(res, i, 5), "description",
			 jsonx_string_or_null(db_value(res, i, 6)), "product_page",
			 jsonx_string_or_null(db_value(res, i, 7)), "gtin", jsonx_string_or_null(db_value(res, i, 8)),
			 "support_end", db_value(res, i, 9), "created_at", db_value(res, i, 10),
			 "updated_at", db_value(res, i, 11));
}

struct product_fields {
	const char *name, *model, *hw, *fw, *description, *page, *gtin, *support_end;
};

static cf_err product_validate(const json_t *body, bool patch, struct product_fields *f,
			       struct cf_error *err)
{
	static const char *const keys[] = { "name", "model", "hardware_version", "firmware_version",
					    "description", "product_page", "gtin", "support_end", NULL };
	memset(f, 0, sizeof *f);
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "name", !patch, 200, &f->name, err);
	if (!e)
		e = jsonx_get_text(body, "", "model", !patch, 200, &f->model, err);
	if (!e)
		e = jsonx_get_text(body, "", "hardware_version", !patch, 100, &f->hw, err);
	if (!e)
		e = jsonx_get_text(body, "", "firmware_version", !patch, 100, &f->fw, err);
	if (!e)
		e = jsonx_get_text(body, "", "description", false, 4000, &f->description, err);
	if (!e)
		e = jsonx_get_text(body, "", "product_page", false, 500, &f->page, err);
	if (!e)
		e = jsonx_get_text(body, "", "gtin", false, 14, &f->gtin, err);
	if (!e)
		e = jsonx_get_time(body, "", "support_end", !patch, &f->support_end, err);
	if (e)
		return e;
	if (f->page && strncmp(f->page, "https://", 8) != 0 && strncmp(f->page, "http://", 7) != 0)
		return cf_error_set(err, CF_EINVAL, "/product_page", "/product_page must be an http(s) URL");
	if (f->gtin && (strlen(f->gtin) < 8 || strspn(f->gtin, "0123456789") != strlen(f->gtin)))
		return cf_error_set(err, CF_EINVAL, "/gtin", "/gtin must be 8 to 14 digits");
	if (f->support_end && strlen(f->support_end) != 10)
		return cf_error_set(err, CF_EINVAL, "/support_end",
				    "/support_end is a date (YYYY-MM-DD): the last day of security support");
	return CF_OK;
}

struct product_job {
	const struct principal *p;
	const struct product_fields *f;
	const char *id;
	json_t **out;
};

static cf_err create_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct product_job *j = arg;
	const struct product_fields *f = j->f;
	const char *params[] = { j->p->org_id, f->name, f->model, f->hw, f->fw, f->description, f->page,
				 f->gtin, f->support_end };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO product (manufacturer_id, name, model, hardware_version, firmware_version,"
		" description, product_page, gtin, support_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
		" $9) RETURNING " PRODUCT_COLUMNS, 9, params);
	if (e)
		return e;
	*j->out = product_json(res, 0);
	PQclear(res);
	struct audit_actor actor = party_actor(j->p);
	json_t *details = json_pack("{s:s,s:s,s:s}", "name", f->name, "model", f->model,
				    "firmware_version", f->fw);
	e = audit_append(db, &actor, "product.create", "product", jsonx_str(*j->out, "id"), details, err);
	json_decref(details);
	return e;
}

cf_err product_create(struct db *db, const struct principal *p, const json_t *body, json_t **out,
		      struct cf_error *err)
{
	*out = NULL;
	struct product_fields f;
	cf_err e = product_validate(body, false, &f, err);
	if (e)
		return e;
	if (strcmp(p->org_kind, "manufacturer") != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "products belong to manufacturers");
	struct product_job j = { p, &f, NULL, out };
	return db_transaction_json(db, DB_READ_COMMITTED, create_tx, &j, out, err);
}

static cf_err update_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct product_job *j = arg;
	const struct product_fields *f = j->f;
	const char *params[] = { j->id, f->name, f->model, f->hw, f->fw, f->description, f->page,
				 f->gtin, f->support_end };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"UPDATE product SET name = coalesce($2, name), model = coalesce($3, model),"
		" hardware_version = coalesce($4, hardware_version),"
		" firmware_version = coalesce($5, firmware_version),"
		" description = coalesce($6, description), product_page = coalesce($7, product_page),"
		" gtin = coalesce($8, gtin), support_end = coalesce($9::date, support_end),"
		" updated_at = now() WHERE id = $1 RETURNING " PRODUCT_COLUMNS, 9, params);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %s", j->id);
	}
	*j->out = product_json(res, 0);
	PQclear(res);
	struct audit_actor actor = party_actor(j->p);
	json_t *details = json_pack("{s:s,s:s}", "firmware_version", jsonx_str(*j->out, "firmware_version"),
				    "support_end", jsonx_str(*j->out, "support_end"));
	e = audit_append(db, &actor, "product.update", "product", j->id, details, err);
	json_decref(details);
	return e;
}

cf_err product_update(struct db *db, const struct principal *p, const char *id, const json_t *patch,
		      json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %.40s", id);
	struct product_fields f;
	cf_err e = product_validate(patch, true, &f, err);
	if (e)
		return e;
	struct product_job j = { p, &f, id, out };
	return db_transaction_json(db, DB_READ_COMMITTED, update_tx, &j, out, err);
}

cf_err product_get(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %.40s", id);
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT " PRODUCT_COLUMNS " FROM product WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = product_json(res, 0);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %s", id);
	PQclear(res);
	return e;
}

cf_err product_list(struct db *db, const char *manufacturer, const char *after, int limit,
		    json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (after && !ids_is_uuid(after))
		return cf_error_set(err, CF_EINVAL, NULL, "after must be a product id");
	char lim[24];
	snprintf(lim, sizeof lim, "%d", limit + 1);
	const char *p[] = { manufacturer, after, lim };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " PRODUCT_COLUMNS " FROM product WHERE ($1::uuid IS NULL OR manufacturer_id = $1)"
		" AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3", 3, p);
	if (e)
		return e;
	*out = db_page(res, limit, product_json, 0, DB_CURSOR_TEXT);
	PQclear(res);
	return CF_OK;
}

cf_err product_owner(struct db *db, const char *id, char org[37], struct cf_error *err)
{
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %.40s", id);
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT manufacturer_id FROM product WHERE id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(org, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no product %s", id);
	PQclear(res);
	return e;
}
