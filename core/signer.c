/*
 * signer: keys in the database and loaded private keys (see signer.h).
 */
#include "signer.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "channels.h"
#include "codec.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "party.h"
#include "signerlink.h"
#include "tlog.h"

/* Handles of the keys signed with, by kid: each names a key that only
 * conform-signer holds (keys_delegate), so caching them holds no secret. */
struct loaded {
	char kid[SIGNER_KID_LEN];
	struct keys_private *key;
	struct loaded *next;
};

static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded *loaded;

static json_t *key_json(const PGresult *res, int i)
{
	const char *org = db_value(res, i, 1);
	const char *retired = db_value(res, i, 6);
	const char *compromised = db_value(res, i, 7);
	return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:o}", "kid", db_value(res, i, 0), "org_id",
			 org ? json_string(org) : json_null(), "purpose", db_value(res, i, 2),
			 "public_key", db_value(res, i, 3), "private_key_ref", db_value(res, i, 4),
			 "created_at", db_value(res, i, 5), "retired_at",
			 retired ? json_string(retired) : json_null(), "compromised_since",
			 compromised ? json_string(compromised) : json_null());
}

#define KEY_COLUMNS                                                                            \
	"kid, org_id, purpose, public_key, private_key_ref, " DB_TS("created_at") ", "           \
	DB_TS("retired_at") ", " DB_TS_US("compromised_since")

struct register_job {
	const struct audit_actor *actor;
	const char *org_id, *ref;
	char kid[SIGNER_KID_LEN];
	char x[48];
	json_t **out;
};

static cf_err register_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct register_job *j = arg;
	if (j->org_id) {
		const char *op[] = { j->org_id };
		PGresult *res = NULL;
		cf_err e = db_query_hot(db, &res, err,
			"SELECT kind FROM organisation WHERE id = $1", 1, op);
		if (e)
			return e;
		bool body = PQntuples(res) == 1 && strcmp(db_value(res, 0, 0), "assessment_body") == 0;
		PQclear(res);
		if (!body)
			return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
					    "%s is not an assessment body: only bodies sign certificates",
					    j->org_id);
	}
	const char *p[] = { j->kid, j->org_id, j->org_id ? "certificate" : "log", j->x, j->ref };
	PGresult *res = NULL;
	/* A key registered before conform-signer (a PEM file) and now handed to
	 * it is the same key: its record moves, it is not made twice. */
	cf_err e = db_query_hot(db, &res, err,
		"INSERT INTO signing_key (kid, org_id, purpose, public_key, private_key_ref)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO UPDATE"
		" SET private_key_ref = EXCLUDED.private_key_ref"
		" WHERE signing_key.org_id IS NOT DISTINCT FROM EXCLUDED.org_id"
		" AND signing_key.private_key_ref <> EXCLUDED.private_key_ref"
		" RETURNING " KEY_COLUMNS, 5, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ECONFLICT, NULL,
				    "key %s is already registered (for another owner, or already in the signer)",
				    j->kid);
	}
	*j->out = key_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s,s:o}", "purpose", j->org_id ? "certificate" : "log",
				    "org_id", j->org_id ? json_string(j->org_id) : json_null());
	e = audit_append(db, j->actor, "key.register", "signing_key", j->kid, details, err);
	json_decref(details);
	return e;
}

static cf_err register_key(struct db *db, const struct audit_actor *actor, const char *org_id,
			   const unsigned char pub[32], const char *ref, json_t **out,
			   struct cf_error *err)
{
	struct register_job j = { actor, org_id, ref, "", "", out };
	keys_jwk_thumbprint(pub, j.kid);
	char *x = codec_b64url_encode(pub, 32);
	snprintf(j.x, sizeof j.x, "%s", x);
	free(x);
	return db_transaction_json(db, DB_READ_COMMITTED, register_tx, &j, j.out, err);
}

/* The signer's name of a key owner: the body's id, or "log". */
static const char *owner_name(const char *org_id)
{
	return org_id ? org_id : "log";
}

/* Asks the signer to destroy a key; a key it no longer holds is no error. */
static cf_err destroy_key(const char *signer_socket, const char *org_id, const char *kid,
			  struct cf_error *err)
{
	json_t *req = json_pack("{s:s,s:s,s:s}", "op", "destroy", "owner", owner_name(org_id), "kid",
				kid), *ok = NULL;
	cf_err e = signerlink_call(signer_socket, req, &ok, err);
	json_decref(req);
	json_decref(ok);
	return e == CF_ENOTFOUND ? CF_OK : e;
}

/* Registers the key the signer answered with (ok: {"kid", "public_key"});
 * when the database refuses it, the signer destroys it again. */
static cf_err register_made(struct db *db, const struct audit_actor *actor, const char *org_id,
			    const char *signer_socket, const json_t *ok, json_t **out,
			    struct cf_error *err)
{
	const char *kid = json_string_value(json_object_get(ok, "kid"));
	const char *x = json_string_value(json_object_get(ok, "public_key"));
	unsigned char *pub = NULL;
	size_t n = 0;
	char check[SIGNER_KID_LEN];
	if (!kid || !x || codec_b64url_decode(x, strlen(x), &pub, &n, NULL) || n != 32) {
		free(pub);
		return cf_error_set(err, CF_EINTERNAL, NULL, "the signer answered without a public key");
	}
	keys_jwk_thumbprint(pub, check);
	cf_err e = strcmp(check, kid) == 0
			   ? CF_OK
			   : cf_error_set(err, CF_EINTERNAL, NULL, "the signer's kid is not its key's");
	char *ref = cf_asprintf("conform-signer:%s/%s", owner_name(org_id), kid);
	if (!e)
		e = register_key(db, actor, org_id, pub, ref, out, err);
	if (e) {
		struct cf_error ignored;
		if (destroy_key(signer_socket, org_id, check, &ignored)) {
			/* the key stays in the signer, unregistered: it signs nothing */
		}
	}
	free(ref);
	free(pub);
	return e;
}

/* Checks that org_id, if given, is a well-formed id. */
static cf_err check_org(const char *org_id, struct cf_error *err)
{
	if (org_id && !ids_is_uuid(org_id))
		return cf_error_set(err, CF_EINVAL, NULL, "%.40s is not an organisation id", org_id);
	return CF_OK;
}

cf_err signer_generate(struct db *db, const struct audit_actor *actor, const char *org_id,
		       const char *signer_socket, json_t **out, struct cf_error *err)
{
	*out = NULL;
	json_t *req = NULL, *ok = NULL;
	cf_err e = check_org(org_id, err);
	if (e)
		return e;
	if (org_id) {
		/* refuse before the signer makes a key for nothing */
		const char *op[] = { org_id };
		PGresult *res = NULL;
		e = db_query_hot(db, &res, err, "SELECT kind FROM organisation WHERE id = $1", 1, op);
		if (e)
			return e;
		bool found = PQntuples(res) == 1, body = found &&
			strcmp(db_value(res, 0, 0), "assessment_body") == 0;
		PQclear(res);
		if (!found)
			return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no organisation %s", org_id);
		if (!body)
			return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
					    "%s is not an assessment body: only bodies sign certificates",
					    org_id);
	}
	req = json_pack("{s:s,s:s}", "op", "generate", "owner", owner_name(org_id));
	e = signerlink_call(signer_socket, req, &ok, err);
	if (!e)
		e = register_made(db, actor, org_id, signer_socket, ok, out, err);
	json_decref(req);
	json_decref(ok);
	return e;
}

cf_err signer_import(struct db *db, const struct audit_actor *actor, const char *org_id,
		     const char *signer_socket, const char *uri, const char *passphrase,
		     json_t **out, struct cf_error *err)
{
	*out = NULL;
	json_t *req = NULL, *ok = NULL;
	cf_err e = check_org(org_id, err);
	if (e)
		return e;
	char resolved[PATH_MAX];
	/* a plain path goes absolute: the signer runs in another directory */
	const char *ref = !strstr(uri, ":") && realpath(uri, resolved) ? resolved : uri;
	req = json_pack("{s:s,s:s,s:s}", "op", "import", "owner", owner_name(org_id), "uri", ref);
	if (passphrase)
		json_object_set_new(req, "passphrase", json_string(passphrase));
	e = signerlink_call(signer_socket, req, &ok, err);
	if (!e)
		e = register_made(db, actor, org_id, signer_socket, ok, out, err);
	json_t *pass = json_object_get(req, "passphrase");
	if (json_is_string(pass))
		cf_wipe((char *)(uintptr_t)json_string_value(pass), json_string_length(pass));
	json_decref(req);
	json_decref(ok);
	return e;
}

cf_err signer_list(struct db *db, const char *org_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	const char *p[] = { org_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT " KEY_COLUMNS " FROM signing_key WHERE $1::uuid IS NULL OR org_id = $1"
		" ORDER BY created_at, kid", 1, p);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, key_json(res, i));
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

struct retire_job {
	const struct audit_actor *actor;
	const char *kid;
	const char *org_id; /* when set, the key must be this organisation's */
	json_t **out;
};

static cf_err retire_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct retire_job *j = arg;
	PGresult *res = NULL;
	const char *p2[] = { j->kid, j->org_id };
	cf_err e = db_query_hot(db, &res, err,
		"UPDATE signing_key SET retired_at = coalesce(retired_at, now()) WHERE kid = $1"
		" AND ($2::uuid IS NULL OR org_id = $2) RETURNING " KEY_COLUMNS, 2, p2);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no key %s", j->kid);
	}
	*j->out = key_json(res, 0);
	PQclear(res);
	/* certificates show their key's state: caches start again */
	e = db_query_hot(db, NULL, err, "SELECT pg_notify('" CHANNEL_FLUSH "', 'key')", 0, NULL);
	if (e)
		return e;
	return audit_append(db, j->actor, "key.retire", "signing_key", j->kid, NULL, err);
}

cf_err signer_retire(struct db *db, const struct audit_actor *actor, const char *kid,
		     const char *org_id, const char *signer_socket, json_t **out,
		     struct cf_error *err)
{
	*out = NULL;
	struct retire_job j = { actor, kid, org_id, out };
	cf_err e = check_org(org_id, err);
	if (!e)
		e = db_transaction_json(db, DB_READ_COMMITTED, retire_tx, &j, out, err);
	if (e)
		return e;
	/* Retired in the database first: from now on nothing asks for it. Then
	 * the private half goes; a signer that cannot be reached keeps a key
	 * that nothing uses, and the answer says so. */
	const char *owner = jsonx_str(*out, "org_id");
	struct cf_error derr;
	bool destroyed = destroy_key(signer_socket, owner, kid, &derr) == CF_OK;
	json_object_set_new(*out, "private_key_destroyed", json_boolean(destroyed));
	return CF_OK;
}

struct compromise_job {
	const struct audit_actor *actor;
	const char *public_url, *kid, *since;
	const char *org_id; /* when set, the key must be this organisation's */
	const char *reason; /* may be NULL */
	json_t **out;
};

static cf_err compromise_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct compromise_job *j = arg;
	const char *p[] = { j->kid, j->since, j->org_id };
	PGresult *res = NULL;
	json_t *entry = NULL, *details = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT coalesce(org_id::text, ''), " DB_TS_US("compromised_since") ","
		" $2::timestamptz > now(), " DB_TS_US("$2::timestamptz") ", " DB_TS_US("now()") ","
		" (SELECT count(*) FROM certificate c WHERE c.kid = k.kid AND c.issued_at >= $2::timestamptz)"
		" FROM signing_key k WHERE kid = $1 AND ($3::uuid IS NULL OR org_id = $3) FOR UPDATE",
		3, p);
	if (e)
		goto out;
	if (PQntuples(res) == 0) {
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "there is no key %.60s", j->kid);
		goto out;
	}
	char org[37], since[40], at[40];
	snprintf(org, sizeof org, "%s", db_value(res, 0, 0));
	snprintf(since, sizeof since, "%s", db_value(res, 0, 3));
	snprintf(at, sizeof at, "%s", db_value(res, 0, 4));
	long long affected = db_value_ll(res, 0, 5);
	if (!org[0]) {
		e = cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				 "%s is the transparency log's key: only a body's certificate key is revoked as "
				 "compromised (a log key is replaced with a new log origin)", j->kid);
		goto out;
	}
	if (db_value(res, 0, 1)) {
		e = cf_error_set(err, CF_ESTATE, NULL, "key %s is already revoked as compromised since %s",
				 j->kid, db_value(res, 0, 1));
		goto out;
	}
	if (db_value_bool(res, 0, 2)) {
		e = cf_error_set(err, CF_EINVAL, "/since",
				 "since %s is in the future: a compromise is declared from a time past", j->since);
		goto out;
	}
	PQclear(res);
	res = NULL;
	e = db_query_hot(db, &res, err,
		"UPDATE signing_key SET compromised_since = $2::timestamptz, compromised_at = now(),"
		" retired_at = coalesce(retired_at, now()) WHERE kid = $1 RETURNING " KEY_COLUMNS, 2, p);
	if (e)
		goto out;
	*j->out = key_json(res, 0);
	/* the revocation is a fact of the log, as issuance is */
	char did[SIGNER_DID_LEN], fullkid[SIGNER_DID_LEN + SIGNER_KID_LEN];
	signer_did(j->public_url, org, did);
	snprintf(fullkid, sizeof fullkid, "%s#%s", did, j->kid);
	entry = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "key-compromised", "kid", fullkid, "issuer",
			  did, "compromised_since", since, "at", at);
	long long index = 0;
	e = tlog_append(db, "key", j->kid, entry, &index, err);
	if (e)
		goto out;
	json_object_set_new(*j->out, "log_index", json_integer(index));
	json_object_set_new(*j->out, "certificates_signed_since", json_integer(affected));
	/* every answer about a certificate of this key changes: caches start again */
	e = db_query_hot(db, NULL, err, "SELECT pg_notify('" CHANNEL_FLUSH "', 'key')", 0, NULL);
	if (e)
		goto out;
	details = json_pack("{s:s,s:I,s:I}", "compromised_since", since, "log_index", (json_int_t)index,
			    "certificates_signed_since", (json_int_t)affected);
	if (j->reason)
		json_object_set_new(details, "reason", json_string(j->reason));
	e = audit_append(db, j->actor, "key.compromise", "signing_key", j->kid, details, err);
out:
	PQclear(res);
	json_decref(entry);
	json_decref(details);
	return e;
}

cf_err signer_compromise(struct db *db, const struct audit_actor *actor, const char *public_url,
			 const char *signer_socket, const char *kid, const char *org_id,
			 const char *since, const char *reason, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!since || !jsonx_is_time(since) || !strchr(since, 'T'))
		return cf_error_set(err, CF_EINVAL, "/since",
				    "since must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not '%.40s'",
				    since ? since : "");
	if (reason && (!reason[0] || strlen(reason) > SIGNER_REASON_MAX))
		return cf_error_set(err, CF_EINVAL, "/reason", "reason must be 1 to %d bytes",
				    SIGNER_REASON_MAX);
	cf_err e = check_org(org_id, err);
	if (e)
		return e;
	struct compromise_job j = { actor, public_url, kid, since, org_id, reason, out };
	e = db_transaction_json(db, DB_READ_COMMITTED, compromise_tx, &j, out, err);
	if (e)
		return e;
	/* a compromised key signs nothing more: its private half goes too */
	struct cf_error derr;
	bool destroyed = destroy_key(signer_socket, jsonx_str(*out, "org_id"), kid, &derr) == CF_OK;
	json_object_set_new(*out, "private_key_destroyed", json_boolean(destroyed));
	return CF_OK;
}

cf_err signer_current(struct db *db, const char *org_id, char kid[SIGNER_KID_LEN],
		      unsigned char pub[32], struct cf_error *err)
{
	const char *p[] = { org_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT kid, public_key FROM signing_key WHERE retired_at IS NULL AND"
		" CASE WHEN $1::uuid IS NULL THEN purpose = 'log' ELSE org_id = $1 END"
		" ORDER BY created_at DESC, kid LIMIT 1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    org_id ? "the body has no signing key (conformctl key generate --org %s)"
					   : "the service has no log key (conformctl key generate --log)%s",
				    org_id ? org_id : "");
	}
	snprintf(kid, SIGNER_KID_LEN, "%s", db_value(res, 0, 0));
	unsigned char *raw = NULL;
	size_t n = 0;
	e = codec_b64url_decode(db_value(res, 0, 1), strlen(db_value(res, 0, 1)), &raw, &n, err);
	PQclear(res);
	if (e)
		return e;
	if (n == 32)
		memcpy(pub, raw, 32);
	free(raw);
	return n == 32 ? CF_OK : cf_error_set(err, CF_EINTERNAL, NULL, "a stored key is not 32 bytes");
}

cf_err signer_key_owner(struct db *db, const char *kid, char org[37], struct cf_error *err)
{
	const char *p[] = { kid };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT coalesce(org_id::text, '') FROM signing_key WHERE kid = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no key %.60s", kid);
	}
	snprintf(org, 37, "%s", db_value(res, 0, 0));
	PQclear(res);
	return CF_OK;
}

cf_err signer_public(struct db *db, const char *kid, unsigned char pub[32], char org_id[37],
		     bool *retired, struct cf_error *err)
{
	const char *p[] = { kid };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT public_key, coalesce(org_id::text, ''), retired_at IS NOT NULL FROM signing_key"
		" WHERE kid = $1", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "no key %.60s is published here", kid);
	}
	unsigned char *raw = NULL;
	size_t n = 0;
	e = codec_b64url_decode(db_value(res, 0, 0), strlen(db_value(res, 0, 0)), &raw, &n, err);
	if (!e && n == 32)
		memcpy(pub, raw, 32);
	snprintf(org_id, 37, "%s", db_value(res, 0, 1));
	*retired = db_value_bool(res, 0, 2);
	free(raw);
	PQclear(res);
	return e;
}

/* A delegated key's way to the signer. */
struct remote {
	char *socket;
	char owner[40];
	char kid[SIGNER_KID_LEN];
};

static void remote_free(void *ctx)
{
	struct remote *r = ctx;
	if (r)
		free(r->socket);
	free(r);
}

static cf_err remote_sign(void *ctx, const void *msg, size_t n, unsigned char sig[64],
			  struct cf_error *err)
{
	struct remote *r = ctx;
	char *data = codec_b64url_encode(n ? msg : "", n);
	json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "op", "sign", "owner", r->owner, "kid", r->kid,
				"data", data), *ok = NULL;
	free(data);
	/* a signature may be asked again: the thread's kept connection serves */
	cf_err e = signerlink_call_kept(r->socket, req, &ok, err);
	json_decref(req);
	if (e == CF_ENOTFOUND)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "conform-signer does not hold key %s: hand it over (conformctl key import) "
				    "or make a new one", r->kid);
	if (e)
		return e;
	const char *s = jsonx_str(ok, "signature");
	unsigned char *raw = NULL;
	size_t len = 0;
	if (!s || codec_b64url_decode(s, strlen(s), &raw, &len, NULL) || len != 64)
		e = cf_error_set(err, CF_ECRYPTO, NULL, "the signer answered without a signature");
	else
		memcpy(sig, raw, 64);
	free(raw);
	json_decref(ok);
	return e;
}

cf_err signer_private(struct db *db, const char *kid, const char *signer_socket,
		      const struct keys_private **out, struct cf_error *err)
{
	*out = NULL;
	pthread_mutex_lock(&loaded_lock);
	for (struct loaded *l = loaded; l; l = l->next)
		if (strcmp(l->kid, kid) == 0)
			*out = l->key;
	pthread_mutex_unlock(&loaded_lock);
	if (*out)
		return CF_OK;

	unsigned char pub[32];
	char org[37];
	bool retired;
	cf_err e = signer_public(db, kid, pub, org, &retired, err);
	if (e)
		return e;
	struct remote *r = cf_calloc(1, sizeof *r);
	r->socket = cf_strdup(signer_socket);
	snprintf(r->owner, sizeof r->owner, "%s", org[0] ? org : "log");
	snprintf(r->kid, sizeof r->kid, "%s", kid);
	struct keys_private *k = keys_delegate(pub, remote_sign, r, remote_free);
	pthread_mutex_lock(&loaded_lock);
	struct loaded *l = cf_calloc(1, sizeof *l);
	snprintf(l->kid, sizeof l->kid, "%s", kid);
	l->key = k;
	l->next = loaded;
	loaded = l;
	pthread_mutex_unlock(&loaded_lock);
	*out = k;
	return CF_OK;
}

void signer_forget_all(void)
{
	pthread_mutex_lock(&loaded_lock);
	struct loaded *l = loaded;
	loaded = NULL;
	pthread_mutex_unlock(&loaded_lock);
	while (l) {
		struct loaded *next = l->next;
		keys_free(l->key);
		free(l);
		l = next;
	}
}

void signer_did(const char *public_url, const char *body_id, char out[SIGNER_DID_LEN])
{
	struct buf b;
	buf_init(&b, SIGNER_DID_LEN - 1);
	const char *h = strstr(public_url, "://");
	h = h ? h + 3 : public_url;
	cf_err e = buf_puts(&b, "did:web:", NULL);
	for (; *h && *h != '/' && !e; h++) {
		char c = (char)tolower((unsigned char)*h);
		e = c == ':' ? buf_puts(&b, "%3A", NULL) : buf_append(&b, &c, 1, NULL);
	}
	for (; *h && !e; h++) /* the path: each '/' starts a segment, empty ones dropped */
		if (*h != '/')
			e = buf_append(&b, h, 1, NULL);
		else if (h[1] && h[1] != '/')
			e = buf_puts(&b, ":", NULL);
	if (!e)
		e = buf_printf(&b, NULL, ":bodies:%s", body_id);
	/* config keeps public URLs short enough that this never fails */
	char *did = buf_steal(&b, NULL);
	snprintf(out, SIGNER_DID_LEN, "%s", e || !did ? "" : did);
	free(did);
}

static json_t *jwk_of(const char *x, const char *kid)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	if (codec_b64url_decode(x, strlen(x), &raw, &n, NULL) || n != 32) {
		free(raw);
		return NULL;
	}
	json_t *j = keys_public_jwk(raw, kid);
	free(raw);
	return j;
}

cf_err signer_jwks(struct db *db, const char *public_url, json_t **out, struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT kid, public_key, coalesce(org_id::text, ''), retired_at IS NOT NULL, "
		DB_TS_US("compromised_since") " FROM signing_key ORDER BY created_at, kid", 0, NULL);
	if (e)
		return e;
	json_t *keys = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *org = db_value(res, i, 2);
		char kid[SIGNER_DID_LEN + SIGNER_KID_LEN];
		if (org[0]) {
			char did[SIGNER_DID_LEN];
			signer_did(public_url, org, did);
			snprintf(kid, sizeof kid, "%s#%s", did, db_value(res, i, 0));
		} else {
			snprintf(kid, sizeof kid, "%s", db_value(res, i, 0));
		}
		json_t *jwk = jwk_of(db_value(res, i, 1), kid);
		if (jwk && db_value(res, i, 4)) {
			/* no longer a key to verify with ("use": "sig"), but listed so
			 * that what it signed before the compromise stays checkable */
			json_object_del(jwk, "use");
			json_object_set_new(jwk, "compromised_since", json_string(db_value(res, i, 4)));
		}
		if (jwk)
			json_array_append_new(keys, jwk);
	}
	PQclear(res);
	*out = json_pack("{s:o}", "keys", keys);
	return CF_OK;
}

cf_err signer_did_document(struct db *db, const char *public_url, const char *body_id, json_t **out,
			   struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(body_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no body %.40s", body_id);
	const char *p[] = { body_id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT o.name, k.kid, k.public_key, " DB_TS_US("k.compromised_since") " FROM organisation o"
		" LEFT JOIN signing_key k"
		" ON k.org_id = o.id WHERE o.id = $1 AND o.kind = 'assessment_body'"
		" ORDER BY k.created_at, k.kid", 1, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no assessment body %s", body_id);
	}
	char did[SIGNER_DID_LEN];
	signer_did(public_url, body_id, did);
	json_t *methods = json_array(), *refs = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		if (!db_value(res, i, 1))
			continue;
		char id[SIGNER_DID_LEN + SIGNER_KID_LEN];
		snprintf(id, sizeof id, "%s#%s", did, db_value(res, i, 1));
		json_t *jwk = jwk_of(db_value(res, i, 2), NULL);
		if (!jwk)
			continue;
		json_object_del(jwk, "use");
		json_t *method = json_pack("{s:s,s:s,s:s,s:o}", "id", id, "type", "JsonWebKey",
					   "controller", did, "publicKeyJwk", jwk);
		/* a compromised key is no assertion method any more; it stays a
		 * verification method, marked revoked (security vocabulary) */
		if (db_value(res, i, 3))
			json_object_set_new(method, "revoked", json_string(db_value(res, i, 3)));
		else
			json_array_append_new(refs, json_string(id));
		json_array_append_new(methods, method);
	}
	*out = json_pack("{s:[s,s],s:s,s:o,s:O,s:O}", "@context", "https://www.w3.org/ns/did/v1",
			 "https://w3id.org/security/jwk/v1", "id", did, "verificationMethod", methods,
			 "assertionMethod", refs, "authentication", refs);
	json_decref(refs);
	PQclear(res);
	return CF_OK;
}
