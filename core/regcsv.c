/*
 * regcsv: the register as CSV (see regcsv.h).
 */
#include "regcsv.h"

#include <stdio.h>
#include <string.h>

/* The columns, in order; the query below selects them in this order but the
 * last (the certificate's URL, made here). */
static const char *const columns[] = {
	"serial", "status", "status_changed_at", "product_name", "product_model",
	"hardware_version", "firmware_version", "gtin", "manufacturer_name", "manufacturer_country",
	"support_period_end", "security_contact", "disclosure_policy_url", "scheme", "standard",
	"class", "body", "valid_from", "valid_until", "certificate_url",
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

cf_err regcsv_field(struct buf *out, const char *v, struct cf_error *err)
{
	if (!v || !v[strcspn(v, ",\"\r\n")])
		return v ? buf_puts(out, v, err) : CF_OK;
	cf_err e = buf_puts(out, "\"", err);
	for (const char *p = v; *p && !e; p++)
		e = *p == '"' ? buf_puts(out, "\"\"", err) : buf_append(out, p, 1, err);
	if (!e)
		e = buf_puts(out, "\"", err);
	return e;
}

cf_err regcsv_header(struct buf *out, struct cf_error *err)
{
	cf_err e = CF_OK;
	for (size_t i = 0; i < NCOLUMNS && !e; i++) {
		if (i)
			e = buf_puts(out, ",", err);
		if (!e)
			e = regcsv_field(out, columns[i], err);
	}
	return e ? e : buf_puts(out, "\r\n", err);
}

cf_err regcsv_rows(struct db *db, const char *public_url, long long *after, int limit,
		   struct buf *out, int *n, struct cf_error *err)
{
	*n = 0;
	char a[24], l[24];
	snprintf(a, sizeof a, "%lld", *after);
	snprintf(l, sizeof l, "%d", limit);
	const char *p[] = { a, l };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.seq, c.serial, s.status, " DB_TS("c.status_changed_at") ","
		" a.product_snapshot->>'name', a.product_snapshot->>'model',"
		" a.product_snapshot->>'hardware_version', a.product_snapshot->>'firmware_version',"
		" a.product_snapshot->>'gtin', a.manufacturer_snapshot->>'name',"
		" a.manufacturer_snapshot->>'country', a.product_snapshot->>'support_end',"
		" a.manufacturer_snapshot->>'security_contact',"
		" a.manufacturer_snapshot->>'disclosure_policy_url',"
		" c.scheme_id || '@' || c.scheme_version, sv.title, c.class::text,"
		" c.issuer_name, " DB_TS("c.valid_from") ", " DB_TS("c.valid_until")
		" FROM certificate c CROSS JOIN LATERAL conform_certificate_state(c, now()) s"
		" JOIN application a ON a.id = c.application_id"
		" LEFT JOIN scheme_version sv ON sv.scheme_id = c.scheme_id AND sv.version = c.scheme_version"
		" WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT $2", 2, p);
	if (e)
		return e;
	for (int i = 0; i < PQntuples(res) && !e; i++) {
		for (int col = 1; col <= (int)NCOLUMNS - 1 && !e; col++) {
			if (col > 1)
				e = buf_puts(out, ",", err);
			if (!e)
				e = regcsv_field(out, db_value(res, i, col), err);
		}
		if (!e)
			e = buf_printf(out, err, ",%s/verify/%s\r\n", public_url ? public_url : "",
				       db_value(res, i, 1));
		*after = db_value_ll(res, i, 0);
		(*n)++;
	}
	PQclear(res);
	return e;
}
