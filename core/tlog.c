/*
 * tlog: the transparency log (see tlog.h).
 */
#include "tlog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "codec.h"
#include "digest.h"
#include "jsonx.h"
#include "mem.h"
#include "merkle.h"
#include "note.h"

/* Appenders take this transaction lock: "tlog" in ASCII (migration 0019's
 * conform_issue_logged takes it too, by number). */
static const char TLOG_LOCK_KEY[] = "1953263463";

static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;
static struct merkle_tree *tree;

void tlog_origin(const char *public_url, char *out, size_t size)
{
	const char *h = strstr(public_url, "://");
	h = h ? h + 3 : public_url;
	size_t n = strcspn(h, "/");
	snprintf(out, size, "%.*s/log", (int)n, h);
}

cf_err tlog_leaf(const json_t *entry, char **canon, char hex[65], struct cf_error *err)
{
	*canon = jsonx_canonical(entry);
	if (!*canon)
		return cf_error_set(err, CF_EINTERNAL, NULL, "a log entry must be canonical JSON");
	unsigned char leaf[32];
	merkle_leaf_hash(*canon, strlen(*canon), leaf);
	codec_hex_encode(leaf, sizeof leaf, hex);
	return CF_OK;
}

cf_err tlog_append(struct db *db, const char *kind, const char *serial, const json_t *entry,
		   long long *index, struct cf_error *err)
{
	/* the leaf is hashed before the lock: appenders wait for each other
	 * from the lock to their commit, so the less inside, the better */
	char *canon = NULL, hex[65];
	cf_err e = tlog_leaf(entry, &canon, hex, err);
	if (e)
		return e;
	const char *lp[] = { TLOG_LOCK_KEY };
	e = db_query_hot(db, NULL, err, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lp);
	if (e) {
		free(canon);
		return e;
	}
	/* The next index is read and taken in one statement after the lock's
	 * own, so its snapshot sees every append that committed before us. */
	const char *p[] = { canon, hex, kind, serial };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"INSERT INTO tlog_entry (idx, entry, leaf_hash, kind, serial)"
		" SELECT coalesce(max(idx) + 1, 0), $1, $2, $3, $4 FROM tlog_entry RETURNING idx",
		4, p);
	free(canon);
	if (e)
		return e;
	*index = db_value_ll(res, 0, 0);
	PQclear(res);
	return CF_OK;
}

/* Brings the process's tree up to the database. Caller holds tree_lock. */
static cf_err sync_locked(struct db *db, struct cf_error *err)
{
	if (!tree)
		tree = merkle_tree_new();
	for (;;) {
		char from[24];
		snprintf(from, sizeof from, "%zu", merkle_tree_size(tree));
		const char *p[] = { from };
		PGresult *res = NULL;
		cf_err e = db_query_hot(db, &res, err,
			"SELECT idx, leaf_hash FROM tlog_entry WHERE idx >= $1 ORDER BY idx LIMIT 50000",
			1, p);
		if (e)
			return e;
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			unsigned char leaf[32];
			if ((size_t)db_value_ll(res, i, 0) != merkle_tree_size(tree) ||
			    codec_hex_decode(db_value(res, i, 1), leaf, 32, err)) {
				PQclear(res);
				return cf_error_set(err, CF_EINTERNAL, NULL,
						    "the log has a gap or a bad hash at %zu",
						    merkle_tree_size(tree));
			}
			merkle_tree_append(tree, leaf);
		}
		PQclear(res);
		if (n < 50000)
			return CF_OK;
	}
}

static json_t *b64_hash(const unsigned char h[32])
{
	char *b = codec_b64_encode(h, 32);
	json_t *j = json_string(b);
	free(b);
	return j;
}

static json_t *b64_hex(const char *hex)
{
	unsigned char h[32];
	if (codec_hex_decode(hex, h, 32, NULL))
		return json_null();
	return b64_hash(h);
}

cf_err tlog_entries(struct db *db, long long start, long long end, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (start < 0 || end <= start)
		return cf_error_set(err, CF_EINVAL, NULL, "give 0 <= start < end");
	if (end - start > 1000)
		end = start + 1000;
	char s[24], e2[24];
	snprintf(s, sizeof s, "%lld", start);
	snprintf(e2, sizeof e2, "%lld", end);
	const char *p[] = { s, e2 };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT idx, entry, leaf_hash FROM tlog_entry WHERE idx >= $1 AND idx < $2 ORDER BY idx",
		2, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, json_pack("{s:I,s:s,s:o}", "index",
						       (json_int_t)db_value_ll(res, i, 0), "entry",
						       db_value(res, i, 1), "leaf_hash",
						       b64_hex(db_value(res, i, 2))));
	PQclear(res);
	*out = json_pack("{s:o}", "entries", items);
	return CF_OK;
}

static cf_err latest(struct db *db, PGresult **res, struct cf_error *err)
{
	return db_query_hot(db, res, err,
		"SELECT size, root_hash, note, kid, " DB_TS("at")
		" FROM tlog_checkpoint ORDER BY size DESC LIMIT 1", 0, NULL);
}

/* The signed note of the checkpoint of size size (its text and the log's
 * signature line) followed by the witnesses' cosignature lines stored for it
 * (migration 0021): a signed note may carry several signatures, and a
 * verifier ignores the lines of keys it does not know. *out is new. */
static cf_err with_cosignatures(struct db *db, long long size, const char *note, char **out,
				struct cf_error *err)
{
	*out = NULL;
	char sz[24];
	snprintf(sz, sizeof sz, "%lld", size);
	const char *p[] = { sz };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT line FROM tlog_cosignature WHERE size = $1 ORDER BY name, witness", 1, p);
	if (e)
		return e;
	char *all = cf_strdup(note);
	for (int i = 0; i < PQntuples(res); i++) {
		char *next = cf_asprintf("%s%s\n", all, db_value(res, i, 0));
		free(all);
		all = next;
	}
	PQclear(res);
	*out = all;
	return CF_OK;
}

cf_err tlog_tree_head(struct db *db, json_t **out, struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = latest(db, &res, err);
	if (e)
		return e;
	char *note = NULL;
	if (PQntuples(res) == 0)
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "the log has no signed tree head yet");
	else
		e = with_cosignatures(db, db_value_ll(res, 0, 0), db_value(res, 0, 2), &note, err);
	if (!e)
		*out = json_pack("{s:I,s:o,s:s,s:s,s:s}", "size", (json_int_t)db_value_ll(res, 0, 0),
				 "root_hash", b64_hex(db_value(res, 0, 1)), "timestamp", db_value(res, 0, 4),
				 "checkpoint", note, "kid", db_value(res, 0, 3));
	free(note);
	PQclear(res);
	return e;
}

cf_err tlog_checkpoint_note(struct db *db, char **out, struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = latest(db, &res, err);
	if (e)
		return e;
	if (PQntuples(res) == 0)
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "the log has no signed tree head yet");
	else
		e = with_cosignatures(db, db_value_ll(res, 0, 0), db_value(res, 0, 2), out, err);
	PQclear(res);
	return e;
}

cf_err tlog_cosigned_note(struct db *db, long long size, char **out, struct cf_error *err)
{
	*out = NULL;
	char sz[24];
	snprintf(sz, sizeof sz, "%lld", size);
	const char *p[] = { sz };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err, "SELECT note FROM tlog_checkpoint WHERE size = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0)
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "the log has no checkpoint of size %lld", size);
	else
		e = with_cosignatures(db, size, db_value(res, 0, 0), out, err);
	PQclear(res);
	return e;
}

static cf_err latest_size(struct db *db, long long *size, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = latest(db, &res, err);
	if (e)
		return e;
	*size = PQntuples(res) ? db_value_ll(res, 0, 0) : 0;
	PQclear(res);
	return CF_OK;
}

static json_t *path_json(unsigned char (*proof)[32], size_t len)
{
	json_t *a = json_array();
	for (size_t i = 0; i < len; i++)
		json_array_append_new(a, b64_hash(proof[i]));
	return a;
}

cf_err tlog_inclusion(struct db *db, const char *serial, long long index, long long tree_size,
		      json_t **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = CF_OK;
	if (serial) {
		const char *p[] = { serial };
		PGresult *res = NULL;
		e = db_query_hot(db, &res, err,
			"SELECT idx FROM tlog_entry WHERE serial = $1 AND kind = 'issuance'", 1, p);
		if (e)
			return e;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return cf_error_set(err, CF_ENOTFOUND, NULL, "no certificate %.40s is in the log", serial);
		}
		index = db_value_ll(res, 0, 0);
		PQclear(res);
	}
	if (tree_size == 0) {
		e = latest_size(db, &tree_size, err);
		if (e)
			return e;
		if (tree_size == 0)
			return cf_error_set(err, CF_ENOTFOUND, NULL, "the log has no signed tree head yet");
	}
	if (index < 0 || index >= tree_size)
		return cf_error_set(err, CF_EINVAL, NULL, "index %lld is not below tree_size %lld", index,
				    tree_size);
	unsigned char (*proof)[32] = NULL;
	size_t len = 0;
	unsigned char root[32], leaf[32];
	pthread_mutex_lock(&tree_lock);
	e = sync_locked(db, err);
	if (!e && (size_t)tree_size > merkle_tree_size(tree))
		e = cf_error_set(err, CF_EINVAL, NULL, "tree_size %lld is beyond the log's %zu", tree_size,
				 merkle_tree_size(tree));
	if (!e)
		e = merkle_tree_inclusion(tree, (size_t)index, (size_t)tree_size, &proof, &len, err);
	if (!e)
		e = merkle_tree_root(tree, (size_t)tree_size, root, err);
	pthread_mutex_unlock(&tree_lock);
	if (e) {
		free(proof);
		return e;
	}
	char idx[24];
	snprintf(idx, sizeof idx, "%lld", index);
	const char *p[] = { idx };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err, "SELECT leaf_hash, entry FROM tlog_entry WHERE idx = $1", 1, p);
	if (!e && codec_hex_decode(db_value(res, 0, 0), leaf, 32, err) == CF_OK)
		*out = json_pack("{s:I,s:I,s:o,s:s,s:o,s:o}", "index", (json_int_t)index, "tree_size",
				 (json_int_t)tree_size, "leaf_hash", b64_hash(leaf), "entry",
				 db_value(res, 0, 1), "audit_path", path_json(proof, len), "root_hash",
				 b64_hash(root));
	PQclear(res);
	free(proof);
	return e;
}

cf_err tlog_consistency(struct db *db, long long first, long long second, json_t **out,
			struct cf_error *err)
{
	*out = NULL;
	if (first <= 0 || second < first)
		return cf_error_set(err, CF_EINVAL, NULL, "give 0 < first <= second");
	unsigned char (*proof)[32] = NULL;
	size_t len = 0;
	unsigned char r1[32], r2[32];
	pthread_mutex_lock(&tree_lock);
	cf_err e = sync_locked(db, err);
	if (!e && (size_t)second > merkle_tree_size(tree))
		e = cf_error_set(err, CF_EINVAL, NULL, "second %lld is beyond the log's size %zu", second,
				 merkle_tree_size(tree));
	if (!e)
		e = merkle_tree_consistency(tree, (size_t)first, (size_t)second, &proof, &len, err);
	if (!e)
		e = merkle_tree_root(tree, (size_t)first, r1, err);
	if (!e)
		e = merkle_tree_root(tree, (size_t)second, r2, err);
	pthread_mutex_unlock(&tree_lock);
	if (!e)
		*out = json_pack("{s:I,s:I,s:o,s:o,s:o}", "first", (json_int_t)first, "second",
				 (json_int_t)second, "first_root", b64_hash(r1), "second_root", b64_hash(r2),
				 "consistency_path", path_json(proof, len));
	free(proof);
	return e;
}

cf_err tlog_sign_checkpoint(struct db *db, const struct keys_private *k, const char *kid,
			    const char *origin, bool *made, struct cf_error *err)
{
	*made = false;
	long long last = 0;
	cf_err e = latest_size(db, &last, err);
	if (e)
		return e;
	unsigned char root[32];
	size_t size = 0;
	pthread_mutex_lock(&tree_lock);
	e = sync_locked(db, err);
	size = tree ? merkle_tree_size(tree) : 0;
	if (!e && size > (size_t)last)
		e = merkle_tree_root(tree, size, root, err);
	pthread_mutex_unlock(&tree_lock);
	if (e || size <= (size_t)last)
		return e;
	char *text = note_checkpoint_text(origin, size, root);
	char *note = NULL;
	e = note_sign(k, origin, text, &note, err);
	free(text);
	if (e)
		return e;
	char sz[24], hex[65];
	snprintf(sz, sizeof sz, "%zu", size);
	codec_hex_encode(root, 32, hex);
	const char *p[] = { sz, hex, note, kid };
	PGresult *res = NULL;
	/* another process may have signed the same size first: one is enough */
	e = db_query_hot(db, &res, err,
		"INSERT INTO tlog_checkpoint (size, root_hash, note, kid) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (size) DO NOTHING RETURNING size", 4, p);
	if (!e)
		*made = PQntuples(res) == 1;
	PQclear(res);
	free(note);
	if (!e && *made) {
		const char *np[] = { sz };
		e = db_query_hot(db, NULL, err, "SELECT pg_notify('" CHANNEL_CHECKPOINT "', $1)", 1, np);
	}
	return e;
}

static cf_err entry_bundle(struct db *db, const struct tile *t, unsigned char **out, size_t *len,
			   struct cf_error *err)
{
	char from[24], to[24];
	snprintf(from, sizeof from, "%llu", (unsigned long long)t->index * TILES_WIDTH);
	snprintf(to, sizeof to, "%llu", (unsigned long long)t->index * TILES_WIDTH + t->width);
	const char *p[] = { from, to };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT idx, entry FROM tlog_entry WHERE idx >= $1 AND idx < $2 ORDER BY idx", 2, p);
	if (e)
		return e;
	if ((unsigned)PQntuples(res) != t->width) {
		PQclear(res);
		return cf_error_set(err, CF_EINTERNAL, NULL, "the log is missing entries from %s", from);
	}
	struct buf b;
	buf_init(&b, (size_t)TILES_WIDTH * (0xffff + 2));
	for (int i = 0; !e && i < PQntuples(res); i++)
		e = tiles_bundle_add(&b, db_value(res, i, 1), strlen(db_value(res, i, 1)), err);
	PQclear(res);
	if (e) {
		buf_free(&b);
		return e;
	}
	*out = (unsigned char *)buf_steal(&b, len);
	buf_free(&b);
	return CF_OK;
}

cf_err tlog_tile(struct db *db, const struct tile *t, long long size, unsigned char **out,
		 size_t *len, struct cf_error *err)
{
	*out = NULL;
	*len = 0;
	if (size < 0 || !tiles_covered(t, (uint64_t)size)) {
		char path[TILES_PATH_MAX];
		tiles_path(t, path, sizeof path);
		return cf_error_set(err, CF_ENOTFOUND, NULL,
				    "no %s yet: the log's checkpoint (size %lld) does not cover it", path,
				    size);
	}
	if (t->level == TILES_LEVEL_ENTRIES)
		return entry_bundle(db, t, out, len, err);
	unsigned char *h = cf_malloc((size_t)t->width * 32);
	pthread_mutex_lock(&tree_lock);
	cf_err e = sync_locked(db, err);
	if (!e)
		e = tiles_hashes(tree, t, h, err);
	pthread_mutex_unlock(&tree_lock);
	if (e) {
		free(h);
		return e;
	}
	*out = h;
	*len = (size_t)t->width * 32;
	return CF_OK;
}

cf_err tlog_signed_size(struct db *db, long long *size, struct cf_error *err)
{
	return latest_size(db, size, err);
}

cf_err tlog_included(struct db *db, long long index, bool *yes, long long *size, struct cf_error *err)
{
	*yes = false;
	cf_err e = latest_size(db, size, err);
	if (!e)
		*yes = index >= 0 && index < *size;
	return e;
}

cf_err tlog_stats(struct db *db, struct tlog_stats *out, struct cf_error *err)
{
	PGresult *res = NULL;
	/* idx has no gaps: the next index is the size */
	cf_err e = db_query(db, &res, err,
		"SELECT (SELECT coalesce(max(idx) + 1, 0) FROM tlog_entry),"
		" coalesce(c.size, 0), coalesce(extract(epoch FROM now() - c.at)::float8, -1)"
		" FROM (SELECT 1) one LEFT JOIN LATERAL"
		" (SELECT size, at FROM tlog_checkpoint ORDER BY size DESC LIMIT 1) c ON true", 0, NULL);
	if (e)
		return e;
	out->entries = db_value_ll(res, 0, 0);
	out->checkpoint_size = db_value_ll(res, 0, 1);
	out->checkpoint_age = strtod(db_value(res, 0, 2), NULL);
	PQclear(res);
	return CF_OK;
}

static cf_err verify_checkpoints(struct db *db, struct merkle_tree *t, struct tlog_check *out,
				 struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT c.size, c.root_hash, c.note, c.kid, k.public_key FROM tlog_checkpoint c"
		" JOIN signing_key k ON k.kid = c.kid ORDER BY c.size", 0, NULL);
	if (e)
		return e;
	for (int i = 0; i < PQntuples(res) && !out->problem[0]; i++) {
		long long size = db_value_ll(res, i, 0);
		unsigned char root[32], stored[32], pub[32];
		char *origin = NULL, *text = NULL;
		unsigned long long nsize = 0;
		unsigned char nroot[32];
		unsigned char *raw = NULL;
		size_t rawlen = 0;
		struct cf_error ignored;
		if ((size_t)size > merkle_tree_size(t)) {
			snprintf(out->problem, sizeof out->problem,
				 "checkpoint of size %lld is beyond the log's %zu entries", size,
				 merkle_tree_size(t));
		} else if (merkle_tree_root(t, (size_t)size, root, &ignored) ||
			   codec_hex_decode(db_value(res, i, 1), stored, 32, &ignored) ||
			   memcmp(root, stored, 32) != 0) {
			snprintf(out->problem, sizeof out->problem,
				 "checkpoint of size %lld: its root is not the root of the log's first "
				 "%lld entries", size, size);
		} else if (codec_b64url_decode(db_value(res, i, 4), strlen(db_value(res, i, 4)), &raw,
					       &rawlen, &ignored) || rawlen != 32) {
			snprintf(out->problem, sizeof out->problem, "checkpoint of size %lld: bad key", size);
		} else {
			/* the note's first line names the origin, which is the key's name */
			const char *note = db_value(res, i, 2);
			size_t olen = strcspn(note, "\n");
			char *name = cf_strndup(note, olen);
			memcpy(pub, raw, 32);
			char *vkey = note_vkey(name, pub);
			if (note_verify(note, vkey, &text, &ignored))
				snprintf(out->problem, sizeof out->problem,
					 "checkpoint of size %lld: the signature does not verify (%.160s)", size,
					 ignored.detail);
			else if (note_parse_checkpoint(text, &origin, &nsize, nroot, &ignored) ||
				 nsize != (unsigned long long)size || memcmp(nroot, stored, 32) != 0)
				snprintf(out->problem, sizeof out->problem,
					 "checkpoint of size %lld: its note does not state that size and root",
					 size);
			free(vkey);
			free(name);
		}
		free(raw);
		free(origin);
		free(text);
		out->checkpoints++;
	}
	PQclear(res);
	return CF_OK;
}

cf_err tlog_verify(struct db *db, struct tlog_check *out, struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	struct merkle_tree *t = merkle_tree_new();
	cf_err e = CF_OK;
	for (long long next = 0; !e && !out->problem[0];) {
		char from[24];
		snprintf(from, sizeof from, "%lld", next);
		const char *p[] = { from };
		PGresult *res = NULL;
		e = db_query(db, &res, err,
			     "SELECT idx, entry, leaf_hash FROM tlog_entry WHERE idx >= $1 ORDER BY idx"
			     " LIMIT 10000", 1, p);
		if (e)
			break;
		int n = PQntuples(res);
		for (int i = 0; i < n && !out->problem[0]; i++) {
			long long idx = db_value_ll(res, i, 0);
			const char *entry = db_value(res, i, 1);
			unsigned char leaf[32], stored[32];
			merkle_leaf_hash(entry, strlen(entry), leaf);
			if (idx != next)
				snprintf(out->problem, sizeof out->problem, "entry %lld is missing", next);
			else if (codec_hex_decode(db_value(res, i, 2), stored, 32, NULL) ||
				 memcmp(leaf, stored, 32) != 0)
				snprintf(out->problem, sizeof out->problem,
					 "entry %lld: its leaf hash is not SHA-256(0x00 || entry)", idx);
			else {
				merkle_tree_append(t, leaf);
				next++;
				out->entries++;
			}
		}
		PQclear(res);
		if (n < 10000)
			break;
	}
	if (!e && !out->problem[0])
		e = verify_checkpoints(db, t, out, err);
	merkle_tree_free(t);
	return e;
}
