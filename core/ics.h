/*
 * ics: ETSI EN 303 645 Annex B, the implementation conformance statement
 * (ICS), for an application of the ETSI scheme (issue 17).
 *
 * The table has the standard's four columns, one row per provision in the
 * standard's order:
 *
 *   Reference  the provision ("5.1-1")
 *   Status     as the standard prints it: M (mandatory), R (recommended),
 *              followed by " C" when the provision is conditional ("M C")
 *   Support    Y (supported), N (not supported), N/A (not applicable), or
 *              empty while the provision is not answered
 *   Detail     the answer's text (for N/A its justification); empty when
 *              unanswered
 *
 * Written as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when
 * they hold a comma, a quote, CR or LF) and as JSON ({standard, scheme_id,
 * scheme_version, provisions: [{reference, status, support, detail}]},
 * support and detail null while unanswered). Both forms carry nothing of
 * the application itself, so that an export imported into another
 * application exports again to the same bytes.
 *
 * Importing fills the application's answers: Y -> compliant, N ->
 * not_compliant, N/A -> not_applicable, the detail as the answer's text (and,
 * for N/A, as its justification). A row with an empty Support leaves that
 * provision's answer as it is; a row that says what the answer already says
 * changes nothing (so a table re-imported while information is requested
 * touches only what changed, and the provisions the assessor settled stay
 * as they were judged).
 *
 * Bad input names its row (CSV: the record's number, the header being row
 * 1; JSON: the provision's position from 1) and its column, in the detail
 * and as the problem members "row" and "column" (JSON: also the pointer):
 * malformed input is CF_EINVAL (400), a table that does not fit the
 * application's scheme version (an unknown or repeated provision, a status
 * that is not the standard's) CF_EUNPROCESSABLE (422).
 */
#ifndef CONFORM_ICS_H
#define CONFORM_ICS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "error.h"
#include "party.h"

/* The scheme whose Annex B this is. */
#define ICS_SCHEME "etsi-en-303-645"

/* The most rows a table may have (the standard has 67 provisions). */
#define ICS_MAX_ROWS 1000

/* One provision's row. Every string is owned by the table, never NULL
 * ("" for an empty cell). */
struct ics_row {
	char *reference, *status, *support, *detail;
	long row; /* CSV: the record's number (header = 1); JSON: position from 1 */
};

/* A parsed or exported table. scheme_id and scheme_version: what a JSON
 * table says it is for (NULL when it does not say; always NULL from CSV). */
struct ics_table {
	struct ics_row *rows;
	size_t n, alloc;
	bool json; /* parsed from JSON: errors name pointers into it */
	char *scheme_id, *scheme_version;
};

/* Frees what t holds and leaves it empty. */
void ics_table_free(struct ics_table *t);

/*
 * Parses the CSV text data (len bytes, a UTF-8 byte order mark allowed)
 * into *out (which the caller frees with ics_table_free, also on error).
 * The header row must name the four columns (case aside).
 */
cf_err ics_parse_csv(const char *data, size_t len, struct ics_table *out,
		     struct cf_error *err) CF_MUST_CHECK;

/* Parses a JSON table (borrowed) into *out (freed by the caller). */
cf_err ics_parse_json(const json_t *doc, struct ics_table *out, struct cf_error *err) CF_MUST_CHECK;

/* Appends t as CSV to out. */
cf_err ics_write_csv(const struct ics_table *t, struct buf *out, struct cf_error *err) CF_MUST_CHECK;

/* t as JSON for the scheme version (new reference). */
json_t *ics_write_json(const struct ics_table *t, const char *scheme_version);

/*
 * The table of application id (any state), with its scheme version
 * (scheme_version, 40 bytes) and its version's ETag (etag, 24 bytes), for
 * whoever may read the application. CF_ENOTFOUND for an application of
 * another scheme.
 */
cf_err ics_export(struct db *db, const char *id, struct ics_table *out, char *scheme_version,
		  char *etag, struct cf_error *err) CF_MUST_CHECK;

/*
 * Imports table t (borrowed) into application id as p (its manufacturer's
 * applicant), while answers may change (draft, info_requested), with
 * if_match the application's ETag (NULL: CF_EPRECOND_REQ): every row is
 * checked before anything is written; then the changed answers, the
 * application's new version and one audit record (application.ics_import),
 * in one transaction. *out is the application afterwards.
 */
cf_err ics_import(struct db *db, const struct principal *p, const char *id, const char *if_match,
		  const struct ics_table *t, json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
