/*
 * The offline proof bundle (issue 14): GET /v1/certificates/{serial}/bundle
 * and conformctl cert bundle (from the database and through the API) give a
 * file that verifies with no network in-process (bundle_verify), with
 * conformctl cert verify --bundle and with docs/verify-bundle.py; a
 * suspended certificate's bundle says suspended, a superseded one's names
 * its successor by the log's proof; and a bundle fails if any
 * byte of it changes: every position flipped in turn in-process, fifty
 * positions spread over the file with the CLI and with the script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bundle.h"
#include "codec.h"
#include "db.h"
#include "digest.h"
#include "http.h"
#include "jsonx.h"
#include "keys.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char serial[40];
static char vkey[300];

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_create(&w, "bundle", NULL);
	world_certificate(&w, serial);
	char *v = testsrv_get_text(&w.srv, "/v1/log/vkey", 200);
	snprintf(vkey, sizeof vkey, "%.*s", (int)strcspn(v, "\n"), v);
	free(v);
}

static void teardown(void)
{
	world_destroy(&w);
	curl_global_cleanup();
}

/* The bundle from the API: 503 with Retry-After until a checkpoint covers
 * the certificate (seconds), then 200 with the bundle's media type. */
static char *get_bundle(const char *which)
{
	char path[120];
	snprintf(path, sizeof path, "/v1/certificates/%s/bundle", which);
	double deadline = tsupport_now() + 20;
	for (;;) {
		struct http_resp r;
		testsrv_req(&w.srv, &r, "GET", path, NULL, NULL);
		char h[120];
		if (r.status == 200) {
			ck_assert_str_eq(http_header(&r, "Content-Type", h, sizeof h), BUNDLE_MEDIA_TYPE);
			char *out = cf_strdup(r.body);
			http_resp_free(&r);
			return out;
		}
		ck_assert_msg(r.status == 503, "bundle: %ld %s", r.status, r.body);
		ck_assert_ptr_nonnull(http_header(&r, "Retry-After", h, sizeof h));
		http_resp_free(&r);
		ck_assert_msg(tsupport_now() < deadline, "no checkpoint covers %s after 20 s", which);
		usleep(100000);
	}
}

/* The verdict of bundle_verify ("invalid" when it fails). */
static void verdict_of(const char *text, size_t len, char out[32])
{
	struct cf_error err;
	json_t *report = NULL;
	cf_err e = bundle_verify(text, len, vkey, NULL, (long long)time(NULL), &report, &err);
	snprintf(out, 32, "%s", e ? "invalid" : jsonx_str(report, "verdict"));
	json_decref(report);
}

static char *write_file(const char *name, const char *text, size_t len)
{
	char *path = testsrv_artifact_path(name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* conformctl cert verify --bundle: its exit status, its output in *out. */
static int ctl_verify(const char *file, bool json, char **out)
{
	struct proc_result r;
	const char *args[] = { "cert", "verify", "--bundle", file, "--log-key", vkey,
			       json ? "--json" : NULL, NULL };
	world_ctl(&w, &r, args);
	*out = cf_asprintf("%s%s", r.out, r.err);
	int status = r.status;
	proc_result_free(&r);
	return status;
}

/* python3 docs/verify-bundle.py FILE --log-key VKEY. */
static int script_verify(const char *file, char **out)
{
	char *script = tsupport_source_path("docs/verify-bundle.py");
	struct proc_result r;
	const char *argv[] = { "/usr/bin/python3", script, file, "--log-key", vkey, NULL };
	proc_run(&r, argv, NULL);
	*out = cf_asprintf("%s%s", r.out, r.err);
	int status = r.status;
	proc_result_free(&r);
	free(script);
	return status;
}

START_TEST(a_bundle_verifies_offline_with_the_core_the_cli_and_the_script)
{
	char *b = get_bundle(serial);
	size_t len = strlen(b);
	char v[32];
	verdict_of(b, len, v);
	ck_assert_str_eq(v, "valid");

	/* the report names what was checked */
	struct cf_error err;
	json_t *report = NULL;
	ck_assert_int_eq(bundle_verify(b, len, vkey, NULL, (long long)time(NULL), &report, &err), CF_OK);
	ck_assert_str_eq(jsonx_str(report, "serial"), serial);
	ck_assert(json_is_true(json_object_get(json_object_get(report, "log"), "vkey_trusted")));
	json_decref(report);
	/* without a trusted key it verifies with the bundle's own, and says so */
	ck_assert_int_eq(bundle_verify(b, len, NULL, NULL, (long long)time(NULL), &report, &err), CF_OK);
	ck_assert(json_is_false(json_object_get(json_object_get(report, "log"), "vkey_trusted")));
	json_decref(report);
	/* another log key than the trusted one fails */
	char other[300];
	snprintf(other, sizeof other, "%s", vkey);
	other[strlen(other) - 3] ^= 0x01;
	ck_assert_int_ne(bundle_verify(b, len, other, NULL, (long long)time(NULL), &report, &err), CF_OK);
	/* far in the future it has expired */
	ck_assert_int_eq(bundle_verify(b, len, vkey, NULL, (long long)time(NULL) + 20LL * 365 * 86400, &report,
				       &err), CF_OK);
	ck_assert_str_eq(jsonx_str(report, "verdict"), "expired");
	json_decref(report);

	char *file = write_file("bundle-valid.json", b, len), *out = NULL;
	ck_assert_msg(ctl_verify(file, false, &out) == 0, "cert verify --bundle: %s", out);
	ck_assert_msg(strstr(out, "verdict:     valid"), "%s", out);
	free(out);
	ck_assert_int_eq(ctl_verify(file, true, &out), 0);
	json_t *j = json_loads(out, 0, NULL);
	ck_assert_msg(j && strcmp(jsonx_str(j, "verdict"), "valid") == 0, "%s", out);
	json_decref(j);
	free(out);
	ck_assert_msg(script_verify(file, &out) == 0, "verify-bundle.py: %s", out);
	ck_assert_msg(strstr(out, " valid (status as of"), "%s", out);
	free(out);

	/* conformctl cert bundle, from the database and through the API */
	char *local = testsrv_artifact_path("bundle-local.json");
	struct proc_result r;
	const char *args[] = { "cert", "bundle", serial, "-o", local, NULL };
	world_ctl(&w, &r, args);
	ck_assert_msg(r.status == 0, "cert bundle: %s", r.err);
	proc_result_free(&r);
	ck_assert_msg(ctl_verify(local, false, &out) == 0, "local bundle: %s", out);
	free(out);
	char *remote = testsrv_artifact_path("bundle-remote.json");
	const char *rargs[] = { "--url", w.srv.base, "cert", "bundle", serial, "--output", remote, NULL };
	world_ctl(&w, &r, rargs);
	ck_assert_msg(r.status == 0, "cert bundle --url: %s", r.err);
	proc_result_free(&r);
	ck_assert_msg(ctl_verify(remote, false, &out) == 0, "remote bundle: %s", out);
	free(out);
	ck_assert_msg(script_verify(remote, &out) == 0, "verify-bundle.py: %s", out);
	free(out);
	free(local);
	free(remote);
	free(file);
	free(b);
}
END_TEST

START_TEST(a_bundle_fails_if_any_byte_of_it_changes)
{
	char *b = get_bundle(serial);
	size_t len = strlen(b);
	char *m = cf_malloc(len + 1);
	char v[32];
	/* every position, two different changes each: the low bit (a digit, a
	 * letter's neighbour) and the case bit (0x20: a letter's case, '"' to
	 * '\x02', ',' to '\x0c') */
	static const unsigned char flips[] = { 0x01, 0x20 };
	for (size_t f = 0; f < sizeof flips; f++)
		for (size_t i = 0; i < len; i++) {
			memcpy(m, b, len + 1);
			m[i] = (char)((unsigned char)m[i] ^ flips[f]);
			verdict_of(m, len, v);
			ck_assert_msg(strcmp(v, "invalid") == 0,
				      "byte %zu ('%c' ^ 0x%02x) changed and the bundle still says %s", i, b[i],
				      flips[f], v);
		}
	/* a byte more or less (whitespace included) */
	memcpy(m, b, len + 1);
	verdict_of(m, len - 1, v);
	ck_assert_str_eq(v, "invalid");
	char *longer = cf_asprintf("%s\n", b);
	verdict_of(longer, len + 1, v);
	ck_assert_str_eq(v, "invalid");
	free(longer);
	longer = cf_asprintf(" %s", b);
	verdict_of(longer, len + 1, v);
	ck_assert_str_eq(v, "invalid");
	free(longer);

	/* the CLI and the script: fifty positions spread over the file */
	for (int k = 0; k < 50; k++) {
		size_t i = (size_t)k * (len - 1) / 49;
		memcpy(m, b, len + 1);
		m[i] = (char)((unsigned char)m[i] ^ 0x01);
		char *file = write_file("bundle-changed.json", m, len), *out = NULL;
		ck_assert_msg(ctl_verify(file, false, &out) != 0 && strstr(out, "INVALID"),
			      "conformctl: byte %zu changed: %s", i, out);
		free(out);
		ck_assert_msg(script_verify(file, &out) != 0 && strstr(out, "invalid"),
			      "verify-bundle.py: byte %zu changed: %s", i, out);
		free(out);
		free(file);
	}
	free(m);
	free(b);
}
END_TEST

START_TEST(a_suspended_certificates_bundle_says_suspended)
{
	char other[40], path[120];
	world_certificate(&w, other);
	char *before = get_bundle(other);
	snprintf(path, sizeof path, "/v1/certificates/%s/suspend", other);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.certifier.token,
				     "{\"reason_code\":\"nonconformity\",\"reason\":\"telnet open\"}", 200));
	char *after = get_bundle(other);
	char v[32];
	verdict_of(after, strlen(after), v);
	ck_assert_str_eq(v, "suspended");
	/* the older bundle still says what held when it was made */
	verdict_of(before, strlen(before), v);
	ck_assert_str_eq(v, "valid");
	char *file = write_file("bundle-suspended.json", after, strlen(after)), *out = NULL;
	ck_assert_int_ne(ctl_verify(file, false, &out), 0);
	ck_assert_msg(strstr(out, "verdict:     suspended"), "%s", out);
	free(out);
	ck_assert_int_ne(script_verify(file, &out), 0);
	ck_assert_msg(strstr(out, " suspended (status as of"), "%s", out);
	free(out);
	free(file);
	free(before);
	free(after);

	/* no such certificate: a problem answer */
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/certificates/CF-1999-999999/bundle", NULL, NULL, 404));
}
END_TEST

/* A superseded certificate's bundle carries the proof of its supersession
 * entry: offline it says superseded and by which certificate; without the
 * proof its revocation bit reads withdrawn, never more hopeful. */
START_TEST(a_superseded_certificates_bundle_names_its_successor)
{
	char old[40], successor[40];
	world_certificate(&w, old);
	world_certificate(&w, successor);
	char *before = get_bundle(old);
	world_supersede(&w, old, successor);
	char *after = get_bundle(old);
	struct cf_error err;
	json_t *report = NULL;
	ck_assert_msg(bundle_verify(after, strlen(after), vkey, NULL, (long long)time(NULL), &report, &err) ==
			      CF_OK, "%s", err.detail);
	ck_assert_str_eq(jsonx_str(report, "verdict"), "superseded");
	ck_assert_str_eq(jsonx_str(report, "superseded_by"), successor);
	ck_assert(json_is_true(json_object_get(json_object_get(report, "status_list_bits"), "revocation")));
	json_decref(report);
	char v[32];
	verdict_of(before, strlen(before), v);
	ck_assert_str_eq(v, "valid"); /* what held when it was made */

	/* without the proof: revoked, read as withdrawn */
	json_t *j = json_loads(after, 0, NULL);
	json_t *proof = json_incref(json_object_get(j, "superseded"));
	ck_assert_ptr_nonnull(proof);
	json_object_del(j, "superseded");
	char *c = jsonx_canonical(j), *text = cf_asprintf("%s\n", c);
	verdict_of(text, strlen(text), v);
	ck_assert_str_eq(v, "withdrawn");
	free(text);
	free(c);
	/* another entry's proof in its place (the issuance's): not believed */
	json_object_set(j, "superseded", json_object_get(j, "inclusion"));
	c = jsonx_canonical(j);
	text = cf_asprintf("%s\n", c);
	verdict_of(text, strlen(text), v);
	ck_assert_str_eq(v, "invalid");
	free(text);
	free(c);
	/* the proof with the status lists of before (the revocation bit clear):
	 * the two disagree, so neither is believed */
	json_t *early = json_loads(before, 0, NULL);
	json_object_set(j, "superseded", proof);
	json_object_set(j, "status_lists", json_object_get(early, "status_lists"));
	json_object_set(j, "made_at", json_object_get(early, "made_at"));
	c = jsonx_canonical(j);
	text = cf_asprintf("%s\n", c);
	ck_assert_int_eq(bundle_verify(text, strlen(text), vkey, NULL, (long long)time(NULL), &report, &err),
			 CF_EUNPROCESSABLE);
	ck_assert_msg(strstr(err.detail, "revocation list"), "%s", err.detail);
	free(text);
	free(c);
	json_decref(early);
	json_decref(proof);
	json_decref(j);

	char *file = write_file("bundle-superseded.json", after, strlen(after)), *out = NULL;
	ck_assert_int_ne(ctl_verify(file, false, &out), 0);
	ck_assert_msg(strstr(out, "verdict:     superseded"), "%s", out);
	char want[80];
	snprintf(want, sizeof want, "superseded:  by %s", successor);
	ck_assert_msg(strstr(out, want), "%s", out);
	free(out);
	ck_assert_int_ne(script_verify(file, &out), 0);
	snprintf(want, sizeof want, " superseded by %s (status as of", successor);
	ck_assert_msg(strstr(out, want), "%s", out);
	free(out);
	free(file);
	free(before);
	free(after);
}
END_TEST

/* Until a checkpoint covers the certificate, its bundle cannot carry a
 * proof: 503 with Retry-After, from the API and from conformctl alike. The
 * next checkpoint is held back by a lock on its table (readers pass, the
 * log signer's INSERT waits), and goes in when the lock goes. */
START_TEST(a_certificate_not_yet_under_a_checkpoint_is_503_with_retry_after)
{
	struct db *db = NULL;
	struct cf_error err;
	ck_assert_msg(db_connect(w.db.super_url, &db, &err) == CF_OK, "%s", err.detail);
	ck_assert_int_eq(db_begin(db, DB_READ_COMMITTED, &err), CF_OK);
	ck_assert_msg(db_query(db, NULL, &err, "LOCK TABLE tlog_checkpoint IN EXCLUSIVE MODE", 0, NULL) == CF_OK,
		      "%s", err.detail);
	char late[40], path[120], h[120];
	world_certificate(&w, late);
	snprintf(path, sizeof path, "/v1/certificates/%s/bundle", late);
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", path, NULL, NULL);
	ck_assert_msg(r.status == 503, "%ld %s", r.status, r.body);
	ck_assert_str_eq(http_header(&r, "Retry-After", h, sizeof h), "2");
	ck_assert_str_eq(http_header(&r, "Content-Type", h, sizeof h), "application/problem+json");
	ck_assert_msg(strstr(r.body, "not under a signed checkpoint yet"), "%s", r.body);
	http_resp_free(&r);
	struct proc_result p;
	const char *args[] = { "cert", "bundle", late, NULL };
	world_ctl(&w, &p, args);
	ck_assert_msg(p.status != 0 && strstr(p.err, "not under a signed checkpoint yet"), "%d %s", p.status,
		      p.err);
	proc_result_free(&p);
	db_rollback(db);
	db_close(db);
	char *b = get_bundle(late), v[32];
	verdict_of(b, strlen(b), v);
	ck_assert_str_eq(v, "valid");
	free(b);
}
END_TEST

/* The checkpoint of b with one more signature line, a cosignature/v1 by a
 * new witness key (C2SP tlog-cosignature), made here; the bundle is
 * re-serialised canonically. *wvkey is the witness's vkey (new). */
static char *cosigned(const char *b, char **wvkey)
{
	struct cf_error err;
	struct keys_private *k = NULL;
	ck_assert_int_eq(keys_generate(&k, &err), CF_OK);
	unsigned char pub[33], id[32], sig[64];
	pub[0] = 0x04;
	keys_public_raw(k, pub + 1);
	const char *name = "witness.test/w1";
	char *idin = cf_asprintf("%s\n", name);
	size_t n = strlen(idin);
	unsigned char buf[300];
	memcpy(buf, idin, n);
	memcpy(buf + n, pub, 33);
	digest_sha256(buf, n + 33, id);
	free(idin);
	char hex[9], *b64 = codec_b64_encode(pub, 33);
	codec_hex_encode(id, 4, hex);
	*wvkey = cf_asprintf("%s+%s+%s", name, hex, b64);
	free(b64);

	json_t *j = json_loads(b, 0, NULL);
	const char *note = jsonx_str(j, "checkpoint");
	const char *blank = strstr(note, "\n\n");
	char *body = cf_strndup(note, (size_t)(blank - note) + 1);
	unsigned long long ts = (unsigned long long)time(NULL);
	char *msg = cf_asprintf("cosignature/v1\ntime %llu\n%s", ts, body);
	ck_assert_int_eq(keys_sign(k, msg, strlen(msg), sig, &err), CF_OK);
	unsigned char line[76];
	memcpy(line, id, 4);
	for (int i = 0; i < 8; i++)
		line[4 + i] = (unsigned char)(ts >> (56 - 8 * i));
	memcpy(line + 12, sig, 64);
	b64 = codec_b64_encode(line, sizeof line);
	char *note2 = cf_asprintf("%s\xe2\x80\x94 %s %s\n", note, name, b64);
	json_object_set_new(j, "checkpoint", json_string(note2));
	char *canon = jsonx_canonical(j);
	char *out = cf_asprintf("%s\n", canon);
	free(canon);
	free(note2);
	free(b64);
	free(msg);
	free(body);
	json_decref(j);
	keys_free(k);
	return out;
}

START_TEST(cosignatures_are_reported_and_verified_with_the_witness_keys_given)
{
	char *plain = get_bundle(serial), *wvkey = NULL;
	char *b = cosigned(plain, &wvkey);
	size_t len = strlen(b);
	struct cf_error err;
	json_t *report = NULL;
	/* without the witness's key: reported, not verified */
	ck_assert_msg(bundle_verify(b, len, vkey, NULL, (long long)time(NULL), &report, &err) == CF_OK, "%s",
		      err.detail);
	json_t *c = json_array_get(json_object_get(json_object_get(report, "log"), "cosignatures"), 0);
	ck_assert_str_eq(jsonx_str(c, "name"), "witness.test/w1");
	ck_assert(json_is_false(json_object_get(c, "verified")));
	json_decref(report);
	/* with it: verified, and then every byte of the line counts too */
	const char *witnesses[] = { wvkey, NULL };
	ck_assert_msg(bundle_verify(b, len, vkey, witnesses, (long long)time(NULL), &report, &err) == CF_OK,
		      "%s", err.detail);
	c = json_array_get(json_object_get(json_object_get(report, "log"), "cosignatures"), 0);
	ck_assert(json_is_true(json_object_get(c, "verified")));
	json_decref(report);
	char *m = cf_malloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		memcpy(m, b, len + 1);
		m[i] = (char)((unsigned char)m[i] ^ 0x01);
		cf_err e = bundle_verify(m, len, vkey, witnesses, (long long)time(NULL), &report, &err);
		ck_assert_msg(e != CF_OK, "byte %zu changed and the cosigned bundle still verifies", i);
	}
	free(m);
	/* the CLI reports it, verified with --witness-key */
	char *file = write_file("bundle-cosigned.json", b, len), *out = NULL;
	struct proc_result r;
	const char *args[] = { "cert", "verify", "--bundle", file, "--log-key", vkey, "--witness-key", wvkey, NULL };
	world_ctl(&w, &r, args);
	ck_assert_msg(r.status == 0 && strstr(r.out, "cosigned:    by witness.test/w1") &&
		      strstr(r.out, "verified with the given witness key"), "%s %s", r.out, r.err);
	proc_result_free(&r);
	ck_assert_msg(script_verify(file, &out) == 0 && strstr(out, "cosigned by witness.test/w1"), "%s", out);
	free(out);
	free(file);
	free(wvkey);
	free(b);
	free(plain);
}
END_TEST

/* Last: it compromises the body's key. A key revoked as compromised since T
 * travels with the proof of its revocation; what it signed before T stays
 * valid offline, what it signed after is invalid, and the lists are signed
 * by the body's new key, which the bundle carries too. */
START_TEST(a_compromised_key_travels_with_its_proven_revocation)
{
	char after[40], since[32];
	sleep(2);
	time_t t = time(NULL);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	sleep(2);
	world_certificate(&w, after);
	struct proc_result r;
	const char *revoke[] = { "key", "revoke", "--compromised", "--since", since, w.body_kid, NULL };
	world_ctl(&w, &r, revoke);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	proc_result_free(&r);
	const char *gen[] = { "key", "generate", "--org", w.certifier.org, NULL };
	world_ctl(&w, &r, gen);
	ck_assert_msg(r.status == 0, "%s %s", r.out, r.err);
	proc_result_free(&r);

	char *b = get_bundle(serial);
	size_t len = strlen(b);
	struct cf_error err;
	json_t *report = NULL;
	ck_assert_msg(bundle_verify(b, len, vkey, NULL, (long long)time(NULL), &report, &err) == CF_OK, "%s",
		      err.detail);
	ck_assert_str_eq(jsonx_str(report, "verdict"), "valid");
	/* the log entry writes the time as the database does: the same second */
	ck_assert_msg(strncmp(jsonx_str(report, "key_compromised_since"), since, 19) == 0, "%s",
		      jsonx_str(report, "key_compromised_since"));
	json_decref(report);
	json_t *j = json_loads(b, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "keys")), 2);
	json_decref(j);
	/* every byte counts here too, the revocation's proof included */
	char *m = cf_malloc(len + 1);
	char v[32];
	for (size_t i = 0; i < len; i++) {
		memcpy(m, b, len + 1);
		m[i] = (char)((unsigned char)m[i] ^ 0x01);
		verdict_of(m, len, v);
		ck_assert_msg(strcmp(v, "invalid") == 0, "byte %zu changed and the bundle says %s", i, v);
	}
	free(m);
	char *file = write_file("bundle-compromised.json", b, len), *out = NULL;
	ck_assert_msg(script_verify(file, &out) == 0, "verify-bundle.py: %s", out);
	free(out);
	free(file);
	free(b);

	/* signed after T: not the body's statement */
	b = get_bundle(after);
	ck_assert_int_eq(bundle_verify(b, strlen(b), vkey, NULL, (long long)time(NULL), &report, &err),
			 CF_EUNPROCESSABLE);
	ck_assert_msg(strstr(err.detail, "compromised"), "%s", err.detail);
	file = write_file("bundle-after-compromise.json", b, strlen(b));
	ck_assert_int_ne(ctl_verify(file, false, &out), 0);
	ck_assert_msg(strstr(out, "INVALID") && strstr(out, "compromised"), "%s", out);
	free(out);
	ck_assert_int_ne(script_verify(file, &out), 0);
	ck_assert_msg(strstr(out, "invalid") && strstr(out, "compromised"), "%s", out);
	free(out);
	free(file);
	free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("bundle");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, a_bundle_verifies_offline_with_the_core_the_cli_and_the_script);
	tcase_add_test(tc, a_bundle_fails_if_any_byte_of_it_changes);
	tcase_add_test(tc, a_suspended_certificates_bundle_says_suspended);
	tcase_add_test(tc, a_superseded_certificates_bundle_names_its_successor);
	tcase_add_test(tc, a_certificate_not_yet_under_a_checkpoint_is_503_with_retry_after);
	tcase_add_test(tc, cosignatures_are_reported_and_verified_with_the_witness_keys_given);
	tcase_add_test(tc, a_compromised_key_travels_with_its_proven_revocation);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
