/*
 * note: C2SP signed notes and tlog checkpoints (see note.h). Parsing follows
 * the spec and Go's golang.org/x/mod/sumdb/note: the text ends at the last
 * blank line, unknown signers are skipped, a known signer must verify.
 */
#include "note.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "digest.h"
#include "mem.h"

#define ED25519_TYPE 0x01
#define SIG_PREFIX "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */
#define SIG_PREFIX_LEN 4

/* Decodes the UTF-8 sequence at s (n > 0 bytes left): its length, with the
 * code point in *cp, or 0 when it is not valid UTF-8 (overlong, surrogate,
 * beyond U+10FFFF, cut short). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Unicode White_Space, the set Go's unicode.IsSpace tests. */
static bool is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* The spec: valid UTF-8 with no ASCII control character but newline. */
static bool valid_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_decode(p + i, n - i, &c);
		if (!l || (c < 0x20 && c != '\n'))
			return false;
		i += l;
	}
	return true;
}

/* A key name: non-empty, no Unicode space, no '+' (it ends the name in a
 * verifier key), and no control character. */
static bool valid_name(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_decode(p + i, n - i, &c);
		if (!l || c < 0x20 || c == 0x7f || c == '+' || is_space(c))
			return false;
		i += l;
	}
	return true;
}

void note_key_id(const char *name, const unsigned char pub[32], unsigned char out[4])
{
	static const unsigned char sep[2] = { '\n', ED25519_TYPE };
	unsigned char h[32];
	struct digest_ctx *ctx = digest_sha256_new();
	digest_update(ctx, name, strlen(name));
	digest_update(ctx, sep, sizeof sep);
	digest_update(ctx, pub, 32);
	digest_final(ctx, h);
	memcpy(out, h, 4);
}

/* The key as a verifier key carries it: base64(0x01 || pub), new string. */
static char *typed_key_b64(const unsigned char pub[32])
{
	unsigned char typed[33];
	typed[0] = ED25519_TYPE;
	memcpy(typed + 1, pub, 32);
	return codec_b64_encode(typed, sizeof typed);
}

char *note_vkey(const char *name, const unsigned char pub[32])
{
	unsigned char id[4];
	char hex[9];
	note_key_id(name, pub, id);
	codec_hex_encode(id, sizeof id, hex);
	char *key = typed_key_b64(pub);
	char *v = cf_asprintf("%s+%s+%s", name, hex, key);
	free(key);
	return v;
}

cf_err note_parse_vkey(const char *vkey, char **name, unsigned char pub[32], struct cf_error *err)
{
	cf_err e = CF_OK;
	unsigned char *key = NULL;
	size_t keylen = 0;
	char *nm = NULL;
	unsigned char id[4], want[4];
	char hex[9];

	*name = NULL;
	/* The name holds no '+', the base64 key may: split at the first two. */
	const char *p1 = strchr(vkey, '+');
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (!p2) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a verifier key reads <name>+<key id>+<key>; this has no two '+'");
		goto out;
	}
	if (!valid_name(vkey, (size_t)(p1 - vkey))) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the verifier key's name is empty or holds a space or control character");
		goto out;
	}
	if (p2 - (p1 + 1) != 8) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the verifier key's id is not 8 hex digits");
		goto out;
	}
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	if (codec_hex_decode(hex, id, sizeof id, NULL)) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the verifier key's id is not 8 hex digits");
		goto out;
	}
	if (codec_b64_decode(p2 + 1, strlen(p2 + 1), &key, &keylen, NULL) || keylen < 1) {
		e = cf_error_set(err, CF_EINVAL, NULL, "the verifier key's key is not base64");
		goto out;
	}
	if (key[0] != ED25519_TYPE || keylen != 33) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the verifier key is not an Ed25519 key (type 0x%02x, %zu bytes)",
				 key[0], keylen - 1);
		goto out;
	}
	nm = cf_strndup(vkey, (size_t)(p1 - vkey));
	note_key_id(nm, key + 1, want);
	if (memcmp(id, want, sizeof id) != 0) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the verifier key's id %s does not match its name and key", hex);
		goto out;
	}
	memcpy(pub, key + 1, 32);
	*name = nm;
	nm = NULL;
out:
	free(nm);
	free(key);
	return e;
}

cf_err note_sign(const struct keys_private *k, const char *name, const char *text, char **out,
		 struct cf_error *err)
{
	cf_err e = CF_OK;
	unsigned char pub[32], blob[4 + 64];
	char *b64 = NULL;

	*out = NULL;
	size_t len = strlen(text);
	if (!valid_name(name, strlen(name))) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a note key name must be non-empty, without spaces, '+' or control characters");
		goto out;
	}
	if (len == 0 || text[len - 1] != '\n') {
		e = cf_error_set(err, CF_EINVAL, NULL, "a note's text must end with a newline");
		goto out;
	}
	if (!valid_text(text, len)) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "a note's text must be UTF-8 without control characters but newline");
		goto out;
	}
	keys_public_raw(k, pub);
	note_key_id(name, pub, blob);
	e = keys_sign(k, text, len, blob + 4, err);
	if (e)
		goto out;
	b64 = codec_b64_encode(blob, sizeof blob);
	*out = cf_asprintf("%s\n" SIG_PREFIX "%s %s\n", text, name, b64);
out:
	free(b64);
	return e;
}

cf_err note_verify(const char *note, const char *vkey, char **text, struct cf_error *err)
{
	cf_err e = CF_OK;
	char *vname = NULL;
	unsigned char pub[32], id[4];
	unsigned char *blob = NULL;
	size_t blen = 0, nsig = 0;
	bool verified = false;

	if (text)
		*text = NULL;
	e = note_parse_vkey(vkey, &vname, pub, err);
	if (e)
		goto out;
	note_key_id(vname, pub, id);
	size_t vname_len = strlen(vname);

	size_t len = strlen(note);
	if (!valid_text(note, len)) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the note is not UTF-8 or holds control characters other than newline");
		goto out;
	}
	/* The text ends at the last blank line: the text itself may hold blank
	 * lines, a signature line never does. */
	size_t split = len;
	for (size_t i = len; i >= 2; i--) {
		if (note[i - 2] == '\n' && note[i - 1] == '\n') {
			split = i - 2;
			break;
		}
	}
	if (split == len) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "not a signed note: no blank line before the signatures");
		goto out;
	}
	size_t text_len = split + 1; /* with its final newline */
	const char *line = note + split + 2, *end = note + len;
	if (line == end || end[-1] != '\n') {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "not a signed note: no signature lines ending with a newline");
		goto out;
	}
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if (++nsig > NOTE_MAX_SIGNATURES) {
			e = cf_error_set(err, CF_ETOOLARGE, NULL,
					 "the note is too large: more than %d signatures",
					 NOTE_MAX_SIGNATURES);
			goto out;
		}
		/* "<U+2014> <name> <base64>": the name ends at the first space. */
		bool ok = nl - line > SIG_PREFIX_LEN &&
			  memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) == 0;
		const char *nm = ok ? line + SIG_PREFIX_LEN : NULL;
		const char *sp = ok ? memchr(nm, ' ', (size_t)(nl - nm)) : NULL;
		free(blob);
		blob = NULL;
		if (!sp || !valid_name(nm, (size_t)(sp - nm)) || sp + 1 == nl ||
		    codec_b64_decode(sp + 1, (size_t)(nl - (sp + 1)), &blob, &blen, NULL) ||
		    blen < 5) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "signature line %zu of the note is malformed", nsig);
			goto out;
		}
		/* A signer is a (name, key id) pair: sharing only one of them with
		 * vkey makes it another key, to be ignored. */
		if ((size_t)(sp - nm) == vname_len && memcmp(nm, vname, vname_len) == 0 &&
		    memcmp(blob, id, sizeof id) == 0) {
			if (blen != 4 + 64 || !keys_verify(pub, note, text_len, blob + 4)) {
				e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
						 "the note's signature by %s does not verify", vname);
				goto out;
			}
			verified = true;
		}
		line = nl + 1;
	}
	if (!verified) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "the note has no signature by %s (key id %02x%02x%02x%02x)", vname,
				 id[0], id[1], id[2], id[3]);
		goto out;
	}
	if (text)
		*text = cf_strndup(note, text_len);
out:
	free(blob);
	free(vname);
	return e;
}

char *note_checkpoint_text(const char *origin, unsigned long long size,
			   const unsigned char root[32])
{
	char *r = codec_b64_encode(root, 32);
	char *t = cf_asprintf("%s\n%llu\n%s\n", origin, size, r);
	free(r);
	return t;
}

/* Decimal without sign, spaces or leading zeroes (tlog-checkpoint). */
static bool parse_size(const char *s, size_t n, unsigned long long *out)
{
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

cf_err note_parse_checkpoint(const char *text, char **origin, unsigned long long *size,
			     unsigned char root[32], struct cf_error *err)
{
	static const char *const names[3] = { "origin", "tree size", "root hash" };
	cf_err e = CF_OK;
	const char *line[3];
	size_t line_len[3];
	unsigned char *r = NULL;
	size_t rlen = 0;
	unsigned long long sz = 0;

	*origin = NULL;
	size_t len = strlen(text);
	if (!valid_text(text, len)) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "the checkpoint is not UTF-8 or holds control characters other than newline");
		goto out;
	}
	if (len == 0 || text[len - 1] != '\n') {
		e = cf_error_set(err, CF_EINVAL, NULL, "the checkpoint must end with a newline");
		goto out;
	}
	const char *p = text, *end = text + len;
	for (int i = 0; i < 3; i++) {
		if (p == end) {
			e = cf_error_set(err, CF_EINVAL, NULL, "the checkpoint has no %s line", names[i]);
			goto out;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		line[i] = p;
		line_len[i] = (size_t)(nl - p);
		if (line_len[i] == 0) {
			e = cf_error_set(err, CF_EINVAL, NULL, "the checkpoint's %s line is empty",
					 names[i]);
			goto out;
		}
		p = nl + 1;
	}
	for (int n = 4; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "line %d of the checkpoint (an extension line) is empty", n);
			goto out;
		}
		p = nl + 1;
	}
	if (!parse_size(line[1], line_len[1], &sz)) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "line 2 of the checkpoint (tree size) is not a decimal number without leading zeroes");
		goto out;
	}
	if (codec_b64_decode(line[2], line_len[2], &r, &rlen, NULL) || rlen != 32) {
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "line 3 of the checkpoint (root hash) is not the base64 of 32 bytes");
		goto out;
	}
	*size = sz;
	memcpy(root, r, 32);
	*origin = cf_strndup(line[0], line_len[0]);
out:
	free(r);
	return e;
}
