/*
 * regcsv: the public register as CSV (RFC 4180) for market surveillance
 * (issue 15): one row per certificate with the fields of a UK PSTI
 * statement of compliance where the register has them: the product
 * (name, model, versions, GTIN), the manufacturer (name, country), the
 * defined support period's end, the vulnerability disclosure contact, the
 * scheme and the standard it implements, the body, the validity and the
 * certificate's page. What was signed (the snapshots at submission), not
 * the live product or organisation. Not signed itself: the signed export is
 * GET /v1/register/export.
 */
#ifndef CONFORM_REGCSV_H
#define CONFORM_REGCSV_H

#include "buf.h"
#include "db.h"
#include "error.h"

/* Appends the header row to out. */
cf_err regcsv_header(struct buf *out, struct cf_error *err) CF_MUST_CHECK;

/* Appends the rows of up to limit certificates after register position
 * *after (advanced), in register order; *n: how many (0 at the end).
 * public_url prefixes the certificate's page ("" gives a path). */
cf_err regcsv_rows(struct db *db, const char *public_url, long long *after, int limit,
		   struct buf *out, int *n, struct cf_error *err) CF_MUST_CHECK;

/* Appends one field to out, quoted when it holds a comma, a quote, CR or
 * LF (quotes doubled), as RFC 4180 says; NULL is an empty field. */
cf_err regcsv_field(struct buf *out, const char *v, struct cf_error *err) CF_MUST_CHECK;

#endif
