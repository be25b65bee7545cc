/*
 * remote: conformctl's HTTP client of conformd's API (see remote.h).
 */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "jsonx.h"
#include "mem.h"

/* The largest answer read: a page of the register or an OSCAL catalog is
 * far below it; more is an error, never a truncation. */
#define REMOTE_MAX (64u << 20)

bool remote_on(const struct cli *cli)
{
	return cli->cfg.url && cli->cfg.url[0];
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n, NULL) ? 0 : size * n;
}

static cf_err code_of(long status)
{
	switch (status) {
	case 400: return CF_EINVAL;
	case 401: return CF_EUNAUTH;
	case 403: return CF_EFORBIDDEN;
	case 404: return CF_ENOTFOUND;
	case 409: return CF_ECONFLICT;
	case 412: return CF_EPRECONDITION;
	case 413: return CF_ETOOLARGE;
	case 415: return CF_EMEDIA;
	case 422: return CF_EUNPROCESSABLE;
	case 429: return CF_ETHROTTLED;
	case 503: return CF_EUNAVAILABLE;
	default: return CF_EINTERNAL;
	}
}

/* The URL without a trailing '/', checked: http(s) only. */
static cf_err base_url(const struct cli *cli, char **out, struct cf_error *err)
{
	const char *u = cli->cfg.url;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "--url (CONFORM_URL) '%.80s' is not an http:// or https:// URL", u);
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		n--;
	*out = cf_asprintf("%.*s", (int)n, u);
	/* a token over plain http is readable on the way, except on this machine */
	static bool warned;
	if (!warned && cli->token && cli->token[0] && strncmp(u, "http://", 7) == 0 &&
	    strncmp(u + 7, "127.", 4) != 0 && strncmp(u + 7, "localhost", 9) != 0 &&
	    strncmp(u + 7, "[::1]", 5) != 0) {
		warned = true;
		fprintf(stderr, "conformctl: warning: --url is plain http to another machine: the token "
				"travels in clear; use https (the TLS proxy of deploy/)\n");
	}
	return CF_OK;
}

/*
 * One request. *status and the answer's text (new, NUL-terminated) on any
 * HTTP answer; an error for a transport failure or a redirect.
 */
static cf_err request(struct cli *cli, const char *method, const char *path, const char *body,
		      long *status, char **text, size_t *len, struct cf_error *err)
{
	char *base = NULL, *url = NULL, *auth = NULL;
	struct curl_slist *headers = NULL;
	struct buf b;
	buf_init(&b, REMOTE_MAX);
	CURL *c = NULL;
	*text = NULL;
	cf_err e = base_url(cli, &base, err);
	if (e)
		goto out;
	url = cf_asprintf("%s%s", base, path);
	c = curl_easy_init();
	if (!c) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "libcurl did not start");
		goto out;
	}
	if (cli->token && cli->token[0]) {
		auth = cf_asprintf("Authorization: Bearer %s", cli->token);
		headers = curl_slist_append(headers, auth);
	}
	headers = curl_slist_append(headers, "Accept: application/json, application/problem+json, "
					     "text/plain");
	if (body)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* the token goes to the URL given and nowhere else: no redirects */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* libcurl's defaults, stated: the peer's certificate and name are checked */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cli->cfg.ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cli->cfg.ca_file);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "conformctl/" CONFORM_VERSION);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		e = rc == CURLE_WRITE_ERROR
			    ? cf_error_set(err, CF_ETOOLARGE, NULL, "%s %s: the answer is larger than %u bytes",
					   method, url, REMOTE_MAX)
			    : cf_error_set(err, CF_EUNAVAILABLE, NULL,
					   "%s %s: %s (the API at --url, CONFORM_URL%s)", method, url,
					   curl_easy_strerror(rc),
					   rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
						   ? "; its certificate is checked against --ca-file "
						     "(CONFORM_CA_FILE) or the system's CAs"
						   : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 300 && *status < 400) {
		char *location = NULL;
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
		e = cf_error_set(err, CF_EINVAL, NULL,
				 "%s %s: redirected to %.200s; give that URL as --url (CONFORM_URL): "
				 "conformctl sends its token nowhere else",
				 method, url, location ? location : "(nowhere)");
		goto out;
	}
	if (buf_append(&b, "", 1, err)) { /* the NUL */
		e = cf_error_set(err, CF_ETOOLARGE, NULL, "%s %s: the answer is larger than %u bytes",
				 method, url, REMOTE_MAX);
		goto out;
	}
	*text = buf_steal(&b, len);
	if (len)
		(*len)--; /* the NUL is not the answer's */
out:
	buf_free(&b);
	curl_slist_free_all(headers);
	if (c)
		curl_easy_cleanup(c);
	if (auth) {
		cf_wipe(auth, strlen(auth));
		free(auth);
	}
	free(url);
	free(base);
	return e;
}

/* A problem answer (or any answer >= 400) as an error naming the request. */
static cf_err problem(struct cli *cli, const char *method, const char *path, long status,
		      const char *text, struct cf_error *err)
{
	json_t *p = json_loads(text, 0, NULL);
	const char *title = jsonx_str(p, "title"), *detail = jsonx_str(p, "detail");
	const char *hint = status == 401 && !(cli->token && cli->token[0])
				   ? " (no token given: CONFORM_TOKEN or --token-file FILE)"
				   : "";
	cf_err e = cf_error_set(err, code_of(status), jsonx_str(p, "pointer"), "%s%s%s (HTTP %ld from %s %s)%s",
				title ? title : "", title && detail ? ": " : "",
				detail ? detail : title ? "" : "the API refused", status, method, path,
				hint);
	json_decref(p);
	return e;
}

cf_err remote_json(struct cli *cli, const char *method, const char *path, const json_t *body,
		   json_t **out, struct cf_error *err)
{
	*out = NULL;
	char *req = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *text = NULL;
	long status = 0;
	cf_err e = request(cli, method, path, req, &status, &text, NULL, err);
	free(req);
	if (e)
		return e;
	if (status >= 400) {
		e = problem(cli, method, path, status, text, err);
	} else if (text[0]) {
		json_error_t je;
		*out = json_loads(text, 0, &je);
		if (!*out)
			e = cf_error_set(err, CF_EINTERNAL, NULL, "%s %s: the answer is not JSON (%s): is "
					 "--url (CONFORM_URL) conformd's?", method, path, je.text);
	}
	free(text);
	return e;
}

cf_err remote_text(struct cli *cli, const char *path, char **out, struct cf_error *err)
{
	*out = NULL;
	char *text = NULL;
	long status = 0;
	cf_err e = request(cli, "GET", path, NULL, &status, &text, NULL, err);
	if (e)
		return e;
	if (status >= 400) {
		e = problem(cli, "GET", path, status, text, err);
		free(text);
		return e;
	}
	*out = text;
	return CF_OK;
}

cf_err remote_bytes(struct cli *cli, const char *path, unsigned char **out, size_t *len,
		    struct cf_error *err)
{
	*out = NULL;
	*len = 0;
	char *data = NULL;
	long status = 0;
	cf_err e = request(cli, "GET", path, NULL, &status, &data, len, err);
	if (e)
		return e;
	if (status >= 400) {
		e = problem(cli, "GET", path, status, data, err);
		free(data);
		*len = 0;
		return e;
	}
	*out = (unsigned char *)data;
	return CF_OK;
}

char *remote_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = cf_calloc(n * 3 + 1, 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

cf_err remote_needs_database(const char *command, struct cf_error *err)
{
	return cf_error_set(err, CF_EINVAL, NULL,
			    "%s works on the database directly (it needs the database owner or "
			    "what the API does not serve), not through --url (CONFORM_URL): run it where "
			    "the database is, without --url, or with CONFORM_DATABASE_URL set",
			    command);
}

cf_err remote_me(struct cli *cli, char user[37], char org[37], struct cf_error *err)
{
	json_t *me = NULL;
	cf_err e = remote_json(cli, "GET", "/v1/me", NULL, &me, err);
	if (!e) {
		const char *u = jsonx_str(json_object_get(me, "user"), "id");
		const char *o = jsonx_str(json_object_get(me, "organisation"), "id");
		if (!u || !o)
			e = cf_error_set(err, CF_EINTERNAL, NULL, "GET /v1/me: no user or organisation id in "
					 "the answer");
		else {
			snprintf(user, 37, "%s", u);
			snprintf(org, 37, "%s", o);
		}
	}
	json_decref(me);
	return e;
}

void remote_query_add(struct buf *q, const char *name, const char *value)
{
	if (!value)
		return;
	char *v = remote_escape(value);
	if (buf_printf(q, NULL, "&%s=%s", name, v))
		abort(); /* a query is bounded by the command line, far below any cap given */
	free(v);
}

cf_err remote_json_on(struct cli *cli, const char *method, const char *fmt, const char *id,
		      const json_t *body, json_t **out, struct cf_error *err)
{
	char *segment = remote_escape(id);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	char *path = cf_asprintf(fmt, segment);
#pragma GCC diagnostic pop
	cf_err e = remote_json(cli, method, path, body, out, err);
	free(path);
	free(segment);
	return e;
}

cf_err remote_list_page(struct cli *cli, const char *path, int limit, long long after,
			const char *const *query, json_t **out, struct cf_error *err)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	if (buf_printf(&b, NULL, "%s?limit=%d&after=%lld", path, limit, after))
		abort(); /* a query is bounded by the command line, far below the cap */
	for (const char *const *q = query; q && *q; q += 2)
		remote_query_add(&b, q[0], q[1]);
	char *full = buf_steal(&b, NULL);
	cf_err e = remote_json(cli, "GET", full, NULL, out, err);
	free(full);
	return e;
}
