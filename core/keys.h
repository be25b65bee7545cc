/*
 * keys: Ed25519 signing keys. This is the only module that holds a private
 * key (STYLE.md habit 10): bytes go in, a signature comes out, so that it can
 * move into a process of its own later. Keys are stored as scrypt-encrypted
 * PKCS#8 PEM, or loaded from any OpenSSL OSSL_STORE URI. The public-key
 * helpers at the end (verification, JWK, RFC 7638 thumbprint) hold no secret.
 */
#ifndef CONFORM_KEYS_H
#define CONFORM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

#define KEYS_PUBLIC_LEN 32
#define KEYS_SIGNATURE_LEN 64
#define KEYS_THUMBPRINT_LEN 44 /* 43 base64url characters and the NUL */
#define KEYS_PASSPHRASE_MAX 1024

/* An Ed25519 private key (opaque). */
struct keys_private;

/* Generates a new key; on success *out is new (keys_free), on error NULL. */
cf_err keys_generate(struct keys_private **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Makes a key from its 32-byte RFC 8032 private key (the JWK "d" member),
 * for known-answer tests and imports. On success *out is new (keys_free),
 * on error NULL. The caller wipes seed.
 */
cf_err keys_from_raw_private(struct keys_private **out, const unsigned char seed[32],
			     struct cf_error *err) CF_MUST_CHECK;

/*
 * Writes k to a new file at path as PKCS#8 PEM ("ENCRYPTED PRIVATE KEY"),
 * encrypted with AES-256-CBC under a key derived from passphrase with scrypt
 * (N=2^14, r=8, p=1, the parameters of `openssl pkcs8 -scrypt`). The file is
 * created with O_CREAT|O_EXCL and mode 0600: an existing path is CF_ECONFLICT
 * naming it and is left alone. passphrase must be 1 to KEYS_PASSPHRASE_MAX
 * bytes (CF_EINVAL). On any other error the new file is removed again.
 */
cf_err keys_save_pem(const struct keys_private *k, const char *path, const char *passphrase,
		     struct cf_error *err) CF_MUST_CHECK;

/*
 * Loads the one private key found at path_or_uri: a file path or any
 * OSSL_STORE URI ("file:/...", or a provider's scheme). passphrase may be
 * NULL for unencrypted stores; OpenSSL never prompts on a terminal. Errors:
 * CF_EIO when the store cannot be opened, CF_ENOTFOUND when it holds no
 * private key, CF_EINVAL when it holds several or one that is not Ed25519 or
 * cannot be read, CF_EUNAUTH when the key is encrypted and the passphrase is
 * missing or wrong. Messages name the store (a URI only up to its '?', where
 * a PKCS#11 PIN could sit) and never contain the passphrase. On success *out
 * is new (keys_free), on error NULL.
 */
cf_err keys_load(struct keys_private **out, const char *path_or_uri, const char *passphrase,
		 struct cf_error *err) CF_MUST_CHECK;

/*
 * Reads a passphrase from the first line of the file at path (a trailing
 * "\n" or "\r\n" is not part of it; the rest of the file is ignored). The
 * line must be non-empty, at most KEYS_PASSPHRASE_MAX bytes (CF_ETOOLARGE)
 * and free of NUL bytes. On success *out is a new string that the caller
 * releases with keys_passphrase_free; on error *out is NULL and the message
 * names the file, never its content.
 */
cf_err keys_read_passphrase_file(const char *path, char **out, struct cf_error *err) CF_MUST_CHECK;

/* Wipes and frees a passphrase from keys_read_passphrase_file (safe on NULL). */
void keys_passphrase_free(char *p);

/* Writes the raw 32-byte public key of k to out. */
void keys_public_raw(const struct keys_private *k, unsigned char out[32]);

/* Writes the Ed25519 signature of the n bytes at msg (msg may be NULL when n
 * is 0) to sig. Fails (CF_ECRYPTO) only if OpenSSL or its provider does. */
cf_err keys_sign(const struct keys_private *k, const void *msg, size_t n, unsigned char sig[64],
		 struct cf_error *err) CF_MUST_CHECK;

/* Frees k, wiping the key material (safe on NULL). */
void keys_free(struct keys_private *k);

/*
 * Signs the n bytes at msg with a private key held elsewhere (the signer
 * process, a token): writes the signature to sig.
 */
typedef cf_err (*keys_sign_fn)(void *ctx, const void *msg, size_t n, unsigned char sig[64],
			       struct cf_error *err);

/*
 * A key whose private half this process never holds: keys_sign calls
 * fn(ctx, ...) and checks the answer against pub (a signature that does not
 * verify is CF_ECRYPTO), keys_public_raw gives pub. ctx is owned by the new
 * key and released by ctx_free (may be NULL) in keys_free. Returns a new key
 * (keys_free).
 */
struct keys_private *keys_delegate(const unsigned char pub[32], keys_sign_fn fn, void *ctx,
				   void (*ctx_free)(void *ctx));

/* --- PKCS#11 tokens ------------------------------------------------- */

/*
 * A PKCS#11 module (SoftHSM2 in tests and the embedded default) in which
 * each key owner has a token of its own, named by a label of at most 32
 * characters and opened by that owner's PIN: one owner's PIN opens no other
 * owner's keys. Keys are Ed25519 (CKK_EC_EDWARDS), made inside the token,
 * sensitive and not extractable; their CKA_ID and CKA_LABEL are the kid
 * (RFC 7638 thumbprint); signing is CKM_EDDSA. Sessions stay open and logged
 * in for the life of the handle. Thread-safe: the module is initialised for
 * OS locking and each call takes a session of its own from a pool, so
 * threads sign at once; calls that make or change tokens and keys run one
 * at a time. keys_p11_close only when no other thread uses the handle.
 */
struct keys_p11;

/* Loads the module at path (dlopen) and initialises it. On success *out is
 * new (keys_p11_close); errors name the module. */
cf_err keys_p11_open(const char *path, struct keys_p11 **out, struct cf_error *err) CF_MUST_CHECK;

/* Logs out and finalises the module (safe on NULL); it stays loaded. */
void keys_p11_close(struct keys_p11 *m);

/*
 * Makes a key in the token label (initialised on first use, its user PIN
 * set to pin and its SO PIN a random one that is then forgotten); writes its
 * public key to pub and its kid to kid.
 */
cf_err keys_p11_generate(struct keys_p11 *m, const char *label, const char *pin,
			 unsigned char pub[32], char kid[KEYS_THUMBPRINT_LEN],
			 struct cf_error *err) CF_MUST_CHECK;

/* Stores k (borrowed) in the token label like a made key (sensitive, not
 * extractable). CF_ECONFLICT when the token already holds it. */
cf_err keys_p11_import(struct keys_p11 *m, const char *label, const char *pin,
		       const struct keys_private *k, char kid[KEYS_THUMBPRINT_LEN],
		       struct cf_error *err) CF_MUST_CHECK;

/* Signs the n bytes at msg with the key kid of the token label.
 * CF_ENOTFOUND when the token or the key is not there. */
cf_err keys_p11_sign(struct keys_p11 *m, const char *label, const char *pin, const char *kid,
		     const void *msg, size_t n, unsigned char sig[64],
		     struct cf_error *err) CF_MUST_CHECK;

/* Destroys the key kid (both halves) in the token label. CF_ENOTFOUND when
 * it is not there. */
cf_err keys_p11_destroy(struct keys_p11 *m, const char *label, const char *pin, const char *kid,
			struct cf_error *err) CF_MUST_CHECK;

/* The kids of the private keys in the token label: *out is a new JSON array
 * of strings. */
cf_err keys_p11_list(struct keys_p11 *m, const char *label, const char *pin, json_t **out,
		     struct cf_error *err) CF_MUST_CHECK;

/* --- Public keys only ------------------------------------------------ */

/* True when sig is a valid Ed25519 signature of msg (n bytes) under pub. */
bool keys_verify(const unsigned char pub[32], const void *msg, size_t n,
		 const unsigned char sig[64]);

/* Writes the RFC 7638 thumbprint of pub's OKP JWK to out:
 * base64url(SHA-256('{"crv":"Ed25519","kty":"OKP","x":"<base64url pub>"}')). */
void keys_jwk_thumbprint(const unsigned char pub[32], char out[44]);

/* Returns a new reference to the JWK {"kty":"OKP","crv":"Ed25519","x":...,
 * "kid":kid,"alg":"EdDSA","use":"sig"}; "kid" is left out when kid is NULL. */
json_t *keys_public_jwk(const unsigned char pub[32], const char *kid);

/*
 * Reads the public key of an OKP Ed25519 JWK (jwk is borrowed). "kty" must be
 * "OKP", "crv" "Ed25519", "x" the base64url of 32 bytes; "alg" and "use", if
 * present, "EdDSA" and "sig"; a JWK with a private part ("d") is refused.
 * Errors are CF_EINVAL with the member's pointer relative to the JWK ("/x").
 * On error pub is unchanged.
 */
cf_err keys_public_from_jwk(const json_t *jwk, unsigned char pub[32],
			    struct cf_error *err) CF_MUST_CHECK;

#endif
