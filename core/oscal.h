/*
 * oscal: a scheme version as an OSCAL 1.1 catalog in JSON, so that GRC
 * tools can load it: sections become groups, requirements controls with a
 * statement part; applicability, keywords, conditions, guidance and mappings
 * are props and parts in conform's own namespace.
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

#endif
