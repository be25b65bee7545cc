/*
 * http: the libmicrohttpd glue. One struct request lives from the first
 * callback of a request to libmicrohttpd's request-completed callback, where
 * it (and everything hung on it) is freed in one place, the access line is
 * written and the metrics are counted. A handler sends exactly one response
 * with one of the reply_* functions, or hands its domain step to request_run.
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
#include "clientaddr.h"
#include "error.h"
#include "party.h"

struct server;
struct route;
struct db;
struct blob_writer;

#define HTTP_MAX_PARAMS 6
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
	char param_names[HTTP_MAX_PARAMS][32];
	char *param_values[HTTP_MAX_PARAMS];
	int nparams;
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
	char client[CLIENTADDR_LEN]; /* the client's address, once auth needs it */
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
 * The pure parts of request_query_int and request_json, which take outside
 * bytes and so have fuzz targets of their own (tests/fuzz/): the integer of
 * a query value v (the whole of it, decimal, within min..max; else CF_EINVAL
 * naming name, *out unchanged), and the deepest nesting of arrays and
 * objects in the JSON text s of n bytes (strings skipped), which
 * request_json checks before parsing.
 */
cf_err http_parse_long(const char *v, const char *name, long min, long max, long *out,
		       struct cf_error *err) CF_MUST_CHECK;
long http_json_depth(const char *s, size_t n);

/* A request header, or NULL. Borrowed from libmicrohttpd. */
const char *request_header(const struct request *rq, const char *name);

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

/* How many items a page holds unless ?limit= says otherwise, and at most. */
#define REQUEST_LIMIT_DEFAULT 100
#define REQUEST_LIMIT_MAX 500

/* A list's domain step: one page of at most limit items. */
typedef cf_err (*request_page_step)(struct request *rq, struct db *db, int limit, json_t **out,
				    struct cf_error *err);

/*
 * The usual list handler: reads ?limit= (REQUEST_LIMIT_DEFAULT, at most
 * REQUEST_LIMIT_MAX) before taking the worker's database, so that a bad one
 * is 400 even while the database is down, runs step and replies 200.
 */
void request_run_page(struct request *rq, request_page_step step);

/* request_run for a creation (a JSON body): 201, and Location:
 * collection/<id> when *out has an "id"; an Idempotency-Key makes repeats
 * answer the first creation (creation.h). */
void request_run_created(struct request *rq, request_step step, const char *collection);

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

#endif
