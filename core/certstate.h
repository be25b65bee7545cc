/*
 * certstate: a certificate's effective status decided in memory, by the rule
 * of the SQL function conform_certificate_state (migrations 0011, 0015, 0028),
 * which stays the one definition: every surface that reads the database uses
 * it, and tests/integration/test_certstate checks this mirror against it case
 * by case. conformd uses the mirror where a database round trip per request
 * would be the cost (a certificate's answer on a cache miss, verification),
 * with the keys and accreditation events it holds in memory.
 *
 * Times are microseconds since the epoch (UTC).
 */
#ifndef CONFORM_CERTSTATE_H
#define CONFORM_CERTSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

/* What the certificate's row says. status: valid, suspended, withdrawn or superseded. */
struct certstate_row {
	const char *status;
	long long issued_us;
	long long valid_until_us;
};

/* Its key: compromised_us 0 when the key was never declared compromised. */
struct certstate_key {
	long long compromised_us;
};

/* One event of the accreditation it was issued under. The caller passes them
 * ordered as they happened: by effective time, then by seq. */
struct certstate_event {
	long long effective_us;
	const char *action;     /* granted, suspended, reinstated, withdrawn */
	const char *effective;  /* the same time as the API writes it (RFC 3339, seconds) */
};

struct certstate {
	const char *status;       /* key_compromised, withdrawn, superseded, expired, suspended, valid */
	const char *review;       /* NULL, accreditation_suspended or accreditation_withdrawn */
	const char *review_since; /* the event's time as written (borrowed from the event) */
	long long next_change_us; /* 0: the answer never changes by itself */
};

/* A signing key, as a holder of the mirror keeps it. */
struct certstate_keyrec {
	char kid[48];
	unsigned char pub[32];
	char org[37];               /* "" for the log's key */
	bool retired;
	long long compromised_us;   /* 0: never compromised */
	char compromised_since[40]; /* as the API writes it (microseconds) */
	char compromised_at[24];
};

/* An accreditation event, likewise. */
struct certstate_eventrec {
	char acc[37];
	char action[12];
	char effective[24];
	long long effective_us;
	int seq;
};

/* Every key, sorted by kid, and every accreditation event, sorted by
 * accreditation, time and seq: read in one snapshot. */
struct certstate_tables {
	struct certstate_keyrec *keys;
	size_t nkeys;
	struct certstate_eventrec *events;
	size_t nevents;
};

cf_err certstate_read(struct db *db, struct certstate_tables *out, struct cf_error *err) CF_MUST_CHECK;
void certstate_tables_free(struct certstate_tables *t);

/* The key kid in t, or NULL. */
const struct certstate_keyrec *certstate_find_key(const struct certstate_tables *t, const char *kid);

/* The events of accreditation acc in t: *n of them from the one returned. */
const struct certstate_eventrec *certstate_find_events(const struct certstate_tables *t,
							const char *acc, size_t *n);

/* Decides the state at t. Strings in *out are static or borrowed from the
 * arguments. */
void certstate_decide(const struct certstate_row *c, const struct certstate_key *k,
		      const struct certstate_event *ev, size_t n, long long t_us, struct certstate *out);

#endif
