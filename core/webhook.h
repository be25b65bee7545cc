/*
 * webhook: organisations' subscriptions to the change feed and the outbox
 * of their deliveries (migration 0022). Deliveries follow Standard Webhooks
 * (webhook-id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256
 * of id.timestamp.body>"); the rows are written by the database in the
 * transaction of the change; conformd's delivery threads (server/webhooks.c)
 * claim them with FOR UPDATE SKIP LOCKED. Targets are checked against SSRF
 * here, both when a subscription is made and before every connection.
 */
#ifndef CONFORM_WEBHOOK_H
#define CONFORM_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"

/* A target URL, resolved: where to connect (addr, a numeric address that
 * passed webhook_addr_allowed) for host and port. */
struct webhook_target {
	bool https;
	char host[256];
	unsigned short port;
	char addr[64];
};

/*
 * Why an address may not be a webhook target, or NULL when it may:
 * loopback, link-local, private (RFC 1918, ULA), shared (CGNAT), multicast,
 * unspecified, broadcast and reserved ranges are refused unless
 * allow_private (the operator's webhook-allow-private setting).
 */
const char *webhook_addr_refused(const struct sockaddr *sa, bool allow_private);

/*
 * Parses url (http or https, no user information) and resolves its host;
 * every address it resolves to must pass webhook_addr_refused, and the first
 * is t->addr. CF_EUNPROCESSABLE (pointer /url) names the host, the address
 * and why it is refused.
 */
cf_err webhook_resolve(const char *url, bool allow_private, struct webhook_target *t,
		       struct cf_error *err) CF_MUST_CHECK;

/* The Standard Webhooks signature header value "v1,<base64>" of id, ts and
 * body with secret ("whsec_<base64 key>"): a new string; NULL when the
 * secret is malformed. */
char *webhook_signature(const char *secret, const char *id, long long ts, const char *body,
			size_t len);

/*
 * Makes a subscription of org from body {"url", "filter": {"body",
 * "manufacturer", "scheme", "serial"}} (borrowed) with its audit record, in
 * one transaction. *out (new) is the subscription with its "secret" (shown
 * this once).
 */
cf_err webhook_create(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const json_t *body, bool allow_private, json_t **out,
		      struct cf_error *err) CF_MUST_CHECK;

/* org's live subscriptions, without their secrets: *out (new) {"items"}. */
cf_err webhook_list(struct db *db, const char *org_id, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Deletes subscription id of org (its pending deliveries are cancelled),
 * with its audit record. */
cf_err webhook_delete(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const char *id, struct cf_error *err) CF_MUST_CHECK;

/* The deliveries of subscription id of org after log index after, oldest
 * first, at most limit, each with its attempts: *out (new) {"items"}. */
cf_err webhook_deliveries(struct db *db, const char *org_id, const char *id, long long after,
			  int limit, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Makes delivery did of subscription id due now again (its id kept; a new
 * retry window), with its audit record; *out (new) the delivery. */
cf_err webhook_replay(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const char *id, const char *did, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* A claimed delivery: the claim holds a transaction open on db (the row's
 * lock) until webhook_finish. Strings are owned by the job. */
struct webhook_job {
	char id[40];
	char *url;
	char *secret;
	char *payload;
	int attempts;           /* before this one */
	double window_age;      /* seconds since the retry window opened */
};

/* Claims one due delivery no other process holds; *found tells whether
 * there was one. On found, db is in a transaction that webhook_finish ends. */
cf_err webhook_claim(struct db *db, struct webhook_job *j, bool *found, struct cf_error *err) CF_MUST_CHECK;

/*
 * Records the attempt of j (http_status 0 with error when there was no
 * answer) and commits: 2xx delivers; otherwise the next attempt is due
 * retry_base * 2^(attempts-1) seconds later (at most an hour apart) unless
 * the window (retry_for seconds) is over, which fails the delivery. Frees
 * j's strings. On error the transaction is rolled back (the row stays due).
 */
cf_err webhook_finish(struct db *db, struct webhook_job *j, int http_status, const char *error,
		      long duration_ms, long retry_base, long retry_for, struct cf_error *err) CF_MUST_CHECK;

/* For metrics, in one query: deliveries pending and failed, and the age in
 * seconds of the oldest pending one that is due (0 when none is). */
struct webhook_stats {
	long long pending, failed;
	double oldest_due_age;
};
cf_err webhook_stats(struct db *db, struct webhook_stats *out, struct cf_error *err) CF_MUST_CHECK;

/* Releases a claim without an attempt (rollback) and frees j's strings. */
void webhook_release(struct db *db, struct webhook_job *j);

#endif
