/*
 * http: the libmicrohttpd glue. One struct request lives from the first
 * callback of a request to libmicrohttpd's request-completed callback, where
 * it (and everything hung on it) is freed in one place, the access line is
 * written and the metrics are counted. A handler sends exactly one response
 * with one of the reply_* functions, or hands its domain step to request_run.
 * A creation with an Idempotency-Key runs through core/idempotency.h's
 * idempotency_run (request_create): this side reads the key, says what a
 * repeat must match, and replays the recorded headers.
 */
#ifndef CONFORM_HTTP_H
#define CONFORM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "error.h"
#include "party.h"

struct server;
struct route;
struct db;
struct blob_writer;
struct page;

/* One request, from its first callback to the request-completed one. Its
 * contents are http.c's: handlers read them through the functions below. */
struct request;

/* A path parameter of the matched route ("id" for /v1/x/{id}); NULL if none. */
const char *request_param(const struct request *rq, const char *name);

/* A query parameter, or NULL. Borrowed from libmicrohttpd. */
const char *request_query(const struct request *rq, const char *name);

/*
 * An integer query parameter within min..max; def when absent. A bad value
 * is CF_EINVAL naming the parameter.
 */
cf_err request_query_int(const struct request *rq, const char *name, long def, long min, long max,
			 long *out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The pure part of request_json, which takes outside bytes and so has a fuzz
 * target of its own (tests/fuzz/fuzz_json): the deepest nesting of arrays
 * and objects in the JSON text s of n bytes (strings skipped), which
 * request_json checks before parsing. (Query numbers are read by
 * core/page.h's page_parse_long, fuzzed by fuzz_query.)
 */
long http_json_depth(const char *s, size_t n);

/* A request header, or NULL. Borrowed from libmicrohttpd. */
const char *request_header(const struct request *rq, const char *name);

/* The request's decoded path (no query string), owned by libmicrohttpd. */
const char *request_path(const struct request *rq);

/* The matched route (NULL before routing or when none matched). */
const struct route *request_route(const struct request *rq);

/* The server the request came to (its settings, blob root, signer). */
struct server *request_server(const struct request *rq);

/* Who is calling: valid on routes that are not public, and on public ones
 * when a valid token came (otherwise all zero). Lives as long as rq. */
const struct principal *request_principal(const struct request *rq);

/* The client's address (clientaddr.h: X-Forwarded-For from a trusted
 * proxy), worked out on first use. Lives as long as rq. */
const char *request_client(struct request *rq);

/* The raw body of a route that buffers it (ROUTE_BODY_JSON), *len bytes,
 * not NUL-terminated; borrowed from rq. */
const char *request_body(const struct request *rq, size_t *len);

/*
 * Parses the JSON body: checks the media type (application/json), the
 * nesting depth and duplicate keys; an empty body is {}. On success *out is
 * a new reference.
 */
cf_err request_json(struct request *rq, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The calling worker thread's database connection (opened on first use,
 * re-established after a failure). On a public read (a GET of a public
 * route, without Authorization) with a read replica
 * configured, the thread's connection to the replica, unless it failed a
 * moment ago (then the primary). Such a request's answer is final only when
 * it is a success or refuses the input: a 404, 409, 410, 422 or 5xx made on
 * the replica is dropped and the handler runs again on the primary, so that
 * what the replica has not replayed yet (a certificate issued a moment ago)
 * is never said not to exist.
 */
cf_err request_db(struct request *rq, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/* The primary's connection whatever the request: for what feeds conformd's
 * caches, which follow the primary's notifications (a copy read from a
 * replica that had not yet replayed a change would be kept after the
 * notification that should have dropped it). */
cf_err request_db_primary(struct request *rq, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/* Upload routes: hands the stored body to the handler, which commits or
 * aborts it. NULL if there is none. */
struct blob_writer *request_take_blob(struct request *rq);

/* Adds a header to the response that will be sent (copied). */
void reply_header(struct request *rq, const char *name, const char *value);

/* Sends body (stolen reference) as application/json with the status. */
void reply_json(struct request *rq, unsigned status, json_t *body);

/* Sends err as RFC 9457 application/problem+json. */
void reply_problem(struct request *rq, const struct cf_error *err);

/* The usual ending of a handler: the problem when e is set (body, if any,
 * is released), else body (stolen) with status. */
void reply_outcome(struct request *rq, cf_err e, const struct cf_error *err, unsigned status,
		   json_t *body);

/*
 * A handler's domain step, run by request_run. rq gives the parameters and
 * the principal, db is the worker's connection (borrowed), body the parsed
 * JSON body (borrowed; NULL on routes without one). On success the step sets
 * *out (a new reference, sent as the reply); on failure it fills err, and
 * whatever it left in *out is released. It may add headers with
 * reply_header but never replies itself.
 */
typedef cf_err (*request_step)(struct request *rq, struct db *db, const json_t *body, json_t **out,
			       struct cf_error *err);

/*
 * The usual handler: parses the body when the route takes JSON, takes the
 * worker's database, runs step and replies once: *out with status, or the
 * problem of whichever of the three failed first. Handlers that check their
 * query or body fields before taking the database keep their own shape, so
 * that such a request is refused without one.
 */
void request_run(struct request *rq, request_step step, unsigned status);

/*
 * The page a list was asked for (?limit=&after=) by its route's rule (the
 * route table's .page, core/page.h): the same values and errors for every
 * list. *page's after_key is borrowed from libmicrohttpd. CF_EINTERNAL on a
 * route that does not page.
 */
cf_err request_page(const struct request *rq, struct page *page, struct cf_error *err) CF_MUST_CHECK;

/* A list's domain step: one page as asked (borrowed). */
typedef cf_err (*request_page_step)(struct request *rq, struct db *db, const struct page *page,
				    json_t **out, struct cf_error *err);

/*
 * The usual list handler: reads the page (request_page) before taking the
 * worker's database, so that a bad one is 400 even while the database is
 * down, runs step and replies 200.
 */
void request_run_page(struct request *rq, request_page_step step);

/* request_run for a creation (a JSON body): 201, and Location:
 * collection/<id> when *out has an "id"; an Idempotency-Key makes repeats
 * answer the first creation (request_create). */
void request_run_created(struct request *rq, request_step step, const char *collection);

/* A creation's step for request_create: the creation itself; it may add
 * reply headers (reply_header), which are recorded and replayed with its
 * answer. With an Idempotency-Key it runs inside idempotency_run's
 * transaction and may run more than once (a serialisation failure or a
 * deadlock retries it): it must only touch the database. */
typedef cf_err (*request_create_step)(struct request *rq, struct db *db, void *arg, json_t **out,
				      struct cf_error *err);

/*
 * Runs step as the creation of rq, with the Idempotency-Key request header
 * (draft-ietf-httpapi-idempotency-key-header) when it carries one: a client
 * that lost the answer repeats the creation with the same key and gets the
 * first answer again (with its headers and Idempotent-Replayed: true), not
 * a second resource; a key reused for a different request is 422; failures
 * are not recorded (core/idempotency.h says how). what is the request's
 * content beyond its method and path (the body, with the query where it
 * matters): a repeat must bring the same. Without the header this is just
 * step. On success *out is the answer (new reference).
 */
cf_err request_create(struct request *rq, struct db *db, const void *what, size_t what_len,
		      request_create_step step, void *arg, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* CF_EINVAL when the request carries an Idempotency-Key: for creations
 * whose answer cannot be kept (a token is shown once, never stored). */
cf_err request_refuse_key(const struct request *rq, const char *why, struct cf_error *err) CF_MUST_CHECK;

/* Sends a problem built from a code and a message. */
void reply_problem_msg(struct request *rq, enum cf_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sends len bytes of data (taken: freed with the response) with the media
 * type. */
void reply_taken(struct request *rq, unsigned status, const char *content_type, char *data, size_t len);

/* Sends len bytes of data (copied) with the media type. */
void reply_bytes(struct request *rq, unsigned status, const char *content_type, const void *data,
		 size_t len);

/* Sends static data (not copied, must outlive the response). */
void reply_static(struct request *rq, unsigned status, const char *content_type, const void *data,
		  size_t len);

/* Sends a response built by the caller (queued and destroyed here). */
void reply_response(struct request *rq, unsigned status, struct MHD_Response *resp, size_t bytes);

/* How a streamed answer's reader ends once its pages are done: complete (the
 * last chunk of the chunked encoding is sent), or failed (the connection is
 * closed without it, so that no client takes a part for the whole). */
ssize_t reply_stream_end(bool failed);

/* libmicrohttpd's two callbacks, for server.c (MHD_OPTION_NOTIFY_COMPLETED
 * and the access handler); cls is the struct server. */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

#endif
