/*
 * keys: Ed25519 private keys through OpenSSL 3 EVP and OSSL_STORE, in
 * PKCS#11 tokens, and the public-key helpers (see keys.h). Nothing outside this file sees an
 * EVP_PKEY holding a private key.
 */
#include "keys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "codec.h"
#include "digest.h"
#include "mem.h"
#include "rnd.h"

/* scrypt cost of saved keys: that of `openssl pkcs8 -scrypt`. N=2^15 would
 * need more than the 32 MiB OpenSSL allows by default when decrypting. */
#define SCRYPT_N (1u << 14)
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16

/* The most objects keys_load reads from one store (a token may hold many). */
#define MAX_STORE_OBJECTS 4096

struct keys_private {
	EVP_PKEY *pkey;         /* NULL for a delegated key */
	unsigned char pub[32];
	keys_sign_fn sign;      /* a delegated key: who signs */
	void *ctx;
	void (*ctx_free)(void *ctx);
};

/* The reason of OpenSSL's latest error, for messages (never a secret). */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : "unknown OpenSSL error";
}

/* Takes *pkey (set to NULL) into a new key object; on error *pkey is kept. */
static cf_err keys_wrap(EVP_PKEY **pkey, struct keys_private **out, struct cf_error *err)
{
	unsigned char pub[32];
	size_t len = sizeof pub;
	if (EVP_PKEY_get_raw_public_key(*pkey, pub, &len) != 1 || len != sizeof pub)
		return cf_error_set(err, CF_ECRYPTO, NULL, "cannot read the Ed25519 public key: %s",
				    ossl_reason());
	struct keys_private *k = cf_calloc(1, sizeof *k);
	k->pkey = *pkey;
	memcpy(k->pub, pub, sizeof pub);
	*pkey = NULL;
	*out = k;
	return CF_OK;
}

cf_err keys_generate(struct keys_private **out, struct cf_error *err)
{
	cf_err e = CF_OK;
	*out = NULL;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot generate an Ed25519 key: %s",
				 ossl_reason());
		goto out;
	}
	e = keys_wrap(&pkey, out, err);
out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return e;
}

cf_err keys_from_raw_private(struct keys_private **out, const unsigned char seed[32],
			     struct cf_error *err)
{
	cf_err e = CF_OK;
	*out = NULL;
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (!pkey) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot make an Ed25519 key: %s",
				 ossl_reason());
		goto out;
	}
	e = keys_wrap(&pkey, out, err);
out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return e;
}

static cf_err write_all(int fd, const char *data, size_t n, const char *path,
			struct cf_error *err)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cf_error_set(err, CF_EIO, NULL, "cannot write %s: %s", path,
					    w < 0 ? strerror(errno) : "short write");
		data += w;
		n -= (size_t)w;
	}
	return CF_OK;
}

cf_err keys_save_pem(const struct keys_private *k, const char *path, const char *passphrase,
		     struct cf_error *err)
{
	cf_err e = CF_OK;
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	BIO *mem = NULL;
	int fd = -1;
	bool created = false;

	size_t plen = passphrase ? strlen(passphrase) : 0;
	if (!k->pkey) {
		e = cf_error_set(err, CF_EINVAL, NULL, "this key's private half is held elsewhere");
		goto out;
	}
	if (plen == 0) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a passphrase is needed to save a private key");
		goto out;
	}
	if (plen > KEYS_PASSPHRASE_MAX) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the passphrase is longer than %d bytes",
				 KEYS_PASSPHRASE_MAX);
		goto out;
	}

	/* Encrypt first, so that a failure leaves no file behind. */
	p8inf = EVP_PKEY2PKCS8(k->pkey);
	pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, SALT_LEN, NULL, SCRYPT_N,
				    SCRYPT_R, SCRYPT_P);
	if (!p8inf || !pbe) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot export the private key: %s",
				 ossl_reason());
		goto out;
	}
	p8 = PKCS8_set0_pbe(passphrase, (int)plen, p8inf, pbe);
	if (!p8) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot encrypt the private key: %s",
				 ossl_reason());
		goto out;
	}
	pbe = NULL; /* now owned by p8 */
	mem = BIO_new(BIO_s_mem());
	if (!mem || PEM_write_bio_PKCS8(mem, p8) != 1) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot encode the private key: %s",
				 ossl_reason());
		goto out;
	}
	char *pem = NULL;
	long pem_len = BIO_get_mem_data(mem, &pem);
	if (pem_len <= 0) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot encode the private key");
		goto out;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			e = cf_error_set(err, CF_ECONFLICT, NULL,
					 "%s already exists; refusing to overwrite a key file", path);
		else
			e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", path,
					 strerror(errno));
		goto out;
	}
	created = true;
	/* The umask may only have removed bits; make it exactly 0600. */
	if (fchmod(fd, 0600) != 0) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot set the mode of %s: %s", path,
				 strerror(errno));
		goto out;
	}
	e = write_all(fd, pem, (size_t)pem_len, path, err);
	if (e)
		goto out;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		e = cf_error_set(err, CF_EIO, NULL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	created = false; /* complete: keep it */
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(path);
	BIO_free(mem);
	X509_SIG_free(p8);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8inf); /* cleanses the key bytes */
	ERR_clear_error();
	return e;
}

struct pass_ctx {
	const char *pass;
	bool asked;
};

/* OpenSSL asks through this (wrapped as a UI_METHOD) when a key is encrypted.
 * Returning -1 without a passphrase keeps OpenSSL from prompting a terminal. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	(void)rwflag;
	if (!pc)
		return -1;
	pc->asked = true;
	if (!pc->pass)
		return -1;
	size_t n = strlen(pc->pass);
	if (size < 0 || n > (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

/* A store's name for messages: a URI is cut at its query, where a PKCS#11
 * URI may carry pin-value. The caller frees. */
static char *store_name(const char *uri)
{
	const char *q = strchr(uri, '?');
	return q ? cf_asprintf("%.*s?...", (int)(q - uri), uri) : cf_strdup(uri);
}

cf_err keys_load(struct keys_private **out, const char *path_or_uri, const char *passphrase,
		 struct cf_error *err)
{
	cf_err e = CF_OK;
	UI_METHOD *ui = NULL;
	OSSL_STORE_CTX *store = NULL;
	OSSL_STORE_INFO *info = NULL;
	EVP_PKEY *pkey = NULL;
	struct pass_ctx pc = { passphrase, false };
	char *name = store_name(path_or_uri);
	size_t objects = 0;

	*out = NULL;
	ERR_clear_error();
	if (passphrase && strlen(passphrase) > KEYS_PASSPHRASE_MAX) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the passphrase for %s is longer than %d bytes",
				 name, KEYS_PASSPHRASE_MAX);
		goto out;
	}
	ui = UI_UTIL_wrap_read_pem_callback(pass_cb, 0);
	if (!ui) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "cannot set up a passphrase callback: %s",
				 ossl_reason());
		goto out;
	}
	store = OSSL_STORE_open(path_or_uri, ui, &pc, NULL, NULL);
	if (!store) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot open the key store %s: %s", name,
				 ossl_reason());
		goto out;
	}
	/* No OSSL_STORE_expect: with it OpenSSL 3.0 reports a public key as an
	 * error, not as "no private key here". The bound guards against a store
	 * that fails without ever reaching its end. */
	for (int tries = 0; tries < MAX_STORE_OBJECTS && !OSSL_STORE_eof(store); tries++) {
		info = OSSL_STORE_load(store);
		if (!info)
			continue; /* an object that did not decode; OpenSSL 3.0 also
				   * flags an error at the very end, so go on */
		objects++;
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
			if (pkey) {
				e = cf_error_set(err, CF_EINVAL, NULL,
						 "%s holds more than one private key", name);
				goto out;
			}
			pkey = OSSL_STORE_INFO_get1_PKEY(info);
		}
		OSSL_STORE_INFO_free(info);
		info = NULL;
	}

	if (!pkey) {
		if (pc.asked && !passphrase)
			e = cf_error_set(err, CF_EUNAUTH, NULL,
					 "the private key in %s is encrypted and no passphrase was given",
					 name);
		else if (pc.asked)
			e = cf_error_set(err, CF_EUNAUTH, NULL,
					 "cannot decrypt the private key in %s: wrong passphrase or damaged file",
					 name);
		else if (objects == 0)
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "%s holds nothing that OpenSSL reads as a key", name);
		else
			e = cf_error_set(err, CF_ENOTFOUND, NULL, "%s holds no private key", name);
		goto out;
	}
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		const char *type = EVP_PKEY_get0_type_name(pkey);
		e = cf_error_set(err, CF_EINVAL, NULL, "%s holds a key of type %s, not Ed25519",
				 name, type ? type : "unknown");
		goto out;
	}
	e = keys_wrap(&pkey, out, err);
out:
	EVP_PKEY_free(pkey);
	OSSL_STORE_INFO_free(info);
	OSSL_STORE_close(store);
	UI_destroy_method(ui);
	free(name);
	ERR_clear_error();
	return e;
}

cf_err keys_read_passphrase_file(const char *path, char **out, struct cf_error *err)
{
	cf_err e = CF_OK;
	/* Room for the longest passphrase and its "\r\n"; anything longer
	 * without a newline is too long. */
	char buf[KEYS_PASSPHRASE_MAX + 2];
	size_t n = 0;
	bool eol = false;
	int fd = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = cf_error_set(err, errno == ENOENT ? CF_ENOTFOUND : CF_EIO, NULL,
				 "cannot open the passphrase file %s: %s", path, strerror(errno));
		goto out;
	}
	while (!eol && n < sizeof buf) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = cf_error_set(err, CF_EIO, NULL, "cannot read the passphrase file %s: %s",
					 path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		const char *nl = memchr(buf + n, '\n', (size_t)r);
		if (nl) {
			eol = true;
			n = (size_t)(nl - buf);
		} else {
			n += (size_t)r;
		}
	}
	if (eol && n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > KEYS_PASSPHRASE_MAX) {
		e = cf_error_set(err, CF_ETOOLARGE, NULL,
				 "the passphrase in %s is too large: more than %d bytes", path,
				 KEYS_PASSPHRASE_MAX);
		goto out;
	}
	if (n == 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the first line of the passphrase file %s is empty",
				 path);
		goto out;
	}
	if (memchr(buf, '\0', n)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the passphrase in %s contains a NUL byte",
				 path);
		goto out;
	}
	*out = cf_strndup(buf, n);
out:
	if (fd >= 0)
		close(fd);
	cf_wipe(buf, sizeof buf);
	return e;
}

void keys_passphrase_free(char *p)
{
	if (!p)
		return;
	cf_wipe(p, strlen(p));
	free(p);
}

void keys_public_raw(const struct keys_private *k, unsigned char out[32])
{
	memcpy(out, k->pub, 32);
}

cf_err keys_sign(const struct keys_private *k, const void *msg, size_t n, unsigned char sig[64],
		 struct cf_error *err)
{
	cf_err e = CF_OK;
	size_t siglen = 64;
	if (!k->pkey) {
		e = k->sign(k->ctx, msg, n, sig, err);
		/* whoever holds the key answered: trust it only once it verifies */
		if (!e && !keys_verify(k->pub, msg, n, sig))
			e = cf_error_set(err, CF_ECRYPTO, NULL,
					 "the signer's signature does not verify under the key's public half");
		return e;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	/* Ed25519 is one-shot and has no separate digest (RFC 8032 PureEdDSA). */
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, n ? msg : (const void *)"", n) != 1 ||
	    siglen != 64) {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "Ed25519 signing failed: %s", ossl_reason());
		goto out;
	}
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return e;
}

void keys_free(struct keys_private *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL cleanses the private key */
	if (k->ctx_free)
		k->ctx_free(k->ctx);
	free(k);
}

struct keys_private *keys_delegate(const unsigned char pub[32], keys_sign_fn fn, void *ctx,
				   void (*ctx_free)(void *ctx))
{
	struct keys_private *k = cf_calloc(1, sizeof *k);
	memcpy(k->pub, pub, 32);
	k->sign = fn;
	k->ctx = ctx;
	k->ctx_free = ctx_free;
	return k;
}

/*
 * Each thread keeps the last public key it verified with, ready to verify:
 * making the key and fetching the algorithm from OpenSSL's providers costs
 * about as much as the verification itself, and a service verifies
 * certificates of a few keys over and over. Freed when the thread ends.
 */
struct verifier {
	unsigned char pub[32];
	EVP_PKEY *pkey;
	EVP_MD_CTX *ready; /* initialised for pkey; each verification works on a copy */
};

static pthread_key_t verifier_key;
static pthread_once_t verifier_once = PTHREAD_ONCE_INIT;

static void verifier_free(void *p)
{
	struct verifier *v = p;
	if (!v)
		return;
	EVP_MD_CTX_free(v->ready);
	EVP_PKEY_free(v->pkey);
	free(v);
}

static void verifier_init(void)
{
	(void)pthread_key_create(&verifier_key, verifier_free);
}

/* This thread's verifier for pub, or NULL. */
static struct verifier *verifier_for(const unsigned char pub[32])
{
	pthread_once(&verifier_once, verifier_init);
	struct verifier *v = pthread_getspecific(verifier_key);
	if (v && memcmp(v->pub, pub, 32) == 0)
		return v;
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ready = EVP_MD_CTX_new();
	if (!pkey || !ready || EVP_DigestVerifyInit(ready, NULL, NULL, NULL, pkey) != 1) {
		EVP_MD_CTX_free(ready);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if (!v) {
		v = cf_calloc(1, sizeof *v);
		if (pthread_setspecific(verifier_key, v) != 0) {
			free(v);
			EVP_MD_CTX_free(ready);
			EVP_PKEY_free(pkey);
			return NULL;
		}
	}
	EVP_MD_CTX_free(v->ready);
	EVP_PKEY_free(v->pkey);
	memcpy(v->pub, pub, 32);
	v->pkey = pkey;
	v->ready = ready;
	return v;
}

bool keys_verify(const unsigned char pub[32], const void *msg, size_t n,
		 const unsigned char sig[64])
{
	bool ok = false;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct verifier *v = verifier_for(pub);
	if (!ctx || !v || EVP_MD_CTX_copy_ex(ctx, v->ready) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, 64, n ? msg : (const void *)"", n) == 1;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error(); /* a bad signature is an answer, not an error to keep */
	return ok;
}

void keys_jwk_thumbprint(const unsigned char pub[32], char out[44])
{
	/* RFC 7638 3.2: the required members only, in lexicographic order, no
	 * white space. */
	char *x = codec_b64url_encode(pub, 32);
	char *canon = cf_asprintf("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	unsigned char h[32];
	digest_sha256(canon, strlen(canon), h);
	char *t = codec_b64url_encode(h, sizeof h);
	memcpy(out, t, 44); /* 43 characters and the NUL */
	free(t);
	free(canon);
	free(x);
}

json_t *keys_public_jwk(const unsigned char pub[32], const char *kid)
{
	char *x = codec_b64url_encode(pub, 32);
	json_t *jwk = json_object();
	json_object_set_new(jwk, "kty", json_string("OKP"));
	json_object_set_new(jwk, "crv", json_string("Ed25519"));
	json_object_set_new(jwk, "x", json_string(x));
	if (kid)
		json_object_set_new(jwk, "kid", json_string(kid));
	json_object_set_new(jwk, "alg", json_string("EdDSA"));
	json_object_set_new(jwk, "use", json_string("sig"));
	free(x);
	return jwk;
}

/* Checks that member name of jwk, if present (or if required), is the string
 * want. */
static cf_err jwk_expect(const json_t *jwk, const char *name, const char *want, bool required,
			 struct cf_error *err)
{
	char pointer[32];
	snprintf(pointer, sizeof pointer, "/%s", name);
	const json_t *v = json_object_get(jwk, name);
	if (!v && !required)
		return CF_OK;
	if (!v)
		return cf_error_set(err, CF_EINVAL, pointer, "the JWK has no \"%s\" member", name);
	if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
		return cf_error_set(err, CF_EINVAL, pointer, "the JWK member \"%s\" must be \"%s\"",
				    name, want);
	return CF_OK;
}

cf_err keys_public_from_jwk(const json_t *jwk, unsigned char pub[32], struct cf_error *err)
{
	cf_err e = CF_OK;
	unsigned char *x = NULL;
	size_t xlen = 0;

	if (!json_is_object(jwk)) {
		e = cf_error_set(err, CF_EINVAL, "", "the JWK is not a JSON object");
		goto out;
	}
	if ((e = jwk_expect(jwk, "kty", "OKP", true, err)) ||
	    (e = jwk_expect(jwk, "crv", "Ed25519", true, err)) ||
	    (e = jwk_expect(jwk, "alg", "EdDSA", false, err)) ||
	    (e = jwk_expect(jwk, "use", "sig", false, err)))
		goto out;
	if (json_object_get(jwk, "d")) {
		e = cf_error_set(err, CF_EINVAL, "/d",
				 "the JWK holds a private key (member \"d\"); only public keys are accepted");
		goto out;
	}
	const json_t *xv = json_object_get(jwk, "x");
	if (!json_is_string(xv)) {
		e = cf_error_set(err, CF_EINVAL, "/x", "the JWK member \"x\" must be a string");
		goto out;
	}
	if (codec_b64url_decode(json_string_value(xv), json_string_length(xv), &x, &xlen, NULL) ||
	    xlen != 32) {
		e = cf_error_set(err, CF_EINVAL, "/x",
				 "the JWK member \"x\" must be the base64url of a 32-byte Ed25519 key");
		goto out;
	}
	memcpy(pub, x, 32);
out:
	free(x);
	return e;
}

/* ---- PKCS#11 tokens ---- */

/* The curve of CKA_EC_PARAMS: the DER of OID 1.3.101.112 (id-Ed25519,
 * RFC 8410), which SoftHSM2 2.6 takes for edwards25519. */
static const unsigned char ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* An open session on a token, logged in as its user; busy while one
 * operation uses it (a PKCS#11 session serves one thread at a time). */
struct p11_token {
	char label[33];
	CK_SESSION_HANDLE session;
	bool busy;
	struct p11_token *next;
};

/*
 * The module is initialised for OS locking (CKF_OS_LOCKING_OK), so that
 * threads may call it at once, each on a session of its own from the pool
 * below. Operations that make or change tokens and keys (generate, import,
 * destroy, list) take admin, one at a time; signing takes only a session.
 * A module that cannot lock for threads (CKR_CANT_LOCK) is initialised
 * without and every operation takes admin.
 */
struct keys_p11 {
	void *lib;
	CK_FUNCTION_LIST_PTR f;
	char *path;
	bool one_thread;	  /* the module refused OS locking */
	pthread_mutex_t lock;	  /* guards tokens */
	pthread_mutex_t admin;	  /* token and key changes, one at a time */
	struct p11_token *tokens; /* the session pool, by label */
};

static cf_err p11_fail(struct cf_error *err, const char *what, CK_RV rv)
{
	enum cf_code code = rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE ? CF_EUNAUTH
										: CF_ECRYPTO;
	return cf_error_set(err, code, NULL, "PKCS#11 %s failed (CKR 0x%lx)", what, (unsigned long)rv);
}

cf_err keys_p11_open(const char *path, struct keys_p11 **out, struct cf_error *err)
{
	*out = NULL;
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return cf_error_set(err, CF_EIO, NULL, "cannot load the PKCS#11 module %s: %s", path,
				    dlerror());
	CK_C_GetFunctionList get = NULL;
	*(void **)&get = dlsym(lib, "C_GetFunctionList");
	CK_FUNCTION_LIST_PTR f = NULL;
	if (!get || get(&f) != CKR_OK || !f) {
		dlclose(lib);
		return cf_error_set(err, CF_EIO, NULL, "%s is not a PKCS#11 module", path);
	}
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	bool one_thread = false;
	CK_RV rv = f->C_Initialize(&args);
	if (rv == CKR_CANT_LOCK) {
		one_thread = true;
		rv = f->C_Initialize(NULL);
	}
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		dlclose(lib);
		return cf_error_set(err, CF_EIO, NULL, "cannot initialise the PKCS#11 module %s (CKR 0x%lx)",
				    path, (unsigned long)rv);
	}
	struct keys_p11 *m = cf_calloc(1, sizeof *m);
	m->lib = lib;
	m->f = f;
	m->path = cf_strdup(path);
	m->one_thread = one_thread;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->admin, NULL);
	*out = m;
	return CF_OK;
}

void keys_p11_close(struct keys_p11 *m)
{
	if (!m)
		return;
	while (m->tokens) {
		struct p11_token *t = m->tokens;
		m->tokens = t->next;
		m->f->C_Logout(t->session);
		m->f->C_CloseSession(t->session);
		free(t);
	}
	m->f->C_Finalize(NULL);
	/* The module stays mapped: some modules (SoftHSM2 among them) leave
	 * threads or atexit handlers behind, which an unload would turn into a
	 * crash at exit. */
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->admin);
	free(m->path);
	free(m);
}

/* A token label as PKCS#11 keeps it: 32 bytes, padded with spaces. */
static void p11_label(const char *label, unsigned char out[32])
{
	size_t n = strlen(label);
	memset(out, ' ', 32);
	memcpy(out, label, n < 32 ? n : 32);
}

/* The slot of the initialised token label (*found), and a slot with a token
 * not yet initialised (*have_free), if any. */
static cf_err p11_slots(struct keys_p11 *m, const char *label, CK_SLOT_ID *slot, bool *found,
			CK_SLOT_ID *free_slot, bool *have_free, struct cf_error *err)
{
	unsigned char want[32];
	p11_label(label, want);
	*found = *have_free = false;
	CK_ULONG n = 0;
	CK_RV rv = m->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return p11_fail(err, "C_GetSlotList", rv);
	CK_SLOT_ID *list = cf_calloc(n ? n : 1, sizeof *list);
	rv = m->f->C_GetSlotList(CK_TRUE, list, &n);
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
		CK_TOKEN_INFO info;
		if (m->f->C_GetTokenInfo(list[i], &info) != CKR_OK)
			continue;
		if (!(info.flags & CKF_TOKEN_INITIALIZED)) {
			if (!*have_free)
				*free_slot = list[i];
			*have_free = true;
		} else if (memcmp(info.label, want, 32) == 0 && !*found) {
			*slot = list[i];
			*found = true;
		}
	}
	free(list);
	return rv == CKR_OK ? CF_OK : p11_fail(err, "C_GetSlotList", rv);
}

/* Initialises a fresh token label with the user PIN pin. */
static cf_err p11_init_token(struct keys_p11 *m, CK_SLOT_ID free_slot, const char *label,
			     const char *pin, CK_SLOT_ID *slot, struct cf_error *err)
{
	/* the SO PIN serves once, here: nobody needs it again */
	unsigned char raw[24];
	rnd_bytes(raw, sizeof raw);
	char *so = codec_b64url_encode(raw, sizeof raw);
	cf_wipe(raw, sizeof raw);
	unsigned char lab[32];
	p11_label(label, lab);
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	cf_err e = CF_OK;
	bool found = false, have_free = false;
	CK_SLOT_ID ignored;
	CK_RV rv = m->f->C_InitToken(free_slot, (CK_UTF8CHAR_PTR)so, strlen(so), lab);
	if (rv != CKR_OK) {
		e = p11_fail(err, "C_InitToken", rv);
		goto out;
	}
	/* SoftHSM2 gives an initialised token a slot of its own: look again */
	e = p11_slots(m, label, slot, &found, &ignored, &have_free, err);
	if (!e && !found)
		e = cf_error_set(err, CF_ECRYPTO, NULL, "the PKCS#11 token %s vanished after initialisation",
				 label);
	if (e)
		goto out;
	rv = m->f->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv == CKR_OK)
		rv = m->f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so, strlen(so));
	if (rv == CKR_OK)
		rv = m->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv != CKR_OK)
		e = p11_fail(err, "setting the token's PIN", rv);
	if (s != CK_INVALID_HANDLE) {
		m->f->C_Logout(s);
		m->f->C_CloseSession(s);
	}
out:
	cf_wipe(so, strlen(so));
	free(so);
	return e;
}

/* Gives a session of p11_session back to the pool. */
static void p11_release(struct keys_p11 *m, CK_SESSION_HANDLE s)
{
	pthread_mutex_lock(&m->lock);
	for (struct p11_token *t = m->tokens; t; t = t->next)
		if (t->session == s)
			t->busy = false;
	pthread_mutex_unlock(&m->lock);
}

/* A read-write session on token label, logged in as its user, for this
 * thread alone until p11_release. With create, a missing token is
 * initialised (the caller holds admin); without, it is CF_ENOTFOUND. */
static cf_err p11_session(struct keys_p11 *m, const char *label, const char *pin, bool create,
			  CK_SESSION_HANDLE *out, struct cf_error *err)
{
	pthread_mutex_lock(&m->lock);
	for (struct p11_token *t = m->tokens; t; t = t->next)
		if (!t->busy && strcmp(t->label, label) == 0) {
			t->busy = true;
			*out = t->session;
			pthread_mutex_unlock(&m->lock);
			return CF_OK;
		}
	pthread_mutex_unlock(&m->lock);
	if (strlen(label) == 0 || strlen(label) > 32)
		return cf_error_set(err, CF_EINVAL, NULL, "a token label must be 1 to 32 characters");
	CK_SLOT_ID slot = 0, free_slot = 0;
	bool found = false, have_free = false;
	cf_err e = p11_slots(m, label, &slot, &found, &free_slot, &have_free, err);
	if (e)
		return e;
	if (!found && !create)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no PKCS#11 token %s", label);
	if (!found && !have_free)
		return cf_error_set(err, CF_ECRYPTO, NULL,
				    "the PKCS#11 module %s has no free token for %s", m->path, label);
	if (!found) {
		e = p11_init_token(m, free_slot, label, pin, &slot, err);
		if (e)
			return e;
	}
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return p11_fail(err, "C_OpenSession", rv);
	rv = m->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		m->f->C_CloseSession(s);
		return p11_fail(err, "C_Login", rv);
	}
	/* every session of a token shares its login: a second one finds the
	 * user logged in already */
	struct p11_token *t = cf_calloc(1, sizeof *t);
	snprintf(t->label, sizeof t->label, "%s", label);
	t->session = s;
	t->busy = true;
	pthread_mutex_lock(&m->lock);
	t->next = m->tokens;
	m->tokens = t;
	pthread_mutex_unlock(&m->lock);
	*out = s;
	return CF_OK;
}

/* Up to max objects of the session's token with CKA_ID kid (and class, when
 * class is not (CK_ULONG)-1). */
static cf_err p11_find(struct keys_p11 *m, CK_SESSION_HANDLE s, const char *kid, CK_ULONG class,
		       CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *n, struct cf_error *err)
{
	CK_ATTRIBUTE t[2];
	CK_ULONG count = 0;
	if (kid)
		t[count++] = (CK_ATTRIBUTE){ CKA_ID, (void *)(uintptr_t)kid, strlen(kid) };
	if (class != (CK_ULONG)-1)
		t[count++] = (CK_ATTRIBUTE){ CKA_CLASS, &class, sizeof class };
	CK_RV rv = m->f->C_FindObjectsInit(s, t, count);
	if (rv != CKR_OK)
		return p11_fail(err, "C_FindObjectsInit", rv);
	rv = m->f->C_FindObjects(s, found, max, n);
	m->f->C_FindObjectsFinal(s);
	return rv == CKR_OK ? CF_OK : p11_fail(err, "C_FindObjects", rv);
}

/* Names both halves of a key by its kid. */
static cf_err p11_name(struct keys_p11 *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const char *kid,
		       struct cf_error *err)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_ID, (void *)(uintptr_t)kid, strlen(kid) },
		{ CKA_LABEL, (void *)(uintptr_t)kid, strlen(kid) },
	};
	CK_RV rv = m->f->C_SetAttributeValue(s, h, t, 2);
	return rv == CKR_OK ? CF_OK : p11_fail(err, "C_SetAttributeValue", rv);
}

static cf_err p11_generate(struct keys_p11 *m, CK_SESSION_HANDLE s, unsigned char pub[32],
			   char kid[KEYS_THUMBPRINT_LEN], struct cf_error *err)
{
	cf_err e = CF_OK;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pubt[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_EC_PARAMS, (void *)(uintptr_t)ed25519_oid, sizeof ed25519_oid },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_TOKEN, &yes, sizeof yes },	 { CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },	 { CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
	};
	CK_MECHANISM mech = { CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	CK_RV rv = m->f->C_GenerateKeyPair(s, &mech, pubt, 3, privt, 5, &hpub, &hpriv);
	if (rv != CKR_OK)
		return p11_fail(err, "C_GenerateKeyPair (Ed25519)", rv);
	/* CKA_EC_POINT: the DER OCTET STRING of the 32 bytes (some modules
	 * give the bare 32) */
	unsigned char point[64];
	CK_ATTRIBUTE pt = { CKA_EC_POINT, point, sizeof point };
	rv = m->f->C_GetAttributeValue(s, hpub, &pt, 1);
	if (rv != CKR_OK) {
		e = p11_fail(err, "reading the new public key", rv);
	} else if (pt.ulValueLen == 34 && point[0] == 0x04 && point[1] == 0x20) {
		memcpy(pub, point + 2, 32);
	} else if (pt.ulValueLen == 32) {
		memcpy(pub, point, 32);
	} else {
		e = cf_error_set(err, CF_ECRYPTO, NULL, "the token's Ed25519 public key has %lu bytes",
				 (unsigned long)pt.ulValueLen);
	}
	if (!e) {
		keys_jwk_thumbprint(pub, kid);
		e = p11_name(m, s, hpub, kid, err);
	}
	if (!e)
		e = p11_name(m, s, hpriv, kid, err);
	if (e) {
		m->f->C_DestroyObject(s, hpub);
		m->f->C_DestroyObject(s, hpriv);
	}
	return e;
}

static cf_err p11_import(struct keys_p11 *m, CK_SESSION_HANDLE s, const char *label,
			 const struct keys_private *k, char kid[KEYS_THUMBPRINT_LEN],
			 struct cf_error *err)
{
	cf_err e;
	keys_jwk_thumbprint(k->pub, kid);
	CK_OBJECT_HANDLE h[1];
	CK_ULONG n = 0;
	e = p11_find(m, s, kid, (CK_ULONG)-1, h, 1, &n, err);
	if (e)
		return e;
	if (n > 0)
		return cf_error_set(err, CF_ECONFLICT, NULL, "the token %s already holds key %s", label, kid);
	unsigned char seed[32], point[34] = { 0x04, 0x20 };
	size_t len = sizeof seed;
	if (EVP_PKEY_get_raw_private_key(k->pkey, seed, &len) != 1 || len != 32) {
		ERR_clear_error();
		return cf_error_set(err, CF_ECRYPTO, NULL, "cannot read the key to import");
	}
	memcpy(point + 2, k->pub, 32);
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_EC_EDWARDS;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE privt[] = {
		{ CKA_CLASS, &priv_class, sizeof priv_class },
		{ CKA_KEY_TYPE, &type, sizeof type },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_EC_PARAMS, (void *)(uintptr_t)ed25519_oid, sizeof ed25519_oid },
		{ CKA_VALUE, seed, sizeof seed },
		{ CKA_ID, kid, strlen(kid) },
		{ CKA_LABEL, kid, strlen(kid) },
	};
	CK_ATTRIBUTE pubt[] = {
		{ CKA_CLASS, &pub_class, sizeof pub_class },
		{ CKA_KEY_TYPE, &type, sizeof type },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_EC_PARAMS, (void *)(uintptr_t)ed25519_oid, sizeof ed25519_oid },
		{ CKA_EC_POINT, point, sizeof point },
		{ CKA_ID, kid, strlen(kid) },
		{ CKA_LABEL, kid, strlen(kid) },
	};
	CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE, hpub = CK_INVALID_HANDLE;
	CK_RV rv = m->f->C_CreateObject(s, privt, sizeof privt / sizeof privt[0], &hpriv);
	cf_wipe(seed, sizeof seed);
	if (rv != CKR_OK)
		return p11_fail(err, "storing the private key", rv);
	rv = m->f->C_CreateObject(s, pubt, sizeof pubt / sizeof pubt[0], &hpub);
	if (rv != CKR_OK) {
		m->f->C_DestroyObject(s, hpriv);
		return p11_fail(err, "storing the public key", rv);
	}
	return CF_OK;
}

static cf_err p11_sign(struct keys_p11 *m, CK_SESSION_HANDLE s, const char *label, const char *kid,
		       const void *msg, size_t n, unsigned char sig[64], struct cf_error *err)
{
	cf_err e;
	CK_OBJECT_HANDLE h;
	CK_ULONG found = 0;
	e = p11_find(m, s, kid, CKO_PRIVATE_KEY, &h, 1, &found, err);
	if (e)
		return e;
	if (found == 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "the token %s holds no key %s", label, kid);
	CK_MECHANISM mech = { CKM_EDDSA, NULL, 0 }; /* PureEdDSA: no parameters */
	CK_RV rv = m->f->C_SignInit(s, &mech, h);
	CK_ULONG siglen = 64;
	if (rv == CKR_OK)
		rv = m->f->C_Sign(s, (CK_BYTE_PTR)(uintptr_t)(n ? msg : ""), n, sig, &siglen);
	if (rv != CKR_OK)
		return p11_fail(err, "C_Sign (EdDSA)", rv);
	if (siglen != 64)
		return cf_error_set(err, CF_ECRYPTO, NULL, "the token's signature has %lu bytes",
				    (unsigned long)siglen);
	return CF_OK;
}

static cf_err p11_destroy(struct keys_p11 *m, CK_SESSION_HANDLE s, const char *label,
			  const char *kid, struct cf_error *err)
{
	cf_err e;
	CK_OBJECT_HANDLE h[8];
	CK_ULONG n = 0;
	e = p11_find(m, s, kid, (CK_ULONG)-1, h, 8, &n, err);
	if (e)
		return e;
	if (n == 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "the token %s holds no key %s", label, kid);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV rv = m->f->C_DestroyObject(s, h[i]);
		if (rv != CKR_OK)
			return p11_fail(err, "C_DestroyObject", rv);
	}
	return CF_OK;
}

static cf_err p11_list(struct keys_p11 *m, CK_SESSION_HANDLE s, json_t **out,
		       struct cf_error *err)
{
	cf_err e;
	CK_OBJECT_HANDLE h[256];
	CK_ULONG n = 0;
	e = p11_find(m, s, NULL, CKO_PRIVATE_KEY, h, 256, &n, err);
	if (e)
		return e;
	json_t *kids = json_array();
	for (CK_ULONG i = 0; i < n; i++) {
		char id[KEYS_THUMBPRINT_LEN] = "";
		CK_ATTRIBUTE t = { CKA_ID, id, sizeof id - 1 };
		if (m->f->C_GetAttributeValue(s, h[i], &t, 1) == CKR_OK && t.ulValueLen < sizeof id) {
			id[t.ulValueLen] = '\0';
			json_array_append_new(kids, json_string(id));
		}
	}
	*out = kids;
	return CF_OK;
}

/* ---- the public PKCS#11 operations: a pooled session each ---- */

/* Takes what one operation needs: admin when it changes tokens or keys (or
 * the module cannot lock for threads), then a session of the pool. On
 * success the caller ends with p11_end(m, *s, admin); on error, nothing is
 * held. */
static cf_err p11_begin(struct keys_p11 *m, const char *label, const char *pin, bool create,
			bool admin, CK_SESSION_HANDLE *s, struct cf_error *err)
{
	if (admin || m->one_thread)
		pthread_mutex_lock(&m->admin);
	cf_err e = p11_session(m, label, pin, create, s, err);
	if (e && (admin || m->one_thread))
		pthread_mutex_unlock(&m->admin);
	return e;
}

static void p11_end(struct keys_p11 *m, CK_SESSION_HANDLE s, bool admin)
{
	p11_release(m, s);
	if (admin || m->one_thread)
		pthread_mutex_unlock(&m->admin);
}

cf_err keys_p11_generate(struct keys_p11 *m, const char *label, const char *pin,
			 unsigned char pub[32], char kid[KEYS_THUMBPRINT_LEN], struct cf_error *err)
{
	CK_SESSION_HANDLE s;
	cf_err e = p11_begin(m, label, pin, true, true, &s, err);
	if (e)
		return e;
	e = p11_generate(m, s, pub, kid, err);
	p11_end(m, s, true);
	return e;
}

cf_err keys_p11_import(struct keys_p11 *m, const char *label, const char *pin,
		       const struct keys_private *k, char kid[KEYS_THUMBPRINT_LEN],
		       struct cf_error *err)
{
	if (!k->pkey)
		return cf_error_set(err, CF_EINVAL, NULL, "this key's private half is held elsewhere");
	CK_SESSION_HANDLE s;
	cf_err e = p11_begin(m, label, pin, true, true, &s, err);
	if (e)
		return e;
	e = p11_import(m, s, label, k, kid, err);
	p11_end(m, s, true);
	return e;
}

cf_err keys_p11_sign(struct keys_p11 *m, const char *label, const char *pin, const char *kid,
		     const void *msg, size_t n, unsigned char sig[64], struct cf_error *err)
{
	CK_SESSION_HANDLE s;
	cf_err e = p11_begin(m, label, pin, false, false, &s, err);
	if (e)
		return e;
	e = p11_sign(m, s, label, kid, msg, n, sig, err);
	p11_end(m, s, false);
	return e;
}

cf_err keys_p11_destroy(struct keys_p11 *m, const char *label, const char *pin, const char *kid,
			struct cf_error *err)
{
	CK_SESSION_HANDLE s;
	cf_err e = p11_begin(m, label, pin, false, true, &s, err);
	if (e)
		return e;
	e = p11_destroy(m, s, label, kid, err);
	p11_end(m, s, true);
	return e;
}

cf_err keys_p11_list(struct keys_p11 *m, const char *label, const char *pin, json_t **out,
		     struct cf_error *err)
{
	*out = NULL;
	CK_SESSION_HANDLE s;
	cf_err e = p11_begin(m, label, pin, false, true, &s, err);
	if (e)
		return e;
	e = p11_list(m, s, out, err);
	p11_end(m, s, true);
	return e;
}
