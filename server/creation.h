/*
 * creation: running a creation (POST that makes a resource) with the
 * Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header).
 * A client that lost the answer to a creation repeats it with the same key
 * and gets the first answer again, not a second resource.
 *
 * With the header, the creation and the record of its answer are one
 * database transaction: a key is recorded exactly when its creation
 * committed. Repeats of one key are handled one at a time, so two at once
 * still create once. A key is the caller's own, kept for a day
 * (core/idempotency.h); reused for a different request (method, path, query
 * or body) it is refused with 422. Failures are not recorded: a repeat tries
 * again.
 */
#ifndef CONFORM_CREATION_H
#define CONFORM_CREATION_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

struct request;
struct db;

/* The creation itself; it may add reply headers (reply_header), which are
 * recorded and replayed with its answer. */
typedef cf_err (*creation_step)(struct request *rq, struct db *db, void *arg, json_t **out,
				struct cf_error *err);

/*
 * Runs step as the creation of rq. what is the request's content beyond its
 * method and path (the body, with the query where it matters): a repeat must
 * bring the same. Without an Idempotency-Key header this is just step. On
 * success *out is the answer, the first one's on a repeat (with its headers
 * added again, and Idempotent-Replayed: true).
 */
cf_err creation_run(struct request *rq, struct db *db, const void *what, size_t what_len,
		    creation_step step, void *arg, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* CF_EINVAL when the request carries an Idempotency-Key: for creations
 * whose answer cannot be kept (a token is shown once, never stored). */
cf_err creation_refuse_key(const struct request *rq, const char *why, struct cf_error *err) CF_MUST_CHECK;

#endif
