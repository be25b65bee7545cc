/*
 * Unit tests of core/coverage.c (issue 17, "does this certificate satisfy
 * X?") and of the crosswalk rules of core/catalog.c, against the suite's
 * database with the shipped schemes imported by conformctl and the DCMS
 * certificate conformctl demo issues (all thirteen guidelines judged pass)
 * through a real conform-signer.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "coreworld.h"
#include "coverage.h"
#include "jsonx.h"
#include "scheme.h"
#include "tsupport.h"

static struct coreworld f;

static void setup(void)
{
	coreworld_open(&f, "coverage");
	coreworld_demo(&f);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

static json_t *coverage_of(const char *id, const char *version)
{
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = coverage_certificate(f.db, f.serial, id, version, &out, &err);
	coreworld_expect("coverage", e, &err, CF_OK, NULL, NULL);
	return out;
}

/* One row of a hand-checked table: a target requirement, its expected
 * status, and the one route expected to it (NULL source: no route). */
struct row {
	const char *ref, *status, *source, *relationship;
};

static void check_table(const json_t *cov, const struct row *rows, size_t n)
{
	const json_t *reqs = json_object_get(cov, "requirements");
	ck_assert_uint_eq(json_array_size(reqs), n);
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(reqs, i);
		const json_t *routes = json_object_get(r, "routes");
		ck_assert_str_eq(jsonx_str(r, "ref"), rows[i].ref);
		ck_assert_msg(strcmp(jsonx_str(r, "status"), rows[i].status) == 0, "%s: %s, expected %s",
			      rows[i].ref, jsonx_str(r, "status"), rows[i].status);
		if (!rows[i].source) {
			ck_assert_msg(json_array_size(routes) == 0, "%s has a route", rows[i].ref);
			continue;
		}
		ck_assert_msg(json_array_size(routes) == 1, "%s: %zu routes", rows[i].ref,
			      json_array_size(routes));
		const json_t *ro = json_array_get(routes, 0);
		const json_t *v = json_array_get(json_object_get(ro, "verdicts"), 0);
		ck_assert_str_eq(jsonx_str(v, "ref"), rows[i].source);
		ck_assert_str_eq(jsonx_str(v, "verdict"), "pass");
		ck_assert_str_eq(jsonx_str(ro, "relationship"), rows[i].relationship);
		ck_assert_str_eq(jsonx_str(ro, "declared_by"), "source");
		ck_assert(json_is_false(json_object_get(ro, "carries")));
	}
}

/*
 * The acceptance table for ETSI EN 303 645 v2.1.1, derived by hand from
 * schemes/dcms-cop-2018.json and schemes/etsi-en-303-645-2.1.1.json:
 * guideline DCMS-n maps to every provision of clause 5.n (DCMS-8 also to
 * every provision of clause 6), each mapping typed intersects-with (source:
 * the DCMS mapping dataset v4.0); the ETSI file declares no mapping back.
 * So every provision has exactly one route, from the guideline of its
 * clause, which cannot carry a verdict (intersects-with is not sound) while
 * the demo certificate's verdict on that guideline is pass: partly covered,
 * all 67, and overall partly covered. The provisions per clause are the
 * standard's (5.1: 5, 5.2: 3, 5.3: 16, 5.4: 4, 5.5: 8, 5.6: 9, 5.7: 2,
 * 5.8: 3, 5.9: 3, 5.10: 1, 5.11: 4, 5.12: 3, 5.13: 1, 6: 5).
 */
START_TEST(a_dcms_certificate_read_as_etsi_en_303_645)
{
	static const struct { const char *clause; int provisions; const char *guideline; } clauses[] = {
		{ "5.1", 5, "DCMS-1" },   { "5.2", 3, "DCMS-2" },   { "5.3", 16, "DCMS-3" },
		{ "5.4", 4, "DCMS-4" },   { "5.5", 8, "DCMS-5" },   { "5.6", 9, "DCMS-6" },
		{ "5.7", 2, "DCMS-7" },   { "5.8", 3, "DCMS-8" },   { "5.9", 3, "DCMS-9" },
		{ "5.10", 1, "DCMS-10" }, { "5.11", 4, "DCMS-11" }, { "5.12", 3, "DCMS-12" },
		{ "5.13", 1, "DCMS-13" }, { "6", 5, "DCMS-8" },
	};
	struct row rows[67];
	char refs[67][16];
	size_t n = 0;
	for (size_t c = 0; c < sizeof clauses / sizeof clauses[0]; c++)
		for (int p = 1; p <= clauses[c].provisions; p++) {
			ck_assert_uint_lt(n, 67);
			snprintf(refs[n], sizeof refs[n], "%s-%d", clauses[c].clause, p);
			rows[n] = (struct row){ refs[n], "partly_covered", clauses[c].guideline,
						"intersects-with" };
			n++;
		}
	ck_assert_uint_eq(n, 67);
	json_t *cov = coverage_of("etsi-en-303-645", "2.1.1");
	check_table(cov, rows, n);
	ck_assert_str_eq(jsonx_str(cov, "overall"), "partly_covered");
	ck_assert_str_eq(jsonx_str(json_object_get(cov, "source"), "scheme"), "dcms-cop@2018");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(cov, "counts"),
							    "partly_covered")), 67);
	json_decref(cov);
}
END_TEST

/*
 * The acceptance table for UK PSTI 2023, derived by hand from
 * schemes/uk-psti-2023.json and schemes/dcms-cop-2018.json: PSTI declares
 * its three deemed-compliance routes to ETSI EN 303 645 only (5.1-1 and
 * 5.1-2, 5.2-1, 5.3-13), and DCMS declares mappings to ETSI EN 303 645 and
 * IoTSF CF only. No mapping links DCMS and PSTI in either direction, and
 * coverage does not chain crosswalks through a third scheme (an
 * intersects-with followed by anything proves nothing), so every PSTI
 * requirement is not covered, with no route, and the answer is not covered.
 */
START_TEST(a_dcms_certificate_read_as_uk_psti)
{
	static const struct row rows[] = {
		{ "PSTI-1", "not_covered", NULL, NULL },
		{ "PSTI-2", "not_covered", NULL, NULL },
		{ "PSTI-3", "not_covered", NULL, NULL },
	};
	json_t *cov = coverage_of("uk-psti", "2023");
	check_table(cov, rows, 3);
	ck_assert_str_eq(jsonx_str(cov, "overall"), "not_covered");
	ck_assert_str_eq(jsonx_str(cov, "certificate_status"), "valid");
	json_decref(cov);
}
END_TEST

START_TEST(a_certificate_covers_its_own_scheme_version)
{
	json_t *cov = coverage_of("dcms-cop", "2018");
	ck_assert_str_eq(jsonx_str(cov, "overall"), "covered");
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(cov, "requirements"), i, r) {
		const json_t *ro = json_array_get(json_object_get(r, "routes"), 0);
		ck_assert_str_eq(jsonx_str(ro, "declared_by"), "identity");
		ck_assert(json_is_true(json_object_get(ro, "carries")));
	}
	json_decref(cov);
}
END_TEST

/* An application's coverage is that of its settled verdicts so far: the
 * demo's decided application reads as its certificate does, and an unknown
 * application or a target that is not imported is 404. */
START_TEST(an_application_reads_as_its_certificate)
{
	json_t *a = NULL, *c = coverage_of("etsi-en-303-645", "2.1.1");
	struct cf_error err;
	cf_err e = coverage_application(f.db, f.application, "etsi-en-303-645", "2.1.1", &a, &err);
	coreworld_expect("application", e, &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(jsonx_str(a, "application"), f.application);
	ck_assert_str_eq(jsonx_str(a, "application_state"), "decided");
	ck_assert(json_equal(json_object_get(a, "requirements"), json_object_get(c, "requirements")));
	ck_assert_str_eq(jsonx_str(a, "overall"), jsonx_str(c, "overall"));
	json_decref(a);
	json_decref(c);
	a = NULL;
	e = coverage_application(f.db, "not-a-uuid", "uk-psti", "2023", &a, &err);
	coreworld_expect("not an id", e, &err, CF_ENOTFOUND, NULL, "no application");
	e = coverage_application(f.db, "00000000-0000-4000-8000-000000000000", "uk-psti", "2023", &a, &err);
	coreworld_expect("unknown", e, &err, CF_ENOTFOUND, NULL, "no application");
	e = coverage_application(f.db, f.application, "uk-psti", "1999", &a, &err);
	coreworld_expect("no such target", e, &err, CF_ENOTFOUND, "/scheme", "uk-psti@1999");
}
END_TEST

static cf_err import_text(const char *text, struct lint_report *report, struct catalog_import *out,
			  struct cf_error *err)
{
	return catalog_import(f.db, &f.cli, text, strlen(text), "x-target-1.json", report, out, err);
}

/* A scheme of five requirements that map to DCMS as written, for the rule. */
static const char target_fmt[] =
	"{\"format\": \"conform-scheme/1\", \"id\": \"x-target\", \"version\": \"%s\","
	" \"title\": \"Target\", \"publisher\": \"Tests\","
	" \"source\": {\"document\": \"Target\", \"date\": \"2026-01\"},"
	" \"coverage\": \"made up for the coverage rule\", \"certificate_validity_days\": 365,"
	" \"keywords\": {\"primary\": [{\"name\": \"System\", \"secondary\": [\"Software\"]}]},"
	" \"sections\": [{\"id\": \"1\", \"title\": \"All\"}],"
	" \"requirements\": ["
	"  {\"ref\": \"X-1\", \"section\": \"1\", \"title\": \"Subset of two\","
	"   \"keywords\": {\"primary\": [\"System\"], \"secondary\": [\"Software\"]},"
	"   \"applicability\": {\"mandatory_from_class\": 0}, \"mappings\": [{\"to\": \"%s\","
	"   \"refs\": [\"DCMS-1\", \"%s\"], \"relationship\": \"subset-of\"}]},"
	"  {\"ref\": \"X-2\", \"section\": \"1\", \"title\": \"Superset of one\","
	"   \"keywords\": {\"primary\": [\"System\"], \"secondary\": [\"Software\"]},"
	"   \"applicability\": \"advisory\", \"mappings\": [{\"to\": \"dcms-cop@2018\","
	"   \"refs\": [\"DCMS-3\"], \"relationship\": \"superset-of\"}]},"
	"  {\"ref\": \"X-3\", \"section\": \"1\", \"title\": \"Equivalent\","
	"   \"keywords\": {\"primary\": [\"System\"], \"secondary\": [\"Software\"]},"
	"   \"applicability\": \"advisory\", \"mappings\": [{\"to\": \"dcms-cop@2018\","
	"   \"refs\": [\"DCMS-4\"], \"relationship\": \"equivalent-to\"}]},"
	"  {\"ref\": \"X-4\", \"section\": \"1\", \"title\": \"Overlapping\","
	"   \"keywords\": {\"primary\": [\"System\"], \"secondary\": [\"Software\"]},"
	"   \"applicability\": \"advisory\", \"mappings\": [{\"to\": \"dcms-cop@2018\","
	"   \"refs\": [\"DCMS-5\"], \"relationship\": \"intersects-with\"}]},"
	"  {\"ref\": \"X-5\", \"section\": \"1\", \"title\": \"Unmapped\","
	"   \"keywords\": {\"primary\": [\"System\"], \"secondary\": [\"Software\"]},"
	"   \"applicability\": \"advisory\"}]}";

/* Only a sound relationship carries: a target that is a subset of (all of)
 * its sources, or equivalent to them; a target that is a superset of its
 * source, or merely overlaps it, is partly covered; no mapping, not
 * covered. */
START_TEST(only_sound_relationships_carry_a_verdict)
{
	char text[4096];
	snprintf(text, sizeof text, target_fmt, "1", "dcms-cop@2018", "DCMS-2");
	struct lint_report report = { 0 };
	struct catalog_import imported;
	struct cf_error err;
	cf_err e = import_text(text, &report, &imported, &err);
	lint_report_free(&report);
	coreworld_expect("import", e, &err, CF_OK, NULL, NULL);
	json_t *cov = coverage_of("x-target", "1");
	static const char *const expect[] = { "covered", "partly_covered", "covered",
					      "partly_covered", "not_covered" };
	for (size_t i = 0; i < 5; i++) {
		const json_t *r = json_array_get(json_object_get(cov, "requirements"), i);
		ck_assert_msg(strcmp(jsonx_str(r, "status"), expect[i]) == 0, "%s: %s", jsonx_str(r, "ref"),
			      jsonx_str(r, "status"));
	}
	const json_t *x1 = json_array_get(json_object_get(cov, "requirements"), 0);
	const json_t *ro = json_array_get(json_object_get(x1, "routes"), 0);
	ck_assert_str_eq(jsonx_str(ro, "declared_by"), "target");
	ck_assert_str_eq(jsonx_str(ro, "relationship"), "superset-of"); /* read from the source */
	ck_assert_uint_eq(json_array_size(json_object_get(ro, "verdicts")), 2);
	const json_t *x2 = json_array_get(json_object_get(cov, "requirements"), 1);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(x2, "routes"), 0), "relationship"),
			 "subset-of");
	ck_assert_str_eq(jsonx_str(cov, "overall"), "partly_covered");
	json_decref(cov);

	/* unknown target, unknown certificate */
	cov = NULL;
	e = coverage_certificate(f.db, f.serial, "x-target", "9", &cov, &err);
	coreworld_expect("unknown target", e, &err, CF_ENOTFOUND, "/scheme", "x-target@9 is not imported");
	e = coverage_certificate(f.db, "CF-2000-999999", "x-target", "1", &cov, &err);
	coreworld_expect("unknown certificate", e, &err, CF_ENOTFOUND, NULL, "no certificate");
}
END_TEST

/* The first error of a report (lint may warn of the file name first). */
static const struct lint_finding *first_error(const struct lint_report *report)
{
	for (size_t i = 0; i < report->count; i++)
		if (report->items[i].error)
			return &report->items[i];
	ck_abort_msg("no error in the report");
	return NULL;
}

/* A crosswalk that points at a scheme version or a ref that is not there is
 * refused, naming the mapping. */
START_TEST(a_dangling_crosswalk_fails_lint)
{
	char text[4096];
	struct lint_report report = { 0 };
	struct catalog_import imported;
	struct cf_error err;
	snprintf(text, sizeof text, target_fmt, "2", "dcms-cop@2017", "DCMS-2");
	cf_err e = import_text(text, &report, &imported, &err);
	coreworld_expect("absent version", e, &err, CF_EINVAL, NULL, "not imported");
	ck_assert_uint_eq(report.errors, 1);
	ck_assert_msg(strstr(first_error(&report)->message, "dcms-cop@2017 is not imported"), "%s",
		      first_error(&report)->message);
	lint_report_free(&report);

	memset(&report, 0, sizeof report);
	snprintf(text, sizeof text, target_fmt, "3", "dcms-cop@2018", "DCMS-99");
	e = import_text(text, &report, &imported, &err);
	coreworld_expect("absent ref", e, &err, CF_EINVAL, NULL, NULL);
	ck_assert_uint_eq(report.errors, 1);
	ck_assert_str_eq(first_error(&report)->pointer, "/requirements/0/mappings/0");
	ck_assert_msg(strstr(first_error(&report)->message, "dcms-cop@2018 has no ref DCMS-99"), "%s",
		      first_error(&report)->message);
	lint_report_free(&report);
	/* neither version 2 nor 3 (1 is the previous test's) */
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM scheme_version"
					 " WHERE scheme_id = 'x-target' AND version <> $1", "1"), 0);
}
END_TEST

/* An imported version is immutable: a file that differs from it only in its
 * crosswalk changes nothing and says so; one that differs in a requirement
 * is still refused. */
START_TEST(a_changed_crosswalk_keeps_the_imported_version)
{
	char *path = tsupport_source_path("schemes/dcms-cop-2018.json");
	json_t *doc = json_load_file(path, 0, NULL);
	free(path);
	ck_assert_ptr_nonnull(doc);
	json_t *m = json_array_get(json_object_get(json_array_get(json_object_get(doc, "requirements"), 0),
						   "mappings"), 0);
	json_object_set_new(m, "note", json_string("another source"));
	json_object_set_new(doc, "coverage", json_string("another coverage text"));
	json_object_set_new(doc, "notes", json_string("other notes on the crosswalk"));
	char *text = json_dumps(doc, 0);
	long long audits = coreworld_count(&f, "SELECT count(*) FROM audit_log WHERE action = $1",
					   "scheme.import");
	struct lint_report report = { 0 };
	struct catalog_import imported;
	struct cf_error err;
	cf_err e = catalog_import(f.db, &f.cli, text, strlen(text), "dcms-cop-2018.json", &report,
				  &imported, &err);
	lint_report_free(&report);
	free(text);
	coreworld_expect("crosswalk only", e, &err, CF_OK, NULL, NULL);
	ck_assert(imported.unchanged && imported.crosswalk_kept);
	ck_assert_str_ne(imported.stored_digest, imported.digest);
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM audit_log WHERE action = $1",
					 "scheme.import"), audits);
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM requirement_mapping WHERE note = $1",
					 "another source"), 0);

	json_object_set_new(json_array_get(json_object_get(doc, "requirements"), 0), "title",
			    json_string("Another title"));
	text = json_dumps(doc, 0);
	memset(&report, 0, sizeof report);
	e = catalog_import(f.db, &f.cli, text, strlen(text), "dcms-cop-2018.json", &report, &imported,
			   &err);
	lint_report_free(&report);
	free(text);
	coreworld_expect("a requirement changed", e, &err, CF_ECONFLICT, "/version", "never changes");
	json_decref(doc);
}
END_TEST

/* Every mapping of the shipped schemes states its source and points at a
 * shipped version (DCMS's IoTSF refs at 2.0, which ships, not 2.1). */
START_TEST(every_shipped_mapping_states_its_source)
{
	static const char *const files[] = { "schemes/dcms-cop-2018.json",
					     "schemes/etsi-en-303-645-2.1.1.json",
					     "schemes/iotsf-cf-2.0.json", "schemes/uk-psti-2023.json" };
	static const char *const shipped[] = { "dcms-cop@2018", "etsi-en-303-645@2.1.1",
					       "iotsf-cf@2.0", "uk-psti@2023" };
	int mappings = 0;
	for (size_t i = 0; i < 4; i++) {
		char *path = tsupport_source_path(files[i]);
		json_t *doc = json_load_file(path, 0, NULL);
		free(path);
		ck_assert_ptr_nonnull(doc);
		size_t k, j;
		json_t *r, *m;
		json_array_foreach(json_object_get(doc, "requirements"), k, r)
			json_array_foreach(json_object_get(r, "mappings"), j, m) {
				const char *to = jsonx_str(m, "to"), *note = jsonx_str(m, "note");
				bool known = false;
				for (size_t t = 0; t < 4; t++)
					known = known || strcmp(to, shipped[t]) == 0;
				ck_assert_msg(known, "%s %s maps to %s, which does not ship", files[i],
					      jsonx_str(r, "ref"), to);
				ck_assert_msg(note && strncmp(note, "Source: ", 8) == 0,
					      "%s %s -> %s: the note does not state its source", files[i],
					      jsonx_str(r, "ref"), to);
				mappings++;
			}
		json_decref(doc);
	}
	ck_assert_int_eq(mappings, 13 + 12 + 3); /* DCMS to ETSI and IoTSF, PSTI to ETSI */
}
END_TEST

/* Imports the shipped dcms-cop-2018.json over a stored version whose digest
 * is stored: nothing is written, the stored crosswalk is kept. */
static void ok_import_shipped_dcms(const char *stored)
{
	struct cf_error err;
	char *path = tsupport_source_path("schemes/dcms-cop-2018.json");
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	free(path);
	struct lint_report report = { 0 };
	struct catalog_import imported;
	cf_err e = catalog_import(f.db, &f.cli, text, len, "dcms-cop-2018.json", &report, &imported,
				  &err);
	free(text);
	lint_report_free(&report);
	coreworld_expect("import", e, &err, CF_OK, NULL, NULL);
	ck_assert(imported.unchanged && imported.crosswalk_kept);
	ck_assert_str_eq(imported.stored_digest, stored);
	ck_assert_int_eq(coreworld_count(&f, "SELECT count(*) FROM scheme_version WHERE digest = $1",
					 stored), 1);
}

/*
 * The real upgrade: a database that imported dcms-cop@2018 as shipped before
 * issue 17 (IoTSF refs pointed at 2.1; tests/data keeps that file, from
 * git). Such a database is made here by writing that file's canonical
 * document and digest over the stored version as the superuser (the
 * immutability trigger set aside for the one statement: no import can
 * store it now, its crosswalk dangles). Importing the shipped file then
 * writes nothing and keeps the stored version.
 */
START_TEST(the_shipped_file_reimports_over_the_one_before_issue_17)
{
	char *path = tsupport_source_path("tests/data/dcms-cop-2018-before-issue-17.json");
	json_t *old = json_load_file(path, 0, NULL);
	free(path);
	ck_assert_ptr_nonnull(old);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(json_array_get(
		json_object_get(old, "requirements"), 0), "mappings"), 1), "to"), "iotsf-cf@2.1");
	json_object_del(old, "$schema");
	char *canon = jsonx_canonical(old);
	json_decref(old);
	char v[80];
	const char *p[] = { canon };
	coreworld_value(&f, v, sizeof v, "ALTER TABLE scheme_version DISABLE TRIGGER scheme_version_immutable",
			0, NULL);
	coreworld_value(&f, v, sizeof v,
			"UPDATE scheme_version SET document = $1,"
			" digest = encode(sha256(convert_to($1, 'UTF8')), 'hex')"
			" WHERE scheme_id = 'dcms-cop' AND version = '2018' RETURNING digest", 1, p);
	coreworld_value(&f, v, sizeof v, "ALTER TABLE scheme_version ENABLE TRIGGER scheme_version_immutable",
			0, NULL);
	free(canon);
	char before[80];
	coreworld_value(&f, before, sizeof before, "SELECT digest FROM scheme_version"
			" WHERE scheme_id = 'dcms-cop' AND version = '2018'", 0, NULL);
	ck_assert_uint_eq(strlen(before), 64);
	ok_import_shipped_dcms(before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("coverage");
	TCase *tc = tcase_create("coverage");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_shipped_mapping_states_its_source);
	tcase_add_test(tc, a_dcms_certificate_read_as_etsi_en_303_645);
	tcase_add_test(tc, a_dcms_certificate_read_as_uk_psti);
	tcase_add_test(tc, a_certificate_covers_its_own_scheme_version);
	tcase_add_test(tc, an_application_reads_as_its_certificate);
	tcase_add_test(tc, only_sound_relationships_carry_a_verdict);
	tcase_add_test(tc, a_dangling_crosswalk_fails_lint);
	tcase_add_test(tc, a_changed_crosswalk_keeps_the_imported_version);
	tcase_add_test(tc, the_shipped_file_reimports_over_the_one_before_issue_17);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
