/*
 * signer: the signing keys of assessment bodies (certificates) and of the
 * service (the transparency log). The database holds their public halves
 * and where the private halves are (a PEM file encrypted with the
 * deployment's passphrase, or any OpenSSL OSSL_STORE URI); keys.c alone
 * reads them, and this module keeps the loaded handles for the life of the
 * process. Retired keys sign nothing more and stay published.
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
 * Makes a key for org (an assessment body), or the log key when org_id is
 * NULL: the private key goes to dir/<kid>.pem, mode 0600, encrypted with
 * passphrase; the public key to the database with one audit record. *out is
 * the key as listed.
 */
cf_err signer_generate(struct db *db, const struct audit_actor *actor, const char *org_id,
		       const char *dir, const char *passphrase, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;

/* Registers a key that already exists at uri (a path or OSSL_STORE URI). */
cf_err signer_import(struct db *db, const struct audit_actor *actor, const char *org_id,
		     const char *uri, const char *passphrase, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

cf_err signer_list(struct db *db, json_t **out, struct cf_error *err) CF_MUST_CHECK;
cf_err signer_retire(struct db *db, const struct audit_actor *actor, const char *kid, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/*
 * Revokes a body's key kid as compromised since the RFC 3339 time since (not
 * in the future): it is retired, leaves the body's DID document as an
 * assertion method (staying a verification method, "revoked": since) and
 * is marked "compromised_since" in the JWKS; every certificate it signed at
 * or after since verifies as key_compromised, earlier ones stay valid. One
 * transaction: the key, a transparency log entry (kind "key", its issuer DID
 * with public_url) and the audit record. *out is the key as listed, with
 * log_index and certificates_signed_since. CF_ESTATE when it is already
 * revoked so; the log key is refused.
 */
cf_err signer_compromise(struct db *db, const struct audit_actor *actor, const char *public_url,
			 const char *kid, const char *since, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* The newest key of org (NULL: the log key) that is not retired. */
cf_err signer_current(struct db *db, const char *org_id, char kid[SIGNER_KID_LEN],
		      unsigned char pub[32], struct cf_error *err) CF_MUST_CHECK;

/*
 * The private key kid, loaded once per process with the passphrase in
 * passphrase_file (borrowed: valid until signer_forget_all).
 */
cf_err signer_private(struct db *db, const char *kid, const char *passphrase_file,
		      const struct keys_private **out, struct cf_error *err) CF_MUST_CHECK;

/* A published key: its public half, organisation ("" for the log key) and
 * whether it is retired. CF_ENOTFOUND when unknown. */
cf_err signer_public(struct db *db, const char *kid, unsigned char pub[32], char org_id[37],
		     bool *retired, struct cf_error *err) CF_MUST_CHECK;

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

/* Releases every loaded private key (at shutdown). */
void signer_forget_all(void);

#endif
