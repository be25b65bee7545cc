/*
 * coverage: "does this certificate satisfy X?" For a certificate and a
 * target scheme version, each target requirement is covered, partly covered
 * or not covered by the settled verdicts of the certificate's application,
 * through the typed crosswalk stored with the two scheme versions (declared
 * on either side), with an overall answer. The rule (docs/scheme-format.md,
 * "Coverage"):
 *
 * - a route is one mapping linking the target requirement to source
 *   requirements; it *carries* when its relationship is sound (the sources
 *   taken together are equivalent to or a superset of the target: a source
 *   `equivalent-to`/`superset-of` its targets, or a target `equivalent-to`/
 *   `subset-of` its sources) and every one of its sources has a settled
 *   `pass`;
 * - covered: some route carries; partly covered: no route carries, but some
 *   route has a source with a settled `pass` or `not_applicable` (an
 *   assessor decides); not covered: neither;
 * - within one scheme version each requirement is its own route
 *   (`equivalent-to`, declared by "identity").
 */
#ifndef CONFORM_COVERAGE_H
#define CONFORM_COVERAGE_H

#include <jansson.h>

#include "db.h"
#include "error.h"

/*
 * The coverage of target_id@target_version by certificate serial (*out, new
 * reference): {certificate, certificate_status, source: {scheme, digest},
 * target: {scheme, digest}, overall, counts: {covered, partly_covered,
 * not_covered}, requirements: [{ref, title, mandatory_from_class, status,
 * routes: [{declared_by, relationship, sound, carries, note, verdicts:
 * [{ref, verdict}]}]}]}. CF_ENOTFOUND for an unknown certificate or a target
 * version that is not imported.
 */
cf_err coverage_certificate(struct db *db, const char *serial, const char *target_id,
			    const char *target_version, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The same for an application's current settled verdicts (its evaluation
 * may be under way: a verdict can still change): {application,
 * application_state, source, target, overall, counts, requirements}. Who may
 * read it is the caller's check (the route's, as for the application).
 * CF_ENOTFOUND for an unknown application or target version.
 */
cf_err coverage_application(struct db *db, const char *id, const char *target_id,
			    const char *target_version, json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
