/*
 * auth: who is calling, and may they? Runs after routing and before any
 * handler: reads the bearer token, authenticates (401, logged without the
 * secret; 429 instead once the address has failed too often, see
 * throttle.h: a valid token is never refused) and applies the route's
 * policy from the route table (403). A request without a token to a public
 * route goes straight through.
 */
#ifndef CONFORM_AUTH_H
#define CONFORM_AUTH_H

#include <stdbool.h>

struct request;
struct principal;

/* True when the request may go on to its handler; otherwise the refusal has
 * been sent. A valid token's holder is put in *who, and *authenticated set,
 * before the route's policy is applied (so that the access line of a 403
 * names them); both are rq's own, which http.c hands out to handlers. */
bool auth_request(struct request *rq, struct principal *who, bool *authenticated);

#endif
