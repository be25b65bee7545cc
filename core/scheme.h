/*
 * scheme: the scheme file format (conform-scheme/1, docs/scheme-format.md)
 * as pure functions: the linter, which checks a document and normalises
 * keyword case, and compliance class derivation. No database here: the
 * catalog module stores and queries what this module accepts.
 */
#ifndef CONFORM_SCHEME_H
#define CONFORM_SCHEME_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

#define SCHEME_FORMAT "conform-scheme/1"
#define SCHEME_MAX_BYTES (8u << 20)

enum scheme_level { LEVEL_BASIC, LEVEL_MEDIUM, LEVEL_HIGH };

struct scheme_class {
	int number;
	enum scheme_level confidentiality, integrity, availability;
};

struct lint_finding {
	bool error;          /* false: a warning, or a note */
	bool note;           /* nothing wrong with the document: a check that could not be made */
	char pointer[200];   /* JSON pointer into the document */
	char message[300];
};

struct lint_report {
	struct lint_finding *items;
	size_t count, alloc;
	size_t errors, warnings, notes;
};

/*
 * Parses and checks a scheme document of len bytes. filename (may be NULL)
 * is used for the naming warning only. Findings go to report (which the
 * caller frees with lint_report_free, also on error). When the document has
 * no errors, *doc (if doc is not NULL) is the document with keyword case
 * normalised and "$schema" removed (new reference); else *doc is NULL.
 * Returns CF_EINVAL when there are errors (err names the first), CF_OK else.
 */
cf_err scheme_lint(const char *text, size_t len, const char *filename, json_t **doc,
		   struct lint_report *report, struct cf_error *err) CF_MUST_CHECK;

void lint_report_free(struct lint_report *report);

/*
 * True when text is a JSON Schema (a "$schema" naming json-schema.org and no
 * "format"), such as schemes/scheme.schema.json itself: commands given
 * the files of schemes/ pass over it instead of failing on it.
 */
bool scheme_text_is_json_schema(const char *text, size_t len);

/* Adds a finding (used by the catalog for checks that need the database). */
void lint_report_add(struct lint_report *report, bool error, const char *pointer,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void lint_report_note(struct lint_report *report, const char *pointer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "basic", "medium", "high". */
cf_err scheme_level_parse(const char *s, enum scheme_level *out, struct cf_error *err) CF_MUST_CHECK;
const char *scheme_level_name(enum scheme_level level);

/*
 * The compliance class for declared security objectives: the lowest class
 * whose three levels all reach the declared ones. classes must be ordered by
 * number; n == 0 means the scheme has one implicit class 0, which every
 * declaration gets. CF_EUNPROCESSABLE when no class reaches them.
 */
cf_err scheme_derive_class(const struct scheme_class *classes, size_t n,
			   enum scheme_level confidentiality, enum scheme_level integrity,
			   enum scheme_level availability, int *out, struct cf_error *err) CF_MUST_CHECK;

/* The classes of a linted document (new array, caller frees; *n may be 0). */
struct scheme_class *scheme_classes(const json_t *doc, size_t *n);

/* The highest class of a linted document (0 when it declares none). */
int scheme_highest_class(const json_t *doc);

#endif
