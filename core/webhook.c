/*
 * webhook: subscriptions, the outbox's claims and outcomes, SSRF checks and
 * Standard Webhooks signatures (see webhook.h).
 */
#include "webhook.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "rnd.h"

/* One IPv4 range: network, prefix length, what it is. */
struct range4 {
	uint32_t net;
	int bits;
	const char *what;
};

static const struct range4 refused4[] = {
	{ 0x00000000, 8, "an unspecified (\"this network\") address" },
	{ 0x0A000000, 8, "a private address (RFC 1918)" },
	{ 0x64400000, 10, "a shared address (CGNAT, RFC 6598)" },
	{ 0x7F000000, 8, "a loopback address" },
	{ 0xA9FE0000, 16, "a link-local address" },
	{ 0xAC100000, 12, "a private address (RFC 1918)" },
	{ 0xC0000000, 24, "an IETF protocol assignment address" },
	{ 0xC0A80000, 16, "a private address (RFC 1918)" },
	{ 0xC6120000, 15, "a benchmarking address" },
	{ 0xE0000000, 4, "a multicast address" },
	{ 0xF0000000, 4, "a reserved or broadcast address" },
};

static const char *refused_v4(uint32_t a)
{
	for (size_t i = 0; i < sizeof refused4 / sizeof refused4[0]; i++) {
		uint32_t mask = refused4[i].bits ? 0xFFFFFFFFu << (32 - refused4[i].bits) : 0;
		if ((a & mask) == refused4[i].net)
			return refused4[i].what;
	}
	return NULL;
}

const char *webhook_addr_refused(const struct sockaddr *sa, bool allow_private)
{
	const char *why = NULL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		why = refused_v4(ntohl(in->sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;
		static const unsigned char zero[16];
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			why = b[15] ? "a loopback address" : "an unspecified address";
		else if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0) /* v4 inside v6 */
			why = refused_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
					 (uint32_t)b[14] << 8 | b[15]);
		else if ((b[0] & 0xfe) == 0xfc)
			why = "a unique local address (ULA)";
		else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			why = "a link-local address";
		else if (b[0] == 0xff)
			why = "a multicast address";
		else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
			why = "a documentation address";
	} else {
		return "not an internet address";
	}
	return allow_private ? NULL : why;
}

cf_err webhook_resolve(const char *url, bool allow_private, struct webhook_target *t,
		       struct cf_error *err)
{
	memset(t, 0, sizeof *t);
	const char *rest;
	if (strncmp(url, "https://", 8) == 0) {
		t->https = true;
		rest = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else {
		return cf_error_set(err, CF_EINVAL, "/url", "url must be an http:// or https:// URL");
	}
	size_t auth_len = strcspn(rest, "/?#");
	if (memchr(rest, '@', auth_len))
		return cf_error_set(err, CF_EINVAL, "/url", "url must not hold user information (user@)");
	const char *port_at = NULL;
	const char *host = rest;
	size_t host_len;
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', auth_len);
		if (!close)
			return cf_error_set(err, CF_EINVAL, "/url", "url has an unterminated [IPv6 address]");
		host = rest + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < rest + auth_len) {
			if (close[1] != ':')
				return cf_error_set(err, CF_EINVAL, "/url", "url has a malformed host");
			port_at = close + 2;
		}
	} else {
		const char *colon = memchr(rest, ':', auth_len);
		host_len = colon ? (size_t)(colon - rest) : auth_len;
		if (colon)
			port_at = colon + 1;
	}
	if (host_len == 0 || host_len >= sizeof t->host)
		return cf_error_set(err, CF_EINVAL, "/url", "url has no host, or one too long");
	memcpy(t->host, host, host_len);
	t->host[host_len] = '\0';
	for (size_t i = 0; i < host_len; i++) {
		char c = t->host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '_'))
			return cf_error_set(err, CF_EINVAL, "/url", "url's host has a character not allowed in a host name");
	}
	t->port = t->https ? 443 : 80;
	if (port_at) {
		char *end = NULL;
		long port = strtol(port_at, &end, 10);
		if (end == port_at || (end != rest + auth_len) || port < 1 || port > 65535)
			return cf_error_set(err, CF_EINVAL, "/url", "url's port must be 1 to 65535");
		t->port = (unsigned short)port;
	}
	struct addrinfo hints = { 0 }, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(t->host, NULL, &hints, &ai);
	if (rc != 0)
		return cf_error_set(err, CF_EUNPROCESSABLE, "/url", "the webhook host %.100s does not resolve (%s)",
				    t->host, gai_strerror(rc));
	cf_err e = CF_OK;
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		char text[INET6_ADDRSTRLEN] = "";
		const void *a = p->ai_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)(const void *)p->ai_addr)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)(const void *)p->ai_addr)->sin6_addr;
		inet_ntop(p->ai_family, a, text, sizeof text);
		const char *why = webhook_addr_refused(p->ai_addr, allow_private);
		if (why) {
			/* one refused address refuses the host: the resolver could hand
			 * out that one next time */
			e = cf_error_set(err, CF_EUNPROCESSABLE, "/url",
					 "the webhook host %.100s resolves to %s, %s: webhook targets must be "
					 "public addresses (the operator's setting webhook-allow-private allows "
					 "others)", t->host, text, why);
			break;
		}
		if (!t->addr[0])
			snprintf(t->addr, sizeof t->addr, "%s", text);
	}
	freeaddrinfo(ai);
	if (!e && !t->addr[0])
		e = cf_error_set(err, CF_EUNPROCESSABLE, "/url", "the webhook host %.100s has no address",
				 t->host);
	return e;
}

char *webhook_signature(const char *secret, const char *id, long long ts, const char *body, size_t len)
{
	if (strncmp(secret, "whsec_", 6) != 0)
		return NULL;
	unsigned char *key = NULL;
	size_t key_len = 0;
	struct cf_error err;
	if (codec_b64_decode(secret + 6, strlen(secret + 6), &key, &key_len, &err))
		return NULL;
	char head[128];
	int n = snprintf(head, sizeof head, "%s.%lld.", id, ts);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	unsigned char *msg = cf_malloc((size_t)n + len);
	memcpy(msg, head, (size_t)n);
	memcpy(msg + n, body, len);
	unsigned char *ok = HMAC(EVP_sha256(), key, (int)key_len, msg, (size_t)n + len, mac, &mac_len);
	cf_wipe(key, key_len);
	free(key);
	free(msg);
	if (!ok)
		return NULL;
	char *b64 = codec_b64_encode(mac, mac_len);
	char *out = cf_asprintf("v1,%s", b64);
	free(b64);
	return out;
}

/* ---- subscriptions ---- */

struct create_job {
	const struct audit_actor *actor;
	const char *org_id, *url, *body, *maker, *scheme, *serial;
	char secret[64];
	json_t **out;
};

#define SUB_COLUMNS                                                                                  \
	"s.id, s.url, s.body_id, s.manufacturer_id, s.scheme_id, s.serial, " DB_TS("s.created_at")

static json_t *sub_json(const PGresult *res, int i)
{
	const char *v[4];
	for (int k = 0; k < 4; k++)
		v[k] = PQgetisnull(res, i, 2 + k) ? NULL : db_value(res, i, 2 + k);
	return json_pack("{s:s,s:s,s:{s:o,s:o,s:o,s:o},s:s}", "id", db_value(res, i, 0), "url",
			 db_value(res, i, 1), "filter", "body", jsonx_string_or_null(v[0]), "manufacturer",
			 jsonx_string_or_null(v[1]), "scheme", jsonx_string_or_null(v[2]), "serial", jsonx_string_or_null(v[3]),
			 "created_at", db_value(res, i, 6));
}

static cf_err create_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct create_job *j = arg;
	json_t **out = j->out;
	PGresult *res = NULL;
	const char *p[] = { j->org_id, j->url, j->secret, j->body, j->maker, j->scheme, j->serial,
			    strcmp(j->actor->kind, "user") == 0 ? j->actor->id : NULL };
	cf_err e = db_query(db, &res, err,
		"INSERT INTO webhook_subscription AS s (org_id, url, secret, body_id, manufacturer_id,"
		" scheme_id, serial, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		" RETURNING " SUB_COLUMNS, 8, p);
	if (e)
		return e;
	*out = sub_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s}", "url", j->url);
	json_object_set(details, "filter", json_object_get(*out, "filter"));
	e = audit_append(db, j->actor, "webhook.create", "webhook", jsonx_str(*out, "id"), details, err);
	json_decref(details);
	if (!e)
		json_object_set_new(*out, "secret", json_string(j->secret));
	return e;
}

cf_err webhook_create(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const json_t *body, bool allow_private, json_t **out, struct cf_error *err)
{
	static const char *const keys[] = { "url", "filter", NULL };
	static const char *const fkeys[] = { "body", "manufacturer", "scheme", "serial", NULL };
	struct create_job j = { actor, org_id, NULL, NULL, NULL, NULL, NULL, "", out };
	struct webhook_target t;
	*out = NULL;
	if (!ids_is_uuid(org_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no organisation %.40s", org_id);
	cf_err e = jsonx_check_object(body, "", keys, err);
	if (!e)
		e = jsonx_get_text(body, "", "url", true, 500, &j.url, err);
	const json_t *filter = json_object_get(body, "filter");
	if (!e && filter) {
		e = jsonx_check_object(filter, "/filter", fkeys, err);
		if (!e)
			e = jsonx_get_text(filter, "/filter", "body", false, 36, &j.body, err);
		if (!e)
			e = jsonx_get_text(filter, "/filter", "manufacturer", false, 36, &j.maker, err);
		if (!e)
			e = jsonx_get_text(filter, "/filter", "scheme", false, 100, &j.scheme, err);
		if (!e)
			e = jsonx_get_text(filter, "/filter", "serial", false, 40, &j.serial, err);
		if (!e && j.body && !ids_is_uuid(j.body))
			e = cf_error_set(err, CF_EINVAL, "/filter/body", "/filter/body must be an organisation id");
		if (!e && j.maker && !ids_is_uuid(j.maker))
			e = cf_error_set(err, CF_EINVAL, "/filter/manufacturer",
					 "/filter/manufacturer must be an organisation id");
	}
	if (!e)
		e = webhook_resolve(j.url, allow_private, &t, err);
	if (e)
		return e;
	unsigned char key[32];
	rnd_bytes(key, sizeof key);
	char *b64 = codec_b64_encode(key, sizeof key);
	snprintf(j.secret, sizeof j.secret, "whsec_%s", b64);
	cf_wipe(key, sizeof key);
	free(b64);
	e = db_transaction_json(db, DB_READ_COMMITTED, create_tx, &j, j.out, err);
	cf_wipe(j.secret, sizeof j.secret);
	return e;
}

/* Runs the query and answers its rows, each as row makes it, as {"items":
 * [...]} in *out (NULL on error): the subscriptions and the deliveries. */
static cf_err items_query(struct db *db, db_row_fn row, json_t **out, struct cf_error *err,
			  const char *sql, int n, const char *const *params)
{
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err, sql, n, params);
	if (e)
		return e;
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(items, row(res, i));
	PQclear(res);
	*out = json_pack("{s:o}", "items", items);
	return CF_OK;
}

cf_err webhook_list(struct db *db, const char *org_id, json_t **out, struct cf_error *err)
{
	*out = NULL;
	if (!ids_is_uuid(org_id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no organisation %.40s", org_id);
	const char *p[] = { org_id };
	return items_query(db, sub_json, out, err,
		"SELECT " SUB_COLUMNS " FROM webhook_subscription s WHERE s.org_id = $1"
		" AND s.deleted_at IS NULL ORDER BY s.created_at, s.id", 1, p);
}

struct sub_job {
	const struct audit_actor *actor;
	const char *org_id, *id, *did;
	json_t *out;
};

static cf_err delete_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct sub_job *j = arg;
	PGresult *res = NULL;
	const char *p[] = { j->org_id, j->id };
	cf_err e = db_query(db, &res, err,
		"UPDATE webhook_subscription SET deleted_at = now() WHERE org_id = $1 AND id = $2"
		" AND deleted_at IS NULL RETURNING url", 2, p);
	if (e)
		return e;
	int n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "organisation %.40s has no webhook %.40s",
				    j->org_id, j->id);
	e = db_query(db, NULL, err,
		"UPDATE webhook_delivery SET status = 'cancelled' WHERE subscription_id = $2"
		" AND status = 'pending' AND $1::uuid IS NOT NULL", 2, p);
	if (!e)
		e = audit_append(db, j->actor, "webhook.delete", "webhook", j->id, NULL, err);
	return e;
}

cf_err webhook_delete(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const char *id, struct cf_error *err)
{
	struct sub_job j = { actor, org_id, id, NULL, NULL };
	if (!ids_is_uuid(org_id) || !ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no webhook %.40s", id);
	return db_transaction(db, DB_READ_COMMITTED, delete_tx, &j, err);
}

#define DELIVERY_COLUMNS                                                                             \
	"d.id, d.log_index, d.type, d.status, d.attempts, " DB_TS("d.created_at") ", "               \
	DB_TS("d.next_attempt_at") ", " DB_TS("d.delivered_at") ", d.last_http_status, d.last_error, " \
	"(SELECT coalesce(json_agg(json_build_object('n', a.n, 'at', " DB_TS("a.at") ", 'http_status', " \
	"a.http_status, 'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.n), '[]')::text "  \
	"FROM webhook_attempt a WHERE a.delivery_id = d.id)"

static json_t *delivery_json(const PGresult *res, int i)
{
	json_t *attempts = json_loads(db_value(res, i, 10), 0, NULL);
	json_t *d = json_pack("{s:s,s:I,s:s,s:s,s:i,s:s,s:o,s:o,s:o,s:o,s:o}", "id", db_value(res, i, 0),
			      "log_index", (json_int_t)db_value_ll(res, i, 1), "type", db_value(res, i, 2),
			      "status", db_value(res, i, 3), "attempts", atoi(db_value(res, i, 4)),
			      "created_at", db_value(res, i, 5), "next_attempt_at",
			      strcmp(db_value(res, i, 3), "pending") == 0 ? json_string(db_value(res, i, 6))
									  : json_null(),
			      "delivered_at",
			      PQgetisnull(res, i, 7) ? json_null() : json_string(db_value(res, i, 7)),
			      "last_http_status",
			      PQgetisnull(res, i, 8) ? json_null() : json_integer(atoi(db_value(res, i, 8))),
			      "last_error",
			      PQgetisnull(res, i, 9) ? json_null() : json_string(db_value(res, i, 9)),
			      "attempt_log", attempts ? attempts : json_array());
	return d;
}

static cf_err owned(struct db *db, const char *org_id, const char *id, struct cf_error *err)
{
	PGresult *res = NULL;
	if (!ids_is_uuid(org_id) || !ids_is_uuid(id))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no webhook %.40s", id);
	const char *p[] = { org_id, id };
	cf_err e = db_query(db, &res, err,
		"SELECT 1 FROM webhook_subscription WHERE org_id = $1 AND id = $2", 2, p);
	if (e)
		return e;
	int n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "organisation %.40s has no webhook %.40s",
				    org_id, id);
	return CF_OK;
}

cf_err webhook_deliveries(struct db *db, const char *org_id, const char *id, long long after,
			  int limit, json_t **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = owned(db, org_id, id, err);
	if (e)
		return e;
	char afters[24], limits[16];
	snprintf(afters, sizeof afters, "%lld", after);
	snprintf(limits, sizeof limits, "%d", limit);
	const char *p[] = { id, afters, limits };
	return items_query(db, delivery_json, out, err,
		"SELECT " DELIVERY_COLUMNS " FROM webhook_delivery d WHERE d.subscription_id = $1"
		" AND d.log_index > $2::bigint ORDER BY d.log_index LIMIT $3::int", 3, p);
}

static cf_err replay_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct sub_job *j = arg;
	PGresult *res = NULL;
	cf_err e = owned(db, j->org_id, j->id, err);
	if (e)
		return e;
	const char *p[] = { j->id, j->did };
	e = db_query(db, &res, err,
		"UPDATE webhook_delivery d SET status = 'pending', next_attempt_at = now(), since = now()"
		" FROM webhook_subscription s WHERE d.subscription_id = $1 AND d.id = $2"
		" AND s.id = d.subscription_id AND s.deleted_at IS NULL RETURNING " DELIVERY_COLUMNS, 2, p);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cf_error_set(err, CF_ENOTFOUND, NULL, "webhook %.40s (a live one) has no delivery %.40s",
				    j->id, j->did);
	}
	j->out = delivery_json(res, 0);
	PQclear(res);
	json_t *details = json_pack("{s:s}", "delivery", j->did);
	e = audit_append(db, j->actor, "webhook.replay", "webhook", j->id, details, err);
	json_decref(details);
	return e;
}

cf_err webhook_replay(struct db *db, const struct audit_actor *actor, const char *org_id,
		      const char *id, const char *did, json_t **out, struct cf_error *err)
{
	struct sub_job j = { actor, org_id, id, did, NULL };
	*out = NULL;
	if (strlen(did) > 36)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "there is no delivery %.40s", did);
	cf_err e = db_transaction(db, DB_READ_COMMITTED, replay_tx, &j, err);
	if (e)
		json_decref(j.out);
	else
		*out = j.out;
	return e;
}

/* ---- the outbox ---- */

static void job_free(struct webhook_job *j)
{
	free(j->url);
	if (j->secret)
		cf_wipe(j->secret, strlen(j->secret));
	free(j->secret);
	free(j->payload);
	j->url = j->secret = j->payload = NULL;
}

cf_err webhook_claim(struct db *db, struct webhook_job *j, bool *found, struct cf_error *err)
{
	PGresult *res = NULL;
	*found = false;
	memset(j, 0, sizeof *j);
	/* idle threads of every instance ask often: one statement on the
	 * partial index of due rows, and a transaction only when one is due */
	cf_err e = db_query_hot(db, &res, err,
		"SELECT 1 FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= now()"
		" LIMIT 1", 0, NULL);
	if (e)
		return e;
	int due = PQntuples(res);
	PQclear(res);
	res = NULL;
	if (!due)
		return CF_OK;
	e = db_begin(db, DB_READ_COMMITTED, err);
	if (e)
		return e;
	/* the row's lock is the claim: another instance skips it, and a process
	 * that dies mid-delivery leaves it due, its id unchanged */
	e = db_query(db, &res, err,
		"SELECT d.id, s.url, s.secret, d.payload, d.attempts,"
		" extract(epoch FROM now() - d.since)::float8"
		" FROM webhook_delivery d JOIN webhook_subscription s ON s.id = d.subscription_id"
		" WHERE d.status = 'pending' AND d.next_attempt_at <= now()"
		" ORDER BY d.next_attempt_at, d.log_index LIMIT 1 FOR UPDATE OF d SKIP LOCKED", 0, NULL);
	if (e) {
		db_rollback(db);
		return e;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(db);
		return CF_OK;
	}
	snprintf(j->id, sizeof j->id, "%s", db_value(res, 0, 0));
	j->url = cf_strdup(db_value(res, 0, 1));
	j->secret = cf_strdup(db_value(res, 0, 2));
	j->payload = cf_strdup(db_value(res, 0, 3));
	j->attempts = atoi(db_value(res, 0, 4));
	j->window_age = atof(db_value(res, 0, 5));
	PQclear(res);
	*found = true;
	return CF_OK;
}

cf_err webhook_finish(struct db *db, struct webhook_job *j, int http_status, const char *error,
		      long duration_ms, long retry_base, long retry_for, struct cf_error *err)
{
	char n[16], st[16], dur[24], next[32];
	int attempt = j->attempts + 1;
	bool ok = http_status >= 200 && http_status <= 299;
	/* exponential backoff: base, 2 base, 4 base, ... at most an hour apart */
	double wait = (double)retry_base;
	for (int k = 1; k < attempt && wait < 3600; k++)
		wait *= 2;
	if (wait > 3600)
		wait = 3600;
	const char *status = ok ? "delivered"
			     : j->window_age + wait > (double)retry_for ? "failed" : "pending";
	snprintf(n, sizeof n, "%d", attempt);
	snprintf(st, sizeof st, "%d", http_status);
	snprintf(dur, sizeof dur, "%ld", duration_ms);
	snprintf(next, sizeof next, "%.3f", wait);
	const char *p[] = { j->id, n, http_status ? st : NULL, error, dur, status, next };
	cf_err e = db_query(db, NULL, err,
		"INSERT INTO webhook_attempt (delivery_id, n, http_status, error, duration_ms)"
		" VALUES ($1, $2::int, $3::int, $4, $5::int)", 5, p);
	if (!e)
		e = db_query(db, NULL, err,
			"UPDATE webhook_delivery SET attempts = $2::int, status = $6,"
			" last_http_status = $3::int, last_error = $4,"
			" delivered_at = CASE WHEN $6 = 'delivered' THEN now() END,"
			" next_attempt_at = now() + make_interval(secs => $7::float8)"
			" WHERE id = $1 AND $5::int IS NOT NULL", 7, p);
	if (!e)
		e = db_commit(db, err);
	if (e)
		db_rollback(db);
	job_free(j);
	return e;
}

void webhook_release(struct db *db, struct webhook_job *j)
{
	db_rollback(db);
	job_free(j);
}

cf_err webhook_stats(struct db *db, struct webhook_stats *out, struct cf_error *err)
{
	PGresult *res = NULL;
	memset(out, 0, sizeof *out);
	/* the partial index of due rows answers the first and the last */
	cf_err e = db_query(db, &res, err,
		"SELECT (SELECT count(*) FROM webhook_delivery WHERE status = 'pending'),"
		" (SELECT count(*) FROM webhook_delivery WHERE status = 'failed'),"
		" coalesce((SELECT extract(epoch FROM now() - min(next_attempt_at))::float8"
		" FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= now()), 0)", 0, NULL);
	if (e)
		return e;
	out->pending = db_value_ll(res, 0, 0);
	out->failed = db_value_ll(res, 0, 1);
	out->oldest_due_age = atof(db_value(res, 0, 2));
	PQclear(res);
	return CF_OK;
}
