/*
 * identity: the stored public URL of the deployment (see identity.h).
 */
#include "identity.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

const char *identity_loopback_warning(void)
{
	return "the issuer DIDs made from it (did:web) are not resolvable by the did:web rules, "
	       "which need https on a host name: only this machine reaches it. A deployment that "
	       "others verify sets CONFORM_PUBLIC_URL to https://<host name> before its first start";
}

/* The host of url (between "://" and ':' or '/'), lower-cased into out. */
static void url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t n = strcspn(h, ":/");
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[n] = '\0';
}

cf_err identity_check(const char *url, bool *loopback, struct cf_error *err)
{
	*loopback = false;
	bool https = strncmp(url, "https://", 8) == 0;
	if (!https && strncmp(url, "http://", 7) != 0)
		return cf_error_set(err, CF_EINVAL, NULL, "'%.200s' is not an http(s):// URL", url);
	char host[256];
	url_host(url, host, sizeof host);
	struct in_addr a4;
	bool numeric = host[0] && strspn(host, "0123456789.") == strlen(host);
	if (strcmp(host, "localhost") == 0) {
		*loopback = true;
		return CF_OK;
	}
	if (numeric && inet_pton(AF_INET, host, &a4) == 1) {
		if ((ntohl(a4.s_addr) >> 24) == 127) {
			*loopback = true;
			return CF_OK;
		}
		return cf_error_set(err, CF_EINVAL, NULL,
				    "%.200s names the IP address %s: a did:web identifier needs a host name, "
				    "so an IP address is accepted only for loopback (127.0.0.0/8, localhost); "
				    "give https://<host name>", url, host);
	}
	if (numeric)
		return cf_error_set(err, CF_EINVAL, NULL, "%.200s: %s is neither a host name nor an IP address",
				    url, host);
	if (!https)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "%.200s is http on the host %s: a did:web identifier resolves only over "
				    "https, so http is accepted only for loopback (127.0.0.0/8, localhost); "
				    "give https://%s", url, host, host);
	return CF_OK;
}

cf_err identity_from_listen(const char *listen, char **out, struct cf_error *err)
{
	*out = NULL;
	const char *colon = strrchr(listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	char host[128] = "";
	if (colon && (size_t)(colon - listen) < sizeof host)
		snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	struct in_addr a4;
	const char *name = NULL;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		name = "localhost";
	else if (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
		name = host;
	if (!name || port < 1 || port > 65535)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "conformd listens on %s, which is not one loopback address and port, so "
				    "its public URL cannot be derived: give CONFORM_PUBLIC_URL "
				    "(https://<host name>[/path], the URL buyers reach it at)", listen);
	*out = cf_asprintf("http://%s:%ld", name, port);
	return CF_OK;
}

cf_err identity_get(struct db *db, char **out, char when[40], char by[200], struct cf_error *err)
{
	*out = NULL;
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT public_url, " DB_TS("set_at") ", set_by FROM service_identity", 0, NULL);
	if (e)
		return e;
	if (PQntuples(res) == 1) {
		*out = cf_strdup(db_value(res, 0, 0));
		if (when)
			snprintf(when, 40, "%s", db_value(res, 0, 1));
		if (by)
			snprintf(by, 200, "%s", db_value(res, 0, 2));
	}
	PQclear(res);
	return CF_OK;
}

struct resolve_job {
	const struct audit_actor *actor;
	const struct identity_request *rq;
	char *url;
	bool stored;
};

/* The stored url against the one asked for: the same, or a refusal that
 * names both and the way out. */
static cf_err compare(const struct identity_request *rq, const char *stored, const char *when,
		      const char *by, struct cf_error *err)
{
	if (!rq->explicit_url || strcmp(rq->explicit_url, stored) == 0)
		return CF_OK;
	return cf_error_set(err, CF_ECONFLICT, NULL,
			    "%s is %s, but this service's public URL is %s (stored %s by %s): certificates "
			    "name it in their issuer DIDs and ids, so it does not change. Unset %s (or set "
			    "it to %s); to serve under another name, keep %s reachable (docs/operations.md, "
			    "\"Moving to another public URL\")",
			    rq->setting, rq->explicit_url, stored, when, by, rq->setting, stored, stored);
}

static cf_err resolve_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct resolve_job *j = arg;
	const struct identity_request *rq = j->rq;
	CF_FREE(j->url);
	j->stored = false;
	char when[40] = "", by[200] = "";
	cf_err e = identity_get(db, &j->url, when, by, err);
	if (e)
		return e;
	if (j->url)
		return compare(rq, j->url, when, by, err);
	if (!rq->may_store)
		return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
				    "this service has no public URL yet: conformd stores it at its first start "
				    "(from CONFORM_PUBLIC_URL, or its loopback listen address), or set it with "
				    "`conformctl identity set URL`");
	const char *candidate = rq->explicit_url ? rq->explicit_url : rq->fallback;
	if (!candidate)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "no public URL is stored and none is given: give %s "
				    "(https://<host name>[/path], the URL buyers reach the service at)",
				    rq->setting);
	bool loopback;
	e = identity_check(candidate, &loopback, err);
	if (e) {
		if (rq->explicit_url)
			cf_error_prefix(err, "%s", rq->setting);
		return e;
	}
	const char *p[] = { candidate, rq->set_by };
	PGresult *res = NULL;
	e = db_query_hot(db, &res, err,
		"INSERT INTO service_identity (public_url, set_by) VALUES ($1, $2)"
		" ON CONFLICT DO NOTHING RETURNING public_url", 2, p);
	if (e)
		return e;
	int stored = PQntuples(res);
	PQclear(res);
	if (stored == 0) {
		/* another first start stored one meanwhile: it is the identity */
		e = identity_get(db, &j->url, when, by, err);
		if (!e && !j->url)
			e = cf_error_set(err, CF_EINTERNAL, NULL, "the public URL vanished");
		return e ? e : compare(rq, j->url, when, by, err);
	}
	j->url = cf_strdup(candidate);
	json_t *details = json_pack("{s:s,s:s}", "public_url", candidate, "set_by", rq->set_by);
	e = audit_append(db, j->actor, "identity.set", "service_identity", candidate, details, err);
	json_decref(details);
	if (!e)
		j->stored = true;
	return e;
}

cf_err identity_resolve(struct db *db, const struct audit_actor *actor,
			const struct identity_request *rq, char **out, bool *unresolvable, bool *stored,
			struct cf_error *err)
{
	*out = NULL;
	*unresolvable = false;
	*stored = false;
	struct resolve_job j = { actor, rq, NULL, false };
	cf_err e = db_transaction(db, DB_READ_COMMITTED, resolve_tx, &j, err);
	if (e) {
		free(j.url);
		return e;
	}
	/* a URL stored before this release is served as it is (the rules
	 * decide what is stored from now on), with the same warning */
	struct cf_error ignored;
	bool loopback = false;
	*unresolvable = identity_check(j.url, &loopback, &ignored) != CF_OK || loopback;
	*out = j.url;
	*stored = j.stored;
	return CF_OK;
}
