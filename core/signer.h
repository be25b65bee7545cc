/*
 * signer: the signing keys of assessment bodies (certificates) and of the
 * service (the transparency log). The database holds their public halves;
 * the private halves live in conform-signer, a process of their own
 * (signer/signerd.c), reached over its Unix socket (signerlink.h). This
 * module asks it to make, sign with and destroy keys, and keeps the
 * database's record of them. Retired keys sign nothing more and stay
 * published.
 */
#ifndef CONFORM_SIGNER_H
#define CONFORM_SIGNER_H

#include <stdbool.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "error.h"
#include "keys.h"

#define SIGNER_KID_LEN 44 /* the thumbprint and its NUL */

/*
 * Has conform-signer (at signer_socket) make a key for org (an assessment
 * body), or the log key when org_id is NULL, and registers its public half
 * with one audit record; a key the database refuses is destroyed again.
 * *out is the key as listed. CF_EUNAVAILABLE when the signer cannot be
 * reached.
 */
cf_err signer_generate(struct db *db, const struct audit_actor *actor, const char *org_id,
		       const char *signer_socket, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* Has the signer take in a key that already exists at uri (a path or an
 * OSSL_STORE URI it can read; passphrase may be NULL), then registers it. */
cf_err signer_import(struct db *db, const struct audit_actor *actor, const char *org_id,
		     const char *signer_socket, const char *uri, const char *passphrase,
		     json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* The keys of org_id, or every key when org_id is NULL: {"items": [...]}. */
cf_err signer_list(struct db *db, const char *org_id, json_t **out,
		   struct cf_error *err) CF_MUST_CHECK;

/*
 * Retires kid (when org_id is given, only a key of that organisation:
 * CF_ENOTFOUND otherwise), with its audit record, then has the signer
 * destroy its private half; "private_key_destroyed" in *out says whether it
 * could. Retiring twice keeps the first time.
 */
cf_err signer_retire(struct db *db, const struct audit_actor *actor, const char *kid,
		     const char *org_id, const char *signer_socket, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

#define SIGNER_REASON_MAX 2000 /* bytes of a compromise's reason */

/*
 * Revokes a body's key kid as compromised since the RFC 3339 time since (not
 * in the future): it is retired, leaves the body's DID document as an
 * assertion method (staying a verification method, "revoked": since) and
 * is marked "compromised_since" in the JWKS; every certificate it signed at
 * or after since verifies as key_compromised, earlier ones stay valid. When
 * org_id is given, only a key of that organisation (CF_ENOTFOUND otherwise:
 * a body's administrator declares its own keys only). One transaction: the
 * key, a transparency log entry (kind "key", its issuer DID with
 * public_url) and the audit record (with reason, when not NULL). *out is
 * the key as listed, with log_index and certificates_signed_since.
 * CF_EINVAL (pointer /since) for a time that is malformed or in the future;
 * CF_ESTATE when it is already revoked so; CF_EUNPROCESSABLE for the log
 * key. On error, nothing is changed. Once committed, the signer at
 * signer_socket destroys the private half ("private_key_destroyed" in *out
 * says whether it could).
 */
cf_err signer_compromise(struct db *db, const struct audit_actor *actor, const char *public_url,
			 const char *signer_socket, const char *kid, const char *org_id,
			 const char *since, const char *reason, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* The newest key of org (NULL: the log key) that is not retired. */
cf_err signer_current(struct db *db, const char *org_id, char kid[SIGNER_KID_LEN],
		      unsigned char pub[32], struct cf_error *err) CF_MUST_CHECK;

/*
 * A handle that signs with kid through the signer at signer_socket
 * (keys_delegate: this process never holds the private key). Borrowed: valid
 * until signer_forget_all.
 */
cf_err signer_private(struct db *db, const char *kid, const char *signer_socket,
		      const struct keys_private **out, struct cf_error *err) CF_MUST_CHECK;

/* A published key: its public half, organisation ("" for the log key) and
 * whether it is retired. CF_ENOTFOUND when unknown. */
cf_err signer_public(struct db *db, const char *kid, unsigned char pub[32], char org_id[37],
		     bool *retired, struct cf_error *err) CF_MUST_CHECK;

/* The organisation of key kid into org ("" for the log key); CF_ENOTFOUND
 * when there is no such key. For the authorisation rules. */
cf_err signer_key_owner(struct db *db, const char *kid, char org[37],
			struct cf_error *err) CF_MUST_CHECK;

/* Room for a DID made from any public URL config accepts. */
#define SIGNER_DID_LEN 320

/*
 * The body's did:web identifier under public_url: did:web:<host, a port's ':'
 * as %3A>[:<path segment>...]:bodies:<body id>, which resolves to
 * <public_url>/bodies/<body id>/did.json.
 */
void signer_did(const char *public_url, const char *body_id, char out[SIGNER_DID_LEN]);

/* Every key, retired ones included: {"keys": [JWK...]}; a body key's kid is
 * "<its DID>#<thumbprint>", as in the JWS headers; the log key's is the
 * thumbprint. A compromised key has no "use" and a "compromised_since". */
cf_err signer_jwks(struct db *db, const char *public_url, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* A body's DID document (did:web), its keys as JsonWebKey methods. */
cf_err signer_did_document(struct db *db, const char *public_url, const char *body_id, json_t **out,
			   struct cf_error *err) CF_MUST_CHECK;

/* Releases every handle of signer_private (at shutdown). */
void signer_forget_all(void);

#endif
