/*
 * oscal: a scheme version as an OSCAL 1.1 catalog in JSON, so that GRC
 * tools can load it: sections become groups, requirements controls with a
 * statement part; applicability, keywords, conditions, guidance and mappings
 * are props and parts in conform's own namespace. And a decided application
 * as an OSCAL 1.1 assessment-results document whose findings target those
 * controls.
 */
#ifndef CONFORM_OSCAL_H
#define CONFORM_OSCAL_H

#include <jansson.h>

#include "error.h"

#define OSCAL_VERSION "1.1.3"
#define OSCAL_NS "urn:conform:oscal"

/*
 * Builds {"catalog": ...} from a linted scheme document, its digest (hex)
 * and its import time (RFC 3339). The catalog's uuid is a version 5 UUID of
 * the scheme version and digest, so the same version always exports alike.
 * *out is a new reference.
 */
cf_err oscal_catalog(const json_t *doc, const char *digest, const char *imported_at, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/* The OSCAL control id of a requirement ref ("5.1-1" -> "req-5.1-1"). */
void oscal_control_id(const char *ref, char *out, size_t size);

struct db;

/*
 * Builds {"assessment-results": ...} of a decided application: metadata
 * (the manufacturer, the body and the people as parties), import-ap (the
 * scheme version's OSCAL catalog under public_url: conform keeps no
 * separate assessment plan, the checklist is the plan), and one result:
 * reviewed-controls (every requirement of the checklist), one observation
 * per evidence file the decision was based on (relevant-evidence: its href
 * and SHA-256), one finding per requirement with a settled verdict (from
 * current_verdict: pass -> satisfied, fail -> not-satisfied,
 * not_applicable -> satisfied with implementation-status not-applicable),
 * and the decision as an attestation. Every uuid is a version 5 UUID of
 * what it names, so an export is reproducible. An application that is not
 * decided is CF_ESTATE. public_url is as the configuration keeps it, with
 * no trailing '/' (core/config.c), or "" (hrefs are then paths).
 * *out is a new reference.
 */
cf_err oscal_assessment_results(struct db *db, const char *public_url, const char *application_id,
				json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
