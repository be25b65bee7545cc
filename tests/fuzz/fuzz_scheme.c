/*
 * fuzz_scheme: a scheme file through the linter (core/scheme.c), as
 * `conformctl scheme lint` and POST /v1/schemes read it, then the class
 * derivation on what it accepts. A document the linter accepts lints again
 * without errors once normalised.
 */
#include <jansson.h>

#include "fuzz.h"
#include "scheme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	(void)scheme_text_is_json_schema(text, size);
	struct lint_report report = { 0 };
	struct cf_error err;
	json_t *doc = NULL;
	cf_err e = scheme_lint(text, size, "fuzz.json", &doc, &report, &err);
	FUZZ_ASSERT((e == CF_OK) == (doc != NULL));
	lint_report_free(&report);
	if (!doc)
		return 0;
	size_t n = 0;
	struct scheme_class *classes = scheme_classes(doc, &n);
	int top = scheme_highest_class(doc);
	int cls = -1;
	if (scheme_derive_class(classes, n, LEVEL_BASIC, LEVEL_BASIC, LEVEL_BASIC, &cls, &err) ==
	    CF_OK)
		FUZZ_ASSERT(cls >= 0 && cls <= (n ? top : 0));
	free(classes);
	char *again = json_dumps(doc, JSON_COMPACT);
	FUZZ_ASSERT(again != NULL);
	struct lint_report report2 = { 0 };
	json_t *doc2 = NULL;
	cf_err e2 = scheme_lint(again, strlen(again), "fuzz.json", &doc2, &report2, &err);
	FUZZ_ASSERT(e2 == CF_OK && report2.errors == 0);
	json_decref(doc2);
	lint_report_free(&report2);
	free(again);
	json_decref(doc);
	return 0;
}
