/*
 * certificate: signed, verifiable certificates of conformity. A certificate
 * is a W3C Verifiable Credential 2.0 secured as a compact JWS (EdDSA,
 * typ vc+jwt) by the issuing body's key, logged in the transparency log at
 * issuance and at every status change. Its status (valid, suspended,
 * withdrawn, superseded by a newer certificate; expired derived from
 * validUntil) is served live and as W3C
 * Bitstring Status Lists. docs/certificates.md describes the format.
 */
#ifndef CONFORM_CERTIFICATE_H
#define CONFORM_CERTIFICATE_H

#include <stdbool.h>

#include <jansson.h>

#include "buf.h"
#include "certstate.h"
#include "db.h"
#include "error.h"
#include "keys.h"
#include "party.h"

/* The longest compact JWS verification reads: ours are a few kilobytes. */
#define CERTIFICATE_JWS_MAX (64u << 10)

struct cert_ctx {
	const char *public_url;       /* ids, the issuer DID, the status list URLs */
	const char *signer_socket;    /* conform-signer, which holds the private keys */
};

/*
 * Issues the certificate of an approved third-party application, as a
 * certifier of its body: one transaction with the log entry and the audit
 * record. A second call returns the same certificate (*created false).
 */
cf_err certificate_issue(struct db *db, const struct principal *p, const struct cert_ctx *ctx,
			 const char *application_id, json_t **out, bool *created,
			 struct cf_error *err) CF_MUST_CHECK;

/*
 * A certificate's effective status at a moment: at is an RFC 3339 time, NULL
 * for now. Every surface (the certificate, verification, the register and its
 * status= filter, the page, the status lists) reads this one definition, the
 * SQL function conform_certificate_state. *out (new reference):
 * {serial, at, status: valid|suspended|withdrawn|superseded|expired|key_compromised,
 *  review: null | {required: true, code: accreditation_suspended|
 *  accreditation_withdrawn, reason, since}, next_change: the next scheduled
 *  moment the answer changes (an accreditation event, validUntil) or null}.
 */
cf_err certificate_state(struct db *db, const char *serial, const char *at, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* A certificate with its live status (and review), history, log entry and
 * credential (*out, new reference). */
cf_err certificate_get(struct db *db, const char *public_url, const char *serial, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;

/* certificate_get, and when the answer goes stale without anyone acting: at
 * *stale_at_ms (epoch milliseconds; 0 never), the certificate's next
 * scheduled change. For caches; the time itself is not published. */
cf_err certificate_get_cacheable(struct db *db, const char *public_url, const char *serial,
				 json_t **out, long long *stale_at_ms, struct cf_error *err) CF_MUST_CHECK;

/*
 * A certificate as stored, for answers made without the database deciding
 * anything: one row read by its key (certificate_stored), whose status the
 * caller decides (certstate_decide, with the keys and accreditation events it
 * holds), then rendered (certificate_render). Strings are borrowed from res.
 */
struct cert_stored {
	void *res;                 /* the PGresult that owns the strings */
	const char *serial, *status, *reason_code, *reason, *changed_at, *valid_until;
	const char *kid, *accreditation_id, *log_leaf, *history, *public_part, *payload;
	const char *jws_sha256;    /* hex */
	const char *superseded_by; /* the successor's serial, NULL unless superseded */
	const char *superseded_url; /* the URL of its answer, likewise */
	long long issued_us, valid_until_us, log_index;
};

/* CF_ENOTFOUND when there is no such certificate. */
cf_err certificate_stored(struct db *db, const char *serial, struct cert_stored *out,
			  struct cf_error *err) CF_MUST_CHECK;
void certificate_stored_clear(struct cert_stored *c);

/* What the caller knows of the certificate's key. */
struct cert_key_view {
	bool retired;
	const char *compromised_since; /* as the API writes it (microseconds), NULL if never */
	const char *compromised_at;    /* when that was declared (seconds) */
	const char *method;            /* its DID URL, <issuer DID>#<kid> */
};

/*
 * Appends to out the certificate's answer (the same document as
 * certificate_get) from its stored row, its decided state and key, and
 * whether a signed tree head covers its log entry; and to facts, unless
 * NULL, the members verification repeats: {status, status_reason, review,
 * valid_until, expired, compromised_since, superseded_by}.
 */
cf_err certificate_render(const struct cert_stored *c, const struct certstate *st,
			  const struct cert_key_view *key, bool in_head, struct buf *out, struct buf *facts,
			  struct cf_error *err) CF_MUST_CHECK;

/* The compact JWS (new string). */
cf_err certificate_jws(struct db *db, const char *serial, char **out, struct cf_error *err) CF_MUST_CHECK;

/* The issuing body of a certificate (for the rule "issued by own body"). */
cf_err certificate_issuer(struct db *db, const char *serial, char body_id[37],
			  struct cf_error *err) CF_MUST_CHECK;

/*
 * action: "suspend", "reinstate" or "withdraw" (final); body {reason_code,
 * reason}. Logged and audited; CF_ESTATE for a transition the status does
 * not allow.
 */
cf_err certificate_change(struct db *db, const struct principal *p, const char *public_url,
			  const char *serial, const char *action, const json_t *body, json_t **out,
			  struct cf_error *err) CF_MUST_CHECK;

/*
 * Supersedes old_serial by new_serial (delta recertification): runs INSIDE
 * the caller's transaction (the one issuing new_serial, after its issuance
 * entry and audit record), opens none and commits nothing. Locks both rows;
 * appends the log entry {kind: status, serial: old, status: superseded,
 * superseded_by: new, reason_code: superseded, at}, sets the old row's
 * status superseded, superseded_by, status_reason_code superseded,
 * status_reason "superseded by <new>" and status_changed_at, records its
 * event (superseded, with the log index), notifies conformd processes at
 * commit and writes one audit record certificate.supersede. A valid,
 * suspended or time-expired certificate may be superseded.
 * Refusals (the caller rolls back; nothing was written): CF_ENOTFOUND for
 * either serial unknown; CF_ESTATE (extra {"state"}) when the old one is
 * withdrawn or already superseded, or is new_serial itself; CF_EFORBIDDEN
 * when p is not of the old certificate's body (nor an administrator);
 * CF_EUNPROCESSABLE when the two differ in body or manufacturer, or new is
 * not the newer.
 */
cf_err certificate_supersede(struct db *db, const struct principal *p, const char *old_serial,
			     const char *new_serial, struct cf_error *err) CF_MUST_CHECK;

struct cert_query {
	const char *manufacturer;  /* id, or part of the name */
	const char *scheme;        /* id or id@version */
	const char *status;        /* valid, suspended, withdrawn, superseded, expired, key_compromised */
	const char *q;             /* part of product name, model or manufacturer */
	long long after;           /* register position of the last item seen */
	int limit;
};

/* The public register: {"items": [...], "next": position or null}. */
cf_err certificate_register(struct db *db, const struct cert_query *q, json_t **out,
			    struct cf_error *err) CF_MUST_CHECK;

/*
 * Verifies a compact JWS as a buyer would: signature under the published
 * key named by kid, issuer, the register's live status, expiry, and
 * inclusion in the log under the latest checkpoint.
 */
cf_err certificate_verify(struct db *db, const char *public_url, const char *jws, json_t **out,
			  struct cf_error *err) CF_MUST_CHECK;

/* What verification needs of the register for one certificate. */
struct verify_facts {
	json_t *facts;               /* {status, status_reason, review, valid_until, expired,
				      * compromised_since, superseded_by} (the source's reference) */
	unsigned char jws_sha256[32];
	long long log_index;
	bool included;               /* its inclusion proof checks against the latest signed tree head */
	long long tree_size;         /* that head's size; -1 when there is none */
};

/* Where verification looks things up: the database (certificate_verify), or
 * a process's memory kept current by notifications (conformd). Each returns
 * false when it does not know. */
struct verify_source {
	void *arg;
	bool (*key)(void *arg, const char *kid, unsigned char pub[32], char org[37], bool *retired);
	bool (*certificate)(void *arg, const char *serial, struct verify_facts *out);
	void (*release)(void *arg, struct verify_facts *f); /* after certificate() said true */
};

/* certificate_verify with its lookups in src. */
cf_err certificate_verify_from(const struct verify_source *src, const char *public_url,
			       const char *jws, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* The inclusion of log entry index under the latest signed tree head,
 * checked here (not taken from the database's word): *included, and that
 * head's size (-1 when there is none). */
cf_err certificate_inclusion(struct db *db, long long index, bool *included, long long *tree_size,
			     struct cf_error *err) CF_MUST_CHECK;

/* A body's status list credential for purpose (revocation | suspension),
 * signed by the body's current key (compact JWS, new string). */
cf_err certificate_status_list(struct db *db, const struct cert_ctx *ctx, const char *body_id,
			       const char *purpose, char **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Register export, streamed in pages. First, before a byte is sent: can the
 * export be signed at its end? CF_EUNAVAILABLE naming what is missing (the
 * service has no log key, conform-signer does not answer) when it cannot.
 */
cf_err certificate_export_check(struct db *db, const char *signer_socket,
				struct cf_error *err) CF_MUST_CHECK;
/* ...the header line (new reference)... */
cf_err certificate_export_header(struct db *db, const char *public_url, json_t **out,
				 struct cf_error *err) CF_MUST_CHECK;
/* ...lines of certificates after position *after (updated), at most limit;
 * *n is how many were appended (0 at the end)... */
cf_err certificate_export_lines(struct db *db, long long *after, int limit, struct buf *out, int *n,
				struct cf_error *err) CF_MUST_CHECK;
/* ...and the signature line over the SHA-256 of everything before it. */
cf_err certificate_export_signature(struct db *db, const char *signer_socket,
				    const unsigned char digest[32], long long count,
				    long long checkpoint_size, char **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The number of certificates in each effective status (as
 * conform_certificate_state decides it now), for metrics: one grouped query.
 * *out is a new object {status: count}; statuses with none are absent.
 */
cf_err certificate_count_by_status(struct db *db, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Reason codes of status changes. */
bool certificate_reason_known(const char *code);

#endif
