/*
 * accreditation: which assessment body may certify for which scheme,
 * versions and classes, and when. Granted by an accreditation body; then
 * suspended, reinstated or withdrawn (final), each with a reason, as
 * append-only events. Whether a body covers a scheme version and class at a
 * time is answered by one SQL function (conform_covers), which the C code
 * and the database's own checks share.
 */
#ifndef CONFORM_ACCREDITATION_H
#define CONFORM_ACCREDITATION_H

#include <stdbool.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"

/*
 * Grants an accreditation on behalf of the actor's organisation (which must
 * be an accreditation body). body: {body_id, scheme_id, versions?: {from?,
 * to?}, max_class, reference, valid_from, valid_until}.
 */
cf_err accreditation_grant(struct db *db, const struct audit_actor *actor, const json_t *body,
			   json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * action is "suspend", "reinstate" or "withdraw"; body {reason, effective_at?}
 * (default now; never before the last event, never in the past). Illegal
 * transitions are CF_ESTATE naming the state.
 */
cf_err accreditation_change(struct db *db, const struct audit_actor *actor, const char *id,
			    const char *action, const json_t *body, json_t **out,
			    struct cf_error *err) CF_MUST_CHECK;

/* One accreditation with its status now and its history. */
cf_err accreditation_get(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Accreditations granted by accreditor (NULL: all), optionally of one body
 * or scheme. */
cf_err accreditation_list(struct db *db, const char *accreditor, const char *body_id,
			  const char *scheme_id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Does body cover scheme@version at class at time at (NULL: now)? */
cf_err accreditation_covers(struct db *db, const char *body_id, const char *scheme_id,
			    const char *version, int class_number, const char *at, bool *out,
			    struct cf_error *err) CF_MUST_CHECK;

/* The organisation that granted accreditation id. */
cf_err accreditation_grantor(struct db *db, const char *id, char org_id[37],
			     struct cf_error *err) CF_MUST_CHECK;

/* The public directory: assessment bodies and their accreditations. */
cf_err accreditation_bodies(struct db *db, json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err accreditation_body(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
