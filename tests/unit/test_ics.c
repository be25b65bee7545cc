/*
 * Unit tests of core/ics (ETSI EN 303 645 Annex B): the CSV and JSON
 * parsers (RFC 4180 quoting, every refusal naming its row and column), the
 * CSV writer's exact bytes, and against the suite's throwaway database the
 * export of an application's answers, the import that fills them (mapping,
 * one audit record, If-Match, state, scheme, ownership, nothing written on
 * a refusal) and the round trip: export, import into a new application,
 * export again gives the same bytes, as CSV and as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accreditation.h"
#include "application.h"
#include "coreworld.h"
#include "ics.h"
#include "jsonx.h"
#include "review.h"
#include "tsupport.h"

static struct coreworld w;

static void setup(void)
{
	coreworld_create(&w, "ics");
	struct cf_error err;
	cf_err e = coreworld_import(&w, "schemes/etsi-en-303-645-2.1.1.json", &err);
	coreworld_expect("import ETSI", e, &err, CF_OK, NULL, NULL);
}

static void teardown(void)
{
	coreworld_destroy(&w);
}

static cf_err csv(const char *text, struct ics_table *t, struct cf_error *err)
{
	return ics_parse_csv(text, strlen(text), t, err);
}

/* A parse that must fail with code, its detail starting with where and
 * holding words, its extra naming the row. */
static void csv_refused(const char *text, enum cf_code code, const char *where, const char *words,
			long row)
{
	struct ics_table t;
	struct cf_error err;
	cf_err e = csv(text, &t, &err);
	ics_table_free(&t);
	ck_assert_msg(e == (cf_err)code, "%s: got %d (%s)", text, e, e ? err.detail : "accepted");
	ck_assert_msg(strncmp(err.detail, where, strlen(where)) == 0, "detail '%s' should start '%s'",
		      err.detail, where);
	ck_assert_msg(strstr(err.detail, words), "detail '%s' should hold '%s'", err.detail, words);
	if (row) {
		char r[32];
		snprintf(r, sizeof r, "\"row\":%ld", row);
		ck_assert_msg(strstr(err.extra, r), "extra '%s' should hold %s", err.extra, r);
	}
}

START_TEST(csv_parses_quoting_line_breaks_and_empty_rows)
{
	const char *text = "\xEF\xBB\xBFreference,STATUS,Support,Detail\r\n"
			   "5.1-1,M C,y,\"unique, per device\"\r\n"
			   "\r\n"
			   "5.1-3, M ,N/A,\"no users \"\"log in\"\"\r\nat all\"\n"
			   "5.2-2,R,,\n"
			   "5.2-3,R,N,later";
	struct ics_table t;
	struct cf_error err;
	cf_err e = csv(text, &t, &err);
	coreworld_expect("parse", e, &err, CF_OK, NULL, NULL);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_str_eq(t.rows[0].reference, "5.1-1");
	ck_assert_str_eq(t.rows[0].support, "Y");
	ck_assert_str_eq(t.rows[0].detail, "unique, per device");
	ck_assert_int_eq(t.rows[0].row, 2);
	ck_assert_str_eq(t.rows[1].status, "M");
	ck_assert_str_eq(t.rows[1].detail, "no users \"log in\"\nat all");
	ck_assert_int_eq(t.rows[1].row, 4);
	ck_assert_str_eq(t.rows[2].support, "");
	ck_assert_str_eq(t.rows[2].detail, "");
	ck_assert_str_eq(t.rows[3].detail, "later");
	ck_assert_int_eq(t.rows[3].row, 6);
	ics_table_free(&t);
}
END_TEST

START_TEST(csv_refusals_name_row_and_column)
{
	csv_refused("", CF_EINVAL, "the CSV is empty", "header row", 0);
	csv_refused("Ref,Status,Support,Detail\r\n", CF_EINVAL, "row 1, column Reference",
		    "column 1 is \"Ref\"", 1);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y\r\n", CF_EINVAL,
		    "row 2, column Support", "3 fields", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,a,b\r\n", CF_EINVAL,
		    "row 2, column Detail", "5 fields", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,ok\r\n5.1-2,M C,maybe,x\r\n",
		    CF_EINVAL, "row 3, column Support", "Y, N, N/A or empty", 3);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,\r\n", CF_EINVAL,
		    "row 2, column Detail", "needs its detail", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,,said\r\n", CF_EINVAL,
		    "row 2, column Support", "detail without support", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,\"open\r\n", CF_EINVAL,
		    "row 2, column Detail", "not closed", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,a\"b\r\n", CF_EINVAL,
		    "row 2, column Detail", "quote in an unquoted field", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,\"Y\"x,a\r\n", CF_EINVAL,
		    "row 2, column Support", "must end at a comma", 2);
	csv_refused("Reference,Status,Support,Detail\r\n,M C,Y,a\r\n", CF_EINVAL,
		    "row 2, column Reference", "empty", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,,Y,a\r\n", CF_EINVAL,
		    "row 2, column Status", "empty", 2);
	csv_refused("Reference,Status,Support,Detail\r\n5.1-1,M C,Y,a\x01z\r\n", CF_EINVAL,
		    "row 2, column Detail", "control character", 2);
}
END_TEST

START_TEST(json_parses_and_refusals_name_pointer_row_and_column)
{
	struct ics_table t;
	struct cf_error err;
	json_t *doc = coreworld_json("{\"scheme_id\":\"etsi-en-303-645\",\"scheme_version\":\"2.1.1\","
		"\"provisions\":[{\"reference\":\"5.1-1\",\"status\":\"M C\",\"support\":\"N/A\","
		"\"detail\":\"no passwords\"},{\"reference\":\"5.1-2\",\"status\":\"M C\","
		"\"support\":null,\"detail\":null}]}");
	cf_err e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	coreworld_expect("parse", e, &err, CF_OK, NULL, NULL);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_str_eq(t.scheme_version, "2.1.1");
	ck_assert_str_eq(t.rows[0].support, "N/A");
	ck_assert_str_eq(t.rows[1].support, "");
	ics_table_free(&t);

	doc = coreworld_json("{\"provisions\":[{\"reference\":\"5.1-1\",\"status\":\"M C\","
			     "\"support\":\"Y\",\"detail\":\"a\"},{\"reference\":\"5.1-2\","
			     "\"status\":\"M C\",\"support\":\"yes\",\"detail\":\"b\"}]}");
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EINVAL, "/provisions/1/support", "(row 2, column Support)");
	ck_assert_ptr_nonnull(strstr(err.extra, "\"column\":\"Support\""));

	doc = coreworld_json("{\"provisions\":[{\"reference\":5,\"status\":\"M C\"}]}");
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EINVAL, "/provisions/0/reference", "must be a string");

	doc = coreworld_json("{\"provisions\":[{\"reference\":\"5.1-1\",\"status\":\"M C\",\"extra\":1}]}");
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EINVAL, "/provisions/0/extra", NULL);

	doc = coreworld_json("{\"standard\":\"EN 18031-1\",\"provisions\":[]}");
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "/standard", "ETSI EN 303 645's Annex B");

	doc = coreworld_json("{\"rows\":[]}");
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EINVAL, "/rows", NULL);
}
END_TEST

START_TEST(csv_is_written_as_rfc4180_says)
{
	struct ics_table t;
	struct cf_error err;
	cf_err e = csv("Reference,Status,Support,Detail\n5.1-1,M C,Y,\"a, \"\"b\"\"\nc\"\n5.2-2,R,,\n",
		       &t, &err);
	coreworld_expect("parse", e, &err, CF_OK, NULL, NULL);
	struct buf b;
	buf_init(&b, 1 << 20);
	e = ics_write_csv(&t, &b, &err);
	coreworld_expect("write", e, &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(buf_str(&b), "Reference,Status,Support,Detail\r\n"
				      "5.1-1,M C,Y,\"a, \"\"b\"\"\nc\"\r\n"
				      "5.2-2,R,,\r\n");
	buf_free(&b);
	ics_table_free(&t);
}
END_TEST

/* A fresh ETSI self-assessment draft of the maker. */
static void etsi_application(char id[37])
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "product_id",
			      w.product, "scheme_id", "etsi-en-303-645", "scheme_version", "2.1.1",
			      "assessment_type", "self", "owners", "Software", "Firmware lead",
			      "Hardware", "Hardware lead", "Mechanical", "Design", "Process", "PSIRT",
			      "Policy", "CISO", "Responsibility", "CEO");
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err);
	coreworld_expect("create", e, &err, CF_OK, NULL, NULL);
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(b);
}

static void etag_of(const char *id, char etag[24])
{
	char v[24];
	const char *p[] = { id };
	coreworld_value(&w, v, sizeof v, "SELECT version FROM application WHERE id = $1", 1, p);
	application_etag(atoi(v), etag);
}

static cf_err import_csv(const struct principal *p, const char *id, const char *text,
			 const char *if_match, struct cf_error *err)
{
	struct ics_table t;
	cf_err e = csv(text, &t, err);
	json_t *out = NULL;
	if (!e)
		e = ics_import(w.db, p, id, if_match, &t, &out, err);
	json_decref(out);
	ics_table_free(&t);
	return e;
}

/* The application's table as CSV (new string). */
static char *export_csv(const char *id)
{
	struct ics_table t;
	struct cf_error err;
	char version[40], etag[24];
	cf_err e = ics_export(w.db, id, &t, version, etag, &err);
	coreworld_expect("export", e, &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(version, "2.1.1");
	struct buf b;
	buf_init(&b, 1 << 20);
	e = ics_write_csv(&t, &b, &err);
	coreworld_expect("write", e, &err, CF_OK, NULL, NULL);
	ics_table_free(&t);
	size_t n;
	char *s = buf_steal(&b, &n);
	buf_free(&b);
	return s;
}

/* As conformd sends it (compact). */
static char *export_json(const char *id)
{
	struct ics_table t;
	struct cf_error err;
	char version[40], etag[24];
	cf_err e = ics_export(w.db, id, &t, version, etag, &err);
	coreworld_expect("export", e, &err, CF_OK, NULL, NULL);
	json_t *j = ics_write_json(&t, version);
	ics_table_free(&t);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static const char *const filled =
	"Reference,Status,Support,Detail\r\n"
	"5.1-1,M C,Y,\"Each device gets a random 16-character password, printed on its label\"\r\n"
	"5.1-3,M,N/A,\"No user authentication: the device has no user interface, \"\"none\"\"\"\r\n"
	"5.2-2,R,N,\"We publish advisories\nbut not yet a timeline\"\r\n"
	"6-4,R C,N/A,no telemetry\r\n";

START_TEST(import_fills_answers_with_one_audit_record)
{
	char id[37], etag[24];
	etsi_application(id);
	etag_of(id, etag);
	struct cf_error err;
	long long audits = coreworld_count(&w, "SELECT count(*) FROM audit_log WHERE action = "
					       "'application.ics_import' AND object_id = $1", id);
	cf_err e = import_csv(&w.applicant, id, filled, etag, &err);
	coreworld_expect("import", e, &err, CF_OK, NULL, NULL);
	char v[200];
	const char *p[] = { id };
	coreworld_value(&w, v, sizeof v, "SELECT string_agg(ref || '=' || statement || '/' ||"
			" coalesce(justification, '-'), ';' ORDER BY ref) FROM application_answer"
			" WHERE application_id = $1", 1, p);
	ck_assert_str_eq(v, "5.1-1=compliant/-;5.1-3=not_applicable/No user authentication: the "
			    "device has no user interface, \"none\";5.2-2=not_compliant/-;"
			    "6-4=not_applicable/no telemetry");
	coreworld_value(&w, v, sizeof v, "SELECT text FROM application_answer WHERE application_id"
			" = $1 AND ref = '5.2-2'", 1, p);
	ck_assert_str_eq(v, "We publish advisories\nbut not yet a timeline");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM audit_log WHERE action = "
					     "'application.ics_import' AND object_id = $1", id),
			 audits + 1);
	char after[24];
	etag_of(id, after);
	ck_assert_str_ne(after, etag);
	/* the old ETag is stale now; the same table again changes nothing */
	e = import_csv(&w.applicant, id, filled, etag, &err);
	coreworld_refused(e, &err, CF_EPRECONDITION, "", "has changed");
	e = import_csv(&w.applicant, id, filled, after, &err);
	coreworld_expect("import again", e, &err, CF_OK, NULL, NULL);
	char again[24];
	etag_of(id, again);
	ck_assert_str_eq(again, after);
	/* what is exported is what was imported, every other provision empty */
	char *out = export_csv(id);
	ck_assert_ptr_nonnull(strstr(out, "Reference,Status,Support,Detail\r\n5.1-1,M C,Y,"
					  "\"Each device gets a random 16-character password, printed on "
					  "its label\"\r\n5.1-2,M C,,\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n6-4,R C,N/A,no telemetry\r\n6-5,M C,,\r\n"));
	free(out);
}
END_TEST

START_TEST(round_trip_gives_the_same_bytes_as_csv_and_json)
{
	char a[37], b[37], c[37], etag[24];
	struct cf_error err;
	etsi_application(a);
	etag_of(a, etag);
	cf_err e = import_csv(&w.applicant, a, filled, etag, &err);
	coreworld_expect("import a", e, &err, CF_OK, NULL, NULL);
	char *first = export_csv(a);
	char *first_json = export_json(a);

	etsi_application(b);
	etag_of(b, etag);
	e = import_csv(&w.applicant, b, first, etag, &err);
	coreworld_expect("import b", e, &err, CF_OK, NULL, NULL);
	char *second = export_csv(b);
	ck_assert_str_eq(second, first);

	etsi_application(c);
	etag_of(c, etag);
	json_t *doc = coreworld_json(first_json);
	struct ics_table t;
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	coreworld_expect("parse json", e, &err, CF_OK, NULL, NULL);
	json_t *out = NULL;
	e = ics_import(w.db, &w.applicant, c, etag, &t, &out, &err);
	json_decref(out);
	ics_table_free(&t);
	coreworld_expect("import c", e, &err, CF_OK, NULL, NULL);
	char *second_json = export_json(c);
	ck_assert_str_eq(second_json, first_json);
	ck_assert_ptr_nonnull(strstr(first_json, "\"reference\":\"5.1-2\",\"status\":\"M C\","
						 "\"support\":null,\"detail\":null"));
	free(first);
	free(second);
	free(first_json);
	free(second_json);
}
END_TEST

START_TEST(import_refusals_write_nothing)
{
	char id[37], etag[24];
	struct cf_error err;
	etsi_application(id);
	etag_of(id, etag);
	cf_err e = import_csv(&w.applicant, id,
			      "Reference,Status,Support,Detail\r\n5.1-1,M C,Y,a\r\n5.99-1,M,Y,b\r\n",
			      etag, &err);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "row 3, column Reference");
	ck_assert_ptr_nonnull(strstr(err.detail, "no provision 5.99-1"));
	e = import_csv(&w.applicant, id, "Reference,Status,Support,Detail\r\n5.1-1,R,Y,a\r\n", etag,
		       &err);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "row 2, column Status: provision 5.1-1 is M C");
	e = import_csv(&w.applicant, id,
		       "Reference,Status,Support,Detail\r\n5.1-1,M C,Y,a\r\n5.1-1,M C,N,b\r\n", etag, &err);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "", "already in row 2");
	e = import_csv(&w.applicant, id, filled, NULL, &err);
	coreworld_refused(e, &err, CF_EPRECOND_REQ, "", "If-Match");
	e = import_csv(&w.other_applicant, id, filled, etag, &err);
	coreworld_refused(e, &err, CF_EFORBIDDEN, "", "not your organisation's");
	json_t *doc = coreworld_json("{\"scheme_version\":\"3.1.3\",\"provisions\":[]}");
	struct ics_table t;
	e = ics_parse_json(doc, &t, &err);
	json_decref(doc);
	coreworld_expect("parse", e, &err, CF_OK, NULL, NULL);
	json_t *out = NULL;
	e = ics_import(w.db, &w.applicant, id, etag, &t, &out, &err);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_EUNPROCESSABLE, "/scheme_version", "for version 2.1.1");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_answer WHERE "
					     "application_id = $1", id), 0);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM audit_log WHERE action = "
					     "'application.ics_import' AND object_id = $1", id), 0);

	/* another scheme's application has no Annex B */
	char dcms[37];
	coreworld_application(&w, "self", "draft", dcms);
	etag_of(dcms, etag);
	e = import_csv(&w.applicant, dcms, filled, etag, &err);
	coreworld_refused(e, &err, CF_ENOTFOUND, "", "Annex B");
	char version[40];
	e = ics_export(w.db, dcms, &t, version, etag, &err);
	ics_table_free(&t);
	coreworld_refused(e, &err, CF_ENOTFOUND, "", "dcms-cop@2018");

	/* once withdrawn, answers stay as they are */
	coreworld_act_ok(&w, &w.applicant, id, "withdraw", NULL);
	etag_of(id, etag);
	e = import_csv(&w.applicant, id, filled, etag, &err);
	coreworld_refused(e, &err, CF_ESTATE, "", "it is withdrawn");
}
END_TEST

/* Sets a row's support and detail (the table owns them). */
static void set_row(struct ics_row *r, const char *support, const char *detail)
{
	free(r->support);
	free(r->detail);
	r->support = strdup(support);
	r->detail = strdup(detail);
}

static struct ics_row *row_of(struct ics_table *t, const char *ref)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].reference, ref) == 0)
			return &t->rows[i];
	ck_abort_msg("no row %s", ref);
	return NULL;
}

START_TEST(reimport_while_information_is_requested_keeps_settled_provisions)
{
	/* the body accredited for ETSI EN 303 645 too */
	char from[32], until[32];
	coreworld_day(from, sizeof from, -1);
	coreworld_day(until, sizeof until, 365);
	struct audit_actor acc = party_actor(&w.accreditor);
	json_t *grant = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "body_id", w.body, "scheme_id",
				  "etsi-en-303-645", "max_class", 0, "reference", "ACC-ICS-1",
				  "valid_from", from, "valid_until", until);
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = accreditation_grant(w.db, &acc, grant, &out, &err);
	json_decref(grant);
	json_decref(out);
	coreworld_expect("accredit", e, &err, CF_OK, NULL, NULL);
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "product_id",
			      w.product, "scheme_id", "etsi-en-303-645", "scheme_version", "2.1.1",
			      "assessment_type", "third-party", "body_id", w.body, "owners", "Software",
			      "Firmware lead", "Hardware", "Hardware lead", "Mechanical", "Design",
			      "Process", "PSIRT", "Policy", "CISO", "Responsibility", "CEO");
	e = application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err);
	json_decref(b);
	coreworld_expect("create", e, &err, CF_OK, NULL, NULL);
	char id[37], etag[24], version[40];
	snprintf(id, sizeof id, "%s", jsonx_str(out, "id"));
	json_decref(out);

	/* every provision answered Y through the table, then submitted */
	struct ics_table t;
	e = ics_export(w.db, id, &t, version, etag, &err);
	coreworld_expect("export", e, &err, CF_OK, NULL, NULL);
	ck_assert_uint_eq(t.n, 67);
	for (size_t i = 0; i < t.n; i++)
		set_row(&t.rows[i], "Y", "as designed");
	e = ics_import(w.db, &w.applicant, id, etag, &t, &out, &err);
	json_decref(out);
	coreworld_expect("import", e, &err, CF_OK, NULL, NULL);
	coreworld_act_ok(&w, &w.applicant, id, "submit", NULL);
	coreworld_act_ok(&w, &w.assessor, id, "take", NULL);
	b = coreworld_json("{\"verdicts\":[{\"ref\":\"5.1-1\",\"verdict\":\"pass\",\"comment\":\"ok\"},"
			   "{\"ref\":\"5.1-3\",\"verdict\":\"info_needed\",\"comment\":\"which?\"}]}");
	e = review_record(w.db, &w.assessor, id, b, &out, &err);
	json_decref(b);
	json_decref(out);
	coreworld_expect("verdicts", e, &err, CF_OK, NULL, NULL);
	coreworld_act_ok(&w, &w.assessor, id, "request-info", "{\"message\":\"see 5.1-3\"}");

	/* the whole table again, 5.1-3 answered anew: 5.1-1 (settled) is in it unchanged */
	set_row(row_of(&t, "5.1-3"), "Y", "SHA-256 with a per-device salt");
	etag_of(id, etag);
	e = ics_import(w.db, &w.applicant, id, etag, &t, &out, &err);
	json_decref(out);
	coreworld_expect("reimport", e, &err, CF_OK, NULL, NULL);
	char v[200];
	const char *p[] = { id };
	coreworld_value(&w, v, sizeof v, "SELECT details->>'changed' FROM audit_log WHERE action ="
			" 'application.ics_import' AND object_id = $1 ORDER BY seq DESC LIMIT 1", 1, p);
	ck_assert_str_eq(v, "[\"5.1-3\"]");
	/* changing the settled one is refused, and nothing of the table is written */
	set_row(row_of(&t, "5.1-1"), "N", "changed our mind");
	set_row(row_of(&t, "5.1-3"), "N/A", "no users");
	etag_of(id, etag);
	e = ics_import(w.db, &w.applicant, id, etag, &t, &out, &err);
	coreworld_refused(e, &err, CF_ESTATE, "", "requirement 5.1-1 was judged pass");
	coreworld_value(&w, v, sizeof v, "SELECT text FROM application_answer WHERE application_id"
			" = $1 AND ref = '5.1-3'", 1, p);
	ck_assert_str_eq(v, "SHA-256 with a per-device salt");
	ics_table_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ics");
	TCase *pure = tcase_create("tables");
	tcase_add_test(pure, csv_parses_quoting_line_breaks_and_empty_rows);
	tcase_add_test(pure, csv_refusals_name_row_and_column);
	tcase_add_test(pure, json_parses_and_refusals_name_pointer_row_and_column);
	tcase_add_test(pure, csv_is_written_as_rfc4180_says);
	suite_add_tcase(s, pure);
	TCase *tc = tcase_create("applications");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, import_fills_answers_with_one_audit_record);
	tcase_add_test(tc, round_trip_gives_the_same_bytes_as_csv_and_json);
	tcase_add_test(tc, import_refusals_write_nothing);
	tcase_add_test(tc, reimport_while_information_is_requested_keeps_settled_provisions);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
