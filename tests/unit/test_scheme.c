/*
 * Unit tests of core/scheme: the shipped schemes lint clean and have the
 * counts the facts give; each linter rule fires with the right JSON pointer;
 * keyword case is normalised; class derivation over all 27 declarations.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "mem.h"
#include "scheme.h"
#include "tsupport.h"

static json_t *lint_file(const char *rel, struct lint_report *r)
{
	char *path = tsupport_source_path(rel);
	size_t len;
	char *text = tsupport_read_file(path, &len);
	json_t *doc = NULL;
	struct cf_error err;
	cf_err e = scheme_lint(text, len, path, &doc, r, &err);
	for (size_t i = 0; i < r->count; i++)
		if (r->items[i].error)
			fprintf(stderr, "%s: %s: %s\n", rel, r->items[i].pointer, r->items[i].message);
	ck_assert_msg(e == CF_OK, "%s does not lint: %s at %s", rel, err.detail, err.pointer);
	free(text);
	free(path);
	return doc;
}

static size_t count_where(const json_t *doc, bool (*pred)(const json_t *req))
{
	size_t n = 0, i;
	json_t *r;
	json_array_foreach(json_object_get(doc, "requirements"), i, r)
		n += pred(r);
	return n;
}

static bool mandatory(const json_t *r)
{
	return json_is_object(json_object_get(r, "applicability"));
}

static bool conditional(const json_t *r)
{
	return json_object_get(r, "condition") != NULL;
}

START_TEST(shipped_schemes_lint_clean_with_the_facts_counts)
{
	static const struct {
		const char *file, *id, *version;
		size_t requirements, mandatory, conditional, classes;
	} shipped[] = {
		{ "schemes/dcms-cop-2018.json", "dcms-cop", "2018", 13, 13, 0, 0 },
		/* EN 303 645 v2.1.1: 67 provisions, 32 "shall", 35 "should", 17 conditional */
		{ "schemes/etsi-en-303-645-2.1.1.json", "etsi-en-303-645", "2.1.1", 67, 32, 17, 0 },
		{ "schemes/uk-psti-2023.json", "uk-psti", "2023", 3, 3, 0, 0 },
		{ "schemes/iotsf-cf-2.0.json", "iotsf-cf", "2.0", 226, 198, 0, 5 },
	};
	for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
		struct lint_report r = { 0 };
		json_t *doc = lint_file(shipped[i].file, &r);
		ck_assert_uint_eq(r.errors, 0);
		ck_assert_str_eq(jsonx_str(doc, "id"), shipped[i].id);
		ck_assert_str_eq(jsonx_str(doc, "version"), shipped[i].version);
		ck_assert_uint_eq(json_array_size(json_object_get(doc, "requirements")),
				  shipped[i].requirements);
		ck_assert_uint_eq(count_where(doc, mandatory), shipped[i].mandatory);
		ck_assert_uint_eq(count_where(doc, conditional), shipped[i].conditional);
		ck_assert_uint_eq(json_array_size(json_object_get(doc, "classes")), shipped[i].classes);
		ck_assert_ptr_null(json_object_get(doc, "$schema"));
		json_decref(doc);
		lint_report_free(&r);
	}
}
END_TEST

START_TEST(the_json_schema_is_recognised)
{
	char *path = tsupport_source_path("schemes/scheme.schema.json");
	size_t len;
	char *text = tsupport_read_file(path, &len);
	ck_assert(scheme_text_is_json_schema(text, len));
	free(text);
	free(path);
	path = tsupport_source_path("schemes/dcms-cop-2018.json");
	text = tsupport_read_file(path, &len);
	ck_assert(!scheme_text_is_json_schema(text, len));
	free(text);
	free(path);
}
END_TEST

/* A small valid document to break in each test. */
static json_t *base_doc(void)
{
	json_t *d = json_loads(
		"{\"format\":\"conform-scheme/1\",\"id\":\"test-scheme\",\"version\":\"1.0\","
		"\"title\":\"T\",\"publisher\":\"P\",\"source\":{\"document\":\"D\",\"date\":\"2024-05\"},"
		"\"coverage\":\"all\",\"certificate_validity_days\":365,"
		"\"classes\":[{\"class\":0,\"confidentiality\":\"basic\",\"integrity\":\"basic\","
		"\"availability\":\"basic\",\"description\":\"zero\"},{\"class\":1,\"confidentiality\":\"high\","
		"\"integrity\":\"high\",\"availability\":\"high\",\"description\":\"one\"}],"
		"\"keywords\":{\"primary\":[{\"name\":\"System\",\"secondary\":[\"Software\",\"Hardware\"]},"
		"{\"name\":\"Business\",\"secondary\":[\"Process\"]}]},"
		"\"guidance_sources\":[{\"id\":\"bpg\",\"title\":\"G\",\"documents\":{\"E\":\"Apps\"}}],"
		"\"sections\":[{\"id\":\"1\",\"title\":\"One\"}],"
		"\"requirements\":[{\"ref\":\"1.1\",\"section\":\"1\",\"title\":\"First\","
		"\"keywords\":{\"primary\":[\"System\"],\"secondary\":[\"Software\"]},"
		"\"applicability\":{\"mandatory_from_class\":1},\"guidance\":[\"bpg:E9\"],"
		"\"mappings\":[{\"to\":\"other@2\",\"refs\":[\"a\"],\"relationship\":\"subset-of\"}]},"
		"{\"ref\":\"1.2\",\"section\":\"1\",\"title\":\"Second\","
		"\"keywords\":{\"primary\":[\"Business\"],\"secondary\":[\"Process\"]},"
		"\"applicability\":\"advisory\"}]}",
		0, NULL);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* Lints doc and asserts an error at pointer whose message contains needle. */
static void expect_error(json_t *doc, const char *pointer, const char *needle)
{
	char *text = json_dumps(doc, 0);
	struct lint_report r = { 0 };
	struct cf_error err;
	json_t *out = NULL;
	ck_assert_int_eq(scheme_lint(text, strlen(text), NULL, &out, &r, &err), CF_EINVAL);
	ck_assert_ptr_null(out);
	bool found = false;
	for (size_t i = 0; i < r.count && !found; i++)
		found = r.items[i].error && strcmp(r.items[i].pointer, pointer) == 0 &&
			strstr(r.items[i].message, needle) != NULL;
	if (!found)
		for (size_t i = 0; i < r.count; i++)
			fprintf(stderr, "  got %s: %s\n", r.items[i].pointer, r.items[i].message);
	ck_assert_msg(found, "no error at %s containing '%s'", pointer, needle);
	lint_report_free(&r);
	free(text);
	json_decref(doc);
}

static json_t *req(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "requirements"), i);
}

START_TEST(base_document_is_valid)
{
	json_t *d = base_doc();
	char *text = json_dumps(d, 0);
	struct lint_report r = { 0 };
	json_t *out = NULL;
	ck_assert_int_eq(scheme_lint(text, strlen(text), "test-scheme-1.0.json", &out, &r, NULL), 0);
	ck_assert_uint_eq(r.errors, 0);
	ck_assert_uint_eq(r.warnings, 0);
	json_decref(out);
	lint_report_free(&r);
	free(text);
	json_decref(d);
}
END_TEST

START_TEST(mandatory_from_a_class_the_scheme_lacks)
{
	json_t *d = base_doc();
	json_object_set_new(json_object_get(req(d, 0), "applicability"), "mandatory_from_class",
			    json_integer(7));
	expect_error(d, "/requirements/0/applicability/mandatory_from_class", "outside this scheme's classes");
}
END_TEST

START_TEST(each_rule_names_its_pointer)
{
	json_t *d = base_doc();
	json_object_set_new(d, "format", json_string("conform-scheme/2"));
	expect_error(d, "/format", "format must be");

	d = base_doc();
	json_object_set_new(d, "colour", json_string("red"));
	expect_error(d, "/colour", "unknown key");

	d = base_doc();
	json_object_set_new(d, "id", json_string("Bad Id"));
	expect_error(d, "/id", "not a valid scheme id");

	d = base_doc();
	json_object_del(d, "sections");
	expect_error(d, "/sections", "required");

	d = base_doc();
	json_object_set_new(json_array_get(json_object_get(d, "classes"), 1), "class", json_integer(2));
	expect_error(d, "/classes/1/class", "numbered 0, 1, 2");

	d = base_doc();
	json_object_set_new(json_array_get(json_object_get(d, "classes"), 0), "integrity",
			    json_string("extreme"));
	expect_error(d, "/classes/0/integrity", "basic");

	d = base_doc();
	json_object_set_new(req(d, 1), "ref", json_string("1.1"));
	expect_error(d, "/requirements/1/ref", "used twice");

	d = base_doc();
	json_object_set_new(req(d, 1), "section", json_string("9"));
	expect_error(d, "/requirements/1/section", "not declared");

	d = base_doc();
	json_array_set_new(json_object_get(json_object_get(req(d, 1), "keywords"), "secondary"), 0,
			   json_string("Software"));
	expect_error(d, "/requirements/1/keywords/secondary/0", "not a secondary keyword");

	d = base_doc();
	json_array_set_new(json_object_get(json_object_get(req(d, 1), "keywords"), "primary"), 0,
			   json_string("Legal"));
	expect_error(d, "/requirements/1/keywords/primary/0", "not a primary keyword");

	d = base_doc();
	json_array_set_new(json_object_get(req(d, 0), "guidance"), 0, json_string("bpg:Z1"));
	expect_error(d, "/requirements/0/guidance/0", "no document 'Z'");

	d = base_doc();
	json_array_set_new(json_object_get(req(d, 0), "guidance"), 0, json_string("nope:E1"));
	expect_error(d, "/requirements/0/guidance/0", "not declared");

	d = base_doc();
	json_object_set_new(json_array_get(json_object_get(req(d, 0), "mappings"), 0), "to",
			    json_string("test-scheme@1.0"));
	expect_error(d, "/requirements/0/mappings/0/to", "its own scheme");

	d = base_doc();
	json_object_set_new(json_array_get(json_object_get(req(d, 0), "mappings"), 0), "relationship",
			    json_string("related"));
	expect_error(d, "/requirements/0/mappings/0/relationship", "intersects-with");

	d = base_doc();
	json_object_set_new(req(d, 0), "applicability", json_string("sometimes"));
	expect_error(d, "/requirements/0/applicability", "advisory");

	d = base_doc();
	json_object_set_new(req(d, 0), "title", json_string("   "));
	expect_error(d, "/requirements/0/title", "blank");

	d = base_doc();
	char longtitle[200];
	memset(longtitle, 'x', 170);
	longtitle[170] = '\0';
	json_object_set_new(req(d, 0), "title", json_string(longtitle));
	expect_error(d, "/requirements/0/title", "at most 160");

	d = base_doc();
	json_object_set_new(d, "certificate_validity_days", json_integer(0));
	expect_error(d, "/certificate_validity_days", "1 to 3650");

	d = base_doc();
	json_object_set_new(json_object_get(d, "source"), "date", json_string("May 2024"));
	expect_error(d, "/source/date", "YYYY-MM");
}
END_TEST

START_TEST(invalid_json_and_duplicate_keys)
{
	struct lint_report r = { 0 };
	struct cf_error err;
	const char *bad = "{\"format\": \"conform-scheme/1\",";
	ck_assert_int_eq(scheme_lint(bad, strlen(bad), NULL, NULL, &r, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "not valid JSON"));
	lint_report_free(&r);
	const char *dup = "{\"id\": \"a\", \"id\": \"b\"}";
	ck_assert_int_eq(scheme_lint(dup, strlen(dup), NULL, NULL, &r, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, "duplicate"));
	lint_report_free(&r);
	const char *arr = "[1, 2]";
	ck_assert_int_eq(scheme_lint(arr, strlen(arr), NULL, NULL, &r, &err), CF_EINVAL);
	lint_report_free(&r);
}
END_TEST

START_TEST(keyword_case_is_normalised_with_a_warning)
{
	json_t *d = base_doc();
	json_t *kw = json_object_get(req(d, 1), "keywords");
	json_array_set_new(json_object_get(kw, "primary"), 0, json_string("business"));
	json_array_set_new(json_object_get(kw, "secondary"), 0, json_string("PROCESS"));
	char *text = json_dumps(d, 0);
	struct lint_report r = { 0 };
	json_t *out = NULL;
	ck_assert_int_eq(scheme_lint(text, strlen(text), NULL, &out, &r, NULL), 0);
	ck_assert_uint_eq(r.warnings, 2);
	ck_assert(strstr(r.items[0].message, "normalised to 'Business'"));
	json_t *nkw = json_object_get(req(out, 1), "keywords");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(nkw, "primary"), 0)), "Business");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(nkw, "secondary"), 0)), "Process");
	json_decref(out);
	lint_report_free(&r);
	free(text);
	json_decref(d);
}
END_TEST

START_TEST(warnings_do_not_refuse)
{
	json_t *d = base_doc();
	json_object_del(d, "coverage");
	json_array_append_new(json_object_get(d, "sections"), json_pack("{s:s,s:s}", "id", "2", "title", "Empty"));
	char *text = json_dumps(d, 0);
	struct lint_report r = { 0 };
	json_t *out = NULL;
	ck_assert_int_eq(scheme_lint(text, strlen(text), "wrong-name.json", &out, &r, NULL), 0);
	ck_assert_uint_eq(r.errors, 0);
	ck_assert_uint_eq(r.warnings, 3); /* coverage, empty section, file name */
	json_decref(out);
	lint_report_free(&r);
	free(text);
	json_decref(d);
}
END_TEST

/* The IoTSF class table: 0 B/B/B, 1 B/M/M, 2 M/M/H, 3 H/M/H, 4 H/H/H. */
START_TEST(class_derivation_all_27_declarations)
{
	static const struct scheme_class iotsf[] = {
		{ 0, LEVEL_BASIC, LEVEL_BASIC, LEVEL_BASIC },
		{ 1, LEVEL_BASIC, LEVEL_MEDIUM, LEVEL_MEDIUM },
		{ 2, LEVEL_MEDIUM, LEVEL_MEDIUM, LEVEL_HIGH },
		{ 3, LEVEL_HIGH, LEVEL_MEDIUM, LEVEL_HIGH },
		{ 4, LEVEL_HIGH, LEVEL_HIGH, LEVEL_HIGH },
	};
	/* expected[c][i][a], worked out by hand from the table */
	static const int expected[3][3][3] = {
		{ { 0, 1, 2 }, { 1, 1, 2 }, { 4, 4, 4 } },
		{ { 2, 2, 2 }, { 2, 2, 2 }, { 4, 4, 4 } },
		{ { 3, 3, 3 }, { 3, 3, 3 }, { 4, 4, 4 } },
	};
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < 3; i++)
			for (int a = 0; a < 3; a++) {
				int got = -1;
				ck_assert_int_eq(scheme_derive_class(iotsf, 5, (enum scheme_level)c,
								     (enum scheme_level)i,
								     (enum scheme_level)a, &got, NULL), 0);
				ck_assert_msg(got == expected[c][i][a], "C=%s I=%s A=%s: class %d, expected %d",
					      scheme_level_name((enum scheme_level)c),
					      scheme_level_name((enum scheme_level)i),
					      scheme_level_name((enum scheme_level)a), got, expected[c][i][a]);
			}
	/* the acceptance examples by name */
	int got;
	ck_assert_int_eq(scheme_derive_class(iotsf, 5, LEVEL_HIGH, LEVEL_BASIC, LEVEL_BASIC, &got, NULL), 0);
	ck_assert_int_eq(got, 3);
	ck_assert_int_eq(scheme_derive_class(iotsf, 5, LEVEL_BASIC, LEVEL_HIGH, LEVEL_BASIC, &got, NULL), 0);
	ck_assert_int_eq(got, 4);
	ck_assert_int_eq(scheme_derive_class(iotsf, 5, LEVEL_MEDIUM, LEVEL_BASIC, LEVEL_BASIC, &got, NULL), 0);
	ck_assert_int_eq(got, 2);
	/* no classes: everything is the implicit class 0 */
	ck_assert_int_eq(scheme_derive_class(NULL, 0, LEVEL_HIGH, LEVEL_HIGH, LEVEL_HIGH, &got, NULL), 0);
	ck_assert_int_eq(got, 0);
	/* a table whose top does not reach: refused */
	struct cf_error err;
	ck_assert_int_eq(scheme_derive_class(iotsf, 2, LEVEL_HIGH, LEVEL_BASIC, LEVEL_BASIC, &got, &err),
			 CF_EUNPROCESSABLE);
}
END_TEST

START_TEST(levels_parse)
{
	enum scheme_level l;
	ck_assert_int_eq(scheme_level_parse("medium", &l, NULL), 0);
	ck_assert_int_eq(l, LEVEL_MEDIUM);
	ck_assert_int_ne(scheme_level_parse("Medium", &l, NULL), 0);
	ck_assert_int_ne(scheme_level_parse(NULL, &l, NULL), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scheme");
	TCase *tc = tcase_create("scheme");
	tcase_add_test(tc, shipped_schemes_lint_clean_with_the_facts_counts);
	tcase_add_test(tc, the_json_schema_is_recognised);
	tcase_add_test(tc, base_document_is_valid);
	tcase_add_test(tc, mandatory_from_a_class_the_scheme_lacks);
	tcase_add_test(tc, each_rule_names_its_pointer);
	tcase_add_test(tc, invalid_json_and_duplicate_keys);
	tcase_add_test(tc, keyword_case_is_normalised_with_a_warning);
	tcase_add_test(tc, warnings_do_not_refuse);
	tcase_add_test(tc, class_derivation_all_27_declarations);
	tcase_add_test(tc, levels_parse);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
