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
 * What a decision asks, in this order (the first failure is the error):
 * for a body's decision (not self_declaration), a decider who neither held
 * the application for evaluation (took it, or was handed it by a
 * reassignment) nor recorded a verdict on it (CF_EFORBIDDEN, ISO/IEC 17065
 * 7.5); a rationale, or for a self declaration its statement (CF_EINVAL);
 * for a body's approval, every mandatory requirement's current verdict pass
 * or not applicable (CF_EUNPROCESSABLE). Reads only.
 */
cf_err decision_check(struct db *db, const struct application_row *a, const struct principal *p,
		      bool approve, const char *rationale, bool self_declaration,
		      struct cf_error *err) CF_MUST_CHECK;

/*
 * Records the decision, with the digest of the current evidence set, inside
 * the caller's transaction, once decision_check passed. self_declaration:
 * the applicant declares conformity of a self-assessed application. The
 * database checks it again (migrations 0005, 0007): independence, the
 * decider's role and body, accreditation cover.
 */
cf_err decision_record(struct db *db, const struct application_row *a, const struct principal *p,
		       bool approve, const char *rationale, bool self_declaration,
		       struct cf_error *err) CF_MUST_CHECK;

/* The decision of an application as JSON, or JSON null (new reference). */
cf_err decision_get(struct db *db, const char *application_id, json_t **out,
		    struct cf_error *err) CF_MUST_CHECK;

#endif
