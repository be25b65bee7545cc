/*
 * http (tests): libcurl client (see http.h).
 */
#include "http.h"

#include <check.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "mem.h"

static _Thread_local const char *source_address;

void http_set_source(const char *source)
{
	source_address = source;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	if (buf_append(b, data, size * n, NULL))
		return 0;
	return size * n;
}

int http_try(struct http_resp *r, const char *method, const char *url, const char *const *headers,
	     const void *body, size_t len)
{
	memset(r, 0, sizeof *r);
	struct buf bb, hb;
	buf_init(&bb, (size_t)1 << 31);
	buf_init(&hb, 1 << 20);
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	bool expect = false;
	for (const char *const *h = headers; h && *h; h++) {
		hl = curl_slist_append(hl, *h);
		expect = expect || strncasecmp(*h, "Expect:", 7) == 0;
	}
	if (!expect)
		hl = curl_slist_append(hl, "Expect:"); /* no 100-continue unless asked */
	/* A test that asks for 100-continue waits for the server's word: after
	 * libcurl's default second it would send the body anyway, and on a
	 * loaded machine race the server's early answer and close. */
	if (expect)
		curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (source_address)
		curl_easy_setopt(c, CURLOPT_INTERFACE, source_address);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	r->body = buf_steal(&bb, &r->len);
	r->headers = buf_steal(&hb, NULL);
	return (int)rc;
}

void http_do(struct http_resp *r, const char *method, const char *url, const char *const *headers,
	     const void *body, size_t len)
{
	int rc = http_try(r, method, url, headers, body, len);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror((CURLcode)rc));
}

const char *http_header(const struct http_resp *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	/* The last header block wins (after a 100 Continue or a redirect). */
	const char *found = NULL;
	for (const char *line = r->headers; line && *line;) {
		const char *eol = strstr(line, "\r\n");
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0)
			found = line;
		if (strncmp(line, "HTTP/", 5) == 0)
			found = NULL;
		line = eol ? eol + 2 : line + llen;
	}
	if (!found)
		return NULL;
	const char *v = found + nlen + 1;
	while (*v == ' ')
		v++;
	size_t vlen = strcspn(v, "\r\n");
	if (vlen >= size)
		vlen = size - 1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return out;
}

json_t *http_json(const struct http_resp *r)
{
	json_error_t e;
	json_t *j = json_loadb(r->body, r->len, 0, &e);
	ck_assert_msg(j != NULL, "response is not JSON (%s): %.200s", e.text, r->body);
	return j;
}

void http_resp_free(struct http_resp *r)
{
	CF_FREE(r->body);
	CF_FREE(r->headers);
}
