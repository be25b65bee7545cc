/*
 * http (tests): a small HTTP client over libcurl for integration tests.
 */
#ifndef CONFORM_TEST_HTTP_H
#define CONFORM_TEST_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct http_resp {
	long status;
	char *body;      /* NUL-terminated */
	size_t len;
	char *headers;   /* raw header block */
};

/*
 * Sends a request. headers is a NULL-terminated list of "Name: value" lines
 * (may be NULL); body may be NULL. Aborts the test on transport failure.
 */
void http_do(struct http_resp *r, const char *method, const char *url, const char *const *headers,
	     const void *body, size_t len);

/* Like http_do but returns curl's result code instead of aborting (for
 * tests that expect the connection to fail). */
int http_try(struct http_resp *r, const char *method, const char *url, const char *const *headers,
	     const void *body, size_t len);

/* Makes the following requests of this thread come from source (a local
 * address such as 127.0.0.2; NULL: the default). */
void http_set_source(const char *source);

/* The value of a response header (case-insensitive name), copied to out; NULL if absent. */
const char *http_header(const struct http_resp *r, const char *name, char *out, size_t size);

/* The body parsed as JSON (new reference); aborts the test when it is not JSON. */
json_t *http_json(const struct http_resp *r);

void http_resp_free(struct http_resp *r);

#endif
