/*
 * witness: witnesses and cosignatures (see witness.h).
 */
#include "witness.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "digest.h"
#include "keys.h"
#include "mem.h"

/* The signature type of an Ed25519 cosignature/v1 key (tlog-cosignature). */
#define COSIG_V1_TYPE 0x04

static const char EM_DASH[] = "\xe2\x80\x94 ";

static void key_id(const char *name, const unsigned char pub[32], unsigned char out[4])
{
	size_t n = strlen(name);
	unsigned char *m = cf_malloc(n + 2 + 32), h[DIGEST_SHA256_LEN];
	memcpy(m, name, n);
	m[n] = '\n';
	m[n + 1] = COSIG_V1_TYPE;
	memcpy(m + n + 2, pub, 32);
	digest_sha256(m, n + 2 + 32, h);
	memcpy(out, h, 4);
	free(m);
}

cf_err witness_parse_vkey(const char *vkey, char **name, unsigned char pub[32],
			  unsigned char id[4], struct cf_error *err)
{
	*name = NULL;
	const char *p1 = strchr(vkey, '+');
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	/* the base64 of the key may hold '+' itself: the name and id end at the
	 * first two */
	if (!p1 || !p2 || p1 == vkey || p2 - p1 != 9)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "a witness key must read <name>+<8 hex digits>+<base64 key>");
	for (const char *c = vkey; c < p1; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '"' || *c == '\\')
			return cf_error_set(err, CF_EINVAL, NULL, "a witness key name has no space, "
					    "control character, quote or backslash");
	unsigned char given[4], *raw = NULL;
	size_t rawlen = 0;
	char hex[9];
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	if (codec_hex_decode(hex, given, 4, NULL))
		return cf_error_set(err, CF_EINVAL, NULL, "a witness key's id must be 8 hex digits");
	if (codec_b64_decode(p2 + 1, strlen(p2 + 1), &raw, &rawlen, NULL) || rawlen != 33 ||
	    raw[0] != COSIG_V1_TYPE) {
		free(raw);
		return cf_error_set(err, CF_EINVAL, NULL,
				    "a witness key must be base64 of 0x04 (Ed25519 cosignature/v1) and "
				    "a 32-byte public key");
	}
	char *n = cf_strndup(vkey, (size_t)(p1 - vkey));
	unsigned char want[4];
	key_id(n, raw + 1, want);
	if (memcmp(want, given, 4) != 0) {
		free(raw);
		free(n);
		return cf_error_set(err, CF_EINVAL, NULL,
				    "a witness key's id does not match its name and key");
	}
	memcpy(pub, raw + 1, 32);
	memcpy(id, want, 4);
	free(raw);
	*name = n;
	return CF_OK;
}

void witness_set_free(struct witness_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->w[i].vkey);
		free(s->w[i].name);
		free(s->w[i].url);
	}
	free(s);
}

/* One line "<vkey> <URL>" into w. */
static cf_err parse_line(char *line, struct witness *w, struct cf_error *err)
{
	char *sp = strpbrk(line, " \t");
	if (!sp)
		return cf_error_set(err, CF_EINVAL, NULL, "a line must read <vkey> <URL>");
	*sp = '\0';
	char *url = sp + 1;
	url += strspn(url, " \t");
	size_t ul = strcspn(url, " \t");
	if (url[ul + strspn(url + ul, " \t")] != '\0')
		return cf_error_set(err, CF_EINVAL, NULL, "a line must read <vkey> <URL>, nothing more");
	url[ul] = '\0';
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cf_error_set(err, CF_EINVAL, NULL, "the URL %.200s is not http:// or https://", url);
	while (ul > 0 && url[ul - 1] == '/')
		url[--ul] = '\0';
	cf_err e = witness_parse_vkey(line, &w->name, w->pub, w->key_id, err);
	if (e)
		return e;
	w->vkey = cf_strdup(line);
	w->url = cf_strdup(url);
	return CF_OK;
}

cf_err witness_load(const char *path, long quorum, struct witness_set **out, struct cf_error *err)
{
	*out = NULL;
	struct witness_set *s = cf_calloc(1, sizeof *s);
	cf_err e = CF_OK;
	FILE *f = NULL;
	if (quorum < 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "witness-quorum must be 0 (all) or more");
		goto out;
	}
	if (path && path[0]) {
		f = fopen(path, "r");
		if (!f) {
			e = cf_error_set(err, CF_EINVAL, NULL, "witnesses-file %.300s: %s", path,
					 strerror(errno));
			goto out;
		}
		char line[4096];
		int lineno = 0;
		while (fgets(line, sizeof line, f)) {
			lineno++;
			size_t len = strlen(line);
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
				       line[len - 1] == ' ' || line[len - 1] == '\t'))
				line[--len] = '\0';
			char *l = line + strspn(line, " \t");
			if (!*l || *l == '#')
				continue;
			if (s->n == WITNESS_MAX) {
				e = cf_error_set(err, CF_EINVAL, NULL, "witnesses-file %.300s:%d: more than "
						 "%d witnesses", path, lineno, WITNESS_MAX);
				goto out;
			}
			e = parse_line(l, &s->w[s->n], err);
			if (e) {
				cf_error_prefix(err, "witnesses-file %.300s:%d", path, lineno);
				goto out;
			}
			for (size_t i = 0; i < s->n; i++)
				if (strcmp(s->w[i].name, s->w[s->n].name) == 0 ||
				    memcmp(s->w[i].pub, s->w[s->n].pub, 32) == 0) {
					e = cf_error_set(err, CF_EINVAL, NULL, "witnesses-file %.300s:%d: "
							 "witness %.100s is listed twice (a name or a key "
							 "once only)", path, lineno, s->w[s->n].name);
					s->n++;
					goto out;
				}
			s->n++;
		}
		if (ferror(f)) {
			e = cf_error_set(err, CF_EINVAL, NULL, "witnesses-file %.300s: cannot be read",
					 path);
			goto out;
		}
	}
	if ((size_t)quorum > s->n) {
		e = cf_error_set(err, CF_EINVAL, NULL, "witness-quorum %ld is more than the %zu "
				 "witnesses of witnesses-file", quorum, s->n);
		goto out;
	}
	s->quorum = quorum ? (size_t)quorum : s->n;
out:
	if (f)
		fclose(f);
	if (e)
		witness_set_free(s);
	else
		*out = s;
	return e;
}

char *witness_note_text(const char *note)
{
	const char *blank = strstr(note, "\n\n");
	if (!blank)
		return NULL;
	return cf_strndup(note, (size_t)(blank - note) + 1);
}

char *witness_cosigned_message(const char *text, unsigned long long timestamp)
{
	return cf_asprintf("cosignature/v1\ntime %llu\n%s", timestamp, text);
}

char *witness_request_body(long long old, const json_t *proof, const char *note)
{
	size_t n = proof ? json_array_size(proof) : 0;
	char *body = cf_asprintf("old %lld\n", old);
	for (size_t i = 0; i < n; i++) {
		char *next = cf_asprintf("%s%s\n", body, json_string_value(json_array_get(proof, i)));
		free(body);
		body = next;
	}
	char *all = cf_asprintf("%s\n%s", body, note);
	free(body);
	return all;
}

cf_err witness_check_answer(const struct witness *w, const char *text, const char *body,
			    char **line, unsigned long long *timestamp, struct cf_error *err)
{
	*line = NULL;
	size_t nl = strlen(w->name);
	const char *p = body;
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *next = p[len] ? p + len + 1 : p + len;
		size_t dl = sizeof EM_DASH - 1;
		/* "— <name> <base64>": other keys' lines are not ours to judge */
		if (len > dl + nl + 1 && memcmp(p, EM_DASH, dl) == 0 &&
		    memcmp(p + dl, w->name, nl) == 0 && p[dl + nl] == ' ') {
			const char *b = p + dl + nl + 1;
			unsigned char *raw = NULL;
			size_t rawlen = 0;
			if (codec_b64_decode(b, (size_t)(p + len - b), &raw, &rawlen, NULL) == CF_OK &&
			    rawlen == 4 + 8 + 64 && memcmp(raw, w->key_id, 4) == 0) {
				unsigned long long ts = 0;
				for (int i = 0; i < 8; i++)
					ts = ts << 8 | raw[4 + i];
				char *msg = witness_cosigned_message(text, ts);
				bool ok = ts > 0 && ts <= INT64_MAX &&
					  keys_verify(w->pub, msg, strlen(msg), raw + 12);
				free(msg);
				free(raw);
				if (!ok)
					return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
							    "witness %.100s: its cosignature does not verify",
							    w->name);
				*line = cf_strndup(p, len);
				*timestamp = ts;
				return CF_OK;
			}
			free(raw);
		}
		p = next;
	}
	return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
			    "witness %.100s: its answer holds no cosignature by its key", w->name);
}

cf_err witness_store(struct db *db, long long size, const struct witness *w,
		     unsigned long long timestamp, const char *line, struct cf_error *err)
{
	char sz[24], ts[24];
	snprintf(sz, sizeof sz, "%lld", size);
	snprintf(ts, sizeof ts, "%llu", timestamp);
	const char *p[] = { sz, w->vkey, w->name, ts, line };
	return db_query(db, NULL, err,
		"INSERT INTO tlog_cosignature (size, witness, name, cosigned_at, line)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size, witness) DO NOTHING", 5, p);
}

cf_err witness_cosigned_size(struct db *db, const struct witness *w, long long *size,
			     struct cf_error *err)
{
	const char *p[] = { w->vkey };
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT coalesce(max(size), 0) FROM tlog_cosignature WHERE witness = $1", 1, p);
	if (!e)
		*size = db_value_ll(res, 0, 0);
	PQclear(res);
	return e;
}

/* The vkeys of s as a PostgreSQL text array literal (a vkey holds no quote,
 * backslash, comma or space). */
static char *vkey_array(const struct witness_set *s)
{
	char *a = cf_strdup("{");
	for (size_t i = 0; i < s->n; i++) {
		char *next = cf_asprintf("%s%s\"%s\"", a, i ? "," : "", s->w[i].vkey);
		free(a);
		a = next;
	}
	char *all = cf_asprintf("%s}", a);
	free(a);
	return all;
}

cf_err witness_status(struct db *db, const struct witness_set *s, long long size, json_t **out,
		      struct cf_error *err)
{
	*out = NULL;
	char sz[24];
	snprintf(sz, sizeof sz, "%lld", size);
	char *keys = vkey_array(s);
	const char *p[] = { sz, keys };
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT name, witness, cosigned_at FROM tlog_cosignature"
		" WHERE size = $1 AND witness = ANY($2::text[]) ORDER BY name", 2, p);
	free(keys);
	if (e)
		return e;
	json_t *list = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", db_value(res, i, 0),
						      "vkey", db_value(res, i, 1), "timestamp",
						      (json_int_t)db_value_ll(res, i, 2)));
	PQclear(res);
	*out = json_pack("{s:b,s:I,s:o}", "witnessed", s->n > 0 && (size_t)n >= s->quorum, "quorum",
			 (json_int_t)s->quorum, "cosigners", list);
	return CF_OK;
}

cf_err witness_latest_witnessed(struct db *db, const struct witness_set *s, long long *size,
				struct cf_error *err)
{
	*size = 0;
	if (s->n == 0)
		return CF_OK;
	char q[24];
	snprintf(q, sizeof q, "%zu", s->quorum);
	char *keys = vkey_array(s);
	const char *p[] = { keys, q };
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT size FROM tlog_cosignature WHERE witness = ANY($1::text[])"
		" GROUP BY size HAVING count(*) >= $2::int ORDER BY size DESC LIMIT 1", 2, p);
	free(keys);
	if (!e && PQntuples(res) == 1)
		*size = db_value_ll(res, 0, 0);
	PQclear(res);
	return e;
}

cf_err witness_latest_checkpoint(struct db *db, long long *size, char root_hex[65], char **note,
				 struct cf_error *err)
{
	*size = 0;
	*note = NULL;
	root_hex[0] = '\0';
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
		"SELECT size, root_hash, note FROM tlog_checkpoint ORDER BY size DESC LIMIT 1", 0, NULL);
	if (!e && PQntuples(res) == 1) {
		*size = db_value_ll(res, 0, 0);
		snprintf(root_hex, 65, "%s", db_value(res, 0, 1));
		*note = cf_strdup(db_value(res, 0, 2));
	}
	PQclear(res);
	return e;
}
