/*
 * livestate: what a certificate's status depends on besides its own row (the
 * signing keys and the accreditation events), held in conformd's memory so
 * that a certificate's answer and a verification need no join and no
 * database round trip for it. Loaded by the certificate cache's listening
 * thread when it connects and again whenever a key or an accreditation
 * changes (NOTIFY conform_flush), before that thread drops the cached
 * answers. While it is not known to be current, callers use the database.
 */
#ifndef CONFORM_LIVESTATE_H
#define CONFORM_LIVESTATE_H

#include <stdbool.h>

#include "certificate.h"
#include "certstate.h"
#include "db.h"
#include "error.h"

/* Replaces what is held by what the database says now. Listener only. */
cf_err livestate_load(struct db *db, struct cf_error *err) CF_MUST_CHECK;

/* The listener lost its connection: nothing held is current any more. */
void livestate_off(void);

/* This process committed a change of a key or an accreditation: until the
 * listener has loaded again, what is held is not current. */
void livestate_changed_here(void);

/* Whether what is held may be used now. */
bool livestate_current(void);

/* A copy of the key kid as held; false when it is not held (or nothing is
 * current). */
bool livestate_key(const char *kid, struct certstate_keyrec *out);

/*
 * Decides a stored certificate's state at t_us (certstate_decide) with the
 * key and accreditation events held; *key and the key view are filled for
 * certificate_render. false when nothing is current or its key is not held.
 * Strings in it point into the struct itself.
 */
struct live_decision {
	struct certstate state;
	struct certstate_keyrec key;
	struct cert_key_view view;
	char review_since[24];
};
bool livestate_decide(const struct cert_stored *c, long long t_us, struct live_decision *out);

#endif
