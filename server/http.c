/*
 * http: libmicrohttpd glue (see http.h): request contexts, body limits,
 * dispatch to the route table, replies, creations with an Idempotency-Key,
 * the pages of lists, and the request-completed callback where every request
 * is logged, counted and freed.
 */
#include "http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "blobstore.h"
#include "clientaddr.h"
#include "conntrack.h"
#include "digest.h"
#include "idempotency.h"
#include "jsonx.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "page.h"
#include "rnd.h"
#include "router.h"
#include "routes/routes.h"
#include "server.h"
#include "workerdb.h"

#define HTTP_MAX_HEADERS 8
/* An announced body at most this far past its limit is read and dropped
 * before the 413, so that a client still sending it hears the answer. */
#define HTTP_DRAIN_MAX ((uint64_t)16 << 20)

struct request {
	struct server *srv;
	struct MHD_Connection *conn;
	const struct route *route;  /* NULL when no route matched */
	int route_index;            /* -1 when no route matched */
	const char *method;         /* owned by libmicrohttpd */
	const char *path;           /* owned by libmicrohttpd, no query string */
	char rid[65];
	struct timespec started;
	struct router_params params;
	struct buf body;
	struct blob_writer *blob;   /* upload routes: the body, being stored */
	uint64_t body_limit;        /* the most this request's body may hold */
	uint64_t body_announced;    /* its Content-Length when that is over the limit, else 0 */
	uint64_t body_received;     /* upload routes: bytes of the body read so far */
	bool body_too_large;
	bool body_failed;           /* the body could not be stored: body_error says why */
	struct cf_error body_error; /* answered once the whole body is read */
	bool responded;
	unsigned status;
	size_t bytes;
	char client[CLIENTADDR_LEN]; /* the client's address, once worked out */
	bool authenticated;
	struct principal principal; /* valid when authenticated */
	char *header_names[HTTP_MAX_HEADERS];
	char *header_values[HTTP_MAX_HEADERS];
	int nheaders;
	/* the read replica (see request_db): this request may read from it, it
	 * did, and the answer it gave was dropped to be made again on the
	 * primary; nheaders when the handler began, to forget what it added */
	bool read_replica;
	bool used_replica;
	bool replica_retry;
	bool replica_lost;          /* the dropped answer was a 503: the connection went */
	int handler_nheaders;
};

/* Request ids: 128 bits from a per-thread generator seeded from the CSPRNG.
 * They name log lines, they are not secrets. */
static _Thread_local unsigned long long rid_state[2];

static unsigned long long rid_next(void)
{
	if (!rid_state[0] && !rid_state[1])
		rnd_bytes(rid_state, sizeof rid_state);
	/* xorshift128+ */
	unsigned long long s1 = rid_state[0];
	const unsigned long long s0 = rid_state[1];
	rid_state[0] = s0;
	s1 ^= s1 << 23;
	rid_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rid_state[1] + s0;
}

/* A client's X-Request-Id is kept when it is short and plain. */
static bool rid_acceptable(const char *v)
{
	size_t n = 0;
	for (; v[n]; n++) {
		char c = v[n];
		if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n > 0;
}

static void request_set_rid(struct request *rq)
{
	const char *given =
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (given && rid_acceptable(given)) {
		snprintf(rq->rid, sizeof rq->rid, "%s", given);
	} else {
		unsigned long long a = rid_next(), b = rid_next();
		snprintf(rq->rid, sizeof rq->rid, "%016llx%016llx", a, b);
	}
}

const char *request_param(const struct request *rq, const char *name)
{
	return router_param(&rq->params, name);
}

const char *request_query(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

cf_err request_query_int(const struct request *rq, const char *name, long def, long min, long max,
			 long *out, struct cf_error *err)
{
	const char *v = request_query(rq, name);
	if (!v) {
		*out = def;
		return CF_OK;
	}
	return page_parse_long(v, name, min, max, out, err);
}

cf_err request_page(const struct request *rq, struct page *page, struct cf_error *err)
{
	if (!rq->route || !rq->route->page)
		return cf_error_set(err, CF_EINTERNAL, NULL, "%s is no list", rq->path);
	return page_parse(rq->route->page, request_query(rq, "limit"), request_query(rq, "after"), page,
			  err);
}

const char *request_header(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *request_path(const struct request *rq)
{
	return rq->path;
}

const struct route *request_route(const struct request *rq)
{
	return rq->route;
}

struct server *request_server(const struct request *rq)
{
	return rq->srv;
}

const struct principal *request_principal(const struct request *rq)
{
	return &rq->principal;
}

const char *request_client(struct request *rq)
{
	if (!rq->client[0]) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		clientaddr_of(ci ? ci->client_addr : NULL, request_header(rq, "X-Forwarded-For"),
			      rq->client);
	}
	return rq->client;
}

const char *request_body(const struct request *rq, size_t *len)
{
	*len = rq->body.len;
	return rq->body.data;
}

long http_json_depth(const char *s, size_t n)
{
	long depth = 0, max = 0;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

cf_err request_json(struct request *rq, json_t **out, struct cf_error *err)
{
	*out = NULL;
	/* No body at all reads as {}: actions such as revoke need none, and a
	 * missing required member is still named by the domain's checks. */
	if (rq->body.len == 0) {
		*out = json_object();
		return CF_OK;
	}
	const char *ct = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t ctlen = ct ? strcspn(ct, ";") : 0;
	while (ctlen && ct[ctlen - 1] == ' ')
		ctlen--;
	if (!ct || !((ctlen == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
		     (ctlen > 5 && strncasecmp(ct + ctlen - 5, "+json", 5) == 0)))
		return cf_error_set(err, CF_EMEDIA, NULL,
				    "the request body must be JSON (Content-Type: application/json)");
	long max_depth = rq->srv->cfg->max_json_depth;
	if (http_json_depth(rq->body.data, rq->body.len) > max_depth)
		return cf_error_set(err, CF_EINVAL, "", "the JSON body is nested deeper than %ld levels",
				    max_depth);
	json_error_t jerr;
	json_t *j = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return cf_error_set(err, CF_EINVAL, "", "the body is not valid JSON: %s (line %d, column %d)",
				    jerr.text, jerr.line, jerr.column);
	*out = j;
	return CF_OK;
}

cf_err request_db(struct request *rq, struct db **out, struct cf_error *err)
{
	const char *read_url = rq->srv->cfg->database_read_url;
	if (rq->read_replica && !rq->used_replica) {
		if (workerdb_replica_usable()) {
			if (workerdb_get_read(read_url, out, err) == CF_OK) {
				rq->used_replica = true;
				workerdb_count_replica_read();
				return CF_OK;
			}
			log_debug("read replica: %s", err->detail);
		}
		/* away or failing: this request reads from the primary */
		rq->read_replica = false;
		workerdb_count_fallback();
	} else if (rq->used_replica) {
		return workerdb_get_read(read_url, out, err);
	}
	return workerdb_get(rq->srv->runtime_conninfo, out, err);
}

cf_err request_db_primary(struct request *rq, struct db **out, struct cf_error *err)
{
	return workerdb_get(rq->srv->runtime_conninfo, out, err);
}

/* A public read that may go to the replica (see request_db): a GET. Not
 * /v1/ready and /metrics, which speak of the primary, nor the register
 * export, which streams its pages after the answer has begun, too late to
 * fall back. POST /v1/verify answers from memory (livestate, certcache),
 * filled from the primary: its "unknown certificate" is a 200 that no
 * status code would let a fall-back catch. */
static bool reads_from_replica(const struct request *rq)
{
	const struct route *r = rq->route;
	if (!rq->srv->cfg->database_read_url[0] || !r->access.public_access ||
	    request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION))
		return false;
	if (r->handler == route_ready || r->handler == route_metrics ||
	    r->handler == route_register_export)
		return false;
	return strcmp(r->method, "GET") == 0;
}

/* Whether an answer made on the replica is dropped and made again on the
 * primary: anything that may only mean the replica is behind or away. */
static bool replica_answer_dropped(unsigned status)
{
	return status == 404 || status == 409 || status == 410 || status == 422 || status >= 500;
}

void reply_header(struct request *rq, const char *name, const char *value)
{
	if (rq->nheaders == HTTP_MAX_HEADERS) {
		log_error("too many response headers; dropping %s", name);
		return;
	}
	rq->header_names[rq->nheaders] = cf_strdup(name);
	rq->header_values[rq->nheaders] = cf_strdup(value);
	rq->nheaders++;
}

/* Forgets the reply headers added from index first on. */
static void reply_headers_drop(struct request *rq, int first)
{
	for (int i = first; i < rq->nheaders; i++) {
		CF_FREE(rq->header_names[i]);
		CF_FREE(rq->header_values[i]);
	}
	if (first < rq->nheaders)
		rq->nheaders = first;
}

static double elapsed_seconds(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/*
 * The request's path as the access line shows it: percent-encoded again
 * (RFC 3986 pchar and '/' as they are, every other byte %XX), so that a
 * decoded path's raw bytes, spaces included, can neither pass for another
 * field of the line nor reach it unescaped. Truncated to fit out.
 */
static void access_path(const char *path, char *out, size_t size)
{
	static const char keep[] = "-._~!$&'()*+,;=:@/";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < size; p++) {
		if (isalnum(*p) && *p < 0x80)
			out[o++] = (char)*p;
		else if (strchr(keep, *p))
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
	}
	out[o] = '\0';
}

/*
 * Writes the access line of rq (log_access: with write(2), whatever the
 * log's buffering). The client's address is worked out here when
 * authentication did not need it; the user is the authenticated one, never
 * anything of the token. Only the formatting is here; what an access line
 * holds is log.h's struct log_access.
 */
static void access_log(struct request *rq, unsigned status, size_t bytes, double secs, bool aborted)
{
	char path[1024];
	access_path(rq->path, path, sizeof path);
	/* only the json format names the client: the text line stays as cheap
	 * as it was */
	if (log_get_format() == CF_LOG_JSON)
		request_client(rq);
	struct log_access a = {
		.method = rq->method,
		.path = path,
		/* the matched route, also when its answer came before rq->route
		 * was set (a body over the limit, no token) */
		.route = rq->route	     ? rq->route->pattern :
			 rq->route_index >= 0 ? router_routes(NULL)[rq->route_index].pattern :
						NULL,
		.status = status,
		.bytes = bytes,
		.dur_ms = secs * 1e3,
		.client = rq->client[0] ? rq->client : NULL,
		.user_id = rq->authenticated ? rq->principal.user_id : NULL,
		.aborted = aborted,
	};
	log_set_request_id(rq->rid);
	log_access(&a);
}

void reply_response(struct request *rq, unsigned status, struct MHD_Response *resp, size_t bytes)
{
	if (rq->responded) {
		log_error("a second response for %s %s was dropped (a bug)", rq->method, rq->path);
		MHD_destroy_response(resp);
		return;
	}
	if (rq->used_replica && replica_answer_dropped(status)) {
		/* not the last word: request_dispatch asks the primary */
		rq->replica_lost = status == 503;
		MHD_destroy_response(resp);
		reply_headers_drop(rq, rq->handler_nheaders);
		rq->replica_retry = true;
		return;
	}
	rq->responded = true;
	rq->status = status;
	rq->bytes = bytes;
	/* The access line is written (write(2), not buffered) before the answer
	 * is queued: a client that saw an answer finds its line in the log even
	 * if conformd is killed right after. A transfer that then fails adds an
	 * "aborted=1" line (http_on_completed). */
	access_log(rq, status, bytes, elapsed_seconds(&rq->started), false);
	MHD_add_response_header(resp, "X-Request-Id", rq->rid);
	/* public artifacts: browser verifiers on any origin may read them (no
	 * credentials are involved: they are public and need no token) */
	if (rq->route && rq->route->cors)
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	for (int i = 0; i < rq->nheaders; i++)
		MHD_add_response_header(resp, rq->header_names[i], rq->header_values[i]);
	if (MHD_queue_response(rq->conn, status, resp) != MHD_YES)
		log_warn("could not queue the response (client gone?)");
	MHD_destroy_response(resp);
}

void reply_bytes(struct request *rq, unsigned status, const char *content_type, const void *data,
		 size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	reply_response(rq, status, resp, len);
}

void reply_taken(struct request *rq, unsigned status, const char *content_type, char *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	reply_response(rq, status, resp, len);
}

void reply_static(struct request *rq, unsigned status, const char *content_type, const void *data,
		  size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	reply_response(rq, status, resp, len);
}

static void reply_dumped(struct request *rq, unsigned status, const char *content_type, char *text)
{
	size_t len = strlen(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	reply_response(rq, status, resp, len);
}

void reply_json(struct request *rq, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		struct cf_error err;
		cf_error_set(&err, CF_EINTERNAL, NULL, "could not serialise the response");
		reply_problem(rq, &err);
		return;
	}
	reply_dumped(rq, status, "application/json", text);
}

/*
 * A JSON string of s. A detail or instance that quotes a decoded path may
 * hold bytes that are not UTF-8, which JSON cannot carry (json_string says
 * NULL and the member would be lost): then every byte past ASCII is
 * written %XX, as in a URI.
 */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s);
	char *t = cf_calloc(n * 3 + 1, 1);
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			t[o++] = (char)*p;
		else
			o += (size_t)snprintf(t + o, 4, "%%%02X", *p);
	}
	j = json_string(t);
	free(t);
	return j;
}

void reply_problem(struct request *rq, const struct cf_error *err)
{
	unsigned status = (unsigned)cf_code_http_status(err->code);
	const char *title = MHD_get_reason_phrase_for(status);
	json_t *p = json_object();
	char type[96];
	snprintf(type, sizeof type, "urn:conform:problem:%s", cf_code_slug(err->code));
	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, "title", json_string(title && *title ? title : "Error"));
	json_object_set_new(p, "status", json_integer(status));
	/* Server-side failures are described in the log, not to the client. */
	if (status >= 500 && err->code != CF_EUNAVAILABLE)
		json_object_set_new(p, "detail",
				    json_string("an internal error occurred; the request id names it in the "
						"server log"));
	else
		json_object_set_new(p, "detail", json_text(err->detail));
	if (err->pointer[0])
		json_object_set_new(p, "pointer", json_string(err->pointer));
	json_object_set_new(p, "instance", json_text(rq->path));
	json_object_set_new(p, "request_id", json_string(rq->rid));
	if (err->extra[0]) {
		json_t *extra = json_loads(err->extra, 0, NULL);
		if (json_is_object(extra))
			json_object_update_missing(p, extra);
		json_decref(extra);
	}
	if (status >= 500)
		log_error("%s %s: %s", rq->method, rq->path, err->detail);
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	reply_dumped(rq, status, "application/problem+json", text);
}

void reply_outcome(struct request *rq, cf_err e, const struct cf_error *err, unsigned status,
		   json_t *body)
{
	if (e) {
		json_decref(body);
		reply_problem(rq, err);
	} else {
		reply_json(rq, status, body);
	}
}

void request_run(struct request *rq, request_step step, unsigned status)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	cf_err e = CF_OK;
	if (rq->route->body == ROUTE_BODY_JSON)
		e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = step(rq, db, body, &out, &err);
	json_decref(body);
	reply_outcome(rq, e, &err, status, out);
}

void request_run_page(struct request *rq, request_page_step step)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct page page;
	cf_err e = request_page(rq, &page, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = step(rq, db, &page, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

#define IDEMPOTENCY_HEADER "Idempotency-Key"

/*
 * The key: a Structured Fields string ("...") or, as many clients send it,
 * bare; 1 to 255 printable ASCII characters. *present is false without one.
 */
static cf_err idempotency_key_of(const struct request *rq, char key[256], bool *present,
				 struct cf_error *err)
{
	const char *v = request_header(rq, IDEMPOTENCY_HEADER);
	*present = v != NULL;
	if (!v)
		return CF_OK;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n == 0 || n > 255)
		return cf_error_set(err, CF_EINVAL, NULL, IDEMPOTENCY_HEADER " is 1 to 255 characters");
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return cf_error_set(err, CF_EINVAL, NULL, IDEMPOTENCY_HEADER
					    " is printable ASCII without quotes or backslashes");
	memcpy(key, v, n);
	key[n] = '\0';
	return CF_OK;
}

/* SHA-256 over method, path and what: what a repeat must match. */
static void idempotency_fingerprint(const struct request *rq, const void *what, size_t len,
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

struct keyed_creation {
	struct request *rq;
	request_create_step step;
	void *arg;
	int first; /* rq's reply headers before the creation */
};

/* One attempt of a keyed creation for idempotency_run: the step, with the
 * headers it added as what is recorded beside its answer. An attempt that
 * was rolled back leaves no header behind. */
static cf_err keyed_attempt(struct db *db, void *arg, json_t **answer, json_t **headers,
			    struct cf_error *err)
{
	struct keyed_creation *c = arg;
	struct request *rq = c->rq;
	reply_headers_drop(rq, c->first);
	cf_err e = c->step(rq, db, c->arg, answer, err);
	if (e)
		return e;
	*headers = json_object();
	for (int i = c->first; i < rq->nheaders; i++)
		json_object_set_new(*headers, rq->header_names[i], json_string(rq->header_values[i]));
	return CF_OK;
}

cf_err request_create(struct request *rq, struct db *db, const void *what, size_t what_len,
		      request_create_step step, void *arg, json_t **out, struct cf_error *err)
{
	*out = NULL;
	char key[256];
	bool present = false;
	cf_err e = idempotency_key_of(rq, key, &present, err);
	if (e)
		return e;
	if (!present)
		return step(rq, db, arg, out, err);
	char fp[DIGEST_SHA256_HEX_LEN];
	idempotency_fingerprint(rq, what, what_len, fp);
	struct idempotency_key k = { rq->principal.user_id, key, fp };
	struct keyed_creation c = { rq, step, arg, rq->nheaders };
	json_t *headers = NULL;
	bool replayed = false;
	e = idempotency_run(db, &k, keyed_attempt, &c, out, &headers, &replayed, err);
	/* what an attempt that was then rolled back added is no part of a
	 * failure's or a repeat's answer */
	if (e || replayed)
		reply_headers_drop(rq, c.first);
	if (!e && replayed) { /* the first answer, as it was */
		const char *name;
		json_t *value;
		json_object_foreach(headers, name, value)
			reply_header(rq, name, json_string_value(value));
		reply_header(rq, "Idempotent-Replayed", "true");
	}
	json_decref(headers);
	return e;
}

cf_err request_refuse_key(const struct request *rq, const char *why, struct cf_error *err)
{
	if (!request_header(rq, IDEMPOTENCY_HEADER))
		return CF_OK;
	return cf_error_set(err, CF_EINVAL, NULL, IDEMPOTENCY_HEADER " is not accepted here: %s", why);
}

struct created {
	request_step step;
	const json_t *body;
	const char *collection;
};

/* The creation with its Location, as one step for request_create. */
static cf_err create(struct request *rq, struct db *db, void *arg, json_t **out, struct cf_error *err)
{
	const struct created *c = arg;
	cf_err e = c->step(rq, db, c->body, out, err);
	if (!e && jsonx_str(*out, "id")) {
		char *location = cf_asprintf("%s/%s", c->collection, jsonx_str(*out, "id"));
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, location);
		free(location);
	}
	return e;
}

void request_run_created(struct request *rq, request_step step, const char *collection)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *body = NULL, *out = NULL;
	cf_err e = request_json(rq, &body, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e) {
		struct created c = { step, body, collection };
		e = request_create(rq, db, rq->body.data, rq->body.len, create, &c, &out, &err);
	}
	json_decref(body);
	reply_outcome(rq, e, &err, 201, out);
}

void reply_problem_msg(struct request *rq, enum cf_code code, const char *fmt, ...)
{
	struct cf_error err;
	cf_error_clear(&err);
	err.code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.detail, sizeof err.detail, fmt, ap);
	va_end(ap);
	reply_problem(rq, &err);
}

struct blob_writer *request_take_blob(struct request *rq)
{
	struct blob_writer *b = rq->blob;
	rq->blob = NULL;
	return b;
}

static struct request *request_new(struct server *srv, struct MHD_Connection *conn, const char *url,
				   const char *method)
{
	struct request *rq = cf_calloc(1, sizeof *rq);
	rq->srv = srv;
	rq->conn = conn;
	rq->method = method;
	rq->path = url;
	rq->route_index = -1;
	clock_gettime(CLOCK_MONOTONIC, &rq->started);
	request_set_rid(rq);
	buf_init(&rq->body, srv->cfg->max_body);
	atomic_fetch_add(&srv->in_flight, 1);
	return rq;
}

static void reply_too_large(struct request *rq)
{
	if (rq->body_announced)
		reply_problem_msg(rq, CF_ETOOLARGE,
				  "the request body (%llu bytes) is larger than the limit of %llu bytes",
				  (unsigned long long)rq->body_announced, (unsigned long long)rq->body_limit);
	else
		reply_problem_msg(rq, CF_ETOOLARGE, "the request body is larger than the limit of %llu bytes",
				  (unsigned long long)rq->body_limit);
}

/* First call of a request: route it, check the announced body size, and
 * decide who may call it, all before a byte of the body is read. */
static void request_begin(struct request *rq)
{
	char allow[128];
	/* HEAD is answered like GET; libmicrohttpd leaves out the body. */
	const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
	enum router_result r =
		router_match(method, rq->path, &rq->route_index, &rq->params, allow, sizeof allow);
	const struct route *route = r == ROUTER_MATCH ? &router_routes(NULL)[rq->route_index] : NULL;
	bool upload = route && route->body == ROUTE_BODY_UPLOAD;
	uint64_t limit = upload ? rq->srv->cfg->max_upload : rq->srv->cfg->max_body;
	if (route && route->max_body && route->max_body < limit) {
		limit = route->max_body;
		buf_init(&rq->body, limit); /* nothing is read yet */
	}
	log_set_request_id(rq->rid);

	/* The body limit comes first: an oversized request is refused before
	 * anything else is said about it, as a proxy would. */
	rq->body_limit = limit;
	const char *cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end = NULL;
		unsigned long long n = strtoull(cl, &end, 10);
		if (end != cl && n > limit) {
			rq->body_announced = n;
			rq->body_too_large = true;
			/* Answering now and closing with the body unread makes the
			 * kernel reset the connection, and a client that is still
			 * sending (any that did not ask for 100 Continue) loses the
			 * answer. So a body not too far past the limit is read and
			 * dropped first, like Apache's and nginx's lingering close,
			 * and answered in request_dispatch. */
			const char *expect = request_header(rq, MHD_HTTP_HEADER_EXPECT);
			bool waits = expect && strcasecmp(expect, "100-continue") == 0;
			if (waits || n - limit > HTTP_DRAIN_MAX)
				reply_too_large(rq);
			return;
		}
	}
	if (r == ROUTER_NOT_FOUND) {
		reply_problem_msg(rq, CF_ENOTFOUND, "there is no resource at %s", rq->path);
		return;
	}
	if (r == ROUTER_BAD_METHOD) {
		reply_header(rq, MHD_HTTP_HEADER_ALLOW, allow);
		reply_problem_msg(rq, CF_EMETHOD, "%s is not allowed on %s; allowed: %s", rq->method,
				  rq->path, allow);
		return;
	}
	rq->route = route;
	if (!auth_request(rq, &rq->principal, &rq->authenticated))
		return;
	if (upload) {
		if (route->precheck) {
			route->precheck(rq);
			if (rq->responded)
				return;
		}
		struct cf_error err;
		if (blob_begin(rq->srv->blob_root, limit, &rq->blob, &err))
			reply_problem(rq, &err);
	}
}

/* An upload's body goes to its blob. Whatever goes wrong on the way, the body
 * is read to its end before the answer: libmicrohttpd 0.9.x cannot queue a
 * response while a body is still arriving (MHD_queue_response fails), so an
 * answer tried then is lost and the client hears nothing until the
 * connection timeout. Bytes are counted after a failure too, so that an
 * over-limit body is answered 413 even when the disk filled up first: the
 * limit comes first, as in request_begin. */
static void request_upload(struct request *rq, const char *data, size_t n)
{
	rq->body_received += n;
	if (rq->body_received > rq->body_limit) {
		rq->body_too_large = true;
		blob_abort(rq->blob);
		rq->blob = NULL;
		return;
	}
	if (!rq->blob)
		return; /* storing failed earlier: read and drop */
	struct cf_error err;
	if (blob_write(rq->blob, data, n, &err)) {
		if (err.code == CF_ETOOLARGE) {
			rq->body_too_large = true;
		} else {
			log_error("evidence upload: %s", err.detail);
			rq->body_failed = true;
			rq->body_error = err;
		}
		blob_abort(rq->blob);
		rq->blob = NULL;
	}
}

static void request_chunk(struct request *rq, const char *data, size_t n)
{
	if (rq->responded || rq->body_too_large)
		return;
	if (rq->route && rq->route->body == ROUTE_BODY_UPLOAD) {
		request_upload(rq, data, n);
		return;
	}
	if (buf_append(&rq->body, data, n, NULL)) {
		rq->body_too_large = true;
		buf_free(&rq->body);
	}
}

static void request_dispatch(struct request *rq)
{
	if (rq->body_too_large) {
		reply_too_large(rq);
		return;
	}
	log_set_request_id(rq->rid);
	if (rq->body_failed) {
		reply_problem(rq, &rq->body_error);
		return;
	}
	rq->read_replica = reads_from_replica(rq);
	rq->handler_nheaders = rq->nheaders;
	rq->route->handler(rq);
	if (rq->replica_retry) {
		/* the replica said what may only mean it is behind or away */
		if (rq->replica_lost) {
			/* the connection was lost: a replica that restarted leaves
			 * each thread one stale connection, and is back if a new one
			 * opens; if none does, workerdb_get_read marks it failed */
			struct db *again = NULL;
			struct cf_error ignored;
			if (workerdb_get_read(rq->srv->cfg->database_read_url, &again, &ignored) == CF_OK)
				log_debug("the read replica's connection was lost and is open again");
		}
		rq->read_replica = rq->used_replica = rq->replica_retry = rq->replica_lost = false;
		workerdb_count_fallback();
		rq->route->handler(rq);
	} else if (rq->used_replica) {
		workerdb_replica_ok();
	}
	if (!rq->responded)
		reply_problem_msg(rq, CF_EINTERNAL, "the handler sent no response");
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct request *rq = *con_cls;
	if (!rq) {
		conntrack_head_received(conn);
		rq = request_new(cls, conn, url, method);
		*con_cls = rq;
		request_begin(rq);
		if (rq->responded)
			conntrack_busy(conn); /* answered at once: no body deadline */
		return MHD_YES;
	}
	if (*upload_data_size) {
		conntrack_body_received(conn, *upload_data_size);
		request_chunk(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	conntrack_busy(conn);
	if (!rq->responded)
		request_dispatch(rq);
	return MHD_YES;
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct request *rq = *con_cls;
	conntrack_request_done(conn);
	if (!rq)
		return;
	*con_cls = NULL;
	double secs = elapsed_seconds(&rq->started);
	unsigned status = rq->responded ? rq->status : 499;
	metrics_observe(rq->route_index, status, secs);
	/* the access line of an answer was written when it was queued; what is
	 * left to say is a request never answered, or an answer not delivered */
	if (!rq->responded || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		access_log(rq, status, rq->bytes, secs, true);
		log_set_request_id(NULL);
	}

	router_params_free(&rq->params);
	reply_headers_drop(rq, 0);
	buf_free(&rq->body);
	blob_abort(rq->blob); /* an upload the handler did not keep leaves nothing */
	free(rq);
	atomic_fetch_sub(&srv->in_flight, 1);
}

ssize_t reply_stream_end(bool failed)
{
	return failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
}
