/*
 * bundle: the offline proof bundle of a certificate (see bundle.h).
 */
#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "digest.h"
#include "jsonx.h"
#include "jws.h"
#include "keys.h"
#include "mem.h"
#include "merkle.h"
#include "note.h"
#include "signer.h"
#include "statuslist.h"
#include "tlog.h"

/* ---- making ---- */

/* A proof not yet coverable by the newest checkpoint: a transient state. */
static cf_err not_yet(struct cf_error *err, const char *what)
{
	return cf_error_set(err, CF_EUNAVAILABLE, NULL,
			    "%s is not under a signed checkpoint yet: the log signs one within "
			    "seconds, retry", what);
}

/* {index, entry, audit_path} of leaf index (or of serial's issuance) under size. */
static cf_err proof_of(struct db *db, const char *serial, long long index, long long size,
		       const char *what, json_t **out, struct cf_error *err)
{
	json_t *incl = NULL;
	cf_err e = tlog_inclusion(db, serial, index, size, &incl, err);
	if (e == CF_EINVAL) /* the leaf (or the tree) is past the checkpoint: not yet */
		return not_yet(err, what);
	if (e)
		return e;
	*out = json_pack("{s:O,s:O,s:O}", "index", json_object_get(incl, "index"), "entry",
			 json_object_get(incl, "entry"), "audit_path", json_object_get(incl, "audit_path"));
	json_decref(incl);
	return CF_OK;
}

/* A superseded certificate's proof of its supersession entry under size
 * (*out NULL for any other certificate): what lets an offline verifier say
 * superseded, and by which certificate, rather than withdrawn. */
static cf_err supersession_of(struct db *db, const char *serial, long long size, json_t **out,
			      struct cf_error *err)
{
	*out = NULL;
	const char *p[] = { serial };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT log_index FROM certificate_event WHERE serial = $1 AND action = 'superseded'", 1, p);
	if (e)
		return e;
	long long index = PQntuples(res) == 1 ? db_value_ll(res, 0, 0) : -1;
	PQclear(res);
	return index < 0 ? CF_OK
			 : proof_of(db, NULL, index, size, "the certificate's supersession", out, err);
}

/* The kid (thumbprint) after the '#' of a compact JWS's header kid, into out. */
static cf_err jws_kid(const char *compact, char out[SIGNER_KID_LEN], struct cf_error *err)
{
	struct jws j;
	cf_err e = jws_parse(compact, CERTIFICATE_JWS_MAX, &j, err);
	if (e)
		return e;
	const char *kid = jsonx_str(j.header, "kid");
	const char *hash = kid ? strrchr(kid, '#') : NULL;
	if (!hash || strlen(hash + 1) >= SIGNER_KID_LEN)
		e = cf_error_set(err, CF_EINTERNAL, NULL, "a signed credential has no kid");
	else
		snprintf(out, SIGNER_KID_LEN, "%s", hash + 1);
	jws_clear(&j);
	return e;
}

/* The public JWK of kid (a thumbprint) with, when it was revoked as
 * compromised, the proof of that log entry under size. */
static cf_err key_of(struct db *db, const char *did, const char *kid, long long size, json_t **out,
		     struct cf_error *err)
{
	unsigned char pub[32];
	char org[37];
	bool retired = false;
	cf_err e = signer_public(db, kid, pub, org, &retired, err);
	if (e)
		return e;
	char *x = codec_b64url_encode(pub, 32);
	char *full = cf_asprintf("%s#%s", did, kid);
	*out = json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "kid", full);
	free(x);
	free(full);
	const char *p[] = { kid };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT idx FROM tlog_entry WHERE kind = 'key' AND serial = $1"
		" AND entry LIKE '%\"kind\":\"key-compromised\"%' ORDER BY idx LIMIT 1", 1, p);
	if (!e && PQntuples(res) == 1) {
		json_t *proof = NULL;
		e = proof_of(db, NULL, db_value_ll(res, 0, 0), size, "the revocation of its key", &proof, err);
		if (!e)
			json_object_set_new(*out, "compromised", proof);
	}
	PQclear(res);
	if (e) {
		json_decref(*out);
		*out = NULL;
	}
	return e;
}

/* Both status lists, made in one read-only transaction so that they are of
 * one moment (now(), their validFrom): the bundle's made_at. */
static cf_err status_lists(struct db *db, const struct cert_ctx *ctx, const char *body, char **rev,
			   char **sus, struct cf_error *err)
{
	cf_err e = db_begin(db, DB_REPEATABLE_READ, err);
	if (e)
		return e;
	e = certificate_status_list(db, ctx, body, "revocation", rev, err);
	if (!e)
		e = certificate_status_list(db, ctx, body, "suspension", sus, err);
	db_rollback(db); /* read only: nothing to commit */
	return e;
}

static const char *payload_member(const char *compact, const char *member, char *out, size_t size)
{
	struct jws j;
	struct cf_error ignored;
	out[0] = '\0';
	if (jws_parse(compact, CERTIFICATE_JWS_MAX, &j, &ignored))
		return out;
	json_t *p = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
	const char *v = jsonx_str(p, member);
	if (v)
		snprintf(out, size, "%s", v);
	json_decref(p);
	jws_clear(&j);
	return out;
}

cf_err bundle_make(struct db *db, const struct cert_ctx *ctx, const char *serial, char **out,
		   struct cf_error *err)
{
	*out = NULL;
	char *jws = NULL, *note = NULL, *rev = NULL, *sus = NULL, *vkey = NULL, *canon = NULL;
	json_t *incl = NULL, *keys = NULL, *bundle = NULL, *superseded = NULL;
	char body[37], did[SIGNER_DID_LEN], origin[256];
	cf_err e = certificate_jws(db, serial, &jws, err);
	if (!e)
		e = certificate_issuer(db, serial, body, err);
	if (e)
		goto out;
	signer_did(ctx->public_url, body, did);
	/* the checkpoint exactly as GET /v1/log/checkpoint serves it (with
	 * whatever cosignatures it carries), and its size from its text */
	e = tlog_checkpoint_note(db, &note, err);
	if (e == CF_ENOTFOUND)
		e = not_yet(err, "the certificate");
	if (e)
		goto out;
	const char *nl = strchr(note, '\n');
	long long size = nl ? strtoll(nl + 1, NULL, 10) : 0;
	e = proof_of(db, serial, 0, size, "the certificate's issuance", &incl, err);
	if (!e)
		e = supersession_of(db, serial, size, &superseded, err);
	if (e)
		goto out;
	/* the key that signed that checkpoint (the log key of its day) */
	char sz[24];
	snprintf(sz, sizeof sz, "%lld", size);
	const char *kp[] = { sz };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"SELECT k.public_key FROM tlog_checkpoint c JOIN signing_key k ON k.kid = c.kid"
		" WHERE c.size = $1", 1, kp);
	if (e)
		goto out;
	unsigned char *pub = NULL;
	size_t publen = 0;
	if (PQntuples(res) != 1 ||
	    codec_b64url_decode(db_value(res, 0, 0), strlen(db_value(res, 0, 0)), &pub, &publen, err) ||
	    publen != 32)
		e = cf_error_set(err, CF_EINTERNAL, NULL, "the key of checkpoint %lld is not published", size);
	PQclear(res);
	if (!e) {
		tlog_origin(ctx->public_url, origin, sizeof origin);
		vkey = note_vkey(origin, pub);
	}
	free(pub);
	if (e)
		goto out;

	e = status_lists(db, ctx, body, &rev, &sus, err);
	if (e)
		goto out;
	/* the keys that signed: the credential's, and the lists' (the body's
	 * current key, another one after a rotation) */
	keys = json_array();
	char kids[3][SIGNER_KID_LEN];
	const char *signed_by[3] = { jws, rev, sus };
	for (int i = 0; i < 3 && !e; i++) {
		e = jws_kid(signed_by[i], kids[i], err);
		bool seen = false;
		for (int k = 0; k < i && !e; k++)
			seen = seen || strcmp(kids[k], kids[i]) == 0;
		json_t *jwk = NULL;
		if (!e && !seen) {
			e = key_of(db, did, kids[i], size, &jwk, err);
			if (!e)
				json_array_append_new(keys, jwk);
		}
	}
	if (e)
		goto out;
	char made[40];
	payload_member(rev, "validFrom", made, sizeof made);
	bundle = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:s,s:s,s:{s:s,s:s}}", "format", BUNDLE_FORMAT,
			   "serial", serial, "credential", jws, "keys", keys, "inclusion", incl,
			   "checkpoint", note, "log_vkey", vkey, "made_at", made, "status_lists",
			   "revocation", rev, "suspension", sus);
	if (bundle && superseded)
		json_object_set(bundle, "superseded", superseded);
	canon = bundle ? jsonx_canonical(bundle) : NULL;
	if (!canon) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "the bundle could not be serialised");
		goto out;
	}
	*out = cf_asprintf("%s\n", canon);
out:
	free(canon);
	json_decref(bundle);
	json_decref(keys);
	json_decref(incl);
	json_decref(superseded);
	free(vkey);
	free(rev);
	free(sus);
	free(note);
	free(jws);
	return e;
}

/* ---- verifying ---- */

/* Verification failures: the bundle is not to be believed. */
#define BAD(...) cf_error_set(err, CF_EUNPROCESSABLE, NULL, __VA_ARGS__)

/* Seconds since the epoch of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SS[.frac]Z"; -1 if not one. */
static long long epoch_of(const char *t)
{
	struct tm tm = { 0 };
	const char *end = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0)
		return -1;
	return (long long)timegm(&tm);
}

/* obj is an object with exactly the members names (NULL-terminated), and
 * optionally the member optional. */
static bool exactly(const json_t *obj, const char *const *names, const char *optional)
{
	if (!json_is_object(obj))
		return false;
	size_t n = 0;
	for (; names[n]; n++)
		if (!json_object_get(obj, names[n]))
			return false;
	return json_object_size(obj) == n + (optional && json_object_get(obj, optional) ? 1 : 0);
}

/* A text that is JSON whose canonical form is exactly itself. *out new. */
static json_t *canonical_json(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	char *c = j ? jsonx_canonical(j) : NULL;
	bool same = c && strlen(c) == len && memcmp(c, text, len) == 0;
	free(c);
	if (!same) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The leaf under the checkpoint: {index, entry, audit_path} proves that
 * entry (canonical JSON, returned parsed in *entry) is leaf index of the
 * tree of size leaves with head root. */
static cf_err check_proof(const json_t *p, unsigned long long size, const unsigned char root[32],
			  const char *what, json_t **entry, struct cf_error *err)
{
	static const char *const names[] = { "audit_path", "entry", "index", NULL };
	*entry = NULL;
	const json_t *path = json_object_get(p, "audit_path");
	const char *text = jsonx_str(p, "entry");
	json_int_t index = json_integer_value(json_object_get(p, "index"));
	if (!exactly(p, names, NULL) || !json_is_array(path) || !text ||
	    !json_is_integer(json_object_get(p, "index")) || index < 0 || json_array_size(path) > 64)
		return BAD("%s: the proof is malformed", what);
	*entry = canonical_json(text, strlen(text));
	if (!json_is_object(*entry))
		return BAD("%s: the log entry is not canonical JSON", what);
	size_t n = json_array_size(path);
	unsigned char (*hashes)[32] = cf_calloc(n ? n : 1, 32);
	cf_err e = CF_OK;
	for (size_t i = 0; i < n && !e; i++) {
		const char *h = json_string_value(json_array_get(path, i));
		unsigned char *raw = NULL;
		size_t rawlen = 0;
		struct cf_error ignored;
		/* base64 re-encoded must be itself: one spelling per hash */
		if (!h || codec_b64_decode(h, strlen(h), &raw, &rawlen, &ignored) || rawlen != 32)
			e = BAD("%s: audit path hash %zu is not base64 of 32 bytes", what, i);
		else {
			char *again = codec_b64_encode(raw, 32);
			if (strcmp(again, h) != 0)
				e = BAD("%s: audit path hash %zu is not in canonical base64", what, i);
			memcpy(hashes[i], raw, 32);
			free(again);
		}
		free(raw);
	}
	unsigned char leaf[32];
	merkle_leaf_hash(text, strlen(text), leaf);
	if (!e && !merkle_verify_inclusion(leaf, (size_t)index, (size_t)size,
					   (const unsigned char (*)[32])hashes, n, root))
		e = BAD("%s: the inclusion proof of log entry %lld does not lead to the checkpoint's root",
			what, (long long)index);
	free(hashes);
	if (e) {
		json_decref(*entry);
		*entry = NULL;
	}
	return e;
}

/* A witness's cosigning key: "<name>+<key id>+<base64(0x04 || pub)>"
 * (C2SP tlog-cosignature, Ed25519). */
struct witness {
	char name[256];
	unsigned char id[4], pub[32];
};

static bool witness_parse(const char *vkey, struct witness *w)
{
	const char *p1 = strchr(vkey, '+'), *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (!p2 || p1 == vkey || (size_t)(p1 - vkey) >= sizeof w->name || p2 - p1 != 9)
		return false;
	snprintf(w->name, sizeof w->name, "%.*s", (int)(p1 - vkey), vkey);
	char hex[9];
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	struct cf_error ignored;
	bool ok = codec_hex_decode(hex, w->id, 4, &ignored) == CF_OK &&
		  codec_b64_decode(p2 + 1, strlen(p2 + 1), &raw, &rawlen, &ignored) == CF_OK && rawlen == 33 &&
		  raw[0] == 0x04;
	if (ok) {
		memcpy(w->pub, raw + 1, 32);
		/* the key id is SHA-256(name || "\n" || 0x04 || pub)[:4] */
		struct buf b;
		buf_init(&b, 512);
		unsigned char d[32];
		ok = !buf_append(&b, w->name, strlen(w->name), &ignored) &&
		     !buf_append(&b, "\n", 1, &ignored) && !buf_append(&b, raw, 33, &ignored);
		if (ok) {
			digest_sha256(b.data, b.len, d);
			ok = memcmp(d, w->id, 4) == 0;
		}
		buf_free(&b);
	}
	free(raw);
	return ok;
}

/*
 * The signature lines of a note other than the log's (cosignatures): into
 * *out [{name, key_id, verified, timestamp}]. A line of one of the given
 * witnesses (its name and key id) must verify as a cosignature/v1 of body
 * (the signed checkpoint text), and each of them must have one, else the
 * bundle is invalid; the others are reported as not verified.
 */
static cf_err cosignatures(const char *note, const char *body, const char *log_name,
			   const char *const *witnesses, json_t **out, struct cf_error *err)
{
	*out = json_array();
	const char *sigs = strstr(note, "\n\n");
	for (const char *l = sigs ? sigs + 2 : ""; *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *name = l + 4, *sp = n > 4 ? memchr(name, ' ', n - 4) : NULL;
		/* "\u2014 name base64" (note_verify has checked the form) */
		if (sp && memcmp(l, "\xe2\x80\x94 ", 4) == 0 &&
		    !(strlen(log_name) == (size_t)(sp - name) && memcmp(name, log_name, (size_t)(sp - name)) == 0)) {
			unsigned char *raw = NULL;
			size_t rawlen = 0;
			struct cf_error ignored;
			char id[9] = "";
			char *nm = cf_strndup(name, (size_t)(sp - name));
			bool known = false, good = false;
			unsigned long long ts = 0;
			if (!codec_b64_decode(sp + 1, (size_t)(l + n - sp - 1), &raw, &rawlen, &ignored) && rawlen >= 4)
				codec_hex_encode(raw, 4, id);
			for (const char *const *w = witnesses; w && *w; w++) {
				struct witness wk;
				if (!witness_parse(*w, &wk) || strcmp(wk.name, nm) != 0 || rawlen < 4 ||
				    memcmp(wk.id, raw, 4) != 0)
					continue;
				known = true;
				if (rawlen != 4 + 8 + 64)
					break;
				for (int i = 0; i < 8; i++)
					ts = ts << 8 | raw[4 + i];
				char *msg = cf_asprintf("cosignature/v1\ntime %llu\n%s", ts, body);
				good = keys_verify(wk.pub, msg, strlen(msg), raw + 12);
				free(msg);
				break;
			}
			free(raw);
			if (known && !good) {
				cf_err e = BAD("the checkpoint's cosignature by witness %.100s does not verify", nm);
				free(nm);
				return e;
			}
			json_t *c = json_pack("{s:s,s:s,s:b}", "name", nm, "key_id", id, "verified", good);
			if (good)
				json_object_set_new(c, "timestamp", json_integer((json_int_t)ts));
			json_array_append_new(*out, c);
			free(nm);
		}
		l += n + (end ? 1 : 0);
	}
	for (const char *const *w = witnesses; w && *w; w++) {
		struct witness wk;
		if (!witness_parse(*w, &wk))
			return cf_error_set(err, CF_EINVAL, NULL, "%.200s is not a witness's cosigning key "
					    "(name+key id+base64 of 0x04 and an Ed25519 key)", *w);
		bool found = false;
		size_t i;
		json_t *c;
		json_array_foreach(*out, i, c)
			found = found || (strcmp(jsonx_str(c, "name"), wk.name) == 0 &&
					  json_is_true(json_object_get(c, "verified")));
		if (!found)
			return BAD("the checkpoint is not cosigned by witness %.100s", wk.name);
	}
	return CF_OK;
}

struct vkey {
	const json_t *jwk;
	unsigned char pub[32];
	long long compromised_since; /* -1: not compromised */
	const char *since_text;    /* borrowed from entry */
	json_t *entry;             /* its revocation's log entry (owned), or NULL */
	bool used;
};

/* Verifies a compact JWS signed by one of keys, whose DID must be did:
 * *payload (new) is its payload, *key the key. */
static cf_err check_signed(const char *compact, struct vkey *keys, size_t nkeys, const char *did,
			   const char *what, json_t **payload, struct vkey **key, struct cf_error *err)
{
	*payload = NULL;
	struct jws j;
	if (!compact || jws_parse(compact, CERTIFICATE_JWS_MAX, &j, err))
		return BAD("%s: not a compact JWS", what);
	cf_err e = CF_OK;
	const char *kid = jsonx_str(j.header, "kid"), *typ = jsonx_str(j.header, "typ");
	struct vkey *k = NULL;
	for (size_t i = 0; kid && i < nkeys; i++)
		if (strcmp(jsonx_str(keys[i].jwk, "kid"), kid) == 0)
			k = &keys[i];
	const char *hash = kid ? strrchr(kid, '#') : NULL;
	if (!typ || strcmp(typ, "vc+jwt") != 0)
		e = BAD("%s: its type is not vc+jwt", what);
	else if (!k)
		e = BAD("%s: its key %.120s is not in the bundle", what, kid ? kid : "(none)");
	else if (strlen(did) != (size_t)(hash - kid) || strncmp(did, kid, (size_t)(hash - kid)) != 0)
		e = BAD("%s: its key %.120s is not the issuer's", what, kid);
	else if (!jws_verify(&j, k->pub))
		e = BAD("%s: the signature does not verify with key %.120s", what, kid);
	if (!e) {
		*payload = json_loadb((const char *)j.payload, j.payload_len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(*payload))
			e = BAD("%s: its payload is not a JSON object", what);
		k->used = true;
		*key = k;
	}
	jws_clear(&j);
	return e;
}

/* The bit of the credential's status entry of purpose in the list (signed
 * by the issuer, made at made_at); *bit. */
static cf_err check_list(const char *compact, const char *purpose, const json_t *cred,
			 struct vkey *keys, size_t nkeys, const char *did, const char *made_at,
			 bool *bit, struct cf_error *err)
{
	json_t *list = NULL;
	struct vkey *k = NULL;
	unsigned char *bits = NULL;
	char what[64];
	snprintf(what, sizeof what, "the %s status list", purpose);
	cf_err e = check_signed(compact, keys, nkeys, did, what, &list, &k, err);
	if (e)
		return e;
	const json_t *entry = NULL, *s;
	size_t i;
	json_array_foreach(json_object_get(cred, "credentialStatus"), i, s)
		if (jsonx_str(s, "statusPurpose") && strcmp(jsonx_str(s, "statusPurpose"), purpose) == 0)
			entry = s;
	const json_t *subject = json_object_get(list, "credentialSubject");
	const char *idx = jsonx_str(entry, "statusListIndex"), *url = jsonx_str(entry, "statusListCredential");
	char *endp = NULL;
	unsigned long index = idx ? strtoul(idx, &endp, 10) : 0;
	if (!entry || !url || !idx || !*idx || *endp || index >= STATUSLIST_BITS)
		e = BAD("the credential has no %s status entry", purpose);
	else if (!jsonx_str(list, "id") || strcmp(jsonx_str(list, "id"), url) != 0)
		e = BAD("%s is not the credential's (%.200s)", what, url);
	else if (!jsonx_str(list, "issuer") || strcmp(jsonx_str(list, "issuer"), did) != 0)
		e = BAD("%s is not the issuer's", what);
	else if (!jsonx_str(subject, "statusPurpose") || strcmp(jsonx_str(subject, "statusPurpose"), purpose))
		e = BAD("%s is for another purpose", what);
	else if (!jsonx_str(list, "validFrom") || strcmp(jsonx_str(list, "validFrom"), made_at) != 0)
		e = BAD("%s was not made at the bundle's made_at", what);
	else if (k->compromised_since >= 0 && epoch_of(made_at) >= k->compromised_since)
		e = BAD("%s is signed by a key compromised since %s", what, k->since_text);
	else if (statuslist_decode(jsonx_str(subject, "encodedList"), &bits, err))
		e = BAD("%s: its encodedList does not decode", what);
	else
		*bit = statuslist_get(bits, (unsigned)index);
	free(bits);
	json_decref(list);
	return e;
}

cf_err bundle_verify(const char *text, size_t len, const char *log_vkey, const char *const *witnesses,
		     long long now, json_t **out, struct cf_error *err)
{
	static const char *const top[] = { "checkpoint", "credential", "format", "inclusion", "keys",
					   "log_vkey", "made_at", "serial", "status_lists", NULL };
	static const char *const key_names[] = { "crv", "kid", "kty", "x", NULL };
	static const char *const list_names[] = { "revocation", "suspension", NULL };
	*out = NULL;
	json_t *b = NULL, *cred = NULL, *entry = NULL, *cosigned = NULL, *sup_entry = NULL;
	struct vkey *keys = NULL;
	char *log_name = NULL, *signed_text = NULL, *origin = NULL, *issuer = NULL;
	size_t nkeys = 0;
	cf_err e = CF_OK;
	if (len > BUNDLE_MAX)
		return cf_error_set(err, CF_ETOOLARGE, NULL, "a bundle is at most %u bytes", BUNDLE_MAX);
	/* every byte counts: exactly the canonical form and one newline, so
	 * that no change, whitespace included, leaves the meaning intact */
	if (len < 2 || text[len - 1] != '\n' || !(b = canonical_json(text, len - 1)))
		return cf_error_set(err, CF_EINVAL, NULL,
				    "not a bundle: the file is not canonical JSON followed by one newline");
	if (!exactly(b, top, "superseded") || !jsonx_str(b, "format") ||
	    strcmp(jsonx_str(b, "format"), BUNDLE_FORMAT) != 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "not a bundle: the members of %s are %s", BUNDLE_FORMAT,
				 "checkpoint, credential, format, inclusion, keys, log_vkey, made_at, serial, "
				 "status_lists (and superseded, for a superseded certificate)");
		goto out;
	}
	const char *serial = jsonx_str(b, "serial"), *made_at = jsonx_str(b, "made_at");
	const char *note = jsonx_str(b, "checkpoint"), *vkey = jsonx_str(b, "log_vkey");
	const json_t *lists = json_object_get(b, "status_lists"), *jkeys = json_object_get(b, "keys");
	if (!serial || !made_at || epoch_of(made_at) < 0 || !note || !vkey || !exactly(lists, list_names, NULL) ||
	    !json_is_array(jkeys) || json_array_size(jkeys) == 0 || json_array_size(jkeys) > 3) {
		e = BAD("the bundle's members are malformed");
		goto out;
	}

	/* 1. the checkpoint, signed by the log key */
	bool trusted = log_vkey != NULL;
	if (trusted && strcmp(log_vkey, vkey) != 0) {
		e = BAD("the checkpoint's key in the bundle (%.200s) is not the trusted log key", vkey);
		goto out;
	}
	unsigned char log_pub[32], root[32];
	unsigned long long size = 0;
	if (note_parse_vkey(vkey, &log_name, log_pub, err) ||
	    note_verify(note, vkey, &signed_text, err) ||
	    note_parse_checkpoint(signed_text, &origin, &size, root, err)) {
		e = BAD("the checkpoint does not verify with the log key: %.200s", err->detail);
		goto out;
	}
	if (strcmp(origin, log_name) != 0) {
		e = BAD("the checkpoint's origin %.100s is not the log key's name", origin);
		goto out;
	}
	e = cosignatures(note, signed_text, log_name, witnesses, &cosigned, err);
	if (e)
		goto out;

	/* 2. the keys, each its own thumbprint, and the revocation of a
	 * compromised one proven in the log */
	nkeys = json_array_size(jkeys);
	keys = cf_calloc(nkeys, sizeof *keys);
	for (size_t i = 0; i < nkeys; i++) {
		const json_t *jwk = json_array_get(jkeys, i);
		const char *kid = jsonx_str(jwk, "kid"), *hash = kid ? strrchr(kid, '#') : NULL;
		char thumb[44];
		keys[i].jwk = jwk;
		keys[i].compromised_since = -1;
		if (!exactly(jwk, key_names, "compromised") || !hash || keys_public_from_jwk(jwk, keys[i].pub, err)) {
			e = BAD("key %zu of the bundle is not an Ed25519 JWK with its kid", i);
			goto out;
		}
		keys_jwk_thumbprint(keys[i].pub, thumb);
		char *x = codec_b64url_encode(keys[i].pub, 32);
		bool same_x = strcmp(x, jsonx_str(jwk, "x")) == 0;
		free(x);
		if (strcmp(thumb, hash + 1) != 0 || !same_x) {
			e = BAD("key %.120s: its kid is not its RFC 7638 thumbprint", kid);
			goto out;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(jsonx_str(keys[k].jwk, "kid"), kid) == 0) {
				e = BAD("key %.120s is in the bundle twice", kid);
				goto out;
			}
		const json_t *comp = json_object_get(jwk, "compromised");
		if (comp) {
			e = check_proof(comp, size, root, "the key's revocation", &keys[i].entry, err);
			if (e)
				goto out;
			const json_t *kentry = keys[i].entry;
			const char *since = jsonx_str(kentry, "compromised_since");
			if (!jsonx_str(kentry, "kind") || strcmp(jsonx_str(kentry, "kind"), "key-compromised") ||
			    !jsonx_str(kentry, "kid") || strcmp(jsonx_str(kentry, "kid"), kid) != 0 ||
			    epoch_of(since) < 0) {
				e = BAD("key %.120s: its revocation entry is not that key's", kid);
				goto out;
			}
			keys[i].compromised_since = epoch_of(since);
			keys[i].since_text = since;
		}
	}

	/* 3. the credential, signed by its issuer's key */
	/* the issuer the credential names, which its key must be of */
	struct vkey *ck = NULL;
	struct jws cj;
	struct cf_error ignored;
	char *did = NULL;
	if (!jws_parse(jsonx_str(b, "credential"), CERTIFICATE_JWS_MAX, &cj, &ignored)) {
		json_t *p = json_loadb((const char *)cj.payload, cj.payload_len, 0, NULL);
		const char *d = jsonx_str(json_object_get(p, "issuer"), "id");
		did = d ? cf_strdup(d) : NULL;
		json_decref(p);
		jws_clear(&cj);
	}
	if (!did) {
		e = BAD("the credential is not a signed credential with an issuer");
		goto out;
	}
	issuer = did;
	e = check_signed(jsonx_str(b, "credential"), keys, nkeys, did, "the credential", &cred, &ck, err);
	if (e)
		goto out;
	const char *from = jsonx_str(cred, "validFrom"), *until = jsonx_str(cred, "validUntil");
	const char *cserial = jsonx_str(json_object_get(cred, "credentialSubject"), "serial");
	if (!cserial || strcmp(cserial, serial) != 0) {
		e = BAD("the credential is not certificate %.40s", serial);
		goto out;
	}
	if (epoch_of(from) < 0 || epoch_of(until) < 0) {
		e = BAD("the credential's validFrom or validUntil is not an RFC 3339 time");
		goto out;
	}
	if (ck->compromised_since >= 0 && epoch_of(from) >= ck->compromised_since) {
		e = BAD("the credential is signed by a key compromised since %s, on or after that",
			ck->since_text);
		goto out;
	}

	/* 4. its issuance entry in the log, under the checkpoint */
	e = check_proof(json_object_get(b, "inclusion"), size, root, "the certificate's issuance", &entry, err);
	if (e)
		goto out;
	char digest[65];
	const char *jws = jsonx_str(b, "credential");
	digest_sha256_hex(jws, strlen(jws), digest);
	if (!jsonx_str(entry, "kind") || strcmp(jsonx_str(entry, "kind"), "issuance") != 0 ||
	    !jsonx_str(entry, "serial") || strcmp(jsonx_str(entry, "serial"), serial) != 0 ||
	    !jsonx_str(entry, "issuer") || strcmp(jsonx_str(entry, "issuer"), did) != 0 ||
	    !jsonx_str(entry, "jws_sha256") || strcmp(jsonx_str(entry, "jws_sha256"), digest) != 0) {
		e = BAD("the log entry is not this credential's issuance (serial, issuer and SHA-256 of the JWS)");
		goto out;
	}

	/* 5. the status lists of that moment, by the issuer */
	bool revoked = false, suspended = false;
	e = check_list(jsonx_str(lists, "revocation"), "revocation", cred, keys, nkeys, did, made_at,
		       &revoked, err);
	if (!e)
		e = check_list(jsonx_str(lists, "suspension"), "suspension", cred, keys, nkeys, did, made_at,
			       &suspended, err);
	if (e)
		goto out;
	for (size_t i = 0; i < nkeys; i++)
		if (!keys[i].used) {
			e = BAD("key %.120s signs nothing in the bundle", jsonx_str(keys[i].jwk, "kid"));
			goto out;
		}
	if (now < epoch_of(from)) {
		e = BAD("the credential is not valid before %s", from);
		goto out;
	}

	/* 6. a supersession proven in the log: the revocation bit is then its */
	const char *successor = NULL;
	if (json_object_get(b, "superseded")) {
		e = check_proof(json_object_get(b, "superseded"), size, root, "the certificate's supersession",
				&sup_entry, err);
		if (e)
			goto out;
		successor = jsonx_str(sup_entry, "superseded_by");
		if (!jsonx_str(sup_entry, "kind") || strcmp(jsonx_str(sup_entry, "kind"), "status") != 0 ||
		    !jsonx_str(sup_entry, "serial") || strcmp(jsonx_str(sup_entry, "serial"), serial) != 0 ||
		    !jsonx_str(sup_entry, "status") || strcmp(jsonx_str(sup_entry, "status"), "superseded") != 0 ||
		    !successor) {
			e = BAD("the supersession entry is not this certificate's");
			goto out;
		}
		if (!revoked) {
			e = BAD("the log says the certificate was superseded and its revocation list does not");
			goto out;
		}
	}

	/* withdrawn (or superseded, as the log proves) wins over expired,
	 * expired over suspended (docs/certificates.md) */
	const char *verdict = revoked ? (successor ? "superseded" : "withdrawn")
			      : now >= epoch_of(until) ? "expired" : suspended ? "suspended" : "valid";
	json_t *idx = json_object_get(json_object_get(b, "inclusion"), "index");
	*out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:O,s:I,s:s,s:b,s:O},s:{s:b,s:b}}",
			 "verdict", verdict, "serial", serial, "issuer", did, "kid",
			 jsonx_str(ck->jwk, "kid"), "valid_from", from, "valid_until", until, "made_at",
			 made_at, "log", "origin", origin, "index", idx, "tree_size", (json_int_t)size,
			 "vkey", vkey, "vkey_trusted", trusted, "cosignatures", cosigned, "status_list_bits", "revocation", revoked,
			 "suspension", suspended);
	if (ck->compromised_since >= 0)
		json_object_set_new(*out, "key_compromised_since", json_string(ck->since_text));
	if (successor)
		json_object_set_new(*out, "superseded_by", json_string(successor));
out:
	for (size_t i = 0; keys && i < nkeys; i++)
		json_decref(keys[i].entry);
	free(keys);
	free(issuer);
	json_decref(entry);
	json_decref(sup_entry);
	json_decref(cred);
	json_decref(b);
	json_decref(cosigned);
	free(log_name);
	free(signed_text);
	free(origin);
	return e;
}
