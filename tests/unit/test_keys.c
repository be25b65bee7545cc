/*
 * Unit tests of core/keys: the RFC 8037 key and its RFC 7638 thumbprint, the
 * JWK helpers, generate → save → load → sign → verify, the key file's mode
 * and refusal to overwrite, wrong and missing passphrases (never echoed), a
 * "file:" OSSL_STORE URI, refusal of non-Ed25519 keys, passphrase files.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "codec.h"
#include "keys.h"
#include "mem.h"
#include "signer.h"
#include "tsupport.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/conform-keys-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes the files a test made (by name) and the directory. */
static void remove_tmpdir(const char *const *names)
{
	for (; *names; names++) {
		char *p = cf_asprintf("%s/%s", tmpdir, *names);
		unlink(p);
		free(p);
	}
	ck_assert_int_eq(rmdir(tmpdir), 0);
}

static char *tmp_path(const char *name)
{
	return cf_asprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static json_t *load_rfc8037(void)
{
	return tsupport_load_json("tests/data/vectors/rfc8037-ed25519-jws.json");
}

static void b64url32(const json_t *s, unsigned char out[32])
{
	unsigned char *d = NULL;
	size_t n = 0;
	ck_assert(json_is_string(s));
	ck_assert_int_eq(codec_b64url_decode(json_string_value(s), json_string_length(s), &d, &n, NULL), 0);
	ck_assert_uint_eq(n, 32);
	memcpy(out, d, 32);
	free(d);
}

/* --- RFC 8037 and JWKs ----------------------------------------------- */

START_TEST(rfc8037_key_and_thumbprint)
{
	json_t *v = load_rfc8037();
	const json_t *priv = json_object_get(v, "private_jwk");
	unsigned char d[32], x[32], pub[32];
	b64url32(json_object_get(priv, "d"), d);
	b64url32(json_object_get(priv, "x"), x);

	struct keys_private *k = NULL;
	ck_assert_int_eq(keys_from_raw_private(&k, d, NULL), 0);
	keys_public_raw(k, pub);
	ck_assert(memcmp(pub, x, 32) == 0);

	char tp[KEYS_THUMBPRINT_LEN];
	keys_jwk_thumbprint(pub, tp);
	ck_assert_str_eq(tp, json_string_value(json_object_get(v, "thumbprint_sha256")));
	ck_assert_uint_eq(strlen(tp), 43);

	/* The vector's JWS signature is Ed25519 over its signing input. */
	const char *jws = json_string_value(json_object_get(v, "jws"));
	const char *dot = strrchr(jws, '.');
	unsigned char *sig = NULL;
	size_t siglen = 0;
	ck_assert_int_eq(codec_b64url_decode(dot + 1, strlen(dot + 1), &sig, &siglen, NULL), 0);
	ck_assert_uint_eq(siglen, 64);
	size_t input_len = (size_t)(dot - jws);
	ck_assert(keys_verify(pub, jws, input_len, sig));
	unsigned char mine[64];
	ck_assert_int_eq(keys_sign(k, jws, input_len, mine, NULL), 0);
	ck_assert(memcmp(mine, sig, 64) == 0); /* deterministic */
	ck_assert(!keys_verify(pub, jws, input_len - 1, sig));
	sig[10] ^= 0x04;
	ck_assert(!keys_verify(pub, jws, input_len, sig));
	free(sig);
	keys_free(k);
	json_decref(v);
}
END_TEST

START_TEST(public_jwk_round_trip)
{
	json_t *v = load_rfc8037();
	unsigned char x[32], pub[32];
	b64url32(json_object_get(json_object_get(v, "public_jwk"), "x"), x);

	json_t *jwk = keys_public_jwk(x, "did:web:example.com#abc");
	char *text = json_dumps(jwk, JSON_COMPACT);
	ck_assert_str_eq(text, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
			       "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
			       "\"kid\":\"did:web:example.com#abc\",\"alg\":\"EdDSA\",\"use\":\"sig\"}");
	free(text);
	memset(pub, 0, sizeof pub);
	ck_assert_int_eq(keys_public_from_jwk(jwk, pub, NULL), 0);
	ck_assert(memcmp(pub, x, 32) == 0);
	json_decref(jwk);

	jwk = keys_public_jwk(x, NULL);
	ck_assert_ptr_null(json_object_get(jwk, "kid"));
	json_decref(jwk);

	/* The vector's public JWK (no alg, no use) parses too. */
	ck_assert_int_eq(keys_public_from_jwk(json_object_get(v, "public_jwk"), pub, NULL), 0);
	ck_assert(memcmp(pub, x, 32) == 0);
	json_decref(v);
}
END_TEST

START_TEST(public_jwk_errors)
{
	json_t *v = load_rfc8037();
	struct cf_error err;
	unsigned char pub[32];
	static const struct {
		const char *jwk;
		const char *pointer;
	} bad[] = {
		{ "[]", "" },
		{ "{\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/kty" },
		{ "{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/kty" },
		{ "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/crv" },
		{ "{\"kty\":\"OKP\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/crv" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"ES256\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/alg" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "/use" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "/x" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":42}", "/x" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}", "/x" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}", "/x" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoAAA\"}", "/x" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i].jwk, JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(j);
		memset(pub, 0x5a, sizeof pub);
		ck_assert_int_eq(keys_public_from_jwk(j, pub, &err), CF_EINVAL);
		ck_assert_msg(strcmp(err.pointer, bad[i].pointer) == 0, "case %zu: pointer %s", i,
			      err.pointer);
		for (size_t b = 0; b < sizeof pub; b++)
			ck_assert_uint_eq(pub[b], 0x5a); /* unchanged on error */
		json_decref(j);
	}
	/* a private JWK is refused, naming "d" */
	ck_assert_int_eq(keys_public_from_jwk(json_object_get(v, "private_jwk"), pub, &err), CF_EINVAL);
	ck_assert_str_eq(err.pointer, "/d");
	json_decref(v);
}
END_TEST

/* --- Key files ------------------------------------------------------- */

START_TEST(generate_save_load_sign)
{
	make_tmpdir();
	char *path = tmp_path("log.key");
	const char *pass = "correct horse battery staple";
	struct keys_private *k = NULL, *loaded = NULL, *other = NULL;
	struct cf_error err;
	unsigned char pub[32], pub2[32], sig[64];

	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_save_pem(k, path, pass, &err), 0);

	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert(S_ISREG(st.st_mode));
	size_t len = 0;
	char *pem = tsupport_read_file(path, &len);
	ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	free(pem);

	/* never overwrites: CF_ECONFLICT naming the file, the file untouched */
	ck_assert_int_eq(keys_generate(&other, NULL), 0);
	ck_assert_int_eq(keys_save_pem(other, path, pass, &err), CF_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.detail, path));

	ck_assert_int_eq(keys_load(&loaded, path, pass, &err), 0);
	keys_public_raw(k, pub);
	keys_public_raw(loaded, pub2);
	ck_assert(memcmp(pub, pub2, 32) == 0);

	const char msg[] = "a certificate";
	ck_assert_int_eq(keys_sign(loaded, msg, sizeof msg - 1, sig, NULL), 0);
	ck_assert(keys_verify(pub, msg, sizeof msg - 1, sig));
	ck_assert(!keys_verify(pub, "a certificatf", sizeof msg - 1, sig));
	keys_public_raw(other, pub2);
	ck_assert(!keys_verify(pub2, msg, sizeof msg - 1, sig));
	/* empty messages are signable */
	ck_assert_int_eq(keys_sign(loaded, NULL, 0, sig, NULL), 0);
	ck_assert(keys_verify(pub, NULL, 0, sig));
	ck_assert(keys_verify(pub, "", 0, sig));

	keys_free(loaded);
	keys_free(other);
	keys_free(k);
	keys_free(NULL);
	free(path);
	remove_tmpdir((const char *const[]){ "log.key", NULL });
}
END_TEST

START_TEST(save_refuses_empty_passphrase)
{
	make_tmpdir();
	char *path = tmp_path("k.pem");
	struct keys_private *k = NULL;
	struct cf_error err;
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_save_pem(k, path, "", &err), CF_EINVAL);
	ck_assert_int_eq(keys_save_pem(k, path, NULL, &err), CF_EINVAL);
	ck_assert_int_ne(access(path, F_OK), 0); /* nothing was created */
	char *nodir = tmp_path("missing/k.pem");
	ck_assert_int_eq(keys_save_pem(k, nodir, "pass", &err), CF_EIO);
	free(nodir);
	keys_free(k);
	free(path);
	remove_tmpdir((const char *const[]){ NULL });
}
END_TEST

START_TEST(wrong_and_missing_passphrase)
{
	make_tmpdir();
	char *path = tmp_path("k.pem");
	const char *pass = "s3cret-Passphrase-1";
	const char *wrong = "Wrong-Passphrase-2";
	struct keys_private *k = NULL, *loaded = NULL;
	struct cf_error err;
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_save_pem(k, path, pass, NULL), 0);

	ck_assert_int_eq(keys_load(&loaded, path, wrong, &err), CF_EUNAUTH);
	ck_assert_ptr_null(loaded);
	ck_assert_ptr_nonnull(strstr(err.detail, "wrong passphrase"));
	ck_assert_ptr_nonnull(strstr(err.detail, path));
	ck_assert_ptr_null(strstr(err.detail, wrong));
	ck_assert_ptr_null(strstr(err.detail, pass));

	ck_assert_int_eq(keys_load(&loaded, path, NULL, &err), CF_EUNAUTH);
	ck_assert_ptr_nonnull(strstr(err.detail, "no passphrase"));
	ck_assert_ptr_null(loaded);

	/* a prefix of the right passphrase is still wrong */
	ck_assert_int_eq(keys_load(&loaded, path, "s3cret", &err), CF_EUNAUTH);
	ck_assert_ptr_null(strstr(err.detail, "s3cret"));

	ck_assert_int_eq(keys_load(&loaded, path, pass, &err), 0);
	keys_free(loaded);
	keys_free(k);
	free(path);
	remove_tmpdir((const char *const[]){ "k.pem", NULL });
}
END_TEST

START_TEST(load_file_uri)
{
	make_tmpdir();
	char *path = tmp_path("k.pem");
	char *uri = cf_asprintf("file:%s", path);
	struct keys_private *k = NULL, *loaded = NULL;
	unsigned char pub[32], pub2[32];
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_save_pem(k, path, "uri pass", NULL), 0);
	ck_assert_int_eq(keys_load(&loaded, uri, "uri pass", NULL), 0);
	keys_public_raw(k, pub);
	keys_public_raw(loaded, pub2);
	ck_assert(memcmp(pub, pub2, 32) == 0);
	keys_free(loaded);

	/* a URI's query (where a PKCS#11 PIN may be) is not echoed */
	struct cf_error err;
	char *missing = cf_asprintf("file:%s/none.pem?pin-value=1234", tmpdir);
	ck_assert_int_ne(keys_load(&loaded, missing, NULL, &err), 0);
	ck_assert_ptr_null(loaded);
	ck_assert_ptr_null(strstr(err.detail, "1234"));
	free(missing);

	keys_free(k);
	free(uri);
	free(path);
	remove_tmpdir((const char *const[]){ "k.pem", NULL });
}
END_TEST

/* Writes pkey unencrypted as PKCS#8 PEM, as another tool would. */
static void write_plain_pem(const char *path, EVP_PKEY *pkey, bool public_only)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	if (public_only)
		ck_assert_int_eq(PEM_write_PUBKEY(f, pkey), 1);
	else
		ck_assert_int_eq(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(load_unencrypted_known_key)
{
	make_tmpdir();
	json_t *v = load_rfc8037();
	const json_t *priv = json_object_get(v, "private_jwk");
	unsigned char d[32], x[32], pub[32];
	b64url32(json_object_get(priv, "d"), d);
	b64url32(json_object_get(priv, "x"), x);
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, 32);
	ck_assert_ptr_nonnull(pkey);
	char *path = tmp_path("plain.pem");
	write_plain_pem(path, pkey, false);

	struct keys_private *k = NULL;
	ck_assert_int_eq(keys_load(&k, path, NULL, NULL), 0);
	keys_public_raw(k, pub);
	ck_assert(memcmp(pub, x, 32) == 0);
	keys_free(k);
	/* a passphrase that is not needed is not an error */
	ck_assert_int_eq(keys_load(&k, path, "unused", NULL), 0);
	keys_free(k);

	/* a public key alone is no private key */
	char *pubpath = tmp_path("public.pem");
	write_plain_pem(pubpath, pkey, true);
	struct cf_error err;
	ck_assert_int_eq(keys_load(&k, pubpath, NULL, &err), CF_ENOTFOUND);
	ck_assert_ptr_null(k);

	/* neither is a missing file or garbage */
	char *missing = tmp_path("missing.pem");
	ck_assert_int_eq(keys_load(&k, missing, NULL, &err), CF_EIO);
	ck_assert_ptr_nonnull(strstr(err.detail, missing));
	char *junk = tmp_path("junk.pem");
	write_file(junk, "not a key\n", 10);
	ck_assert_int_ne(keys_load(&k, junk, NULL, &err), 0);
	ck_assert_ptr_null(k);

	EVP_PKEY_free(pkey);
	free(junk);
	free(missing);
	free(pubpath);
	free(path);
	json_decref(v);
	remove_tmpdir((const char *const[]){ "plain.pem", "public.pem", "junk.pem", NULL });
}
END_TEST

START_TEST(refuses_other_key_types)
{
	make_tmpdir();
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(ec);
	char *path = tmp_path("ec.pem");
	write_plain_pem(path, ec, false);
	struct keys_private *k = NULL;
	struct cf_error err;
	ck_assert_int_eq(keys_load(&k, path, NULL, &err), CF_EINVAL);
	ck_assert_ptr_null(k);
	ck_assert_ptr_nonnull(strstr(err.detail, "EC"));
	ck_assert_ptr_nonnull(strstr(err.detail, "Ed25519"));
	EVP_PKEY_free(ec);

	/* X25519 is the same curve but no signing key */
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	ck_assert_ptr_nonnull(x);
	char *xpath = tmp_path("x25519.pem");
	write_plain_pem(xpath, x, false);
	ck_assert_int_eq(keys_load(&k, xpath, NULL, &err), CF_EINVAL);
	EVP_PKEY_free(x);
	free(xpath);
	free(path);
	remove_tmpdir((const char *const[]){ "ec.pem", "x25519.pem", NULL });
}
END_TEST

/* --- Passphrase files ------------------------------------------------ */

START_TEST(passphrase_files)
{
	make_tmpdir();
	char *path = tmp_path("pass");
	char *p = NULL;
	struct cf_error err;
	static const struct {
		const char *content;
		const char *want;
	} good[] = {
		{ "secret\n", "secret" },
		{ "secret\r\n", "secret" },
		{ "secret", "secret" },
		{ "first line\nsecond\n", "first line" },
		{ " spaces kept \n", " spaces kept " },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		write_file(path, good[i].content, strlen(good[i].content));
		ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), 0);
		ck_assert_str_eq(p, good[i].want);
		keys_passphrase_free(p);
		unlink(path);
	}
	static const char *const empty[] = { "", "\n", "\r\n", "\nsecond\n" };
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		write_file(path, empty[i], strlen(empty[i]));
		p = (char *)1;
		ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), CF_EINVAL);
		ck_assert_ptr_null(p);
		ck_assert_ptr_nonnull(strstr(err.detail, path));
		unlink(path);
	}

	/* 1024 bytes is the most; the error never shows the content */
	char big[1100];
	memset(big, 'Q', sizeof big);
	big[1024] = '\n';
	write_file(path, big, 1025);
	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), 0);
	ck_assert_uint_eq(strlen(p), 1024);
	keys_passphrase_free(p);
	unlink(path);
	big[1024] = 'Q';
	big[1025] = '\n';
	write_file(path, big, 1026);
	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), CF_ETOOLARGE);
	ck_assert_ptr_null(strstr(err.detail, "QQQQ"));
	ck_assert_ptr_nonnull(strstr(err.detail, path));
	unlink(path);
	write_file(path, big, sizeof big); /* no newline at all */
	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), CF_ETOOLARGE);
	unlink(path);

	write_file(path, "ab\0cd\n", 6);
	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), CF_EINVAL);
	unlink(path);

	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), CF_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.detail, path));
	keys_passphrase_free(NULL);

	/* a passphrase from a file opens a key saved with it */
	write_file(path, "from a file\n", 12);
	ck_assert_int_eq(keys_read_passphrase_file(path, &p, &err), 0);
	char *keypath = tmp_path("k.pem");
	struct keys_private *k = NULL, *loaded = NULL;
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_save_pem(k, keypath, p, NULL), 0);
	ck_assert_int_eq(keys_load(&loaded, keypath, "from a file", NULL), 0);
	keys_free(loaded);
	keys_free(k);
	keys_passphrase_free(p);
	free(keypath);
	free(path);
	remove_tmpdir((const char *const[]){ "pass", "k.pem", NULL });
}
END_TEST

START_TEST(did_web_follows_the_public_url)
{
	/* did:web resolves <host>[/<path>]/bodies/<id>/did.json: the path counts */
	const char *id = "0b7f6c2e-5d7a-4c47-9a4e-2f3b9d1c8e10";
	char did[SIGNER_DID_LEN];
	signer_did("http://127.0.0.1:8080", id, did);
	ck_assert_str_eq(did, "did:web:127.0.0.1%3A8080:bodies:0b7f6c2e-5d7a-4c47-9a4e-2f3b9d1c8e10");
	signer_did("https://Certs.Example.org/conform/v1", id, did);
	ck_assert_str_eq(did, "did:web:certs.example.org:conform:v1:bodies:"
			      "0b7f6c2e-5d7a-4c47-9a4e-2f3b9d1c8e10");
	signer_did("https://certs.example.org//a/", id, did);
	ck_assert_str_eq(did, "did:web:certs.example.org:a:bodies:0b7f6c2e-5d7a-4c47-9a4e-2f3b9d1c8e10");
}
END_TEST

#ifdef __SANITIZE_ADDRESS__
/* SoftHSM2 and libcrypto have no frame pointers: without the slow unwinder
 * LeakSanitizer's stacks stop in libcrypto and tests/lsan.supp cannot name
 * SoftHSM2's own leak. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
#endif

/* A delegated key signs through its function and trusts only an answer that
 * verifies under its public half. */
static cf_err sign_with(void *ctx, const void *msg, size_t n, unsigned char sig[64],
			struct cf_error *err)
{
	return keys_sign(ctx, msg, n, sig, err);
}

START_TEST(a_delegated_key_checks_what_it_is_given)
{
	struct keys_private *real = NULL, *other = NULL;
	ck_assert_int_eq(keys_generate(&real, NULL), 0);
	ck_assert_int_eq(keys_generate(&other, NULL), 0);
	unsigned char pub[32], sig[64];
	keys_public_raw(real, pub);
	struct keys_private *d = keys_delegate(pub, sign_with, real, NULL);
	ck_assert_int_eq(keys_sign(d, "abc", 3, sig, NULL), 0);
	ck_assert(keys_verify(pub, "abc", 3, sig));
	/* its private half is elsewhere: it cannot be saved */
	struct cf_error err;
	ck_assert_int_eq(keys_save_pem(d, "/tmp/never-written.pem", "x", &err), CF_EINVAL);
	keys_free(d);
	/* a signer answering with another key's signature is caught */
	d = keys_delegate(pub, sign_with, other, NULL);
	ck_assert_int_eq(keys_sign(d, "abc", 3, sig, &err), CF_ECRYPTO);
	keys_free(d);
	keys_free(other);
	keys_free(real);
}
END_TEST

/* SoftHSM2 with its tokens in a fresh directory (SOFTHSM2_CONF). */
static char *softhsm_dir(void)
{
	char tmpl[] = "/tmp/conform-p11.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	char *tokens = cf_asprintf("%s/tokens", tmpl);
	ck_assert_int_eq(mkdir(tokens, 0700), 0);
	char *conf = cf_asprintf("%s/softhsm2.conf", tmpl);
	FILE *f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
	free(tokens);
	return cf_strdup(tmpl);
}

START_TEST(pkcs11_tokens_keep_each_owner_apart)
{
	char *dir = softhsm_dir();
	struct keys_p11 *m = NULL;
	struct cf_error err;
	ck_assert_msg(keys_p11_open("/usr/lib/softhsm/libsofthsm2.so", &m, &err) == 0, "%s", err.detail);
	unsigned char pub_a[32], pub_b[32], sig[64];
	char kid_a[KEYS_THUMBPRINT_LEN], kid_b[KEYS_THUMBPRINT_LEN];
	ck_assert_msg(keys_p11_generate(m, "bodya", "pin-of-a", pub_a, kid_a, &err) == 0, "%s", err.detail);
	ck_assert_msg(keys_p11_generate(m, "bodyb", "pin-of-b", pub_b, kid_b, &err) == 0, "%s", err.detail);
	/* kid is the thumbprint of what the token made; EdDSA signs verifiably */
	char check[KEYS_THUMBPRINT_LEN];
	keys_jwk_thumbprint(pub_a, check);
	ck_assert_str_eq(check, kid_a);
	ck_assert_int_eq(keys_p11_sign(m, "bodya", "pin-of-a", kid_a, "hello", 5, sig, &err), 0);
	ck_assert(keys_verify(pub_a, "hello", 5, sig));
	ck_assert(!keys_verify(pub_b, "hello", 5, sig));
	/* one token holds only its owner's key */
	ck_assert_int_eq(keys_p11_sign(m, "bodya", "pin-of-a", kid_b, "hello", 5, sig, &err), CF_ENOTFOUND);
	json_t *kids = NULL;
	ck_assert_int_eq(keys_p11_list(m, "bodyb", "pin-of-b", &kids, &err), 0);
	ck_assert_uint_eq(json_array_size(kids), 1);
	ck_assert_str_eq(json_string_value(json_array_get(kids, 0)), kid_b);
	json_decref(kids);
	ck_assert_int_eq(keys_p11_sign(m, "nobody", "x", kid_a, "h", 1, sig, &err), CF_ENOTFOUND);
	keys_p11_close(m);

	/* in a fresh session, another owner's PIN opens nothing */
	m = NULL;
	ck_assert_int_eq(keys_p11_open("/usr/lib/softhsm/libsofthsm2.so", &m, &err), 0);
	ck_assert_int_eq(keys_p11_sign(m, "bodya", "pin-of-b", kid_a, "hello", 5, sig, &err), CF_EUNAUTH);
	ck_assert(strstr(err.detail, "C_Login"));
	ck_assert(!strstr(err.detail, "pin-of"));
	keys_p11_close(m);

	/* a known key taken in signs like a made one; destroyed, it is gone */
	m = NULL;
	ck_assert_int_eq(keys_p11_open("/usr/lib/softhsm/libsofthsm2.so", &m, &err), 0);
	unsigned char seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)(i * 7 + 1);
	struct keys_private *k = NULL;
	ck_assert_int_eq(keys_from_raw_private(&k, seed, NULL), 0);
	char kid_k[KEYS_THUMBPRINT_LEN];
	unsigned char pub_k[32];
	keys_public_raw(k, pub_k);
	ck_assert_msg(keys_p11_import(m, "bodya", "pin-of-a", k, kid_k, &err) == 0, "%s", err.detail);
	ck_assert_int_eq(keys_p11_import(m, "bodya", "pin-of-a", k, kid_k, &err), CF_ECONFLICT);
	ck_assert_int_eq(keys_p11_sign(m, "bodya", "pin-of-a", kid_k, "x", 1, sig, &err), 0);
	ck_assert(keys_verify(pub_k, "x", 1, sig));
	ck_assert_int_eq(keys_p11_destroy(m, "bodya", "pin-of-a", kid_k, &err), 0);
	ck_assert_int_eq(keys_p11_sign(m, "bodya", "pin-of-a", kid_k, "x", 1, sig, &err), CF_ENOTFOUND);
	ck_assert_int_eq(keys_p11_destroy(m, "bodya", "pin-of-a", kid_k, &err), CF_ENOTFOUND);
	keys_free(k);
	keys_p11_close(m);

	char *rm = cf_asprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(rm), 0);
	free(rm);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rfc8037_key_and_thumbprint);
	tcase_add_test(tc, public_jwk_round_trip);
	tcase_add_test(tc, public_jwk_errors);
	tcase_add_test(tc, generate_save_load_sign);
	tcase_add_test(tc, save_refuses_empty_passphrase);
	tcase_add_test(tc, wrong_and_missing_passphrase);
	tcase_add_test(tc, load_file_uri);
	tcase_add_test(tc, load_unencrypted_known_key);
	tcase_add_test(tc, refuses_other_key_types);
	tcase_add_test(tc, passphrase_files);
	tcase_add_test(tc, did_web_follows_the_public_url);
	tcase_add_test(tc, a_delegated_key_checks_what_it_is_given);
	tcase_add_test(tc, pkcs11_tokens_keep_each_owner_apart);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
