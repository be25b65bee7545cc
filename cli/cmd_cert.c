/*
 * conformctl cert: the register (list, show; from the database, or through
 * the API with --url), status changes through the API (suspend, reinstate,
 * withdraw), and verify: a certificate checked offline, the way any buyer
 * could: its signature under a key of the given JWKS (a file or a URL), its
 * issuer and its dates; with a URL, its live status from the same service.
 * bundle makes a certificate's offline proof bundle, and verify --bundle
 * checks one with no network (core/bundle.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "bundle.h"
#include "certificate.h"
#include "cli.h"
#include "jsonx.h"
#include "jws.h"
#include "keys.h"
#include "mem.h"
#include "page.h"
#include "remote.h"

#define FETCH_MAX (4u << 20)

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n, NULL) ? 0 : size * n;
}

/* GET url into a new string (caller frees); HTTPS certificates verified. */
static cf_err fetch(const char *url, char **out, long *status, struct cf_error *err)
{
	struct buf b;
	buf_init(&b, FETCH_MAX);
	CURL *c = curl_easy_init();
	if (!c)
		return cf_error_set(err, CF_EINTERNAL, NULL, "libcurl did not start");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		buf_free(&b);
		return cf_error_set(err, CF_EIO, NULL, "%s: %s", url, curl_easy_strerror(rc));
	}
	*out = buf_steal(&b, NULL);
	return CF_OK;
}

static cf_err read_file(const char *path, char **out, struct cf_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cf_error_set(err, CF_EIO, NULL, "%s: cannot open: %m", path);
	struct buf b;
	buf_init(&b, FETCH_MAX);
	char chunk[8192];
	size_t n;
	cf_err e = CF_OK;
	while (!e && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		e = buf_append(&b, chunk, n, err);
	fclose(f);
	if (e) {
		buf_free(&b);
		return cf_error_set(err, CF_ETOOLARGE, NULL, "%s: larger than %u bytes", path, FETCH_MAX);
	}
	*out = buf_steal(&b, NULL);
	return CF_OK;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Seconds since the epoch of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ"; -1 if not one. */
static long long epoch_of(const char *t)
{
	struct tm tm = { 0 };
	const char *end = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	while (*end == '.' || (*end >= '0' && *end <= '9'))
		end++;
	if (strcmp(end, "Z") != 0)
		return -1;
	return (long long)timegm(&tm);
}

/* cert verify --bundle: everything from the one file, no network. */
static int verify_bundle(struct cli *cli, const char *path, const char *log_key, const char *witness_keys)
{
	struct cf_error err;
	char *text = NULL;
	json_t *report = NULL;
	cf_err e = read_file(path, &text, &err);
	if (e)
		return cli_fail(&err);
	/* --witness-key A,B: vkeys hold no comma (a name, hex, base64) */
	char *wcopy = cf_strdup(witness_keys ? witness_keys : "");
	const char *witnesses[17] = { NULL };
	int nw = 0;
	for (char *save = NULL, *t = strtok_r(wcopy, ",", &save); t && nw < 16; t = strtok_r(NULL, ",", &save))
		witnesses[nw++] = t;
	e = bundle_verify(text, strlen(text), log_key, witnesses, (long long)time(NULL), &report, &err);
	free(wcopy);
	free(text);
	if (e) {
		if (cli->json) {
			json_t *r = json_pack("{s:s,s:s,s:s}", "bundle", path, "verdict", "invalid", "reason", err.detail);
			cli_json_out(r);
			json_decref(r);
		} else {
			printf("bundle:      %s\nverdict:     INVALID: %s\n", path, err.detail);
		}
		return CLI_FAIL;
	}
	const json_t *log = json_object_get(report, "log");
	const char *verdict = jsonx_str(report, "verdict");
	if (!log_key)
		fprintf(stderr, "conformctl: warning: the checkpoint was checked with the bundle's own log "
			"key %s; give the log's key you trust with --log-key (conformctl log key, "
			"GET /v1/log/vkey)\n", jsonx_str(log, "vkey"));
	if (cli->json) {
		cli_json_out(report);
	} else {
		printf("certificate: %s\n", jsonx_str(report, "serial"));
		printf("signature:   valid (key %s)\n", jsonx_str(report, "kid"));
		printf("issuer:      %s\n", jsonx_str(report, "issuer"));
		printf("valid:       %s to %s\n", jsonx_str(report, "valid_from"), jsonx_str(report, "valid_until"));
		if (jsonx_str(report, "key_compromised_since"))
			printf("key:         compromised since %s (signed before, by its date)\n",
			       jsonx_str(report, "key_compromised_since"));
		if (jsonx_str(report, "superseded_by"))
			printf("superseded:  by %s (proven in the log)\n", jsonx_str(report, "superseded_by"));
		printf("log:         entry %lld included under checkpoint %s of size %lld, signed by %s (%s)\n",
		       (long long)json_integer_value(json_object_get(log, "index")), jsonx_str(log, "origin"),
		       (long long)json_integer_value(json_object_get(log, "tree_size")), jsonx_str(log, "vkey"),
		       json_is_true(json_object_get(log, "vkey_trusted")) ? "the trusted key" : "NOT CHECKED "
		       "against a trusted key");
		size_t i;
		const json_t *c;
		json_array_foreach(json_object_get(log, "cosignatures"), i, c)
			printf("cosigned:    by %s (key id %s; %s)\n", jsonx_str(c, "name"), jsonx_str(c, "key_id"),
			       json_is_true(json_object_get(c, "verified")) ? "verified with the given witness key"
			       : "not verified: give its key with --witness-key");
		printf("status:      as of %s (status lists signed by the issuer)\n", jsonx_str(report, "made_at"));
		printf("verdict:     %s\n", verdict);
	}
	/* only a valid certificate verifies: suspended, withdrawn, expired are
	 * answers, but not a yes */
	int status = strcmp(verdict, "valid") == 0 ? CLI_OK : CLI_FAIL;
	json_decref(report);
	return status;
}

static int cert_verify_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *jwks_src = NULL, *bundle = NULL, *log_key = NULL, *witness_keys = NULL;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "jwks", &jwks_src, NULL, "the issuer's JWKS: a file, or a URL (then the live status too)" },
		{ "bundle", &bundle, NULL, "an offline proof bundle (conformctl cert bundle): verified with "
		  "no network, and no FILE" },
		{ "log-key", &log_key, NULL, "with --bundle: the log's verifier key you trust (else the "
		  "bundle's own, with a warning)" },
		{ "witness-key", &witness_keys, NULL, "with --bundle: the witnesses' cosigning keys you trust "
		  "(VKEY[,VKEY...]): their cosignatures must verify" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 0);
	if (rc >= 0)
		return rc;
	if (bundle) {
		if (n || jwks_src) {
			fprintf(stderr, "conformctl cert verify: --bundle FILE takes neither FILE nor --jwks\n");
			return CLI_USAGE;
		}
		return verify_bundle(cli, bundle, log_key, witness_keys);
	}
	if (n != 1 || log_key || witness_keys) {
		fprintf(stderr, "conformctl cert verify: give FILE --jwks FILE|URL, or --bundle FILE "
			"[--log-key VKEY]\n");
		return CLI_USAGE;
	}
	if (!jwks_src) {
		fprintf(stderr, "conformctl cert verify: --jwks FILE|URL is required\n");
		return CLI_USAGE;
	}
	struct cf_error err;
	char *text = NULL, *jwks_text = NULL, *status_text = NULL;
	struct jws j = { 0 };
	json_t *jwks = NULL, *payload = NULL, *live = NULL, *result = NULL;
	int status = CLI_FAIL;
	long http = 0;
	cf_err e = read_file(pos[0], &text, &err);
	if (e)
		goto out;
	size_t len = strlen(text);
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	e = jws_parse(text, FETCH_MAX, &j, &err);
	if (e) {
		cf_error_prefix(&err, "%s", pos[0]);
		goto out;
	}
	e = is_url(jwks_src) ? fetch(jwks_src, &jwks_text, &http, &err) : read_file(jwks_src, &jwks_text, &err);
	if (e)
		goto out;
	jwks = json_loads(jwks_text, 0, NULL);
	if (!json_is_array(json_object_get(jwks, "keys"))) {
		e = cf_error_set(&err, CF_EINVAL, "/keys", "%s is not a JWKS", jwks_src);
		goto out;
	}
	const char *kid = jsonx_str(j.header, "kid");
	json_t *jwk = NULL;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(jwks, "keys"), i, k)
		if (kid && jsonx_str(k, "kid") && strcmp(jsonx_str(k, "kid"), kid) == 0)
			jwk = k;
	unsigned char pub[32];
	if (!jwk || keys_public_from_jwk(jwk, pub, &err)) {
		fprintf(stderr, "conformctl: no key %s in %s\n", kid ? kid : "(no kid)", jwks_src);
		goto out;
	}
	bool sig = jws_verify(&j, pub);
	payload = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
	const char *issuer = jsonx_str(json_object_get(payload, "issuer"), "id");
	const char *hash = strrchr(kid, '#');
	bool issuer_ok = issuer && hash && strlen(issuer) == (size_t)(hash - kid) &&
			 strncmp(issuer, kid, (size_t)(hash - kid)) == 0;
	long long from = epoch_of(jsonx_str(payload, "validFrom"));
	long long until = epoch_of(jsonx_str(payload, "validUntil"));
	long long now = (long long)time(NULL);
	bool dates_ok = from >= 0 && until >= 0 && from <= now && now < until;
	bool typ_ok = jsonx_str(j.header, "typ") && strcmp(jsonx_str(j.header, "typ"), "vc+jwt") == 0;
	/* a key revoked as compromised (the JWKS says since when): what claims
	 * to be signed since then is not the body's; what claims to be older
	 * may be a backdated forgery, which only the live register tells */
	const char *compromised = jsonx_str(jwk, "compromised_since");
	long long since = epoch_of(compromised);
	bool key_ok = !compromised || (since >= 0 && from >= 0 && from < since);
	const char *serial = jsonx_str(json_object_get(payload, "credentialSubject"), "serial");
	const char *dates = dates_ok ? "in force" : now >= until ? "EXPIRED" : "NOT YET VALID";
	result = json_pack("{s:s?,s:b,s:s?,s:s?,s:b,s:b,s:s?,s:s?,s:s}", "serial", serial, "signature_valid",
			   sig, "kid", kid, "issuer", issuer, "issuer_matches_key", issuer_ok, "typ_ok",
			   typ_ok, "valid_from", jsonx_str(payload, "validFrom"), "valid_until",
			   jsonx_str(payload, "validUntil"), "dates", dates_ok ? "in force" : now >= until
			   ? "expired" : "not yet valid");
	if (!cli->json) {
		printf("certificate: %s\n", serial ? serial : "(no serial)");
		printf("signature:   %s (key %s)\n", sig ? "valid" : "INVALID", kid);
		printf("issuer:      %s%s\n", issuer ? issuer : "(none)", issuer_ok ? "" : " (does not match the key)");
		printf("type:        %s\n", typ_ok ? "vc+jwt" : "NOT vc+jwt");
	}
	if (compromised) {
		json_object_set_new(result, "key_compromised_since", json_string(compromised));
		json_object_set_new(result, "signed_before_compromise", json_boolean(key_ok));
		if (!cli->json)
			printf("key:         %s since %s%s\n", key_ok ? "compromised" : "COMPROMISED", compromised,
			       key_ok ? "; signed before, by its date: check it live (--jwks URL) to rule out "
					"a backdated forgery" : ": signed after, not the body's statement");
	}
	if (!cli->json)
		printf("valid:       %s to %s (%s)\n", jsonx_str(payload, "validFrom"),
		       jsonx_str(payload, "validUntil"), dates);
	bool live_ok = true, under_review = false;
	if (is_url(jwks_src) && serial) {
		/* the service that published the keys answers for the status */
		char *base = cf_strdup(jwks_src);
		char *wk = strstr(base, "/.well-known/jwks.json");
		if (wk)
			*wk = '\0';
		char *url = cf_asprintf("%s/v1/certificates/%s", base, serial);
		e = fetch(url, &status_text, &http, &err);
		free(url);
		free(base);
		if (e)
			goto out;
		live = json_loads(status_text, 0, NULL);
		const char *st = http == 200 ? jsonx_str(live, "status") : "unknown";
		const char *why = jsonx_str(live, "status_reason");
		json_object_set_new(result, "status", json_string(st ? st : "unknown"));
		if (why)
			json_object_set_new(result, "status_reason", json_string(why));
		if (!cli->json)
			printf("status:      %s%s%s\n", st ? st : "unknown", why ? ": " : "", why ? why : "");
		/* superseded: not a yes, but the buyer is pointed at the successor */
		const char *next = jsonx_str(json_object_get(live, "superseded_by"), "serial");
		if (next) {
			json_object_set_new(result, "superseded_by", json_string(next));
			if (!cli->json)
				printf("superseded:  by %s\n", next);
		}
		live_ok = st && strcmp(st, "valid") == 0;
		/* under review the certificate stays valid, as POST /v1/verify says; the
		 * review is shown and named in the result */
		json_t *review = json_object_get(live, "review");
		if (http == 200 && json_is_object(review)) {
			under_review = true;
			json_object_set(result, "review", review);
			if (!cli->json)
				printf("review:      %s: %s (since %s)\n", jsonx_str(review, "code"),
				       jsonx_str(review, "reason"), jsonx_str(review, "since"));
		}
	}
	status = sig && issuer_ok && typ_ok && dates_ok && key_ok && live_ok ? CLI_OK : CLI_FAIL;
	json_object_set_new(result, "verified", json_boolean(status == CLI_OK));
	json_object_set_new(result, "under_review", json_boolean(under_review));
	if (cli->json)
		cli_json_out(result);
	else
		printf("result:      %s%s\n", status == CLI_OK ? "VERIFIED" : "NOT VERIFIED",
		       under_review ? ", UNDER REVIEW" : "");
out:
	if (e)
		status = cli_fail(&err);
	jws_clear(&j);
	json_decref(jwks);
	json_decref(payload);
	json_decref(live);
	json_decref(result);
	free(text);
	free(jwks_text);
	free(status_text);
	return status;
}

/* One page of the register, from the API or the database. */
static cf_err register_page(struct cli *cli, struct db *db, const struct cert_query *q, json_t **out,
			    struct cf_error *err)
{
	if (!remote_on(cli))
		return certificate_register(db, q, out, err);
	const char *query[] = { "status", q->status, "scheme", q->scheme, "manufacturer",
				q->manufacturer, "q", q->q, NULL };
	return remote_list_page(cli, "/v1/certificates", q->limit, q->after, query, out, err);
}

static void print_register_item(const json_t *c)
{
	const json_t *p = json_object_get(c, "product"), *sc = json_object_get(c, "scheme");
	char scheme[96];
	snprintf(scheme, sizeof scheme, "%s@%s", jsonx_str(sc, "id") ? jsonx_str(sc, "id") : "?",
		 jsonx_str(sc, "version") ? jsonx_str(sc, "version") : "?");
	printf("%-28s %-10s %-20.20s %-16s %-24.24s %s %s (%s)\n", jsonx_str(c, "serial"),
	       jsonx_str(c, "status"), jsonx_str(c, "valid_until"), scheme, jsonx_str(c, "body"),
	       jsonx_str(p, "name"), jsonx_str(p, "model") ? jsonx_str(p, "model") : "",
	       jsonx_str(c, "manufacturer"));
}

static int cert_list_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *status_f = NULL, *scheme = NULL, *maker = NULL, *search = NULL, *limit_s = NULL;
	const char *page_s = NULL;
	const struct cli_opt opts[] = {
		{ "status", &status_f, NULL, "only valid, suspended, withdrawn, superseded, expired or key_compromised" },
		{ "scheme", &scheme, NULL, "only certificates under scheme ID or ID@VERSION" },
		{ "manufacturer", &maker, NULL, "only this manufacturer (an organisation id, or part of the name)" },
		{ "search", &search, NULL, "part of the product's name or model, the manufacturer's name, or a serial" },
		{ "limit", &limit_s, NULL, "at most this many certificates (default: all, page by page)" },
		{ "page-size", &page_s, NULL, "certificates asked for at a time (1 to 500, the default)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	long long limit = -1;
	if (limit_s) {
		char *end = NULL;
		limit = strtoll(limit_s, &end, 10);
		if (*end || end == limit_s || limit < 1) {
			fprintf(stderr, "conformctl cert list: --limit must be a positive number\n");
			return CLI_USAGE;
		}
	}
	/* the register's largest page, as the API pages it */
	long page_max = page_numbered.limit_max;
	if (page_s) {
		char *end = NULL;
		page_max = strtol(page_s, &end, 10);
		if (*end || end == page_s || page_max < 1 || page_max > page_numbered.limit_max) {
			fprintf(stderr, "conformctl cert list: --page-size must be 1 to %ld\n",
				page_numbered.limit_max);
			return CLI_USAGE;
		}
	}
	struct cf_error err;
	struct db *db = NULL;
	json_t *items = json_array(), *page = NULL;
	cf_err e = remote_on(cli) ? CF_OK : cli_db(cli, &db, &err);
	struct cert_query q = { maker, scheme, status_f, search, 0, (int)page_max };
	/* keyset paging: each page names the position after which the next begins */
	while (!e && (limit < 0 || (long long)json_array_size(items) < limit)) {
		long long left = limit < 0 ? page_max : limit - (long long)json_array_size(items);
		q.limit = left < page_max ? (int)left : (int)page_max;
		e = register_page(cli, db, &q, &page, &err);
		if (e)
			break;
		json_t *got = json_object_get(page, "items"), *next = json_object_get(page, "next");
		json_array_extend(items, got);
		if (!json_is_integer(next) || json_array_size(got) == 0 ||
		    json_integer_value(next) <= q.after) {
			json_decref(page);
			page = NULL;
			break;
		}
		q.after = json_integer_value(next);
		json_decref(page);
		page = NULL;
	}
	db_close(db);
	if (e) {
		json_decref(items);
		return cli_fail(&err);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:O}", "items", items);
		cli_json_out(o);
		json_decref(o);
	} else {
		printf("%-28s %-10s %-20s %-16s %-24s %s\n", "SERIAL", "STATUS", "VALID UNTIL", "SCHEME",
		       "BODY", "PRODUCT (MANUFACTURER)");
		size_t i;
		json_t *c;
		json_array_foreach(items, i, c)
			print_register_item(c);
		fprintf(stderr, "%zu certificate%s\n", json_array_size(items),
			json_array_size(items) == 1 ? "" : "s");
	}
	json_decref(items);
	return CLI_OK;
}

static int cert_show_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	json_t *c = NULL;
	cf_err e;
	if (remote_on(cli)) {
		e = remote_json_on(cli, "GET", "/v1/certificates/%s", pos[0], NULL, &c, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = cli_public_url(cli, db, &err);
		if (!e)
			e = certificate_get(db, cli->cfg.public_url, pos[0], &c, &err);
		db_close(db);
	}
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		cli_json_out(c);
	} else {
		const json_t *review = json_object_get(c, "review"), *issuer = json_object_get(c, "issuer");
		const json_t *subject = json_object_get(json_object_get(c, "credential"), "credentialSubject");
		const json_t *p = json_object_get(subject, "product"), *key = json_object_get(c, "key");
		const json_t *log = json_object_get(c, "log"), *sc = json_object_get(subject, "scheme");
		printf("certificate: %s\n", jsonx_str(c, "serial"));
		printf("status:      %s%s%s\n", jsonx_str(c, "status"), jsonx_str(c, "status_reason") ? ": " : "",
		       jsonx_str(c, "status_reason") ? jsonx_str(c, "status_reason") : "");
		if (json_is_object(review))
			printf("review:      %s: %s (since %s)\n", jsonx_str(review, "code"),
			       jsonx_str(review, "reason"), jsonx_str(review, "since"));
		const json_t *next = json_object_get(c, "superseded_by");
		if (json_is_object(next))
			printf("superseded:  by %s (%s)\n", jsonx_str(next, "serial"), jsonx_str(next, "url"));
		if (json_is_object(p))
			printf("product:     %s %s\n", jsonx_str(p, "name") ? jsonx_str(p, "name") : "",
			       jsonx_str(p, "model") ? jsonx_str(p, "model") : "");
		if (json_is_object(sc))
			printf("scheme:      %s %s, class %lld\n", jsonx_str(sc, "name") ? jsonx_str(sc, "name") : "",
			       jsonx_str(sc, "version") ? jsonx_str(sc, "version") : "",
			       (long long)json_integer_value(json_object_get(subject, "complianceClass")));
		if (json_is_object(issuer))
			printf("issuer:      %s (%s)\n", jsonx_str(issuer, "name"), jsonx_str(issuer, "id"));
		printf("valid:       %s to %s\n", jsonx_str(c, "valid_from"), jsonx_str(c, "valid_until"));
		if (json_is_object(key))
			printf("key:         %s (%s)\n", jsonx_str(key, "kid"), jsonx_str(key, "state"));
		if (json_is_object(log))
			printf("log:         entry %lld%s\n",
			       (long long)json_integer_value(json_object_get(log, "index")),
			       json_is_true(json_object_get(log, "in_signed_tree_head"))
				       ? ", under the signed tree head" : ", not yet under a signed tree head");
		printf("history:     %zu event%s\n", json_array_size(json_object_get(c, "history")),
		       json_array_size(json_object_get(c, "history")) == 1 ? "" : "s");
		fprintf(stderr, "(the whole record: --json)\n");
	}
	json_decref(c);
	return CLI_OK;
}

/* suspend, reinstate, withdraw: the command's name is the API's action. */
static int cert_change_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *reason = NULL, *code = NULL;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "reason", &reason, NULL, "why, for the register and the audit trail (required)" },
		{ "reason-code", &code, NULL, "nonconformity, product_change, support_ended, "
		  "accreditation_withdrawn, manufacturer_request, administrative (default) or other" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	if (!reason) {
		fprintf(stderr, "conformctl cert %s: --reason TEXT is required\n", cmd->name);
		return CLI_USAGE;
	}
	struct cf_error err;
	if (!remote_on(cli)) {
		cf_err e = cf_error_set(&err, CF_EINVAL, NULL,
					"conformctl cert %s works through the API, as a certifier of the "
					"issuing body or the scheme owner's admin: give --url (CONFORM_URL) "
					"and a token (CONFORM_TOKEN or --token-file)", cmd->name);
		(void)e;
		return cli_fail(&err);
	}
	char *fmt = cf_asprintf("/v1/certificates/%%s/%s", cmd->name);
	json_t *body = json_pack("{s:s,s:s}", "reason_code", code ? code : "administrative", "reason",
				 reason);
	json_t *c = NULL;
	cf_err e = remote_json_on(cli, "POST", fmt, pos[0], body, &c, &err);
	json_decref(body);
	free(fmt);
	if (e)
		return cli_fail(&err);
	if (cli->json)
		cli_json_out(c);
	else
		printf("certificate %s is %s\n", jsonx_str(c, "serial"), jsonx_str(c, "status"));
	json_decref(c);
	return CLI_OK;
}

/* cert bundle: the offline proof bundle, from the database or the API. */
static int cert_bundle_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static char output_flag[] = "--output";
	const char *output = NULL;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "output", &output, NULL, "write it to FILE (-o FILE), not to standard output" },
		{ NULL, NULL, NULL, NULL },
	};
	for (int i = 1; i < argc; i++) /* -o, the one short option, as curl and cc spell it */
		if (strcmp(argv[i], "-o") == 0)
			argv[i] = output_flag;
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	char *text = NULL, *sock = NULL;
	cf_err e;
	if (remote_on(cli)) {
		char *esc = remote_escape(pos[0]);
		char *path = cf_asprintf("/v1/certificates/%s/bundle", esc);
		e = remote_text(cli, path, &text, &err);
		free(path);
		free(esc);
	} else {
		sock = config_signer_socket(&cli->cfg);
		e = cli_db(cli, &db, &err);
		if (!e)
			e = cli_public_url(cli, db, &err);
		if (!e) {
			struct cert_ctx ctx = { cli->cfg.public_url, sock };
			e = bundle_make(db, &ctx, pos[0], &text, &err);
		}
		db_close(db);
		free(sock);
	}
	if (e)
		return cli_fail(&err);
	int status = CLI_OK;
	if (output) {
		FILE *f = fopen(output, "wb");
		bool ok = f && fwrite(text, 1, strlen(text), f) == strlen(text);
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok) {
			fprintf(stderr, "conformctl: %s: cannot write the bundle: %m\n", output);
			status = CLI_FAIL;
		} else if (!cli->json) {
			fprintf(stderr, "bundle of %s written to %s\n", pos[0], output);
		}
	} else {
		fputs(text, stdout);
	}
	free(text);
	return status;
}

const struct cli_command cli_cert_commands[] = {
	{ "cert", "list", "", "List the register (filters: --status, --scheme, --manufacturer, --search)",
	  cert_list_cmd, true },
	{ "cert", "show", "SERIAL", "Show a certificate, its live status, history and log entry",
	  cert_show_cmd, true },
	{ "cert", "suspend", "SERIAL", "Suspend a certificate (--reason; through the API, --url)",
	  cert_change_cmd, true },
	{ "cert", "reinstate", "SERIAL", "Reinstate a suspended certificate (--reason; --url)",
	  cert_change_cmd, true },
	{ "cert", "withdraw", "SERIAL", "Withdraw a certificate, for good (--reason; --url)",
	  cert_change_cmd, true },
	{ "cert", "verify", "FILE",
	  "Verify a certificate (compact JWS) against a JWKS: signature, issuer, dates; with a URL, "
	  "live status; or --bundle FILE [--log-key VKEY], offline", cert_verify_cmd, true },
	{ "cert", "bundle", "SERIAL", "The offline proof bundle of a certificate (--output FILE; "
	  "from the database, or the API with --url)", cert_bundle_cmd, false },
	{ NULL, NULL, NULL, NULL, NULL },
};
