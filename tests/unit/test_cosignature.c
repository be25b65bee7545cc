/*
 * Unit tests of core/witness.c: cosigner verifier keys (type 0x04), the
 * witnesses file and its errors (naming the setting, the file and the
 * line), the add-checkpoint body, and the verification of a witness's
 * cosignature/v1 answer. Key ids and signed messages are built here from
 * the spec (tlog-cosignature), with OpenSSL's SHA-256, not witness.c's.
 */
#include <check.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "keys.h"
#include "mem.h"
#include "tsupport.h"
#include "witness.h"

static const char TEXT[] = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

/* "<name>+<hex id>+<base64(typ || pub)>" with the id computed from the spec. */
static char *make_vkey(const char *name, unsigned char typ, const unsigned char pub[32],
		       unsigned char id[4])
{
	size_t n = strlen(name);
	unsigned char m[256], h[32], raw[33];
	memcpy(m, name, n);
	m[n] = '\n';
	m[n + 1] = typ;
	memcpy(m + n + 2, pub, 32);
	SHA256(m, n + 34, h);
	memcpy(id, h, 4);
	raw[0] = typ;
	memcpy(raw + 1, pub, 32);
	char hex[9], *b = codec_b64_encode(raw, 33);
	codec_hex_encode(h, 4, hex);
	char *v = cf_asprintf("%s+%s+%s", name, hex, b);
	free(b);
	return v;
}

/* A cosignature line by k (name, id) of TEXT at ts. */
static char *cosign(const struct keys_private *k, const char *name, const unsigned char id[4],
		    unsigned long long ts, const char *text)
{
	char *msg = cf_asprintf("cosignature/v1\ntime %llu\n%s", ts, text);
	unsigned char raw[76];
	memcpy(raw, id, 4);
	for (int i = 0; i < 8; i++)
		raw[4 + i] = (unsigned char)(ts >> (56 - 8 * i));
	ck_assert_int_eq(keys_sign(k, msg, strlen(msg), raw + 12, NULL), 0);
	char *b = codec_b64_encode(raw, sizeof raw);
	char *line = cf_asprintf("\xe2\x80\x94 %s %s", name, b);
	free(b);
	free(msg);
	return line;
}

START_TEST(a_cosigner_vkey_is_parsed_and_checked)
{
	/* a key whose base64 holds '+' (about one in two): the name and id end at
	 * the first two '+', not at every one */
	struct keys_private *k = NULL;
	unsigned char pub[32], id[4], got[32], gid[4];
	char *v = NULL;
	for (int i = 0; i < 200 && !v; i++) {
		ck_assert_int_eq(keys_generate(&k, NULL), 0);
		keys_public_raw(k, pub);
		v = make_vkey("witness.example/w1", 0x04, pub, id);
		if (!strchr(strchr(strchr(v, '+') + 1, '+') + 1, '+')) {
			CF_FREE(v);
			keys_free(k);
		}
	}
	ck_assert_ptr_nonnull(v);
	char *name = NULL;
	struct cf_error err;
	ck_assert_int_eq(witness_parse_vkey(v, &name, got, gid, &err), 0);
	ck_assert_str_eq(name, "witness.example/w1");
	ck_assert(memcmp(got, pub, 32) == 0 && memcmp(gid, id, 4) == 0);
	free(name);
	/* a log key (0x01) is no cosigner key */
	char *logkey = make_vkey("witness.example/w1", 0x01, pub, id);
	ck_assert_int_eq(witness_parse_vkey(logkey, &name, got, gid, &err), CF_EINVAL);
	ck_assert_ptr_null(name);
	/* a key id that does not match */
	char *bad = cf_strdup(v);
	char *plus = strchr(bad, '+');
	plus[1] = plus[1] == '0' ? '1' : '0';
	ck_assert_int_eq(witness_parse_vkey(bad, &name, got, gid, &err), CF_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.detail, "id does not match"));
	ck_assert_int_eq(witness_parse_vkey("nokey", &name, got, gid, &err), CF_EINVAL);
	ck_assert_int_eq(witness_parse_vkey("a+0011aabb+!!", &name, got, gid, &err), CF_EINVAL);
	free(bad);
	free(logkey);
	free(v);
	keys_free(k);
}
END_TEST

static char *write_file(const char *content)
{
	char path[] = "/tmp/conform-witnesses.XXXXXX";
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	ck_assert(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	return cf_strdup(path);
}

START_TEST(the_witnesses_file_is_read_and_its_errors_name_the_setting_and_line)
{
	struct keys_private *a = NULL, *b = NULL;
	ck_assert_int_eq(keys_generate(&a, NULL), 0);
	ck_assert_int_eq(keys_generate(&b, NULL), 0);
	unsigned char pa[32], pb[32], id[4];
	keys_public_raw(a, pa);
	keys_public_raw(b, pb);
	char *va = make_vkey("w.example/a", 0x04, pa, id), *vb = make_vkey("w.example/b", 0x04, pb, id);
	char *content = cf_asprintf("# witnesses\n\n  %s https://a.example/w/ \n%s\thttp://127.0.0.1:9\n",
				    va, vb);
	char *path = write_file(content);
	struct witness_set *s = NULL;
	struct cf_error err;
	ck_assert_int_eq(witness_load(path, 0, &s, &err), 0);
	ck_assert_int_eq(s->n, 2);
	ck_assert_int_eq(s->quorum, 2); /* 0: all */
	ck_assert_str_eq(s->w[0].url, "https://a.example/w");
	ck_assert_str_eq(s->w[0].name, "w.example/a");
	ck_assert_str_eq(s->w[1].vkey, vb);
	witness_set_free(s);
	ck_assert_int_eq(witness_load(path, 1, &s, &err), 0);
	ck_assert_int_eq(s->quorum, 1);
	witness_set_free(s);
	/* k of n with k > n */
	ck_assert_int_eq(witness_load(path, 3, &s, &err), CF_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err.detail, "witness-quorum 3"));
	/* a quorum without witnesses */
	ck_assert_int_eq(witness_load("", 1, &s, &err), CF_EINVAL);
	/* no witnesses at all: an empty set */
	ck_assert_int_eq(witness_load("", 0, &s, &err), 0);
	ck_assert_int_eq(s->n, 0);
	witness_set_free(s);
	unlink(path);
	free(path);
	free(content);
	/* bad lines, each named by file and line */
	/* line 2: a URL that is not http(s); no URL; more than a URL; the
	 * same witness twice */
	const char *second[] = { " ftp://x", "", " http://y extra", " http://y" };
	for (size_t i = 0; i < sizeof second / sizeof second[0]; i++) {
		content = cf_asprintf("%s http://x\n%s%s\n", va, i == 3 ? va : vb, second[i]);
		path = write_file(content);
		ck_assert_int_eq(witness_load(path, 0, &s, &err), CF_EINVAL);
		char *where = cf_asprintf("witnesses-file %s:2", path);
		ck_assert_msg(strstr(err.detail, where), "%zu: %s", i, err.detail);
		free(where);
		unlink(path);
		free(path);
		free(content);
	}
	ck_assert_int_eq(witness_load("/nonexistent/witnesses", 0, &s, &err), CF_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.detail, "witnesses-file /nonexistent/witnesses"));
	free(va);
	free(vb);
	keys_free(a);
	keys_free(b);
}
END_TEST

START_TEST(the_add_checkpoint_body_follows_the_spec)
{
	json_t *proof = json_pack("[s,s]", "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
				  "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=");
	char *body = witness_request_body(3, proof, "NOTE\n\n\xe2\x80\x94 sig\n");
	ck_assert_str_eq(body, "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
			       "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\nNOTE\n\n\xe2\x80\x94 sig\n");
	free(body);
	body = witness_request_body(0, NULL, "N\n\nS\n");
	ck_assert_str_eq(body, "old 0\n\nN\n\nS\n");
	free(body);
	json_decref(proof);
	char *text = witness_note_text("a\n1\nroot\n\n\xe2\x80\x94 a sig\n");
	ck_assert_str_eq(text, "a\n1\nroot\n");
	free(text);
	ck_assert_ptr_null(witness_note_text("no signatures\n"));
}
END_TEST

START_TEST(a_cosignature_is_verified_and_other_keys_ignored)
{
	struct keys_private *k = NULL, *other = NULL;
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_generate(&other, NULL), 0);
	unsigned char pub[32], opub[32], id[4], oid[4];
	keys_public_raw(k, pub);
	keys_public_raw(other, opub);
	char *v = make_vkey("w.example/a", 0x04, pub, id);
	char *ov = make_vkey("w.example/other", 0x04, opub, oid);
	struct witness_set *s = NULL;
	struct cf_error err;
	char *content = cf_asprintf("%s http://127.0.0.1:9\n", v);
	char *path = write_file(content);
	ck_assert_int_eq(witness_load(path, 0, &s, &err), 0);
	const struct witness *w = &s->w[0];

	char *mine = cosign(k, "w.example/a", id, 1700000000ULL, TEXT);
	char *theirs = cosign(other, "w.example/other", oid, 1700000001ULL, TEXT);
	char *body = cf_asprintf("%s\n%s\n", theirs, mine);
	char *line = NULL;
	unsigned long long ts = 0;
	ck_assert_int_eq(witness_check_answer(w, TEXT, body, &line, &ts, &err), 0);
	ck_assert_str_eq(line, mine);
	ck_assert_uint_eq(ts, 1700000000ULL);
	free(line);
	free(body);
	/* only another key's line: no cosignature */
	body = cf_asprintf("%s\n", theirs);
	ck_assert_int_eq(witness_check_answer(w, TEXT, body, &line, &ts, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_null(line);
	free(body);
	/* our key over another checkpoint: refused */
	char *forged = cosign(k, "w.example/a", id, 1700000000ULL,
			      "example.com/log\n6\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
	body = cf_asprintf("%s\n", forged);
	ck_assert_int_eq(witness_check_answer(w, TEXT, body, &line, &ts, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_nonnull(strstr(err.detail, "does not verify"));
	free(body);
	free(forged);
	/* another key under our name (another key id): ignored */
	char *impostor = cosign(other, "w.example/a", oid, 1700000000ULL, TEXT);
	body = cf_asprintf("%s\n", impostor);
	ck_assert_int_eq(witness_check_answer(w, TEXT, body, &line, &ts, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_nonnull(strstr(err.detail, "no cosignature"));
	free(body);
	free(impostor);
	/* a zero timestamp is refused (tlog-witness) */
	char *zero = cosign(k, "w.example/a", id, 0, TEXT);
	body = cf_asprintf("%s\n", zero);
	ck_assert_int_eq(witness_check_answer(w, TEXT, body, &line, &ts, &err), CF_EUNPROCESSABLE);
	free(body);
	free(zero);

	free(mine);
	free(theirs);
	witness_set_free(s);
	unlink(path);
	free(path);
	free(content);
	free(v);
	free(ov);
	keys_free(k);
	keys_free(other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cosignature");
	TCase *tc = tcase_create("cosignature");
	tcase_add_test(tc, a_cosigner_vkey_is_parsed_and_checked);
	tcase_add_test(tc, the_witnesses_file_is_read_and_its_errors_name_the_setting_and_line);
	tcase_add_test(tc, the_add_checkpoint_body_follows_the_spec);
	tcase_add_test(tc, a_cosignature_is_verified_and_other_keys_ignored);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
