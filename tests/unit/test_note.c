/*
 * Unit tests of core/note: the C2SP signed-note example, modified notes,
 * unknown and known signers, sign → verify round trips, verifier keys, and
 * tlog checkpoints (the tlog-checkpoint spec's example among them).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "keys.h"
#include "mem.h"
#include "note.h"
#include "tsupport.h"

static json_t *vectors;
static const char *c2sp_vkey, *c2sp_note, *c2sp_text;

static void setup(void)
{
	char *path = tsupport_source_path("tests/data/vectors/c2sp-signed-note.json");
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	json_error_t jerr;
	vectors = json_loadb(text, len, 0, &jerr);
	ck_assert_msg(vectors != NULL, "%s: %s", path, jerr.text);
	free(text);
	free(path);
	c2sp_vkey = json_string_value(json_object_get(vectors, "vkey"));
	c2sp_note = json_string_value(json_object_get(vectors, "note"));
	c2sp_text = json_string_value(json_object_get(vectors, "text"));
	ck_assert(c2sp_vkey && c2sp_note && c2sp_text);
}

static void teardown(void)
{
	json_decref(vectors);
	vectors = NULL;
}

/* The vector note with the first occurrence of from replaced by to. */
static char *replaced(const char *note, const char *from, const char *to)
{
	const char *at = strstr(note, from);
	ck_assert_ptr_nonnull(at);
	return cf_asprintf("%.*s%s%s", (int)(at - note), note, to, at + strlen(from));
}

/* A signature line for name with the given key id and 64 bytes of junk. */
static char *junk_line(const char *name, const unsigned char id[4])
{
	unsigned char blob[68];
	memcpy(blob, id, 4);
	memset(blob + 4, 0x33, 64);
	char *b64 = codec_b64_encode(blob, sizeof blob);
	char *line = cf_asprintf("\xe2\x80\x94 %s %s\n", name, b64);
	free(b64);
	return line;
}

START_TEST(c2sp_vector_verifies)
{
	char *text = NULL;
	struct cf_error err;
	ck_assert_int_eq(note_verify(c2sp_note, c2sp_vkey, &text, &err), 0);
	ck_assert_str_eq(text, c2sp_text);
	free(text);
	ck_assert_int_eq(note_verify(c2sp_note, c2sp_vkey, NULL, &err), 0);

	char *name = NULL;
	unsigned char pub[32], id[4];
	ck_assert_int_eq(note_parse_vkey(c2sp_vkey, &name, pub, &err), 0);
	ck_assert_str_eq(name, "example.com/foo");
	note_key_id(name, pub, id);
	char hex[9];
	codec_hex_encode(id, 4, hex);
	ck_assert_str_eq(hex, "530d903a");
	char *vkey = note_vkey(name, pub);
	ck_assert_str_eq(vkey, c2sp_vkey);
	free(vkey);
	free(name);
}
END_TEST

START_TEST(c2sp_modified_fails)
{
	struct cf_error err;
	char sentinel = 0;
	char *text = &sentinel; /* must become NULL */
	/* the text changed */
	char *m = replaced(c2sp_note, "example message", "example massage");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, &text, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_null(text);
	free(m);
	m = replaced(c2sp_note, "message.\n", "message!\n");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);
	m = replaced(c2sp_note, "This", "this");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);
	/* a line added to the text */
	m = cf_asprintf("extra\n%s", c2sp_note);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);
	/* the signature changed (in its signature bytes, not its key id) */
	m = replaced(c2sp_note, "RlL1Tn", "RlL1Tm");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_nonnull(strstr(err.detail, "does not verify"));
	free(m);
	/* the key id changed: no longer this key's signature at all */
	m = replaced(c2sp_note, "Uw2QOkn8", "Uw2QOan8");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	ck_assert_ptr_nonnull(strstr(err.detail, "no signature by example.com/foo"));
	free(m);
	/* the signer's name changed: another key */
	m = replaced(c2sp_note, "example.com/foo ", "example.com/bar ");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);
}
END_TEST

START_TEST(other_signers)
{
	struct cf_error err;
	unsigned char id[4], other_id[4] = { 1, 2, 3, 4 }, pub[32];
	char *name = NULL;
	ck_assert_int_eq(note_parse_vkey(c2sp_vkey, &name, pub, NULL), 0);
	note_key_id(name, pub, id);

	/* unknown signers, before and after: ignored */
	char *l1 = junk_line("witness.example/w1", other_id);
	char *l2 = junk_line("example.com/foo", other_id); /* same name, other id */
	char *l3 = junk_line("example.com/foo2", id);      /* same id, other name */
	const char *sep = strstr(c2sp_note, "\n\n") + 2;
	char *m = cf_asprintf("%.*s%s%s%s%s", (int)(sep - c2sp_note), c2sp_note, l1, l2, sep, l3);
	char *text = NULL;
	ck_assert_int_eq(note_verify(m, c2sp_vkey, &text, &err), 0);
	ck_assert_str_eq(text, c2sp_text);
	free(text);
	free(m);

	/* only unknown signers: no signature by the key */
	m = cf_asprintf("%.*s%s%s", (int)(sep - c2sp_note), c2sp_note, l1, l3);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);

	/* the known signer twice, once bad: an error */
	char *bad = junk_line("example.com/foo", id);
	m = cf_asprintf("%s%s", c2sp_note, bad);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);
	m = cf_asprintf("%.*s%s%s", (int)(sep - c2sp_note), c2sp_note, bad, sep);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EUNPROCESSABLE);
	free(m);

	free(bad);
	free(l3);
	free(l2);
	free(l1);
	free(name);
}
END_TEST

START_TEST(malformed_notes)
{
	struct cf_error err;
	const char *sig = strstr(c2sp_note, "\xe2\x80\x94");
	size_t text_len = (size_t)(sig - c2sp_note) - 1;
	static const char *const bad_lines[] = {
		"- example.com/foo AAAAAAAA\n",                 /* ASCII hyphen */
		"\xe2\x80\x94" "example.com/foo AAAAAAAA\n", /* no space */
		"\xe2\x80\x94 example.com/foo\n",               /* no signature */
		"\xe2\x80\x94 example.com/foo \n",              /* empty signature */
		"\xe2\x80\x94 example.com/foo AAAA\n",          /* under 5 bytes */
		"\xe2\x80\x94 example.com/foo AAAAAAAA=\n",     /* bad padding */
		"\xe2\x80\x94 example.com/foo AAAAAAAA extra\n",
		"\xe2\x80\x94  example.com/foo AAAAAAAA\n",     /* empty name */
		"\xe2\x80\x94 a+b AAAAAAAA\n",                  /* '+' in the name */
		"\xe2\x80\x94 a\xc2\xa0" "b AAAAAAAA\n",        /* U+00A0 in the name */
	};
	for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
		char *m = cf_asprintf("%s%s%s", c2sp_note, "", bad_lines[i]);
		ck_assert_msg(note_verify(m, c2sp_vkey, NULL, &err) == CF_EINVAL, "line %zu", i);
		free(m);
	}
	/* no newline after the last signature line */
	char *m = cf_strndup(c2sp_note, strlen(c2sp_note) - 1);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	/* no blank line */
	m = cf_asprintf("%.*s%s", (int)text_len, c2sp_note, sig);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	/* nothing after the blank line */
	m = cf_strndup(c2sp_note, text_len + 1);
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	/* control characters, invalid UTF-8 */
	m = replaced(c2sp_note, "an example", "an\texample");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	m = replaced(c2sp_note, "an example", "an\rexample");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	m = replaced(c2sp_note, "an example", "an\xff" "example");
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	m = replaced(c2sp_note, "an example", "an\xc0\xa0" "example"); /* overlong */
	ck_assert_int_eq(note_verify(m, c2sp_vkey, NULL, &err), CF_EINVAL);
	free(m);
	ck_assert_int_eq(note_verify("", c2sp_vkey, NULL, &err), CF_EINVAL);

	/* more than NOTE_MAX_SIGNATURES lines */
	unsigned char other_id[4] = { 9, 9, 9, 9 };
	char *line = junk_line("w.example/x", other_id);
	char *many = cf_strdup(c2sp_note);
	for (int i = 0; i < NOTE_MAX_SIGNATURES; i++) {
		char *next = cf_asprintf("%s%s", many, line);
		free(many);
		many = next;
	}
	ck_assert_int_eq(note_verify(many, c2sp_vkey, NULL, &err), CF_ETOOLARGE);
	free(many);
	free(line);
}
END_TEST

START_TEST(vkey_parsing)
{
	struct cf_error err;
	char sentinel = 0;
	char *name = &sentinel;
	unsigned char pub[32];
	static const char *const bad[] = {
		"example.com/foo+530d903a",                                                   /* no key */
		"example.com/foo",                                                            /* no '+' */
		"example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",      /* wrong id */
		"example.com/fo0+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",      /* wrong name */
		"example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",       /* 7 digits */
		"example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",      /* not hex */
		"example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",       /* bad base64 */
		"example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",      /* type 0x02 */
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2kAA==",  /* 34 bytes */
		"+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",                     /* no name */
		"example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",          /* space */
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(pub, 0x77, sizeof pub);
		ck_assert_msg(note_parse_vkey(bad[i], &name, pub, &err) == CF_EINVAL, "vkey %zu", i);
		ck_assert_ptr_null(name);
		ck_assert_uint_eq(pub[0], 0x77);
		/* a bad vkey fails verification too */
		ck_assert_int_eq(note_verify(c2sp_note, bad[i], NULL, &err), CF_EINVAL);
	}
	/* uppercase hex is read as Go reads it */
	ck_assert_int_eq(note_parse_vkey("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
					 &name, pub, &err), 0);
	free(name);
}
END_TEST

START_TEST(sign_verify_round_trip)
{
	struct keys_private *k = NULL, *other = NULL;
	unsigned char pub[32], opub[32];
	struct cf_error err;
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	ck_assert_int_eq(keys_generate(&other, NULL), 0);
	keys_public_raw(k, pub);
	keys_public_raw(other, opub);
	const char *name = "conform.example/log";
	char *vkey = note_vkey(name, pub);
	char *ovkey = note_vkey(name, opub);

	static const char *const texts[] = {
		"one line\n",
		"conform.example/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"a text\n\nwith a blank line\n",
		"ends with a blank line\n\n",
		"\n",
		"unicode: \xc3\xa9t\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x94\x92\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *note = NULL, *text = NULL;
		ck_assert_int_eq(note_sign(k, name, texts[i], &note, &err), 0);
		ck_assert(strncmp(note, texts[i], strlen(texts[i])) == 0);
		ck_assert_int_eq(note_verify(note, vkey, &text, &err), 0);
		ck_assert_str_eq(text, texts[i]);
		free(text);
		ck_assert_int_eq(note_verify(note, ovkey, &text, &err), CF_EUNPROCESSABLE);
		ck_assert_ptr_null(text);

		/* a cosignature by another key leaves it verifiable by both */
		char *co = NULL;
		ck_assert_int_eq(note_sign(other, "witness.example/w", texts[i], &co, &err), 0);
		const char *line = co + strlen(texts[i]) + 1;
		char *both = cf_asprintf("%s%s", note, line);
		char *wvkey = note_vkey("witness.example/w", opub);
		ck_assert_int_eq(note_verify(both, vkey, NULL, &err), 0);
		ck_assert_int_eq(note_verify(both, wvkey, NULL, &err), 0);
		free(wvkey);
		free(both);
		free(co);
		free(note);
	}

	/* exact layout: text, blank line, em dash line */
	char *note = NULL;
	ck_assert_int_eq(note_sign(k, name, "hello\n", &note, &err), 0);
	const char head[] = "hello\n\n\xe2\x80\x94 conform.example/log ";
	ck_assert(strncmp(note, head, sizeof head - 1) == 0);
	ck_assert_uint_eq(strlen(note), sizeof head - 1 + 92 + 1); /* base64 of 68 bytes, newline */
	ck_assert_int_eq(note[strlen(note) - 1], '\n');
	free(note);

	/* what note_sign refuses */
	char sentinel = 0;
	static const char *const bad_texts[] = { "", "no newline", "tab\there\n", "cr\r\n",
						 "bad \xff utf-8\n", "nul-free but \x1b esc\n" };
	for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
		note = &sentinel;
		ck_assert_int_eq(note_sign(k, name, bad_texts[i], &note, &err), CF_EINVAL);
		ck_assert_ptr_null(note);
	}
	static const char *const bad_names[] = { "", "a b", "a+b", "a\nb", "a\xe2\x80\x83" "b" };
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		ck_assert_int_eq(note_sign(k, bad_names[i], "text\n", &note, &err), CF_EINVAL);

	free(ovkey);
	free(vkey);
	keys_free(other);
	keys_free(k);
}
END_TEST

START_TEST(checkpoint_text)
{
	/* the tlog-checkpoint specification's example */
	const char *spec = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	char *origin = NULL;
	unsigned long long size = 0;
	unsigned char root[32];
	struct cf_error err;
	ck_assert_int_eq(note_parse_checkpoint(spec, &origin, &size, root, &err), 0);
	ck_assert_str_eq(origin, "example.com/behind-the-sofa");
	ck_assert_uint_eq(size, 20852163);
	char *again = note_checkpoint_text(origin, size, root);
	ck_assert_str_eq(again, spec);
	free(again);
	free(origin);

	/* round trips, extremes included */
	static const unsigned long long sizes[] = { 0, 1, 100000, 18446744073709551615ULL };
	for (size_t i = 0; i < 4; i++) {
		unsigned char r[32], r2[32];
		for (int b = 0; b < 32; b++)
			r[b] = (unsigned char)(b * 37 + (int)i);
		char *t = note_checkpoint_text("conform.example/log", sizes[i], r);
		ck_assert_int_eq(note_parse_checkpoint(t, &origin, &size, r2, &err), 0);
		ck_assert_str_eq(origin, "conform.example/log");
		ck_assert_uint_eq(size, sizes[i]);
		ck_assert(memcmp(r, r2, 32) == 0);
		free(origin);
		free(t);
	}

	/* extension lines are allowed and ignored */
	char sentinel = 0;
	char *ext = cf_asprintf("%sextension one\nanother\n", spec);
	ck_assert_int_eq(note_parse_checkpoint(ext, &origin, &size, root, &err), 0);
	free(origin);
	free(ext);

	static const char *const bad[] = {
		"example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",   /* no final newline */
		"example.com/log\n20852163\n",                                                   /* no root */
		"example.com/log\n",
		"",
		"\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",                   /* empty origin */
		"example.com/log\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",   /* leading zero */
		"example.com/log\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n1x\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",           /* 31 bytes */
		"example.com/log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",          /* base64url */
		"example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",           /* no padding */
		"example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",        /* empty extension */
		"example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\nx\n",
		"example.com\tlog\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",          /* control */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		origin = &sentinel;
		size = 7;
		ck_assert_msg(note_parse_checkpoint(bad[i], &origin, &size, root, &err) == CF_EINVAL,
			      "checkpoint %zu accepted", i);
		ck_assert_ptr_null(origin);
		ck_assert_uint_eq(size, 7);
	}
}
END_TEST

START_TEST(signed_checkpoint)
{
	/* the log's use: sign a checkpoint, verify it, read it back */
	struct keys_private *k = NULL;
	unsigned char pub[32], root[32], root2[32];
	ck_assert_int_eq(keys_generate(&k, NULL), 0);
	keys_public_raw(k, pub);
	memset(root, 0xab, sizeof root);
	const char *origin = "conform.example/log";
	char *cp = note_checkpoint_text(origin, 12345, root);
	char *note = NULL, *text = NULL, *o = NULL;
	unsigned long long size = 0;
	ck_assert_int_eq(note_sign(k, origin, cp, &note, NULL), 0);
	char *vkey = note_vkey(origin, pub);
	ck_assert_int_eq(note_verify(note, vkey, &text, NULL), 0);
	ck_assert_int_eq(note_parse_checkpoint(text, &o, &size, root2, NULL), 0);
	ck_assert_str_eq(o, origin);
	ck_assert_uint_eq(size, 12345);
	ck_assert(memcmp(root, root2, 32) == 0);
	free(o);
	free(text);
	free(vkey);
	free(note);
	free(cp);
	keys_free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("note");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, c2sp_vector_verifies);
	tcase_add_test(tc, c2sp_modified_fails);
	tcase_add_test(tc, other_signers);
	tcase_add_test(tc, malformed_notes);
	tcase_add_test(tc, vkey_parsing);
	tcase_add_test(tc, sign_verify_round_trip);
	tcase_add_test(tc, checkpoint_text);
	tcase_add_test(tc, signed_checkpoint);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
