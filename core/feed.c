/*
 * feed: the change feed's pages (see feed.h). The items are rendered by the
 * database (conform_feed_json, migration 0022), the one definition the
 * webhook payloads share.
 */
#include "feed.h"

#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "jsonx.h"
#include "party.h"

cf_err feed_filter_check(const struct feed_filter *f, struct cf_error *err)
{
	if (f->body && !ids_is_uuid(f->body))
		return cf_error_set(err, CF_EINVAL, "/body", "body must be an organisation id (a UUID)");
	if (f->manufacturer && !ids_is_uuid(f->manufacturer))
		return cf_error_set(err, CF_EINVAL, "/manufacturer",
				    "manufacturer must be an organisation id (a UUID)");
	if (f->scheme && (strlen(f->scheme) == 0 || strlen(f->scheme) > 100))
		return cf_error_set(err, CF_EINVAL, "/scheme", "scheme must be a scheme id (1 to 100 characters)");
	if (f->serial && (strlen(f->serial) == 0 || strlen(f->serial) > 40))
		return cf_error_set(err, CF_EINVAL, "/serial", "serial must be a certificate serial");
	return CF_OK;
}

cf_err feed_page(struct db *db, const struct feed_filter *f, long long after, int limit,
		 json_t **out, struct cf_error *err)
{
	PGresult *res = NULL;
	json_t *items = NULL;
	char afters[24], limits[16];
	*out = NULL;
	cf_err e = feed_filter_check(f, err);
	if (e)
		return e;
	snprintf(afters, sizeof afters, "%lld", after);
	snprintf(limits, sizeof limits, "%d", limit);
	const char *p[] = { afters, limits, f->body, f->manufacturer, f->scheme, f->serial };
	/* the log's size is read in the same statement as the items: one snapshot */
	e = db_query(db, &res, err,
		"SELECT conform_feed_json(f, l)::text, (SELECT coalesce(max(idx) + 1, 0) FROM tlog_entry)"
		" FROM feed_item f JOIN tlog_entry l ON l.idx = f.idx"
		" WHERE f.idx > $1::bigint"
		" AND ($3::uuid IS NULL OR f.body_id = $3::uuid)"
		" AND ($4::uuid IS NULL OR f.manufacturer_id = $4::uuid)"
		" AND ($5::text IS NULL OR f.scheme_id = $5)"
		" AND ($6::text IS NULL OR f.serial = $6)"
		" ORDER BY f.idx LIMIT $2::int",
		6, p);
	if (e)
		return e;
	items = json_array();
	long long next = after;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *item = json_loads(db_value(res, i, 0), 0, NULL);
		if (!item) {
			e = cf_error_set(err, CF_EINTERNAL, NULL, "a feed item is not JSON");
			goto out;
		}
		next = json_integer_value(json_object_get(item, "log_index"));
		json_array_append_new(items, item);
	}
	long long size = 0;
	if (PQntuples(res) > 0) {
		size = db_value_ll(res, 0, 1);
	} else {
		PQclear(res);
		res = NULL;
		e = db_query(db, &res, err, "SELECT coalesce(max(idx) + 1, 0) FROM tlog_entry", 0, NULL);
		if (e)
			goto out;
		size = db_value_ll(res, 0, 0);
	}
	*out = json_pack("{s:I,s:{s:o,s:o,s:o,s:o},s:O,s:I,s:I}", "after", (json_int_t)after, "filter",
			 "body", jsonx_string_or_null(f->body), "manufacturer", jsonx_string_or_null(f->manufacturer),
			 "scheme", jsonx_string_or_null(f->scheme), "serial", jsonx_string_or_null(f->serial), "items", items,
			 "next_after", (json_int_t)next, "log_size", (json_int_t)size);
out:
	json_decref(items);
	PQclear(res);
	return e;
}
