/*
 * complaint: complaints and appeals (see complaint.h). Each change is one
 * transaction with its audit record; migration 0027's trigger holds the
 * independence of the decider whatever writes the row, and this module
 * checks it first so that the refusal says who the caller was in the case.
 */
#include "complaint.h"

#include <stdio.h>
#include <string.h>

#include "certificate.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "rnd.h"

/* Crockford's base 32 (no I, L, O, U): a reference read aloud or typed. */
static void make_reference(const char *prefix, char out[16])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char r[10];
	rnd_bytes(r, sizeof r);
	int n = snprintf(out, 16, "%s-", prefix);
	for (size_t i = 0; i < sizeof r; i++)
		out[n + (int)i] = alphabet[r[i] & 31];
	out[n + (int)sizeof r] = '\0';
}

/* ---- lodging ---- */

struct lodge_job {
	const struct audit_actor *actor;
	const char *kind, *subject, *serial, *body_id, *application_id, *text, *contact, *lodged_by;
	int due_days;
	json_t **out;
};

static cf_err lodge_insert(struct db *db, struct lodge_job *j, struct cf_error *err)
{
	char ref[16], days[12];
	make_reference(strcmp(j->kind, "appeal") == 0 ? "APL" : "CMP", ref);
	snprintf(days, sizeof days, "%d", j->due_days);
	const char *p[] = { ref, j->kind, j->subject, j->body_id, j->serial, j->application_id, j->text,
			    j->contact, j->lodged_by, days };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO complaint_case (reference, kind, subject, body_id, serial, application_id,"
		" text, contact, lodged_by, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		" now() + make_interval(days => $10::int))"
		" RETURNING id, reference, kind, subject, " DB_TS("lodged_at") ", " DB_TS("due_at"),
		10, p);
	if (e)
		return e;
	*j->out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", db_value(res, 0, 0), "reference",
			    db_value(res, 0, 1), "kind", db_value(res, 0, 2), "subject",
			    db_value(res, 0, 3), "lodged_at", db_value(res, 0, 4), "due_at",
			    db_value(res, 0, 5));
	/* what was lodged about, never its text or the complainant's contact */
	json_t *details = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "reference", ref, "subject",
				    j->subject, "body_id", j->body_id, "certificate",
				    jsonx_string_or_null(j->serial), "application_id",
				    jsonx_string_or_null(j->application_id), "due_at",
				    db_value(res, 0, 5));
	char action[24];
	snprintf(action, sizeof action, "%s.lodged", j->kind);
	e = audit_append(db, j->actor, action, "complaint_case", db_value(res, 0, 0), details, err);
	json_decref(details);
	PQclear(res);
	return e;
}

static cf_err lodge_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct lodge_job *j = arg;
	PGresult *res = NULL;
	cf_err e;
	char body[37];
	if (j->serial) {
		const char *p[] = { j->serial };
		e = db_query_hot(db, &res, err, "SELECT body_id FROM certificate WHERE serial = $1", 1, p);
		if (e)
			return e;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return cf_error_set(err, CF_EUNPROCESSABLE, "/certificate",
					    "there is no certificate %.40s", j->serial);
		}
		snprintf(body, sizeof body, "%s", db_value(res, 0, 0));
		PQclear(res);
		j->body_id = body;
	} else {
		const char *p[] = { j->body_id };
		e = db_query_hot(db, &res, err,
			"SELECT 1 FROM organisation WHERE id = $1 AND kind = 'assessment_body'", 1, p);
		if (e)
			return e;
		bool known = PQntuples(res) == 1;
		PQclear(res);
		if (!known)
			return cf_error_set(err, CF_EUNPROCESSABLE, "/body_id",
					    "there is no assessment body %.40s", j->body_id);
	}
	return lodge_insert(db, j, err);
}

cf_err complaint_lodge(struct db *db, const struct audit_actor *actor, const json_t *body,
		       json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "certificate", "body_id", "text", "contact", NULL };
	*out = NULL;
	struct lodge_job j = { .actor = actor, .kind = "complaint", .due_days = COMPLAINT_DUE_DAYS,
			       .out = out };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "certificate", false, 40, &j.serial, err);
	if (!e)
		e = jsonx_get_text(body, "", "body_id", false, 36, &j.body_id, err);
	if (!e)
		e = jsonx_get_text(body, "", "text", true, COMPLAINT_TEXT_MAX, &j.text, err);
	if (!e)
		e = jsonx_get_text(body, "", "contact", false, COMPLAINT_CONTACT_MAX, &j.contact, err);
	if (e)
		return e;
	if (!j.serial == !j.body_id)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "a complaint names either a certificate (its serial) or a body_id");
	if (j.body_id && !ids_is_uuid(j.body_id))
		return cf_error_set(err, CF_EINVAL, "/body_id", "/body_id must be an organisation id");
	j.subject = j.serial ? "certificate" : "body";
	return db_transaction_json(db, DB_READ_COMMITTED, lodge_tx, &j, out, err);
}

static cf_err appeal_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct lodge_job *j = arg;
	PGresult *res = NULL;
	cf_err e;
	const char *p[] = { j->application_id ? j->application_id : j->serial };
	if (j->application_id)
		e = db_query_hot(db, &res, err,
			"SELECT a.manufacturer_id, a.body_id, a.state, d.decision FROM application a"
			" LEFT JOIN application_decision d ON d.application_id = a.id WHERE a.id = $1",
			1, p);
	else
		e = db_query_hot(db, &res, err,
			"SELECT manufacturer_id, body_id, status, NULL FROM certificate WHERE serial = $1",
			1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return j->application_id
			? cf_error_set(err, CF_EUNPROCESSABLE, "/application_id",
				       "there is no application %.40s", j->application_id)
			: cf_error_set(err, CF_EUNPROCESSABLE, "/certificate",
				       "there is no certificate %.40s", j->serial);
	}
	char maker[37], body[37] = "", state[24];
	snprintf(maker, sizeof maker, "%s", db_value(res, 0, 0));
	if (db_value(res, 0, 1))
		snprintf(body, sizeof body, "%s", db_value(res, 0, 1));
	snprintf(state, sizeof state, "%s", db_value(res, 0, 2));
	bool refused = db_value(res, 0, 3) && strcmp(db_value(res, 0, 3), "rejected") == 0;
	PQclear(res);
	if (strcmp(maker, j->actor->org ? j->actor->org : "") != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "an appeal is lodged by the manufacturer the decision was about");
	if (j->application_id && (strcmp(state, "decided") != 0 || !refused || !body[0]))
		return cf_error_set(err, CF_ESTATE, "/application_id",
				    "only a body's refusal is appealed: this application was not refused");
	if (j->serial && strcmp(state, "withdrawn") != 0)
		return cf_error_set(err, CF_ESTATE, "/certificate",
				    "only a withdrawal is appealed: certificate %.40s is %s", j->serial,
				    state);
	const char *dp[] = { j->application_id, j->serial };
	e = db_query_hot(db, &res, err,
		"SELECT reference FROM complaint_case WHERE kind = 'appeal' AND outcome IS NULL"
		" AND (application_id = $1 OR serial = $2)", 2, dp);
	if (e)
		return e;
	if (PQntuples(res) > 0)
		e = cf_error_set(err, CF_ECONFLICT, NULL, "appeal %s against it is still open",
				 db_value(res, 0, 0));
	PQclear(res);
	if (e)
		return e;
	j->body_id = body;
	return lodge_insert(db, j, err);
}

cf_err complaint_appeal(struct db *db, const struct principal *p, const json_t *body, json_t **out,
			struct cf_error *err)
{
	static const char *const keys[] = { "application_id", "certificate", "text", NULL };
	*out = NULL;
	struct audit_actor actor = party_actor(p);
	struct lodge_job j = { .actor = &actor, .kind = "appeal", .due_days = APPEAL_DUE_DAYS,
			       .lodged_by = p->user_id, .out = out };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "application_id", false, 36, &j.application_id, err);
	if (!e)
		e = jsonx_get_text(body, "", "certificate", false, 40, &j.serial, err);
	if (!e)
		e = jsonx_get_text(body, "", "text", true, COMPLAINT_TEXT_MAX, &j.text, err);
	if (e)
		return e;
	if (!j.serial == !j.application_id)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "an appeal names either the refused application (application_id) "
				    "or the withdrawn certificate (its serial)");
	if (j.application_id && !ids_is_uuid(j.application_id))
		return cf_error_set(err, CF_EINVAL, "/application_id",
				    "/application_id must be an application id");
	j.subject = j.serial ? "withdrawal" : "refusal";
	return db_transaction_json(db, DB_READ_COMMITTED, appeal_tx, &j, out, err);
}

/* ---- reading ---- */

#define CASE_COLUMNS \
	"k.seq, k.id, k.reference, k.kind, k.subject, k.body_id, k.serial, k.application_id," \
	" k.text, k.contact, k.lodged_by, " DB_TS("k.lodged_at") ", " DB_TS("k.due_at") "," \
	" k.outcome, k.rationale, k.decided_by, " DB_TS("k.decided_at") ", k.suspended," \
	" k.outcome IS NULL AND k.due_at < now()"

static json_t *case_json(const PGresult *res, int i)
{
	json_t *decision = db_value(res, i, 13)
		? json_pack("{s:s,s:s,s:s,s:s,s:b}", "outcome", db_value(res, i, 13), "rationale",
			    db_value(res, i, 14), "decided_by", db_value(res, i, 15), "decided_at",
			    db_value(res, i, 16), "suspended", db_value_bool(res, i, 17))
		: json_null();
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:s,s:s,s:b,s:o}", "id",
			 db_value(res, i, 1), "reference", db_value(res, i, 2), "kind",
			 db_value(res, i, 3), "subject", db_value(res, i, 4), "body_id",
			 db_value(res, i, 5), "certificate", jsonx_string_or_null(db_value(res, i, 6)),
			 "application_id", jsonx_string_or_null(db_value(res, i, 7)), "text",
			 db_value(res, i, 8), "contact", jsonx_string_or_null(db_value(res, i, 9)),
			 "lodged_by", jsonx_string_or_null(db_value(res, i, 10)), "lodged_at",
			 db_value(res, i, 11), "due_at", db_value(res, i, 12), "overdue",
			 db_value_bool(res, i, 18), "decision", decision);
}

/* The body whose cases p sees; NULL: every body's (the scheme owner). */
static const char *scope(const struct principal *p)
{
	return p->roles & ROLE_ADMIN ? NULL : p->org_id;
}

cf_err complaint_list(struct db *db, const struct principal *p, const struct complaint_query *q,
		      const struct page *page, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (q->kind && strcmp(q->kind, "complaint") != 0 && strcmp(q->kind, "appeal") != 0)
		return cf_error_set(err, CF_EINVAL, NULL, "kind must be complaint or appeal");
	if (q->state && strcmp(q->state, "open") != 0 && strcmp(q->state, "overdue") != 0 &&
	    strcmp(q->state, "decided") != 0)
		return cf_error_set(err, CF_EINVAL, NULL, "state must be open, overdue or decided");
	char after[24], limit[24];
	snprintf(after, sizeof after, "%lld", page->after);
	snprintf(limit, sizeof limit, "%d", page->limit + 1);
	const char *params[] = { scope(p), q->kind, q->state, after, limit };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " CASE_COLUMNS " FROM complaint_case k"
		" WHERE k.seq > $4::bigint AND ($1::uuid IS NULL OR k.body_id = $1)"
		" AND ($2::text IS NULL OR k.kind = $2)"
		" AND ($3::text IS NULL OR ($3 = 'decided') = (k.outcome IS NOT NULL))"
		" AND ($3::text IS DISTINCT FROM 'overdue' OR k.due_at < now())"
		" ORDER BY k.seq LIMIT $5", 5, params);
	if (e)
		return e;
	*out = db_page(res, page->limit, case_json, 0, DB_CURSOR_NUMBER);
	PQclear(res);
	return CF_OK;
}

/* The case id as p may see it (res: one row of CASE_COLUMNS), or
 * CF_ENOTFOUND. lock: FOR UPDATE. */
static cf_err load(struct db *db, const struct principal *p, const char *id, bool lock,
		   PGresult **res, struct cf_error *err)
{
	*res = NULL;
	if (!ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no case %.40s", id ? id : "");
	const char *params[] = { id, scope(p) };
	cf_err e = lock
		? db_query_hot(db, res, err, "SELECT " CASE_COLUMNS " FROM complaint_case k"
			       " WHERE k.id = $1 AND ($2::uuid IS NULL OR k.body_id = $2) FOR UPDATE",
			       2, params)
		: db_query_hot(db, res, err, "SELECT " CASE_COLUMNS " FROM complaint_case k"
			       " WHERE k.id = $1 AND ($2::uuid IS NULL OR k.body_id = $2)", 2, params);
	if (e)
		return e;
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no case %.40s", id);
	}
	return CF_OK;
}

cf_err complaint_get(struct db *db, const struct principal *p, const char *id, json_t **out,
		     struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = load(db, p, id, false, &res, err);
	if (!e)
		*out = case_json(res, 0);
	PQclear(res);
	return e;
}

/* ---- deciding ---- */

struct decide_job {
	const struct principal *p;
	const char *public_url, *id, *outcome, *rationale;
	bool suspend;
	json_t **out;
};

/*
 * How person took part in what the case is about (NULL: not at all), by
 * the rule of migration 0027's conform_case_involved: the application's
 * assessors, its decider, the certificate's issuer, whoever changed its
 * status. *role is static text.
 */
static cf_err involvement(struct db *db, const char *application, const char *serial,
			  const char *person, const char **role, struct cf_error *err)
{
	*role = NULL;
	const char *p[] = { application, serial, person };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT role FROM ("
		" SELECT 1 AS o, 'assessor' AS role, assessor_id AS who FROM application WHERE id = $1"
		" UNION ALL SELECT 1, 'assessor', assessor_id FROM application_event"
		"  WHERE application_id = $1"
		" UNION ALL SELECT 1, 'assessor', actor_id FROM application_event"
		"  WHERE application_id = $1 AND action = 'take'"
		" UNION ALL SELECT 1, 'assessor', assessor_id FROM review_verdict WHERE application_id = $1"
		" UNION ALL SELECT 2, 'certifier who decided', decided_by FROM application_decision"
		"  WHERE application_id = $1"
		" UNION ALL SELECT 3, 'certifier who issued it', issued_by FROM certificate WHERE serial = $2"
		" UNION ALL SELECT 4, 'person who changed its status', actor_id FROM certificate_event"
		"  WHERE serial = $2) x WHERE who = $3::uuid ORDER BY o LIMIT 1", 3, p);
	if (e)
		return e;
	static const char *const roles[] = { "assessor", "certifier who decided",
					     "certifier who issued it", "person who changed its status" };
	if (PQntuples(res) == 1)
		for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
			if (strcmp(db_value(res, 0, 0), roles[i]) == 0)
				*role = roles[i];
	PQclear(res);
	return CF_OK;
}

static cf_err decide_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct decide_job *j = arg;
	PGresult *res = NULL, *app = NULL;
	json_t *cert = NULL, *change = NULL, *details = NULL;
	cf_err e = load(db, j->p, j->id, true, &res, err);
	if (e)
		goto out;
	const char *reference = db_value(res, 0, 2), *kind = db_value(res, 0, 3),
		   *subject = db_value(res, 0, 4), *serial = db_value(res, 0, 6);
	if (db_value(res, 0, 13)) {
		e = cf_error_set(err, CF_ESTATE, NULL, "case %s was decided already (%s)", reference,
				 db_value(res, 0, 13));
		goto out;
	}
	if (strcmp(db_value(res, 0, 5), j->p->org_id) != 0) {
		e = cf_error_set(err, CF_EFORBIDDEN, NULL,
				 "a case is decided by a certifier of the body concerned");
		goto out;
	}
	if (j->suspend && !(strcmp(kind, "complaint") == 0 && strcmp(subject, "certificate") == 0 &&
			    strcmp(j->outcome, "upheld") == 0)) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/suspend",
				 "only an upheld complaint about a certificate suspends it");
		goto out;
	}
	const char *application = db_value(res, 0, 7);
	if (!application && serial) {
		const char *sp[] = { serial };
		e = db_query_hot(db, &app, err, "SELECT application_id FROM certificate WHERE serial = $1",
				 1, sp);
		if (e)
			goto out;
		application = db_value(app, 0, 0);
	}
	const char *role = NULL;
	e = involvement(db, application, serial, j->p->user_id, &role, err);
	if (e)
		goto out;
	if (role) {
		e = cf_error_set(err, CF_EFORBIDDEN, NULL,
				 "you were the %s in what case %s is about: another certifier of the body "
				 "decides it (ISO/IEC 17065 7.13)", role, reference);
		goto out;
	}
	const char *up[] = { j->id, j->outcome, j->rationale, j->p->user_id,
			     j->suspend ? "true" : "false" };
	e = db_query_hot(db, NULL, err,
		"UPDATE complaint_case SET outcome = $2, rationale = $3, decided_by = $4,"
		" decided_at = now(), suspended = $5::boolean WHERE id = $1", 5, up);
	if (e)
		goto out;
	if (j->suspend) {
		/* joins this transaction: the suspension, its log entry and its
		 * audit record commit with the decision or not at all */
		char reason[96];
		snprintf(reason, sizeof reason, "complaint %s upheld", reference);
		change = json_pack("{s:s,s:s}", "reason_code", "nonconformity", "reason", reason);
		e = certificate_change(db, j->p, j->public_url, serial, "suspend", change, &cert, err);
		if (e)
			goto out;
	}
	char action[24];
	snprintf(action, sizeof action, "%s.decided", kind);
	details = json_pack("{s:s,s:s,s:b,s:o}", "reference", reference, "outcome", j->outcome,
			    "suspended", j->suspend, "certificate", jsonx_string_or_null(serial));
	struct audit_actor actor = party_actor(j->p);
	e = audit_append(db, &actor, action, "complaint_case", j->id, details, err);
	if (e)
		goto out;
	PQclear(res);
	res = NULL;
	e = load(db, j->p, j->id, false, &res, err);
	if (!e)
		*j->out = case_json(res, 0);
out:
	json_decref(details);
	json_decref(change);
	json_decref(cert);
	PQclear(app);
	PQclear(res);
	return e;
}

cf_err complaint_decide(struct db *db, const struct principal *p, const char *public_url,
			const char *id, const json_t *body, json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "outcome", "rationale", "suspend", NULL };
	*out = NULL;
	struct decide_job j = { .p = p, .public_url = public_url, .id = id, .out = out };
	bool present = false;
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "outcome", true, 16, &j.outcome, err);
	if (!e)
		e = jsonx_get_text(body, "", "rationale", true, COMPLAINT_TEXT_MAX, &j.rationale, err);
	if (!e)
		e = jsonx_get_bool(body, "", "suspend", &j.suspend, &present, err);
	if (e)
		return e;
	if (strcmp(j.outcome, "upheld") != 0 && strcmp(j.outcome, "dismissed") != 0)
		return cf_error_set(err, CF_EINVAL, "/outcome", "/outcome must be upheld or dismissed");
	return db_transaction_json(db, DB_READ_COMMITTED, decide_tx, &j, out, err);
}
