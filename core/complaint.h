/*
 * complaint: complaints and appeals (ISO/IEC 17065 7.13), one kind of case a
 * body handles. Anyone lodges a complaint about a certificate or a body; a
 * manufacturer appeals a refusal or a withdrawal; a certifier of the body
 * concerned who was not involved in the original decides each once, and an
 * upheld complaint may suspend its certificate in the same transaction.
 * Every change is one transaction with its audit record. docs/complaints.md
 * describes the rules and the deadlines.
 */
#ifndef CONFORM_COMPLAINT_H
#define CONFORM_COMPLAINT_H

#include <stdbool.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"
#include "page.h"
#include "party.h"

/* The longest complaint, appeal or rationale text, and contact, in bytes. */
#define COMPLAINT_TEXT_MAX 10000
#define COMPLAINT_CONTACT_MAX 320

/* The schemes set no deadline: a case's decision is due this many days
 * after it was lodged (stored with each case as due_at). */
#define COMPLAINT_DUE_DAYS 60
#define APPEAL_DUE_DAYS 30

/*
 * Lodges a complaint: body {certificate: serial} or {body_id}, text, and an
 * optional contact. actor is whoever lodged it (a public caller's is the
 * system actor "public"). *out (new reference): {id, reference, kind,
 * subject, lodged_at, due_at}, nothing of any other case. A serial or body
 * that does not exist is CF_EUNPROCESSABLE naming the member.
 */
cf_err complaint_lodge(struct db *db, const struct audit_actor *actor, const json_t *body,
		       json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Lodges an appeal as p, a person of the manufacturer: body
 * {application_id} (a decided, rejected third-party application) or
 * {certificate: serial} (a withdrawn certificate), and text. *out as
 * complaint_lodge's. CF_EFORBIDDEN when p's organisation is not the
 * manufacturer, CF_ESTATE when there is nothing to appeal.
 */
cf_err complaint_appeal(struct db *db, const struct principal *p, const json_t *body, json_t **out,
			struct cf_error *err) CF_MUST_CHECK;

struct complaint_query {
	const char *kind;    /* NULL, "complaint" or "appeal" */
	const char *state;   /* NULL, "open", "overdue" or "decided" */
};

/* The cases of p's body (the scheme owner's admin: every body's), oldest
 * first, one page: {"items": [...], "next": position or null}. */
cf_err complaint_list(struct db *db, const struct principal *p, const struct complaint_query *q,
		      const struct page *page, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* One case as its body's staff see it (*out, new reference); CF_ENOTFOUND
 * when there is none that p may see. */
cf_err complaint_get(struct db *db, const struct principal *p, const char *id, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/*
 * Records the decision on case id as p, a certifier of the body concerned
 * not involved in the original: body {outcome: upheld|dismissed, rationale,
 * suspend (optional, an upheld complaint about a certificate only)}. With
 * suspend the certificate is suspended (reason code nonconformity) in the
 * same transaction (public_url: for the certificate's answer). *out: the
 * case. CF_ESTATE when decided already, CF_EFORBIDDEN when p was involved;
 * on error nothing is changed.
 */
cf_err complaint_decide(struct db *db, const struct principal *p, const char *public_url,
			const char *id, const json_t *body, json_t **out,
			struct cf_error *err) CF_MUST_CHECK;

#endif
