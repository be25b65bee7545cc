/*
 * auth: authentication and authorisation of a request (see auth.h).
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "party.h"
#include "router.h"
#include "server.h"
#include "throttle.h"

static const char *param_of(void *ctx, const char *name)
{
	return request_param(ctx, name);
}

static void refuse_unauthenticated(struct request *rq, const char *why)
{
	reply_header(rq, "WWW-Authenticate", "Bearer realm=\"conform\"");
	reply_problem_msg(rq, CF_EUNAUTH, "%s", why);
}

bool auth_request(struct request *rq, struct principal *who, bool *authenticated)
{
	const struct authz_policy *policy = &request_route(rq)->access;
	const char *header = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!header && policy->public_access)
		return true;
	if (!header) {
		refuse_unauthenticated(rq, "this needs a bearer token (Authorization: Bearer cfm_...)");
		return false;
	}
	const char *client = request_client(rq);
	struct cf_error err;
	const char *token = NULL;
	if (strncasecmp(header, "Bearer ", 7) == 0) {
		token = header + 7;
		while (*token == ' ')
			token++;
	}
	/* the token is looked up whatever the address's record: a valid one is
	 * never refused, so that a bad client behind the same NAT or proxy as
	 * good ones locks out only itself */
	struct db *db = NULL;
	cf_err e = token ? request_db(rq, &db, &err) : CF_EUNAUTH;
	if (!e)
		e = party_authenticate(db, token, who, &err);
	if (e == CF_EUNAUTH || !token) {
		const char *why = token ? err.detail : "the Authorization header is not a bearer token";
		long wait = throttle_failure(client);
		metrics_count_auth_failure(wait > 0);
		/* the reason, never the token */
		log_warn("authentication failed from %s: %s%s", client, why,
			 wait > 0 ? " (throttled)" : "");
		if (wait > 0) {
			char secs[24];
			snprintf(secs, sizeof secs, "%ld", wait);
			reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, secs);
			reply_problem_msg(rq, CF_ETHROTTLED,
					  "too many failed authentications from your address; try again in %ld s",
					  wait);
			return false;
		}
		refuse_unauthenticated(rq, why);
		return false;
	}
	if (e) {
		reply_problem(rq, &err);
		return false;
	}
	*authenticated = true;
	e = authz_check(db, who, policy, param_of, rq, &err);
	if (e) {
		reply_problem(rq, &err);
		return false;
	}
	return true;
}
