/*
 * remote: conformctl's client of conformd's API (--url, CONFORM_URL). With a
 * URL, the commands that do not need the database owner act through the
 * API, as the token's holder, and need no data directory, database or
 * cluster. Problem answers become cf_errors carrying the API's detail; the
 * token is sent only in the Authorization header, never printed, never
 * followed to another address (redirects are refused), and https:// peers
 * are verified against the system's trust store.
 */
#ifndef CONFORM_REMOTE_H
#define CONFORM_REMOTE_H

#include <jansson.h>
#include <stdbool.h>

#include "cli.h"

/* Is conformctl working through the API (a URL is set)? */
bool remote_on(const struct cli *cli);

/*
 * method path (from "/v1/..."; the query already in it, values escaped with
 * remote_escape) with body (borrowed; NULL: none) as JSON. A 2xx answer's
 * JSON goes to *out (new reference; NULL when the answer is empty). A
 * problem answer, a network failure, a redirect or an answer that is not
 * JSON is an error whose detail says what the API said (its detail) and
 * which request it was; *out is then NULL.
 */
cf_err remote_json(struct cli *cli, const char *method, const char *path, const json_t *body,
		   json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * remote_json on the path made of fmt, whose one "%s" is id escaped as a path
 * segment ("/v1/keys/%s/retire").
 */
cf_err remote_json_on(struct cli *cli, const char *method, const char *fmt, const char *id,
		      const json_t *body, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * One page of a list route: GET path?limit=&after= with the query pairs
 * (name, value, name, value, ..., NULL; a NULL value leaves its name out).
 */
cf_err remote_list_page(struct cli *cli, const char *path, int limit, long long after,
			const char *const *query, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/* GET path as text (a checkpoint, a verifier key): *out new, the caller frees. */
cf_err remote_text(struct cli *cli, const char *path, char **out, struct cf_error *err) CF_MUST_CHECK;

/* GET path as bytes (a tile): *out new (*len bytes), the caller frees. */
cf_err remote_bytes(struct cli *cli, const char *path, unsigned char **out, size_t *len,
		    struct cf_error *err) CF_MUST_CHECK;

/* s percent-encoded for a path segment or query value (new string). */
char *remote_escape(const char *s);

struct buf;

/* Appends "&name=value" (value escaped) to the query in q when value is not
 * NULL. */
void remote_query_add(struct buf *q, const char *name, const char *value);

/* The token's holder, from GET /v1/me: user and organisation ids. */
cf_err remote_me(struct cli *cli, char user[37], char org[37], struct cf_error *err) CF_MUST_CHECK;

/* The error of a command that needs the database (the owner's, or data the
 * API does not serve) when a URL is set and no database is: names --url. */
cf_err remote_needs_database(const char *command, struct cf_error *err) CF_MUST_CHECK;

#endif
