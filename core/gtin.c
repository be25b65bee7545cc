/*
 * gtin: GTIN parsing and the register's certificates by GTIN (see gtin.h).
 */
#include "digitallink.h"
#include "gtin.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "mem.h"

/* the product snapshot's GTIN, normalised as migration 0024 indexes it */
#define SNAPSHOT_GTIN "lpad(a.product_snapshot->>'gtin', 14, '0')"

cf_err gtin_certificates(struct db *db, const char *gtin14, json_t **out, struct cf_error *err)
{
	const char *p[] = { gtin14 };
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT c.serial, s.status, c.scheme_id, c.scheme_version, " DB_TS("c.valid_from") ","
		" " DB_TS("c.valid_until") ", a.product_snapshot->>'name'"
		" FROM application a JOIN certificate c ON c.application_id = a.id"
		" CROSS JOIN LATERAL conform_certificate_state(c, now()) s"
		" WHERE " SNAPSHOT_GTIN " = $1 ORDER BY c.seq", 1, p);
	if (e)
		return e;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?}", "serial",
						     db_value(res, i, 0), "status", db_value(res, i, 1),
						     "scheme_id", db_value(res, i, 2), "scheme_version",
						     db_value(res, i, 3), "valid_from", db_value(res, i, 4),
						     "valid_until", db_value(res, i, 5), "product",
						     db_value(res, i, 6)));
	PQclear(res);
	*out = arr;
	return CF_OK;
}

/* how hopeful a status is for the buyer: the GTIN's overall status is its
 * most hopeful certificate's */
static int rank(const char *status)
{
	static const char *order[] = { "withdrawn", "superseded", "expired", "suspended", "valid" };
	for (int i = 0; i < 5; i++)
		if (strcmp(status, order[i]) == 0)
			return i + 1;
	return 1; /* key_compromised: as final as withdrawn */
}

/* superseded: a newer certificate replaced it (listed under the same GTIN
 * when the product kept it, and then more hopeful); never said withdrawn */
static const char *overall(int r)
{
	static const char *names[] = { "none", "withdrawn", "superseded", "expired", "suspended",
				       "certified" };
	return names[r];
}

static cf_err put_line(struct buf *out, json_t *line, struct cf_error *err)
{
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		return cf_error_set(err, CF_EINTERNAL, NULL, "a shelf-check line could not be encoded");
	cf_err e = buf_puts(out, text, err);
	if (!e)
		e = buf_puts(out, "\n", err);
	free(text);
	return e;
}

cf_err gtin_shelf_page(struct db *db, const char *const *inputs, size_t count, struct buf *out,
		       struct cf_error *err)
{
	/* the page's GTINs as one text[] literal; a bad one is "" and matches
	 * nothing (its error line is written from here, in order) */
	struct buf arr;
	buf_init(&arr, count * (GTIN_LEN + 3) + 3);
	char (*norm)[GTIN_LEN + 1] = cf_calloc(count ? count : 1, sizeof *norm);
	char (*why)[160] = cf_calloc(count ? count : 1, sizeof *why);
	PGresult *res = NULL;
	cf_err e = buf_puts(&arr, "{", err);
	for (size_t i = 0; i < count && !e; i++) {
		struct cf_error gerr;
		if (!inputs[i])
			snprintf(why[i], sizeof why[i], "a GTIN is a string of digits");
		else if (digitallink_gtin14(inputs[i], norm[i], &gerr))
			snprintf(why[i], sizeof why[i], "%.150s", gerr.detail);
		e = buf_puts(&arr, i ? ",\"" : "\"", err);
		if (!e)
			e = buf_puts(&arr, why[i][0] ? "" : norm[i], err);
		if (!e)
			e = buf_puts(&arr, "\"", err);
	}
	if (!e)
		e = buf_puts(&arr, "}", err);
	if (e)
		goto out;
	const char *p[] = { arr.data };
	e = db_query_hot(db, &res, err,
		"SELECT g.ord, c.serial, s.status, c.scheme_id || '@' || c.scheme_version,"
		" " DB_TS("c.valid_until")
		" FROM unnest($1::text[]) WITH ORDINALITY g(gtin, ord)"
		" LEFT JOIN (application a JOIN certificate c ON c.application_id = a.id"
		"   CROSS JOIN LATERAL conform_certificate_state(c, now()) s)"
		"   ON g.gtin <> '' AND " SNAPSHOT_GTIN " = g.gtin"
		" ORDER BY g.ord, c.seq", 1, p);
	if (e)
		goto out;
	int row = 0, rows = PQntuples(res);
	for (size_t i = 0; i < count && !e; i++) {
		if (why[i][0]) {
			e = put_line(out, json_pack("{s:s?,s:s}", "gtin", inputs[i], "error", why[i]), err);
			/* its one row, with no certificate */
			while (row < rows && db_value_ll(res, row, 0) == (long long)i + 1)
				row++;
			continue;
		}
		json_t *certs = json_array();
		int best = 0;
		for (; row < rows && db_value_ll(res, row, 0) == (long long)i + 1; row++) {
			if (!db_value(res, row, 1))
				continue; /* no certificate: the left join's empty row */
			const char *st = db_value(res, row, 2);
			if (rank(st) > best)
				best = rank(st);
			json_array_append_new(certs, json_pack("{s:s,s:s,s:s,s:s}", "serial",
							       db_value(res, row, 1), "status", st,
							       "scheme", db_value(res, row, 3),
							       "valid_until", db_value(res, row, 4)));
		}
		e = put_line(out, json_pack("{s:s,s:s,s:s,s:o}", "gtin", inputs[i], "gtin14", norm[i],
					    "status", overall(best), "certificates", certs),
			     err);
	}
out:
	PQclear(res);
	buf_free(&arr);
	free(norm);
	free(why);
	return e;
}
