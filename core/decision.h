/*
 * decision: the certification decision (ISO/IEC 17065 7.6) and the
 * manufacturer's self declaration, with the digest of the evidence set they
 * rest on. The database checks the decision again (migrations/0005): a
 * certifier of the body who recorded no verdict, under accreditation cover.
 */
#ifndef CONFORM_DECISION_H
#define CONFORM_DECISION_H

#include <stdbool.h>

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"

struct application_row;

/*
 * The SHA-256 (hex) of the application's current evidence set: the
 * canonical JSON array of {digest, name, refs} of every evidence file not
 * superseded, ordered by digest and name.
 */
cf_err decision_evidence_digest(struct db *db, const char *application_id, char out[65],
				struct cf_error *err) CF_MUST_CHECK;

/*
 * Records the decision inside the caller's transaction. approve is refused
 * (CF_EUNPROCESSABLE) unless every mandatory requirement passed (or was
 * found not applicable); rationale is required. self_declaration: the
 * applicant declares conformity of a self-assessed application.
 */
cf_err decision_record(struct db *db, const struct application_row *a, const struct principal *p,
		       bool approve, const char *rationale, bool self_declaration,
		       struct cf_error *err) CF_MUST_CHECK;

/* The decision of an application as JSON, or JSON null (new reference). */
cf_err decision_get(struct db *db, const char *application_id, json_t **out,
		    struct cf_error *err) CF_MUST_CHECK;

#endif
