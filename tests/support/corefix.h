/*
 * corefix: a database for the unit suites of the domain modules, which call
 * core/ directly (no conformd, no HTTP). corefix_open clones the migrated
 * template, imports the shipped schemes and makes the scheme owner (as
 * conformctl does: the real binary); corefix_demo adds, through conformctl
 * demo and a real conform-signer, an accreditation body, an assessment body
 * with its key and accreditation for dcms-cop, a manufacturer, their people
 * and one issued certificate, and finds them again as principals.
 */
#ifndef CONFORM_COREFIX_H
#define CONFORM_COREFIX_H

#include <stdbool.h>

#include <jansson.h>

#include "db.h"
#include "party.h"
#include "testdb.h"
#include "testsrv.h"

struct corefix {
	struct testdb db;
	struct db *conn;          /* as conformd's runtime role */
	struct audit_actor cli;   /* conformctl's actor: acts as the scheme owner */
	struct principal admin;   /* the scheme owner's admin */
	/* corefix_demo: */
	bool demo;
	struct testsigner signer;
	char public_url[128];
	char serial[40];          /* the issued certificate */
	char application[37];     /* its application (decided) */
	char product[37];
	char accreditation[37];   /* the body's, for dcms-cop */
	char kid[48];             /* the body's certificate key */
	struct principal accreditor, ab_admin, assessor, certifier, body_admin, applicant, maker_admin;
};

void corefix_open(struct corefix *f, const char *suite);
void corefix_demo(struct corefix *f);
/* After corefix_demo: conformctl demo once more (new organisations, people,
 * key, accreditation and certificate); the new serial in serial. The
 * fixture's principals and ids stay those of the first. */
void corefix_demo_again(struct corefix *f, char serial[40]);
/* Stops the signer (if started), closes the connection, drops the database. */
void corefix_close(struct corefix *f);

/* The principal of a user of the fixture's database, looked up by id. */
void corefix_principal(struct corefix *f, const char *user_id, struct principal *out);

/* Runs SQL with parameters as the superuser; the first value of the first row
 * into out (size bytes; "" when no row or NULL). */
void corefix_value(struct corefix *f, char *out, size_t size, const char *sql, int n,
		   const char *const *params);

/* Parses text as JSON (aborts the test when it does not parse). New reference. */
json_t *corefix_json(const char *text);

/* Asserts that a core call returned code (CF_OK included) and, for an error,
 * that err names pointer (NULL: any) and its detail contains part (NULL:
 * any). what names the call in the failure message. */
void corefix_expect(const char *what, cf_err got, const struct cf_error *err, cf_err code,
		    const char *pointer, const char *part);

#endif
