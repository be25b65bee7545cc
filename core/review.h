/*
 * review: the assessor's verdicts, requirement by requirement (pass, fail,
 * not applicable, information needed), kept as an append-only history; the
 * current verdict of a requirement is its latest.
 */
#ifndef CONFORM_REVIEW_H
#define CONFORM_REVIEW_H

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"

/*
 * Records verdicts on an application in evaluation, by the assessor who
 * took it. body: {"verdicts": [{ref, verdict, comment}, ...]} or one
 * {ref, verdict, comment}. info_needed needs its question in comment. One
 * transaction, one audit record.
 */
cf_err review_record(struct db *db, const struct principal *p, const char *application_id,
		     const json_t *body, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Every verdict ever recorded on the application, oldest first. */
cf_err review_history(struct db *db, const char *application_id, json_t **out,
		      struct cf_error *err) CF_MUST_CHECK;

#endif
