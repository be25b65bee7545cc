/*
 * cast: the people and things of a domain unit test, made by calling core/
 * directly (no conformd, no HTTP) in a fresh database: the dcms-cop scheme,
 * an accreditation body, an assessment body accredited for it, two
 * manufacturers, a person in each role and a product. Applications are then
 * walked to the state a test needs with the same core calls. Every call
 * that fails aborts the test with its message.
 */
#ifndef CONFORM_CAST_H
#define CONFORM_CAST_H

#include <jansson.h>
#include <libpq-fe.h>

#include "db.h"
#include "party.h"
#include "testdb.h"

struct cast {
	struct testdb tdb;
	struct db *db;                /* conform_app, as conformd connects */
	struct audit_actor cli;       /* conformctl's actor (acts as the scheme owner) */
	struct principal maker_admin, maker2_admin, body_admin, ab_admin;
	struct principal applicant, applicant2, assessor, certifier, accreditor;
	char accreditation[37];       /* the body's, for dcms-cop */
	char product[37];             /* the applicant's */
	char blobs[64];               /* a scratch blob store root */
};

/* Builds the cast in a new database named after suite. */
void cast_create(struct cast *c, const char *suite);
void cast_destroy(struct cast *c);

/* Imports the scheme file at relative (to the source tree) as conformctl
 * does. */
cf_err cast_import(struct cast *c, const char *relative, struct cf_error *err);

/* The UTC time offset_days from now, RFC 3339 ("2026-12-03T10:00:00Z"). */
void cast_day(char *out, size_t size, int offset_days);

/* A new organisation of kind with its first administrator (in *admin). */
void cast_org(struct cast *c, const char *kind, const char *name, struct principal *admin);

/* A person with roles (a JSON array text), made by the organisation's
 * administrator. */
void cast_person(struct cast *c, const struct principal *admin, const char *roles,
		 struct principal *out);

/*
 * A DCMS third-party application of the applicant to the body, moved to
 * state: draft, submitted, in_evaluation (taken by the assessor) or
 * info_requested (every requirement info_needed but those in pass, a
 * comma-separated list of refs judged pass first; may be NULL).
 */
void cast_application(struct cast *c, const char *state, const char *pass, char id[37]);

/* Moves a draft made by cast_application to state (as there). */
void cast_advance(struct cast *c, const char *id, const char *state, const char *pass);

/* Takes an action on the application with its current ETag; body may be NULL. */
void cast_act(struct cast *c, const struct principal *who, const char *id, const char *action,
	      const char *body);

/* Records one verdict (and comment) of the assessor. */
void cast_verdict(struct cast *c, const char *id, const char *ref, const char *verdict);

/* The one value of a query run as the superuser with parameters (a new
 * string; NULL for SQL NULL or no row). */
char *cast_value(struct cast *c, const char *sql, int n, const char *const *params);

/* cast_value as a number (0 for none). */
long long cast_count(struct cast *c, const char *sql, int n, const char *const *params);

#endif
