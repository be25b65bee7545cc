/*
 * application: applications for certification and their state machine.
 *
 *   draft -submit-> submitted -take-> in_evaluation <-request-info/resubmit-> info_requested
 *   in_evaluation -complete-> evaluated -decide-> decided (approved | rejected)
 *   draft -declare-> decided            (a self declaration: no body)
 *   any state before decided -withdraw-> withdrawn
 *   in_evaluation | info_requested -reassign-> (unchanged)   (the body's lead hands
 *                                                         it to another assessor)
 *
 * Every transition is a row of one table (application_transitions): its
 * action, from and to states, the role that takes it and the side of the
 * application that role must belong to, the assessment type it belongs to,
 * its guard (what it asks of the application and the caller) and its own
 * change. application_act looks the row up, checks the role and membership,
 * If-Match (the application's version) and the state, runs the guard, then
 * the row's change and the change common to all: the state, an event, one
 * audit record. Anything the table does not allow is CF_ESTATE naming the
 * state and the actions it allows. One transition = one transaction.
 */
#ifndef CONFORM_APPLICATION_H
#define CONFORM_APPLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"

enum app_kind { APP_ANY, APP_THIRD_PARTY, APP_SELF };

/* Which party of the application the role of a transition must belong to. */
enum app_side { APP_MANUFACTURER, APP_BODY };

struct application_row;

/*
 * An action being taken: the application as loaded (locked) in the
 * action's transaction, the caller, and what the request body says (each
 * NULL when not given). All borrowed.
 */
struct app_act {
	const struct application_row *a;
	const struct principal *p;
	const char *message, *decision, *rationale, *statement, *assessor_id, *reason;
};

/*
 * What a transition's own change leaves for the change common to all: who
 * holds the application afterwards (take, reassign; NULL otherwise), the
 * event's message (preset to message, rationale or statement), details for
 * the audit record (a new reference or NULL; the caller frees it), and
 * whether this is the submission (submitted_at is set).
 */
struct app_step {
	const char *holder;
	const char *said;
	json_t *details;
	bool submitted;
};

/* A transition's guard: CF_OK when the application and the caller meet
 * what the transition asks; otherwise the error the caller gets. It reads
 * and never writes, so it may be called outside a transaction. */
typedef cf_err (*app_guard_fn)(struct db *db, const struct app_act *x, struct cf_error *err);

/* A transition's own change, run after its guard passed, inside the
 * action's transaction. */
typedef cf_err (*app_apply_fn)(struct db *db, const struct app_act *x, struct app_step *step,
			       struct cf_error *err);

struct app_transition {
	const char *action;  /* as in POST /v1/applications/{id}/actions/{action} */
	const char *from;
	const char *to;
	unsigned role;       /* ROLE_* that may take it */
	enum app_side side;  /* the caller's organisation is the application's manufacturer or body */
	enum app_kind kind;  /* which assessment type it belongs to */
	app_guard_fn guard;  /* NULL: it asks nothing more */
	app_apply_fn apply;  /* NULL: nothing changes but the state */
	bool hand_over;      /* its body names assessor_id and reason (no other action's does) */
};

/* The transition table and the states, for the API, the docs and the tests. */
const struct app_transition *application_transitions(size_t *n);
const char *const *application_states(size_t *n);

/* The columns of an application that the rules look at. */
struct application_row {
	char id[37];
	long long number;
	char product_id[37];
	char manufacturer_id[37];
	char scheme_id[64];
	char scheme_version[40];
	int class_number;
	char assessment_type[16];
	char body_id[37];      /* "" for a self declaration */
	char state[20];
	int version;
	char assessor_id[37];  /* "" until taken */
	bool submitted;        /* it has been submitted to its body */
};

/* Loads an application (FOR UPDATE inside a transaction when lock). */
cf_err application_load(struct db *db, const char *id, bool lock, struct application_row *out,
			struct cf_error *err) CF_MUST_CHECK;

/*
 * Creates a draft for a product of the caller's organisation. body: {product_id,
 * scheme_id, scheme_version, confidentiality, integrity, availability (or
 * class, for a scheme without classes), assessment_type, body_id (third-party),
 * owners, carried_from or supersedes and change (core/carry.h)}. The class
 * is derived from the security objectives. evidence_quota bounds what the
 * organisation's evidence may hold after a carry copies it
 * (APPLICATION_NO_QUOTA: no bound).
 */
#define APPLICATION_NO_QUOTA UINT64_MAX
cf_err application_create(struct db *db, const struct principal *p, const json_t *body,
			  uint64_t evidence_quota, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Changes owners or body_id of a draft (or owners while info is requested). */
cf_err application_update(struct db *db, const struct principal *p, const char *id,
			  const char *if_match, const json_t *body, json_t **out,
			  struct cf_error *err) CF_MUST_CHECK;

/* The application with the status of every requirement of its checklist. */
cf_err application_get(struct db *db, const char *id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Applications the caller may see: an applicant its organisation's, body
 * staff those submitted to their body, an admin all. state may be NULL;
 * after is the number of the last one of the previous page (0: from the
 * start).
 */
cf_err application_list(struct db *db, const struct principal *p, const char *state,
			long long after, int limit, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Sets the answer to one requirement: {statement, text, justification}. */
cf_err application_answer(struct db *db, const struct principal *p, const char *id, const char *ref,
			  const json_t *body, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Takes an action (a transition). if_match is the If-Match header (NULL:
 * CF_EPRECOND_REQ). body: {message} for most actions; {decision, rationale}
 * for decide; {statement} for declare. *out is the application afterwards.
 */
cf_err application_act(struct db *db, const struct principal *p, const char *id, const char *action,
		       const char *if_match, const json_t *body, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;

/* Who an application belongs to, for the authorisation rules: the
 * manufacturer, and the body once it has been submitted to it ("" before,
 * unless named is set: then the body it names, in any state). */
cf_err application_parties(struct db *db, const char *id, char manufacturer[37], char body[37],
			   bool named, struct cf_error *err) CF_MUST_CHECK;

/*
 * CF_ESTATE, naming the requirement, if the assessor has settled any of the
 * requirements in refs (comma-separated, may be NULL) or those evidence_id
 * (may be NULL) is linked to: a settled requirement, whose latest verdict is
 * pass, fail or not_applicable, keeps the answer and evidence it was judged
 * on. The database refuses the change too (0007_review_integrity.sql); this
 * says so first, plainly.
 */
cf_err application_check_unsettled(struct db *db, const struct application_row *a, const char *refs,
				   const char *evidence_id, struct cf_error *err) CF_MUST_CHECK;

/* CF_OK when if_match (the If-Match header) names version, the
 * application's current one (or is "*"); CF_EPRECOND_REQ when NULL,
 * CF_EPRECONDITION when stale: for changes made outside this module (an
 * Annex B import, core/ics.h). */
cf_err application_if_match(const char *if_match, int version, struct cf_error *err) CF_MUST_CHECK;

/* CF_OK while the manufacturer's side of a may change (a draft, or
 * information requested); else CF_ESTATE saying that what ("answers
 * change", "evidence is added") waits for those states and naming a's
 * state: answers, evidence and the Annex B import (core/ics.h) alike. */
cf_err application_open_for(const struct application_row *a, const char *what,
			    struct cf_error *err) CF_MUST_CHECK;

/* The ETag text of a version: "\"7\"". */
void application_etag(int version, char out[24]);

#endif
