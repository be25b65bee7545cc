/*
 * certstate: the in-memory mirror of conform_certificate_state (see
 * certstate.h). Read it beside migrations/0028_superseded.sql (which redefines
 * 0015's): each step below is one clause there.
 */
#include "certstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mem.h"

static bool live(const char *status)
{
	return strcmp(status, "valid") == 0 || strcmp(status, "suspended") == 0;
}

void certstate_decide(const struct certstate_row *c, const struct certstate_key *k,
		      const struct certstate_event *ev, size_t n, long long t_us, struct certstate *out)
{
	/* s.status: a key compromised at or before issue wins, then withdrawal,
	 * then supersession (0028), then expiry, then the stored status */
	if (k->compromised_us && c->issued_us >= k->compromised_us)
		out->status = "key_compromised";
	else if (strcmp(c->status, "withdrawn") == 0)
		out->status = "withdrawn";
	else if (strcmp(c->status, "superseded") == 0)
		out->status = "superseded";
	else if (t_us >= c->valid_until_us)
		out->status = "expired";
	else
		out->status = strcmp(c->status, "suspended") == 0 ? "suspended" : "valid";

	/* acc: the last event in effect at t (ties: the later seq, which the
	 * caller's order puts last); nxt: the first one after t */
	const struct certstate_event *acc = NULL, *nxt = NULL;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].effective_us <= t_us)
			acc = &ev[i];
		else if (!nxt || ev[i].effective_us < nxt->effective_us)
			nxt = &ev[i];
	}
	out->review = NULL;
	out->review_since = NULL;
	out->next_change_us = 0;
	if (!live(out->status))
		return;
	if (acc && acc->effective_us > c->issued_us) {
		if (strcmp(acc->action, "suspended") == 0)
			out->review = "accreditation_suspended";
		else if (strcmp(acc->action, "withdrawn") == 0)
			out->review = "accreditation_withdrawn";
		if (out->review)
			out->review_since = acc->effective;
	}
	/* least() ignores NULL: valid_until, or an earlier scheduled event */
	out->next_change_us = c->valid_until_us;
	if (nxt && nxt->effective_us < out->next_change_us)
		out->next_change_us = nxt->effective_us;
}

/* ---- the tables a holder of the mirror keeps ---- */

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct certstate_keyrec *)a)->kid, ((const struct certstate_keyrec *)b)->kid);
}

static int event_cmp(const void *a, const void *b)
{
	const struct certstate_eventrec *x = a, *y = b;
	int c = strcmp(x->acc, y->acc);
	if (c)
		return c;
	if (x->effective_us != y->effective_us)
		return x->effective_us < y->effective_us ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static cf_err read_keys(struct db *db, struct certstate_tables *t, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT kid, public_key, coalesce(org_id::text, ''), retired_at IS NOT NULL,"
		" coalesce(floor(extract(epoch FROM compromised_since) * 1000000)::bigint, 0), "
		DB_TS_US("compromised_since") ", " DB_TS("compromised_at") " FROM signing_key", 0, NULL);
	if (e)
		return e;
	int n = PQntuples(res);
	t->keys = cf_calloc(n ? (size_t)n : 1, sizeof *t->keys);
	for (int i = 0; i < n && !e; i++) {
		struct certstate_keyrec *k = &t->keys[t->nkeys];
		unsigned char *raw = NULL;
		size_t len = 0;
		const char *pub = db_value(res, i, 1);
		if (codec_b64url_decode(pub, strlen(pub), &raw, &len, err) || len != 32) {
			free(raw);
			e = cf_error_set(err, CF_EINTERNAL, NULL, "key %.60s: its public key is not 32 bytes",
					 db_value(res, i, 0));
			break;
		}
		memcpy(k->pub, raw, 32);
		free(raw);
		snprintf(k->kid, sizeof k->kid, "%s", db_value(res, i, 0));
		snprintf(k->org, sizeof k->org, "%s", db_value(res, i, 2));
		k->retired = db_value_bool(res, i, 3);
		k->compromised_us = db_value_ll(res, i, 4);
		snprintf(k->compromised_since, sizeof k->compromised_since, "%s",
			 db_value(res, i, 5) ? db_value(res, i, 5) : "");
		snprintf(k->compromised_at, sizeof k->compromised_at, "%s",
			 db_value(res, i, 6) ? db_value(res, i, 6) : "");
		t->nkeys++;
	}
	PQclear(res);
	if (!e)
		qsort(t->keys, t->nkeys, sizeof *t->keys, key_cmp);
	return e;
}

static cf_err read_events(struct db *db, struct certstate_tables *t, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT accreditation_id, floor(extract(epoch FROM effective_at) * 1000000)::bigint, seq,"
		" action, " DB_TS("effective_at") " FROM accreditation_event", 0, NULL);
	if (e)
		return e;
	int n = PQntuples(res);
	t->events = cf_calloc(n ? (size_t)n : 1, sizeof *t->events);
	for (int i = 0; i < n; i++) {
		struct certstate_eventrec *v = &t->events[t->nevents++];
		snprintf(v->acc, sizeof v->acc, "%s", db_value(res, i, 0));
		v->effective_us = db_value_ll(res, i, 1);
		v->seq = (int)db_value_ll(res, i, 2);
		snprintf(v->action, sizeof v->action, "%s", db_value(res, i, 3));
		snprintf(v->effective, sizeof v->effective, "%s", db_value(res, i, 4));
	}
	PQclear(res);
	qsort(t->events, t->nevents, sizeof *t->events, event_cmp);
	return CF_OK;
}

cf_err certstate_read(struct db *db, struct certstate_tables *out, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	/* one snapshot of both tables, so that no key is seen without the
	 * accreditation change committed with it */
	cf_err e = db_query(db, NULL, err, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
	if (e)
		return e;
	e = read_keys(db, out, err);
	if (!e)
		e = read_events(db, out, err);
	struct cf_error ignored;
	if (db_query(db, NULL, e ? &ignored : err, e ? "ROLLBACK" : "COMMIT", 0, NULL) && !e)
		e = err->code;
	if (e)
		certstate_tables_free(out);
	return e;
}

void certstate_tables_free(struct certstate_tables *t)
{
	free(t->keys);
	free(t->events);
	memset(t, 0, sizeof *t);
}

const struct certstate_keyrec *certstate_find_key(const struct certstate_tables *t, const char *kid)
{
	struct certstate_keyrec probe;
	if (strlen(kid) >= sizeof probe.kid)
		return NULL;
	snprintf(probe.kid, sizeof probe.kid, "%s", kid);
	return bsearch(&probe, t->keys, t->nkeys, sizeof *t->keys, key_cmp);
}

const struct certstate_eventrec *certstate_find_events(const struct certstate_tables *t,
							const char *acc, size_t *n)
{
	size_t lo = 0, hi = t->nevents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->events[mid].acc, acc) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*n = 0;
	while (lo + *n < t->nevents && strcmp(t->events[lo + *n].acc, acc) == 0)
		(*n)++;
	return *n ? &t->events[lo] : NULL;
}
