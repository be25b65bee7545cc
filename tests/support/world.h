/*
 * world: a populated conform for integration tests: the shipped schemes,
 * the scheme owner and its admin (through conformctl bootstrap), an
 * accreditation body, an assessment body accredited for dcms-cop and
 * iotsf-cf, two manufacturers, their people and a token for each person.
 * As in a real deployment, the scheme owner's admin makes each organisation
 * and its first administrator (org_admin) only; that administrator makes
 * the organisation's people and hands them their first tokens.
 */
#ifndef CONFORM_WORLD_H
#define CONFORM_WORLD_H

#include <jansson.h>

#include "proc.h"
#include "testdb.h"
#include "testsrv.h"

struct actor {
	char user[37];
	char org[37];
	char token[64];
};

struct world {
	struct testdb db;
	struct testsrv srv;
	struct actor admin, accreditor, assessor, assessor2, certifier, certifier2, applicant,
		applicant2;
	/* every organisation's first administrator (org_admin), made by the
	 * scheme owner's admin with the organisation; each organisation's other
	 * people are made, and given their first token, by its administrator */
	struct actor body_admin;  /* of the assessment body (the certifier's) */
	struct actor ab_admin;    /* of the accreditation body */
	struct actor maker_admin, maker2_admin; /* of the applicant's and applicant2's */
	struct actor *org_admins[32]; /* by organisation, for world_person */
	int norg_admins;
	char accreditation_dcms[37];
	char accreditation_iotsf[37];
	json_t *secrets; /* every token handed out, for the tests that look for leaks */
	char keys_dir[64];       /* a scratch directory for key files and conformctl's data */
	struct testsigner signer; /* holds the body's and the log's private keys */
	char body_kid[48];
	char log_kid[48];
};

/* Builds the world in a fresh database and starts conformd (extra_env as
 * for testsrv_start). */
void world_create(struct world *w, const char *suite, const char *const *extra_env);
void world_destroy(struct world *w);

/* Makes a person with roles (a JSON array text such as "[\"assessor\"]") in
 * org and a token for them, as a real organisation does: its administrator
 * (world_org_admin) makes them and hands them their first token; the
 * scheme owner's admin for its own organisation. */
void world_person(struct world *w, struct actor *a, const char *org, const char *roles,
		  const char *name);

/* A fresh organisation of kind, with its first administrator (made by the
 * scheme owner's admin, who hands them their first token); returns its id
 * in out. */
void world_org(struct world *w, const char *kind, const char *name, char out[37]);

/* The administrator (org_admin) of an organisation made by world_org, or the
 * scheme owner's admin for the scheme owner. */
const struct actor *world_org_admin(struct world *w, const char *org);

/* Grants an accreditation to body_org for scheme (all versions) up to
 * max_class, valid from yesterday for three years; id in out. */
void world_accredit(struct world *w, const char *body_org, const char *scheme, int max_class,
		    char out[37]);

/* A product of the applicant's organisation (made once, then reused). */
const char *world_product(struct world *w);

/*
 * A DCMS third-party application of the applicant to the certifier's body,
 * moved to state (draft, submitted, in_evaluation, info_requested,
 * evaluated, decided or withdrawn) by the people of the world: taken and
 * evaluated by assessor, decided (approved) by certifier.
 */
void world_application(struct world *w, const char *state, char id[37]);

/* Issues the certificate of a freshly approved application; serial in out. */
void world_certificate(struct world *w, char serial[40]);

/* Supersedes certificate old_serial by new_serial as the world's certifier,
 * with core's certificate_supersede in a transaction of its own over
 * conformd's role (there is no route: issuing a change application's
 * certificate does it). Aborts the test on failure. */
void world_supersede(struct world *w, const char *old_serial, const char *new_serial);

/* Waits (up to 10 s) until the log's signed tree head covers size entries. */
void world_wait_checkpoint(struct world *w, long long size);

/* Runs conformctl with the world's database and signer. */
void world_ctl(struct world *w, struct proc_result *r, const char *const *args);

/* The application's current ETag. */
void world_etag(struct world *w, const char *id, char out[24]);

/* Takes an action with the current ETag; asserts the status. */
json_t *world_act(struct world *w, const char *id, const struct actor *who, const char *action,
		  const char *body_text, long expect);

#endif
