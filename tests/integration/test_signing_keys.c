/*
 * Bodies hold their own keys (issue 10, observation 4): conformd signs
 * through conform-signer and never holds a private key. A known key is
 * handed to the signer, a certificate is issued through conformd, and a core
 * dump of conformd (gdb's gcore) holds neither its PKCS#8 form nor its raw
 * seed, while it does hold the public key (so the search is real; built with
 * AddressSanitizer, the search reads conformd's memory in place, see
 * scan_memory); no file
 * under conformd's data directory or the signer's own holds the key in
 * clear. A body's administrator makes, rotates and retires the body's keys
 * through the API; the scheme owner's admin cannot; what a retired key
 * signed stays valid. The body's administrator also revokes a compromised
 * key through the API: what it signed since then stops verifying.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "jsonx.h"
#include "keys.h"
#include "mem.h"
#include "proc.h"
#include "rnd.h"
#include "signerlink.h"
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

#ifndef __SANITIZE_ADDRESS__
/*
 * Searches the file at path for the key's forms, and for pub (*has_pub), in
 * chunks and over its data only: a core dump is sparse, and under
 * AddressSanitizer it spans terabytes of holes. Returns the form found, or
 * NULL.
 */
static const char *scan_core(const char *path, const struct needles *k, const unsigned char pub[32],
			     bool *has_pub)
{
	enum { CHUNK = 16 << 20, KEEP = 128 };
	int fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "cannot open %s", path);
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *buf = cf_malloc(CHUNK + KEEP);
	const char *found = NULL;
	*has_pub = false;
	for (off_t pos = 0; pos < end && !found;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = end;
		size_t have = 0; /* the tail of the previous chunk: a key may straddle */
		for (off_t at = data; at < hole && !found;) {
			size_t want = (size_t)(hole - at) < CHUNK ? (size_t)(hole - at) : CHUNK;
			ssize_t r = pread(fd, buf + have, want, at);
			if (r <= 0)
				break;
			size_t n = have + (size_t)r;
			found = find_key(buf, n, k);
			*has_pub = *has_pub || has(buf, n, pub, 32);
			at += r;
			have = n < KEEP ? n : KEEP;
			memmove(buf, buf + n - have, have);
		}
		pos = hole;
	}
	free(buf);
	close(fd);
	return found;
}

#endif

#ifdef __SANITIZE_ADDRESS__
/*
 * Under AddressSanitizer a core dump of conformd is terabytes of shadow and
 * allocator reservations (a gcore of it wrote 79 GB and filled the disk), so
 * this build searches conformd's memory in place instead: every readable
 * mapping the kernel would dump (no "dd" flag), page by page, only the pages
 * that are present (/proc/PID/pagemap), read through /proc/PID/mem. Same
 * needles, same answer as the gcore of the ordinary build.
 */
static const char *scan_memory(pid_t pid, const struct needles *k, const unsigned char pub[32],
			       bool *has_pub)
{
	enum { PAGE = 4096, KEEP = 128, BATCH = 512 };
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	FILE *maps = fopen(path, "r");
	ck_assert_msg(maps != NULL, "cannot read %s", path);
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int mem = open(path, O_RDONLY);
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	int pagemap = open(path, O_RDONLY);
	ck_assert(mem >= 0 && pagemap >= 0);
	unsigned char buf[PAGE + KEEP];
	uint64_t entries[BATCH];
	const char *found = NULL;
	*has_pub = false;
	char line[512];
	unsigned long lo = 0, hi = 0, rss = 0;
	bool readable = false;
	/* each mapping's header line, then its fields (Rss), VmFlags last */
	while (!found && fgets(line, sizeof line, maps)) {
		char perms[8];
		unsigned long from, to;
		/* into temporaries: a field line ("FilePmdMapped:") half-matches */
		if (sscanf(line, "%lx-%lx %7s", &from, &to, perms) == 3) {
			lo = from;
			hi = to;
			readable = perms[0] == 'r';
			rss = 0;
			continue;
		}
		if (strncmp(line, "Rss:", 4) == 0) {
			rss = strtoul(line + 4, NULL, 10);
			continue;
		}
		/* nothing resident, or kept out of core dumps (ASan's shadow) */
		if (strncmp(line, "VmFlags:", 8) != 0 || !readable || rss == 0 || strstr(line, " dd"))
			continue;
		size_t have = 0;
		for (unsigned long base = lo; base < hi && !found; base += (unsigned long)BATCH * PAGE) {
			size_t pages = (hi - base) / PAGE < BATCH ? (hi - base) / PAGE : BATCH;
			ssize_t got = pread(pagemap, entries, pages * sizeof entries[0],
					    (off_t)(base / PAGE * sizeof entries[0]));
			size_t known = got > 0 ? (size_t)got / sizeof entries[0] : 0;
			for (size_t i = 0; i < pages && !found; i++) {
				unsigned long at = base + i * PAGE;
				if (i >= known || !(entries[i] >> 63 & 1) ||
				    pread(mem, buf + have, PAGE, (off_t)at) != PAGE) {
					have = 0; /* not present: nothing straddles it */
					continue;
				}
				size_t n = have + PAGE;
				found = find_key(buf, n, k);
				*has_pub = *has_pub || has(buf, n, pub, 32);
				have = KEEP;
				memmove(buf, buf + n - KEEP, KEEP);
			}
		}
	}
	close(pagemap);
	close(mem);
	fclose(maps);
	return found;
}
#endif

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

	/* conformd's whole memory: as gdb dumps it (gcore), or in place under
	 * AddressSanitizer (see scan_memory) */
	bool has_pub = false;
	char *gcore_cmd = NULL;
#ifdef __SANITIZE_ADDRESS__
	const char *found = scan_memory(w.srv.pid, &k, pub, &has_pub);
#else
	char *core = cf_asprintf("%s/conformd.core", w.keys_dir);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)w.srv.pid);
	gcore_cmd = cf_asprintf("gcore %s", core);
	const char *gcore[] = { "/usr/bin/gdb", "-batch", "-nx", "-p", pid, "-ex", gcore_cmd, NULL };
	proc_run(&r, gcore, NULL);
	ck_assert_msg(r.status == 0, "gdb: %s %s", r.out, r.err);
	proc_result_free(&r);
	struct stat st;
	ck_assert_msg(stat(core, &st) == 0 && st.st_size > 1000000, "no core dump of conformd at %s",
		      core);
	const char *found = scan_core(core, &k, pub, &has_pub);
	ck_assert_int_eq(unlink(core), 0);
	free(core);
#endif
	/* the private half in no form... */
	ck_assert_msg(!found, "conformd's memory holds %s of the private key", found);
	/* ...while the public half is there (the search sees conformd's memory) */
	ck_assert_msg(has_pub, "the search does not find even the public key: it is not conformd's memory");

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

static json_t *post_key(const char *org, const struct actor *who, long expect)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", org);
	return testsrv_api_ok(&w.srv, "POST", path, who->token, NULL, expect);
}

static json_t *retire(const char *kid, const struct actor *who, long expect)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/keys/%s/retire", kid);
	return testsrv_api_ok(&w.srv, "POST", path, who->token, NULL, expect);
}

/* The kid that signed a certificate. */
static void cert_kid(const char *serial, char kid[48])
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	snprintf(kid, 48, "%s", jsonx_str(json_object_get(c, "key"), "kid"));
	json_decref(c);
}

/* Does conform-signer hold kid? Asked on its own socket. */
static bool signer_holds(const char *kid)
{
	json_t *req = json_pack("{s:s}", "op", "list"), *ok = NULL;
	struct cf_error err;
	ck_assert_msg(signerlink_call(w.signer.socket, req, &ok, &err) == 0, "%s", err.detail);
	bool held = false;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(ok, "keys"), i, k)
		held = held || strcmp(jsonx_str(k, "kid"), kid) == 0;
	json_decref(ok);
	json_decref(req);
	return held;
}

/* One audit record of action on kid, by who. */
static void audited(const char *action, const char *kid, const struct actor *who)
{
	char path[256];
	snprintf(path, sizeof path, "/v1/audit?action=%s&object_id=%s", action, kid);
	json_t *page = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	json_t *items = json_object_get(page, "items");
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(jsonx_str(json_object_get(json_array_get(items, 0), "actor"), "id"), who->user);
	json_decref(page);
}

START_TEST(a_body_administrator_makes_rotates_and_retires_its_key)
{
	const char *body = w.certifier.org;
	/* the scheme owner's admin has no say over a body's keys; nor has the
	 * body's certifier, nor another organisation's administrator */
	json_t *p = post_key(body, &w.admin, 403);
	json_decref(p);
	json_decref(retire(w.body_kid, &w.admin, 403));
	json_decref(post_key(body, &w.certifier, 403));
	json_decref(post_key(body, &w.maker_admin, 403));
	json_decref(retire(w.body_kid, &w.maker_admin, 403));
	/* a manufacturer signs no certificates */
	p = post_key(w.applicant.org, &w.maker_admin, 422);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "not an assessment body"), "%s", jsonx_str(p, "detail"));
	json_decref(p);
	{
		/* a key takes no members */
		char path[96];
		snprintf(path, sizeof path, "/v1/organisations/%s/keys", body);
		json_t *b = json_pack("{s:s}", "private_key", "mine");
		p = testsrv_api_ok(&w.srv, "POST", path, w.body_admin.token, b, 400);
		ck_assert_str_eq(jsonx_str(p, "pointer"), "/private_key");
		json_decref(p);
		json_decref(b);
	}

	/* a certificate under the body's first key */
	char before[40], old_kid[48];
	world_certificate(&w, before);
	cert_kid(before, old_kid);

	/* rotation: the administrator makes a new key, which signs from now on */
	json_t *k = post_key(body, &w.body_admin, 201);
	char new_kid[48];
	snprintf(new_kid, sizeof new_kid, "%s", jsonx_str(k, "kid"));
	ck_assert_str_eq(jsonx_str(k, "org_id"), body);
	ck_assert_str_eq(jsonx_str(k, "purpose"), "certificate");
	ck_assert(strncmp(jsonx_str(k, "private_key_ref"), "conform-signer:", 15) == 0);
	ck_assert_str_ne(new_kid, old_kid);
	json_decref(k);
	audited("key.register", new_kid, &w.body_admin);
	ck_assert(signer_holds(new_kid));
	char path[160];
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", body);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.body_admin.token, NULL, 200);
	bool listed_old = false, listed_new = false;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it) {
		ck_assert_str_eq(jsonx_str(it, "org_id"), body);
		listed_old = listed_old || strcmp(jsonx_str(it, "kid"), old_kid) == 0;
		listed_new = listed_new || strcmp(jsonx_str(it, "kid"), new_kid) == 0;
	}
	ck_assert(listed_old && listed_new);
	json_decref(list);
	char after[40], after_kid[48];
	world_certificate(&w, after);
	cert_kid(after, after_kid);
	ck_assert_str_eq(after_kid, new_kid);

	/* the old key retires: the signer destroys it, its certificate stays valid */
	json_t *r = retire(old_kid, &w.body_admin, 200);
	ck_assert(json_is_string(json_object_get(r, "retired_at")));
	ck_assert(json_is_true(json_object_get(r, "private_key_destroyed")));
	json_decref(r);
	audited("key.retire", old_kid, &w.body_admin);
	ck_assert(!signer_holds(old_kid));
	ck_assert(signer_holds(new_kid));
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", before);
	struct http_resp h;
	testsrv_req(&w.srv, &h, "GET", path, NULL, NULL);
	ck_assert_int_eq(h.status, 200);
	json_t *vb = json_pack("{s:s%}", "jws", h.body, h.len);
	http_resp_free(&h);
	json_t *v = testsrv_api_ok(&w.srv, "POST", "/v1/verify", NULL, vb, 200);
	ck_assert_msg(json_is_true(json_object_get(v, "valid")), "the old certificate no longer verifies");
	ck_assert(json_is_true(json_object_get(json_object_get(v, "key"), "retired")));
	json_decref(v);
	json_decref(vb);
	/* the old key is still published, for what it signed */
	testsrv_req(&w.srv, &h, "GET", "/.well-known/jwks.json", NULL, NULL);
	ck_assert(strstr(h.body, old_kid) != NULL);
	http_resp_free(&h);
	/* and the body goes on signing with its new key */
	char again[40], again_kid[48];
	world_certificate(&w, again);
	cert_kid(again, again_kid);
	ck_assert_str_eq(again_kid, new_kid);
}
END_TEST

/* A key registered before conform-signer (a PEM file the old conformd read)
 * moves into the signer when its file is imported; the signer then signs
 * with it, and a second import is refused. */
START_TEST(a_key_from_before_the_signer_moves_into_it)
{
	struct keys_private *key = NULL;
	ck_assert_int_eq(keys_generate(&key, NULL), 0);
	unsigned char pub[32];
	keys_public_raw(key, pub);
	char kid[KEYS_THUMBPRINT_LEN];
	keys_jwk_thumbprint(pub, kid);
	char *x = codec_b64url_encode(pub, sizeof pub);
	char *pem = cf_asprintf("%s/old.pem", w.keys_dir);
	char *pass = cf_asprintf("%s/old.pass", w.keys_dir);
	FILE *f = fopen(pass, "w");
	ck_assert_ptr_nonnull(f);
	fputs("the old deployment passphrase\n", f);
	fclose(f);
	ck_assert_int_eq(keys_save_pem(key, pem, "the old deployment passphrase", NULL), 0);
	keys_free(key);
	/* as the pre-0013 conformctl key generate left it */
	const char *p[] = { kid, w.certifier.org, x, pem };
	PQclear(testdb_super_query(&w.db,
		"INSERT INTO signing_key (kid, org_id, purpose, public_key, private_key_ref)"
		" VALUES ($1, $2, 'certificate', $3, $4)", 4, p));
	char *pass_env = cf_asprintf("CONFORM_KEY_PASSPHRASE_FILE=%s", pass);
	const char *env[] = { w.signer.env, pass_env, NULL };
	const char *import[] = { "key", "import", "--org", w.certifier.org, pem, NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w.db, import, env);
	ck_assert_msg(r.status == 0, "key import: %s", r.err);
	proc_result_free(&r);
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", w.certifier.org);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.body_admin.token, NULL, 200);
	size_t i;
	json_t *it;
	int seen = 0;
	json_array_foreach(json_object_get(list, "items"), i, it)
		if (strcmp(jsonx_str(it, "kid"), kid) == 0) {
			seen++;
			ck_assert(strncmp(jsonx_str(it, "private_key_ref"), "conform-signer:", 15) == 0);
		}
	ck_assert_int_eq(seen, 1);
	json_decref(list);
	ck_assert(signer_holds(kid));
	/* it is the body's newest key: it signs the next certificate */
	char serial[40], used[48];
	world_certificate(&w, serial);
	cert_kid(serial, used);
	ck_assert_str_eq(used, kid);
	testsrv_ctl(&r, &w.db, import, env);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "already holds"), "%s", r.err);
	proc_result_free(&r);
	free(pass_env);
	free(pass);
	free(pem);
	free(x);
}
END_TEST

/* A key revoked as compromised is destroyed in the signer as well. */
START_TEST(a_compromised_key_leaves_the_signer)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s/keys", w.certifier.org);
	json_t *k = testsrv_api_ok(&w.srv, "POST", path, w.body_admin.token, NULL, 201);
	char kid[48];
	snprintf(kid, sizeof kid, "%s", jsonx_str(k, "kid"));
	json_decref(k);
	ck_assert(signer_holds(kid));
	const char *revoke[] = { "key", "revoke", "--compromised", "--since", "2020-01-01T00:00:00Z",
				 "--reason", "a backup tape went missing", "--", kid, NULL };
	struct proc_result r;
	world_ctl(&w, &r, revoke);
	ck_assert_msg(r.status == 0, "key revoke: %s", r.err);
	proc_result_free(&r);
	ck_assert(!signer_holds(kid));
	/* the operator's reason is the audit record's, as the API's is */
	char q[256];
	snprintf(q, sizeof q, "/v1/audit?action=key.compromise&object_id=%s", kid);
	json_t *page = testsrv_api_ok(&w.srv, "GET", q, w.admin.token, NULL, 200);
	json_t *rec = json_array_get(json_object_get(page, "items"), 0);
	ck_assert_str_eq(jsonx_str(json_object_get(rec, "details"), "reason"), "a backup tape went missing");
	json_decref(page);
}
END_TEST

static json_t *revoke_key(const char *kid, const struct actor *who, const char *since,
			  const char *reason, long expect)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/keys/%s/revoke", kid);
	json_t *b = json_pack("{s:b,s:s}", "compromised", 1, "since", since);
	if (reason)
		json_object_set_new(b, "reason", json_string(reason));
	json_t *r = testsrv_api_ok(&w.srv, "POST", path, who->token, b, expect);
	json_decref(b);
	return r;
}

/* A refused revocation: the status, and the problem names the member. */
static void refused(const char *kid, const struct actor *who, json_t *b, long expect,
		    const char *pointer)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/keys/%s/revoke", kid);
	json_t *p = testsrv_api_ok(&w.srv, "POST", path, who->token, b, expect);
	ck_assert_msg(jsonx_str(p, "pointer") && strcmp(jsonx_str(p, "pointer"), pointer) == 0,
		      "%ld at %s expected, got %s: %s", expect, pointer, jsonx_str(p, "pointer"),
		      jsonx_str(p, "detail"));
	ck_assert_ptr_nonnull(jsonx_str(p, "detail"));
	json_decref(p);
	json_decref(b);
}

/* A certificate's live answer from POST /v1/verify. */
static json_t *verify_serial(const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", serial);
	struct http_resp h;
	testsrv_req(&w.srv, &h, "GET", path, NULL, NULL);
	ck_assert_int_eq(h.status, 200);
	json_t *vb = json_pack("{s:s%}", "jws", h.body, h.len);
	http_resp_free(&h);
	json_t *v = testsrv_api_ok(&w.srv, "POST", "/v1/verify", NULL, vb, 200);
	json_decref(vb);
	return v;
}

static char *cert_status(const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	char *s = cf_strdup(jsonx_str(c, "status"));
	json_decref(c);
	return s;
}

/* The database's clock now, to the microsecond, as RFC 3339 (the time of
 * issue that a compromise's since compares with is the database's). */
static void db_now(char out[40], const char *plus)
{
	const char *p[] = { plus };
	PGresult *res = testdb_super_query(&w.db,
		"SELECT to_char((clock_timestamp() + $1::interval) AT TIME ZONE 'UTC',"
		" 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", 1, p);
	snprintf(out, 40, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/*
 * Bodies hold their own keys, compromise included: the body's administrator
 * declares its key compromised since T, between two issuances, through the
 * API. The certificate signed before T stays valid, the one after is
 * key_compromised (GET and POST /v1/verify); the revocation is in the
 * transparency log and the audit names the person. Nobody else may, and
 * what the CLI refuses the API refuses too.
 */
START_TEST(a_body_administrator_revokes_its_compromised_key_since_t)
{
	const char *body = w.certifier.org;
	json_t *k = post_key(body, &w.body_admin, 201);
	char kid[48];
	snprintf(kid, sizeof kid, "%s", jsonx_str(k, "kid"));
	json_decref(k);
	char before[40], after[40], used[48], since[40];
	world_certificate(&w, before);
	db_now(since, "0");
	world_certificate(&w, after);
	cert_kid(before, used);
	ck_assert_str_eq(used, kid);
	cert_kid(after, used);
	ck_assert_str_eq(used, kid);

	/* nobody but the body's own administrator: not the scheme owner's
	 * admin, not another body's administrator, not the body's certifier */
	char other[37];
	world_org(&w, "assessment_body", "Another Lab", other);
	const struct actor *other_admin = world_org_admin(&w, other);
	const char *why = "the key was copied off a laptop";
	json_t *p = revoke_key(kid, &w.admin, since, why, 403);
	json_decref(p);
	json_decref(revoke_key(kid, other_admin, since, why, 403));
	json_decref(revoke_key(kid, &w.certifier, since, why, 403));
	json_decref(revoke_key(kid, &w.maker_admin, since, why, 403));
	/* the log key is no body's: its administrator cannot reach it */
	json_decref(revoke_key(w.log_kid, &w.body_admin, since, why, 403));
	/* bad input names its member; nothing changes */
	char future[40];
	db_now(future, "1 hour");
	refused(kid, &w.body_admin,
		json_pack("{s:b,s:s,s:s}", "compromised", 1, "since", future, "reason", why), 400,
		"/since");
	refused(kid, &w.body_admin,
		json_pack("{s:b,s:s,s:s}", "compromised", 1, "since", "yesterday", "reason", why), 400,
		"/since");
	refused(kid, &w.body_admin, json_pack("{s:b,s:s}", "compromised", 1, "reason", why), 400,
		"/since");
	refused(kid, &w.body_admin, json_pack("{s:b,s:s}", "compromised", 1, "since", since), 400,
		"/reason");
	refused(kid, &w.body_admin, json_pack("{s:s,s:s}", "since", since, "reason", why), 400,
		"/compromised");
	/* an ordinary end of use is a retirement, which has its own route */
	refused(kid, &w.body_admin,
		json_pack("{s:b,s:s,s:s}", "compromised", 0, "since", since, "reason", why), 422,
		"/compromised");
	refused(kid, &w.body_admin,
		json_pack("{s:b,s:s,s:s,s:s}", "compromised", 1, "since", since, "reason", why,
			  "effective_at", since), 400, "/effective_at");
	char *st = cert_status(after);
	ck_assert_str_eq(st, "valid");
	free(st);
	ck_assert(signer_holds(kid));

	/* the body's administrator declares it */
	json_t *r = revoke_key(kid, &w.body_admin, since, why, 200);
	ck_assert_str_eq(jsonx_str(r, "kid"), kid);
	ck_assert_ptr_nonnull(jsonx_str(r, "compromised_since"));
	ck_assert_ptr_nonnull(jsonx_str(r, "retired_at"));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "certificates_signed_since")), 1);
	ck_assert(json_is_true(json_object_get(r, "private_key_destroyed")));
	json_int_t log_index = json_integer_value(json_object_get(r, "log_index"));
	json_decref(r);
	ck_assert(!signer_holds(kid));

	/* the NOTIFY reaches the certificate cache a moment after the commit */
	for (int i = 0; i < 40; i++) {
		st = cert_status(after);
		bool told = strcmp(st, "key_compromised") == 0;
		free(st);
		if (told)
			break;
		usleep(50000);
	}
	st = cert_status(after);
	ck_assert_str_eq(st, "key_compromised");
	free(st);
	st = cert_status(before);
	ck_assert_str_eq(st, "valid");
	free(st);
	json_t *v = verify_serial(before);
	char *dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(v, "valid")), "%s", dump);
	ck_assert(json_is_true(json_object_get(json_object_get(v, "key"), "compromised")));
	free(dump);
	json_decref(v);
	v = verify_serial(after);
	dump = json_dumps(v, JSON_COMPACT);
	ck_assert_msg(json_is_false(json_object_get(v, "valid")), "%s", dump);
	ck_assert_str_eq(jsonx_str(v, "status"), "key_compromised");
	free(dump);
	json_decref(v);

	/* the revocation is the log's entry at log_index */
	char path[160];
	snprintf(path, sizeof path, "/v1/log/entries?start=%lld&end=%lld", (long long)log_index,
		 (long long)log_index + 1);
	json_t *entries = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	json_t *en = json_array_get(json_object_get(entries, "entries"), 0);
	ck_assert_ptr_nonnull(en);
	const char *entry = jsonx_str(en, "entry");
	ck_assert_msg(entry && strstr(entry, "\"kind\":\"key-compromised\"") && strstr(entry, kid) &&
			      strstr(entry, "\"compromised_since\""),
		      "%s", entry ? entry : "(no entry)");
	json_decref(entries);

	/* the audit names the person, and keeps why */
	audited("key.compromise", kid, &w.body_admin);
	snprintf(path, sizeof path, "/v1/audit?action=key.compromise&object_id=%s", kid);
	json_t *page = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	json_t *details = json_object_get(json_array_get(json_object_get(page, "items"), 0), "details");
	ck_assert_str_eq(jsonx_str(details, "reason"), why);
	ck_assert_int_eq(json_integer_value(json_object_get(details, "log_index")), log_index);
	json_decref(page);

	/* once only */
	p = revoke_key(kid, &w.body_admin, since, why, 409);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "already"), "%s", jsonx_str(p, "detail"));
	json_decref(p);
}
END_TEST

/* Reads from fd into buf (NUL-terminated) until needle is in it, EOF, or
 * secs pass; returns the bytes held. */
static size_t read_until(int fd, char *buf, size_t size, size_t got, const char *needle, int secs)
{
	time_t until = time(NULL) + secs;
	while (got + 1 < size && time(NULL) < until) {
		buf[got] = '\0';
		if (needle && strstr(buf, needle))
			break;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		ssize_t n = recv(fd, buf + got, size - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* A failure after the 200 went out (here the database ends conformd's
 * session while it reads the certificates) leaves an export that no client
 * can take for complete: no terminating chunk, no signature line. */
START_TEST(a_register_export_that_fails_midway_cannot_pass_for_complete)
{
	/* the certificates' state reads accreditation_event: hold it */
	PGconn *hold = PQconnectdb(w.db.super_url);
	ck_assert_int_eq(PQstatus(hold), CONNECTION_OK);
	PQclear(PQexec(hold, "BEGIN"));
	PGresult *res = PQexec(hold, "LOCK TABLE accreditation_event IN ACCESS EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(w.srv.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	const char req[] = "GET /v1/register/export HTTP/1.1\r\nHost: localhost\r\n\r\n";
	ck_assert_int_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
	static char reply[1 << 20];
	/* the head and the header line arrive: the 200 has gone out */
	size_t got = read_until(fd, reply, sizeof reply, 0, "conform-register-export", 60);
	ck_assert_msg(strncmp(reply, "HTTP/1.1 200", 12) == 0, "%.300s", reply);
	ck_assert_msg(strstr(reply, "Transfer-Encoding: chunked"), "%.300s", reply);
	ck_assert_msg(strstr(reply, "conform-register-export"), "%.300s", reply);

	/* conformd waits on the lock; its session is ended, as a failing
	 * database would end it */
	int ended = 0;
	for (time_t until = time(NULL) + 60; !ended && time(NULL) < until; usleep(50000)) {
		res = testdb_super_exec(&w.db,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
			" WHERE datname = current_database() AND usename = 'conform_app'"
			" AND wait_event_type = 'Lock'");
		ended = PQntuples(res);
		PQclear(res);
	}
	ck_assert_msg(ended, "conformd never waited on the lock");
	got = read_until(fd, reply, sizeof reply, got, NULL, 60);
	close(fd);
	PQclear(PQexec(hold, "ROLLBACK"));
	PQfinish(hold);
	/* the chunked body was never terminated, and no signature came */
	ck_assert_msg(got < 5 || strcmp(reply + got - 5, "0\r\n\r\n") != 0, "the cut export ended cleanly");
	ck_assert(!strstr(reply, "\r\n0\r\n\r\n"));
	ck_assert(!strstr(reply, "\"serial\""));
	char *log = tsupport_read_file(w.srv.log_path, NULL);
	ck_assert(strstr(log, "register export aborted after 0 certificates, without its signature line"));
	free(log);

	/* and the next export is whole: its last line is the signature */
	struct http_resp r;
	char url[128];
	snprintf(url, sizeof url, "%s/v1/register/export", w.srv.base);
	ck_assert_int_eq(http_try(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(r.len > 1 && r.body[r.len - 1] == '\n');
	r.body[r.len - 1] = '\0';
	const char *last = strrchr(r.body, '\n');
	ck_assert_ptr_nonnull(last);
	ck_assert_msg(last[1] == 'e' && strchr(last, '.') && !strchr(last, '{'), "last line: %s", last + 1);
	http_resp_free(&r);
}
END_TEST

/* Last: it stops the world's signer. Without it conformd still serves, and
 * what needs a signature is 503 naming the signer, with nothing issued. */
START_TEST(without_the_signer_nothing_is_signed_and_the_answer_says_why)
{
	char id[37], path[128];
	world_application(&w, "decided", id);
	testsrv_signer_stop(&w.signer);
	snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
	json_t *p = testsrv_api_ok(&w.srv, "POST", path, w.certifier.token, NULL, 503);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "conform-signer"), "%s", jsonx_str(p, "detail"));
	json_decref(p);
	snprintf(path, sizeof path, "/v1/applications/%s", id);
	json_t *a = testsrv_api_ok(&w.srv, "GET", path, w.certifier.token, NULL, 200);
	ck_assert_str_eq(jsonx_str(a, "state"), "decided");
	json_decref(a);
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/health", NULL, NULL, 200));

	/* the register export, which the signer signs at its end, says so
	 * before its first byte */
	p = testsrv_api_ok(&w.srv, "GET", "/v1/register/export", NULL, NULL, 503);
	ck_assert_msg(strstr(jsonx_str(p, "detail"), "conform-signer"), "%s", jsonx_str(p, "detail"));
	json_decref(p);
}
END_TEST

/* A body key the signer holds: its owner, kid and public half (from the
 * JWKS, where its kid ends "#<thumbprint>"). */
static void body_key(char owner[40], char kid[48], unsigned char pub[32])
{
	json_t *req = json_pack("{s:s}", "op", "list"), *ok = NULL;
	struct cf_error err;
	ck_assert_msg(signerlink_call(w.signer.socket, req, &ok, &err) == 0, "%s", err.detail);
	size_t i;
	json_t *k;
	owner[0] = kid[0] = '\0';
	json_array_foreach(json_object_get(ok, "keys"), i, k)
		if (strcmp(jsonx_str(k, "owner"), "log") != 0) {
			snprintf(owner, 40, "%s", jsonx_str(k, "owner"));
			snprintf(kid, 48, "%s", jsonx_str(k, "kid"));
		}
	json_decref(ok);
	json_decref(req);
	ck_assert_msg(kid[0], "the signer holds no body key");
	json_t *jwks = testsrv_api_ok(&w.srv, "GET", "/.well-known/jwks.json", NULL, NULL, 200);
	bool found = false;
	json_array_foreach(json_object_get(jwks, "keys"), i, k) {
		const char *full = jsonx_str(k, "kid"), *hash = full ? strchr(full, '#') : NULL;
		if (hash && strcmp(hash + 1, kid) == 0) {
			unsigned char *raw = NULL;
			size_t len = 0;
			const char *x = jsonx_str(k, "x");
			ck_assert(codec_b64url_decode(x, strlen(x), &raw, &len, NULL) == 0 && len == 32);
			memcpy(pub, raw, 32);
			free(raw);
			found = true;
		}
	}
	json_decref(jwks);
	ck_assert_msg(found, "kid %s is not in the JWKS", kid);
}

/* A sign request for msg with owner's kid. */
static json_t *sign_request(const char *owner, const char *kid, const char *msg)
{
	char *data = codec_b64url_encode(msg, strlen(msg));
	json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "op", "sign", "owner", owner, "kid", kid,
				"data", data);
	free(data);
	return req;
}

/* The signature in a signer answer, checked under pub for msg. */
static bool signature_holds(const json_t *ok, const unsigned char pub[32], const char *msg)
{
	const char *sig = jsonx_str(ok, "signature");
	unsigned char *raw = NULL;
	size_t len = 0;
	bool good = sig && codec_b64url_decode(sig, strlen(sig), &raw, &len, NULL) == 0 &&
		    len == 64 && keys_verify(pub, msg, strlen(msg), raw);
	free(raw);
	return good;
}

/* A connection to the signer's socket, nothing sent yet. */
static int signer_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", w.signer.socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	return fd;
}

struct signing_thread {
	const char *owner, *kid;
	const unsigned char *pub;
	int n, good;
};

static void *sign_many(void *arg)
{
	struct signing_thread *st = arg;
	for (int i = 0; i < st->n; i++) {
		char msg[64];
		snprintf(msg, sizeof msg, "message %d of thread %p", i, (void *)st);
		json_t *req = sign_request(st->owner, st->kid, msg), *ok = NULL;
		struct cf_error err;
		if (signerlink_call_kept(w.signer.socket, req, &ok, &err) == 0 &&
		    signature_holds(ok, st->pub, msg))
			st->good++;
		json_decref(ok);
		json_decref(req);
	}
	return NULL;
}

/*
 * conform-signer serves its clients at once: a client connected and idle
 * holds nobody up (the next client's answer comes while it sits there), a
 * connection carries request after request, and eight threads signing on
 * kept connections all get valid signatures.
 */
START_TEST(the_signer_serves_clients_at_once_on_kept_connections)
{
	char owner[40], kid[48];
	unsigned char pub[32];
	body_key(owner, kid, pub);

	int idle = signer_connect(); /* says nothing */
	int busy = signer_connect();
	struct cf_error err;
	for (int i = 0; i < 3; i++) {
		char msg[32];
		snprintf(msg, sizeof msg, "request %d", i);
		json_t *req = sign_request(owner, kid, msg), *answer = NULL;
		ck_assert_msg(signerlink_send(busy, req, &err) == 0, "%s", err.detail);
		/* answered while the idle client still holds its connection (a
		 * signer that serves one connection at a time waits on it for
		 * SIGNERLINK_TIMEOUT seconds first) */
		struct pollfd p = { .fd = busy, .events = POLLIN };
		ck_assert_msg(poll(&p, 1, (SIGNERLINK_TIMEOUT - 5) * 1000) == 1,
			      "request %d was not answered while another client was idle", i);
		ck_assert_msg(signerlink_recv(busy, &answer, &err) == 0, "%s", err.detail);
		ck_assert_msg(signature_holds(json_object_get(answer, "ok"), pub, msg), "request %d", i);
		json_decref(answer);
		json_decref(req);
	}
	close(busy);
	close(idle);

	struct signing_thread st[8];
	pthread_t t[8];
	for (int i = 0; i < 8; i++) {
		st[i] = (struct signing_thread){ owner, kid, pub, 25, 0 };
		pthread_create(&t[i], NULL, sign_many, &st[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(st[i].good, 25);
	}
	/* the key is still the signer's alone */
	ck_assert(signer_holds(kid));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("signing_keys");
	TCase *tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, conformd_signs_without_ever_holding_the_private_key);
	tcase_add_test(tc, a_body_administrator_makes_rotates_and_retires_its_key);
	tcase_add_test(tc, a_key_from_before_the_signer_moves_into_it);
	tcase_add_test(tc, a_compromised_key_leaves_the_signer);
	tcase_add_test(tc, a_body_administrator_revokes_its_compromised_key_since_t);
	tcase_add_test(tc, a_register_export_that_fails_midway_cannot_pass_for_complete);
	tcase_add_test(tc, the_signer_serves_clients_at_once_on_kept_connections);
	tcase_add_test(tc, without_the_signer_nothing_is_signed_and_the_answer_says_why);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
