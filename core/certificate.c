/*
 * certificate: issuance, status, register, verification (see
 * certificate.h).
 */
#include "certificate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "carry.h"
#include "channels.h"
#include "codec.h"
#include "digest.h"
#include "ids.h"
#include "jsonx.h"
#include "jws.h"
#include "mem.h"
#include "merkle.h"
#include "rnd.h"
#include "signer.h"
#include "signerlink.h"
#include "statuslist.h"
#include "tlog.h"

#define JWS_MAX CERTIFICATE_JWS_MAX

static const char *const reason_codes[] = {
	"nonconformity",           /* surveillance or a complaint found one */
	"product_change",          /* the product changed outside the certified scope */
	"support_ended",           /* the security support period ended */
	"accreditation_withdrawn", /* the body may no longer certify */
	"manufacturer_request",
	"administrative",
	"other",
	"superseded",              /* set only by supersession (certificate_supersede) */
};

/* The status, event and reason code of a supersession: one word for all three. */
#define SUPERSEDED "superseded"

bool certificate_reason_known(const char *code)
{
	for (size_t i = 0; i < sizeof reason_codes / sizeof reason_codes[0]; i++)
		if (code && strcmp(code, reason_codes[i]) == 0)
			return true;
	return false;
}

static void status_list_url(const char *public_url, const char *body, const char *purpose,
			    char *out, size_t size)
{
	snprintf(out, size, "%s/v1/bodies/%s/status/%s", public_url, body, purpose);
}

/* ---- issuance ---- */

struct issue_job {
	const struct principal *p;
	const struct cert_ctx *ctx;
	const char *application_id;
	char serial[40];
	bool created;
};

/* Every position of purpose claimed at body (migration 0019). */
static cf_err used_indexes(struct db *db, const char *body, const char *purpose, unsigned **out,
			   size_t *n, struct cf_error *err)
{
	const char *p[] = { body, purpose };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT idx FROM status_index_claim WHERE body_id = $1 AND purpose = $2", 2, p);
	if (e)
		return e;
	*n = (size_t)PQntuples(res);
	*out = cf_calloc(*n ? *n : 1, sizeof **out);
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = (unsigned)db_value_ll(res, (int)i, 0);
	PQclear(res);
	return CF_OK;
}

/* Claims position idx of purpose at body for this transaction: *got is false
 * when another issuer holds it (committed, or in flight: the insert waits
 * for that transaction to end). */
static cf_err claim_index(struct db *db, const char *body, const char *purpose, unsigned idx,
			  bool *got, struct cf_error *err)
{
	char s[16];
	snprintf(s, sizeof s, "%u", idx);
	const char *p[] = { body, purpose, s };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO status_index_claim (body_id, purpose, idx) VALUES ($1, $2, $3)"
		" ON CONFLICT DO NOTHING RETURNING idx", 3, p);
	if (e)
		return e;
	*got = PQntuples(res) == 1;
	PQclear(res);
	return CF_OK;
}

/* Random draws before a list is taken for nearly full, and claims tried
 * then among its free positions. */
#define CLAIM_DRAWS 32
#define CLAIM_FREE_TRIES 64

/*
 * A free status list position of the body (the design: assigned at random
 * within the list), claimed in its own row so that issuers of one body need
 * no common lock and no read of the body's certificates: one indexed insert,
 * drawn again on the rare collision. A list so full that CLAIM_DRAWS draws
 * all collide is read once and the position drawn among its free ones; a
 * position another issuer claims meanwhile (its claim is not in what was
 * read) joins the used ones, so the next draw never picks it again.
 */
static cf_err pick_index(struct db *db, const char *body, bool revocation, unsigned *out,
			 struct cf_error *err)
{
	const char *purpose = revocation ? "revocation" : "suspension";
	bool got = false;
	for (int draw = 0; draw < CLAIM_DRAWS; draw++) {
		uint32_t r;
		rnd_bytes(&r, sizeof r);
		unsigned idx = r & (STATUSLIST_BITS - 1); /* 2^17 positions: uniform */
		cf_err e = claim_index(db, body, purpose, idx, &got, err);
		if (e)
			return e;
		if (got) {
			*out = idx;
			return CF_OK;
		}
	}
	unsigned *used = NULL;
	size_t n = 0;
	cf_err e = used_indexes(db, body, purpose, &used, &n, err);
	for (int try = 0; !e && try < CLAIM_FREE_TRIES; try++) {
		unsigned idx = 0;
		e = statuslist_random_index(used, n, &idx, err);
		if (!e)
			e = claim_index(db, body, purpose, idx, &got, err);
		if (!e && got) {
			*out = idx;
			break;
		}
		if (!e) {
			used = cf_reallocarray(used, n + 1, sizeof *used);
			used[n++] = idx;
		}
	}
	free(used);
	if (!e && !got)
		e = cf_error_set(err, CF_ECONFLICT, NULL,
				 "no free position of the body's %s status list could be claimed: try again",
				 purpose);
	return e;
}

/* What the credential states, gathered in one query: the manufacturer and
 * the product come from the application's snapshots taken when it left
 * draft, never from the live organisation or product. */
enum {
	I_STATE, I_TYPE, I_BODY, I_MAKER, I_SCHEME, I_VERSION, I_CLASS, I_PRODUCT, I_DECISION,
	I_DECIDED_AT, I_EVIDENCE, I_MSNAP, I_BNAME, I_DIGEST, I_STITLE, I_FROM, I_UNTIL, I_UNTIL_OK,
	I_YEAR,
};

/* The manufacturer node of the credential, from its snapshot (new reference). */
static json_t *manufacturer_node(const json_t *snap)
{
	char urn[64];
	snprintf(urn, sizeof urn, "urn:uuid:%s", jsonx_str(snap, "id"));
	json_t *m = json_pack("{s:s,s:O,s:O,s:{s:O,s:O,s:O}}", "id", urn, "name",
			      json_object_get(snap, "name"), "country", json_object_get(snap, "country"),
			      "vulnerabilityDisclosure", "contact",
			      json_object_get(snap, "security_contact"), "policy",
			      json_object_get(snap, "disclosure_policy_url"), "responseDays",
			      json_object_get(snap, "response_days"));
	if (jsonx_str(snap, "address"))
		json_object_set(m, "address", json_object_get(snap, "address"));
	if (jsonx_str(snap, "website"))
		json_object_set(m, "website", json_object_get(snap, "website"));
	return m;
}

/* The scheme version a certificate names, as a URL of this service that
 * serves it (a bare scheme id is a relative IRI: JSON-LD drops it). */
static void scheme_url_of(const char *public_url, const char *scheme, const char *version,
			  char *out, size_t size)
{
	snprintf(out, size, "%s/v1/schemes/%s/versions/%s", public_url, scheme, version);
}

static cf_err build_payload(const struct issue_job *j, const PGresult *r, const json_t *maker_snap,
			    const char *did, const char *acc_id, const char *acc_ref,
			    const char *acc_name, unsigned rev, unsigned sus, json_t *assessment,
			    const char *supersedes, json_t **out)
{
	const char *pub = j->ctx->public_url;
	json_t *product = json_loads(db_value(r, 0, I_PRODUCT), 0, NULL);
	char url[512], list[512], scheme_url[512];
	snprintf(url, sizeof url, "%s/v1/certificates/%s", pub, j->serial);
	json_t *prod = json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "id", "", "name",
				 json_object_get(product, "name"), "model", json_object_get(product, "model"),
				 "hardwareVersion", json_object_get(product, "hardware_version"),
				 "firmwareVersion", json_object_get(product, "firmware_version"),
				 "securitySupportEnd", json_object_get(product, "support_end"));
	char urn[64];
	snprintf(urn, sizeof urn, "urn:uuid:%s", jsonx_str(product, "id"));
	json_object_set_new(prod, "id", json_string(urn));
	if (jsonx_str(product, "gtin"))
		json_object_set(prod, "gtin", json_object_get(product, "gtin"));
	if (jsonx_str(product, "product_page"))
		json_object_set(prod, "productPage", json_object_get(product, "product_page"));
	json_decref(product);
	char digest[80], evidence[80], acc[64], ctx_url[512], schema[512];
	scheme_url_of(pub, db_value(r, 0, I_SCHEME), db_value(r, 0, I_VERSION), scheme_url,
		      sizeof scheme_url);
	snprintf(digest, sizeof digest, "sha256:%s", db_value(r, 0, I_DIGEST));
	snprintf(evidence, sizeof evidence, "sha256:%s", db_value(r, 0, I_EVIDENCE));
	snprintf(acc, sizeof acc, "urn:uuid:%s", acc_id);
	snprintf(ctx_url, sizeof ctx_url, "%s/contexts/conformity/v1", pub);
	snprintf(schema, sizeof schema, "%s/schemas/conformity-certificate/v1", pub);
	json_t *status = json_array();
	status_list_url(pub, db_value(r, 0, I_BODY), "revocation", list, sizeof list);
	json_array_append_new(status, statuslist_entry(list, "revocation", rev));
	status_list_url(pub, db_value(r, 0, I_BODY), "suspension", list, sizeof list);
	json_array_append_new(status, statuslist_entry(list, "suspension", sus));
	char name[96];
	snprintf(name, sizeof name, "Certificate of conformity %s", j->serial);
	*out = json_pack(
		"{s:[s,s],s:s,s:[s,s],s:s,s:{s:s,s:s},s:s,s:s,"
		"s:{s:s,s:s,s:s,s:o,s:o,"
		"s:{s:s,s:s,s:s,s:s},s:i,s:{s:s,s:s,s:s},s:{s:s,s:s}},"
		"s:{s:s,s:s},s:o}",
		"@context", "https://www.w3.org/ns/credentials/v2", ctx_url, "id", url, "type",
		"VerifiableCredential", "ConformityCertificate", "name", name, "issuer", "id", did, "name",
		db_value(r, 0, I_BNAME), "validFrom", db_value(r, 0, I_FROM), "validUntil",
		db_value(r, 0, I_UNTIL), "credentialSubject", "type", "ConformityAttestation", "serial",
		j->serial, "assessmentType", db_value(r, 0, I_TYPE), "manufacturer",
		manufacturer_node(maker_snap), "product", prod, "scheme", "id", scheme_url, "version",
		db_value(r, 0, I_VERSION), "name",
		db_value(r, 0, I_STITLE), "digest", digest, "complianceClass",
		atoi(db_value(r, 0, I_CLASS)), "accreditation", "id", acc, "reference", acc_ref,
		"accreditor", acc_name, "decision", "date", db_value(r, 0, I_DECIDED_AT),
		"evidenceDigest", evidence, "credentialSchema", "id", schema, "type", "JsonSchema",
		"credentialStatus", status);
	if (!*out)
		return CF_EINTERNAL;
	/* what was carried from an earlier certificate, and which one this replaces */
	json_t *subject = json_object_get(*out, "credentialSubject");
	if (assessment)
		json_object_set(subject, "assessment", assessment);
	if (supersedes[0]) {
		snprintf(url, sizeof url, "%s/v1/certificates/%s", pub, supersedes);
		json_object_set_new(subject, "supersedes", json_string(url));
	}
	return CF_OK;
}

/* A certificate's row as a status change reads it, locked until commit. */
struct status_row {
	char status[16], body[37], maker[37], at[32];
	long long seq;
};

/* Locks serial's row and reads it (CF_ENOTFOUND when there is none). */
static cf_err status_row_lock(struct db *db, const char *serial, struct status_row *out,
			      struct cf_error *err)
{
	const char *p[] = { serial };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT status, body_id, manufacturer_id, " DB_TS("now()") ", seq FROM certificate"
		" WHERE serial = $1 FOR UPDATE", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	}
	snprintf(out->status, sizeof out->status, "%s", db_value(res, 0, 0));
	snprintf(out->body, sizeof out->body, "%s", db_value(res, 0, 1));
	snprintf(out->maker, sizeof out->maker, "%s", db_value(res, 0, 2));
	snprintf(out->at, sizeof out->at, "%s", db_value(res, 0, 3));
	out->seq = db_value_ll(res, 0, 4);
	PQclear(res);
	return CF_OK;
}

/*
 * Before the log lock: locks the certificate a change application's
 * certificate will supersede, as every status change takes the row before
 * the log (no deadlock with a suspension meanwhile), and says whether it is
 * to be superseded: not when it was withdrawn meanwhile (the new one still
 * names it: it replaces it); CF_ESTATE when another certificate superseded
 * it first.
 */
static cf_err supersede_ready(struct db *db, const char *serial, bool *supersede,
			      struct cf_error *err)
{
	struct status_row old;
	cf_err e = status_row_lock(db, serial, &old, err);
	*supersede = !e && strcmp(old.status, "withdrawn") != 0;
	if (*supersede && strcmp(old.status, SUPERSEDED) == 0)
		e = cf_error_set(err, CF_ESTATE, NULL,
				 "%s was superseded by another certificate meanwhile: open a change "
				 "application of that certificate", serial);
	return e;
}

static cf_err issue_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct issue_job *j = arg;
	const char *ap[] = { j->application_id };
	PGresult *r = NULL, *res = NULL;
	json_t *payload = NULL, *header = NULL, *entry = NULL, *details = NULL, *maker = NULL;
	json_t *product = NULL, *assessment = NULL;
	char supersedes[40] = "";
	bool supersede = false;
	char *payload_text = NULL, *jws = NULL;
	cf_err e = db_query_hot(db, &r, err,
		"SELECT a.state, a.assessment_type, coalesce(a.body_id::text, ''), a.manufacturer_id,"
		" a.scheme_id, a.scheme_version, a.class, a.product_snapshot::text, d.decision, "
		DB_TS("d.decided_at") ", d.evidence_digest, a.manufacturer_snapshot::text, b.name,"
		" v.digest, v.title, "
		DB_TS("date_trunc('second', now())") ", "
		DB_TS("least(date_trunc('second', now()) + make_interval(days =>"
		" v.certificate_validity_days), ((a.product_snapshot->>'support_end')::date + 1)::timestamp"
		" AT TIME ZONE 'UTC')") ","
		" ((a.product_snapshot->>'support_end')::date + 1)::timestamp AT TIME ZONE 'UTC'"
		" > now() + interval '1 day', to_char(now() AT TIME ZONE 'UTC', 'YYYY')"
		" FROM application a LEFT JOIN application_decision d ON d.application_id = a.id"
		" LEFT JOIN organisation b ON b.id = a.body_id"
		" JOIN scheme_version v ON v.scheme_id = a.scheme_id AND v.version = a.scheme_version"
		" WHERE a.id = $1 FOR UPDATE OF a", 1, ap);
	if (e)
		goto out;
	if (PQntuples(r) == 0) {
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %s", j->application_id);
		goto out;
	}
	const char *body = db_value(r, 0, I_BODY);
	if (strcmp(db_value(r, 0, I_TYPE), "self") == 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "a self declaration is the manufacturer's own statement: no body issues "
				 "a certificate for it");
		goto out;
	}
	if (strcmp(body, j->p->org_id) != 0 || !(j->p->roles & ROLE_CERTIFIER)) {
		e = cf_error_set(err, CF_EFORBIDDEN, NULL, "the application's body's certifiers issue its certificate");
		goto out;
	}
	/* Issued before: the same certificate again. Read after the row lock, in a statement
	 * of its own, so that a concurrent issue that committed while we waited is seen. */
	e = db_query_hot(db, &res, err, "SELECT serial FROM certificate WHERE application_id = $1", 1, ap);
	if (e)
		goto out;
	if (PQntuples(res) == 1) {
		snprintf(j->serial, sizeof j->serial, "%s", db_value(res, 0, 0));
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (strcmp(db_value(r, 0, I_STATE), "decided") != 0 || !db_value(r, 0, I_DECISION) ||
	    strcmp(db_value(r, 0, I_DECISION), "approved") != 0) {
		e = cf_error_set(err, CF_ESTATE, NULL,
				 "a certificate follows an approval; the application is %s%s%s",
				 db_value(r, 0, I_STATE), db_value(r, 0, I_DECISION) ? " and " : "",
				 db_value(r, 0, I_DECISION) ? db_value(r, 0, I_DECISION) : "");
		goto out;
	}
	/* what was submitted, and only that, is signed */
	maker = db_value(r, 0, I_MSNAP) ? json_loads(db_value(r, 0, I_MSNAP), 0, NULL) : NULL;
	product = db_value(r, 0, I_PRODUCT) ? json_loads(db_value(r, 0, I_PRODUCT), 0, NULL) : NULL;
	if (!jsonx_str(maker, "name") || !jsonx_str(product, "name")) {
		e = cf_error_set(err, CF_ESTATE, NULL,
				 "the application holds no snapshot of the manufacturer and product as "
				 "submitted: nothing can be signed");
		goto out;
	}
	if (!db_value_bool(r, 0, I_UNTIL_OK)) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "the product's security support period ends within a day: no certificate");
		goto out;
	}
	/* the accreditation the certificate is issued under, now */
	const char *cp[] = { body, db_value(r, 0, I_SCHEME), db_value(r, 0, I_VERSION),
			     db_value(r, 0, I_CLASS) };
	e = db_query_hot(db, &res, err,
		"SELECT a.id, a.reference, o.name FROM accreditation a JOIN organisation o"
		" ON o.id = a.accreditor_id WHERE a.id = conform_cover($1, $2, $3, $4::integer, now())",
		4, cp);
	if (e)
		goto out;
	if (PQntuples(res) == 0) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "the body's accreditation does not cover %s@%s class %s now: no certificate "
				 "is issued under a suspended or lapsed accreditation",
				 db_value(r, 0, I_SCHEME), db_value(r, 0, I_VERSION), db_value(r, 0, I_CLASS));
		goto out;
	}
	char acc_id[37], acc_ref[128], acc_name[256];
	snprintf(acc_id, sizeof acc_id, "%s", db_value(res, 0, 0));
	snprintf(acc_ref, sizeof acc_ref, "%s", db_value(res, 0, 1));
	snprintf(acc_name, sizeof acc_name, "%s", db_value(res, 0, 2));
	PQclear(res);
	res = NULL;

	char kid[SIGNER_KID_LEN];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	e = signer_current(db, body, kid, pub, err);
	if (!e)
		e = signer_private(db, kid, j->ctx->signer_socket, &key, err);
	if (e)
		goto out;

	/*
	 * Everything up to the signature runs beside other issuers: positions
	 * are claimed row by row, the serial comes from a sequence (its gaps
	 * are harmless: serials are names, not a log). Only the log append and
	 * the audit record below serialise issuers, from their locks to commit.
	 */
	unsigned rev = 0, sus = 0;
	e = pick_index(db, body, true, &rev, err);
	if (!e)
		e = pick_index(db, body, false, &sus, err);
	if (!e)
		e = db_query_hot(db, &res, err, "SELECT nextval('certificate_serial_seq')", 0, NULL);
	if (e)
		goto out;
	long long seq = db_value_ll(res, 0, 0);
	PQclear(res);
	res = NULL;
	snprintf(j->serial, sizeof j->serial, "CF-%s-%06lld", db_value(r, 0, I_YEAR), seq);

	char did[SIGNER_DID_LEN], fullkid[SIGNER_DID_LEN + SIGNER_KID_LEN];
	signer_did(j->ctx->public_url, body, did);
	snprintf(fullkid, sizeof fullkid, "%s#%s", did, kid);
	e = carry_statement(db, j->ctx->public_url, j->application_id, &assessment, supersedes, err);
	if (!e && supersedes[0])
		e = supersede_ready(db, supersedes, &supersede, err);
	if (e)
		goto out;
	e = build_payload(j, r, maker, did, acc_id, acc_ref, acc_name, rev, sus, assessment, supersedes,
			  &payload);
	if (e) {
		cf_error_set(err, CF_EINTERNAL, NULL, "the credential could not be built");
		goto out;
	}
	header = json_pack("{s:s,s:s,s:s,s:s}", "alg", "EdDSA", "typ", "vc+jwt", "cty", "vc", "kid", fullkid);
	payload_text = json_dumps(payload, JSON_COMPACT);
	e = jws_sign(key, header, payload_text, strlen(payload_text), &jws, err);
	if (e)
		goto out;

	char jws_hash[65];
	digest_sha256_hex(jws, strlen(jws), jws_hash);
	entry = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "issuance", "serial", j->serial, "issuer",
			  did, "jws_sha256", jws_hash, "at", db_value(r, 0, I_FROM));
	if (supersedes[0])
		json_object_set_new(entry, "supersedes", json_string(supersedes));
	char seqs[24], revs[16], suss[16];
	snprintf(seqs, sizeof seqs, "%lld", seq);
	snprintf(revs, sizeof revs, "%u", rev);
	snprintf(suss, sizeof suss, "%u", sus);
	const char *ip[] = { j->serial, seqs, j->application_id, body, db_value(r, 0, I_MAKER),
			     db_value(r, 0, I_SCHEME), db_value(r, 0, I_VERSION), db_value(r, 0, I_CLASS),
			     acc_id, kid, db_value(r, 0, I_FROM), db_value(r, 0, I_UNTIL), payload_text,
			     jws, revs, suss, j->p->user_id, jsonx_str(maker, "name"),
			     jsonx_str(product, "name"), jsonx_str(product, "model"),
			     jsonx_str(product, "firmware_version"), db_value(r, 0, I_BNAME) };
	/*
	 * The register shows and searches what the credential says, kept beside
	 * it. The row is written before the log lock, without its log position
	 * (migration 0019): its checks, rendering and storage are the costliest
	 * statement of an issue, and need no order among issuers.
	 */
	e = db_query_hot(db, NULL, err,
		"INSERT INTO certificate (serial, seq, application_id, body_id, manufacturer_id,"
		" scheme_id, scheme_version, class, accreditation_id, kid, valid_from, valid_until,"
		" payload, jws, revocation_index, suspension_index, issued_by,"
		" manufacturer_name, product_name, product_model, firmware_version, issuer_name)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
		" $19, $20, $21, $22)",
		22, ip);
	if (e)
		goto out;
	/*
	 * From here to commit, issuers go one at a time: the log's order. One
	 * call takes the log and audit locks, appends the entry, sets the
	 * certificate's position and records its event (migration 0019); the
	 * audit record and the commit follow.
	 */
	char *canon = NULL, leaf[65];
	e = tlog_leaf(entry, &canon, leaf, err);
	if (e)
		goto out;
	const char *lp[] = { j->serial, canon, leaf, j->p->user_id };
	e = db_query_hot(db, &res, err,
		"SELECT log_index, audit_seq, audit_hash FROM conform_issue_logged($1, $2, $3, $4)", 4,
		lp);
	free(canon);
	if (e)
		goto out;
	long long index = db_value_ll(res, 0, 0);
	long long audit_seq = db_value(res, 0, 1) ? db_value_ll(res, 0, 1) : 0;
	char audit_hash[65];
	snprintf(audit_hash, sizeof audit_hash, "%s", db_value(res, 0, 2) ? db_value(res, 0, 2) : "");
	PQclear(res);
	res = NULL;
	details = json_pack("{s:s,s:s,s:s,s:I}", "application_id", j->application_id, "kid", kid,
			    "valid_until", db_value(r, 0, I_UNTIL), "log_index", (json_int_t)index);
	struct audit_actor actor = party_actor(j->p);
	e = audit_append_at(db, audit_seq, audit_hash[0] ? audit_hash : NULL, &actor,
			    "certificate.issue", "certificate", j->serial, details, err);
	/* a change application's certificate replaces the one it was opened from */
	if (!e && supersede)
		e = certificate_supersede(db, j->p, supersedes, j->serial, err);
	if (!e)
		j->created = true;
out:
	PQclear(r);
	PQclear(res);
	json_decref(payload);
	json_decref(header);
	json_decref(entry);
	json_decref(details);
	json_decref(maker);
	json_decref(product);
	json_decref(assessment);
	free(payload_text);
	free(jws);
	return e;
}

cf_err certificate_issue(struct db *db, const struct principal *p, const struct cert_ctx *ctx,
			 const char *application_id, json_t **out, bool *created, struct cf_error *err)
{
	*out = NULL;
	*created = false;
	if (!ids_is_uuid(application_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no application %.40s", application_id);
	struct issue_job j = { p, ctx, application_id, "", false };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, issue_tx, &j, err);
	if (e)
		return e;
	*created = j.created;
	return certificate_get(db, ctx->public_url, j.serial, out, err);
}

/* ---- reading ---- */

/*
 * A certificate's status is read from one definition, the SQL function
 * conform_certificate_state (migration 0011), by every surface: joined after
 * "FROM certificate c" as s, it gives s.status, s.review, s.review_since and
 * s.next_change at now() (or at $2 when given).
 */
#define STATE_JOIN " CROSS JOIN LATERAL conform_certificate_state(c, now()) s"
#define STATE_AT_JOIN " CROSS JOIN LATERAL conform_certificate_state(c, coalesce($2::timestamptz, now())) s"

/* The review member: null, or why the certificate awaits review (its body's
 * accreditation was suspended or withdrawn after issue) and since when. */
static json_t *review_json(const char *code, const char *since)
{
	if (!code)
		return json_null();
	bool withdrawn = strcmp(code, "accreditation_withdrawn") == 0;
	return json_pack("{s:b,s:s,s:s,s:s}", "required", 1, "code", code, "reason",
			 withdrawn ? "the body's accreditation under which it was issued was withdrawn"
				   : "the body's accreditation under which it was issued is suspended",
			 "since", since ? since : "");
}

cf_err certificate_state(struct db *db, const char *serial, const char *at, json_t **out,
			 struct cf_error *err)
{
	*out = NULL;
	const char *p[] = { serial, at };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT s.status, s.review, " DB_TS("s.review_since") ", " DB_TS_US("s.next_change") ", "
		DB_TS_US("coalesce($2::timestamptz, now())") " FROM certificate c" STATE_AT_JOIN
		" WHERE c.serial = $1", 2, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	}
	*out = json_pack("{s:s,s:s,s:s,s:o,s:o}", "serial", serial, "at", db_value(res, 0, 4), "status",
			 db_value(res, 0, 0), "review", review_json(db_value(res, 0, 1), db_value(res, 0, 2)),
			 "next_change", jsonx_text_or_null(db_value(res, 0, 3)));
	PQclear(res);
	return CF_OK;
}

/*
 * What a certificate's answer says of its key's compromise (cert: the answer
 * being built; live: its status from conform_certificate_state; since,
 * at: the key's compromised_since and when that was declared, NULL when it
 * was not): the key's time, and for a certificate signed after it, the
 * reason in place of the stored one.
 */
/* What a certificate signed after its key's compromise says in place of its
 * stored status reason. */
static void compromise_reason(char out[200], const char *since)
{
	snprintf(out, 200, "signed with the body's key after it was compromised (since %s): not the body's statement",
		 since);
}

static void key_compromise_note(json_t *cert, const char *live, const char *since, const char *at)
{
	if (!since)
		return;
	json_object_set_new(json_object_get(cert, "key"), "compromised_since", json_string(since));
	if (strcmp(live, "key_compromised") != 0)
		return;
	char reason[200];
	compromise_reason(reason, since);
	json_object_set_new(cert, "status_reason_code", json_string("key_compromised"));
	json_object_set_new(cert, "status_reason", json_string(reason));
	json_object_set_new(cert, "status_changed_at", json_string(at));
}

/* The superseded_by member: null, or the successor's serial and the URL of
 * its answer (new reference). */
static json_t *successor_json(const char *public_url, const char *serial)
{
	if (!serial)
		return json_null();
	char url[512];
	snprintf(url, sizeof url, "%s/v1/certificates/%s", public_url, serial);
	return json_pack("{s:s,s:s}", "serial", serial, "url", url);
}

cf_err certificate_get(struct db *db, const char *public_url, const char *serial, json_t **out,
		       struct cf_error *err)
{
	return certificate_get_cacheable(db, public_url, serial, out, NULL, err);
}

cf_err certificate_get_cacheable(struct db *db, const char *public_url, const char *serial,
				 json_t **out, long long *stale_at_ms, struct cf_error *err)
{
	*out = NULL;
	if (stale_at_ms)
		*stale_at_ms = 0;
	const char *p[] = { serial };
	PGresult *res = NULL, *ev = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.serial, s.status, c.status_reason_code, c.status_reason, "
		DB_TS("c.status_changed_at") ", " DB_TS("c.valid_from") ", " DB_TS("c.valid_until") ","
		" c.payload, c.kid, k.retired_at IS NOT NULL, c.body_id, c.issuer_name, c.log_index,"
		" l.leaf_hash, (SELECT max(size) FROM tlog_checkpoint) > c.log_index, a.reference,"
		" s.review, " DB_TS("s.review_since") ", " DB_TS("c.issued_at") ", c.application_id,"
		" floor(extract(epoch FROM s.next_change) * 1000)::bigint, "
		DB_TS_US("k.compromised_since") ", " DB_TS("k.compromised_at") ", c.superseded_by"
		" FROM certificate c" STATE_JOIN " JOIN signing_key k ON k.kid = c.kid"
		" JOIN accreditation a ON a.id = c.accreditation_id"
		" JOIN tlog_entry l ON l.idx = c.log_index WHERE c.serial = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	}
	e = db_query_hot(db, &ev, err,
		"SELECT seq, action, reason_code, reason, " DB_TS("at") ", log_index FROM certificate_event"
		" WHERE serial = $1 ORDER BY seq", 1, p);
	if (e) {
		PQclear(ev);
		PQclear(res);
		return e;
	}
	json_t *history = json_array();
	for (int i = 0; i < PQntuples(ev); i++)
		json_array_append_new(history,
			json_pack("{s:s,s:o,s:o,s:s,s:I}", "action", db_value(ev, i, 1), "reason_code",
				  jsonx_text_or_null(db_value(ev, i, 2)), "reason", jsonx_text_or_null(db_value(ev, i, 3)),
				  "at", db_value(ev, i, 4), "log_index", (json_int_t)db_value_ll(ev, i, 5)));
	PQclear(ev);
	char did[SIGNER_DID_LEN], url[512], leafb64[64];
	signer_did(public_url, db_value(res, 0, 10), did);
	unsigned char leaf[32];
	char *b64 = NULL;
	if (codec_hex_decode(db_value(res, 0, 13), leaf, 32, NULL) == CF_OK)
		b64 = codec_b64_encode(leaf, 32);
	snprintf(leafb64, sizeof leafb64, "%s", b64 ? b64 : "");
	free(b64);
	const char *live = db_value(res, 0, 1);
	const char *compromised = db_value(res, 0, 21);
	/* a body that lost its accreditation: its live certificates await review */
	json_t *review = review_json(db_value(res, 0, 16), db_value(res, 0, 17));
	if (stale_at_ms && db_value(res, 0, 20))
		*stale_at_ms = db_value_ll(res, 0, 20);
	snprintf(url, sizeof url, "%s/verify/%s", public_url, serial);
	json_t *credential = json_loads(db_value(res, 0, 7), 0, NULL);
	char jws_url[512];
	snprintf(jws_url, sizeof jws_url, "%s/v1/certificates/%s/jws", public_url, serial);
	/* the key as the JWS header, the JWKS and the DID document name it */
	char *method = cf_asprintf("%s#%s", did, db_value(res, 0, 8));
	*out = json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:b,s:{s:s,s:s,s:s,s:s},s:{s:s,s:s,s:s},"
			 "s:{s:I,s:s,s:b},s:o,s:o,s:o,s:s,s:{s:s,s:s}}",
		"serial", serial, "status", live, "status_reason_code", jsonx_text_or_null(db_value(res, 0, 2)),
		"status_reason", jsonx_text_or_null(db_value(res, 0, 3)), "status_changed_at",
		jsonx_text_or_null(db_value(res, 0, 4)), "valid_from", db_value(res, 0, 5), "valid_until",
		db_value(res, 0, 6), "expired", strcmp(live, "expired") == 0, "issuer", "id", did, "name",
		db_value(res, 0, 11), "body_id", db_value(res, 0, 10), "accreditation_reference",
		db_value(res, 0, 15), "key", "kid", db_value(res, 0, 8), "verification_method", method, "state",
		compromised ? "compromised" : db_value_bool(res, 0, 9) ? "retired" : "active", "log", "index",
		(json_int_t)db_value_ll(res, 0, 12), "leaf_hash", leafb64, "in_signed_tree_head",
		db_value_bool(res, 0, 14), "history", history, "review", review, "credential",
		credential ? credential : json_null(), "issued_at", db_value(res, 0, 18), "links",
		"jws", jws_url, "verify", url);
	free(method);
	json_object_set_new(*out, "superseded_by", successor_json(public_url, db_value(res, 0, 23)));
	key_compromise_note(*out, live, compromised, db_value(res, 0, 22));
	PQclear(res);
	return CF_OK;
}

cf_err certificate_stored(struct db *db, const char *serial, struct cert_stored *out,
			  struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	const char *p[] = { serial };
	PGresult *res = NULL;
	/* one row by its key: no join, no function of the row; what depends on
	 * other tables (the key, the accreditation, the signed tree head) the
	 * caller holds in memory */
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.serial, c.status, c.status_reason_code, c.status_reason, "
		DB_TS("c.status_changed_at") ", " DB_TS("c.valid_until") ", c.kid, c.accreditation_id,"
		" c.log_leaf, c.history, c.public_part, c.payload, c.jws_sha256,"
		" floor(extract(epoch FROM c.issued_at) * 1000000)::bigint,"
		" floor(extract(epoch FROM c.valid_until) * 1000000)::bigint, c.log_index, c.superseded_by,"
		/* the successor's URL as public_part writes the links (only a
		 * superseded certificate reads the identity) */
		" CASE WHEN c.superseded_by IS NOT NULL THEN (SELECT i.public_url FROM service_identity i)"
		"  || '/v1/certificates/' || c.superseded_by END"
		" FROM certificate c WHERE c.serial = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	}
	out->res = res;
	const char **f[] = { &out->serial, &out->status, &out->reason_code, &out->reason, &out->changed_at,
			     &out->valid_until, &out->kid, &out->accreditation_id, &out->log_leaf,
			     &out->history, &out->public_part, &out->payload, &out->jws_sha256 };
	for (int i = 0; i < (int)(sizeof f / sizeof f[0]); i++)
		*f[i] = db_value(res, 0, i);
	out->issued_us = db_value_ll(res, 0, 13);
	out->valid_until_us = db_value_ll(res, 0, 14);
	out->log_index = db_value_ll(res, 0, 15);
	out->superseded_by = db_value(res, 0, 16);
	out->superseded_url = db_value(res, 0, 17);
	return CF_OK;
}

void certificate_stored_clear(struct cert_stored *c)
{
	PQclear(c->res);
	memset(c, 0, sizeof *c);
}

/* review_json as text (caller frees): null, or {required, code, reason, since}. */
static char *review_text(const struct certstate *st)
{
	if (!st->review)
		return cf_strdup("null");
	json_t *r = review_json(st->review, st->review_since);
	char *t = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return t ? t : cf_strdup("null");
}

/* Appends prefix (punctuation and a member's name) and value as a JSON
 * string, or null. */
static cf_err member(struct buf *b, const char *prefix, const char *value, struct cf_error *err)
{
	cf_err e = buf_puts(b, prefix, err);
	return e ? e : jsonx_append_string(b, value, err);
}

/* Appends the superseded_by member (successor_json) with its leading comma. */
static cf_err successor_member(struct buf *b, const struct cert_stored *c, struct cf_error *err)
{
	if (!c->superseded_by)
		return buf_puts(b, ",\"superseded_by\":null", err);
	cf_err e = member(b, ",\"superseded_by\":{\"serial\":", c->superseded_by, err);
	if (!e)
		e = member(b, ",\"url\":", c->superseded_url, err);
	return e ? e : buf_puts(b, "}", err);
}

cf_err certificate_render(const struct cert_stored *c, const struct certstate *st,
			  const struct cert_key_view *key, bool in_head, struct buf *out, struct buf *facts,
			  struct cf_error *err)
{
	/* a key compromised before the signature: the key's reason in place of
	 * the stored one (key_compromise_note) */
	const char *code = c->reason_code, *reason = c->reason, *changed = c->changed_at;
	char why[200];
	if (strcmp(st->status, "key_compromised") == 0 && key->compromised_since) {
		compromise_reason(why, key->compromised_since);
		code = "key_compromised";
		reason = why;
		changed = key->compromised_at;
	}
	bool expired = strcmp(st->status, "expired") == 0;
	const char *expired_text = expired ? "true" : "false";
	/* the stored parts, and room for the members around them */
	buf_expect(out, strlen(c->payload) + strlen(c->public_part) + strlen(c->history) +
				(reason ? 2 * strlen(reason) : 0) + 1024);
	const char *kstate = key->compromised_since ? "compromised" : key->retired ? "retired" : "active";
	char *review = review_text(st);
	cf_err e = member(out, "{\"status\":", st->status, err);
	if (!e)
		e = member(out, ",\"status_reason_code\":", code, err);
	if (!e)
		e = member(out, ",\"status_reason\":", reason, err);
	if (!e)
		e = member(out, ",\"status_changed_at\":", changed, err);
	if (!e)
		e = buf_printf(out, err, ",\"expired\":%s", expired_text);
	if (!e)
		e = successor_member(out, c, err);
	if (!e)
		e = member(out, ",\"key\":{\"kid\":", c->kid, err);
	if (!e)
		e = member(out, ",\"verification_method\":", key->method, err);
	if (!e)
		e = buf_printf(out, err, ",\"state\":\"%s\"", kstate);
	if (!e && key->compromised_since)
		e = member(out, ",\"compromised_since\":", key->compromised_since, err);
	if (!e)
		e = buf_printf(out, err, "},\"log\":{\"index\":%lld", c->log_index);
	if (!e)
		e = member(out, ",\"leaf_hash\":", c->log_leaf, err);
	if (!e)
		e = buf_printf(out, err, ",\"in_signed_tree_head\":%s},\"history\":%s,\"review\":%s,\"credential\":",
			       in_head ? "true" : "false", c->history, review);
	if (!e)
		e = buf_puts(out, c->payload, err);
	/* the members that never change, stored as one object at issuance:
	 * spliced in without its braces */
	size_t n = strlen(c->public_part);
	if (!e && (n < 2 || c->public_part[0] != '{' || c->public_part[n - 1] != '}'))
		e = cf_error_set(err, CF_EINTERNAL, NULL, "certificate %.40s: its stored answer is damaged",
				 c->serial);
	if (!e && n > 2) {
		e = buf_puts(out, ",", err);
		if (!e)
			e = buf_append(out, c->public_part + 1, n - 2, err);
	}
	if (!e)
		e = buf_puts(out, "}", err);
	if (!e && facts) {
		e = member(facts, "{\"status\":", st->status, err);
		if (!e)
			e = member(facts, ",\"status_reason\":", reason, err);
		if (!e)
			e = buf_printf(facts, err, ",\"review\":%s", review);
		if (!e)
			e = member(facts, ",\"valid_until\":", c->valid_until, err);
		if (!e)
			e = buf_printf(facts, err, ",\"expired\":%s", expired_text);
		if (!e)
			e = member(facts, ",\"compromised_since\":", key->compromised_since, err);
		if (!e)
			e = successor_member(facts, c, err);
		if (!e)
			e = buf_puts(facts, "}", err);
	}
	free(review);
	return e;
}

cf_err certificate_jws(struct db *db, const char *serial, char **out, struct cf_error *err)
{
	*out = NULL;
	const char *p[] = { serial };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT jws FROM certificate WHERE serial = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		*out = cf_strdup(db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	PQclear(res);
	return e;
}

cf_err certificate_issuer(struct db *db, const char *serial, char body_id[37], struct cf_error *err)
{
	const char *p[] = { serial };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT body_id FROM certificate WHERE serial = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 1)
		snprintf(body_id, 37, "%s", db_value(res, 0, 0));
	else
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no certificate %.40s", serial);
	PQclear(res);
	return e;
}

/* ---- status ---- */

struct change_job {
	const struct principal *p;
	const char *serial, *action, *reason_code, *reason;
};

static const struct {
	const char *action, *from, *to, *event;
} changes[] = {
	{ "suspend", "valid", "suspended", "suspended" },
	{ "reinstate", "suspended", "valid", "reinstated" },
	{ "withdraw", "valid", "withdrawn", "withdrawn" },
	{ "withdraw", "suspended", "withdrawn", "withdrawn" },
};

/* CF_ESTATE for a change the stored status does not allow, with the status
 * in the problem's extra member "state". */
static cf_err status_refused(const char *what, const char *status, struct cf_error *err)
{
	char extra[64];
	snprintf(extra, sizeof extra, "{\"state\":\"%s\"}", status);
	cf_error_set(err, CF_ESTATE, NULL, "cannot %s a certificate that is %s%s", what, status,
		     strcmp(status, "withdrawn") == 0	   ? " (withdrawal is final)"
		     : strcmp(status, "superseded") == 0 ? " (supersession is final)"
							   : "");
	cf_error_set_extra(err, extra);
	return CF_ESTATE;
}

/* One status change as it is written: the new status, its event and reason,
 * the successor (superseded_by, NULL unless superseded), the transaction's
 * now as the log states it, and the audit action. */
struct status_change {
	const char *serial, *to, *event, *reason_code, *reason, *superseded_by, *at, *audit_action;
};

/*
 * Writes a status change of a row the caller locked (status_row_lock): the
 * log entry, the row, its event (with the entry's position), the
 * notification conformd processes drop their cached answer on, and one audit
 * record. In the caller's transaction.
 */
static cf_err status_apply(struct db *db, const struct principal *p, const struct status_change *c,
			   struct cf_error *err)
{
	json_t *entry = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "status", "serial", c->serial, "status",
				  c->to, "reason_code", c->reason_code, "at", c->at);
	if (c->superseded_by)
		json_object_set_new(entry, "superseded_by", json_string(c->superseded_by));
	long long index = 0;
	cf_err e = tlog_append(db, "status", c->serial, entry, &index, err);
	json_decref(entry);
	if (e)
		return e;
	char idx[24];
	snprintf(idx, sizeof idx, "%lld", index);
	const char *up[] = { c->serial, c->to, c->reason_code, c->reason, c->superseded_by };
	e = db_query_hot(db, NULL, err,
		"UPDATE certificate SET status = $2, status_reason_code = $3, status_reason = $4,"
		" status_changed_at = now(), superseded_by = $5 WHERE serial = $1", 5, up);
	if (!e) {
		/* seq is read here, after the row lock, not with it: a statement's snapshot
		 * predates the lock wait and would miss an event committed meanwhile */
		const char *ep[] = { c->serial, c->event, c->reason_code, c->reason, p->user_id, idx };
		e = db_query_hot(db, NULL, err,
			"INSERT INTO certificate_event (serial, seq, action, reason_code, reason, actor_id,"
			" log_index) SELECT $1, max(seq) + 1, $2, $3, $4, $5, $6 FROM certificate_event"
			" WHERE serial = $1", 6, ep);
	}
	if (e)
		return e;
	/* conformd processes drop what they cached of it, at commit */
	const char *np[] = { c->serial };
	e = db_query_hot(db, NULL, err, "SELECT pg_notify('" CHANNEL_CERTIFICATE "', $1)", 1, np);
	if (e)
		return e;
	json_t *details = json_pack("{s:s,s:s,s:s,s:I}", "status", c->to, "reason_code", c->reason_code,
				    "reason", c->reason, "log_index", (json_int_t)index);
	if (c->superseded_by)
		json_object_set_new(details, "superseded_by", json_string(c->superseded_by));
	struct audit_actor actor = party_actor(p);
	e = audit_append(db, &actor, c->audit_action, "certificate", c->serial, details, err);
	json_decref(details);
	return e;
}

static cf_err change_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct change_job *j = arg;
	struct status_row row;
	cf_err e = status_row_lock(db, j->serial, &row, err);
	if (e)
		return e;
	if (!(j->p->roles & ROLE_ADMIN) && strcmp(row.body, j->p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL, "the issuing body's certifiers change its status");
	size_t k = 0;
	while (k < sizeof changes / sizeof changes[0] &&
	       !(strcmp(changes[k].action, j->action) == 0 && strcmp(changes[k].from, row.status) == 0))
		k++;
	if (k == sizeof changes / sizeof changes[0])
		return status_refused(j->action, row.status, err);
	char action[48];
	snprintf(action, sizeof action, "certificate.%s", j->action);
	struct status_change c = { j->serial, changes[k].to, changes[k].event, j->reason_code, j->reason,
				   NULL, row.at, action };
	return status_apply(db, j->p, &c, err);
}

cf_err certificate_change(struct db *db, const struct principal *p, const char *public_url,
			  const char *serial, const char *action, const json_t *body, json_t **out,
			  struct cf_error *err)
{
	static const char *const keys[] = { "reason_code", "reason", NULL };
	*out = NULL;
	struct change_job j = { p, serial, action, NULL, NULL };
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "reason_code", true, 40, &j.reason_code, err);
	if (!e)
		e = jsonx_get_text(body, "", "reason", true, 2000, &j.reason, err);
	if (e)
		return e;
	if (strcmp(j.reason_code, SUPERSEDED) == 0)
		return cf_error_set(err, CF_EINVAL, "/reason_code",
				    "/reason_code superseded is set only when a newer certificate of the "
				    "product supersedes this one, never by hand");
	if (!certificate_reason_known(j.reason_code))
		return cf_error_set(err, CF_EINVAL, "/reason_code",
				    "/reason_code must be nonconformity, product_change, support_ended, "
				    "accreditation_withdrawn, manufacturer_request, administrative or other");
	e = db_transaction(db, DB_READ_COMMITTED, change_tx, &j, err);
	if (!e)
		e = certificate_get(db, public_url, serial, out, err);
	return e;
}

cf_err certificate_supersede(struct db *db, const struct principal *p, const char *old_serial,
			     const char *new_serial, struct cf_error *err)
{
	if (strcmp(old_serial, new_serial) == 0)
		return cf_error_set(err, CF_ESTATE, NULL, "certificate %.40s cannot supersede itself",
				    old_serial);
	struct status_row old, succ;
	cf_err e = status_row_lock(db, old_serial, &old, err);
	if (!e)
		e = status_row_lock(db, new_serial, &succ, err);
	if (e)
		return e;
	if (!(p->roles & ROLE_ADMIN) && strcmp(old.body, p->org_id) != 0)
		return cf_error_set(err, CF_EFORBIDDEN, NULL,
				    "the issuing body's certifiers supersede its certificates");
	if (strcmp(old.body, succ.body) != 0 || strcmp(old.maker, succ.maker) != 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "%.40s supersedes only a certificate of the same body and manufacturer; "
				    "%.40s is not", new_serial, old_serial);
	if (succ.seq <= old.seq)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "%.40s is not newer than %.40s: only a newer certificate supersedes",
				    new_serial, old_serial);
	if (strcmp(old.status, "withdrawn") == 0 || strcmp(old.status, SUPERSEDED) == 0)
		return status_refused("supersede", old.status, err);
	/* valid or suspended; one past its validity may be superseded all the
	 * same (its successor names it) */
	char reason[64];
	snprintf(reason, sizeof reason, "superseded by %s", new_serial);
	struct status_change c = { old_serial, SUPERSEDED, SUPERSEDED, SUPERSEDED, reason, new_serial,
				   old.at, "certificate.supersede" };
	return status_apply(db, p, &c, err);
}

/* A row of the register. */
static json_t *register_json(const PGresult *res, int i)
{
	return json_pack("{s:s,s:s,s:o,s:{s:s,s:s,s:s},s:s,s:{s:s,s:s},s:I,s:s,s:s,s:s,s:o}", "serial",
			 db_value(res, i, 1), "status", db_value(res, i, 2), "review",
			 review_json(db_value(res, i, 14), db_value(res, i, 15)), "product", "name",
			 db_value(res, i, 4), "model", db_value(res, i, 5), "firmware_version",
			 db_value(res, i, 6), "manufacturer", db_value(res, i, 7), "scheme", "id",
			 db_value(res, i, 8), "version", db_value(res, i, 9), "class",
			 (json_int_t)db_value_ll(res, i, 10), "body", db_value(res, i, 11),
			 "valid_until", db_value(res, i, 12), "issued_at", db_value(res, i, 13), "superseded_by",
			 jsonx_text_or_null(db_value(res, i, 16)));
}

cf_err certificate_register(struct db *db, const struct cert_query *q, json_t **out,
			    struct cf_error *err)
{
	*out = NULL;
	static const char *const statuses[] = { "valid", "suspended", "withdrawn", "superseded",
						 "expired", "key_compromised" };
	bool known = !q->status;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0] && !known; i++)
		known = strcmp(q->status, statuses[i]) == 0;
	if (!known)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "status must be valid, suspended, withdrawn, superseded, expired or "
				    "key_compromised");
	char scheme[64] = "", version[40] = "";
	if (q->scheme) {
		const char *at = strchr(q->scheme, '@');
		snprintf(scheme, sizeof scheme, "%.*s", at ? (int)(at - q->scheme) : 63, q->scheme);
		if (at)
			snprintf(version, sizeof version, "%s", at + 1);
	}
	char after[24], limit[24];
	snprintf(after, sizeof after, "%lld", q->after);
	snprintf(limit, sizeof limit, "%d", q->limit + 1);
	bool maker_id = ids_is_uuid(q->manufacturer);
	const char *p[] = { q->manufacturer && maker_id ? q->manufacturer : NULL,
			    q->manufacturer && !maker_id ? q->manufacturer : NULL,
			    q->scheme ? scheme : NULL, version[0] ? version : NULL, q->status, q->q, after,
			    limit };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		/* what each certificate says (kept at issue), never the organisation now */
		"SELECT c.seq, c.serial, s.status, c.application_id, c.product_name,"
		" c.product_model, c.firmware_version, c.manufacturer_name,"
		" c.scheme_id, c.scheme_version, c.class, c.issuer_name, " DB_TS("c.valid_until") ", "
		DB_TS("c.issued_at") ", s.review, " DB_TS("s.review_since") ", c.superseded_by"
		" FROM certificate c" STATE_JOIN
		" WHERE c.seq > $7::bigint AND ($1::uuid IS NULL OR c.manufacturer_id = $1)"
		" AND ($2::text IS NULL OR c.manufacturer_name ILIKE '%' || $2 || '%')"
		" AND ($3::text IS NULL OR c.scheme_id = $3) AND ($4::text IS NULL OR c.scheme_version = $4)"
		" AND ($5::text IS NULL OR s.status = $5)"
		" AND ($6::text IS NULL OR c.product_name ILIKE '%' || $6 || '%'"
		"  OR c.product_model ILIKE '%' || $6 || '%' OR c.manufacturer_name ILIKE '%' || $6 || '%'"
		"  OR c.serial = $6)"
		" ORDER BY c.seq LIMIT $8", 8, p);
	if (e)
		return e;
	*out = db_page(res, q->limit, register_json, 0, DB_CURSOR_NUMBER);
	PQclear(res);
	return CF_OK;
}

/* ---- verification ---- */

cf_err certificate_inclusion(struct db *db, long long index, bool *included, long long *tree_size,
			     struct cf_error *err)
{
	*included = false;
	*tree_size = -1;
	json_t *proof = NULL;
	cf_err e = tlog_inclusion(db, NULL, index, 0, &proof, err);
	if (e == CF_ENOTFOUND || e == CF_EINVAL)
		return CF_OK; /* no signed tree head covers it (yet) */
	if (e)
		return e;
	struct cf_error ignored;
	unsigned char *lb = NULL, *rb = NULL;
	size_t ln = 0, rn = 0;
	json_t *path = json_object_get(proof, "audit_path");
	size_t plen = json_array_size(path);
	unsigned char (*hashes)[32] = cf_calloc(plen ? plen : 1, 32);
	const char *leaf = jsonx_str(proof, "leaf_hash"), *root = jsonx_str(proof, "root_hash");
	bool ok = leaf && root &&
		  codec_b64_decode(leaf, strlen(leaf), &lb, &ln, &ignored) == CF_OK && ln == 32 &&
		  codec_b64_decode(root, strlen(root), &rb, &rn, &ignored) == CF_OK && rn == 32;
	for (size_t i = 0; ok && i < plen; i++) {
		unsigned char *hb = NULL;
		size_t hn = 0;
		const char *h = json_string_value(json_array_get(path, i));
		ok = h && codec_b64_decode(h, strlen(h), &hb, &hn, &ignored) == CF_OK && hn == 32;
		if (ok)
			memcpy(hashes[i], hb, 32);
		free(hb);
	}
	*tree_size = json_integer_value(json_object_get(proof, "tree_size"));
	if (ok)
		*included = merkle_verify_inclusion(lb, (size_t)index, (size_t)*tree_size,
						    (const unsigned char (*)[32])hashes, plen, rb);
	free(hashes);
	free(lb);
	free(rb);
	json_decref(proof);
	return CF_OK;
}

/* The database as a verification source: what certificate_verify reads. */
struct db_source {
	struct db *db;
	const char *public_url;
};

static bool db_key(void *arg, const char *kid, unsigned char pub[32], char org[37], bool *retired)
{
	struct db_source *d = arg;
	struct cf_error ignored;
	return signer_public(d->db, kid, pub, org, retired, &ignored) == CF_OK;
}

static bool db_certificate(void *arg, const char *serial, struct verify_facts *out)
{
	struct db_source *d = arg;
	struct cf_error ignored;
	json_t *cert = NULL;
	char *jws = NULL;
	bool ok = certificate_get(d->db, d->public_url, serial, &cert, &ignored) == CF_OK &&
		  certificate_jws(d->db, serial, &jws, &ignored) == CF_OK;
	if (ok) {
		out->log_index = json_integer_value(json_object_get(json_object_get(cert, "log"), "index"));
		if (certificate_inclusion(d->db, out->log_index, &out->included, &out->tree_size, &ignored)) {
			out->included = false; /* said as not shown, as it always was */
			out->tree_size = -1;
		}
	}
	if (ok) {
		digest_sha256(jws, strlen(jws), out->jws_sha256);
		json_t *since = json_object_get(json_object_get(cert, "key"), "compromised_since");
		out->facts = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "status", json_object_get(cert, "status"),
				       "status_reason", json_object_get(cert, "status_reason"), "review",
				       json_object_get(cert, "review"), "valid_until",
				       json_object_get(cert, "valid_until"), "expired",
				       json_object_get(cert, "expired"), "compromised_since",
				       since ? since : json_null(), "superseded_by",
				       json_object_get(cert, "superseded_by"));
		ok = out->facts != NULL;
	}
	json_decref(cert);
	free(jws);
	return ok;
}

static void db_release(void *arg, struct verify_facts *f)
{
	(void)arg;
	json_decref(f->facts);
	f->facts = NULL;
}

cf_err certificate_verify(struct db *db, const char *public_url, const char *compact, json_t **out,
			  struct cf_error *err)
{
	struct db_source d = { db, public_url };
	struct verify_source src = { &d, db_key, db_certificate, db_release };
	return certificate_verify_from(&src, public_url, compact, out, err);
}

cf_err certificate_verify_from(const struct verify_source *src, const char *public_url,
			       const char *compact, json_t **out, struct cf_error *err)
{
	*out = NULL;
	struct jws j = { 0 };
	json_t *payload = NULL;
	cf_err e = jws_parse(compact, JWS_MAX, &j, err);
	if (e)
		return e;
	json_t *result = json_object();
	const char *kid = jsonx_str(j.header, "kid");
	const char *hash = kid ? strrchr(kid, '#') : NULL;
	const char *thumb = hash ? hash + 1 : kid;
	unsigned char pub[32];
	char org[37] = "";
	bool retired = false, known = false, valid = false;
	if (thumb && src->key(src->arg, thumb, pub, org, &retired)) {
		known = true;
		valid = jws_verify(&j, pub);
	}
	json_object_set_new(result, "signature_valid", json_boolean(valid));
	json_object_set_new(result, "kid", jsonx_text_or_null(kid));
	json_object_set_new(result, "key", json_pack("{s:b,s:b}", "published", known, "retired", retired));
	json_object_set_new(result, "typ", jsonx_text_or_null(jsonx_str(j.header, "typ")));
	payload = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
	const char *issuer = jsonx_str(json_object_get(payload, "issuer"), "id");
	char did[SIGNER_DID_LEN] = "";
	if (org[0])
		signer_did(public_url, org, did);
	bool issuer_ok = valid && issuer && org[0] && strcmp(issuer, did) == 0 && hash &&
			 strncmp(kid, did, (size_t)(hash - kid)) == 0 && strlen(did) == (size_t)(hash - kid);
	json_object_set_new(result, "issuer",
			    json_pack("{s:o,s:o,s:b}", "id", jsonx_text_or_null(issuer), "name",
				      jsonx_text_or_null(jsonx_str(json_object_get(payload, "issuer"), "name")),
				      "matches_key", issuer_ok));
	const char *serial = jsonx_str(json_object_get(payload, "credentialSubject"), "serial");
	json_object_set_new(result, "serial", jsonx_text_or_null(serial));
	struct verify_facts f = { 0 };
	if (serial && src->certificate(src->arg, serial, &f)) {
		unsigned char mine[32];
		digest_sha256(compact, strlen(compact), mine);
		bool same = memcmp(mine, f.jws_sha256, 32) == 0;
		json_t *key = json_object_get(result, "key");
		json_t *since = json_object_get(f.facts, "compromised_since");
		json_object_set_new(key, "compromised", json_boolean(json_is_string(since)));
		json_object_set(key, "compromised_since", since ? since : json_null());
		json_object_set(result, "status", json_object_get(f.facts, "status"));
		json_object_set(result, "status_reason", json_object_get(f.facts, "status_reason"));
		/* under review the certificate stays valid (ISO/IEC 17065: the body's
		 * certificates are reviewed, not withdrawn): said beside valid */
		json_object_set(result, "review", json_object_get(f.facts, "review"));
		json_object_set_new(result, "in_register", json_boolean(same));
		json_object_set(result, "valid_until", json_object_get(f.facts, "valid_until"));
		json_object_set(result, "expired", json_object_get(f.facts, "expired"));
		/* superseded: not valid, and here is the certificate that replaced it */
		json_t *succ = json_object_get(f.facts, "superseded_by");
		json_object_set(result, "superseded_by", succ ? succ : json_null());
		/* logged: the entry, and its inclusion proof checked against the
		 * latest signed tree head */
		json_object_set_new(result, "logged",
			json_pack("{s:I,s:b,s:o}", "index", (json_int_t)f.log_index, "included", f.included,
				  "tree_size", f.tree_size >= 0 ? json_integer(f.tree_size) : json_null()));
		src->release(src->arg, &f);
	} else {
		json_object_set_new(result, "status", json_string("unknown"));
		json_object_set_new(result, "review", json_null());
		json_object_set_new(result, "in_register", json_false());
		json_object_set_new(result, "logged", json_null());
		json_object_set_new(result, "superseded_by", json_null());
	}
	const char *status = jsonx_str(result, "status");
	json_object_set_new(result, "valid",
		json_boolean(valid && issuer_ok && json_is_true(json_object_get(result, "in_register")) &&
			     status && strcmp(status, "valid") == 0));
	*out = result;
	json_decref(payload);
	jws_clear(&j);
	return CF_OK;
}

/* ---- status lists ---- */

cf_err certificate_status_list(struct db *db, const struct cert_ctx *ctx, const char *body_id,
			       const char *purpose, char **out, struct cf_error *err)
{
	*out = NULL;
	bool revocation = strcmp(purpose, "revocation") == 0;
	if (!revocation && strcmp(purpose, "suspension") != 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "status lists are revocation and suspension");
	if (!ids_is_uuid(body_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no body %.40s", body_id);
	/* A bit is set exactly when the certificate's status at this moment is the
	 * list's: the same definition as every other surface (a suspended
	 * certificate past validUntil is expired there, so not in the list).
	 * Review is no status list purpose: a certificate under review is valid.
	 * What a compromised key signed after its compromise is revoked, and so
	 * is a superseded certificate: the list has no other final purpose, and
	 * the live answer names its successor (docs/certificates.md). */
	const char *p[] = { body_id, revocation ? "withdrawn" : "suspended" };
	PGresult *res = NULL;
	cf_err e = revocation
		? db_query_hot(db, &res, err, "SELECT c.revocation_index, " DB_TS("now()") ", "
			       DB_TS("now() + interval '1 day'") " FROM certificate c" STATE_JOIN
			       " WHERE c.body_id = $1 AND s.status IN ($2, 'superseded', 'key_compromised')"
			       " UNION ALL SELECT NULL, " DB_TS("now()") ", "
			       DB_TS("now() + interval '1 day'"), 2, p)
		: db_query_hot(db, &res, err, "SELECT c.suspension_index, " DB_TS("now()") ", "
			       DB_TS("now() + interval '1 day'") " FROM certificate c" STATE_JOIN
			       " WHERE c.body_id = $1 AND c.status = $2 AND s.status = $2"
			       " UNION ALL SELECT NULL, " DB_TS("now()") ", "
			       DB_TS("now() + interval '1 day'"), 2, p);
	if (e)
		return e;
	int n = PQntuples(res);
	unsigned *set = cf_calloc((size_t)n, sizeof *set);
	size_t count = 0;
	for (int i = 0; i < n; i++)
		if (db_value(res, i, 0))
			set[count++] = (unsigned)db_value_ll(res, i, 0);
	char from[32], until[32];
	snprintf(from, sizeof from, "%s", db_value(res, n - 1, 1));
	snprintf(until, sizeof until, "%s", db_value(res, n - 1, 2));
	PQclear(res);

	char kid[SIGNER_KID_LEN], did[SIGNER_DID_LEN], fullkid[SIGNER_DID_LEN + SIGNER_KID_LEN], url[512];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	json_t *cred = NULL, *header = NULL;
	char *text = NULL;
	e = signer_current(db, body_id, kid, pub, err);
	if (!e)
		e = signer_private(db, kid, ctx->signer_socket, &key, err);
	if (e)
		goto out;
	signer_did(ctx->public_url, body_id, did);
	snprintf(fullkid, sizeof fullkid, "%s#%s", did, kid);
	status_list_url(ctx->public_url, body_id, purpose, url, sizeof url);
	e = statuslist_credential(url, did, purpose, from, until, 300000, set, count, &cred, err);
	if (e)
		goto out;
	header = json_pack("{s:s,s:s,s:s,s:s}", "alg", "EdDSA", "typ", "vc+jwt", "cty", "vc", "kid", fullkid);
	text = json_dumps(cred, JSON_COMPACT);
	e = jws_sign(key, header, text, strlen(text), out, err);
out:
	free(set);
	free(text);
	json_decref(cred);
	json_decref(header);
	return e;
}

/* ---- register export ---- */

cf_err certificate_export_header(struct db *db, const char *public_url, json_t **out,
				 struct cf_error *err)
{
	*out = NULL;
	json_t *head = NULL;
	struct cf_error none;
	cf_err e = tlog_tree_head(db, &head, &none);
	if (e && e != CF_ENOTFOUND)
		return cf_error_set(err, e, NULL, "%s", none.detail);
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT " DB_TS("now()") ", " DB_TS("now() + interval '1 hour'") ", count(*)"
		" FROM certificate", 0, NULL);
	if (e) {
		json_decref(head);
		return e;
	}
	char origin[256];
	tlog_origin(public_url, origin, sizeof origin);
	*out = json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:s,s:o}", "type", "conform-register-export", "version",
			 1, "publisher", public_url, "generated_at", db_value(res, 0, 0), "next_update",
			 db_value(res, 0, 1), "certificates", (json_int_t)db_value_ll(res, 0, 2),
			 "log_origin", origin, "checkpoint", head ? head : json_null());
	PQclear(res);
	return CF_OK;
}

cf_err certificate_export_lines(struct db *db, long long *after, int limit, struct buf *out, int *n,
				struct cf_error *err)
{
	*n = 0;
	char a[24], l[24];
	snprintf(a, sizeof a, "%lld", *after);
	snprintf(l, sizeof l, "%d", limit);
	const char *p[] = { a, l };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT c.seq, c.serial, s.status, " DB_TS("c.status_changed_at") ", c.log_index, c.jws,"
		" s.review, " DB_TS("s.review_since") " FROM certificate c" STATE_JOIN " WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT $2", 2, p);
	if (e)
		return e;
	for (int i = 0; i < PQntuples(res) && !e; i++) {
		json_t *line = json_pack("{s:s,s:s,s:o,s:o,s:I,s:s}", "serial", db_value(res, i, 1), "status",
					 db_value(res, i, 2), "review",
					 review_json(db_value(res, i, 6), db_value(res, i, 7)),
					 "status_changed_at", jsonx_text_or_null(db_value(res, i, 3)), "log_index",
					 (json_int_t)db_value_ll(res, i, 4), "jws", db_value(res, i, 5));
		char *text = json_dumps(line, JSON_COMPACT);
		json_decref(line);
		e = buf_puts(out, text, err);
		if (!e)
			e = buf_puts(out, "\n", err);
		free(text);
		*after = db_value_ll(res, i, 0);
		(*n)++;
	}
	PQclear(res);
	return e;
}

cf_err certificate_export_check(struct db *db, const char *signer_socket, struct cf_error *err)
{
	char kid[SIGNER_KID_LEN];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	cf_err e = signer_current(db, NULL, kid, pub, err);
	if (e == CF_EUNPROCESSABLE) {
		/* the service is not set up to sign: not the client's fault */
		char why[sizeof err->detail];
		snprintf(why, sizeof why, "%s", err->detail);
		return cf_error_set(err, CF_EUNAVAILABLE, NULL, "the register export cannot be signed: %s",
				    why);
	}
	if (!e)
		e = signer_private(db, kid, signer_socket, &key, err);
	if (e)
		return e;
	/* and conform-signer answers (CF_EUNAVAILABLE naming it otherwise) */
	json_t *ping = json_pack("{s:s}", "op", "ping"), *ok = NULL;
	e = signerlink_call(signer_socket, ping, &ok, err);
	json_decref(ping);
	json_decref(ok);
	return e;
}

cf_err certificate_export_signature(struct db *db, const char *signer_socket,
				    const unsigned char digest[32], long long count,
				    long long checkpoint_size, char **out, struct cf_error *err)
{
	*out = NULL;
	char kid[SIGNER_KID_LEN], hex[65];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	cf_err e = signer_current(db, NULL, kid, pub, err);
	if (!e)
		e = signer_private(db, kid, signer_socket, &key, err);
	if (e)
		return e;
	codec_hex_encode(digest, 32, hex);
	json_t *header = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "typ", "conform-export+jwt", "kid", kid);
	json_t *payload = json_pack("{s:s,s:I,s:I}", "sha256", hex, "certificates", (json_int_t)count,
				    "checkpoint_size", (json_int_t)checkpoint_size);
	char *text = json_dumps(payload, JSON_COMPACT);
	e = jws_sign(key, header, text, strlen(text), out, err);
	free(text);
	json_decref(header);
	json_decref(payload);
	return e;
}

cf_err certificate_count_by_status(struct db *db, json_t **out, struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT s.status, count(*) FROM certificate c" STATE_JOIN " GROUP BY s.status", 0, NULL);
	if (e)
		return e;
	*out = json_object();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(*out, db_value(res, i, 0), json_integer(db_value_ll(res, i, 1)));
	PQclear(res);
	return CF_OK;
}
