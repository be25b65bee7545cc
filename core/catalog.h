/*
 * catalog: the imported schemes. Import (lint, then one transaction with its
 * audit record; the same content again changes nothing, other content under
 * an imported version is refused) and the queries behind the public scheme
 * API and conformctl: lists, a version, its requirements, the checklist for a
 * class, the crosswalk between two versions, the stored document.
 */
#ifndef CONFORM_CATALOG_H
#define CONFORM_CATALOG_H

#include <stdbool.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"
#include "scheme.h"

struct catalog_import {
	bool unchanged;     /* the same content was imported before: nothing written */
	/* The version is imported with other content that differs only in its
	 * crosswalk (requirements' mappings, and the prose of coverage and
	 * notes that describes them): nothing written
	 * either (unchanged is true). An imported version is immutable, its
	 * digest is its identity, and certificates name it: the stored
	 * crosswalk stays, and coverage answers state the digest they used.
	 * A corrected crosswalk reaches such a database as a new version. */
	bool crosswalk_kept;
	char stored_digest[65]; /* when crosswalk_kept */
	char id[64];
	char version[40];
	char digest[65];
	size_t requirements;
};

/*
 * Lints the scheme text (findings, including those that need the database,
 * go to report) and imports it. On error nothing is written. A mapping to a
 * scheme version that is not imported, or to a ref it does not have, is an
 * error (CF_EINVAL, the finding in report).
 */
cf_err catalog_import(struct db *db, const struct audit_actor *actor, const char *text, size_t len,
		      const char *filename, struct lint_report *report, struct catalog_import *out,
		      struct cf_error *err) CF_MUST_CHECK;

/* {"items": [{"id", "title", "latest", "versions": [...]}]} (new reference). */
cf_err catalog_list(struct db *db, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* One scheme with its versions, newest import first. CF_ENOTFOUND if unknown. */
cf_err catalog_scheme(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* A version's metadata, classes, keywords, sections (with counts); version
 * NULL or "latest" means the most recently imported. */
cf_err catalog_version(struct db *db, const char *id, const char *version, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;

struct catalog_page {
	const char *section;  /* filter, may be NULL */
	const char *keyword;  /* primary or secondary keyword, case-insensitive; may be NULL */
	const char *after;    /* ref of the last item of the previous page, may be NULL */
	int limit;            /* 1..500 */
};

/* {"items": [requirement...], "next": ref or null}. */
cf_err catalog_requirements(struct db *db, const char *id, const char *version,
			    const struct catalog_page *page, json_t **out,
			    struct cf_error *err) CF_MUST_CHECK;

struct checklist_query {
	bool by_levels;       /* derive the class from the levels below */
	int class_number;     /* when !by_levels */
	enum scheme_level confidentiality, integrity, availability;
};

/* The checklist for a class: every requirement marked mandatory or
 * advisory, grouped by secondary keyword. */
cf_err catalog_checklist(struct db *db, const char *id, const char *version,
			 const struct checklist_query *q, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* The derived class for declared levels, from the stored classes. */
cf_err catalog_derive_class(struct db *db, const char *id, const char *version,
			    enum scheme_level c, enum scheme_level i, enum scheme_level a, int *out,
			    struct cf_error *err) CF_MUST_CHECK;

/* Mappings between two versions, declared on either side. */
cf_err catalog_crosswalk(struct db *db, const char *from_id, const char *from_version,
			 const char *to_id, const char *to_version, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* The stored canonical document (new reference), its digest and import
 * time. */
cf_err catalog_document(struct db *db, const char *id, const char *version, json_t **doc,
			char digest[65], char imported_at[40], struct cf_error *err) CF_MUST_CHECK;

/* Splits "id@version" (or "id" alone: version NULL) into id and version
 * buffers. */
cf_err catalog_split_ref(const char *ref, char id[64], char version[40], bool *has_version,
			 struct cf_error *err) CF_MUST_CHECK;

#endif
