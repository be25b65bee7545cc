/*
 * carry: settled verdicts carried into a new application (issue 17).
 *
 * An application may start from a certificate of its own manufacturer:
 *
 * - carried_from: the settled verdicts behind the certificate are offered
 *   to the new application's assessor. Within the certificate's own scheme
 *   version each requirement offers its verdict (pass, fail or
 *   not_applicable); into another scheme version only a requirement the
 *   crosswalk covers soundly (core/coverage.h) is offered, as a pass.
 * - supersedes: a change application, for a new firmware or hardware
 *   version of the certified product. It carries from the certificate it
 *   will replace (same product, same scheme version), starts with that
 *   application's answers and evidence, and declares what changed: a
 *   description and, optionally, requirements the manufacturer knows are
 *   affected. When its certificate is issued, the old one is superseded.
 *
 * The assessor accepts an offer with the verdict "carried" (core/review.h),
 * which records the offered verdict naming its origin, or reviews the
 * requirement as any other. A requirement of a change application whose
 * answer or evidence differs from the one judged before, or that was
 * declared changed, cannot carry: it is reviewed anew. The database holds
 * to both rules (migration 0029). The certificate then states which
 * requirements were carried and which assessed anew (carry_statement).
 */
#ifndef CONFORM_CARRY_H
#define CONFORM_CARRY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "application.h"
#include "db.h"
#include "error.h"
#include "party.h"

/* What an application's creation asks to carry. Strings borrowed from the
 * request body. */
struct carry_request {
	const char *from;        /* the certificate's serial; NULL: nothing carried */
	bool change;             /* a change application: from is superseded */
	const char *description; /* change.description */
	const json_t *changed;   /* change.requirements (array of refs) or NULL */
	uint64_t quota;          /* the bytes of evidence the organisation may hold */
};

/* Reads carried_from, supersedes and change of an application's creation
 * body (both serials, when given, must be the same certificate). */
cf_err carry_parse(const json_t *body, struct carry_request *out, struct cf_error *err) CF_MUST_CHECK;

/* The certificate carried from, as carry_check found it. */
struct carry_origin {
	char application[37]; /* the certificate's application */
	char product[37];
	char scheme[64];
	char version[40];
};

/*
 * Inside the creation transaction, before application a is inserted (its
 * product_id, scheme_id, scheme_version, assessment_type and body_id set;
 * no id yet), for p: CF_OK when nothing is carried, or when the certificate
 * may be carried from: a third-party application; the caller's
 * organisation's certificate; valid (for a change, also suspended); for a
 * change the same product, scheme version and body, and no other change
 * application of it open.
 */
cf_err carry_check(struct db *db, const struct principal *p, const struct application_row *a,
		   const struct carry_request *rq, struct carry_origin *o, struct cf_error *err) CF_MUST_CHECK;

/*
 * Then, after the insert: records the carry in the application (once),
 * checks the declared requirements, copies the answers, owners and evidence when the scheme
 * version is the same, and records the offers. *details (new reference,
 * NULL when nothing is carried) is for the creation's audit record.
 */
cf_err carry_open(struct db *db, const struct principal *p, const struct application_row *a,
		  const struct carry_request *rq, const struct carry_origin *o, json_t **details,
		  struct cf_error *err) CF_MUST_CHECK;

/*
 * The offers of application id (*out, new reference): an object of ref ->
 * {verdict, origins: [{ref, verdict, verdict_id, relationship,
 * declared_by}], changed: null | "declared" | "answer" | "evidence",
 * acceptable}. Empty when nothing is carried.
 */
cf_err carry_offers(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Inside a review transaction on application a (in evaluation, taken by
 * p): records the verdict offered for ref, naming its origin, with
 * comment (may be NULL). ptr is the JSON pointer of the request's verdict,
 * for the error. *verdict is the verdict recorded (static). CF_EUNPROCESSABLE
 * when nothing is offered for ref, CF_ESTATE when it changed since it was
 * judged.
 */
cf_err carry_accept(struct db *db, const struct principal *p, const struct application_row *a,
		    const char *ref, const char *comment, const char *ptr, const char **verdict,
		    struct cf_error *err) CF_MUST_CHECK;

/*
 * CF_OK unless verdicts of application a were carried from a certificate
 * that no longer vouches for them (no longer valid; for a change
 * application, no longer valid or suspended): then CF_EUNPROCESSABLE at
 * pointer naming them, to be reviewed anew. Completing the evaluation and
 * approving check it.
 */
cf_err carry_sound(struct db *db, const struct application_row *a, const char *pointer,
		   struct cf_error *err) CF_MUST_CHECK;

/*
 * What the certificate of application id says of its assessment (*out, new
 * reference, NULL when it carried nothing from anywhere): {carriedFrom: the
 * origin certificate's URL, assessedAnew: [refs], carried: [{requirement,
 * verdict, source: [{requirement, relationship}]}]}; and *supersedes the
 * serial of the certificate it replaces ("" when none).
 */
cf_err carry_statement(struct db *db, const char *public_url, const char *id, json_t **out,
		       char supersedes[40], struct cf_error *err) CF_MUST_CHECK;

#endif
