/*
 * Integration tests of schemes as versioned data: conformctl scheme
 * lint/import/list/show/export against a real database, immutability, and
 * the public scheme API over real HTTP (versions, requirements, checklists,
 * OSCAL, crosswalks).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

static struct testdb db;
static struct testsrv srv;

static const char *const shipped[] = {
	"schemes/dcms-cop-2018.json", "schemes/etsi-en-303-645-2.1.1.json",
	"schemes/iotsf-cf-2.0.json", "schemes/uk-psti-2023.json", "schemes/scheme.schema.json",
};

static long long count_rows(const char *sql)
{
	PGresult *r = testdb_super_exec(&db, sql);
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static void import_shipped_into(struct testdb *into, struct proc_result *r)
{
	const char *args[8] = { "scheme", "import" };
	char *paths[5];
	for (int i = 0; i < 5; i++)
		args[2 + i] = paths[i] = tsupport_source_path(shipped[i]);
	args[7] = NULL;
	testsrv_ctl(r, into, args, NULL);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
}

static void import_shipped(struct proc_result *r)
{
	import_shipped_into(&db, r);
}

static void setup(void)
{
	testdb_create(&db, "schemes");
	struct proc_result r;
	import_shipped(&r);
	ck_assert_msg(r.status == 0, "import failed: %s", r.err);
	proc_result_free(&r);
	testsrv_start(&srv, &db, NULL);
}

static void teardown(void)
{
	testsrv_stop(&srv);
	testdb_drop(&db);
}

static json_t *get_json(const char *path, long expect_status)
{
	struct http_resp r;
	testsrv_req(&srv, &r, "GET", path, NULL, NULL);
	ck_assert_msg(r.status == expect_status, "GET %s: %ld, expected %ld: %s", path, r.status,
		      expect_status, r.body);
	json_t *j = http_json(&r);
	http_resp_free(&r);
	return j;
}

START_TEST(import_again_changes_nothing)
{
	long long audit = count_rows("SELECT count(*) FROM audit_log WHERE action = 'scheme.import'");
	long long reqs = count_rows("SELECT count(*) FROM requirement");
	ck_assert_int_eq(reqs, 13 + 67 + 226 + 3);
	ck_assert_int_eq(audit, 4); /* one record per imported version */
	struct proc_result r;
	import_shipped(&r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(strstr(r.out, "dcms-cop@2018 is already imported with this content"));
	ck_assert(strstr(r.out, "skipped"));
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log WHERE action = 'scheme.import'"), audit);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM requirement"), reqs);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM scheme_version"), 4);
}
END_TEST

/* The first import a newcomer sees (deploy/local/run.sh on a clean start)
 * warns of nothing, and every crosswalk of the shipped schemes points at a
 * shipped version (DCMS at IoTSF CF 2.0, not the 2.1 its dataset names): no
 * refs left unchecked. */
START_TEST(a_clean_import_of_the_shipped_schemes_warns_of_nothing)
{
	struct testdb fresh;
	testdb_create(&fresh, "schemes_fresh");
	struct proc_result r;
	/* before it, the list says where the shipped schemes are: beside the
	 * program (a build tree's share/conform, or an installed one) */
	const char *list[] = { "scheme", "list", NULL };
	testsrv_ctl(&r, &fresh, list, NULL);
	ck_assert_msg(r.status == 0 && strstr(r.out, "share/conform/schemes/*.json"), "%s%s", r.out, r.err);
	proc_result_free(&r);
	import_shipped_into(&fresh, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(!strstr(r.err, "warning") && !strstr(r.out, "warning"), "%s%s", r.out, r.err);
	ck_assert_msg(!strstr(r.err, "note") && !strstr(r.err, "not imported"), "%s", r.err);
	ck_assert_msg(!strstr(r.out, "iotsf-cf@2.1") && !strstr(r.err, "iotsf-cf@2.1"), "%s%s", r.out,
		      r.err);
	proc_result_free(&r);
	testdb_drop(&fresh);
}
END_TEST

/* Writes doc to a temporary file; returns its path (caller frees). */
static char *write_temp(json_t *doc, const char *name)
{
	char dir[] = "/tmp/conform-scheme.XXXXXX";
	ck_assert(mkdtemp(dir));
	char *path = cf_asprintf("%s/%s", dir, name);
	ck_assert_int_eq(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	return path;
}

static json_t *load_shipped(const char *rel)
{
	char *p = tsupport_source_path(rel);
	json_t *d = json_load_file(p, 0, NULL);
	ck_assert_ptr_nonnull(d);
	free(p);
	return d;
}

START_TEST(altered_content_under_the_same_version_is_refused)
{
	json_t *d = load_shipped("schemes/dcms-cop-2018.json");
	json_t *first = json_array_get(json_object_get(d, "requirements"), 0);
	json_object_set_new(first, "title", json_string("No default passwords, unless convenient"));
	char *path = write_temp(d, "dcms-cop-2018.json");
	long long audit = count_rows("SELECT count(*) FROM audit_log");
	struct proc_result r;
	const char *args[] = { "scheme", "import", path, NULL };
	testsrv_ctl(&r, &db, args, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "already imported with other content"), "%s", r.err);
	ck_assert(strstr(r.err, "new version"));
	ck_assert(strstr(r.err, "nothing was written"));
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log"), audit);
	PGresult *res = testdb_super_exec(&db, "SELECT title FROM requirement WHERE scheme_id = "
					       "'dcms-cop' AND ref = 'DCMS-1'");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "No default passwords");
	PQclear(res);

	/* the same change as a new version is added beside the old one */
	json_object_set_new(d, "version", json_string("2018.1"));
	free(path);
	path = write_temp(d, "dcms-cop-2018.1.json");
	const char *args2[] = { "scheme", "import", path, NULL };
	testsrv_ctl(&r, &db, args2, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(strstr(r.out, "imported dcms-cop@2018.1"));
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM scheme_version WHERE scheme_id = 'dcms-cop'"), 2);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log"), audit + 1);
	json_t *s = get_json("/v1/schemes/dcms-cop", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(s, "versions")), 2);
	ck_assert_str_eq(jsonx_str(s, "latest"), "2018.1");
	json_decref(s);
	free(path);
	json_decref(d);
}
END_TEST

/* The upgrade path of a corrected crosswalk: a file that differs from the
 * imported version only in its mappings (and coverage text) writes nothing,
 * exits 0 and says that the stored crosswalk stays; one whose crosswalk
 * dangles (DCMS's IoTSF refs pointed at 2.1 again, which does not ship) is
 * refused, naming the target. */
START_TEST(a_changed_crosswalk_is_kept_out_and_a_dangling_one_refused)
{
	json_t *d = load_shipped("schemes/dcms-cop-2018.json");
	json_t *iotsf = json_array_get(json_object_get(json_array_get(json_object_get(d, "requirements"), 0),
						       "mappings"), 1);
	ck_assert_str_eq(jsonx_str(iotsf, "to"), "iotsf-cf@2.0");
	ck_assert_int_eq(json_array_remove(json_object_get(iotsf, "refs"), 0), 0);
	char *path = write_temp(d, "dcms-cop-2018.json");
	long long audit = count_rows("SELECT count(*) FROM audit_log");
	long long maps = count_rows("SELECT count(*) FROM requirement_mapping");
	struct proc_result r;
	const char *args[] = { "scheme", "import", path, NULL };
	testsrv_ctl(&r, &db, args, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "with the same requirements and another crosswalk"), "%s", r.out);
	ck_assert(strstr(r.out, "a corrected crosswalk needs a new version"));
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log"), audit);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM requirement_mapping"), maps);
	free(path);

	json_object_set_new(iotsf, "to", json_string("iotsf-cf@2.1"));
	path = write_temp(d, "dcms-cop-2018.json");
	const char *args2[] = { "scheme", "import", path, NULL };
	testsrv_ctl(&r, &db, args2, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "(document): iotsf-cf@2.1 is not imported: 1 mapping points at it"),
		      "%s", r.err);
	ck_assert(strstr(r.err, "nothing was written"));
	proc_result_free(&r);
	/* lint alone, without the database, cannot tell */
	const char *args3[] = { "scheme", "lint", path, NULL };
	testsrv_ctl(&r, &db, args3, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log"), audit);
	free(path);
	json_decref(d);
}
END_TEST

START_TEST(lint_names_the_file_and_pointer)
{
	json_t *d = load_shipped("schemes/iotsf-cf-2.0.json");
	json_t *first = json_array_get(json_object_get(d, "requirements"), 0);
	json_object_set_new(json_object_get(first, "applicability"), "mandatory_from_class",
			    json_integer(7));
	char *path = write_temp(d, "iotsf-cf-2.0.json");
	struct proc_result r;
	const char *args[] = { "scheme", "lint", path, NULL };
	testsrv_ctl(&r, &db, args, NULL);
	ck_assert_int_eq(r.status, 1);
	char *expect = cf_asprintf("%s: /requirements/0/applicability/mandatory_from_class:", path);
	ck_assert_msg(strstr(r.err, expect), "%s", r.err);
	free(expect);
	proc_result_free(&r);
	/* import refuses it the same way and writes nothing */
	const char *args2[] = { "scheme", "import", path, NULL };
	long long audit = count_rows("SELECT count(*) FROM audit_log");
	testsrv_ctl(&r, &db, args2, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(strstr(r.err, "/requirements/0/applicability/mandatory_from_class"));
	proc_result_free(&r);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM audit_log"), audit);

	/* the shipped files lint clean, the JSON Schema beside them is passed over */
	const char *args3[8] = { "scheme", "lint" };
	char *paths[5];
	for (int i = 0; i < 5; i++)
		args3[2 + i] = paths[i] = tsupport_source_path(shipped[i]);
	args3[7] = NULL;
	testsrv_ctl(&r, &db, args3, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
	free(path);
	json_decref(d);
}
END_TEST

START_TEST(imported_versions_are_immutable)
{
	PGconn *c = PQconnectdb(db.app_url);
	PGresult *r = PQexec(c, "UPDATE requirement SET title = 'x' WHERE ref = 'DCMS-1'");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501"); /* no privilege */
	PQclear(r);
	r = PQexec(c, "DELETE FROM scheme_version");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	PQfinish(c);
	c = PQconnectdb(db.owner_url);
	r = PQexec(c, "UPDATE requirement SET title = 'x' WHERE ref = 'DCMS-1'");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert(strstr(PQresultErrorMessage(r), "immutable"));
	PQclear(r);
	PQfinish(c);
}
END_TEST

START_TEST(cli_list_show_export)
{
	struct proc_result r;
	const char *list[] = { "scheme", "list", NULL };
	testsrv_ctl(&r, &db, list, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "iotsf-cf"));
	ck_assert(strstr(r.out, "uk-psti"));
	proc_result_free(&r);
	const char *show[] = { "scheme", "show", "iotsf-cf@2.0", NULL };
	testsrv_ctl(&r, &db, show, NULL);
	ck_assert_int_eq(r.status, 0);
	PGresult *res = testdb_super_exec(&db, "SELECT digest FROM scheme_version WHERE scheme_id = 'iotsf-cf'");
	ck_assert(strstr(r.out, PQgetvalue(res, 0, 0)));
	PQclear(res);
	ck_assert(strstr(r.out, "class 4:"));
	ck_assert(strstr(r.out, "226 in 14 sections"));
	proc_result_free(&r);
	const char *missing[] = { "scheme", "show", "nope@1", NULL };
	testsrv_ctl(&r, &db, missing, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(strstr(r.err, "no scheme nope"));
	proc_result_free(&r);
	const char *exp[] = { "scheme", "export", "etsi-en-303-645@2.1.1", "--format", "oscal", NULL };
	testsrv_ctl(&r, &db, exp, NULL);
	ck_assert_int_eq(r.status, 0);
	json_t *cli_doc = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(cli_doc);
	proc_result_free(&r);
	json_t *api_doc = get_json("/v1/schemes/etsi-en-303-645/versions/2.1.1/oscal", 200);
	ck_assert(json_equal(cli_doc, api_doc));
	json_decref(cli_doc);
	json_decref(api_doc);
	const char *nofmt[] = { "scheme", "export", "etsi-en-303-645@2.1.1", NULL };
	testsrv_ctl(&r, &db, nofmt, NULL);
	ck_assert_int_eq(r.status, 2);
	proc_result_free(&r);
}
END_TEST

START_TEST(api_lists_versions_and_requirements)
{
	json_t *list = get_json("/v1/schemes", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 4);
	json_decref(list);
	json_t *v = get_json("/v1/schemes/dcms-cop/versions/2018", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "counts"), "requirements")), 13);
	ck_assert(json_is_true(json_object_get(v, "implicit_class")));
	ck_assert_uint_eq(strlen(jsonx_str(v, "digest")), 64);
	json_decref(v);
	v = get_json("/v1/schemes/iotsf-cf/versions/latest", 200);
	ck_assert_str_eq(jsonx_str(v, "version"), "2.0");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "classes")), 5);
	json_decref(v);

	/* page through ETSI two dozen at a time: 67 provisions, each once */
	int total = 0;
	char path[256] = "/v1/schemes/etsi-en-303-645/versions/2.1.1/requirements?limit=24";
	json_t *seen = json_object();
	for (int pages = 0; pages < 10; pages++) {
		json_t *page = get_json(path, 200);
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(page, "items"), i, r) {
			ck_assert_ptr_null(json_object_get(seen, jsonx_str(r, "ref")));
			json_object_set_new(seen, jsonx_str(r, "ref"), json_true());
			total++;
		}
		const char *next = jsonx_str(page, "next");
		if (!next) {
			json_decref(page);
			break;
		}
		snprintf(path, sizeof path,
			 "/v1/schemes/etsi-en-303-645/versions/2.1.1/requirements?limit=24&after=%s", next);
		json_decref(page);
	}
	ck_assert_int_eq(total, 67);
	json_decref(seen);

	json_t *sec = get_json("/v1/schemes/etsi-en-303-645/versions/2.1.1/requirements?section=5.3", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(sec, "items")), 16);
	json_decref(sec);
	json_t *kw = get_json("/v1/schemes/iotsf-cf/versions/2.0/requirements?keyword=responsibility&limit=500", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(kw, "items")), 4);
	json_decref(kw);
	json_t *bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/requirements?limit=0", 400);
	json_decref(bad);
	bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/requirements?after=9.9.9", 400);
	json_decref(bad);
	bad = get_json("/v1/schemes/iotsf-cf/versions/9.9", 404);
	ck_assert(strstr(jsonx_str(bad, "detail"), "no version 9.9"));
	json_decref(bad);
	bad = get_json("/v1/schemes/nope", 404);
	json_decref(bad);
}
END_TEST

static int checklist_class(const char *c, const char *i, const char *a)
{
	char path[256];
	snprintf(path, sizeof path,
		 "/v1/schemes/iotsf-cf/versions/2.0/checklist?confidentiality=%s&integrity=%s&availability=%s",
		 c, i, a);
	json_t *j = get_json(path, 200);
	int cls = (int)json_integer_value(json_object_get(j, "class"));
	json_decref(j);
	return cls;
}

START_TEST(checklist_derives_the_class_and_groups_by_keyword)
{
	ck_assert_int_eq(checklist_class("high", "basic", "basic"), 3);
	ck_assert_int_eq(checklist_class("basic", "basic", "basic"), 0);
	ck_assert_int_eq(checklist_class("basic", "high", "basic"), 4);
	ck_assert_int_eq(checklist_class("medium", "basic", "basic"), 2);

	json_t *j = get_json("/v1/schemes/iotsf-cf/versions/2.0/checklist?class=1", 200);
	json_t *counts = json_object_get(j, "counts");
	/* from the facts: mandatory from class 0 (62) or 1 (95) */
	ck_assert_int_eq(json_integer_value(json_object_get(counts, "mandatory")), 62 + 95);
	ck_assert_int_eq(json_integer_value(json_object_get(counts, "advisory")), 226 - 62 - 95);
	json_t *groups = json_object_get(j, "groups");
	ck_assert_uint_eq(json_array_size(groups), 6);
	ck_assert_str_eq(jsonx_str(json_array_get(groups, 0), "keyword"), "Software");
	ck_assert_str_eq(jsonx_str(json_array_get(groups, 0), "primary"), "System");
	/* every requirement is in the group of each of its secondary keywords */
	size_t i, k;
	json_t *g, *r;
	size_t placed = 0;
	json_array_foreach(groups, i, g) {
		json_array_foreach(json_object_get(g, "requirements"), k, r) {
			bool has = false;
			size_t m;
			json_t *kw;
			json_array_foreach(json_object_get(json_object_get(r, "keywords"), "secondary"), m, kw)
				has = has || strcmp(json_string_value(kw), jsonx_str(g, "keyword")) == 0;
			ck_assert(has);
			const char *app = jsonx_str(r, "applicability");
			json_t *from = json_object_get(r, "mandatory_from_class");
			if (strcmp(app, "mandatory") == 0)
				ck_assert(json_integer_value(from) <= 1);
			else
				ck_assert(json_is_null(from) || json_integer_value(from) > 1);
			placed++;
		}
	}
	ck_assert_uint_ge(placed, 226);
	json_decref(j);

	j = get_json("/v1/schemes/dcms-cop/versions/2018/checklist?class=0", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "counts"), "mandatory")), 13);
	json_decref(j);
	/* a scheme without classes takes any declaration as its class 0 */
	j = get_json("/v1/schemes/etsi-en-303-645/versions/2.1.1/checklist?confidentiality=high&integrity=high&availability=high", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "class")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "counts"), "mandatory")), 32);
	json_decref(j);

	json_t *bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/checklist?class=7", 400);
	json_decref(bad);
	bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/checklist", 400);
	json_decref(bad);
	bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/checklist?confidentiality=high", 400);
	json_decref(bad);
	bad = get_json("/v1/schemes/iotsf-cf/versions/2.0/checklist?confidentiality=max&integrity=basic&availability=basic", 400);
	ck_assert(strstr(jsonx_str(bad, "detail"), "confidentiality"));
	json_decref(bad);
}
END_TEST

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* The OSCAL 1.1 catalog rules of the facts, checked on every shipped scheme. */
static void check_oscal(const char *id, const char *version)
{
	char path[256];
	snprintf(path, sizeof path, "/v1/schemes/%s/versions/%s/oscal", id, version);
	json_t *root = get_json(path, 200);
	ck_assert_uint_eq(json_object_size(root), 1);
	json_t *cat = json_object_get(root, "catalog");
	ck_assert(json_is_object(cat));
	ck_assert(matches("^[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
			  jsonx_str(cat, "uuid")));
	json_t *md = json_object_get(cat, "metadata");
	ck_assert(jsonx_str(md, "title"));
	ck_assert(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
			  jsonx_str(md, "last-modified")));
	ck_assert_str_eq(jsonx_str(md, "version"), version);
	ck_assert(matches("^1\\.1\\.[0-9]+$", jsonx_str(md, "oscal-version")));
	const char *token = "^[_A-Za-z][A-Za-z0-9._-]*$";
	json_t *ids = json_object(), *labels = json_object();
	size_t i, k, p;
	json_t *g, *c, *pr;
	json_array_foreach(json_object_get(cat, "groups"), i, g) {
		ck_assert(jsonx_str(g, "title"));
		ck_assert(matches(token, jsonx_str(g, "id")));
		json_array_foreach(json_object_get(g, "controls"), k, c) {
			const char *cid = jsonx_str(c, "id");
			ck_assert_msg(matches(token, cid), "control id %s", cid);
			ck_assert_ptr_null(json_object_get(ids, cid));
			json_object_set_new(ids, cid, json_true());
			ck_assert(jsonx_str(c, "title"));
			bool statement = false;
			json_array_foreach(json_object_get(c, "parts"), p, pr) {
				ck_assert(jsonx_str(pr, "name"));
				statement = statement || strcmp(jsonx_str(pr, "name"), "statement") == 0;
				if (strcmp(jsonx_str(pr, "name"), "statement") != 0)
					ck_assert(jsonx_str(pr, "ns"));
			}
			ck_assert_msg(statement, "control %s has no statement part", cid);
			const char *label = NULL;
			json_array_foreach(json_object_get(c, "props"), p, pr) {
				ck_assert(jsonx_str(pr, "name") && jsonx_str(pr, "value"));
				if (strcmp(jsonx_str(pr, "name"), "label") == 0)
					label = jsonx_str(pr, "value");
				else
					ck_assert_msg(jsonx_str(pr, "ns"), "prop %s outside NIST without ns",
						      jsonx_str(pr, "name"));
			}
			ck_assert(label);
			ck_assert_ptr_null(json_object_get(labels, label));
			json_object_set_new(labels, label, json_true());
		}
	}
	/* every requirement of the version appears exactly once */
	snprintf(path, sizeof path, "/v1/schemes/%s/versions/%s/requirements?limit=500", id, version);
	json_t *reqs = get_json(path, 200);
	ck_assert_uint_eq(json_object_size(labels), json_array_size(json_object_get(reqs, "items")));
	json_t *r;
	json_array_foreach(json_object_get(reqs, "items"), i, r)
		ck_assert_msg(json_object_get(labels, jsonx_str(r, "ref")), "%s is not in the catalog",
			      jsonx_str(r, "ref"));
	json_decref(reqs);
	json_decref(ids);
	json_decref(labels);
	json_decref(root);
}

START_TEST(oscal_catalogs_are_well_formed)
{
	check_oscal("dcms-cop", "2018");
	check_oscal("etsi-en-303-645", "2.1.1");
	check_oscal("iotsf-cf", "2.0");
	check_oscal("uk-psti", "2023");
	/* the same version exports to the same document (stable uuid) */
	json_t *a = get_json("/v1/schemes/uk-psti/versions/2023/oscal", 200);
	json_t *b = get_json("/v1/schemes/uk-psti/versions/2023/oscal", 200);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(crosswalks_both_ways)
{
	json_t *j = get_json("/v1/crosswalk?from=dcms-cop@2018&to=etsi-en-303-645@2.1.1", 200);
	json_t *m = json_object_get(j, "mappings");
	ck_assert_uint_eq(json_array_size(m), 13);
	ck_assert(json_is_true(json_object_get(j, "to_imported")));
	json_t *first = json_array_get(m, 0);
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(first, "from"), 0), "ref"), "DCMS-1");
	ck_assert_uint_eq(json_array_size(json_object_get(first, "to")), 5);
	ck_assert(jsonx_str(json_array_get(json_object_get(first, "to"), 0), "title"));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "unmapped")), 0);
	json_decref(j);

	/* PSTI declares its deemed-compliance routes; read from ETSI they invert */
	j = get_json("/v1/crosswalk?from=etsi-en-303-645@2.1.1&to=uk-psti@2023", 200);
	m = json_object_get(j, "mappings");
	ck_assert_uint_eq(json_array_size(m), 3);
	ck_assert_str_eq(jsonx_str(json_array_get(m, 0), "relationship"), "superset-of");
	ck_assert_str_eq(jsonx_str(json_array_get(m, 0), "source"), "inverse");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "unmapped")), 67 - 4);
	json_decref(j);

	/* DCMS's IoTSF crosswalk points at the version that ships */
	j = get_json("/v1/crosswalk?from=dcms-cop@2018&to=iotsf-cf@2.0", 200);
	ck_assert(json_is_true(json_object_get(j, "to_imported")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "mappings")), 12);
	json_decref(j);
	j = get_json("/v1/crosswalk?from=dcms-cop@2018&to=iotsf-cf@2.1", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "mappings")), 0);
	json_decref(j);

	json_t *bad = get_json("/v1/crosswalk?from=dcms-cop@2018", 400);
	json_decref(bad);
	bad = get_json("/v1/crosswalk?from=nope@1&to=dcms-cop@2018", 404);
	json_decref(bad);
}
END_TEST

START_TEST(audit_records_the_imports)
{
	PGresult *r = testdb_super_exec(&db, "SELECT action, object_id, actor_kind FROM audit_log ORDER BY seq LIMIT 1");
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "scheme.import");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "cli");
	PQclear(r);
	struct proc_result p;
	const char *args[] = { "audit", "verify", NULL };
	testsrv_ctl(&p, &db, args, NULL);
	ck_assert_msg(p.status == 0, "%s", p.err);
	proc_result_free(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schemes");
	TCase *tc = tcase_create("schemes");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, import_again_changes_nothing);
	tcase_add_test(tc, a_clean_import_of_the_shipped_schemes_warns_of_nothing);
	tcase_add_test(tc, a_changed_crosswalk_is_kept_out_and_a_dangling_one_refused);
	tcase_add_test(tc, audit_records_the_imports);
	tcase_add_test(tc, lint_names_the_file_and_pointer);
	tcase_add_test(tc, imported_versions_are_immutable);
	tcase_add_test(tc, cli_list_show_export);
	tcase_add_test(tc, api_lists_versions_and_requirements);
	tcase_add_test(tc, checklist_derives_the_class_and_groups_by_keyword);
	tcase_add_test(tc, oscal_catalogs_are_well_formed);
	tcase_add_test(tc, crosswalks_both_ways);
	tcase_add_test(tc, altered_content_under_the_same_version_is_refused);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
