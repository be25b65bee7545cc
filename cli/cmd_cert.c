/*
 * conformctl cert verify: a certificate checked offline, the way any buyer
 * could: its signature under a key of the given JWKS (a file or a URL), its
 * issuer and its dates; with a URL, its live status from the same service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "cli.h"
#include "jsonx.h"
#include "jws.h"
#include "keys.h"
#include "mem.h"

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

static int cert_verify_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *jwks_src = NULL;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "jwks", &jwks_src, NULL, "the issuer's JWKS: a file, or a URL (then the live status too)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	if (!jwks_src) {
		fprintf(stderr, "conformctl cert verify: --jwks FILE|URL is required\n");
		return CLI_USAGE;
	}
	struct cf_error err;
	char *text = NULL, *jwks_text = NULL, *status_text = NULL;
	struct jws j = { 0 };
	json_t *jwks = NULL, *payload = NULL, *live = NULL;
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
	printf("certificate: %s\n", serial ? serial : "(no serial)");
	printf("signature:   %s (key %s)\n", sig ? "valid" : "INVALID", kid);
	printf("issuer:      %s%s\n", issuer ? issuer : "(none)", issuer_ok ? "" : " (does not match the key)");
	printf("type:        %s\n", typ_ok ? "vc+jwt" : "NOT vc+jwt");
	if (compromised)
		printf("key:         %s since %s%s\n", key_ok ? "compromised" : "COMPROMISED", compromised,
		       key_ok ? "; signed before, by its date: check it live (--jwks URL) to rule out "
				"a backdated forgery" : ": signed after, not the body's statement");
	printf("valid:       %s to %s (%s)\n", jsonx_str(payload, "validFrom"), jsonx_str(payload, "validUntil"),
	       dates_ok ? "in force" : now >= until ? "EXPIRED" : "NOT YET VALID");
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
		printf("status:      %s%s%s\n", st ? st : "unknown", jsonx_str(live, "status_reason") ? ": " : "",
		       jsonx_str(live, "status_reason") ? jsonx_str(live, "status_reason") : "");
		live_ok = st && strcmp(st, "valid") == 0;
		/* under review the certificate stays valid, as POST /v1/verify says; the
		 * review is shown and named in the result */
		json_t *review = json_object_get(live, "review");
		if (http == 200 && json_is_object(review)) {
			under_review = true;
			printf("review:      %s: %s (since %s)\n", jsonx_str(review, "code"),
			       jsonx_str(review, "reason"), jsonx_str(review, "since"));
		}
	}
	status = sig && issuer_ok && typ_ok && dates_ok && key_ok && live_ok ? CLI_OK : CLI_FAIL;
	printf("result:      %s%s\n", status == CLI_OK ? "VERIFIED" : "NOT VERIFIED",
	       under_review ? ", UNDER REVIEW" : "");
out:
	if (e)
		status = cli_fail(&err);
	jws_clear(&j);
	json_decref(jwks);
	json_decref(payload);
	json_decref(live);
	free(text);
	free(jwks_text);
	free(status_text);
	return status;
}

const struct cli_command cli_cert_commands[] = {
	{ "cert", "verify", "FILE",
	  "Verify a certificate (compact JWS) against a JWKS: signature, issuer, dates; with a URL, "
	  "live status", cert_verify_cmd },
	{ NULL, NULL, NULL, NULL, NULL },
};
