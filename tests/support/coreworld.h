/*
 * coreworld: a populated conform for the unit suites of the domain modules,
 * made with the core functions themselves (no conformd, no HTTP) in the
 * suite's own throwaway database: dcms-cop imported; an accreditation body,
 * an assessment body accredited for dcms-cop and another that is not, two
 * manufacturers; each organisation's administrator and people; a product.
 * The principals are what party_authenticate would make of their tokens.
 */
#ifndef CONFORM_COREWORLD_H
#define CONFORM_COREWORLD_H

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"
#include "testdb.h"

struct coreworld {
	struct testdb tdb;
	struct db *db;
	/* organisations */
	char accreditation_body[37], body[37], other_body[37], maker[37], other_maker[37];
	char accreditation[37]; /* the body's, for dcms-cop */
	char product[37];       /* the maker's */
	/* people: administrators and staff */
	struct principal ab_admin, body_admin, other_body_admin, maker_admin, other_maker_admin;
	struct principal accreditor, assessor, assessor2, certifier, certifier2, applicant,
		other_applicant, other_assessor, other_certifier;
};

/* Makes the world in a fresh database for suite; aborts the test on failure. */
void coreworld_create(struct coreworld *w, const char *suite);
void coreworld_destroy(struct coreworld *w);

/* A person with one role in the organisation of admin, made by admin. */
void coreworld_person(struct coreworld *w, const struct principal *admin, const char *role,
		      const char *name, struct principal *out);

/*
 * A dcms-cop application of the maker (assessment_type "third-party" to
 * w->body, or "self"), moved to state by the world's people: answered
 * compliant, submitted, taken by assessor, info requested (every verdict
 * info_needed) or evaluated (every verdict pass), decided (approved by
 * certifier; a self declaration is declared), or withdrawn. id in out.
 */
void coreworld_application(struct coreworld *w, const char *type, const char *state, char id[37]);

/* Takes an action as p with the application's current version as If-Match;
 * body_text may be NULL ({}). The application afterwards is dropped. */
cf_err coreworld_act(struct coreworld *w, const struct principal *p, const char *id,
		     const char *action, const char *body_text, struct cf_error *err);

/* coreworld_act that must succeed. */
void coreworld_act_ok(struct coreworld *w, const struct principal *p, const char *id,
		      const char *action, const char *body_text);

/* Answers every requirement DCMS-1..13 with statement (as the applicant). */
void coreworld_answer_all(struct coreworld *w, const char *id, const char *statement);

/* Records verdict on DCMS-first..last as p (a comment always). */
cf_err coreworld_verdicts(struct coreworld *w, const struct principal *p, const char *id, int first,
			  int last, const char *verdict, struct cf_error *err);

/* The state of an application, as loaded now (valid until the next call). */
const char *coreworld_state(struct coreworld *w, const char *id);

/* The first value of sql's first row as a number (a count), run as the
 * superuser; param is $1 (NULL: sql takes none). */
long long coreworld_count(struct coreworld *w, const char *sql, const char *param);

/* Asserts that e is code, with err's pointer ("" for NULL) and a detail
 * holding words. */
void coreworld_refused(cf_err e, const struct cf_error *err, enum cf_code code, const char *pointer,
		       const char *words);

#endif
