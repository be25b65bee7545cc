/*
 * audit: hash-chained append and verification (see audit.h).
 */
#include "audit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "jsonx.h"
#include "mem.h"

/* Serialises appenders until their transaction ends: seq and prev_hash must
 * be read and written by one appender at a time. "audit" in ASCII; migration
 * 0019's conform_issue_logged takes it too, by number. */
static const char AUDIT_LOCK_KEY[] = "418581342580";

static const char GENESIS[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* The UTC time with microseconds, as PostgreSQL will give it back. */
static void audit_now(char out[64])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000L);
}

char *audit_canonical(long long seq, const char *at, const struct audit_actor *actor,
		      const char *action, const char *object_type, const char *object_id,
		      const json_t *details, const char *prev_hash)
{
	json_t *d = details ? json_incref((json_t *)(uintptr_t)details) : json_object();
	/* "s?" packs a NULL organisation as JSON null; "o" steals d. */
	json_t *rec = json_pack("{s:I,s:s,s:{s:s,s:s,s:s?},s:s,s:{s:s,s:s},s:o,s:s}", "seq",
				(json_int_t)seq, "at", at, "actor", "kind", actor->kind, "id", actor->id,
				"org", actor->org, "action", action, "object", "type", object_type,
				"id", object_id, "details", d, "prev", prev_hash);
	if (!rec)
		return NULL;
	char *text = jsonx_canonical(rec);
	json_decref(rec);
	return text;
}

cf_err audit_append_at(struct db *db, long long last_seq, const char *last_hash,
		       const struct audit_actor *actor, const char *action, const char *object_type,
		       const char *object_id, const json_t *details, struct cf_error *err)
{
	char *canon = NULL, *details_text = NULL;
	cf_err e = CF_OK;
	long long seq = last_seq + 1;
	char prev[65];
	snprintf(prev, sizeof prev, "%s", last_hash ? last_hash : GENESIS);
	char at[64];
	audit_now(at);
	canon = audit_canonical(seq, at, actor, action, object_type, object_id, details, prev);
	if (details)
		details_text = jsonx_canonical(details);
	if (!canon) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "audit details for %s cannot be recorded",
				 action);
		goto out;
	}
	char hash[65];
	digest_sha256_hex(canon, strlen(canon), hash);
	char seqs[24];
	snprintf(seqs, sizeof seqs, "%lld", seq);
	const char *params[] = { seqs, at, actor->kind, actor->id, actor->org, action, object_type,
				 object_id, details_text ? details_text : "{}", prev, hash };
	e = db_query_hot(db, NULL, err,
			 "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_org, action,"
			 " object_type, object_id, details, prev_hash, hash)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
			 11, params);
out:
	free(canon);
	free(details_text);
	return e;
}

cf_err audit_append(struct db *db, const struct audit_actor *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details,
		    struct cf_error *err)
{
	PGresult *res = NULL;
	const char *lock[] = { AUDIT_LOCK_KEY };
	cf_err e = db_query_hot(db, NULL, err, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock);
	if (e)
		return e;
	e = db_query_hot(db, &res, err, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", 0,
			 NULL);
	if (e)
		return e;
	bool any = PQntuples(res) == 1;
	e = audit_append_at(db, any ? db_value_ll(res, 0, 0) : 0, any ? db_value(res, 0, 1) : NULL,
			    actor, action, object_type, object_id, details, err);
	PQclear(res);
	return e;
}

/* Checks one row of the chain; returns false and fills out->problem. */
static bool check_row(PGresult *res, int i, long long expect_seq, const char *prev,
		      struct audit_check *out, char hash_out[65])
{
	long long seq = db_value_ll(res, i, 0);
	const char *at = db_value(res, i, 1);
	struct audit_actor actor = { db_value(res, i, 2), db_value(res, i, 3), db_value(res, i, 4) };
	const char *action = db_value(res, i, 5);
	const char *otype = db_value(res, i, 6), *oid = db_value(res, i, 7);
	const char *details_text = db_value(res, i, 8);
	const char *stored_prev = db_value(res, i, 9), *stored_hash = db_value(res, i, 10);

	if (seq != expect_seq) {
		out->first_broken = expect_seq;
		snprintf(out->problem, sizeof out->problem,
			 "record %lld is missing (the next record is %lld)", expect_seq, seq);
		return false;
	}
	out->first_broken = seq;
	if (strcmp(stored_prev, prev) != 0) {
		snprintf(out->problem, sizeof out->problem,
			 "its previous hash does not match record %lld's hash", seq - 1);
		return false;
	}
	json_t *details = json_loads(details_text, 0, NULL);
	char *canon = audit_canonical(seq, at, &actor, action, otype, oid, details, prev);
	json_decref(details);
	if (!canon) {
		snprintf(out->problem, sizeof out->problem, "its details cannot be canonicalised");
		return false;
	}
	char hash[65];
	digest_sha256_hex(canon, strlen(canon), hash);
	free(canon);
	if (strcmp(hash, stored_hash) != 0) {
		snprintf(out->problem, sizeof out->problem,
			 "its content does not match its hash (the record was changed)");
		return false;
	}
	out->first_broken = 0;
	memcpy(hash_out, hash, 65);
	return true;
}

cf_err audit_verify(struct db *db, struct audit_check *out, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	char prev[65];
	snprintf(prev, sizeof prev, "%s", GENESIS);
	long long next = 1;
	/* In pages by seq, so memory stays flat however long the trail is. */
	for (;;) {
		char after[24];
		snprintf(after, sizeof after, "%lld", next - 1);
		const char *params[] = { after };
		PGresult *res = NULL;
		cf_err e = db_query(db, &res, err,
			"SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
			" actor_kind, actor_id, actor_org, action, object_type, object_id, details::text,"
			" prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
			1, params);
		if (e)
			return e;
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			char hash[65];
			if (!check_row(res, i, next, prev, out, hash)) {
				PQclear(res);
				return CF_OK;
			}
			memcpy(prev, hash, sizeof prev);
			next++;
			out->records++;
		}
		PQclear(res);
		if (n < 5000)
			return CF_OK;
	}
}

/* A row of the audit list. */
static json_t *record_json(const PGresult *res, int i)
{
	json_t *details = json_loads(db_value(res, i, 8), 0, NULL);
	const char *org = db_value(res, i, 4);
	return json_pack("{s:I,s:s,s:{s:s,s:s,s:o},s:s,s:{s:s,s:s},s:o,s:s,s:s}", "seq",
			 (json_int_t)db_value_ll(res, i, 0), "at", db_value(res, i, 1), "actor", "kind",
			 db_value(res, i, 2), "id", db_value(res, i, 3), "org",
			 org ? json_string(org) : json_null(), "action", db_value(res, i, 5), "object",
			 "type", db_value(res, i, 6), "id", db_value(res, i, 7), "details",
			 details ? details : json_object(), "prev_hash", db_value(res, i, 9), "hash",
			 db_value(res, i, 10));
}

cf_err audit_list(struct db *db, const struct audit_filter *f, json_t **out, struct cf_error *err)
{
	*out = NULL;
	char after[24], limit[24];
	snprintf(after, sizeof after, "%lld", f->after);
	snprintf(limit, sizeof limit, "%d", f->limit + 1);
	bool prefix = f->action && f->action[0] && f->action[strlen(f->action) - 1] == '.';
	const char *p[] = { after, f->action, prefix ? "t" : "f", f->object_type, f->object_id,
			    f->actor_id, f->since, f->until, limit };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		" actor_kind, actor_id, actor_org, action, object_type, object_id, details::text,"
		" prev_hash, hash FROM audit_log WHERE seq > $1"
		" AND ($2::text IS NULL OR CASE WHEN $3::boolean THEN starts_with(action, $2)"
		"  ELSE action = $2 END)"
		" AND ($4::text IS NULL OR object_type = $4) AND ($5::text IS NULL OR object_id = $5)"
		" AND ($6::text IS NULL OR actor_id = $6)"
		" AND ($7::timestamptz IS NULL OR at >= $7) AND ($8::timestamptz IS NULL OR at < $8)"
		" ORDER BY seq LIMIT $9", 9, p);
	if (e)
		return e;
	*out = db_page(res, f->limit, record_json, 0, DB_CURSOR_NUMBER);
	PQclear(res);
	return CF_OK;
}
