/*
 * coreworld: the one fixture of the domain unit suites (tests/unit/), which
 * call core/ directly (no conformd, no HTTP), each in its own throwaway
 * database. Two ways to make the world, one struct:
 *
 * - coreworld_create makes it with the core functions themselves: dcms-cop
 *   (and the two schemes its crosswalk points at, etsi-en-303-645 and iotsf-cf)
 *   imported; an accreditation body, an assessment body accredited for
 *   dcms-cop, two manufacturers; each organisation's
 *   administrator and people; a product. Applications are then walked to the
 *   state a test needs with the same core calls. coreworld_unaccredited
 *   adds an assessment body that is not accredited, with its people.
 * - coreworld_open makes it as an operator does, with the real conformctl:
 *   the shipped schemes imported and the scheme owner bootstrapped;
 *   coreworld_demo then adds, through `conformctl demo` and a real
 *   conform-signer, an accreditation body, an assessment body with its key
 *   and accreditation for dcms-cop, a manufacturer, their people and one
 *   issued (signed) certificate, and finds them again as principals.
 *
 * The principals are what party_authenticate would make of their tokens.
 * Every call that fails aborts the test with its message.
 */
#ifndef CONFORM_COREWORLD_H
#define CONFORM_COREWORLD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "db.h"
#include "error.h"
#include "party.h"
#include "testdb.h"
#include "testsrv.h"

struct coreworld {
	struct testdb tdb;
	struct db *db;          /* conform_app, as conformd connects */
	struct audit_actor cli; /* conformctl's actor (acts as the scheme owner) */
	char blobs[64];         /* a scratch blob store root (coreworld_create) */
	/* organisations (coreworld_demo: the first three; other_body:
	 * coreworld_unaccredited) */
	char accreditation_body[37], body[37], maker[37], other_body[37], other_maker[37];
	char accreditation[37]; /* the body's, for dcms-cop */
	char product[37];       /* the maker's */
	/* people: administrators and staff (coreworld_demo: those of its
	 * organisations, one of each role) */
	struct principal ab_admin, body_admin, maker_admin, other_body_admin, other_maker_admin;
	struct principal accreditor, assessor, certifier, applicant;
	struct principal assessor2, certifier2, other_applicant;
	struct principal other_assessor, other_certifier; /* other_body's */
	/* coreworld_open: */
	struct principal admin; /* the scheme owner's administrator */
	/* coreworld_demo: */
	bool demo;
	struct testsigner signer;
	char public_url[128];
	char serial[40];      /* the issued certificate */
	char application[37]; /* its application (decided) */
	char kid[48];         /* the body's certificate key */
};

/* Makes the world through core/ in a fresh database for suite. */
void coreworld_create(struct coreworld *w, const char *suite);
/* After coreworld_create: an assessment body not accredited for anything
 * (other_body), its administrator, an assessor and a certifier. Apart, so
 * that a suite that counts organisations sees only the four it expects. */
void coreworld_unaccredited(struct coreworld *w);
/* A fresh database for suite with the shipped schemes and the scheme owner,
 * made by conformctl. */
void coreworld_open(struct coreworld *w, const char *suite);
/* After coreworld_open: conformctl demo against a real conform-signer. */
void coreworld_demo(struct coreworld *w);
/* After coreworld_demo: conformctl demo once more (new organisations,
 * people, key, accreditation and certificate); the new serial in serial. The
 * world's principals and ids stay those of the first. */
void coreworld_demo_again(struct coreworld *w, char serial[40]);
/* Stops the signer (if started), closes the connection, drops the database
 * and the blob store. */
void coreworld_destroy(struct coreworld *w);

/* Imports the scheme file at relative (to the source tree) as conformctl
 * does. */
cf_err coreworld_import(struct coreworld *w, const char *relative, struct cf_error *err);

/* A person with one role in the organisation of admin, made by admin. */
void coreworld_person(struct coreworld *w, const struct principal *admin, const char *role,
		      const char *name, struct principal *out);

/* The principal of a user of the world's database, looked up by id. */
void coreworld_principal(struct coreworld *w, const char *user_id, struct principal *out);

/* The UTC time offset_days from now, RFC 3339 ("2026-12-03T10:00:00Z"). */
void coreworld_day(char *out, size_t size, int offset_days);

/*
 * A dcms-cop application of the maker (assessment_type "third-party" to
 * w->body, or "self"), moved to state by the world's people as
 * coreworld_advance does; a self declaration can only be "draft",
 * "withdrawn" or "decided" (declared). id in out.
 */
void coreworld_application(struct coreworld *w, const char *type, const char *state, char id[37]);

/*
 * Moves a third-party draft to state: answered compliant, submitted, taken
 * by assessor ("in_evaluation"), info requested (DCMS-1..passed judged pass,
 * every other info_needed) or evaluated (every verdict pass), decided
 * (approved by certifier), or withdrawn. passed counts only for
 * "info_requested".
 */
void coreworld_advance(struct coreworld *w, const char *id, const char *state, int passed);

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

/* Runs sql with parameters as the superuser; the first value of the first
 * row into out (size bytes; "" when no row or NULL). */
void coreworld_value(struct coreworld *w, char *out, size_t size, const char *sql, int n,
		     const char *const *params);

/* The first value of sql's first row as a number (a count; 0 for none), run
 * as the superuser; param is $1 (NULL: sql takes none). */
long long coreworld_count(struct coreworld *w, const char *sql, const char *param);

/* Parses text as JSON (aborts the test when it does not parse). New
 * reference. */
json_t *coreworld_json(const char *text);

/* Asserts that a core call returned code (CF_OK included) and, for an error,
 * that err names pointer (NULL: any) and its detail contains part (NULL:
 * any). what names the call in the failure message. */
void coreworld_expect(const char *what, cf_err got, const struct cf_error *err, cf_err code,
		      const char *pointer, const char *part);

/* Asserts that e is code, with err's pointer ("" for NULL) and a detail
 * holding words. */
void coreworld_refused(cf_err e, const struct cf_error *err, enum cf_code code, const char *pointer,
		       const char *words);

#endif
