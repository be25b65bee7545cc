/*
 * routes/certificates: issuance and status (certifiers), and everything a
 * buyer or a mirror uses to verify without trusting us: the certificate,
 * its JWS, the register and its signed export, verification, keys (JWKS,
 * DID documents), status lists, the credential's context and schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "bundle.h"
#include "certcache.h"
#include "certificate.h"
#include "digest.h"
#include "http.h"
#include "codec.h"
#include "jsonx.h"
#include "livestate.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "page.h"
#include "router.h"
#include "routes.h"
#include "server.h"
#include "signer.h"
#include "workerdb.h"

extern const unsigned char conform_context_v1[];
extern const size_t conform_context_v1_len;
extern const unsigned char conform_schema_v1[];
extern const size_t conform_schema_v1_len;

static struct cert_ctx ctx_of(const struct request *rq)
{
	struct cert_ctx c = { request_server(rq)->cfg->public_url, request_server(rq)->signer_socket };
	return c;
}

void route_cert_issue(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	bool created = false;
	struct cert_ctx ctx = ctx_of(rq);
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_issue(db, request_principal(rq), &ctx, request_param(rq, "id"), &out, &created, &err);
	if (!e && created)
		metrics_count_issuance(); /* committed; a replay issues nothing */
	if (!e) {
		char loc[128];
		snprintf(loc, sizeof loc, "/v1/certificates/%s", jsonx_str(out, "serial"));
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
	}
	reply_outcome(rq, e, &err, created ? 201 : 200, out);
}

/* The wall clock in microseconds since the epoch: certstate's unit. */
static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A certificate's answer as just made from its row, with what verification
 * needs of it. */
struct fresh {
	char *body;                /* the answer (owned) */
	size_t len;
	char *facts;               /* certificate_render's facts (owned) */
	unsigned char jws_sha256[32];
	long long log_index;
};

static void fresh_clear(struct fresh *f)
{
	free(f->body);
	free(f->facts);
	memset(f, 0, sizeof *f);
}

/*
 * A certificate's answer made from its stored row and what livestate holds,
 * and cached: the path of every first read. false when livestate is not
 * current (the caller then asks the database to decide); otherwise *e says
 * how it went and, on success, *f holds the answer.
 */
static bool answer_from_row(struct request *rq, const char *serial, struct fresh *f, cf_err *e,
			    struct cf_error *err)
{
	memset(f, 0, sizeof *f);
	if (!livestate_current())
		return false;
	struct db *db = NULL;
	struct cert_stored c;
	struct live_decision d;
	unsigned long gen = certcache_generation();
	long long head = certcache_checkpoint();
	/* the primary: what is read here is cached, and the cache follows the
	 * primary's notifications (request_db_primary) */
	*e = request_db_primary(rq, &db, err);
	if (!*e)
		*e = certificate_stored(db, serial, &c, err);
	if (*e)
		return true;
	if (!livestate_decide(&c, now_us(), &d)) {
		certificate_stored_clear(&c);
		return false; /* a key this process has not heard of yet */
	}
	struct buf out, facts;
	buf_init(&out, 1u << 20);
	buf_init(&facts, 16u << 10);
	bool in_head = c.log_index < head;
	char did[SIGNER_DID_LEN], method[SIGNER_DID_LEN + 64];
	signer_did(request_server(rq)->cfg->public_url, d.key.org, did);
	snprintf(method, sizeof method, "%s#%s", did, c.kid);
	d.view.method = method;
	*e = certificate_render(&c, &d.state, &d.view, in_head, &out, &facts, err);
	if (!*e && codec_hex_decode(c.jws_sha256, f->jws_sha256, 32, err))
		*e = cf_error_set(err, CF_EINTERNAL, NULL, "certificate %.40s: its stored digest is damaged",
				  serial);
	if (!*e) {
		/* until its next scheduled change (validUntil, an accreditation
		 * event effective later) at the latest */
		long long stale_ms = d.state.next_change_us ? (d.state.next_change_us + 999) / 1000 : 0;
		certcache_put(serial, out.data, out.len, buf_str(&facts), f->jws_sha256, c.log_index,
			      in_head, stale_ms, gen);
		f->log_index = c.log_index;
		f->body = buf_steal(&out, &f->len);
		f->facts = buf_steal(&facts, NULL);
	}
	buf_free(&out);
	buf_free(&facts);
	certificate_stored_clear(&c);
	return true;
}

void route_cert_get(struct request *rq)
{
	const char *serial = request_param(rq, "serial");
	size_t len = 0;
	char *cached = certcache_get(serial, &len);
	if (cached) {
		reply_taken(rq, 200, "application/json", cached, len);
		return;
	}
	struct cf_error err;
	cf_err e = CF_OK;
	char *text = NULL;
	struct fresh f;
	if (answer_from_row(rq, serial, &f, &e, &err)) {
		text = f.body;
		len = f.len;
		f.body = NULL;
		fresh_clear(&f);
	} else {
		/* nothing current in memory: the database decides it all */
		struct db *db = NULL;
		json_t *out = NULL;
		e = request_db(rq, &db, &err);
		if (!e)
			e = certificate_get(db, request_server(rq)->cfg->public_url, serial, &out, &err);
		if (!e) {
			text = json_dumps(out, JSON_COMPACT);
			len = strlen(text);
		}
		json_decref(out);
	}
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	reply_taken(rq, 200, "application/json", text, len);
}

void route_cert_jws(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	char *jws = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_jws(db, request_param(rq, "serial"), &jws, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	reply_bytes(rq, 200, "application/vc+jwt", jws, strlen(jws));
	free(jws);
}

/* Suspend, reinstate, withdraw: the action is the last segment of the
 * route's pattern (".../{serial}/suspend"). */
static cf_err change(struct request *rq, struct db *db, const json_t *body, json_t **out,
		     struct cf_error *err)
{
	const char *serial = request_param(rq, "serial");
	const char *action = strrchr(request_route(rq)->pattern, '/') + 1;
	cf_err e = certificate_change(db, request_principal(rq), request_server(rq)->cfg->public_url, serial, action,
				      body, out, err);
	if (!e) {
		certcache_invalidate(serial); /* read your writes, here and now */
		metrics_count_status_change(action);
	}
	return e;
}

void route_cert_suspend(struct request *rq)
{
	request_run(rq, change, 200);
}

void route_cert_reinstate(struct request *rq)
{
	request_run(rq, change, 200);
}

void route_cert_withdraw(struct request *rq)
{
	request_run(rq, change, 200);
}

static cf_err register_page(struct request *rq, struct db *db, const struct page *page,
			    json_t **out, struct cf_error *err)
{
	struct cert_query q = { request_query(rq, "manufacturer"), request_query(rq, "scheme"),
				request_query(rq, "status"), request_query(rq, "q"), page->after,
				page->limit };
	return certificate_register(db, &q, out, err);
}

void route_cert_register(struct request *rq)
{
	request_run_page(rq, register_page);
}

/* Verification from memory: keys from livestate, the certificate's facts
 * from the cache (filled from its row on a miss), its inclusion checked
 * against the database once per signed tree head. */
struct memory_source {
	struct request *rq;
};

static bool mem_key(void *arg, const char *kid, unsigned char pub[32], char org[37], bool *retired)
{
	struct memory_source *m = arg;
	struct certstate_keyrec k;
	if (livestate_key(kid, &k)) {
		memcpy(pub, k.pub, 32);
		snprintf(org, 37, "%s", k.org);
		*retired = k.retired;
		return true;
	}
	/* not held: not current, or made a moment ago elsewhere, or no key */
	struct db *db = NULL;
	struct cf_error ignored;
	return request_db_primary(m->rq, &db, &ignored) == CF_OK &&
	       signer_public(db, kid, pub, org, retired, &ignored) == CF_OK;
}

static bool mem_certificate(void *arg, const char *serial, struct verify_facts *out)
{
	struct memory_source *m = arg;
	struct certcache_facts f = { 0 };
	struct cf_error err;
	bool cached = certcache_get_facts(serial, &f);
	if (!cached) {
		/* a first read: made from the row (and kept, unless a change came
		 * in meanwhile: then used once) */
		struct fresh fr;
		cf_err e = CF_OK;
		if (!answer_from_row(m->rq, serial, &fr, &e, &err) || e)
			return false;
		f.facts = fr.facts;
		fr.facts = NULL;
		memcpy(f.jws_sha256, fr.jws_sha256, 32);
		f.log_index = fr.log_index;
		fresh_clear(&fr);
	}
	out->facts = json_loads(f.facts, 0, NULL);
	free(f.facts);
	if (!out->facts)
		return false;
	memcpy(out->jws_sha256, f.jws_sha256, 32);
	out->log_index = f.log_index;
	out->included = f.included;
	out->tree_size = f.tree_size;
	if (!f.inclusion_known) {
		/* once per signed tree head: the proof from the database,
		 * checked here */
		long long head = certcache_checkpoint();
		struct db *db = NULL;
		if (request_db_primary(m->rq, &db, &err) ||
		    certificate_inclusion(db, f.log_index, &out->included, &out->tree_size, &err)) {
			out->included = false; /* said as not shown, as the database path says it */
			out->tree_size = -1;
		} else {
			certcache_set_inclusion(serial, head, out->included, out->tree_size);
		}
	}
	return true;
}

static void mem_release(void *arg, struct verify_facts *f)
{
	(void)arg;
	json_decref(f->facts);
	f->facts = NULL;
}

void route_verify(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	char *jws = NULL;
	cf_err e = CF_OK;
	const char *ct = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct && (strncmp(ct, "application/json", 16) == 0)) {
		json_t *body = NULL;
		const char *text = NULL;
		static const char *const keys[] = { "jws", NULL };
		e = request_json(rq, &body, &err);
		if (!e)
			e = jsonx_check_object(body, "", keys, &err);
		if (!e)
			e = jsonx_get_text(body, "", "jws", true, CERTIFICATE_JWS_MAX, &text, &err);
		if (!e)
			jws = cf_strdup(text);
		json_decref(body);
	} else {
		/* the JWS itself as the body (application/vc+jwt, text/plain) */
		size_t n = 0;
		const char *data = request_body(rq, &n);
		while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
			n--;
		if (n == 0)
			e = cf_error_set(&err, CF_EINVAL, NULL,
					 "send the compact JWS as the body (application/vc+jwt) or as "
					 "{\"jws\": ...} (application/json)");
		else
			jws = cf_strndup(data, n);
	}
	if (!e && livestate_current()) {
		struct memory_source m = { rq };
		struct verify_source src = { &m, mem_key, mem_certificate, mem_release };
		e = certificate_verify_from(&src, request_server(rq)->cfg->public_url, jws, &out, &err);
	} else if (!e) {
		e = request_db(rq, &db, &err);
		if (!e)
			e = certificate_verify(db, request_server(rq)->cfg->public_url, jws, &out, &err);
	}
	free(jws);
	reply_outcome(rq, e, &err, 200, out);
}

static cf_err jwks(struct request *rq, struct db *db, const json_t *body, json_t **out,
		   struct cf_error *err)
{
	(void)body;
	cf_err e = signer_jwks(db, request_server(rq)->cfg->public_url, out, err);
	if (!e)
		reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=300");
	return e;
}

void route_jwks(struct request *rq)
{
	request_run(rq, jwks, 200);
}

void route_did(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = signer_did_document(db, request_server(rq)->cfg->public_url, request_param(rq, "id"), &out, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	char *text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	reply_bytes(rq, 200, "application/did+json", text, strlen(text));
	free(text);
}

void route_status_list(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	char *jws = NULL;
	struct cert_ctx ctx = ctx_of(rq);
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_status_list(db, &ctx, request_param(rq, "id"), request_param(rq, "purpose"),
					    &jws, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=300");
	reply_bytes(rq, 200, "application/vc+jwt", jws, strlen(jws));
	free(jws);
}

/* The offline proof bundle. Until the newest checkpoint covers the
 * certificate's issuance (seconds after issue) it is 503 with Retry-After:
 * an answer now would have no proof to carry. */
void route_cert_bundle(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	char *text = NULL;
	struct cert_ctx ctx = ctx_of(rq);
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = bundle_make(db, &ctx, request_param(rq, "serial"), &text, &err);
	if (e) {
		if (e == CF_EUNAVAILABLE)
			reply_header(rq, "Retry-After", "2");
		reply_problem(rq, &err);
		return;
	}
	/* the status lists in it are good for five minutes, as served */
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=300");
	reply_bytes(rq, 200, BUNDLE_MEDIA_TYPE, text, strlen(text));
	free(text);
}

void route_context(struct request *rq)
{
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=86400");
	reply_static(rq, 200, "application/ld+json", conform_context_v1, conform_context_v1_len);
}

void route_schema(struct request *rq)
{
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=86400");
	reply_static(rq, 200, "application/schema+json", conform_schema_v1, conform_schema_v1_len);
}

/* ---- the register export, streamed ---- */

struct export_state {
	struct server *srv;
	struct buf buf;
	size_t pos;
	int phase;                /* 1 certificates, 2 signature, 3 done, 4 failed */
	long long after, count, checkpoint_size;
	struct digest_ctx *hash;
};

/* Refills st->buf with the next part of the export; false at the end or on
 * a failure (logged; the caller then aborts the stream). The header line is
 * made before the response starts (route_register_export). */
static bool export_refill(struct export_state *st)
{
	struct cf_error err;
	struct db *db = NULL;
	buf_reset(&st->buf);
	st->pos = 0;
	if (st->phase >= 3)
		return false;
	if (workerdb_get(st->srv->runtime_conninfo, &db, &err))
		goto fail;
	if (st->phase == 1) {
		int n = 0;
		if (certificate_export_lines(db, &st->after, 1000, &st->buf, &n, &err))
			goto fail;
		st->count += n;
		if (n == 0)
			st->phase = 2;
	}
	if (st->phase == 2 && st->buf.len == 0) {
		/* the last line signs the SHA-256 of all that came before it */
		unsigned char d[DIGEST_SHA256_LEN];
		digest_final(st->hash, d);
		st->hash = NULL;
		char *sig = NULL;
		if (certificate_export_signature(db, st->srv->signer_socket, d, st->count,
						 st->checkpoint_size, &sig, &err))
			goto fail;
		bool ok = !buf_puts(&st->buf, sig, &err) && !buf_puts(&st->buf, "\n", &err);
		free(sig);
		if (!ok)
			goto fail;
		st->phase = 3;
		return true;
	}
	if (st->hash)
		digest_update(st->hash, st->buf.data ? st->buf.data : "", st->buf.len);
	return true;
fail:
	log_error("register export aborted after %lld certificates, without its signature line: %s",
		  st->count, err.detail);
	st->phase = 4;
	return false;
}

static ssize_t export_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct export_state *st = cls;
	while (st->pos == st->buf.len)
		if (!export_refill(st))
			/* after a failure the signature line is missing too */
			return reply_stream_end(st->phase != 3);
	return (ssize_t)buf_drain(&st->buf, &st->pos, out, max);
}

static void export_free(void *cls)
{
	struct export_state *st = cls;
	buf_free(&st->buf);
	digest_abort(st->hash);
	free(st);
}

void route_register_export(struct request *rq)
{
	/* whatever can fail is tried before the first byte, so that it is a
	 * problem answer and not a 200 cut short: the database, the header,
	 * and the log key that signs the last line */
	struct cf_error err;
	struct db *db = NULL;
	json_t *head = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_export_check(db, request_server(rq)->signer_socket, &err);
	if (!e)
		e = certificate_export_header(db, request_server(rq)->cfg->public_url, &head, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	struct export_state *st = cf_calloc(1, sizeof *st);
	st->srv = request_server(rq);
	buf_init(&st->buf, 64u << 20);
	st->hash = digest_sha256_new();
	st->checkpoint_size = json_integer_value(json_object_get(json_object_get(head, "checkpoint"), "size"));
	char *text = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	e = buf_puts(&st->buf, text, &err);
	if (!e)
		e = buf_puts(&st->buf, "\n", &err);
	free(text);
	if (e) {
		export_free(st);
		reply_problem(rq, &err);
		return;
	}
	digest_update(st->hash, st->buf.data, st->buf.len);
	st->phase = 1;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, st, export_free);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/jsonl");
	MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"register.jsonl\"");
	reply_response(rq, 200, resp, 0);
}
