/*
 * identity: the one issuer identity of a deployment, its public URL. Every
 * issuer DID (did:web), key id, certificate id and status list URL is made
 * from it, so it is kept in the database (table service_identity), stored
 * once — at conformd's first start or by `conformctl identity set` — and
 * read from there by conformd and conformctl alike. A different URL later
 * is refused: certificates already issued name the stored one.
 */
#ifndef CONFORM_IDENTITY_H
#define CONFORM_IDENTITY_H

#include <stdbool.h>

#include "audit.h"
#include "db.h"
#include "error.h"

/*
 * Whether url may be an issuer identity. did:web resolves only over https
 * on a host name, so anything else (http, an IP address) is accepted only
 * for a loopback host (127.0.0.0/8, ::1, localhost), with *loopback set so
 * that the caller warns; http on a public host or a non-loopback IP address
 * is refused (CF_EINVAL, the message names the URL and the rule).
 * url has config's syntax (see config.c).
 */
cf_err identity_check(const char *url, bool *loopback, struct cf_error *err) CF_MUST_CHECK;

/*
 * The public URL a service listening on listen ("host:port") has when it
 * is given none: http://<host>:<port> for a loopback host (the wildcard
 * addresses are not one). New string in *out; CF_EINVAL, naming the
 * setting to give instead, when listen is not loopback or its port is 0.
 */
cf_err identity_from_listen(const char *listen, char **out, struct cf_error *err) CF_MUST_CHECK;

/* The stored public URL (new string) and when and by what it was stored
 * (into when[40] and by[200], either may be NULL); *out NULL if none is. */
cf_err identity_get(struct db *db, char **out, char when[40], char by[200],
		    struct cf_error *err) CF_MUST_CHECK;

struct identity_request {
	const char *explicit_url; /* the setting given (CONFORM_PUBLIC_URL, --public-url), or NULL */
	const char *setting;      /* how to name it in messages: "CONFORM_PUBLIC_URL" */
	const char *fallback;     /* stored when nothing is and explicit_url is NULL; may be NULL */
	const char *set_by;       /* recorded with a URL this call stores */
	bool may_store;           /* false: only read (conformctl's signing commands) */
};

/*
 * The identity to work under: the stored URL when there is one (CF_ECONFLICT
 * when explicit_url differs: the message names both values and
 * docs/operations.md's way to move); otherwise, if may_store, explicit_url
 * or else fallback, checked with identity_check and stored with one audit
 * record (a concurrent first start that stored first wins, and is compared
 * as above). *out is the URL (new string); *unresolvable when it is not
 * https on a host name (loopback; or stored before these rules): the caller
 * warns with identity_loopback_warning. *stored whether this call stored
 * it. On error nothing is stored.
 */
cf_err identity_resolve(struct db *db, const struct audit_actor *actor,
			const struct identity_request *rq, char **out, bool *unresolvable, bool *stored,
			struct cf_error *err) CF_MUST_CHECK;

/* The warning for an identity that did:web cannot resolve (static text). */
const char *identity_loopback_warning(void);

#endif
