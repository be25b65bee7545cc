/*
 * Bodies hold their own keys (issue 10, observation 4): conformd signs
 * through conform-signer and never holds a private key. A known key is
 * handed to the signer, a certificate is issued through conformd, and a core
 * dump of conformd (gdb's gcore) holds neither its PKCS#8 form nor its raw
 * seed, while it does hold the public key (so the search is real); no file
 * under conformd's data directory or the signer's own holds the key in
 * clear.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "jsonx.h"
#include "keys.h"
#include "mem.h"
#include "proc.h"
#include "rnd.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	world_create(&w, "signing_keys", NULL);
}

static void teardown(void)
{
	world_destroy(&w);
}

/* The PKCS#8 DER of an Ed25519 private key: this prefix, then the seed
 * (RFC 8410 section 7). */
static const unsigned char pkcs8_prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
						0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };

/* The forms in which the key could sit in memory or in a file in clear. */
struct needles {
	unsigned char der[48];
	char *der_b64;  /* as in an unencrypted PEM */
	char *seed_b64url; /* as the JWK "d" */
	unsigned char seed[32];
};

static bool has(const unsigned char *hay, size_t n, const void *needle, size_t len)
{
	return n >= len && memmem(hay, n, needle, len) != NULL;
}

/* Which form of the key data holds, or NULL. */
static const char *find_key(const unsigned char *data, size_t n, const struct needles *k)
{
	if (has(data, n, k->der, sizeof k->der))
		return "the PKCS#8 DER";
	if (has(data, n, k->seed, sizeof k->seed))
		return "the raw seed";
	if (has(data, n, k->der_b64, strlen(k->der_b64)))
		return "the base64 PKCS#8 (an unencrypted PEM)";
	if (has(data, n, k->seed_b64url, strlen(k->seed_b64url)))
		return "the base64url seed (a JWK d)";
	return NULL;
}

/* Asserts that no file under dir holds the key in clear; returns how many
 * files it read. */
static int scan_dir(const char *dir, const struct needles *k)
{
	int files = 0;
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot read %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *path = cf_asprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			files += scan_dir(path, k);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			size_t n = 0;
			char *data = tsupport_read_file(path, &n);
			ck_assert_msg(data != NULL, "cannot read %s", path);
			const char *found = find_key((const unsigned char *)data, n, k);
			ck_assert_msg(!found, "%s holds %s of the private key", path, found);
			free(data);
			files++;
		}
		free(path);
	}
	closedir(d);
	return files;
}

START_TEST(conformd_signs_without_ever_holding_the_private_key)
{
	/* a key the test knows, handed to the signer as the operator would */
	struct needles k;
	rnd_bytes(k.seed, sizeof k.seed);
	memcpy(k.der, pkcs8_prefix, sizeof pkcs8_prefix);
	memcpy(k.der + 16, k.seed, 32);
	k.der_b64 = codec_b64_encode(k.der, sizeof k.der);
	k.seed_b64url = codec_b64url_encode(k.seed, sizeof k.seed);
	struct keys_private *key = NULL;
	ck_assert_int_eq(keys_from_raw_private(&key, k.seed, NULL), 0);
	unsigned char pub[32];
	keys_public_raw(key, pub);
	char kid[KEYS_THUMBPRINT_LEN];
	keys_jwk_thumbprint(pub, kid);
	char *pem = cf_asprintf("%s/import.pem", w.keys_dir);
	char *pass = cf_asprintf("%s/import.pass", w.keys_dir);
	FILE *f = fopen(pass, "w");
	ck_assert_ptr_nonnull(f);
	fputs("the passphrase of the file handed over\n", f);
	fclose(f);
	ck_assert_int_eq(keys_save_pem(key, pem, "the passphrase of the file handed over", NULL), 0);
	keys_free(key);

	char *pass_env = cf_asprintf("CONFORM_KEY_PASSPHRASE_FILE=%s", pass);
	const char *env[] = { w.signer.env, pass_env, NULL };
	const char *import[] = { "key", "import", "--org", w.certifier.org, pem, NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w.db, import, env);
	ck_assert_msg(r.status == 0, "key import: %s", r.err);
	ck_assert_msg(strstr(r.out, kid), "%s", r.out);
	proc_result_free(&r);
	/* the operator's copy goes; the signer keeps its own, sealed */
	ck_assert_int_eq(unlink(pem), 0);

	/* a certificate, signed with that key, through conformd */
	char serial[40], path[96];
	world_certificate(&w, serial);
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jsonx_str(json_object_get(c, "key"), "kid"), kid);
	json_decref(c);
	world_wait_checkpoint(&w, 1); /* the log key has signed too */

	/* conformd's whole memory, as gdb dumps it */
	char *core = cf_asprintf("%s/conformd.core", w.keys_dir);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)w.srv.pid);
	char *gcore_cmd = cf_asprintf("gcore %s", core);
	const char *gcore[] = { "/usr/bin/gdb", "-batch", "-nx", "-p", pid, "-ex", gcore_cmd, NULL };
	proc_run(&r, gcore, NULL);
	ck_assert_msg(r.status == 0, "gdb: %s %s", r.out, r.err);
	proc_result_free(&r);
	size_t n = 0;
	char *dump = tsupport_read_file(core, &n);
	ck_assert_msg(dump && n > 1000000, "no core dump of conformd at %s", core);
	/* the public half is there (the search sees conformd's memory)... */
	ck_assert_msg(has((unsigned char *)dump, n, pub, sizeof pub),
		      "the dump does not hold even the public key: it is not conformd's memory");
	/* ...the private half in no form */
	const char *found = find_key((unsigned char *)dump, n, &k);
	ck_assert_msg(!found, "conformd's memory holds %s of the private key", found);
	free(dump);
	ck_assert_int_eq(unlink(core), 0);

	/* and no file holds it in clear: conformd's data, the signer's own */
	scan_dir(w.srv.data_dir, &k);
	int sealed = scan_dir(w.signer.dir, &k);
	ck_assert_int_ge(sealed, 3); /* the owner's secret and its two keys at least */

	free(gcore_cmd);
	free(pass_env);
	free(pass);
	free(pem);
	free(k.der_b64);
	free(k.seed_b64url);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("signing_keys");
	TCase *tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, conformd_signs_without_ever_holding_the_private_key);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
