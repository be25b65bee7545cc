/*
 * accreditation: grants, their history and the coverage question (see
 * accreditation.h and migrations/0004_parties.sql).
 */
#include "accreditation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "party.h"
#include "tlog.h"

#define ACC_SELECT                                                                             \
	"SELECT a.id, a.reference, a.accreditor_id, ao.name, a.body_id, bo.name, a.scheme_id,"   \
	" a.version_from, a.version_to, a.max_class, " DB_TS("a.valid_from") ", "               \
	DB_TS("a.valid_until") ","                                                              \
	" (SELECT e.action FROM accreditation_event e WHERE e.accreditation_id = a.id"          \
	"  AND e.effective_at <= now() ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1),"      \
	" now() < a.valid_from, now() >= a.valid_until,"                                        \
	" (SELECT json_agg(json_build_object('seq', e.seq, 'action', e.action, 'effective_at',"  \
	"  " DB_TS_US("e.effective_at") ", 'reason', e.reason, 'recorded_at', "                 \
	DB_TS("e.recorded_at") ", 'actor_id', e.actor_id) ORDER BY e.seq)::text"                \
	"  FROM accreditation_event e WHERE e.accreditation_id = a.id)"                         \
	" FROM accreditation a JOIN organisation ao ON ao.id = a.accreditor_id"                 \
	" JOIN organisation bo ON bo.id = a.body_id"

/* The status now: pending, active, suspended, withdrawn or expired. */
static const char *status_now(const PGresult *res, int i)
{
	const char *state = db_value(res, i, 12);
	if (!state || db_value_bool(res, i, 13))
		return state && strcmp(state, "withdrawn") == 0 ? "withdrawn" : "pending";
	if (strcmp(state, "withdrawn") == 0)
		return "withdrawn";
	if (strcmp(state, "suspended") == 0)
		return "suspended";
	return db_value_bool(res, i, 14) ? "expired" : "active";
}

static json_t *acc_json(const PGresult *res, int i, bool with_history)
{
	json_t *a = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:{s:o,s:o},s:I,s:s,s:s,s:s}",
		"id", db_value(res, i, 0), "reference", db_value(res, i, 1), "accreditor", "id",
		db_value(res, i, 2), "name", db_value(res, i, 3), "body", "id", db_value(res, i, 4),
		"name", db_value(res, i, 5), "scheme_id", db_value(res, i, 6), "versions", "from",
		jsonx_string_or_null(db_value(res, i, 7)), "to", jsonx_string_or_null(db_value(res, i, 8)), "max_class",
		(json_int_t)db_value_ll(res, i, 9), "valid_from", db_value(res, i, 10), "valid_until",
		db_value(res, i, 11), "status", status_now(res, i));
	if (with_history) {
		json_t *h = db_value(res, i, 15) ? json_loads(db_value(res, i, 15), 0, NULL) : NULL;
		json_object_set_new(a, "history", h ? h : json_array());
	}
	return a;
}

static cf_err acc_fetch(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, ACC_SELECT " WHERE a.id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = acc_json(res, 0, true);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %s", id);
	PQclear(res);
	return e;
}

cf_err accreditation_get(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %.40s", id);
	return acc_fetch(db, id, out, err);
}

struct grant_job {
	const struct audit_actor *actor;
	const char *body_id, *scheme_id, *from, *to, *reference, *valid_from, *valid_until;
	long long max_class;
	json_t **out;
};

static cf_err grant_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct grant_job *j = arg;
	char cls[24];
	snprintf(cls, sizeof cls, "%lld", j->max_class);
	const char *p[] = { j->actor->org, j->body_id, j->scheme_id, j->from, j->to, cls, j->reference,
			    j->valid_from, j->valid_until,
			    strcmp(j->actor->kind, "user") == 0 ? j->actor->id : NULL };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"WITH a AS (INSERT INTO accreditation (accreditor_id, body_id, scheme_id, version_from,"
		" version_to, max_class, reference, valid_from, valid_until, created_by)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, valid_from)"
		" INSERT INTO accreditation_event (accreditation_id, seq, action, effective_at, reason,"
		" actor_id) SELECT id, 1, 'granted', valid_from, 'granted', $10 FROM a RETURNING"
		" accreditation_id", 10, p);
	if (e) {
		if (e == CF_ECONFLICT)
			cf_error_set(err, CF_ECONFLICT, "/reference",
				     "your organisation has already used reference %s", j->reference);
		return e;
	}
	char id[37];
	snprintf(id, sizeof id, "%s", db_value(res, 0, 0));
	PQclear(res);
	e = acc_fetch(db, id, j->out, err);
	if (e)
		return e;
	json_t *details = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "body_id", j->body_id, "scheme_id",
				    j->scheme_id, "reference", j->reference, "max_class",
				    (json_int_t)j->max_class, "valid_from", j->valid_from, "valid_until",
				    j->valid_until);
	e = audit_append(db, j->actor, "accreditation.grant", "accreditation", id, details, err);
	json_decref(details);
	return e;
}

/* Checks the facts that the grant depends on, with messages naming fields. */
static cf_err grant_check(struct db *db, const struct grant_job *j, struct cf_error *err)
{
	const char *p[] = { j->actor->org, j->body_id, j->scheme_id, j->valid_from, j->valid_until,
			    j->from, j->to };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT (SELECT kind FROM organisation WHERE id = $1),"
		" (SELECT kind FROM organisation WHERE id = $2),"
		" (SELECT max(highest_class) FROM scheme_version WHERE scheme_id = $3),"
		" $5::timestamptz > $4::timestamptz,"
		" $5::timestamptz <= $4::timestamptz + interval '5 years',"
		" $6::text IS NULL OR $7::text IS NULL OR conform_version_cmp($6, $7) <= 0", 7, p);
	if (e)
		return e;
	const char *own = db_value(res, 0, 0), *body = db_value(res, 0, 1);
	const char *highest = db_value(res, 0, 2);
	if (!own || strcmp(own, "accreditation_body") != 0)
		e = cf_error_set(err, CF_EFORBIDDEN, NULL, "only an accreditation body grants accreditation");
	else if (!body || strcmp(body, "assessment_body") != 0)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/body_id", "%s is not an assessment body",
				 j->body_id);
	else if (!highest)
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/scheme_id", "there is no scheme %s",
				 j->scheme_id);
	else if (j->max_class > atoll(highest))
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/max_class",
				 "scheme %s has classes 0 to %s", j->scheme_id, highest);
	else if (!db_value_bool(res, 0, 3))
		e = cf_error_set(err, CF_EINVAL, "/valid_until", "valid_until must be after valid_from");
	else if (!db_value_bool(res, 0, 4))
		e = cf_error_set(err, CF_EINVAL, "/valid_until",
				 "an accreditation cycle is at most five years (ISO/IEC 17011)");
	else if (!db_value_bool(res, 0, 5))
		e = cf_error_set(err, CF_EINVAL, "/versions/to", "versions.to comes before versions.from");
	PQclear(res);
	return e;
}

cf_err accreditation_grant(struct db *db, const struct audit_actor *actor, const json_t *body,
			   json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "body_id", "scheme_id", "versions", "max_class",
					    "reference", "valid_from", "valid_until", NULL };
	static const char *const vkeys[] = { "from", "to", NULL };
	*out = NULL;
	struct grant_job j = { .actor = actor, .out = out };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "body_id", true, 36, &j.body_id, err);
	if (!e)
		e = jsonx_get_text(body, "", "scheme_id", true, 64, &j.scheme_id, err);
	if (!e)
		e = jsonx_get_int(body, "", "max_class", true, 0, 9, &j.max_class, NULL, err);
	if (!e)
		e = jsonx_get_text(body, "", "reference", true, 100, &j.reference, err);
	if (!e)
		e = jsonx_get_time(body, "", "valid_from", true, &j.valid_from, err);
	if (!e)
		e = jsonx_get_time(body, "", "valid_until", true, &j.valid_until, err);
	json_t *versions = json_object_get(body, "versions");
	if (!e && versions) {
		e = jsonx_check_object(versions, "/versions", vkeys, err);
		if (!e)
			e = jsonx_get_text(versions, "/versions", "from", false, 32, &j.from, err);
		if (!e)
			e = jsonx_get_text(versions, "/versions", "to", false, 32, &j.to, err);
	}
	if (e)
		return e;
	if (!ids_is_uuid(j.body_id))
		return cf_error_set(err, CF_EINVAL, "/body_id", "/body_id must be an organisation id");
	if (!actor->org)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "only an accreditation body grants accreditation");
	e = grant_check(db, &j, err);
	if (e)
		return e;
	return db_transaction_json(db, DB_READ_COMMITTED, grant_tx, &j, j.out, err);
}

struct change_job {
	const struct audit_actor *actor;
	const char *id, *action, *reason, *effective_at;
	json_t **out;
};

static const struct {
	const char *action, *event, *from1, *from2;
} transitions[] = {
	{ "suspend", "suspended", "granted", "reinstated" },
	{ "reinstate", "reinstated", "suspended", NULL },
	{ "withdraw", "withdrawn", "granted", "reinstated" },
	{ "withdraw", "withdrawn", "suspended", NULL },
};

/*
 * A suspension or withdrawal puts the certificates issued under the
 * accreditation before effective_at under review, and a reinstatement ends
 * that: a change of what every such certificate says, so a logged event
 * (kind "review") that the change feed and its webhooks carry.
 */
static cf_err log_review(struct db *db, const char *id, const char *event, const char *when,
			 struct cf_error *err)
{
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT body_id, scheme_id, " DB_TS("now()") " FROM accreditation WHERE id = $1", 1, p);
	if (e)
		return e;
	json_t *entry = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "review", "accreditation", id,
				  "action", event, "body", db_value(res, 0, 0), "scheme", db_value(res, 0, 1),
				  "effective_at", when, "at", db_value(res, 0, 2));
	PQclear(res);
	long long index = 0;
	e = tlog_append(db, "review", id, entry, &index, err);
	json_decref(entry);
	return e;
}

static cf_err change_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct change_job *j = arg;
	char *lock = cf_asprintf("accreditation:%s", j->id);
	const char *lp[] = { lock };
	cf_err e = db_query_hot(db, NULL, err, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, lp);
	free(lock);
	if (e)
		return e;
	/* The last event, scheduled ones included, decides what may follow. */
	const char *p[] = { j->id, j->effective_at };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT e.action, e.seq, coalesce($2::timestamptz, now()) >= e.effective_at,"
		" coalesce($2::timestamptz, now()) >= now() - interval '5 seconds',"
		" " DB_TS_US("coalesce($2::timestamptz, now())")
		" FROM accreditation_event e WHERE e.accreditation_id = $1"
		" ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1", 2, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %s", j->id);
	}
	const char *last = db_value(res, 0, 0);
	const char *event = NULL;
	for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
		if (strcmp(transitions[i].action, j->action) == 0 &&
		    (strcmp(transitions[i].from1, last) == 0 ||
		     (transitions[i].from2 && strcmp(transitions[i].from2, last) == 0)))
			event = transitions[i].event;
	char seq[24], when[48];
	snprintf(seq, sizeof seq, "%lld", db_value_ll(res, 0, 1) + 1);
	snprintf(when, sizeof when, "%s", db_value(res, 0, 4));
	bool after_last = db_value_bool(res, 0, 2), not_past = db_value_bool(res, 0, 3);
	if (!event) {
		char extra[160];
		snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", last);
		cf_error_set(err, CF_ESTATE, NULL, "cannot %s an accreditation whose last event is '%s'",
			     j->action, last);
		cf_error_set_extra(err, extra);
		PQclear(res);
		return CF_ESTATE;
	}
	PQclear(res);
	if (!not_past)
		return cf_error_set(err, CF_EINVAL, "/effective_at",
				    "effective_at is in the past: history is not rewritten");
	if (!after_last)
		return cf_error_set(err, CF_EINVAL, "/effective_at",
				    "effective_at comes before the accreditation's last event");
	const char *ip[] = { j->id, seq, event, when, j->reason,
			     strcmp(j->actor->kind, "user") == 0 ? j->actor->id : NULL };
	e = db_query_hot(db, NULL, err,
		"INSERT INTO accreditation_event (accreditation_id, seq, action, effective_at, reason,"
		" actor_id) VALUES ($1, $2, $3, $4, $5, $6)", 6, ip);
	if (!e && strcmp(event, "granted") != 0)
		e = log_review(db, j->id, event, when, err);
	if (!e)
		e = acc_fetch(db, j->id, j->out, err);
	if (e)
		return e;
	/* certificates show their accreditation's state: caches start again */
	e = db_query_hot(db, NULL, err, "SELECT pg_notify('" CHANNEL_FLUSH "', 'accreditation')", 0, NULL);
	if (e)
		return e;
	char action[48];
	snprintf(action, sizeof action, "accreditation.%s", j->action);
	json_t *details = json_pack("{s:s,s:s}", "reason", j->reason, "effective_at", when);
	e = audit_append(db, j->actor, action, "accreditation", j->id, details, err);
	json_decref(details);
	return e;
}

cf_err accreditation_change(struct db *db, const struct audit_actor *actor, const char *id,
			    const char *action, const json_t *body, json_t **out,
			    struct cf_error *err)
{
	static const char *const keys[] = { "reason", "effective_at", NULL };
	*out = NULL;
	struct change_job j = { actor, id, action, NULL, NULL, out };
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %.40s", id);
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "reason", true, 2000, &j.reason, err);
	if (!e)
		e = jsonx_get_time(body, "", "effective_at", false, &j.effective_at, err);
	if (e)
		return e;
	return db_transaction_json(db, DB_READ_COMMITTED, change_tx, &j, j.out, err);
}

cf_err accreditation_list(struct db *db, const char *accreditor, const char *body_id,
			  const char *scheme_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (body_id && !ids_is_uuid(body_id))
		return cf_error_set(err, CF_EINVAL, NULL, "body_id must be an organisation id");
	const char *p[] = { accreditor, body_id, scheme_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		ACC_SELECT " WHERE ($1::uuid IS NULL OR a.accreditor_id = $1)"
		" AND ($2::uuid IS NULL OR a.body_id = $2) AND ($3::text IS NULL OR a.scheme_id = $3)"
		" ORDER BY a.created_at, a.id", 3, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, acc_json(res, i, false));
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

cf_err accreditation_covers(struct db *db, const char *body_id, const char *scheme_id,
			    const char *version, int class_number, const char *at, bool *out,
			    struct cf_error *err)
{
	*out = false;
	if (!ids_is_uuid(body_id))
		return CF_OK;
	char cls[24];
	snprintf(cls, sizeof cls, "%d", class_number);
	const char *p[] = { body_id, scheme_id, version, cls, at };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT conform_covers($1, $2, $3, $4, coalesce($5::timestamptz, now()))", 5, p);
	if (e)
		return e;
	*out = db_value_bool(res, 0, 0);
	PQclear(res);
	return CF_OK;
}

cf_err accreditation_grantor(struct db *db, const char *id, char org_id[37], struct cf_error *err)
{
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %.40s", id);
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT accreditor_id FROM accreditation WHERE id = $1",
				1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(org_id, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no accreditation %s", id);
	PQclear(res);
	return e;
}

/* A body's public entry: its details and accreditations (current only, or all). */
static cf_err body_entry(struct db *db, const PGresult *orgs, int i, bool all, json_t **out,
			 struct cf_error *err)
{
	const char *id = db_value(orgs, i, 0);
	json_t *accs = NULL;
	cf_err e = accreditation_list(db, NULL, id, NULL, &accs, err);
	if (e)
		return e;
	json_t *list = json_array();
	size_t k;
	json_t *a;
	json_array_foreach(json_object_get(accs, "items"), k, a)
		if (all || strcmp(jsonx_str(a, "status"), "active") == 0)
			json_array_append(list, a);
	json_decref(accs);
	*out = json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", id, "name", db_value(orgs, i, 1), "country",
			 db_value(orgs, i, 2), "website", jsonx_string_or_null(db_value(orgs, i, 3)),
			 "accreditations", list);
	return CF_OK;
}

cf_err accreditation_bodies(struct db *db, json_t **out, struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT id, name, country, website FROM organisation WHERE kind = 'assessment_body'"
		" ORDER BY name, id", 0, NULL);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res) && !e; i++) {
		json_t *b = NULL;
		e = body_entry(db, res, i, false, &b, err);
		if (!e)
			json_array_append_new(items, b);
	}
	PQclear(res);
	if (e) {
		json_decref(items);
		return e;
	}
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

cf_err accreditation_body(struct db *db, const char *id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no assessment body %.40s", id);
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT id, name, country, website FROM organisation WHERE kind = 'assessment_body'"
		" AND id = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		e = body_entry(db, res, 0, true, out, err);
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no assessment body %s", id);
	PQclear(res);
	return e;
}
