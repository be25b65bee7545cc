/*
 * livestate: the keys and accreditation events held in memory (see
 * livestate.h). One snapshot at a time, replaced whole under a write lock;
 * readers copy what they need under the read lock.
 */
#include "livestate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct certstate_tables held;
static atomic_bool loaded;
/* changes committed by this process, and how many of them the last load saw */
static atomic_ulong changed_here, seen_here;

cf_err livestate_load(struct db *db, struct cf_error *err)
{
	unsigned long here = atomic_load(&changed_here);
	struct certstate_tables t;
	cf_err e = certstate_read(db, &t, err);
	if (e) {
		livestate_off();
		return e;
	}
	pthread_rwlock_wrlock(&lock);
	struct certstate_tables old = held;
	held = t;
	atomic_store(&seen_here, here);
	atomic_store(&loaded, true);
	pthread_rwlock_unlock(&lock);
	certstate_tables_free(&old);
	return CF_OK;
}

void livestate_off(void)
{
	atomic_store(&loaded, false);
}

void livestate_changed_here(void)
{
	atomic_fetch_add(&changed_here, 1);
}

bool livestate_current(void)
{
	return atomic_load(&loaded) && atomic_load(&seen_here) >= atomic_load(&changed_here);
}

bool livestate_key(const char *kid, struct certstate_keyrec *out)
{
	if (!livestate_current())
		return false;
	pthread_rwlock_rdlock(&lock);
	const struct certstate_keyrec *k = certstate_find_key(&held, kid);
	if (k)
		*out = *k;
	pthread_rwlock_unlock(&lock);
	return k != NULL;
}

bool livestate_decide(const struct cert_stored *c, long long t_us, struct live_decision *out)
{
	if (!livestate_current())
		return false;
	pthread_rwlock_rdlock(&lock);
	const struct certstate_keyrec *k = certstate_find_key(&held, c->kid);
	if (!k) {
		pthread_rwlock_unlock(&lock);
		return false;
	}
	out->key = *k;
	size_t n = 0;
	const struct certstate_eventrec *x = certstate_find_events(&held, c->accreditation_id, &n);
	struct certstate_event stack[16];
	struct certstate_event *ev = n <= 16 ? stack : cf_calloc(n, sizeof *ev);
	for (size_t i = 0; i < n; i++)
		ev[i] = (struct certstate_event){ x[i].effective_us, x[i].action, x[i].effective };
	struct certstate_row row = { c->status, c->issued_us, c->valid_until_us };
	struct certstate_key key = { out->key.compromised_us };
	certstate_decide(&row, &key, ev, n, t_us, &out->state);
	/* the event's strings belong to the snapshot: copied before the lock goes */
	if (out->state.review_since) {
		snprintf(out->review_since, sizeof out->review_since, "%s", out->state.review_since);
		out->state.review_since = out->review_since;
	}
	pthread_rwlock_unlock(&lock);
	if (ev != stack)
		free(ev);
	out->view.retired = out->key.retired;
	out->view.compromised_since = out->key.compromised_us ? out->key.compromised_since : NULL;
	out->view.compromised_at = out->key.compromised_us ? out->key.compromised_at : NULL;
	return true;
}
