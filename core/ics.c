/*
 * ics: ETSI EN 303 645 Annex B tables (see ics.h).
 */
#include "ics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "application.h"
#include "audit.h"
#include "jsonx.h"
#include "mem.h"
#include "regcsv.h"

/* The standard's columns, and the JSON members that hold them. */
enum { COL_REFERENCE, COL_STATUS, COL_SUPPORT, COL_DETAIL, COLS };
static const char *const columns[COLS] = { "Reference", "Status", "Support", "Detail" };
static const char *const members[COLS] = { "reference", "status", "support", "detail" };

/* What a cell may hold: the answer's text is at most 20000 bytes
 * (core/application.c), a reference or a status a few characters. */
static const size_t cell_max[COLS] = { 20, 8, 8, 20000 };

void ics_table_free(struct ics_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].reference);
		free(t->rows[i].status);
		free(t->rows[i].support);
		free(t->rows[i].detail);
	}
	free(t->rows);
	free(t->scheme_id);
	free(t->scheme_version);
	memset(t, 0, sizeof *t);
}

/* Names row and column of t in err: the detail starts with where, the
 * problem carries "row" and "column" (and, for JSON, the pointer). */
static cf_err at(const struct ics_table *t, long row, int col, enum cf_code code, struct cf_error *err,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static cf_err at(const struct ics_table *t, long row, int col, enum cf_code code, struct cf_error *err,
		 const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (t->json) {
		char ptr[64];
		snprintf(ptr, sizeof ptr, "/provisions/%ld/%s", row - 1, members[col]);
		cf_error_set(err, code, ptr, "%s (row %ld, column %s): %s", ptr, row, columns[col], msg);
	} else {
		cf_error_set(err, code, NULL, "row %ld, column %s: %s", row, columns[col], msg);
	}
	char extra[96];
	snprintf(extra, sizeof extra, "{\"row\":%ld,\"column\":\"%s\"}", row, columns[col]);
	cf_error_set_extra(err, extra);
	return code;
}

/* s without the spaces and tabs around it (a new string). */
static char *trimmed(const char *s)
{
	size_t b = strspn(s, " \t"), e = strlen(s);
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	return cf_strndup(s + b, e - b);
}

/*
 * Adds a row from its four cells (borrowed) and checks what holds whatever
 * the scheme: lengths, control characters, the support values, a detail
 * with every answer and none without.
 */
static cf_err add_row(struct ics_table *t, long row, const char *const cell[COLS], struct cf_error *err)
{
	for (int c = 0; c < COLS; c++) {
		size_t n = strlen(cell[c]);
		if (n > cell_max[c])
			return at(t, row, c, CF_EINVAL, err, "too long (%zu bytes; at most %zu)", n, cell_max[c]);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)cell[c][i] < 0x20 && cell[c][i] != '\n' && cell[c][i] != '\t')
				return at(t, row, c, CF_EINVAL, err, "contains a control character");
	}
	if (t->n == ICS_MAX_ROWS)
		return at(t, row, COL_REFERENCE, CF_EINVAL, err, "more than %d rows", ICS_MAX_ROWS);
	char *ref = trimmed(cell[COL_REFERENCE]), *status = trimmed(cell[COL_STATUS]);
	char *support = trimmed(cell[COL_SUPPORT]);
	cf_err e = CF_OK;
	if (!*ref)
		e = at(t, row, COL_REFERENCE, CF_EINVAL, err, "the provision's reference is empty");
	else if (!*status)
		e = at(t, row, COL_STATUS, CF_EINVAL, err, "%s: the status (M, R, M C or R C) is empty", ref);
	else if (*support && strcasecmp(support, "Y") != 0 && strcasecmp(support, "N") != 0 &&
		 strcasecmp(support, "N/A") != 0)
		e = at(t, row, COL_SUPPORT, CF_EINVAL, err,
		       "%s: support must be Y, N, N/A or empty (not answered), not \"%s\"", ref, support);
	bool blank = strspn(cell[COL_DETAIL], " \t\n") == strlen(cell[COL_DETAIL]);
	if (!e && *support && blank)
		e = at(t, row, COL_DETAIL, CF_EINVAL, err,
		       "%s: an answered provision needs its detail (how it is supported, or why not)", ref);
	if (!e && !*support && !blank)
		e = at(t, row, COL_SUPPORT, CF_EINVAL, err,
		       "%s: a detail without support: say Y, N or N/A", ref);
	if (e) {
		free(ref);
		free(status);
		free(support);
		return e;
	}
	for (char *s = support; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 80;
		t->rows = cf_reallocarray(t->rows, t->alloc, sizeof *t->rows);
	}
	t->rows[t->n++] = (struct ics_row){ ref, status, support,
					    cf_strdup(*support ? cell[COL_DETAIL] : ""), row };
	return CF_OK;
}

/* ---- CSV ---- */

/* One record of CSV (RFC 4180, LF accepted for CRLF) from data at *pos:
 * its fields (up to COLS kept, *nf counts all) into f (reset first). */
static cf_err csv_record(struct ics_table *t, const char *data, size_t len, size_t *pos, long row,
			 struct buf f[COLS], int *nf, struct cf_error *err)
{
	size_t i = *pos;
	int k = 0;
	for (int c = 0; c < COLS; c++)
		buf_reset(&f[c]);
	for (;;) {
		struct buf *cur = k < COLS ? &f[k] : NULL;
		int col = k < COLS ? k : COLS - 1;
		cf_err e = CF_OK;
		if (i < len && data[i] == '"') {
			i++;
			for (;;) {
				if (i == len)
					return at(t, row, col, CF_EINVAL, err,
						  "a quoted field is not closed before the end of the input");
				if (data[i] == '"') {
					if (i + 1 < len && data[i + 1] == '"') {
						if (cur)
							e = buf_append(cur, "\"", 1, err);
						i += 2;
					} else {
						i++;
						break;
					}
				} else {
					/* a line break inside a field is CRLF on the wire, LF in
					 * the answer's text */
					if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') && cur)
						e = buf_append(cur, &data[i], 1, err);
					i++;
				}
				if (e)
					return at(t, row, col, CF_EINVAL, err, "the field is too long");
			}
			if (i < len && data[i] != ',' && data[i] != '\r' && data[i] != '\n')
				return at(t, row, col, CF_EINVAL, err,
					  "a quoted field must end at a comma or the end of the line");
		} else {
			while (i < len && data[i] != ',' && data[i] != '\r' && data[i] != '\n') {
				if (data[i] == '"')
					return at(t, row, col, CF_EINVAL, err,
						  "a quote in an unquoted field (quote the whole field and "
						  "double the quote)");
				if (cur && buf_append(cur, &data[i], 1, err))
					return at(t, row, col, CF_EINVAL, err, "the field is too long");
				i++;
			}
		}
		k++;
		if (i < len && data[i] == ',') {
			i++;
			continue;
		}
		if (i < len && data[i] == '\r') {
			/* (a CR that ends the input ends the record: a copy that lost
			 * its last LF) */
			if (i + 1 < len && data[i + 1] != '\n')
				return at(t, row, col, CF_EINVAL, err, "a carriage return outside a quoted "
					  "field that does not end the line");
			i++;
		}
		if (i < len)
			i++; /* the LF */
		break;
	}
	*pos = i;
	*nf = k;
	return CF_OK;
}

cf_err ics_parse_csv(const char *data, size_t len, struct ics_table *out, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	struct buf f[COLS];
	for (int c = 0; c < COLS; c++)
		buf_init(&f[c], cell_max[c] + 1);
	size_t pos = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	cf_err e = CF_OK;
	long row = 0;
	bool header = false;
	while (!e && pos < len) {
		int nf = 0;
		row++;
		e = csv_record(out, data, len, &pos, row, f, &nf, err);
		if (e)
			break;
		if (nf == 1 && f[0].len == 0)
			continue; /* an empty line */
		if (nf != COLS) {
			e = at(out, row, nf < COLS ? nf - 1 : COLS - 1, CF_EINVAL, err,
			       "%d fields; Annex B has %d columns: Reference, Status, Support, Detail", nf, COLS);
			break;
		}
		if (!header) {
			for (int c = 0; c < COLS && !e; c++) {
				char *name = trimmed(buf_str(&f[c]));
				if (strcasecmp(name, columns[c]) != 0)
					e = at(out, row, c, CF_EINVAL, err,
					       "the header row names the columns Reference, Status, Support, "
					       "Detail; column %d is \"%s\"", c + 1, name);
				free(name);
			}
			header = true;
			continue;
		}
		const char *cell[COLS];
		for (int c = 0; c < COLS; c++)
			cell[c] = buf_str(&f[c]);
		e = add_row(out, row, cell, err);
	}
	if (!e && !header)
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the CSV is empty: Annex B starts with the header row Reference, Status, "
				 "Support, Detail");
	for (int c = 0; c < COLS; c++)
		buf_free(&f[c]);
	return e;
}

cf_err ics_write_csv(const struct ics_table *t, struct buf *out, struct cf_error *err)
{
	cf_err e = CF_OK;
	for (int c = 0; c < COLS && !e; c++) {
		if (c)
			e = buf_puts(out, ",", err);
		if (!e)
			e = regcsv_field(out, columns[c], err);
	}
	if (!e)
		e = buf_puts(out, "\r\n", err);
	for (size_t i = 0; i < t->n && !e; i++) {
		const struct ics_row *r = &t->rows[i];
		const char *cell[COLS] = { r->reference, r->status, r->support, r->detail };
		for (int c = 0; c < COLS && !e; c++) {
			if (c)
				e = buf_puts(out, ",", err);
			if (!e)
				e = regcsv_field(out, cell[c], err);
		}
		if (!e)
			e = buf_puts(out, "\r\n", err);
	}
	return e;
}

/* ---- JSON ---- */

cf_err ics_parse_json(const json_t *doc, struct ics_table *out, struct cf_error *err)
{
	static const char *const keys[] = { "standard", "scheme_id", "scheme_version", "provisions",
					    NULL };
	static const char *const row_keys[] = { "reference", "status", "support", "detail", NULL };
	memset(out, 0, sizeof *out);
	out->json = true;
	cf_err e = jsonx_check_object(doc, "", keys, err);
	const char *sid = NULL, *sver = NULL, *standard = NULL;
	if (!e)
		e = jsonx_get_text(doc, "", "standard", false, 64, &standard, err);
	if (!e && standard && strcmp(standard, "ETSI EN 303 645") != 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/standard",
				 "/standard is \"%s\": this is ETSI EN 303 645's Annex B", standard);
	if (!e)
		e = jsonx_get_text(doc, "", "scheme_id", false, 64, &sid, err);
	if (!e)
		e = jsonx_get_text(doc, "", "scheme_version", false, 40, &sver, err);
	if (e)
		return e;
	out->scheme_id = sid ? cf_strdup(sid) : NULL;
	out->scheme_version = sver ? cf_strdup(sver) : NULL;
	const json_t *rows = json_object_get(doc, "provisions");
	if (!json_is_array(rows))
		return cf_error_set(err, CF_EINVAL, "/provisions",
				    "/provisions must be an array of {reference, status, support, detail}");
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r) {
		char base[48];
		snprintf(base, sizeof base, "/provisions/%zu", i);
		long row = (long)i + 1;
		if (!json_is_object(r))
			return cf_error_set(err, CF_EINVAL, base, "%s (row %ld) must be an object", base, row);
		e = jsonx_check_object(r, base, row_keys, err);
		if (e)
			return e;
		const char *cell[COLS];
		for (int c = 0; c < COLS; c++) {
			const json_t *v = json_object_get(r, members[c]);
			if (json_is_null(v) || (!v && c >= COL_SUPPORT))
				cell[c] = "";
			else if (json_is_string(v))
				cell[c] = json_string_value(v);
			else
				return at(out, row, c, CF_EINVAL, err, "must be a string%s",
					  c >= COL_SUPPORT ? " or null" : "");
			if (json_is_string(v) && strlen(cell[c]) != json_string_length(v))
				return at(out, row, c, CF_EINVAL, err, "contains a NUL character");
		}
		e = add_row(out, row, cell, err);
		if (e)
			return e;
	}
	return CF_OK;
}

json_t *ics_write_json(const struct ics_table *t, const char *scheme_version)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct ics_row *r = &t->rows[i];
		json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "reference", r->reference,
						      "status", r->status, "support",
						      jsonx_string_or_null(*r->support ? r->support : NULL),
						      "detail",
						      jsonx_string_or_null(*r->support ? r->detail : NULL)));
	}
	return json_pack("{s:s,s:s,s:s,s:o}", "standard", "ETSI EN 303 645", "scheme_id", ICS_SCHEME,
			 "scheme_version", scheme_version, "provisions", rows);
}

/* ---- the application's table ---- */

/* Support of an answer's statement, and back. */
static const char *support_of(const char *statement)
{
	if (!statement)
		return "";
	if (strcmp(statement, "compliant") == 0)
		return "Y";
	if (strcmp(statement, "not_compliant") == 0)
		return "N";
	return "N/A";
}

static const char *statement_of(const char *support)
{
	if (strcmp(support, "Y") == 0)
		return "compliant";
	if (strcmp(support, "N") == 0)
		return "not_compliant";
	return "not_applicable";
}

/* The provisions of a's scheme version in the standard's order, with their
 * status and a's answer: ref, status, statement, text, justification. */
static cf_err provisions(struct db *db, const struct application_row *a, PGresult **res,
			 struct cf_error *err)
{
	char cls[24];
	snprintf(cls, sizeof cls, "%d", a->class_number);
	const char *p[] = { a->id, a->scheme_id, a->scheme_version, cls };
	return db_query_hot(db, res, err,
		"SELECT r.ref, CASE WHEN coalesce(r.mandatory_from_class <= $4::integer, false)"
		" THEN 'M' ELSE 'R' END || CASE WHEN r.conditional THEN ' C' ELSE '' END,"
		" ans.statement, ans.text, ans.justification"
		" FROM requirement r LEFT JOIN application_answer ans ON ans.application_id = $1"
		" AND ans.ref = r.ref WHERE r.scheme_id = $2 AND r.version = $3 ORDER BY r.position",
		4, p);
}

static cf_err ics_scheme(const struct application_row *a, struct cf_error *err)
{
	if (strcmp(a->scheme_id, ICS_SCHEME) != 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL,
				    "an implementation conformance statement (Annex B) belongs to an "
				    "application for %s; this one is for %s@%s", ICS_SCHEME, a->scheme_id,
				    a->scheme_version);
	return CF_OK;
}

cf_err ics_export(struct db *db, const char *id, struct ics_table *out, char *scheme_version,
		  char *etag, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	struct application_row a;
	cf_err e = application_load(db, id, false, &a, err);
	if (!e)
		e = ics_scheme(&a, err);
	PGresult *res = NULL;
	if (!e)
		e = provisions(db, &a, &res, err);
	if (e)
		return e;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *statement = db_value(res, i, 2);
		const char *detail = "";
		if (statement)
			detail = strcmp(statement, "not_applicable") == 0 && db_value(res, i, 4)
					 ? db_value(res, i, 4) : db_value(res, i, 3);
		if (out->n == out->alloc) {
			out->alloc = out->alloc ? 2 * out->alloc : 80;
			out->rows = cf_reallocarray(out->rows, out->alloc, sizeof *out->rows);
		}
		out->rows[out->n] = (struct ics_row){ cf_strdup(db_value(res, i, 0)),
						      cf_strdup(db_value(res, i, 1)),
						      cf_strdup(support_of(statement)), cf_strdup(detail),
						      (long)out->n + 2 };
		out->n++;
	}
	PQclear(res);
	snprintf(scheme_version, 40, "%s", a.scheme_version);
	application_etag(a.version, etag);
	return CF_OK;
}

struct import_job {
	const struct principal *p;
	const char *id, *if_match;
	const struct ics_table *t;
};

static cf_err import_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct import_job *j = arg;
	const struct ics_table *t = j->t;
	struct application_row a;
	cf_err e = application_load(db, j->id, true, &a, err);
	if (e)
		return e;
	if (strcmp(a.manufacturer_id, j->p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the application is not your organisation's");
	e = ics_scheme(&a, err);
	if (!e)
		e = application_if_match(j->if_match, a.version, err);
	if (e)
		return e;
	e = application_open_for(&a, "answers change", err);
	if (e)
		return e;
	if (t->scheme_id && strcmp(t->scheme_id, a.scheme_id) != 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/scheme_id",
				    "the table is for %s; the application is for %s", t->scheme_id,
				    a.scheme_id);
	if (t->scheme_version && strcmp(t->scheme_version, a.scheme_version) != 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/scheme_version",
				    "the table is for %s %s; the application is for version %s",
				    a.scheme_id, t->scheme_version, a.scheme_version);
	PGresult *res = NULL;
	e = provisions(db, &a, &res, err);
	if (e)
		return e;
	int np = PQntuples(res);
	long *seen = cf_calloc((size_t)np + 1, sizeof *seen); /* the row that named each provision */
	struct buf changed;
	buf_init(&changed, 64 * 1024);
	/* every row checked before anything is written */
	int *match = cf_calloc(t->n + 1, sizeof *match);
	for (size_t i = 0; i < t->n && !e; i++) {
		const struct ics_row *r = &t->rows[i];
		int k = 0;
		while (k < np && strcmp(db_value(res, k, 0), r->reference) != 0)
			k++;
		if (k == np) {
			e = at(t, r->row, COL_REFERENCE, CF_EUNPROCESSABLE, err,
			       "%s %s has no provision %s", a.scheme_id, a.scheme_version, r->reference);
		} else if (seen[k]) {
			e = at(t, r->row, COL_REFERENCE, CF_EUNPROCESSABLE, err,
			       "provision %s is already in row %ld", r->reference, seen[k]);
		} else if (strcmp(db_value(res, k, 1), r->status) != 0) {
			e = at(t, r->row, COL_STATUS, CF_EUNPROCESSABLE, err,
			       "provision %s is %s in %s %s, not %s", r->reference, db_value(res, k, 1),
			       a.scheme_id, a.scheme_version, r->status);
		}
		if (!e) {
			seen[k] = r->row;
			match[i] = k;
		}
	}
	/* which rows change an answer: those that say what it says are left
	 * alone, so that settled provisions can be in the table */
	bool *change = cf_calloc(t->n + 1, sizeof *change);
	int written = 0;
	for (size_t i = 0; i < t->n && !e; i++) {
		const struct ics_row *r = &t->rows[i];
		if (!*r->support)
			continue;
		int k = match[i];
		const char *statement = statement_of(r->support);
		const char *justification = strcmp(statement, "not_applicable") == 0 ? r->detail : NULL;
		const char *old_j = db_value(res, k, 4);
		if (db_value(res, k, 2) && strcmp(db_value(res, k, 2), statement) == 0 &&
		    strcmp(db_value(res, k, 3), r->detail) == 0 &&
		    ((!old_j && !justification) || (old_j && justification && strcmp(old_j, justification) == 0)))
			continue;
		change[i] = true;
		e = buf_printf(&changed, err, "%s%s", written ? "," : "", r->reference);
		written++;
	}
	if (!e && written)
		e = application_check_unsettled(db, &a, buf_str(&changed), NULL, err);
	json_t *refs = json_array();
	for (size_t i = 0; i < t->n && !e; i++) {
		const struct ics_row *r = &t->rows[i];
		if (!change[i])
			continue;
		const char *statement = statement_of(r->support);
		const char *justification = strcmp(statement, "not_applicable") == 0 ? r->detail : NULL;
		const char *params[] = { a.id, r->reference, statement, r->detail, justification,
					 j->p->user_id };
		e = db_query_hot(db, NULL, err,
			"INSERT INTO application_answer (application_id, ref, statement, text, justification,"
			" answered_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id, ref) DO"
			" UPDATE SET statement = $3, text = $4, justification = $5, answered_by = $6,"
			" answered_at = now()", 6, params);
		json_array_append_new(refs, json_string(r->reference));
	}
	if (!e && written) {
		const char *vp[] = { a.id };
		e = db_query_hot(db, NULL, err,
			"UPDATE application SET version = version + 1, updated_at = now() WHERE id = $1",
			1, vp);
	}
	if (!e) {
		struct audit_actor actor = party_actor(j->p);
		json_t *details = json_pack("{s:I,s:I,s:o}", "number", (json_int_t)a.number, "rows",
					    (json_int_t)t->n, "changed", json_incref(refs));
		e = audit_append(db, &actor, "application.ics_import", "application", a.id, details, err);
		json_decref(details);
	}
	json_decref(refs);
	free(change);
	free(match);
	free(seen);
	buf_free(&changed);
	PQclear(res);
	return e;
}

cf_err ics_import(struct db *db, const struct principal *p, const char *id, const char *if_match,
		  const struct ics_table *t, json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct import_job j = { p, id, if_match, t };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, import_tx, &j, err);
	if (!e)
		e = application_get(db, id, out, err);
	return e;
}
