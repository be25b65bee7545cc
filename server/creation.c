/*
 * creation: creations with an Idempotency-Key (see creation.h).
 */
#include "creation.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "digest.h"
#include "http.h"
#include "idempotency.h"

#define HEADER "Idempotency-Key"

/*
 * The key: a Structured Fields string ("...") or, as many clients send it,
 * bare; 1 to 255 printable ASCII characters. *present is false without one.
 */
static cf_err key_of(const struct request *rq, char key[256], bool *present, struct cf_error *err)
{
	const char *v = request_header(rq, HEADER);
	*present = v != NULL;
	if (!v)
		return CF_OK;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n == 0 || n > 255)
		return cf_error_set(err, CF_EINVAL, NULL, HEADER " is 1 to 255 characters");
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return cf_error_set(err, CF_EINVAL, NULL,
					    HEADER " is printable ASCII without quotes or backslashes");
	memcpy(key, v, n);
	key[n] = '\0';
	return CF_OK;
}

/* SHA-256 over method, path and what: what a repeat must match. */
static void fingerprint(const struct request *rq, const void *what, size_t len,
			char out[DIGEST_SHA256_HEX_LEN])
{
	struct buf b;
	buf_init(&b, (size_t)-1);
	if (buf_printf(&b, NULL, "%s\n%s\n", rq->method, rq->path) ||
	    (len && buf_append(&b, what, len, NULL)))
		abort(); /* out of memory */
	digest_sha256_hex(b.data, b.len, out);
	buf_free(&b);
}

/* The headers the step added, from index first on. */
static json_t *headers_since(const struct request *rq, int first)
{
	json_t *h = json_object();
	for (int i = first; i < rq->nheaders; i++)
		json_object_set_new(h, rq->header_names[i], json_string(rq->header_values[i]));
	return h;
}

static cf_err run_keyed(struct request *rq, struct db *db, const char *key, const char *fp,
			creation_step step, void *arg, json_t **out, struct cf_error *err)
{
	const char *user = rq->principal.user_id;
	json_t *headers = NULL;
	cf_err e = idempotency_recall(db, user, key, fp, &headers, out, err);
	if (!e && *out) { /* a repeat: the first answer, as it was */
		const char *name;
		json_t *value;
		json_object_foreach(headers, name, value)
			reply_header(rq, name, json_string_value(value));
		reply_header(rq, "Idempotent-Replayed", "true");
	} else if (!e) {
		int first = rq->nheaders;
		e = step(rq, db, arg, out, err); /* its transactions join this one */
		if (!e) {
			headers = headers_since(rq, first);
			e = idempotency_record(db, user, key, fp, headers, *out, err);
		}
	}
	json_decref(headers);
	return e;
}

cf_err creation_run(struct request *rq, struct db *db, const void *what, size_t what_len,
		    creation_step step, void *arg, json_t **out, struct cf_error *err)
{
	*out = NULL;
	char key[256];
	bool present = false;
	cf_err e = key_of(rq, key, &present, err);
	if (e)
		return e;
	if (!present)
		return step(rq, db, arg, out, err);
	char fp[DIGEST_SHA256_HEX_LEN];
	fingerprint(rq, what, what_len, fp);
	e = db_begin(db, DB_READ_COMMITTED, err);
	if (!e)
		e = run_keyed(rq, db, key, fp, step, arg, out, err);
	if (!e)
		e = db_commit(db, err);
	if (e) {
		db_rollback(db);
		json_decref(*out);
		*out = NULL;
	}
	return e;
}

cf_err creation_refuse_key(const struct request *rq, const char *why, struct cf_error *err)
{
	if (!request_header(rq, HEADER))
		return CF_OK;
	return cf_error_set(err, CF_EINVAL, NULL, HEADER " is not accepted here: %s", why);
}
