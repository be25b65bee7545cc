/*
 * router: the route table (method, pattern, handler, body kind) and the
 * matching of a request to it: an unknown path is 404, a known path with
 * another method 405 with Allow.
 */
#ifndef CONFORM_ROUTER_H
#define CONFORM_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"

struct request;
struct page_rule;

typedef void (*route_handler)(struct request *rq);

enum route_body {
	ROUTE_BODY_NONE,    /* any body is read and ignored (within max-body) */
	ROUTE_BODY_JSON,    /* up to max-body bytes, buffered */
	ROUTE_BODY_UPLOAD,  /* up to max-upload bytes, streamed to the blob store */
};

struct route {
	const char *method;
	const char *pattern;   /* "/v1/schemes/{id}": {name} matches one segment */
	route_handler handler;
	enum route_body body;
	struct authz_policy access; /* who may call it: checked before the handler */
	const char *summary;
	route_handler precheck;     /* upload routes: may refuse before the body is read */
	bool cors;                  /* a public artifact that browser verifiers fetch from any
				     * origin: Access-Control-Allow-Origin: * on every answer */
	size_t max_body;            /* below the configured max-body where the route needs
				     * less (0: that limit): refused before a byte is read */
	bool rest;                  /* its last {param} takes the rest of the path, slashes
				     * and all (C2SP tile paths: "x001/x234/067.p/12") */
	const struct page_rule *page; /* a list: how it pages (?limit=&after=, core/page.h);
				       * NULL for what is no list */
};

#define ROUTER_MAX_PARAMS 6

/* A matched path's parameters ("id" = "…" for /v1/x/{id}). */
struct router_params {
	int n;
	char names[ROUTER_MAX_PARAMS][32];
	char *values[ROUTER_MAX_PARAMS]; /* copies, freed by router_params_free */
};

/* The value of parameter name, or NULL (borrowed from p). */
const char *router_param(const struct router_params *p, const char *name);

/* Frees the values (safe twice: n goes back to 0). */
void router_params_free(struct router_params *p);

/* The table, for the server and for tests that walk every route. */
const struct route *router_routes(size_t *count);

enum router_result { ROUTER_MATCH, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/*
 * Matches method and path. On ROUTER_MATCH *index is the route and *params
 * (empty before) holds its path parameters (the caller frees them with
 * router_params_free); otherwise *index is -1 and *params stays empty. On
 * ROUTER_BAD_METHOD allow (size allow_size) lists the path's methods, comma
 * separated.
 */
enum router_result router_match(const char *method, const char *path, int *index,
				struct router_params *params, char *allow, size_t allow_size);

#endif
